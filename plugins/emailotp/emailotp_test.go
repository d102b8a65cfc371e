package emailotp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/authcore/ratelimit"
	"github.com/gatehouse-auth/gatehouse/plugins/emailotp"
	"github.com/gatehouse-auth/gatehouse/storage"
	"github.com/gatehouse-auth/gatehouse/storage/memory"
)

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

const (
	pw            = "correct horse battery"
	newPW         = "staple battery horse"
	sessionCookie = "better-auth.session_token"
	successBody   = `{"success":true}`
)

var sixDigits = regexp.MustCompile(`^[0-9]{6}$`)

func newHarness(t *testing.T, p *emailotp.Plugin, opts ...authcoretest.Option) *authcoretest.Harness {
	t.Helper()
	return authcoretest.New(t, append([]authcoretest.Option{authcoretest.WithPlugins(p)}, opts...)...)
}

func withConfig(f func(*authcore.Config)) authcoretest.Option { return authcoretest.WithConfig(f) }

// otpMessages returns the email-otp messages sent to an address, after draining the queue.
func otpMessages(t *testing.T, h *authcoretest.Harness, to string) []authcore.Message {
	t.Helper()
	return h.Sent("email-otp", to)
}

// lastCode returns the code of the newest email-otp message to an address for a purpose.
func lastCode(t *testing.T, h *authcoretest.Harness, to, purpose string) string {
	t.Helper()
	msgs := otpMessages(t, h, to)
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Vars["purpose"] == purpose {
			return msgs[i].Data.OTP
		}
	}
	t.Fatalf("no %s code was sent to %s (%d email-otp messages)", purpose, to, len(msgs))
	return ""
}

// sendCode asks for a code of a purpose and returns it from the sink.
func sendCode(t *testing.T, h *authcoretest.Harness, email, typ string) string {
	t.Helper()
	r := h.Client().Post(emailotp.PathSendVerificationOTP, map[string]any{"email": email, "type": typ})
	ok(t, r, successBody)
	return lastCode(t, h, authcore.NormalizeEmail(email), typ)
}

// ok asserts a 200 with exactly the given body ("" skips the body check).
func ok(t *testing.T, r *authcoretest.Response, body string) {
	t.Helper()
	if r.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200; body %s", r.StatusCode, r.Body)
	}
	if body != "" && string(r.Body) != body {
		t.Fatalf("body %s, want %s", r.Body, body)
	}
}

// fail asserts an error envelope: status, code ("" means the envelope has no code) and
// message ("" skips the message check).
func fail(t *testing.T, r *authcoretest.Response, status int, code, message string) {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("status %d, want %d; body %s", r.StatusCode, status, r.Body)
	}
	obj := r.Object()
	if obj == nil {
		t.Fatalf("error body is not a JSON object: %q", r.Body)
	}
	if got, has := obj["code"]; code == "" && has {
		t.Fatalf("envelope has code %v, want none; body %s", got, r.Body)
	}
	if code != "" && r.Code() != code {
		t.Fatalf("code %q, want %q; body %s", r.Code(), code, r.Body)
	}
	if message != "" && obj["message"] != message {
		t.Fatalf("message %q, want %q", obj["message"], message)
	}
	if _, set := r.SetCookie(sessionCookie); set {
		t.Fatalf("an error response set the session cookie")
	}
}

func rows(t *testing.T, h *authcoretest.Harness, model string, where storage.Where) []storage.Record {
	t.Helper()
	recs, err := h.Engine.Store().FindMany(context.Background(), model, storage.Query{Where: where})
	if err != nil {
		t.Fatalf("reading %s: %v", model, err)
	}
	return recs
}

func verification(t *testing.T, h *authcoretest.Harness, identifier string) storage.Record {
	t.Helper()
	recs := rows(t, h, authcore.ModelVerification, storage.Eq("identifier", identifier))
	switch len(recs) {
	case 0:
		return nil
	case 1:
		return recs[0]
	}
	t.Fatalf("%d verification rows for %s", len(recs), identifier)
	return nil
}

