package caddymodule

import (
	"encoding/json"
	"maps"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
	"go.uber.org/zap"

	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	jwtplugin "github.com/gatehouse-auth/gatehouse/plugins/jwt"
)

const idHeader = "X-Identity"

// newIdentityFixture is a site with identity_jwt and the jwt plugin.
func newIdentityFixture(t *testing.T, c *IdentityJWTConfig, rules ...Rule) *fixture {
	t.Helper()
	return newFixture(t, &Handler{IdentityJWT: c, Rules: rules}, authcoretest.WithPlugins(&jwtplugin.Plugin{}))
}

// jwks fetches the public keys through the site, as an upstream would from
// <base_url><base_path>/jwks.
func (f *fixture) jwks() jose.JSONWebKeySet {
	f.t.Helper()
	s := f.serve("GET", "/api/auth/jwks", nil)
	if s.rec.Code != http.StatusOK {
		f.t.Fatalf("/jwks: %d %s", s.rec.Code, s.rec.Body)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(s.rec.Body.Bytes(), &set); err != nil || len(set.Keys) == 0 {
		f.t.Fatalf("/jwks body %s: %v", s.rec.Body, err)
	}
	return set
}

// verifyIdentity checks a token as an independent upstream would: golang-jwt with the key
// from /jwks named by kid, typ, iss, aud, exp against the test clock. It returns the claims.
func (f *fixture) verifyIdentity(tok, aud string) jwt.MapClaims {
	f.t.Helper()
	set := f.jwks()
	claims := jwt.MapClaims{}
	parsed, err := jwt.NewParser(
		jwt.WithValidMethods([]string{"EdDSA", "ES256", "RS256"}),
		jwt.WithIssuer(authcoretest.BaseURL), jwt.WithAudience(aud),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt(),
		jwt.WithTimeFunc(f.hn.Clock.Now),
	).ParseWithClaims(tok, claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		keys := set.Key(kid)
		if len(keys) != 1 {
			return nil, jwt.ErrTokenUnverifiable
		}
		return keys[0].Key, nil
	})
	if err != nil {
		f.t.Fatalf("identity JWT does not verify: %v", err)
	}
	if typ := parsed.Header["typ"]; typ != "gatehouse-id+jwt" {
		f.t.Errorf("typ = %v", typ)
	}
	if kid, _ := parsed.Header["kid"].(string); kid == "" {
		f.t.Error("no kid")
	}
	return claims
}

// upstreamToken is the one identity JWT the upstream received.
func (f *fixture) upstreamToken(s served) string {
	f.t.Helper()
	if s.err != nil || s.rec.Code != http.StatusOK || f.up.got == nil {
		f.t.Fatalf("status %d, err %v, body %s", s.rec.Code, s.err, s.rec.Body)
	}
	v := f.up.got.Header[idHeader]
	if len(v) != 1 || v[0] == "" {
		f.t.Fatalf("upstream %s = %q, want one token", idHeader, v)
	}
	return v[0]
}

func checkClaims(t *testing.T, got jwt.MapClaims, want map[string]any) {
	t.Helper()
	norm := map[string]any{}
	for k, v := range got {
		if n, ok := v.(float64); ok {
			v = int64(n)
		}
		norm[k] = v
	}
	if !maps.Equal(norm, want) {
		t.Errorf("claims\n got %v\nwant %v", norm, want)
	}
}

