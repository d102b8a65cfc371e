package openapi

import (
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse-auth/gatehouse/authcore"
)

// OpenAPIVersion is the version of the generated documents (spec §7.14).
const OpenAPIVersion = "3.1.1"

// Names of the security schemes in generated documents.
const (
	SchemeSessionCookie = "apiKeyCookie"
	SchemeBearer        = "bearerAuth"
	SchemeAPIKeyHeader  = "apiKeyHeader"
)

// ErrorEnvelope is the component name of the error body (spec §1.2).
const ErrorEnvelope = "ErrorEnvelope"

// errorStatuses are the error answers every operation documents: input validation (400),
// missing or bad credentials (401), refused (403, origin checks included), not found or
// disabled (404), conflicts (422) and rate limits (429).
var errorStatuses = []int{400, 401, 403, 404, 422, 429}

// Document builds the OpenAPI 3.1 document of every endpoint engine e serves. It reads the
// declarations only (through authcore's apischema translation) and no data, so it can run
// on an engine that never serves a request (the `gatehouse openapi` command).
func Document(e *authcore.Engine) map[string]any {
	cfg := e.Config()
	eps := e.Endpoints()
	ids := authcore.OperationIDs(eps)
	plugins := e.Plugins()
	schemes := map[string]any{
		SchemeSessionCookie: map[string]any{"type": "apiKey", "in": "cookie", "name": e.CookieName(authcore.CookieSessionToken),
			"description": "The session cookie set by sign-in."},
	}
	alternatives := []any{map[string]any{SchemeSessionCookie: []any{}}}
	if slices.Contains(plugins, "bearer") {
		schemes[SchemeBearer] = map[string]any{"type": "http", "scheme": "bearer",
			"description": "The session token (set-auth-token) as a bearer token."}
		alternatives = append(alternatives, map[string]any{SchemeBearer: []any{}})
	}
	if slices.Contains(plugins, "api-key") {
		n := 0
		for _, h := range e.CredentialHeaders() {
			if strings.EqualFold(h, "authorization") {
				continue
			}
			name := SchemeAPIKeyHeader
			if n++; n > 1 {
				name = SchemeAPIKeyHeader + "_" + strings.ToLower(h)
			}
			if _, taken := schemes[name]; taken {
				continue
			}
			schemes[name] = map[string]any{"type": "apiKey", "in": "header", "name": h,
				"description": "An API key of the api-key plugin."}
			alternatives = append(alternatives, map[string]any{name: []any{}})
		}
	}

	components := map[string]any{}
	schemas := authcore.ModelSchemas(e.Schema())
	schemas[ErrorEnvelope] = map[string]any{
		"type": "object",
		"properties": map[string]any{
			"code":    map[string]any{"type": "string", "description": "UPPER_SNAKE error code"},
			"message": map[string]any{"type": "string"},
			"details": map[string]any{"description": "extra detail, for a few errors"},
		},
		"required": []any{"message"},
	}
	components["schemas"] = schemas
	components["securitySchemes"] = schemes
	responses := map[string]any{}
	for _, st := range errorStatuses {
		responses[errorResponseName(st)] = map[string]any{
			"description": http.StatusText(st),
			"content": map[string]any{"application/json": map[string]any{
				"schema": map[string]any{"$ref": authcore.ComponentsPrefix + ErrorEnvelope}}},
		}
	}
	responses["ErrorOther"] = map[string]any{
		"description": "Any other error (500 INTERNAL_SERVER_ERROR, 501 for a feature that is not set up, ...)",
		"content": map[string]any{"application/json": map[string]any{
			"schema": map[string]any{"$ref": authcore.ComponentsPrefix + ErrorEnvelope}}},
	}
	components["responses"] = responses

	paths := map[string]any{}
	tagSet := map[string]bool{}
	for _, ep := range eps {
		item, _ := paths[ep.TemplatePath()].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[ep.TemplatePath()] = item
		}
		op := operation(e, ep, ids[ep], alternatives)
		for _, t := range op["tags"].([]string) {
			tagSet[t] = true
		}
		item[strings.ToLower(ep.Method)] = op
	}
	var tags []any
	for _, t := range slices.Sorted(maps.Keys(tagSet)) {
		tags = append(tags, map[string]any{"name": t, "description": tagDescription(t)})
	}
	return map[string]any{
		"openapi": OpenAPIVersion,
		"info": map[string]any{
			"title":       "Better Auth",
			"description": "API Reference for your Better Auth Instance (" + cfg.AppName + ", served by Gatehouse)",
			"version":     "1.1.0",
		},
		"servers":    []any{map[string]any{"url": e.APIURL("")}},
		"security":   alternatives,
		"tags":       tags,
		"paths":      paths,
		"components": components,
	}
}

