package anonymous_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/plugins/anonymous"
	"github.com/gatehouse-auth/gatehouse/storage"
	"github.com/gatehouse-auth/gatehouse/storage/memory"
)

const (
	testPassword = "correct-horse-battery-staple"
	sessionName  = "better-auth.session_token"
)

var defaultEmail = regexp.MustCompile(`^[a-z0-9]{32}@anonymous\.placeholder\.invalid$`)

func newHarness(t *testing.T, p *anonymous.Plugin, opts ...authcoretest.Option) *authcoretest.Harness {
	t.Helper()
	return authcoretest.New(t, append([]authcoretest.Option{authcoretest.WithPlugins(p)}, opts...)...)
}

// signInAnon signs a new client in anonymously and returns it with the response's user.
func signInAnon(t *testing.T, h *authcoretest.Harness) (*authcoretest.Client, map[string]any) {
	t.Helper()
	c := h.Client()
	r := c.Post(anonymous.PathSignInAnonymous, nil)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("sign-in/anonymous: %d %s", r.StatusCode, r.Body)
	}
	u, _ := r.Object()["user"].(map[string]any)
	if u == nil {
		t.Fatalf("sign-in/anonymous: no user in %s", r.Body)
	}
	return c, u
}

func userByID(t *testing.T, h *authcoretest.Harness, id string) storage.Record {
	t.Helper()
	u, err := h.Engine.UserByID(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func sessionCount(t *testing.T, h *authcoretest.Harness, userID string) int {
	t.Helper()
	n, err := h.Engine.Store().Count(t.Context(), authcore.ModelSession, storage.Eq("userId", userID))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func userCount(t *testing.T, h *authcoretest.Harness) int {
	t.Helper()
	n, err := h.Engine.Store().Count(t.Context(), authcore.ModelUser, storage.Where{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// principal authenticates a proxied request carrying a session cookie value, as the gateway
// does for upstream requests.
func principal(t *testing.T, h *authcoretest.Harness, cookieValue string) *authcore.Principal {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "http://app.test/try/page", nil)
	r.Header.Set("Cookie", sessionName+"="+cookieValue)
	p, err := h.Engine.Authenticate(r)
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	return p
}

// sessionUser is the user /get-session answers for a client, or nil.
func sessionUser(t *testing.T, c *authcoretest.Client) map[string]any {
	t.Helper()
	r := c.Get(authcore.PathGetSession)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("get-session: %d %s", r.StatusCode, r.Body)
	}
	u, _ := r.Object()["user"].(map[string]any)
	return u
}

func wantError(t *testing.T, r *authcoretest.Response, status int, code authcore.ErrorCode) {
	t.Helper()
	if r.StatusCode != status || r.Code() != code.Code || r.Object()["message"] != code.Message {
		t.Fatalf("got %d %s; want %d {code %s, message %q}", r.StatusCode, r.Body, status, code.Code, code.Message)
	}
}

// linkRecorder is an OnLinkAccount that records its calls.
type linkRecorder struct {
	mu    sync.Mutex
	calls [][2]storage.Record
	err   error
}

func (l *linkRecorder) fn(_ context.Context, anon, user storage.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, [2]storage.Record{anon, user})
	return l.err
}

func (l *linkRecorder) get() [][2]storage.Record {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([][2]storage.Record(nil), l.calls...)
}

func TestSignInAnonymous(t *testing.T) {
	h := newHarness(t, &anonymous.Plugin{})
	c := h.Client()
	// No body and no content type at all, as the official client sends it (spec §1.1).
	r := c.Post(anonymous.PathSignInAnonymous, nil)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("status %d %s", r.StatusCode, r.Body)
	}
	body := r.Object()
	u, _ := body["user"].(map[string]any)
	tok, _ := body["token"].(string)
	if u == nil || tok == "" || len(body) != 2 {
		t.Fatalf("body %s; want {token, user}", r.Body)
	}
	email, _ := u["email"].(string)
	if u["name"] != anonymous.DefaultName || u["isAnonymous"] != true || u["emailVerified"] != false || u["id"] == "" {
		t.Fatalf("user %v", u)
	}
	// D1: placeholder emails end in .invalid; Better Auth 1.7.25's form, lower-case.
	if !defaultEmail.MatchString(email) || !strings.HasSuffix(email, ".invalid") {
		t.Fatalf("email %q; want <32 lower-case alnum>@anonymous.placeholder.invalid", email)
	}
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("Cache-Control %q: a token-bearing response must not be stored", r.Header.Get("Cache-Control"))
	}
	line, ok := r.SetCookie(sessionName)
	if !ok || !strings.Contains(line, "HttpOnly") || !strings.Contains(line, "Max-Age=") {
		t.Fatalf("session cookie %q", line)
	}
	if v := c.CookieValue(sessionName); !strings.HasPrefix(v, tok+".") {
		t.Fatalf("cookie %q does not carry the returned token %q", v, tok)
	}
	id := u["id"].(string)
	stored := userByID(t, h, id)
	if stored == nil || !stored.Bool("isAnonymous") || stored.Bool("emailVerified") || stored.String("email") != email {
		t.Fatalf("stored user %v", stored)
	}
	if n := sessionCount(t, h, id); n != 1 {
		t.Fatalf("%d sessions for the anonymous user; want 1", n)
	}
	// /get-session shows the anonymous user.
	if su := sessionUser(t, c); su == nil || su["id"] != id || su["isAnonymous"] != true {
		t.Fatalf("get-session user %v", su)
	}
	// The gateway principal is anonymous (D1: only `allow anonymous` rules let it through),
	// and its placeholder email is unverified, so no X-Auth-User-Email is sent for it.
	p := principal(t, h, c.CookieValue(sessionName))
	if p == nil || !p.Anonymous || p.UserID != id || p.Method != "session" || p.User.Bool("emailVerified") {
		t.Fatalf("principal %+v", p)
	}
	// Every sign-in makes a fresh user with a fresh placeholder email.
	_, u2 := signInAnon(t, h)
	if u2["id"] == id || u2["email"] == email {
		t.Fatalf("second guest %v repeats the first %v", u2, u)
	}
}

// A regular user's principal is not anonymous: the default of isAnonymous is false.
func TestRegularUserIsNotAnonymous(t *testing.T) {
	h := newHarness(t, &anonymous.Plugin{})
	c, body := h.SignUp("Alice", "alice@example.com", testPassword)
	u := body["user"].(map[string]any)
	if u["isAnonymous"] != false {
		t.Fatalf("sign-up user %v: isAnonymous should be false", u)
	}
	if p := principal(t, h, c.CookieValue(sessionName)); p == nil || p.Anonymous {
		t.Fatalf("principal %+v", p)
	}
}

func TestSignInAnonymousTwiceRefused(t *testing.T) {
	h := newHarness(t, &anonymous.Plugin{})
	c, u := signInAnon(t, h)
	before := c.CookieValue(sessionName)
	r := c.Post(anonymous.PathSignInAnonymous, nil)
	wantError(t, r, http.StatusBadRequest, anonymous.CodeAnonymousUsersCannotSignInAgainAnonymously)
	if _, ok := r.SetCookie(sessionName); ok {
		t.Fatal("a refused sign-in set a session cookie")
	}
	if n := userCount(t, h); n != 1 {
		t.Fatalf("%d users; the refused sign-in created one", n)
	}
	if c.CookieValue(sessionName) != before || sessionUser(t, c)["id"] != u["id"] {
		t.Fatal("the refused sign-in changed the caller's session")
	}
	// Also with a JSON body, and concurrently: never a second guest.
	var wg sync.WaitGroup
	var ok atomic.Int32
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r := c.Post(anonymous.PathSignInAnonymous, map[string]any{}); r.StatusCode == http.StatusOK {
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 0 || userCount(t, h) != 1 {
		t.Fatalf("%d concurrent repeat sign-ins succeeded, %d users", ok.Load(), userCount(t, h))
	}
}

// Better Auth lets a signed-in regular user sign in anonymously (a new guest replaces the
// session cookie); the regular user is not touched and nothing is linked.
func TestSignInAnonymousWhileSignedIn(t *testing.T) {
	rec := &linkRecorder{}
	h := newHarness(t, &anonymous.Plugin{OnLinkAccount: rec.fn})
	c, body := h.SignUp("Alice", "alice@example.com", testPassword)
	alice := body["user"].(map[string]any)["id"].(string)
	r := c.Post(anonymous.PathSignInAnonymous, nil)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("status %d %s", r.StatusCode, r.Body)
	}
	if su := sessionUser(t, c); su["isAnonymous"] != true || su["id"] == alice {
		t.Fatalf("session user %v", su)
	}
	if userByID(t, h, alice) == nil || sessionCount(t, h, alice) != 1 || len(rec.get()) != 0 {
		t.Fatal("signing in anonymously over a regular session touched the regular user")
	}
}

// Hostile input: the endpoint takes no body, so anything sent is ignored — it can neither
// make the guest non-anonymous nor choose its email — and malformed bodies are 4xx.
func TestSignInAnonymousHostileInput(t *testing.T) {
	h := newHarness(t, &anonymous.Plugin{})
	c := h.Client()
	r := c.Post(anonymous.PathSignInAnonymous, map[string]any{
		"isAnonymous": false, "email": "victim@example.com", "emailVerified": true, "name": strings.Repeat("x", 1<<16), "role": "admin",
	})
	if r.StatusCode != http.StatusOK {
		t.Fatalf("status %d %s", r.StatusCode, r.Body)
	}
	u := r.Object()["user"].(map[string]any)
	if u["isAnonymous"] != true || u["name"] != anonymous.DefaultName || !defaultEmail.MatchString(u["email"].(string)) ||
		u["emailVerified"] != false || u["role"] != "user" {
		t.Fatalf("client-chosen fields were applied: %v", u)
	}
	for _, tc := range []struct {
		body string
		ct   string
	}{
		{`{"a":`, "application/json"},
		{`[1,2]`, "application/json"},
		{`{"a":1,"a":2}`, "application/json"},
		{"hello", "text/plain"},
		{"\x00\xff", "application/json"},
	} {
		r := h.Client().Do(http.MethodPost, anonymous.PathSignInAnonymous, tc.body, "Content-Type", tc.ct)
		if r.StatusCode < 400 || r.StatusCode >= 500 || r.Code() == "" {
			t.Errorf("body %q (%s): %d %s; want a 4xx envelope", tc.body, tc.ct, r.StatusCode, r.Body)
		}
	}
	if r := h.Client().Get(anonymous.PathSignInAnonymous); r.StatusCode != http.StatusNotFound {
		t.Fatalf("GET: %d", r.StatusCode)
	}
}

// Linking by signing up: the guest is deleted with its sessions, the new session works, the
// old guest cookie is dead, and OnLinkAccount saw both users. On memory and bbolt.
func TestLinkOnSignUp(t *testing.T) {
	t.Run("memory", func(t *testing.T) { testLinkOnSignUp(t) })
	t.Run("bolt", func(t *testing.T) { testLinkOnSignUp(t, authcoretest.WithBolt()) })
}

func testLinkOnSignUp(t *testing.T, opts ...authcoretest.Option) {
	rec := &linkRecorder{}
	h := newHarness(t, &anonymous.Plugin{OnLinkAccount: rec.fn}, opts...)
	c, guest := signInAnon(t, h)
	guestID := guest["id"].(string)
	guestCookie := c.CookieValue(sessionName)

	r := c.Post(authcore.PathSignUpEmail, map[string]any{"name": "Alice", "email": "alice@example.com", "password": testPassword})
	if r.StatusCode != http.StatusOK {
		t.Fatalf("sign-up: %d %s", r.StatusCode, r.Body)
	}
	alice := r.Object()["user"].(map[string]any)
	aliceID := alice["id"].(string)
	if alice["isAnonymous"] != false || aliceID == guestID {
		t.Fatalf("new user %v", alice)
	}
	if tok, _ := r.Object()["token"].(string); tok == "" || strings.HasPrefix(guestCookie, tok+".") {
		t.Fatalf("token %q: the sign-up must issue a fresh token (SES-04)", tok)
	}
	if userByID(t, h, guestID) != nil || sessionCount(t, h, guestID) != 0 {
		t.Fatal("the anonymous user or its sessions survived the link")
	}
	if su := sessionUser(t, c); su == nil || su["id"] != aliceID || su["isAnonymous"] != false {
		t.Fatalf("session after link: %v", su)
	}
	if p := principal(t, h, c.CookieValue(sessionName)); p == nil || p.Anonymous || p.UserID != aliceID {
		t.Fatalf("principal after link %+v", p)
	}
	// The old guest cookie no longer maps to anyone (SES-04).
	if p := principal(t, h, guestCookie); p != nil {
		t.Fatalf("old guest cookie still authenticates: %+v", p)
	}
	calls := rec.get()
	if len(calls) != 1 {
		t.Fatalf("OnLinkAccount called %d times; want 1", len(calls))
	}
	a, u := calls[0][0], calls[0][1]
	if a.ID() != guestID || !a.Bool("isAnonymous") || a.String("email") != guest["email"] ||
		u.ID() != aliceID || u.String("email") != "alice@example.com" || u.Bool("isAnonymous") {
		t.Fatalf("OnLinkAccount(%v, %v)", a, u)
	}
	if stored := userByID(t, h, aliceID); stored == nil || stored.Bool("isAnonymous") {
		t.Fatalf("stored new user %v", stored)
	}
}

func TestLinkOnSignIn(t *testing.T) {
	rec := &linkRecorder{}
	h := newHarness(t, &anonymous.Plugin{OnLinkAccount: rec.fn})
	_, body := h.SignUp("Bob", "bob@example.com", testPassword)
	bobID := body["user"].(map[string]any)["id"].(string)
	c, guest := signInAnon(t, h)
	guestID := guest["id"].(string)

	// A failed sign-in links nothing and leaves the guest signed in.
	r := c.Post(authcore.PathSignInEmail, map[string]any{"email": "bob@example.com", "password": "wrong-password-123"})
	if r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d %s", r.StatusCode, r.Body)
	}
	if len(rec.get()) != 0 || userByID(t, h, guestID) == nil || sessionUser(t, c)["id"] != guestID {
		t.Fatal("a failed sign-in linked or dropped the guest")
	}

	r = c.Post(authcore.PathSignInEmail, map[string]any{"email": "bob@example.com", "password": testPassword})
	if r.StatusCode != http.StatusOK {
		t.Fatalf("sign-in: %d %s", r.StatusCode, r.Body)
	}
	if userByID(t, h, guestID) != nil || sessionCount(t, h, guestID) != 0 {
		t.Fatal("the anonymous user survived the sign-in")
	}
	if userByID(t, h, bobID) == nil || sessionUser(t, c)["id"] != bobID {
		t.Fatal("bob is not signed in after the link")
	}
	calls := rec.get()
	if len(calls) != 1 || calls[0][0].ID() != guestID || calls[0][1].ID() != bobID {
		t.Fatalf("OnLinkAccount calls %v", calls)
	}
}

