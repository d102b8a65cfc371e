package oauth_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/gatehouse-auth/gatehouse/authcore/oauth"
	"github.com/gatehouse-auth/gatehouse/authcore/oauth/oauthtest"
)

const redirect = "http://localhost:3000/api/auth/callback/test"

func newProvider(t *testing.T, cfg oauth.Config, client *http.Client) oauth.Provider {
	t.Helper()
	p, err := oauth.New(cfg, client)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// signIn runs authorize → code → exchange → identity against a live IdP.
func signIn(t *testing.T, p oauth.Provider, nonce, checkNonce string) (*oauth.Tokens, *oauth.Identity, error) {
	t.Helper()
	u, err := p.AuthCodeURL(oauth.AuthRequest{State: "st", Verifier: "verifier-0123456789-0123456789-0123456789", Nonce: nonce, RedirectURI: redirect})
	if err != nil {
		t.Fatal(err)
	}
	loc := oauthtest.Follow(t, u)
	if loc.Query().Get("state") != "st" {
		t.Fatalf("state not echoed: %v", loc)
	}
	ctx := context.Background()
	tok, err := p.Exchange(ctx, loc.Query().Get("code"), "verifier-0123456789-0123456789-0123456789", redirect)
	if err != nil {
		t.Fatal(err)
	}
	id, err := p.Identity(ctx, tok, checkNonce)
	return tok, id, err
}

func TestMockOIDCFullFlow(t *testing.T) {
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	m.QueueUser(&mockoidc.MockUser{Subject: "alice-sub", Email: "alice@example.com", EmailVerified: true})
	p := newProvider(t, oauth.Config{ID: "corp", Preset: "oidc", Issuer: m.Issuer(), ClientID: m.ClientID, ClientSecret: m.ClientSecret}, nil)
	u, _ := p.AuthCodeURL(oauth.AuthRequest{State: "s", Verifier: "v-0123456789012345678901234567890123456789", Nonce: "n1", RedirectURI: redirect})
	q := mustURL(t, u).Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("nonce") != "n1" || !strings.Contains(q.Get("scope"), "openid") {
		t.Fatalf("authorization URL lacks PKCE/nonce/scope: %s", u)
	}
	tok, id, err := signIn(t, p, "n1", "n1")
	if err != nil {
		t.Fatal(err)
	}
	if id.Subject != "alice-sub" || id.Email != "alice@example.com" || !id.EmailVerified || tok.AccessToken == "" || tok.RefreshToken == "" || tok.IDToken == "" {
		t.Fatalf("identity %+v tokens %+v", id, tok)
	}
	// Refresh with the IdP's refresh grant.
	nt, err := p.Refresh(context.Background(), tok.RefreshToken)
	if err != nil || nt.AccessToken == "" || nt.RefreshToken == "" {
		t.Fatalf("refresh: %+v %v", nt, err)
	}
	// The nonce is required and compared.
	m.QueueUser(&mockoidc.MockUser{Subject: "alice-sub", Email: "alice@example.com", EmailVerified: true})
	if _, _, err := signIn(t, p, "n2", "other"); !errors.Is(err, oauth.ErrNonceMismatch) {
		t.Fatalf("wrong nonce: %v", err)
	}
}

func TestHostileIDTokens(t *testing.T) {
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	cases := map[string]func(*oauthtest.IdP){
		"wrong issuer":   func(p *oauthtest.IdP) { p.Tamper = func(c map[string]any) { c["iss"] = "https://evil.example" } },
		"wrong audience": func(p *oauthtest.IdP) { p.Tamper = func(c map[string]any) { c["aud"] = "someone-else" } },
		"expired": func(p *oauthtest.IdP) {
			p.Tamper = func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() }
		},
		"alg none":    func(p *oauthtest.IdP) { p.SignNone = true },
		"unknown key": func(p *oauthtest.IdP) { p.SignWith = other },
		"no sub":      func(p *oauthtest.IdP) { p.Tamper = func(c map[string]any) { delete(c, "sub") } },
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			idp := oauthtest.New(t)
			p := newProvider(t, oauth.Config{ID: "corp", Preset: "oidc", Issuer: idp.Issuer(), ClientID: idp.ClientID, ClientSecret: idp.ClientSecret}, nil)
			if _, _, err := signIn(t, p, "n", "n"); err != nil {
				t.Fatalf("honest token refused: %v", err)
			}
			idp.Configure(f)
			if _, id, err := signIn(t, p, "n", "n"); !errors.Is(err, oauth.ErrInvalidIDToken) {
				t.Fatalf("hostile token accepted: %+v %v", id, err)
			}
		})
	}
}

