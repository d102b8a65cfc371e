package auditlog_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/caddymodule/caddyopts/caddyoptstest"
	"github.com/gatehouse-auth/gatehouse/examples/auditlog"
	"github.com/gatehouse-auth/gatehouse/storage"
	"github.com/gatehouse-auth/gatehouse/storage/memory"
)

const (
	pw  = "correct horse battery"
	pw2 = "another horse battery"
)

// newH starts an engine with the plugin, a test-only sign-in plugin (a "third party's" route
// under /sign-in/), and client IPs taken from X-Test-IP so tests can tell which address an
// entry recorded.
func newH(t *testing.T, p *auditlog.Plugin, opts ...authcoretest.Option) *authcoretest.Harness {
	t.Helper()
	if p == nil {
		p = &auditlog.Plugin{}
	}
	ip := authcore.WithClientIP(func(r *http.Request) string {
		if v := r.Header.Get("X-Test-IP"); v != "" {
			return v
		}
		return "127.0.0.1"
	})
	return authcoretest.New(t, append([]authcoretest.Option{
		authcoretest.WithPlugins(p, testSignIn{}), authcoretest.WithEngineOptions(ip),
	}, opts...)...)
}

// testSignIn is another plugin: /sign-in/test signs the named user in through Call.SignIn
// (unless its gate answers {"challenge": true} with a challenge, as two-factor does);
// /sign-in/test-pending answers without a session (like a magic-link request); /test/verify
// signs in outside /sign-in/ (like /magic-link/verify); /test/reissue starts a session for
// the caller without SignIn (like a re-issued session), which is not a sign-in.
type testSignIn struct{}

func (testSignIn) ID() string { return "test-sign-in" }

func (testSignIn) Register(r *authcore.Registrar) error {
	e := r.Engine()
	signIn := func(method string) authcore.HandlerFunc {
		return func(c *authcore.Call) (any, error) {
			u, err := e.UserByEmail(c.Context(), c.Body.String("email"))
			if err != nil || u == nil {
				return nil, authcore.NewError(http.StatusUnauthorized, "no such user")
			}
			s, err := c.SignIn(u, authcore.SignInOptions{Method: method})
			if err != nil {
				return nil, err
			}
			return map[string]any{"token": s.Token}, nil
		}
	}
	// Registered after audit-log's gate (plugins register by ID), so audit-log has already
	// seen the sign-in when this one interrupts it.
	r.SessionGate(func(c *authcore.Call, _ storage.Record, _ authcore.SignInOptions) error {
		if c.Body.Bool("challenge") {
			return &authcore.Interrupt{Response: map[string]any{"twoFactorRedirect": true}}
		}
		return nil
	})
	body := []authcore.Param{authcore.String("email").Req(), authcore.Bool("challenge")}
	for _, ep := range []authcore.Endpoint{
		{Method: "POST", Path: "/sign-in/test", Body: body, Handler: signIn("test")},
		{Method: "POST", Path: "/test/verify", Body: body, Handler: signIn("test-verify")},
		{Method: "POST", Path: "/sign-in/test-pending", BodyOptional: true,
			Handler: func(*authcore.Call) (any, error) { return map[string]any{"status": true}, nil }},
		{Method: "POST", Path: "/test/reissue", Auth: authcore.AuthSession, BodyOptional: true,
			Handler: func(c *authcore.Call) (any, error) {
				s, _ := c.Session()
				if _, err := c.StartSession(s.User, false); err != nil {
					return nil, err
				}
				return map[string]any{"status": true}, nil
			}},
	} {
		if err := r.Endpoint(ep); err != nil {
			return err
		}
	}
	return nil
}

func wantCode(t *testing.T, r *authcoretest.Response, status int, code string) {
	t.Helper()
	if r.StatusCode != status || r.Code() != code {
		t.Fatalf("got %d %q, want %d %s; body %s", r.StatusCode, r.Code(), status, code, r.Body)
	}
}

func want200(t *testing.T, r *authcoretest.Response) {
	t.Helper()
	if r.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200; body %s", r.StatusCode, r.Body)
	}
}

// entries returns the stored entries of a user, oldest first, once the background queue ran.
func entries(h *authcoretest.Harness, userID string) []storage.Record {
	h.T.Helper()
	h.Drain()
	recs, err := h.Engine.Store().FindMany(context.Background(), auditlog.ModelAuditEntry, storage.Query{
		Where: storage.Eq("userId", userID), Sort: []storage.SortField{{Field: "createdAt"}}})
	if err != nil {
		h.T.Fatal(err)
	}
	return recs
}

