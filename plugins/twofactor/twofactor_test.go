package twofactor_test

import (
	"context"
	"encoding/base32"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/plugins/twofactor"
	"github.com/gatehouse-auth/gatehouse/storage"
)

const (
	pw                 = "correct horse battery staple"
	cookieTwoFactor    = "better-auth.two_factor"
	cookieTrust        = "better-auth.trust_device"
	cookieSession      = "better-auth.session_token"
	cookieData         = "better-auth.session_data"
	cookieDontRemember = "better-auth.dont_remember"
	period             = 30 * time.Second
)

var backupPattern = regexp.MustCompile(`^[a-zA-Z0-9]{5}-[a-zA-Z0-9]{5}$`)

// ---------------------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------------------

func newHarness(t *testing.T, p *twofactor.Plugin, opts ...authcoretest.Option) *authcoretest.Harness {
	t.Helper()
	if p == nil {
		p = &twofactor.Plugin{}
	}
	return authcoretest.New(t, append([]authcoretest.Option{authcoretest.WithPlugins(p)}, opts...)...)
}

func plugin(t *testing.T, h *authcoretest.Harness) *twofactor.Plugin {
	t.Helper()
	v, ok := h.Engine.Plugin(authcore.TwoFactorID)
	p, isPlugin := v.(*twofactor.Plugin)
	if !ok || !isPlugin {
		t.Fatalf("engine.Plugin(%q) = %T", authcore.TwoFactorID, v)
	}
	return p
}

func wantOK(t *testing.T, r *authcoretest.Response) map[string]any {
	t.Helper()
	if r.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: status %d, body %s", r.Request.Method, r.Request.URL.Path, r.StatusCode, r.Body)
	}
	return r.Object()
}

// wantErr asserts an error envelope: status, code and, unless empty, message.
func wantErr(t *testing.T, r *authcoretest.Response, status int, code, message string) {
	t.Helper()
	if r.StatusCode != status || r.Code() != code {
		t.Fatalf("%s %s: got %d %s, want %d %s", r.Request.Method, r.Request.URL.Path, r.StatusCode, r.Body, status, code)
	}
	if message != "" && r.Object()["message"] != message {
		t.Fatalf("message %q, want %q", r.Object()["message"], message)
	}
}

func wantCode(t *testing.T, r *authcoretest.Response, status int, code authcore.ErrorCode) {
	t.Helper()
	wantErr(t, r, status, code.Code, code.Message)
}

// liveCookie returns the Set-Cookie line of a cookie that is set (not expired).
func liveCookie(r *authcoretest.Response, name string) (string, bool) {
	line, ok := r.SetCookie(name)
	if !ok || strings.Contains(line, "Max-Age=0") {
		return "", false
	}
	return line, true
}

func expiredCookie(r *authcoretest.Response, name string) bool {
	line, ok := r.SetCookie(name)
	return ok && strings.Contains(line, "Max-Age=0")
}

func noSessionCookie(t *testing.T, r *authcoretest.Response) {
	t.Helper()
	for _, name := range []string{cookieSession, cookieData} {
		if line, ok := liveCookie(r, name); ok {
			t.Fatalf("a %s cookie was set: %q", name, line)
		}
	}
	if v := r.Header.Get("set-auth-token"); v != "" {
		t.Fatalf("set-auth-token %q", v)
	}
}

