package authcore_test

import (
	"bytes"
	"encoding/hex"
	"net/http"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/scrypt"
	"golang.org/x/text/unicode/norm"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/storage"
	"github.com/gatehouse-auth/gatehouse/storage/memory"
)

// POST /sign-in/email (spec §6 #2)

func TestSignInEmailSuccess(t *testing.T) {
	h := authcoretest.New(t)
	_, up := h.SignUp("Alice", "alice@example.com", flowPW)
	c := h.Client()
	r := c.Post("/sign-in/email", map[string]any{"email": "ALICE@Example.com", "password": flowPW})
	if r.StatusCode != http.StatusOK {
		t.Fatalf("sign-in: %d %s", r.StatusCode, r.Body)
	}
	body := r.Object()
	if got := flowKeys(body); !slices.Equal(got, []string{"redirect", "token", "user"}) {
		t.Fatalf("response keys %v, want [redirect token user] (no url without callbackURL)", got)
	}
	token, _ := body["token"].(string)
	if body["redirect"] != false || len(token) != 32 || token == up["token"] {
		t.Fatalf("body %s", r.Body)
	}
	if body["user"].(map[string]any)["id"] != up["user"].(map[string]any)["id"] {
		t.Fatalf("user %v", body["user"])
	}
	if loc := r.Header.Get("Location"); loc != "" {
		t.Fatalf("Location %q without callbackURL", loc)
	}
	if line, ok := r.SetCookie(sessionCookie); !ok || !strings.HasPrefix(line, sessionCookie+"="+signJS(authcoretest.Secret, token)+"; Max-Age=604800;") {
		t.Fatalf("session cookie %q", line)
	}
	if _, obj := getSession(t, c, ""); obj == nil || obj["session"].(map[string]any)["token"] != token {
		t.Fatalf("get-session after sign-in: %v", obj)
	}
	// Each sign-in is its own session.
	if n := flowCount(t, h, authcore.ModelSession, storage.Where{}); n != 2 {
		t.Fatalf("%d sessions, want 2", n)
	}
}

func TestSignInCallbackURL(t *testing.T) {
	h := authcoretest.New(t)
	h.SignUp("Alice", "alice@example.com", flowPW)
	for cb, loc := range map[string]string{
		"/dashboard?tab=1":              authcoretest.BaseURL + "/dashboard?tab=1",
		"http://localhost:3000/account": "http://localhost:3000/account",
	} {
		r := h.Client().Post("/sign-in/email", map[string]any{"email": "alice@example.com", "password": flowPW, "callbackURL": cb})
		if r.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", cb, r.StatusCode, r.Body)
		}
		body := r.Object()
		if got := flowKeys(body); !slices.Equal(got, []string{"redirect", "token", "url", "user"}) {
			t.Fatalf("keys %v", got)
		}
		if body["redirect"] != true || body["url"] != cb || r.Header.Get("Location") != loc {
			t.Fatalf("%s: body %s, Location %q", cb, r.Body, r.Header.Get("Location"))
		}
		if _, ok := r.SetCookie(sessionCookie); !ok {
			t.Fatalf("%s: no session cookie", cb)
		}
	}
	sessions := flowCount(t, h, authcore.ModelSession, storage.Where{})
	for _, cb := range []string{"https://evil.example/x", "//evil.example", "/\\evil.example", "javascript:alert(1)"} {
		before := h.Hasher.Work()
		r := h.Client().Post("/sign-in/email", map[string]any{"email": "alice@example.com", "password": flowPW, "callbackURL": cb})
		flowErr(t, r, http.StatusForbidden, "INVALID_CALLBACK_URL", "Invalid callbackURL")
		flowNoSessionCookie(t, r)
		if r.Header.Get("Location") != "" || h.Hasher.Work() != before {
			t.Fatalf("%s: Location %q, work %d", cb, r.Header.Get("Location"), h.Hasher.Work()-before)
		}
	}
	if n := flowCount(t, h, authcore.ModelSession, storage.Where{}); n != sessions {
		t.Fatalf("sessions created for an untrusted callbackURL: %d → %d", sessions, n)
	}
}