func allEntries(h *authcoretest.Harness) int {
	h.T.Helper()
	h.Drain()
	n, err := h.Engine.Store().Count(context.Background(), auditlog.ModelAuditEntry, storage.Where{})
	if err != nil {
		h.T.Fatal(err)
	}
	return n
}

func userOf(t *testing.T, h *authcoretest.Harness, email string) storage.Record {
	t.Helper()
	u, err := h.Engine.UserByEmail(context.Background(), email)
	if err != nil || u == nil {
		t.Fatalf("user %s: %v %v", email, u, err)
	}
	return u
}

// wantOne asserts that exactly one entry was added since before, with this action, route,
// IP and user agent, at the harness clock's time, and returns it.
func wantOne(t *testing.T, h *authcoretest.Harness, userID string, before int, action, route, ip, ua string) storage.Record {
	t.Helper()
	recs := entries(h, userID)
	if len(recs) != before+1 {
		t.Fatalf("%s: %d entries, want %d: %v", action, len(recs), before+1, recs)
	}
	e := recs[len(recs)-1]
	if e.String("action") != action || e.String("route") != route || e.String("ip") != ip || e.String("userAgent") != ua {
		t.Fatalf("entry %v, want %s %s %s %q", e, action, route, ip, ua)
	}
	if !e.Time("createdAt").Equal(h.Clock.Now()) {
		t.Fatalf("createdAt %v, want %v", e.Time("createdAt"), h.Clock.Now())
	}
	return e
}

