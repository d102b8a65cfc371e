package portal_test

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/plugins/emailotp"
	"github.com/gatehouse-auth/gatehouse/plugins/magiclink"
	"github.com/gatehouse-auth/gatehouse/plugins/passkey"
	"github.com/gatehouse-auth/gatehouse/plugins/phonenumber"
	"github.com/gatehouse-auth/gatehouse/plugins/portal"
	"github.com/gatehouse-auth/gatehouse/plugins/twofactor"
	"github.com/gatehouse-auth/gatehouse/plugins/username"
	"github.com/gatehouse-auth/gatehouse/storage"
)

const pw = "correct horse battery"

// wantPageHeaders checks the headers every portal page must carry, exactly.
func wantPageHeaders(t *testing.T, res *authcoretest.Response, csp string) {
	t.Helper()
	want := map[string]string{
		"Content-Security-Policy":    csp,
		"Referrer-Policy":            "same-origin",
		"Cache-Control":              "no-store",
		"X-Content-Type-Options":     "nosniff",
		"Cross-Origin-Opener-Policy": "same-origin",
		"X-Frame-Options":            "DENY",
		"Content-Type":               "text/html; charset=utf-8",
	}
	for k, v := range want {
		if got := res.Header.Values(k); len(got) != 1 || got[0] != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
}

// wantWellFormedPage checks the markup rules: lang, one h1, no inline script or style, every
// visible input labelled, every form with a csrf field.
func wantWellFormedPage(t *testing.T, body string) {
	t.Helper()
	if !strings.Contains(body, `<html lang="en">`) {
		t.Error(`no <html lang="en">`)
	}
	if n := strings.Count(body, "<h1"); n != 1 {
		t.Errorf("%d <h1>", n)
	}
	for _, m := range scriptRe.FindAllStringSubmatch(body, -1) {
		if !strings.Contains(m[1], `src="`) || strings.TrimSpace(m[2]) != "" {
			t.Errorf("inline script: %s", m[0])
		}
	}
	if strings.Contains(body, "<style") || regexp.MustCompile(`\sstyle=`).MatchString(body) || regexp.MustCompile(`\son[a-z]+=`).MatchString(body) {
		t.Error("inline style or event handler")
	}
	labels := map[string]bool{}
	for _, m := range labelRe.FindAllStringSubmatch(body, -1) {
		labels[m[1]] = true
	}
	for _, in := range inputRe.FindAllString(body, -1) {
		if ty := typeRe.FindStringSubmatch(in); ty != nil && ty[1] == "hidden" {
			continue
		}
		id := idRe.FindStringSubmatch(in)
		if id == nil || !labels[id[1]] {
			t.Errorf("input without a label: %s", in)
		}
	}
	for _, m := range formRe.FindAllStringSubmatch(body, -1) {
		if !strings.Contains(m[0], `method="post"`) || !csrfRe.MatchString(m[2]) {
			t.Errorf("form#%s is not a POST with a csrf field", m[1])
		}
	}
	if strings.Contains(body, "missing-") || strings.Contains(body, "%!") {
		t.Error("missing asset or bad format string")
	}
}

func TestEveryPageRenders(t *testing.T) {
	h := newPortal(t, nil)
	b := newBrowser(h)
	cases := []struct {
		path   string
		status int
		has    []string
	}{
		{"/ui/sign-in", 200, []string{`<form id="sign-in"`, `id="email" name="email" type="email"`, `id="password"`, `id="remember"`, `id="submit"`,
			`href="/api/auth/ui/sign-up?callbackURL=%2F"`, `href="/api/auth/ui/forgot-password?callbackURL=%2F"`}},
		{"/ui/sign-up", 200, []string{`<form id="sign-up"`, `id="name"`, `id="email"`, `id="password"`, `id="password-confirm"`, `id="submit"`}},
		{"/ui/forgot-password", 200, []string{`<form id="forgot-password"`, `id="email"`, `id="submit"`}},
		{"/ui/reset-password?token=abc", 200, []string{`<form id="reset-password"`, `id="password"`, `id="password-confirm"`, `id="submit"`, `name="token" value="abc"`}},
		{"/ui/reset-password", 400, []string{`role="alert"`, messagesOf("MISSING_TOKEN")}},
		{"/ui/reset-password?error=INVALID_TOKEN", 400, []string{messagesOf("INVALID_TOKEN")}},
		{"/ui/verify-email?token=nope", 401, []string{messagesOf("INVALID_TOKEN")}},
		{"/ui/verify-email", 400, []string{messagesOf("MISSING_TOKEN")}},
		{"/ui/error?error=TOKEN_EXPIRED", 400, []string{messagesOf("TOKEN_EXPIRED")}},
		{"/ui/error?error=%3Cscript%3Ealert(1)%3C/script%3E", 400, []string{messagesOf("generic")}},
		{"/ui/error?error=SOMETHING_NEW", 400, []string{messagesOf("generic")}},
		{"/ui/nope", 404, []string{messagesOf("NOT_FOUND")}},
		{"/ui/sign-in/", 404, nil},
		{"/ui/assets/portal.css", 404, nil}, // only hashed names exist
	}
	for _, tc := range cases {
		res := b.get(tc.path)
		body := string(res.Body)
		if res.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d", tc.path, res.StatusCode, tc.status)
			continue
		}
		wantPageHeaders(t, res, wantCSP)
		wantWellFormedPage(t, body)
		for _, s := range tc.has {
			if !strings.Contains(body, s) {
				t.Errorf("%s: no %q in\n%s", tc.path, s, body)
			}
		}
		if strings.Contains(body, "<script>alert") || strings.Contains(body, "SOMETHING_NEW") {
			t.Errorf("%s echoes the error code", tc.path)
		}
		if tc.status >= 400 && !strings.Contains(body, `id="error" class="alert alert-error" role="alert"`) {
			t.Errorf("%s: no [role=alert]#error", tc.path)
		}
	}
	// The wrong method on a page is a 405 page with Allow.
	res := b.post("/ui/sign-out", nil)
	if res.StatusCode != 403 { // POST is the method; no token
		t.Fatalf("sign-out without token: %d", res.StatusCode)
	}
	res = b.get("/ui/sign-out")
	if res.StatusCode != 405 || res.Header.Get("Allow") != "POST" {
		t.Fatalf("GET sign-out: %d Allow %q", res.StatusCode, res.Header.Get("Allow"))
	}
	wantPageHeaders(t, res, wantCSP)
}

