package phonenumber_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/plugins/phonenumber"
	"github.com/gatehouse-auth/gatehouse/storage"
	"github.com/gatehouse-auth/gatehouse/storage/memory"
)

const (
	alicePhone = "+15551234567"
	bobPhone   = "+447700900123"
	nobody     = "+15550000000"
	pw         = "correct horse battery staple"
	newPW      = "a brand new passphrase"

	sessionCookie      = "better-auth.session_token"
	dontRememberCookie = "better-auth.dont_remember"
)

func newHarness(t *testing.T, p *phonenumber.Plugin, opts ...authcoretest.Option) *authcoretest.Harness {
	t.Helper()
	return authcoretest.New(t, append([]authcoretest.Option{authcoretest.WithPlugins(p)}, opts...)...)
}

// seedUser stores a user holding phone (and a password when pw is not empty) directly, the
// way an imported or pre-existing account looks.
func seedUser(t *testing.T, h *authcoretest.Harness, email, phone, password string, verified bool) storage.Record {
	t.Helper()
	hash := ""
	if password != "" {
		var err error
		if hash, err = h.Engine.HashPassword(password); err != nil {
			t.Fatal(err)
		}
	}
	u, err := h.Engine.CreateUser(context.Background(), storage.Record{
		"name": "Seeded", "email": email, "phoneNumber": phone, "phoneNumberVerified": verified,
	}, hash)
	if err != nil {
		t.Fatalf("seeding %s: %v", phone, err)
	}
	return u
}

