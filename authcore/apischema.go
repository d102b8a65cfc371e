package authcore

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse-auth/gatehouse/storage"
)

// This file is the one translation from endpoint declarations to JSON Schema (2020-12, as
// OpenAPI 3.1 uses it). The open-api plugin and client generators read endpoints through it
// and nothing else, so a declaration means the same thing everywhere.
//
// Every function returns plain JSON-schema maps (map[string]any) that encode as JSON as is.
// A model's public JSON is referenced as {"$ref": "#/components/schemas/<Name>"}; the
// components themselves come from [ModelSchemas].

// ComponentsPrefix is the $ref prefix of model components.
const ComponentsPrefix = "#/components/schemas/"

// ModelComponentName is the component name of a storage model: its name with the first
// letter upper-cased ("user" → "User", "twoFactor" → "TwoFactor").
func ModelComponentName(model string) string {
	if model == "" {
		return model
	}
	return strings.ToUpper(model[:1]) + model[1:]
}

// ModelRef documents the public JSON of a storage model ([Engine.Public]): a $ref to the
// model's component.
func ModelRef(model string) map[string]any {
	return map[string]any{"$ref": ComponentsPrefix + ModelComponentName(model)}
}

// ArrayOf documents a JSON array whose items are x (a schema or a type shorthand).
func ArrayOf(x any) map[string]any {
	return map[string]any{"type": "array", "items": toSchema(x)}
}

// ObjectOf documents a JSON object with these properties, the named ones always present.
// Property values are schemas or type shorthands ("string", "boolean", "number", "integer",
// "date-time" for a date rendered as an ISO string, "any").
func ObjectOf(props map[string]any, required ...string) map[string]any {
	ps := make(map[string]any, len(props))
	for k, v := range props {
		ps[k] = toSchema(v)
	}
	out := map[string]any{"type": "object", "properties": ps}
	if len(required) > 0 {
		r := slices.Clone(required)
		slices.Sort(r)
		out["required"] = r
	}
	return out
}

// Extend documents base (usually a ModelRef) with extra properties, as endpoints that add
// keys to a record's public JSON answer (list-sessions adds deviceName).
func Extend(base any, props map[string]any, required ...string) map[string]any {
	return map[string]any{"allOf": []any{toSchema(base), ObjectOf(props, required...)}}
}

// Nullable documents x or JSON null.
func Nullable(x any) map[string]any {
	s := toSchema(x)
	if t, ok := s["type"].(string); ok && s["$ref"] == nil {
		c := maps.Clone(s)
		c["type"] = []any{t, "null"}
		return c
	}
	return map[string]any{"anyOf": []any{s, map[string]any{"type": "null"}}}
}

// HTMLPage documents an endpoint answering 200 with a text/html page instead of JSON.
func HTMLPage() any { return Document("text/html") }

// Document documents an endpoint answering 200 with a body of another media type (an XML
// metadata document).
func Document(mediaType string) any { return documentResponse{mediaType} }

// Created documents an endpoint answering 201 Created with the JSON body x.
func Created(x any) any { return statusResponse{status: 201, json: toSchema(x)} }

// NoContent documents an endpoint answering 204 No Content.
func NoContent() any { return statusResponse{status: 204} }

// RedirectOnly documents an endpoint that always answers 302 Found with a Location header.
func RedirectOnly() any { return redirectResponse{} }

// RedirectOr documents an endpoint that answers 302 Found when it has somewhere to send the
// browser (a callbackURL), and otherwise 200 with the JSON body x.
func RedirectOr(x any) any { return redirectResponse{json: toSchema(x), hasJSON: true} }

type documentResponse struct{ mediaType string }

type statusResponse struct {
	status int
	json   map[string]any
}

type redirectResponse struct {
	json    map[string]any
	hasJSON bool
}

// ResponseDoc is what an endpoint's Response declaration means on the wire.
type ResponseDoc struct {
	// Status is the success status: 200, or 201/204 ([Created], [NoContent]).
	Status int
	// JSON is the schema of the application/json body; nil when there is none.
	JSON map[string]any
	// MediaType is the body's media type when it is not JSON ("text/html" for [HTMLPage]).
	MediaType string
	// Redirect: the endpoint may answer 302 Found with Location.
	Redirect bool
	// Declared is false when the endpoint has no Response: JSON is then [AnyJSON] (plugin
	// endpoints answer objects, arrays and null alike, and an undocumented shape must not be
	// documented wrongly).
	Declared bool
}

// GenericObject is the schema of an undeclared response: any JSON object.
func GenericObject() map[string]any {
	return map[string]any{"type": "object", "additionalProperties": true}
}