func messagesOf(code string) string {
	s := portal.Text("error." + code)
	return strings.ReplaceAll(s, "'", "&#39;")
}

// With every other sign-in plugin on, the sign-in page links to their pages; with none, it
// has no such list.
func TestSignInMethodList(t *testing.T) {
	links := []string{"/api/auth/ui/sign-in/magic-link", "/api/auth/ui/sign-in/email-otp", "/api/auth/ui/sign-in/phone", "/api/auth/ui/sign-in/passkey"}
	h := newPortal(t, nil)
	body := string(newBrowser(h).get("/ui/sign-in").Body)
	for _, l := range links {
		if strings.Contains(body, l) {
			t.Errorf("link %s without its plugin", l)
		}
	}
	h = newPortal(t, nil, authcoretest.WithPlugins(&magiclink.Plugin{}, &emailotp.Plugin{}, &phonenumber.Plugin{},
		&passkey.Plugin{}, &username.Plugin{}))
	res := newBrowser(h).get("/ui/sign-in?callbackURL=/app")
	body = string(res.Body)
	wantWellFormedPage(t, body)
	for _, l := range links {
		if !strings.Contains(body, `href="`+l+`?callbackURL=%2Fapp"`) {
			t.Errorf("no link %s in\n%s", l, body)
		}
	}
	// The username plugin turns the email field into "Email or username", same id and name.
	if !strings.Contains(body, `<input id="email" name="email" type="text" autocomplete="username"`) || !strings.Contains(body, portal.Text("common.email_or_username")) {
		t.Errorf("username field:\n%s", body)
	}
	// Sign-up disabled: no link, and the page is 404.
	h = newPortal(t, nil, authcoretest.WithConfig(func(c *authcore.Config) { c.EmailAndPassword.DisableSignUp = true }))
	b := newBrowser(h)
	if body := string(b.get("/ui/sign-in").Body); strings.Contains(body, "/ui/sign-up") {
		t.Error("sign-up link while sign-up is disabled")
	}
	if res := b.get("/ui/sign-up"); res.StatusCode != 404 {
		t.Errorf("sign-up page while disabled: %d", res.StatusCode)
	}
}

