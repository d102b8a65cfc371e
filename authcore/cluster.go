package authcore

import (
	"context"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore/ratelimit"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// ModelRateLimit is the model of the database rate limiter (RateLimit.Storage "database"),
// Better Auth's rateLimit table: key, count, lastRequest (ms) and Gatehouse's expiresAt (ms).
const ModelRateLimit = "rateLimit"

// SharedCacheTTL is the default session cache TTL with WithSharedStore: a revocation written
// by another node is seen here within this bound.
const SharedCacheTTL = 5 * time.Second

// WithSharedStore declares that other processes (Gatehouse nodes behind one load balancer)
// read and write the same store. Its defaults make the engine cluster-correct:
// RateLimit.Storage becomes "database" (counters in the store, so limits and account
// lock-outs hold across nodes) and Session.CacheTTL 5s (a revocation on another node takes
// effect here within 5 s); explicit settings win. Plugins read it with [Engine.SharedStore]
// (the api-key plugin then leases quota one unit at a time).
func WithSharedStore() Option { return func(o *options) { o.shared = true } }

// SharedStore reports whether the engine was built WithSharedStore.
func (e *Engine) SharedStore() bool { return e.shared }

// RateLimiter is the engine's limiter: in memory per process, or in the store
// (RateLimit.Storage "database"). Plugins that keep their own counters (the api-key
// plugin's per-key limit) use it so that those limits hold across nodes too; keys must be
// prefixed with the plugin id.
func (e *Engine) RateLimiter() ratelimit.Store { return e.limiter }

func (c Config) withSharedDefaults() Config {
	if c.RateLimit.Storage == "" {
		c.RateLimit.Storage = RateLimitDatabase
	}
	if c.Session.CacheTTL == 0 {
		c.Session.CacheTTL = SharedCacheTTL
	}
	return c
}

func (e *Engine) registerStoredLimits(r *Registrar) error {
	if e.cfg.RateLimit.Storage != RateLimitDatabase {
		return nil
	}
	return r.Model(ratelimit.Model(ModelRateLimit))
}

// useStoredLimits replaces the in-memory limiters by the database one once the schema is
// bound. Per-IP rules, account failures and plugin limits share the model; their keys never
// collide ("<ip>|<route>", "signin-failures|<user>", "<plugin>|…").
func (e *Engine) useStoredLimits(a storage.Adapter) {
	if e.cfg.RateLimit.Storage != RateLimitDatabase {
		return
	}
	e.stored = ratelimit.NewStored(a, ModelRateLimit, e.log)
	e.limiter = e.stored
	e.failures = e.stored
}

func (e *Engine) sweepStoredLimits(ctx context.Context, now time.Time) (int, error) {
	if e.stored == nil {
		return 0, nil
	}
	return e.stored.Sweep(ctx, now)
}