// AnyJSON is the schema of any JSON value (the body of endpoints without a Response).
func AnyJSON() map[string]any {
	return map[string]any{"description": "Any JSON value: this response's shape is not documented."}
}

// ResponseDoc interprets ep.Response.
func (ep *Endpoint) ResponseDoc() ResponseDoc {
	switch r := ep.Response.(type) {
	case nil:
		return ResponseDoc{Status: 200, JSON: AnyJSON()}
	case documentResponse:
		return ResponseDoc{Status: 200, MediaType: r.mediaType, Declared: true}
	case statusResponse:
		return ResponseDoc{Status: r.status, JSON: r.json, Declared: true}
	case redirectResponse:
		return ResponseDoc{Status: 200, JSON: r.json, Redirect: true, Declared: true}
	default:
		return ResponseDoc{Status: 200, JSON: toSchema(r), Declared: true}
	}
}

// ResponseSchema is the schema of the endpoint's 200 JSON body ([AnyJSON] when it declares
// none); nil when the endpoint answers HTML or only redirects.
func (ep *Endpoint) ResponseSchema() map[string]any { return ep.ResponseDoc().JSON }

// ParamSchema is the JSON schema of one declared parameter, with its description.
func ParamSchema(p Param) map[string]any {
	var s map[string]any
	switch p.Kind {
	case KindString:
		s = map[string]any{"type": "string"}
		if p.MinLen > 0 {
			s["minLength"] = p.MinLen
		}
		max := p.MaxLen
		if max <= 0 {
			max = defaultMaxLen
		}
		s["maxLength"] = max
		if p.Email {
			s["format"] = "email"
		}
	case KindBoolean:
		s = map[string]any{"type": "boolean"}
	case KindNumber:
		s = map[string]any{"type": "number"}
	case KindObject:
		s = map[string]any{"type": "object"}
	case KindArray:
		s = map[string]any{"type": "array"}
	case KindStringOrArray:
		s = map[string]any{"anyOf": []any{
			map[string]any{"type": "string"},
			map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
		}}
	default: // KindAny
		s = map[string]any{}
	}
	if p.Nullable && len(s) > 0 {
		s = Nullable(s)
	}
	if p.Description != "" {
		s["description"] = p.Description
	}
	return s
}

// BodySchema is the JSON schema of the endpoint's request body: an object of its declared
// parameters. Unknown keys are accepted (and dropped by the engine), so additional properties
// are allowed. Endpoints with UserFields/SessionFields also take model fields: see
// [Endpoint.BodySchemaWith]. Nil when the endpoint declares no body and is not a POST.
func (ep *Endpoint) BodySchema() map[string]any { return ep.BodySchemaWith(nil) }

// BodySchemaWith is BodySchema plus, when the endpoint declares UserFields or SessionFields,
// the client-settable fields of that model in schema s (server-only and system fields are
// left out). s may be nil.
func (ep *Endpoint) BodySchemaWith(s *storage.Schema) map[string]any {
	if len(ep.Body) == 0 && ep.Method != "POST" {
		return nil
	}
	props := map[string]any{}
	var req []string
	declared := map[string]bool{}
	for _, p := range ep.Body {
		props[p.Name] = ParamSchema(p)
		declared[p.Name] = true
		if p.Required {
			req = append(req, p.Name)
		}
	}
	addModel := func(model string) {
		if s == nil {
			return
		}
		m, ok := s.Model(model)
		if !ok {
			return
		}
		for _, f := range m.Fields {
			if declared[f.Name] || systemFields[f.Name] || f.ServerOnly {
				continue
			}
			props[f.Name] = fieldInputSchema(&f)
		}
	}
	if ep.UserFields {
		addModel(ModelUser)
	}
	if ep.SessionFields {
		addModel(ModelSession)
	}
	out := map[string]any{"type": "object", "properties": props}
	if len(req) > 0 {
		slices.Sort(req)
		out["required"] = req
	}
	return out
}

// QuerySchema is the JSON schema of the endpoint's query parameters as one object (nil when
// it declares none). OpenAPI generators list them one by one with [ParamSchema].
func (ep *Endpoint) QuerySchema() map[string]any {
	if len(ep.Query) == 0 {
		return nil
	}
	props := map[string]any{}
	var req []string
	for _, p := range ep.Query {
		props[p.Name] = ParamSchema(p)
		if p.Required {
			req = append(req, p.Name)
		}
	}
	out := map[string]any{"type": "object", "properties": props}
	if len(req) > 0 {
		slices.Sort(req)
		out["required"] = req
	}
	return out
}

