package openapi_test

import (
	"testing"

	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/plugins/openapi"
	"github.com/gatehouse-auth/gatehouse/plugins/openapi/openapitest"
	"github.com/gatehouse-auth/gatehouse/plugins/sso"
)

// Every sso endpoint has a summary and declares its response (201, 204 and the SP metadata
// XML included).
func TestEverySSOEndpointIsDocumented(t *testing.T) {
	h := authcoretest.New(t, authcoretest.WithPlugins(&sso.Plugin{}, &openapi.Plugin{}))
	n := 0
	for _, ep := range h.Engine.Endpoints() {
		if ep.Owner() != "sso" {
			continue
		}
		n++
		if ep.Summary == "" {
			t.Errorf("%s %s has no summary", ep.Method, ep.Path)
		}
		if !ep.ResponseDoc().Declared {
			t.Errorf("%s %s: declared=%v", ep.Method, ep.Path, ep.ResponseDoc().Declared)
		}
	}
	if n != 15 { // 7 registry and domain routes, 8 sign-in routes
		t.Errorf("%d sso endpoints, want 15", n)
	}
}

// The provider routes answer what the document says.
func TestSSOResponsesMatchTheirSchemas(t *testing.T) {
	h := authcoretest.New(t, authcoretest.WithPlugins(&sso.Plugin{}, &openapi.Plugin{}))
	doc, _ := fetchDoc(t, h)
	c, _ := h.SignUp("Ada", "ada@example.com", password)
	oidc := map[string]any{"clientId": "client-1234", "clientSecret": "s", "skipDiscovery": true,
		"authorizationEndpoint": "https://idp.example/authorize", "tokenEndpoint": "https://idp.example/token",
		"jwksEndpoint": "https://idp.example/jwks"}
	for _, k := range []struct {
		method, path string
		body         any
		status       int
	}{
		{"POST", "/sso/register", map[string]any{"providerId": "corp", "issuer": "https://idp.example", "domain": "corp.example", "oidcConfig": oidc}, 200},
		{"GET", "/sso/providers", nil, 200},
		{"GET", "/sso/get-provider?providerId=corp", nil, 200},
		{"POST", "/sso/update-provider", map[string]any{"providerId": "corp", "domain": "corp2.example"}, 200},
		{"POST", "/sso/request-domain-verification", map[string]any{"providerId": "corp"}, 201},
		{"GET", "/sso/saml2/sp/metadata?providerId=corp", nil, 400},
		{"POST", "/sign-in/sso", map[string]any{"providerId": "corp", "callbackURL": "/"}, 401},
		{"POST", "/sso/delete-provider", map[string]any{"providerId": "corp"}, 200},
	} {
		req, r := exchange(t, h, c, k.method, k.path, k.body)
		if r.StatusCode != k.status {
			t.Fatalf("%s %s: %d %s, want %d", k.method, k.path, r.StatusCode, r.Body, k.status)
		}
		openapitest.Validate(t, doc, req, r.StatusCode, r.Header, r.Body)
	}
}
