package integration

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
)

// Browser tests drive Debian's headless Chromium with chromedp against the real binary.
// To add a flow (2FA, passkeys, magic link, API keys):
//
//	b := newBrowser(t)                       // first: skips on GATEHOUSE_SKIP_BROWSER=1
//	g := startPortalGateway(t, "two_factor") // portal + extra global options; g.base
//	g.createUser(t, name, email, password)   // or g.api(t, "/path", body) for any API call
//	b.navigate(g.base + "/dashboard")        // protected: lands on the portal's sign-in
//	b.onPortalPage(g, "/sign-in", "/dashboard")
//	b.signInWithPassword(email, password)
//	b.waitVisible("form#two-factor")         // after a click, wait for the next page
//	b.fill(sel, v); b.click(sel); b.text(sel); b.exists(sel); b.location()
//	b.screenshot("two-factor")               // every page visited
//	b.waitGreeting()                         // the demo app's "Hello, <name>"
//	b.session(), b.sessionEmail()            // get-session as the browser sees it
//	id := b.addVirtualAuthenticator()        // before the passkey page; b.credentials(id)
//	run(b, "what", chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise)) // anything else
//
// Mail: smtpsink.Start plus `mailer smtp { host 127.0.0.1 port N tls none from ... }` in
// the extra global options, then sink.Wait(t, email).Parse() (see
// TestPortalPasswordResetBySMTP). Every helper fails the test with the step, the page's URL
// and a FAILED screenshot.

// browserTimeout bounds everything one browser test does in Chromium, start-up included:
// when it passes, the browser is killed and the pending action fails.
const browserTimeout = 60 * time.Second

// actionTimeout bounds one helper call (a navigation, a wait for an element, ...), so that
// a missing element fails the step that wanted it with its selector, not the whole test
// at browserTimeout.
const actionTimeout = 15 * time.Second

// defaultChromium is where Debian's chromium package puts the browser;
// $GATEHOUSE_CHROMIUM overrides it.
const defaultChromium = "/usr/bin/chromium"

// browser is one headless Chromium driven over the DevTools protocol (chromedp), with one
// tab, a fresh profile, and helpers that fail the test on error. Every method runs with
// its own bound (actionTimeout) inside the test's (browserTimeout). The test's cleanup
// stops the browser: only the process this test started.
type browser struct {
	t     *testing.T
	ctx   context.Context // the tab
	shots int
}

// newBrowser starts headless Chromium for t. GATEHOUSE_SKIP_BROWSER=1 skips the test; a
// missing Chromium otherwise fails it, so CI cannot pass without running the browser tests.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	if os.Getenv("GATEHOUSE_SKIP_BROWSER") == "1" {
		t.Skip("GATEHOUSE_SKIP_BROWSER=1: browser tests skipped")
	}
	path := os.Getenv("GATEHOUSE_CHROMIUM")
	if path == "" {
		path = defaultChromium
	}
	if _, err := exec.LookPath(path); err != nil {
		t.Fatalf("Chromium not found at %s (%v): install chromium (apt-get install chromium) "+
			"or set GATEHOUSE_SKIP_BROWSER=1 (GATEHOUSE_CHROMIUM names another binary)", path, err)
	}
	clearScreenshots(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		// Without these Chromium keeps calling out to Google's services (updates,
		// safe browsing lists, sync, field trials) over a network that is closed here.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter,PasswordLeakDetection,AutofillServerCommunication"),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("mute-audio", true),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.Flag("lang", "en-US"),
		chromedp.WindowSize(1280, 900),
	}
	// The whole browser lives in a context that ends at browserTimeout: the allocator
	// kills Chromium when it is done.
	testCtx, cancelTest := context.WithTimeout(context.Background(), browserTimeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(testCtx, opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc() // stops Chromium and waits for it
		cancelTest()
	})
	// Start the browser now, without a per-action bound: chromedp ties the browser's
	// life to the context of the first call.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium (%s): %v", path, err)
	}
	return &browser{t: t, ctx: ctx}
}

// do runs actions on the tab within actionTimeout and fails the test with what on error.
func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, actionTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.fail(what, err)
	}
}

// run is do for an action with a value.
func run[T any](b *browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, actionTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.fail(what, err)
	}
	return v
}