func user(t *testing.T, h *authcoretest.Harness, email string) storage.Record {
	t.Helper()
	u, err := h.Engine.UserByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// storedPart is the stored code of a verification value "<stored>:<attempts>".
func storedPart(value string) string {
	i := strings.LastIndexByte(value, ':')
	if i < 0 {
		return value
	}
	return value[:i]
}

func api(t *testing.T, h *authcoretest.Harness) *emailotp.Plugin {
	t.Helper()
	v, found := h.Engine.Plugin("email-otp")
	p, isPlugin := v.(*emailotp.Plugin)
	if !found || !isPlugin {
		t.Fatalf("engine.Plugin(email-otp) = %T %v", v, found)
	}
	return p
}

// ---------------------------------------------------------------------------------------
// POST /email-otp/send-verification-otp
// ---------------------------------------------------------------------------------------

func TestSendVerificationOTP(t *testing.T) {
	h := newHarness(t, &emailotp.Plugin{})
	h.SignUp("Alice", "alice@example.com", pw)
	for _, typ := range []string{"email-verification", "sign-in", "forget-password"} {
		t.Run(typ, func(t *testing.T) {
			before := len(otpMessages(t, h, "alice@example.com"))
			r := h.Client().Post(emailotp.PathSendVerificationOTP, map[string]any{"email": "Alice@Example.COM", "type": typ})
			ok(t, r, successBody)
			msgs := otpMessages(t, h, "alice@example.com")
			if len(msgs) != before+1 {
				t.Fatalf("%d messages, want %d", len(msgs), before+1)
			}
			m := msgs[len(msgs)-1]
			if !sixDigits.MatchString(m.Data.OTP) || m.Vars["purpose"] != typ || m.ExpiresIn != 5*time.Minute ||
				m.Data.URL != "" || m.Data.Token != "" {
				t.Fatalf("message %+v", m)
			}
			row := verification(t, h, typ+"-otp-alice@example.com")
			if row == nil || !strings.HasSuffix(row.String("value"), ":0") {
				t.Fatalf("verification row %v", row)
			}
			if want := h.Clock.Now().Add(5 * time.Minute); !row.Time("expiresAt").Equal(want) {
				t.Fatalf("expiry %v, want %v", row.Time("expiresAt"), want)
			}
		})
	}
}

func TestSendVerificationOTPErrors(t *testing.T) {
	h := newHarness(t, &emailotp.Plugin{})
	c := h.Client()
	fail(t, c.Post(emailotp.PathSendVerificationOTP, map[string]any{"email": "a@example.com", "type": "change-email"}),
		http.StatusBadRequest, "", "Invalid OTP type")
	fail(t, c.Post(emailotp.PathSendVerificationOTP, map[string]any{"email": "a@example.com", "type": "bogus"}),
		http.StatusBadRequest, "VALIDATION_ERROR", "")
	fail(t, c.Post(emailotp.PathSendVerificationOTP, map[string]any{"email": "not-an-email", "type": "sign-in"}),
		http.StatusBadRequest, "INVALID_EMAIL", "Invalid email")
	fail(t, c.Post(emailotp.PathSendVerificationOTP, map[string]any{"type": "sign-in"}),
		http.StatusBadRequest, "VALIDATION_ERROR", "")
	fail(t, c.Post(emailotp.PathSendVerificationOTP, map[string]any{"email": "a@example.com"}),
		http.StatusBadRequest, "VALIDATION_ERROR", "")
	// Form-CSRF (spec §4.4): a cross-site navigation and a cross-origin POST are refused.
	body := map[string]any{"email": "a@example.com", "type": "sign-in"}
	fail(t, c.Post(emailotp.PathSendVerificationOTP, body, "Origin", "", "Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "navigate", "Sec-Fetch-Dest", "document"),
		http.StatusForbidden, "CROSS_SITE_NAVIGATION_LOGIN_BLOCKED", "")
	fail(t, c.Post(emailotp.PathSendVerificationOTP, body, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "cors"),
		http.StatusForbidden, "INVALID_ORIGIN", "")
	if n := len(otpMessages(t, h, "a@example.com")); n != 0 {
		t.Fatalf("%d messages sent for refused requests", n)
	}

	// No mailer: Better Auth's answer when sending is not set up (D13), for every route that
	// sends a code.
	nm := newHarness(t, &emailotp.Plugin{ChangeEmail: emailotp.ChangeEmail{Enabled: true}}, authcoretest.WithoutMailer())
	fail(t, nm.Client().Post(emailotp.PathSendVerificationOTP, map[string]any{"email": "a@example.com", "type": "sign-in"}),
		http.StatusBadRequest, "", "send email verification is not implemented")
	fail(t, nm.Client().Post(emailotp.PathRequestPasswordReset, map[string]any{"email": "a@example.com"}),
		http.StatusBadRequest, "", "send email verification is not implemented")
	alice, _ := nm.SignUp("Alice", "alice@example.com", pw)
	fail(t, alice.Post(emailotp.PathRequestEmailChange, map[string]any{"newEmail": "new@example.com"}),
		http.StatusBadRequest, "", "send email verification is not implemented")
}

// ENUM-03: a known and an unknown address get byte-identical answers; only the account
// gets a code, and no code is stored for the unknown address.
func TestSendDoesNotRevealAccounts(t *testing.T) {
	cases := []struct {
		name   string
		plugin emailotp.Plugin
		path   string
		typ    string
	}{
		{"email-verification", emailotp.Plugin{}, emailotp.PathSendVerificationOTP, "email-verification"},
		{"forget-password", emailotp.Plugin{}, emailotp.PathSendVerificationOTP, "forget-password"},
		{"sign-in without sign-up", emailotp.Plugin{DisableSignUp: true}, emailotp.PathSendVerificationOTP, "sign-in"},
		{"request-password-reset", emailotp.Plugin{}, emailotp.PathRequestPasswordReset, "forget-password"},
		{"forget-password alias", emailotp.Plugin{}, emailotp.PathForgetPassword, "forget-password"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.plugin
			h := newHarness(t, &p)
			h.SignUp("Alice", "alice@example.com", pw)
			body := func(email string) map[string]any {
				b := map[string]any{"email": email}
				if tc.path == emailotp.PathSendVerificationOTP {
					b["type"] = tc.typ
				}
				return b
			}
			known := h.Client().Post(tc.path, body("alice@example.com"))
			unknown := h.Client().Post(tc.path, body("nobody@example.com"))
			for _, r := range []*authcoretest.Response{known, unknown} {
				ok(t, r, successBody)
				if len(r.Header.Values("Set-Cookie")) != 0 {
					t.Fatalf("cookies set: %v", r.Header.Values("Set-Cookie"))
				}
			}
			if known.Header.Get("Content-Type") != unknown.Header.Get("Content-Type") ||
				known.Header.Get("Content-Length") != unknown.Header.Get("Content-Length") {
				t.Fatalf("headers differ: %v vs %v", known.Header, unknown.Header)
			}
			if len(otpMessages(t, h, "alice@example.com")) != 1 {
				t.Fatal("the account got no code")
			}
			if len(otpMessages(t, h, "nobody@example.com")) != 0 {
				t.Fatal("the unknown address got a code")
			}
			if row := verification(t, h, tc.typ+"-otp-nobody@example.com"); row != nil {
				t.Fatalf("a code is stored for the unknown address: %v", row)
			}
		})
	}

	// Sign-in with sign-up allowed sends to any address: that is how sign-up by code works.
	h := newHarness(t, &emailotp.Plugin{})
	ok(t, h.Client().Post(emailotp.PathSendVerificationOTP, map[string]any{"email": "new@example.com", "type": "sign-in"}), successBody)
	if len(otpMessages(t, h, "new@example.com")) != 1 {
		t.Fatal("no sign-in code for a new address")
	}
	// Sign-up restricted to domains: outside them, unknown addresses get nothing (D1).
	hd := newHarness(t, &emailotp.Plugin{}, withConfig(func(c *authcore.Config) {
		c.EmailAndPassword.AllowedDomains = []string{"example.com"}
	}))
	ok(t, hd.Client().Post(emailotp.PathSendVerificationOTP, map[string]any{"email": "x@other.test", "type": "sign-in"}), successBody)
	ok(t, hd.Client().Post(emailotp.PathSendVerificationOTP, map[string]any{"email": "x@example.com", "type": "sign-in"}), successBody)
	if len(otpMessages(t, hd, "x@other.test")) != 0 || len(otpMessages(t, hd, "x@example.com")) != 1 {
		t.Fatal("allowed_domains not applied to sign-up by code")
	}
	// A malformed address is no account's: Better Auth answers success and sends nothing.
	ok(t, h.Client().Post(emailotp.PathRequestPasswordReset, map[string]any{"email": "not an email"}), successBody)
}

// ---------------------------------------------------------------------------------------
// POST /email-otp/check-verification-otp
// ---------------------------------------------------------------------------------------

func TestCheckVerificationOTP(t *testing.T) {
	h := newHarness(t, &emailotp.Plugin{})
	h.SignUp("Alice", "alice@example.com", pw)
	code := sendCode(t, h, "alice@example.com", "email-verification")
	c := h.Client()
	check := func(email, typ, otp string) *authcoretest.Response {
		return c.Post(emailotp.PathCheckVerificationOTP, map[string]any{"email": email, "type": typ, "otp": otp})
	}
	ok(t, check("alice@example.com", "email-verification", code), successBody)
	ok(t, check("ALICE@example.com", "email-verification", code), successBody) // not used up

	// A wrong guess counts, even though checking does not use the code up.
	fail(t, check("alice@example.com", "email-verification", "000000x"), http.StatusBadRequest, "INVALID_OTP", "Invalid OTP")
	if v := verification(t, h, "email-verification-otp-alice@example.com").String("value"); !strings.HasSuffix(v, ":1") {
		t.Fatalf("attempt counter: %q", v)
	}
	// The checked code still verifies the address.
	ok(t, c.Post(emailotp.PathVerifyEmail, map[string]any{"email": "alice@example.com", "otp": code}), "")

	fail(t, check("alice@example.com", "forget-password", code), http.StatusBadRequest, "INVALID_OTP", "Invalid OTP")
	fail(t, check("not-an-email", "email-verification", code), http.StatusBadRequest, "INVALID_EMAIL", "")
	fail(t, check("alice@example.com", "nope", code), http.StatusBadRequest, "VALIDATION_ERROR", "")

	// A right sign-in code for an address without an account: USER_NOT_FOUND.
	newCode := sendCode(t, h, "new@example.com", "sign-in")
	fail(t, check("new@example.com", "sign-in", newCode), http.StatusBadRequest, "USER_NOT_FOUND", "User not found")

	// Expired.
	code = sendCode(t, h, "alice@example.com", "forget-password")
	h.Clock.Advance(5 * time.Minute)
	fail(t, check("alice@example.com", "forget-password", code), http.StatusBadRequest, "OTP_EXPIRED", "OTP expired")
}

// ---------------------------------------------------------------------------------------
// POST /email-otp/verify-email
// ---------------------------------------------------------------------------------------

func TestVerifyEmail(t *testing.T) {
	h := newHarness(t, &emailotp.Plugin{})
	h.SignUp("Alice", "alice@example.com", pw)
	code := sendCode(t, h, "alice@example.com", "email-verification")
	c := h.Client()
	r := c.Post(emailotp.PathVerifyEmail, map[string]any{"email": "Alice@example.com", "otp": code})
	ok(t, r, "")
	obj := r.Object()
	u, _ := obj["user"].(map[string]any)
	if obj["status"] != true || obj["token"] != nil || u["emailVerified"] != true || u["email"] != "alice@example.com" {
		t.Fatalf("body %s", r.Body)
	}
	if _, hasToken := obj["token"]; !hasToken {
		t.Fatal("token must be present as null")
	}
	if _, set := r.SetCookie(sessionCookie); set {
		t.Fatal("a session cookie without auto sign-in")
	}
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Fatal("no Cache-Control: no-store")
	}
	if !user(t, h, "alice@example.com").Bool("emailVerified") {
		t.Fatal("not verified in storage")
	}
	// Used up.
	fail(t, c.Post(emailotp.PathVerifyEmail, map[string]any{"email": "alice@example.com", "otp": code}), http.StatusBadRequest, "INVALID_OTP", "")
	// A code of another purpose does not verify (OTT-01).
	signInCode := sendCode(t, h, "alice@example.com", "sign-in")
	fail(t, c.Post(emailotp.PathVerifyEmail, map[string]any{"email": "alice@example.com", "otp": signInCode}), http.StatusBadRequest, "INVALID_OTP", "")
	fail(t, c.Post(emailotp.PathVerifyEmail, map[string]any{"email": "bad", "otp": "123456"}), http.StatusBadRequest, "INVALID_EMAIL", "")

	// A right code for an address without an account (made through the server API).
	ghost, err := api(t, h).CreateVerificationOTP(context.Background(), "ghost@example.com", emailotp.TypeEmailVerification)
	if err != nil {
		t.Fatal(err)
	}
	fail(t, c.Post(emailotp.PathVerifyEmail, map[string]any{"email": "ghost@example.com", "otp": ghost}), http.StatusBadRequest, "USER_NOT_FOUND", "")
}

