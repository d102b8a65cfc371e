package portal_test

import (
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/authcore/oauth"
	"github.com/gatehouse-auth/gatehouse/authcore/oauth/oauthtest"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// newSocialPortal starts the portal with one social provider, "acme" ("Acme ID"), served by
// an oauthtest IdP on loopback.
func newSocialPortal(t *testing.T, opts ...authcoretest.Option) (*authcoretest.Harness, *oauthtest.IdP) {
	t.Helper()
	idp := oauthtest.New(t)
	prov, err := oauth.New(oauth.Config{ID: "acme", Name: "Acme ID", Preset: "oidc", Issuer: idp.Issuer(),
		ClientID: idp.ClientID, ClientSecret: idp.ClientSecret}, nil)
	if err != nil {
		t.Fatal(err)
	}
	opts = append([]authcoretest.Option{authcoretest.WithConfig(func(c *authcore.Config) {
		c.Social.Providers = []oauth.Provider{prov}
	})}, opts...)
	return newPortal(t, nil, opts...), idp
}

var socialButtonRe = regexp.MustCompile(`<button id="social-([a-z0-9-]+)" type="submit"[^>]*>(?:<span[^>]*aria-hidden="true"[^>]*></span>)?([^<]*)</button>`)

// socialButtons lists the page's social buttons as id → visible (accessible) name.
func socialButtons(body string) map[string]string {
	out := map[string]string{}
	for _, m := range socialButtonRe.FindAllStringSubmatch(body, -1) {
		out[m[1]] = html.UnescapeString(m[2])
	}
	return out
}

// startSocial posts the page's "Continue with" form for provider acme and returns the answer.
func (b *browser) startSocial(page string, extra url.Values) *authcoretest.Response {
	b.t.Helper()
	body := b.page(page)
	form := url.Values{"csrf": {csrfOfClass(b.t, body, "social-sign-in")}, "provider": {"acme"}}
	if cb := hiddenValue(body, "callbackURL"); cb != "" {
		form.Set("callbackURL", cb)
	}
	for k, v := range extra {
		form[k] = v
	}
	return b.post("/ui/sign-in/social", form)
}

// followIdP takes a 302 to the IdP, lets the IdP approve, and GETs the callback on the test
// server (the redirect_uri is on the configured base URL); it returns the callback's answer.
func (b *browser) followIdP(res *authcoretest.Response) *authcoretest.Response {
	b.t.Helper()
	if res.StatusCode != http.StatusFound {
		b.t.Fatalf("want 302 to the IdP, got %d %s", res.StatusCode, res.Body)
	}
	back := oauthtest.Follow(b.t, res.Header.Get("Location"))
	if back.Scheme+"://"+back.Host != authcoretest.BaseURL || back.Path != "/api/auth/callback/acme" {
		b.t.Fatalf("IdP sent the browser to %s", back)
	}
	return b.get(b.h.Server.URL + back.RequestURI())
}

// locationOf is the Location of a 302 on the configured base URL, as path?query.
func locationOf(t *testing.T, res *authcoretest.Response) *url.URL {
	t.Helper()
	if res.StatusCode != http.StatusFound {
		t.Fatalf("want 302, got %d %s", res.StatusCode, res.Body)
	}
	u, err := url.Parse(res.Header.Get("Location"))
	if err != nil || u.Scheme+"://"+u.Host != authcoretest.BaseURL {
		t.Fatalf("Location %q", res.Header.Get("Location"))
	}
	return u
}

// The buttons appear on the sign-in and sign-up pages only when providers are configured,
// one per provider, named "Continue with <Name>", with no inline script or style.
func TestSocialButtons(t *testing.T) {
	plain := newBrowser(newPortal(t, nil))
	for _, page := range []string{"/ui/sign-in", "/ui/sign-up"} {
		if body := plain.page(page); strings.Contains(body, "social-sign-in") || len(socialButtons(body)) != 0 {
			t.Fatalf("%s without providers has social buttons", page)
		}
	}
	h, idp := newSocialPortal(t)
	b := newBrowser(h)
	for _, page := range []string{"/ui/sign-in?callbackURL=%2Fapp", "/ui/sign-up?callbackURL=%2Fapp"} {
		res := b.get(page)
		body := string(res.Body)
		// Browsers apply form-action to the form's redirect: the IdP's origin must be in it.
		if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' "+authcoretest.BaseURL+" "+idp.Issuer()+";") {
			t.Fatalf("CSP %q does not allow the IdP as a form target", csp)
		}
		got := socialButtons(body)
		if len(got) != 1 || got["acme"] != "Continue with Acme ID" {
			t.Fatalf("%s buttons: %v\n%s", page, got, body)
		}
		if hiddenValue(body, "provider") != "acme" || hiddenValue(body, "callbackURL") != "/app" {
			t.Fatalf("%s: form fields wrong\n%s", page, body)
		}
		if strings.Contains(body, " style=") || strings.Contains(body, " onclick=") || strings.Contains(body, "<img") {
			t.Fatalf("%s: inline style/script or an image", page)
		}
		if want := strings.HasSuffix(strings.SplitN(page, "?", 2)[0], "sign-up"); want != strings.Contains(body, `name="signup" value="1"`) {
			t.Fatalf("%s: requestSignUp field wrong", page)
		}
	}
	// An unsafe callbackURL is not carried into the form.
	if body := b.page("/ui/sign-in?callbackURL=https%3A%2F%2Fevil.example%2F"); strings.Contains(body, "evil.example") {
		t.Fatal("unsafe callbackURL carried")
	}
}

