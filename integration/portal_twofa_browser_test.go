package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// twoFactorGlobal adds the two_factor and passkey plugins (RP ID localhost, D17) to the
// portal gateway.
const twoFactorGlobal = `two_factor
		passkey {
			rp_id localhost
			rp_name "Gatehouse Demo"
			passkey_as_second_factor
		}`

// totpCode is the authenticator code of a base32 secret (as the enrolment page shows it)
// at a time.
func totpCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestPortalTwoFactorBrowser: a signed-in user turns two-factor on in the portal (QR code,
// secret and backup codes shown; the first code computed here from the secret on the page),
// signs out, signs in with the password, is sent to the challenge page, fails with a wrong
// code (alert, no session) and passes with the right one, landing on the callbackURL.
func TestPortalTwoFactorBrowser(t *testing.T) {
	b := newBrowser(t)
	g := startPortalGateway(t, twoFactorGlobal)
	g.createUser(t, "Ada Lovelace", "ada@example.com", portalPassword)

	b.navigate(g.base + "/reports")
	b.onPortalPage(g, "/sign-in", "/reports")
	b.signInWithPassword("ada@example.com", portalPassword)
	if got := b.waitGreeting(); got != "Hello, Ada Lovelace" {
		t.Fatalf("greeting %q", got)
	}

	// Enrolment.
	b.navigate(g.base + "/api/auth/ui/account/two-factor")
	b.waitVisible("form#two-factor-enable")
	b.screenshot("two-factor-off")
	b.fill("form#two-factor-enable #password", portalPassword)
	b.click("button#submit-enable")
	b.waitVisible("img#totp-qr")
	src := run(b, "QR src", chromedp.Evaluate[string](`document.getElementById("totp-qr").src`))
	if !strings.HasPrefix(src, "data:image/png;base64,") {
		t.Fatalf("QR src %.40q", src)
	}
	if w := run(b, "QR loaded", chromedp.Evaluate[int](`document.getElementById("totp-qr").naturalWidth`)); w < 64 {
		t.Fatalf("the QR image did not load (CSP?): naturalWidth %d", w)
	}
	secret := b.text("#totp-secret")
	codes := run(b, "backup codes", chromedp.Evaluate[int](`document.querySelectorAll("#backup-codes li").length`))
	if secret == "" || codes != 10 {
		t.Fatalf("secret %q, %d backup codes", secret, codes)
	}
	b.screenshot("two-factor-enrol")
	now := time.Now()
	b.fill("form#two-factor-verify #code", totpCode(t, secret, now))
	b.click("button#submit-verify")
	b.waitVisible("form#two-factor-disable")
	if got := b.text("#flash"); !strings.Contains(got, "now on") {
		t.Errorf("flash %q", got)
	}
	if b.exists("#backup-codes") || b.exists("#totp-secret") {
		t.Fatal("backup codes or the secret shown again after enabling")
	}
	b.screenshot("two-factor-on")

	// Sign out, then sign in again: the password is not enough.
	b.click("button#submit-sign-out")
	b.waitVisible("form#sign-in")
	b.navigate(g.base + "/reports")
	b.onPortalPage(g, "/sign-in", "/reports")
	b.signInWithPassword("ada@example.com", portalPassword)
	b.waitVisible("form#two-factor")
	b.onPortalPage(g, "/two-factor", "/reports")
	if s := b.session(); s != "null" {
		t.Fatalf("a session before the second factor: %s", s)
	}
	if !b.exists("button#passkey-two-factor") && b.exists("#passkey-two-factor") {
		t.Fatal("passkey button present for a user without passkeys")
	}
	b.screenshot("two-factor-challenge")

	wrong := "000000"
	if wrong == totpCode(t, secret, time.Now()) || wrong == totpCode(t, secret, now.Add(30*time.Second)) {
		wrong = "111111"
	}
	b.fill("form#two-factor #code", wrong)
	b.click("form#two-factor button#submit")
	b.waitVisible("[role=alert]#error")
	if got := b.text("[role=alert]#error"); !strings.Contains(got, "incorrect") {
		t.Errorf("alert %q", got)
	}
	if s := b.session(); s != "null" {
		t.Fatalf("a wrong code gave a session: %s", s)
	}
	b.screenshot("two-factor-wrong-code")

	// The enrolment used the step of now; the next step is still accepted (±1) and later.
	b.fill("form#two-factor #code", totpCode(t, secret, now.Add(30*time.Second)))
	b.click("form#two-factor #trust-device")
	b.click("form#two-factor button#submit")
	if got := b.waitGreeting(); got != "Hello, Ada Lovelace" {
		t.Fatalf("greeting %q after the second factor", got)
	}
	if loc := b.location(); loc != g.base+"/reports" {
		t.Fatalf("landed on %s; want %s/reports", loc, g.base)
	}
}

// TestPortalPasskeyBrowser: a signed-in user adds a passkey on the account page (Chromium's
// virtual authenticator answers navigator.credentials.create), sees it listed, signs out
// and signs in with the passkey page's button, landing on the callbackURL; then deletes it.
func TestPortalPasskeyBrowser(t *testing.T) {
	b := newBrowser(t)
	g := startPortalGateway(t, twoFactorGlobal)
	g.createUser(t, "Alan Turing", "alan@example.com", portalPassword)
	auth := b.addVirtualAuthenticator()

	b.navigate(g.base + "/api/auth/ui/sign-in/passkey?callbackURL=/reports")
	b.waitVisible("button#passkey-sign-in")
	b.screenshot("passkey-sign-in-page")

	b.navigate(g.base + "/reports")
	b.onPortalPage(g, "/sign-in", "/reports")
	if ac := run(b, "autocomplete", chromedp.Evaluate[string](`document.getElementById("email").getAttribute("autocomplete")`)); ac != "username webauthn" {
		t.Errorf("#email autocomplete %q", ac)
	}
	b.screenshot("sign-in-with-passkeys")
	b.signInWithPassword("alan@example.com", portalPassword)
	b.waitGreeting()

	b.navigate(g.base + "/api/auth/ui/account/passkeys")
	b.waitVisible("button#passkey-register")
	b.screenshot("passkeys-empty")
	b.fill("#passkey-name", "Test laptop")
	b.click("button#passkey-register")
	b.waitLocation("the list after adding", func(l string) bool { return strings.Contains(l, "status=added") })
	b.waitVisible(".passkey-item")
	if got := b.text(".passkey-name"); got != "Test laptop" {
		t.Fatalf("listed passkey %q", got)
	}
	if n := len(b.credentials(auth)); n != 1 {
		t.Fatalf("the authenticator holds %d credentials", n)
	}
	b.screenshot("passkeys-listed")

	// Signed out (cookies cleared: the sign-in page itself would start the autofill
	// ceremony), the passkey page's button signs in.
	b.clearCookies()
	b.navigate(g.base + "/api/auth/ui/sign-in/passkey?callbackURL=/reports")
	b.waitVisible("button#passkey-sign-in")
	if s := b.session(); s != "null" {
		t.Fatalf("still signed in: %s", s)
	}
	b.click("button#passkey-sign-in")
	if got := b.waitGreeting(); got != "Hello, Alan Turing" {
		t.Fatalf("greeting %q after the passkey", got)
	}
	if loc := b.location(); loc != g.base+"/reports" {
		t.Fatalf("landed on %s", loc)
	}

	// Conditional UI: on the sign-in page the browser offers the passkey in the email
	// field's autofill; the virtual authenticator (presence simulated) picks it at once, so
	// the page signs in by itself and goes to the callbackURL.
	b.clearCookies()
	b.navigate(g.base + "/dashboard")
	if got := b.waitGreeting(); got != "Hello, Alan Turing" {
		t.Fatalf("greeting %q after autofill", got)
	}
	if loc := b.location(); loc != g.base+"/dashboard" {
		t.Fatalf("autofill landed on %s", loc)
	}

	// Delete it through the form.
	b.navigate(g.base + "/api/auth/ui/account/passkeys")
	b.waitVisible("form.passkey-delete button")
	b.click("form.passkey-delete button")
	b.waitVisible("#no-passkeys")
	if got := b.text("#flash"); got != "Passkey deleted." {
		t.Errorf("flash %q", got)
	}
	b.screenshot("passkey-deleted")
}

// clearCookies drops every cookie of the browser: signed out without visiting a page.
func (b *browser) clearCookies() {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, actionTimeout)
	defer cancel()
	if _, err := chromedp.Call(ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
		b.fail("Network.clearBrowserCookies", err)
	}
}

