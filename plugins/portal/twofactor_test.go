package portal_test

import (
	"bytes"
	"context"
	"encoding/base32"
	"encoding/base64"
	"html"
	"image/png"
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

// newTwoFactorPortal is a portal with the real two_factor plugin (and extra plugins).
func newTwoFactorPortal(t *testing.T, extra ...authcore.Plugin) *authcoretest.Harness {
	t.Helper()
	return newPortal(t, nil, authcoretest.WithPlugins(append([]authcore.Plugin{&twofactor.Plugin{}}, extra...)...))
}

// totpAt is the code of a base32 secret (as shown on the page or in the URI) at a time,
// computed independently of the plugin.
func totpAt(t *testing.T, b32 string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(b32, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// nextTOTP moves the harness clock to the next 30 s step and returns its code (a code is
// accepted once per step).
func nextTOTP(t *testing.T, h *authcoretest.Harness, b32 string) string {
	t.Helper()
	h.Clock.Advance(30 * time.Second)
	return totpAt(t, b32, h.Clock.Now())
}

// tfUser is an account with TOTP on, enrolled through the JSON API.
type tfUser struct {
	id, email, secret string // secret: base32 as in the otpauth URI
	backup            []string
}

func enrolAPI(t *testing.T, h *authcoretest.Harness, email string) tfUser {
	t.Helper()
	c, body := h.SignUp("Ann", email, testPW)
	u := tfUser{email: email}
	u.id, _ = body["user"].(map[string]any)["id"].(string)
	r := c.Post(twofactor.PathEnable, map[string]any{"password": testPW})
	if r.StatusCode != 200 {
		t.Fatalf("enable: %d %s", r.StatusCode, r.Body)
	}
	uri, _ := url.Parse(r.Object()["totpURI"].(string))
	u.secret = uri.Query().Get("secret")
	for _, x := range r.Object()["backupCodes"].([]any) {
		u.backup = append(u.backup, x.(string))
	}
	if r := c.Post(twofactor.PathVerifyTOTP, map[string]any{"code": nextTOTP(t, h, u.secret)}); r.StatusCode != 200 {
		t.Fatalf("verify-totp: %d %s", r.StatusCode, r.Body)
	}
	return u
}

// pendingBrowser signs in with the password through the portal and checks it was sent to the
// challenge page without a session.
func pendingBrowser(t *testing.T, h *authcoretest.Harness, email string) *browser {
	t.Helper()
	b := newBrowser(h)
	res := b.submit("/ui/sign-in?callbackURL=/app", "sign-in", "/ui/sign-in", url.Values{
		"email": {email}, "password": {testPW}, "callbackURL": {"/app"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/api/auth/ui/two-factor?callbackURL=%2Fapp" {
		t.Fatalf("sign-in: %d %q %s", res.StatusCode, res.Header.Get("Location"), res.Body)
	}
	if hasSessionCookie(h, res) {
		t.Fatal("a 2FA user got a session before the second factor")
	}
	return b
}

func wantStatus(t *testing.T, res *authcoretest.Response, status int) {
	t.Helper()
	if res.StatusCode != status {
		t.Fatalf("status %d, want %d\n%s", res.StatusCode, status, res.Body)
	}
}

func wantLocation(t *testing.T, res *authcoretest.Response, loc string) {
	t.Helper()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != loc {
		t.Fatalf("got %d Location %q, want 303 %q\n%s", res.StatusCode, res.Header.Get("Location"), loc, res.Body)
	}
}

func liveCookie(h *authcoretest.Harness, res *authcoretest.Response, suffix string) bool {
	line, ok := res.SetCookie(h.Engine.CookieName(suffix))
	return ok && !strings.Contains(line, "Max-Age=0") && !strings.HasPrefix(line, h.Engine.CookieName(suffix)+"=;")
}

func has(body, s string) bool { return strings.Contains(body, s) }

func sessionsOf(t *testing.T, h *authcoretest.Harness, userID string) int {
	t.Helper()
	n, err := h.Engine.Store().Count(context.Background(), authcore.ModelSession, storage.Eq("userId", userID))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestTwoFactorChallengeNeedsPendingSignIn(t *testing.T) {
	h := newTwoFactorPortal(t)
	b := newBrowser(h)
	wantLocation(t, b.get("/ui/two-factor?callbackURL=/app"), "/api/auth/ui/sign-in?callbackURL=%2Fapp")
	// A forged two_factor cookie is no pending sign-in either.
	res := b.get("/ui/two-factor", "Cookie", h.Engine.CookieName("two_factor")+"=2fa-aaaaaaaaaaaaaaaaaaaa.forged")
	wantLocation(t, res, "/api/auth/ui/sign-in")
}

func TestTwoFactorChallengeTOTP(t *testing.T) {
	h := newTwoFactorPortal(t)
	u := enrolAPI(t, h, "ann@example.com")
	b := pendingBrowser(t, h, u.email)

	page := b.get("/ui/two-factor?callbackURL=/app")
	wantStatus(t, page, 200)
	body := string(page.Body)
	for _, want := range []string{`<form id="two-factor"`, `id="code"`, `id="trust-device"`, `<button id="submit"`,
		`<form id="two-factor-send-otp"`, `<form id="two-factor-backup"`, `id="backup-code"`, `id="submit-backup"`,
		`name="callbackURL" value="/app"`, `name="method" value="totp"`} {
		if !has(body, want) {
			t.Errorf("challenge page lacks %s", want)
		}
	}
	if has(body, "passkey") {
		t.Error("passkey offered without the passkey plugin")
	}
	for _, id := range []string{"code", "trust-device", "backup-code", "backup-trust-device"} {
		if !has(body, `<label for="`+id+`"`) {
			t.Errorf("input #%s has no label", id)
		}
	}

	// A wrong code: alert, 401, no session.
	wrong := "000000"
	if wrong == totpAt(t, u.secret, h.Clock.Now()) {
		wrong = "111111"
	}
	res := b.submit("/ui/two-factor?callbackURL=/app", "two-factor", "/ui/two-factor", url.Values{
		"code": {wrong}, "method": {"totp"}, "callbackURL": {"/app"}})
	wantStatus(t, res, http.StatusUnauthorized)
	if got := alertText(string(res.Body)); got != "The code is incorrect. Try again." {
		t.Fatalf("alert %q", got)
	}
	if hasSessionCookie(h, res) || sessionsOf(t, h, u.id) != 1 { // only the enrolment session
		t.Fatal("a wrong code created a session")
	}
	if !has(string(res.Body), `<form id="two-factor"`) {
		t.Fatal("the code form is not shown again")
	}

	// The right code, trusting the device: session cookie, trust_device, 303 to the callback.
	res = b.submit("/ui/two-factor?callbackURL=/app", "two-factor", "/ui/two-factor", url.Values{
		"code": {nextTOTP(t, h, u.secret)}, "method": {"totp"}, "trust-device": {"on"}, "callbackURL": {"/app"}})
	wantLocation(t, res, "http://localhost:3000/app")
	if !hasSessionCookie(h, res) {
		t.Fatal("no session cookie")
	}
	if !liveCookie(h, res, "trust_device") {
		t.Fatalf("no trust_device cookie: %v", res.Header.Values("Set-Cookie"))
	}
	if sessionsOf(t, h, u.id) != 2 {
		t.Fatal("no new session stored")
	}
	// The pending sign-in is used up: the challenge page sends the browser back to sign in.
	if r := b.get("/ui/two-factor"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("challenge page after success: %d", r.StatusCode)
	}
	// The trusted device skips the challenge next time.
	b.submit("/ui/sign-in", "sign-out", "/ui/sign-out", nil) // any page has the sign-out form once signed in
	res = b.submit("/ui/sign-in", "sign-in", "/ui/sign-in", url.Values{"email": {u.email}, "password": {testPW}})
	wantLocation(t, res, "http://localhost:3000/")
}

func TestTwoFactorChallengeSpacesAndEmpty(t *testing.T) {
	h := newTwoFactorPortal(t)
	u := enrolAPI(t, h, "ann@example.com")
	b := pendingBrowser(t, h, u.email)
	res := b.submit("/ui/two-factor", "two-factor", "/ui/two-factor", url.Values{"code": {"  "}})
	wantStatus(t, res, http.StatusBadRequest)
	if alertText(string(res.Body)) == "" {
		t.Fatal("no alert for an empty code")
	}
	// Hostile input is a 4xx page, never a 500.
	res = b.submit("/ui/two-factor", "two-factor", "/ui/two-factor", url.Values{"code": {strings.Repeat("9", 5000)}, "method": {"<script>"}})
	if res.StatusCode < 400 || res.StatusCode >= 500 {
		t.Fatalf("huge code: %d", res.StatusCode)
	}
	code := nextTOTP(t, h, u.secret)
	res = b.submit("/ui/two-factor", "two-factor", "/ui/two-factor", url.Values{"code": {code[:3] + " " + code[3:]}})
	wantLocation(t, res, "http://localhost:3000/")
}

func TestTwoFactorBackupCodeSingleUse(t *testing.T) {
	h := newTwoFactorPortal(t)
	u := enrolAPI(t, h, "ann@example.com")
	b := pendingBrowser(t, h, u.email)
	res := b.submit("/ui/two-factor?callbackURL=/app", "two-factor-backup", "/ui/two-factor/backup-code", url.Values{
		"backup-code": {u.backup[0]}, "callbackURL": {"/app"}})
	wantLocation(t, res, "http://localhost:3000/app")
	if !hasSessionCookie(h, res) {
		t.Fatal("no session cookie")
	}
	if liveCookie(h, res, "trust_device") {
		t.Fatal("device trusted without asking")
	}
	// The same code again, on a new sign-in: refused.
	b2 := pendingBrowser(t, h, u.email)
	res = b2.submit("/ui/two-factor", "two-factor-backup", "/ui/two-factor/backup-code", url.Values{"backup-code": {u.backup[0]}})
	wantStatus(t, res, http.StatusUnauthorized)
	if got := alertText(string(res.Body)); got != "The backup code is incorrect or has already been used." {
		t.Fatalf("alert %q", got)
	}
	if hasSessionCookie(h, res) {
		t.Fatal("a spent backup code created a session")
	}
	if !has(string(res.Body), `<details class="backup" open>`) {
		t.Fatal("the backup form is not open after its error")
	}
}

func TestTwoFactorEmailOTP(t *testing.T) {
	h := newTwoFactorPortal(t)
	u := enrolAPI(t, h, "ann@example.com")
	b := pendingBrowser(t, h, u.email)
	res := b.submit("/ui/two-factor?callbackURL=/app", "two-factor-send-otp", "/ui/two-factor/send-otp", url.Values{"callbackURL": {"/app"}})
	wantStatus(t, res, 200)
	body := string(res.Body)
	if !has(body, `name="method" value="otp"`) || !has(body, `id="flash"`) {
		t.Fatalf("after send-otp the code form is not for the emailed code:\n%s", body)
	}
	h.Drain()
	msgs := h.Sent("two-factor-otp", u.email)
	if len(msgs) != 1 {
		t.Fatalf("%d two-factor-otp emails", len(msgs))
	}
	tok := csrfOf(t, body, "two-factor")
	res = b.post("/ui/two-factor", url.Values{"csrf": {tok}, "method": {"otp"}, "code": {msgs[0].Data.OTP}, "callbackURL": {"/app"}})
	wantLocation(t, res, "http://localhost:3000/app")
	if !hasSessionCookie(h, res) {
		t.Fatal("no session cookie")
	}
}

func TestTwoFactorChallengeCSRF(t *testing.T) {
	h := newTwoFactorPortal(t)
	u := enrolAPI(t, h, "ann@example.com")
	b := pendingBrowser(t, h, u.email)
	code := nextTOTP(t, h, u.secret)
	// No token, a token of another form, and a cross-site POST: 403, nothing happens.
	other := csrfOf(t, string(b.get("/ui/two-factor").Body), "two-factor-backup")
	for name, try := range map[string]func() *authcoretest.Response{
		"two-factor none": func() *authcoretest.Response { return b.post("/ui/two-factor", url.Values{"code": {code}}) },
		"two-factor other": func() *authcoretest.Response {
			return b.post("/ui/two-factor", url.Values{"code": {code}, "csrf": {other}})
		},
		"two-factor cross-site": func() *authcoretest.Response {
			tok := csrfOf(t, string(b.get("/ui/two-factor").Body), "two-factor")
			return b.post("/ui/two-factor", url.Values{"code": {code}, "csrf": {tok}}, "Sec-Fetch-Site", "cross-site")
		},
		"send-otp": func() *authcoretest.Response { return b.post("/ui/two-factor/send-otp", url.Values{}) },
		"backup": func() *authcoretest.Response {
			return b.post("/ui/two-factor/backup-code", url.Values{"backup-code": {u.backup[0]}})
		},
	} {
		res := try()
		if res.StatusCode != http.StatusForbidden || hasSessionCookie(h, res) {
			t.Errorf("%s: %d", name, res.StatusCode)
		}
	}
	h.Drain()
	if n := len(h.Sent("two-factor-otp", u.email)); n != 0 {
		t.Fatalf("a refused send-otp sent %d codes", n)
	}
	// Everything is still usable: the code and the backup code.
	res := b.submit("/ui/two-factor", "two-factor-backup", "/ui/two-factor/backup-code", url.Values{"backup-code": {u.backup[0]}})
	wantLocation(t, res, "http://localhost:3000/")
}

var (
	qrRe     = regexp.MustCompile(`<img id="totp-qr"[^>]*src="data:image/png;base64,([^"]+)"`)
	secretRe = regexp.MustCompile(`<code id="totp-secret"[^>]*>([A-Z2-7]+)</code>`)
	codesRe  = regexp.MustCompile(`(?s)<ul id="backup-codes"[^>]*>(.*?)</ul>`)
	codeLiRe = regexp.MustCompile(`<li><code>([^<]+)</code></li>`)
)

func backupCodesOn(body string) []string {
	m := codesRe.FindStringSubmatch(body)
	if m == nil {
		return nil
	}
	var out []string
	for _, c := range codeLiRe.FindAllStringSubmatch(m[1], -1) {
		out = append(out, html.UnescapeString(c[1]))
	}
	return out
}

func twoFactorEnabled(t *testing.T, h *authcoretest.Harness, id string) bool {
	t.Helper()
	u, err := h.Engine.UserByID(context.Background(), id)
	if err != nil || u == nil {
		t.Fatal(err)
	}
	v, _ := u["twoFactorEnabled"].(bool)
	return v
}

func TestTwoFactorEnrolment(t *testing.T) {
	h := newTwoFactorPortal(t)
	// Signed out: to sign in, coming back here afterwards.
	wantLocation(t, newBrowser(h).get("/ui/account/two-factor"),
		"/api/auth/ui/sign-in?callbackURL=%2Fapi%2Fauth%2Fui%2Faccount%2Ftwo-factor")

	b, id := signedInBrowser(t, h, "Ann", "ann@example.com")
	page := b.get("/ui/account/two-factor")
	wantStatus(t, page, 200)
	for _, want := range []string{`<form id="two-factor-enable"`, `id="password"`, `id="submit-enable"`} {
		if !has(string(page.Body), want) {
			t.Fatalf("enrolment page lacks %s", want)
		}
	}
	// Wrong password: alert, 400, nothing enabled.
	res := b.submit("/ui/account/two-factor", "two-factor-enable", "/ui/account/two-factor/enable", url.Values{"password": {"wrong password!"}})
	wantStatus(t, res, http.StatusBadRequest)
	if alertText(string(res.Body)) != "The password is incorrect." {
		t.Fatalf("alert %q", alertText(string(res.Body)))
	}
	// Right password: QR (a PNG data URL), the secret, the otpauth link, the backup codes and
	// the verify form, all on this answer.
	res = b.submit("/ui/account/two-factor", "two-factor-enable", "/ui/account/two-factor/enable", url.Values{"password": {testPW}})
	wantStatus(t, res, 200)
	body := string(res.Body)
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("Cache-Control %q on the page with the secret", cc)
	}
	m := qrRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no QR image:\n%s", body)
	}
	raw, err := base64.StdEncoding.DecodeString(html.UnescapeString(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(bytes.NewReader(raw)); err != nil {
		t.Fatalf("QR is not a PNG: %v", err)
	}
	sm := secretRe.FindStringSubmatch(body)
	if sm == nil {
		t.Fatal("no secret shown")
	}
	secret := sm[1]
	if _, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret); err != nil {
		t.Fatalf("secret %q: %v", secret, err)
	}
	if !has(body, `<a id="totp-uri" href="otpauth://totp/`) || !has(body, "secret="+secret) {
		t.Fatal("no otpauth link with the secret")
	}
	codes := backupCodesOn(body)
	if len(codes) != 10 {
		t.Fatalf("%d backup codes shown", len(codes))
	}
	for _, want := range []string{`<form id="two-factor-verify"`, `id="code"`, `id="submit-verify"`} {
		if !has(body, want) {
			t.Fatalf("no %s after enable", want)
		}
	}
	// The secret is in no URL or cookie.
	for _, c := range res.Header.Values("Set-Cookie") {
		if strings.Contains(c, secret) {
			t.Fatal("secret in a cookie")
		}
	}
	if twoFactorEnabled(t, h, id) {
		t.Fatal("enabled before the first code")
	}
	// A reload shows neither the codes nor the secret again.
	reload := string(b.get("/ui/account/two-factor").Body)
	if backupCodesOn(reload) != nil || has(reload, secret) || has(reload, codes[0]) {
		t.Fatal("a reload shows the backup codes or the secret again")
	}
	verifyTok := csrfOf(t, body, "two-factor-verify")
	// A wrong first code: 401 alert, the verify form and a way to see the QR code again.
	res = b.post("/ui/account/two-factor/verify", url.Values{"csrf": {verifyTok}, "code": {"12345x"}})
	if res.StatusCode != http.StatusUnauthorized && res.StatusCode != http.StatusBadRequest {
		t.Fatalf("wrong code: %d", res.StatusCode)
	}
	if alertText(string(res.Body)) == "" || !has(string(res.Body), `<form id="two-factor-verify"`) || !has(string(res.Body), `<form id="two-factor-show-qr"`) {
		t.Fatalf("wrong code page:\n%s", res.Body)
	}
	// The QR code again, with the password.
	res = b.post("/ui/account/two-factor/show-qr", url.Values{"csrf": {csrfOf(t, string(res.Body), "two-factor-show-qr")}, "password": {testPW}})
	wantStatus(t, res, 200)
	if qrRe.FindStringSubmatch(string(res.Body)) == nil || !has(string(res.Body), secret) || backupCodesOn(string(res.Body)) != nil {
		t.Fatal("show-qr does not show the same secret (without backup codes)")
	}
	// The right code turns it on.
	res = b.post("/ui/account/two-factor/verify", url.Values{"csrf": {verifyTok}, "code": {nextTOTP(t, h, secret)}})
	wantLocation(t, res, "/api/auth/ui/account/two-factor?status=enabled")
	if !twoFactorEnabled(t, h, id) {
		t.Fatal("not enabled")
	}
	page = b.get("/ui/account/two-factor?status=enabled")
	wantStatus(t, page, 200) // the rotated session cookie was kept
	body = string(page.Body)
	for _, want := range []string{`<form id="two-factor-disable"`, `id="submit-disable"`, `<form id="two-factor-regenerate"`, `id="flash"`} {
		if !has(body, want) {
			t.Fatalf("enabled page lacks %s", want)
		}
	}
	if backupCodesOn(body) != nil {
		t.Fatal("backup codes shown after enabling")
	}

	// New backup codes, once.
	res = b.submit("/ui/account/two-factor", "two-factor-regenerate", "/ui/account/two-factor/regenerate", url.Values{"password": {testPW}})
	wantStatus(t, res, 200)
	fresh := backupCodesOn(string(res.Body))
	if len(fresh) != 10 || fresh[0] == codes[0] {
		t.Fatalf("regenerated codes %v", fresh)
	}
	if backupCodesOn(string(b.get("/ui/account/two-factor").Body)) != nil {
		t.Fatal("a reload shows the new codes again")
	}

	// Disable: wrong password refused, right one turns it off.
	res = b.submit("/ui/account/two-factor", "two-factor-disable", "/ui/account/two-factor/disable", url.Values{"password": {"nope nope nope"}})
	wantStatus(t, res, http.StatusBadRequest)
	if !twoFactorEnabled(t, h, id) {
		t.Fatal("a wrong password disabled two-factor")
	}
	res = b.submit("/ui/account/two-factor", "two-factor-disable", "/ui/account/two-factor/disable", url.Values{"password": {testPW}})
	wantLocation(t, res, "/api/auth/ui/account/two-factor?status=disabled")
	if twoFactorEnabled(t, h, id) {
		t.Fatal("still enabled")
	}
	if !has(string(b.get("/ui/account/two-factor").Body), `<form id="two-factor-enable"`) {
		t.Fatal("no enable form after disabling")
	}
}

func TestTwoFactorEnrolmentCSRFAndSignedOut(t *testing.T) {
	h := newTwoFactorPortal(t)
	b, id := signedInBrowser(t, h, "Ann", "ann@example.com")
	forms := map[string]string{
		"two-factor-enable":     "/ui/account/two-factor/enable",
		"two-factor-verify":     "/ui/account/two-factor/verify",
		"two-factor-show-qr":    "/ui/account/two-factor/show-qr",
		"two-factor-disable":    "/ui/account/two-factor/disable",
		"two-factor-regenerate": "/ui/account/two-factor/regenerate",
	}
	signInTok := csrfOf(t, string(b.get("/ui/sign-in").Body), "sign-in")
	for form, action := range forms {
		for _, tok := range []string{"", signInTok, "AAAA"} {
			res := b.post(action, url.Values{"csrf": {tok}, "password": {testPW}, "code": {"123456"}})
			if res.StatusCode != http.StatusForbidden {
				t.Errorf("%s with token %q: %d", form, tok, res.StatusCode)
			}
		}
	}
	n, err := h.Engine.Store().Count(context.Background(), "twoFactor", storage.Eq("userId", id))
	if err != nil || n != 0 || twoFactorEnabled(t, h, id) {
		t.Fatalf("a refused form changed state: %d rows, %v", n, err)
	}
	// A valid token after signing out: to sign in, nothing enabled.
	tok := csrfOf(t, string(b.get("/ui/account/two-factor").Body), "two-factor-enable")
	wantLocation(t, b.submit("/ui/account/two-factor", "sign-out", "/ui/sign-out", nil), "/api/auth/ui/sign-in")
	res := b.post("/ui/account/two-factor/enable", url.Values{"csrf": {tok}, "password": {testPW}})
	wantLocation(t, res, "/api/auth/ui/sign-in?callbackURL=%2Fapi%2Fauth%2Fui%2Faccount%2Ftwo-factor")
	if n, _ := h.Engine.Store().Count(context.Background(), "twoFactor", storage.Eq("userId", id)); n != 0 {
		t.Fatal("a signed-out enable created an authenticator")
	}
}

// A user whose only second factor is an emailed code sees "send me a code" first, and the
// code form only once a code was sent.
func TestTwoFactorOTPOnlyUser(t *testing.T) {
	h := newTwoFactorPortal(t)
	c, _ := h.SignUp("Ann", "ann@example.com", testPW)
	if r := c.Post(twofactor.PathEnable, map[string]any{"password": testPW, "method": "otp"}); r.StatusCode != 200 {
		t.Fatalf("enable otp: %d %s", r.StatusCode, r.Body)
	}
	b := pendingBrowser(t, h, "ann@example.com")
	body := string(b.get("/ui/two-factor?callbackURL=/app").Body)
	if has(body, `<form id="two-factor"`) || !has(body, `<form id="two-factor-send-otp"`) || !has(body, `<form id="two-factor-backup"`) {
		t.Fatalf("OTP-only challenge page:\n%s", body)
	}
	res := b.submit("/ui/two-factor?callbackURL=/app", "two-factor-send-otp", "/ui/two-factor/send-otp", url.Values{"callbackURL": {"/app"}})
	wantStatus(t, res, 200)
	if !has(string(res.Body), `name="method" value="otp"`) {
		t.Fatalf("no code form after sending:\n%s", res.Body)
	}
	h.Drain()
	msgs := h.Sent("two-factor-otp", "ann@example.com")
	if len(msgs) != 1 {
		t.Fatalf("%d emails", len(msgs))
	}
	// A wrong emailed code: alert, the OTP form stays.
	wrong := "000000"
	if msgs[0].Data.OTP == wrong {
		wrong = "111111"
	}
	tok := csrfOf(t, string(res.Body), "two-factor")
	res = b.post("/ui/two-factor", url.Values{"csrf": {tok}, "method": {"otp"}, "code": {wrong}, "callbackURL": {"/app"}})
	if res.StatusCode < 400 || res.StatusCode >= 500 || alertText(string(res.Body)) == "" || !has(string(res.Body), `name="method" value="otp"`) {
		t.Fatalf("wrong emailed code: %d\n%s", res.StatusCode, res.Body)
	}
	res = b.post("/ui/two-factor", url.Values{"csrf": {tok}, "method": {"otp"}, "code": {msgs[0].Data.OTP}, "callbackURL": {"/app"}})
	wantLocation(t, res, "http://localhost:3000/app")
	if !hasSessionCookie(h, res) {
		t.Fatal("no session")
	}
}

// Hostile input on the enrolment forms is a 4xx page, never a 500, and changes nothing.
func TestTwoFactorEnrolmentHostileInput(t *testing.T) {
	h := newTwoFactorPortal(t)
	b, id := signedInBrowser(t, h, "Ann", "ann@example.com")
	page := string(b.get("/ui/account/two-factor").Body)
	enableTok := csrfOf(t, page, "two-factor-enable")
	for name, form := range map[string]url.Values{
		"huge password": {"csrf": {enableTok}, "password": {strings.Repeat("p", 60<<10)}},
		"nul password":  {"csrf": {enableTok}, "password": {"\x00"}},
		"no password":   {"csrf": {enableTok}},
	} {
		res := b.post("/ui/account/two-factor/enable", form)
		if res.StatusCode < 400 || res.StatusCode >= 500 {
			t.Errorf("%s: %d", name, res.StatusCode)
		}
	}
	res := b.post("/ui/account/two-factor/enable", url.Values{"csrf": {enableTok}, "password": {strings.Repeat("p", 70<<10)}})
	wantStatus(t, res, http.StatusRequestEntityTooLarge)
	// show-qr and regenerate without an authenticator: the API's 4xx, shown as an alert.
	res = b.submit("/ui/account/two-factor", "two-factor-enable", "/ui/account/two-factor/enable", url.Values{"password": {testPW}})
	wantStatus(t, res, 200)
	verifyTok := csrfOf(t, string(res.Body), "two-factor-verify")
	for _, code := range []string{"", "abcdef", strings.Repeat("1", 3000), "<script>"} {
		res = b.post("/ui/account/two-factor/verify", url.Values{"csrf": {verifyTok}, "code": {code}})
		if res.StatusCode < 400 || res.StatusCode >= 500 || alertText(string(res.Body)) == "" {
			t.Errorf("verify code %.10q: %d", code, res.StatusCode)
		}
	}
	if twoFactorEnabled(t, h, id) {
		t.Fatal("hostile input enabled two-factor")
	}
}

// One backup code posted 20 times at once through the portal signs in once.
func TestTwoFactorBackupCodeConcurrent(t *testing.T) {
	h := newTwoFactorPortal(t)
	u := enrolAPI(t, h, "ann@example.com")
	browsers := make([]*browser, 20)
	toks := make([]string, 20)
	for i := range browsers {
		browsers[i] = pendingBrowser(t, h, u.email)
		toks[i] = csrfOf(t, string(browsers[i].get("/ui/two-factor").Body), "two-factor-backup")
	}
	var wg sync.WaitGroup
	codes := make([]int, 20)
	for i := range browsers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = browsers[i].post("/ui/two-factor/backup-code", url.Values{"csrf": {toks[i]}, "backup-code": {u.backup[3]}}).StatusCode
		}()
	}
	wg.Wait()
	ok := 0
	for _, c := range codes {
		switch {
		case c == http.StatusSeeOther:
			ok++
		case c < 400 || c >= 500:
			t.Errorf("status %d", c)
		}
	}
	if ok != 1 {
		t.Fatalf("%d sign-ins with one backup code (%v)", ok, codes)
	}
}