// Wrong password, unknown email and an account without a password are indistinguishable:
// status, bytes of the body, cookies and hashing work (ENUM-01, D17).
func TestSignInGenericFailure(t *testing.T) {
	h := authcoretest.New(t)
	h.SignUp("Alice", "alice@example.com", flowPW)
	flowPasswordlessUser(t, h, "Olive", "olive@example.com")
	sessions := flowCount(t, h, authcore.ModelSession, storage.Where{})
	attempt := func(email, pw string) (*authcoretest.Response, int) {
		before := h.Hasher.Work()
		r := h.Client().Post("/sign-in/email", map[string]any{"email": email, "password": pw})
		return r, h.Hasher.Work() - before
	}
	wrong, wrongWork := attempt("alice@example.com", "not the password")
	flowErr(t, wrong, http.StatusUnauthorized, "INVALID_EMAIL_OR_PASSWORD", "Invalid email or password")
	for name, email := range map[string]string{"unknown email": "nobody@example.com", "no credential account": "olive@example.com"} {
		r, work := attempt(email, "not the password")
		if r.StatusCode != wrong.StatusCode || !bytes.Equal(r.Body, wrong.Body) {
			t.Fatalf("%s: %d %s, wrong password: %d %s", name, r.StatusCode, r.Body, wrong.StatusCode, wrong.Body)
		}
		if work != wrongWork || work != 1 {
			t.Fatalf("%s: hasher work %d, wrong password %d", name, work, wrongWork)
		}
		if len(r.Header.Values("Set-Cookie")) != 0 || len(wrong.Header.Values("Set-Cookie")) != 0 {
			t.Fatalf("%s: cookies on failure", name)
		}
	}
	if n := flowCount(t, h, authcore.ModelSession, storage.Where{}); n != sessions {
		t.Fatalf("failed sign-ins created sessions: %d → %d", sessions, n)
	}
}

func TestSignInEmailNotVerified(t *testing.T) {
	h := authcoretest.New(t, authcoretest.WithConfig(func(c *authcore.Config) { c.EmailAndPassword.RequireEmailVerification = true }))
	if r := h.Client().Post("/sign-up/email", map[string]any{"name": "A", "email": "a@example.com", "password": flowPW}); r.StatusCode != 200 {
		t.Fatalf("sign-up: %d %s", r.StatusCode, r.Body)
	}
	r := h.Client().Post("/sign-in/email", map[string]any{"email": "a@example.com", "password": flowPW})
	flowErr(t, r, http.StatusForbidden, "EMAIL_NOT_VERIFIED", "Email not verified")
	flowNoSessionCookie(t, r)
	// The password is checked first: a wrong one is the generic 401, not a hint that the
	// account exists.
	r = h.Client().Post("/sign-in/email", map[string]any{"email": "a@example.com", "password": "wrong password here"})
	flowErr(t, r, http.StatusUnauthorized, "INVALID_EMAIL_OR_PASSWORD", "")
	if n := flowCount(t, h, authcore.ModelSession, storage.Where{}); n != 0 {
		t.Fatalf("%d sessions", n)
	}
	m := h.Sink.Wait(t, "verify-email", "a@example.com")
	if resp := h.Client().Get("/verify-email?token=" + m.Data.Token); resp.StatusCode != 200 {
		t.Fatalf("verify: %d %s", resp.StatusCode, resp.Body)
	}
	flowSignIn(t, h, "a@example.com", flowPW)
}

func TestSignInDisabled(t *testing.T) {
	h := authcoretest.New(t, authcoretest.WithConfig(func(c *authcore.Config) { c.EmailAndPassword.Disabled = true }))
	// A user that exists (created by another method) still cannot use a password.
	if _, err := h.Engine.CreateUser(t.Context(), storage.Record{"name": "A", "email": "a@example.com"}, "x"); err != nil {
		t.Fatal(err)
	}
	before := h.Hasher.Work()
	r := h.Client().Post("/sign-in/email", map[string]any{"email": "a@example.com", "password": flowPW})
	flowErr(t, r, http.StatusBadRequest, "EMAIL_PASSWORD_DISABLED", "Email and password is not enabled")
	if h.Hasher.Work() != before {
		t.Fatal("hashed although the method is disabled")
	}
}

func TestSignInInvalidEmail(t *testing.T) {
	h := authcoretest.New(t)
	for _, email := range []string{"alice", "alice@", "alice@example", ""} {
		r := h.Client().Post("/sign-in/email", map[string]any{"email": email, "password": flowPW})
		flowErr(t, r, http.StatusBadRequest, "INVALID_EMAIL", "Invalid email")
	}
}

// A password over the maximum is refused before any hashing (PWD-04), for known and unknown
// accounts alike.
func TestSignInPasswordTooLong(t *testing.T) {
	h := authcoretest.New(t)
	h.SignUp("Alice", "alice@example.com", flowPW)
	for _, email := range []string{"alice@example.com", "nobody@example.com"} {
		for _, n := range []int{129, 8000} {
			before := h.Hasher.Work()
			r := h.Client().Post("/sign-in/email", map[string]any{"email": email, "password": strings.Repeat("x", n)})
			flowErr(t, r, http.StatusBadRequest, "PASSWORD_TOO_LONG", "Password too long")
			if w := h.Hasher.Work() - before; w != 0 {
				t.Fatalf("%s, %d chars: %d hashes", email, n, w)
			}
		}
	}
}