// Without OnLinkAccount the built-in hand-over still runs: the guest is deleted.
func TestLinkWithoutCallback(t *testing.T) {
	h := newHarness(t, &anonymous.Plugin{})
	c, guest := signInAnon(t, h)
	h.SignUp("Bob", "bob@example.com", testPassword)
	if r := c.Post(authcore.PathSignInEmail, map[string]any{"email": "bob@example.com", "password": testPassword}); r.StatusCode != http.StatusOK {
		t.Fatalf("sign-in: %d %s", r.StatusCode, r.Body)
	}
	if userByID(t, h, guest["id"].(string)) != nil {
		t.Fatal("the anonymous user survived")
	}
}

// A sign-up that does not sign in (verification required) links nothing; the verification
// link with auto sign-in then does (the /verify-email entry of the hook's list).
func TestLinkOnVerifyEmail(t *testing.T) {
	rec := &linkRecorder{}
	h := newHarness(t, &anonymous.Plugin{OnLinkAccount: rec.fn}, authcoretest.WithConfig(func(cfg *authcore.Config) {
		cfg.EmailAndPassword.RequireEmailVerification = true
		cfg.EmailVerification.AutoSignInAfterVerification = true
	}))
	c, guest := signInAnon(t, h)
	guestID := guest["id"].(string)
	r := c.Post(authcore.PathSignUpEmail, map[string]any{"name": "Carol", "email": "carol@example.com", "password": testPassword})
	if r.StatusCode != http.StatusOK || r.Object()["token"] != nil {
		t.Fatalf("sign-up: %d %s", r.StatusCode, r.Body)
	}
	if len(rec.get()) != 0 || userByID(t, h, guestID) == nil || sessionUser(t, c)["id"] != guestID {
		t.Fatal("a sign-up without a session linked the guest")
	}
	m := h.Sink.Wait(t, "verify-email", "carol@example.com")
	if r := c.Get(strings.TrimPrefix(m.Data.URL, authcoretest.BaseURL+h.Config.BasePath)); r.StatusCode != http.StatusFound {
		t.Fatalf("verify-email: %d %s", r.StatusCode, r.Body)
	}
	calls := rec.get()
	if len(calls) != 1 || calls[0][0].ID() != guestID || calls[0][1].String("email") != "carol@example.com" {
		t.Fatalf("OnLinkAccount calls %v", calls)
	}
	if userByID(t, h, guestID) != nil {
		t.Fatal("the anonymous user survived the verification sign-in")
	}
	if su := sessionUser(t, c); su == nil || su["email"] != "carol@example.com" {
		t.Fatalf("session after verification %v", su)
	}
}

