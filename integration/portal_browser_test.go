package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gatehouse-auth/gatehouse/internal/smtpsink"
)

// portalGlobal enables the hosted portal (plugins/portal) in the global gatehouse block,
// with the branding options set so that the screenshots show them. (A colour must be
// quoted: an unquoted # starts a Caddyfile comment.)
const portalGlobal = `portal {
			app_name "Gatehouse Demo"
			accent_color "#0f766e"
		}`

// portalPassword is the password the portal tests sign up and in with.
const portalPassword = "correct horse battery staple 42"

// startPortalGateway is startBrowserGateway with the portal on; extra goes into the global
// gatehouse block too (a mailer, more plugins).
func startPortalGateway(t *testing.T, extra string) *browserGateway {
	t.Helper()
	return startBrowserGateway(t, portalGlobal+"\n\t\t"+extra)
}

// api POSTs body as JSON to the auth API (<base>/api/auth<path>) from Go, as a trusted
// origin would, and returns the status and body: for setting up users without the browser.
func (g *browserGateway) api(t *testing.T, path string, body any) (int, []byte) {
	t.Helper()
	data, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, g.base+"/api/auth"+path, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", g.base)
	client := &http.Client{Timeout: 10 * time.Second, Transport: g.srv.Transport(t, nil)}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// createUser signs a user up through the API (not the browser).
func (g *browserGateway) createUser(t *testing.T, name, email, password string) {
	t.Helper()
	if code, body := g.api(t, "/sign-up/email", map[string]string{"name": name, "email": email, "password": password}); code != http.StatusOK {
		t.Fatalf("sign-up of %s: %d %s", email, code, body)
	}
}

// session returns what GET /api/auth/get-session answers the browser (with its cookies),
// from the page's own origin: "null" without a session, else the session JSON. The tab
// must be on a page of the gateway's origin.
func (b *browser) session() string {
	b.t.Helper()
	return run(b, "fetch get-session", chromedp.Evaluate[string](
		`fetch("/api/auth/get-session", {credentials: "same-origin", cache: "no-store"}).then(r => r.text())`,
		chromedp.EvalAwaitPromise))
}

// sessionEmail returns the signed-in user's email per get-session, or "" without a session.
func (b *browser) sessionEmail() string {
	b.t.Helper()
	raw := b.session()
	var s struct {
		User struct {
			Email string `json:"email"`
		} `json:"user"`
	}
	if raw == "null" {
		return ""
	}
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		b.t.Fatalf("get-session answered %q: %v", raw, err)
	}
	return s.User.Email
}

// onPortalPage asserts the tab is on the portal page path (relative to /api/auth/ui) and,
// when callback is not "", that its callbackURL is callback; it returns the parsed URL.
func (b *browser) onPortalPage(g *browserGateway, page, callback string) *url.URL {
	b.t.Helper()
	loc := b.location()
	u, err := url.Parse(loc)
	if err != nil || u.Scheme+"://"+u.Host != g.base || u.Path != "/api/auth/ui"+page {
		b.t.Fatalf("on %s; want the portal's %s page", loc, page)
	}
	if callback != "" && u.Query().Get("callbackURL") != callback {
		b.t.Fatalf("on %s; want callbackURL=%s", loc, callback)
	}
	return u
}

// signInWithPassword fills the portal's sign-in form (the tab must show it) and submits it.
func (b *browser) signInWithPassword(email, password string) {
	b.t.Helper()
	b.waitVisible("form#sign-in")
	b.fill("form#sign-in #email", email)
	b.fill("form#sign-in #password", password)
	b.click("form#sign-in button#submit")
}

// waitGreeting waits for the demo app's page and returns its greeting.
func (b *browser) waitGreeting() string {
	b.t.Helper()
	b.waitVisible("h1#greeting")
	return b.text("h1#greeting")
}

