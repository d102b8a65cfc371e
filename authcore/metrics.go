package authcore

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/storage"
)

// Metrics receives the engine's operational events. The engine calls it from the one place
// each event happens; an implementation (the Caddy layer's Prometheus collectors) counts
// them. Labels are always from small fixed sets — never paths, user ids or addresses.
// Methods must be cheap and safe for concurrent use. Inject one with [WithMetrics]; the
// default discards everything. Embed [NopMetrics] to implement only some methods.
type Metrics interface {
	// SignIn counts a sign-in attempt: method is the first factor (SignInOptions.Method
	// for sessions and gate outcomes, the /sign-in/<method> route's last segment for
	// refusals before a user was verified); result is one of the SignIn* constants.
	SignIn(method, result string)
	// TwoFactorChallenge counts a second-factor challenge: issued (a gate interrupted a
	// sign-in) or passed (the second factor created the session).
	TwoFactorChallenge(result string)
	// RateLimited counts a request refused with 429 by a limiter: scope "ip" (the
	// pipeline's per-IP rule), "limit" (Engine.Limit: gateway /verify, code sends), or a
	// plugin's own scope ("api_key").
	RateLimited(scope string)
	// APIKeyQuotaRejected counts a request refused because its API key's quota is spent.
	APIKeyQuotaRejected()
	// ActiveSessions reports the number of unexpired sessions, counted after each sweep.
	ActiveSessions(n int)
	// StorageOp reports one storage call: op is the adapter method (find_one, create, ...).
	StorageOp(op string, d time.Duration, err error)
}

// Sign-in results reported to [Metrics.SignIn].
const (
	SignInSuccess   = "success"    // a session was created
	SignInTwoFactor = "two_factor" // a gate interrupted with a challenge
	SignInRefused   = "refused"    // a gate refused the user (a ban)
	SignInFailure   = "failure"    // a /sign-in/* request failed before a user was verified
)

// NopMetrics discards every event.
type NopMetrics struct{}

func (NopMetrics) SignIn(string, string)                  {}
func (NopMetrics) TwoFactorChallenge(string)              {}
func (NopMetrics) RateLimited(string)                     {}
func (NopMetrics) APIKeyQuotaRejected()                   {}
func (NopMetrics) ActiveSessions(int)                     {}
func (NopMetrics) StorageOp(string, time.Duration, error) {}

// WithMetrics sets the metrics sink. Default: [NopMetrics] (and storage calls are not
// timed at all).
func WithMetrics(m Metrics) Option { return func(o *options) { o.metrics = m } }

// Metrics returns the engine's metrics sink (never nil): plugins report their own events
// (the api-key plugin's quota and rate-limit refusals) through it.
func (e *Engine) Metrics() Metrics { return e.metrics }

// signInMetric reports the outcome of Call.SignIn.
func (e *Engine) signInMetric(opt SignInOptions, err error) {
	method := opt.Method
	if method == "" {
		method = "unknown"
	}
	var intr *Interrupt
	switch {
	case err == nil:
		e.metrics.SignIn(method, SignInSuccess)
		if opt.MultiFactor && method == TwoFactorMethod {
			e.metrics.TwoFactorChallenge("passed")
		}
	case errors.As(err, &intr):
		e.metrics.SignIn(method, SignInTwoFactor)
		e.metrics.TwoFactorChallenge("issued")
	default:
		var ae *Error
		if errors.As(err, &ae) && ae.Status < 500 {
			e.metrics.SignIn(method, SignInRefused)
		} else {
			e.metrics.SignIn(method, "error")
		}
	}
}

// TwoFactorMethod is the SignInOptions.Method of the session a passed second factor
// creates (the two-factor plugin's MethodTwoFactor).
const TwoFactorMethod = "two-factor"

// signInFailureMetric counts a /sign-in/* request that answered an error without reaching
// Call.SignIn (wrong password, unknown user, bad code, 429, ...).
func (e *Engine) signInFailureMetric(c *Call, err error) {
	if method, ok := signInFailureMethod(c, err); ok {
		e.metrics.SignIn(method, SignInFailure)
	}
}

// signInFailureMethod decides whether a call is a failed sign-in that Call.SignIn did not
// see — a /sign-in/<method> request answered an error without reaching it — for the
// metrics and the audit log alike.
func signInFailureMethod(c *Call, err error) (string, bool) {
	var intr *Interrupt
	if err == nil || errors.As(err, &intr) || c.audit.signIn != nil {
		return "", false
	}
	method, ok := strings.CutPrefix(c.Route, "/sign-in/")
	if !ok || method == "" || strings.ContainsAny(method, "/:") {
		return "", false
	}
	return method, true
}