func TestVerifyEmailAutoSignIn(t *testing.T) {
	h := newHarness(t, &emailotp.Plugin{}, withConfig(func(c *authcore.Config) {
		c.EmailVerification.AutoSignInAfterVerification = true
	}))
	h.SignUp("Alice", "alice@example.com", pw)
	code := sendCode(t, h, "alice@example.com", "email-verification")
	c := h.Client()
	r := c.Post(emailotp.PathVerifyEmail, map[string]any{"email": "alice@example.com", "otp": code})
	ok(t, r, "")
	tok, _ := r.Object()["token"].(string)
	if tok == "" {
		t.Fatalf("no token: %s", r.Body)
	}
	if _, set := r.SetCookie(sessionCookie); !set {
		t.Fatal("no session cookie")
	}
	s := c.Get("/get-session").Object()
	su, _ := s["user"].(map[string]any)
	if su["email"] != "alice@example.com" || su["emailVerified"] != true {
		t.Fatalf("get-session: %v", s)
	}
}

// The cookie cache of the caller's own session is refreshed to say verified; verifying
// another user's address leaves the caller's session alone.
func TestVerifyEmailCookieCache(t *testing.T) {
	h := newHarness(t, &emailotp.Plugin{}, withConfig(func(c *authcore.Config) { c.Session.CookieCache = 5 * time.Minute }))
	alice, _ := h.SignUp("Alice", "alice@example.com", pw)
	h.SignUp("Bob", "bob@example.com", pw)
	bobCode := sendCode(t, h, "bob@example.com", "email-verification")
	r := alice.Post(emailotp.PathVerifyEmail, map[string]any{"email": "bob@example.com", "otp": bobCode})
	ok(t, r, "")
	if len(r.Header.Values("Set-Cookie")) != 0 {
		t.Fatalf("another user's verification touched the caller's cookies: %v", r.Header.Values("Set-Cookie"))
	}
	aliceCode := sendCode(t, h, "alice@example.com", "email-verification")
	r = alice.Post(emailotp.PathVerifyEmail, map[string]any{"email": "alice@example.com", "otp": aliceCode})
	ok(t, r, "")
	if _, set := r.SetCookie("better-auth.session_data"); !set {
		t.Fatalf("cookie cache not refreshed: %v", r.Header.Values("Set-Cookie"))
	}
	su, _ := alice.Get("/get-session").Object()["user"].(map[string]any)
	if su["emailVerified"] != true {
		t.Fatalf("cached session still unverified: %v", su)
	}
}

// ---------------------------------------------------------------------------------------
// POST /sign-in/email-otp
// ---------------------------------------------------------------------------------------

// nicknamePlugin adds a client-settable user field, to prove that sign-up by code takes
// additional user fields.
type nicknamePlugin struct{}

func (nicknamePlugin) ID() string { return "test-nickname" }
func (nicknamePlugin) Register(r *authcore.Registrar) error {
	return r.Extend(authcore.ModelUser, storage.Field{Name: "nickname", Type: storage.TypeString})
}

func TestSignInCreatesUser(t *testing.T) {
	h := newHarness(t, &emailotp.Plugin{}, authcoretest.WithPlugins(nicknamePlugin{}))
	code := sendCode(t, h, "New@Example.com", "sign-in")
	c := h.Client()
	r := c.Post(emailotp.PathSignIn, map[string]any{
		"email": "NEW@example.com", "otp": code, "name": "Newbie", "image": "https://img.example/x.png",
		"nickname": "nb", "unknownField": "dropped",
	})
	ok(t, r, "")
	obj := r.Object()
	tok, _ := obj["token"].(string)
	u, _ := obj["user"].(map[string]any)
	if tok == "" || u["email"] != "new@example.com" || u["name"] != "Newbie" || u["emailVerified"] != true ||
		u["image"] != "https://img.example/x.png" || u["nickname"] != "nb" || len(obj) != 2 {
		t.Fatalf("body %s", r.Body)
	}
	if _, set := r.SetCookie(sessionCookie); !set {
		t.Fatal("no session cookie")
	}
	stored := user(t, h, "new@example.com")
	if stored == nil || !stored.Bool("emailVerified") || stored.String("nickname") != "nb" || stored.Has("unknownField") {
		t.Fatalf("stored user %v", stored)
	}
	if s := c.Get("/get-session").Object(); s == nil {
		t.Fatal("no session")
	}
	// No password was set: the user has no credential account.
	if accs := rows(t, h, authcore.ModelAccount, storage.Eq("userId", stored.ID())); len(accs) != 0 {
		t.Fatalf("accounts %v", accs)
	}
	// Used up.
	fail(t, h.Client().Post(emailotp.PathSignIn, map[string]any{"email": "new@example.com", "otp": code}), http.StatusBadRequest, "INVALID_OTP", "")

	// Name is optional and defaults to "".
	code = sendCode(t, h, "bare@example.com", "sign-in")
	r = h.Client().Post(emailotp.PathSignIn, map[string]any{"email": "bare@example.com", "otp": code})
	ok(t, r, "")
	if u, _ := r.Object()["user"].(map[string]any); u["name"] != "" {
		t.Fatalf("name %v", u["name"])
	}

	// Server-only fields are refused (D10), before the code is looked at.
	code = sendCode(t, h, "role@example.com", "sign-in")
	fail(t, h.Client().Post(emailotp.PathSignIn, map[string]any{"email": "role@example.com", "otp": code, "role": "admin"}),
		http.StatusBadRequest, "FIELD_NOT_ALLOWED", "")
	fail(t, h.Client().Post(emailotp.PathSignIn, map[string]any{"email": "role@example.com", "otp": code, "emailVerified": true}),
		http.StatusBadRequest, "FIELD_NOT_ALLOWED", "")
	ok(t, h.Client().Post(emailotp.PathSignIn, map[string]any{"email": "role@example.com", "otp": code}), "")
	if got := user(t, h, "role@example.com").String("role"); got != "user" {
		t.Fatalf("role %q", got)
	}
}

