package username_test

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/plugins/username"
	"github.com/gatehouse-auth/gatehouse/storage"
	"github.com/gatehouse-auth/gatehouse/storage/memory"
)

const (
	pw            = "correct horse battery"
	sessionCookie = "better-auth.session_token"
	dontRemember  = "better-auth.dont_remember"
)

func newH(t *testing.T, p *username.Plugin, opts ...authcoretest.Option) *authcoretest.Harness {
	t.Helper()
	if p == nil {
		p = &username.Plugin{}
	}
	return authcoretest.New(t, append([]authcoretest.Option{authcoretest.WithPlugins(p)}, opts...)...)
}

// wantErr asserts an error envelope: status, code and (unless "") message.
func wantErr(t *testing.T, r *authcoretest.Response, status int, code, message string) {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("status %d, want %d; body %s", r.StatusCode, status, r.Body)
	}
	if r.Code() != code {
		t.Fatalf("code %q, want %q; body %s", r.Code(), code, r.Body)
	}
	if message != "" && r.Object()["message"] != message {
		t.Fatalf("message %q, want %q", r.Object()["message"], message)
	}
}

// wantCode asserts status and code with the exact message of a plugin code.
func wantCode(t *testing.T, r *authcoretest.Response, status int, code authcore.ErrorCode) {
	t.Helper()
	wantErr(t, r, status, code.Code, code.Message)
}

func noSession(t *testing.T, r *authcoretest.Response) {
	t.Helper()
	if line, ok := r.SetCookie(sessionCookie); ok && !strings.Contains(line, "Max-Age=0") {
		t.Fatalf("a session cookie was set: %q", line)
	}
}

func signUp(t *testing.T, h *authcoretest.Harness, body map[string]any) (*authcoretest.Client, *authcoretest.Response) {
	t.Helper()
	c := h.Client()
	full := map[string]any{"name": "Someone", "password": pw}
	for k, v := range body {
		full[k] = v
	}
	return c, c.Post("/sign-up/email", full)
}

func mustSignUp(t *testing.T, h *authcoretest.Harness, body map[string]any) (*authcoretest.Client, map[string]any) {
	t.Helper()
	c, r := signUp(t, h, body)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("sign-up %v: %d %s", body, r.StatusCode, r.Body)
	}
	return c, r.Object()["user"].(map[string]any)
}

func userByEmail(t *testing.T, h *authcoretest.Harness, email string) storage.Record {
	t.Helper()
	rec, err := h.Engine.Store().FindOne(context.Background(), authcore.ModelUser, storage.Eq("email", email))
	if err != nil {
		t.Fatalf("user %s: %v", email, err)
	}
	return rec
}

func count(t *testing.T, h *authcoretest.Harness, model string, where storage.Where) int {
	t.Helper()
	n, err := h.Engine.Store().Count(context.Background(), model, where)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func signIn(c *authcoretest.Client, name, password string) *authcoretest.Response {
	return c.Post("/sign-in/username", map[string]any{"username": name, "password": password})
}

func available(t *testing.T, h *authcoretest.Harness, name string) bool {
	t.Helper()
	r := h.Client().Post("/is-username-available", map[string]any{"username": name})
	if r.StatusCode != http.StatusOK {
		t.Fatalf("is-username-available %q: %d %s", name, r.StatusCode, r.Body)
	}
	v, ok := r.Object()["available"].(bool)
	if !ok || len(r.Object()) != 1 {
		t.Fatalf("body %s, want {\"available\": bool}", r.Body)
	}
	return v
}

// Sign-up stores the username lower-cased and keeps the typed form as displayUsername;
// sign-in by username is case-insensitive and answers like /sign-in/email.
func TestSignUpAndSignIn(t *testing.T) {
	h := newH(t, nil)
	_, u := mustSignUp(t, h, map[string]any{"email": "alice@example.com", "username": "Alice_01"})
	if u["username"] != "alice_01" || u["displayUsername"] != "Alice_01" {
		t.Fatalf("sign-up user %v", u)
	}
	rec := userByEmail(t, h, "alice@example.com")
	if rec.String("username") != "alice_01" || rec.String("displayUsername") != "Alice_01" {
		t.Fatalf("stored %v", rec)
	}
	for _, typed := range []string{"alice_01", "ALICE_01", "aLiCe_01"} {
		c := h.Client()
		before := h.Hasher.Work()
		r := signIn(c, typed, pw)
		if r.StatusCode != http.StatusOK {
			t.Fatalf("sign-in %q: %d %s", typed, r.StatusCode, r.Body)
		}
		if h.Hasher.Work()-before != 1 {
			t.Fatalf("sign-in did %d hash computations, want 1", h.Hasher.Work()-before)
		}
		body := r.Object()
		if got := keys(body); !slices.Equal(got, []string{"redirect", "token", "user"}) {
			t.Fatalf("keys %v, want [redirect token user]", got)
		}
		token, _ := body["token"].(string)
		if body["redirect"] != false || len(token) != 32 {
			t.Fatalf("body %s", r.Body)
		}
		user := body["user"].(map[string]any)
		if user["id"] != u["id"] || user["username"] != "alice_01" || user["displayUsername"] != "Alice_01" {
			t.Fatalf("user %v", user)
		}
		if r.Header.Get("Location") != "" {
			t.Fatalf("Location without callbackURL: %q", r.Header.Get("Location"))
		}
		line, ok := r.SetCookie(sessionCookie)
		if !ok || !strings.Contains(line, "Max-Age=604800") {
			t.Fatalf("session cookie %q", line)
		}
		g := c.Get("/get-session")
		if g.StatusCode != http.StatusOK || g.Object()["session"].(map[string]any)["token"] != token {
			t.Fatalf("get-session: %d %s", g.StatusCode, g.Body)
		}
	}
	// The email still works, and both methods reach the same account.
	r := h.Client().Post("/sign-in/email", map[string]any{"email": "alice@example.com", "password": pw})
	if r.StatusCode != http.StatusOK || r.Object()["user"].(map[string]any)["username"] != "alice_01" {
		t.Fatalf("email sign-in: %d %s", r.StatusCode, r.Body)
	}
}

func TestSignInCallbackURL(t *testing.T) {
	h := newH(t, nil)
	mustSignUp(t, h, map[string]any{"email": "alice@example.com", "username": "alice"})
	r := h.Client().Post("/sign-in/username", map[string]any{"username": "alice", "password": pw, "callbackURL": "/dashboard?x=1"})
	if r.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", r.StatusCode, r.Body)
	}
	body := r.Object()
	if got := keys(body); !slices.Equal(got, []string{"redirect", "token", "url", "user"}) {
		t.Fatalf("keys %v", got)
	}
	if body["redirect"] != true || body["url"] != "/dashboard?x=1" || r.Header.Get("Location") != authcoretest.BaseURL+"/dashboard?x=1" {
		t.Fatalf("body %s, Location %q", r.Body, r.Header.Get("Location"))
	}
	// An untrusted callback is refused before any password work.
	before := h.Hasher.Work()
	r = h.Client().Post("/sign-in/username", map[string]any{"username": "alice", "password": pw, "callbackURL": "https://evil.example/x"})
	wantErr(t, r, http.StatusForbidden, "INVALID_CALLBACK_URL", "")
	noSession(t, r)
	if h.Hasher.Work() != before {
		t.Fatal("hashing before the callback check")
	}
}