func TestLinkDisableDelete(t *testing.T) {
	rec := &linkRecorder{}
	h := newHarness(t, &anonymous.Plugin{OnLinkAccount: rec.fn, DisableDeleteAnonymousUser: true})
	c, guest := signInAnon(t, h)
	guestID := guest["id"].(string)
	guestCookie := c.CookieValue(sessionName)
	r := c.Post(authcore.PathSignUpEmail, map[string]any{"name": "Alice", "email": "alice@example.com", "password": testPassword})
	if r.StatusCode != http.StatusOK {
		t.Fatalf("sign-up: %d %s", r.StatusCode, r.Body)
	}
	aliceID := r.Object()["user"].(map[string]any)["id"].(string)
	if g := userByID(t, h, guestID); g == nil || !g.Bool("isAnonymous") || sessionCount(t, h, guestID) != 1 {
		t.Fatal("disable_delete_anonymous_user: the anonymous user or its session was deleted")
	}
	if calls := rec.get(); len(calls) != 1 || calls[0][0].ID() != guestID || calls[0][1].ID() != aliceID {
		t.Fatalf("OnLinkAccount calls %v", calls)
	}
	if sessionUser(t, c)["id"] != aliceID {
		t.Fatal("the new session is not the caller's")
	}
	// The kept guest session still works, and its owner cannot delete itself.
	g := h.Client()
	g.Header.Set("Cookie", sessionName+"="+guestCookie)
	if su := sessionUser(t, g); su == nil || su["id"] != guestID {
		t.Fatalf("kept guest session: %v", su)
	}
	wantError(t, g.Post(anonymous.PathDeleteAnonymousUser, nil), http.StatusBadRequest, anonymous.CodeDeleteAnonymousUserDisabled)
	if userByID(t, h, guestID) == nil {
		t.Fatal("deleted although disabled")
	}
}