func userByPhone(t *testing.T, h *authcoretest.Harness, phone string) storage.Record {
	t.Helper()
	u, err := h.Engine.Store().FindOne(context.Background(), authcore.ModelUser, storage.Eq("phoneNumber", phone))
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func count(t *testing.T, h *authcoretest.Harness, model string, where storage.Where) int {
	t.Helper()
	n, err := h.Engine.Store().Count(context.Background(), model, where)
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

// sms waits for the n-th (1-based) phone-otp SMS to phone.
func sms(t *testing.T, h *authcoretest.Harness, phone string, n int) authcore.Message {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := smsList(h, phone)
		if len(got) >= n {
			return got[n-1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("SMS #%d to %s never arrived (%d did)", n, phone, len(got))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func smsList(h *authcoretest.Harness, phone string) []authcore.Message {
	var out []authcore.Message
	for _, m := range h.Sink.Messages() {
		if m.To == phone && m.Type == phonenumber.MessageType {
			out = append(out, m)
		}
	}
	return out
}

// sendCode asks for a verification code and returns it from the SMS sink.
func sendCode(t *testing.T, h *authcoretest.Harness, phone string) string {
	t.Helper()
	n := len(smsList(h, phone))
	r := h.Client().Post(phonenumber.PathSendOTP, map[string]any{"phoneNumber": phone})
	if r.StatusCode != 200 || string(r.Body) != `{"message":"code sent"}` {
		t.Fatalf("send-otp %s: %d %s", phone, r.StatusCode, r.Body)
	}
	return sms(t, h, phone, n+1).Data.OTP
}

func wrongCode(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

func wantErr(t *testing.T, r *authcoretest.Response, status int, code, message string) {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("status %d, want %d; body %s", r.StatusCode, status, r.Body)
	}
	var env map[string]any
	if err := json.Unmarshal(r.Body, &env); err != nil {
		t.Fatalf("error body %q: %v", r.Body, err)
	}
	want := map[string]any{"code": code, "message": message}
	if len(env) != 2 || env["code"] != want["code"] || env["message"] != want["message"] {
		t.Fatalf("body %s, want %v", r.Body, want)
	}
	if len(r.Header.Values("Set-Cookie")) != 0 {
		t.Fatalf("an error set cookies: %v", r.Header.Values("Set-Cookie"))
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func getSessionUser(t *testing.T, c *authcoretest.Client) map[string]any {
	t.Helper()
	r := c.Get(authcore.PathGetSession)
	obj := r.Object()
	if r.StatusCode != 200 || obj == nil {
		t.Fatalf("get-session: %d %s", r.StatusCode, r.Body)
	}
	return obj["user"].(map[string]any)
}

func TestSendOTP(t *testing.T) {
	h := newHarness(t, &phonenumber.Plugin{})
	code := sendCode(t, h, alicePhone)
	m := sms(t, h, alicePhone, 1)
	if !regexp.MustCompile(`^[0-9]{6}$`).MatchString(code) {
		t.Fatalf("code %q, want 6 digits", code)
	}
	if m.ExpiresIn != 5*time.Minute || m.Vars["purpose"] != "verification" || m.Subject != "" || m.Data.URL != "" || m.Data.Token != "" {
		t.Fatalf("message %+v", m)
	}
	// One row, named as npm 1.7.25 names it, holding a MAC of the code, never the code.
	rec, err := h.Engine.Store().FindOne(context.Background(), authcore.ModelVerification, storage.Eq("identifier", "phone-number-otp-"+alicePhone))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(rec.String("value"), code) || !strings.HasSuffix(rec.String("value"), ":0") {
		t.Fatalf("stored value %q reveals the code or has no attempt counter", rec.String("value"))
	}
	// A resend replaces the code: the old one is now just a wrong code.
	code2 := sendCode(t, h, alicePhone)
	if n := count(t, h, authcore.ModelVerification, storage.Where{}); n != 1 {
		t.Fatalf("%d verification rows after a resend, want 1", n)
	}
	if code2 != code {
		r := h.Client().Post(phonenumber.PathVerify, map[string]any{"phoneNumber": alicePhone, "code": code})
		wantErr(t, r, 400, "INVALID_OTP", "Invalid OTP")
	}
}

func TestVerifySignsUpNewUser(t *testing.T) {
	h := newHarness(t, &phonenumber.Plugin{SignUpOnVerification: true})
	code := sendCode(t, h, alicePhone)
	c := h.Client()
	r := c.Post(phonenumber.PathVerify, map[string]any{"phoneNumber": alicePhone, "code": code})
	if r.StatusCode != 200 {
		t.Fatalf("verify: %d %s", r.StatusCode, r.Body)
	}
	body := r.Object()
	token, _ := body["token"].(string)
	if got := keys(body); !slices.Equal(got, []string{"status", "token", "user"}) || body["status"] != true || len(token) != 32 {
		t.Fatalf("body %s", r.Body)
	}
	user := body["user"].(map[string]any)
	email, _ := user["email"].(string)
	if email != "15551234567@phone-number.placeholder.invalid" || !strings.HasSuffix(email, ".invalid") {
		t.Fatalf("placeholder email %q", email)
	}
	if user["name"] != alicePhone || user["emailVerified"] != false || user["phoneNumber"] != alicePhone || user["phoneNumberVerified"] != true {
		t.Fatalf("user %v", user)
	}
	if line, ok := r.SetCookie(sessionCookie); !ok || !strings.Contains(line, "Max-Age=604800") {
		t.Fatalf("session cookie %q", line)
	}
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Fatal("a token-bearing response without Cache-Control: no-store")
	}
	if got := getSessionUser(t, c); got["id"] != user["id"] {
		t.Fatalf("get-session user %v", got)
	}
	if u := userByPhone(t, h, alicePhone); u == nil || !u.Bool("phoneNumberVerified") || u.String("email") != email {
		t.Fatalf("stored user %v", u)
	}
	// The code is spent.
	r = h.Client().Post(phonenumber.PathVerify, map[string]any{"phoneNumber": alicePhone, "code": code})
	wantErr(t, r, 400, "OTP_NOT_FOUND", "OTP not found")
	if n := count(t, h, authcore.ModelUser, storage.Where{}); n != 1 {
		t.Fatalf("%d users", n)
	}
}

func TestVerifySignUpUserFields(t *testing.T) {
	h := newHarness(t, &phonenumber.Plugin{SignUpOnVerification: true})
	// Server-only fields are refused before the code is looked at.
	for _, field := range []string{"emailVerified", "phoneNumberVerified", "role"} {
		code := sendCode(t, h, bobPhone)
		r := h.Client().Post(phonenumber.PathVerify, map[string]any{"phoneNumber": bobPhone, "code": code, field: true})
		wantErr(t, r, 400, "FIELD_NOT_ALLOWED", field+" is not allowed to be set")
	}
	// name and image are taken from the body; an email in the body is ignored for the
	// placeholder, so nobody can sign up as someone else's address.
	code := sendCode(t, h, bobPhone)
	r := h.Client().Post(phonenumber.PathVerify, map[string]any{
		"phoneNumber": bobPhone, "code": code, "name": "Bob", "image": "https://img.example/b.png", "email": "victim@example.com",
	})
	if r.StatusCode != 200 {
		t.Fatalf("verify: %d %s", r.StatusCode, r.Body)
	}
	user := r.Object()["user"].(map[string]any)
	if user["name"] != "Bob" || user["image"] != "https://img.example/b.png" || user["email"] != "447700900123@phone-number.placeholder.invalid" {
		t.Fatalf("user %v", user)
	}
}

func TestVerifyUnknownNumberWithoutSignUp(t *testing.T) {
	h := newHarness(t, &phonenumber.Plugin{})
	code := sendCode(t, h, nobody)
	r := h.Client().Post(phonenumber.PathVerify, map[string]any{"phoneNumber": nobody, "code": code})
	wantErr(t, r, 400, "PHONE_NUMBER_NOT_EXIST", "phone number isn't registered")
	if n := count(t, h, authcore.ModelUser, storage.Where{}) + count(t, h, authcore.ModelSession, storage.Where{}); n != 0 {
		t.Fatalf("%d users+sessions created", n)
	}
}

func TestVerifyExistingUser(t *testing.T) {
	h := newHarness(t, &phonenumber.Plugin{SignUpOnVerification: true})
	alice := seedUser(t, h, "alice@example.com", alicePhone, pw, false)
	code := sendCode(t, h, alicePhone)
	c := h.Client()
	r := c.Post(phonenumber.PathVerify, map[string]any{"phoneNumber": alicePhone, "code": code, "name": "Not Alice"})
	if r.StatusCode != 200 {
		t.Fatalf("verify: %d %s", r.StatusCode, r.Body)
	}
	user := r.Object()["user"].(map[string]any)
	if user["id"] != alice.ID() || user["email"] != "alice@example.com" || user["name"] != "Seeded" || user["phoneNumberVerified"] != true {
		t.Fatalf("user %v", user)
	}
	if _, ok := r.SetCookie(sessionCookie); !ok {
		t.Fatal("no session cookie")
	}
	if got := getSessionUser(t, c); got["id"] != alice.ID() {
		t.Fatalf("signed in as %v", got["id"])
	}
	if n := count(t, h, authcore.ModelUser, storage.Where{}); n != 1 {
		t.Fatalf("%d users", n)
	}
}

func TestVerifyDisableSession(t *testing.T) {
	h := newHarness(t, &phonenumber.Plugin{})
	alice := seedUser(t, h, "alice@example.com", alicePhone, "", false)
	code := sendCode(t, h, alicePhone)
	r := h.Client().Post(phonenumber.PathVerify, map[string]any{"phoneNumber": alicePhone, "code": code, "disableSession": true})
	if r.StatusCode != 200 {
		t.Fatalf("verify: %d %s", r.StatusCode, r.Body)
	}
	body := r.Object()
	if body["status"] != true || body["token"] != nil || !bytes.Contains(r.Body, []byte(`"token":null`)) {
		t.Fatalf("body %s", r.Body)
	}
	if len(r.Header.Values("Set-Cookie")) != 0 || count(t, h, authcore.ModelSession, storage.Where{}) != 0 {
		t.Fatal("disableSession still created a session")
	}
	if u := userByPhone(t, h, alicePhone); u.ID() != alice.ID() || !u.Bool("phoneNumberVerified") {
		t.Fatalf("stored user %v", u)
	}
}

func TestUpdatePhoneNumber(t *testing.T) {
	h := newHarness(t, &phonenumber.Plugin{})
	alice, up := h.SignUp("Alice", "alice@example.com", pw)
	aliceID := up["user"].(map[string]any)["id"]
	aliceToken := up["token"]
	if up["user"].(map[string]any)["phoneNumberVerified"] != false {
		t.Fatalf("a new user's phoneNumberVerified: %v", up["user"])
	}

	code := sendCode(t, h, alicePhone)
	r := alice.Post(phonenumber.PathVerify, map[string]any{"phoneNumber": alicePhone, "code": code, "updatePhoneNumber": true})
	if r.StatusCode != 200 {
		t.Fatalf("update: %d %s", r.StatusCode, r.Body)
	}
	body := r.Object()
	user := body["user"].(map[string]any)
	if body["status"] != true || body["token"] != aliceToken || user["id"] != aliceID || user["phoneNumber"] != alicePhone || user["phoneNumberVerified"] != true {
		t.Fatalf("body %s", r.Body)
	}
	if n := count(t, h, authcore.ModelSession, storage.Where{}); n != 1 {
		t.Fatalf("%d sessions; updatePhoneNumber must not sign in again", n)
	}

	// Without a session: 401 USER_NOT_FOUND, as Better Auth answers.
	code = sendCode(t, h, bobPhone)
	r = h.Client().Post(phonenumber.PathVerify, map[string]any{"phoneNumber": bobPhone, "code": code, "updatePhoneNumber": true})
	wantErr(t, r, 401, "USER_NOT_FOUND", "User not found")
	if userByPhone(t, h, bobPhone) != nil {
		t.Fatal("number attached without a session")
	}

	// A number another account holds: 400 PHONE_NUMBER_EXIST, nothing changes.
	bob, _ := h.SignUp("Bob", "bob@example.com", pw)
	code = sendCode(t, h, alicePhone)
	r = bob.Post(phonenumber.PathVerify, map[string]any{"phoneNumber": alicePhone, "code": code, "updatePhoneNumber": true})
	wantErr(t, r, 400, "PHONE_NUMBER_EXIST", "Phone number already exists")
	if u := userByPhone(t, h, alicePhone); u.ID() != aliceID {
		t.Fatalf("number moved to %v", u.ID())
	}
}

func TestSignInWithPassword(t *testing.T) {
	h := newHarness(t, &phonenumber.Plugin{})
	alice := seedUser(t, h, "alice@example.com", alicePhone, pw, true)
	c := h.Client()
	r := c.Post(phonenumber.PathSignIn, map[string]any{"phoneNumber": alicePhone, "password": pw})
	if r.StatusCode != 200 {
		t.Fatalf("sign-in: %d %s", r.StatusCode, r.Body)
	}
	body := r.Object()
	token, _ := body["token"].(string)
	if got := keys(body); !slices.Equal(got, []string{"token", "user"}) || len(token) != 32 {
		t.Fatalf("body %s", r.Body)
	}
	if body["user"].(map[string]any)["id"] != alice.ID() {
		t.Fatalf("user %v", body["user"])
	}
	if line, ok := r.SetCookie(sessionCookie); !ok || !strings.Contains(line, "Max-Age=604800") {
		t.Fatalf("session cookie %q", line)
	}
	if _, ok := r.SetCookie(dontRememberCookie); ok {
		t.Fatal("dont_remember set without rememberMe:false")
	}
	if got := getSessionUser(t, c); got["id"] != alice.ID() {
		t.Fatalf("get-session %v", got)
	}
	// rememberMe:false makes a browser-session cookie.
	r = h.Client().Post(phonenumber.PathSignIn, map[string]any{"phoneNumber": alicePhone, "password": pw, "rememberMe": false})
	line, _ := r.SetCookie(sessionCookie)
	if _, ok := r.SetCookie(dontRememberCookie); r.StatusCode != 200 || !ok || strings.Contains(line, "Max-Age") {
		t.Fatalf("rememberMe:false: %d, session cookie %q", r.StatusCode, line)
	}
	// A password over the maximum is refused before any hashing (PWD-04).
	before := h.Hasher.Work()
	r = h.Client().Post(phonenumber.PathSignIn, map[string]any{"phoneNumber": alicePhone, "password": strings.Repeat("x", 129)})
	wantErr(t, r, 400, "PASSWORD_TOO_LONG", "Password too long")
	if h.Hasher.Work() != before {
		t.Fatal("an over-long password was hashed")
	}
}

// Wrong password, unknown number, an account without a password, and (with
// require_verification) an unverified account with a wrong password all answer the same
// bytes after the same hashing work, and send nothing (ENUM-01, D18).
func TestSignInFailuresIdentical(t *testing.T) {
	h := newHarness(t, &phonenumber.Plugin{RequireVerification: true})
	seedUser(t, h, "alice@example.com", alicePhone, pw, true)
	seedUser(t, h, "bob@example.com", bobPhone, pw, false)
	seedUser(t, h, "olive@example.com", "+15557770000", "", true)
	attempt := func(phone, password string) (*authcoretest.Response, int) {
		before := h.Hasher.Work()
		r := h.Client().Post(phonenumber.PathSignIn, map[string]any{"phoneNumber": phone, "password": password})
		return r, h.Hasher.Work() - before
	}
	wrong, wrongWork := attempt(alicePhone, "not the password")
	wantErr(t, wrong, 401, "INVALID_PHONE_NUMBER_OR_PASSWORD", "Invalid phone number or password")
	for name, phone := range map[string]string{"unknown number": nobody, "unverified account": bobPhone, "no password": "+15557770000"} {
		r, work := attempt(phone, "not the password")
		if r.StatusCode != wrong.StatusCode || !bytes.Equal(r.Body, wrong.Body) || len(r.Header.Values("Set-Cookie")) != 0 {
			t.Fatalf("%s: %d %s; wrong password: %d %s", name, r.StatusCode, r.Body, wrong.StatusCode, wrong.Body)
		}
		if work != wrongWork || work != 1 {
			t.Fatalf("%s: hasher work %d, wrong password %d", name, work, wrongWork)
		}
	}
	h.Drain()
	if n := len(smsList(h, bobPhone)); n != 0 {
		t.Fatalf("a failed sign-in sent %d SMS to an unverified number", n)
	}
	if n := count(t, h, authcore.ModelSession, storage.Where{}); n != 0 {
		t.Fatalf("%d sessions", n)
	}
}

func TestRequireVerification(t *testing.T) {
	h := newHarness(t, &phonenumber.Plugin{RequireVerification: true})
	bob := seedUser(t, h, "bob@example.com", bobPhone, pw, false)
	r := h.Client().Post(phonenumber.PathSignIn, map[string]any{"phoneNumber": bobPhone, "password": pw})
	wantErr(t, r, 401, "PHONE_NUMBER_NOT_VERIFIED", "Phone number not verified")
	m := sms(t, h, bobPhone, 1)
	if m.Vars["purpose"] != "verification" {
		t.Fatalf("message %+v", m)
	}
	c := h.Client()
	r = c.Post(phonenumber.PathVerify, map[string]any{"phoneNumber": bobPhone, "code": m.Data.OTP})
	if r.StatusCode != 200 || r.Object()["user"].(map[string]any)["id"] != bob.ID() {
		t.Fatalf("verify: %d %s", r.StatusCode, r.Body)
	}
	r = h.Client().Post(phonenumber.PathSignIn, map[string]any{"phoneNumber": bobPhone, "password": pw})
	if r.StatusCode != 200 {
		t.Fatalf("sign-in after verification: %d %s", r.StatusCode, r.Body)
	}
}

func TestAttemptLimit(t *testing.T) {
	for _, store := range []string{"plain", "hashed", "encrypted"} {
		t.Run(store, func(t *testing.T) {
			h := newHarness(t, &phonenumber.Plugin{StoreOTP: store}, authcoretest.WithBolt())
			seedUser(t, h, "alice@example.com", alicePhone, "", false)
			code := sendCode(t, h, alicePhone)
			for i := range 3 {
				r := h.Client().Post(phonenumber.PathVerify, map[string]any{"phoneNumber": alicePhone, "code": wrongCode(code)})
				wantErr(t, r, 400, "INVALID_OTP", "Invalid OTP")
				rec, _ := h.Engine.Store().FindOne(context.Background(), authcore.ModelVerification, storage.Eq("identifier", "phone-number-otp-"+alicePhone))
				if want := ":" + string(rune('1'+i)); !strings.HasSuffix(rec.String("value"), want) {
					t.Fatalf("after wrong code %d: stored %q", i+1, rec.String("value"))
				}
			}
			// The code is void: even the right one is refused, then it is gone.
			r := h.Client().Post(phonenumber.PathVerify, map[string]any{"phoneNumber": alicePhone, "code": code})
			wantErr(t, r, 403, "TOO_MANY_ATTEMPTS", "Too many attempts")
			r = h.Client().Post(phonenumber.PathVerify, map[string]any{"phoneNumber": alicePhone, "code": code})
			wantErr(t, r, 400, "OTP_NOT_FOUND", "OTP not found")
			if u := userByPhone(t, h, alicePhone); u.Bool("phoneNumberVerified") {
				t.Fatal("verified by a voided code")
			}
			// A fresh code starts a fresh budget.
			code = sendCode(t, h, alicePhone)
			if r := h.Client().Post(phonenumber.PathVerify, map[string]any{"phoneNumber": alicePhone, "code": code}); r.StatusCode != 200 {
				t.Fatalf("fresh code: %d %s", r.StatusCode, r.Body)
			}
		})
	}
}

func TestExpiry(t *testing.T) {
	h := newHarness(t, &phonenumber.Plugin{ExpiresIn: authcore.Duration(2 * time.Minute)})
	seedUser(t, h, "alice@example.com", alicePhone, "", false)
	code := sendCode(t, h, alicePhone)
	if m := sms(t, h, alicePhone, 1); m.ExpiresIn != 2*time.Minute {
		t.Fatalf("ExpiresIn %v", m.ExpiresIn)
	}
	h.Clock.Advance(2*time.Minute + time.Second)
	r := h.Client().Post(phonenumber.PathVerify, map[string]any{"phoneNumber": alicePhone, "code": code})
	wantErr(t, r, 400, "OTP_EXPIRED", "OTP expired")
	r = h.Client().Post(phonenumber.PathVerify, map[string]any{"phoneNumber": alicePhone, "code": code})
	wantErr(t, r, 400, "OTP_NOT_FOUND", "OTP not found")
	// Just inside the lifetime it still works.
	code = sendCode(t, h, alicePhone)
	h.Clock.Advance(2*time.Minute - time.Second)
	if r := h.Client().Post(phonenumber.PathVerify, map[string]any{"phoneNumber": alicePhone, "code": code}); r.StatusCode != 200 {
		t.Fatalf("before expiry: %d %s", r.StatusCode, r.Body)
	}
}

// rawPost is a POST that is safe to call from goroutines (no t.Fatal).
func rawPost(h *authcoretest.Harness, path string, body any) (int, []byte, error) {
	b, _ := json.Marshal(body)
	req, err := http.NewRequest(http.MethodPost, h.URL(path), bytes.NewReader(b))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", authcoretest.BaseURL)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, data, err
}

// 20 concurrent verifications with the right code: exactly one wins, one user, one session.
func TestConcurrentVerify(t *testing.T) {
	h := newHarness(t, &phonenumber.Plugin{SignUpOnVerification: true}, authcoretest.WithBolt())
	code := sendCode(t, h, alicePhone)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
	)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, body, err := rawPost(h, phonenumber.PathVerify, map[string]any{"phoneNumber": alicePhone, "code": code})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				t.Errorf("request: %v", err)
			case status == 200:
				wins++
			case status != 400 || !bytes.Contains(body, []byte(`"OTP_NOT_FOUND"`)):
				t.Errorf("loser: %d %s", status, body)
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d verifications succeeded, want 1", wins)
	}
	if u, s := count(t, h, authcore.ModelUser, storage.Where{}), count(t, h, authcore.ModelSession, storage.Where{}); u != 1 || s != 1 {
		t.Fatalf("%d users, %d sessions", u, s)
	}
}

func TestPasswordReset(t *testing.T) {
	h := newHarness(t, &phonenumber.Plugin{}, authcoretest.WithConfig(func(c *authcore.Config) {
		c.EmailAndPassword.RevokeSessionsOnPasswordReset = true
	}))
	alice := seedUser(t, h, "alice@example.com", alicePhone, pw, true)
	signedIn := h.Client()
	if r := signedIn.Post(phonenumber.PathSignIn, map[string]any{"phoneNumber": alicePhone, "password": pw}); r.StatusCode != 200 {
		t.Fatalf("sign-in: %d %s", r.StatusCode, r.Body)
	}
	// A verification code is not a reset code.
	code := sendCode(t, h, alicePhone)
	r := h.Client().Post(phonenumber.PathResetPassword, map[string]any{"phoneNumber": alicePhone, "otp": code, "newPassword": newPW})
	wantErr(t, r, 400, "OTP_NOT_FOUND", "OTP not found")

	r = h.Client().Post(phonenumber.PathRequestPasswordReset, map[string]any{"phoneNumber": alicePhone})
	if r.StatusCode != 200 || string(r.Body) != `{"status":true}` {
		t.Fatalf("request: %d %s", r.StatusCode, r.Body)
	}
	m := sms(t, h, alicePhone, 2)
	if m.Vars["purpose"] != "password-reset" || m.ExpiresIn != 5*time.Minute {
		t.Fatalf("message %+v", m)
	}
	reset := func(otp, password string) *authcoretest.Response {
		return h.Client().Post(phonenumber.PathResetPassword, map[string]any{"phoneNumber": alicePhone, "otp": otp, "newPassword": password})
	}
	wantErr(t, reset(wrongCode(m.Data.OTP), newPW), 400, "INVALID_OTP", "Invalid OTP")
	// The policy runs first, and a refused password costs no attempt.
	wantErr(t, reset(m.Data.OTP, "short"), 400, "PASSWORD_TOO_SHORT", "Password too short")
	wantErr(t, reset(m.Data.OTP, "password123"), 400, "PASSWORD_TOO_COMMON", "Password is too common. Choose a less common password.")
	wantErr(t, reset(wrongCode(m.Data.OTP), newPW), 400, "INVALID_OTP", "Invalid OTP")
	if r := reset(m.Data.OTP, newPW); r.StatusCode != 200 || string(r.Body) != `{"status":true}` {
		t.Fatalf("reset: %d %s", r.StatusCode, r.Body)
	}
	wantErr(t, reset(m.Data.OTP, newPW), 400, "OTP_NOT_FOUND", "OTP not found")
	// Sessions are revoked (revoke_sessions_on_password_reset), the new password works,
	// the old one does not.
	if n := count(t, h, authcore.ModelSession, storage.Eq("userId", alice.ID())); n != 0 {
		t.Fatalf("%d sessions survived the reset", n)
	}
	if r := signedIn.Get(authcore.PathGetSession); string(r.Body) != "null" {
		t.Fatalf("old session after reset: %s", r.Body)
	}
	r = h.Client().Post(phonenumber.PathSignIn, map[string]any{"phoneNumber": alicePhone, "password": pw})
	wantErr(t, r, 401, "INVALID_PHONE_NUMBER_OR_PASSWORD", "Invalid phone number or password")
	if r := h.Client().Post(phonenumber.PathSignIn, map[string]any{"phoneNumber": alicePhone, "password": newPW}); r.StatusCode != 200 {
		t.Fatalf("sign-in with the new password: %d %s", r.StatusCode, r.Body)
	}
}

func TestPasswordResetKeepsSessionsByDefault(t *testing.T) {
	h := newHarness(t, &phonenumber.Plugin{})
	alice := seedUser(t, h, "alice@example.com", alicePhone, "", true) // no password yet
	c := h.Client()
	code := sendCode(t, h, alicePhone)
	if r := c.Post(phonenumber.PathVerify, map[string]any{"phoneNumber": alicePhone, "code": code}); r.StatusCode != 200 {
		t.Fatalf("verify: %d %s", r.StatusCode, r.Body)
	}
	h.Client().Post(phonenumber.PathRequestPasswordReset, map[string]any{"phoneNumber": alicePhone})
	otp := sms(t, h, alicePhone, 2).Data.OTP
	r := h.Client().Post(phonenumber.PathResetPassword, map[string]any{"phoneNumber": alicePhone, "otp": otp, "newPassword": newPW})
	if r.StatusCode != 200 {
		t.Fatalf("reset: %d %s", r.StatusCode, r.Body)
	}
	if n := count(t, h, authcore.ModelSession, storage.Eq("userId", alice.ID())); n != 1 {
		t.Fatalf("%d sessions, want the one kept", n)
	}
	// The reset created the credential account.
	if r := h.Client().Post(phonenumber.PathSignIn, map[string]any{"phoneNumber": alicePhone, "password": newPW}); r.StatusCode != 200 {
		t.Fatalf("sign-in: %d %s", r.StatusCode, r.Body)
	}
}

func TestPasswordResetExpiry(t *testing.T) {
	h := newHarness(t, &phonenumber.Plugin{})
	seedUser(t, h, "alice@example.com", alicePhone, pw, true)
	h.Client().Post(phonenumber.PathRequestPasswordReset, map[string]any{"phoneNumber": alicePhone})
	otp := sms(t, h, alicePhone, 1).Data.OTP
	h.Clock.Advance(5*time.Minute + time.Second)
	r := h.Client().Post(phonenumber.PathResetPassword, map[string]any{"phoneNumber": alicePhone, "otp": otp, "newPassword": newPW})
	wantErr(t, r, 400, "OTP_EXPIRED", "OTP expired")
}

// 20 concurrent resets with the right code: exactly one wins.
func TestConcurrentPasswordReset(t *testing.T) {
	h := newHarness(t, &phonenumber.Plugin{}, authcoretest.WithBolt())
	seedUser(t, h, "alice@example.com", alicePhone, pw, true)
	h.Client().Post(phonenumber.PathRequestPasswordReset, map[string]any{"phoneNumber": alicePhone})
	otp := sms(t, h, alicePhone, 1).Data.OTP
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
	)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, body, err := rawPost(h, phonenumber.PathResetPassword, map[string]any{"phoneNumber": alicePhone, "otp": otp, "newPassword": newPW})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				t.Errorf("request: %v", err)
			case status == 200:
				wins++
			case status != 400 || !bytes.Contains(body, []byte(`"OTP_NOT_FOUND"`)):
				t.Errorf("loser: %d %s", status, body)
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d resets succeeded, want 1", wins)
	}
}

// An unknown number gets the same answer, in the same work, as a known one — and no code
// and no SMS (ENUM-03, D18).
func TestRequestPasswordResetNoEnumeration(t *testing.T) {
	h := newHarness(t, &phonenumber.Plugin{})
	seedUser(t, h, "alice@example.com", alicePhone, pw, true)
	ask := func(phone string) (*authcoretest.Response, int) {
		before := h.Hasher.Work()
		r := h.Client().Post(phonenumber.PathRequestPasswordReset, map[string]any{"phoneNumber": phone})
		return r, h.Hasher.Work() - before
	}
	unknown, uw := ask(nobody)
	known, kw := ask(alicePhone)
	if unknown.StatusCode != 200 || known.StatusCode != 200 || !bytes.Equal(unknown.Body, known.Body) || string(known.Body) != `{"status":true}` || uw != kw {
		t.Fatalf("unknown: %d %s (work %d); known: %d %s (work %d)", unknown.StatusCode, unknown.Body, uw, known.StatusCode, known.Body, kw)
	}
	if !slices.Equal(unknown.Header.Values("Set-Cookie"), known.Header.Values("Set-Cookie")) {
		t.Fatal("cookies differ")
	}
	sms(t, h, alicePhone, 1)
	h.Drain()
	if n := len(smsList(h, nobody)); n != 0 {
		t.Fatalf("%d SMS to an unknown number", n)
	}
	if n := count(t, h, authcore.ModelVerification, storage.Eq("identifier", "phone-number-reset-"+nobody)); n != 0 {
		t.Fatal("a reset code was stored for an unknown number")
	}
	// Resetting an unknown number looks like resetting a known number without a code.
	r := h.Client().Post(phonenumber.PathResetPassword, map[string]any{"phoneNumber": nobody, "otp": "123456", "newPassword": newPW})
	wantErr(t, r, 400, "OTP_NOT_FOUND", "OTP not found")
}

func TestRequestPasswordResetRequiresVerifiedNumber(t *testing.T) {
	h := newHarness(t, &phonenumber.Plugin{RequireVerification: true})
	seedUser(t, h, "bob@example.com", bobPhone, pw, false)
	r := h.Client().Post(phonenumber.PathRequestPasswordReset, map[string]any{"phoneNumber": bobPhone})
	if r.StatusCode != 200 || string(r.Body) != `{"status":true}` {
		t.Fatalf("request: %d %s", r.StatusCode, r.Body)
	}
	h.Drain()
	if n := len(smsList(h, bobPhone)); n != 0 {
		t.Fatalf("%d reset SMS to an unverified number", n)
	}
}

func TestUpdateUserRefusesPhoneNumber(t *testing.T) {
	h := newHarness(t, &phonenumber.Plugin{})
	alice, up := h.SignUp("Alice", "alice@example.com", pw)
	aliceID := up["user"].(map[string]any)["id"].(string)
	code := sendCode(t, h, alicePhone)
	if r := alice.Post(phonenumber.PathVerify, map[string]any{"phoneNumber": alicePhone, "code": code, "updatePhoneNumber": true}); r.StatusCode != 200 {
		t.Fatalf("attach: %d %s", r.StatusCode, r.Body)
	}
	for _, v := range []any{bobPhone, "", alicePhone} {
		r := alice.Post(authcore.PathUpdateUser, map[string]any{"phoneNumber": v, "name": "Mallory"})
		wantErr(t, r, 400, "PHONE_NUMBER_CANNOT_BE_UPDATED", "Phone number cannot be updated")
	}
	if u := userByPhone(t, h, alicePhone); u.ID() != aliceID || u.String("name") != "Alice" || !u.Bool("phoneNumberVerified") {
		t.Fatalf("user changed: %v", u)
	}
	// null removes the number and the verified flag together.
	if r := alice.Post(authcore.PathUpdateUser, map[string]any{"phoneNumber": nil}); r.StatusCode != 200 {
		t.Fatalf("update-user null: %d %s", r.StatusCode, r.Body)
	}
	u, err := h.Engine.UserByID(context.Background(), aliceID)
	if err != nil || u.Has("phoneNumber") || u.Bool("phoneNumberVerified") {
		t.Fatalf("after null: %v %v", u, err)
	}
	// The released number can be claimed by someone else through verification.
	bob, _ := h.SignUp("Bob", "bob@example.com", pw)
	code = sendCode(t, h, alicePhone)
	if r := bob.Post(phonenumber.PathVerify, map[string]any{"phoneNumber": alicePhone, "code": code, "updatePhoneNumber": true}); r.StatusCode != 200 {
		t.Fatalf("claim released number: %d %s", r.StatusCode, r.Body)
	}
}

// Signing up with someone else's number, unverified, is refused (1.7.25
// PHONE_NUMBER_CANNOT_BE_SET): otherwise the number's owner, verifying it later, would be
// signed into the squatter's account.
func TestSignUpRefusesPhoneNumber(t *testing.T) {
	h := newHarness(t, &phonenumber.Plugin{SignUpOnVerification: true})
	r := h.Client().Post(authcore.PathSignUpEmail, map[string]any{"name": "M", "email": "mallory@example.com", "password": pw, "phoneNumber": alicePhone})
	wantErr(t, r, 400, "PHONE_NUMBER_CANNOT_BE_SET", "Phone number can only be set by verifying it")
	if n := count(t, h, authcore.ModelUser, storage.Where{}); n != 0 {
		t.Fatalf("%d users", n)
	}
	for i, v := range []any{"", nil} {
		email := []string{"m1@example.com", "m2@example.com"}[i]
		r := h.Client().Post(authcore.PathSignUpEmail, map[string]any{"name": "M", "email": email, "password": pw, "phoneNumber": v})
		if r.StatusCode != 200 {
			t.Fatalf("phoneNumber %q: %d %s", v, r.StatusCode, r.Body)
		}
		if u, _ := h.Engine.UserByEmail(context.Background(), email); u.Has("phoneNumber") {
			t.Fatalf("phoneNumber %q stored: %v", v, u)
		}
	}
	// The real owner verifying the number gets a new account of their own.
	code := sendCode(t, h, alicePhone)
	r = h.Client().Post(phonenumber.PathVerify, map[string]any{"phoneNumber": alicePhone, "code": code})
	if r.StatusCode != 200 || r.Object()["user"].(map[string]any)["email"] != "15551234567@phone-number.placeholder.invalid" {
		t.Fatalf("owner verify: %d %s", r.StatusCode, r.Body)
	}
}

func TestWithoutSMSTransport(t *testing.T) {
	h := newHarness(t, &phonenumber.Plugin{RequireVerification: true}, authcoretest.WithoutMailer())
	seedUser(t, h, "bob@example.com", bobPhone, pw, false)
	r := h.Client().Post(phonenumber.PathSendOTP, map[string]any{"phoneNumber": alicePhone})
	wantErr(t, r, 501, "SEND_OTP_NOT_IMPLEMENTED", "sendOTP not implemented")
	r = h.Client().Post(phonenumber.PathRequestPasswordReset, map[string]any{"phoneNumber": bobPhone})
	if r.StatusCode != 200 || string(r.Body) != `{"status":true}` {
		t.Fatalf("request-password-reset: %d %s", r.StatusCode, r.Body)
	}
	r = h.Client().Post(phonenumber.PathSignIn, map[string]any{"phoneNumber": bobPhone, "password": pw})
	wantErr(t, r, 401, "PHONE_NUMBER_NOT_VERIFIED", "Phone number not verified")
	if n := count(t, h, authcore.ModelVerification, storage.Where{}); n != 0 {
		t.Fatalf("%d codes issued with nothing to deliver them", n)
	}
}

func TestInvalidPhoneNumbers(t *testing.T) {
	bad := []string{"", "5551234567", "+0123456789", "+1 555 123 4567", "+1234567890123456", "+12345", "abc",
		"+15551234567\n", "+1555123456७", strings.Repeat("9", 100), "+15551234567;DROP"}
	bodies := map[string]func(phone string) map[string]any{
		phonenumber.PathSignIn:  func(p string) map[string]any { return map[string]any{"phoneNumber": p, "password": pw} },
		phonenumber.PathSendOTP: func(p string) map[string]any { return map[string]any{"phoneNumber": p} },
		phonenumber.PathVerify:  func(p string) map[string]any { return map[string]any{"phoneNumber": p, "code": "123456"} },
		phonenumber.PathRequestPasswordReset: func(p string) map[string]any {
			return map[string]any{"phoneNumber": p}
		},
		phonenumber.PathResetPassword: func(p string) map[string]any {
			return map[string]any{"phoneNumber": p, "otp": "123456", "newPassword": newPW}
		},
	}
	h := newHarness(t, &phonenumber.Plugin{SignUpOnVerification: true})
	for path, body := range bodies {
		for _, phone := range bad {
			r := h.Client().Post(path, body(phone))
			wantErr(t, r, 400, "INVALID_PHONE_NUMBER", "Invalid phone number")
		}
	}
	h.Drain()
	if got := h.Sink.Messages(); len(got) != 0 {
		t.Fatalf("%d messages for invalid numbers", len(got))
	}

	// A replaced pattern.
	h = newHarness(t, &phonenumber.Plugin{PhoneNumberPattern: `^0[0-9]{9}$`})
	if r := h.Client().Post(phonenumber.PathSendOTP, map[string]any{"phoneNumber": "0712345678"}); r.StatusCode != 200 {
		t.Fatalf("custom pattern, matching number: %d %s", r.StatusCode, r.Body)
	}
	wantErr(t, h.Client().Post(phonenumber.PathSendOTP, map[string]any{"phoneNumber": alicePhone}), 400, "INVALID_PHONE_NUMBER", "Invalid phone number")

	// Validation off: anything printable up to 64 bytes, and the placeholder email stays a
	// valid, distinct .invalid address.
	h = newHarness(t, &phonenumber.Plugin{DisablePhoneNumberValidation: true, SignUpOnVerification: true})
	for _, phone := range []string{"+1 (555) 123-4567", "+15551234567", "ext-abc"} {
		code := sendCode(t, h, phone)
		r := h.Client().Post(phonenumber.PathVerify, map[string]any{"phoneNumber": phone, "code": code})
		if r.StatusCode != 200 {
			t.Fatalf("%q: %d %s", phone, r.StatusCode, r.Body)
		}
		email := r.Object()["user"].(map[string]any)["email"].(string)
		if !authcore.ValidEmail(email) || !strings.HasSuffix(email, "@phone-number.placeholder.invalid") {
			t.Fatalf("%q: placeholder %q", phone, email)
		}
	}
	for _, phone := range []string{"", strings.Repeat("1", 65), "+1555\x07", "+1555\u200e"} {
		wantErr(t, h.Client().Post(phonenumber.PathSendOTP, map[string]any{"phoneNumber": phone}), 400, "INVALID_PHONE_NUMBER", "Invalid phone number")
	}
}

// Hostile bodies are 4xx envelopes, never 500, and change nothing.
func TestHostileInput(t *testing.T) {
	h := newHarness(t, &phonenumber.Plugin{SignUpOnVerification: true})
	seedUser(t, h, "alice@example.com", alicePhone, pw, true)
	huge := strings.Repeat("9", 100_000)
	cases := map[string][]string{
		phonenumber.PathSignIn: {`{"phoneNumber":15551234567,"password":"x"}`, `{"phoneNumber":"+15551234567"}`,
			`{"phoneNumber":"+15551234567","password":["x"]}`, `{"phoneNumber":"+15551234567","password":"x","rememberMe":"no"}`,
			`{"phoneNumber":"` + huge + `","password":"x"}`, `[]`, `"x"`, `{"phoneNumber":"+15551234567","phoneNumber":"+1","password":"x"}`},
		phonenumber.PathSendOTP: {`{}`, `{"phoneNumber":null}`, `{"phoneNumber":{"$ne":""}}`, `{"phoneNumber":"` + huge + `"}`, `{`},
		phonenumber.PathVerify: {`{"phoneNumber":"+15551234567"}`, `{"phoneNumber":"+15551234567","code":123456}`,
			`{"phoneNumber":"+15551234567","code":"123456","disableSession":"yes"}`,
			`{"phoneNumber":"+15551234567","code":"123456","updatePhoneNumber":1}`,
			`{"phoneNumber":"+15551234567","code":"` + huge + `"}`, `{"phoneNumber":"+15551234567","code":"123456","name":42}`},
		phonenumber.PathRequestPasswordReset: {`{"phoneNumber":true}`, `null`},
		phonenumber.PathResetPassword: {`{"phoneNumber":"+15551234567","otp":"123456"}`,
			`{"phoneNumber":"+15551234567","otp":"123456","newPassword":"` + huge + `"}`,
			`{"phoneNumber":"+15551234567","otp":null,"newPassword":"x"}`},
	}
	for path, bodies := range cases {
		for _, b := range bodies {
			r := h.Client().Post(path, b)
			code := r.Code()
			if r.StatusCode < 400 || r.StatusCode >= 500 || code == "" {
				t.Errorf("%s %.80s: %d %.200s", path, b, r.StatusCode, r.Body)
			}
		}
	}
	// Not JSON at all.
	r := h.Client().Post(phonenumber.PathSendOTP, []byte("phoneNumber=+15551234567"), "Content-Type", "application/x-www-form-urlencoded")
	if r.StatusCode != http.StatusUnsupportedMediaType {
		t.Fatalf("form body: %d %s", r.StatusCode, r.Body)
	}
	if n := count(t, h, authcore.ModelUser, storage.Where{}); n != 1 {
		t.Fatalf("%d users", n)
	}
	if n := count(t, h, authcore.ModelSession, storage.Where{}); n != 0 {
		t.Fatalf("%d sessions", n)
	}
}

// Each number gets at most send_limit SMS per window, known or not, on top of the per-IP
// plugin rule of 10 requests a minute under /phone-number (BF-04).
func TestSendLimits(t *testing.T) {
	const ipHeader = "X-Test-Client-IP"
	h := newHarness(t, &phonenumber.Plugin{SendLimit: 2, SendLimitWindow: authcore.Duration(time.Minute)},
		authcoretest.WithConfig(func(c *authcore.Config) { c.RateLimit.Disabled = false }),
		authcoretest.WithEngineOptions(authcore.WithClientIP(func(r *http.Request) string { return r.Header.Get(ipHeader) })))
	send := func(path, phone, ip string) *authcoretest.Response {
		return h.Client().Post(path, map[string]any{"phoneNumber": phone}, ipHeader, ip)
	}
	if r := send(phonenumber.PathSendOTP, alicePhone, "203.0.113.1"); r.StatusCode != 200 {
		t.Fatalf("1st: %d %s", r.StatusCode, r.Body)
	}
	if r := send(phonenumber.PathRequestPasswordReset, alicePhone, "203.0.113.2"); r.StatusCode != 200 {
		t.Fatalf("2nd: %d %s", r.StatusCode, r.Body)
	}
	// Third SMS to the same number, from yet another IP: refused.
	for _, path := range []string{phonenumber.PathSendOTP, phonenumber.PathRequestPasswordReset} {
		r := send(path, alicePhone, "203.0.113.3")
		if r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
			t.Fatalf("%s over the per-number cap: %d %s", path, r.StatusCode, r.Body)
		}
	}
	// Unknown numbers are capped alike (nothing to learn from a 429).
	send(phonenumber.PathRequestPasswordReset, nobody, "203.0.113.4")
	send(phonenumber.PathRequestPasswordReset, nobody, "203.0.113.4")
	if r := send(phonenumber.PathRequestPasswordReset, nobody, "203.0.113.4"); r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("unknown number over the cap: %d", r.StatusCode)
	}
	h.Clock.Advance(time.Minute)
	if r := send(phonenumber.PathSendOTP, alicePhone, "203.0.113.3"); r.StatusCode != 200 {
		t.Fatalf("after the window: %d %s", r.StatusCode, r.Body)
	}
	// Per IP: 10 requests a minute under /phone-number, whatever the numbers.
	for i := range 10 {
		phone := "+1555000010" + string(rune('0'+i))
		if r := send(phonenumber.PathSendOTP, phone, "198.51.100.9"); r.StatusCode != 200 {
			t.Fatalf("request %d: %d %s", i+1, r.StatusCode, r.Body)
		}
	}
	if r := send(phonenumber.PathSendOTP, "+15550009999", "198.51.100.9"); r.StatusCode != http.StatusTooManyRequests || r.Header.Get("X-Retry-After") == "" {
		t.Fatalf("11th request from one IP: %d %s", r.StatusCode, r.Body)
	}
}

