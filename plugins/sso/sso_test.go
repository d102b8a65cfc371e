package sso

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// TestRegisterOIDC: discovery fills the endpoints, the stored config keeps the secret, the
// answer never carries it, and a domain verification token is issued (stored for 7 days).
func TestRegisterOIDC(t *testing.T) {
	e := newEnv(t, nil, false)
	r := e.register(e.alice, e.oidcBody("acme", "Acme.COM"))
	expect(t, r, http.StatusOK, "", "")
	if strings.Contains(string(r.Body), "s3cr3t-value") {
		t.Fatalf("the answer carries the client secret: %s", r.Body)
	}
	got := r.Object()
	tok, _ := got["domainVerificationToken"].(string)
	if got["providerId"] != "acme" || got["domain"] != "acme.com" || got["domainVerified"] != false ||
		got["userId"] != e.aliceID || got["organizationId"] != nil || len(tok) != 24 ||
		got["redirectURI"] != e.h.Engine.BaseURL().String()+"/api/auth/sso/callback/acme" {
		t.Fatalf("answer: %s", r.Body)
	}
	oc, _ := got["oidcConfig"].(map[string]any)
	if oc["tokenEndpoint"] != e.idp.URL+"/token" || oc["clientId"] != "client-123456" || oc["pkce"] != true {
		t.Fatalf("oidcConfig answer: %v", oc)
	}
	rec := e.provider("acme")
	cfg := OIDC(rec)
	if cfg == nil || e.secret(cfg) != "s3cr3t-value" || cfg.Issuer != e.idp.URL ||
		cfg.AuthorizationEndpoint != e.idp.URL+"/authorize" || cfg.JWKSEndpoint != e.idp.URL+"/jwks" ||
		cfg.UserInfoEndpoint != e.idp.URL+"/userinfo" || cfg.TokenEndpointAuthentication != authBasic ||
		cfg.DiscoveryEndpoint != e.idp.URL+"/.well-known/openid-configuration" {
		t.Fatalf("stored config: %+v", cfg)
	}
	if rec.String("userId") != e.aliceID || rec.Bool("domainVerified") || rec.String("samlConfig") != "" {
		t.Fatalf("stored provider: %v", rec)
	}
	v, err := e.h.Engine.FindVerification(e.ctx(), "_better-auth-token-acme")
	if err != nil || v == nil || v.String("value") != tok {
		t.Fatalf("verification row: %v %v", v, err)
	}
	if exp, _ := v["expiresAt"].(time.Time); !exp.Equal(e.h.Clock.Now().Add(7 * 24 * time.Hour)) {
		t.Fatalf("token expires %v", v["expiresAt"])
	}
	// The configured endpoints win over discovered ones.
	body := e.oidcBody("acme2", "acme2.com")
	body["oidcConfig"].(map[string]any)["tokenEndpoint"] = "https://tokens.acme2.com/t"
	e.mustRegister(e.alice, body)
	if c := OIDC(e.provider("acme2")); c.TokenEndpoint != "https://tokens.acme2.com/t" {
		t.Fatalf("override lost: %+v", c)
	}
}