// rememberMe:false makes a browser-session cookie, a dont_remember cookie and a short stored
// session.
func TestSignInRememberMeFalse(t *testing.T) {
	h := newH(t, nil)
	_, u := mustSignUp(t, h, map[string]any{"email": "alice@example.com", "username": "alice"})
	c := h.Client()
	r := c.Post("/sign-in/username", map[string]any{"username": "alice", "password": pw, "rememberMe": false})
	if r.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", r.StatusCode, r.Body)
	}
	line, ok := r.SetCookie(sessionCookie)
	if !ok || strings.Contains(line, "Max-Age") {
		t.Fatalf("session cookie %q, want a browser-session cookie", line)
	}
	if _, ok := r.SetCookie(dontRemember); !ok {
		t.Fatal("no dont_remember cookie")
	}
	tok := r.Object()["token"].(string)
	s, err := h.Engine.SessionByToken(context.Background(), tok)
	if err != nil || s == nil || s.UserID() != u["id"] {
		t.Fatalf("session %v %v", s, err)
	}
	if exp := s.Session.Time("expiresAt"); !exp.Equal(h.Clock.Now().Add(24 * time.Hour)) {
		t.Fatalf("expiresAt %v, want now+1d", exp)
	}
	// rememberMe must be a boolean.
	r = h.Client().Post("/sign-in/username", map[string]any{"username": "alice", "password": pw, "rememberMe": "false"})
	wantErr(t, r, http.StatusBadRequest, "VALIDATION_ERROR", "")
}

// An unknown username, a wrong password and a user without a password answer identically —
// status, code, message, body, no cookie — after the same hashing work (anti-enumeration).
func TestSignInFailuresIdentical(t *testing.T) {
	h := newH(t, nil)
	mustSignUp(t, h, map[string]any{"email": "alice@example.com", "username": "alice"})
	// bob has a username but no credential account.
	id, _ := h.Engine.NewID()
	now := h.Clock.Now()
	if _, err := h.Engine.CreateUser(context.Background(), storage.Record{"id": id, "name": "Bob", "email": "bob@example.com", "username": "bob", "createdAt": now, "updatedAt": now}, ""); err != nil {
		t.Fatal(err)
	}
	var bodies [][]byte
	var works []int
	for _, tc := range []struct{ name, pw string }{
		{"alice", "wrong password here"},
		{"nobody", "wrong password here"},
		{"bob", "wrong password here"},
		{"ALICE", "Correct horse battery"},
	} {
		before := h.Hasher.Work()
		r := signIn(h.Client(), tc.name, tc.pw)
		wantCode(t, r, http.StatusUnauthorized, username.CodeInvalidUsernameOrPassword)
		noSession(t, r)
		if len(r.Header.Values("Set-Cookie")) != 0 {
			t.Fatalf("%s: cookies %v", tc.name, r.Header.Values("Set-Cookie"))
		}
		bodies = append(bodies, r.Body)
		works = append(works, h.Hasher.Work()-before)
	}
	for i := range bodies {
		if !bytes.Equal(bodies[i], bodies[0]) || works[i] != 1 {
			t.Fatalf("answers differ: bodies %q, hash work %v", bodies, works)
		}
	}
	// Empty username or password: the same 401, no hashing needed.
	for _, b := range []map[string]any{{"username": "", "password": pw}, {"username": "alice", "password": ""}} {
		r := h.Client().Post("/sign-in/username", b)
		wantCode(t, r, http.StatusUnauthorized, username.CodeInvalidUsernameOrPassword)
		if !bytes.Equal(r.Body, bodies[0]) {
			t.Fatalf("empty field body %s", r.Body)
		}
	}
}

// BF-01: failures are counted per account whatever identifier was typed; once locked, the
// right password fails by username and by email alike, until the window passes.
func TestSignInFailuresCountPerAccount(t *testing.T) {
	h := newH(t, nil, authcoretest.WithConfig(func(c *authcore.Config) {
		c.RateLimit.AccountFailures, c.RateLimit.AccountWindow = 3, 15*time.Minute
	}))
	mustSignUp(t, h, map[string]any{"email": "alice@example.com", "username": "alice"})
	signIn(h.Client(), "alice", "wrong password 1")
	h.Client().Post("/sign-in/email", map[string]any{"email": "ALICE@example.com", "password": "wrong password 2"})
	signIn(h.Client(), "ALICE", "wrong password 3")
	wantCode(t, signIn(h.Client(), "alice", pw), http.StatusUnauthorized, username.CodeInvalidUsernameOrPassword)
	r := h.Client().Post("/sign-in/email", map[string]any{"email": "alice@example.com", "password": pw})
	wantErr(t, r, http.StatusUnauthorized, "INVALID_EMAIL_OR_PASSWORD", "")
	h.Clock.Advance(16 * time.Minute)
	if r := signIn(h.Client(), "alice", pw); r.StatusCode != http.StatusOK {
		t.Fatalf("after the window: %d %s", r.StatusCode, r.Body)
	}
}