// TestPortalWrongPassword: a wrong password on the portal's sign-in page shows the error
// alert on the sign-in page again (email kept, callbackURL kept), the browser has no
// session, and the protected page still redirects to sign-in; the right password on the
// same form then lands on the protected page, so the test would notice a form that never
// signs anyone in.
func TestPortalWrongPassword(t *testing.T) {
	b := newBrowser(t)
	g := startPortalGateway(t, "")
	g.createUser(t, "Grace Hopper", "grace@example.com", portalPassword)

	b.navigate(g.base + "/reports")
	b.onPortalPage(g, "/sign-in", "/reports")
	b.waitVisible("h1")
	b.screenshot("sign-in")

	b.signInWithPassword("grace@example.com", "not the password at all")
	b.waitVisible("[role=alert]#error")
	if got := b.text("[role=alert]#error"); !strings.Contains(got, "incorrect") {
		t.Errorf("alert says %q; want the invalid email or password message", got)
	}
	b.onPortalPage(g, "/sign-in", "")
	if got := run(b, "email value", chromedp.Value(chromedp.CSS("form#sign-in #email"))); got != "grace@example.com" {
		t.Errorf("the email field holds %q after the error; want it kept", got)
	}
	if got := run(b, "password value", chromedp.Value(chromedp.CSS("form#sign-in #password"))); got != "" {
		t.Errorf("the password field was refilled (%d characters); it must come back empty", len(got))
	}
	b.screenshot("wrong-password")
	if s := b.session(); s != "null" {
		t.Fatalf("after a wrong password get-session answers %s; want null", s)
	}

	b.navigate(g.base + "/reports")
	b.onPortalPage(g, "/sign-in", "/reports")
	if b.exists("#greeting") {
		t.Fatal("the protected page was shown after a failed sign-in")
	}

	b.signInWithPassword("grace@example.com", portalPassword)
	if got := b.waitGreeting(); got != "Hello, Grace Hopper" {
		t.Fatalf("greeting %q after the right password", got)
	}
	if loc := b.location(); loc != g.base+"/reports" {
		t.Fatalf("signed in at %s; want the callbackURL %s/reports", loc, g.base)
	}
}

// TestPortalSignUpToProtectedPage is the first visit of a new user: the protected demo page
// sends the browser to the portal's sign-in page with a callbackURL, the "create one" link
// keeps it, the sign-up form creates the account and signs in, and the browser lands back on
// the protected page, which the gateway now serves with the user's identity headers (the
// greeting is the name typed into the form; the unverified email is not passed on).
func TestPortalSignUpToProtectedPage(t *testing.T) {
	b := newBrowser(t)
	g := startPortalGateway(t, "")

	b.navigate(g.base + "/dashboard?view=week")
	b.onPortalPage(g, "/sign-in", "/dashboard?view=week")
	b.waitVisible("form#sign-in")
	if h1 := b.text("h1"); h1 != "Sign in to Gatehouse Demo" {
		t.Errorf("sign-in h1 %q; want the app_name in it", h1)
	}
	b.screenshot("sign-in")

	b.click(`a[href*="/sign-up"]`)
	b.waitVisible("form#sign-up")
	b.onPortalPage(g, "/sign-up", "/dashboard?view=week")
	b.screenshot("sign-up")

	b.fill("form#sign-up #name", "Ada Lovelace")
	b.fill("form#sign-up #email", "ada@example.com")
	b.fill("form#sign-up #password", portalPassword)
	b.fill("form#sign-up #password-confirm", portalPassword)
	b.screenshot("sign-up-filled")
	b.click("form#sign-up button#submit")

	if got := b.waitGreeting(); got != "Hello, Ada Lovelace" {
		t.Fatalf("greeting %q; want the signed-up user's name", got)
	}
	// The address is not verified (no verification configured), so the gateway must not
	// vouch for it: X-Auth-User-Email is only sent for a verified email.
	if got := b.text("#email"); got != "" {
		t.Errorf("the app got X-Auth-User-Email %q for an unverified address", got)
	}
	if loc := b.location(); loc != g.base+"/dashboard?view=week" {
		t.Errorf("landed on %s; want the callbackURL %s/dashboard?view=week", loc, g.base)
	}
	b.screenshot("protected-page")
	if email := b.sessionEmail(); email != "ada@example.com" {
		t.Fatalf("get-session says %q", email)
	}
}

