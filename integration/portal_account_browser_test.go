package integration

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// accountGlobal adds the plugins the account and admin pages show sections for.
const accountGlobal = `api_key
		admin
		organization`

// getWithKey requests url from Go with the x-api-key header (no cookies, no redirects) and
// returns the status and body.
func getWithKey(t *testing.T, url, key string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("x-api-key", key)
	client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestPortalAccountAPIKey: a user signs up on the portal, creates an API key on the account
// page, reads it from #api-key-value (shown once: a reload does not show it), uses it from
// Go through the gateway to the protected demo app (200, the app greets the user), revokes
// it on the page, and the same request is then 401.
func TestPortalAccountAPIKey(t *testing.T) {
	b := newBrowser(t)
	g := startPortalGateway(t, accountGlobal)

	b.navigate(g.base + "/api/auth/ui/sign-up")
	b.waitVisible("form#sign-up")
	b.fill("form#sign-up #name", "Grace Hopper")
	b.fill("form#sign-up #email", "grace@example.com")
	b.fill("form#sign-up #password", portalPassword)
	b.fill("form#sign-up #password-confirm", portalPassword)
	b.click("form#sign-up button#submit")
	if got := b.waitGreeting(); got != "Hello, Grace Hopper" {
		t.Fatalf("greeting after sign-up %q", got)
	}

	b.navigate(g.base + "/api/auth/ui/account")
	b.waitVisible("form#api-key-create")
	b.screenshot("account")
	b.fill("#api-key-name", "ci")
	b.click("button#submit-api-key")
	b.waitVisible("#api-key-value")
	key := b.text("#api-key-value")
	b.screenshot("api-key-created")
	if len(key) < 32 {
		t.Fatalf("key %q", key)
	}

	status, body := getWithKey(t, g.base+"/reports", key)
	if status != http.StatusOK || !strings.Contains(body, "Hello, Grace Hopper") {
		t.Fatalf("request with the key: %d %s", status, body)
	}

	// A reload shows the key in the list by its start only.
	b.navigate(g.base + "/api/auth/ui/account")
	b.waitVisible("form.api-key-revoke")
	if b.exists("#api-key-value") {
		t.Fatal("the key is shown again after a reload")
	}
	if html := run(b, "page html", chromedp.Evaluate[string]("document.documentElement.outerHTML")); strings.Contains(html, key) {
		t.Fatal("the key is in the page after a reload")
	}
	b.click("form.api-key-revoke button[type=submit]")
	b.waitVisible("#flash")
	if got := b.text("#flash"); !strings.Contains(got, "revoked") {
		t.Fatalf("flash %q", got)
	}
	b.screenshot("api-key-revoked")
	if b.exists("form.api-key-revoke") {
		t.Fatal("the revoked key is still listed")
	}
	if status, body := getWithKey(t, g.base+"/reports", key); status != http.StatusUnauthorized {
		t.Fatalf("request with the revoked key: %d %s", status, body)
	}
}

// TestPortalAdminPages: an administrator (role set with the CLI) finds a user on the admin
// list, bans and unbans them on the user page, impersonates them (the demo app greets the
// user, the portal shows the stop banner), and stops (back to the admin's own session).
func TestPortalAdminPages(t *testing.T) {
	b := newBrowser(t)
	g := startPortalGateway(t, accountGlobal)
	g.createUser(t, "Grace Hopper", "grace@example.com", portalPassword)
	g.createUser(t, "Bob Builder", "bob@example.com", portalPassword)
	(&cliSite{t: t, s: g.srv, base: g.base}).admin("", "user", "set-role", "grace@example.com", "admin")

	b.navigate(g.base + "/api/auth/ui/admin")
	b.onPortalPage(g, "/sign-in", "/api/auth/ui/admin")
	b.signInWithPassword("grace@example.com", portalPassword)
	b.waitVisible("form#admin-search")
	b.screenshot("admin-list")
	b.fill("#q", "bob")
	b.click("button#submit-admin-search")
	b.waitLocation("the search", func(l string) bool { return strings.Contains(l, "q=bob") })
	b.waitVisible("table#admin-users")
	if got := b.text("table#admin-users tbody"); !strings.Contains(got, "bob@example.com") || strings.Contains(got, "grace@") {
		t.Fatalf("search result %q", got)
	}
	b.click("table#admin-users a")
	b.waitVisible("form#admin-ban")
	b.screenshot("admin-user")

	b.fill("#ban-reason", "spam")
	b.fill("#ban-expires", "7")
	b.click("button#submit-admin-ban")
	b.waitVisible("form#admin-unban")
	if got := b.text("#admin-user-banned"); !strings.Contains(got, "spam") {
		t.Fatalf("banned shows %q", got)
	}
	b.screenshot("admin-user-banned")
	b.click("button#submit-admin-unban")
	b.waitVisible("form#admin-ban")

	b.click("button#submit-admin-impersonate")
	if got := b.waitGreeting(); got != "Hello, Bob Builder" {
		t.Fatalf("impersonating: greeting %q", got)
	}
	b.navigate(g.base + "/api/auth/ui/account")
	b.waitVisible("form#stop-impersonating")
	b.screenshot("impersonating")
	b.click("button#submit-stop-impersonating")
	b.waitVisible("form#admin-search")
	if got := b.sessionEmail(); got != "grace@example.com" {
		t.Fatalf("after stopping the session is %q's", got)
	}
	if b.exists("form#stop-impersonating") {
		t.Fatal("the impersonation banner is still shown")
	}
}