// gatePlugin stands in for two-factor: a session gate that sees every sign-in (D11).
type gatePlugin struct {
	mu      sync.Mutex
	methods []string
	refuse  bool
}

func (*gatePlugin) ID() string { return "test-gate" }
func (g *gatePlugin) Register(r *authcore.Registrar) error {
	r.SessionGate(func(_ *authcore.Call, _ storage.Record, opt authcore.SignInOptions) error {
		method := opt.Method
		g.mu.Lock()
		defer g.mu.Unlock()
		g.methods = append(g.methods, method)
		if g.refuse {
			return &authcore.Interrupt{Response: map[string]any{"twoFactorRedirect": true}}
		}
		return nil
	})
	return nil
}

func TestSignInsGoThroughSessionGates(t *testing.T) {
	g := &gatePlugin{}
	h := newHarness(t, &phonenumber.Plugin{}, authcoretest.WithPlugins(g))
	seedUser(t, h, "alice@example.com", alicePhone, pw, true)
	h.Client().Post(phonenumber.PathSignIn, map[string]any{"phoneNumber": alicePhone, "password": pw})
	code := sendCode(t, h, alicePhone)
	h.Client().Post(phonenumber.PathVerify, map[string]any{"phoneNumber": alicePhone, "code": code})
	if !slices.Equal(g.methods, []string{"phone-number", "phone-number-otp"}) {
		t.Fatalf("gate saw %v", g.methods)
	}
	g.refuse = true
	sessions := count(t, h, authcore.ModelSession, storage.Where{})
	r := h.Client().Post(phonenumber.PathSignIn, map[string]any{"phoneNumber": alicePhone, "password": pw})
	if r.StatusCode != 200 || string(r.Body) != `{"twoFactorRedirect":true}` || len(r.Header.Values("Set-Cookie")) != 0 {
		t.Fatalf("interrupted sign-in: %d %s", r.StatusCode, r.Body)
	}
	code = sendCode(t, h, alicePhone)
	r = h.Client().Post(phonenumber.PathVerify, map[string]any{"phoneNumber": alicePhone, "code": code})
	if r.StatusCode != 200 || string(r.Body) != `{"twoFactorRedirect":true}` {
		t.Fatalf("interrupted verify: %d %s", r.StatusCode, r.Body)
	}
	if n := count(t, h, authcore.ModelSession, storage.Where{}); n != sessions {
		t.Fatal("a gated sign-in created a session")
	}
}

