package authcore_test

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/authcore/oauth"
	"github.com/gatehouse-auth/gatehouse/authcore/oauth/oauthtest"
	"github.com/gatehouse-auth/gatehouse/plugins/twofactor"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// socialEnv is a harness with social providers whose IdPs run on loopback.
type socialEnv struct {
	h   *authcoretest.Harness
	idp *oauthtest.IdP
}

func provider(t *testing.T, cfg oauth.Config) oauth.Provider {
	t.Helper()
	p, err := oauth.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// newSocial starts an oauthtest IdP as provider "corp" plus the given extra providers.
func newSocial(t *testing.T, mod func(*oauth.Config), extra []oauth.Provider, opts ...authcoretest.Option) *socialEnv {
	t.Helper()
	idp := oauthtest.New(t)
	cfg := oauth.Config{ID: "corp", Preset: "oidc", Issuer: idp.Issuer(), ClientID: idp.ClientID, ClientSecret: idp.ClientSecret}
	if mod != nil {
		mod(&cfg)
	}
	ps := append([]oauth.Provider{provider(t, cfg)}, extra...)
	opts = append([]authcoretest.Option{authcoretest.WithConfig(func(c *authcore.Config) { c.Social.Providers = ps })}, opts...)
	return &socialEnv{h: authcoretest.New(t, opts...), idp: idp}
}

// start posts /sign-in/social and returns the provider's authorization URL.
func (s *socialEnv) start(t *testing.T, c *authcoretest.Client, path string, body map[string]any) string {
	t.Helper()
	r := c.Post(path, body)
	if r.StatusCode != 200 {
		t.Fatalf("%s: %d %s", path, r.StatusCode, r.Body)
	}
	u, _ := r.Object()["url"].(string)
	if u == "" || r.Object()["redirect"] != true || r.Header.Get("Location") != u {
		t.Fatalf("%s answer: %s (Location %q)", path, r.Body, r.Header.Get("Location"))
	}
	return u
}

// toApp turns a redirect to the configured base URL into a URL of the test server.
func (s *socialEnv) toApp(t *testing.T, loc *url.URL) string {
	t.Helper()
	if got := loc.Scheme + "://" + loc.Host; got != authcoretest.BaseURL {
		t.Fatalf("redirect to %s, not to the app", loc)
	}
	return s.h.Server.URL + loc.RequestURI()
}

// flow runs sign-in → IdP → callback in client c and returns the callback's answer.
func (s *socialEnv) flow(t *testing.T, c *authcoretest.Client, body map[string]any) *authcoretest.Response {
	t.Helper()
	return s.flowAt(t, c, "/sign-in/social", body)
}

func (s *socialEnv) flowAt(t *testing.T, c *authcoretest.Client, path string, body map[string]any) *authcoretest.Response {
	t.Helper()
	return c.Get(s.toApp(t, oauthtest.Follow(t, s.start(t, c, path, body))))
}

// redirectError is the ?error= of a 302 answer ("" when it has none).
func redirectError(t *testing.T, r *authcoretest.Response) string {
	t.Helper()
	if r.StatusCode != http.StatusFound {
		t.Fatalf("want a redirect, got %d %s", r.StatusCode, r.Body)
	}
	u, err := url.Parse(r.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("error")
}

// noSession asserts the response set no session and the client holds none.
func noSession(t *testing.T, h *authcoretest.Harness, c *authcoretest.Client, r *authcoretest.Response) {
	t.Helper()
	if line, ok := r.SetCookie("better-auth.session_token"); ok && !strings.Contains(line, "Max-Age=0") {
		t.Fatalf("session cookie set: %s", line)
	}
	if g := c.Get("/get-session"); string(g.Body) != "null" {
		t.Fatalf("client has a session: %s", g.Body)
	}
	n, err := h.Engine.Store().Count(context.Background(), authcore.ModelSession, storage.Where{})
	if err != nil || n != 0 {
		t.Fatalf("%d sessions stored (%v)", n, err)
	}
}

func sessionEmail(t *testing.T, c *authcoretest.Client) string {
	t.Helper()
	g := c.Get("/get-session")
	u, _ := g.Object()["user"].(map[string]any)
	e, _ := u["email"].(string)
	return e
}

func accounts(t *testing.T, h *authcoretest.Harness, providerID string) []storage.Record {
	t.Helper()
	recs, err := h.Engine.Store().FindMany(context.Background(), authcore.ModelAccount, storage.Query{Where: storage.Eq("providerId", providerID)})
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func verifiedUser(t *testing.T, h *authcoretest.Harness, email string, verified bool) string {
	t.Helper()
	_, body := h.SignUp("Local", email, "correct horse battery")
	id := body["user"].(map[string]any)["id"].(string)
	if _, err := h.Engine.UpdateUser(context.Background(), id, storage.Record{"emailVerified": verified}); err != nil {
		t.Fatal(err)
	}
	// Only the sessions the social flows create are counted.
	if _, err := h.Engine.Store().DeleteMany(context.Background(), authcore.ModelSession, storage.Where{}); err != nil {
		t.Fatal(err)
	}
	return id
}

// The full redirect flow against mockoidc, a real OIDC provider: sign-up, then sign-in.
func TestSocialMockOIDCSignUpAndSignIn(t *testing.T) {
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	p := provider(t, oauth.Config{ID: "mock", Preset: "oidc", Issuer: m.Issuer(), ClientID: m.ClientID, ClientSecret: m.ClientSecret})
	h := authcoretest.New(t, authcoretest.WithConfig(func(c *authcore.Config) { c.Social.Providers = []oauth.Provider{p} }))
	s := &socialEnv{h: h}
	m.QueueUser(&mockoidc.MockUser{Subject: "alice-sub", Email: "Alice@Example.com", EmailVerified: true})

	c := h.Client()
	u := s.start(t, c, "/sign-in/social", map[string]any{"provider": "mock", "callbackURL": "/dashboard", "newUserCallbackURL": "/welcome"})
	q, _ := url.Parse(u)
	if q.Query().Get("redirect_uri") != authcoretest.BaseURL+"/api/auth/callback/mock" || q.Query().Get("code_challenge_method") != "S256" {
		t.Fatalf("authorization URL %s", u)
	}
	r := c.Get(s.toApp(t, oauthtest.Follow(t, u)))
	if r.StatusCode != 302 || r.Header.Get("Location") != authcoretest.BaseURL+"/welcome" {
		t.Fatalf("first sign-in: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	if _, ok := r.SetCookie("better-auth.session_token"); !ok || sessionEmail(t, c) != "alice@example.com" {
		t.Fatalf("no session after the callback")
	}
	accts := accounts(t, h, "mock")
	if len(accts) != 1 || accts[0].String("accountId") != "alice-sub" {
		t.Fatalf("accounts %v", accts)
	}
	// Tokens are stored encrypted: not the plain token, and decrypting gives what
	// /get-access-token returns.
	at := c.Post("/get-access-token", map[string]any{"providerId": "mock"})
	plain, _ := at.Object()["accessToken"].(string)
	stored := accts[0].String("accessToken")
	dec, err := h.Engine.Keys().Decrypt(stored)
	if plain == "" || stored == plain || err != nil || string(dec) != plain || strings.Contains(stored, plain) {
		t.Fatalf("access token at rest: stored %q plain %q (%v)", stored, plain, err)
	}
	for _, k := range []string{"refreshToken", "idToken"} {
		if v := accts[0].String(k); v == "" || strings.HasPrefix(v, "eyJ") {
			t.Fatalf("%s stored in clear or missing: %q", k, v)
		}
	}
	user, _ := h.Engine.UserByEmail(context.Background(), "alice@example.com")
	if !user.Bool("emailVerified") {
		t.Fatal("IdP-verified email not marked verified")
	}

	// Returning sign-in in a new browser: same user, same account, callbackURL.
	m.QueueUser(&mockoidc.MockUser{Subject: "alice-sub", Email: "alice@example.com", EmailVerified: true})
	c2 := h.Client()
	r = s.flow(t, c2, map[string]any{"provider": "mock", "callbackURL": "/dashboard", "newUserCallbackURL": "/welcome"})
	if r.StatusCode != 302 || r.Header.Get("Location") != authcoretest.BaseURL+"/dashboard" || sessionEmail(t, c2) != "alice@example.com" {
		t.Fatalf("returning sign-in: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	if n, _ := h.Engine.Store().Count(context.Background(), authcore.ModelUser, storage.Where{}); n != 1 || len(accounts(t, h, "mock")) != 1 {
		t.Fatalf("returning sign-in created records: %d users", n)
	}
	// The social account shows in /list-accounts.
	la := c2.Get("/list-accounts")
	if !strings.Contains(string(la.Body), `"providerId":"mock"`) || !strings.Contains(string(la.Body), `"accountId":"alice-sub"`) {
		t.Fatalf("list-accounts: %s", la.Body)
	}
}

// SSO-01: every bad callback is a redirect with ?error= and no session.
func TestSocialCallbackFailures(t *testing.T) {
	body := map[string]any{"provider": "corp", "callbackURL": "/dashboard"}
	tamper := func(f func(map[string]any)) func(*oauthtest.IdP) {
		return func(p *oauthtest.IdP) { p.Tamper = f }
	}
	for name, tc := range map[string]struct {
		idp  func(*oauthtest.IdP)
		want string
		user *oauthtest.User
	}{
		"wrong nonce":    {tamper(func(c map[string]any) { c["nonce"] = "attacker" }), "unable_to_get_user_info", nil},
		"no nonce":       {tamper(func(c map[string]any) { delete(c, "nonce") }), "unable_to_get_user_info", nil},
		"wrong issuer":   {tamper(func(c map[string]any) { c["iss"] = "https://evil.example" }), "unable_to_get_user_info", nil},
		"wrong audience": {tamper(func(c map[string]any) { c["aud"] = "other-client" }), "unable_to_get_user_info", nil},
		"expired":        {tamper(func(c map[string]any) { c["exp"] = time.Now().Add(-time.Minute).Unix() }), "unable_to_get_user_info", nil},
		"alg none":       {func(p *oauthtest.IdP) { p.SignNone = true }, "unable_to_get_user_info", nil},
		// Neither the ID token nor userinfo has an address.
		"no email": {func(*oauthtest.IdP) {}, "email_not_found", &oauthtest.User{Subject: "no-mail", EmailVerified: true}},
	} {
		t.Run(name, func(t *testing.T) {
			s := newSocial(t, nil, nil)
			s.idp.Configure(tc.idp)
			if tc.user != nil {
				s.idp.SetUser(*tc.user)
			}
			c := s.h.Client()
			r := s.flow(t, c, body)
			if got := redirectError(t, r); got != tc.want {
				t.Fatalf("error %q, want %q (%s)", got, tc.want, r.Header.Get("Location"))
			}
			if !strings.HasPrefix(r.Header.Get("Location"), authcoretest.BaseURL+"/api/auth/error?") {
				t.Fatalf("error page %s", r.Header.Get("Location"))
			}
			noSession(t, s.h, c, r)
			if n, _ := s.h.Engine.Store().Count(context.Background(), authcore.ModelUser, storage.Where{}); n != 0 {
				t.Fatalf("%d users created", n)
			}
		})
	}
}

func TestSocialStateChecks(t *testing.T) {
	s := newSocial(t, nil, nil)
	body := map[string]any{"provider": "corp", "callbackURL": "/dashboard", "errorCallbackURL": "/oops"}

	t.Run("missing state", func(t *testing.T) {
		c := s.h.Client()
		r := c.Get("/callback/corp?code=abc")
		if redirectError(t, r) != "state_not_found" {
			t.Fatal(r.Header.Get("Location"))
		}
		noSession(t, s.h, c, r)
	})
	t.Run("mismatched state", func(t *testing.T) {
		c := s.h.Client()
		loc := oauthtest.Follow(t, s.start(t, c, "/sign-in/social", body))
		q := loc.Query()
		q.Set("state", "someoneElsesState")
		loc.RawQuery = q.Encode()
		r := c.Get(s.toApp(t, loc))
		if redirectError(t, r) != "state_mismatch" {
			t.Fatal(r.Header.Get("Location"))
		}
		noSession(t, s.h, c, r)
	})
	t.Run("callback in another browser", func(t *testing.T) {
		victim, attacker := s.h.Client(), s.h.Client()
		loc := oauthtest.Follow(t, s.start(t, attacker, "/sign-in/social", body))
		r := victim.Get(s.toApp(t, loc))
		if redirectError(t, r) != "state_mismatch" {
			t.Fatal(r.Header.Get("Location"))
		}
		noSession(t, s.h, victim, r)
		// The state was not spent by the refused attempt: the browser that started the flow
		// still completes it.
		if r := attacker.Get(s.toApp(t, loc)); redirectError(t, r) != "" || sessionEmail(t, attacker) == "" {
			t.Fatalf("rightful callback: %s", r.Header.Get("Location"))
		}
	})
	t.Run("replayed callback", func(t *testing.T) {
		c := s.h.Client()
		loc := oauthtest.Follow(t, s.start(t, c, "/sign-in/social", body))
		stateCookie := c.CookieValue("better-auth.state")
		if r := c.Get(s.toApp(t, loc)); redirectError(t, r) != "" {
			t.Fatalf("first callback: %s", r.Header.Get("Location"))
		}
		// Replay the same code+state with the state cookie as it was.
		replayer := s.h.Client()
		r := replayer.Get(s.toApp(t, loc), "Cookie", "better-auth.state="+stateCookie)
		if redirectError(t, r) != "please_restart_the_process" {
			t.Fatal(r.Header.Get("Location"))
		}
		if !strings.HasPrefix(r.Header.Get("Location"), authcoretest.BaseURL+"/api/auth/error?") {
			t.Fatal(r.Header.Get("Location"))
		}
		if g := replayer.Get("/get-session"); string(g.Body) != "null" {
			t.Fatalf("replay got a session: %s", g.Body)
		}
	})
	t.Run("expired state", func(t *testing.T) {
		c := s.h.Client()
		loc := oauthtest.Follow(t, s.start(t, c, "/sign-in/social", body))
		s.h.Clock.Advance(authcore.OAuthStateTTL + time.Second)
		r := c.Get(s.toApp(t, loc))
		if redirectError(t, r) != "please_restart_the_process" {
			t.Fatal(r.Header.Get("Location"))
		}
	})
	t.Run("IdP error goes to errorCallbackURL", func(t *testing.T) {
		c := s.h.Client()
		loc := oauthtest.Follow(t, s.start(t, c, "/sign-in/social", body))
		q := loc.Query()
		q.Del("code")
		q.Set("error", "access_denied")
		loc.RawQuery = q.Encode()
		r := c.Get(s.toApp(t, loc))
		if redirectError(t, r) != "access_denied" || !strings.HasPrefix(r.Header.Get("Location"), authcoretest.BaseURL+"/oops?") {
			t.Fatal(r.Header.Get("Location"))
		}
	})
	t.Run("no code", func(t *testing.T) {
		c := s.h.Client()
		loc := oauthtest.Follow(t, s.start(t, c, "/sign-in/social", body))
		q := loc.Query()
		q.Del("code")
		loc.RawQuery = q.Encode()
		if r := c.Get(s.toApp(t, loc)); redirectError(t, r) != "no_code" {
			t.Fatal(r.Header.Get("Location"))
		}
	})
	t.Run("wrong code", func(t *testing.T) {
		c := s.h.Client()
		loc := oauthtest.Follow(t, s.start(t, c, "/sign-in/social", body))
		q := loc.Query()
		q.Set("code", "forged")
		loc.RawQuery = q.Encode()
		if r := c.Get(s.toApp(t, loc)); redirectError(t, r) != "invalid_code" {
			t.Fatal(r.Header.Get("Location"))
		}
	})
}

// SSO-01 / Better Auth #9578: no implicit linking unless both sides verified the address.
func TestSocialAccountLinkingRules(t *testing.T) {
	for name, tc := range map[string]struct {
		idpVerified   any
		localVerified bool
		trustEmail    bool
		want          string
	}{
		"unverified IdP email, verified local":  {false, true, false, "account_not_linked"},
		"IdP says \"false\" as a string":        {"false", true, false, "account_not_linked"},
		"IdP says \"true\" as a string":         {"true", true, false, "account_not_linked"},
		"verified IdP email, unverified local":  {true, false, false, "account_not_linked"},
		"trusted provider, unverified local":    {false, false, true, "account_not_linked"},
		"verified on both sides links":          {true, true, false, ""},
		"trusted provider, verified local link": {false, true, true, ""},
	} {
		t.Run(name, func(t *testing.T) {
			s := newSocial(t, func(c *oauth.Config) { c.TrustEmail = tc.trustEmail }, nil)
			uid := verifiedUser(t, s.h, "alice@example.com", tc.localVerified)
			s.idp.SetUser(oauthtest.User{Subject: "alice-idp", Email: "alice@example.com", EmailVerified: tc.idpVerified, Name: "A"})
			c := s.h.Client()
			r := s.flow(t, c, map[string]any{"provider": "corp", "callbackURL": "/dashboard"})
			if got := redirectError(t, r); got != tc.want {
				t.Fatalf("error %q, want %q", got, tc.want)
			}
			accts := accounts(t, s.h, "corp")
			if tc.want != "" {
				noSession(t, s.h, c, r)
				if len(accts) != 0 {
					t.Fatalf("account linked: %v", accts)
				}
				return
			}
			if len(accts) != 1 || accts[0].String("userId") != uid || sessionEmail(t, c) != "alice@example.com" {
				t.Fatalf("not linked to the local user: %v", accts)
			}
		})
	}
}

func TestSocialDisableImplicitLinkingAndSignUp(t *testing.T) {
	s := newSocial(t, nil, nil, authcoretest.WithConfig(func(c *authcore.Config) { c.Social.DisableImplicitLinking = true }))
	verifiedUser(t, s.h, "idp@example.com", true)
	c := s.h.Client()
	if r := s.flow(t, c, map[string]any{"provider": "corp"}); redirectError(t, r) != "account_not_linked" {
		t.Fatal(r.Header.Get("Location"))
	}

	s = newSocial(t, func(c *oauth.Config) { c.DisableSignUp = true }, nil)
	c = s.h.Client()
	r := s.flow(t, c, map[string]any{"provider": "corp"})
	if redirectError(t, r) != "signup_disabled" {
		t.Fatal(r.Header.Get("Location"))
	}
	noSession(t, s.h, c, r)

	s = newSocial(t, func(c *oauth.Config) { c.DisableImplicitSignUp = true }, nil)
	c = s.h.Client()
	if r := s.flow(t, c, map[string]any{"provider": "corp"}); redirectError(t, r) != "signup_disabled" {
		t.Fatal(r.Header.Get("Location"))
	}
	if r := s.flow(t, c, map[string]any{"provider": "corp", "requestSignUp": true}); redirectError(t, r) != "" || sessionEmail(t, c) != "idp@example.com" {
		t.Fatalf("requestSignUp: %s", r.Header.Get("Location"))
	}
}

// Two providers asserting the same sub are two different identities.
func TestSocialSameSubTwoProviders(t *testing.T) {
	other := oauthtest.New(t)
	p2 := provider(t, oauth.Config{ID: "corp2", Preset: "oidc", Issuer: other.Issuer(), ClientID: other.ClientID, ClientSecret: other.ClientSecret})
	s := newSocial(t, nil, []oauth.Provider{p2})
	s.idp.SetUser(oauthtest.User{Subject: "same", Email: "one@example.com", EmailVerified: true})
	other.SetUser(oauthtest.User{Subject: "same", Email: "two@example.com", EmailVerified: true})
	c1, c2 := s.h.Client(), s.h.Client()
	if r := s.flow(t, c1, map[string]any{"provider": "corp"}); redirectError(t, r) != "" {
		t.Fatal(r.Header.Get("Location"))
	}
	if r := s.flow(t, c2, map[string]any{"provider": "corp2"}); redirectError(t, r) != "" {
		t.Fatal(r.Header.Get("Location"))
	}
	a1, a2 := accounts(t, s.h, "corp"), accounts(t, s.h, "corp2")
	if len(a1) != 1 || len(a2) != 1 || a1[0].String("userId") == a2[0].String("userId") {
		t.Fatalf("accounts %v %v", a1, a2)
	}
	if sessionEmail(t, c1) != "one@example.com" || sessionEmail(t, c2) != "two@example.com" {
		t.Fatal("sessions of the wrong users")
	}
	// A second provider must also not reach the first one's account with a state issued
	// for another provider.
	loc := oauthtest.Follow(t, s.start(t, c1, "/sign-in/social", map[string]any{"provider": "corp"}))
	if r := c1.Get(strings.Replace(s.toApp(t, loc), "/callback/corp?", "/callback/corp2?", 1)); redirectError(t, r) != "oauth_provider_not_found" {
		t.Fatal(r.Header.Get("Location"))
	}
}

// RDR-01: redirect parameters of /sign-in/social are checked before anything is stored.
func TestSocialSignInRedirectCorpus(t *testing.T) {
	s := newSocial(t, nil, nil, authcoretest.WithConfig(func(c *authcore.Config) {
		c.TrustedOrigins = []string{"https://app.test", "https://*.tenant.test", "http://localhost:8080", "myapp://", "exp://192.168.1.5:8081/--"}
	}))
	c := s.h.Client()
	payloads := readRedirectCorpus(t)
	if len(payloads) < 150 {
		t.Fatalf("corpus has %d payloads", len(payloads))
	}
	codes := map[string]string{"callbackURL": "INVALID_CALLBACK_URL", "newUserCallbackURL": "INVALID_NEW_USER_CALLBACK_URL", "errorCallbackURL": "INVALID_ERROR_CALLBACK_URL"}
	for _, p := range payloads {
		for field, code := range codes {
			r := c.Post("/sign-in/social", map[string]any{"provider": "corp", field: p})
			if r.StatusCode == 200 || r.Code() != code {
				t.Fatalf("%s=%q: %d %s", field, p, r.StatusCode, r.Body)
			}
		}
	}
	if r := c.Post("/sign-in/social", map[string]any{"provider": "corp", "callbackURL": "//evil.example"}); r.StatusCode != 403 || r.Code() != "INVALID_CALLBACK_URL" {
		t.Fatalf("%d %s", r.StatusCode, r.Body)
	}
	if n, _ := s.h.Engine.Store().Count(context.Background(), authcore.ModelVerification, storage.Where{}); n != 0 {
		t.Fatalf("%d states stored for refused requests", n)
	}
}

func readRedirectCorpus(t *testing.T) []string {
	f, err := os.Open("origin/testdata/open_redirect.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "" || line[0] == '#':
		case line[0] == '"':
			s, err := strconv.Unquote(line)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		default:
			out = append(out, line)
		}
	}
	return out
}

// D11: a social sign-in of a user with two-factor on stops at the second factor, and the
// two-factor page gets the flow's callbackURL; trust_idp_mfa skips the step.
func TestSocialTwoFactor(t *testing.T) {
	for _, trust := range []bool{false, true} {
		s := newSocial(t, func(c *oauth.Config) { c.TrustIDPMFA = trust }, nil,
			authcoretest.WithPlugins(&twofactor.Plugin{TwoFactorPage: "/2fa"}))
		uid := verifiedUser(t, s.h, "idp@example.com", true)
		if _, err := s.h.Engine.UpdateUser(context.Background(), uid, storage.Record{twofactor.FieldTwoFactorEnabled: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.h.Engine.Store().DeleteMany(context.Background(), authcore.ModelSession, storage.Where{}); err != nil {
			t.Fatal(err)
		}
		c := s.h.Client()
		r := s.flow(t, c, map[string]any{"provider": "corp", "callbackURL": "/dashboard"})
		if trust {
			if r.Header.Get("Location") != authcoretest.BaseURL+"/dashboard" || sessionEmail(t, c) != "idp@example.com" {
				t.Fatalf("trust_idp_mfa: %s", r.Header.Get("Location"))
			}
			continue
		}
		if r.StatusCode != 302 || r.Header.Get("Location") != authcoretest.BaseURL+"/2fa?callbackURL=%2Fdashboard" {
			t.Fatalf("two-factor redirect: %d %s", r.StatusCode, r.Header.Get("Location"))
		}
		if _, ok := r.SetCookie("better-auth.two_factor"); !ok {
			t.Fatal("no two_factor cookie")
		}
		noSession(t, s.h, c, r)
	}
}

func TestSocialIDTokenSignIn(t *testing.T) {
	gh := provider(t, oauth.Config{ID: "github", ClientID: "c", ClientSecret: "s"})
	s := newSocial(t, nil, []oauth.Provider{gh})
	c := s.h.Client()
	tok := s.idp.IDToken(oauthtest.User{Subject: "tok-sub", Email: "tok@example.com", EmailVerified: true, Name: "Tok"}, "n0")
	r := c.Post("/sign-in/social", map[string]any{"provider": "corp", "idToken": map[string]any{"token": tok, "nonce": "n0", "accessToken": "at-1"}})
	if r.StatusCode != 200 || r.Object()["redirect"] != false || r.Object()["token"] == "" || sessionEmail(t, c) != "tok@example.com" {
		t.Fatalf("%d %s", r.StatusCode, r.Body)
	}
	if a := accounts(t, s.h, "corp"); len(a) != 1 || a[0].String("accountId") != "tok-sub" {
		t.Fatalf("%v", a)
	}
	for name, body := range map[string]map[string]any{
		"wrong nonce": {"provider": "corp", "idToken": map[string]any{"token": tok, "nonce": "other"}},
		"garbage":     {"provider": "corp", "idToken": map[string]any{"token": "x.y.z"}},
	} {
		if r := s.h.Client().Post("/sign-in/social", body); r.StatusCode != 401 || r.Code() != "INVALID_TOKEN" {
			t.Errorf("%s: %d %s", name, r.StatusCode, r.Body)
		}
	}
	s.idp.Configure(func(p *oauthtest.IdP) { p.SignNone = true })
	none := s.idp.IDToken(oauthtest.User{Subject: "tok-sub", Email: "tok@example.com", EmailVerified: true}, "")
	if r := s.h.Client().Post("/sign-in/social", map[string]any{"provider": "corp", "idToken": map[string]any{"token": none}}); r.StatusCode != 401 || r.Code() != "INVALID_TOKEN" {
		t.Errorf("alg none: %d %s", r.StatusCode, r.Body)
	}
	if r := s.h.Client().Post("/sign-in/social", map[string]any{"provider": "github", "idToken": map[string]any{"token": tok}}); r.StatusCode != 404 || r.Code() != "ID_TOKEN_NOT_SUPPORTED" {
		t.Errorf("github id token: %d %s", r.StatusCode, r.Body)
	}
	if r := s.h.Client().Post("/sign-in/social", map[string]any{"provider": "nope"}); r.StatusCode != 404 || r.Code() != "PROVIDER_NOT_FOUND" {
		t.Errorf("unknown provider: %d %s", r.StatusCode, r.Body)
	}
	// An unverified email matching a verified local user: 401 OAUTH_LINK_ERROR, no session.
	verifiedUser(t, s.h, "victim@example.com", true)
	s.idp.Configure(func(p *oauthtest.IdP) { p.SignNone = false })
	bad := s.idp.IDToken(oauthtest.User{Subject: "x", Email: "victim@example.com", EmailVerified: false}, "")
	c3 := s.h.Client()
	if r := c3.Post("/sign-in/social", map[string]any{"provider": "corp", "idToken": map[string]any{"token": bad}}); r.StatusCode != 401 || r.Code() != "OAUTH_LINK_ERROR" {
		t.Errorf("unverified link: %d %s", r.StatusCode, r.Body)
	}
	if string(c3.Get("/get-session").Body) != "null" {
		t.Error("session after a refused ID token")
	}
}

func TestSocialLinkAccount(t *testing.T) {
	s := newSocial(t, nil, nil)
	c, body := s.h.SignUp("Idp", "idp@example.com", "correct horse battery")
	uid := body["user"].(map[string]any)["id"].(string)
	if r := s.h.Client().Post("/link-social", map[string]any{"provider": "corp"}); r.StatusCode != 401 {
		t.Fatalf("link without a session: %d", r.StatusCode)
	}
	// The IdP does not vouch for the email: refused.
	s.idp.SetUser(oauthtest.User{Subject: "link-sub", Email: "idp@example.com", EmailVerified: false})
	r := s.flowAt(t, c, "/link-social", map[string]any{"provider": "corp", "callbackURL": "/settings"})
	if redirectError(t, r) != "unable_to_link_account" || len(accounts(t, s.h, "corp")) != 0 {
		t.Fatal(r.Header.Get("Location"))
	}
	// Another address: refused.
	s.idp.SetUser(oauthtest.User{Subject: "link-sub", Email: "else@example.com", EmailVerified: true})
	if r := s.flowAt(t, c, "/link-social", map[string]any{"provider": "corp"}); redirectError(t, r) != "email_does_not_match" {
		t.Fatal(r.Header.Get("Location"))
	}
	s.idp.SetUser(oauthtest.User{Subject: "link-sub", Email: "idp@example.com", EmailVerified: true})
	r = s.flowAt(t, c, "/link-social", map[string]any{"provider": "corp", "callbackURL": "/settings"})
	if r.StatusCode != 302 || r.Header.Get("Location") != authcoretest.BaseURL+"/settings" {
		t.Fatalf("link: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	if a := accounts(t, s.h, "corp"); len(a) != 1 || a[0].String("userId") != uid {
		t.Fatalf("%v", a)
	}
	// The linked identity now signs in as that user.
	c2 := s.h.Client()
	if r := s.flow(t, c2, map[string]any{"provider": "corp"}); redirectError(t, r) != "" || sessionEmail(t, c2) != "idp@example.com" {
		t.Fatal(r.Header.Get("Location"))
	}
	// Another user cannot link the same identity.
	c3, _ := s.h.SignUp("Other", "other@example.com", "correct horse battery")
	s.idp.SetUser(oauthtest.User{Subject: "link-sub", Email: "other@example.com", EmailVerified: true})
	if r := s.flowAt(t, c3, "/link-social", map[string]any{"provider": "corp"}); redirectError(t, r) != "account_already_linked_to_different_user" {
		t.Fatal(r.Header.Get("Location"))
	}
}

func TestSocialAccessTokenRefresh(t *testing.T) {
	s := newSocial(t, nil, nil)
	c := s.h.Client()
	if r := s.flow(t, c, map[string]any{"provider": "corp"}); redirectError(t, r) != "" {
		t.Fatal(r.Header.Get("Location"))
	}
	r := c.Post("/get-access-token", map[string]any{"providerId": "corp"})
	if r.Object()["accessToken"] != "access-sub-1" || s.idp.RefreshCount() != 0 {
		t.Fatalf("fresh token: %s", r.Body)
	}
	// The engine clock passes the IdP's expires_in: the token is refreshed with the
	// refresh grant and the new tokens are stored.
	s.h.Clock.Advance(2 * time.Hour)
	r = c.Post("/get-access-token", map[string]any{"providerId": "corp"})
	if r.StatusCode != 200 || r.Object()["accessToken"] != "refreshed-1" || s.idp.RefreshCount() != 1 {
		t.Fatalf("after expiry: %d %s (refreshes %d)", r.StatusCode, r.Body, s.idp.RefreshCount())
	}
	if a := accounts(t, s.h, "corp"); s.h.Engine.DecryptToken(a[0].String("refreshToken")) != "refresh2-1" {
		t.Fatal("new refresh token not stored")
	}
	r = c.Post("/refresh-token", map[string]any{"providerId": "corp"})
	if r.StatusCode != 200 || r.Object()["accessToken"] != "refreshed-2" || r.Object()["providerId"] != "corp" || r.Object()["accountId"] != "sub-1" {
		t.Fatalf("refresh-token: %d %s", r.StatusCode, r.Body)
	}
	info := c.Get("/account-info?providerId=corp")
	if info.StatusCode != 200 || !strings.Contains(string(info.Body), `"id":"sub-1"`) || !strings.Contains(string(info.Body), `"email":"idp@example.com"`) {
		t.Fatalf("account-info: %d %s", info.StatusCode, info.Body)
	}
	if r := c.Post("/get-access-token", map[string]any{"providerId": "nope"}); r.StatusCode != 400 || r.Code() != "ACCOUNT_NOT_FOUND" {
		t.Fatalf("%d %s", r.StatusCode, r.Body)
	}
	if r := s.h.Client().Post("/get-access-token", map[string]any{"providerId": "corp"}); r.StatusCode != 401 {
		t.Fatalf("without a session: %d", r.StatusCode)
	}
}

// Apple's form_post callback arrives as a cross-site POST; it is re-issued as a GET.
func TestSocialCallbackPostReissuedAsGet(t *testing.T) {
	s := newSocial(t, nil, nil)
	c := s.h.Client()
	r := c.Do("POST", "/callback/corp", "code=abc&state=xyz&user=%7B%7D", "Content-Type", "application/x-www-form-urlencoded",
		"Origin", "https://appleid.apple.com", "Cookie", "other=1")
	if r.StatusCode != 302 {
		t.Fatalf("%d %s", r.StatusCode, r.Body)
	}
	u, _ := url.Parse(r.Header.Get("Location"))
	if u.Path != "/api/auth/callback/corp" || u.Query().Get("code") != "abc" || u.Query().Get("state") != "xyz" || u.Query().Get("user") != "{}" {
		t.Fatalf("re-issued as %s", u)
	}
	noSession(t, s.h, c, r)
}

// GitHub and Discord presets against loopback fakes of their APIs, through the full flow.
func TestSocialGitHubAndDiscord(t *testing.T) {
	var lastState, lastRedirect string
	mux := http.NewServeMux()
	authorize := func(w http.ResponseWriter, r *http.Request) {
		lastState, lastRedirect = r.URL.Query().Get("state"), r.URL.Query().Get("redirect_uri")
		http.Redirect(w, r, lastRedirect+"?code=the-code&state="+url.QueryEscape(lastState), 302)
	}
	token := func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		if r.PostForm.Get("code") != "the-code" || r.PostForm.Get("code_verifier") == "" {
			_, _ = w.Write([]byte(`{"error":"bad_verification_code"}`))
			return
		}
		_, _ = w.Write([]byte(`{"access_token":"tok","token_type":"bearer","scope":"read:user,user:email"}`))
	}
	mux.HandleFunc("GET /login/oauth/authorize", authorize)
	mux.HandleFunc("POST /login/oauth/access_token", token)
	mux.HandleFunc("GET /user", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"id":583231,"login":"octocat","name":"The Octocat","email":null,"avatar_url":"https://a/o.png"}`))
	})
	mux.HandleFunc("GET /user/emails", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`[{"email":"octo@x.com","primary":true,"verified":true}]`))
	})
	mux.HandleFunc("GET /api/oauth2/authorize", authorize)
	mux.HandleFunc("POST /api/oauth2/token", token)
	mux.HandleFunc("GET /api/users/@me", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"id":"80351110224678912","username":"nelly","global_name":null,"avatar":null,"email":"nelly@x.com","verified":true}`))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	gh := provider(t, oauth.Config{ID: "github", ClientID: "c", ClientSecret: "s", AuthURL: srv.URL + "/login/oauth/authorize",
		TokenURL: srv.URL + "/login/oauth/access_token", UserInfoURL: srv.URL + "/user"})
	dc := provider(t, oauth.Config{ID: "discord", ClientID: "c", ClientSecret: "s", AuthURL: srv.URL + "/api/oauth2/authorize",
		TokenURL: srv.URL + "/api/oauth2/token", UserInfoURL: srv.URL + "/api/users/@me"})
	s := newSocial(t, nil, []oauth.Provider{gh, dc})
	for _, tc := range []struct{ id, sub, email, name string }{
		{"github", "583231", "octo@x.com", "The Octocat"}, {"discord", "80351110224678912", "nelly@x.com", "nelly"},
	} {
		c := s.h.Client()
		if r := s.flow(t, c, map[string]any{"provider": tc.id, "callbackURL": "/"}); redirectError(t, r) != "" || sessionEmail(t, c) != tc.email {
			t.Fatalf("%s: %s", tc.id, r.Header.Get("Location"))
		}
		a := accounts(t, s.h, tc.id)
		if len(a) != 1 || a[0].String("accountId") != tc.sub {
			t.Fatalf("%s accounts %v", tc.id, a)
		}
		u, _ := s.h.Engine.UserByEmail(context.Background(), tc.email)
		if u.String("name") != tc.name || !u.Bool("emailVerified") {
			t.Fatalf("%s user %v", tc.id, u)
		}
		info := c.Get("/account-info?providerId=" + tc.id)
		if info.StatusCode != 200 || !strings.Contains(string(info.Body), `"id":"`+tc.sub+`"`) {
			t.Fatalf("%s account-info: %d %s", tc.id, info.StatusCode, info.Body)
		}
	}
}

func TestSocialConfigRefusesDuplicateProviders(t *testing.T) {
	p := provider(t, oauth.Config{ID: "github", ClientID: "c", ClientSecret: "s"})
	_, err := authcore.New(authcore.Config{BaseURL: authcoretest.BaseURL, Secret: authcoretest.Secret,
		Social: authcore.SocialConfig{Providers: []oauth.Provider{p, p}}})
	if err == nil || !strings.Contains(err.Error(), `"github" is configured twice`) {
		t.Fatalf("%v", err)
	}
}

// A state is redeemed once even by 20 concurrent callbacks carrying it.
func TestSocialStateSingleUseConcurrent(t *testing.T) {
	s := newSocial(t, nil, nil)
	c := s.h.Client()
	loc := oauthtest.Follow(t, s.start(t, c, "/sign-in/social", map[string]any{"provider": "corp"}))
	cookie := "better-auth.state=" + c.CookieValue("better-auth.state")
	target := s.toApp(t, loc)
	results := make(chan string, 20)
	done := make(chan struct{})
	for range 20 {
		go func() {
			<-done
			r := s.h.Client().Get(target, "Cookie", cookie)
			u, _ := url.Parse(r.Header.Get("Location"))
			results <- u.Query().Get("error")
		}()
	}
	close(done)
	ok, restart := 0, 0
	for range 20 {
		switch <-results {
		case "":
			ok++
		case "please_restart_the_process":
			restart++
		}
	}
	if ok != 1 || restart != 19 {
		t.Fatalf("%d successes, %d refused as spent", ok, restart)
	}
	if n, _ := s.h.Engine.Store().Count(context.Background(), authcore.ModelSession, storage.Where{}); n != 1 {
		t.Fatalf("%d sessions", n)
	}
}

// Hostile bodies are 4xx envelopes, never 500.
func TestSocialHostileInput(t *testing.T) {
	s := newSocial(t, nil, nil)
	c := s.h.Client()
	for _, body := range []string{
		`{"provider":7}`, `{"provider":"corp","idToken":"not-an-object"}`, `{"provider":"corp","idToken":{"token":5}}`,
		`{"provider":"corp","callbackURL":["/x"]}`, `{"provider":"` + strings.Repeat("a", 100000) + `"}`, `{"provider":"corp","disableRedirect":"yes"}`,
		`[]`, `{"provider":"corp","idToken":{}}`,
	} {
		r := c.Post("/sign-in/social", body)
		if r.StatusCode < 400 || r.StatusCode >= 500 || r.Code() == "" {
			t.Errorf("%.60s: %d %s", body, r.StatusCode, r.Body)
		}
	}
	for _, q := range []string{"?state=" + strings.Repeat("x", 5000) + "&code=c", "?state=%20x&code=%C3%A9", "?error=" + url.QueryEscape("<script>")} {
		r := c.Get("/callback/corp" + q)
		if r.StatusCode != 302 || redirectError(t, r) == "" {
			t.Errorf("%.40s: %d %s", q, r.StatusCode, r.Header.Get("Location"))
		}
	}
	if r := c.Get("/callback/nope?state=x"); r.StatusCode != 302 {
		t.Errorf("unknown provider callback: %d", r.StatusCode)
	}
}

// An ID token without the email: the address comes from userinfo, for the same sub only.
func TestSocialEmailFromUserinfo(t *testing.T) {
	s := newSocial(t, nil, nil)
	s.idp.Configure(func(p *oauthtest.IdP) {
		p.Tamper = func(c map[string]any) { delete(c, "email"); delete(c, "email_verified") }
	})
	c := s.h.Client()
	if r := s.flow(t, c, map[string]any{"provider": "corp"}); redirectError(t, r) != "" || sessionEmail(t, c) != "idp@example.com" {
		t.Fatal(r.Header.Get("Location"))
	}
	// userinfo speaking for another sub is ignored.
	s2 := newSocial(t, nil, nil)
	s2.idp.Configure(func(p *oauthtest.IdP) {
		p.Tamper = func(c map[string]any) { delete(c, "email"); c["sub"] = "other-sub" }
	})
	c2 := s2.h.Client()
	if r := s2.flow(t, c2, map[string]any{"provider": "corp"}); redirectError(t, r) != "email_not_found" {
		t.Fatal(r.Header.Get("Location"))
	}
}

// banGate refuses every sign-in, as the admin plugin's ban does.
type banGate struct{}

func (banGate) ID() string { return "test-ban" }
func (banGate) Register(r *authcore.Registrar) error {
	r.SessionGate(func(*authcore.Call, storage.Record, authcore.SignInOptions) error {
		return authcore.ErrorCode{Code: "BANNED_USER", Message: "You have been banned from this application"}.With(403)
	})
	return nil
}

// A session gate's refusal ends a redirect flow at the error callback, with no session.
func TestSocialGateRefusalRedirects(t *testing.T) {
	s := newSocial(t, nil, nil, authcoretest.WithPlugins(banGate{}))
	c := s.h.Client()
	r := s.flow(t, c, map[string]any{"provider": "corp", "errorCallbackURL": "/oops"})
	if redirectError(t, r) != "BANNED_USER" || !strings.HasPrefix(r.Header.Get("Location"), authcoretest.BaseURL+"/oops?") {
		t.Fatal(r.Header.Get("Location"))
	}
	noSession(t, s.h, c, r)
}