// OnLinkAccount failing fails the sign-in: nothing is deleted, the new session is revoked
// and the caller stays the guest. An *authcore.Error is the answer as is (the guest's
// cookie is issued again); any other error is a 500 that sets no cookie.
func TestLinkCallbackError(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		status int
		code   string
	}{
		{"authcore error", authcore.ErrorCode{Code: "CART_CONFLICT", Message: "Cart conflict"}.With(http.StatusConflict), http.StatusConflict, "CART_CONFLICT"},
		{"plain error", errors.New("database down"), http.StatusInternalServerError, "INTERNAL_SERVER_ERROR"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &linkRecorder{err: tc.err}
			h := newHarness(t, &anonymous.Plugin{OnLinkAccount: rec.fn})
			_, body := h.SignUp("Bob", "bob@example.com", testPassword)
			bobID := body["user"].(map[string]any)["id"].(string)
			c, guest := signInAnon(t, h)
			guestID := guest["id"].(string)
			guestCookie := c.CookieValue(sessionName)
			r := c.Post(authcore.PathSignInEmail, map[string]any{"email": "bob@example.com", "password": testPassword})
			if r.StatusCode != tc.status || r.Code() != tc.code || strings.Contains(string(r.Body), "database down") {
				t.Fatalf("got %d %s; want %d %s without internal detail", r.StatusCode, r.Body, tc.status, tc.code)
			}
			if len(rec.get()) != 1 {
				t.Fatalf("OnLinkAccount called %d times", len(rec.get()))
			}
			if userByID(t, h, guestID) == nil || sessionCount(t, h, guestID) != 1 {
				t.Fatal("the guest or its session was deleted although the hand-over failed")
			}
			if n := sessionCount(t, h, bobID); n != 1 {
				t.Fatalf("bob has %d sessions; the failed sign-in's session must be revoked (only sign-up's remains)", n)
			}
			if line, ok := r.SetCookie(sessionName); ok && tc.status >= 500 {
				t.Fatalf("a 500 set a cookie: %s", line)
			}
			if su := sessionUser(t, c); su == nil || su["id"] != guestID {
				t.Fatalf("the caller is no longer the guest: %v", su)
			}
			if p := principal(t, h, guestCookie); p == nil || !p.Anonymous || p.UserID != guestID {
				t.Fatalf("guest cookie after a failed link: %+v", p)
			}
		})
	}
}