func TestSignInEmailNotVerified(t *testing.T) {
	h := newH(t, nil, authcoretest.WithConfig(func(c *authcore.Config) { c.EmailAndPassword.RequireEmailVerification = true }))
	_, r := signUp(t, h, map[string]any{"email": "alice@example.com", "username": "alice"})
	if r.StatusCode != http.StatusOK {
		t.Fatalf("sign-up: %d %s", r.StatusCode, r.Body)
	}
	// The wrong password is still the generic 401: verification is only told after it.
	wantCode(t, signIn(h.Client(), "alice", "wrong password here"), http.StatusUnauthorized, username.CodeInvalidUsernameOrPassword)
	r = signIn(h.Client(), "alice", pw)
	wantCode(t, r, http.StatusForbidden, username.CodeEmailNotVerified)
	noSession(t, r)
	if n := count(t, h, authcore.ModelSession, storage.Where{}); n != 0 {
		t.Fatalf("%d sessions", n)
	}
	u := userByEmail(t, h, "alice@example.com")
	if _, err := h.Engine.UpdateUser(context.Background(), u.ID(), storage.Record{"emailVerified": true}); err != nil {
		t.Fatal(err)
	}
	if r := signIn(h.Client(), "alice", pw); r.StatusCode != http.StatusOK {
		t.Fatalf("verified: %d %s", r.StatusCode, r.Body)
	}
}

func TestSignInEmailPasswordDisabled(t *testing.T) {
	// A password sign-in by another name: off when email and password is off.
	h := newH(t, nil, authcoretest.WithConfig(func(c *authcore.Config) { c.EmailAndPassword.Disabled = true }))
	before := h.Hasher.Work()
	wantErr(t, signIn(h.Client(), "alice", pw), http.StatusBadRequest, "EMAIL_PASSWORD_DISABLED", "")
	if h.Hasher.Work() != before {
		t.Fatal("hashing with password sign-in disabled")
	}
}

// gatePlugin is a stand-in for two-factor: its session gate sees the method and interrupts.
type gatePlugin struct {
	mu      sync.Mutex
	methods []string
}

func (*gatePlugin) ID() string { return "test-gate" }
func (g *gatePlugin) Register(r *authcore.Registrar) error {
	r.SessionGate(func(c *authcore.Call, user storage.Record, opt authcore.SignInOptions) error {
		method := opt.Method
		g.mu.Lock()
		g.methods = append(g.methods, method)
		g.mu.Unlock()
		if method == "username" {
			return &authcore.Interrupt{Response: map[string]any{"twoFactorRedirect": true}}
		}
		return nil
	})
	return nil
}

// The session is created through Call.SignIn with method "username": session gates apply.
func TestSignInSessionGate(t *testing.T) {
	g := &gatePlugin{}
	h := newH(t, nil, authcoretest.WithPlugins(g))
	mustSignUp(t, h, map[string]any{"email": "alice@example.com", "username": "alice"})
	sessions := count(t, h, authcore.ModelSession, storage.Where{})
	r := signIn(h.Client(), "alice", pw)
	if r.StatusCode != http.StatusOK || string(r.Body) != `{"twoFactorRedirect":true}` {
		t.Fatalf("gated sign-in: %d %s", r.StatusCode, r.Body)
	}
	noSession(t, r)
	if n := count(t, h, authcore.ModelSession, storage.Where{}); n != sessions {
		t.Fatalf("a session was created behind the gate")
	}
	if !slices.Equal(g.methods, []string{"email", "username"}) {
		t.Fatalf("gate saw methods %v", g.methods)
	}
}

func TestIsUsernameAvailable(t *testing.T) {
	h := newH(t, nil)
	if !available(t, h, "alice") || !available(t, h, "ALICE") {
		t.Fatal("free username reported taken")
	}
	mustSignUp(t, h, map[string]any{"email": "alice@example.com", "username": "Alice"})
	for _, n := range []string{"alice", "ALICE", "Alice"} {
		if available(t, h, n) {
			t.Fatalf("%q reported available after sign-up", n)
		}
	}
	if !available(t, h, "alice2") {
		t.Fatal("alice2 reported taken")
	}
	for _, tc := range []struct {
		name string
		code authcore.ErrorCode
	}{
		{"", username.CodeInvalidUsername},
		{"ab", username.CodeUsernameTooShort},
		{strings.Repeat("a", 31), username.CodeUsernameTooLong},
		{strings.Repeat("a", 300), username.CodeUsernameTooLong},
		{"bad name", username.CodeInvalidUsername},
		{"аlice", username.CodeInvalidUsername}, // Cyrillic а
	} {
		r := h.Client().Post("/is-username-available", map[string]any{"username": tc.name})
		wantCode(t, r, http.StatusUnprocessableEntity, tc.code)
	}
	for _, body := range []any{map[string]any{}, map[string]any{"username": 12345}, map[string]any{"username": nil}, map[string]any{"username": []any{"alice"}}} {
		r := h.Client().Post("/is-username-available", body)
		wantErr(t, r, http.StatusBadRequest, "VALIDATION_ERROR", "")
	}
}

