package authcore_test

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/storage/faultstore"
	"github.com/gatehouse-auth/gatehouse/storage/memory"
)

// logLines returns the captured log lines that contain sub.
func logLines(logs *syncBuffer, sub string) []string {
	var out []string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return out
}

// wantUnavailable checks the auth API's answer to a request refused because storage is
// unavailable: 503, the usual envelope, Retry-After, and no cookie.
func wantUnavailable(t *testing.T, what string, r *authcoretest.Response) {
	t.Helper()
	if r.StatusCode != http.StatusServiceUnavailable || r.Code() != "SERVICE_UNAVAILABLE" ||
		r.Object()["message"] != "Service temporarily unavailable" {
		t.Errorf("%s: %d %s, want a 503 SERVICE_UNAVAILABLE envelope", what, r.StatusCode, r.Body)
	}
	if r.Header.Get("Retry-After") != "5" {
		t.Errorf("%s: Retry-After %q", what, r.Header.Get("Retry-After"))
	}
	if sc := r.Header.Values("Set-Cookie"); len(sc) != 0 {
		t.Errorf("%s: cookies on a 503: %v", what, sc)
	}
	if strings.Contains(string(r.Body), "injected") {
		t.Errorf("%s: the cause leaked to the client: %s", what, r.Body)
	}
}

// TestStorageFaultsAuthAPI: while storage fails, the auth API answers 503 with the error
// envelope and Retry-After (never 500, never as if the session were absent), bad input
// still gets its 4xx, and the log holds exactly one line when the outage starts, one
// summary per 10 s while it lasts, and one when it ends. When the fault clears, the next
// requests succeed without any restart.
func TestStorageFaultsAuthAPI(t *testing.T) {
	var faults faultstore.Faults
	var logs syncBuffer
	h := authcoretest.New(t, authcoretest.WithEngineOptions(
		authcore.WithStore(faults.Store(memory.NewStore())),
		authcore.WithLogger(slog.New(slog.NewTextHandler(&logs, nil)))))
	c, _ := h.SignUp("Ada", "ada@example.com", "correct horse battery")

	faults.Fail(faultstore.All, nil)
	wantUnavailable(t, "get-session", c.Get("/get-session"))
	wantUnavailable(t, "sign-in", h.Client().Post("/sign-in/email",
		map[string]any{"email": "ada@example.com", "password": "correct horse battery"}))
	wantUnavailable(t, "sign-up", h.Client().Post("/sign-up/email",
		map[string]any{"name": "Bob", "email": "bob@example.com", "password": "correct horse battery"}))
	// Bad input is still the client's problem, decided before storage is asked.
	if r := h.Client().Post("/sign-in/email", map[string]any{"email": 7}); r.StatusCode != http.StatusBadRequest {
		t.Errorf("bad input during the outage: %d %s", r.StatusCode, r.Body)
	}
	if n := len(logLines(&logs, "storage unavailable: faultstore: injected I/O error — refusing requests with 503")); n != 1 {
		t.Errorf("%d outage-start lines, want 1:\n%s", n, logs.String())
	}
	if n := len(logLines(&logs, "auth request failed")); n != 0 {
		t.Errorf("%d per-request error lines during the outage, want 0:\n%s", n, logs.String())
	}
	if n := len(logLines(&logs, "storage still unavailable")); n != 0 {
		t.Errorf("a summary before 10 s:\n%s", logs.String())
	}

	// 10 s later the next failure logs one summary with the refusals since the start.
	h.Clock.Advance(11 * time.Second)
	wantUnavailable(t, "get-session later", c.Get("/get-session"))
	wantUnavailable(t, "get-session later again", c.Get("/get-session"))
	sum := logLines(&logs, "storage still unavailable")
	if len(sum) != 1 || !strings.Contains(sum[0], "3 requests refused in the last 11s") {
		t.Errorf("summary lines %q, want one counting 3 refusals", sum)
	}

	faults.Clear()
	r := c.Get("/get-session")
	if r.StatusCode != http.StatusOK || r.Object()["user"] == nil {
		t.Fatalf("get-session after the fault cleared: %d %s", r.StatusCode, r.Body)
	}
	if r := h.Client().Post("/sign-in/email", map[string]any{"email": "ada@example.com", "password": "correct horse battery"}); r.StatusCode != http.StatusOK {
		t.Fatalf("sign-in after the fault cleared: %d %s", r.StatusCode, r.Body)
	}
	rec := logLines(&logs, "storage recovered after")
	if len(rec) != 1 || !strings.Contains(rec[0], "(5 requests refused)") {
		t.Errorf("recovery lines %q, want one counting 5 refusals", rec)
	}

	// A store that can no longer write (a full disk): reads keep working — a valid session
	// is still valid — writes fail closed, and the successful reads do not end the outage.
	h.Clock.Advance(10 * time.Second) // a new outage is announced 10 s after the last line
	faults.Fail(faultstore.Writes, nil)
	for range 3 {
		if r := c.Get("/get-session"); r.StatusCode != http.StatusOK || r.Object()["user"] == nil {
			t.Errorf("get-session with failing writes: %d %s", r.StatusCode, r.Body)
		}
		wantUnavailable(t, "sign-in with failing writes", h.Client().Post("/sign-in/email",
			map[string]any{"email": "ada@example.com", "password": "correct horse battery"}))
	}
	if n := len(logLines(&logs, "storage unavailable:")); n != 2 {
		t.Errorf("%d outage-start lines after the second outage, want 2:\n%s", n, logs.String())
	}
	if n := len(logLines(&logs, "storage recovered after")); n != 1 {
		t.Errorf("reads ended a write outage: %d recovery lines:\n%s", n, logs.String())
	}
	faults.Clear()
	if r := h.Client().Post("/sign-in/email", map[string]any{"email": "ada@example.com", "password": "correct horse battery"}); r.StatusCode != http.StatusOK {
		t.Fatalf("sign-in after the write fault cleared: %d %s", r.StatusCode, r.Body)
	}
	if rec := logLines(&logs, "storage recovered after"); len(rec) != 2 || !strings.Contains(rec[1], "(3 requests refused)") {
		t.Errorf("recovery lines %q, want a second one counting 3 refusals", rec)
	}

	// Flapping (some writes fit, others do not): within 10 s of the last announcement, new
	// outages and their ends are not logged again.
	for range 3 {
		faults.Fail(faultstore.Writes, nil)
		wantUnavailable(t, "sign-in, flapping", h.Client().Post("/sign-in/email",
			map[string]any{"email": "ada@example.com", "password": "correct horse battery"}))
		faults.Clear()
		if r := h.Client().Post("/sign-in/email", map[string]any{"email": "ada@example.com", "password": "correct horse battery"}); r.StatusCode != http.StatusOK {
			t.Fatalf("sign-in between flaps: %d %s", r.StatusCode, r.Body)
		}
	}
	if a, r := len(logLines(&logs, "storage unavailable:")), len(logLines(&logs, "storage recovered after")); a != 2 || r != 2 {
		t.Errorf("flapping logged %d start and %d end lines, want none more than the 2 and 2 before:\n%s", a, r, logs.String())
	}
	// 10 s on, a failure is announced again.
	h.Clock.Advance(10 * time.Second)
	faults.Fail(faultstore.Writes, nil)
	wantUnavailable(t, "sign-in, 10 s later", h.Client().Post("/sign-in/email",
		map[string]any{"email": "ada@example.com", "password": "correct horse battery"}))
	if n := len(logLines(&logs, "storage unavailable:")); n != 3 {
		t.Errorf("%d start lines, want 3 once 10 s passed:\n%s", n, logs.String())
	}
}