// TestEveryHookRecordsOneEntry walks one user through every recorded action and checks that
// each adds exactly one entry with the caller's IP and User-Agent, that a failed attempt
// adds none, and that a sign-in stamps lastSeenAt.
func TestEveryHookRecordsOneEntry(t *testing.T) {
	h := newH(t, nil)
	c := h.Client()
	r := c.Post(authcore.PathSignUpEmail, map[string]any{"name": "Ada", "email": "ada@example.com", "password": pw},
		"User-Agent", "ua-signup", "X-Test-IP", "203.0.113.1")
	want200(t, r)
	ada := userOf(t, h, "ada@example.com").ID()
	wantOne(t, h, ada, 0, auditlog.ActionSignUp, authcore.PathSignUpEmail, "203.0.113.1", "ua-signup")
	if userOf(t, h, "ada@example.com").Has(auditlog.FieldLastSeenAt) {
		t.Fatal("sign-up set lastSeenAt; only sign-ins do")
	}

	// A wrong password records nothing.
	h.Clock.Advance(time.Minute)
	r = h.Client().Post(authcore.PathSignInEmail, map[string]any{"email": "ada@example.com", "password": "wrong password!"})
	wantCode(t, r, http.StatusUnauthorized, "INVALID_EMAIL_OR_PASSWORD")
	if n := len(entries(h, ada)); n != 1 {
		t.Fatalf("a failed sign-in recorded something: %d entries", n)
	}

	h.Clock.Advance(time.Minute)
	r = c.Post(authcore.PathSignInEmail, map[string]any{"email": "ada@example.com", "password": pw},
		"User-Agent", "ua-signin", "X-Test-IP", "2001:db8::7")
	want200(t, r)
	if e := wantOne(t, h, ada, 1, auditlog.ActionSignIn, authcore.PathSignInEmail, "2001:db8::7", "ua-signin"); e.String("method") != "email" {
		t.Fatalf("sign-in method %q", e.String("method"))
	}
	if got := userOf(t, h, "ada@example.com").Time(auditlog.FieldLastSeenAt); !got.Equal(h.Clock.Now()) {
		t.Fatalf("lastSeenAt %v, want %v", got, h.Clock.Now())
	}
	// The user object clients read carries it.
	r = c.Get(authcore.PathGetSession)
	if u, _ := r.Object()["user"].(map[string]any); u[auditlog.FieldLastSeenAt] == nil {
		t.Fatalf("get-session user without lastSeenAt: %s", r.Body)
	}

	// Another plugin's sign-in under /sign-in/ counts; a route there that creates no
	// session does not.
	h.Clock.Advance(time.Minute)
	want200(t, c.Post("/sign-in/test-pending", nil, "User-Agent", "ua-pending"))
	if n := len(entries(h, ada)); n != 2 {
		t.Fatalf("a sign-in route without a session recorded something: %d entries", n)
	}
	want200(t, c.Post("/sign-in/test", map[string]any{"email": "ada@example.com"}, "User-Agent", "ua-plugin", "X-Test-IP", "198.51.100.9"))
	if e := wantOne(t, h, ada, 2, auditlog.ActionSignIn, "/sign-in/test", "198.51.100.9", "ua-plugin"); e.String("method") != "test" {
		t.Fatalf("sign-in method %q", e.String("method"))
	}
	if got := userOf(t, h, "ada@example.com").Time(auditlog.FieldLastSeenAt); !got.Equal(h.Clock.Now()) {
		t.Fatalf("lastSeenAt after a plugin sign-in %v, want %v", got, h.Clock.Now())
	}
	// A sign-in a later gate interrupts (a two-factor challenge) records nothing; the call
	// that completes it, outside /sign-in/, records one.
	h.Clock.Advance(time.Minute)
	r = c.Post("/sign-in/test", map[string]any{"email": "ada@example.com", "challenge": true})
	if want200(t, r); r.Object()["twoFactorRedirect"] != true {
		t.Fatalf("challenge: %s", r.Body)
	}
	if n := len(entries(h, ada)); n != 3 {
		t.Fatalf("an interrupted sign-in recorded something: %d entries", n)
	}
	want200(t, c.Post("/test/verify", map[string]any{"email": "ada@example.com"}, "User-Agent", "ua-verify", "X-Test-IP", "198.51.100.10"))
	if e := wantOne(t, h, ada, 3, auditlog.ActionSignIn, "/test/verify", "198.51.100.10", "ua-verify"); e.String("method") != "test-verify" {
		t.Fatalf("sign-in method %q", e.String("method"))
	}
	// A session started without SignIn is not a sign-in.
	want200(t, c.Post("/test/reissue", nil))
	if n := len(entries(h, ada)); n != 4 {
		t.Fatalf("a re-issued session recorded something: %d entries", n)
	}

	// Change password: a wrong current password records nothing, the right one one entry.
	h.Clock.Advance(time.Minute)
	r = c.Post(authcore.PathChangePassword, map[string]any{"currentPassword": "not it at all", "newPassword": pw2})
	if r.StatusCode != http.StatusBadRequest {
		t.Fatalf("change-password with a wrong password: %d %s", r.StatusCode, r.Body)
	}
	r = c.Post(authcore.PathChangePassword, map[string]any{"currentPassword": pw, "newPassword": pw2},
		"User-Agent", "ua-change", "X-Test-IP", "203.0.113.2")
	want200(t, r)
	wantOne(t, h, ada, 4, auditlog.ActionChangePassword, authcore.PathChangePassword, "203.0.113.2", "ua-change")

	h.Clock.Advance(time.Minute)
	want200(t, c.Post(authcore.PathSignOut, nil, "User-Agent", "ua-signout", "X-Test-IP", "203.0.113.3"))
	wantOne(t, h, ada, 5, auditlog.ActionSignOut, authcore.PathSignOut, "203.0.113.3", "ua-signout")
	// Signing out without a session records nothing.
	want200(t, c.Post(authcore.PathSignOut, nil))
	if n := len(entries(h, ada)); n != 6 {
		t.Fatalf("a sign-out without a session recorded something: %d entries", n)
	}

	// Reset password: a bad token records nothing, the emailed one one entry.
	want200(t, c.Post(authcore.PathRequestPasswordReset, map[string]any{"email": "ada@example.com"}))
	msgs := h.Sent("reset-password", "ada@example.com")
	if len(msgs) != 1 {
		t.Fatalf("%d reset emails", len(msgs))
	}
	h.Clock.Advance(time.Minute)
	r = c.Post(authcore.PathResetPassword, map[string]any{"token": "forged", "newPassword": pw})
	wantCode(t, r, http.StatusBadRequest, "INVALID_TOKEN")
	r = c.Post(authcore.PathResetPassword, map[string]any{"token": msgs[0].Data.Token, "newPassword": pw},
		"User-Agent", "ua-reset", "X-Test-IP", "203.0.113.4")
	want200(t, r)
	wantOne(t, h, ada, 6, auditlog.ActionResetPassword, authcore.PathResetPassword, "203.0.113.4", "ua-reset")
	// The token is spent: a replay records nothing.
	r = c.Post(authcore.PathResetPassword, map[string]any{"token": msgs[0].Data.Token, "newPassword": pw2})
	wantCode(t, r, http.StatusBadRequest, "INVALID_TOKEN")
	if n := len(entries(h, ada)); n != 7 {
		t.Fatalf("a replayed reset recorded something: %d entries", n)
	}
}