// Every validation error of the sign-up hook, with its status, code and message; none
// creates a user.
func TestSignUpValidation(t *testing.T) {
	h := newH(t, &username.Plugin{DisplayUsernamePattern: `^[^<>]{1,20}$`})
	mustSignUp(t, h, map[string]any{"email": "taken@example.com", "username": "taken"})
	cases := []struct {
		name string
		body map[string]any
		code authcore.ErrorCode
	}{
		{"empty", map[string]any{"username": ""}, username.CodeUsernameTooShort},
		{"short", map[string]any{"username": "ab"}, username.CodeUsernameTooShort},
		{"long", map[string]any{"username": strings.Repeat("a", 31)}, username.CodeUsernameTooLong},
		{"300 chars", map[string]any{"username": strings.Repeat("x", 300)}, username.CodeUsernameTooLong},
		{"space", map[string]any{"username": "al ice"}, username.CodeInvalidUsername},
		{"symbol", map[string]any{"username": "alice!"}, username.CodeInvalidUsername},
		{"cyrillic lookalike", map[string]any{"username": "аlice"}, username.CodeInvalidUsername},
		{"fullwidth", map[string]any{"username": "ａｌｉｃｅ"}, username.CodeInvalidUsername},
		{"zero-width space", map[string]any{"username": "ali\u200bce"}, username.CodeInvalidUsername},
		{"rtl override", map[string]any{"username": "ali\u202ece"}, username.CodeInvalidUsername},
		{"dotted capital I", map[string]any{"username": "İnci"}, username.CodeInvalidUsername},
		{"taken", map[string]any{"username": "taken"}, username.CodeUsernameIsAlreadyTaken},
		{"taken other case", map[string]any{"username": "TaKeN"}, username.CodeUsernameIsAlreadyTaken},
		{"display invalid", map[string]any{"username": "fresh", "displayUsername": "<script>"}, username.CodeInvalidDisplayUsername},
		{"display empty", map[string]any{"username": "fresh", "displayUsername": ""}, username.CodeInvalidDisplayUsername},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.body["email"] = "new" + string(rune('a'+i)) + "@example.com"
			before := h.Hasher.Work()
			_, r := signUp(t, h, tc.body)
			wantCode(t, r, http.StatusBadRequest, tc.code)
			noSession(t, r)
			// Refused by the hook, before the core hashes the password.
			if h.Hasher.Work() != before {
				t.Fatal("the password was hashed for a refused username")
			}
		})
	}
	// Taken username and taken email: the username answer, as in Better Auth (its hook runs
	// first), whatever the sign-up mode.
	_, r := signUp(t, h, map[string]any{"email": "taken@example.com", "username": "taken"})
	wantCode(t, r, http.StatusBadRequest, username.CodeUsernameIsAlreadyTaken)
	// Wrong JSON types never reach the hook: the core refuses them.
	for i, v := range []any{12345, true, map[string]any{"a": 1}, []any{"alice"}} {
		_, r := signUp(t, h, map[string]any{"email": "type" + string(rune('a'+i)) + "@example.com", "username": v})
		wantErr(t, r, http.StatusBadRequest, "VALIDATION_ERROR", "")
		_, r = signUp(t, h, map[string]any{"email": "dtype" + string(rune('a'+i)) + "@example.com", "username": "fine_name", "displayUsername": v})
		wantErr(t, r, http.StatusBadRequest, "VALIDATION_ERROR", "")
	}
	_, r = signUp(t, h, map[string]any{"email": "huge@example.com", "username": strings.Repeat("a", 10000)})
	wantErr(t, r, http.StatusBadRequest, "VALIDATION_ERROR", "")
	if n := count(t, h, authcore.ModelUser, storage.Where{}); n != 1 {
		t.Fatalf("%d users, want 1", n)
	}
	// Sign-up without any username still works (the fields are optional).
	_, u := mustSignUp(t, h, map[string]any{"email": "plain@example.com"})
	if _, has := u["username"]; has {
		t.Fatalf("user without username: %v", u)
	}
	_, u = mustSignUp(t, h, map[string]any{"email": "nulls@example.com", "username": nil, "displayUsername": nil})
	if u["username"] != nil || u["displayUsername"] != nil {
		t.Fatalf("nulls: %v", u)
	}
}

func TestSignInValidation(t *testing.T) {
	h := newH(t, nil)
	mustSignUp(t, h, map[string]any{"email": "alice@example.com", "username": "alice"})
	for _, tc := range []struct {
		name string
		code authcore.ErrorCode
	}{
		{"ab", username.CodeUsernameTooShort},
		{strings.Repeat("a", 31), username.CodeUsernameTooLong},
		{strings.Repeat("a", 300), username.CodeUsernameTooLong},
		{"alice!", username.CodeInvalidUsername},
		{"аlice", username.CodeInvalidUsername},
		{"alice\u0301", username.CodeInvalidUsername},
	} {
		before := h.Hasher.Work()
		r := signIn(h.Client(), tc.name, pw)
		wantCode(t, r, http.StatusUnprocessableEntity, tc.code)
		if h.Hasher.Work() != before {
			t.Fatalf("%q: hashing for a malformed username", tc.name)
		}
	}
	for _, b := range []map[string]any{
		{"password": pw},
		{"username": "alice"},
		{"username": 12345, "password": pw},
		{"username": "alice", "password": 12345},
		{"username": []any{"alice"}, "password": pw},
		{"username": map[string]any{"$ne": ""}, "password": pw},
		{"username": nil, "password": pw},
		{"username": "alice", "password": pw, "rememberMe": "yes"},
	} {
		r := h.Client().Post("/sign-in/username", b)
		wantErr(t, r, http.StatusBadRequest, "VALIDATION_ERROR", "")
	}
	// Over-long passwords are refused before any hashing (PWD-04).
	before := h.Hasher.Work()
	r := signIn(h.Client(), "alice", strings.Repeat("p", 129))
	wantErr(t, r, http.StatusBadRequest, "PASSWORD_TOO_LONG", "")
	if h.Hasher.Work() != before {
		t.Fatal("hashed an over-long password")
	}
	// Raw hostile bodies: invalid UTF-8, NUL, not an object.
	for _, raw := range []string{"{\"username\":\"al\xffice\",\"password\":\"x\"}", `{"username":"ali\u0000ce","password":"x"}`, `["alice"]`, `{"username":`} {
		r := h.Client().Post("/sign-in/username", raw)
		if r.StatusCode < 400 || r.StatusCode >= 500 {
			t.Fatalf("%q: %d %s", raw, r.StatusCode, r.Body)
		}
	}
}