// reportActiveSessions counts the unexpired sessions for the gauge; called by the sweeper
// (never per request), and only when a metrics sink is configured.
func (e *Engine) reportActiveSessions(ctx context.Context) {
	if !e.metered {
		return
	}
	now := e.clock.Now()
	n, err := e.store.Count(ctx, ModelSession, storage.And(
		storage.Gt("expiresAt", now),
		storage.Gt("createdAt", now.Add(-e.cfg.Session.MaxAge)),
	))
	if err != nil {
		e.log.Error("counting active sessions failed", "error", err.Error())
		return
	}
	e.metrics.ActiveSessions(n)
}

// timedAdapter reports the duration of every storage call to the metrics sink. It is only
// installed when a sink is configured (WithMetrics).
type timedAdapter struct {
	storage.Adapter
	m Metrics
}

func (t timedAdapter) done(op string, start time.Time, err error) {
	t.m.StorageOp(op, time.Since(start), err)
}

func (t timedAdapter) Create(ctx context.Context, model string, rec storage.Record) (storage.Record, error) {
	start := time.Now()
	r, err := t.Adapter.Create(ctx, model, rec)
	t.done("create", start, err)
	return r, err
}

func (t timedAdapter) FindOne(ctx context.Context, model string, where storage.Where) (storage.Record, error) {
	start := time.Now()
	r, err := t.Adapter.FindOne(ctx, model, where)
	if errors.Is(err, storage.ErrNotFound) {
		t.done("find_one", start, nil)
	} else {
		t.done("find_one", start, err)
	}
	return r, err
}

func (t timedAdapter) FindMany(ctx context.Context, model string, q storage.Query) ([]storage.Record, error) {
	start := time.Now()
	r, err := t.Adapter.FindMany(ctx, model, q)
	t.done("find_many", start, err)
	return r, err
}

func (t timedAdapter) Count(ctx context.Context, model string, where storage.Where) (int, error) {
	start := time.Now()
	n, err := t.Adapter.Count(ctx, model, where)
	t.done("count", start, err)
	return n, err
}

func (t timedAdapter) Update(ctx context.Context, model string, where storage.Where, set storage.Record) (storage.Record, error) {
	start := time.Now()
	r, err := t.Adapter.Update(ctx, model, where, set)
	if errors.Is(err, storage.ErrNotFound) {
		t.done("update", start, nil)
	} else {
		t.done("update", start, err)
	}
	return r, err
}

func (t timedAdapter) UpdateMany(ctx context.Context, model string, where storage.Where, set storage.Record) (int, error) {
	start := time.Now()
	n, err := t.Adapter.UpdateMany(ctx, model, where, set)
	t.done("update_many", start, err)
	return n, err
}

func (t timedAdapter) Delete(ctx context.Context, model string, where storage.Where) error {
	start := time.Now()
	err := t.Adapter.Delete(ctx, model, where)
	if errors.Is(err, storage.ErrNotFound) {
		t.done("delete", start, nil)
	} else {
		t.done("delete", start, err)
	}
	return err
}

func (t timedAdapter) DeleteMany(ctx context.Context, model string, where storage.Where) (int, error) {
	start := time.Now()
	n, err := t.Adapter.DeleteMany(ctx, model, where)
	t.done("delete_many", start, err)
	return n, err
}

func (t timedAdapter) ConsumeOne(ctx context.Context, model string, where storage.Where) (storage.Record, error) {
	start := time.Now()
	r, err := t.Adapter.ConsumeOne(ctx, model, where)
	if errors.Is(err, storage.ErrNotFound) {
		t.done("consume_one", start, nil)
	} else {
		t.done("consume_one", start, err)
	}
	return r, err
}

func (t timedAdapter) IncrementOne(ctx context.Context, model string, where storage.Where, field string, delta int64, set storage.Record) (storage.Record, error) {
	start := time.Now()
	r, err := t.Adapter.IncrementOne(ctx, model, where, field, delta, set)
	if errors.Is(err, storage.ErrNotFound) {
		t.done("increment_one", start, nil)
	} else {
		t.done("increment_one", start, err)
	}
	return r, err
}

// Tx is timed as a whole ("tx"); the calls inside it are not timed one by one.
func (t timedAdapter) Tx(ctx context.Context, fn func(tx storage.Adapter) error) error {
	start := time.Now()
	err := t.Adapter.Tx(ctx, fn)
	t.done("tx", start, err)
	return err
}
