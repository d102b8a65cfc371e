package authcore_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/storage"
	"github.com/gatehouse-auth/gatehouse/storage/memory"
)

// ---------------------------------------------------------------------------------------
// Shared helpers of the endpoint-flow tests (signup, signin, user, password_reset, email,
// accounts). Their names start with "flow" so they do not collide with helpers of other test
// files in this package.
// ---------------------------------------------------------------------------------------

// flowPW is a password that is long enough and not on the common-password list.
const flowPW = "correct horse battery"

// flowErr asserts an error envelope: status, code ("" means the envelope must have no code)
// and message ("" skips the message check).
func flowErr(t *testing.T, r *authcoretest.Response, status int, code, message string) {
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
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("error content type %q", ct)
	}
}

// flowNoSessionCookie asserts that a response set no (non-expiring) session cookie.
func flowNoSessionCookie(t *testing.T, r *authcoretest.Response) {
	t.Helper()
	if line, ok := r.SetCookie(sessionCookie); ok && !strings.Contains(line, "Max-Age=0") {
		t.Fatalf("a session cookie was set: %q", line)
	}
}

// flowExpiredCookies asserts that the session, cookie-cache and dont_remember cookies are
// deleted by the response.
func flowExpiredCookies(t *testing.T, r *authcoretest.Response) {
	t.Helper()
	for _, name := range []string{sessionCookie, "better-auth.session_data", "better-auth.dont_remember"} {
		if line, ok := r.SetCookie(name); !ok || !strings.HasPrefix(line, name+"=; Max-Age=0;") {
			t.Fatalf("cookie %s not expired: %q (all: %v)", name, line, r.Header.Values("Set-Cookie"))
		}
	}
}

// flowDrain waits until every background job queued so far (emails, deferred lookups) has
// run: the queue has one worker and is FIFO, and a job may queue one more (a deferred
// lookup that then sends an email), so a marker job is queued and awaited a few times.
func flowDrain(t *testing.T, h *authcoretest.Harness) {
	t.Helper()
	for range 3 {
		done := make(chan struct{})
		h.Engine.Defer("test drain", func(context.Context) error { close(done); return nil })
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("background queue did not drain")
		}
	}
}

// flowMessages returns the captured messages of a type to an address, after draining the
// queue.
func flowMessages(t *testing.T, h *authcoretest.Harness, typ, to string) []authcore.Message {
	t.Helper()
	flowDrain(t, h)
	var out []authcore.Message
	for _, m := range h.Sink.Messages() {
		if m.Type == typ && m.To == to {
			out = append(out, m)
		}
	}
	return out
}

// flowFollow GETs a link from an email as a browser would: the link is built from the
// configured base URL, so its scheme and host are replaced by the test server's.
func flowFollow(t *testing.T, h *authcoretest.Harness, c *authcoretest.Client, link string) *authcoretest.Response {
	t.Helper()
	rest, ok := strings.CutPrefix(link, authcoretest.BaseURL+"/")
	if !ok {
		t.Fatalf("link %q is not built from the base URL %s", link, authcoretest.BaseURL)
	}
	return c.Get(h.Server.URL + "/" + rest)
}

// flowSignIn signs in with email and password on a new client and fails the test unless it
// worked.
func flowSignIn(t *testing.T, h *authcoretest.Harness, email, pw string) (*authcoretest.Client, map[string]any) {
	t.Helper()
	c := h.Client()
	r := c.Post("/sign-in/email", map[string]any{"email": email, "password": pw})
	if r.StatusCode != http.StatusOK {
		t.Fatalf("sign-in %s: %d %s", email, r.StatusCode, r.Body)
	}
	return c, r.Object()
}

// flowSignInStatus returns the status of a sign-in attempt (on a throwaway client).
func flowSignInStatus(h *authcoretest.Harness, email, pw string) int {
	return h.Client().Post("/sign-in/email", map[string]any{"email": email, "password": pw}).StatusCode
}