// Better Auth's display-username rules: without a username, a displayUsername that is a
// valid username becomes the username; with a username and no displayUsername, the typed
// username is the display username.
func TestDisplayUsername(t *testing.T) {
	h := newH(t, nil)
	_, u := mustSignUp(t, h, map[string]any{"email": "bob@example.com", "displayUsername": "Bob.Smith"})
	if u["username"] != "bob.smith" || u["displayUsername"] != "Bob.Smith" {
		t.Fatalf("display-only valid: %v", u)
	}
	_, u = mustSignUp(t, h, map[string]any{"email": "carol@example.com", "displayUsername": "Carol Smith"})
	if _, has := u["username"]; has || u["displayUsername"] != "Carol Smith" {
		t.Fatalf("display-only invalid as username: %v", u)
	}
	_, u = mustSignUp(t, h, map[string]any{"email": "dave@example.com", "username": "DAVE", "displayUsername": "Dave the Brave"})
	if u["username"] != "dave" || u["displayUsername"] != "Dave the Brave" {
		t.Fatalf("both: %v", u)
	}
	_, u = mustSignUp(t, h, map[string]any{"email": "erin@example.com", "username": "Erin", "displayUsername": ""})
	if u["username"] != "erin" || u["displayUsername"] != "Erin" {
		t.Fatalf("empty display: %v", u)
	}
	// A display username that is a taken username does not steal it: taken is refused.
	_, r := signUp(t, h, map[string]any{"email": "eve@example.com", "displayUsername": "BOB.SMITH"})
	wantCode(t, r, http.StatusBadRequest, username.CodeUsernameIsAlreadyTaken)
	if r := signIn(h.Client(), "Bob.Smith", pw); r.StatusCode != http.StatusOK {
		t.Fatalf("sign-in with the derived username: %d %s", r.StatusCode, r.Body)
	}
}

func TestUpdateUser(t *testing.T) {
	h := newH(t, nil)
	alice, _ := mustSignUp(t, h, map[string]any{"email": "alice@example.com"})
	mustSignUp(t, h, map[string]any{"email": "bob@example.com", "username": "bob"})

	r := alice.Post("/update-user", map[string]any{"username": "Alice"})
	if r.StatusCode != http.StatusOK || string(r.Body) != `{"status":true}` {
		t.Fatalf("set username: %d %s", r.StatusCode, r.Body)
	}
	rec := userByEmail(t, h, "alice@example.com")
	if rec.String("username") != "alice" || rec.Has("displayUsername") {
		t.Fatalf("stored %v (an update does not derive displayUsername)", rec)
	}
	if available(t, h, "alice") {
		t.Fatal("alice available after update")
	}
	// The user's own username in another case is not "taken".
	if r := alice.Post("/update-user", map[string]any{"username": "ALICE", "displayUsername": "Alice A."}); r.StatusCode != http.StatusOK {
		t.Fatalf("own username: %d %s", r.StatusCode, r.Body)
	}
	rec = userByEmail(t, h, "alice@example.com")
	if rec.String("username") != "alice" || rec.String("displayUsername") != "Alice A." {
		t.Fatalf("stored %v", rec)
	}
	wantCode(t, alice.Post("/update-user", map[string]any{"username": "BOB"}), http.StatusBadRequest, username.CodeUsernameIsAlreadyTaken)
	wantCode(t, alice.Post("/update-user", map[string]any{"username": "a"}), http.StatusBadRequest, username.CodeUsernameTooShort)
	wantCode(t, alice.Post("/update-user", map[string]any{"username": strings.Repeat("a", 300)}), http.StatusBadRequest, username.CodeUsernameTooLong)
	wantCode(t, alice.Post("/update-user", map[string]any{"username": "al ice"}), http.StatusBadRequest, username.CodeInvalidUsername)
	wantErr(t, alice.Post("/update-user", map[string]any{"username": 42}), http.StatusBadRequest, "VALIDATION_ERROR", "")
	if got := userByEmail(t, h, "alice@example.com").String("username"); got != "alice" {
		t.Fatalf("a refused update changed the username to %q", got)
	}
	// Rename: the old name is free again, sign-in works with the new one only.
	if r := alice.Post("/update-user", map[string]any{"username": "alice2"}); r.StatusCode != http.StatusOK {
		t.Fatalf("rename: %d %s", r.StatusCode, r.Body)
	}
	if !available(t, h, "alice") || available(t, h, "alice2") {
		t.Fatal("availability after rename")
	}
	wantCode(t, signIn(h.Client(), "alice", pw), http.StatusUnauthorized, username.CodeInvalidUsernameOrPassword)
	if r := signIn(h.Client(), "Alice2", pw); r.StatusCode != http.StatusOK {
		t.Fatalf("sign-in after rename: %d %s", r.StatusCode, r.Body)
	}
	// Without a session: 401 from the endpoint, and no "taken" oracle.
	wantErr(t, h.Client().Post("/update-user", map[string]any{"username": "bob"}), http.StatusUnauthorized, "UNAUTHORIZED", "")
	// null removes the username.
	if r := alice.Post("/update-user", map[string]any{"username": nil}); r.StatusCode != http.StatusOK {
		t.Fatalf("null: %d %s", r.StatusCode, r.Body)
	}
	if rec := userByEmail(t, h, "alice@example.com"); rec.Has("username") {
		t.Fatalf("username still set: %v", rec)
	}
}