func TestSignInExistingUser(t *testing.T) {
	h := newHarness(t, &emailotp.Plugin{}, withConfig(func(c *authcore.Config) {
		c.EmailVerification.AutoSignInAfterVerification = true
	}))
	h.SignUp("Alice", "alice@example.com", pw)
	// Verify first, so the account keeps its password.
	vc := sendCode(t, h, "alice@example.com", "email-verification")
	ok(t, h.Client().Post(emailotp.PathVerifyEmail, map[string]any{"email": "alice@example.com", "otp": vc}), "")
	id := user(t, h, "alice@example.com").ID()
	before := len(rows(t, h, authcore.ModelSession, storage.Eq("userId", id)))

	code := sendCode(t, h, "alice@example.com", "sign-in")
	c := h.Client()
	r := c.Post(emailotp.PathSignIn, map[string]any{"email": "alice@example.com", "otp": code, "name": "Ignored"})
	ok(t, r, "")
	u, _ := r.Object()["user"].(map[string]any)
	if u["id"] != id || u["name"] != "Alice" {
		t.Fatalf("user %v", u)
	}
	if n := len(rows(t, h, authcore.ModelSession, storage.Eq("userId", id))); n != before+1 {
		t.Fatalf("%d sessions, want %d", n, before+1)
	}
	if len(rows(t, h, authcore.ModelUser, storage.Where{})) != 1 {
		t.Fatal("a second user was created")
	}
	// The password still works.
	ok(t, h.Client().Post("/sign-in/email", map[string]any{"email": "alice@example.com", "password": pw}), "")
}

// Account pre-hijacking: an attacker registers the victim's address with a password and
// keeps a session; the victim later signs in by code. The code proves the address, so what
// the unverified account held before — the attacker's password and session — is removed.
func TestSignInAdoptsUnverifiedAccount(t *testing.T) {
	h := newHarness(t, &emailotp.Plugin{})
	attacker, _ := h.SignUp("Mallory", "victim@example.com", pw)
	id := user(t, h, "victim@example.com").ID()
	code := sendCode(t, h, "victim@example.com", "sign-in")
	victim := h.Client()
	ok(t, victim.Post(emailotp.PathSignIn, map[string]any{"email": "victim@example.com", "otp": code}), "")
	if !user(t, h, "victim@example.com").Bool("emailVerified") {
		t.Fatal("not verified")
	}
	if accs := rows(t, h, authcore.ModelAccount, storage.Eq("userId", id)); len(accs) != 0 {
		t.Fatalf("pre-proof accounts survive: %v", accs)
	}
	if sessions := rows(t, h, authcore.ModelSession, storage.Eq("userId", id)); len(sessions) != 1 {
		t.Fatalf("%d sessions, want the victim's only", len(sessions))
	}
	if s := attacker.Get("/get-session"); string(s.Body) != "null" {
		t.Fatalf("the attacker's session survives: %s", s.Body)
	}
	fail(t, h.Client().Post("/sign-in/email", map[string]any{"email": "victim@example.com", "password": pw}),
		http.StatusUnauthorized, "INVALID_EMAIL_OR_PASSWORD", "")
	if s := victim.Get("/get-session"); s.Object() == nil {
		t.Fatal("the victim is not signed in")
	}
}

func TestSignInWithoutSignUp(t *testing.T) {
	h := newHarness(t, &emailotp.Plugin{DisableSignUp: true})
	ok(t, h.Client().Post(emailotp.PathSendVerificationOTP, map[string]any{"email": "new@example.com", "type": "sign-in"}), successBody)
	if len(otpMessages(t, h, "new@example.com")) != 0 {
		t.Fatal("a sign-in code was sent to an unknown address with sign-up disabled")
	}
	code, err := api(t, h).CreateVerificationOTP(context.Background(), "new@example.com", emailotp.TypeSignIn)
	if err != nil {
		t.Fatal(err)
	}
	fail(t, h.Client().Post(emailotp.PathSignIn, map[string]any{"email": "new@example.com", "otp": code}), http.StatusBadRequest, "INVALID_OTP", "Invalid OTP")
	if user(t, h, "new@example.com") != nil {
		t.Fatal("a user was created")
	}
	// Existing users still sign in.
	h.SignUp("Alice", "alice@example.com", pw)
	code = sendCode(t, h, "alice@example.com", "sign-in")
	ok(t, h.Client().Post(emailotp.PathSignIn, map[string]any{"email": "alice@example.com", "otp": code}), "")
}

func TestSignInErrors(t *testing.T) {
	h := newHarness(t, &emailotp.Plugin{})
	c := h.Client()
	fail(t, c.Post(emailotp.PathSignIn, map[string]any{"email": "x@example.com", "otp": "123456"}), http.StatusBadRequest, "INVALID_OTP", "Invalid OTP")
	fail(t, c.Post(emailotp.PathSignIn, map[string]any{"email": "not-an-email", "otp": "123456"}), http.StatusBadRequest, "INVALID_OTP", "")
	fail(t, c.Post(emailotp.PathSignIn, map[string]any{"email": "x@example.com"}), http.StatusBadRequest, "VALIDATION_ERROR", "")
	// A forget-password code does not sign in (purpose binding, OTT-01).
	h.SignUp("Alice", "alice@example.com", pw)
	code := sendCode(t, h, "alice@example.com", "forget-password")
	fail(t, c.Post(emailotp.PathSignIn, map[string]any{"email": "alice@example.com", "otp": code}), http.StatusBadRequest, "INVALID_OTP", "")
}

// BF-04: three wrong codes, then the right one is refused too, and the code is gone.
func TestAttemptLimit(t *testing.T) {
	routes := []struct {
		name, typ, path string
		body            func(otp string) map[string]any
	}{
		{"sign-in", "sign-in", emailotp.PathSignIn, func(otp string) map[string]any {
			return map[string]any{"email": "alice@example.com", "otp": otp}
		}},
		{"verify-email", "email-verification", emailotp.PathVerifyEmail, func(otp string) map[string]any {
			return map[string]any{"email": "alice@example.com", "otp": otp}
		}},
		{"reset-password", "forget-password", emailotp.PathResetPassword, func(otp string) map[string]any {
			return map[string]any{"email": "alice@example.com", "otp": otp, "password": newPW}
		}},
		{"check-verification-otp", "sign-in", emailotp.PathCheckVerificationOTP, func(otp string) map[string]any {
			return map[string]any{"email": "alice@example.com", "otp": otp, "type": "sign-in"}
		}},
	}
	for _, rt := range routes {
		t.Run(rt.name, func(t *testing.T) {
			h := newHarness(t, &emailotp.Plugin{})
			h.SignUp("Alice", "alice@example.com", pw)
			code := sendCode(t, h, "alice@example.com", rt.typ)
			id := rt.typ + "-otp-alice@example.com"
			wrong := "999999"
			if code == wrong {
				wrong = "999998"
			}
			c := h.Client()
			for i := 1; i <= 3; i++ {
				fail(t, c.Post(rt.path, rt.body(wrong)), http.StatusBadRequest, "INVALID_OTP", "Invalid OTP")
				if v := verification(t, h, id).String("value"); !strings.HasSuffix(v, ":"+string(rune('0'+i))) {
					t.Fatalf("after %d wrong codes the stored value is %q", i, v)
				}
			}
			fail(t, c.Post(rt.path, rt.body(code)), http.StatusForbidden, "TOO_MANY_ATTEMPTS", "Too many attempts")
			if row := verification(t, h, id); row != nil {
				t.Fatalf("a void code is still stored: %v", row)
			}
			fail(t, c.Post(rt.path, rt.body(code)), http.StatusBadRequest, "INVALID_OTP", "")
		})
	}

	// allowed_attempts is honoured.
	h := newHarness(t, &emailotp.Plugin{AllowedAttempts: 1})
	code := sendCode(t, h, "x@example.com", "sign-in")
	fail(t, h.Client().Post(emailotp.PathSignIn, map[string]any{"email": "x@example.com", "otp": "12345678"}), http.StatusBadRequest, "INVALID_OTP", "")
	fail(t, h.Client().Post(emailotp.PathSignIn, map[string]any{"email": "x@example.com", "otp": code}), http.StatusForbidden, "TOO_MANY_ATTEMPTS", "")
}