// TestIdentityJWTClaims: the upstream receives one token in the configured header, it
// verifies against /jwks with an independent verifier, and its claims are exactly the
// principal's — email only once verified — with the default 60 s lifetime. A client-sent
// header of that name, in any spelling, never gets through.
func TestIdentityJWTClaims(t *testing.T) {
	f := newIdentityFixture(t, &IdentityJWTConfig{Header: idHeader})
	ada := f.signUp("Zoë", "zoe@example.com")
	const aud = "http://example.com" // httptest.NewRequest's Host
	forged := []string{idHeader, "forged", "x-identity", "forged2", "X_IDENTITY", "forged3", "x.identity", "forged4"}

	s := f.serve("GET", "/app", nil, append([]string{"Cookie", ada.cookie}, forged...)...)
	tok := f.upstreamToken(s)
	for k := range f.up.got.Header {
		if normHeader(k) == "x-identity" && k != idHeader {
			t.Errorf("client header %s reached the upstream", k)
		}
	}
	iat := f.hn.Clock.Now().Unix()
	checkClaims(t, f.verifyIdentity(tok, aud), map[string]any{
		"sub": ada.userID, "name": "Zoë", "role": "user", "sid": ada.sessionID, "method": "session",
		"iat": iat, "exp": iat + 60, "iss": authcoretest.BaseURL, "aud": aud,
	})

	// Verified email (a write through the engine): the claim appears, and the cached token
	// is not reused since the claims changed.
	if _, err := f.hn.Engine.UpdateUser(t.Context(), ada.userID, map[string]any{"emailVerified": true, "role": "admin,user"}); err != nil {
		t.Fatal(err)
	}
	s = f.serve("GET", "/app", nil, "Cookie", ada.cookie)
	tok2 := f.upstreamToken(s)
	if tok2 == tok {
		t.Error("token reused after the user changed")
	}
	checkClaims(t, f.verifyIdentity(tok2, aud), map[string]any{
		"sub": ada.userID, "email": "zoe@example.com", "name": "Zoë", "role": "admin,user", "sid": ada.sessionID,
		"method": "session", "iat": iat, "exp": iat + 60, "iss": authcoretest.BaseURL, "aud": aud,
	})
}

// TestIdentityJWTPrincipals: API keys (user-owned and organization-owned: empty sub with
// org) and bearer principals get their claims; a public route without a principal gets no
// header at all, and a forged one is stripped.
func TestIdentityJWTPrincipals(t *testing.T) {
	f := newIdentityFixture(t, &IdentityJWTConfig{Header: idHeader, Lifetime: caddy.Duration(5 * time.Minute), Audience: "app.internal"},
		Rule{Kind: KindPublic, Paths: []string{"/public/*"}})
	iat := f.hn.Clock.Now().Unix()
	base := map[string]any{"iat": iat, "exp": iat + 300, "iss": authcoretest.BaseURL, "aud": "app.internal"}
	for _, tt := range []struct {
		key  string
		want map[string]any
	}{
		{"org-key", map[string]any{"sub": "", "org": "org-1", "method": "api-key"}},
		{"admin-key", map[string]any{"sub": "admin-1", "role": "admin", "method": "api-key"}},
		{"bearer:u-7", map[string]any{"sub": "u-7", "role": "user", "method": "bearer"}},
	} {
		s := f.serve("GET", "/app", nil, "X-Fake-Key", tt.key, "x_identity", "forged")
		want := maps.Clone(base)
		maps.Copy(want, tt.want)
		checkClaims(t, f.verifyIdentity(f.upstreamToken(s), "app.internal"), want)
	}

	f.up.got = nil
	s := f.serve("GET", "/public/x", nil, idHeader, "forged", "X_Identity", "forged")
	if s.rec.Code != http.StatusOK || f.up.got == nil {
		t.Fatalf("public path: %d", s.rec.Code)
	}
	for k, v := range f.up.got.Header {
		if normHeader(k) == "x-identity" {
			t.Errorf("public request without a principal: upstream got %s: %q", k, v)
		}
	}
}