// flowUser returns the stored user with that email, or nil.
func flowUser(t *testing.T, h *authcoretest.Harness, email string) storage.Record {
	t.Helper()
	rec, err := h.Engine.Store().FindOne(t.Context(), authcore.ModelUser, storage.Eq("email", email))
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		t.Fatalf("finding user %s: %v", email, err)
	}
	return rec
}

// flowCount counts stored rows.
func flowCount(t *testing.T, h *authcoretest.Harness, model string, where storage.Where) int {
	t.Helper()
	n, err := h.Engine.Store().Count(t.Context(), model, where)
	if err != nil {
		t.Fatalf("counting %s: %v", model, err)
	}
	return n
}

// flowCredential returns the user's credential account row (nil if none).
func flowCredential(t *testing.T, h *authcoretest.Harness, userID string) storage.Record {
	t.Helper()
	rec, err := h.Engine.Store().FindOne(t.Context(), authcore.ModelAccount,
		storage.And(storage.Eq("userId", userID), storage.Eq("providerId", "credential")))
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		t.Fatalf("finding credential account: %v", err)
	}
	return rec
}

// flowSessionFor stores a session for userID directly (for users the API cannot sign in,
// such as one without a password) and returns a client holding its signed cookie, plus the
// session id.
func flowSessionFor(t *testing.T, h *authcoretest.Harness, userID string) (*authcoretest.Client, string) {
	t.Helper()
	tok, err := h.Engine.Random().String(32, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
	if err != nil {
		t.Fatal(err)
	}
	id, _ := h.Engine.NewID()
	now := h.Clock.Now()
	_, err = h.Engine.Store().Create(t.Context(), authcore.ModelSession, storage.Record{
		"id": id, "token": authcore.HashToken(tok), "userId": userID,
		"expiresAt": now.Add(7 * 24 * time.Hour), "createdAt": now, "updatedAt": now,
		"ipAddress": "", "userAgent": "",
	})
	if err != nil {
		t.Fatalf("storing session: %v", err)
	}
	c := h.Client()
	u, _ := url.Parse(h.Server.URL)
	c.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: signJS(authcoretest.Secret, tok)}})
	return c, id
}

// flowPasswordlessUser creates a user without a credential account (as a social sign-up
// would) and returns its id and a signed-in client.
func flowPasswordlessUser(t *testing.T, h *authcoretest.Harness, name, email string) (string, *authcoretest.Client) {
	t.Helper()
	u, err := h.Engine.CreateUser(t.Context(), storage.Record{"name": name, "email": email}, "")
	if err != nil {
		t.Fatalf("creating user: %v", err)
	}
	c, _ := flowSessionFor(t, h, u.ID())
	return u.ID(), c
}

// flowKeys returns the sorted keys of an object.
func flowKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// flowFaultyStore wraps a memory store so that Create on chosen models fails, inside
// transactions too.
type flowFaultyStore struct {
	*memory.Store
	failCreate map[string]bool
}

func (s flowFaultyStore) Bind(ctx context.Context, sc *storage.Schema) (storage.Adapter, error) {
	a, err := s.Store.Bind(ctx, sc)
	if err != nil {
		return nil, err
	}
	return flowFaultyAdapter{a, s.failCreate}, nil
}

type flowFaultyAdapter struct {
	storage.Adapter
	failCreate map[string]bool
}

var errFlowInjected = errors.New("injected storage fault")

func (a flowFaultyAdapter) Create(ctx context.Context, model string, rec storage.Record) (storage.Record, error) {
	if a.failCreate[model] {
		return nil, errFlowInjected
	}
	return a.Adapter.Create(ctx, model, rec)
}

func (a flowFaultyAdapter) Tx(ctx context.Context, fn func(storage.Adapter) error) error {
	return a.Adapter.Tx(ctx, func(tx storage.Adapter) error { return fn(flowFaultyAdapter{tx, a.failCreate}) })
}

// ---------------------------------------------------------------------------------------
// POST /sign-up/email (spec §6 #1)
// ---------------------------------------------------------------------------------------