func userCount(t *testing.T, h *authcoretest.Harness) int {
	t.Helper()
	n, err := h.Engine.Store().Count(context.Background(), "user", storage.Where{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func signUpForm(name, email, password, confirm string) url.Values {
	return url.Values{"name": {name}, "email": {email}, "password": {password}, "password-confirm": {confirm}}
}

func TestSignUp(t *testing.T) {
	h := newPortal(t, nil)
	b := newBrowser(h)

	// Passwords that differ: re-rendered, 400, nothing created, name and email kept.
	res := b.submit("/ui/sign-up", "sign-up", "/ui/sign-up", signUpForm("Ann", "ann@example.com", pw, pw+"x"))
	if res.StatusCode != 400 || alertText(string(res.Body)) != portal.Text("error.PASSWORD_MISMATCH") || userCount(t, h) != 0 {
		t.Fatalf("mismatch: %d %q users %d", res.StatusCode, alertText(string(res.Body)), userCount(t, h))
	}
	if v, _ := inputValue(string(res.Body), "email"); v != "ann@example.com" {
		t.Fatalf("email not kept: %q", v)
	}
	if v, _ := inputValue(string(res.Body), "name"); v != "Ann" {
		t.Fatalf("name not kept: %q", v)
	}
	// Too short: the API's 400 with the translated message.
	res = b.submit("/ui/sign-up", "sign-up", "/ui/sign-up", signUpForm("Ann", "ann@example.com", "short", "short"))
	if res.StatusCode != 400 || alertText(string(res.Body)) != portal.Text("error.PASSWORD_TOO_SHORT") {
		t.Fatalf("short: %d %q", res.StatusCode, alertText(string(res.Body)))
	}
	// Success: session cookie, 303 to the callbackURL.
	form := signUpForm("Ann", "ann@example.com", pw, pw)
	form.Set("callbackURL", "/dashboard?tab=1")
	res = b.submit("/ui/sign-up?callbackURL=/dashboard?tab=1", "sign-up", "/ui/sign-up", form)
	if res.StatusCode != 303 || res.Header.Get("Location") != "http://localhost:3000/dashboard?tab=1" || !hasSessionCookie(h, res) {
		t.Fatalf("sign-up: %d %q %v\n%s", res.StatusCode, res.Header.Get("Location"), res.Header.Values("Set-Cookie"), res.Body)
	}
	if userCount(t, h) != 1 {
		t.Fatal("no user")
	}
	// The browser is signed in: the layout has the sign-out form and / goes to the account.
	page := string(b.get("/ui/sign-in").Body)
	if !strings.Contains(page, `<form id="sign-out"`) || !strings.Contains(page, `id="submit-sign-out"`) || !strings.Contains(page, "ann@example.com") {
		t.Fatalf("signed-in layout:\n%s", page)
	}
	if res := b.get("/ui/"); res.StatusCode != 303 || res.Header.Get("Location") != "/api/auth/ui/account" {
		t.Fatalf("index signed in: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	// Same email again: the API's 422 translated.
	b2 := newBrowser(h)
	res = b2.submit("/ui/sign-up", "sign-up", "/ui/sign-up", signUpForm("Ann", "ann@example.com", pw, pw))
	if res.StatusCode != 422 || alertText(string(res.Body)) != portal.Text("error.USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL") || hasSessionCookie(h, res) {
		t.Fatalf("duplicate: %d %q", res.StatusCode, alertText(string(res.Body)))
	}
}

func TestSignUpWithVerification(t *testing.T) {
	h := newPortal(t, nil, authcoretest.WithConfig(func(c *authcore.Config) {
		c.EmailAndPassword.RequireEmailVerification = true
		c.EmailVerification.AutoSignInAfterVerification = true
	}))
	b := newBrowser(h)
	form := signUpForm("Bo", "bo@example.com", pw, pw)
	form.Set("callbackURL", "/app")
	res := b.submit("/ui/sign-up?callbackURL=/app", "sign-up", "/ui/sign-up", form)
	body := string(res.Body)
	if res.StatusCode != 200 || !strings.Contains(body, portal.Text("signup.check_email.title")) || !strings.Contains(body, "bo@example.com") || hasSessionCookie(h, res) {
		t.Fatalf("check email: %d\n%s", res.StatusCode, body)
	}
	msg := h.Sink.Wait(t, "verify-email", "bo@example.com")
	u, err := url.Parse(msg.Data.URL)
	if err != nil {
		t.Fatal(err)
	}
	tok := u.Query().Get("token")
	// The portal's landing page verifies in-process, signs in (auto sign-in) and offers the
	// callbackURL.
	res = b.get("/ui/verify-email?token=" + url.QueryEscape(tok) + "&callbackURL=/app")
	body = string(res.Body)
	if res.StatusCode != 200 || !strings.Contains(body, portal.Text("verify.title")) || !strings.Contains(body, `href="http://localhost:3000/app"`) {
		t.Fatalf("verify landing: %d\n%s", res.StatusCode, body)
	}
	if !hasSessionCookie(h, res) || !strings.Contains(body, `id="submit-sign-out"`) {
		t.Fatalf("not signed in after verification: %v", res.Header.Values("Set-Cookie"))
	}
	wantWellFormedPage(t, body)
	rec, _ := h.Engine.UserByEmail(context.Background(), "bo@example.com")
	if v, _ := rec["emailVerified"].(bool); !v {
		t.Fatal("email not verified in the store")
	}
	// The same link again: its token was bound to an unverified address; now verified, the
	// API answers and the page is never a 500.
	res = b.get("/ui/verify-email?token=" + url.QueryEscape(tok))
	if res.StatusCode >= 500 {
		t.Fatalf("replay: %d", res.StatusCode)
	}
}

func signedUp(t *testing.T, h *authcoretest.Harness, email string) string {
	t.Helper()
	_, body := h.SignUp("User", email, pw)
	u, _ := body["user"].(map[string]any)
	id, _ := u["id"].(string)
	return id
}

func TestSignIn(t *testing.T) {
	h := newPortal(t, nil)
	signedUp(t, h, "ann@example.com")
	b := newBrowser(h)

	// Wrong password: 401, translated message, email kept, no session.
	res := b.submit("/ui/sign-in", "sign-in", "/ui/sign-in", url.Values{"email": {"ann@example.com"}, "password": {"wrong password"}})
	body := string(res.Body)
	if res.StatusCode != 401 || alertText(body) != portal.Text("error.INVALID_EMAIL_OR_PASSWORD") || hasSessionCookie(h, res) {
		t.Fatalf("wrong password: %d %q %v", res.StatusCode, alertText(body), res.Header.Values("Set-Cookie"))
	}
	if v, _ := inputValue(body, "email"); v != "ann@example.com" {
		t.Fatalf("email not kept: %q", v)
	}
	if v, _ := inputValue(body, "password"); v != "" {
		t.Fatal("password echoed")
	}
	wantPageHeaders(t, res, wantCSP)
	wantWellFormedPage(t, body)
	// Missing fields: 400 from the portal itself.
	res = b.submit("/ui/sign-in", "sign-in", "/ui/sign-in", url.Values{"email": {"ann@example.com"}})
	if res.StatusCode != 400 || alertText(string(res.Body)) != portal.Text("error.MISSING_FIELDS") {
		t.Fatalf("missing: %d %q", res.StatusCode, alertText(string(res.Body)))
	}
	// Bad email: the API's 400 INVALID_EMAIL.
	res = b.submit("/ui/sign-in", "sign-in", "/ui/sign-in", url.Values{"email": {"not-an-email"}, "password": {pw}})
	if res.StatusCode != 400 || alertText(string(res.Body)) != portal.Text("error.INVALID_EMAIL") {
		t.Fatalf("bad email: %d %q", res.StatusCode, alertText(string(res.Body)))
	}
	// remember unchecked → a dont_remember session (the API's rememberMe:false).
	res = b.submit("/ui/sign-in?callbackURL=/x", "sign-in", "/ui/sign-in", url.Values{"email": {"ann@example.com"}, "password": {pw}, "callbackURL": {"/x"}})
	if res.StatusCode != 303 || res.Header.Get("Location") != "http://localhost:3000/x" || !hasSessionCookie(h, res) {
		t.Fatalf("sign in: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if _, ok := res.SetCookie(h.Engine.CookieName(authcore.CookieDontRemember)); !ok {
		t.Fatal("remember unchecked but no dont_remember cookie")
	}
	// Sign out: CSRF-protected, ends the session, back to sign-in.
	page := string(b.get("/ui/sign-in").Body)
	tok := csrfOf(t, page, "sign-out")
	res = b.post("/ui/sign-out", url.Values{"csrf": {tok}})
	if res.StatusCode != 303 || res.Header.Get("Location") != "/api/auth/ui/sign-in" {
		t.Fatalf("sign-out: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if line, _ := res.SetCookie(h.Engine.CookieName(authcore.CookieSessionToken)); !strings.Contains(line, "Max-Age=0") {
		t.Fatalf("session cookie not cleared: %q", line)
	}
	if n, _ := h.Engine.Store().Count(context.Background(), "session", storage.Where{}); n != 1 { // the SignUp helper's own session
		t.Fatalf("%d sessions after sign-out", n)
	}
}

func TestSignInWithUsername(t *testing.T) {
	h := newPortal(t, nil, authcoretest.WithPlugins(&username.Plugin{}))
	c := h.Client()
	if r := c.Post("/sign-up/email", map[string]any{"name": "Cy", "email": "cy@example.com", "password": pw, "username": "cyrus"}); r.StatusCode != 200 {
		t.Fatalf("sign-up: %d %s", r.StatusCode, r.Body)
	}
	b := newBrowser(h)
	res := b.submit("/ui/sign-in", "sign-in", "/ui/sign-in", url.Values{"email": {"cyrus"}, "password": {"nope nope nope"}})
	if res.StatusCode != 401 || alertText(string(res.Body)) != portal.Text("error.INVALID_USERNAME_OR_PASSWORD") {
		t.Fatalf("wrong: %d %q", res.StatusCode, alertText(string(res.Body)))
	}
	res = b.submit("/ui/sign-in", "sign-in", "/ui/sign-in", url.Values{"email": {"cyrus"}, "password": {pw}})
	if res.StatusCode != 303 || !hasSessionCookie(h, res) {
		t.Fatalf("username sign-in: %d %s", res.StatusCode, res.Body)
	}
	res = newBrowser(h).submit("/ui/sign-in", "sign-in", "/ui/sign-in", url.Values{"email": {"cy@example.com"}, "password": {pw}})
	if res.StatusCode != 303 || !hasSessionCookie(h, res) {
		t.Fatalf("email sign-in with username on: %d", res.StatusCode)
	}
}

func TestSignInTwoFactor(t *testing.T) {
	h := newPortal(t, nil, authcoretest.WithPlugins(&twofactor.Plugin{SkipVerificationOnEnable: true}))
	c, _ := h.SignUp("Dee", "dee@example.com", pw)
	if r := c.Post("/two-factor/enable", map[string]any{"password": pw}); r.StatusCode != 200 {
		t.Fatalf("enable: %d %s", r.StatusCode, r.Body)
	}
	b := newBrowser(h)
	res := b.submit("/ui/sign-in?callbackURL=/app", "sign-in", "/ui/sign-in", url.Values{"email": {"dee@example.com"}, "password": {pw}, "callbackURL": {"/app"}})
	if res.StatusCode != 303 || res.Header.Get("Location") != "/api/auth/ui/two-factor?callbackURL=%2Fapp" {
		t.Fatalf("2FA: %d %q\n%s", res.StatusCode, res.Header.Get("Location"), res.Body)
	}
	if line, ok := res.SetCookie(h.Engine.CookieName("two_factor")); !ok || strings.HasPrefix(line, h.Engine.CookieName("two_factor")+"=;") {
		t.Fatalf("no two_factor cookie: %v", res.Header.Values("Set-Cookie"))
	}
	if hasSessionCookie(h, res) {
		t.Fatal("a session cookie before the second factor")
	}
}

// CSRF: nothing is created without the right token, from another site, or from a foreign
// origin.
func TestCSRF(t *testing.T) {
	h := newPortal(t, nil)
	b := newBrowser(h)
	page := string(b.get("/ui/sign-up").Body)
	good := csrfOf(t, page, "sign-up")
	other := newBrowser(h)
	otherTok := csrfOf(t, string(other.get("/ui/sign-up").Body), "sign-up")
	signInTok := csrfOf(t, string(b.get("/ui/sign-in").Body), "sign-in")
	form := func(tok string) url.Values {
		f := signUpForm("Eve", "eve@example.com", pw, pw)
		if tok != "" {
			f.Set("csrf", tok)
		}
		return f
	}
	cases := []struct {
		name string
		form url.Values
		hdr  []string
	}{
		{"no token", form(""), nil},
		{"garbage token", form("AAAA"), nil},
		{"another browser's token", form(otherTok), nil},
		{"another form's token", form(signInTok), nil},
		{"cross-site fetch", form(good), []string{"Sec-Fetch-Site", "cross-site"}},
		{"foreign origin", form(good), []string{"Origin", "https://evil.example"}},
		{"null origin", form(good), []string{"Origin", "null"}},
		{"lookalike origin", form(good), []string{"Origin", "http://localhost:3000.evil.example"}},
	}
	for _, tc := range cases {
		res := b.post("/ui/sign-up", tc.form, tc.hdr...)
		if res.StatusCode != 403 || alertText(string(res.Body)) != portal.Text("error.CSRF") || hasSessionCookie(h, res) {
			t.Errorf("%s: %d %q", tc.name, res.StatusCode, alertText(string(res.Body)))
		}
		wantPageHeaders(t, res, wantCSP)
	}
	// Without the cookie the token means nothing.
	nocookie := newBrowser(h)
	if res := nocookie.post("/ui/sign-up", form(good)); res.StatusCode != 403 {
		t.Errorf("token without cookie: %d", res.StatusCode)
	}
	if n := userCount(t, h); n != 0 {
		t.Fatalf("%d users created by refused posts", n)
	}
	// Same-origin (and same-site, and no Sec-Fetch-Site from an old browser) pass.
	res := b.post("/ui/sign-up", form(good), "Sec-Fetch-Site", "same-site")
	if res.StatusCode != 303 || userCount(t, h) != 1 {
		t.Fatalf("good post: %d %s", res.StatusCode, res.Body)
	}
}

func TestOpenRedirects(t *testing.T) {
	h := newPortal(t, nil, authcoretest.WithConfig(func(c *authcore.Config) { c.TrustedOrigins = []string{"https://app.example.com"} }))
	signedUp(t, h, "ann@example.com")
	corpus := []string{"//evil.com", "https://evil.com", `/\evil.com`, "javascript:alert(1)", "%2F%2Fevil.com",
		"/%2F/evil.com", "https://app.example.com.evil.com/", "/.//evil.com", " //evil.com", "\t/\\evil.com", "https:evil.com",
		"https://user@app.example.com/", "data:text/html,x", strings.Repeat("/a", 3000)}
	for _, cb := range corpus {
		b := newBrowser(h)
		page := string(b.get("/ui/sign-in?callbackURL=" + url.QueryEscape(cb)).Body)
		if v := hiddenValue(page, "callbackURL"); v != "/" {
			t.Errorf("%.40q: hidden callbackURL %q", cb, v)
		}
		tok := csrfOf(t, page, "sign-in")
		res := b.post("/ui/sign-in?callbackURL="+url.QueryEscape(cb), url.Values{"csrf": {tok}, "email": {"ann@example.com"}, "password": {pw}, "callbackURL": {cb}})
		if res.StatusCode != 303 || res.Header.Get("Location") != "http://localhost:3000/" {
			t.Errorf("%.40q: %d Location %q", cb, res.StatusCode, res.Header.Get("Location"))
		}
		if res := b.get("/ui/?callbackURL=" + url.QueryEscape(cb)); res.StatusCode != 303 || strings.Contains(res.Header.Get("Location"), "evil") {
			t.Errorf("%.40q: index Location %q", cb, res.Header.Get("Location"))
		}
	}
	// A trusted absolute callbackURL is kept.
	b := newBrowser(h)
	res := b.submit("/ui/sign-in", "sign-in", "/ui/sign-in", url.Values{"email": {"ann@example.com"}, "password": {pw}, "callbackURL": {"https://app.example.com/home?x=1"}})
	if res.StatusCode != 303 || res.Header.Get("Location") != "https://app.example.com/home?x=1" {
		t.Fatalf("trusted: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	// ... and form-action allows it (Chrome checks a form's redirect against form-action).
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' http://localhost:3000 https://app.example.com;") {
		t.Fatalf("CSP %q", csp)
	}
}

func TestDefaultCallbackOption(t *testing.T) {
	h := newPortal(t, &portal.Plugin{DefaultCallback: "/home"})
	signedUp(t, h, "ann@example.com")
	b := newBrowser(h)
	res := b.submit("/ui/sign-in", "sign-in", "/ui/sign-in", url.Values{"email": {"ann@example.com"}, "password": {pw}, "callbackURL": {"//evil.com"}})
	if res.StatusCode != 303 || res.Header.Get("Location") != "http://localhost:3000/home" {
		t.Fatalf("%d %q", res.StatusCode, res.Header.Get("Location"))
	}
}

func TestForgotAndResetPassword(t *testing.T) {
	h := newPortal(t, nil)
	signedUp(t, h, "ann@example.com")
	b := newBrowser(h)

	res := b.submit("/ui/forgot-password?callbackURL=/app", "forgot-password", "/ui/forgot-password", url.Values{"email": {"ann@example.com"}, "callbackURL": {"/app"}})
	known := string(res.Body)
	if res.StatusCode != 200 || !strings.Contains(known, portal.Text("forgot.sent.title")) {
		t.Fatalf("forgot: %d\n%s", res.StatusCode, known)
	}
	// Unknown address: the same page (only the typed address differs), nothing sent.
	res = newBrowser(h).submit("/ui/forgot-password?callbackURL=/app", "forgot-password", "/ui/forgot-password", url.Values{"email": {"nobody@example.com"}, "callbackURL": {"/app"}})
	unknown := strings.ReplaceAll(string(res.Body), "nobody@example.com", "ann@example.com")
	if res.StatusCode != 200 || stripCSRF(unknown) != stripCSRF(known) {
		t.Fatalf("unknown address answered differently:\n%s\n---\n%s", unknown, known)
	}
	msg := h.Sink.Wait(t, "reset-password", "ann@example.com")
	h.Drain()
	if n := len(h.Sent("reset-password", "nobody@example.com")); n != 0 {
		t.Fatalf("%d messages to an unknown address", n)
	}
	// The emailed link goes through the API, which sends the browser to the portal's page.
	link := msg.Data.URL
	if !strings.HasPrefix(link, "http://localhost:3000/api/auth/reset-password/") {
		t.Fatalf("link %q", link)
	}
	u, _ := url.Parse(link)
	api := b.get(strings.TrimPrefix(u.Path, "/api/auth") + "?" + u.RawQuery)
	loc := api.Header.Get("Location")
	if api.StatusCode != 302 || !strings.HasPrefix(loc, "http://localhost:3000/api/auth/ui/reset-password?") {
		t.Fatalf("API link: %d %q", api.StatusCode, loc)
	}
	lu, _ := url.Parse(loc)
	if lu.Query().Get("token") != msg.Data.Token || lu.Query().Get("callbackURL") != "/app" {
		t.Fatalf("landing query %q", lu.RawQuery)
	}
	pageURL := strings.TrimPrefix(loc, "http://localhost:3000/api/auth")
	// Mismatch: re-rendered form.
	res = b.submit(pageURL, "reset-password", "/ui/reset-password", url.Values{"token": {msg.Data.Token}, "password": {"new password 123"}, "password-confirm": {"other"}})
	if res.StatusCode != 400 || alertText(string(res.Body)) != portal.Text("error.PASSWORD_MISMATCH") {
		t.Fatalf("mismatch: %d %q", res.StatusCode, alertText(string(res.Body)))
	}
	res = b.submit(pageURL, "reset-password", "/ui/reset-password", url.Values{"token": {msg.Data.Token}, "password": {"new password 123"}, "password-confirm": {"new password 123"}, "callbackURL": {"/app"}})
	body := string(res.Body)
	if res.StatusCode != 200 || !strings.Contains(body, portal.Text("reset.done.title")) || !strings.Contains(body, `href="/api/auth/ui/sign-in?callbackURL=%2Fapp"`) {
		t.Fatalf("reset: %d\n%s", res.StatusCode, body)
	}
	// The token is used up: the error page.
	res = b.submit(pageURL, "reset-password", "/ui/reset-password", url.Values{"token": {msg.Data.Token}, "password": {"third password 1"}, "password-confirm": {"third password 1"}})
	if res.StatusCode != 400 || alertText(string(res.Body)) != portal.Text("error.INVALID_TOKEN") || strings.Contains(string(res.Body), `form id="reset-password"`) {
		t.Fatalf("reuse: %d %q", res.StatusCode, alertText(string(res.Body)))
	}
	// The new password signs in.
	res = newBrowser(h).submit("/ui/sign-in", "sign-in", "/ui/sign-in", url.Values{"email": {"ann@example.com"}, "password": {"new password 123"}})
	if res.StatusCode != 303 || !hasSessionCookie(h, res) {
		t.Fatalf("sign in with the new password: %d", res.StatusCode)
	}
}

var csrfValueRe = regexp.MustCompile(`name="csrf" value="[^"]*"`)

func stripCSRF(s string) string { return csrfValueRe.ReplaceAllString(s, "") }

// The API's rate limit shows as the translated 429 page (the portal's calls count like
// direct ones: same client address).
func TestRateLimitShowsAsPage(t *testing.T) {
	h := newPortal(t, nil, authcoretest.WithConfig(func(c *authcore.Config) { c.RateLimit.Disabled = false }))
	signedUp(t, h, "ann@example.com")
	b := newBrowser(h)
	var last *authcoretest.Response
	for range 4 {
		last = b.submit("/ui/sign-in", "sign-in", "/ui/sign-in", url.Values{"email": {"ann@example.com"}, "password": {"wrong password"}})
	}
	if last.StatusCode != 429 || alertText(string(last.Body)) != portal.Text("error.TOO_MANY_REQUESTS") {
		t.Fatalf("4th attempt: %d %q", last.StatusCode, alertText(string(last.Body)))
	}
	if v, _ := inputValue(string(last.Body), "email"); v != "ann@example.com" {
		t.Fatal("email not kept on 429")
	}
	wantPageHeaders(t, last, wantCSP)
	// Direct API calls from the same client share the bucket.
	if r := h.Client().Post("/sign-in/email", map[string]any{"email": "ann@example.com", "password": pw}); r.StatusCode != 429 {
		t.Fatalf("API after portal attempts: %d", r.StatusCode)
	}
	// The window passes: the form works again.
	h.Clock.Advance(11 * time.Second)
	res := b.submit("/ui/sign-in", "sign-in", "/ui/sign-in", url.Values{"email": {"ann@example.com"}, "password": {pw}})
	if res.StatusCode != 303 {
		t.Fatalf("after the window: %d", res.StatusCode)
	}
}

func TestHostileInput(t *testing.T) {
	h := newPortal(t, nil)
	b := newBrowser(h)
	big := strings.Repeat("a", 10<<10)
	ctrl := "ann\x00\x1b[31m@example.com\r\nBcc: x@evil.com"
	forms := map[string]url.Values{
		"/ui/sign-in":         {"email": {big}, "password": {big}},
		"/ui/sign-up":         {"name": {big}, "email": {big + "@example.com"}, "password": {big}, "password-confirm": {big}},
		"/ui/forgot-password": {"email": {ctrl}},
		"/ui/reset-password":  {"token": {big}, "password": {pw}, "password-confirm": {pw}},
	}
	ids := map[string]string{"/ui/sign-in": "sign-in", "/ui/sign-up": "sign-up", "/ui/forgot-password": "forgot-password", "/ui/reset-password": "reset-password"}
	pages := map[string]string{"/ui/reset-password": "/ui/reset-password?token=x"}
	for path, f := range forms {
		page := pages[path]
		if page == "" {
			page = path
		}
		res := b.submit(page, ids[path], path, f)
		if res.StatusCode < 400 || res.StatusCode >= 500 {
			t.Errorf("%s: %d", path, res.StatusCode)
		}
		ctrlForm := url.Values{}
		for k := range f {
			ctrlForm.Set(k, ctrl)
		}
		res = b.submit(page, ids[path], path, ctrlForm)
		if res.StatusCode < 400 || res.StatusCode >= 500 || strings.Contains(string(res.Body), "\x1b") {
			t.Errorf("%s control chars: %d", path, res.StatusCode)
		}
	}
	// A body over the form limit is 413, an unknown content type 415, a broken body 400.
	tok := csrfOf(t, string(b.get("/ui/sign-in").Body), "sign-in")
	res := b.post("/ui/sign-in", url.Values{"csrf": {tok}, "email": {strings.Repeat("x", 70<<10)}})
	if res.StatusCode != 413 {
		t.Errorf("huge body: %d", res.StatusCode)
	}
	res = b.c.Do("POST", "/ui/sign-in", `{"email":"a"}`, "Content-Type", "application/json", "Origin", "")
	if res.StatusCode != 415 {
		t.Errorf("JSON body: %d", res.StatusCode)
	}
	res = b.c.Do("POST", "/ui/sign-in", "csrf=%zz", "Content-Type", "application/x-www-form-urlencoded", "Origin", "")
	if res.StatusCode != 400 {
		t.Errorf("broken form: %d", res.StatusCode)
	}
	// Hostile query strings on GET pages.
	for _, q := range []string{"/ui/sign-in?callbackURL=" + url.QueryEscape(ctrl), "/ui/reset-password?token=" + url.QueryEscape(ctrl),
		"/ui/verify-email?token=" + big, "/ui/error?error=" + big, "/ui/sign-in?%zz"} {
		if res := b.get(q); res.StatusCode >= 500 {
			t.Errorf("%s: %d", q[:min(len(q), 60)], res.StatusCode)
		}
	}
	if n := userCount(t, h); n != 0 {
		t.Fatalf("%d users", n)
	}
}

var assetRe = regexp.MustCompile(`(?:href|src)="(/api/auth/ui/assets/([a-z]+)\.([0-9a-f]{10})\.(css|js))"`)

func TestAssets(t *testing.T) {
	h := newPortal(t, &portal.Plugin{AccentColor: "#0A0"})
	b := newBrowser(h)
	page := string(b.get("/ui/sign-in").Body)
	found := map[string]string{}
	for _, m := range assetRe.FindAllStringSubmatch(page, -1) {
		found[m[2]+"."+m[4]] = m[1]
	}
	for _, name := range []string{"portal.css", "theme.css", "portal.js"} {
		u, ok := found[name]
		if !ok {
			t.Fatalf("no %s in page:\n%s", name, page)
		}
		res := b.get(strings.TrimPrefix(u, "/api/auth"))
		ct := "text/css; charset=utf-8"
		if strings.HasSuffix(name, ".js") {
			ct = "text/javascript; charset=utf-8"
		}
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != ct ||
			res.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" ||
			res.Header.Get("X-Content-Type-Options") != "nosniff" || len(res.Body) == 0 {
			t.Errorf("%s: %d %v", name, res.StatusCode, res.Header)
		}
		if name == "theme.css" && !strings.Contains(string(res.Body), "--accent:#00aa00;") {
			t.Errorf("theme: %s", res.Body)
		}
		// HEAD has the headers and no body; POST is refused.
		if r := b.c.Do("HEAD", strings.TrimPrefix(u, "/api/auth"), nil); r.StatusCode != 200 || len(r.Body) != 0 {
			t.Errorf("HEAD %s: %d", name, r.StatusCode)
		}
	}
	// Another accent gives another theme file name.
	h2 := newPortal(t, &portal.Plugin{AccentColor: "#123456"})
	page2 := string(newBrowser(h2).get("/ui/sign-in").Body)
	if m := assetRe.FindAllStringSubmatch(page2, -1); len(m) == 0 || strings.Contains(page2, found["theme.css"]) {
		t.Error("theme name does not follow the accent colour")
	}
	if !strings.Contains(string(newBrowser(h2).get(strings.TrimPrefix(assetRe.FindAllStringSubmatch(page2, -1)[1][1], "/api/auth")).Body), "--accent:#123456;") {
		t.Error("theme of #123456")
	}
}

func TestBranding(t *testing.T) {
	h := newPortal(t, &portal.Plugin{AppName: "Acme <Corp>", LogoURL: "https://cdn.example.com/logo.svg"})
	res := newBrowser(h).get("/ui/sign-in")
	body := string(res.Body)
	if !strings.Contains(body, "Acme &lt;Corp&gt;") || strings.Contains(body, "<Corp>") || !strings.Contains(body, `<img src="https://cdn.example.com/logo.svg" alt="Acme &lt;Corp&gt;"`) {
		t.Fatalf("branding:\n%s", body)
	}
	wantPageHeaders(t, res, strings.Replace(wantCSP, "img-src 'self' data:", "img-src 'self' data: https://cdn.example.com", 1))
	// Default app name is the engine's.
	h = newPortal(t, nil, authcoretest.WithConfig(func(c *authcore.Config) { c.AppName = "Engine App" }))
	if body := string(newBrowser(h).get("/ui/sign-in").Body); !strings.Contains(body, "<title>Sign in · Engine App</title>") {
		t.Fatalf("default app name:\n%s", body)
	}
}

func TestOptionValidation(t *testing.T) {
	bad := []struct {
		p   portal.Plugin
		err string
	}{
		{portal.Plugin{AccentColor: "red"}, "accent_color"},
		{portal.Plugin{AccentColor: "#12345"}, "accent_color"},
		{portal.Plugin{AccentColor: "#12345g"}, "accent_color"},
		{portal.Plugin{LogoURL: "http://cdn.example.com/x.png"}, "logo_url"},
		{portal.Plugin{LogoURL: "javascript:alert(1)"}, "logo_url"},
		{portal.Plugin{LogoURL: "//cdn.example.com/x.png"}, "logo_url"},
		{portal.Plugin{LogoURL: `https://x.example/a"onerror=1`}, "logo_url"},
		{portal.Plugin{LogoURL: "logo.png"}, "logo_url"},
		{portal.Plugin{DefaultCallback: "https://evil.com/"}, "default_callback"},
		{portal.Plugin{DefaultCallback: "//evil.com"}, "default_callback"},
		{portal.Plugin{DefaultCallback: "app"}, "default_callback"},
		{portal.Plugin{AppName: "two\nlines"}, "app_name"},
	}
	for _, tc := range bad {
		p := tc.p
		_, err := authcore.New(authcore.Config{BaseURL: authcoretest.BaseURL, Secret: authcoretest.Secret},
			authcore.WithStore(memStore()), authcore.WithPlugins(&p))
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%+v: %v", tc.p, err)
		}
	}
	good := portal.Plugin{AccentColor: "#AbC", LogoURL: "/static/logo.svg", DefaultCallback: "/app/home"}
	e, err := authcore.New(authcore.Config{BaseURL: authcoretest.BaseURL, Secret: authcoretest.Secret},
		authcore.WithStore(memStore()), authcore.WithPlugins(&good))
	if err != nil {
		t.Fatal(err)
	}
	e.Close()
}

// A /ui path can never be registered by an API endpoint (the reserved prefix).
func TestReservedPrefix(t *testing.T) {
	_, err := authcore.New(authcore.Config{BaseURL: authcoretest.BaseURL, Secret: authcoretest.Secret},
		authcore.WithStore(memStore()), authcore.WithPlugins(&portal.Plugin{}, squatter{}))
	if err == nil || !strings.Contains(err.Error(), "/ui/") {
		t.Fatalf("endpoint under /ui/: %v", err)
	}
}

type squatter struct{}

func (squatter) ID() string { return "squatter" }
func (squatter) Register(r *authcore.Registrar) error {
	return r.Endpoint(authcore.Endpoint{Method: "GET", Path: "/ui/sign-in", Handler: func(*authcore.Call) (any, error) { return nil, nil }})
}

var _ storage.Store = memStore()

// A verification link that signs in a 2FA user hands over to /ui/two-factor with the
// two_factor cookie and no session.
func TestVerifyEmailTwoFactor(t *testing.T) {
	h := newPortal(t, nil, authcoretest.WithPlugins(&twofactor.Plugin{SkipVerificationOnEnable: true}),
		authcoretest.WithConfig(func(c *authcore.Config) {
			c.EmailVerification.SendOnSignUp = true
			c.EmailVerification.AutoSignInAfterVerification = true
		}))
	c, _ := h.SignUp("Dee", "dee@example.com", pw)
	if r := c.Post("/two-factor/enable", map[string]any{"password": pw}); r.StatusCode != 200 {
		t.Fatalf("enable: %d %s", r.StatusCode, r.Body)
	}
	msg := h.Sink.Wait(t, "verify-email", "dee@example.com")
	u, _ := url.Parse(msg.Data.URL)
	b := newBrowser(h)
	res := b.get("/ui/verify-email?token=" + url.QueryEscape(u.Query().Get("token")) + "&callbackURL=/app")
	if res.StatusCode != 303 || res.Header.Get("Location") != "/api/auth/ui/two-factor?callbackURL=%2Fapp" {
		t.Fatalf("%d %q\n%s", res.StatusCode, res.Header.Get("Location"), res.Body)
	}
	if _, ok := res.SetCookie(h.Engine.CookieName("two_factor")); !ok || hasSessionCookie(h, res) {
		t.Fatalf("cookies %v", res.Header.Values("Set-Cookie"))
	}
}