// fail reports a failed step with where the browser was, and keeps a screenshot of it.
func (b *browser) fail(what string, err error) {
	b.t.Helper()
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("%w (step bound %v, test bound %v)", err, actionTimeout, browserTimeout)
	}
	loc := "?"
	if b.ctx.Err() == nil {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		if l, lerr := chromedp.Run(ctx, chromedp.Location()); lerr == nil {
			loc = l
			if png, serr := chromedp.Run(ctx, chromedp.FullScreenshot(100)); serr == nil {
				if path, werr := b.saveScreenshot("FAILED", png); werr == nil {
					b.t.Logf("screenshot of the failure: %s", path)
				}
			}
		}
		cancel()
	}
	b.t.Fatalf("browser: %s: %v (page: %s)", what, err, loc)
}

// navigate loads url and waits for the page's load event.
func (b *browser) navigate(url string) {
	b.t.Helper()
	b.do("navigate to "+url, chromedp.Navigate(url))
}

// fill replaces the value of the input sel with value, typing it as a user would (key
// events, so that the page's input listeners run).
func (b *browser) fill(sel, value string) {
	b.t.Helper()
	b.do(fmt.Sprintf("fill %s", sel),
		chromedp.WaitVisible(chromedp.CSS(sel)),
		chromedp.Clear(chromedp.CSS(sel)),
		chromedp.SendKeys(chromedp.CSS(sel), value),
	)
}

// click clicks the visible element sel with the mouse. A click that submits a form or
// follows a link starts a navigation that click does not wait for: follow it with
// waitVisible of an element of the next page (or waitLocation).
func (b *browser) click(sel string) {
	b.t.Helper()
	b.do("click "+sel, chromedp.Click(chromedp.CSS(sel)))
}

// waitVisible waits until the element sel is in the page and visible.
func (b *browser) waitVisible(sel string) {
	b.t.Helper()
	b.do("wait for "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
}

// text returns the visible text of the element sel (waiting until it exists).
func (b *browser) text(sel string) string {
	b.t.Helper()
	return strings.TrimSpace(run(b, "text of "+sel, chromedp.Text(chromedp.CSS(sel))))
}

// exists reports whether an element matches sel right now (no waiting).
func (b *browser) exists(sel string) bool {
	b.t.Helper()
	return run(b, "look for "+sel, chromedp.Evaluate[bool](fmt.Sprintf("document.querySelector(%q) !== null", sel)))
}

// location returns the tab's current URL.
func (b *browser) location() string {
	b.t.Helper()
	return run(b, "read the location", chromedp.Location())
}

// waitLocation waits until the tab's URL satisfies ok (after a click that navigates), and
// returns it.
func (b *browser) waitLocation(what string, ok func(string) bool) string {
	b.t.Helper()
	deadline := time.Now().Add(actionTimeout)
	for {
		loc := b.location()
		if ok(loc) {
			return loc
		}
		if time.Now().After(deadline) {
			b.fail("wait for the location to be "+what, fmt.Errorf("still at %s after %v", loc, actionTimeout))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// screenshot saves a full-page PNG of the tab as
// test-output/screenshots/<TestName>-<nn>-<name>.png at the repository root (nn counts
// the test's screenshots from 01), and returns its path.
func (b *browser) screenshot(name string) string {
	b.t.Helper()
	png := run(b, "screenshot "+name, chromedp.FullScreenshot(100))
	path, err := b.saveScreenshot(name, png)
	if err != nil {
		b.t.Fatalf("saving screenshot %s: %v", name, err)
	}
	return path
}

// screenshotDir is test-output/screenshots at the repository root (tests run in
// integration/).
func screenshotDir() (string, error) {
	return filepath.Abs(filepath.Join("..", "test-output", "screenshots"))
}

// clearScreenshots removes what an earlier run of t left, so that the directory shows this
// run's pages only.
func clearScreenshots(t *testing.T) {
	dir, err := screenshotDir()
	if err != nil {
		return
	}
	old, _ := filepath.Glob(filepath.Join(dir, screenshotPrefix(t)+"-[0-9][0-9]-*.png"))
	for _, f := range old {
		os.Remove(f)
	}
}

func screenshotPrefix(t *testing.T) string {
	return unsafeFileChars.ReplaceAllString(t.Name(), "_")
}

var unsafeFileChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func (b *browser) saveScreenshot(name string, png []byte) (string, error) {
	dir, err := screenshotDir()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	b.shots++
	file := fmt.Sprintf("%s-%02d-%s.png",
		screenshotPrefix(b.t), b.shots, unsafeFileChars.ReplaceAllString(name, "_"))
	path := filepath.Join(dir, file)
	return path, os.WriteFile(path, png, 0o644)
}

// addVirtualAuthenticator gives the tab a virtual platform authenticator (CTAP2, internal
// transport, resident keys, user verification that always succeeds, presence simulated),
// so that navigator.credentials.create/get work without a person: passkey flows. It
// returns the authenticator's id for webauthn.GetCredentials and friends.
func (b *browser) addVirtualAuthenticator() webauthn.AuthenticatorID {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, actionTimeout)
	defer cancel()
	if _, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		b.fail("WebAuthn.enable", err)
	}
	res, err := chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol:                    webauthn.AuthenticatorProtocolCtap2,
			Transport:                   webauthn.AuthenticatorTransportInternal,
			HasResidentKey:              true,
			HasUserVerification:         true,
			IsUserVerified:              true,
			AutomaticPresenceSimulation: true,
		},
	})
	if err != nil {
		b.fail("WebAuthn.addVirtualAuthenticator", err)
	}
	return res.AuthenticatorID
}