func TestSignUpEmailSuccess(t *testing.T) {
	h := authcoretest.New(t)
	c := h.Client()
	r := c.Post("/sign-up/email", map[string]any{"name": "Alice", "email": "Alice@Example.COM", "password": flowPW, "image": "https://img.example/a.png"})
	if r.StatusCode != http.StatusOK {
		t.Fatalf("sign-up: %d %s", r.StatusCode, r.Body)
	}
	body := r.Object()
	if got := flowKeys(body); !slices.Equal(got, []string{"token", "user"}) {
		t.Fatalf("response keys %v, want [token user]", got)
	}
	token, _ := body["token"].(string)
	if len(token) != 32 {
		t.Fatalf("token %v", body["token"])
	}
	user := body["user"].(map[string]any)
	if user["email"] != "alice@example.com" || user["name"] != "Alice" || user["emailVerified"] != false ||
		user["image"] != "https://img.example/a.png" {
		t.Fatalf("user %v", user)
	}
	if _, leaked := user["password"]; leaked {
		t.Fatal("password in the response")
	}
	// The session cookie carries the signed token.
	line, ok := r.SetCookie(sessionCookie)
	if !ok || !strings.HasPrefix(line, sessionCookie+"="+signJS(authcoretest.Secret, token)+"; Max-Age=604800;") {
		t.Fatalf("session cookie %q", line)
	}
	// Stored: the user (lower-cased email), its credential account with an argon2id hash,
	// and one session whose token is stored hashed.
	rec := flowUser(t, h, "alice@example.com")
	if rec == nil || rec.ID() != user["id"] || rec.Bool("emailVerified") {
		t.Fatalf("stored user %v", rec)
	}
	if flowUser(t, h, "Alice@Example.COM") != nil {
		t.Fatal("email stored with its original case")
	}
	acc := flowCredential(t, h, rec.ID())
	if acc == nil || acc.String("accountId") != rec.ID() || !strings.HasPrefix(acc.String("password"), "$argon2id$") ||
		strings.Contains(acc.String("password"), flowPW) {
		t.Fatalf("credential account %v", acc)
	}
	if n := flowCount(t, h, authcore.ModelSession, storage.And(storage.Eq("userId", rec.ID()), storage.Eq("token", authcore.HashToken(token)))); n != 1 {
		t.Fatalf("%d sessions for the new token", n)
	}
	// The cookie works.
	if _, obj := getSession(t, c, ""); obj == nil || obj["user"].(map[string]any)["id"] != rec.ID() {
		t.Fatalf("get-session after sign-up: %v", obj)
	}
}

func TestSignUpDisabled(t *testing.T) {
	for name, edit := range map[string]func(*authcore.Config){
		"email and password off": func(c *authcore.Config) { c.EmailAndPassword.Disabled = true },
		"sign-up off":            func(c *authcore.Config) { c.EmailAndPassword.DisableSignUp = true },
	} {
		t.Run(name, func(t *testing.T) {
			h := authcoretest.New(t, authcoretest.WithConfig(edit))
			r := h.Client().Post("/sign-up/email", map[string]any{"name": "A", "email": "a@example.com", "password": flowPW})
			flowErr(t, r, http.StatusBadRequest, "EMAIL_PASSWORD_SIGN_UP_DISABLED", "Email and password sign up is not enabled")
			flowNoSessionCookie(t, r)
			if n := flowCount(t, h, authcore.ModelUser, storage.Where{}); n != 0 {
				t.Fatalf("%d users stored", n)
			}
		})
	}
}

func TestSignUpInvalidEmail(t *testing.T) {
	h := authcoretest.New(t)
	for _, email := range []string{"not-an-email", "a@b", "@example.com", "a@example", ""} {
		r := h.Client().Post("/sign-up/email", map[string]any{"name": "A", "email": email, "password": flowPW})
		flowErr(t, r, http.StatusBadRequest, "INVALID_EMAIL", "Invalid email")
	}
	if n := flowCount(t, h, authcore.ModelUser, storage.Where{}); n != 0 {
		t.Fatalf("%d users stored", n)
	}
}