// PathParams lists the names of the ":name" segments of the endpoint's path, in order.
func (ep *Endpoint) PathParams() []string {
	var out []string
	for _, seg := range strings.Split(ep.Path, "/") {
		if strings.HasPrefix(seg, ":") {
			out = append(out, seg[1:])
		}
	}
	return out
}

// TemplatePath is the path in OpenAPI's template syntax ("/reset-password/{token}").
func (ep *Endpoint) TemplatePath() string {
	segs := strings.Split(ep.Path, "/")
	for i, seg := range segs {
		if strings.HasPrefix(seg, ":") {
			segs[i] = "{" + seg[1:] + "}"
		}
	}
	return strings.Join(segs, "/")
}

// ModelSchema is the schema of the public JSON of model m as [Engine.Public] renders it:
// hidden fields left out, dates as date-time strings, JSON fields as any value; id and
// required fields always present, optional fields absent or null.
func ModelSchema(m *storage.Model) map[string]any {
	props := map[string]any{"id": map[string]any{"type": "string"}}
	req := []string{"id"}
	for _, f := range m.Fields {
		if f.Hidden {
			continue
		}
		s := fieldSchema(&f)
		if f.Required {
			req = append(req, f.Name)
		} else {
			s = Nullable(s)
		}
		props[f.Name] = s
	}
	slices.Sort(req)
	return map[string]any{"type": "object", "properties": props, "required": req}
}

// ModelSchemas is the components.schemas map of every model of s, keyed by
// [ModelComponentName].
func ModelSchemas(s *storage.Schema) map[string]any {
	out := map[string]any{}
	for _, m := range s.Models() {
		out[ModelComponentName(m.Name)] = ModelSchema(m)
	}
	return out
}

func fieldSchema(f *storage.Field) map[string]any {
	switch f.Type {
	case storage.TypeString:
		return map[string]any{"type": "string"}
	case storage.TypeNumber:
		return map[string]any{"type": "number"}
	case storage.TypeBoolean:
		return map[string]any{"type": "boolean"}
	case storage.TypeDate:
		return map[string]any{"type": "string", "format": "date-time"}
	case storage.TypeStringList:
		return map[string]any{"type": "array", "items": map[string]any{"type": "string"}}
	}
	return map[string]any{} // json: any value
}

// fieldInputSchema is what a client may send for a model field in a body (dates as ISO
// strings, optional fields nullable).
func fieldInputSchema(f *storage.Field) map[string]any {
	s := fieldSchema(f)
	if !f.Required && len(s) > 0 {
		s = Nullable(s)
	}
	return s
}

// toSchema turns a declaration value into a schema map: maps pass through, strings are type
// shorthands, nil is a generic object.
func toSchema(x any) map[string]any {
	switch v := x.(type) {
	case nil:
		return GenericObject()
	case map[string]any:
		return v
	case string:
		switch v {
		case "date-time":
			return map[string]any{"type": "string", "format": "date-time"}
		case "any", "":
			return map[string]any{}
		}
		return map[string]any{"type": v}
	}
	return GenericObject()
}

// OperationIDs names every endpoint for generated APIs: the path in camelCase
// ("/sign-in/email" → "signInEmail", "/reset-password/:token" → "resetPasswordToken"),
// prefixed with the lower-case method when two endpoints share a path ("getX", "postX"),
// and suffixed with a number in the unlikely case names still collide.
func OperationIDs(eps []*Endpoint) map[*Endpoint]string {
	byPath := map[string]int{}
	for _, ep := range eps {
		byPath[ep.Path]++
	}
	out := make(map[*Endpoint]string, len(eps))
	seen := map[string]int{}
	for _, ep := range eps {
		id := camelPath(ep.Path)
		if byPath[ep.Path] > 1 {
			id = strings.ToLower(ep.Method) + strings.ToUpper(id[:1]) + id[1:]
		}
		if id == "" {
			id = strings.ToLower(ep.Method)
		}
		if n := seen[id]; n > 0 {
			seen[id] = n + 1
			id = id + strconv.Itoa(n+1)
		} else {
			seen[id] = 1
		}
		out[ep] = id
	}
	return out
}

func camelPath(path string) string {
	var b strings.Builder
	for _, seg := range strings.Split(path, "/") {
		seg = strings.TrimPrefix(seg, ":")
		seg = strings.TrimPrefix(seg, ".")
		for _, w := range strings.FieldsFunc(seg, func(r rune) bool { return r == '-' || r == '_' || r == '.' }) {
			if b.Len() == 0 {
				b.WriteString(strings.ToLower(w[:1]) + w[1:])
			} else {
				b.WriteString(strings.ToUpper(w[:1]) + w[1:])
			}
		}
	}
	if b.Len() == 0 {
		return "root"
	}
	return b.String()
}