func TestExpiry(t *testing.T) {
	h := newHarness(t, &emailotp.Plugin{ExpiresIn: authcore.Duration(2 * time.Minute)})
	h.SignUp("X", "x@example.com", pw)
	code := sendCode(t, h, "x@example.com", "sign-in")
	if m := otpMessages(t, h, "x@example.com")[0]; m.ExpiresIn != 2*time.Minute {
		t.Fatalf("message ExpiresIn %v", m.ExpiresIn)
	}
	h.Clock.Advance(2*time.Minute - time.Second)
	ok(t, h.Client().Post(emailotp.PathCheckVerificationOTP, map[string]any{"email": "x@example.com", "type": "sign-in", "otp": code}), "")
	h.Clock.Advance(time.Second)
	fail(t, h.Client().Post(emailotp.PathSignIn, map[string]any{"email": "x@example.com", "otp": code}), http.StatusBadRequest, "OTP_EXPIRED", "OTP expired")
	if verification(t, h, "sign-in-otp-x@example.com") != nil {
		t.Fatal("an expired code is still stored")
	}
	fail(t, h.Client().Post(emailotp.PathSignIn, map[string]any{"email": "x@example.com", "otp": code}), http.StatusBadRequest, "INVALID_OTP", "")

	// An expired sign-up code creates no user.
	code = sendCode(t, h, "new@example.com", "sign-in")
	h.Clock.Advance(2 * time.Minute)
	fail(t, h.Client().Post(emailotp.PathSignIn, map[string]any{"email": "new@example.com", "otp": code}), http.StatusBadRequest, "OTP_EXPIRED", "")
	if user(t, h, "new@example.com") != nil {
		t.Fatal("an expired code created a user")
	}
}

// OTT-02: 20 concurrent sign-ins with the right code make exactly one session.
func TestConcurrentSignIn(t *testing.T) {
	for _, existing := range []bool{false, true} {
		name := "new user"
		if existing {
			name = "existing user"
		}
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, &emailotp.Plugin{}, authcoretest.WithBolt())
			if existing {
				h.SignUp("Alice", "alice@example.com", pw)
			}
			code := sendCode(t, h, "alice@example.com", "sign-in")
			body, _ := json.Marshal(map[string]any{"email": "alice@example.com", "otp": code})
			statuses := make([]int, 20)
			errs := make([]error, 20)
			var wg sync.WaitGroup
			for i := range statuses {
				wg.Add(1)
				go func() {
					defer wg.Done()
					req, _ := http.NewRequest(http.MethodPost, h.URL(emailotp.PathSignIn), bytes.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Origin", authcoretest.BaseURL)
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						errs[i] = err
						return
					}
					resp.Body.Close()
					statuses[i] = resp.StatusCode
				}()
			}
			wg.Wait()
			wins := 0
			for i, s := range statuses {
				if errs[i] != nil {
					t.Fatal(errs[i])
				}
				switch s {
				case http.StatusOK:
					wins++
				case http.StatusBadRequest:
				default:
					t.Fatalf("status %d", s)
				}
			}
			if wins != 1 {
				t.Fatalf("%d sign-ins succeeded, want 1", wins)
			}
			// One session: the winner's (an existing account was unverified, so adopting it
			// also removed its sign-up session).
			id := user(t, h, "alice@example.com").ID()
			if n := len(rows(t, h, authcore.ModelSession, storage.Eq("userId", id))); n != 1 {
				t.Fatalf("%d sessions, want 1", n)
			}
			if n := len(rows(t, h, authcore.ModelUser, storage.Where{})); n != 1 {
				t.Fatalf("%d users", n)
			}
		})
	}
}

// ---------------------------------------------------------------------------------------
// Resend strategy and storage
// ---------------------------------------------------------------------------------------

func TestResendRotate(t *testing.T) {
	h := newHarness(t, &emailotp.Plugin{})
	h.SignUp("Alice", "alice@example.com", pw)
	first := sendCode(t, h, "alice@example.com", "email-verification")
	second := sendCode(t, h, "alice@example.com", "email-verification")
	if len(otpMessages(t, h, "alice@example.com")) != 2 {
		t.Fatal("want two messages")
	}
	if n := len(rows(t, h, authcore.ModelVerification, storage.Eq("identifier", "email-verification-otp-alice@example.com"))); n != 1 {
		t.Fatalf("%d live codes, want 1", n)
	}
	if first != second {
		fail(t, h.Client().Post(emailotp.PathVerifyEmail, map[string]any{"email": "alice@example.com", "otp": first}), http.StatusBadRequest, "INVALID_OTP", "")
	}
	ok(t, h.Client().Post(emailotp.PathVerifyEmail, map[string]any{"email": "alice@example.com", "otp": second}), "")
}

func TestResendReuse(t *testing.T) {
	for _, store := range []string{"", "plain", "encrypted"} {
		t.Run("store="+store, func(t *testing.T) {
			h := newHarness(t, &emailotp.Plugin{ResendStrategy: "reuse", StoreOTP: store})
			h.SignUp("Alice", "alice@example.com", pw)
			first := sendCode(t, h, "alice@example.com", "forget-password")
			h.Clock.Advance(time.Minute)
			second := sendCode(t, h, "alice@example.com", "forget-password")
			msgs := otpMessages(t, h, "alice@example.com")
			if first != second || len(msgs) != 2 {
				t.Fatalf("reuse sent %q then %q", first, second)
			}
			// The resend restarts the lifetime: 4.5 minutes after it (5.5 after the first
			// send) the code still works.
			if msgs[0].ExpiresIn != 5*time.Minute || msgs[1].ExpiresIn != 5*time.Minute {
				t.Fatalf("expiries %v, %v", msgs[0].ExpiresIn, msgs[1].ExpiresIn)
			}
			h.Clock.Advance(4*time.Minute + 30*time.Second)
			value := verification(t, h, "forget-password-otp-alice@example.com").String("value")
			if inClear := storedPart(value) == first; inClear != (store == "plain") {
				t.Fatalf("store %q keeps %q", store, value)
			}
			ok(t, h.Client().Post(emailotp.PathResetPassword, map[string]any{"email": "alice@example.com", "otp": first, "password": newPW}), successBody)
			// Once used, a new request issues a new code.
			third := sendCode(t, h, "alice@example.com", "forget-password")
			if third == "" {
				t.Fatal("no code")
			}
		})
	}
}

// OTT-03: with the default storage the verification table never holds a code in clear.
func TestCodesAtRest(t *testing.T) {
	for _, store := range []string{"", "hashed", "encrypted", "plain"} {
		t.Run("store="+store, func(t *testing.T) {
			h := newHarness(t, &emailotp.Plugin{StoreOTP: store})
			h.SignUp("Alice", "alice@example.com", pw)
			codes := []string{
				sendCode(t, h, "alice@example.com", "sign-in"),
				sendCode(t, h, "alice@example.com", "email-verification"),
				sendCode(t, h, "alice@example.com", "forget-password"),
			}
			all := rows(t, h, authcore.ModelVerification, storage.Where{})
			if len(all) != 3 {
				t.Fatalf("%d rows", len(all))
			}
			clear := 0
			for _, row := range all {
				stored := storedPart(row.String("value"))
				for _, code := range codes {
					if stored == code {
						clear++
					}
				}
				if store != "plain" && regexp.MustCompile(`^[0-9]+$`).MatchString(stored) {
					t.Fatalf("stored form %q is a bare number", stored)
				}
			}
			if want := map[bool]int{true: 3, false: 0}[store == "plain"]; clear != want {
				t.Fatalf("%d codes in clear, want %d: %v", clear, want, all)
			}
			// Every form still signs in.
			ok(t, h.Client().Post(emailotp.PathSignIn, map[string]any{"email": "alice@example.com", "otp": codes[0]}), "")
		})
	}
}

// ---------------------------------------------------------------------------------------
// Password reset
// ---------------------------------------------------------------------------------------

