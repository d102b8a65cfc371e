package portal_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/authcore/oauth/oauthtest"
	"github.com/gatehouse-auth/gatehouse/plugins/organization"
	"github.com/gatehouse-auth/gatehouse/plugins/sso"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// txtTable is a DNS TXT resolver answering from a table (the sso plugin's Resolver); the
// Chromium test uses a real DNS server.
type txtTable struct {
	mu  sync.Mutex
	txt map[string][]string
}

func (r *txtTable) LookupTXT(_ context.Context, name string) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.txt[strings.TrimSuffix(strings.ToLower(name), ".")], nil
}

func (r *txtTable) set(name string, recs ...string) {
	r.mu.Lock()
	r.txt[name] = recs
	r.mu.Unlock()
}

// ssoEnv is the portal with the organization and sso plugins, an admin signed in through the
// API, and an OIDC IdP on loopback.
type ssoEnv struct {
	h     *authcoretest.Harness
	idp   *oauthtest.IdP
	dns   *txtTable
	admin *authcoretest.Client
	orgID string
}

func newSSOPortal(t *testing.T) *ssoEnv {
	t.Helper()
	e := &ssoEnv{idp: oauthtest.New(t), dns: &txtTable{txt: map[string][]string{}}}
	e.h = newPortal(t, nil, authcoretest.WithPlugins(&organization.Plugin{}, &sso.Plugin{Resolver: e.dns}))
	e.admin, _ = e.h.SignUp("Admin", "admin@example.com", "correct-horse-battery-staple")
	r := e.admin.Post("/organization/create", map[string]any{"name": "Acme", "slug": "acme"})
	if r.StatusCode != http.StatusOK {
		t.Fatalf("create org: %d %s", r.StatusCode, r.Body)
	}
	e.orgID, _ = r.Object()["id"].(string)
	return e
}

// register registers the IdP for domain under providerID in the organization; verify
// publishes the TXT record and verifies the domain.
func (e *ssoEnv) register(t *testing.T, providerID, domain string, verify bool) {
	t.Helper()
	r := e.admin.Post("/sso/register", map[string]any{"providerId": providerID, "issuer": e.idp.Issuer(), "domain": domain,
		"organizationId": e.orgID, "oidcConfig": map[string]any{"clientId": e.idp.ClientID, "clientSecret": e.idp.ClientSecret}})
	if r.StatusCode != http.StatusOK {
		t.Fatalf("register: %d %s", r.StatusCode, r.Body)
	}
	if !verify {
		return
	}
	tok, _ := r.Object()["domainVerificationToken"].(string)
	e.dns.set("_better-auth-token-"+providerID+"."+domain, tok)
	if r := e.admin.Post("/sso/verify-domain", map[string]any{"providerId": providerID}); r.StatusCode != http.StatusNoContent {
		t.Fatalf("verify-domain: %d %s", r.StatusCode, r.Body)
	}
}

var (
	ssoLinkRe     = regexp.MustCompile(`<a id="sign-in-sso"[^>]*href="([^"]*)"[^>]*>Sign in with SSO</a>`)
	metaRefreshRe = regexp.MustCompile(`<meta http-equiv="refresh" content="0;url=([^"]*)">`)
	continueRe    = regexp.MustCompile(`<a id="continue"[^>]*href="([^"]*)"`)
)

// TestSSOLinkOnlyWithPlugin: the sign-in page links to the SSO page only when the sso plugin
// is on, and the SSO page is a 404 without it.
func TestSSOLinkOnlyWithPlugin(t *testing.T) {
	plain := newBrowser(newPortal(t, nil))
	if res := plain.get("/ui/sign-in"); res.StatusCode != http.StatusOK || ssoLinkRe.MatchString(string(res.Body)) {
		t.Fatalf("sign-in without sso: %d, link shown=%v", res.StatusCode, ssoLinkRe.MatchString(string(res.Body)))
	}
	if res := plain.get("/ui/sign-in/sso"); res.StatusCode != http.StatusNotFound {
		t.Fatalf("sso page without the plugin: %d", res.StatusCode)
	}
	if res := plain.post("/ui/sign-in/sso", url.Values{"email": {"x@acme.test"}}); res.StatusCode != http.StatusNotFound {
		t.Fatalf("sso POST without the plugin: %d", res.StatusCode)
	}

	e := newSSOPortal(t)
	b := newBrowser(e.h)
	res := b.get("/ui/sign-in?callbackURL=" + url.QueryEscape("/app/x"))
	m := ssoLinkRe.FindStringSubmatch(string(res.Body))
	if res.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("sign-in with sso: %d, no SSO link:\n%s", res.StatusCode, res.Body)
	}
	if got := html.UnescapeString(m[1]); got != "/api/auth/ui/sign-in/sso?callbackURL=%2Fapp%2Fx" {
		t.Fatalf("SSO link %q", got)
	}
	page := b.get("/ui/sign-in/sso?callbackURL=%2Fapp%2Fx")
	if page.StatusCode != http.StatusOK || hiddenValue(string(page.Body), "callbackURL") != "/app/x" {
		t.Fatalf("sso page: %d %s", page.StatusCode, page.Body)
	}
	if _, ok := inputValue(string(page.Body), "email"); !ok || !strings.Contains(string(page.Body), `<label for="email">`) {
		t.Fatal("sso page has no labelled email field")
	}
	// An unsafe callbackURL is replaced by the default one.
	page = b.get("/ui/sign-in/sso?callbackURL=" + url.QueryEscape("https://evil.example/"))
	if cb := hiddenValue(string(page.Body), "callbackURL"); strings.Contains(cb, "evil") {
		t.Fatalf("unsafe callbackURL kept: %q", cb)
	}
}