func TestImmutableUsername(t *testing.T) {
	h := newH(t, &username.Plugin{ImmutableUsername: true})
	alice, _ := mustSignUp(t, h, map[string]any{"email": "alice@example.com", "username": "alice"})
	bob, _ := mustSignUp(t, h, map[string]any{"email": "bob@example.com"})
	wantCode(t, alice.Post("/update-user", map[string]any{"username": "alice2"}), http.StatusBadRequest, username.CodeUsernameIsImmutable)
	wantCode(t, alice.Post("/update-user", map[string]any{"username": nil}), http.StatusBadRequest, username.CodeUsernameIsImmutable)
	// The same username (any case) and other fields are fine.
	if r := alice.Post("/update-user", map[string]any{"username": "ALICE", "name": "Alice"}); r.StatusCode != http.StatusOK {
		t.Fatalf("same username: %d %s", r.StatusCode, r.Body)
	}
	if r := alice.Post("/update-user", map[string]any{"displayUsername": "Alice!"}); r.StatusCode != http.StatusOK {
		t.Fatalf("display username: %d %s", r.StatusCode, r.Body)
	}
	// A user without a username may set one, once.
	if r := bob.Post("/update-user", map[string]any{"username": "bob"}); r.StatusCode != http.StatusOK {
		t.Fatalf("first username: %d %s", r.StatusCode, r.Body)
	}
	wantCode(t, bob.Post("/update-user", map[string]any{"username": "robert"}), http.StatusBadRequest, username.CodeUsernameIsImmutable)
	if got := userByEmail(t, h, "bob@example.com").String("username"); got != "bob" {
		t.Fatalf("bob's username %q", got)
	}
}

// Twenty sign-ups race for one username: exactly one wins; every other answer is 400
// USERNAME_IS_ALREADY_TAKEN (caught by the hook or by the store's unique constraint) —
// never a 500, never a second account with that username.
func TestConcurrentSignUps(t *testing.T) {
	for _, store := range []string{"memory", "bolt"} {
		t.Run(store, func(t *testing.T) {
			var opts []authcoretest.Option
			if store == "bolt" {
				opts = append(opts, authcoretest.WithBolt())
			}
			h := newH(t, nil, opts...)
			const n = 20
			statuses := make([]*authcoretest.Response, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					c := h.Client()
					statuses[i] = c.Post("/sign-up/email", map[string]any{"name": "R", "email": "racer" + string(rune('a'+i)) + "@example.com", "password": pw, "username": "Racer"})
				}()
			}
			close(start)
			wg.Wait()
			wins := 0
			for _, r := range statuses {
				switch r.StatusCode {
				case http.StatusOK:
					wins++
				default:
					wantCode(t, r, http.StatusBadRequest, username.CodeUsernameIsAlreadyTaken)
				}
			}
			if wins != 1 {
				t.Fatalf("%d sign-ups won", wins)
			}
			if c := count(t, h, authcore.ModelUser, storage.Eq("username", "racer")); c != 1 {
				t.Fatalf("%d users named racer", c)
			}
		})
	}
}

// racePlugin makes the race deterministic: its before hook runs after the username plugin's
// availability check and creates a user with the same username, so the core's write is the
// one that hits the store's unique constraint.
type racePlugin struct{ name string }

func (*racePlugin) ID() string          { return "zz-race" }
func (*racePlugin) DependsOn() []string { return []string{"username"} }
func (p *racePlugin) Register(r *authcore.Registrar) error {
	e := r.Engine()
	r.Before(authcore.MatchPath(authcore.PathSignUpEmail, authcore.PathUpdateUser), func(c *authcore.Call) (any, error) {
		if c.Body.String("username") != p.name {
			return nil, nil
		}
		id, _ := e.NewID()
		now := e.Clock().Now()
		_, err := e.CreateUser(c.Context(), storage.Record{"id": id, "name": "Winner", "email": id + "@example.com", "username": p.name, "createdAt": now, "updatedAt": now}, "")
		return nil, err
	})
	return nil
}

func TestRaceLostAtTheStore(t *testing.T) {
	modes := map[string]func(*authcore.Config){
		"auto sign-in":               func(*authcore.Config) {},
		"require email verification": func(c *authcore.Config) { c.EmailAndPassword.RequireEmailVerification = true },
		"auto sign-in off":           func(c *authcore.Config) { c.EmailAndPassword.DisableAutoSignIn = true },
	}
	for name, edit := range modes {
		t.Run(name, func(t *testing.T) {
			h := newH(t, nil, authcoretest.WithConfig(edit), authcoretest.WithPlugins(&racePlugin{name: "racer"}))
			_, r := signUp(t, h, map[string]any{"email": "loser@example.com", "username": "Racer"})
			wantCode(t, r, http.StatusBadRequest, username.CodeUsernameIsAlreadyTaken)
			noSession(t, r)
			if count(t, h, authcore.ModelUser, storage.Eq("email", "loser@example.com")) != 0 {
				t.Fatal("the loser's account was created")
			}
			// Not mistaken for a taken email: no notice to the loser's address.
			done := make(chan struct{})
			h.Engine.Defer("drain", func(context.Context) error { close(done); return nil })
			<-done
			for _, m := range h.Sink.Messages() {
				if m.To == "loser@example.com" && m.Type == "account-exists" {
					t.Fatal("account-exists notice sent to an address without an account")
				}
			}
		})
	}
	t.Run("update-user", func(t *testing.T) {
		h := newH(t, nil, authcoretest.WithPlugins(&racePlugin{name: "racer"}))
		c, _ := mustSignUp(t, h, map[string]any{"email": "loser@example.com"})
		wantCode(t, c.Post("/update-user", map[string]any{"username": "racer"}), http.StatusBadRequest, username.CodeUsernameIsAlreadyTaken)
	})
}