// TestRegisterDiscoveryErrors: Better Auth's discovery checks, each refusing the
// registration without storing anything.
func TestRegisterDiscoveryErrors(t *testing.T) {
	e := newEnv(t, nil, false)
	doc := func(edit func(d map[string]any)) func(string) map[string]any {
		return func(iss string) map[string]any {
			d := map[string]any{"issuer": iss, "authorization_endpoint": iss + "/a", "token_endpoint": iss + "/t", "jwks_uri": iss + "/j"}
			edit(d)
			return d
		}
	}
	cases := []struct {
		name   string
		status int
		doc    func(string) map[string]any
		body   func(map[string]any)
		want   int
		code   string
	}{
		{"issuer mismatch", 0, doc(func(d map[string]any) { d["issuer"] = "https://evil.example" }), nil, 400, "issuer_mismatch"},
		{"not found", http.StatusNotFound, nil, nil, 400, "discovery_not_found"},
		{"redirect", http.StatusFound, nil, nil, 400, "oidc_endpoint_redirect"},
		{"server error", http.StatusInternalServerError, nil, nil, 502, "discovery_unexpected_error"},
		{"incomplete", 0, doc(func(d map[string]any) { delete(d, "jwks_uri") }), nil, 400, "discovery_incomplete"},
		{"plain http endpoint", 0, doc(func(d map[string]any) { d["token_endpoint"] = "http://idp.example/t" }), nil, 400, "discovery_invalid_url"},
		{"unsupported auth", 0, doc(func(d map[string]any) { d["token_endpoint_auth_methods_supported"] = []string{"private_key_jwt"} }), nil, 400, "unsupported_token_auth_method"},
		{"asked auth unsupported", 0, doc(func(d map[string]any) {}), func(b map[string]any) {
			b["oidcConfig"].(map[string]any)["tokenEndpointAuthentication"] = "client_secret_post"
		}, 400, "unsupported_token_auth_method"},
		{"http issuer off loopback", 0, nil, func(b map[string]any) { b["issuer"] = "http://idp.example.com" }, 400, "discovery_invalid_url"},
		{"metadata address issuer", 0, nil, func(b map[string]any) { b["issuer"] = "https://169.254.169.254" }, 400, "discovery_private_host"},
		{"private discovery endpoint", 0, nil, func(b map[string]any) {
			b["oidcConfig"].(map[string]any)["discoveryEndpoint"] = "https://10.0.0.8/.well-known/openid-configuration"
		}, 400, "discovery_private_host"},
		{"discovered private endpoint", 0, doc(func(d map[string]any) { d["jwks_uri"] = "https://[fd00::1]/jwks" }), nil, 400, "discovery_private_host"},
		{"issuer not a URL", 0, nil, func(b map[string]any) { b["issuer"] = "idp" }, 400, "discovery_invalid_url"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.idp.set(tc.status, tc.doc)
			b := e.oidcBody("p", "p.com")
			if tc.body != nil {
				tc.body(b)
			}
			expect(t, e.register(e.alice, b), tc.want, tc.code, "")
			if e.provider("p") != nil {
				t.Fatal("a provider was stored")
			}
		})
	}
	e.idp.set(http.StatusOK, func(string) map[string]any { return nil })
	e.idp.set(0, nil)
	// Invalid JSON.
	bad := startIdP(t)
	bad.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("{not json")) })
	b := e.oidcBody("p", "p.com")
	b["issuer"] = bad.URL
	expect(t, e.register(e.alice, b), 400, "discovery_invalid_json", "")
	// skipDiscovery stores the given endpoints without fetching anything.
	b = map[string]any{"providerId": "manual", "issuer": "https://login.manual.example", "domain": "manual.example",
		"oidcConfig": map[string]any{"clientId": "c", "clientSecret": "s", "skipDiscovery": true,
			"authorizationEndpoint": "https://login.manual.example/a", "tokenEndpoint": "https://login.manual.example/t"}}
	e.mustRegister(e.alice, b)
	if c := OIDC(e.provider("manual")); c.TokenEndpoint != "https://login.manual.example/t" || c.TokenEndpointAuthentication != authBasic {
		t.Fatalf("manual config %+v", c)
	}
}

