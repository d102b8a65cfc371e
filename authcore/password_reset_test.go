package authcore_test

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/storage"
)

const resetBody = `{"message":"If this email exists in our system, check your email for the reset link","status":true}`

// flowResetToken requests a reset for email and returns the emailed token and link.
func flowResetToken(t *testing.T, h *authcoretest.Harness, email, redirectTo string) (string, string) {
	t.Helper()
	body := map[string]any{"email": email}
	if redirectTo != "" {
		body["redirectTo"] = redirectTo
	}
	before := len(flowMessages(t, h, "reset-password", email))
	r := h.Client().Post("/request-password-reset", body)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("request-password-reset: %d %s", r.StatusCode, r.Body)
	}
	msgs := flowMessages(t, h, "reset-password", email)
	if len(msgs) != before+1 {
		t.Fatalf("%d reset emails, want %d", len(msgs), before+1)
	}
	m := msgs[len(msgs)-1]
	return m.Data.Token, m.Data.URL
}

// POST /request-password-reset (spec §6 #16)

func TestRequestPasswordResetDoesNotRevealAccounts(t *testing.T) {
	h := authcoretest.New(t)
	h.SignUp("Alice", "alice@example.com", flowPW)
	known := h.Client().Post("/request-password-reset", map[string]any{"email": "Alice@Example.com", "redirectTo": "/reset"})
	unknown := h.Client().Post("/request-password-reset", map[string]any{"email": "nobody@example.com", "redirectTo": "/reset"})
	for _, r := range []*authcoretest.Response{known, unknown} {
		if r.StatusCode != http.StatusOK || string(r.Body) != resetBody || len(r.Header.Values("Set-Cookie")) != 0 {
			t.Fatalf("request-password-reset: %d %s", r.StatusCode, r.Body)
		}
	}
	if !bytes.Equal(known.Body, unknown.Body) {
		t.Fatal("bodies differ")
	}
	msgs := flowMessages(t, h, "reset-password", "alice@example.com")
	if len(msgs) != 1 {
		t.Fatalf("%d reset emails to the account", len(msgs))
	}
	m := msgs[0]
	want := authcoretest.BaseURL + "/api/auth/reset-password/" + m.Data.Token + "?callbackURL=%2Freset"
	if m.Data.URL != want || len(m.Data.Token) != 24 {
		t.Fatalf("link %q, want %q", m.Data.URL, want)
	}
	if n := len(h.Sink.Messages()); n != 1 {
		t.Fatalf("%d messages in total; the unknown address must get none", n)
	}
	// Verification row: identifier is a digest of the token, value the user id (OTT-03).
	rows, _ := h.Engine.Store().FindMany(t.Context(), authcore.ModelVerification, storage.Query{})
	if len(rows) != 1 {
		t.Fatalf("%d verification rows", len(rows))
	}
	for k, v := range rows[0] {
		if s, ok := v.(string); ok && strings.Contains(s, m.Data.Token) {
			t.Fatalf("verification %s holds the token in clear: %q", k, s)
		}
	}
	if !strings.HasPrefix(rows[0].String("identifier"), "reset-password:") {
		t.Fatalf("identifier %q", rows[0].String("identifier"))
	}
	if want := h.Clock.Now().Add(time.Hour); !rows[0].Time("expiresAt").Equal(want) {
		t.Fatalf("expiry %v, want %v", rows[0].Time("expiresAt"), want)
	}
}

func TestRequestPasswordResetWithoutMailer(t *testing.T) {
	h := authcoretest.New(t, authcoretest.WithoutMailer())
	h.SignUp("Alice", "alice@example.com", flowPW)
	for _, email := range []string{"alice@example.com", "nobody@example.com"} {
		r := h.Client().Post("/request-password-reset", map[string]any{"email": email})
		flowErr(t, r, http.StatusBadRequest, "RESET_PASSWORD_DISABLED", "Reset password isn't enabled")
	}
	if n := flowCount(t, h, authcore.ModelVerification, storage.Where{}); n != 0 {
		t.Fatalf("%d verification rows", n)
	}
}