// setPresence turns the virtual authenticator's automatic user presence on or off (off: a
// WebAuthn request waits, so the sign-in page's autofill request cannot answer by itself).
func (b *browser) setPresence(id webauthn.AuthenticatorID, on bool) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, actionTimeout)
	defer cancel()
	if _, err := chromedp.Call(ctx, webauthn.SetAutomaticPresenceSimulation,
		webauthn.SetAutomaticPresenceSimulationParams{AuthenticatorID: id, Enabled: on}); err != nil {
		b.fail("WebAuthn.setAutomaticPresenceSimulation", err)
	}
}

// TestPortalTwoFactorPasskeyBrowser: with passkey_as_second_factor, a user with an
// authenticator app and a passkey who signs in with the password is offered "use a passkey"
// on the challenge page, and the passkey completes the sign-in.
func TestPortalTwoFactorPasskeyBrowser(t *testing.T) {
	b := newBrowser(t)
	g := startPortalGateway(t, twoFactorGlobal)
	g.createUser(t, "Grace Hopper", "grace@example.com", portalPassword)
	auth := b.addVirtualAuthenticator()

	b.navigate(g.base + "/reports")
	b.signInWithPassword("grace@example.com", portalPassword)
	b.waitGreeting()
	b.navigate(g.base + "/api/auth/ui/account/passkeys")
	b.waitVisible("button#passkey-register")
	b.click("button#passkey-register")
	b.waitLocation("the list after adding", func(l string) bool { return strings.Contains(l, "status=added") })
	b.navigate(g.base + "/api/auth/ui/account/two-factor")
	b.fill("form#two-factor-enable #password", portalPassword)
	b.click("button#submit-enable")
	b.waitVisible("#totp-secret")
	b.fill("form#two-factor-verify #code", totpCode(t, b.text("#totp-secret"), time.Now()))
	b.click("button#submit-verify")
	b.waitVisible("form#two-factor-disable")

	b.setPresence(auth, false)
	b.clearCookies()
	b.navigate(g.base + "/reports")
	b.signInWithPassword("grace@example.com", portalPassword)
	b.waitVisible("form#two-factor")
	b.waitVisible("button#passkey-two-factor")
	b.screenshot("two-factor-challenge-with-passkey")
	if s := b.session(); s != "null" {
		t.Fatalf("a session before the second factor: %s", s)
	}
	b.setPresence(auth, true)
	b.click("button#passkey-two-factor")
	if got := b.waitGreeting(); got != "Hello, Grace Hopper" {
		t.Fatalf("greeting %q after the passkey", got)
	}
	if loc := b.location(); loc != g.base+"/reports" {
		t.Fatalf("landed on %s", loc)
	}
}
