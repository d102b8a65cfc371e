package sso

import (
	"net/http"
	"testing"

	"github.com/oauth2-proxy/mockoidc"
)

// TestRegisterWithRealIdP registers against mockoidc, a real OpenID provider on loopback:
// its discovery document is accepted as is and the stored endpoints are its own.
func TestRegisterWithRealIdP(t *testing.T) {
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	e := newEnv(t, nil, false)
	e.p.HTTPClient = http.DefaultClient
	cfg := m.Config()
	r := e.register(e.alice, map[string]any{"providerId": "mock", "issuer": m.Issuer(), "domain": "mock.example",
		"oidcConfig": map[string]any{"clientId": cfg.ClientID, "clientSecret": cfg.ClientSecret}})
	expect(t, r, http.StatusOK, "", "")
	c := OIDC(e.provider("mock"))
	if c == nil || c.Issuer != m.Issuer() || c.AuthorizationEndpoint != m.AuthorizationEndpoint() ||
		c.TokenEndpoint != m.TokenEndpoint() || c.JWKSEndpoint != m.JWKSEndpoint() || c.UserInfoEndpoint != m.UserinfoEndpoint() ||
		e.secret(c) != cfg.ClientSecret {
		t.Fatalf("stored config %+v", c)
	}
	// The same IdP under another issuer name is refused.
	r = e.register(e.alice, map[string]any{"providerId": "mock2", "issuer": m.Issuer() + "/other", "domain": "mock.example",
		"oidcConfig": map[string]any{"clientId": cfg.ClientID, "clientSecret": cfg.ClientSecret,
			"discoveryEndpoint": m.DiscoveryEndpoint()}})
	expect(t, r, http.StatusBadRequest, "issuer_mismatch", "")
}
