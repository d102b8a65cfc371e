package caddymodule

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
)

// metricValue reads a counter's or gauge's current value; for a vector, the sum of its
// children.
func metricValue(t *testing.T, c prometheus.Collector) float64 {
	t.Helper()
	ch := make(chan prometheus.Metric, 1024)
	c.Collect(ch)
	close(ch)
	var sum float64
	for mt := range ch {
		var m dto.Metric
		if err := mt.Write(&m); err != nil {
			t.Fatal(err)
		}
		sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
	}
	return sum
}

// delta returns a function reporting how much a metric moved since delta was called.
func delta(t *testing.T, c prometheus.Collector) func() float64 {
	before := metricValue(t, c)
	return func() float64 { return metricValue(t, c) - before }
}

func TestMetricsGatewayDecisions(t *testing.T) {
	m := gatehouseMetrics()
	f := newFixture(t, &Handler{Rules: []Rule{
		{Kind: KindPublic, Paths: []string{"/health"}},
		{Kind: KindRole, Role: "admin", Paths: []string{"/admin/*"}},
	}}, authcoretest.WithEngineOptions(authcore.WithMetrics(m)))
	a := f.signUp("Alice", "alice@example.com")
	cases := []struct {
		name, path string
		hdr        []string
		rule       string
		result     int
	}{
		{"public", "/health", nil, KindPublic, decisionAllow},
		{"no session", "/app", []string{"Accept", "application/json"}, KindAuthenticated, decisionUnauthenticated},
		{"session", "/app", []string{"Cookie", a.cookie}, KindAuthenticated, decisionAllow},
		{"wrong role", "/admin/users", []string{"Cookie", a.cookie}, KindRole, decisionForbidden},
		{"refused credential", "/app", []string{"X-Fake-Key", "limited"}, ruleCredential, decisionRejected},
		{"broken credential", "/app", []string{"X-Fake-Key", "broken"}, ruleCredential, decisionError},
		// forward_auth's /verify decides through the same check, and counts the same way.
		{"verify, no session", "/api/auth/verify", []string{"Accept", "application/json"}, KindAuthenticated, decisionUnauthenticated},
		{"verify, session", "/api/auth/verify", []string{"Cookie", a.cookie}, KindAuthenticated, decisionAllow},
		{"verify, broken credential", "/api/auth/verify", []string{"X-Fake-Key", "broken"}, ruleCredential, decisionError},
	}
	for _, tc := range cases {
		d := delta(t, m.decisions.WithLabelValues(tc.rule, decisionNames[tc.result]))
		all := delta(t, m.decisions) // sum over every series: nothing else moved
		f.serve(http.MethodGet, tc.path, nil, tc.hdr...)
		if got := d(); got != 1 {
			t.Errorf("%s: gatehouse_gateway_decisions_total{rule=%q,result=%q} moved by %v, want 1", tc.name, tc.rule, decisionNames[tc.result], got)
		}
		if got := all(); got != 1 {
			t.Errorf("%s: all decisions moved by %v, want 1", tc.name, got)
		}
	}
	// The auth API itself is not a gateway decision.
	all := delta(t, m.decisions)
	f.serve(http.MethodGet, "/api/auth/ok", nil)
	if got := all(); got != 0 {
		t.Errorf("/api/auth/ok counted as a decision (%v)", got)
	}
}

func TestMetricsEngineEvents(t *testing.T) {
	m := gatehouseMetrics()
	h := authcoretest.New(t, authcoretest.WithEngineOptions(authcore.WithMetrics(m)),
		authcoretest.WithConfig(func(c *authcore.Config) { c.RateLimit.Disabled = false }))
	ok := delta(t, m.signIns.WithLabelValues("email", authcore.SignInSuccess))
	failed := delta(t, m.signIns.WithLabelValues("email", authcore.SignInFailure))
	limited := delta(t, m.rateLimited.WithLabelValues("ip"))
	h.SignUp("Alice", "alice@example.com", testPassword) // a session: success
	c := h.Client()
	c.Post("/sign-in/email", map[string]any{"email": "alice@example.com", "password": testPassword})
	c.Post("/sign-in/email", map[string]any{"email": "alice@example.com", "password": "not the password"})
	c.Post("/sign-in/email", map[string]any{"email": "alice@example.com", "password": "not the password"})
	r := c.Post("/sign-in/email", map[string]any{"email": "alice@example.com", "password": testPassword}) // 4th in 10 s
	if r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("4th sign-in: %d", r.StatusCode)
	}
	if ok() != 2 || failed() != 3 || limited() != 1 {
		t.Fatalf("success +%v (want 2), failure +%v (want 3: two wrong passwords, one 429), rate-limited +%v (want 1)", ok(), failed(), limited())
	}
	m.APIKeyQuotaRejected()
	m.ActiveSessions(7)
	if metricValue(t, m.activeSessions) != 7 {
		t.Fatal("gauge")
	}
	if _, err := h.Engine.Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := metricValue(t, m.activeSessions); got != 2 {
		t.Fatalf("gatehouse_active_sessions %v after a sweep, want 2", got)
	}
}

// A config reload builds a new App on a new Caddy context (a new registry): provisioning
// again must not fail on duplicate registration, the second registry serves the same
// collectors (counters continue, not reset), and registering twice on one registry is
// tolerated too.
func TestMetricsSurviveReload(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_DATA_HOME", filepath.Join(dir, "data"))
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	provision := func() (*App, *prometheus.Registry) {
		t.Helper()
		app, err := parseGlobalText(t, "gatehouse {\n base_url http://localhost:8080\n secret 0123456789abcdef0123456789abcdef-test\n storage bbolt "+filepath.Join(dir, "gh.db")+"\n}")
		if err != nil {
			t.Fatal(err)
		}
		ctx := testCtx(t)
		if err := app.Provision(ctx); err != nil {
			t.Fatalf("provision: %v", err)
		}
		t.Cleanup(func() { app.Stop(); app.Cleanup() })
		return app, ctx.GetMetricsRegistry()
	}
	_, reg1 := provision()
	gatehouseMetrics().twoFactor.WithLabelValues("issued").Inc()
	_, reg2 := provision()
	if err := gatehouseMetrics().register(reg2); err != nil {
		t.Fatalf("second registration on one registry: %v", err)
	}
	for i, reg := range []*prometheus.Registry{reg1, reg2} {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, mf := range mfs {
			if mf.GetName() == "gatehouse_two_factor_challenges_total" {
				found = mf.GetMetric()[0].GetCounter().GetValue() >= 1
			}
		}
		if !found {
			names := []string{}
			for _, mf := range mfs {
				names = append(names, mf.GetName())
			}
			t.Fatalf("registry %d: no gatehouse_two_factor_challenges_total >= 1 in %s", i+1, strings.Join(names, " "))
		}
	}
	// A foreign collector under one of our names is an error, not silently accepted.
	reg3 := prometheus.NewRegistry()
	reg3.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "gatehouse_api_key_quota_rejections_total", Help: "x"}))
	if err := gatehouseMetrics().register(reg3); err == nil {
		t.Fatal("a clashing collector was accepted")
	}
}