// TestPortalSignOut: a signed-in user opens the portal, whose header shows who is signed in
// and a sign-out button; signing out lands on the sign-in page, the session is gone
// (get-session is null), and the protected page redirects to sign-in again.
func TestPortalSignOut(t *testing.T) {
	b := newBrowser(t)
	g := startPortalGateway(t, "")
	g.createUser(t, "Alan Turing", "alan@example.com", portalPassword)

	b.navigate(g.base + "/")
	b.onPortalPage(g, "/sign-in", "/")
	b.signInWithPassword("alan@example.com", portalPassword)
	if got := b.waitGreeting(); got != "Hello, Alan Turing" {
		t.Fatalf("greeting %q after sign-in", got)
	}

	b.navigate(g.base + "/api/auth/ui/")
	b.waitVisible("form#sign-out button#submit-sign-out")
	if who := b.text("form#sign-out"); !strings.Contains(who, "alan@example.com") {
		t.Errorf("the header says %q; want the signed-in email", who)
	}
	b.screenshot("portal-signed-in")
	b.click("form#sign-out button#submit-sign-out")
	b.waitVisible("form#sign-in")
	b.onPortalPage(g, "/sign-in", "")
	if b.exists("form#sign-out") {
		t.Error("the sign-out button is still shown after signing out")
	}
	b.screenshot("signed-out")
	if s := b.session(); s != "null" {
		t.Fatalf("after sign-out get-session answers %s; want null", s)
	}

	b.navigate(g.base + "/dashboard")
	b.onPortalPage(g, "/sign-in", "/dashboard")
	if b.exists("#greeting") {
		t.Fatal("the protected page was shown after sign-out")
	}
	b.screenshot("protected-page-redirected")
}

// TestPortalPasswordResetBySMTP: "forgot your password?" on the sign-in page asks for a reset
// link, which arrives by real SMTP (internal/smtpsink, `mailer smtp`); opening the link in
// the browser lands on the portal's reset page, the new password is set there, the old one
// is then refused, and the new one signs in and returns to the page first asked for.
func TestPortalPasswordResetBySMTP(t *testing.T) {
	b := newBrowser(t)
	sink := startMailSink(t, smtpsink.Options{})
	g := startPortalGateway(t, fmt.Sprintf(`mailer smtp {
			host 127.0.0.1
			port %d
			tls none
			from "Gatehouse Demo <no-reply@gatehouse.test>"
		}`, sink.Port))
	const email, newPassword = "katherine@example.com", "a brand new passphrase 2026"
	g.createUser(t, "Katherine Johnson", email, portalPassword)

	b.navigate(g.base + "/orbits")
	b.onPortalPage(g, "/sign-in", "/orbits")
	b.waitVisible("form#sign-in")
	b.click(`a[href*="/forgot-password"]`)
	b.waitVisible("form#forgot-password")
	b.onPortalPage(g, "/forgot-password", "/orbits")
	b.screenshot("forgot-password")
	b.fill("form#forgot-password #email", email)
	b.click("form#forgot-password button#submit")
	b.waitVisible("a#continue")
	if body := b.text("main"); !strings.Contains(body, email) {
		t.Errorf("the confirmation says %q; want the address it was sent to", body)
	}
	b.screenshot("reset-link-sent")

	msg := sink.Wait(t, email)
	p, err := msg.Parse()
	if err != nil {
		t.Fatal(err)
	}
	link := regexp.MustCompile(regexp.QuoteMeta(g.base) + `/api/auth/reset-password/[A-Za-z0-9]+\?callbackURL=[^\s"<>]+`).
		FindString(p.Parts["text/plain"])
	if link == "" {
		t.Fatalf("no reset link in the email's text part:\n%s", p.Parts["text/plain"])
	}

	b.navigate(link)
	b.waitVisible("form#reset-password")
	b.onPortalPage(g, "/reset-password", "")
	b.screenshot("reset-password")
	b.fill("form#reset-password #password", newPassword)
	b.fill("form#reset-password #password-confirm", newPassword)
	b.click("form#reset-password button#submit")
	b.waitVisible("a#continue")
	b.screenshot("password-changed")
	if s := b.session(); s != "null" {
		t.Errorf("the reset signed the browser in (get-session %s); it should not", s)
	}

	if code, _ := g.api(t, "/sign-in/email", map[string]string{"email": email, "password": portalPassword}); code != http.StatusUnauthorized {
		t.Fatalf("the old password answers %d after the reset; want 401", code)
	}
	b.click("a#continue")
	b.onPortalPage(g, "/sign-in", "")
	b.signInWithPassword(email, newPassword)
	if got := b.waitGreeting(); got != "Hello, Katherine Johnson" {
		t.Fatalf("greeting %q after signing in with the new password", got)
	}
	if loc := b.location(); loc != g.base+"/orbits" {
		t.Errorf("signed in at %s; want the page first asked for, %s/orbits", loc, g.base)
	}
	b.screenshot("protected-page")
}