// Concurrent sign-ins carrying the same guest cookie link exactly once: OnLinkAccount runs
// once, every sign-in still succeeds, and the guest is gone. The first OnLinkAccount call
// holds the guest (it is not deleted yet) until the 19 other sign-ins have finished, so each
// of them sees a live guest session: without the claim every one would link again.
func TestLinkConcurrentOnce(t *testing.T) {
	const n = 20
	var calls, finished atomic.Int32
	others := make(chan struct{})
	link := func(context.Context, storage.Record, storage.Record) error {
		if calls.Add(1) == 1 {
			select {
			case <-others:
			case <-time.After(5 * time.Second): // only reached when the test is failing
			}
		}
		return nil
	}
	h := newHarness(t, &anonymous.Plugin{OnLinkAccount: link})
	h.SignUp("Bob", "bob@example.com", testPassword)
	c, guest := signInAnon(t, h)
	cookie := c.CookieValue(sessionName)
	var wg sync.WaitGroup
	var ok atomic.Int32
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := h.Client()
			cl.Header.Set("Cookie", sessionName+"="+cookie)
			if r := cl.Post(authcore.PathSignInEmail, map[string]any{"email": "bob@example.com", "password": testPassword}); r.StatusCode == http.StatusOK {
				ok.Add(1)
			}
			if finished.Add(1) == n-1 {
				close(others)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != n {
		t.Fatalf("%d of %d sign-ins succeeded", ok.Load(), n)
	}
	if got := calls.Load(); got != 1 {
		t.Fatalf("OnLinkAccount ran %d times; want exactly once", got)
	}
	if userByID(t, h, guest["id"].(string)) != nil {
		t.Fatal("the guest survived")
	}
}

func TestDeleteAnonymousUser(t *testing.T) {
	h := newHarness(t, &anonymous.Plugin{})
	c, guest := signInAnon(t, h)
	guestID := guest["id"].(string)
	cookie := c.CookieValue(sessionName)

	// No session: 401.
	if r := h.Client().Post(anonymous.PathDeleteAnonymousUser, nil); r.StatusCode != http.StatusUnauthorized || r.Code() != "UNAUTHORIZED" {
		t.Fatalf("no session: %d %s", r.StatusCode, r.Body)
	}
	// A regular user: 403, and nothing deleted.
	alice, body := h.SignUp("Alice", "alice@example.com", testPassword)
	aliceID := body["user"].(map[string]any)["id"].(string)
	wantError(t, alice.Post(anonymous.PathDeleteAnonymousUser, nil), http.StatusForbidden, anonymous.CodeUserIsNotAnonymous)
	if userByID(t, h, aliceID) == nil || sessionCount(t, h, aliceID) != 1 {
		t.Fatal("a regular user was deleted")
	}

	r := c.Post(anonymous.PathDeleteAnonymousUser, nil)
	if r.StatusCode != http.StatusOK || string(r.Body) != `{"success":true}` {
		t.Fatalf("delete: %d %s", r.StatusCode, r.Body)
	}
	line, ok := r.SetCookie(sessionName)
	if !ok || !strings.Contains(line, "Max-Age=0") {
		t.Fatalf("session cookie not expired: %q", line)
	}
	if userByID(t, h, guestID) != nil || sessionCount(t, h, guestID) != 0 {
		t.Fatal("the anonymous user or its sessions survived")
	}
	if p := principal(t, h, cookie); p != nil {
		t.Fatalf("deleted guest still authenticates: %+v", p)
	}
	replay := h.Client()
	replay.Header.Set("Cookie", sessionName+"="+cookie)
	if r := replay.Post(anonymous.PathDeleteAnonymousUser, nil); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("replayed delete: %d %s", r.StatusCode, r.Body)
	}
}