func TestNormalizationOptions(t *testing.T) {
	t.Run("username none", func(t *testing.T) {
		h := newH(t, &username.Plugin{UsernameNormalization: username.NormalizeNone})
		_, u := mustSignUp(t, h, map[string]any{"email": "a@example.com", "username": "Alice"})
		if u["username"] != "Alice" || u["displayUsername"] != "Alice" {
			t.Fatalf("user %v", u)
		}
		if !available(t, h, "alice") || available(t, h, "Alice") {
			t.Fatal("availability is not case-sensitive")
		}
		mustSignUp(t, h, map[string]any{"email": "b@example.com", "username": "alice"})
		wantCode(t, signIn(h.Client(), "ALICE", pw), http.StatusUnauthorized, username.CodeInvalidUsernameOrPassword)
		if r := signIn(h.Client(), "Alice", pw); r.StatusCode != http.StatusOK || r.Object()["user"].(map[string]any)["username"] != "Alice" {
			t.Fatalf("exact case: %d %s", r.StatusCode, r.Body)
		}
	})
	t.Run("display lowercase", func(t *testing.T) {
		h := newH(t, &username.Plugin{DisplayUsernameNormalization: username.NormalizeLowercase})
		_, u := mustSignUp(t, h, map[string]any{"email": "a@example.com", "username": "Alice"})
		if u["username"] != "alice" || u["displayUsername"] != "alice" {
			t.Fatalf("derived display: %v", u)
		}
		c, u := mustSignUp(t, h, map[string]any{"email": "b@example.com", "username": "bob", "displayUsername": "Bobby B"})
		if u["displayUsername"] != "bobby b" {
			t.Fatalf("given display: %v", u)
		}
		if r := c.Post("/update-user", map[string]any{"displayUsername": "BOBBY"}); r.StatusCode != http.StatusOK {
			t.Fatalf("update: %d %s", r.StatusCode, r.Body)
		}
		if got := userByEmail(t, h, "b@example.com").String("displayUsername"); got != "bobby" {
			t.Fatalf("updated display %q", got)
		}
	})
}

func TestValidationOrder(t *testing.T) {
	pre := newH(t, &username.Plugin{UsernamePattern: `^[a-z]+$`})
	_, r := signUp(t, pre, map[string]any{"email": "a@example.com", "username": "ALICE"})
	wantCode(t, r, http.StatusBadRequest, username.CodeInvalidUsername)
	wantCode(t, pre.Client().Post("/is-username-available", map[string]any{"username": "ALICE"}), http.StatusUnprocessableEntity, username.CodeInvalidUsername)

	post := newH(t, &username.Plugin{UsernamePattern: `^[a-z]+$`, UsernameValidationOrder: username.PostNormalization})
	_, u := mustSignUp(t, post, map[string]any{"email": "a@example.com", "username": "ALICE"})
	if u["username"] != "alice" || u["displayUsername"] != "ALICE" {
		t.Fatalf("user %v", u)
	}
	if r := signIn(post.Client(), "ALICE", pw); r.StatusCode != http.StatusOK {
		t.Fatalf("sign-in: %d %s", r.StatusCode, r.Body)
	}
	if available(t, post, "Alice") {
		t.Fatal("Alice available")
	}

	display := func(order string) *authcoretest.Harness {
		return newH(t, &username.Plugin{DisplayUsernamePattern: `^[a-z ]+$`, DisplayUsernameNormalization: username.NormalizeLowercase, DisplayUsernameValidationOrder: order})
	}
	_, r = signUp(t, display(""), map[string]any{"email": "b@example.com", "username": "bob", "displayUsername": "Bob B"})
	wantCode(t, r, http.StatusBadRequest, username.CodeInvalidDisplayUsername)
	_, u = mustSignUp(t, display(username.PostNormalization), map[string]any{"email": "b@example.com", "username": "bob", "displayUsername": "Bob B"})
	if u["displayUsername"] != "bob b" {
		t.Fatalf("user %v", u)
	}
}

func TestCustomLengthsAndPattern(t *testing.T) {
	h := newH(t, &username.Plugin{MinUsernameLength: 5, MaxUsernameLength: 8, UsernamePattern: `^[a-z][a-z0-9-]*$`})
	for name, code := range map[string]authcore.ErrorCode{
		"abcd":      username.CodeUsernameTooShort,
		"abcdefghi": username.CodeUsernameTooLong,
		"1abcd":     username.CodeInvalidUsername,
		"ab_cd":     username.CodeInvalidUsername,
	} {
		_, r := signUp(t, h, map[string]any{"email": name + "@example.com", "username": name})
		wantCode(t, r, http.StatusBadRequest, code)
		wantCode(t, signIn(h.Client(), name, pw), http.StatusUnprocessableEntity, code)
	}
	for _, name := range []string{"abcde", "abc-defg"} {
		mustSignUp(t, h, map[string]any{"email": name + "@example.com", "username": name})
	}
	// Lengths count UTF-16 code units, as JavaScript does: an emoji counts 2.
	emoji := newH(t, &username.Plugin{MinUsernameLength: 3, MaxUsernameLength: 4, UsernamePattern: `^.+$`})
	mustSignUp(t, emoji, map[string]any{"email": "e1@example.com", "username": "ab😀"})
	_, r := signUp(t, emoji, map[string]any{"email": "e2@example.com", "username": "abc😀"})
	wantCode(t, r, http.StatusBadRequest, username.CodeUsernameTooLong)
}

func TestDisableDisplayUsername(t *testing.T) {
	h := newH(t, &username.Plugin{DisableDisplayUsername: true})
	m, _ := h.Engine.Schema().Model(authcore.ModelUser)
	if _, ok := m.Field("displayUsername"); ok {
		t.Fatal("displayUsername field exists")
	}
	_, u := mustSignUp(t, h, map[string]any{"email": "a@example.com", "username": "Alice", "displayUsername": "Alice A."})
	if u["username"] != "alice" {
		t.Fatalf("user %v", u)
	}
	if _, has := u["displayUsername"]; has {
		t.Fatalf("displayUsername stored: %v", u)
	}
}

