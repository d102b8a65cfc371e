package sso

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/authcore/oauth/oauthtest"
	"github.com/gatehouse-auth/gatehouse/plugins/organization"
	"github.com/gatehouse-auth/gatehouse/plugins/twofactor"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// oidcEnv: an organization "company" whose admin (alice) registered the OIDC provider
// "corp" (a real IdP on loopback) for company.com and proved the domain by DNS.
type oidcEnv struct {
	*env
	oidc  *oauthtest.IdP
	orgID string
}

func newOIDCEnv(t *testing.T, p *Plugin, extra ...authcore.Plugin) *oidcEnv {
	t.Helper()
	e := newEnvExtra(t, p, &organization.Plugin{}, extra...)
	e.p.HTTPClient = http.DefaultClient
	o := &oidcEnv{env: e, oidc: oauthtest.New(t)}
	o.orgID = e.createOrg(e.alice, "company")
	e.mustRegister(e.alice, map[string]any{"providerId": "corp", "issuer": o.oidc.Issuer(), "domain": "company.com",
		"organizationId": o.orgID, "oidcConfig": map[string]any{"clientId": o.oidc.ClientID, "clientSecret": o.oidc.ClientSecret}})
	e.verifyDNS(e.alice, "corp", "company.com")
	return o
}

// start posts /sign-in/sso and returns the authorization URL.
func (e *env) startSSO(c *authcoretest.Client, body map[string]any) string {
	e.t.Helper()
	r := c.Post("/sign-in/sso", body)
	if r.StatusCode != http.StatusOK {
		e.t.Fatalf("/sign-in/sso: %d %s", r.StatusCode, r.Body)
	}
	u, _ := r.Object()["url"].(string)
	if u == "" || r.Object()["redirect"] != true || r.Header.Get("Location") != "" {
		e.t.Fatalf("/sign-in/sso answer %s (Location %q)", r.Body, r.Header.Get("Location"))
	}
	return u
}

// toApp turns a redirect to the configured base URL into a URL of the test server.
func (e *env) toApp(loc *url.URL) string {
	e.t.Helper()
	if got := loc.Scheme + "://" + loc.Host; got != authcoretest.BaseURL {
		e.t.Fatalf("redirect to %s, not to the app", loc)
	}
	return e.h.Server.URL + loc.RequestURI()
}

func (o *oidcEnv) flow(c *authcoretest.Client, body map[string]any) *authcoretest.Response {
	o.t.Helper()
	return c.Get(o.toApp(oauthtest.Follow(o.t, o.startSSO(c, body))))
}

func location(t *testing.T, r *authcoretest.Response) string {
	t.Helper()
	if r.StatusCode != http.StatusFound {
		t.Fatalf("want 302, got %d %s", r.StatusCode, r.Body)
	}
	return r.Header.Get("Location")
}

func redirectErr(t *testing.T, r *authcoretest.Response) string {
	t.Helper()
	u, err := url.Parse(location(t, r))
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("error")
}

func sessionUser(c *authcoretest.Client) map[string]any {
	u, _ := c.Get("/get-session").Object()["user"].(map[string]any)
	return u
}