func TestOptions(t *testing.T) {
	h := newHarness(t, &phonenumber.Plugin{OTPLength: 8, StoreOTP: "plain", TempEmailDomain: "sms.example.invalid", SignUpOnVerification: true})
	code := sendCode(t, h, alicePhone)
	if !regexp.MustCompile(`^[0-9]{8}$`).MatchString(code) {
		t.Fatalf("code %q, want 8 digits", code)
	}
	rec, _ := h.Engine.Store().FindOne(context.Background(), authcore.ModelVerification, storage.Eq("identifier", "phone-number-otp-"+alicePhone))
	if rec.String("value") != code+":0" {
		t.Fatalf("plain storage: %q", rec.String("value"))
	}
	r := h.Client().Post(phonenumber.PathVerify, map[string]any{"phoneNumber": alicePhone, "code": code})
	if r.Object()["user"].(map[string]any)["email"] != "15551234567@sms.example.invalid" {
		t.Fatalf("verify: %s", r.Body)
	}
	codes := h.Engine.ErrorCodes()[phonenumber.ID]
	if len(codes) != 14 {
		t.Fatalf("declared codes %v", codes)
	}

	for _, tc := range []struct {
		p    phonenumber.Plugin
		want string
	}{
		{phonenumber.Plugin{OTPLength: 3}, "otp_length 3"},
		{phonenumber.Plugin{OTPLength: 13}, "otp_length 13"},
		{phonenumber.Plugin{ExpiresIn: -1}, "expires_in"},
		{phonenumber.Plugin{AllowedAttempts: -1}, "allowed_attempts"},
		{phonenumber.Plugin{StoreOTP: "rot13"}, `store_otp "rot13"`},
		{phonenumber.Plugin{PhoneNumberPattern: "(["}, "phone_number_pattern"},
		{phonenumber.Plugin{PhoneNumberPattern: "^1$", DisablePhoneNumberValidation: true}, "exclude each other"},
		{phonenumber.Plugin{TempEmailDomain: "example.com"}, "temp_email_domain"},
		{phonenumber.Plugin{TempEmailDomain: "bad domain.invalid"}, "temp_email_domain"},
		{phonenumber.Plugin{SendLimit: -1}, "send_limit"},
	} {
		p := tc.p
		_, err := authcore.New(authcore.Config{BaseURL: authcoretest.BaseURL, Secret: authcoretest.Secret},
			authcore.WithStore(memory.NewStore()), authcore.WithPlugins(&p))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `"phone-number"`) {
			t.Errorf("%+v: error %v, want one naming %q", tc.p, err, tc.want)
		}
		if err := tc.p.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: Validate %v", tc.p, err)
		}
	}
}