// TestQuietSignUp: when sign-up does not sign in, a new user is still recorded, and a sign-up
// of a taken address (answered with a synthetic user) records nothing for anyone.
func TestQuietSignUp(t *testing.T) {
	h := newH(t, nil, authcoretest.WithConfig(func(c *authcore.Config) {
		c.EmailAndPassword.RequireEmailVerification = true
	}))
	body := map[string]any{"name": "Ada", "email": "ada@example.com", "password": pw}
	want200(t, h.Client().Post(authcore.PathSignUpEmail, body))
	ada := userOf(t, h, "ada@example.com").ID()
	if recs := entries(h, ada); len(recs) != 1 || recs[0].String("action") != auditlog.ActionSignUp {
		t.Fatalf("entries %v", recs)
	}
	r := h.Client().Post(authcore.PathSignUpEmail, body)
	want200(t, r)
	if n := allEntries(h); n != 1 {
		t.Fatalf("a sign-up of a taken email recorded something: %d entries in all", n)
	}
}

// TestActionsOption: only the configured actions are recorded.
func TestActionsOption(t *testing.T) {
	h := newH(t, &auditlog.Plugin{Actions: []string{auditlog.ActionSignOut}})
	c, _ := h.SignUp("Ada", "ada@example.com", pw)
	want200(t, c.Post(authcore.PathSignInEmail, map[string]any{"email": "ada@example.com", "password": pw}))
	want200(t, c.Post(authcore.PathSignOut, nil))
	recs := entries(h, userOf(t, h, "ada@example.com").ID())
	if len(recs) != 1 || recs[0].String("action") != auditlog.ActionSignOut {
		t.Fatalf("entries %v, want one sign-out", recs)
	}
	if userOf(t, h, "ada@example.com").Has(auditlog.FieldLastSeenAt) {
		t.Fatal("lastSeenAt stamped although sign-in is not recorded")
	}
}

type listed struct {
	Entries []map[string]any `json:"entries"`
	Total   float64          `json:"total"`
}

func list(t *testing.T, c *authcoretest.Client, query string) listed {
	t.Helper()
	r := c.Get(auditlog.PathList + query)
	want200(t, r)
	m := r.Object()
	var out listed
	out.Total, _ = m["total"].(float64)
	arr, ok := m["entries"].([]any)
	if !ok {
		t.Fatalf("no entries array: %s", r.Body)
	}
	for _, e := range arr {
		out.Entries = append(out.Entries, e.(map[string]any))
	}
	return out
}

// TestListPaginationAndIsolation: newest first, windows of limit from offset, total over all
// of the user's entries, and never another user's entries.
func TestListPaginationAndIsolation(t *testing.T) {
	h := newH(t, nil)
	ada, _ := h.SignUp("Ada", "ada@example.com", pw)
	bob, _ := h.SignUp("Bob", "bob@example.com", pw)
	for i := range 4 {
		h.Clock.Advance(time.Second)
		want200(t, ada.Post(authcore.PathSignInEmail, map[string]any{"email": "ada@example.com", "password": pw},
			"User-Agent", fmt.Sprintf("ua-%d", i)))
	}
	h.Drain()
	got := list(t, ada, "")
	if got.Total != 5 || len(got.Entries) != 5 {
		t.Fatalf("default list: total %v, %d entries", got.Total, len(got.Entries))
	}
	for i, want := range []string{"ua-3", "ua-2", "ua-1", "ua-0"} {
		if got.Entries[i]["userAgent"] != want || got.Entries[i]["action"] != auditlog.ActionSignIn {
			t.Fatalf("entry %d: %v, want sign-in by %s (newest first)", i, got.Entries[i], want)
		}
	}
	last := got.Entries[4]
	if last["action"] != auditlog.ActionSignUp || last["userId"] != nil || last["id"] == nil || last["createdAt"] == nil {
		t.Fatalf("oldest entry %v", last)
	}
	var ids []any
	for _, q := range []string{"?limit=2", "?limit=2&offset=2", "?limit=2&offset=4", "?limit=2&offset=6"} {
		page := list(t, ada, q)
		if page.Total != 5 {
			t.Fatalf("%s: total %v", q, page.Total)
		}
		for _, e := range page.Entries {
			ids = append(ids, e["id"])
		}
	}
	if len(ids) != 5 {
		t.Fatalf("pages held %d entries, want 5", len(ids))
	}
	for i, e := range got.Entries {
		if ids[i] != e["id"] {
			t.Fatalf("pages disagree with the full list at %d", i)
		}
	}
	// Bob sees only his sign-up.
	b := list(t, bob, "?limit=100")
	if b.Total != 1 || len(b.Entries) != 1 || b.Entries[0]["action"] != auditlog.ActionSignUp {
		t.Fatalf("bob's list %+v", b)
	}
	for _, e := range got.Entries {
		if e["id"] == b.Entries[0]["id"] {
			t.Fatal("bob's entry in ada's list")
		}
	}
	// No session: 401, and the interceptor still marks the answer.
	r := h.Client().Get(auditlog.PathList)
	wantCode(t, r, http.StatusUnauthorized, "UNAUTHORIZED")
	if r.Header.Get(auditlog.HeaderAuditLog) != "on" {
		t.Fatal("no X-Audit-Log on an error answer")
	}
}