func TestRegistration(t *testing.T) {
	h := newH(t, nil)
	codes := h.Engine.ErrorCodes()["username"]
	want := map[string]string{
		"INVALID_USERNAME_OR_PASSWORD": "Invalid username or password",
		"EMAIL_NOT_VERIFIED":           "Email not verified",
		"UNEXPECTED_ERROR":             "Unexpected error",
		"USERNAME_IS_ALREADY_TAKEN":    "Username is already taken. Please try another.",
		"USERNAME_TOO_SHORT":           "Username is too short",
		"USERNAME_TOO_LONG":            "Username is too long",
		"INVALID_USERNAME":             "Username is invalid",
		"INVALID_DISPLAY_USERNAME":     "Display username is invalid",
		"USERNAME_IS_IMMUTABLE":        "Username cannot be updated",
	}
	got := map[string]string{}
	for _, c := range codes {
		got[c.Code] = c.Message
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("code %s: message %q, want %q", k, got[k], v)
		}
	}
	routes := map[string]bool{}
	for _, ep := range h.Engine.Endpoints() {
		if ep.Owner() == "username" {
			routes[ep.Method+" "+ep.Path] = true
		}
	}
	if len(routes) != 2 || !routes["POST /sign-in/username"] || !routes["POST /is-username-available"] {
		t.Fatalf("routes %v", routes)
	}
	m, _ := h.Engine.Schema().Model(authcore.ModelUser)
	if f, ok := m.Field("username"); !ok || !f.Unique || f.ServerOnly || f.Hidden {
		t.Fatalf("username field %+v", f)
	}
	if api, ok := h.Engine.Plugin("username"); !ok || api.(*username.Plugin).NormalizeUsername("AbC") != "abc" {
		t.Fatal("published API")
	}
}

func TestOptionErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		p     *username.Plugin
		field string
	}{
		"min over max":         {&username.Plugin{MinUsernameLength: 10, MaxUsernameLength: 5}, "min_username_length"},
		"negative":             {&username.Plugin{MinUsernameLength: -1}, "min_username_length"},
		"min over default max": {&username.Plugin{MinUsernameLength: 31}, "max_username_length 30"},
		"bad pattern":          {&username.Plugin{UsernamePattern: `^[a-z`}, "username_pattern"},
		"bad display pattern":  {&username.Plugin{DisplayUsernamePattern: `(`}, "display_username_pattern"},
		"display pattern off":  {&username.Plugin{DisplayUsernamePattern: `.*`, DisableDisplayUsername: true}, "disable_display_username"},
		"bad normalization":    {&username.Plugin{UsernameNormalization: "upper"}, "username_normalization"},
		"bad display norm":     {&username.Plugin{DisplayUsernameNormalization: "nfkc"}, "display_username_normalization"},
		"bad order":            {&username.Plugin{UsernameValidationOrder: "sometimes"}, "username_validation_order"},
		"bad display order":    {&username.Plugin{DisplayUsernameValidationOrder: "later"}, "display_username_validation_order"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := authcore.New(authcore.Config{BaseURL: authcoretest.BaseURL, Secret: authcoretest.Secret, SweepInterval: -1},
				authcore.WithStore(memory.NewStore()), authcore.WithPlugins(tc.p))
			if err == nil || !strings.Contains(err.Error(), `plugin "username"`) || !strings.Contains(err.Error(), tc.field) {
				t.Fatalf("err = %v, want it to name %s", err, tc.field)
			}
		})
	}
}

// The built-in /sign-in/* rule (3 per 10 s) covers /sign-in/username.
func TestSignInRateLimited(t *testing.T) {
	h := newH(t, nil, authcoretest.WithConfig(func(c *authcore.Config) { c.RateLimit.Disabled = false }))
	c := h.Client()
	for i := range 3 {
		if r := signIn(c, "nobody", "wrong password"); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d %s", i, r.StatusCode, r.Body)
		}
	}
	if r := signIn(c, "nobody", "wrong password"); r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("4th attempt: %d %s", r.StatusCode, r.Body)
	}
}

func TestCaddyfile(t *testing.T) {
	input := `username {
		min_username_length 4  max_username_length 20
		username_pattern "^[a-z0-9_]+$"
		display_username_pattern "^[^<>]+$"
		username_normalization none
		display_username_normalization lowercase
		username_validation_order post-normalization
		display_username_validation_order post-normalization
		immutable_username
		disable_display_username
	}`
	var p username.Plugin
	if err := p.UnmarshalCaddyfile(caddyfile.NewTestDispenser(input)); err != nil {
		t.Fatal(err)
	}
	want := username.Plugin{
		MinUsernameLength: 4, MaxUsernameLength: 20,
		UsernamePattern: "^[a-z0-9_]+$", DisplayUsernamePattern: "^[^<>]+$",
		UsernameNormalization: "none", DisplayUsernameNormalization: "lowercase",
		UsernameValidationOrder: "post-normalization", DisplayUsernameValidationOrder: "post-normalization",
		ImmutableUsername: true, DisableDisplayUsername: true,
	}
	if p.MinUsernameLength != want.MinUsernameLength || p.MaxUsernameLength != want.MaxUsernameLength ||
		p.UsernamePattern != want.UsernamePattern || p.DisplayUsernamePattern != want.DisplayUsernamePattern ||
		p.UsernameNormalization != want.UsernameNormalization || p.DisplayUsernameNormalization != want.DisplayUsernameNormalization ||
		p.UsernameValidationOrder != want.UsernameValidationOrder || p.DisplayUsernameValidationOrder != want.DisplayUsernameValidationOrder ||
		p.ImmutableUsername != want.ImmutableUsername || p.DisableDisplayUsername != want.DisableDisplayUsername {
		t.Fatalf("parsed %+v\nwant   %+v", p, want)
	}
	var empty username.Plugin
	if err := empty.UnmarshalCaddyfile(caddyfile.NewTestDispenser(`username`)); err != nil {
		t.Fatalf("bare: %v", err)
	}
	for in, msg := range map[string]string{
		"username {\n nickname_length 3\n}":                       `unknown option "nickname_length"`,
		"username extra":                                          "wrong argument count",
		"username {\n min_username_length -1\n}":                  "not a non-negative integer",
		"username {\n min_username_length\n}":                     "expected 1 argument",
		"username {\n username_normalization upper\n}":            `"upper" is not one of lowercase, none`,
		"username {\n username_validation_order later\n}":         `"later" is not one of`,
		"username {\n immutable_username\n immutable_username\n}": "given twice",
	} {
		var p username.Plugin
		err := p.UnmarshalCaddyfile(caddyfile.NewTestDispenser(in))
		if err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%q: err = %v, want %q", in, err, msg)
		}
	}
}