func TestEmailVerifiedOnlyJSONTrue(t *testing.T) {
	idp := oauthtest.New(t)
	p := newProvider(t, oauth.Config{ID: "corp", Preset: "oidc", Issuer: idp.Issuer(), ClientID: idp.ClientID, ClientSecret: idp.ClientSecret}, nil)
	apple := newProvider(t, oauth.Config{ID: "apple", Issuer: idp.Issuer(), ClientID: idp.ClientID, ClientSecret: idp.ClientSecret}, nil)
	for _, c := range []struct {
		v           any
		want, apple bool
	}{{true, true, true}, {false, false, false}, {"true", false, true}, {"false", false, false}, {nil, false, false}, {1, false, false}} {
		tok := idp.IDToken(oauthtest.User{Subject: "s", Email: "a@x.com", EmailVerified: c.v}, "")
		id, err := p.VerifyIDToken(context.Background(), tok, "")
		if err != nil || id.EmailVerified != c.want {
			t.Errorf("email_verified %#v: %v %v", c.v, id, err)
		}
		id, err = apple.VerifyIDToken(context.Background(), tok, "")
		if err != nil || id.EmailVerified != c.apple {
			t.Errorf("apple email_verified %#v: %v %v", c.v, id, err)
		}
	}
	u, _ := apple.AuthCodeURL(oauth.AuthRequest{State: "s", RedirectURI: redirect})
	if q := mustURL(t, u).Query(); q.Get("response_mode") != "form_post" || q.Get("scope") != "email name" {
		t.Fatalf("apple authorization URL: %s", u)
	}
}

func TestDiscoveryLazyAndCached(t *testing.T) {
	// A provider whose IdP is down builds fine.
	if _, err := oauth.New(oauth.Config{ID: "down", Preset: "oidc", Issuer: "http://127.0.0.1:1", ClientID: "c", ClientSecret: "s"}, nil); err != nil {
		t.Fatal(err)
	}
	idp := oauthtest.New(t)
	p := newProvider(t, oauth.Config{ID: "corp", Preset: "oidc", Issuer: idp.Issuer(), ClientID: idp.ClientID, ClientSecret: idp.ClientSecret}, nil)
	if idp.Hits() != 0 {
		t.Fatal("discovery at construction")
	}
	for range 3 {
		if _, _, err := signIn(t, p, "n", "n"); err != nil {
			t.Fatal(err)
		}
	}
	if idp.Hits() != 1 {
		t.Fatalf("discovery fetched %d times", idp.Hits())
	}
}

// rewrite sends every request for host to target (a loopback server), keeping the path.
type rewrite struct {
	host   string
	target *url.URL
}

func (r rewrite) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host == r.host {
		req = req.Clone(req.Context())
		req.URL.Scheme, req.URL.Host = r.target.Scheme, r.target.Host
		req.URL.Path = strings.TrimPrefix(req.URL.Path, "/common/v2.0")
	}
	return http.DefaultTransport.RoundTrip(req)
}

func TestMicrosoftMultiTenantIssuer(t *testing.T) {
	idp := oauthtest.New(t)
	target := mustURL(t, idp.Issuer())
	idp.Configure(func(p *oauthtest.IdP) { p.IssuerValue = "https://login.microsoftonline.com/{tenantid}/v2.0" })
	client := &http.Client{Transport: rewrite{"login.microsoftonline.com", target}}
	p := newProvider(t, oauth.Config{ID: "microsoft", ClientID: idp.ClientID, ClientSecret: idp.ClientSecret}, client)
	if p.Config().Tenant != "common" {
		t.Fatalf("tenant default %q", p.Config().Tenant)
	}
	mint := func(iss, tid string) string {
		idp.Configure(func(p *oauthtest.IdP) {
			p.Tamper = func(c map[string]any) {
				c["iss"] = iss
				if tid != "" {
					c["tid"] = tid
				}
			}
		})
		return idp.IDToken(oauthtest.User{Subject: "s", Email: "a@x.com", EmailVerified: true}, "")
	}
	const tid = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	if _, err := p.VerifyIDToken(context.Background(), mint("https://login.microsoftonline.com/"+tid+"/v2.0", tid), ""); err != nil {
		t.Fatalf("tenant token refused: %v", err)
	}
	for name, tok := range map[string]string{
		"iss of another tenant": mint("https://login.microsoftonline.com/"+tid+"/v2.0", "00000000-0000-0000-0000-000000000001"),
		"no tid":                mint("https://login.microsoftonline.com/"+tid+"/v2.0", ""),
		"foreign issuer":        mint("https://evil.example/"+tid+"/v2.0", tid),
	} {
		if _, err := p.VerifyIDToken(context.Background(), tok, ""); !errors.Is(err, oauth.ErrInvalidIDToken) {
			t.Errorf("%s accepted: %v", name, err)
		}
	}
}