func TestRequestPasswordResetRedirectTo(t *testing.T) {
	h := authcoretest.New(t)
	h.SignUp("Alice", "alice@example.com", flowPW)
	r := h.Client().Post("/request-password-reset", map[string]any{"email": "alice@example.com", "redirectTo": "https://evil.example/steal"})
	flowErr(t, r, http.StatusForbidden, "INVALID_REDIRECT_URL", "Invalid redirectURL")
	r = h.Client().Post("/request-password-reset", map[string]any{"email": "not an email"})
	flowErr(t, r, http.StatusBadRequest, "VALIDATION_ERROR", "")
	if n := len(flowMessages(t, h, "reset-password", "alice@example.com")); n != 0 {
		t.Fatalf("%d emails sent for refused requests", n)
	}
}

// GET /reset-password/:token (spec §6 #17)

func TestResetPasswordCallback(t *testing.T) {
	h := authcoretest.New(t)
	h.SignUp("Alice", "alice@example.com", flowPW)
	tok, link := flowResetToken(t, h, "alice@example.com", "/reset")

	r := flowFollow(t, h, h.Client(), link)
	if r.StatusCode != http.StatusFound || r.Header.Get("Location") != authcoretest.BaseURL+"/reset?token="+tok {
		t.Fatalf("callback: %d %q %s", r.StatusCode, r.Header.Get("Location"), r.Body)
	}
	// Looking does not consume: the link can be opened twice.
	r = h.Client().Get("/reset-password/" + tok + "?callbackURL=/reset")
	if r.Header.Get("Location") != authcoretest.BaseURL+"/reset?token="+tok {
		t.Fatalf("second look: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	// An existing query is kept.
	r = h.Client().Get("/reset-password/" + tok + "?callbackURL=" + url.QueryEscape("/reset?lang=en"))
	if loc := r.Header.Get("Location"); loc != authcoretest.BaseURL+"/reset?lang=en&token="+tok {
		t.Fatalf("with query: %q", loc)
	}
	// Unknown token.
	r = h.Client().Get("/reset-password/" + strings.Repeat("x", 24) + "?callbackURL=/reset")
	if r.StatusCode != http.StatusFound || r.Header.Get("Location") != authcoretest.BaseURL+"/reset?error=INVALID_TOKEN" {
		t.Fatalf("bad token: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	// Expired token.
	h.Clock.Advance(time.Hour + time.Second)
	r = h.Client().Get("/reset-password/" + tok + "?callbackURL=/reset")
	if r.Header.Get("Location") != authcoretest.BaseURL+"/reset?error=INVALID_TOKEN" {
		t.Fatalf("expired token: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	// Untrusted callbackURL: refused, never redirected to (RDR-02).
	for _, cb := range []string{"https://evil.example/reset", "//evil.example/reset"} {
		r = h.Client().Get("/reset-password/" + tok + "?callbackURL=" + url.QueryEscape(cb))
		flowErr(t, r, http.StatusForbidden, "INVALID_CALLBACK_URL", "Invalid callbackURL")
		if r.Header.Get("Location") != "" {
			t.Fatalf("redirected to %q", r.Header.Get("Location"))
		}
	}
	// callbackURL is required.
	r = h.Client().Get("/reset-password/" + tok)
	flowErr(t, r, http.StatusBadRequest, "VALIDATION_ERROR", "")
}

// POST /reset-password (spec §6 #18)

func TestResetPassword(t *testing.T) {
	h := authcoretest.New(t)
	alice, _ := h.SignUp("Alice", "alice@example.com", flowPW)
	tok, _ := flowResetToken(t, h, "alice@example.com", "/reset")
	sessions := flowCount(t, h, authcore.ModelSession, storage.Where{})

	anon := h.Client()
	r := anon.Post("/reset-password", map[string]any{"newPassword": "a brand new secret", "token": tok})
	if r.StatusCode != http.StatusOK || string(r.Body) != `{"status":true}` {
		t.Fatalf("reset-password: %d %s", r.StatusCode, r.Body)
	}
	// No session is created by a reset (PWD-03).
	if len(r.Header.Values("Set-Cookie")) != 0 {
		t.Fatalf("reset set cookies: %v", r.Header.Values("Set-Cookie"))
	}
	if n := flowCount(t, h, authcore.ModelSession, storage.Where{}); n != sessions {
		t.Fatalf("sessions %d → %d", sessions, n)
	}
	if flowSignInStatus(h, "alice@example.com", "a brand new secret") != 200 || flowSignInStatus(h, "alice@example.com", flowPW) != 401 {
		t.Fatal("password not replaced")
	}
	// Without RevokeSessionsOnPasswordReset, existing sessions survive.
	if _, obj := getSession(t, alice, ""); obj == nil {
		t.Fatal("session revoked without revoke_sessions_on_password_reset")
	}
	// Single use.
	r = anon.Post("/reset-password", map[string]any{"newPassword": "yet another secret", "token": tok})
	flowErr(t, r, http.StatusBadRequest, "INVALID_TOKEN", "Invalid token")
	if flowSignInStatus(h, "alice@example.com", "a brand new secret") != 200 {
		t.Fatal("second use changed the password")
	}
	if n := flowCount(t, h, authcore.ModelVerification, storage.Where{}); n != 0 {
		t.Fatalf("%d verification rows left", n)
	}
}

func TestResetPasswordTokenInQuery(t *testing.T) {
	h := authcoretest.New(t)
	h.SignUp("Alice", "alice@example.com", flowPW)
	tok, _ := flowResetToken(t, h, "alice@example.com", "")
	r := h.Client().Post("/reset-password?token="+tok, map[string]any{"newPassword": "a brand new secret"})
	if r.StatusCode != http.StatusOK {
		t.Fatalf("reset with query token: %d %s", r.StatusCode, r.Body)
	}
	flowSignIn(t, h, "alice@example.com", "a brand new secret")
}

func TestResetPasswordInvalidToken(t *testing.T) {
	h := authcoretest.New(t)
	h.SignUp("Alice", "alice@example.com", flowPW)
	tok, _ := flowResetToken(t, h, "alice@example.com", "")
	for _, body := range []map[string]any{
		{"newPassword": "a brand new secret"},
		{"newPassword": "a brand new secret", "token": ""},
		{"newPassword": "a brand new secret", "token": strings.Repeat("x", 24)},
		{"newPassword": "a brand new secret", "token": tok[:23]},
		{"newPassword": "a brand new secret", "token": strings.ToUpper(tok)},
	} {
		r := h.Client().Post("/reset-password", body)
		flowErr(t, r, http.StatusBadRequest, "INVALID_TOKEN", "Invalid token")
	}
	// Expired after an hour.
	h.Clock.Advance(time.Hour + time.Second)
	r := h.Client().Post("/reset-password", map[string]any{"newPassword": "a brand new secret", "token": tok})
	flowErr(t, r, http.StatusBadRequest, "INVALID_TOKEN", "Invalid token")
	if flowSignInStatus(h, "alice@example.com", flowPW) != 200 {
		t.Fatal("password changed by a refused reset")
	}
}

// A refused new password does not burn the link (the check runs before the token is taken).
func TestResetPasswordPolicy(t *testing.T) {
	h := authcoretest.New(t)
	h.SignUp("Alice", "alice@example.com", flowPW)
	tok, _ := flowResetToken(t, h, "alice@example.com", "")
	for pw, code := range map[string]string{
		"short":                  "PASSWORD_TOO_SHORT",
		strings.Repeat("x", 129): "PASSWORD_TOO_LONG",
		"password123":            "PASSWORD_TOO_COMMON",
	} {
		before := h.Hasher.Work()
		r := h.Client().Post("/reset-password", map[string]any{"newPassword": pw, "token": tok})
		flowErr(t, r, http.StatusBadRequest, code, "")
		if h.Hasher.Work() != before {
			t.Fatalf("%s: hashed a refused password", code)
		}
	}
	r := h.Client().Post("/reset-password", map[string]any{"newPassword": "a brand new secret", "token": tok})
	if r.StatusCode != http.StatusOK {
		t.Fatalf("token burnt by a refused password: %d %s", r.StatusCode, r.Body)
	}
	flowSignIn(t, h, "alice@example.com", "a brand new secret")
}

func TestResetPasswordRevokesSessions(t *testing.T) {
	h := authcoretest.New(t, authcoretest.WithConfig(func(c *authcore.Config) { c.EmailAndPassword.RevokeSessionsOnPasswordReset = true }))
	alice, up := h.SignUp("Alice", "alice@example.com", flowPW)
	other, _ := flowSignIn(t, h, "alice@example.com", flowPW)
	bob, _ := h.SignUp("Bob", "bob@example.com", flowPW)
	tok, _ := flowResetToken(t, h, "alice@example.com", "")
	if r := h.Client().Post("/reset-password", map[string]any{"newPassword": "a brand new secret", "token": tok}); r.StatusCode != 200 {
		t.Fatalf("reset: %d %s", r.StatusCode, r.Body)
	}
	for _, c := range []*authcoretest.Client{alice, other} {
		if _, obj := getSession(t, c, ""); obj != nil {
			t.Fatal("session survived the reset")
		}
	}
	uid := up["user"].(map[string]any)["id"].(string)
	if n := flowCount(t, h, authcore.ModelSession, storage.Eq("userId", uid)); n != 0 {
		t.Fatalf("%d sessions left", n)
	}
	if _, obj := getSession(t, bob, ""); obj == nil {
		t.Fatal("another user's session was revoked")
	}
}

func TestResetPasswordUserGone(t *testing.T) {
	h := authcoretest.New(t)
	h.SignUp("Alice", "alice@example.com", flowPW)
	// A reset token whose user no longer exists: the row is kept by hand, as a row written
	// before the user was deleted by another node could be.
	if err := h.Engine.CreateVerification(t.Context(), "reset-password:"+authcore.HashToken("orphan-token-0123456789ab"), "no-such-user", time.Hour); err != nil {
		t.Fatal(err)
	}
	r := h.Client().Post("/reset-password", map[string]any{"newPassword": "a brand new secret", "token": "orphan-token-0123456789ab"})
	flowErr(t, r, http.StatusBadRequest, "USER_NOT_FOUND", "User not found")
}

// A user without a password (social sign-up) gets a credential account from a reset.
func TestResetPasswordCreatesCredentialAccount(t *testing.T) {
	h := authcoretest.New(t)
	uid, _ := flowPasswordlessUser(t, h, "Olive", "olive@example.com")
	tok, _ := flowResetToken(t, h, "olive@example.com", "")
	if r := h.Client().Post("/reset-password", map[string]any{"newPassword": "a brand new secret", "token": tok}); r.StatusCode != 200 {
		t.Fatalf("reset: %d %s", r.StatusCode, r.Body)
	}
	if acc := flowCredential(t, h, uid); acc == nil || acc.String("accountId") != uid {
		t.Fatalf("credential account %v", acc)
	}
	flowSignIn(t, h, "olive@example.com", "a brand new secret")
}

// POST /change-password (spec §6 #11)

func TestChangePassword(t *testing.T) {
	h := authcoretest.New(t)
	c, up := h.SignUp("Alice", "alice@example.com", flowPW)
	other, _ := flowSignIn(t, h, "alice@example.com", flowPW)
	r := c.Post("/change-password", map[string]any{"currentPassword": flowPW, "newPassword": "a brand new secret"})
	if r.StatusCode != http.StatusOK {
		t.Fatalf("change-password: %d %s", r.StatusCode, r.Body)
	}
	body := r.Object()
	if v, has := body["token"]; !has || v != nil {
		t.Fatalf("token %v, want null", v)
	}
	if body["user"].(map[string]any)["id"] != up["user"].(map[string]any)["id"] {
		t.Fatalf("user %v", body["user"])
	}
	if flowSignInStatus(h, "alice@example.com", "a brand new secret") != 200 || flowSignInStatus(h, "alice@example.com", flowPW) != 401 {
		t.Fatal("password not changed")
	}
	for _, cl := range []*authcoretest.Client{c, other} {
		if _, obj := getSession(t, cl, ""); obj == nil {
			t.Fatal("a session ended without revokeOtherSessions")
		}
	}
}

func TestChangePasswordRevokeOtherSessions(t *testing.T) {
	h := authcoretest.New(t)
	c, up := h.SignUp("Alice", "alice@example.com", flowPW)
	oldCookie := c.CookieValue(sessionCookie)
	other, _ := flowSignIn(t, h, "alice@example.com", flowPW)
	bob, _ := h.SignUp("Bob", "bob@example.com", flowPW)
	uid := up["user"].(map[string]any)["id"].(string)

	r := c.Post("/change-password", map[string]any{"currentPassword": flowPW, "newPassword": "a brand new secret", "revokeOtherSessions": true})
	if r.StatusCode != http.StatusOK {
		t.Fatalf("change-password: %d %s", r.StatusCode, r.Body)
	}
	token, _ := r.Object()["token"].(string)
	if len(token) != 32 || token == up["token"] {
		t.Fatalf("new token %v", r.Object()["token"])
	}
	if line, ok := r.SetCookie(sessionCookie); !ok || !strings.HasPrefix(line, sessionCookie+"="+signJS(authcoretest.Secret, token)+";") {
		t.Fatalf("new session cookie %q", line)
	}
	// The new cookie works; the old one and the other client's do not.
	if _, obj := getSession(t, c, ""); obj == nil || obj["session"].(map[string]any)["token"] != token {
		t.Fatalf("new session: %v", obj)
	}
	if _, obj := getSession(t, other, ""); obj != nil {
		t.Fatal("other session survived")
	}
	if r := h.Client().Get("/get-session", "Cookie", sessionCookie+"="+oldCookie); string(r.Body) != "null" {
		t.Fatalf("old cookie still valid: %s", r.Body)
	}
	if n := flowCount(t, h, authcore.ModelSession, storage.Eq("userId", uid)); n != 1 {
		t.Fatalf("%d sessions, want the new one only", n)
	}
	if _, obj := getSession(t, bob, ""); obj == nil {
		t.Fatal("another user's session was revoked")
	}
}

func TestChangePasswordErrors(t *testing.T) {
	h := authcoretest.New(t)
	c, up := h.SignUp("Alice", "alice@example.com", flowPW)
	uid := up["user"].(map[string]any)["id"].(string)
	hash := flowCredential(t, h, uid).String("password")
	for _, tc := range []struct {
		current, next, code, msg string
	}{
		{"not my password", "a brand new secret", "INVALID_PASSWORD", "Invalid password"},
		{flowPW, "short", "PASSWORD_TOO_SHORT", "Password too short"},
		{flowPW, strings.Repeat("x", 129), "PASSWORD_TOO_LONG", "Password too long"},
		{flowPW, "password123", "PASSWORD_TOO_COMMON", ""},
		{strings.Repeat("x", 129), "a brand new secret", "PASSWORD_TOO_LONG", "Password too long"},
	} {
		r := c.Post("/change-password", map[string]any{"currentPassword": tc.current, "newPassword": tc.next})
		flowErr(t, r, http.StatusBadRequest, tc.code, tc.msg)
		flowNoSessionCookie(t, r)
	}
	if flowCredential(t, h, uid).String("password") != hash {
		t.Fatal("password changed by a refused request")
	}
	r := c.Post("/change-password", map[string]any{"newPassword": "a brand new secret"})
	flowErr(t, r, http.StatusBadRequest, "VALIDATION_ERROR", "")
	r = h.Client().Post("/change-password", map[string]any{"currentPassword": flowPW, "newPassword": "a brand new secret"})
	flowErr(t, r, http.StatusUnauthorized, "UNAUTHORIZED", "Unauthorized")
}

func TestChangePasswordWithoutCredentialAccount(t *testing.T) {
	h := authcoretest.New(t)
	uid, c := flowPasswordlessUser(t, h, "Olive", "olive@example.com")
	before := h.Hasher.Work()
	r := c.Post("/change-password", map[string]any{"currentPassword": "whatever it is", "newPassword": "a brand new secret"})
	flowErr(t, r, http.StatusBadRequest, "CREDENTIAL_ACCOUNT_NOT_FOUND", "Credential account not found")
	if h.Hasher.Work()-before != 1 {
		t.Fatalf("hasher work %d, want 1 (a missing account costs a hash too)", h.Hasher.Work()-before)
	}
	if flowCredential(t, h, uid) != nil {
		t.Fatal("credential account created")
	}
}

// POST /verify-password (spec §6 #12)

func TestVerifyPassword(t *testing.T) {
	h := authcoretest.New(t)
	c, _ := h.SignUp("Alice", "alice@example.com", flowPW)
	r := c.Post("/verify-password", map[string]any{"password": flowPW})
	if r.StatusCode != http.StatusOK || string(r.Body) != `{"status":true}` {
		t.Fatalf("verify-password: %d %s", r.StatusCode, r.Body)
	}
	r = c.Post("/verify-password", map[string]any{"password": flowPW + "x"})
	flowErr(t, r, http.StatusBadRequest, "INVALID_PASSWORD", "Invalid password")
	r = h.Client().Post("/verify-password", map[string]any{"password": flowPW})
	flowErr(t, r, http.StatusUnauthorized, "UNAUTHORIZED", "Unauthorized")
	_, olive := flowPasswordlessUser(t, h, "Olive", "olive@example.com")
	r = olive.Post("/verify-password", map[string]any{"password": flowPW})
	flowErr(t, r, http.StatusBadRequest, "INVALID_PASSWORD", "Invalid password")
}
