package authcore_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/authcore/ratelimit"
	"github.com/gatehouse-auth/gatehouse/storage/memory"
)

// TestSharedStoreDefaults: WithSharedStore turns on the database limiter and a 5 s session
// cache; explicit settings win; without it nothing changes.
func TestSharedStoreDefaults(t *testing.T) {
	h := authcoretest.New(t, authcoretest.WithEngineOptions(authcore.WithSharedStore()))
	if !h.Engine.SharedStore() || h.Config.Session.CacheTTL != 5*time.Second || h.Config.RateLimit.Storage != authcore.RateLimitDatabase {
		t.Fatalf("shared defaults: shared %v, cache_ttl %v, storage %q", h.Engine.SharedStore(), h.Config.Session.CacheTTL, h.Config.RateLimit.Storage)
	}
	if _, ok := h.Engine.Schema().Model(authcore.ModelRateLimit); !ok {
		t.Fatal("no rateLimit model in the schema")
	}
	if _, ok := h.Engine.RateLimiter().(*ratelimit.Stored); !ok {
		t.Fatalf("limiter is %T, want *ratelimit.Stored", h.Engine.RateLimiter())
	}
	h = authcoretest.New(t, authcoretest.WithEngineOptions(authcore.WithSharedStore()), authcoretest.WithConfig(func(c *authcore.Config) {
		c.Session.CacheTTL = 2 * time.Second
		c.RateLimit.Storage = authcore.RateLimitMemory
	}))
	if h.Config.Session.CacheTTL != 2*time.Second || h.Config.RateLimit.Storage != authcore.RateLimitMemory {
		t.Fatalf("explicit settings lost: %v %q", h.Config.Session.CacheTTL, h.Config.RateLimit.Storage)
	}
	if _, ok := h.Engine.Schema().Model(authcore.ModelRateLimit); ok {
		t.Fatal("rateLimit model declared with memory storage")
	}
	h = authcoretest.New(t)
	if h.Engine.SharedStore() || h.Config.Session.CacheTTL != 10*time.Second || h.Config.RateLimit.Storage != authcore.RateLimitMemory {
		t.Fatalf("single-node defaults changed: %v %q", h.Config.Session.CacheTTL, h.Config.RateLimit.Storage)
	}
	if _, ok := h.Engine.RateLimiter().(*ratelimit.Limiter); !ok {
		t.Fatalf("single-node limiter is %T", h.Engine.RateLimiter())
	}
	if _, err := authcore.New(authcore.Config{BaseURL: authcoretest.BaseURL, Secret: authcoretest.Secret,
		RateLimit: authcore.RateLimitConfig{Storage: "redis"}}, authcore.WithStore(memory.NewStore())); err == nil {
		t.Fatal("rate_limit storage redis accepted")
	}
}

// twoNodes builds two engines on one store, as two Gatehouse processes on one PostgreSQL
// database are: each has its own memory (session cache, limiter), only the store is shared.
func twoNodes(t *testing.T, cfg func(*authcore.Config)) (a, b *authcoretest.Harness) {
	st := memory.NewStore()
	opts := []authcoretest.Option{authcoretest.WithEngineOptions(authcore.WithStore(st), authcore.WithSharedStore())}
	if cfg != nil {
		opts = append(opts, authcoretest.WithConfig(cfg))
	}
	return authcoretest.New(t, opts...), authcoretest.New(t, opts...)
}

// The account lock-out (BF-01) counts failures on every node: failures on A lock B.
func TestSharedStoreLockoutAcrossNodes(t *testing.T) {
	a, b := twoNodes(t, nil)
	a.SignUp("Alice", "alice@example.com", flowPW)
	for i := range 10 {
		n := a
		if i%2 == 1 {
			n = b
		}
		if s := flowSignInStatus(n, "alice@example.com", "wrong password"); s != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i, s)
		}
	}
	for _, n := range []*authcoretest.Harness{a, b} {
		if s := flowSignInStatus(n, "alice@example.com", flowPW); s != http.StatusUnauthorized {
			t.Fatalf("right password during a lock earned on two nodes: %d", s)
		}
	}
	// A success on one node resets the counter for all (after the window, on node B's clock).
	b.Clock.Advance(a.Config.RateLimit.AccountWindow)
	flowSignIn(t, b, "alice@example.com", flowPW)
	for range 9 {
		flowSignInStatus(a, "alice@example.com", "wrong password")
	}
	flowSignIn(t, a, "alice@example.com", flowPW)
}

// A per-IP rule holds across nodes: the sum of allowed requests on both is the rule's max.
func TestSharedStoreRateLimitAcrossNodes(t *testing.T) {
	a, b := twoNodes(t, func(c *authcore.Config) {
		c.RateLimit = authcore.RateLimitConfig{Rules: []authcore.RateLimitRule{
			{Path: authcore.PathSignInEmail, Rule: ratelimit.Rule{Window: time.Minute, Max: 5}}}}
	})
	allowed := 0
	for i := range 12 {
		n := a
		if i%2 == 1 {
			n = b
		}
		r := n.Client().Post("/sign-in/email", map[string]any{"email": "nobody@example.com", "password": "wrong password"})
		switch r.StatusCode {
		case http.StatusTooManyRequests:
			if r.Header.Get("X-Retry-After") == "" {
				t.Fatal("429 without X-Retry-After")
			}
		case http.StatusUnauthorized:
			allowed++
		default:
			t.Fatalf("request %d: %d %s", i, r.StatusCode, r.Body)
		}
	}
	if allowed != 5 {
		t.Fatalf("%d sign-in attempts allowed across two nodes, want 5", allowed)
	}
}

// A revocation on node A is seen by node B's session cache within the shared cache TTL.
func TestSharedStoreRevocationReachesOtherNode(t *testing.T) {
	a, b := twoNodes(t, nil)
	c, _ := a.SignUp("Alice", "alice@example.com", flowPW)
	raw := c.CookieValue("better-auth.session_token")
	signed, err := url.QueryUnescape(raw)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if s, err := b.Engine.VerifySigned(ctx, signed); err != nil || s == nil {
		t.Fatalf("node B does not accept the session from A: %v %v", s, err)
	}
	if r := c.Post("/sign-out", nil); r.StatusCode != http.StatusOK {
		t.Fatalf("sign-out on A: %d %s", r.StatusCode, r.Body)
	}
	if s, _ := a.Engine.VerifySigned(ctx, signed); s != nil {
		t.Fatal("node A still accepts its own revoked session")
	}
	b.Clock.Advance(authcore.SharedCacheTTL)
	if s, err := b.Engine.VerifySigned(ctx, signed); err != nil || s != nil {
		t.Fatalf("node B accepts a session revoked on A after the cache TTL: %v %v", s, err)
	}
}