// TestRegisterErrors: Better Auth's answers for each refusal.
func TestRegisterErrors(t *testing.T) {
	e := newEnv(t, &Plugin{ProvidersLimit: 2}, true)
	expect(t, e.h.Client().Post("/sso/register", e.oidcBody("x", "x.com")), 401, "UNAUTHORIZED", "")
	e.mustRegister(e.alice, e.oidcBody("one", "one.com"))
	expect(t, e.register(e.bob, e.oidcBody("one", "other.com")), 422, "", msgExists)
	expect(t, e.register(e.bob, e.oidcBody("credential", "c.com")), 422, "", msgReserved)
	expect(t, e.register(e.bob, e.oidcBody("GitHub", "c.com")), 422, "", msgReserved)
	for _, id := range []string{"a/b", "a b", "a.b", "a%2f", "a?b", "a\nb"} {
		expect(t, e.register(e.bob, e.oidcBody(id, "c.com")), 400, "VALIDATION_ERROR", "")
	}
	noSecret := e.oidcBody("nosecret", "n.com")
	delete(noSecret["oidcConfig"].(map[string]any), "clientSecret")
	expect(t, e.register(e.bob, noSecret), 400, "", msgClientSecret)
	pk := e.oidcBody("pk", "n.com")
	pk["oidcConfig"].(map[string]any)["tokenEndpointAuthentication"] = "private_key_jwt"
	e.idp.set(0, func(iss string) map[string]any {
		return map[string]any{"issuer": iss, "authorization_endpoint": iss + "/a", "token_endpoint": iss + "/t", "jwks_uri": iss + "/j",
			"token_endpoint_auth_methods_supported": []string{"private_key_jwt"}}
	})
	expect(t, e.register(e.bob, pk), 400, "", msgPrivateKeyJWT)
	e.idp.set(0, nil)
	both := e.oidcBody("both", "b.com")
	both["samlConfig"] = map[string]any{"entryPoint": "https://idp.b.com/sso", "cert": selfSigned(t)}
	expect(t, e.register(e.bob, both), 400, "", msgOneConfig)
	expect(t, e.register(e.bob, map[string]any{"providerId": "none", "issuer": "https://x.com", "domain": "x.com"}), 400, "", msgOneConfig)
	for _, d := range []string{"localhost", "127.0.0.1", "exa mple.com", ",", "a..b.com", "xn--.com"} {
		expect(t, e.register(e.bob, e.oidcBody("dom", d)), 400, "INVALID_DOMAIN", "")
	}
	// Organizations: a non-member is 400, a plain member 403, an admin may.
	org := e.createOrg(e.carol, "acme")
	e.addMember(org, e.bobID, "member")
	b := e.oidcBody("orgp", "acme.com")
	b["organizationId"] = org
	expect(t, e.register(e.alice, b), 400, "", msgNotMember)
	expect(t, e.register(e.bob, b), 403, "", msgNotOrgAdmin)
	b["organizationId"] = "no-such-org"
	expect(t, e.register(e.carol, b), 400, "", msgNotMember)
	b["organizationId"] = org
	got := e.mustRegister(e.carol, b)
	if got["organizationId"] != org || e.provider("orgp").String("organizationId") != org {
		t.Fatalf("org provider: %v", got)
	}
	// The limit counts the caller's providers.
	e.mustRegister(e.alice, e.oidcBody("two", "two.com"))
	expect(t, e.register(e.alice, e.oidcBody("three", "three.com")), 403, "", msgLimitReached)
	e.mustRegister(e.bob, e.oidcBody("bobs", "bob.com"))
	// Registration disabled.
	d := newEnv(t, &Plugin{DisableRegistration: true}, false)
	expect(t, d.register(d.alice, d.oidcBody("x", "x.com")), 403, "", msgRegistrationDisabled)
}

