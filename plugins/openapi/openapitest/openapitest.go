// Package openapitest checks real HTTP exchanges against a generated OpenAPI document with
// kin-openapi, for the plugin's tests and the integration tests.
package openapitest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// Load parses and validates a document (the JSON of a generate-schema answer or of
// openapi.Document), failing the test when either step fails.
func Load(t testing.TB, raw []byte) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		t.Fatalf("loading the OpenAPI document: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the OpenAPI document is invalid: %v", err)
	}
	return doc
}

// LoadValue is Load for a document held as a Go value.
func LoadValue(t testing.TB, v any) *openapi3.T {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return Load(t, raw)
}

// ResponseError checks one real response (status, headers, body) to req against the
// document: the operation is found from req's method and path (the path of the document's
// first server is stripped), and the status must be documented. It returns nil when the
// response conforms.
func ResponseError(doc *openapi3.T, req *http.Request, status int, header http.Header, body []byte) error {
	route, params, err := findRoute(doc, req)
	if err != nil {
		return err
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 status,
		Header:                 header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if in.Header == nil {
		in.Header = http.Header{}
	}
	return openapi3filter.ValidateResponse(context.Background(), in)
}

// Validate fails the test when the response does not conform (see ResponseError).
func Validate(t testing.TB, doc *openapi3.T, req *http.Request, status int, header http.Header, body []byte) {
	t.Helper()
	if err := ResponseError(doc, req, status, header, body); err != nil {
		t.Errorf("%s %s answered %d, which the document does not describe: %v\nbody: %s", req.Method, req.URL.Path, status, err, body)
	}
}

type notFound string

func (e notFound) Error() string { return string(e) }

func findRoute(doc *openapi3.T, req *http.Request) (*routers.Route, map[string]string, error) {
	path := req.URL.Path
	if len(doc.Servers) > 0 {
		if u, err := url.Parse(doc.Servers[0].URL); err == nil && u.Path != "" && u.Path != "/" {
			path = strings.TrimPrefix(path, strings.TrimSuffix(u.Path, "/"))
		}
	}
	segs := strings.Split(path, "/")
	for tmpl, item := range doc.Paths.Map() {
		tsegs := strings.Split(tmpl, "/")
		if len(tsegs) != len(segs) {
			continue
		}
		params := map[string]string{}
		ok := true
		for i, ts := range tsegs {
			if strings.HasPrefix(ts, "{") && strings.HasSuffix(ts, "}") {
				params[ts[1:len(ts)-1]] = segs[i]
			} else if ts != segs[i] {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		method := req.Method
		if method == http.MethodHead {
			method = http.MethodGet
		}
		op := item.GetOperation(method)
		if op == nil {
			continue
		}
		return &routers.Route{Spec: doc, Path: tmpl, PathItem: item, Method: method, Operation: op}, params, nil
	}
	return nil, nil, notFound("no operation for " + req.Method + " " + path)
}
