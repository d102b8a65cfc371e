package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/gatehouse-auth/gatehouse/internal/dnstest"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/oauth2-proxy/mockoidc"
)

// apiClient is a Go client of the auth API with a cookie jar (its own session), over the
// validating transport, sending the gateway's origin as Origin like a trusted page would.
type apiClient struct {
	t    *testing.T
	g    *browserGateway
	http *http.Client
}

func newAPIClient(t *testing.T, g *browserGateway) *apiClient {
	jar, _ := cookiejar.New(nil)
	return &apiClient{t: t, g: g, http: &http.Client{Jar: jar, Timeout: 10 * time.Second, Transport: g.srv.Transport(t, nil),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// call sends method path (under /api/auth) with body as JSON (nil: none), expects status
// and returns the decoded JSON answer (nil when empty).
func (c *apiClient) call(method, path string, body any, status int) map[string]any {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.g.base+"/api/auth"+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Origin", c.g.base)
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		c.t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, raw, status)
	}
	var out map[string]any
	if len(bytes.TrimSpace(raw)) > 0 {
		_ = json.Unmarshal(raw, &out)
	}
	return out
}

// TestBrowserSSOSignIn: an admin (Go API client) creates an organization, registers
// mockoidc as its OIDC provider for acme.test and proves the domain through a real DNS
// server; then Chromium goes protected page → portal sign-in → "Sign in with SSO" → an
// unknown domain (friendly error, still on the form) → wile@acme.test → the interstitial,
// whose meta refresh takes the browser on to the IdP by itself (the request is held at
// the IdP for a screenshot of the page first) → callback → the protected page greeting
// the IdP's user, who is now a member of the organization. Then, with the cookies cleared,
// the same sign-in with nothing held: the meta refresh alone takes Chromium through the IdP
// back to the protected page as the same user.
func TestBrowserSSOSignIn(t *testing.T) {
	b := newBrowser(t)
	m := startMockOIDC(t)
	txt := dnstest.Start(t)
	g := startPortalGateway(t, fmt.Sprintf(`organization
		sso {
			domain_verification {
				resolver %s
			}
		}`, txt.Addr))

	admin := newAPIClient(t, g)
	admin.call("POST", "/sign-up/email", map[string]any{"name": "Ada Admin", "email": "ada@example.com", "password": portalPassword}, http.StatusOK)
	org := admin.call("POST", "/organization/create", map[string]any{"name": "Acme Corp", "slug": "acme"}, http.StatusOK)
	orgID, _ := org["id"].(string)
	reg := admin.call("POST", "/sso/register", map[string]any{"providerId": "acme-oidc", "issuer": m.Issuer(), "domain": "acme.test",
		"organizationId": orgID, "oidcConfig": map[string]any{"clientId": m.ClientID, "clientSecret": m.ClientSecret}}, http.StatusOK)
	tok, _ := reg["domainVerificationToken"].(string)
	if orgID == "" || tok == "" {
		t.Fatalf("organization %q, token %q", orgID, tok)
	}
	txt.Set("_better-auth-token-acme-oidc.acme.test", tok)
	admin.call("POST", "/sso/verify-domain", map[string]any{"providerId": "acme-oidc"}, http.StatusNoContent)
	wile := mockoidc.MockUser{Subject: "wile-at-acme", Email: "wile@acme.test", EmailVerified: true}
	m.QueueUser(&namedUser{MockUser: wile, Name: "Wile E. Coyote"}) // the first sign-in (by the link)
	m.QueueUser(&namedUser{MockUser: wile, Name: "Wile E. Coyote"}) // the second (by the meta refresh alone)

	b.navigate(g.base + "/dashboard?tab=sso")
	b.waitVisible("a#sign-in-sso")
	b.onPortalPage(g, "/sign-in", "/dashboard?tab=sso")
	if got := b.text("a#sign-in-sso"); got != "Sign in with SSO" {
		t.Fatalf("SSO link says %q", got)
	}
	b.screenshot("sign-in-page")
	b.click("a#sign-in-sso")
	b.waitVisible("form#sso")
	b.onPortalPage(g, "/sign-in/sso", "/dashboard?tab=sso")
	b.screenshot("sso-form")

	// A domain nobody set up: the friendly message, the form again.
	b.fill("form#sso #email", "wile@unknown.test")
	b.click("form#sso button#submit")
	b.waitVisible("#error")
	if got := b.text("#error"); !strings.HasPrefix(got, "Single sign-on is not set up for this email address.") {
		t.Fatalf("error says %q", got)
	}
	b.screenshot("sso-unknown-domain")

	// Hold the browser's request to the IdP so that the interstitial can be looked at.
	paused := make(chan *fetch.EventRequestPaused, 4)
	if err := chromedp.Listen(b.ctx, func(ev any) {
		if e, ok := ev.(*fetch.EventRequestPaused); ok {
			select {
			case paused <- e:
			default:
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	b.cdp("Fetch.enable", func(ctx context.Context) error {
		_, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: m.AuthorizationEndpoint() + "*"}}})
		return err
	})
	b.fill("form#sso #email", "wile@acme.test")
	b.click("form#sso button#submit")
	var held *fetch.EventRequestPaused
	select {
	case held = <-paused:
	case <-time.After(actionTimeout):
		b.fail("wait for the meta refresh to go to the IdP", fmt.Errorf("no request to %s", m.AuthorizationEndpoint()))
	}
	// The meta refresh did go to the IdP by itself. Answer that request with a 204 (a
	// navigation answered 204 leaves the page in place) so that the interstitial can be
	// looked at, then go on with its link, as a browser without meta refresh would.
	b.cdp("answer the held IdP request with 204", func(ctx context.Context) error {
		if _, err := chromedp.Call(ctx, fetch.FulfillRequest, fetch.FulfillRequestParams{RequestID: held.RequestID, ResponseCode: http.StatusNoContent}); err != nil {
			return err
		}
		_, err := chromedp.Call(ctx, fetch.Disable, cdp.Empty{})
		return err
	})
	b.waitVisible("a#continue")
	b.onPortalPage(g, "/sign-in/sso", "")
	if got := b.text("h1"); got != "Continue to your organization's sign-in" {
		t.Fatalf("interstitial heading %q", got)
	}
	href := run(b, "read the link", chromedp.Evaluate[string](`document.querySelector("a#continue").href`))
	refresh := run(b, "read the refresh", chromedp.Evaluate[string](`document.querySelector('meta[http-equiv="refresh"]').content`))
	if held.Request.URL != href || refresh != "0;url="+href || !strings.HasPrefix(href, m.AuthorizationEndpoint()+"?") {
		t.Fatalf("the browser went to %s; the link is %s, the refresh %s", held.Request.URL, href, refresh)
	}
	b.screenshot("interstitial")
	b.click("a#continue")

	if got := b.waitGreeting(); got != "Hello, Wile E. Coyote" {
		t.Fatalf("greeting %q", got)
	}
	if loc := b.location(); loc != g.base+"/dashboard?tab=sso" {
		t.Fatalf("landed on %s", loc)
	}
	if got := b.text("#email"); got != "wile@acme.test" {
		t.Fatalf("the app sees %q", got)
	}
	if got := b.sessionEmail(); got != "wile@acme.test" {
		t.Fatalf("get-session says %q", got)
	}
	b.screenshot("signed-in-dashboard")

	id := b.sessionUserID()

	// Again in a browser without cookies, leaving the interstitial to its meta refresh
	// alone: the same user lands on the protected page.
	b.cdp("clear the cookies", func(ctx context.Context) error {
		_, err := chromedp.Call(ctx, network.ClearBrowserCookies, cdp.Empty{})
		return err
	})
	b.navigate(g.base + "/dashboard?again=1")
	b.waitVisible("a#sign-in-sso")
	b.click("a#sign-in-sso")
	b.fill("form#sso #email", "wile@acme.test")
	b.click("form#sso button#submit")
	if got := b.waitGreeting(); got != "Hello, Wile E. Coyote" {
		t.Fatalf("greeting after the refresh-only sign-in %q", got)
	}
	if loc := b.location(); loc != g.base+"/dashboard?again=1" {
		t.Fatalf("landed on %s", loc)
	}
	if got := b.sessionUserID(); got == "" || got != id {
		t.Fatalf("second sign-in as %q, want %q", got, id)
	}
	b.screenshot("signed-in-by-refresh")

	members := admin.call("GET", "/organization/list-members?organizationId="+orgID, nil, http.StatusOK)
	raw, _ := json.Marshal(members)
	if !strings.Contains(string(raw), `"email":"wile@acme.test"`) {
		t.Fatalf("wile is not a member of the organization: %s", raw)
	}
}

// cdp runs a DevTools command on the tab within actionTimeout.
func (b *browser) cdp(what string, f func(ctx context.Context) error) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, actionTimeout)
	defer cancel()
	if err := f(ctx); err != nil {
		b.fail(what, err)
	}
}