// isAnonymous is server-only (input:false): a client can neither set it on sign-up or
// update-user nor clear it on its own guest account.
func TestIsAnonymousNotClientSettable(t *testing.T) {
	h := newHarness(t, &anonymous.Plugin{})
	for _, v := range []any{true, "true", 1} {
		r := h.Client().Post(authcore.PathSignUpEmail, map[string]any{"name": "M", "email": "mallory@example.com", "password": testPassword, "isAnonymous": v})
		if r.StatusCode != http.StatusBadRequest || r.Code() != authcore.CodeFieldNotAllowed.Code {
			t.Fatalf("sign-up isAnonymous=%v: %d %s", v, r.StatusCode, r.Body)
		}
	}
	if n := userCount(t, h); n != 0 {
		t.Fatalf("%d users after refused sign-ups", n)
	}
	// A false value is dropped; the stored value is the default, false.
	r := h.Client().Post(authcore.PathSignUpEmail, map[string]any{"name": "A", "email": "alice@example.com", "password": testPassword, "isAnonymous": false})
	if r.StatusCode != http.StatusOK {
		t.Fatalf("sign-up isAnonymous=false: %d %s", r.StatusCode, r.Body)
	}
	aliceID := r.Object()["user"].(map[string]any)["id"].(string)
	if u := userByID(t, h, aliceID); u == nil || u.Bool("isAnonymous") {
		t.Fatalf("stored %v", u)
	}
	alice, _ := h.Client(), 0
	alice.Post(authcore.PathSignInEmail, map[string]any{"email": "alice@example.com", "password": testPassword})
	r = alice.Post(authcore.PathUpdateUser, map[string]any{"isAnonymous": true})
	if r.StatusCode != http.StatusBadRequest || r.Code() != authcore.CodeFieldNotAllowed.Code {
		t.Fatalf("update-user isAnonymous=true: %d %s", r.StatusCode, r.Body)
	}
	if u := userByID(t, h, aliceID); u.Bool("isAnonymous") {
		t.Fatal("update-user made alice anonymous")
	}
	// The guest cannot shed its anonymity through update-user either.
	g, guest := signInAnon(t, h)
	r = g.Post(authcore.PathUpdateUser, map[string]any{"isAnonymous": false, "name": "Not a guest"})
	if r.StatusCode != http.StatusOK {
		t.Fatalf("guest update-user: %d %s", r.StatusCode, r.Body)
	}
	u := userByID(t, h, guest["id"].(string))
	if !u.Bool("isAnonymous") || u.String("name") != "Not a guest" {
		t.Fatalf("guest after update-user: %v", u)
	}
	if p := principal(t, h, g.CookieValue(sessionName)); p == nil || !p.Anonymous {
		t.Fatalf("guest principal after update-user: %+v", p)
	}
}

func TestOptions(t *testing.T) {
	t.Run("email_domain_name and name", func(t *testing.T) {
		h := newHarness(t, &anonymous.Plugin{EmailDomainName: "guests.example.invalid", Name: "Guest"})
		_, u := signInAnon(t, h)
		if !regexp.MustCompile(`^temp-[a-z0-9]{32}@guests\.example\.invalid$`).MatchString(u["email"].(string)) || u["name"] != "Guest" {
			t.Fatalf("user %v", u)
		}
	})
	t.Run("generators", func(t *testing.T) {
		h := newHarness(t, &anonymous.Plugin{
			Name:          "Unused",
			GenerateName:  func(context.Context) (string, error) { return "Guest #1", nil },
			GenerateEmail: func(context.Context) (string, error) { return "Custom-1@Guests.Example.invalid", nil },
		})
		_, u := signInAnon(t, h)
		if u["name"] != "Guest #1" || u["email"] != "custom-1@guests.example.invalid" {
			t.Fatalf("user %v", u)
		}
	})
	t.Run("empty generator results fall back", func(t *testing.T) {
		empty := func(context.Context) (string, error) { return "", nil }
		h := newHarness(t, &anonymous.Plugin{Name: "Visitor", GenerateName: empty, GenerateEmail: empty})
		_, u := signInAnon(t, h)
		if u["name"] != "Visitor" || !defaultEmail.MatchString(u["email"].(string)) {
			t.Fatalf("user %v", u)
		}
	})
	t.Run("invalid generated email", func(t *testing.T) {
		h := newHarness(t, &anonymous.Plugin{GenerateEmail: func(context.Context) (string, error) { return "not an email", nil }})
		r := h.Client().Post(anonymous.PathSignInAnonymous, nil)
		wantError(t, r, http.StatusBadRequest, anonymous.CodeInvalidEmailFormat)
		if userCount(t, h) != 0 {
			t.Fatal("a user was created")
		}
	})
	t.Run("generator errors", func(t *testing.T) {
		boom := func(context.Context) (string, error) { return "", errors.New("secret detail") }
		for _, p := range []*anonymous.Plugin{{GenerateName: boom}, {GenerateEmail: boom}} {
			h := newHarness(t, p)
			r := h.Client().Post(anonymous.PathSignInAnonymous, nil)
			if r.StatusCode != http.StatusInternalServerError || strings.Contains(string(r.Body), "secret") || userCount(t, h) != 0 {
				t.Fatalf("%d %s", r.StatusCode, r.Body)
			}
			if _, ok := r.SetCookie(sessionName); ok {
				t.Fatal("a 500 set a cookie")
			}
		}
	})
}

