package integration

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
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
	client := &http.Client{Timeout: 10 * time.Second}
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
