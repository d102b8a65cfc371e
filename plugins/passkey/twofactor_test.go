package passkey_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/plugins/passkey"
	"github.com/gatehouse-auth/gatehouse/plugins/twofactor"
)

// TestWithRealTwoFactor runs passkeys against the real two-factor plugin (D11): a passkey
// with user verification is both factors and passes the challenge; without it the
// challenge applies; and with passkey_as_second_factor a passkey completes a pending
// password sign-in, listed among the twoFactorMethods.
func TestWithRealTwoFactor(t *testing.T) {
	h := authcoretest.New(t, authcoretest.WithPlugins(&twofactor.Plugin{}, &passkey.Plugin{PasskeyAsSecondFactor: true}))
	c, u := h.SignUp("Alice", "alice@example.com", testPW)
	d, _ := register(t, c, "Key")

	// Enrol TOTP: enable with the password, then prove the first code.
	r := c.Post(twofactor.PathEnable, map[string]any{"password": testPW})
	if r.StatusCode != http.StatusOK {
		t.Fatalf("enable: %d %s", r.StatusCode, r.Body)
	}
	uri, err := url.Parse(r.Object()["totpURI"].(string))
	if err != nil {
		t.Fatal(err)
	}
	code, err := totp.GenerateCodeCustom(uri.Query().Get("secret"), h.Clock.Now(),
		totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	if r := c.Post(twofactor.PathVerifyTOTP, map[string]any{"code": code}); r.StatusCode != http.StatusOK {
		t.Fatalf("verify-totp: %d %s", r.StatusCode, r.Body)
	}

	// A user-verified passkey: two factors, a session at once.
	r = signIn(t, h.Client(), d, nil)
	if r.StatusCode != http.StatusOK || !hasSessionCookie(h, r) || userID(r.Object()) != userID(u) {
		t.Fatalf("UV passkey of a 2FA user: %d %s", r.StatusCode, r.Body)
	}
	// Without user verification the passkey is one factor: the challenge, no session.
	before := sessionsOf(t, h, userID(u))
	r = signIn(t, h.Client(), d, func(a *assertion) { a.flags = flagUP })
	if r.StatusCode != http.StatusOK || r.Object()["twoFactorRedirect"] != true || hasSessionCookie(h, r) {
		t.Fatalf("non-UV passkey of a 2FA user: %d %s", r.StatusCode, r.Body)
	}
	if sessionsOf(t, h, userID(u)) != before {
		t.Fatal("a session was created past the challenge")
	}

	// A password sign-in is interrupted, lists the passkey, and the passkey completes it.
	p := h.Client()
	r = p.Post("/sign-in/email", map[string]any{"email": "alice@example.com", "password": testPW})
	methods, _ := r.Object()["twoFactorMethods"].([]any)
	if r.Object()["twoFactorRedirect"] != true || !slices.Contains(methods, any("passkey")) || hasSessionCookie(h, r) {
		t.Fatalf("password sign-in: %d %s", r.StatusCode, r.Body)
	}
	r = signIn(t, p, d, func(a *assertion) { a.flags = flagUP })
	if r.StatusCode != http.StatusOK || !hasSessionCookie(h, r) {
		t.Fatalf("passkey as the second factor: %d %s", r.StatusCode, r.Body)
	}
	if got := p.Get("/get-session"); !strings.Contains(string(got.Body), `"alice@example.com"`) {
		t.Fatalf("get-session after the passkey: %s", got.Body)
	}
}
