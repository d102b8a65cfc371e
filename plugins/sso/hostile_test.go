package sso

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/storage"
)

// TestHostileInput: odd types, huge and strange values answer a 4xx envelope, never a 500,
// and store nothing.
func TestHostileInput(t *testing.T) {
	e := newEnv(t, nil, true)
	e.mustRegister(e.alice, e.oidcBody("acme", "acme.com"))
	huge := strings.Repeat("a", 1<<20)
	bodies := []map[string]any{
		{"providerId": 5, "issuer": e.idp.URL, "domain": "x.com", "oidcConfig": map[string]any{"clientId": "c", "clientSecret": "s"}},
		{"providerId": "h1", "issuer": e.idp.URL, "domain": "x.com", "oidcConfig": "not-an-object"},
		{"providerId": "h2", "issuer": e.idp.URL, "domain": "x.com", "oidcConfig": map[string]any{"clientId": 7, "clientSecret": "s"}},
		{"providerId": "h3", "issuer": e.idp.URL, "domain": "x.com", "oidcConfig": map[string]any{"clientId": "c", "clientSecret": "s", "scopes": "openid"}},
		{"providerId": "h4", "issuer": e.idp.URL, "domain": "x.com", "oidcConfig": map[string]any{"clientId": "c", "clientSecret": "s", "scopes": []any{"a b"}}},
		{"providerId": "h5", "issuer": e.idp.URL, "domain": "x.com", "oidcConfig": map[string]any{"clientId": "c", "clientSecret": "s", "pkce": "yes"}},
		{"providerId": "h6", "issuer": e.idp.URL, "domain": "x.com", "oidcConfig": map[string]any{"clientId": "c", "clientSecret": "s", "tokenEndpointAuthentication": "none"}},
		{"providerId": "h7", "issuer": e.idp.URL, "domain": "x.com", "oidcConfig": map[string]any{"clientId": "c", "clientSecret": "s", "discoveryEndpoint": "file:///etc/passwd"}},
		{"providerId": "h8", "issuer": "javascript:alert(1)", "domain": "x.com", "oidcConfig": map[string]any{"clientId": "c", "clientSecret": "s"}},
		{"providerId": "h9", "issuer": e.idp.URL + "?x=1", "domain": "x.com", "oidcConfig": map[string]any{"clientId": "c", "clientSecret": "s"}},
		{"providerId": "h10", "issuer": "urn:x", "domain": "x.com", "samlConfig": map[string]any{"cert": 5, "entryPoint": "https://x.com"}},
		{"providerId": "h11", "issuer": "urn:x", "domain": "x.com", "samlConfig": map[string]any{"cert": []any{}, "entryPoint": "https://x.com"}},
		{"providerId": "h12", "issuer": "urn:x", "domain": "x.com", "samlConfig": map[string]any{"idpMetadata": "x", "entryPoint": "https://x.com"}},
		{"providerId": "h13", "issuer": "urn:x", "domain": "x.com", "samlConfig": map[string]any{"idpMetadata": map[string]any{"metadata": 5}}},
		{"providerId": "h14", "issuer": "urn:x", "domain": "x.com", "samlConfig": map[string]any{"wantAssertionsSigned": "true", "cert": "c", "entryPoint": "https://x.com"}},
		{"providerId": huge, "issuer": e.idp.URL, "domain": "x.com", "oidcConfig": map[string]any{"clientId": "c", "clientSecret": "s"}},
		{"providerId": "h15", "issuer": e.idp.URL, "domain": huge, "oidcConfig": map[string]any{"clientId": "c", "clientSecret": "s"}},
		{"providerId": "h16", "issuer": e.idp.URL, "domain": "x.com", "oidcConfig": map[string]any{"clientId": huge, "clientSecret": "s"}},
		{"providerId": "h17", "issuer": e.idp.URL, "domain": "x.com", "organizationId": 5, "oidcConfig": map[string]any{"clientId": "c", "clientSecret": "s"}},
		{"providerId": "h18", "issuer": e.idp.URL, "domain": "\u0000.com", "oidcConfig": map[string]any{"clientId": "c", "clientSecret": "s"}},
		{"providerId": "h19", "issuer": e.idp.URL, "domain": "x.com", "oidcConfig": map[string]any{"clientId": "c", "clientSecret": "s", "mapping": "x"}},
		{"providerId": "h20", "issuer": e.idp.URL, "domain": "user:pw@x.com", "oidcConfig": map[string]any{"clientId": "c", "clientSecret": "s"}},
		{"providerId": "h21", "issuer": e.idp.URL, "domain": "x.com", "overrideUserInfo": "yes", "oidcConfig": map[string]any{"clientId": "c", "clientSecret": "s"}},
	}
	for i, b := range bodies {
		r := e.alice.Post("/sso/register", b)
		if r.StatusCode < 400 || r.StatusCode >= 500 || r.Object()["message"] == nil {
			t.Errorf("register #%d: %d %.200s", i, r.StatusCode, r.Body)
		}
	}
	others := []struct {
		path string
		body any
	}{
		{"/sso/update-provider", map[string]any{"providerId": "acme", "oidcConfig": map[string]any{"scopes": 5}}},
		{"/sso/update-provider", map[string]any{"providerId": "acme", "domain": 5}},
		{"/sso/update-provider", map[string]any{"providerId": "acme", "issuer": "ftp://x"}},
		{"/sso/update-provider", map[string]any{"providerId": []any{"acme"}, "domain": "x.com"}},
		{"/sso/update-provider", map[string]any{"providerId": "acme", "oidcConfig": []any{}}},
		{"/sso/delete-provider", map[string]any{"providerId": nil}},
		{"/sso/delete-provider", map[string]any{}},
		{"/sso/verify-domain", map[string]any{"providerId": map[string]any{"$ne": ""}}},
		{"/sso/request-domain-verification", "string body"},
		{"/sso/register", []any{1, 2}},
	}
	for i, o := range others {
		r := e.alice.Post(o.path, o.body)
		if r.StatusCode < 400 || r.StatusCode >= 500 {
			t.Errorf("%s #%d: %d %.200s", o.path, i, r.StatusCode, r.Body)
		}
	}
	for _, q := range []string{"", "?providerId=", "?providerId=a&providerId=b", "?providerId=" + strings.Repeat("x", 5000)} {
		if r := e.alice.Get("/sso/get-provider" + q); r.StatusCode < 400 || r.StatusCode >= 500 {
			t.Errorf("get-provider%s: %d %.200s", q[:min(len(q), 40)], r.StatusCode, r.Body)
		}
	}
	all, _ := e.h.Engine.Store().FindMany(e.ctx(), ModelSSOProvider, storage.Query{})
	if n := len(all); n != 1 {
		t.Fatalf("%d providers stored, want 1", n)
	}
	if c := OIDC(e.provider("acme")); c == nil || e.secret(c) != "s3cr3t-value" || e.provider("acme").String("domain") != "acme.com" {
		t.Fatal("the provider changed")
	}
	_ = http.StatusOK
}