// credentials returns the credentials the virtual authenticator id holds.
func (b *browser) credentials(id webauthn.AuthenticatorID) []*webauthn.Credential {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, actionTimeout)
	defer cancel()
	res, err := chromedp.Call(ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: id})
	if err != nil {
		b.fail("WebAuthn.getCredentials", err)
	}
	return res.Credentials
}

// demoUpstream is a Caddyfile site block for a small app on 127.0.0.1:port, put behind a
// gatehouse-protected site with `reverse_proxy 127.0.0.1:<port>`. Every page is HTML that
// greets the signed-in user from the identity headers the gateway sets: h1#greeting
// "Hello, <X-Auth-User-Name>" and p#email <X-Auth-User-Email>. /public/* answers a fixed
// page (h1#title "Public page") and /health "ok" for readiness.
func demoUpstream(port int) string {
	return fmt.Sprintf(`http://:%d {
	bind 127.0.0.1
	header Content-Type "text/html; charset=utf-8"
	respond /health "ok"
	respond /public/* "<!doctype html><html lang=en><head><meta charset=utf-8><title>Public page</title></head><body><h1 id=title>Public page</h1><p>Anyone may read this.</p></body></html>"
	respond "<!doctype html><html lang=en><head><meta charset=utf-8><title>Demo app</title></head><body><h1 id=greeting>Hello, {header.X-Auth-User-Name}</h1><p id=email>{header.X-Auth-User-Email}</p><p><a id=account href=/api/auth/ui/>Account</a></p></body></html>"
}
`, port)
}

// loginPath is the portal's sign-in page, the protected site's login_url.
const loginPath = "/api/auth/ui/sign-in"

// browserGateway is a gatehouse binary serving http://localhost:<port> (localhost, not
// 127.0.0.1: WebAuthn needs a domain for its RP ID, and localhost is a secure context
// over plain HTTP) in front of demoUpstream: /public/* open to all, everything else
// needs a session, browsers without one go to loginPath.
type browserGateway struct {
	srv  *Server
	base string // http://localhost:<port>
}

// startBrowserGateway starts it; global is added to the global gatehouse block (plugins,
// `portal`, a mailer).
func startBrowserGateway(t *testing.T, global string) *browserGateway {
	t.Helper()
	return startBrowserGatewayLogin(t, global, loginPath)
}

// startBrowserGatewayLogin is startBrowserGateway with another login_url.
func startBrowserGatewayLogin(t *testing.T, global, loginURL string) *browserGateway {
	t.Helper()
	ports := freePorts(t, 2)
	gw, app := ports[0], ports[1]
	cf := fmt.Sprintf(`{
	admin {ADMIN}
	default_bind 127.0.0.1
	gatehouse {
		base_url http://localhost:%[1]d
		storage bbolt gatehouse.db
		rate_limit off
		%[3]s
	}
}
http://localhost:%[1]d {
	gatehouse {
		public /public/*
		login_url %[4]s
	}
	reverse_proxy 127.0.0.1:%[2]d
}
%[5]s`, gw, app, global, loginURL, demoUpstream(app))
	g := &browserGateway{base: fmt.Sprintf("http://localhost:%d", gw)}
	g.srv = StartServer(t, cf, g.base+"/api/auth/ok")
	waitReady(t, fmt.Sprintf("http://127.0.0.1:%d/health", app))
	return g
}