// The POST answers 302 to the IdP with the signed state cookie; the IdP's answer lands on
// the callbackURL signed in as the IdP's user; a new user goes through requestSignUp too.
func TestSocialSignInFlow(t *testing.T) {
	h, idp := newSocialPortal(t)
	b := newBrowser(h)
	res := b.startSocial("/ui/sign-in?callbackURL=%2Fapp", nil)
	if res.StatusCode != http.StatusFound {
		t.Fatalf("POST: %d %s", res.StatusCode, res.Body)
	}
	auth, _ := url.Parse(res.Header.Get("Location"))
	if !strings.HasPrefix(res.Header.Get("Location"), idp.Issuer()+"/authorize?") || auth.Query().Get("state") == "" ||
		auth.Query().Get("redirect_uri") != authcoretest.BaseURL+"/api/auth/callback/acme" {
		t.Fatalf("Location %q", res.Header.Get("Location"))
	}
	if line, ok := res.SetCookie(h.Engine.CookieName(authcore.CookieOAuthState)); !ok || strings.Contains(line, "Max-Age=0") || !strings.Contains(line, "HttpOnly") {
		t.Fatalf("state cookie: %q %v", line, res.Header.Values("Set-Cookie"))
	}
	if hasSessionCookie(h, res) {
		t.Fatal("session before the IdP answered")
	}
	cb := b.followIdP(res)
	if loc := locationOf(t, cb); loc.Path != "/app" || loc.Query().Get("error") != "" {
		t.Fatalf("callback went to %s", loc)
	}
	if !hasSessionCookie(h, cb) {
		t.Fatal("no session after the callback")
	}
	body := b.page("/ui/account")
	if !strings.Contains(body, "idp@example.com") || !strings.Contains(body, "IdP User") {
		t.Fatalf("account page is not the IdP user's:\n%s", body)
	}
	if n := count(t, h, authcore.ModelAccount, storage.Eq("providerId", "acme")); n != 1 {
		t.Fatalf("%d acme accounts", n)
	}

	// From the sign-up page (requestSignUp) a second identity becomes a second user.
	idp.SetUser(oauthtest.User{Subject: "sub-2", Email: "new@example.com", EmailVerified: true, Name: "New Person"})
	b2 := newBrowser(h)
	cb = b2.followIdP(b2.startSocial("/ui/sign-up", nil))
	if loc := locationOf(t, cb); loc.Path != "/" || !hasSessionCookie(h, cb) {
		t.Fatalf("sign-up flow: %s", loc)
	}
	if !strings.Contains(b2.page("/ui/account"), "new@example.com") {
		t.Fatal("not signed in as the new user")
	}
}