// TestSSOCSRF: the SSO form is refused without its token, with another form's token, and
// cross-site; nothing is started (no state cookie).
func TestSSOCSRF(t *testing.T) {
	e := newSSOPortal(t)
	e.register(t, "acme", "acme.test", true)
	b := newBrowser(e.h)
	signIn := b.get("/ui/sign-in")
	other := csrfOf(t, string(signIn.Body), "sign-in")
	cases := map[string]*authcoretest.Response{
		"no token":    b.post("/ui/sign-in/sso", url.Values{"email": {"wile@acme.test"}}),
		"other form":  b.post("/ui/sign-in/sso", url.Values{"email": {"wile@acme.test"}, "csrf": {other}}),
		"cross-site":  b.submit("/ui/sign-in/sso", "sso", "/ui/sign-in/sso", url.Values{"email": {"wile@acme.test"}}, "Sec-Fetch-Site", "cross-site"),
		"evil origin": b.submit("/ui/sign-in/sso", "sso", "/ui/sign-in/sso", url.Values{"email": {"wile@acme.test"}}, "Origin", "https://evil.example"),
	}
	for name, res := range cases {
		if res.StatusCode != http.StatusForbidden || metaRefreshRe.MatchString(string(res.Body)) {
			t.Errorf("%s: %d %s", name, res.StatusCode, res.Body)
		}
		for _, line := range res.Header.Values("Set-Cookie") {
			if strings.Contains(line, "state") {
				t.Errorf("%s: a state cookie was set: %s", name, line)
			}
		}
	}
}

// TestSSOErrors: bad input and the API's refusals re-render the form with a friendly
// message (never the API's own), with the API's status, and change nothing.
func TestSSOErrors(t *testing.T) {
	e := newSSOPortal(t)
	e.register(t, "pending", "pending.test", false) // registered, domain not verified
	e.register(t, "acme", "acme.test", true)
	b := newBrowser(e.h)
	before := countRecords(t, e.h, "verification")
	cases := []struct {
		email  string
		status int
		want   string
	}{
		{"", http.StatusBadRequest, "Please fill in every required field."},
		{"no-at-sign", http.StatusBadRequest, "Enter a valid email address."},
		{"wile@", http.StatusBadRequest, "Enter a valid email address."},
		{"wile@unknown.test", http.StatusNotFound, "Single sign-on is not set up for this email address. Check the address, or sign in another way."},
		{"wile@pending.test", http.StatusUnauthorized, "Single sign-on for this email address is not ready yet: your organization has not finished setting it up. Sign in another way, or ask your administrator."},
		{strings.Repeat("a", 5000) + "@acme.test", http.StatusBadRequest, "Please fill in every required field."},
	}
	for _, c := range cases {
		res := b.submit("/ui/sign-in/sso", "sso", "/ui/sign-in/sso", url.Values{"email": {c.email}})
		body := string(res.Body)
		if res.StatusCode != c.status || alertText(body) != c.want {
			t.Errorf("%.40q: %d %q, want %d %q", c.email, res.StatusCode, alertText(body), c.status, c.want)
		}
		if strings.Contains(body, "No provider found") || strings.Contains(body, "has not been verified") || metaRefreshRe.MatchString(body) {
			t.Errorf("%.40q: raw API message or refresh in page", c.email)
		}
		if _, ok := inputValue(body, "email"); !ok {
			t.Errorf("%.40q: the form is not shown again", c.email)
		}
		if len(c.email) < 100 {
			if v, _ := inputValue(body, "email"); v != c.email {
				t.Errorf("email kept as %q, want %q", v, c.email)
			}
		}
	}
	if n := countRecords(t, e.h, "verification"); n != before {
		t.Fatalf("refused sign-ins stored state: %d verification rows, was %d", n, before)
	}
	if n := countRecords(t, e.h, "user"); n != 1 {
		t.Fatalf("%d users, want the admin only", n)
	}
}