// TestIdentityJWTCache: two requests within half the lifetime get the same token; past it
// a new one is signed (new iat), still valid for the full lifetime; another session, or
// another audience (Host), never shares a token.
func TestIdentityJWTCache(t *testing.T) {
	f := newIdentityFixture(t, &IdentityJWTConfig{Header: idHeader, Lifetime: caddy.Duration(20 * time.Second)})
	ada := f.signUp("Ada", "ada@example.com")
	bob := f.signUp("Bob", "bob@example.com")
	get := func(a account, host string) string {
		t.Helper()
		r := f.serve("GET", "http://"+host+"/app", nil, "Cookie", a.cookie)
		return f.upstreamToken(r)
	}
	t1 := get(ada, "example.com")
	f.hn.Clock.Advance(9 * time.Second)
	if t2 := get(ada, "example.com"); t2 != t1 {
		t.Error("a second request within the window signed a new token")
	}
	if tb := get(bob, "example.com"); tb == t1 {
		t.Error("two sessions share a token")
	}
	if th := get(ada, "other.example"); th == t1 {
		t.Error("two audiences share a token")
	} else if c := f.verifyIdentity(th, "http://other.example"); c["aud"] != "http://other.example" {
		t.Errorf("aud = %v", c["aud"])
	}
	f.hn.Clock.Advance(2 * time.Second) // 11 s: more than half the lifetime has passed
	t3 := get(ada, "example.com")
	if t3 == t1 {
		t.Fatal("token reused past half its lifetime")
	}
	c := f.verifyIdentity(t3, "http://example.com")
	if iat := f.hn.Clock.Now().Unix(); c["iat"] != float64(iat) || c["exp"] != float64(iat+20) {
		t.Errorf("re-signed iat %v exp %v, want %d %d", c["iat"], c["exp"], iat, iat+20)
	}
	// The old token expires on its own.
	f.hn.Clock.Advance(10 * time.Second)
	if _, err := jwt.NewParser(jwt.WithTimeFunc(f.hn.Clock.Now)).Parse(t1, func(*jwt.Token) (any, error) {
		return f.jwks().Keys[0].Key, nil
	}); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("first token after 21 s: %v, want expired", err)
	}
}

// TestIdentityJWTRefusedByGateway is D12: the identity JWT presented back to the gateway as
// `Authorization: Bearer` is refused (401, upstream not reached), even with an audience
// equal to the jwt plugin's own, so only its typ stops it; the plugin's ordinary token
// (from /token) is accepted, proving the path works.
func TestIdentityJWTRefusedByGateway(t *testing.T) {
	f := newIdentityFixture(t, &IdentityJWTConfig{Header: idHeader, Audience: authcoretest.BaseURL})
	ada := f.signUp("Ada", "ada@example.com")
	tok := f.upstreamToken(f.serve("GET", "/app", nil, "Cookie", ada.cookie))
	f.verifyIdentity(tok, authcoretest.BaseURL)

	f.up.calls = 0
	s := f.serve("GET", "/app", nil, "Authorization", "Bearer "+tok)
	if s.rec.Code != http.StatusUnauthorized || f.up.calls != 0 {
		t.Fatalf("identity JWT as bearer: %d, upstream calls %d", s.rec.Code, f.up.calls)
	}

	r := ada.client.Get("/token")
	var body struct{ Token string }
	if err := json.Unmarshal([]byte(r.Body), &body); err != nil || body.Token == "" {
		t.Fatalf("/token: %d %s", r.StatusCode, r.Body)
	}
	s = f.serve("GET", "/app", nil, "Authorization", "Bearer "+body.Token)
	if s.rec.Code != http.StatusOK || f.up.calls != 1 {
		t.Fatalf("jwt plugin token as bearer: %d", s.rec.Code)
	}
}

func TestIdentityJWTType(t *testing.T) {
	if identityJWTType != jwtplugin.IdentityJWTType || jwtPluginID != jwtplugin.ID {
		t.Fatal("caddymodule's copies of the jwt plugin's constants differ")
	}
}

func TestIdentityJWTProvisionErrors(t *testing.T) {
	withJWT := authcoretest.New(t, authcoretest.WithPlugins(&jwtplugin.Plugin{}, fakeAuth{}))
	without := authcoretest.New(t)
	tests := []struct {
		c    *IdentityJWTConfig
		hd   map[string]string
		bare bool
		want string
	}{
		{c: &IdentityJWTConfig{Header: idHeader}, bare: true, want: "needs the jwt plugin"},
		{c: &IdentityJWTConfig{Header: "X Identity"}, want: "not a valid header name"},
		{c: &IdentityJWTConfig{}, want: "not a valid header name"},
		{c: &IdentityJWTConfig{Header: "authorization"}, want: "cannot carry"},
		{c: &IdentityJWTConfig{Header: "Cookie"}, want: "cannot carry"},
		{c: &IdentityJWTConfig{Header: "X-Auth-User-Id"}, want: "already the user_id identity header"},
		{c: &IdentityJWTConfig{Header: "X-Email"}, hd: map[string]string{"user_email": "x_email"}, want: "already the user_email"},
		{c: &IdentityJWTConfig{Header: "X-Fake-Key"}, want: "credential header"},
		{c: &IdentityJWTConfig{Header: idHeader, Lifetime: caddy.Duration(time.Second)}, want: "lifetime"},
		{c: &IdentityJWTConfig{Header: idHeader, Lifetime: caddy.Duration(2 * time.Hour)}, want: "lifetime"},
		{c: &IdentityJWTConfig{Header: idHeader, Lifetime: caddy.Duration(2500 * time.Millisecond)}, want: "lifetime"},
		{c: &IdentityJWTConfig{Header: idHeader, Audience: "a\nb"}, want: "audience"},
	}
	for _, tt := range tests {
		eng := withJWT.Engine
		if tt.bare {
			eng = without.Engine
		}
		h := &Handler{IdentityJWT: tt.c, Headers: tt.hd}
		err := h.provision(testCtx(t), eng, zap.NewNop())
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: err = %v, want %q", tt.c, err, tt.want)
		}
	}
}