// A phone user who gives their number up keeps the placeholder email; the number's next
// owner signing up gets a distinct placeholder instead of a dead end.
func TestSignUpAfterNumberReleased(t *testing.T) {
	h := newHarness(t, &phonenumber.Plugin{SignUpOnVerification: true}, authcoretest.WithBolt())
	first := h.Client()
	code := sendCode(t, h, alicePhone)
	r := first.Post(phonenumber.PathVerify, map[string]any{"phoneNumber": alicePhone, "code": code})
	if r.StatusCode != 200 {
		t.Fatalf("first sign-up: %d %s", r.StatusCode, r.Body)
	}
	firstID := r.Object()["user"].(map[string]any)["id"]
	if r := first.Post(authcore.PathUpdateUser, map[string]any{"phoneNumber": nil}); r.StatusCode != 200 {
		t.Fatalf("release: %d %s", r.StatusCode, r.Body)
	}
	code = sendCode(t, h, alicePhone)
	r = h.Client().Post(phonenumber.PathVerify, map[string]any{"phoneNumber": alicePhone, "code": code})
	if r.StatusCode != 200 {
		t.Fatalf("second sign-up: %d %s", r.StatusCode, r.Body)
	}
	user := r.Object()["user"].(map[string]any)
	email, _ := user["email"].(string)
	if user["id"] == firstID || !regexp.MustCompile(`^15551234567-[a-z0-9]{10}@phone-number\.placeholder\.invalid$`).MatchString(email) {
		t.Fatalf("second user %v", user)
	}
}

