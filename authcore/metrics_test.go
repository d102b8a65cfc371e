package authcore_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/authcore/ratelimit"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// countingMetrics records every event the engine reports.
type countingMetrics struct {
	mu       sync.Mutex
	counts   map[string]int
	sessions int
	ops      map[string]int
}

func (m *countingMetrics) inc(key string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.counts == nil {
		m.counts = map[string]int{}
	}
	m.counts[key]++
}

func (m *countingMetrics) get(key string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.counts[key]
}

func (m *countingMetrics) SignIn(method, result string)     { m.inc("sign_in|" + method + "|" + result) }
func (m *countingMetrics) TwoFactorChallenge(result string) { m.inc("2fa|" + result) }
func (m *countingMetrics) RateLimited(scope string)         { m.inc("rate|" + scope) }
func (m *countingMetrics) APIKeyQuotaRejected()             { m.inc("quota") }
func (m *countingMetrics) ActiveSessions(n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sessions = n
}
func (m *countingMetrics) StorageOp(op string, d time.Duration, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ops == nil {
		m.ops = map[string]int{}
	}
	m.ops[op]++
}

// metricsGatePlugin registers a session gate answering with err for users named "gated".
type metricsGatePlugin struct{ err error }

func (metricsGatePlugin) ID() string { return "test-gate" }
func (g metricsGatePlugin) Register(r *authcore.Registrar) error {
	r.SessionGate(func(c *authcore.Call, user storage.Record, opt authcore.SignInOptions) error {
		if c.Route == "/sign-in/email" && !opt.MultiFactor {
			return g.err
		}
		return nil
	})
	return nil
}

func TestMetricsSignIn(t *testing.T) {
	m := &countingMetrics{}
	h := authcoretest.New(t, authcoretest.WithEngineOptions(authcore.WithMetrics(m)))
	h.SignUp("Alice", "alice@example.com", flowPW)
	if got := m.get("sign_in|email|success"); got != 1 {
		t.Fatalf("sign-up's session: %d successes, want 1", got)
	}
	c := h.Client()
	if r := c.Post("/sign-in/email", map[string]any{"email": "alice@example.com", "password": flowPW}); r.StatusCode != http.StatusOK {
		t.Fatalf("sign-in: %d %s", r.StatusCode, r.Body)
	}
	if r := c.Post("/sign-in/email", map[string]any{"email": "alice@example.com", "password": "wrong password!"}); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d %s", r.StatusCode, r.Body)
	}
	if r := c.Post("/sign-in/email", map[string]any{"email": "nobody@example.com", "password": flowPW}); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unknown user: %d %s", r.StatusCode, r.Body)
	}
	if got := m.get("sign_in|email|success"); got != 2 {
		t.Fatalf("%d successes, want 2", got)
	}
	if got := m.get("sign_in|email|failure"); got != 2 {
		t.Fatalf("%d failures, want 2 (wrong password, unknown user)", got)
	}
	// A non-sign-in error is not a sign-in failure.
	c.Post("/change-password", map[string]any{"currentPassword": "x", "newPassword": "y"})
	if got := m.get("sign_in|email|failure"); got != 2 {
		t.Fatalf("%d failures after /change-password, want 2", got)
	}
}

func TestMetricsGateInterruptAndRefusal(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		result string
		issued int
	}{
		{"interrupt", &authcore.Interrupt{Response: map[string]any{"twoFactorRedirect": true}}, authcore.SignInTwoFactor, 1},
		{"refused", authcore.ErrorCode{Code: "BANNED_USER", Message: "banned"}.With(http.StatusForbidden), authcore.SignInRefused, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &countingMetrics{}
			h := authcoretest.New(t, authcoretest.WithEngineOptions(authcore.WithMetrics(m)),
				authcoretest.WithPlugins(metricsGatePlugin{err: tc.err}))
			h.SignUp("gated", "g@example.com", flowPW)
			before := m.get("sign_in|email|" + tc.result)
			h.Client().Post("/sign-in/email", map[string]any{"email": "g@example.com", "password": flowPW})
			if got := m.get("sign_in|email|"+tc.result) - before; got != 1 {
				t.Fatalf("%s: delta %d, want 1", tc.result, got)
			}
			if got := m.get("sign_in|email|success"); got != 1 { // the sign-up's
				t.Fatalf("%d successes through a gate that stops", got)
			}
			if got := m.get("sign_in|email|failure"); got != 0 {
				t.Fatalf("a gate outcome counted as a failure too (%d)", got)
			}
			if got := m.get("2fa|issued"); got != tc.issued {
				t.Fatalf("%d challenges issued, want %d", got, tc.issued)
			}
		})
	}
}