func tagDescription(t string) string {
	if t == "core" {
		return "Core endpoints"
	}
	return "Endpoints of the " + t + " plugin"
}

func errorResponseName(status int) string {
	return "Error" + strings.ReplaceAll(http.StatusText(status), " ", "")
}

// operation documents one endpoint.
func operation(e *authcore.Engine, ep *authcore.Endpoint, id string, alternatives []any) map[string]any {
	tags := []string{ep.Owner()}
	for _, t := range ep.Tags {
		if t != "Default" && !slices.Contains(tags, t) {
			tags = append(tags, t)
		}
	}
	op := map[string]any{"operationId": id, "tags": tags}
	if ep.Summary != "" {
		op["summary"] = ep.Summary
	}
	desc := ep.Description
	if len(ep.Errors) > 0 {
		var codes []string
		var list []any
		for _, c := range ep.Errors {
			codes = append(codes, "`"+c.Code+"`")
			list = append(list, map[string]any{"code": c.Code, "message": c.Message})
		}
		if desc != "" {
			desc += "\n\n"
		}
		desc += "Error codes: " + strings.Join(codes, ", ") + "."
		op["x-error-codes"] = list
	}
	if desc != "" {
		op["description"] = desc
	}
	switch ep.Auth {
	case authcore.AuthNone:
		op["security"] = []any{map[string]any{}}
	case authcore.AuthOptional:
		op["security"] = append([]any{map[string]any{}}, alternatives...)
	default:
		op["security"] = alternatives
	}

	var params []any
	for _, name := range ep.PathParams() {
		params = append(params, map[string]any{"name": name, "in": "path", "required": true,
			"schema": map[string]any{"type": "string"}})
	}
	for _, p := range ep.Query {
		s := authcore.ParamSchema(p)
		q := map[string]any{"name": p.Name, "in": "query", "required": p.Required, "schema": s}
		if p.Description != "" {
			q["description"] = p.Description
		}
		params = append(params, q)
	}
	if len(params) > 0 {
		op["parameters"] = params
	}
	if body := ep.BodySchemaWith(e.Schema()); body != nil {
		content := map[string]any{"application/json": map[string]any{"schema": body}}
		if ep.AllowForm {
			content["application/x-www-form-urlencoded"] = map[string]any{"schema": body}
		}
		op["requestBody"] = map[string]any{"required": !ep.BodyOptional, "content": content}
	}

	rd := ep.ResponseDoc()
	responses := map[string]any{}
	status := strconv.Itoa(rd.Status)
	switch {
	case rd.MediaType != "":
		responses[status] = map[string]any{"description": "A " + rd.MediaType + " document",
			"content": map[string]any{rd.MediaType: map[string]any{"schema": map[string]any{"type": "string"}}}}
	case rd.JSON != nil:
		d := "Success"
		if !rd.Declared {
			d = "Success (shape not documented)"
		}
		responses[status] = map[string]any{"description": d,
			"content": map[string]any{"application/json": map[string]any{"schema": rd.JSON}}}
	case rd.Status == 204:
		responses[status] = map[string]any{"description": "Success, no body"}
	}
	if rd.Redirect {
		responses["302"] = map[string]any{"description": "Redirect to the callback URL",
			"headers": map[string]any{"Location": map[string]any{"schema": map[string]any{"type": "string"}}}}
	}
	for _, st := range errorStatuses {
		responses[strconv.Itoa(st)] = map[string]any{"$ref": "#/components/responses/" + errorResponseName(st)}
	}
	responses["default"] = map[string]any{"$ref": "#/components/responses/ErrorOther"}
	op["responses"] = responses
	return op
}
