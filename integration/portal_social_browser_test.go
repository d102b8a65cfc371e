package integration

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"
)

// namedUser is a mockoidc user whose ID token also carries the OIDC "name" claim (mockoidc's
// own user has none), so the app's greeting shows the name the IdP gave.
type namedUser struct {
	mockoidc.MockUser
	Name string
}

type namedClaims struct {
	jwt.Claims
	Name string `json:"name,omitempty"`
}

// MarshalJSON merges the name into mockoidc's claims object.
func (c namedClaims) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(c.Claims)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	m["name"] = c.Name
	return json.Marshal(m)
}

func (u *namedUser) Claims(scope []string, base *mockoidc.IDTokenClaims) (jwt.Claims, error) {
	c, err := u.MockUser.Claims(scope, base)
	if err != nil {
		return nil, err
	}
	return namedClaims{Claims: c, Name: u.Name}, nil
}

// startMockOIDC runs mockoidc (a real OIDC IdP that approves the next queued user at once)
// on 127.0.0.1 in the test process, stopped at cleanup.
func startMockOIDC(t *testing.T) *mockoidc.MockOIDC {
	t.Helper()
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	return m
}

// acmeSocial is the global option block of social provider "acme" ("Acme ID") at m.
func acmeSocial(m *mockoidc.MockOIDC) string {
	return fmt.Sprintf(`social acme {
			preset oidc
			name "Acme ID"
			issuer %s
			client_id %s
			client_secret %s
		}`, m.Issuer(), m.ClientID, m.ClientSecret)
}

// sessionUserID is the signed-in user's id per get-session ("" without a session).
func (b *browser) sessionUserID() string {
	b.t.Helper()
	var s struct {
		User struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	raw := b.session()
	if raw == "null" {
		return ""
	}
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		b.t.Fatalf("get-session answered %q: %v", raw, err)
	}
	return s.User.ID
}

// TestBrowserSocialSignIn: an unauthenticated protected page sends Chromium to the portal's
// sign-in page, which offers "Continue with Acme ID"; the click goes to the real OIDC IdP
// (mockoidc, which approves the queued user), back to the callback, and lands on the page
// first asked for, where the app greets the IdP's user by the name and email from the ID
// token. The account page then lists Acme ID under Linked accounts.
func TestBrowserSocialSignIn(t *testing.T) {
	b := newBrowser(t)
	m := startMockOIDC(t)
	g := startPortalGateway(t, acmeSocial(m))
	m.QueueUser(&namedUser{MockUser: mockoidc.MockUser{Subject: "wile-sub", Email: "wile@acme.test", EmailVerified: true}, Name: "Wile E. Coyote"})

	b.navigate(g.base + "/dashboard?tab=2")
	b.waitVisible("button#social-acme")
	b.onPortalPage(g, "/sign-in", "/dashboard?tab=2")
	if got := b.text("button#social-acme"); got != "Continue with Acme ID" {
		t.Fatalf("button says %q", got)
	}
	b.screenshot("sign-in-with-acme")
	b.click("button#social-acme")
	if got := b.waitGreeting(); got != "Hello, Wile E. Coyote" {
		t.Fatalf("greeting %q", got)
	}
	if loc := b.location(); loc != g.base+"/dashboard?tab=2" {
		t.Fatalf("landed on %s", loc)
	}
	if got := b.text("#email"); got != "wile@acme.test" {
		t.Fatalf("the app sees %q", got)
	}
	b.screenshot("signed-in-dashboard")

	b.navigate(g.base + "/api/auth/ui/account")
	b.waitVisible(`#linked-accounts li[data-provider="acme"]`)
	if got := b.text(`#linked-accounts li[data-provider="acme"] .linked-name`); got != "Acme ID" {
		t.Fatalf("linked account shown as %q", got)
	}
	if b.exists(`#linked-accounts li[data-provider="credential"]`) || b.exists("button#link-acme") {
		t.Fatal("a password account or a Link Acme ID button for a social-only user")
	}
	b.screenshot("account-linked-accounts")
}

// TestBrowserSocialLinkAcme: a user with a password signs in, links Acme ID from the account
// page (IdP → callback → back to the account page, which lists it), signs out, and signs in
// again with Acme ID only: the same user (same id, same greeting).
func TestBrowserSocialLinkAcme(t *testing.T) {
	b := newBrowser(t)
	m := startMockOIDC(t)
	g := startPortalGateway(t, acmeSocial(m))
	const email = "road.runner@acme.test"
	g.createUser(t, "Road Runner", email, portalPassword)
	rr := mockoidc.MockUser{Subject: "rr-at-acme", Email: email, EmailVerified: true}
	m.QueueUser(&namedUser{MockUser: rr, Name: "RR at Acme"}) // the link
	m.QueueUser(&namedUser{MockUser: rr, Name: "RR at Acme"}) // the later sign-in

	b.navigate(g.base + "/dashboard")
	b.onPortalPage(g, "/sign-in", "/dashboard")
	b.signInWithPassword(email, portalPassword)
	if got := b.waitGreeting(); got != "Hello, Road Runner" {
		t.Fatalf("greeting %q", got)
	}
	id := b.sessionUserID()
	if id == "" {
		t.Fatal("no session after the password sign-in")
	}

	b.navigate(g.base + "/api/auth/ui/account")
	b.waitVisible("button#link-acme")
	if got := b.text("button#link-acme"); got != "Link Acme ID" {
		t.Fatalf("link button says %q", got)
	}
	b.screenshot("account-before-link")
	b.click("button#link-acme")
	b.waitVisible("#flash")
	u, _ := url.Parse(b.location())
	if u.Path != "/api/auth/ui/account" || u.Query().Get("done") != "account_linked" {
		t.Fatalf("after linking: %s", b.location())
	}
	if !strings.Contains(b.text("#flash"), "linked") || b.text(`#linked-accounts li[data-provider="acme"] .linked-name`) != "Acme ID" ||
		!b.exists(`#linked-accounts li[data-provider="credential"]`) || b.exists("button#link-acme") {
		t.Fatalf("account page after linking: flash %q", b.text("#flash"))
	}
	b.screenshot("account-after-link")

	b.click("button#submit-sign-out")
	b.waitVisible("form#sign-in")
	if b.sessionUserID() != "" {
		t.Fatal("still signed in after signing out")
	}
	b.navigate(g.base + "/dashboard")
	b.waitVisible("button#social-acme")
	b.screenshot("sign-in-again")
	b.click("button#social-acme")
	if got := b.waitGreeting(); got != "Hello, Road Runner" {
		t.Fatalf("greeting after Acme sign-in %q", got)
	}
	if got := b.sessionUserID(); got != id {
		t.Fatalf("Acme signed in user %q, want %q", got, id)
	}
	b.screenshot("signed-in-with-acme")
}