func TestListBadPagination(t *testing.T) {
	h := newH(t, nil)
	c, _ := h.SignUp("Ada", "ada@example.com", pw)
	for _, q := range []string{"?limit=101", "?limit=1000000", "?limit=9007199254740993", "?limit=1e300"} {
		wantCode(t, c.Get(auditlog.PathList+q), http.StatusBadRequest, auditlog.CodeLimitTooLarge.Code)
	}
	if r := c.Get(auditlog.PathList + "?limit=101"); r.Object()["message"] != auditlog.CodeLimitTooLarge.Message {
		t.Fatalf("message %s", r.Body)
	}
	for _, q := range []string{"?limit=0", "?limit=-1", "?limit=1.5", "?offset=-1", "?offset=0.5", "?limit=NaN", "?limit=-1e300"} {
		wantCode(t, c.Get(auditlog.PathList+q), http.StatusBadRequest, auditlog.CodeInvalidPagination.Code)
	}
	// Not numbers at all, or repeated: the declared number parameter refuses them.
	for _, q := range []string{"?limit=abc", "?limit=1&limit=2", "?offset=" + strings.Repeat("9", 400), "?limit=Infinity", "?limit=%00"} {
		r := c.Get(auditlog.PathList + q)
		if r.StatusCode != http.StatusBadRequest || r.Code() == "" {
			t.Fatalf("%s: %d %s", q, r.StatusCode, r.Body)
		}
	}
	// The edges are fine; a huge offset is an empty page.
	for _, q := range []string{"?limit=1", "?limit=100", "?offset=0", "?offset=5000000000"} {
		want200(t, c.Get(auditlog.PathList+q))
	}
	if got := list(t, c, "?offset=5000000000"); len(got.Entries) != 0 || got.Total != 1 {
		t.Fatalf("huge offset: %+v", got)
	}
}