// TestBrowserPublicPage proves the harness end to end without the portal: Chromium loads
// a public page through the gateway, the test reads its h1 and saves a screenshot that is
// a real PNG.
func TestBrowserPublicPage(t *testing.T) {
	b := newBrowser(t)
	g := startBrowserGateway(t, "")
	b.navigate(g.base + "/public/welcome")
	if got := b.text("h1"); got != "Public page" {
		t.Fatalf("h1 = %q, want %q", got, "Public page")
	}
	if loc := b.location(); loc != g.base+"/public/welcome" {
		t.Fatalf("location %q, want the public page itself", loc)
	}
	path := b.screenshot("public-page")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < 1000 || string(data[:8]) != "\x89PNG\r\n\x1a\n" {
		t.Fatalf("%s is not a PNG (%d bytes)", path, len(data))
	}
}

// TestBrowserLoginRedirect: a browser navigation to a protected page without a session is
// answered 302 to login_url with a callbackURL back to the page it asked for, path and
// query; Chromium follows it and ends there, and the upstream never greets anyone. (The
// login_url here is a public page of the demo app, so the test needs no portal.)
func TestBrowserLoginRedirect(t *testing.T) {
	const login = "/public/login"
	g := startBrowserGatewayLogin(t, "", login)

	// What the gateway answers a browser navigation: a 302, before Chromium follows it.
	req, err := http.NewRequest(http.MethodGet, g.base+"/dashboard?tab=2", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	noFollow := &http.Client{Timeout: 10 * time.Second, Transport: g.srv.Transport(t, nil),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if want := login + "?callbackURL=" + url.QueryEscape("/dashboard?tab=2"); resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != want {
		t.Fatalf("navigation answered %d Location %q; want 302 %q", resp.StatusCode, resp.Header.Get("Location"), want)
	}

	b := newBrowser(t)
	b.navigate(g.base + "/dashboard?tab=2")
	loc := b.location()
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme+"://"+u.Host != g.base || u.Path != login || u.Query().Get("callbackURL") != "/dashboard?tab=2" {
		t.Fatalf("ended on %s; want %s%s?callbackURL=/dashboard?tab=2", loc, g.base, login)
	}
	if got := b.text("h1"); got != "Public page" || b.exists("#greeting") {
		t.Fatalf("h1 %q: the browser is not on the login page, or the protected page was shown", got)
	}
	b.screenshot("login-redirect")
}

// TestBrowserVirtualAuthenticator: the virtual authenticator answers
// navigator.credentials.create on the gateway's origin (localhost is a secure context)
// with a resident, user-verified credential, and the authenticator then holds it — what
// passkey flows build on.
func TestBrowserVirtualAuthenticator(t *testing.T) {
	b := newBrowser(t)
	g := startBrowserGateway(t, "")
	id := b.addVirtualAuthenticator()
	b.navigate(g.base + "/public/welcome")
	const create = `(async () => {
		const cred = await navigator.credentials.create({publicKey: {
			rp: {id: "localhost", name: "Gatehouse test"},
			user: {id: new Uint8Array([1, 2, 3, 4]), name: "ada@example.com", displayName: "Ada"},
			challenge: crypto.getRandomValues(new Uint8Array(32)),
			pubKeyCredParams: [{type: "public-key", alg: -7}],
			authenticatorSelection: {residentKey: "required", userVerification: "required"},
		}});
		const flags = new Uint8Array(cred.response.getAuthenticatorData())[32];
		return cred.type + " uv=" + ((flags & 4) !== 0);
	})()`
	got := run(b, "navigator.credentials.create", chromedp.Evaluate[string](create, chromedp.EvalAwaitPromise))
	if got != "public-key uv=true" {
		t.Fatalf("create answered %q", got)
	}
	creds := b.credentials(id)
	if len(creds) != 1 || !creds[0].IsResidentCredential || creds[0].RpID != "localhost" {
		t.Fatalf("authenticator holds %+v; want one resident credential for localhost", creds)
	}
}