// TestRegisterSAML: the config is stored as given (with the issuer), checked for an entry
// point and a certificate; answers never carry private keys and show certificates as
// fingerprints.
func TestRegisterSAML(t *testing.T) {
	e := newEnv(t, nil, false)
	cert := selfSigned(t)
	body := map[string]any{"providerId": "okta", "issuer": "urn:okta:acme", "domain": "okta-acme.com",
		"samlConfig": map[string]any{"entryPoint": "https://acme.okta.example/sso", "cert": cert,
			"callbackUrl": "/dashboard", "privateKey": "-----BEGIN PRIVATE KEY-----\nSP-SECRET\n-----END PRIVATE KEY-----",
			"spMetadata": map[string]any{"encPrivateKey": "ENC-SECRET", "entityID": "sp"}, "unknownKey": "dropped"}}
	r := e.register(e.alice, body)
	expect(t, r, 200, "", "")
	if strings.Contains(string(r.Body), "SECRET") {
		t.Fatalf("private key in the answer: %s", r.Body)
	}
	var stored map[string]any
	if err := json.Unmarshal([]byte(e.provider("okta").String("samlConfig")), &stored); err != nil {
		t.Fatal(err)
	}
	if stored["issuer"] != "urn:okta:acme" || stored["cert"] != cert || !strings.Contains(stored["privateKey"].(string), "SP-SECRET") ||
		stored["unknownKey"] != nil {
		t.Fatalf("stored samlConfig: %v", stored)
	}
	g := e.alice.Get("/sso/get-provider?providerId=okta")
	expect(t, g, 200, "", "")
	if strings.Contains(string(g.Body), "SECRET") || strings.Contains(string(g.Body), "BEGIN CERTIFICATE") {
		t.Fatalf("get-provider leaks: %s", g.Body)
	}
	sc := g.Object()["samlConfig"].(map[string]any)
	certs, _ := sc["certificate"].([]any)
	c0, _ := certs[0].(map[string]any)
	if g.Object()["type"] != "saml" || c0["publicKeyAlgorithm"] != "EC" || len(c0["fingerprintSha256"].(string)) != 95 ||
		c0["notBefore"] != "Jan  1 00:00:00 2026 GMT" || sc["entryPoint"] != "https://acme.okta.example/sso" ||
		g.Object()["spMetadataUrl"] != e.h.Engine.BaseURL().String()+"/api/auth/sso/saml2/sp/metadata?providerId=okta" {
		t.Fatalf("sanitized saml: %s", g.Body)
	}
	noCert := map[string]any{"providerId": "nc", "issuer": "urn:x", "domain": "x.com", "samlConfig": map[string]any{"entryPoint": "https://x.com/sso"}}
	expect(t, e.register(e.alice, noCert), 400, "", msgSAMLCert)
	noEntry := map[string]any{"providerId": "ne", "issuer": "urn:x", "domain": "x.com", "samlConfig": map[string]any{"cert": cert, "entryPoint": "not a url"}}
	expect(t, e.register(e.alice, noEntry), 400, "", msgSAMLEntry)
	withMeta := map[string]any{"providerId": "md", "issuer": "urn:x", "domain": "x.com", "samlConfig": map[string]any{
		"idpMetadata": map[string]any{"metadata": "<EntityDescriptor/>"}}}
	e.mustRegister(e.alice, withMeta)
	huge := map[string]any{"providerId": "huge", "issuer": "urn:x", "domain": "x.com", "samlConfig": map[string]any{
		"idpMetadata": map[string]any{"metadata": strings.Repeat("x", maxSAMLMetadata+1)}}}
	expect(t, e.register(e.alice, huge), 400, "", "")
	badCB := map[string]any{"providerId": "cb", "issuer": "urn:x", "domain": "x.com", "samlConfig": map[string]any{
		"entryPoint": "https://x.com/sso", "cert": cert, "callbackUrl": "//evil.example"}}
	expect(t, e.register(e.alice, badCB), 400, "VALIDATION_ERROR", "")
}