// TestClear: a fresh session deletes the caller's entries and nobody else's; a stale one is
// refused with SESSION_NOT_FRESH and deletes nothing.
func TestClear(t *testing.T) {
	h := newH(t, nil)
	ada, _ := h.SignUp("Ada", "ada@example.com", pw)
	bob, _ := h.SignUp("Bob", "bob@example.com", pw)
	want200(t, ada.Post(authcore.PathSignInEmail, map[string]any{"email": "ada@example.com", "password": pw}))
	adaID, bobID := userOf(t, h, "ada@example.com").ID(), userOf(t, h, "bob@example.com").ID()
	if len(entries(h, adaID)) != 2 || len(entries(h, bobID)) != 1 {
		t.Fatal("setup")
	}

	wantCode(t, h.Client().Post(auditlog.PathClear, nil), http.StatusUnauthorized, "UNAUTHORIZED")

	h.Clock.Advance(25 * time.Hour) // past fresh_age (1d), within expires_in (7d)
	wantCode(t, ada.Post(auditlog.PathClear, nil), http.StatusForbidden, "SESSION_NOT_FRESH")
	if len(entries(h, adaID)) != 2 {
		t.Fatal("a stale session cleared entries")
	}

	// A new sign-in makes a fresh session (and records one more entry).
	want200(t, ada.Post(authcore.PathSignInEmail, map[string]any{"email": "ada@example.com", "password": pw}))
	h.Drain()
	r := ada.Post(auditlog.PathClear, nil)
	want200(t, r)
	if r.Object()["deleted"] != float64(3) {
		t.Fatalf("clear: %s", r.Body)
	}
	if n := len(entries(h, adaID)); n != 0 {
		t.Fatalf("%d entries left", n)
	}
	if len(entries(h, bobID)) != 1 {
		t.Fatal("clearing ada's log touched bob's")
	}
	if got := list(t, bob, ""); got.Total != 1 {
		t.Fatalf("bob's list after ada's clear: %+v", got)
	}
	// Hostile bodies are 4xx envelopes, never 500.
	for _, b := range []string{`[1,2]`, `{"a":`, `"x"`, `{"a":1,"a":2}`} {
		r := ada.Post(auditlog.PathClear, b)
		if r.StatusCode != http.StatusBadRequest || r.Code() == "" {
			t.Fatalf("body %s: %d %s", b, r.StatusCode, r.Body)
		}
	}
	r = ada.Post(auditlog.PathClear, "deleted=all", "Content-Type", "text/plain")
	if r.StatusCode != http.StatusUnsupportedMediaType {
		t.Fatalf("text body: %d %s", r.StatusCode, r.Body)
	}
}

// TestMiddlewareAndInterceptor: every /audit-log/ answer is no-store and JSON-only; every
// auth-API answer (other routes and errors included) carries X-Audit-Log: on.
func TestMiddlewareAndInterceptor(t *testing.T) {
	h := newH(t, nil)
	c, _ := h.SignUp("Ada", "ada@example.com", pw)
	r := c.Get(auditlog.PathList)
	want200(t, r)
	if r.Header.Get("Cache-Control") != "no-store" || r.Header.Get("Pragma") != "no-cache" {
		t.Fatalf("list cache headers %q %q", r.Header.Get("Cache-Control"), r.Header.Get("Pragma"))
	}
	for _, accept := range []string{"application/json", "*/*", "application/*", "text/html, application/json;q=0.5", "text/html,application/xhtml+xml,*/*;q=0.8"} {
		want200(t, c.Get(auditlog.PathList, "Accept", accept))
	}
	for _, accept := range []string{"text/html", "application/json;q=0", "image/png, text/*", "application/problem+json", "application/json;q=abc"} {
		r := c.Get(auditlog.PathList, "Accept", accept)
		wantCode(t, r, http.StatusNotAcceptable, auditlog.CodeNotAcceptable.Code)
		if r.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("406 without no-store")
		}
	}
	wantCode(t, c.Post(auditlog.PathClear, nil, "Accept", "text/html"), http.StatusNotAcceptable, auditlog.CodeNotAcceptable.Code)
	if n := len(entries(h, userOf(t, h, "ada@example.com").ID())); n != 1 {
		t.Fatalf("a refused clear deleted entries: %d left", n)
	}
	// Outside /audit-log/ the middleware does nothing.
	r = c.Get(authcore.PathOK, "Accept", "text/html")
	want200(t, r)
	if r.Header.Get("Cache-Control") == "no-store" {
		t.Fatal("middleware ran outside /audit-log/")
	}
	// The interceptor marks every answer: success, validation error, origin refusal.
	for _, r := range []*authcoretest.Response{
		r,
		c.Get(authcore.PathGetSession),
		h.Client().Post(authcore.PathSignInEmail, map[string]any{"email": 1}),
		h.Client().Post(authcore.PathSignInEmail, map[string]any{"email": "a@example.com", "password": "x"}, "Origin", "https://evil.example"),
	} {
		if r.Header.Get(auditlog.HeaderAuditLog) != "on" {
			t.Fatalf("%s %s: no X-Audit-Log (%d)", r.Request.Method, r.Request.URL.Path, r.StatusCode)
		}
	}
}

