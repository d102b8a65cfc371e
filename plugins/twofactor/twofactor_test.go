package twofactor_test

import (
	"bytes"
	"context"
	"encoding/base32"
	"encoding/json"
	"errors"
	"image/png"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/plugins/emailotp"
	"github.com/gatehouse-auth/gatehouse/plugins/magiclink"
	"github.com/gatehouse-auth/gatehouse/plugins/phonenumber"
	"github.com/gatehouse-auth/gatehouse/plugins/twofactor"
	"github.com/gatehouse-auth/gatehouse/plugins/username"
	"github.com/gatehouse-auth/gatehouse/storage"
	"github.com/gatehouse-auth/gatehouse/storage/memory"
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

// forEachStore runs a test on the memory store and on bbolt: the single-use and counting
// guarantees rest on each adapter's transactions.
func forEachStore(t *testing.T, f func(t *testing.T, store ...authcoretest.Option)) {
	t.Run("memory", func(t *testing.T) { f(t) })
	t.Run("bolt", func(t *testing.T) { f(t, authcoretest.WithBolt()) })
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

// ---------------------------------------------------------------------------------------
// TOTP: drift, replay, attempt caps, lockout
// ---------------------------------------------------------------------------------------

// TOTP-02: codes one step either side are accepted, two steps are not, and steps only move
// forward: once a step is used, it and every earlier step are dead.
func TestTOTPDriftWindow(t *testing.T) {
	h := newHarness(t, nil)
	a := enrol(t, h, "alice@example.com")
	h.Clock.Advance(10 * period)
	now := h.Clock.Now()
	at := func(steps int) string { return code(t, a.secret, now.Add(time.Duration(steps)*period)) }

	c := pendingIn(t, h, a.email, "totp", "otp")
	wantCode(t, c.Post(twofactor.PathVerifyTOTP, map[string]any{"code": at(-2)}), http.StatusUnauthorized, twofactor.CodeInvalidCode)
	wantOK(t, c.Post(twofactor.PathVerifyTOTP, map[string]any{"code": at(-1)}))

	c = pendingIn(t, h, a.email, "totp", "otp")
	wantCode(t, c.Post(twofactor.PathVerifyTOTP, map[string]any{"code": at(2)}), http.StatusUnauthorized, twofactor.CodeInvalidCode)
	wantOK(t, c.Post(twofactor.PathVerifyTOTP, map[string]any{"code": at(1)}))

	// Step +1 is used: the current step and step -1 (not used yet) are now dead too.
	c = pendingIn(t, h, a.email, "totp", "otp")
	wantCode(t, c.Post(twofactor.PathVerifyTOTP, map[string]any{"code": at(0)}), http.StatusUnauthorized, twofactor.CodeInvalidCode)
	// A client-sent time is ignored.
	wantCode(t, c.Post(twofactor.PathVerifyTOTP, map[string]any{"code": at(-1), "time": now.Add(-period).Unix()}),
		http.StatusUnauthorized, twofactor.CodeInvalidCode)
	// Once the clock passes the used step, codes work again.
	h.Clock.Advance(period)
	wantOK(t, c.Post(twofactor.PathVerifyTOTP, map[string]any{"code": nextCode(t, h, a.secret)}))
	if last := row(t, h, a.id).Int(twofactor.FieldLastTOTPStep); last != h.Clock.Now().Unix()/30 {
		t.Fatalf("lastTotpStep %d, want %d", last, h.Clock.Now().Unix()/30)
	}
}

// spec §11: a code is accepted once, also when two sign-ins race with it.
func TestTOTPReplay(t *testing.T) { forEachStore(t, testTOTPReplay) }

func testTOTPReplay(t *testing.T, store ...authcoretest.Option) {
	h := newHarness(t, nil, store...)
	a := enrol(t, h, "alice@example.com")

	c := pendingIn(t, h, a.email, "totp", "otp")
	code := nextCode(t, h, a.secret)
	wantOK(t, c.Post(twofactor.PathVerifyTOTP, map[string]any{"code": code}))
	c2 := pendingIn(t, h, a.email, "totp", "otp")
	wantCode(t, c2.Post(twofactor.PathVerifyTOTP, map[string]any{"code": code}), http.StatusUnauthorized, twofactor.CodeInvalidCode)
	// Nor with a session.
	wantCode(t, a.c.Post(twofactor.PathVerifyTOTP, map[string]any{"code": code}), http.StatusUnauthorized, twofactor.CodeInvalidCode)

	// Two parallel sign-ins with one code: exactly one session.
	for round := range 5 {
		clients := []*authcoretest.Client{pendingIn(t, h, a.email, "totp", "otp"), pendingIn(t, h, a.email, "totp", "otp")}
		before := sessions(t, h, a.id)
		code := nextCode(t, h, a.secret)
		rs := parallel(2, func(i int) *authcoretest.Response {
			return clients[i].Post(twofactor.PathVerifyTOTP, map[string]any{"code": code})
		})
		if n := okCount(t, rs); n != 1 || sessions(t, h, a.id) != before+1 {
			t.Fatalf("round %d: %d successes, %d new sessions", round, n, sessions(t, h, a.id)-before)
		}
		for _, r := range rs {
			if r.StatusCode != http.StatusOK {
				wantCode(t, r, http.StatusUnauthorized, twofactor.CodeInvalidCode)
			}
		}
	}

	// 20 parallel requests with one pending cookie and the right code: at most one session.
	c = pendingIn(t, h, a.email, "totp", "otp")
	before := sessions(t, h, a.id)
	code = nextCode(t, h, a.secret)
	rs := parallel(20, func(int) *authcoretest.Response {
		return c.Post(twofactor.PathVerifyTOTP, map[string]any{"code": code})
	})
	if n := okCount(t, rs); n > 1 || sessions(t, h, a.id)-before != n {
		t.Fatalf("%d successes, %d new sessions", n, sessions(t, h, a.id)-before)
	}
}

// Each pending sign-in allows 5 codes; the 6th try burns it, even with the right code.
func TestChallengeAttemptCap(t *testing.T) {
	h := newHarness(t, nil)
	a := enrol(t, h, "alice@example.com")
	c := pendingIn(t, h, a.email, "totp", "otp")
	id, _ := h.Engine.Keys().Verify(mustUnescape(t, c.CookieValue(cookieTwoFactor)))
	for i := range 5 {
		r := c.Post(twofactor.PathVerifyTOTP, map[string]any{"code": "00000" + string(rune('0'+i))})
		wantCode(t, r, http.StatusUnauthorized, twofactor.CodeInvalidCode)
	}
	r := c.Post(twofactor.PathVerifyTOTP, map[string]any{"code": nextCode(t, h, a.secret)})
	wantCode(t, r, http.StatusBadRequest, twofactor.CodeTooManyAttemptsRequestNewCode)
	if !expiredCookie(r, cookieTwoFactor) {
		t.Fatal("two_factor cookie not expired")
	}
	if n := count(t, h, authcore.ModelVerification, storage.In("identifier", []string{id, "2fa-attempts-" + id})); n != 0 {
		t.Fatalf("%d challenge rows left", n)
	}
	setCookie(t, h, c, cookieTwoFactor, url.QueryEscape(h.Engine.Keys().Sign(id)))
	wantCode(t, c.Post(twofactor.PathVerifyBackupCode, map[string]any{"code": a.backup[0]}), http.StatusUnauthorized, twofactor.CodeInvalidTwoFactorCookie)
	// The backup code was not spent on the dead challenge.
	codes, err := plugin(t, h).UserBackupCodes(context.Background(), a.id)
	if err != nil || len(codes) != 10 {
		t.Fatalf("codes %v %v", codes, err)
	}
	// A new sign-in starts over.
	c = pendingIn(t, h, a.email, "totp", "otp")
	wantOK(t, c.Post(twofactor.PathVerifyTOTP, map[string]any{"code": nextCode(t, h, a.secret)}))
}

// BF-03: failures add up per account across pending sign-ins and factors; the lock answers
// 429 even to the right code, and ends after its duration.
func TestAccountLockout(t *testing.T) {
	h := newHarness(t, nil)
	a := enrol(t, h, "alice@example.com")
	b := enrol(t, h, "bob@example.com")
	p1 := pendingIn(t, h, a.email, "totp", "otp")
	p2 := pendingIn(t, h, a.email, "totp", "otp")
	p3 := pendingIn(t, h, a.email, "totp", "otp")
	for range 4 {
		wantCode(t, p1.Post(twofactor.PathVerifyTOTP, map[string]any{"code": "000000"}), http.StatusUnauthorized, twofactor.CodeInvalidCode)
	}
	for range 4 {
		wantCode(t, p2.Post(twofactor.PathVerifyBackupCode, map[string]any{"code": "aaaaa-bbbbb"}), http.StatusUnauthorized, twofactor.CodeInvalidBackupCode)
	}
	// Failures 9 and 10 are wrong emailed codes on a third pending sign-in.
	wantOK(t, p3.Post(twofactor.PathSendOTP, nil))
	lastMessage(t, h, "two-factor-otp", a.email, 0)
	for range 2 {
		wantCode(t, p3.Post(twofactor.PathVerifyOTP, map[string]any{"code": "12345"}), http.StatusUnauthorized, twofactor.CodeInvalidCode)
	}
	// Locked: every pending sign-in, every factor, even the right code.
	lockedAt := h.Clock.Now()
	right := nextCode(t, h, a.secret)
	wantCode(t, p1.Post(twofactor.PathVerifyTOTP, map[string]any{"code": right}), http.StatusTooManyRequests, twofactor.CodeAccountTemporarilyLocked)
	wantCode(t, p3.Post(twofactor.PathVerifyBackupCode, map[string]any{"code": a.backup[0]}), http.StatusTooManyRequests, twofactor.CodeAccountTemporarilyLocked)
	p4 := pendingIn(t, h, a.email, "totp", "otp")
	wantCode(t, p4.Post(twofactor.PathVerifyTOTP, map[string]any{"code": right}), http.StatusTooManyRequests, twofactor.CodeAccountTemporarilyLocked)
	// Another account is not affected.
	pb := pendingIn(t, h, b.email, "totp", "otp")
	wantOK(t, pb.Post(twofactor.PathVerifyTOTP, map[string]any{"code": code(t, b.secret, h.Clock.Now())}))
	// The lock ends 15 minutes after the 10th failure.
	h.Clock.Advance(lockedAt.Add(14 * time.Minute).Sub(h.Clock.Now()))
	p5 := pendingIn(t, h, a.email, "totp", "otp")
	wantCode(t, p5.Post(twofactor.PathVerifyTOTP, map[string]any{"code": code(t, a.secret, h.Clock.Now())}), http.StatusTooManyRequests, twofactor.CodeAccountTemporarilyLocked)
	h.Clock.Advance(time.Minute)
	wantOK(t, p5.Post(twofactor.PathVerifyTOTP, map[string]any{"code": code(t, a.secret, h.Clock.Now())}))
}

// Only consecutive failures count: a success resets them.
func TestAccountLockoutResetsOnSuccess(t *testing.T) {
	h := newHarness(t, &twofactor.Plugin{AccountLockout: &twofactor.AccountLockout{MaxFailedAttempts: 4, Duration: authcore.Duration(time.Hour)}})
	a := enrol(t, h, "alice@example.com")
	for round := range 3 {
		c := pendingIn(t, h, a.email, "totp", "otp")
		for range 3 {
			wantCode(t, c.Post(twofactor.PathVerifyTOTP, map[string]any{"code": "000000"}), http.StatusUnauthorized, twofactor.CodeInvalidCode)
		}
		if r := c.Post(twofactor.PathVerifyTOTP, map[string]any{"code": nextCode(t, h, a.secret)}); r.StatusCode != http.StatusOK {
			t.Fatalf("round %d: %d %s", round, r.StatusCode, r.Body)
		}
	}
	// 4 in a row lock it (the option).
	c := pendingIn(t, h, a.email, "totp", "otp")
	for range 4 {
		wantCode(t, c.Post(twofactor.PathVerifyTOTP, map[string]any{"code": "000000"}), http.StatusUnauthorized, twofactor.CodeInvalidCode)
	}
	wantCode(t, c.Post(twofactor.PathVerifyTOTP, map[string]any{"code": nextCode(t, h, a.secret)}), http.StatusTooManyRequests, twofactor.CodeAccountTemporarilyLocked)

	// With the lockout off, only the per-challenge cap applies.
	h2 := newHarness(t, &twofactor.Plugin{AccountLockout: &twofactor.AccountLockout{Disabled: true}})
	b := enrol(t, h2, "bob@example.com")
	for range 3 {
		c := pendingIn(t, h2, b.email, "totp", "otp")
		for range 5 {
			wantCode(t, c.Post(twofactor.PathVerifyTOTP, map[string]any{"code": "000000"}), http.StatusUnauthorized, twofactor.CodeInvalidCode)
		}
	}
	c = pendingIn(t, h2, b.email, "totp", "otp")
	wantOK(t, c.Post(twofactor.PathVerifyTOTP, map[string]any{"code": nextCode(t, h2, b.secret)}))
}

// Parallel guesses across many pending sign-ins cannot exceed the account's cap: the tries
// are reserved before any code is looked at.
func TestAccountLockoutUnderConcurrency(t *testing.T) {
	forEachStore(t, testAccountLockoutUnderConcurrency)
}

func testAccountLockoutUnderConcurrency(t *testing.T, store ...authcoretest.Option) {
	h := newHarness(t, nil, store...)
	a := enrol(t, h, "alice@example.com")
	var clients []*authcoretest.Client
	for range 6 {
		clients = append(clients, pendingIn(t, h, a.email, "totp", "otp"))
	}
	rs := parallel(30, func(i int) *authcoretest.Response {
		return clients[i%6].Post(twofactor.PathVerifyTOTP, map[string]any{"code": "000000"})
	})
	guesses := 0
	for _, r := range rs {
		switch r.Code() {
		case twofactor.CodeInvalidCode.Code:
			guesses++
		case twofactor.CodeAccountTemporarilyLocked.Code, twofactor.CodeTooManyAttemptsRequestNewCode.Code, twofactor.CodeInvalidTwoFactorCookie.Code:
		default:
			t.Fatalf("%d %s", r.StatusCode, r.Body)
		}
	}
	if guesses != 10 {
		t.Fatalf("%d codes were checked, want exactly 10", guesses)
	}
}

// ---------------------------------------------------------------------------------------
// backup codes
// ---------------------------------------------------------------------------------------

// TOTP-04: view, single use (also under 20 concurrent uses), regenerate voids the old set.
func TestBackupCodes(t *testing.T) { forEachStore(t, testBackupCodes) }

func testBackupCodes(t *testing.T, store ...authcoretest.Option) {
	h := newHarness(t, &twofactor.Plugin{AccountLockout: &twofactor.AccountLockout{Disabled: true}}, store...)
	a := enrol(t, h, "alice@example.com")
	p := plugin(t, h)
	codes, err := p.UserBackupCodes(context.Background(), a.id)
	if err != nil || strings.Join(codes, ",") != strings.Join(a.backup, ",") {
		t.Fatalf("UserBackupCodes %v %v, want %v", codes, err, a.backup)
	}

	// Sign-in with a backup code.
	c := pendingIn(t, h, a.email, "totp", "otp")
	r := c.Post(twofactor.PathVerifyBackupCode, map[string]any{"code": a.backup[0]})
	body := wantOK(t, r)
	if u, _ := body["user"].(map[string]any); body["token"] == nil || u["id"] != a.id || !expiredCookie(r, cookieTwoFactor) {
		t.Fatalf("body %s", r.Body)
	}
	if sessionUser(t, c) != a.id {
		t.Fatal("no session")
	}
	codes, _ = p.UserBackupCodes(context.Background(), a.id)
	if len(codes) != 9 || indexOf(codes, a.backup[0]) >= 0 {
		t.Fatalf("codes after use %v", codes)
	}
	// Used up, for another sign-in and with a session.
	c = pendingIn(t, h, a.email, "totp", "otp")
	wantCode(t, c.Post(twofactor.PathVerifyBackupCode, map[string]any{"code": a.backup[0]}), http.StatusUnauthorized, twofactor.CodeInvalidBackupCode)
	wantCode(t, a.c.Post(twofactor.PathVerifyBackupCode, map[string]any{"code": a.backup[0]}), http.StatusUnauthorized, twofactor.CodeInvalidBackupCode)
	// Another user's code is not this user's (Gogs GHSA-p6x6-9mx6-26wj).
	b := enrol(t, h, "bob@example.com")
	wantCode(t, c.Post(twofactor.PathVerifyBackupCode, map[string]any{"code": b.backup[0]}), http.StatusUnauthorized, twofactor.CodeInvalidBackupCode)

	// With a session: the code is spent and the caller's own token answered.
	tok := wantOK(t, a.c.Post(twofactor.PathVerifyBackupCode, map[string]any{"code": a.backup[1]}))["token"]
	if tok == nil || tok == "" {
		t.Fatal("no token")
	}

	// 20 pending sign-ins race with one code: exactly one session.
	var clients []*authcoretest.Client
	for range 20 {
		clients = append(clients, pendingIn(t, h, a.email, "totp", "otp"))
	}
	before := sessions(t, h, a.id)
	rs := parallel(20, func(i int) *authcoretest.Response {
		return clients[i].Post(twofactor.PathVerifyBackupCode, map[string]any{"code": a.backup[2]})
	})
	if n := okCount(t, rs); n != 1 || sessions(t, h, a.id) != before+1 {
		t.Fatalf("%d successes, %d new sessions", n, sessions(t, h, a.id)-before)
	}
	for _, r := range rs {
		if r.StatusCode != http.StatusOK {
			wantCode(t, r, http.StatusUnauthorized, twofactor.CodeInvalidBackupCode)
		}
	}
	// 20 racing requests on one pending sign-in with one code: at most one session, and
	// the code is spent only if a session came of it.
	c = pendingIn(t, h, a.email, "totp", "otp")
	before = sessions(t, h, a.id)
	rs = parallel(20, func(int) *authcoretest.Response {
		return c.Post(twofactor.PathVerifyBackupCode, map[string]any{"code": a.backup[3]})
	})
	n := okCount(t, rs)
	codes, _ = p.UserBackupCodes(context.Background(), a.id)
	if n > 1 || sessions(t, h, a.id)-before != n || (indexOf(codes, a.backup[3]) < 0) != (n == 1) {
		t.Fatalf("%d successes, %d new sessions, code left: %v", n, sessions(t, h, a.id)-before, indexOf(codes, a.backup[3]) >= 0)
	}

	// disableSession spends the code without a session; the pending sign-in stays open.
	c = pendingIn(t, h, a.email, "totp", "otp")
	r = c.Post(twofactor.PathVerifyBackupCode, map[string]any{"code": a.backup[4], "disableSession": true})
	body = wantOK(t, r)
	if _, has := body["token"]; has || len(body) != 1 {
		t.Fatalf("disableSession body %s", r.Body)
	}
	noSessionCookie(t, r)
	if sessionUser(t, c) != "" {
		t.Fatal("a session with disableSession")
	}
	wantOK(t, c.Post(twofactor.PathVerifyTOTP, map[string]any{"code": nextCode(t, h, a.secret)}))

	// Regenerate: the password is required, the old set dies, the new set works.
	wantCode(t, a.c.Post(twofactor.PathGenerateBackupCodes, map[string]any{"password": "not the password"}), http.StatusBadRequest, authcore.CodeInvalidPassword)
	wantErr(t, a.c.Post(twofactor.PathGenerateBackupCodes, map[string]any{}), http.StatusBadRequest, "VALIDATION_ERROR", "")
	r = a.c.Post(twofactor.PathGenerateBackupCodes, map[string]any{"password": pw})
	body = wantOK(t, r)
	fresh := strs(body["backupCodes"])
	if body["status"] != true || len(fresh) != 10 || !strings.HasPrefix(string(r.Body), `{"status":true,"backupCodes":["`) {
		t.Fatalf("body %s", r.Body)
	}
	c = pendingIn(t, h, a.email, "totp", "otp")
	wantCode(t, c.Post(twofactor.PathVerifyBackupCode, map[string]any{"code": a.backup[5]}), http.StatusUnauthorized, twofactor.CodeInvalidBackupCode)
	wantOK(t, c.Post(twofactor.PathVerifyBackupCode, map[string]any{"code": fresh[0]}))

	// Without two-factor: 400 TWO_FACTOR_NOT_ENABLED; no row: 400 BACKUP_CODES_NOT_ENABLED.
	d := signUp(t, h, "dave@example.com")
	wantCode(t, d.c.Post(twofactor.PathGenerateBackupCodes, map[string]any{"password": pw}), http.StatusBadRequest, twofactor.CodeTwoFactorNotEnabled)
	wantCode(t, d.c.Post(twofactor.PathVerifyBackupCode, map[string]any{"code": fresh[1]}), http.StatusBadRequest, twofactor.CodeBackupCodesNotEnabled)
	if _, err := p.UserBackupCodes(context.Background(), d.id); !errors.Is(err, twofactor.CodeBackupCodesNotEnabled.With(400)) {
		t.Fatalf("UserBackupCodes without a row: %v", err)
	}
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// TOTP-03 / spec §4.3: the secret and the backup codes are never stored in clear; the
// stored forms are the keyring's (Better Auth's) encryption.
func TestSecretsAtRest(t *testing.T) {
	h := newHarness(t, nil, authcoretest.WithBolt())
	a := enrol(t, h, "alice@example.com")
	rec := row(t, h, a.id)
	stored := rec.String(twofactor.FieldSecret)
	if strings.Contains(stored, a.secret) || !regexp.MustCompile(`^(\$[a-z]+\$[0-9a-f]+\$)?[0-9a-f]{144}$`).MatchString(stored) {
		t.Fatalf("secret stored as %q", stored)
	}
	if dec, err := h.Engine.Keys().Decrypt(stored); err != nil || string(dec) != a.secret {
		t.Fatalf("decrypt: %q %v", dec, err)
	}
	codes := rec.String(twofactor.FieldBackupCodes)
	for _, c := range a.backup {
		if strings.Contains(codes, c) || strings.Contains(codes, strings.ReplaceAll(c, "-", "")) {
			t.Fatalf("backup code %s stored in clear", c)
		}
	}
	dec, err := h.Engine.Keys().Decrypt(codes)
	var list []string
	if err != nil || json.Unmarshal(dec, &list) != nil || strings.Join(list, ",") != strings.Join(a.backup, ",") {
		t.Fatalf("backup codes decrypt to %q %v", dec, err)
	}
	// Hidden from every API answer.
	for _, f := range []string{twofactor.FieldSecret, twofactor.FieldBackupCodes, twofactor.FieldUserID, twofactor.FieldLastTOTPStep} {
		if _, ok := h.Engine.Public(twofactor.ModelTwoFactor, rec)[f]; ok {
			t.Fatalf("%s is public", f)
		}
	}
	// An emailed code is stored as a keyed hash by default.
	c := pendingIn(t, h, a.email, "totp", "otp")
	wantOK(t, c.Post(twofactor.PathSendOTP, nil))
	m := lastMessage(t, h, "two-factor-otp", a.email, 0)
	id, _ := h.Engine.Keys().Verify(mustUnescape(t, c.CookieValue(cookieTwoFactor)))
	v, _ := h.Engine.FindVerification(context.Background(), "2fa-otp-"+id)
	if v == nil || strings.Contains(v.String("value"), m.Data.OTP) {
		t.Fatalf("otp row %v", v)
	}

	// store_backup_codes plain keeps the JSON array; both forms are read back.
	h2 := newHarness(t, &twofactor.Plugin{StoreBackupCodes: "plain"})
	b := enrol(t, h2, "bob@example.com")
	if got := row(t, h2, b.id).String(twofactor.FieldBackupCodes); got != mustJSON(b.backup) {
		t.Fatalf("plain codes %q", got)
	}
	c = pendingIn(t, h2, b.email, "totp", "otp")
	wantOK(t, c.Post(twofactor.PathVerifyBackupCode, map[string]any{"code": b.backup[0]}))
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

// ---------------------------------------------------------------------------------------
// codes by email and SMS
// ---------------------------------------------------------------------------------------

func TestOTPByEmail(t *testing.T) {
	h := newHarness(t, nil)
	a := signUp(t, h, "alice@example.com")
	old := a.c.CookieValue(cookieSession)
	// Enable with method otp: on at once, session rotated.
	r := a.c.Post(twofactor.PathEnable, map[string]any{"password": pw, "method": "otp"})
	if string(r.Body) != `{"method":"otp"}` || r.StatusCode != http.StatusOK {
		t.Fatalf("enable otp: %d %s", r.StatusCode, r.Body)
	}
	if _, ok := liveCookie(r, cookieSession); !ok || a.c.CookieValue(cookieSession) == old || !user(t, h, a.id).Bool("twoFactorEnabled") {
		t.Fatal("not enabled with a rotated session")
	}
	if row(t, h, a.id) != nil {
		t.Fatal("method otp wrote a twoFactor row")
	}
	if sessionUser(t, a.c) != a.id {
		t.Fatal("rotated session does not work")
	}

	c := pendingIn(t, h, a.email, "otp")
	// No code sent yet.
	wantCode(t, c.Post(twofactor.PathVerifyOTP, map[string]any{"code": "123456"}), http.StatusBadRequest, twofactor.CodeOTPHasExpired)
	r = c.Post(twofactor.PathSendOTP, map[string]any{"trustDevice": true})
	if string(r.Body) != `{"status":true}` {
		t.Fatalf("send-otp %s", r.Body)
	}
	m := lastMessage(t, h, "two-factor-otp", a.email, 0)
	if !regexp.MustCompile(`^[0-9]{6}$`).MatchString(m.Data.OTP) || m.ExpiresIn != 3*time.Minute || m.Subject == "" || !strings.Contains(m.Text, m.Data.OTP) {
		t.Fatalf("message %+v", m)
	}
	wantCode(t, c.Post(twofactor.PathVerifyOTP, map[string]any{"code": "000000"}), http.StatusUnauthorized, twofactor.CodeInvalidCode)
	r = c.Post(twofactor.PathVerifyOTP, map[string]any{"code": m.Data.OTP})
	body := wantOK(t, r)
	if u, _ := body["user"].(map[string]any); u["id"] != a.id || body["token"] == nil || sessionUser(t, c) != a.id {
		t.Fatalf("verify-otp %s", r.Body)
	}
	// Used up.
	c2 := pendingIn(t, h, a.email, "otp")
	wantCode(t, c2.Post(twofactor.PathVerifyOTP, map[string]any{"code": m.Data.OTP}), http.StatusBadRequest, twofactor.CodeOTPHasExpired)

	// Expiry with the clock: 3 minutes.
	wantOK(t, c2.Post(twofactor.PathSendOTP, nil))
	m = lastMessage(t, h, "two-factor-otp", a.email, 1)
	h.Clock.Advance(3*time.Minute + time.Second)
	wantCode(t, c2.Post(twofactor.PathVerifyOTP, map[string]any{"code": m.Data.OTP}), http.StatusBadRequest, twofactor.CodeOTPHasExpired)
	// Five wrong guesses use up the pending sign-in (and the code): the right code then
	// fails too.
	c3 := pendingIn(t, h, a.email, "otp")
	wantOK(t, c3.Post(twofactor.PathSendOTP, nil))
	m = lastMessage(t, h, "two-factor-otp", a.email, 2)
	for range 5 {
		wantCode(t, c3.Post(twofactor.PathVerifyOTP, map[string]any{"code": "000000"}), http.StatusUnauthorized, twofactor.CodeInvalidCode)
	}
	wantCode(t, c3.Post(twofactor.PathVerifyOTP, map[string]any{"code": m.Data.OTP}), http.StatusBadRequest, twofactor.CodeTooManyAttemptsRequestNewCode)

	// With a session and two-factor off, send-otp + verify-otp turn it on (and rotate).
	b := signUp(t, h, "bob@example.com")
	wantOK(t, b.c.Post(twofactor.PathSendOTP, nil))
	m = lastMessage(t, h, "two-factor-otp", b.email, 0)
	oldTok := b.c.CookieValue(cookieSession)
	body = wantOK(t, b.c.Post(twofactor.PathVerifyOTP, map[string]any{"code": m.Data.OTP}))
	if u, _ := body["user"].(map[string]any); u["twoFactorEnabled"] != true || b.c.CookieValue(cookieSession) == oldTok ||
		!strings.HasPrefix(mustUnescape(t, b.c.CookieValue(cookieSession)), body["token"].(string)+".") {
		t.Fatalf("session-mode verify-otp %v", body)
	}
	oldBare, _ := h.Engine.Keys().Verify(mustUnescape(t, oldTok))
	if s, _ := h.Engine.SessionByToken(context.Background(), oldBare); s != nil {
		t.Fatal("the old session survived")
	}
}

func TestOTPNotConfigured(t *testing.T) {
	h := newHarness(t, nil, authcoretest.WithoutMailer())
	a := signUp(t, h, "alice@example.com")
	wantCode(t, a.c.Post(twofactor.PathEnable, map[string]any{"password": pw, "method": "otp"}), http.StatusBadRequest, twofactor.CodeOTPNotConfigured)
	wantErr(t, a.c.Post(twofactor.PathSendOTP, nil), http.StatusBadRequest, "OTP_NOT_CONFIGURED", "otp isn't configured")
	wantErr(t, h.Client().Post(twofactor.PathSendOTP, nil), http.StatusBadRequest, "OTP_NOT_CONFIGURED", "otp isn't configured")
	// TOTP still works and "otp" is not offered.
	body := wantOK(t, a.c.Post(twofactor.PathEnable, map[string]any{"password": pw}))
	secret := secretOf(t, body["totpURI"].(string))
	wantOK(t, a.c.Post(twofactor.PathVerifyTOTP, map[string]any{"code": nextCode(t, h, secret)}))
	pendingIn(t, h, a.email, "totp")
}

func TestOTPOptions(t *testing.T) {
	h := newHarness(t, &twofactor.Plugin{OTPAllowedAttempts: 2, OTPDigits: 8, OTPPeriod: authcore.Duration(time.Minute), StoreOTP: "plain"})
	a := signUp(t, h, "alice@example.com")
	wantOK(t, a.c.Post(twofactor.PathEnable, map[string]any{"password": pw, "method": "otp"}))
	c := pendingIn(t, h, a.email, "otp")
	wantOK(t, c.Post(twofactor.PathSendOTP, nil))
	m := lastMessage(t, h, "two-factor-otp", a.email, 0)
	if !regexp.MustCompile(`^[0-9]{8}$`).MatchString(m.Data.OTP) || m.ExpiresIn != time.Minute {
		t.Fatalf("message %+v", m)
	}
	id, _ := h.Engine.Keys().Verify(mustUnescape(t, c.CookieValue(cookieTwoFactor)))
	if v, _ := h.Engine.FindVerification(context.Background(), "2fa-otp-"+id); v == nil || v.String("value") != m.Data.OTP+":0" {
		t.Fatalf("plain otp row %v", v)
	}
	// The code's own limit: 2 wrong guesses void it, the right one then fails.
	for range 2 {
		wantCode(t, c.Post(twofactor.PathVerifyOTP, map[string]any{"code": "00000000"}), http.StatusUnauthorized, twofactor.CodeInvalidCode)
	}
	wantCode(t, c.Post(twofactor.PathVerifyOTP, map[string]any{"code": m.Data.OTP}), http.StatusBadRequest, twofactor.CodeTooManyAttemptsRequestNewCode)
	// A new code (resend replaces) works within its minute, not after.
	wantOK(t, c.Post(twofactor.PathSendOTP, nil))
	m = lastMessage(t, h, "two-factor-otp", a.email, 1)
	h.Clock.Advance(time.Minute)
	wantCode(t, c.Post(twofactor.PathVerifyOTP, map[string]any{"code": m.Data.OTP}), http.StatusBadRequest, twofactor.CodeOTPHasExpired)
	wantOK(t, c.Post(twofactor.PathSendOTP, nil))
	m = lastMessage(t, h, "two-factor-otp", a.email, 2)
	h.Clock.Advance(59 * time.Second)
	wantOK(t, c.Post(twofactor.PathVerifyOTP, map[string]any{"code": m.Data.OTP}))
}

// otp_channel sms: codes go by SMS to a verified phone number (the phone-number plugin's
// fields), by email to users without one.
func TestOTPBySMS(t *testing.T) {
	h := newHarness(t, &twofactor.Plugin{OTPChannel: "sms"}, authcoretest.WithPlugins(&phonenumber.Plugin{}))
	a := signUp(t, h, "alice@example.com")
	if _, err := h.Engine.UpdateUser(context.Background(), a.id, storage.Record{"phoneNumber": "+15551234567", "phoneNumberVerified": true}); err != nil {
		t.Fatal(err)
	}
	wantOK(t, a.c.Post(twofactor.PathEnable, map[string]any{"password": pw, "method": "otp"}))
	c := pendingIn(t, h, a.email, "otp")
	wantOK(t, c.Post(twofactor.PathSendOTP, nil))
	m := lastMessage(t, h, "phone-otp", "+15551234567", 0)
	if m.Vars["purpose"] != "two-factor" || m.Text == "" || !strings.Contains(m.Text, m.Data.OTP) || m.ExpiresIn != 3*time.Minute {
		t.Fatalf("sms %+v", m)
	}
	if messages(h, "two-factor-otp", a.email) != 0 {
		t.Fatal("an email went out too")
	}
	wantOK(t, c.Post(twofactor.PathVerifyOTP, map[string]any{"code": m.Data.OTP}))

	// An unverified number does not receive codes: email instead.
	b := signUp(t, h, "bob@example.com")
	if _, err := h.Engine.UpdateUser(context.Background(), b.id, storage.Record{"phoneNumber": "+15557654321", "phoneNumberVerified": false}); err != nil {
		t.Fatal(err)
	}
	wantOK(t, b.c.Post(twofactor.PathEnable, map[string]any{"password": pw, "method": "otp"}))
	c = pendingIn(t, h, b.email, "otp")
	wantOK(t, c.Post(twofactor.PathSendOTP, nil))
	m = lastMessage(t, h, "two-factor-otp", b.email, 0)
	if messages(h, "phone-otp", "+15557654321") != 0 {
		t.Fatal("an SMS to an unverified number")
	}
	wantOK(t, c.Post(twofactor.PathVerifyOTP, map[string]any{"code": m.Data.OTP}))
}

// ---------------------------------------------------------------------------------------
// trusted devices
// ---------------------------------------------------------------------------------------

func TestTrustDevice(t *testing.T) {
	h := newHarness(t, nil)
	a := enrol(t, h, "alice@example.com")
	trustRows := func() int {
		return count(t, h, authcore.ModelVerification, storage.And(storage.StartsWith("identifier", "trust-device-"), storage.Eq("value", a.id)))
	}

	c, r := signIn(t, h, a.email, map[string]any{"rememberMe": false})
	wantInterrupted(t, r, "totp", "otp")
	if _, ok := liveCookie(r, cookieDontRemember); !ok {
		t.Fatal("rememberMe:false did not keep dont_remember for the pending sign-in")
	}
	r = c.Post(twofactor.PathVerifyTOTP, map[string]any{"code": nextCode(t, h, a.secret), "trustDevice": true})
	wantOK(t, r)
	line, ok := liveCookie(r, cookieTrust)
	if !ok || !strings.Contains(line, "; Max-Age=2592000;") {
		t.Fatalf("trust_device cookie %q", line)
	}
	// The session honoured dont_remember (no Max-Age), then dont_remember expired.
	if sl, _ := liveCookie(r, cookieSession); strings.Contains(sl, "Max-Age") || !expiredCookie(r, cookieDontRemember) {
		t.Fatalf("session cookie %q, cookies %v", sl, r.Header.Values("Set-Cookie"))
	}
	v, ok := h.Engine.Keys().Verify(mustUnescape(t, c.CookieValue(cookieTrust)))
	if !ok || !regexp.MustCompile(`^[A-Za-z0-9_-]{43}!trust-device-[A-Za-z0-9_-]{32}$`).MatchString(v) || trustRows() != 1 {
		t.Fatalf("trust value %q, rows %d", v, trustRows())
	}
	first := c.CookieValue(cookieTrust)

	// Next sign-in on this device skips the second factor; the cookie is rotated.
	r = c.Post(authcore.PathSignInEmail, map[string]any{"email": a.email, "password": pw})
	body := wantOK(t, r)
	if body["token"] == nil || body["twoFactorRedirect"] != nil {
		t.Fatalf("trusted sign-in %s", r.Body)
	}
	if _, ok := liveCookie(r, cookieTrust); !ok || c.CookieValue(cookieTrust) == first || trustRows() != 1 {
		t.Fatal("trust cookie not rotated")
	}
	// The old cookie, copied elsewhere, is used up.
	other := h.Client()
	setCookie(t, h, other, cookieTrust, first)
	r = other.Post(authcore.PathSignInEmail, map[string]any{"email": a.email, "password": pw})
	wantInterrupted(t, r, "totp", "otp")
	if !expiredCookie(r, cookieTrust) {
		t.Fatal("a dead trust cookie was not expired")
	}
	// Another user's sign-in with alice's cookie: still interrupted (bound to the user).
	b := enrol(t, h, "bob@example.com")
	other = h.Client()
	setCookie(t, h, other, cookieTrust, c.CookieValue(cookieTrust))
	wantInterrupted(t, other.Post(authcore.PathSignInEmail, map[string]any{"email": b.email, "password": pw}), "totp", "otp")
	// A forged or garbage cookie is ignored.
	for _, forged := range []string{"x", url.QueryEscape(h.Engine.Keys().Sign("aaaa!trust-device-" + strings.Repeat("a", 32))), url.QueryEscape(h.Engine.Keys().Sign("!"))} {
		other = h.Client()
		setCookie(t, h, other, cookieTrust, forged)
		wantInterrupted(t, other.Post(authcore.PathSignInEmail, map[string]any{"email": a.email, "password": pw}), "totp", "otp")
	}
	// It expires after 30 days.
	h.Clock.Advance(30*24*time.Hour + time.Second)
	wantInterrupted(t, c.Post(authcore.PathSignInEmail, map[string]any{"email": a.email, "password": pw}), "totp", "otp")
}

// Trusted devices end when two-factor is disabled, and when the password changes or is
// reset.
func TestTrustDeviceRevoked(t *testing.T) {
	h := newHarness(t, nil)
	a := enrol(t, h, "alice@example.com")
	trust := func() *authcoretest.Client {
		c := pendingIn(t, h, a.email, "totp", "otp")
		wantOK(t, c.Post(twofactor.PathVerifyTOTP, map[string]any{"code": nextCode(t, h, a.secret), "trustDevice": true}))
		return c
	}
	password := pw
	trusted := func(c *authcoretest.Client) bool {
		r := c.Post(authcore.PathSignInEmail, map[string]any{"email": a.email, "password": password})
		return wantOK(t, r)["twoFactorRedirect"] == nil
	}
	// Password change (from another session).
	c := trust()
	wantOK(t, a.c.Post(authcore.PathChangePassword, map[string]any{"currentPassword": pw, "newPassword": "another good passphrase"}))
	wantOK(t, a.c.Post(authcore.PathChangePassword, map[string]any{"currentPassword": "another good passphrase", "newPassword": pw}))
	if trusted(c) {
		t.Fatal("trusted after a password change")
	}
	// Password reset by link.
	c = trust()
	wantOK(t, h.Client().Post(authcore.PathRequestPasswordReset, map[string]any{"email": a.email, "redirectTo": "/reset"}))
	m := lastMessage(t, h, "reset-password", a.email, 0)
	wantOK(t, h.Client().Post(authcore.PathResetPassword, map[string]any{"token": m.Data.Token, "newPassword": "yet another passphrase"}))
	password = "yet another passphrase"
	if trusted(c) {
		t.Fatal("trusted after a password reset")
	}
	wantOK(t, a.c.Post(authcore.PathChangePassword, map[string]any{"currentPassword": password, "newPassword": pw}))
	password = pw
	// A reset refused by the policy changes nothing.
	c = trust()
	wantOK(t, h.Client().Post(authcore.PathRequestPasswordReset, map[string]any{"email": a.email, "redirectTo": "/reset"}))
	m = lastMessage(t, h, "reset-password", a.email, 1)
	wantErr(t, h.Client().Post(authcore.PathResetPassword, map[string]any{"token": m.Data.Token, "newPassword": "short"}), http.StatusBadRequest, "PASSWORD_TOO_SHORT", "")
	if !trusted(c) {
		t.Fatal("a refused reset ended the trusted device")
	}
	// Disable: every device of the user ends, server-side.
	c = trust()
	c2 := trust()
	wantOK(t, a.c.Post(twofactor.PathDisable, map[string]any{"password": pw}))
	if n := count(t, h, authcore.ModelVerification, storage.StartsWith("identifier", "trust-device-")); n != 0 {
		t.Fatalf("%d trust rows after disable", n)
	}
	// Enabled again: the old devices are not trusted.
	body := wantOK(t, a.c.Post(twofactor.PathEnable, map[string]any{"password": pw}))
	a.secret = secretOf(t, body["totpURI"].(string))
	wantOK(t, a.c.Post(twofactor.PathVerifyTOTP, map[string]any{"code": nextCode(t, h, a.secret)}))
	if trusted(c) || trusted(c2) {
		t.Fatal("trusted after disable and re-enable")
	}
}

// ---------------------------------------------------------------------------------------
// disable
// ---------------------------------------------------------------------------------------

func TestDisable(t *testing.T) {
	h := newHarness(t, nil)
	a := enrol(t, h, "alice@example.com")
	wantErr(t, a.c.Post(twofactor.PathDisable, map[string]any{}), http.StatusBadRequest, "VALIDATION_ERROR", "")
	wantCode(t, a.c.Post(twofactor.PathDisable, map[string]any{"password": "wrong wrong wrong"}), http.StatusBadRequest, authcore.CodeInvalidPassword)
	wantErr(t, h.Client().Post(twofactor.PathDisable, map[string]any{"password": pw}), http.StatusUnauthorized, "UNAUTHORIZED", "")
	if !user(t, h, a.id).Bool("twoFactorEnabled") || row(t, h, a.id) == nil {
		t.Fatal("a refused disable changed something")
	}
	old, _ := h.Engine.Keys().Verify(mustUnescape(t, a.c.CookieValue(cookieSession)))
	r := a.c.Post(twofactor.PathDisable, map[string]any{"password": pw})
	if string(r.Body) != `{"status":true}` {
		t.Fatalf("disable %d %s", r.StatusCode, r.Body)
	}
	if _, ok := liveCookie(r, cookieSession); !ok {
		t.Fatal("session not rotated")
	}
	if s, _ := h.Engine.SessionByToken(context.Background(), old); s != nil {
		t.Fatal("old session survived")
	}
	if sessionUser(t, a.c) != a.id || user(t, h, a.id).Bool("twoFactorEnabled") || row(t, h, a.id) != nil {
		t.Fatal("not disabled")
	}
	_, r = signIn(t, h, a.email)
	if wantOK(t, r)["token"] == nil {
		t.Fatalf("sign-in after disable %s", r.Body)
	}
}

// allow_passwordless: users without a password manage two-factor without one; users with a
// password still need it.
func TestAllowPasswordless(t *testing.T) {
	h := newHarness(t, &twofactor.Plugin{AllowPasswordless: true}, authcoretest.WithPlugins(&testFactor{}))
	a := signUp(t, h, "alice@example.com")
	wantCode(t, a.c.Post(twofactor.PathEnable, map[string]any{}), http.StatusBadRequest, authcore.CodeInvalidPassword)
	// A passwordless user (as magic link or email code would make one).
	u, err := h.Engine.CreateUser(context.Background(), storage.Record{"name": "P", "email": "pl@example.com", "emailVerified": true}, "")
	if err != nil {
		t.Fatal(err)
	}
	c := h.Client()
	wantOK(t, c.Post("/test/sign-in-as", map[string]any{"userId": u.ID()}))
	body := wantOK(t, c.Post(twofactor.PathEnable, map[string]any{}))
	secret := secretOf(t, body["totpURI"].(string))
	wantOK(t, c.Post(twofactor.PathVerifyTOTP, map[string]any{"code": nextCode(t, h, secret)}))
	wantOK(t, c.Post(twofactor.PathGetTOTPURI, nil))
	wantOK(t, c.Post(twofactor.PathGenerateBackupCodes, nil))
	wantOK(t, c.Post(twofactor.PathDisable, nil))
}

// ---------------------------------------------------------------------------------------
// authcore.TwoFactorChallenges, through a small plugin standing in for the passkey plugin
// ---------------------------------------------------------------------------------------

type testFactor struct {
	e  *authcore.Engine
	tf authcore.TwoFactorChallenges
}

func (*testFactor) ID() string          { return "test-factor" }
func (*testFactor) DependsOn() []string { return []string{authcore.TwoFactorID} }

func (x *testFactor) Register(r *authcore.Registrar) error {
	x.e = r.Engine()
	v, _ := x.e.Plugin(authcore.TwoFactorID)
	tf, ok := v.(authcore.TwoFactorChallenges)
	if !ok {
		return errors.New("no two-factor API")
	}
	x.tf = tf
	tf.AddMethod("passkey", func(_ context.Context, u storage.Record) (bool, error) {
		return strings.HasPrefix(u.String("email"), "alice"), nil
	})
	for _, ep := range []authcore.Endpoint{
		{Method: http.MethodPost, Path: "/test/sign-in-as", Body: []authcore.Param{authcore.String("userId").Req(), authcore.Bool("rememberMe")},
			Handler: func(c *authcore.Call) (any, error) {
				u, err := x.e.UserByID(c.Context(), c.Body.String("userId"))
				if err != nil || u == nil {
					return nil, authcore.CodeUserNotFound.With(http.StatusBadRequest)
				}
				s, err := c.SignIn(u, authcore.SignInOptions{Method: "test", DontRemember: !c.Body.BoolOr("rememberMe", true)})
				if err != nil {
					return nil, err
				}
				return map[string]any{"token": s.Token}, nil
			}},
		{Method: http.MethodPost, Path: "/test/pending", BodyOptional: true, Handler: func(c *authcore.Call) (any, error) {
			u, err := x.tf.PendingUser(c)
			if err != nil || u == nil {
				return nil, err
			}
			return map[string]any{"userId": u.ID()}, nil
		}},
		{Method: http.MethodPost, Path: "/test/complete", BodyOptional: true, Body: []authcore.Param{authcore.Bool("trustDevice")},
			Handler: func(c *authcore.Call) (any, error) {
				s, err := x.tf.CompleteChallenge(c, c.Body.Bool("trustDevice"))
				if err != nil {
					return nil, err
				}
				return map[string]any{"token": s.Token, "userId": s.UserID()}, nil
			}},
		{Method: http.MethodGet, Path: "/test/backup-codes", Handler: func(c *authcore.Call) (any, error) {
			v, _ := x.e.Plugin(authcore.TwoFactorID)
			codes, err := v.(*twofactor.Plugin).ViewBackupCodes(c)
			if err != nil {
				return nil, err
			}
			return map[string]any{"backupCodes": codes}, nil
		}},
	} {
		if err := r.Endpoint(ep); err != nil {
			return err
		}
	}
	return nil
}

func TestChallengesAPI(t *testing.T) { forEachStore(t, testChallengesAPI) }

func testChallengesAPI(t *testing.T, store ...authcoretest.Option) {
	h := newHarness(t, nil, append(store, authcoretest.WithPlugins(&testFactor{}))...)
	a := enrol(t, h, "alice@example.com")
	b := enrol(t, h, "bob@example.com")

	// The added method is listed for the users it applies to, after totp and otp.
	c := pendingIn(t, h, a.email, "totp", "otp", "passkey")
	pendingIn(t, h, b.email, "totp", "otp")
	// Any sign-in method goes through the gate, even one the engine has never heard of.
	r := h.Client().Post("/test/sign-in-as", map[string]any{"userId": a.id})
	wantInterrupted(t, r, "totp", "otp", "passkey")

	// PendingUser: the pending sign-in's user, or nothing.
	if got := wantOK(t, c.Post("/test/pending", nil))["userId"]; got != a.id {
		t.Fatalf("PendingUser %v", got)
	}
	if r := h.Client().Post("/test/pending", nil); string(r.Body) != "null" {
		t.Fatalf("PendingUser without a challenge: %s", r.Body)
	}
	if r := a.c.Post("/test/pending", nil); string(r.Body) != "null" {
		t.Fatalf("PendingUser with only a session: %s", r.Body)
	}

	// CompleteChallenge: a session, the two_factor cookie gone; once only.
	copyTo := h.Client()
	setCookie(t, h, copyTo, cookieTwoFactor, c.CookieValue(cookieTwoFactor))
	r = c.Post("/test/complete", nil)
	body := wantOK(t, r)
	if body["userId"] != a.id || !expiredCookie(r, cookieTwoFactor) || sessionUser(t, c) != a.id {
		t.Fatalf("complete %s", r.Body)
	}
	if line, _ := liveCookie(r, cookieSession); !strings.Contains(line, "Max-Age=604800") {
		t.Fatalf("session cookie %q", line)
	}
	wantCode(t, copyTo.Post("/test/complete", nil), http.StatusUnauthorized, twofactor.CodeInvalidTwoFactorCookie)
	wantCode(t, h.Client().Post("/test/complete", nil), http.StatusUnauthorized, twofactor.CodeInvalidTwoFactorCookie)

	// 20 racing completions of one pending sign-in: exactly one session.
	c = pendingIn(t, h, a.email, "totp", "otp", "passkey")
	before := sessions(t, h, a.id)
	rs := parallel(20, func(int) *authcoretest.Response { return c.Post("/test/complete", nil) })
	if n := okCount(t, rs); n != 1 || sessions(t, h, a.id) != before+1 {
		t.Fatalf("%d successes, %d new sessions", n, sessions(t, h, a.id)-before)
	}
	for _, r := range rs {
		if r.StatusCode != http.StatusOK {
			wantCode(t, r, http.StatusUnauthorized, twofactor.CodeInvalidTwoFactorCookie)
		}
	}

	// dont_remember is honoured and trustDevice trusts the device.
	c, r = signIn(t, h, a.email, map[string]any{"rememberMe": false})
	wantInterrupted(t, r, "totp", "otp", "passkey")
	r = c.Post("/test/complete", map[string]any{"trustDevice": true})
	wantOK(t, r)
	if line, _ := liveCookie(r, cookieSession); line == "" || strings.Contains(line, "Max-Age") {
		t.Fatalf("dont_remember not honoured: %q", line)
	}
	if _, ok := liveCookie(r, cookieTrust); !ok {
		t.Fatal("no trust cookie")
	}
	r = c.Post(authcore.PathSignInEmail, map[string]any{"email": a.email, "password": pw})
	if wantOK(t, r)["token"] == nil {
		t.Fatalf("trusted sign-in %s", r.Body)
	}

	// AddMethod again replaces the test; the built-in names cannot be added twice.
	plugin(t, h).AddMethod("passkey", func(context.Context, storage.Record) (bool, error) { return false, nil })
	plugin(t, h).AddMethod("totp", nil)
	pendingIn(t, h, b.email, "totp", "otp")
	failing := errors.New("boom")
	plugin(t, h).AddMethod("broken", func(context.Context, storage.Record) (bool, error) { return false, failing })
	_, r = signIn(t, h, b.email)
	if r.StatusCode != http.StatusInternalServerError || r.Header.Get("Set-Cookie") != "" {
		t.Fatalf("a failing method test: %d %s %v", r.StatusCode, r.Body, r.Header.Values("Set-Cookie"))
	}
}

// ViewBackupCodes over HTTP: the caller's own codes, with a fresh session only.
func TestViewBackupCodes(t *testing.T) {
	h := newHarness(t, nil, authcoretest.WithPlugins(&testFactor{}))
	a := enrol(t, h, "alice@example.com")
	body := wantOK(t, a.c.Get("/test/backup-codes"))
	if strings.Join(strs(body["backupCodes"]), ",") != strings.Join(a.backup, ",") {
		t.Fatalf("codes %v", body)
	}
	wantErr(t, h.Client().Get("/test/backup-codes"), http.StatusUnauthorized, "UNAUTHORIZED", "")
	pending := pendingIn(t, h, a.email, "totp", "otp", "passkey")
	wantErr(t, pending.Get("/test/backup-codes"), http.StatusUnauthorized, "UNAUTHORIZED", "")
	h.Clock.Advance(24 * time.Hour)
	wantErr(t, a.c.Get("/test/backup-codes"), http.StatusForbidden, "SESSION_NOT_FRESH", "")
}

// ---------------------------------------------------------------------------------------
// TOTP-05: every first factor is interrupted
// ---------------------------------------------------------------------------------------

// serverURL turns an emailed link (built from the configured base URL) into the test
// server's URL.
func serverURL(t *testing.T, h *authcoretest.Harness, link string) string {
	t.Helper()
	rest, ok := strings.CutPrefix(link, authcoretest.BaseURL+"/")
	if !ok {
		t.Fatalf("link %q is not built from the base URL", link)
	}
	return h.Server.URL + "/" + rest
}

func TestEveryFirstFactorIsInterrupted(t *testing.T) {
	h := newHarness(t, nil, authcoretest.WithPlugins(&username.Plugin{}, &phonenumber.Plugin{}, &magiclink.Plugin{}, &emailotp.Plugin{}))
	const phone = "+15551234567"
	c, body := h.SignUp("Alice", "alice@example.com", pw)
	u, _ := body["user"].(map[string]any)
	a := &account{c: c, id: u["id"].(string), email: "alice@example.com"}
	// A verified address (so that passwordless sign-ins do not reset the account), a
	// username and a verified phone number.
	if _, err := h.Engine.UpdateUser(context.Background(), a.id, storage.Record{
		"emailVerified": true, "username": "alice_u", "displayUsername": "alice_u", "phoneNumber": phone, "phoneNumberVerified": true,
	}); err != nil {
		t.Fatal(err)
	}
	body = wantOK(t, a.c.Post(twofactor.PathEnable, map[string]any{"password": pw}))
	a.secret = secretOf(t, body["totpURI"].(string))
	wantOK(t, a.c.Post(twofactor.PathVerifyTOTP, map[string]any{"code": nextCode(t, h, a.secret)}))
	before := sessions(t, h, a.id)

	// complete finishes a pending sign-in with a TOTP code and checks the session.
	complete := func(name string, c *authcoretest.Client) {
		t.Helper()
		if sessionUser(t, c) != "" || sessions(t, h, a.id) != before {
			t.Fatalf("%s: a session exists before the second factor", name)
		}
		wantOK(t, c.Post(twofactor.PathVerifyTOTP, map[string]any{"code": nextCode(t, h, a.secret)}))
		if sessionUser(t, c) != a.id {
			t.Fatalf("%s: no session after the second factor", name)
		}
		before = sessions(t, h, a.id)
	}

	t.Run("email and password", func(t *testing.T) {
		c, r := signIn(t, h, a.email)
		wantInterrupted(t, r, "totp", "otp")
		complete("email", c)
	})
	t.Run("username", func(t *testing.T) {
		c := h.Client()
		wantInterrupted(t, c.Post(username.PathSignInUsername, map[string]any{"username": "alice_u", "password": pw}), "totp", "otp")
		complete("username", c)
	})
	t.Run("phone number and password", func(t *testing.T) {
		c := h.Client()
		wantInterrupted(t, c.Post(phonenumber.PathSignIn, map[string]any{"phoneNumber": phone, "password": pw}), "totp", "otp")
		complete("phone", c)
	})
	t.Run("phone number code", func(t *testing.T) {
		c := h.Client()
		n := messages(h, "phone-otp", phone)
		wantOK(t, c.Post(phonenumber.PathSendOTP, map[string]any{"phoneNumber": phone}))
		m := lastMessage(t, h, "phone-otp", phone, n)
		wantInterrupted(t, c.Post(phonenumber.PathVerify, map[string]any{"phoneNumber": phone, "code": m.Data.OTP}), "totp", "otp")
		complete("phone code", c)
	})
	t.Run("email code", func(t *testing.T) {
		c := h.Client()
		n := messages(h, "email-otp", a.email)
		wantOK(t, c.Post(emailotp.PathSendVerificationOTP, map[string]any{"email": a.email, "type": "sign-in"}))
		m := lastMessage(t, h, "email-otp", a.email, n)
		wantInterrupted(t, c.Post(emailotp.PathSignIn, map[string]any{"email": a.email, "otp": m.Data.OTP}), "totp", "otp")
		complete("email code", c)
	})
	t.Run("magic link", func(t *testing.T) {
		c := h.Client()
		n := messages(h, "magic-link", a.email)
		wantOK(t, c.Post(magiclink.PathSignInMagicLink, map[string]any{"email": a.email, "callbackURL": "/dashboard?tab=1"}))
		m := lastMessage(t, h, "magic-link", a.email, n)
		r := c.Get(serverURL(t, h, m.Data.URL))
		if r.StatusCode != http.StatusFound || r.Header.Get("Location") != authcoretest.BaseURL+"/dashboard?tab=1&twoFactorRedirect=true" {
			t.Fatalf("magic link: %d Location %q", r.StatusCode, r.Header.Get("Location"))
		}
		if _, ok := liveCookie(r, cookieTwoFactor); !ok {
			t.Fatal("no two_factor cookie")
		}
		noSessionCookie(t, r)
		complete("magic link", c)
	})
	t.Run("a session held before is dropped", func(t *testing.T) {
		// Bob is signed in on this browser; Alice's pending sign-in expires his cookie.
		bob := signUp(t, h, "bob@example.com")
		r := bob.c.Post(authcore.PathSignInEmail, map[string]any{"email": a.email, "password": pw})
		wantInterrupted(t, r, "totp", "otp")
		if !expiredCookie(r, cookieSession) || sessionUser(t, bob.c) != "" {
			t.Fatal("the earlier session cookie is still in use")
		}
		complete("over a session", bob.c)
	})
}

// verify-email with auto sign-in (a GET link): a redirect to the second factor, no session.
func TestVerifyEmailAutoSignInIsInterrupted(t *testing.T) {
	h := newHarness(t, &twofactor.Plugin{}, authcoretest.WithConfig(func(c *authcore.Config) {
		c.EmailVerification.AutoSignInAfterVerification = true
	}))
	a := enrol(t, h, "alice@example.com")
	wantOK(t, a.c.Post(authcore.PathSendVerificationEmail, map[string]any{"email": a.email, "callbackURL": "/welcome"}))
	m := lastMessage(t, h, "verify-email", a.email, 0)
	c := h.Client()
	r := c.Get(serverURL(t, h, m.Data.URL))
	if r.StatusCode != http.StatusFound || r.Header.Get("Location") != authcoretest.BaseURL+"/welcome?twoFactorRedirect=true" {
		t.Fatalf("verify-email: %d Location %q", r.StatusCode, r.Header.Get("Location"))
	}
	noSessionCookie(t, r)
	if _, ok := liveCookie(r, cookieTwoFactor); !ok || sessionUser(t, c) != "" {
		t.Fatal("not a pending sign-in")
	}
	if !user(t, h, a.id).Bool("emailVerified") {
		t.Fatal("the address was not verified")
	}
	wantOK(t, c.Post(twofactor.PathVerifyTOTP, map[string]any{"code": nextCode(t, h, a.secret)}))
	if sessionUser(t, c) != a.id {
		t.Fatal("no session after the second factor")
	}
}

// two_factor_page: a sign-in by link goes there, keeping its callback.
func TestTwoFactorPage(t *testing.T) {
	h := newHarness(t, &twofactor.Plugin{TwoFactorPage: "/two-factor"}, authcoretest.WithPlugins(&magiclink.Plugin{}))
	a := enrol(t, h, "alice@example.com")
	if _, err := h.Engine.UpdateUser(context.Background(), a.id, storage.Record{"emailVerified": true}); err != nil {
		t.Fatal(err)
	}
	c := h.Client()
	wantOK(t, c.Post(magiclink.PathSignInMagicLink, map[string]any{"email": a.email}))
	m := lastMessage(t, h, "magic-link", a.email, 0)
	r := c.Get(serverURL(t, h, m.Data.URL))
	if r.StatusCode != http.StatusFound || r.Header.Get("Location") != authcoretest.BaseURL+"/two-factor?callbackURL=%2F" {
		t.Fatalf("%d Location %q", r.StatusCode, r.Header.Get("Location"))
	}
	noSessionCookie(t, r)
	// POST sign-ins still answer JSON.
	pendingIn(t, h, a.email, "totp", "otp")
}

// portalStub stands for the hosted portal plugin (id "portal") without importing it.
type portalStub struct{}

func (portalStub) ID() string                         { return "portal" }
func (portalStub) Register(*authcore.Registrar) error { return nil }

// With the portal on and two_factor_page unset, a sign-in by link goes to the portal's
// second-factor page; an explicit two_factor_page still wins; without the portal the flow's
// callbackURL gets twoFactorRedirect=true.
func TestTwoFactorPagePortalDefault(t *testing.T) {
	for _, tc := range []struct {
		name   string
		plugin *twofactor.Plugin
		portal bool
		want   string
	}{
		{"portal default", &twofactor.Plugin{}, true, authcoretest.BaseURL + "/api/auth" + twofactor.PortalPage + "?callbackURL=%2Fapp"},
		{"explicit page wins", &twofactor.Plugin{TwoFactorPage: "/mfa"}, true, authcoretest.BaseURL + "/mfa?callbackURL=%2Fapp"},
		{"no portal", &twofactor.Plugin{}, false, authcoretest.BaseURL + "/app?twoFactorRedirect=true"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := []authcoretest.Option{authcoretest.WithPlugins(&magiclink.Plugin{})}
			if tc.portal {
				opts = append(opts, authcoretest.WithPlugins(portalStub{}))
			}
			h := newHarness(t, tc.plugin, opts...)
			a := enrol(t, h, "alice@example.com")
			if _, err := h.Engine.UpdateUser(context.Background(), a.id, storage.Record{"emailVerified": true}); err != nil {
				t.Fatal(err)
			}
			c := h.Client()
			wantOK(t, c.Post(magiclink.PathSignInMagicLink, map[string]any{"email": a.email, "callbackURL": "/app"}))
			m := lastMessage(t, h, "magic-link", a.email, 0)
			r := c.Get(serverURL(t, h, m.Data.URL))
			if r.StatusCode != http.StatusFound || r.Header.Get("Location") != tc.want {
				t.Fatalf("%d Location %q, want %q", r.StatusCode, r.Header.Get("Location"), tc.want)
			}
			noSessionCookie(t, r)
		})
	}
}

// ---------------------------------------------------------------------------------------
// hostile input, rate limit, options
// ---------------------------------------------------------------------------------------

// Bad input is a 4xx envelope, never a 500.
func TestHostileInput(t *testing.T) {
	h := newHarness(t, nil)
	a := enrol(t, h, "alice@example.com")
	pending := pendingIn(t, h, a.email, "totp", "otp")
	forged := h.Client()
	setCookie(t, h, forged, cookieTwoFactor, url.QueryEscape(h.Engine.Keys().Sign("2fa-attempts-2fa-"+strings.Repeat("a", 20))))
	garbage := h.Client()
	setCookie(t, h, garbage, cookieTwoFactor, "%ZZ..=")
	trustGarbage := h.Client()
	setCookie(t, h, trustGarbage, cookieTrust, url.QueryEscape(h.Engine.Keys().Sign(strings.Repeat("!", 500))))

	bodies := []string{
		``, `null`, `[]`, `"x"`, `{"code":123456}`, `{"code":null}`, `{"code":["123456"]}`, `{"code":{"a":1}}`,
		`{"code":"` + strings.Repeat("9", 7000) + `"}`, `{"code":"` + strings.Repeat("é", 3000) + `"}`, `{"code":"12\u00003456"}`,
		`{"code":"123456","trustDevice":"yes"}`, `{"code":"123456","disableSession":1}`, `{"password":123}`,
		`{"password":"` + strings.Repeat("p", 8000) + `"}`, `{"method":["totp"],"password":"x"}`, `{"issuer":"` + strings.Repeat("i", 300) + `","password":"x"}`,
		`{"code":"1","code":"2"}`, `{`, `{"trustDevice":true}`,
	}
	paths := []string{twofactor.PathEnable, twofactor.PathDisable, twofactor.PathGetTOTPURI, twofactor.PathVerifyTOTP,
		twofactor.PathSendOTP, twofactor.PathVerifyOTP, twofactor.PathVerifyBackupCode, twofactor.PathGenerateBackupCodes}
	for _, client := range []*authcoretest.Client{h.Client(), pending, forged, garbage, a.c} {
		for _, p := range paths {
			for _, b := range bodies {
				r := client.Do(http.MethodPost, p, []byte(b))
				if r.StatusCode >= 500 || (r.StatusCode != http.StatusOK && r.Object()["message"] == nil) {
					t.Fatalf("POST %s %.80s: %d %s", p, b, r.StatusCode, r.Body)
				}
			}
			r := client.Do(http.MethodPost, p, "code=1", "Content-Type", "text/plain")
			if r.StatusCode != http.StatusUnsupportedMediaType {
				t.Fatalf("POST %s text/plain: %d", p, r.StatusCode)
			}
		}
	}
	// The forged and garbage cookies never name a challenge.
	for _, c := range []*authcoretest.Client{forged, garbage} {
		wantCode(t, c.Post(twofactor.PathVerifyTOTP, map[string]any{"code": nextCode(t, h, a.secret)}), http.StatusUnauthorized, twofactor.CodeInvalidTwoFactorCookie)
	}
	r := trustGarbage.Post(authcore.PathSignInEmail, map[string]any{"email": a.email, "password": pw})
	wantInterrupted(t, r, "totp", "otp")
}

// Better Auth's rate-limit rule: 3 requests per 10 s on /two-factor/*.
func TestRateLimit(t *testing.T) {
	h := newHarness(t, nil, authcoretest.WithConfig(func(c *authcore.Config) { c.RateLimit.Disabled = false }))
	c := h.Client()
	for range 3 {
		wantCode(t, c.Post(twofactor.PathVerifyTOTP, map[string]any{"code": "123456"}), http.StatusUnauthorized, twofactor.CodeInvalidTwoFactorCookie)
	}
	r := c.Post(twofactor.PathVerifyOTP, map[string]any{"code": "123456"})
	if r.StatusCode == http.StatusTooManyRequests {
		t.Fatal("the limit is per path")
	}
	r = c.Post(twofactor.PathVerifyTOTP, map[string]any{"code": "123456"})
	if r.StatusCode != http.StatusTooManyRequests || r.Header.Get("X-Retry-After") == "" {
		t.Fatalf("4th request: %d %v", r.StatusCode, r.Header)
	}
	h.Clock.Advance(10 * time.Second)
	wantCode(t, c.Post(twofactor.PathVerifyTOTP, map[string]any{"code": "123456"}), http.StatusUnauthorized, twofactor.CodeInvalidTwoFactorCookie)
}

// Register refuses bad options with a clear message.
func TestRegisterValidates(t *testing.T) {
	for _, tc := range []struct {
		p   twofactor.Plugin
		err string
	}{
		{twofactor.Plugin{Digits: 7}, "digits 7"},
		{twofactor.Plugin{Period: authcore.Duration(1500 * time.Millisecond)}, "period"},
		{twofactor.Plugin{StoreBackupCodes: "hashed"}, "store_backup_codes"},
		{twofactor.Plugin{OTPChannel: "pigeon"}, "otp_channel"},
		{twofactor.Plugin{StoreOTP: "rot13"}, "store_otp"},
		{twofactor.Plugin{OTPDigits: 3}, "otp_digits"},
		{twofactor.Plugin{BackupCodes: &twofactor.BackupCodeOptions{Length: 5}}, "length"},
		{twofactor.Plugin{BackupCodes: &twofactor.BackupCodeOptions{Amount: 1000}}, "amount"},
		{twofactor.Plugin{TrustDeviceMaxAge: authcore.Duration(-time.Second)}, "trust_device_max_age"},
		{twofactor.Plugin{AccountLockout: &twofactor.AccountLockout{MaxFailedAttempts: -1}}, "max_failed_attempts"},
		{twofactor.Plugin{TwoFactorPage: "https://evil.example/2fa"}, "two_factor_page"},
		{twofactor.Plugin{TwoFactorPage: "//evil.example"}, "two_factor_page"},
		{twofactor.Plugin{Issuer: "a\nb"}, "issuer"},
	} {
		p := tc.p
		_, err := authcore.New(authcore.Config{BaseURL: authcoretest.BaseURL, Secret: authcoretest.Secret},
			authcore.WithStore(memory.NewStore()), authcore.WithPlugins(&p))
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%+v: error %v, want one containing %q", tc.p, err, tc.err)
		}
	}
	// Good ones start; backup code amount and length apply.
	h := newHarness(t, &twofactor.Plugin{BackupCodes: &twofactor.BackupCodeOptions{Amount: 3, Length: 12}, TwoFactorPage: authcoretest.BaseURL + "/2fa"})
	a := signUp(t, h, "alice@example.com")
	codes := strs(wantOK(t, a.c.Post(twofactor.PathEnable, map[string]any{"password": pw}))["backupCodes"])
	if len(codes) != 3 || !regexp.MustCompile(`^[a-zA-Z0-9]{5}-[a-zA-Z0-9]{7}$`).MatchString(codes[0]) {
		t.Fatalf("codes %v", codes)
	}
}

// The QR code encodes the otpauth URI.
func TestQRCodePNG(t *testing.T) {
	h := newHarness(t, nil)
	a := signUp(t, h, "alice@example.com")
	uri := wantOK(t, a.c.Post(twofactor.PathEnable, map[string]any{"password": pw, "issuer": "Acme Portal"}))["totpURI"].(string)
	img, err := twofactor.QRCodePNG(uri, 0)
	if err != nil {
		t.Fatal(err)
	}
	decoded, err := png.Decode(bytes.NewReader(img))
	if err != nil {
		t.Fatal(err)
	}
	if b := decoded.Bounds(); b.Dx() != 256 || b.Dy() != 256 {
		t.Fatalf("size %v", b)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(decoded)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.GetText() != uri {
		t.Fatalf("QR code holds %q, want %q", res.GetText(), uri)
	}
	// The portal logs these errors: they must not quote the URI, which holds the secret.
	for _, bad := range []string{"", "https://example.com/?secret=JBSWY3DPEHPK3PXP", "otpauth://%zz?secret=JBSWY3DPEHPK3PXP"} {
		if _, err := twofactor.QRCodePNG(bad, 0); err == nil {
			t.Errorf("QRCodePNG(%q) did not fail", bad)
		} else if strings.Contains(err.Error(), "JBSWY3DPEHPK3PXP") {
			t.Errorf("QRCodePNG(%q): the error quotes the secret: %v", bad, err)
		}
	}
	if _, err := twofactor.QRCodePNG(uri, 10000); err == nil {
		t.Error("a 10000-pixel QR code")
	}
}

// A user on emailed codes adds an authenticator: it is offered only once confirmed, and
// confirming it does not rotate the session (two-factor was already on).
func TestOTPUserAddsTOTP(t *testing.T) {
	h := newHarness(t, nil)
	a := signUp(t, h, "alice@example.com")
	wantOK(t, a.c.Post(twofactor.PathEnable, map[string]any{"password": pw, "method": "otp"}))
	body := wantOK(t, a.c.Post(twofactor.PathEnable, map[string]any{"password": pw}))
	a.secret = secretOf(t, body["totpURI"].(string))
	c := pendingIn(t, h, a.email, "otp")
	// An unconfirmed authenticator cannot complete a sign-in.
	wantCode(t, c.Post(twofactor.PathVerifyTOTP, map[string]any{"code": nextCode(t, h, a.secret)}), http.StatusBadRequest, twofactor.CodeTOTPNotEnabled)
	tok := a.c.CookieValue(cookieSession)
	r := a.c.Post(twofactor.PathVerifyTOTP, map[string]any{"code": nextCode(t, h, a.secret)})
	body = wantOK(t, r)
	if bare, _ := h.Engine.Keys().Verify(mustUnescape(t, tok)); body["token"] != bare || a.c.CookieValue(cookieSession) != tok {
		t.Fatalf("confirming an added authenticator rotated the session: %s", r.Body)
	}
	pendingIn(t, h, a.email, "totp", "otp")
}