func (e *env) sessions() int {
	e.t.Helper()
	n, err := e.h.Engine.Store().Count(e.ctx(), authcore.ModelSession, storage.Where{})
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// The scenario: an org admin registers an OIDC provider and verifies the domain;
// alice@company.com signs in through /sign-in/sso {email} → IdP → callback and gets a
// session, a user, an account keyed (corp, sub) and membership with the default role.
// Signing in again is the same user, still one membership.
func TestSSOSignInOIDC(t *testing.T) {
	o := newOIDCEnv(t, nil)
	o.oidc.SetUser(oauthtest.User{Subject: "sub-alice", Email: "alice@company.com", EmailVerified: true, Name: "Alice Company"})
	c := o.h.Client()
	u := o.startSSO(c, map[string]any{"email": "alice@company.com", "callbackURL": "/dashboard", "newUserCallbackURL": "/welcome"})
	au, _ := url.Parse(u)
	if q := au.Query(); q.Get("redirect_uri") != authcoretest.BaseURL+"/api/auth/sso/callback/corp" || q.Get("login_hint") != "alice@company.com" ||
		q.Get("code_challenge") == "" || q.Get("nonce") == "" {
		t.Fatalf("authorization URL %s", u)
	}
	r := c.Get(o.toApp(oauthtest.Follow(t, u)))
	if loc := location(t, r); loc != authcoretest.BaseURL+"/welcome" {
		t.Fatalf("new user lands on %s", loc)
	}
	su := sessionUser(c)
	if su["email"] != "alice@company.com" || su["name"] != "Alice Company" {
		t.Fatalf("session user %v", su)
	}
	uid, _ := su["id"].(string)
	m := o.membership(o.orgID, uid)
	if m == nil || m.String("role") != "member" {
		t.Fatalf("membership %v", m)
	}
	accts, _ := o.h.Engine.Store().FindMany(o.ctx(), authcore.ModelAccount, storage.Query{Where: storage.Eq("providerId", "corp")})
	if len(accts) != 1 || accts[0].String("accountId") != "sub-alice" || accts[0].String("userId") != uid {
		t.Fatalf("accounts %v", accts)
	}
	// Again, by providerId and by organization slug: the same user, one membership.
	for _, body := range []map[string]any{{"providerId": "corp", "callbackURL": "/dashboard"}, {"organizationSlug": "company", "callbackURL": "/dashboard"}, {"domain": "company.com", "callbackURL": "/dashboard"}} {
		c2 := o.h.Client()
		if loc := location(t, o.flow(c2, body)); loc != authcoretest.BaseURL+"/dashboard" {
			t.Fatalf("returning user lands on %s", loc)
		}
		if sessionUser(c2)["id"] != uid {
			t.Fatal("another user")
		}
	}
	if n, _ := o.h.Engine.Store().Count(o.ctx(), organization.ModelMember, storage.Eq("userId", uid)); n != 1 {
		t.Fatalf("%d memberships", n)
	}
	// The shared callback takes the provider from the state.
	c3 := o.h.Client()
	loc := oauthtest.Follow(t, o.startSSO(c3, map[string]any{"providerId": "corp", "callbackURL": "/dashboard"}))
	shared := o.h.Server.URL + "/api/auth/sso/callback?" + loc.RawQuery
	if l := location(t, c3.Get(shared)); l != authcoretest.BaseURL+"/dashboard" || sessionUser(c3)["id"] != uid {
		t.Fatalf("shared callback: %s", l)
	}
}

// Routing: unknown targets, unverified domains (Better Auth's answers), provider types.
func TestSSOSignInRouting(t *testing.T) {
	o := newOIDCEnv(t, nil)
	// An unverified provider of another domain.
	o.mustRegister(o.bob, map[string]any{"providerId": "shady", "issuer": o.oidc.Issuer(), "domain": "other.com",
		"oidcConfig": map[string]any{"clientId": o.oidc.ClientID, "clientSecret": o.oidc.ClientSecret}})
	c := o.h.Client()
	cases := []struct {
		body   map[string]any
		status int
		msg    string
	}{
		{map[string]any{"callbackURL": "/"}, 400, msgSignInNeedsTarget},
		{map[string]any{"email": "x@nowhere.com", "callbackURL": "/"}, 404, msgNoProviderFound},
		{map[string]any{"email": "x@other.com", "callbackURL": "/"}, 401, msgDomainNotVerified},
		{map[string]any{"providerId": "shady", "callbackURL": "/"}, 401, msgDomainNotVerified},
		{map[string]any{"providerId": "nope", "callbackURL": "/"}, 404, msgNoProviderFound},
		{map[string]any{"organizationSlug": "nope", "callbackURL": "/"}, 404, msgNoProviderFound},
		{map[string]any{"providerId": "corp", "providerType": "saml", "callbackURL": "/"}, 400, msgSAMLNotConfigured},
		{map[string]any{"email": "x@company.com", "callbackURL": "https://evil.example/"}, 403, ""},
	}
	for _, k := range cases {
		r := c.Post("/sign-in/sso", k.body)
		expect(t, r, k.status, "*", k.msg)
	}
	if n, _ := o.h.Engine.Store().Count(o.ctx(), authcore.ModelVerification, storage.Eq("identifier", "x")); n != 0 {
		t.Fatal("unexpected")
	}
}

// A callback delivered to another browser (login CSRF) is refused and creates nothing; a
// replayed callback is refused; a state started for provider A cannot finish at B's route.
func TestSSOCallbackState(t *testing.T) {
	o := newOIDCEnv(t, nil)
	o.oidc.SetUser(oauthtest.User{Subject: "sub-x", Email: "x@company.com", EmailVerified: true})
	victim, attacker := o.h.Client(), o.h.Client()
	loc := oauthtest.Follow(t, o.startSSO(attacker, map[string]any{"providerId": "corp", "callbackURL": "/"}))
	if code := redirectErr(t, victim.Get(o.toApp(loc))); code != authcore.OAuthErrStateMismatch {
		t.Fatalf("other browser: %q", code)
	}
	if sessionUser(victim) != nil || o.sessions() != 3 { // alice, bob, carol
		t.Fatalf("a session was created (%d)", o.sessions())
	}
	// The rightful browser still finishes once; a replay fails.
	if l := location(t, attacker.Get(o.toApp(loc))); l != authcoretest.BaseURL+"/" {
		t.Fatalf("owner: %s", l)
	}
	if code := redirectErr(t, attacker.Get(o.toApp(loc))); code == "" {
		t.Fatal("replayed callback accepted")
	}
	// A state of corp presented at another provider's callback route.
	c := o.h.Client()
	loc = oauthtest.Follow(t, o.startSSO(c, map[string]any{"providerId": "corp", "callbackURL": "/"}))
	other := strings.Replace(o.toApp(loc), "/sso/callback/corp", "/sso/callback/other", 1)
	if code := redirectErr(t, c.Get(other)); code != errInvalidState {
		t.Fatalf("cross-provider state: %q", code)
	}
}

// Linking by email (SSO-01). An identity takes over an existing verified local account of
// its address only when the provider's verified domain covers the address — whatever the
// IdP says about email_verified, since anyone can register an IdP and prove a domain of
// their own; with trust_email_verified the IdP's claim counts too.
func TestSSOLinkingDomainRule(t *testing.T) {
	cases := []struct {
		name       string
		email      string
		idpSays    bool
		trustClaim bool
		link       bool
	}{
		{"in domain, IdP says unverified", "dana@company.com", false, false, true},
		{"in domain, subdomain", "dana@eu.company.com", false, false, true},
		{"outside domain, IdP says unverified", "dana@elsewhere.org", false, false, false},
		{"outside domain, IdP claims verified (takeover attempt)", "dana@elsewhere.org", true, false, false},
		{"outside domain, IdP claim trusted by option", "dana@elsewhere.org", true, true, true},
	}
	for _, k := range cases {
		t.Run(k.name, func(t *testing.T) {
			o := newOIDCEnv(t, &Plugin{TrustEmailVerified: k.trustClaim})
			_, body := o.h.SignUp("Dana", k.email, pw)
			uid := uid(body)
			if _, err := o.h.Engine.UpdateUser(o.ctx(), uid, storage.Record{"emailVerified": true}); err != nil {
				t.Fatal(err)
			}
			o.oidc.SetUser(oauthtest.User{Subject: "sub-dana", Email: k.email, EmailVerified: k.idpSays})
			c := o.h.Client()
			r := o.flow(c, map[string]any{"providerId": "corp", "callbackURL": "/"})
			if k.link {
				if l := location(t, r); l != authcoretest.BaseURL+"/" || sessionUser(c)["id"] != uid {
					t.Fatalf("not linked: %s", l)
				}
				return
			}
			if code := redirectErr(t, r); code != authcore.OAuthErrAccountNotLinked {
				t.Fatalf("want account_not_linked, got %q", code)
			}
			if sessionUser(c) != nil {
				t.Fatal("session for an unlinked identity")
			}
			if n, _ := o.h.Engine.Store().Count(o.ctx(), authcore.ModelAccount, storage.Eq("providerId", "corp")); n != 0 {
				t.Fatal("account linked")
			}
		})
	}
	// A new user outside the provider's domain is created with an unverified email even
	// when the IdP claims it verified; inside the domain it is verified.
	o := newOIDCEnv(t, nil)
	for email, want := range map[string]bool{"new@elsewhere.org": false, "new@company.com": true} {
		o.oidc.SetUser(oauthtest.User{Subject: "sub-" + email, Email: email, EmailVerified: true})
		c := o.h.Client()
		if l := location(t, o.flow(c, map[string]any{"providerId": "corp", "callbackURL": "/"})); l != authcoretest.BaseURL+"/" {
			t.Fatalf("%s: %s", email, l)
		}
		if got := sessionUser(c)["emailVerified"]; got != want {
			t.Fatalf("%s: emailVerified %v, want %v", email, got, want)
		}
	}
}

// D11: an SSO sign-in of a user with two-factor stops at the second factor; trust_idp_mfa
// skips it.
func TestSSOTwoFactor(t *testing.T) {
	for _, trust := range []bool{false, true} {
		o := newOIDCEnv(t, &Plugin{TrustIdPMFA: trust}, &twofactor.Plugin{TwoFactorPage: "/2fa"})
		_, body := o.h.SignUp("Erin", "erin@company.com", pw)
		uid := uid(body)
		if _, err := o.h.Engine.UpdateUser(context.Background(), uid, storage.Record{"emailVerified": true, twofactor.FieldTwoFactorEnabled: true}); err != nil {
			t.Fatal(err)
		}
		o.oidc.SetUser(oauthtest.User{Subject: "sub-erin", Email: "erin@company.com", EmailVerified: true})
		before := o.sessions()
		c := o.h.Client()
		r := o.flow(c, map[string]any{"providerId": "corp", "callbackURL": "/dashboard"})
		if trust {
			if l := location(t, r); l != authcoretest.BaseURL+"/dashboard" || sessionUser(c)["id"] != uid {
				t.Fatalf("trust_idp_mfa: %s", l)
			}
			continue
		}
		if l := location(t, r); l != authcoretest.BaseURL+"/2fa?callbackURL=%2Fdashboard" {
			t.Fatalf("two-factor redirect: %s", l)
		}
		if sessionUser(c) != nil || o.sessions() != before {
			t.Fatal("a session was created before the second factor")
		}
	}
}

// Hostile input to the sign-in routes is a 4xx (or a redirect to the error page), never 500.
func TestSSOSignInHostile(t *testing.T) {
	o := newOIDCEnv(t, nil)
	c := o.h.Client()
	long := strings.Repeat("a", 5000)
	for i, b := range []any{
		map[string]any{"email": long, "callbackURL": "/"}, map[string]any{"email": 5, "callbackURL": "/"},
		map[string]any{"email": "a@" + long, "callbackURL": "/"}, map[string]any{"domain": "../..", "callbackURL": "/"},
		map[string]any{"email": "@", "callbackURL": "/"}, map[string]any{"providerId": []any{1}, "callbackURL": "/"},
		map[string]any{"providerId": "corp", "providerType": "ldap", "callbackURL": "/"}, map[string]any{"providerId": "corp"},
		map[string]any{"providerId": "corp", "callbackURL": "/", "scopes": map[string]any{"x": 1}},
		map[string]any{"organizationSlug": "\x00", "callbackURL": "/"}, "nope", []any{},
	} {
		if r := c.Post("/sign-in/sso", b); r.StatusCode < 400 || r.StatusCode >= 500 {
			t.Errorf("#%d: %d %.200s", i, r.StatusCode, r.Body)
		}
	}
	for _, q := range []string{"", "?state=x", "?state=" + long, "?code=1&state=&error=x", "?error=" + long} {
		for _, path := range []string{"/sso/callback/corp", "/sso/callback", "/sso/callback/%00", "/sso/saml2/sp/acs/corp"} {
			if r := c.Get(path + q); r.StatusCode >= 500 || (r.StatusCode != http.StatusFound && r.StatusCode < 400) {
				t.Errorf("GET %s%.40s: %d %.200s", path, q, r.StatusCode, r.Body)
			}
		}
	}
	for _, q := range []string{"", "?providerId=nope", "?providerId=corp", "?providerId=" + long} {
		if r := c.Get("/sso/saml2/sp/metadata" + q); r.StatusCode < 400 || r.StatusCode >= 500 {
			t.Errorf("metadata%.40s: %d %.200s", q, r.StatusCode, r.Body)
		}
	}
}

// The built OIDC provider is cached per provider and dropped on update: a changed client
// secret is used by the next sign-in. A returning user removed from the organization is
// provisioned again (provisioning runs on every SSO sign-in and is idempotent).
func TestSSOProviderCacheAndReprovision(t *testing.T) {
	o := newOIDCEnv(t, nil)
	o.oidc.SetUser(oauthtest.User{Subject: "sub-f", Email: "f@company.com", EmailVerified: true})
	c := o.h.Client()
	if l := location(t, o.flow(c, map[string]any{"providerId": "corp", "callbackURL": "/"})); l != authcoretest.BaseURL+"/" {
		t.Fatalf("first sign-in: %s", l)
	}
	uid, _ := sessionUser(c)["id"].(string)
	expect(t, o.alice.Post("/sso/update-provider", map[string]any{"providerId": "corp", "oidcConfig": map[string]any{"clientSecret": "wrong"}}), 200, "", "")
	if secret := o.secret(OIDC(o.provider("corp"))); secret != "wrong" {
		t.Fatalf("stored secret %q", secret)
	}
	if code := redirectErr(t, o.flow(o.h.Client(), map[string]any{"providerId": "corp", "callbackURL": "/"})); code != authcore.OAuthErrInvalidCode {
		t.Fatalf("stale cached provider used: %q", code)
	}
	expect(t, o.alice.Post("/sso/update-provider", map[string]any{"providerId": "corp", "oidcConfig": map[string]any{"clientSecret": o.oidc.ClientSecret}}), 200, "", "")
	if _, err := o.h.Engine.Store().DeleteMany(o.ctx(), organization.ModelMember, storage.Eq("userId", uid)); err != nil {
		t.Fatal(err)
	}
	c2 := o.h.Client()
	if l := location(t, o.flow(c2, map[string]any{"providerId": "corp", "callbackURL": "/"})); l != authcoretest.BaseURL+"/" || sessionUser(c2)["id"] != uid {
		t.Fatalf("sign-in after update: %s", l)
	}
	if m := o.membership(o.orgID, uid); m == nil || m.String("role") != "member" {
		t.Fatal("returning user not provisioned")
	}
}

// A form_post callback (cross-site POST) is re-issued as a GET of the same route and
// finishes there in the browser holding the state.
func TestSSOCallbackFormPost(t *testing.T) {
	o := newOIDCEnv(t, nil)
	o.oidc.SetUser(oauthtest.User{Subject: "sub-g", Email: "g@company.com", EmailVerified: true})
	c := o.h.Client()
	loc := oauthtest.Follow(t, o.startSSO(c, map[string]any{"providerId": "corp", "callbackURL": "/"}))
	form := url.Values{"code": {loc.Query().Get("code")}, "state": {loc.Query().Get("state")}}
	r := o.h.Client().Do(http.MethodPost, "/sso/callback/corp", form.Encode(), "Content-Type", "application/x-www-form-urlencoded", "Origin", o.oidc.Issuer())
	next, _ := url.Parse(location(t, r))
	if next.Path != "/api/auth/sso/callback/corp" || next.Query().Get("code") != form.Get("code") {
		t.Fatalf("form_post → %s", next)
	}
	if sessionUser(c) != nil {
		t.Fatal("the POST signed in")
	}
	if l := location(t, c.Get(o.toApp(next))); l != authcoretest.BaseURL+"/" || sessionUser(c)["email"] != "g@company.com" {
		t.Fatalf("GET after form_post: %s", l)
	}
}

// Without the organization plugin an organizationSlug finds nothing (404), never a 500.
func TestSSOSignInSlugWithoutOrganizations(t *testing.T) {
	e := newEnv(t, nil, false)
	expect(t, e.h.Client().Post("/sign-in/sso", map[string]any{"organizationSlug": "company", "callbackURL": "/"}), 404, "*", msgNoProviderFound)
}

// oidcConfig.mapping names the claims the account id, email and name come from; a mapped id
// claim that is missing fails the sign-in.
func TestSSOOIDCMapping(t *testing.T) {
	o := newOIDCEnv(t, nil)
	expect(t, o.alice.Post("/sso/update-provider", map[string]any{"providerId": "corp",
		"oidcConfig": map[string]any{"mapping": map[string]any{"id": "employee_id", "email": "work_email", "name": "display"}}}), 200, "", "")
	o.oidc.SetUser(oauthtest.User{Subject: "sub-h", Email: "personal@gmail.com", EmailVerified: true})
	o.oidc.Configure(func(p *oauthtest.IdP) {
		p.Tamper = func(c map[string]any) {
			c["employee_id"], c["work_email"], c["display"] = "E-42", "hank@company.com", "Hank"
		}
	})
	c := o.h.Client()
	if l := location(t, o.flow(c, map[string]any{"providerId": "corp", "callbackURL": "/"})); l != authcoretest.BaseURL+"/" {
		t.Fatalf("mapped sign-in: %s", l)
	}
	if su := sessionUser(c); su["email"] != "hank@company.com" || su["name"] != "Hank" {
		t.Fatalf("session user %v", su)
	}
	accts, _ := o.h.Engine.Store().FindMany(o.ctx(), authcore.ModelAccount, storage.Query{Where: storage.Eq("providerId", "corp")})
	if len(accts) != 1 || accts[0].String("accountId") != "E-42" {
		t.Fatalf("accounts %v", accts)
	}
	o.oidc.Configure(func(p *oauthtest.IdP) { p.Tamper = func(c map[string]any) { delete(c, "employee_id") } })
	if code := redirectErr(t, o.flow(o.h.Client(), map[string]any{"providerId": "corp", "callbackURL": "/"})); code != authcore.OAuthErrUserInfo {
		t.Fatalf("missing mapped id: %q", code)
	}
}