func TestRegisterValidation(t *testing.T) {
	start := func(p *anonymous.Plugin, log *bytes.Buffer) error {
		cfg := authcore.Config{BaseURL: authcoretest.BaseURL, Secret: authcoretest.Secret, SweepInterval: -1}
		opts := []authcore.Option{authcore.WithStore(memory.NewStore()), authcore.WithPlugins(p)}
		if log != nil {
			opts = append(opts, authcore.WithLogger(slog.New(slog.NewTextHandler(log, nil))))
		}
		e, err := authcore.New(cfg, opts...)
		if err == nil {
			e.Close()
		}
		return err
	}
	for _, bad := range []string{"Guests.Example.invalid", "localhost", "@x.invalid", "x..invalid", "guests example.invalid", "-x.invalid/"} {
		err := start(&anonymous.Plugin{EmailDomainName: bad}, nil)
		if err == nil || !strings.Contains(err.Error(), "email_domain_name") {
			t.Errorf("email_domain_name %q: %v; want a start-up error naming the option", bad, err)
		}
	}
	for _, bad := range []string{"   ", "a\nb", strings.Repeat("n", 257), "\xff"} {
		if err := start(&anonymous.Plugin{Name: bad}, nil); err == nil || !strings.Contains(err.Error(), "name") {
			t.Errorf("name %q: %v; want a start-up error", bad, err)
		}
	}
	var log bytes.Buffer
	if err := start(&anonymous.Plugin{EmailDomainName: "guests.example.com"}, &log); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "level=WARN") || !strings.Contains(log.String(), ".invalid") {
		t.Fatalf("no warning for a deliverable placeholder domain: %q", log.String())
	}
	log.Reset()
	if err := start(&anonymous.Plugin{EmailDomainName: "guests.example.invalid", Name: "Guest"}, &log); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(log.String(), "email_domain_name") {
		t.Fatalf("warning for an .invalid domain: %q", log.String())
	}
	// The error vocabulary is declared with Better Auth's exact messages.
	e, err := authcore.New(authcore.Config{BaseURL: authcoretest.BaseURL, Secret: authcoretest.Secret, SweepInterval: -1},
		authcore.WithStore(memory.NewStore()), authcore.WithPlugins(&anonymous.Plugin{}))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	want := map[string]string{
		"INVALID_EMAIL_FORMAT":                             "Email was not generated in a valid format",
		"FAILED_TO_CREATE_USER":                            "Failed to create user",
		"COULD_NOT_CREATE_SESSION":                         "Could not create session",
		"ANONYMOUS_USERS_CANNOT_SIGN_IN_AGAIN_ANONYMOUSLY": "Anonymous users cannot sign in again anonymously",
		"FAILED_TO_DELETE_ANONYMOUS_USER":                  "Failed to delete anonymous user",
		"FAILED_TO_DELETE_ANONYMOUS_USER_SESSIONS":         "Failed to delete anonymous user sessions",
		"USER_IS_NOT_ANONYMOUS":                            "User is not anonymous",
		"DELETE_ANONYMOUS_USER_DISABLED":                   "Deleting anonymous users is disabled",
	}
	got := map[string]string{}
	for _, c := range e.ErrorCodes()["anonymous"] {
		got[c.Code] = c.Message
	}
	for code, msg := range want {
		if got[code] != msg {
			t.Errorf("%s: declared %q, want %q", code, got[code], msg)
		}
	}
}

// failStore fails chosen operations ("create:user", "create:session", "deletemany:session",
// "delete:user") so the plugin's 500 codes can be observed.
type failStore struct {
	inner storage.Store
	mu    sync.Mutex
	fail  map[string]bool
}

func (s *failStore) set(op string, on bool) { s.mu.Lock(); s.fail[op] = on; s.mu.Unlock() }
func (s *failStore) failing(op, model string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fail[op+":"+model]
}

func (s *failStore) Bind(ctx context.Context, schema *storage.Schema) (storage.Adapter, error) {
	a, err := s.inner.Bind(ctx, schema)
	if err != nil {
		return nil, err
	}
	return &failAdapter{Adapter: a, s: s}, nil
}

type failAdapter struct {
	storage.Adapter
	s *failStore
}

var errInjected = errors.New("injected storage failure")

func (a *failAdapter) Create(ctx context.Context, model string, rec storage.Record) (storage.Record, error) {
	if a.s.failing("create", model) {
		return nil, errInjected
	}
	return a.Adapter.Create(ctx, model, rec)
}

func (a *failAdapter) Delete(ctx context.Context, model string, where storage.Where) error {
	if a.s.failing("delete", model) {
		return errInjected
	}
	return a.Adapter.Delete(ctx, model, where)
}

func (a *failAdapter) DeleteMany(ctx context.Context, model string, where storage.Where) (int, error) {
	if a.s.failing("deletemany", model) {
		return 0, errInjected
	}
	return a.Adapter.DeleteMany(ctx, model, where)
}

func (a *failAdapter) Tx(ctx context.Context, fn func(tx storage.Adapter) error) error {
	return a.Adapter.Tx(ctx, func(tx storage.Adapter) error { return fn(&failAdapter{Adapter: tx, s: a.s}) })
}

