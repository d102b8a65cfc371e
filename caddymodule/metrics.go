package caddymodule

import (
	"errors"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehouse-auth/gatehouse/authcore"
)

// Gatehouse's Prometheus metrics, served with Caddy's own at the admin endpoint's /metrics.
//
// As with Caddy's own metrics, the collectors are created once per process and registered
// on the registry of every configuration that loads (Caddy makes a new registry per load;
// registering the same collector twice on one registry is tolerated), so counters keep
// counting across config reloads instead of restarting from zero. Labels come from small
// fixed sets (sign-in methods, rule kinds, result words): never paths, users or addresses.
type promMetrics struct {
	signIns        *prometheus.CounterVec
	twoFactor      *prometheus.CounterVec
	rateLimited    *prometheus.CounterVec
	quota          prometheus.Counter
	decisions      *prometheus.CounterVec
	activeSessions prometheus.Gauge
	storage        *prometheus.HistogramVec
	storageErrors  *prometheus.CounterVec

	ops       map[string]prometheus.Observer // storage histogram children by op, resolved once
	decisionC map[string]*[nDecision]prometheus.Counter
}

// Gateway decision results (label result of gatehouse_gateway_decisions_total).
const (
	decisionAllow = iota
	decisionUnauthenticated
	decisionForbidden
	decisionRejected // the credential presented was refused (401/429 from an authenticator)
	decisionError    // a technical failure: the request was refused (fail closed)
	nDecision
)

var decisionNames = [nDecision]string{"allow", "unauthenticated", "forbidden", "rejected", "error"}

// verdictResult is the decision result of each verdict of judge.
var verdictResult = [...]int{allowed: decisionAllow, unauthenticated: decisionUnauthenticated, forbidden: decisionForbidden}

// ruleNone labels a request no rule covered; ruleCredential a request refused for its
// credential before the rules were consulted.
const (
	ruleNone       = "none"
	ruleCredential = "credential"
)

var storageOps = []string{"create", "find_one", "find_many", "count", "update", "update_many",
	"delete", "delete_many", "consume_one", "increment_one", "tx"}

var (
	metricsOnce sync.Once
	metrics     *promMetrics
)

// gatehouseMetrics returns the process's collectors, creating them on first use.
func gatehouseMetrics() *promMetrics {
	metricsOnce.Do(func() { metrics = newPromMetrics() })
	return metrics
}

func newPromMetrics() *promMetrics {
	const ns = "gatehouse"
	m := &promMetrics{
		signIns: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "sign_ins_total",
			Help: "Sign-in attempts by first-factor method and result (success, two_factor, refused, failure, error)."},
			[]string{"method", "result"}),
		twoFactor: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "two_factor_challenges_total",
			Help: "Second-factor challenges: issued (a sign-in was interrupted) and passed (the second factor created the session)."},
			[]string{"result"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "rate_limited_total",
			Help: "Requests refused with 429 by a rate limit, by scope (ip: the auth API's per-IP rules; limit: /verify and code sends; api_key: a key's own limit)."},
			[]string{"scope"}),
		quota: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "api_key_quota_rejections_total",
			Help: "Requests refused because their API key's usage quota is spent (429 USAGE_EXCEEDED)."}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "gateway_decisions_total",
			Help: "Gateway and /verify decisions by the kind of the most restrictive rule that applied and result."},
			[]string{"rule", "result"}),
		activeSessions: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "active_sessions",
			Help: "Unexpired sessions in storage, counted by the sweeper (every sweep_interval)."}),
		storage: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "storage_operation_seconds",
			Help:    "Duration of storage operations by adapter operation.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1}},
			[]string{"op"}),
		storageErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "storage_errors_total",
			Help: "Storage operations that failed (not found is not a failure), by operation."},
			[]string{"op"}),
		ops:       map[string]prometheus.Observer{},
		decisionC: map[string]*[nDecision]prometheus.Counter{},
	}
	for _, op := range storageOps {
		m.ops[op] = m.storage.WithLabelValues(op)
	}
	for _, kind := range append(ruleKinds(), ruleNone, ruleCredential) {
		var cs [nDecision]prometheus.Counter
		for i, res := range decisionNames {
			cs[i] = m.decisions.WithLabelValues(kind, res)
		}
		m.decisionC[kind] = &cs
	}
	return m
}

// ruleKinds lists every rule kind (the label values of rule).
func ruleKinds() []string {
	kinds := make([]string, 0, len(restrictiveness))
	for k := range restrictiveness {
		kinds = append(kinds, k)
	}
	return kinds
}

// register adds the collectors to a configuration's registry. The same collector already
// there (a second registration within one load) is fine; anything else is an error.
func (m *promMetrics) register(reg *prometheus.Registry) error {
	if reg == nil {
		return nil
	}
	for _, c := range []prometheus.Collector{m.signIns, m.twoFactor, m.rateLimited, m.quota,
		m.decisions, m.activeSessions, m.storage, m.storageErrors} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) && are.ExistingCollector == c {
				continue
			}
			return err
		}
	}
	return nil
}

// decision counts one gateway decision. rule is a rule kind, ruleNone or ruleCredential.
func (m *promMetrics) decision(rule string, result int) {
	if cs, ok := m.decisionC[rule]; ok {
		cs[result].Inc()
		return
	}
	m.decisions.WithLabelValues(rule, decisionNames[result]).Inc()
}

// decidingKind is the label for a decision over rules: the kind of the most restrictive
// rule (the one that decides), or "none".
func decidingKind(rules []*Rule) string {
	kind, worst := ruleNone, -1
	for _, r := range rules {
		if n := restrictiveness[r.Kind]; n > worst {
			kind, worst = r.Kind, n
		}
	}
	return kind
}

// authcore.Metrics

func (m *promMetrics) SignIn(method, result string) {
	m.signIns.WithLabelValues(method, result).Inc()
}

func (m *promMetrics) TwoFactorChallenge(result string) { m.twoFactor.WithLabelValues(result).Inc() }

func (m *promMetrics) RateLimited(scope string) { m.rateLimited.WithLabelValues(scope).Inc() }

func (m *promMetrics) APIKeyQuotaRejected() { m.quota.Inc() }

func (m *promMetrics) ActiveSessions(n int) { m.activeSessions.Set(float64(n)) }

func (m *promMetrics) StorageOp(op string, d time.Duration, err error) {
	o, ok := m.ops[op]
	if !ok {
		o = m.storage.WithLabelValues(op)
	}
	o.Observe(d.Seconds())
	if err != nil {
		m.storageErrors.WithLabelValues(op).Inc()
	}
}

var _ authcore.Metrics = (*promMetrics)(nil)