func TestPasswordReset(t *testing.T) {
	for _, path := range []string{emailotp.PathRequestPasswordReset, emailotp.PathForgetPassword} {
		t.Run(path, func(t *testing.T) {
			h := newHarness(t, &emailotp.Plugin{})
			h.SignUp("Alice", "alice@example.com", pw)
			ok(t, h.Client().Post(path, map[string]any{"email": "ALICE@example.com"}), successBody)
			code := lastCode(t, h, "alice@example.com", "forget-password")
			c := h.Client()
			reset := func(otp, password string) *authcoretest.Response {
				return c.Post(emailotp.PathResetPassword, map[string]any{"email": "alice@example.com", "otp": otp, "password": password})
			}
			// The policy is checked before the code, which survives a refused password.
			fail(t, reset(code, "short"), http.StatusBadRequest, "PASSWORD_TOO_SHORT", "")
			fail(t, reset(code, strings.Repeat("x", 129)), http.StatusBadRequest, "PASSWORD_TOO_LONG", "")
			fail(t, reset(code, "password123"), http.StatusBadRequest, "PASSWORD_TOO_COMMON", "")
			ok(t, reset(code, newPW), successBody)
			fail(t, reset(code, newPW), http.StatusBadRequest, "INVALID_OTP", "")

			ok(t, h.Client().Post("/sign-in/email", map[string]any{"email": "alice@example.com", "password": newPW}), "")
			fail(t, h.Client().Post("/sign-in/email", map[string]any{"email": "alice@example.com", "password": pw}), http.StatusUnauthorized, "INVALID_EMAIL_OR_PASSWORD", "")
			if !user(t, h, "alice@example.com").Bool("emailVerified") {
				t.Fatal("reset by code did not verify the address")
			}
		})
	}
}

func TestPasswordResetCreatesCredential(t *testing.T) {
	h := newHarness(t, &emailotp.Plugin{})
	code := sendCode(t, h, "otp@example.com", "sign-in")
	ok(t, h.Client().Post(emailotp.PathSignIn, map[string]any{"email": "otp@example.com", "otp": code}), "")
	code = sendCode(t, h, "otp@example.com", "forget-password")
	ok(t, h.Client().Post(emailotp.PathResetPassword, map[string]any{"email": "otp@example.com", "otp": code, "password": newPW}), successBody)
	accs := rows(t, h, authcore.ModelAccount, storage.Eq("userId", user(t, h, "otp@example.com").ID()))
	if len(accs) != 1 || accs[0].String("providerId") != authcore.ProviderCredential {
		t.Fatalf("accounts %v", accs)
	}
	ok(t, h.Client().Post("/sign-in/email", map[string]any{"email": "otp@example.com", "password": newPW}), "")

	// A right code for an address without an account.
	ghost, _ := api(t, h).CreateVerificationOTP(context.Background(), "ghost@example.com", emailotp.TypeForgetPassword)
	fail(t, h.Client().Post(emailotp.PathResetPassword, map[string]any{"email": "ghost@example.com", "otp": ghost, "password": newPW}),
		http.StatusBadRequest, "USER_NOT_FOUND", "")
}

func TestPasswordResetRevokesSessions(t *testing.T) {
	for _, revoke := range []bool{false, true} {
		h := newHarness(t, &emailotp.Plugin{}, withConfig(func(c *authcore.Config) {
			c.EmailAndPassword.RevokeSessionsOnPasswordReset = revoke
		}))
		alice, _ := h.SignUp("Alice", "alice@example.com", pw)
		code := sendCode(t, h, "alice@example.com", "forget-password")
		ok(t, h.Client().Post(emailotp.PathResetPassword, map[string]any{"email": "alice@example.com", "otp": code, "password": newPW}), successBody)
		signedIn := alice.Get("/get-session").Object() != nil
		if signedIn == revoke {
			t.Fatalf("revoke_sessions_on_password_reset=%v: still signed in = %v", revoke, signedIn)
		}
	}
}

// ---------------------------------------------------------------------------------------
// Change email
// ---------------------------------------------------------------------------------------

func TestChangeEmail(t *testing.T) {
	h := newHarness(t, &emailotp.Plugin{ChangeEmail: emailotp.ChangeEmail{Enabled: true}})
	alice, _ := h.SignUp("Alice", "alice@example.com", pw)
	id := user(t, h, "alice@example.com").ID()

	ok(t, alice.Post(emailotp.PathRequestEmailChange, map[string]any{"newEmail": "Alice.New@example.com"}), successBody)
	code := lastCode(t, h, "alice.new@example.com", "change-email")
	if row := verification(t, h, "change-email-otp-alice@example.com-alice.new@example.com"); row == nil {
		t.Fatal("no change-email code under change-email-otp-<old>-<new>")
	}
	if len(otpMessages(t, h, "alice@example.com")) != 0 {
		t.Fatal("the code went to the old address")
	}
	// The code is bound to the new address it was sent to.
	fail(t, alice.Post(emailotp.PathChangeEmail, map[string]any{"newEmail": "other@example.com", "otp": code}), http.StatusBadRequest, "INVALID_OTP", "")
	r := alice.Post(emailotp.PathChangeEmail, map[string]any{"newEmail": "alice.new@example.com", "otp": code})
	ok(t, r, successBody)
	if _, set := r.SetCookie(sessionCookie); !set {
		t.Fatal("session cookies not refreshed")
	}
	u, _ := h.Engine.UserByID(context.Background(), id)
	if u.String("email") != "alice.new@example.com" || !u.Bool("emailVerified") {
		t.Fatalf("stored user %v", u)
	}
	su, _ := alice.Get("/get-session").Object()["user"].(map[string]any)
	if su["email"] != "alice.new@example.com" {
		t.Fatalf("session user %v", su)
	}
	fail(t, alice.Post(emailotp.PathChangeEmail, map[string]any{"newEmail": "alice.new2@example.com", "otp": code}), http.StatusBadRequest, "INVALID_OTP", "")
}

func TestChangeEmailErrors(t *testing.T) {
	off := newHarness(t, &emailotp.Plugin{})
	a, _ := off.SignUp("Alice", "alice@example.com", pw)
	fail(t, a.Post(emailotp.PathRequestEmailChange, map[string]any{"newEmail": "n@example.com"}), http.StatusBadRequest, "", "Change email with OTP is disabled")
	fail(t, a.Post(emailotp.PathChangeEmail, map[string]any{"newEmail": "n@example.com", "otp": "123456"}), http.StatusBadRequest, "", "Change email with OTP is disabled")

	h := newHarness(t, &emailotp.Plugin{ChangeEmail: emailotp.ChangeEmail{Enabled: true}})
	alice, _ := h.SignUp("Alice", "alice@example.com", pw)
	h.SignUp("Bob", "bob@example.com", pw)
	anon := h.Client()
	fail(t, anon.Post(emailotp.PathRequestEmailChange, map[string]any{"newEmail": "n@example.com"}), http.StatusUnauthorized, "UNAUTHORIZED", "")
	fail(t, anon.Post(emailotp.PathChangeEmail, map[string]any{"newEmail": "n@example.com", "otp": "123456"}), http.StatusUnauthorized, "UNAUTHORIZED", "")
	for _, path := range []string{emailotp.PathRequestEmailChange, emailotp.PathChangeEmail} {
		fail(t, alice.Post(path, map[string]any{"newEmail": "ALICE@example.com", "otp": "123456"}), http.StatusBadRequest, "", "Email is the same")
		fail(t, alice.Post(path, map[string]any{"newEmail": "nope", "otp": "123456"}), http.StatusBadRequest, "INVALID_EMAIL", "")
	}
	fail(t, alice.Post(emailotp.PathChangeEmail, map[string]any{"newEmail": "n@example.com", "otp": "123456"}), http.StatusBadRequest, "INVALID_OTP", "")

	// A taken address: the same answer, and no code is sent or stored.
	taken := alice.Post(emailotp.PathRequestEmailChange, map[string]any{"newEmail": "bob@example.com"})
	free := alice.Post(emailotp.PathRequestEmailChange, map[string]any{"newEmail": "free@example.com"})
	ok(t, taken, successBody)
	ok(t, free, successBody)
	if len(otpMessages(t, h, "bob@example.com")) != 0 || verification(t, h, "change-email-otp-alice@example.com-bob@example.com") != nil {
		t.Fatal("a change-email code for a taken address")
	}
	// The address was taken after the code was sent.
	code := lastCode(t, h, "free@example.com", "change-email")
	h.SignUp("Free", "free@example.com", pw)
	fail(t, alice.Post(emailotp.PathChangeEmail, map[string]any{"newEmail": "free@example.com", "otp": code}), http.StatusBadRequest, "", "Email already in use")
	if user(t, h, "alice@example.com") == nil {
		t.Fatal("alice lost her address")
	}
}