// Every form refuses a missing, foreign or forged CSRF token and a cross-site POST; an
// unknown provider id is a 400 page with a friendly message, never echoed.
func TestSocialCSRFAndBadInput(t *testing.T) {
	h, _ := newSocialPortal(t)
	b, _ := signedInBrowser(t, h, "Ann", "ann@example.com")
	body := b.page("/ui/account")
	wrong := csrfOf(t, body, "profile")
	for _, action := range []string{"/ui/sign-in/social", "/ui/account/link-social", "/ui/account/unlink-account"} {
		for _, tok := range []string{"", wrong, "x"} {
			res := b.post(action, url.Values{"csrf": {tok}, "provider": {"acme"}, "accountId": {"x"}})
			if res.StatusCode != http.StatusForbidden || res.Header.Get("Location") != "" {
				t.Fatalf("%s with %q: %d %s", action, tok, res.StatusCode, res.Header.Get("Location"))
			}
		}
	}
	tok := csrfOfClass(t, b.page("/ui/sign-in"), "social-sign-in")
	if res := b.post("/ui/sign-in/social", url.Values{"csrf": {tok}, "provider": {"acme"}}, "Sec-Fetch-Site", "cross-site"); res.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site: %d", res.StatusCode)
	}
	for _, prov := range []string{"", "nope", "<script>", strings.Repeat("a", 5000)} {
		res := b.post("/ui/sign-in/social", url.Values{"csrf": {tok}, "provider": {prov}})
		if res.StatusCode != http.StatusBadRequest || alertText(string(res.Body)) != "This sign-in provider is not available." ||
			(prov != "" && strings.Contains(string(res.Body), html.EscapeString(prov))) {
			t.Fatalf("provider %q: %d %s", prov, res.StatusCode, alertText(string(res.Body)))
		}
	}
	if res := b.get("/ui/sign-in/social"); res.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET: %d", res.StatusCode)
	}
}

// The error page explains every ?error= code of the OAuth callback in words (never the raw
// code), and a failed sign-in really lands there.
func TestSocialErrorPage(t *testing.T) {
	h, _ := newSocialPortal(t)
	b := newBrowser(h)
	generic := alertText(string(b.get("/ui/error?error=SOMETHING_UNKNOWN").Body))
	for _, code := range []string{authcore.OAuthErrStateNotFound, authcore.OAuthErrStateMismatch, authcore.OAuthErrRestart,
		authcore.OAuthErrNoCode, authcore.OAuthErrProviderNotFound, authcore.OAuthErrInvalidCode, authcore.OAuthErrUserInfo,
		authcore.OAuthErrEmailNotFound, authcore.OAuthErrAccountNotLinked, authcore.OAuthErrUnableToLink,
		authcore.OAuthErrEmailDoesNotMatch, authcore.OAuthErrLinkedToOtherUser, authcore.OAuthErrSignUpDisabled,
		authcore.OAuthErrUnableToCreateUser, authcore.OAuthErrUnableToCreateSess, authcore.OAuthErrInvalidCallbackReq,
		authcore.OAuthErrIssuerMismatch, authcore.OAuthErrNonceBindingMissing, "access_denied"} {
		res := b.get("/ui/error?error=" + code)
		msg := alertText(string(res.Body))
		if res.StatusCode != http.StatusBadRequest || msg == "" || msg == generic || strings.Contains(string(res.Body), code) {
			t.Fatalf("%s: %d %q", code, res.StatusCode, msg)
		}
	}
	// Odd codes get the generic message, never echoed.
	for _, q := range []string{"%3Cscript%3E", "state-mismatch", strings.Repeat("a", 200)} {
		if res := b.get("/ui/error?error=" + q); alertText(string(res.Body)) != generic {
			t.Fatalf("%q: %s", q, alertText(string(res.Body)))
		}
	}

	// The API's own /error (where a callback whose state is lost must go) forwards here.
	if res := b.get("/error?error=" + authcore.OAuthErrStateMismatch); res.StatusCode != http.StatusFound ||
		res.Header.Get("Location") != authcoretest.BaseURL+"/api/auth/ui/error?error="+authcore.OAuthErrStateMismatch {
		t.Fatalf("API /error: %d %q", res.StatusCode, res.Header.Get("Location"))
	}

	// A real failure: the IdP's email belongs to a local user whose email is not verified →
	// account_not_linked, shown on the portal's error page.
	h.SignUp("Local", "idp@example.com", testPW)
	cb := b.followIdP(b.startSocial("/ui/sign-in", nil))
	loc := locationOf(t, cb)
	if loc.Path != "/api/auth/ui/error" || loc.Query().Get("error") != authcore.OAuthErrAccountNotLinked || hasSessionCookie(h, cb) {
		t.Fatalf("callback: %s", loc)
	}
	page := b.get(h.Server.URL + loc.RequestURI())
	if !strings.Contains(alertText(string(page.Body)), "not linked to this sign-in provider") {
		t.Fatalf("error page: %s", alertText(string(page.Body)))
	}
}