// TestRateLimit: /audit-log/list allows 30 requests a minute per client, then 429 with
// Retry-After; the window passing lets requests through again; other routes are not counted.
func TestRateLimit(t *testing.T) {
	h := newH(t, nil, authcoretest.WithConfig(func(c *authcore.Config) { c.RateLimit.Disabled = false }))
	c, _ := h.SignUp("Ada", "ada@example.com", pw)
	for i := range 30 {
		if r := c.Get(auditlog.PathList); r.StatusCode != http.StatusOK {
			t.Fatalf("request %d: %d %s", i+1, r.StatusCode, r.Body)
		}
	}
	r := c.Get(auditlog.PathList)
	if r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
		t.Fatalf("31st request: %d %v", r.StatusCode, r.Header)
	}
	// Another client address has its own bucket.
	want200(t, c.Get(auditlog.PathList, "X-Test-IP", "203.0.113.50"))
	want200(t, c.Get(authcore.PathGetSession))
	h.Clock.Advance(61 * time.Second)
	want200(t, c.Get(auditlog.PathList))
}

// TestRetention: entries older than the retention go on the next write (sweeps at most once
// a minute); younger ones stay.
func TestRetention(t *testing.T) {
	h := newH(t, &auditlog.Plugin{Retention: authcore.Duration(time.Hour)})
	c, _ := h.SignUp("Ada", "ada@example.com", pw)
	ada := userOf(t, h, "ada@example.com").ID()
	h.Clock.Advance(30 * time.Minute)
	want200(t, c.Post(authcore.PathSignInEmail, map[string]any{"email": "ada@example.com", "password": pw}))
	if n := len(entries(h, ada)); n != 2 {
		t.Fatalf("%d entries", n)
	}
	h.Clock.Advance(45 * time.Minute) // sign-up is 75 min old, the sign-in 45
	want200(t, c.Post(authcore.PathSignOut, nil))
	recs := entries(h, ada)
	if len(recs) != 2 || recs[0].String("action") != auditlog.ActionSignIn || recs[1].String("action") != auditlog.ActionSignOut {
		t.Fatalf("after the sweep: %v", recs)
	}
	// Deleting the user deletes their entries (cascade).
	if err := h.Engine.DeleteUser(context.Background(), ada); err != nil {
		t.Fatal(err)
	}
	if n := allEntries(h); n != 0 {
		t.Fatalf("%d entries outlived their user", n)
	}
}

// TestHostileHeaders: a huge or invalid User-Agent is stored bounded and valid, never a 500.
func TestHostileHeaders(t *testing.T) {
	h := newH(t, nil)
	c, _ := h.SignUp("Ada", "ada@example.com", pw)
	ada := userOf(t, h, "ada@example.com").ID()
	h.Clock.Advance(time.Second)
	want200(t, c.Post(authcore.PathSignInEmail, map[string]any{"email": "ada@example.com", "password": pw},
		"User-Agent", strings.Repeat("é", 20000)))
	// Go's HTTP client will not send invalid UTF-8 in User-Agent; other clients can, so the
	// Go API takes it.
	api, _ := h.Engine.Plugin("audit-log")
	api.(*auditlog.Plugin).Record(auditlog.Entry{UserID: ada, Action: auditlog.ActionSignIn,
		UserAgent: "bad \xff\xfe bytes", At: h.Clock.Now().Add(time.Second)})
	recs := entries(h, ada)
	if len(recs) != 3 {
		t.Fatalf("%d entries", len(recs))
	}
	long, bad := recs[1].String("userAgent"), recs[2].String("userAgent")
	if len(long) > 512 || len(long) < 500 || strings.Trim(long, "é") != "" {
		t.Fatalf("long user agent stored as %d bytes", len(long))
	}
	if bad != "bad  bytes" {
		t.Fatalf("invalid UTF-8 stored as %q", bad)
	}
	got := list(t, c, "")
	if len(got.Entries) != 3 {
		t.Fatalf("list: %+v", got)
	}
}