func TestChangeEmailVerifyCurrentEmail(t *testing.T) {
	h := newHarness(t, &emailotp.Plugin{ChangeEmail: emailotp.ChangeEmail{Enabled: true, VerifyCurrentEmail: true}})
	alice, _ := h.SignUp("Alice", "alice@example.com", pw)
	fail(t, alice.Post(emailotp.PathRequestEmailChange, map[string]any{"newEmail": "n@example.com"}), http.StatusBadRequest, "", "OTP is required to verify current email")
	fail(t, alice.Post(emailotp.PathRequestEmailChange, map[string]any{"newEmail": "n@example.com", "otp": "123456"}), http.StatusBadRequest, "INVALID_OTP", "")
	current := sendCode(t, h, "alice@example.com", "email-verification")
	h.Clock.Advance(5 * time.Minute)
	fail(t, alice.Post(emailotp.PathRequestEmailChange, map[string]any{"newEmail": "n@example.com", "otp": current}), http.StatusBadRequest, "OTP_EXPIRED", "")
	current = sendCode(t, h, "alice@example.com", "email-verification")
	ok(t, alice.Post(emailotp.PathRequestEmailChange, map[string]any{"newEmail": "n@example.com", "otp": current}), successBody)
	code := lastCode(t, h, "n@example.com", "change-email")
	ok(t, alice.Post(emailotp.PathChangeEmail, map[string]any{"newEmail": "n@example.com", "otp": code}), successBody)
	if user(t, h, "n@example.com") == nil {
		t.Fatal("email not changed")
	}
}

// ---------------------------------------------------------------------------------------
// Hooks: override_default_email_verification, send_verification_on_sign_up
// ---------------------------------------------------------------------------------------

func TestOverrideDefaultEmailVerification(t *testing.T) {
	h := newHarness(t, &emailotp.Plugin{OverrideDefaultEmailVerification: true})
	alice, _ := h.SignUp("Alice", "alice@example.com", pw)
	h.Drain()
	if n := len(h.Sink.Messages()); n != 0 {
		t.Fatalf("%d messages on sign-up without send_on_sign_up", n)
	}
	// Signed in, and without a session: both get a code instead of a link.
	ok(t, alice.Post("/send-verification-email", map[string]any{"email": "alice@example.com"}), `{"status":true}`)
	ok(t, h.Client().Post("/send-verification-email", map[string]any{"email": "alice@example.com"}), `{"status":true}`)
	msgs := otpMessages(t, h, "alice@example.com")
	if len(msgs) != 2 || msgs[1].Vars["purpose"] != "email-verification" {
		t.Fatalf("messages %+v", msgs)
	}
	for _, m := range h.Sink.Messages() {
		if m.Type == "verify-email" {
			t.Fatalf("a verification link was sent: %+v", m)
		}
	}
	ok(t, h.Client().Post(emailotp.PathVerifyEmail, map[string]any{"email": "alice@example.com", "otp": msgs[1].Data.OTP}), "")
	if !user(t, h, "alice@example.com").Bool("emailVerified") {
		t.Fatal("not verified")
	}

	// With the core sending on sign-up, a sign-up gets exactly one email: a code, even with
	// send_verification_on_sign_up also on.
	h2 := newHarness(t, &emailotp.Plugin{OverrideDefaultEmailVerification: true, SendVerificationOnSignUp: true},
		withConfig(func(c *authcore.Config) { c.EmailVerification.SendOnSignUp = true }))
	h2.SignUp("Bob", "bob@example.com", pw)
	h2.Drain()
	all := h2.Sink.Messages()
	if len(all) != 1 || all[0].Type != "email-otp" || all[0].To != "bob@example.com" {
		t.Fatalf("messages %+v", all)
	}
}

func TestSendVerificationOnSignUp(t *testing.T) {
	h := newHarness(t, &emailotp.Plugin{SendVerificationOnSignUp: true}, withConfig(func(c *authcore.Config) {
		c.EmailAndPassword.DisableAutoSignIn = true // a taken address gets a synthetic answer
	}))
	h.SignUp("Alice", "alice@example.com", pw)
	code := lastCode(t, h, "alice@example.com", "email-verification")
	ok(t, h.Client().Post(emailotp.PathVerifyEmail, map[string]any{"email": "alice@example.com", "otp": code}), "")

	// A sign-up with the taken (now verified) address sends no code.
	r := h.Client().Post("/sign-up/email", map[string]any{"name": "X", "email": "alice@example.com", "password": pw})
	ok(t, r, "")
	if n := len(otpMessages(t, h, "alice@example.com")); n != 1 {
		t.Fatalf("%d codes, want 1", n)
	}

	// Off by default.
	h2 := newHarness(t, &emailotp.Plugin{})
	h2.SignUp("Bob", "bob@example.com", pw)
	if len(otpMessages(t, h2, "bob@example.com")) != 0 {
		t.Fatal("a code without send_verification_on_sign_up")
	}
}

// ---------------------------------------------------------------------------------------
// Server API
// ---------------------------------------------------------------------------------------

func TestServerAPI(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, &emailotp.Plugin{StoreOTP: "encrypted"})
	p := api(t, h)
	if _, found, err := p.GetVerificationOTP(ctx, "x@example.com", emailotp.TypeSignIn); found || err != nil {
		t.Fatalf("no code: found=%v err=%v", found, err)
	}
	code, err := p.CreateVerificationOTP(ctx, "X@Example.com", emailotp.TypeSignIn)
	if err != nil || !sixDigits.MatchString(code) {
		t.Fatalf("create: %q %v", code, err)
	}
	if got, found, err := p.GetVerificationOTP(ctx, "x@example.com", emailotp.TypeSignIn); got != code || !found || err != nil {
		t.Fatalf("get: %q %v %v", got, found, err)
	}
	if len(h.Sink.Messages()) != 0 {
		t.Fatal("the server API sent a message")
	}
	ok(t, h.Client().Post(emailotp.PathSignIn, map[string]any{"email": "x@example.com", "otp": code}), "")
	if _, found, _ := p.GetVerificationOTP(ctx, "x@example.com", emailotp.TypeSignIn); found {
		t.Fatal("a used code is still readable")
	}
	h.Clock.Advance(time.Hour)
	code, _ = p.CreateVerificationOTP(ctx, "x@example.com", emailotp.TypeSignIn)
	h.Clock.Advance(5 * time.Minute)
	if _, found, _ := p.GetVerificationOTP(ctx, "x@example.com", emailotp.TypeSignIn); found {
		t.Fatal("an expired code is readable")
	}
	if _, err := p.CreateVerificationOTP(ctx, "bad", emailotp.TypeSignIn); err == nil {
		t.Fatal("a code for a malformed address")
	}
	if _, err := p.CreateVerificationOTP(ctx, "x@example.com", "other"); err == nil {
		t.Fatal("a code of an unknown type")
	}
	_ = code

	hashed := newHarness(t, &emailotp.Plugin{})
	hp := api(t, hashed)
	if _, err := hp.CreateVerificationOTP(ctx, "x@example.com", emailotp.TypeSignIn); err != nil {
		t.Fatal(err)
	}
	if _, _, err := hp.GetVerificationOTP(ctx, "x@example.com", emailotp.TypeSignIn); !errors.Is(err, emailotp.ErrHashedOTP) {
		t.Fatalf("hashed get: %v", err)
	}
}

