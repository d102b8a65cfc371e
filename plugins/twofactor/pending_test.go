package twofactor_test

import (
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/plugins/twofactor"
)

// PendingMethods reads the pending sign-in of a plain request (the portal's challenge page):
// the same methods as twoFactorMethods for a live challenge, and nothing for a missing,
// forged, ambiguous, expired or used one.
func TestPendingMethods(t *testing.T) {
	h := newHarness(t, nil)
	p := plugin(t, h)
	a := enrol(t, h, "ann@example.com")
	c := pendingIn(t, h, a.email, "totp", "otp")
	val := c.CookieValue(cookieTwoFactor)
	if val == "" {
		t.Fatal("no two_factor cookie")
	}
	ask := func(cookie string) ([]string, bool) {
		t.Helper()
		r := httptest.NewRequest("GET", "/api/auth/ui/two-factor", nil)
		if cookie != "" {
			r.Header.Set("Cookie", cookie)
		}
		m, ok, err := p.PendingMethods(r)
		if err != nil {
			t.Fatal(err)
		}
		return m, ok
	}
	if m, ok := ask(cookieTwoFactor + "=" + val); !ok || !slices.Equal(m, []string{"totp", "otp"}) {
		t.Fatalf("live challenge: %v %v", m, ok)
	}
	for name, cookie := range map[string]string{
		"none":       "",
		"forged":     cookieTwoFactor + "=2fa-aaaaaaaaaaaaaaaaaaaa.AAAA",
		"tampered":   cookieTwoFactor + "=x" + val,
		"ambiguous":  cookieTwoFactor + "=" + val + "; " + cookieTwoFactor + "=other",
		"other name": "better-auth.session_token=" + val,
	} {
		if m, ok := ask(cookie); ok || m != nil {
			t.Errorf("%s: %v %v", name, m, ok)
		}
	}
	// Used: a right code consumes the challenge.
	if r := c.Post(twofactor.PathVerifyTOTP, map[string]any{"code": nextCode(t, h, a.secret)}); r.StatusCode != 200 {
		t.Fatalf("verify: %d %s", r.StatusCode, r.Body)
	}
	if _, ok := ask(cookieTwoFactor + "=" + val); ok {
		t.Fatal("a used challenge is still pending")
	}
	// Expired.
	c = pendingIn(t, h, a.email, "totp", "otp")
	val = c.CookieValue(cookieTwoFactor)
	h.Clock.Advance(11 * time.Minute)
	if _, ok := ask(cookieTwoFactor + "=" + val); ok {
		t.Fatal("an expired challenge is still pending")
	}
}