// send-otp never looks the number up: an account's number and a stranger's get the same
// bytes, and both get a code (ENUM-03).
func TestSendOTPSameForEveryNumber(t *testing.T) {
	h := newHarness(t, &phonenumber.Plugin{})
	seedUser(t, h, "alice@example.com", alicePhone, pw, true)
	known := h.Client().Post(phonenumber.PathSendOTP, map[string]any{"phoneNumber": alicePhone})
	unknown := h.Client().Post(phonenumber.PathSendOTP, map[string]any{"phoneNumber": nobody})
	if known.StatusCode != 200 || unknown.StatusCode != 200 || !bytes.Equal(known.Body, unknown.Body) {
		t.Fatalf("known %d %s, unknown %d %s", known.StatusCode, known.Body, unknown.StatusCode, unknown.Body)
	}
	sms(t, h, alicePhone, 1)
	sms(t, h, nobody, 1)
}

// A cross-site request riding the victim's cookie cannot move a number onto their account
// (CSRF-01): the engine's origin check refuses it before the code is spent.
func TestUpdatePhoneNumberCrossSite(t *testing.T) {
	h := newHarness(t, &phonenumber.Plugin{})
	alice, _ := h.SignUp("Alice", "alice@example.com", pw)
	code := sendCode(t, h, alicePhone)
	alice.Origin = "https://evil.example"
	r := alice.Post(phonenumber.PathVerify, map[string]any{"phoneNumber": alicePhone, "code": code, "updatePhoneNumber": true})
	wantErr(t, r, 403, "INVALID_ORIGIN", "Invalid origin")
	if userByPhone(t, h, alicePhone) != nil {
		t.Fatal("number attached cross-site")
	}
	alice.Origin = authcoretest.BaseURL
	if r := alice.Post(phonenumber.PathVerify, map[string]any{"phoneNumber": alicePhone, "code": code, "updatePhoneNumber": true}); r.StatusCode != 200 {
		t.Fatalf("same-site with the unspent code: %d %s", r.StatusCode, r.Body)
	}
}