// secondFactorPlugin has a route that signs in as the two-factor plugin does once the
// second factor is right (MultiFactor, method two-factor).
type secondFactorPlugin struct{}

func (secondFactorPlugin) ID() string { return "test-second-factor" }
func (secondFactorPlugin) Register(r *authcore.Registrar) error {
	e := r.Engine()
	return r.Endpoint(authcore.Endpoint{Method: http.MethodPost, Path: "/test/second-factor", BodyOptional: true,
		Handler: func(c *authcore.Call) (any, error) {
			u, err := e.UserByEmail(c.Context(), "alice@example.com")
			if err != nil || u == nil {
				return nil, authcore.Internal(err)
			}
			if _, err := c.SignIn(u, authcore.SignInOptions{Method: authcore.TwoFactorMethod, MultiFactor: true}); err != nil {
				return nil, err
			}
			return map[string]any{"ok": true}, nil
		}})
}

func TestMetricsTwoFactorPassed(t *testing.T) {
	m := &countingMetrics{}
	h := authcoretest.New(t, authcoretest.WithEngineOptions(authcore.WithMetrics(m)), authcoretest.WithPlugins(secondFactorPlugin{}))
	h.SignUp("Alice", "alice@example.com", flowPW)
	if r := h.Client().Post("/test/second-factor", nil); r.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", r.StatusCode, r.Body)
	}
	if m.get("2fa|passed") != 1 || m.get("sign_in|two-factor|success") != 1 {
		t.Fatalf("counts %v", m.counts)
	}
}

func TestMetricsRateLimited(t *testing.T) {
	m := &countingMetrics{}
	h := authcoretest.New(t, authcoretest.WithEngineOptions(authcore.WithMetrics(m)),
		authcoretest.WithConfig(func(c *authcore.Config) { c.RateLimit.Disabled = false }))
	c := h.Client()
	statuses := []int{}
	for range 4 { // the built-in /sign-in/* rule: 3 per 10 s
		r := c.Post("/sign-in/email", map[string]any{"email": "nobody@example.com", "password": flowPW})
		statuses = append(statuses, r.StatusCode)
	}
	if statuses[3] != http.StatusTooManyRequests {
		t.Fatalf("statuses %v", statuses)
	}
	if got := m.get("rate|ip"); got != 1 {
		t.Fatalf("rate-limited %d, want 1", got)
	}
	// Engine.Limit (the gateway's /verify, code sends) has its own scope.
	for range 3 {
		h.Engine.Limit("k", ratelimit.Rule{Window: time.Minute, Max: 2})
	}
	if got := m.get("rate|limit"); got != 1 {
		t.Fatalf("Limit refusals %d, want 1", got)
	}
}

func TestMetricsActiveSessionsAndStorage(t *testing.T) {
	m := &countingMetrics{}
	h := authcoretest.New(t, authcoretest.WithEngineOptions(authcore.WithMetrics(m)))
	h.SignUp("Alice", "alice@example.com", flowPW)
	h.SignUp("Bob", "bob@example.com", flowPW)
	if _, err := h.Engine.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	m.mu.Lock()
	n, creates, counts := m.sessions, m.ops["create"], m.ops["count"]
	m.mu.Unlock()
	if n != 2 {
		t.Fatalf("active sessions %d, want 2", n)
	}
	if creates < 2 || counts < 1 { // 2 sessions (users are created in a transaction); the gauge's count
		t.Fatalf("storage ops: %v", m.ops)
	}
	h.Clock.Advance(8 * 24 * time.Hour) // past expires_in
	if _, err := h.Engine.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	m.mu.Lock()
	n = m.sessions
	m.mu.Unlock()
	if n != 0 {
		t.Fatalf("active sessions after expiry %d, want 0", n)
	}
}

func TestMetricsDefaultIsNop(t *testing.T) {
	h := authcoretest.New(t)
	if _, ok := h.Engine.Metrics().(authcore.NopMetrics); !ok {
		t.Fatalf("default sink %T", h.Engine.Metrics())
	}
}