func TestSignUpPasswordLength(t *testing.T) {
	h := authcoretest.New(t)
	pw := func(n int) string { return strings.Repeat("kq7#Vx2p", 17)[:n] }
	cases := []struct {
		n    int
		code string
	}{{7, "PASSWORD_TOO_SHORT"}, {8, ""}, {128, ""}, {129, "PASSWORD_TOO_LONG"}}
	for i, tc := range cases {
		email := "user" + string(rune('a'+i)) + "@example.com"
		before := h.Hasher.Work()
		r := h.Client().Post("/sign-up/email", map[string]any{"name": "U", "email": email, "password": pw(tc.n)})
		switch tc.code {
		case "":
			if r.StatusCode != http.StatusOK {
				t.Fatalf("%d characters: %d %s", tc.n, r.StatusCode, r.Body)
			}
			// Stored and usable: no truncation (the same prefix minus one char fails).
			if flowSignInStatus(h, email, pw(tc.n)) != 200 || flowSignInStatus(h, email, pw(tc.n)[:tc.n-1]) != 401 {
				t.Fatalf("%d characters: stored password does not match exactly", tc.n)
			}
		case "PASSWORD_TOO_SHORT":
			flowErr(t, r, http.StatusBadRequest, tc.code, "Password too short")
		case "PASSWORD_TOO_LONG":
			flowErr(t, r, http.StatusBadRequest, tc.code, "Password too long")
		}
		if tc.code != "" {
			if w := h.Hasher.Work() - before; w != 0 {
				t.Fatalf("%d characters: %d hashes computed for a refused password", tc.n, w)
			}
			if flowUser(t, h, email) != nil {
				t.Fatalf("%d characters: user stored", tc.n)
			}
		}
	}
	// Length counts UTF-16 code units (spec §4.1): four emoji are eight units.
	r := h.Client().Post("/sign-up/email", map[string]any{"name": "E", "email": "emoji@example.com", "password": "🦊🐙🦉🐝"})
	if r.StatusCode != http.StatusOK {
		t.Fatalf("4 astral emoji (8 units): %d %s", r.StatusCode, r.Body)
	}
	r = h.Client().Post("/sign-up/email", map[string]any{"name": "E", "email": "emoji2@example.com", "password": "🦊🐙🦉"})
	flowErr(t, r, http.StatusBadRequest, "PASSWORD_TOO_SHORT", "")
}

func TestSignUpCommonPassword(t *testing.T) {
	h := authcoretest.New(t)
	for _, pw := range []string{"password123", "Password", "qwerty2024", "letmein1"} {
		before := h.Hasher.Work()
		r := h.Client().Post("/sign-up/email", map[string]any{"name": "A", "email": "a@example.com", "password": pw})
		flowErr(t, r, http.StatusBadRequest, "PASSWORD_TOO_COMMON", "Password is too common. Choose a less common password.")
		if h.Hasher.Work() != before {
			t.Fatalf("%q: hashed before refusing", pw)
		}
	}
	if flowUser(t, h, "a@example.com") != nil {
		t.Fatal("user stored with a common password")
	}
}

func TestSignUpMissingOrEmptyPassword(t *testing.T) {
	// Better Auth's INVALID_PASSWORD (spec §6 #1) guards a non-string password, which its
	// body schema already refuses; here too the schema answers first, with VALIDATION_ERROR.
	h := authcoretest.New(t)
	for _, body := range []map[string]any{
		{"name": "A", "email": "a@example.com"},
		{"name": "A", "email": "a@example.com", "password": ""},
		{"name": "A", "email": "a@example.com", "password": 12345678},
	} {
		r := h.Client().Post("/sign-up/email", body)
		flowErr(t, r, http.StatusBadRequest, "VALIDATION_ERROR", "")
		if !strings.Contains(r.Object()["message"].(string), "[body.password]") {
			t.Fatalf("message does not name the field: %s", r.Body)
		}
	}
	if n := flowCount(t, h, authcore.ModelUser, storage.Where{}); n != 0 {
		t.Fatalf("%d users stored", n)
	}
}