// TestAccess: another user's provider answers 403 on every route, an unknown one 404;
// organization providers are managed by the organization's owners and admins only.
func TestAccess(t *testing.T) {
	e := newEnv(t, nil, true)
	e.mustRegister(e.alice, e.oidcBody("alices", "alice.com"))
	try := func(id string, status int, msg string) {
		t.Helper()
		expect(t, e.bob.Get("/sso/get-provider?providerId="+id), status, "", msg)
		expect(t, e.bob.Post("/sso/update-provider", map[string]any{"providerId": id, "domain": "bob.com"}), status, "", msg)
		expect(t, e.bob.Post("/sso/request-domain-verification", map[string]any{"providerId": id}), status, "", msg)
		expect(t, e.bob.Post("/sso/verify-domain", map[string]any{"providerId": id}), status, "", msg)
		expect(t, e.bob.Post("/sso/delete-provider", map[string]any{"providerId": id}), status, "", msg)
	}
	try("alices", 403, msgForbidden)
	try("nope", 404, msgNotFound)
	if p := e.provider("alices"); p == nil || p.String("domain") != "alice.com" {
		t.Fatalf("bob changed alice's provider: %v", p)
	}
	// An organization provider: carol owns org A, bob is a member, alice an admin of it.
	orgA := e.createOrg(e.carol, "org-a")
	e.addMember(orgA, e.bobID, "member")
	e.addMember(orgA, e.aliceID, "admin")
	b := e.oidcBody("orga", "orga.com")
	b["organizationId"] = orgA
	e.mustRegister(e.carol, b)
	try("orga", 403, msgForbidden)
	expect(t, e.alice.Get("/sso/get-provider?providerId=orga"), 200, "", "")
	// Lists.
	names := func(body []byte) []string {
		var out struct {
			Providers []struct {
				ProviderID string `json:"providerId"`
			} `json:"providers"`
		}
		_ = json.Unmarshal(body, &out)
		var s []string
		for _, p := range out.Providers {
			s = append(s, p.ProviderID)
		}
		return s
	}
	if got := names(e.alice.Get("/sso/providers").Body); strings.Join(got, ",") != "alices,orga" && strings.Join(got, ",") != "orga,alices" {
		t.Fatalf("alice lists %v", got)
	}
	if got := names(e.bob.Get("/sso/providers").Body); len(got) != 0 {
		t.Fatalf("bob lists %v", got)
	}
	if got := names(e.carol.Get("/sso/providers").Body); strings.Join(got, ",") != "orga" {
		t.Fatalf("carol lists %v", got)
	}
	// The list never carries the secret and masks the client id.
	lr := e.alice.Get("/sso/providers")
	if strings.Contains(string(lr.Body), "s3cr3t-value") || !strings.Contains(string(lr.Body), `"clientIdLastFour":"****3456"`) {
		t.Fatalf("list: %s", lr.Body)
	}
	// Alice loses her admin role: no more access.
	m, err := e.h.Engine.Store().FindOne(e.ctx(), "member", storage.And(storage.Eq("organizationId", orgA), storage.Eq("userId", e.aliceID)))
	if err != nil {
		t.Fatal(err)
	}
	if r := e.carol.Post("/organization/update-member-role", map[string]any{"memberId": m.ID(), "role": "member", "organizationId": orgA}); r.StatusCode != 200 {
		t.Fatalf("demote: %d %s", r.StatusCode, r.Body)
	}
	expect(t, e.alice.Get("/sso/get-provider?providerId=orga"), 403, "", msgForbidden)
	expect(t, e.h.Client().Get("/sso/providers"), 401, "UNAUTHORIZED", "")
}

// TestUpdate: partial updates, domain change resets verification, identity changes refused
// while accounts are linked, and the answer stays sanitized.
func TestUpdate(t *testing.T) {
	e := newEnv(t, nil, false)
	e.mustRegister(e.alice, e.oidcBody("acme", "acme.com"))
	expect(t, e.alice.Post("/sso/update-provider", map[string]any{"providerId": "acme"}), 400, "", msgNoFields)
	e.verifyDNS(e.alice, "acme", "acme.com")
	if !e.provider("acme").Bool("domainVerified") {
		t.Fatal("not verified")
	}
	// Same domain (other spelling): stays verified.
	r := e.alice.Post("/sso/update-provider", map[string]any{"providerId": "acme", "domain": "ACME.com"})
	expect(t, r, 200, "", "")
	if !e.provider("acme").Bool("domainVerified") || r.Object()["domainVerified"] != true {
		t.Fatalf("same domain reset verification: %s", r.Body)
	}
	r = e.alice.Post("/sso/update-provider", map[string]any{"providerId": "acme", "domain": "acme.org"})
	expect(t, r, 200, "", "")
	if p := e.provider("acme"); p.Bool("domainVerified") || p.String("domain") != "acme.org" {
		t.Fatalf("domain change kept verification: %v", p)
	}
	r = e.alice.Post("/sso/update-provider", map[string]any{"providerId": "acme",
		"oidcConfig": map[string]any{"clientSecret": "new-secret-xyz", "scopes": []any{"openid", "email"}}})
	expect(t, r, 200, "", "")
	if strings.Contains(string(r.Body), "new-secret-xyz") {
		t.Fatalf("secret in answer: %s", r.Body)
	}
	if c := OIDC(e.provider("acme")); e.secret(c) != "new-secret-xyz" || c.ClientID != "client-123456" || len(c.Scopes) != 2 {
		t.Fatalf("merged config: %+v", c)
	}
	expect(t, e.alice.Post("/sso/update-provider", map[string]any{"providerId": "acme",
		"samlConfig": map[string]any{"entryPoint": "https://x.com"}}), 400, "", "Cannot update SAML config for a provider that doesn't have SAML configured")
	expect(t, e.alice.Post("/sso/update-provider", map[string]any{"providerId": "acme",
		"oidcConfig": map[string]any{"clientSecret": ""}}), 400, "", msgClientSecret)
	// A linked account freezes the identity fields, not the others.
	now := e.h.Clock.Now()
	if _, err := e.h.Engine.Store().Create(e.ctx(), authcore.ModelAccount, storage.Record{"id": "acc1", "accountId": "sub-1",
		"providerId": "acme", "userId": e.bobID, "createdAt": now, "updatedAt": now}); err != nil {
		t.Fatal(err)
	}
	expect(t, e.alice.Post("/sso/update-provider", map[string]any{"providerId": "acme",
		"oidcConfig": map[string]any{"clientId": "other-client"}}), 409, "", msgIdentityChange)
	expect(t, e.alice.Post("/sso/update-provider", map[string]any{"providerId": "acme", "issuer": "https://other.example"}), 409, "", msgIdentityChange)
	if c := OIDC(e.provider("acme")); c.ClientID != "client-123456" || e.provider("acme").String("issuer") != e.idp.URL {
		t.Fatal("identity changed despite the linked account")
	}
	expect(t, e.alice.Post("/sso/update-provider", map[string]any{"providerId": "acme",
		"oidcConfig": map[string]any{"pkce": false}}), 200, "", "")
	expect(t, e.alice.Post("/sso/update-provider", map[string]any{"providerId": "acme", "domain": "not a domain"}), 400, "INVALID_DOMAIN", "")
	expect(t, e.alice.Post("/sso/update-provider", map[string]any{"providerId": "acme",
		"oidcConfig": map[string]any{"tokenEndpoint": "http://plain.example/t"}}), 400, "discovery_invalid_url", "")
}