var linkedRe = regexp.MustCompile(`(?s)<li data-provider="([^"]+)">\s*<span class="linked-name">([^<]*)</span>`)

func linkedRows(body string) map[string]string {
	out := map[string]string{}
	for _, m := range linkedRe.FindAllStringSubmatch(body, -1) {
		out[m[1]] = html.UnescapeString(m[2])
	}
	return out
}

// The account page lists linked accounts by name; "Link Acme ID" links the IdP identity to
// the signed-in user and comes back to the account page; unlinking works while another
// account remains, and the last account is refused with the API's reason.
func TestSocialLinkedAccounts(t *testing.T) {
	h, idp := newSocialPortal(t)
	b, uid := signedInBrowser(t, h, "Ann", "ann@example.com")
	body := b.page("/ui/account")
	if got := linkedRows(body); len(got) != 1 || got["credential"] != "Email and password" {
		t.Fatalf("linked rows: %v\n%s", got, body)
	}
	if !strings.Contains(body, `id="link-acme"`) || !strings.Contains(body, "Link Acme ID") {
		t.Fatal("no Link Acme ID button")
	}

	// Link: the IdP user has the same (verified) address.
	idp.SetUser(oauthtest.User{Subject: "ann-at-acme", Email: "ann@example.com", EmailVerified: true, Name: "Ann at Acme"})
	res := b.post("/ui/account/link-social", url.Values{"csrf": {csrfOfClass(t, body, "link-social")}, "provider": {"acme"}})
	if line, ok := res.SetCookie(h.Engine.CookieName(authcore.CookieOAuthState)); res.StatusCode != http.StatusFound || !ok || line == "" {
		t.Fatalf("link POST: %d %v", res.StatusCode, res.Header)
	}
	cb := b.followIdP(res)
	if loc := locationOf(t, cb); loc.Path != "/api/auth/ui/account" || loc.Query().Get("done") != "account_linked" {
		t.Fatalf("link callback: %s", loc)
	}
	body = b.page("/ui/account?done=account_linked")
	if got := linkedRows(body); len(got) != 2 || got["acme"] != "Acme ID" || strings.Contains(body, `id="link-acme"`) {
		t.Fatalf("after link: %v", got)
	}
	if !strings.Contains(body, "The account has been linked") || strings.Contains(body, "ann-at-acme") {
		t.Fatal("flash missing or the provider's account id shown")
	}
	accts, _ := h.Engine.Store().FindMany(t.Context(), authcore.ModelAccount, storage.Query{Where: storage.Eq("providerId", "acme")})
	if len(accts) != 1 || accts[0].String("userId") != uid {
		t.Fatalf("acme accounts: %v", accts)
	}

	// The IdP identity now signs a fresh browser in as the same user.
	b2 := newBrowser(h)
	if loc := locationOf(t, b2.followIdP(b2.startSocial("/ui/sign-in", nil))); loc.Path != "/" {
		t.Fatalf("sign-in with the linked identity: %s", loc)
	}
	if g := b2.c.Get("/get-session"); g.Object()["user"].(map[string]any)["id"] != uid {
		t.Fatalf("signed in as %s", g.Body)
	}

	// Unlink the password account (another remains), then the last one is refused.
	unlink := func(provider string) *authcoretest.Response {
		body := b.page("/ui/account")
		var acct string
		for _, a := range mustAccounts(t, h, uid) {
			if a.String("providerId") == provider {
				acct = a.ID()
			}
		}
		return b.post("/ui/account/unlink-account", url.Values{"csrf": {csrfOfClass(t, body, "account-unlink")}, "accountId": {acct}, "providerId": {provider}})
	}
	wantDone(t, unlink("credential"), "/account", "account_unlinked")
	res = unlink("acme")
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(alertText(string(res.Body)), "only way to sign in") {
		t.Fatalf("last unlink: %d %q", res.StatusCode, alertText(string(res.Body)))
	}
	if a := mustAccounts(t, h, uid); len(a) != 1 || a[0].String("providerId") != "acme" {
		t.Fatalf("accounts: %v", a)
	}
	// Another user's account id is not found (never unlinked).
	h.SignUp("Bob", "bob@example.com", testPW)
	bob, _ := h.Engine.UserByEmail(t.Context(), "bob@example.com")
	bobAcct := mustAccounts(t, h, bob.ID())[0]
	body = b.page("/ui/account")
	res = b.post("/ui/account/unlink-account", url.Values{"csrf": {csrfOfClass(t, body, "account-unlink")}, "accountId": {bobAcct.ID()}})
	if res.StatusCode != http.StatusBadRequest || len(mustAccounts(t, h, bob.ID())) != 1 {
		t.Fatalf("foreign unlink: %d", res.StatusCode)
	}

	// Linking an identity with another address is refused and explained on the error page.
	cb2, _ := signedInBrowser(t, h, "Carl", "carl@example.com")
	idp.SetUser(oauthtest.User{Subject: "else", Email: "else@example.com", EmailVerified: true})
	res = cb2.post("/ui/account/link-social", url.Values{"csrf": {csrfOfClass(t, cb2.page("/ui/account"), "link-social")}, "provider": {"acme"}})
	loc := locationOf(t, cb2.followIdP(res))
	if loc.Path != "/api/auth/ui/error" || loc.Query().Get("error") != authcore.OAuthErrEmailDoesNotMatch {
		t.Fatalf("link with another address: %s", loc)
	}
	if msg := alertText(string(cb2.get(h.Server.URL + loc.RequestURI()).Body)); !strings.Contains(msg, "different email address") {
		t.Fatalf("error page: %q", msg)
	}
}