func TestSignUpDuplicateEmail(t *testing.T) {
	h := authcoretest.New(t)
	h.SignUp("Alice", "alice@example.com", flowPW)
	for _, email := range []string{"alice@example.com", "ALICE@Example.Com"} {
		r := h.Client().Post("/sign-up/email", map[string]any{"name": "Mallory", "email": email, "password": "another fine password"})
		flowErr(t, r, http.StatusUnprocessableEntity, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL", "User already exists. Use another email.")
		flowNoSessionCookie(t, r)
	}
	if n := flowCount(t, h, authcore.ModelUser, storage.Where{}); n != 1 {
		t.Fatalf("%d users, want 1", n)
	}
	// The original password still works; the attacker's does not.
	if flowSignInStatus(h, "alice@example.com", flowPW) != 200 || flowSignInStatus(h, "alice@example.com", "another fine password") != 401 {
		t.Fatal("duplicate sign-up changed the existing account")
	}
}

// With email verification required, or auto sign-in off, sign-up creates no session, and a
// taken email gets a synthetic success that looks like a fresh sign-up (ENUM-02, D18).
func TestSignUpWithoutAutoSignIn(t *testing.T) {
	modes := map[string]func(*authcore.Config){
		"require email verification": func(c *authcore.Config) { c.EmailAndPassword.RequireEmailVerification = true },
		"auto sign-in off": func(c *authcore.Config) {
			c.EmailAndPassword.DisableAutoSignIn = true
			c.EmailVerification.SendOnSignUp = true
		},
	}
	for name, edit := range modes {
		t.Run(name, func(t *testing.T) {
			h := authcoretest.New(t, authcoretest.WithConfig(edit))
			signUp := func(email, pw string) (*authcoretest.Response, int) {
				before := h.Hasher.Work()
				r := h.Client().Post("/sign-up/email", map[string]any{"name": "Alice", "email": email, "password": pw})
				return r, h.Hasher.Work() - before
			}
			fresh, freshWork := signUp("alice@example.com", flowPW)
			if fresh.StatusCode != http.StatusOK {
				t.Fatalf("sign-up: %d %s", fresh.StatusCode, fresh.Body)
			}
			fb := fresh.Object()
			if v, has := fb["token"]; !has || v != nil {
				t.Fatalf("token = %v (present %v), want null", v, has)
			}
			if fb["user"].(map[string]any)["email"] != "alice@example.com" {
				t.Fatalf("user %v", fb["user"])
			}
			flowNoSessionCookie(t, fresh)
			if len(fresh.Header.Values("Set-Cookie")) != 0 {
				t.Fatalf("cookies set: %v", fresh.Header.Values("Set-Cookie"))
			}
			if n := flowCount(t, h, authcore.ModelSession, storage.Where{}); n != 0 {
				t.Fatalf("%d sessions created", n)
			}
			m := h.Sink.Wait(t, "verify-email", "alice@example.com")
			if !strings.HasPrefix(m.Data.URL, authcoretest.BaseURL+"/api/auth/verify-email?token=") {
				t.Fatalf("verification link %q", m.Data.URL)
			}

			for _, email := range []string{"alice@example.com", "Alice@EXAMPLE.com"} {
				dup, dupWork := signUp(email, "a different password")
				if dup.StatusCode != fresh.StatusCode {
					t.Fatalf("duplicate: %d %s", dup.StatusCode, dup.Body)
				}
				db := dup.Object()
				if !slices.Equal(flowKeys(db), flowKeys(fb)) || db["token"] != nil {
					t.Fatalf("duplicate body %s, fresh %s", dup.Body, fresh.Body)
				}
				du, fu := db["user"].(map[string]any), fb["user"].(map[string]any)
				if !slices.Equal(flowKeys(du), flowKeys(fu)) {
					t.Fatalf("duplicate user keys %v, fresh %v", flowKeys(du), flowKeys(fu))
				}
				for _, k := range []string{"email", "name", "emailVerified", "role"} {
					if du[k] != fu[k] {
						t.Fatalf("duplicate user %s = %v, fresh %v", k, du[k], fu[k])
					}
				}
				if du["id"] == fu["id"] || len(du["id"].(string)) != 32 {
					t.Fatalf("synthetic user id %v (real %v)", du["id"], fu["id"])
				}
				if dupWork != freshWork || dupWork == 0 {
					t.Fatalf("hasher work: duplicate %d, fresh %d (D17)", dupWork, freshWork)
				}
				if len(dup.Header.Values("Set-Cookie")) != 0 {
					t.Fatalf("duplicate set cookies: %v", dup.Header.Values("Set-Cookie"))
				}
			}
			if n := flowCount(t, h, authcore.ModelUser, storage.Where{}); n != 1 {
				t.Fatalf("%d users, want 1", n)
			}
			if n := flowCount(t, h, authcore.ModelAccount, storage.Where{}); n != 1 {
				t.Fatalf("%d accounts, want 1", n)
			}
			// No second verification link; the owner is told about the attempt instead.
			if n := len(flowMessages(t, h, "verify-email", "alice@example.com")); n != 1 {
				t.Fatalf("%d verification emails, want 1", n)
			}
			if n := len(flowMessages(t, h, "account-exists", "alice@example.com")); n != 2 {
				t.Fatalf("%d account-exists notices, want 2", n)
			}
		})
	}
	t.Run("auto sign-in off without send on sign-up", func(t *testing.T) {
		h := authcoretest.New(t, authcoretest.WithConfig(func(c *authcore.Config) { c.EmailAndPassword.DisableAutoSignIn = true }))
		r := h.Client().Post("/sign-up/email", map[string]any{"name": "A", "email": "a@example.com", "password": flowPW})
		if r.StatusCode != 200 || r.Object()["token"] != nil || len(r.Header.Values("Set-Cookie")) != 0 {
			t.Fatalf("sign-up: %d %s %v", r.StatusCode, r.Body, r.Header.Values("Set-Cookie"))
		}
		if n := len(flowMessages(t, h, "verify-email", "a@example.com")); n != 0 {
			t.Fatalf("%d verification emails without send_on_sign_up", n)
		}
		// The user can sign in afterwards (verification is not required).
		flowSignIn(t, h, "a@example.com", flowPW)
	})
}

func TestSignUpServerControlledFields(t *testing.T) {
	h := authcoretest.New(t)
	for field, value := range map[string]any{"emailVerified": true, "role": "admin"} {
		r := h.Client().Post("/sign-up/email", map[string]any{"name": "A", "email": "a@example.com", "password": flowPW, field: value})
		flowErr(t, r, http.StatusBadRequest, "FIELD_NOT_ALLOWED", field+" is not allowed to be set")
		flowNoSessionCookie(t, r)
		if n := flowCount(t, h, authcore.ModelUser, storage.Where{}); n != 0 {
			t.Fatalf("%s: %d users stored", field, n)
		}
		if n := flowCount(t, h, authcore.ModelAccount, storage.Where{}); n != 0 {
			t.Fatalf("%s: %d accounts stored", field, n)
		}
	}
	// Falsy values of server-only fields are dropped; id, createdAt and updatedAt are ignored.
	forgedID := strings.Repeat("A", 32)
	r := h.Client().Post("/sign-up/email", map[string]any{
		"name": "A", "email": "a@example.com", "password": flowPW, "emailVerified": false,
		"id": forgedID, "createdAt": "2000-01-01T00:00:00.000Z", "updatedAt": "2000-01-01T00:00:00.000Z",
	})
	if r.StatusCode != http.StatusOK {
		t.Fatalf("sign-up: %d %s", r.StatusCode, r.Body)
	}
	rec := flowUser(t, h, "a@example.com")
	if rec.ID() == forgedID || r.Object()["user"].(map[string]any)["id"] != rec.ID() {
		t.Fatalf("client-chosen id used: %s", rec.ID())
	}
	if !rec.Time("createdAt").Equal(h.Clock.Now()) || !rec.Time("updatedAt").Equal(h.Clock.Now()) {
		t.Fatalf("client-chosen timestamps used: %v %v", rec.Time("createdAt"), rec.Time("updatedAt"))
	}
	if rec.String("role") != "user" || rec.Bool("emailVerified") {
		t.Fatalf("role %q emailVerified %v", rec.String("role"), rec.Bool("emailVerified"))
	}
}

func TestSignUpRememberMeFalse(t *testing.T) {
	h := authcoretest.New(t)
	r := h.Client().Post("/sign-up/email", map[string]any{"name": "A", "email": "a@example.com", "password": flowPW, "rememberMe": false})
	if r.StatusCode != http.StatusOK {
		t.Fatalf("sign-up: %d %s", r.StatusCode, r.Body)
	}
	line, _ := r.SetCookie(sessionCookie)
	if line == "" || strings.Contains(line, "Max-Age") {
		t.Fatalf("rememberMe:false session cookie must be a browser-session cookie: %q", line)
	}
	if dr, ok := r.SetCookie("better-auth.dont_remember"); !ok || !strings.HasPrefix(dr, "better-auth.dont_remember="+signJS(authcoretest.Secret, "true")+";") {
		t.Fatalf("dont_remember cookie %q", dr)
	}
	sess, err := h.Engine.Store().FindOne(t.Context(), authcore.ModelSession, storage.Eq("token", authcore.HashToken(r.Object()["token"].(string))))
	if err != nil {
		t.Fatal(err)
	}
	if want := h.Clock.Now().Add(24 * time.Hour); !sess.Time("expiresAt").Equal(want) {
		t.Fatalf("stored expiry %v, want %v (one day)", sess.Time("expiresAt"), want)
	}
}

func TestSignUpFormEncoded(t *testing.T) {
	h := authcoretest.New(t)
	form := url.Values{"name": {"Bob"}, "email": {"Bob@Example.com"}, "password": {flowPW}, "rememberMe": {"false"}}
	r := h.Client().Post("/sign-up/email", form.Encode(), "Content-Type", "application/x-www-form-urlencoded")
	if r.StatusCode != http.StatusOK {
		t.Fatalf("form sign-up: %d %s", r.StatusCode, r.Body)
	}
	if r.Object()["user"].(map[string]any)["email"] != "bob@example.com" || flowUser(t, h, "bob@example.com") == nil {
		t.Fatalf("user %s", r.Body)
	}
	// "false" was coerced to the boolean.
	if _, ok := r.SetCookie("better-auth.dont_remember"); !ok {
		t.Fatalf("rememberMe=false from a form was ignored: %v", r.Header.Values("Set-Cookie"))
	}
	// Form sign-in works too.
	form = url.Values{"email": {"bob@example.com"}, "password": {flowPW}}
	r = h.Client().Post("/sign-in/email", form.Encode(), "Content-Type", "application/x-www-form-urlencoded")
	if r.StatusCode != http.StatusOK || r.Object()["token"] == nil {
		t.Fatalf("form sign-in: %d %s", r.StatusCode, r.Body)
	}
}

func TestSignUpAllowedDomains(t *testing.T) {
	h := authcoretest.New(t, authcoretest.WithConfig(func(c *authcore.Config) {
		c.EmailAndPassword.AllowedDomains = []string{"example.com"}
	}))
	for _, email := range []string{"alice@example.com", "Bob@EXAMPLE.com"} {
		if r := h.Client().Post("/sign-up/email", map[string]any{"name": "A", "email": email, "password": flowPW}); r.StatusCode != 200 {
			t.Fatalf("%s: %d %s", email, r.StatusCode, r.Body)
		}
	}
	for _, email := range []string{"mallory@evil.test", "mallory@example.com.evil.test", "mallory@notexample.com"} {
		before := h.Hasher.Work()
		r := h.Client().Post("/sign-up/email", map[string]any{"name": "M", "email": email, "password": flowPW})
		flowErr(t, r, http.StatusBadRequest, "EMAIL_DOMAIN_NOT_ALLOWED", "Sign-up with this email domain is not allowed")
		if h.Hasher.Work() != before {
			t.Fatalf("%s: hashed before refusing", email)
		}
	}
	if n := flowCount(t, h, authcore.ModelUser, storage.Where{}); n != 2 {
		t.Fatalf("%d users, want 2", n)
	}
}

func TestSignUpSendsVerificationWithCallback(t *testing.T) {
	h := authcoretest.New(t, authcoretest.WithConfig(func(c *authcore.Config) { c.EmailVerification.SendOnSignUp = true }))
	c := h.Client()
	r := c.Post("/sign-up/email", map[string]any{"name": "A", "email": "a@example.com", "password": flowPW, "callbackURL": "/welcome"})
	if r.StatusCode != 200 || r.Object()["token"] == nil {
		t.Fatalf("sign-up: %d %s", r.StatusCode, r.Body)
	}
	m := h.Sink.Wait(t, "verify-email", "a@example.com")
	if !strings.HasSuffix(m.Data.URL, "&callbackURL=%2Fwelcome") || !strings.Contains(m.Data.URL, "token="+url.QueryEscape(m.Data.Token)) {
		t.Fatalf("link %q", m.Data.URL)
	}
	resp := flowFollow(t, h, h.Client(), m.Data.URL)
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != authcoretest.BaseURL+"/welcome" {
		t.Fatalf("following the link: %d %q %s", resp.StatusCode, resp.Header.Get("Location"), resp.Body)
	}
	if !flowUser(t, h, "a@example.com").Bool("emailVerified") {
		t.Fatal("email not verified")
	}
	// An untrusted callbackURL is refused before anything is created (RDR-02).
	r = h.Client().Post("/sign-up/email", map[string]any{"name": "B", "email": "b@example.com", "password": flowPW, "callbackURL": "https://evil.example/x"})
	flowErr(t, r, http.StatusForbidden, "INVALID_CALLBACK_URL", "Invalid callbackURL")
	if flowUser(t, h, "b@example.com") != nil {
		t.Fatal("user created despite an untrusted callbackURL")
	}
}

// TestSignUpStorageFailures: the faulty store fails (an I/O error), so each answer is 503 SERVICE_UNAVAILABLE with
// Retry-After (issue 12) where Better Auth answers its FAILED_TO_CREATE_* codes: a client
// must not read an outage as a problem with its input.
func TestSignUpStorageFailures(t *testing.T) {
	t.Run("user", func(t *testing.T) {
		st := flowFaultyStore{memory.NewStore(), map[string]bool{authcore.ModelUser: true}}
		h := authcoretest.New(t, authcoretest.WithEngineOptions(authcore.WithStore(st)))
		r := h.Client().Post("/sign-up/email", map[string]any{"name": "A", "email": "a@example.com", "password": flowPW})
		flowErr(t, r, http.StatusServiceUnavailable, "SERVICE_UNAVAILABLE", "Service temporarily unavailable")
		flowNoSessionCookie(t, r)
	})
	t.Run("credential account", func(t *testing.T) {
		// The user and its account are created in one transaction: neither is kept.
		st := flowFaultyStore{memory.NewStore(), map[string]bool{authcore.ModelAccount: true}}
		h := authcoretest.New(t, authcoretest.WithEngineOptions(authcore.WithStore(st)))
		r := h.Client().Post("/sign-up/email", map[string]any{"name": "A", "email": "a@example.com", "password": flowPW})
		flowErr(t, r, http.StatusServiceUnavailable, "SERVICE_UNAVAILABLE", "Service temporarily unavailable")
		if flowUser(t, h, "a@example.com") != nil {
			t.Fatal("user kept without its credential account")
		}
	})
	t.Run("session", func(t *testing.T) {
		// Spec §6 #1 answers 400 here; Gatehouse answers 5xx so that a failed request
		// never sets cookies (DUR-02).
		st := flowFaultyStore{memory.NewStore(), map[string]bool{authcore.ModelSession: true}}
		h := authcoretest.New(t, authcoretest.WithEngineOptions(authcore.WithStore(st)))
		r := h.Client().Post("/sign-up/email", map[string]any{"name": "A", "email": "a@example.com", "password": flowPW})
		flowErr(t, r, http.StatusServiceUnavailable, "SERVICE_UNAVAILABLE", "Service temporarily unavailable")
		if len(r.Header.Values("Set-Cookie")) != 0 {
			t.Fatalf("cookies on a failed sign-up: %v", r.Header.Values("Set-Cookie"))
		}
	})
}