// TestDelete: the provider, its linked accounts and its pending verification go; other
// providers' accounts stay.
func TestDelete(t *testing.T) {
	e := newEnv(t, nil, false)
	e.mustRegister(e.alice, e.oidcBody("acme", "acme.com"))
	e.mustRegister(e.alice, e.oidcBody("other", "other.com"))
	now := e.h.Clock.Now()
	for i, pid := range []string{"acme", "other"} {
		if _, err := e.h.Engine.Store().Create(e.ctx(), authcore.ModelAccount, storage.Record{"id": "acc" + pid, "accountId": "sub",
			"providerId": pid, "userId": []string{e.bobID, e.carID}[i], "createdAt": now, "updatedAt": now}); err != nil {
			t.Fatal(err)
		}
	}
	r := e.alice.Post("/sso/delete-provider", map[string]any{"providerId": "acme"})
	expect(t, r, 200, "", "")
	if r.Object()["success"] != true || e.provider("acme") != nil {
		t.Fatalf("delete: %s", r.Body)
	}
	st := e.h.Engine.Store()
	if n, _ := st.Count(e.ctx(), authcore.ModelAccount, storage.Eq("providerId", "acme")); n != 0 {
		t.Fatal("linked account survived")
	}
	if n, _ := st.Count(e.ctx(), authcore.ModelAccount, storage.Eq("providerId", "other")); n != 1 {
		t.Fatal("another provider's account was deleted")
	}
	if v, _ := e.h.Engine.FindVerification(e.ctx(), "_better-auth-token-acme"); v != nil {
		t.Fatal("pending verification survived")
	}
	expect(t, e.alice.Post("/sso/delete-provider", map[string]any{"providerId": "acme"}), 404, "", msgNotFound)
}

// TestUserDeletionAndClaim: a provider goes with the user who registered it, and with an
// unverified account claimed by its address's owner (declared credential).
func TestUserDeletionAndClaim(t *testing.T) {
	e := newEnv(t, nil, false)
	e.mustRegister(e.alice, e.oidcBody("acme", "acme.com"))
	e.mustRegister(e.bob, e.oidcBody("bobs", "bob.com"))
	if err := e.h.Engine.DeleteUser(e.ctx(), e.aliceID); err != nil {
		t.Fatal(err)
	}
	if e.provider("acme") != nil {
		t.Fatal("provider survived its user")
	}
	if _, err := e.h.Engine.ClaimEmail(e.ctx(), e.bobID); err != nil {
		t.Fatal(err)
	}
	if e.provider("bobs") != nil {
		t.Fatal("provider survived the claim of its unverified account")
	}
}