func TestPKCEVerifierRequired(t *testing.T) {
	idp := oauthtest.New(t)
	p := newProvider(t, oauth.Config{ID: "corp", Preset: "oidc", Issuer: idp.Issuer(), ClientID: idp.ClientID, ClientSecret: idp.ClientSecret}, nil)
	u, _ := p.AuthCodeURL(oauth.AuthRequest{State: "s", Verifier: "right-verifier-0123456789012345678901234567", Nonce: "n", RedirectURI: redirect})
	loc := oauthtest.Follow(t, u)
	if _, err := p.Exchange(context.Background(), loc.Query().Get("code"), "wrong-verifier-0123456789012345678901234567", redirect); !errors.Is(err, oauth.ErrExchange) {
		t.Fatalf("exchange with the wrong verifier: %v", err)
	}
}

func TestGitHubPreset(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login/oauth/access_token", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		if r.PostForm.Get("code") != "gh-code" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"error":"bad_verification_code"}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"gho_x","token_type":"bearer","scope":"read:user,user:email"}`))
	})
	mux.HandleFunc("GET /user", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer gho_x" {
			w.WriteHeader(401)
			return
		}
		_, _ = w.Write([]byte(`{"id":12345678901,"login":"octo","name":null,"email":null,"avatar_url":"https://avatars/x"}`))
	})
	mux.HandleFunc("GET /user/emails", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`[{"email":"other@x.com","primary":false,"verified":true},{"email":"octo@x.com","primary":true,"verified":true}]`))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	p := newProvider(t, oauth.Config{ID: "github", ClientID: "c", ClientSecret: "s", AuthURL: srv.URL + "/login/oauth/authorize",
		TokenURL: srv.URL + "/login/oauth/access_token", UserInfoURL: srv.URL + "/user"}, nil)
	u, _ := p.AuthCodeURL(oauth.AuthRequest{State: "s", Verifier: "v-0123456789012345678901234567890123456789", RedirectURI: redirect})
	if q := mustURL(t, u).Query(); q.Get("scope") != "read:user user:email" || q.Get("nonce") != "" {
		t.Fatalf("github authorization URL: %s", u)
	}
	if _, err := p.Exchange(context.Background(), "bad", "v", redirect); !errors.Is(err, oauth.ErrExchange) {
		t.Fatalf("error in a 200 token answer accepted: %v", err)
	}
	tok, err := p.Exchange(context.Background(), "gh-code", "v", redirect)
	if err != nil {
		t.Fatal(err)
	}
	id, err := p.Identity(context.Background(), tok, "")
	if err != nil {
		t.Fatal(err)
	}
	if id.Subject != "12345678901" || id.Email != "octo@x.com" || !id.EmailVerified || id.Name != "octo" || id.Image != "https://avatars/x" {
		t.Fatalf("github identity %+v", id)
	}
	if _, err := p.VerifyIDToken(context.Background(), "x", ""); !errors.Is(err, oauth.ErrIDTokenNotSupported) {
		t.Fatal(err)
	}
}