func mustAccounts(t *testing.T, h *authcoretest.Harness, uid string) []storage.Record {
	t.Helper()
	recs, err := h.Engine.Store().FindMany(t.Context(), authcore.ModelAccount, storage.Query{Where: storage.Eq("userId", uid)})
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// A provider whose discovery document puts the authorization endpoint on another origin than
// its issuer: the page's form-action does not name that origin, so instead of a 302 the
// browser gets a page with a link to the provider (links are not governed by form-action),
// and the state cookie.
func TestSocialAuthorizationOnAnotherOrigin(t *testing.T) {
	disc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		base := "http://" + r.Host
		fmt.Fprintf(w, `{"issuer":%q,"authorization_endpoint":"https://login.elsewhere.example/authorize","token_endpoint":%q,"jwks_uri":%q,"response_types_supported":["code"],"subject_types_supported":["public"],"id_token_signing_alg_values_supported":["RS256"]}`,
			base, base+"/token", base+"/jwks")
	}))
	t.Cleanup(disc.Close)
	prov, err := oauth.New(oauth.Config{ID: "acme", Name: "Acme ID", Preset: "oidc", Issuer: disc.URL, ClientID: "c", ClientSecret: "s"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := newPortal(t, nil, authcoretest.WithConfig(func(c *authcore.Config) { c.Social.Providers = []oauth.Provider{prov} }))
	b := newBrowser(h)
	res := b.startSocial("/ui/sign-in", nil)
	body := string(res.Body)
	if res.StatusCode != http.StatusOK || res.Header.Get("Location") != "" {
		t.Fatalf("want the link page, got %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if !strings.Contains(body, `id="continue"`) || !strings.Contains(body, `href="https://login.elsewhere.example/authorize?`) {
		t.Fatalf("no link to the provider:\n%s", body)
	}
	if _, ok := res.SetCookie(h.Engine.CookieName(authcore.CookieOAuthState)); !ok {
		t.Fatal("no state cookie")
	}
}
