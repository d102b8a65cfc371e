package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/gatehouse-auth/gatehouse/plugins/openapi/openapitest"
)

// validateAgainstSpec checks one real exchange with the binary against the OpenAPI document
// the binary serves: the operation of req (method and path) must exist, and resp's status,
// headers and body must be what it documents. Other integration tests can call it on any
// response they already hold (body is the body they read).
func validateAgainstSpec(t testing.TB, doc *openapi3.T, req *http.Request, resp *http.Response, body []byte) {
	t.Helper()
	openapitest.Validate(t, doc, req, resp.StatusCode, resp.Header, body)
}

// fetchSpec loads and validates the document served at <api>/open-api/generate-schema.
func fetchSpec(t testing.TB, api string) *openapi3.T {
	t.Helper()
	resp, err := http.Get(api + "/open-api/generate-schema")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("generate-schema: %d %s", resp.StatusCode, b)
	}
	return openapitest.Load(t, b)
}

// TestOpenAPIDocumentDescribesTheBinary: the binary with several plugins serves a valid
// OpenAPI 3.1 document, and the answers of real calls through it (core, organization and
// api-key endpoints, and an error) are exactly what that document says.
func TestOpenAPIDocumentDescribesTheBinary(t *testing.T) {
	port := freePorts(t, 1)[0]
	base := fmt.Sprintf("http://localhost:%d", port)
	cf := fmt.Sprintf(`{
	admin {ADMIN}
	gatehouse {
		base_url %[1]s
		storage bbolt gatehouse.db
		rate_limit off
		username
		bearer
		api_key
		organization
		open_api
	}
}
%[1]s {
	gatehouse
}
`, base)
	srv := StartServer(t, cf, base+"/api/auth/ok")
	api := base + "/api/auth"
	doc := fetchSpec(t, api)
	// The document `gatehouse openapi` prints offline for the same config (what every other
	// test validates against) is the one the plugin serves.
	if served, offline := mustJSON(t, doc), mustJSON(t, srv.MustSpec(t)); served != offline {
		t.Errorf("the served document differs from the offline one:\nserved:  %.500s\noffline: %.500s", served, offline)
	}

	jar, _ := cookiejar.New(nil)
	// The client also checks every answer against the document `gatehouse openapi` prints
	// offline for the same config; the explicit check below is against the served one.
	hc := &http.Client{Jar: jar, Transport: srv.Transport(t, nil), CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	call := func(method, path string, body any, wantStatus int) map[string]any {
		t.Helper()
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, api+path, rd)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("Origin", base)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != wantStatus {
			t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, b, wantStatus)
		}
		validateAgainstSpec(t, doc, req, resp, b)
		var out map[string]any
		json.Unmarshal(b, &out)
		return out
	}

	const pw = "correct horse battery staple"
	call("GET", "/get-session", nil, 200) // null before signing in
	call("POST", "/sign-up/email", map[string]any{"name": "Ann", "email": "ann@example.com", "password": pw, "username": "ann_1"}, 200)
	call("POST", "/sign-out", map[string]any{}, 200)
	call("POST", "/sign-in/email", map[string]any{"email": "ann@example.com", "password": "not the password"}, 401)
	call("POST", "/sign-in/email", map[string]any{"email": "ann@example.com", "password": pw}, 200)
	call("GET", "/get-session", nil, 200)
	call("GET", "/list-sessions", nil, 200)
	call("POST", "/update-user", map[string]any{"name": "Ann B"}, 200)
	call("GET", "/list-accounts", nil, 200)
	org := call("POST", "/organization/create", map[string]any{"name": "Acme", "slug": "acme"}, 200)
	if org["id"] == nil {
		t.Fatalf("organization/create: %v", org)
	}
	call("GET", "/organization/list", nil, 200)
	key := call("POST", "/api-key/create", map[string]any{"name": "ci"}, 200)
	if key["key"] == nil {
		t.Fatalf("api-key/create: %v", key)
	}
	call("GET", "/api-key/list", nil, 200)
	call("POST", "/sign-up/email", map[string]any{"name": "Ann", "email": "ann@example.com", "password": pw}, 422)
	call("GET", "/ok", nil, 200)
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