func TestDiscordPreset(t *testing.T) {
	verified := "true"
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/oauth2/token", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"dc","token_type":"Bearer","expires_in":604800,"refresh_token":"dr","scope":"identify email"}`))
	})
	mux.HandleFunc("GET /api/users/@me", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"id":"80351110224678912","username":"nelly","global_name":"Nelly","avatar":"a_abc","email":"nelly@x.com","verified":` + verified + `}`))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	p := newProvider(t, oauth.Config{ID: "discord", ClientID: "c", ClientSecret: "s", AuthURL: srv.URL + "/api/oauth2/authorize",
		TokenURL: srv.URL + "/api/oauth2/token", UserInfoURL: srv.URL + "/api/users/@me"}, nil)
	u, _ := p.AuthCodeURL(oauth.AuthRequest{State: "s", RedirectURI: redirect})
	if q := mustURL(t, u).Query(); q.Get("scope") != "identify email" || q.Get("prompt") != "none" {
		t.Fatalf("discord authorization URL: %s", u)
	}
	tok, err := p.Exchange(context.Background(), "c", "", redirect)
	if err != nil || tok.RefreshToken != "dr" || tok.AccessTokenExpiresAt.IsZero() {
		t.Fatalf("%+v %v", tok, err)
	}
	id, err := p.Identity(context.Background(), tok, "")
	if err != nil || id.Subject != "80351110224678912" || !id.EmailVerified || id.Name != "Nelly" ||
		id.Image != "https://cdn.discordapp.com/avatars/80351110224678912/a_abc.gif" {
		t.Fatalf("discord identity %+v %v", id, err)
	}
	verified = `"true"`
	if id, err := p.Identity(context.Background(), tok, ""); err != nil || id.EmailVerified {
		t.Fatalf("verified as a string counted: %+v %v", id, err)
	}
}

func TestValidate(t *testing.T) {
	for name, c := range map[string]oauth.Config{
		"unknown preset":     {ID: "acme", ClientID: "c", ClientSecret: "s"},
		"bad id":             {ID: "Bad Id", Preset: "google", ClientID: "c", ClientSecret: "s"},
		"no client id":       {ID: "google", ClientSecret: "s"},
		"no secret":          {ID: "google", ClientID: "c"},
		"oidc no issuer":     {ID: "corp", Preset: "oidc", ClientID: "c", ClientSecret: "s"},
		"oauth2 no urls":     {ID: "x", Preset: "oauth2", ClientID: "c", ClientSecret: "s"},
		"tenant not ms":      {ID: "google", Tenant: "x", ClientID: "c", ClientSecret: "s"},
		"relative url":       {ID: "github", AuthURL: "/x", ClientID: "c", ClientSecret: "s"},
		"alg none":           {ID: "google", Algorithms: []string{"none"}, ClientID: "c", ClientSecret: "s"},
		"hs256 (secret key)": {ID: "google", Algorithms: []string{"HS256"}, ClientID: "c", ClientSecret: "s"},
	} {
		if _, err := oauth.New(c, nil); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	for _, id := range []string{"google", "github", "microsoft", "gitlab", "apple", "discord"} {
		p, err := oauth.New(oauth.Config{ID: id, ClientID: "c", ClientSecret: "s"}, nil)
		if err != nil || p.Config().Preset != id || p.Name() == id {
			t.Errorf("preset %s: %v", id, err)
		}
	}
	b, _ := json.Marshal(oauth.Config{ID: "x", ClientID: "c", TrustIDPMFA: true})
	if !strings.Contains(string(b), `"trust_idp_mfa":true`) || !strings.Contains(string(b), `"client_id":"c"`) {
		t.Fatalf("json tags: %s", b)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestAuthorizationOrigin: the origin a browser is sent to is known from the config alone —
// a preset's fixed auth URL, a preset's or configured issuer, an auth_url override.
func TestAuthorizationOrigin(t *testing.T) {
	for _, c := range []struct {
		cfg  oauth.Config
		want string
	}{
		{oauth.Config{ID: "github", ClientID: "c", ClientSecret: "s"}, "https://github.com"},
		{oauth.Config{ID: "google", ClientID: "c", ClientSecret: "s"}, "https://accounts.google.com"},
		{oauth.Config{ID: "microsoft", ClientID: "c", ClientSecret: "s", Tenant: "organizations"}, "https://login.microsoftonline.com"},
		{oauth.Config{ID: "corp", Preset: "oidc", Issuer: "https://Login.Corp.example:8443/realms/x", ClientID: "c", ClientSecret: "s"}, "https://login.corp.example:8443"},
		{oauth.Config{ID: "corp", Preset: "oidc", Issuer: "https://idp.example", AuthURL: "https://auth.example/authorize", ClientID: "c", ClientSecret: "s"}, "https://auth.example"},
	} {
		p, err := oauth.New(c.cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.AuthorizationOrigin(); got != c.want {
			t.Errorf("%s: %q, want %q", c.cfg.ID, got, c.want)
		}
	}
}