// ---------------------------------------------------------------------------------------
// Rate limits, start-up validation, hostile input
// ---------------------------------------------------------------------------------------

func TestRateLimits(t *testing.T) {
	h := newHarness(t, &emailotp.Plugin{}, withConfig(func(c *authcore.Config) { c.RateLimit.Disabled = false }))
	for _, path := range []string{emailotp.PathCheckVerificationOTP, emailotp.PathSignIn, emailotp.PathForgetPassword, emailotp.PathChangeEmail} {
		for i := 1; i <= 4; i++ {
			r := h.Client().Post(path, map[string]any{"email": "x@example.com"})
			if i <= 3 && r.StatusCode == http.StatusTooManyRequests || i == 4 && r.StatusCode != http.StatusTooManyRequests {
				t.Fatalf("%s request %d: %d %s", path, i, r.StatusCode, r.Body)
			}
		}
	}
	h.Clock.Advance(time.Minute)
	if r := h.Client().Post(emailotp.PathSignIn, map[string]any{"email": "x@example.com", "otp": "1"}); r.StatusCode == http.StatusTooManyRequests {
		t.Fatal("the window did not pass")
	}

	// BF-04: with the per-client limit raised, one address still gets at most 3 codes a
	// minute, whoever asks; the cap answers alike for known and unknown addresses.
	hd := newHarness(t, &emailotp.Plugin{}, withConfig(func(c *authcore.Config) {
		c.RateLimit.Disabled = false
		c.RateLimit.Rules = []authcore.RateLimitRule{{Path: "/email-otp/*", Rule: ratelimit.Rule{Window: time.Minute, Max: 100}}}
	}))
	send := func(email string) *authcoretest.Response {
		return hd.Client().Post(emailotp.PathSendVerificationOTP, map[string]any{"email": email, "type": "sign-in"})
	}
	for range 3 {
		ok(t, send("victim@example.com"), successBody)
	}
	if r := send("Victim@example.com"); r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
		t.Fatalf("4th code to one address: %d %s", r.StatusCode, r.Body)
	}
	ok(t, send("other@example.com"), successBody)
	if n := len(otpMessages(t, hd, "victim@example.com")); n != 3 {
		t.Fatalf("%d codes sent", n)
	}
}

func TestStartupValidation(t *testing.T) {
	cases := map[string]emailotp.Plugin{
		"reuse with hashed":                    {ResendStrategy: "reuse", StoreOTP: "hashed"},
		"unknown storage":                      {StoreOTP: "rot13"},
		"unknown strategy":                     {ResendStrategy: "sometimes"},
		"short code":                           {OTPLength: 3},
		"long code":                            {OTPLength: 13},
		"negative expiry":                      {ExpiresIn: authcore.Duration(-time.Second)},
		"negative attempts":                    {AllowedAttempts: -1},
		"verify current email without enabled": {ChangeEmail: emailotp.ChangeEmail{VerifyCurrentEmail: true}},
	}
	for name, p := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := authcore.New(authcore.Config{BaseURL: authcoretest.BaseURL, Secret: authcoretest.Secret},
				authcore.WithStore(memory.NewStore()), authcore.WithPlugins(&p))
			if err == nil || !strings.Contains(err.Error(), "email-otp") {
				t.Fatalf("start-up error %v", err)
			}
		})
	}
	// The verification email can be replaced by one plugin only.
	_, err := authcore.New(authcore.Config{BaseURL: authcoretest.BaseURL, Secret: authcoretest.Secret},
		authcore.WithStore(memory.NewStore()), authcore.WithPlugins(&emailotp.Plugin{OverrideDefaultEmailVerification: true}, otherOverride{}))
	if err == nil {
		t.Fatal("two verification-email overrides accepted")
	}
	// Defaults and a valid combination start.
	for _, p := range []*emailotp.Plugin{{}, {ResendStrategy: "reuse"}, {OTPLength: 8, ExpiresIn: authcore.Duration(10 * time.Minute), StoreOTP: "plain"}} {
		e, err := authcore.New(authcore.Config{BaseURL: authcoretest.BaseURL, Secret: authcoretest.Secret},
			authcore.WithStore(memory.NewStore()), authcore.WithPlugins(p))
		if err != nil {
			t.Fatalf("%+v: %v", p, err)
		}
		e.Close()
	}
}

type otherOverride struct{}

func (otherOverride) ID() string { return "test-override" }
func (otherOverride) Register(r *authcore.Registrar) error {
	return r.VerificationEmail(func(context.Context, storage.Record, string) error { return nil })
}

func TestCodeLength(t *testing.T) {
	h := newHarness(t, &emailotp.Plugin{OTPLength: 8})
	code := sendCode(t, h, "x@example.com", "sign-in")
	if !regexp.MustCompile(`^[0-9]{8}$`).MatchString(code) {
		t.Fatalf("code %q", code)
	}
}

// Hostile input: wrong JSON types, huge or odd strings, header-injection attempts. Every
// answer is a 4xx JSON envelope; nothing is sent, nothing crashes.
func TestHostileInput(t *testing.T) {
	h := newHarness(t, &emailotp.Plugin{ChangeEmail: emailotp.ChangeEmail{Enabled: true}})
	alice, _ := h.SignUp("Alice", "alice@example.com", pw)
	huge := strings.Repeat("a", 9000) + "@example.com"
	bodies := []any{
		`{"email": 1, "type": "sign-in", "otp": "1", "password": "x", "newEmail": 2}`,
		`{"email": ["a@example.com"], "type": "sign-in", "otp": "1"}`,
		`{"email": "a@example.com", "type": ["sign-in"], "otp": 123456}`,
		`{"email": null, "type": null, "otp": null, "newEmail": null}`,
		`{"email": {"$ne": ""}, "type": {"$gt": ""}, "otp": {"$ne": ""}}`,
		`{"email": "a@example.com", "type": "__proto__", "otp": "1"}`,
		`{"email": "a@example.com\r\nBcc: evil@example.com", "type": "sign-in", "otp": "1", "newEmail": "x@example.com\r\nBcc: evil@example.com", "password": "x"}`,
		`{"email": "a@example.com\u0000", "type": "sign-in", "otp": "1\u0000"}`,
		map[string]any{"email": huge, "type": "sign-in", "otp": "1", "newEmail": huge, "password": "x"},
		map[string]any{"email": "a@example.com", "type": "change-email", "otp": strings.Repeat("9", 9000), "newEmail": "n@example.com", "password": strings.Repeat("p", 9000)},
		`[]`, `"x"`, `{"email":`, `{"email":"a@example.com","email":"b@example.com","type":"sign-in"}`,
	}
	paths := []string{
		emailotp.PathSendVerificationOTP, emailotp.PathCheckVerificationOTP, emailotp.PathVerifyEmail,
		emailotp.PathSignIn, emailotp.PathRequestPasswordReset, emailotp.PathForgetPassword,
		emailotp.PathResetPassword, emailotp.PathRequestEmailChange, emailotp.PathChangeEmail,
	}
	for _, path := range paths {
		for i, b := range bodies {
			r := alice.Post(path, b)
			if r.StatusCode >= 500 || r.StatusCode == http.StatusOK && path != emailotp.PathRequestPasswordReset && path != emailotp.PathForgetPassword {
				t.Fatalf("%s body %d: %d %s", path, i, r.StatusCode, r.Body)
			}
			if r.StatusCode != http.StatusOK && r.Object() == nil {
				t.Fatalf("%s body %d: not an error envelope: %d %q", path, i, r.StatusCode, r.Body)
			}
		}
	}
	h.Drain()
	if n := len(h.Sink.Messages()); n != 0 {
		t.Fatalf("%d messages sent for hostile input", n)
	}
}