// TestSSOInterstitialAndSignIn: a verified OIDC provider answers the interstitial — the IdP's
// authorization URL in a meta refresh and a link, HTML-escaped — with the API's signed state
// cookie; following it through the IdP signs the user in at the callbackURL and provisions
// them into the organization.
func TestSSOInterstitialAndSignIn(t *testing.T) {
	e := newSSOPortal(t)
	e.register(t, "acme", "acme.test", true)
	e.idp.SetUser(oauthtest.User{Subject: "wile-1", Email: "wile@acme.test", EmailVerified: true, Name: "Wile E."})
	b := newBrowser(e.h)
	res := b.submit("/ui/sign-in/sso?callbackURL=%2Fapp%2Fdone", "sso", "/ui/sign-in/sso",
		url.Values{"email": {"Wile@acme.test"}, "callbackURL": {"/app/done"}})
	body := string(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("interstitial: %d %s", res.StatusCode, body)
	}
	if !strings.Contains(body, "Continue to your organization&#39;s sign-in") {
		t.Fatalf("no interstitial heading:\n%s", body)
	}
	mr, ln := metaRefreshRe.FindStringSubmatch(body), continueRe.FindStringSubmatch(body)
	if mr == nil || ln == nil {
		t.Fatalf("no meta refresh or link:\n%s", body)
	}
	refresh, link := html.UnescapeString(mr[1]), html.UnescapeString(ln[1])
	if refresh != link || !strings.HasPrefix(refresh, e.idp.Issuer()+"/authorize?") {
		t.Fatalf("refresh %q, link %q", refresh, link)
	}
	if strings.Contains(mr[1], "&state") || !strings.Contains(mr[1], "&amp;") {
		t.Fatalf("the refresh URL is not HTML-escaped: %q", mr[1])
	}
	u, _ := url.Parse(refresh)
	q := u.Query()
	if q.Get("client_id") != e.idp.ClientID || q.Get("state") == "" || q.Get("login_hint") != "Wile@acme.test" ||
		q.Get("redirect_uri") != authcoretest.BaseURL+"/api/auth/sso/callback/acme" {
		t.Fatalf("authorization URL %s", refresh)
	}
	stateCookie := false
	for _, line := range res.Header.Values("Set-Cookie") {
		stateCookie = stateCookie || strings.Contains(line, "state")
	}
	if !stateCookie {
		t.Fatalf("no state cookie: %v", res.Header.Values("Set-Cookie"))
	}
	if csp := res.Header.Get("Content-Security-Policy"); strings.Contains(csp, e.idp.Issuer()) {
		t.Fatalf("the IdP is in the CSP: %s", csp)
	}

	back := oauthtest.Follow(t, refresh)
	cb := b.get(e.h.Server.URL + back.RequestURI())
	loc := locationOf(t, cb)
	if loc.Path != "/app/done" || !hasSessionCookie(e.h, cb) {
		t.Fatalf("callback: %d %s → %s", cb.StatusCode, cb.Body, loc)
	}
	ses := b.c.Get("/get-session")
	if u, _ := ses.Object()["user"].(map[string]any); u == nil || u["email"] != "wile@acme.test" {
		t.Fatalf("session: %s", ses.Body)
	}
	members := e.admin.Get("/organization/list-members?organizationId=" + e.orgID)
	if !strings.Contains(string(members.Body), "wile@acme.test") {
		t.Fatalf("wile is not a member: %s", members.Body)
	}
}

// TestSSOCallbackErrorTexts: the error page explains the SSO callback codes.
func TestSSOCallbackErrorTexts(t *testing.T) {
	b := newBrowser(newPortal(t, nil))
	for _, code := range []string{"invalid_state", "invalid_provider", "invalid_saml_response", "saml_response_expired",
		"saml_unsolicited", "saml_replay", "saml_idp_error", "saml_missing_user_info", "saml_transient_nameid", "saml_internal_error"} {
		res := b.get("/ui/error?error=" + code)
		if txt := alertText(string(res.Body)); txt == "" || txt == "Something went wrong. Please try again." || strings.Contains(txt, code) {
			t.Errorf("%s: %q", code, txt)
		}
	}
}

func countRecords(t *testing.T, h *authcoretest.Harness, model string) int {
	t.Helper()
	n, err := h.Engine.Store().Count(context.Background(), model, storage.Where{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