// TestStorageFailures: a failing store (an I/O error) is answered 503 SERVICE_UNAVAILABLE
// (issue 12: storage faults fail closed), never with a cookie or a half-done state.
func TestStorageFailures(t *testing.T) {
	st := &failStore{inner: memory.NewStore(), fail: map[string]bool{}}
	h := newHarness(t, &anonymous.Plugin{}, authcoretest.WithEngineOptions(authcore.WithStore(st)))
	noCookie := func(r *authcoretest.Response) {
		t.Helper()
		if _, ok := r.SetCookie(sessionName); ok {
			t.Fatal("a failed sign-in set a session cookie")
		}
	}

	st.set("create:user", true)
	r := h.Client().Post(anonymous.PathSignInAnonymous, nil)
	wantError(t, r, http.StatusServiceUnavailable, authcore.CodeServiceUnavailable)
	noCookie(r)
	st.set("create:user", false)

	// The session cannot be stored: no user is left behind.
	st.set("create:session", true)
	r = h.Client().Post(anonymous.PathSignInAnonymous, nil)
	wantError(t, r, http.StatusServiceUnavailable, authcore.CodeServiceUnavailable)
	noCookie(r)
	if n := userCount(t, h); n != 0 {
		t.Fatalf("%d users left by a failed sign-in", n)
	}
	st.set("create:session", false)

	c, guest := signInAnon(t, h)
	st.set("deletemany:session", true)
	wantError(t, c.Post(anonymous.PathDeleteAnonymousUser, nil), http.StatusServiceUnavailable, authcore.CodeServiceUnavailable)
	st.set("deletemany:session", false)
	if userByID(t, h, guest["id"].(string)) == nil {
		t.Fatal("user deleted although its sessions were not")
	}

	// Sessions gone but the user row stays: the caller must sign in anonymously again.
	c2, guest2 := signInAnon(t, h)
	st.set("delete:user", true)
	wantError(t, c2.Post(anonymous.PathDeleteAnonymousUser, nil), http.StatusServiceUnavailable, authcore.CodeServiceUnavailable)
	st.set("delete:user", false)
	if userByID(t, h, guest2["id"].(string)) == nil {
		t.Fatal("the user row was deleted")
	}

	// A deletion failure during a link is logged, not fatal to the sign-in (Better Auth).
	c3, guest3 := signInAnon(t, h)
	st.set("delete:user", true)
	r = c3.Post(authcore.PathSignUpEmail, map[string]any{"name": "D", "email": "dave@example.com", "password": testPassword})
	st.set("delete:user", false)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("sign-up with a failing guest deletion: %d %s", r.StatusCode, r.Body)
	}
	if userByID(t, h, guest3["id"].(string)) == nil || sessionUser(t, c3)["email"] != "dave@example.com" {
		t.Fatal("unexpected state after a failed guest deletion")
	}
}

func TestUnmarshalCaddyfile(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     anonymous.Plugin
		err      string
	}{
		{name: "bare", in: `anonymous`},
		{name: "empty block", in: "anonymous {\n}"},
		{name: "every option", in: "anonymous {\n email_domain_name guests.example.invalid\n name \"Guest user\"\n disable_delete_anonymous_user\n}",
			want: anonymous.Plugin{EmailDomainName: "guests.example.invalid", Name: "Guest user", DisableDeleteAnonymousUser: true}},
		{name: "one line", in: "anonymous {\n name Guest  disable_delete_anonymous_user\n}",
			want: anonymous.Plugin{Name: "Guest", DisableDeleteAnonymousUser: true}},
		{name: "unknown option", in: "anonymous {\n generate_name x\n}", err: `unknown option "generate_name"`},
		{name: "argument after the name", in: `anonymous yes`, err: "wrong argument count"},
		{name: "missing value", in: "anonymous {\n email_domain_name\n}", err: "expected 1 argument"},
		{name: "given twice", in: "anonymous {\n name a\n name b\n}", err: "given twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p anonymous.Plugin
			err := p.UnmarshalCaddyfile(caddyfile.NewTestDispenser(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v; want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.EmailDomainName != tc.want.EmailDomainName || p.Name != tc.want.Name || p.DisableDeleteAnonymousUser != tc.want.DisableDeleteAnonymousUser {
				t.Fatalf("got %+v; want %+v", p, tc.want)
			}
		})
	}
	if id := (anonymous.Plugin{}).CaddyModule().ID; id != "gatehouse.plugins.anonymous" {
		t.Fatalf("module id %q", id)
	}
	// The JSON form Caddy stores: snake_case keys, the Go-only callbacks left out.
	b, err := json.Marshal(&anonymous.Plugin{EmailDomainName: "g.example.invalid", Name: "Guest", DisableDeleteAnonymousUser: true,
		OnLinkAccount: func(context.Context, storage.Record, storage.Record) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"email_domain_name":"g.example.invalid","name":"Guest","disable_delete_anonymous_user":true}`; string(b) != want {
		t.Fatalf("JSON %s; want %s", b, want)
	}
	if b, _ := json.Marshal(&anonymous.Plugin{}); string(b) != "{}" {
		t.Fatalf("zero JSON %s", b)
	}
}
