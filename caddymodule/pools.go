package caddymodule

import (
	"github.com/caddyserver/caddy/v2"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/ratelimit"
)

// statePool holds per-store runtime state that must survive config reloads (D15): the
// per-IP limiter, the per-account failure counters and the session cache. It is keyed by
// the store's key, so two configs over the same database share counters and cached
// sessions, and a reload does not reset anyone's rate-limit window.
var statePool = caddy.NewUsagePool()

type engineState struct {
	limiter  *ratelimit.Limiter
	failures *ratelimit.Limiter
	cache    *authcore.SessionCache
}

func (*engineState) Destruct() error { return nil }

func loadState(key string) (*engineState, error) {
	v, _, err := statePool.LoadOrNew(key, func() (caddy.Destructor, error) {
		return &engineState{
			limiter:  ratelimit.NewLimiter(ratelimit.DefaultMaxKeys),
			failures: ratelimit.NewLimiter(ratelimit.DefaultMaxKeys),
			cache:    authcore.NewSessionCache(100000),
		}, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*engineState), nil
}