// code is the TOTP code of secret at a time, computed independently of the plugin.
func code(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString([]byte(secret)), at,
		totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// nextCode moves the clock to the next time step and returns its code: every code a test
// uses belongs to a step of its own, as a person using an app would.
func nextCode(t *testing.T, h *authcoretest.Harness, secret string) string {
	t.Helper()
	h.Clock.Advance(period)
	return code(t, secret, h.Clock.Now())
}

func secretOf(t *testing.T, uri string) string {
	t.Helper()
	u, err := url.Parse(uri)
	if err != nil {
		t.Fatal(err)
	}
	b, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(u.Query().Get("secret"))
	if err != nil {
		t.Fatalf("secret of %q: %v", uri, err)
	}
	return string(b)
}

func strs(v any) []string {
	arr, _ := v.([]any)
	out := make([]string, 0, len(arr))
	for _, x := range arr {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// account is a user with a session client.
type account struct {
	c      *authcoretest.Client
	id     string
	email  string
	secret string
	backup []string
}

func signUp(t *testing.T, h *authcoretest.Harness, email string) *account {
	t.Helper()
	c, body := h.SignUp("User", email, pw)
	u, _ := body["user"].(map[string]any)
	id, _ := u["id"].(string)
	return &account{c: c, id: id, email: email}
}

// enrol signs a user up and turns TOTP on (enable, then verify-totp with the session).
func enrol(t *testing.T, h *authcoretest.Harness, email string) *account {
	t.Helper()
	a := signUp(t, h, email)
	body := wantOK(t, a.c.Post(twofactor.PathEnable, map[string]any{"password": pw}))
	a.secret = secretOf(t, body["totpURI"].(string))
	a.backup = strs(body["backupCodes"])
	wantOK(t, a.c.Post(twofactor.PathVerifyTOTP, map[string]any{"code": nextCode(t, h, a.secret)}))
	return a
}

// signIn starts a password sign-in on a new client.
func signIn(t *testing.T, h *authcoretest.Harness, email string, extra ...map[string]any) (*authcoretest.Client, *authcoretest.Response) {
	t.Helper()
	c := h.Client()
	body := map[string]any{"email": email, "password": pw}
	for _, e := range extra {
		for k, v := range e {
			body[k] = v
		}
	}
	return c, c.Post(authcore.PathSignInEmail, body)
}

func interruptionBody(methods ...string) string {
	if methods == nil {
		methods = []string{}
	}
	b, _ := json.Marshal(map[string]any{"twoFactorMethods": methods, "twoFactorRedirect": true})
	// Better Auth's key order: twoFactorRedirect first.
	return `{"twoFactorRedirect":true,"twoFactorMethods":` + strings.TrimSuffix(strings.TrimPrefix(string(b), `{"twoFactorMethods":`), `,"twoFactorRedirect":true}`) + `}`
}

// wantInterrupted asserts the exact interruption: body, a live two_factor cookie, no session.
func wantInterrupted(t *testing.T, r *authcoretest.Response, methods ...string) {
	t.Helper()
	if r.StatusCode != http.StatusOK || string(r.Body) != interruptionBody(methods...) {
		t.Fatalf("got %d %s, want 200 %s", r.StatusCode, r.Body, interruptionBody(methods...))
	}
	line, ok := liveCookie(r, cookieTwoFactor)
	if !ok || !strings.Contains(line, "; Max-Age=600;") || !strings.Contains(line, "HttpOnly") {
		t.Fatalf("two_factor cookie %q", line)
	}
	noSessionCookie(t, r)
}

// pendingIn signs in and asserts the interruption, returning the pending client.
func pendingIn(t *testing.T, h *authcoretest.Harness, email string, methods ...string) *authcoretest.Client {
	t.Helper()
	c, r := signIn(t, h, email)
	wantInterrupted(t, r, methods...)
	return c
}

func count(t *testing.T, h *authcoretest.Harness, model string, where storage.Where) int {
	t.Helper()
	n, err := h.Engine.Store().Count(context.Background(), model, where)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func sessions(t *testing.T, h *authcoretest.Harness, userID string) int {
	t.Helper()
	return count(t, h, authcore.ModelSession, storage.Eq("userId", userID))
}

func row(t *testing.T, h *authcoretest.Harness, userID string) storage.Record {
	t.Helper()
	rec, err := h.Engine.Store().FindOne(context.Background(), twofactor.ModelTwoFactor, storage.Eq("userId", userID))
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func user(t *testing.T, h *authcoretest.Harness, id string) storage.Record {
	t.Helper()
	u, err := h.Engine.UserByID(context.Background(), id)
	if err != nil || u == nil {
		t.Fatalf("user %s: %v", id, err)
	}
	return u
}

// session returns get-session's user id for a client ("" for null).
func sessionUser(t *testing.T, c *authcoretest.Client) string {
	t.Helper()
	r := c.Get(authcore.PathGetSession)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("get-session %d %s", r.StatusCode, r.Body)
	}
	if string(r.Body) == "null" {
		return ""
	}
	u, _ := r.Object()["user"].(map[string]any)
	id, _ := u["id"].(string)
	return id
}

// lastMessage waits for the (n+1)th message of a type to an address and returns it.
func lastMessage(t *testing.T, h *authcoretest.Harness, typ, to string, n int) authcore.Message {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var got []authcore.Message
		for _, m := range h.Sink.Messages() {
			if m.Type == typ && m.To == to {
				got = append(got, m)
			}
		}
		if len(got) > n {
			return got[len(got)-1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no new %q message to %s (have %d)", typ, to, len(got))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func messages(h *authcoretest.Harness, typ, to string) int {
	n := 0
	for _, m := range h.Sink.Messages() {
		if m.Type == typ && m.To == to {
			n++
		}
	}
	return n
}

// parallel runs n requests at once and returns their statuses.
func parallel(n int, f func(i int) *authcoretest.Response) []*authcoretest.Response {
	out := make([]*authcoretest.Response, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i] = f(i)
		}()
	}
	close(start)
	wg.Wait()
	return out
}

func okCount(t *testing.T, rs []*authcoretest.Response) int {
	t.Helper()
	n := 0
	for _, r := range rs {
		switch {
		case r.StatusCode == http.StatusOK:
			n++
		case r.StatusCode >= 500:
			t.Fatalf("%d %s", r.StatusCode, r.Body)
		}
	}
	return n
}

// ---------------------------------------------------------------------------------------
// enrolment
// ---------------------------------------------------------------------------------------

func TestEnableTOTP(t *testing.T) {
	h := newHarness(t, nil)
	a := signUp(t, h, "alice@example.com")
	oldToken := a.c.CookieValue(cookieSession)

	// Password rules first.
	wantErr(t, a.c.Post(twofactor.PathEnable, map[string]any{}), http.StatusBadRequest, "VALIDATION_ERROR", "")
	wantCode(t, a.c.Post(twofactor.PathEnable, map[string]any{"password": "wrong password!"}), http.StatusBadRequest, authcore.CodeInvalidPassword)
	wantCode(t, a.c.Post(twofactor.PathEnable, map[string]any{"password": ""}), http.StatusBadRequest, authcore.CodeInvalidPassword)
	wantErr(t, a.c.Post(twofactor.PathEnable, map[string]any{"password": pw, "method": "sms"}), http.StatusBadRequest, "VALIDATION_ERROR", "")
	wantErr(t, h.Client().Post(twofactor.PathEnable, map[string]any{"password": pw}), http.StatusUnauthorized, "UNAUTHORIZED", "")
	if row(t, h, a.id) != nil {
		t.Fatal("a refused enable wrote a row")
	}

	r := a.c.Post(twofactor.PathEnable, map[string]any{"password": pw, "issuer": "My App"})
	body := wantOK(t, r)
	if keys := strings.Join(sortedKeys(body), ","); keys != "backupCodes,method,totpURI" || body["method"] != "totp" {
		t.Fatalf("body %s", r.Body)
	}
	if !strings.HasPrefix(string(r.Body), `{"method":"totp","totpURI":"otpauth://`) || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("body %s, headers %v", r.Body, r.Header)
	}
	uri := body["totpURI"].(string)
	if !regexp.MustCompile(`^otpauth://totp/My%20App:alice%40example\.com\?secret=[A-Z2-7]{52}&issuer=My\+App&digits=6&period=30$`).MatchString(uri) {
		t.Fatalf("totpURI %q", uri)
	}
	secret := secretOf(t, uri)
	if !regexp.MustCompile(`^[a-zA-Z0-9_-]{32}$`).MatchString(secret) {
		t.Fatalf("secret %q", secret)
	}
	codes := strs(body["backupCodes"])
	if len(codes) != 10 {
		t.Fatalf("%d backup codes", len(codes))
	}
	for _, c := range codes {
		if !backupPattern.MatchString(c) {
			t.Fatalf("backup code %q", c)
		}
	}
	// Pending: the row exists unverified, two-factor is still off, the session unchanged.
	rec := row(t, h, a.id)
	if rec == nil || rec.Bool("verified") || user(t, h, a.id).Bool("twoFactorEnabled") {
		t.Fatalf("row %v", rec)
	}
	if a.c.CookieValue(cookieSession) != oldToken {
		t.Fatal("enable rotated the session before verification")
	}
	// A new sign-in is not interrupted yet.
	_, sr := signIn(t, h, a.email)
	if wantOK(t, sr)["token"] == nil {
		t.Fatalf("sign-in %s", sr.Body)
	}

	// The URI again, with the password; the default issuer is the app name.
	wantErr(t, a.c.Post(twofactor.PathGetTOTPURI, map[string]any{}), http.StatusBadRequest, "VALIDATION_ERROR", "")
	wantCode(t, a.c.Post(twofactor.PathGetTOTPURI, map[string]any{"password": "nope nope nope"}), http.StatusBadRequest, authcore.CodeInvalidPassword)
	u2 := wantOK(t, a.c.Post(twofactor.PathGetTOTPURI, map[string]any{"password": pw}))["totpURI"].(string)
	if want := "otpauth://totp/Gatehouse:alice%40example.com?secret=" + base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString([]byte(secret)) + "&issuer=Gatehouse&digits=6&period=30"; u2 != want {
		t.Fatalf("get-totp-uri %q, want %q", u2, want)
	}

	// A wrong code does not enable.
	wantCode(t, a.c.Post(twofactor.PathVerifyTOTP, map[string]any{"code": "000000"}), http.StatusUnauthorized, twofactor.CodeInvalidCode)

	// The first right code, with the session: two-factor on, session rotated, and the
	// answer carries the NEW token and the updated user (not Better Auth's quirk).
	sessionsBefore := sessions(t, h, a.id)
	r = a.c.Post(twofactor.PathVerifyTOTP, map[string]any{"code": nextCode(t, h, secret)})
	body = wantOK(t, r)
	newToken, _ := body["token"].(string)
	u, _ := body["user"].(map[string]any)
	if newToken == "" || u["twoFactorEnabled"] != true || len(body) != 2 {
		t.Fatalf("verify body %s", r.Body)
	}
	line, ok := liveCookie(r, cookieSession)
	if !ok || !strings.HasPrefix(line, cookieSession+"="+url.QueryEscape(h.Engine.Keys().Sign(newToken))+";") {
		t.Fatalf("session cookie %q does not hold the answered token %q", line, newToken)
	}
	if s, _ := h.Engine.SessionByToken(context.Background(), strings.Split(oldToken, ".")[0]); s != nil {
		t.Fatal("the old session survived the rotation")
	}
	if sessions(t, h, a.id) != sessionsBefore {
		t.Fatalf("sessions %d, want %d (one replaced)", sessions(t, h, a.id), sessionsBefore)
	}
	if sessionUser(t, a.c) != a.id || !row(t, h, a.id).Bool("verified") || !user(t, h, a.id).Bool("twoFactorEnabled") {
		t.Fatal("not enabled")
	}

	// A confirmed authenticator is not silently replaced (npm 1.7.25).
	wantCode(t, a.c.Post(twofactor.PathEnable, map[string]any{"password": pw}), http.StatusBadRequest, twofactor.CodeTOTPAlreadyEnabled)
	// With the session, a later code re-checks the factor and answers the current token.
	r = a.c.Post(twofactor.PathVerifyTOTP, map[string]any{"code": nextCode(t, h, secret)})
	if tok := wantOK(t, r)["token"]; tok != newToken {
		t.Fatalf("re-verify token %v, want %s", tok, newToken)
	}
}

func sortedKeys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestGetTOTPURIErrors(t *testing.T) {
	h := newHarness(t, nil)
	a := signUp(t, h, "alice@example.com")
	wantCode(t, a.c.Post(twofactor.PathGetTOTPURI, map[string]any{"password": pw}), http.StatusBadRequest, twofactor.CodeTOTPNotEnabled)
	wantErr(t, h.Client().Post(twofactor.PathGetTOTPURI, map[string]any{"password": pw}), http.StatusUnauthorized, "UNAUTHORIZED", "")

	h2 := newHarness(t, &twofactor.Plugin{DisableTOTP: true})
	b := signUp(t, h2, "bob@example.com")
	wantErr(t, b.c.Post(twofactor.PathGetTOTPURI, map[string]any{"password": pw}), http.StatusBadRequest, "TOTP_NOT_CONFIGURED", "totp isn't configured")
	wantCode(t, b.c.Post(twofactor.PathEnable, map[string]any{"password": pw}), http.StatusBadRequest, twofactor.CodeTOTPNotConfigured)
	wantErr(t, b.c.Post(twofactor.PathVerifyTOTP, map[string]any{"code": "123456"}), http.StatusBadRequest, "TOTP_NOT_CONFIGURED", "totp isn't configured")
	// OTP still works there, and "totp" is never offered.
	wantOK(t, b.c.Post(twofactor.PathEnable, map[string]any{"password": pw, "method": "otp"}))
	pendingIn(t, h2, b.email, "otp")
}

func TestSkipVerificationOnEnableAndDigits(t *testing.T) {
	h := newHarness(t, &twofactor.Plugin{SkipVerificationOnEnable: true, Digits: 8, Issuer: "Acme Corp"})
	a := signUp(t, h, "alice@example.com")
	old := a.c.CookieValue(cookieSession)
	r := a.c.Post(twofactor.PathEnable, map[string]any{"password": pw})
	uri := wantOK(t, r)["totpURI"].(string)
	if !strings.HasPrefix(uri, "otpauth://totp/Acme%20Corp:alice%40example.com?") || !strings.HasSuffix(uri, "&issuer=Acme+Corp&digits=8&period=30") {
		t.Fatalf("uri %q", uri)
	}
	if !user(t, h, a.id).Bool("twoFactorEnabled") || !row(t, h, a.id).Bool("verified") {
		t.Fatal("not enabled at once")
	}
	if _, ok := liveCookie(r, cookieSession); !ok || a.c.CookieValue(cookieSession) == old {
		t.Fatal("session not rotated")
	}
	// 8-digit codes.
	secret := secretOf(t, uri)
	c := pendingIn(t, h, a.email, "totp", "otp")
	h.Clock.Advance(period)
	code8, err := totp.GenerateCodeCustom(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString([]byte(secret)), h.Clock.Now(),
		totp.ValidateOpts{Period: 30, Digits: otp.DigitsEight, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, c.Post(twofactor.PathVerifyTOTP, map[string]any{"code": code8[2:]}), http.StatusUnauthorized, twofactor.CodeInvalidCode)
	wantOK(t, c.Post(twofactor.PathVerifyTOTP, map[string]any{"code": code8}))
	// GenerateTOTP (server-only generateTOTP) agrees with an independent implementation.
	h.Clock.Advance(period)
	got, err := plugin(t, h).GenerateTOTP(secret)
	want, _ := totp.GenerateCodeCustom(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString([]byte(secret)), h.Clock.Now(),
		totp.ValidateOpts{Period: 30, Digits: otp.DigitsEight, Algorithm: otp.AlgorithmSHA1})
	if err != nil || got != want {
		t.Fatalf("GenerateTOTP %q %v, want %q", got, err, want)
	}
}

// ---------------------------------------------------------------------------------------
// the interruption
// ---------------------------------------------------------------------------------------

func TestSignInInterruption(t *testing.T) {
	h := newHarness(t, nil, authcoretest.WithConfig(func(c *authcore.Config) { c.Session.CookieCache = 5 * time.Minute }))
	a := enrol(t, h, "alice@example.com")
	before := sessions(t, h, a.id)

	c, r := signIn(t, h, a.email)
	wantInterrupted(t, r, "totp", "otp")
	if line, _ := r.SetCookie(cookieTwoFactor); !strings.HasSuffix(line, "; Max-Age=600; Path=/; HttpOnly; SameSite=Lax") {
		t.Fatalf("two_factor cookie attributes %q", line)
	}
	if _, set := r.SetCookie(cookieData); set {
		t.Fatal("a cookie-cache cookie on a pending sign-in")
	}
	if sessionUser(t, c) != "" {
		t.Fatal("get-session is not null for a pending sign-in")
	}
	if sessions(t, h, a.id) != before {
		t.Fatal("a session row was stored for a pending sign-in")
	}
	// The challenge rows of spec §4.8.
	id, ok := h.Engine.Keys().Verify(mustUnescape(t, c.CookieValue(cookieTwoFactor)))
	if !ok || !regexp.MustCompile(`^2fa-[A-Za-z0-9_-]{20}$`).MatchString(id) {
		t.Fatalf("challenge id %q", id)
	}
	ch, _ := h.Engine.FindVerification(context.Background(), id)
	att, _ := h.Engine.FindVerification(context.Background(), "2fa-attempts-"+id)
	if ch == nil || ch.String("value") != a.id || att == nil || att.String("value") != "0" {
		t.Fatalf("challenge rows %v %v", ch, att)
	}
	if !ch.Time("expiresAt").Equal(h.Clock.Now().Add(10 * time.Minute)) {
		t.Fatalf("challenge expires %v", ch.Time("expiresAt"))
	}
	// The pending cookie opens nothing else.
	wantErr(t, c.Post(twofactor.PathEnable, map[string]any{"password": pw}), http.StatusUnauthorized, "UNAUTHORIZED", "")
	wantErr(t, c.Post(twofactor.PathGenerateBackupCodes, map[string]any{"password": pw}), http.StatusUnauthorized, "UNAUTHORIZED", "")
	wantErr(t, c.Post(twofactor.PathDisable, map[string]any{"password": pw}), http.StatusUnauthorized, "UNAUTHORIZED", "")
	wantErr(t, c.Get(authcore.PathListSessions), http.StatusUnauthorized, "UNAUTHORIZED", "")

	// A copy of the pending cookie, to show below that the challenge is spent.
	copyTo := h.Client()
	setCookie(t, h, copyTo, cookieTwoFactor, c.CookieValue(cookieTwoFactor))

	// The second factor completes it.
	r = c.Post(twofactor.PathVerifyTOTP, map[string]any{"code": nextCode(t, h, a.secret)})
	body := wantOK(t, r)
	tok, _ := body["token"].(string)
	if u, _ := body["user"].(map[string]any); tok == "" || u["id"] != a.id || len(body) != 2 {
		t.Fatalf("body %s", r.Body)
	}
	if _, ok := liveCookie(r, cookieSession); !ok || !expiredCookie(r, cookieTwoFactor) {
		t.Fatalf("cookies %v", r.Header.Values("Set-Cookie"))
	}
	if _, ok := liveCookie(r, cookieData); !ok {
		t.Fatal("no cookie-cache cookie with the session")
	}
	if line, _ := r.SetCookie(cookieSession); !strings.Contains(line, "Max-Age=604800") {
		t.Fatalf("session cookie %q", line)
	}
	if sessionUser(t, c) != a.id || sessions(t, h, a.id) != before+1 {
		t.Fatal("no session")
	}
	for _, ident := range []string{id, "2fa-attempts-" + id} {
		if rec, _ := h.Engine.FindVerification(context.Background(), ident); rec != nil {
			t.Fatalf("%s left behind", ident)
		}
	}
	// The challenge is spent.
	r = copyTo.Post(twofactor.PathVerifyTOTP, map[string]any{"code": nextCode(t, h, a.secret)})
	wantCode(t, r, http.StatusUnauthorized, twofactor.CodeInvalidTwoFactorCookie)
	if !expiredCookie(r, cookieTwoFactor) {
		t.Fatal("a dead two_factor cookie is not expired")
	}
}

func mustUnescape(t *testing.T, s string) string {
	t.Helper()
	v, err := url.QueryUnescape(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// setCookie puts a cookie in a client's jar (the value as it travels, percent-encoded).
func setCookie(t *testing.T, h *authcoretest.Harness, c *authcoretest.Client, name, value string) {
	t.Helper()
	u, _ := url.Parse(h.Server.URL)
	c.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}