// TestDeclarations: the endpoints carry their OpenAPI metadata, the codes are declared, and
// the Go API is published.
func TestDeclarations(t *testing.T) {
	h := newH(t, nil)
	seen := map[string]bool{}
	for _, ep := range h.Engine.Endpoints() {
		if ep.Owner() != "audit-log" {
			continue
		}
		seen[ep.Method+" "+ep.Path] = true
		if ep.Summary == "" || len(ep.Tags) == 0 || ep.Response == nil || len(ep.Errors) == 0 {
			t.Fatalf("%s %s lacks OpenAPI metadata", ep.Method, ep.Path)
		}
	}
	if !seen["GET "+auditlog.PathList] || !seen["POST "+auditlog.PathClear] || len(seen) != 2 {
		t.Fatalf("endpoints %v", seen)
	}
	codes := map[string]bool{}
	for _, c := range h.Engine.ErrorCodes()["audit-log"] {
		codes[c.Code] = true
	}
	for _, c := range []authcore.ErrorCode{auditlog.CodeLimitTooLarge, auditlog.CodeInvalidPagination, auditlog.CodeNotAcceptable} {
		if !codes[c.Code] {
			t.Fatalf("%s not declared: %v", c.Code, h.Engine.ErrorCodes())
		}
	}
	api, ok := h.Engine.Plugin("audit-log")
	rec, isRecorder := api.(interface{ Record(auditlog.Entry) })
	if !ok || !isRecorder {
		t.Fatalf("Go API %T", api)
	}
	c, _ := h.SignUp("Ada", "ada@example.com", pw)
	ada := userOf(t, h, "ada@example.com").ID()
	rec.Record(auditlog.Entry{UserID: ada, Action: auditlog.ActionSignOut, At: h.Clock.Now()})
	rec.Record(auditlog.Entry{UserID: ada, Action: "unknown", At: h.Clock.Now()})
	rec.Record(auditlog.Entry{UserID: "no-such-user", Action: auditlog.ActionSignOut, At: h.Clock.Now()})
	if got := list(t, c, ""); got.Total != 2 {
		t.Fatalf("after Record: %+v", got)
	}
	// A server-only field: clients cannot set lastSeenAt.
	r := c.Post(authcore.PathUpdateUser, map[string]any{auditlog.FieldLastSeenAt: "2030-01-01T00:00:00Z"})
	wantCode(t, r, http.StatusBadRequest, "FIELD_NOT_ALLOWED")
}

func TestRegisterRejectsBadOptions(t *testing.T) {
	for _, tc := range []struct {
		p    *auditlog.Plugin
		want string
	}{
		{&auditlog.Plugin{Actions: []string{"sign-in", "login"}}, `actions: "login" is not one of`},
		{&auditlog.Plugin{Retention: authcore.Duration(-time.Hour)}, "retention must not be negative"},
	} {
		_, err := authcore.New(authcore.Config{BaseURL: authcoretest.BaseURL, Secret: authcoretest.Secret},
			authcore.WithStore(memory.NewStore()), authcore.WithPlugins(tc.p))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "audit-log") {
			t.Fatalf("error %v, want one naming audit-log and containing %q", err, tc.want)
		}
	}
}

func TestUnmarshalCaddyfile(t *testing.T) {
	caddyoptstest.Unmarshal(t, []caddyoptstest.Case[auditlog.Plugin]{
		{Name: "bare", Input: `audit_log`, Want: auditlog.Plugin{}},
		{Name: "every option", Input: "audit_log {\n retention 30d\n actions sign-in sign-out\n actions reset-password\n}",
			Want: auditlog.Plugin{Retention: authcore.Duration(30 * 24 * time.Hour), Actions: []string{"sign-in", "sign-out", "reset-password"}}},
		{Name: "one line", Input: "audit_log {\n retention 1h\n}", Want: auditlog.Plugin{Retention: authcore.Duration(time.Hour)}},
		{Name: "unknown option", Input: "audit_log {\n keep 1h\n}", Err: `unknown option "keep"`},
		{Name: "argument after the name", Input: `audit_log 30d`, Err: "wrong argument count"},
		{Name: "bad duration", Input: "audit_log {\n retention soon\n}", Err: "retention"},
		{Name: "no actions", Input: "audit_log {\n actions\n}", Err: "actions"},
		{Name: "retention twice", Input: "audit_log {\n retention 1h\n retention 2h\n}", Err: "given twice"},
	})
	caddyoptstest.RoundTrip(t, auditlog.Plugin{Retention: authcore.Duration(time.Hour), Actions: []string{"sign-in"}},
		`{"retention":"1h0m0s","actions":["sign-in"]}`)
	got := caddyoptstest.AdaptedPlugins(t, "{\n\tgatehouse {\n\t\tsecret "+strings.Repeat("k", 40)+"\n\t\taudit_log {\n\t\t\tretention 7d\n\t\t}\n\t}\n}\n")
	if string(got["audit_log"]) != `{"retention":"168h0m0s"}` {
		t.Fatalf("adapted plugins %s", got)
	}
	if id := (auditlog.Plugin{}).CaddyModule().ID; id != "gatehouse.plugins.audit_log" {
		t.Fatalf("module ID %s", id)
	}
}