// TestIdentityJWTCaddyProvisioning runs Caddy's own provisioning on adapted Caddyfiles: with
// the jwt plugin in the global options identity_jwt starts; without it start-up fails
// naming the fix.
func TestIdentityJWTCaddyProvisioning(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_DATA_HOME", filepath.Join(dir, "data"))
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	config := func(plugin string) []byte {
		out, err := adapt(`{
	admin off
	gatehouse {
		base_url http://localhost:8080
		secret 0123456789abcdef0123456789abcdef-test
		storage bbolt ` + filepath.Join(dir, "g.db") + `
		` + plugin + `
	}
}
http://localhost:8080 {
	gatehouse {
		identity_jwt X-Identity 30s
	}
	respond "ok"
}
`)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	if err := caddy.Validate(mustConfig(t, config("jwt"))); err != nil {
		t.Fatalf("with the jwt plugin: %v", err)
	}
	err := caddy.Validate(mustConfig(t, config("")))
	if err == nil || !strings.Contains(err.Error(), "identity_jwt: needs the jwt plugin") || !strings.Contains(err.Error(), "gatehouse { ... jwt }") {
		t.Fatalf("without the jwt plugin: err = %v", err)
	}
}

type nopNext struct{}

// discardWriter is a minimal ResponseWriter, so the benchmark measures the handler.
type discardWriter struct {
	h    http.Header
	code int
}

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(code int)        { d.code = code }

func (nopNext) ServeHTTP(http.ResponseWriter, *http.Request) error { return nil }

// BenchmarkIdentityJWT is the handler's own cost for a request with a session, with and
// without identity_jwt (after the first request the token comes from the cache), the next
// handler doing nothing:
//
//	go test -run '^$' -bench IdentityJWT -benchmem ./caddymodule/
func BenchmarkIdentityJWT(b *testing.B) {
	for _, c := range []struct {
		name string
		cfg  *IdentityJWTConfig
	}{{"without", nil}, {"with", &IdentityJWTConfig{Header: idHeader}}} {
		b.Run(c.name, func(b *testing.B) {
			hn := authcoretest.New(b, authcoretest.WithPlugins(&jwtplugin.Plugin{}))
			h := &Handler{IdentityJWT: c.cfg}
			ctx, cancel := caddy.NewContext(caddy.Context{Context: b.Context()})
			defer cancel()
			if err := h.provision(ctx, hn.Engine, zap.NewNop()); err != nil {
				b.Fatal(err)
			}
			cl, _ := hn.SignUp("Bench", "bench@example.com", testPassword)
			cookie := "better-auth.session_token=" + cl.CookieValue("better-auth.session_token")
			serve := func() *http.Request {
				r, _ := http.NewRequest("GET", "http://app.example/page", nil)
				r.Header.Set("Cookie", cookie)
				w := &discardWriter{h: http.Header{}, code: 200}
				if err := h.ServeHTTP(w, r, nopNext{}); err != nil || w.code != 200 {
					b.Fatalf("status %d, err %v", w.code, err)
				}
				return r
			}
			if r := serve(); c.cfg != nil && r.Header.Get(idHeader) == "" {
				b.Fatal("no identity JWT")
			}
			b.ReportAllocs()
			for b.Loop() {
				serve()
			}
		})
	}
}