// TestStorageFaultsStoredRateLimit: with the rate limiter in the database, a store that
// cannot answer refuses every request with 503 (not 429, not let through), logged once.
func TestStorageFaultsStoredRateLimit(t *testing.T) {
	var faults faultstore.Faults
	var logs syncBuffer
	h := authcoretest.New(t,
		authcoretest.WithConfig(func(c *authcore.Config) {
			c.RateLimit = authcore.RateLimitConfig{Storage: authcore.RateLimitDatabase, Window: time.Minute, Max: 1000}
		}),
		authcoretest.WithEngineOptions(
			authcore.WithStore(faults.Store(memory.NewStore())),
			authcore.WithLogger(slog.New(slog.NewTextHandler(&logs, nil)))))
	c := h.Client()
	if r := c.Get("/ok"); r.StatusCode != http.StatusOK {
		t.Fatalf("/ok: %d %s", r.StatusCode, r.Body)
	}
	faults.Fail(faultstore.All, nil)
	for range 3 {
		wantUnavailable(t, "/ok with the limiter's store failing", c.Get("/ok"))
	}
	if n := len(logLines(&logs, "storage unavailable:")); n != 1 {
		t.Errorf("%d outage-start lines, want 1:\n%s", n, logs.String())
	}
	if n := len(logLines(&logs, "rate limit")); n != 0 {
		t.Errorf("the limiter logged each refusal:\n%s", logs.String())
	}
	faults.Clear()
	if r := c.Get("/ok"); r.StatusCode != http.StatusOK {
		t.Fatalf("/ok after the fault cleared: %d %s", r.StatusCode, r.Body)
	}
	if rec := logLines(&logs, "storage recovered after"); len(rec) != 1 || !strings.Contains(rec[0], "(3 requests refused)") {
		t.Errorf("recovery lines %q", rec)
	}
}