// BF-01: after account_failures wrong passwords the account's password sign-in is locked for
// account_window, whatever spelling of the email is used, and during the lock even the right
// password gets the generic failure.
func TestSignInAccountLockout(t *testing.T) {
	h := authcoretest.New(t)
	h.SignUp("Alice", "alice@example.com", flowPW)
	h.SignUp("Bob", "bob@example.com", flowPW)
	generic := h.Client().Post("/sign-in/email", map[string]any{"email": "alice@example.com", "password": "wrong password 0"})
	flowErr(t, generic, http.StatusUnauthorized, "INVALID_EMAIL_OR_PASSWORD", "")
	spellings := []string{"alice@example.com", "ALICE@example.com", "Alice@Example.Com"}
	for i := 1; i < 10; i++ {
		r := h.Client().Post("/sign-in/email", map[string]any{"email": spellings[i%3], "password": "wrong password"})
		flowErr(t, r, http.StatusUnauthorized, "INVALID_EMAIL_OR_PASSWORD", "")
	}
	before := h.Hasher.Work()
	locked := h.Client().Post("/sign-in/email", map[string]any{"email": "alice@example.com", "password": flowPW})
	if locked.StatusCode != generic.StatusCode || !bytes.Equal(locked.Body, generic.Body) || len(locked.Header.Values("Set-Cookie")) != 0 {
		t.Fatalf("right password during the lock: %d %s", locked.StatusCode, locked.Body)
	}
	if w := h.Hasher.Work() - before; w != 1 {
		t.Fatalf("locked attempt did %d hashes, want 1 like any other failure", w)
	}
	// Other accounts are not affected.
	flowSignIn(t, h, "bob@example.com", flowPW)

	h.Clock.Advance(h.Config.RateLimit.AccountWindow - 1)
	if s := flowSignInStatus(h, "alice@example.com", flowPW); s != http.StatusUnauthorized {
		t.Fatalf("lock lifted early: %d", s)
	}
	h.Clock.Advance(1)
	flowSignIn(t, h, "alice@example.com", flowPW)
	// A success resets the counter: nine more failures do not lock.
	for range 9 {
		h.Client().Post("/sign-in/email", map[string]any{"email": "alice@example.com", "password": "wrong password"})
	}
	flowSignIn(t, h, "alice@example.com", flowPW)
}

// A Better Auth scrypt hash (spec §4.1), built here from the spec's parameters, verifies at
// sign-in and is then replaced by argon2id.
func TestSignInBetterAuthScryptHash(t *testing.T) {
	t.Parallel() // scrypt with Better Auth's parameters is slow under -race
	h := authcoretest.New(t)
	_, up := h.SignUp("Alice", "alice@example.com", "placeholder password")
	uid := up["user"].(map[string]any)["id"].(string)

	// "Å" as A + combining ring: NFKC turns it into U+00C5 before hashing.
	pw := "Ångström correct horse"
	typed := "A\u030angström correct horse"
	saltHex := "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
	key, err := scrypt.Key([]byte(norm.NFKC.String(pw)), []byte(saltHex), 16384, 16, 1, 64)
	if err != nil {
		t.Fatal(err)
	}
	baHash := saltHex + ":" + hex.EncodeToString(key)
	acc := flowCredential(t, h, uid)
	if _, err := h.Engine.Store().Update(t.Context(), authcore.ModelAccount, storage.ByID(acc.ID()), storage.Record{"password": baHash}); err != nil {
		t.Fatal(err)
	}

	c, body := flowSignIn(t, h, "alice@example.com", typed)
	if body["user"].(map[string]any)["id"] != uid {
		t.Fatalf("signed in as %v", body["user"])
	}
	if _, obj := getSession(t, c, ""); obj == nil {
		t.Fatal("no session after scrypt sign-in")
	}
	stored := flowCredential(t, h, uid).String("password")
	if !strings.HasPrefix(stored, "$argon2id$") {
		t.Fatalf("hash not upgraded: %q", stored)
	}
	// The upgraded hash verifies the same password (and only it).
	if flowSignInStatus(h, "alice@example.com", pw) != 200 || flowSignInStatus(h, "alice@example.com", "placeholder password") != 401 {
		t.Fatal("upgraded hash does not verify the password")
	}
}

// Spec §6 #2 answers 401 FAILED_TO_CREATE_SESSION when the session cannot be stored;
// Gatehouse keeps the code but answers 500, so that a failed request never sets cookies
// (DUR-02).
func TestSignInSessionStorageFailure(t *testing.T) {
	st := flowFaultyStore{memory.NewStore(), map[string]bool{authcore.ModelSession: true}}
	h := authcoretest.New(t, authcoretest.WithEngineOptions(authcore.WithStore(st)))
	hash, err := h.Engine.HashPassword(flowPW)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Engine.CreateUser(t.Context(), storage.Record{"name": "A", "email": "a@example.com"}, hash); err != nil {
		t.Fatal(err)
	}
	r := h.Client().Post("/sign-in/email", map[string]any{"email": "a@example.com", "password": flowPW})
	// The store failed rather than refused: 503 (issue 12), not Better Auth's code.
	flowErr(t, r, http.StatusServiceUnavailable, "SERVICE_UNAVAILABLE", "Service temporarily unavailable")
	if len(r.Header.Values("Set-Cookie")) != 0 {
		t.Fatalf("cookies on a failed sign-in: %v", r.Header.Values("Set-Cookie"))
	}
}
