package authcore

import (
	"context"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-auth/gatehouse/storage"
)

// SessionCache is the in-process cache of verified sessions the gateway path consults before
// storage (D6). Entries are keyed by the exact signed credential the client sent, so a hit
// skips signature verification and hashing; each entry records the secret fingerprint it was
// verified under, the user's generation at the time, and deadlines. Every write to a user's
// rows bumps that user's generation (see genAdapter), so revocations, bans and role changes
// take effect at once on this node; other nodes see them within CacheTTL.
//
// One SessionCache may be shared by successive engines (Caddy config reloads, D15).
type SessionCache struct {
	seed    maphash.Seed
	max     int
	shards  [cacheShards]cacheShard
	gens    [genStripes]atomic.Uint64
	sweepAt atomic.Int64 // Unix ns: the first put after it drops every dead entry
}

const (
	cacheShards = 64
	// genStripes generation counters are shared by user ids hashing alike: a bump may
	// invalidate an unrelated user's entry (harmless) and never misses one.
	genStripes = 4096
	// cacheSweepEvery is how often a put clears the cache of entries that can never be
	// served again (past their deadline, or of a user whose generation moved on). Without
	// it they stay until their shard is full, so the cache grows with every session ever
	// presented (revoked, signed out, expired) up to max — about 2 KB an entry, some
	// 200 MiB at the default 100000 — which the soak test (integration/soak_test.go) saw as
	// steady heap growth. A sweep visits every entry once, shard by shard.
	cacheSweepEvery = 10 * time.Second
)

type cacheShard struct {
	mu sync.RWMutex
	m  map[string]cacheEntry
}

type cacheEntry struct {
	s      *Session
	fp     uint64    // keyring fingerprint
	gen    uint64    // user generation when read from storage
	until  time.Time // min(read time + TTL, session expiry)
	stripe uint32
}

// NewSessionCache returns a cache bounded to about max entries.
func NewSessionCache(max int) *SessionCache {
	if max < cacheShards {
		max = cacheShards
	}
	c := &SessionCache{seed: maphash.MakeSeed(), max: max}
	for i := range c.shards {
		c.shards[i].m = map[string]cacheEntry{}
	}
	return c
}

func (c *SessionCache) stripe(userID string) uint32 {
	return uint32(maphash.String(c.seed, userID) % genStripes)
}

// generation returns the current generation of a user's stripe.
func (c *SessionCache) generation(userID string) uint64 {
	return c.gens[c.stripe(userID)].Load()
}

// Invalidate bumps a user's generation: every cached session of that user is stale.
func (c *SessionCache) Invalidate(userID string) {
	c.gens[c.stripe(userID)].Add(1)
}

func (c *SessionCache) shard(key string) *cacheShard {
	return &c.shards[maphash.String(c.seed, key)%cacheShards]
}

func (c *SessionCache) get(key string, fp uint64, now time.Time) (*Session, bool) {
	sh := c.shard(key)
	sh.mu.RLock()
	e, ok := sh.m[key]
	sh.mu.RUnlock()
	if !ok || e.fp != fp || !now.Before(e.until) || c.gens[e.stripe].Load() != e.gen {
		return nil, false
	}
	return e.s, true
}

func (c *SessionCache) put(key string, fp uint64, s *Session, gen uint64, now, until time.Time) {
	if at := c.sweepAt.Load(); now.UnixNano() >= at && c.sweepAt.CompareAndSwap(at, now.Add(cacheSweepEvery).UnixNano()) {
		c.sweep(now)
	}
	sh := c.shard(key)
	sh.mu.Lock()
	if len(sh.m) >= c.max/cacheShards {
		// Full: drop a few entries (map order is random, so this is random eviction).
		n := 0
		for k := range sh.m {
			delete(sh.m, k)
			if n++; n >= 8 {
				break
			}
		}
	}
	sh.m[key] = cacheEntry{s: s, fp: fp, gen: gen, until: until, stripe: c.stripe(s.UserID())}
	sh.mu.Unlock()
}

// sweep drops every entry get would no longer serve at now.
func (c *SessionCache) sweep(now time.Time) {
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		for k, e := range sh.m {
			if !now.Before(e.until) || c.gens[e.stripe].Load() != e.gen {
				delete(sh.m, k)
			}
		}
		sh.mu.Unlock()
	}
}

// Len returns the number of cached entries.
func (c *SessionCache) Len() int {
	n := 0
	for i := range c.shards {
		c.shards[i].mu.RLock()
		n += len(c.shards[i].m)
		c.shards[i].mu.RUnlock()
	}
	return n
}

// genAdapter wraps the engine's storage so that every write to a user-scoped record bumps
// that user's cache generation after the write is durable. Bumping after commit matters: a
// bump before it could let a concurrent reader cache the old row under the new generation.
type genAdapter struct {
	storage.Adapter
	scoped map[string]string // model → field holding the user id
	cache  *SessionCache
	inTx   *txBumps // non-nil inside Tx: bumps wait for the commit
}

type txBumps struct {
	mu    sync.Mutex
	users []string
}

func (g *genAdapter) field(model string) string {
	switch model {
	case ModelUser:
		return "id"
	case ModelSession, ModelAccount:
		return "userId"
	}
	return g.scoped[model]
}

func (g *genAdapter) bump(ids ...string) {
	if g.inTx != nil {
		g.inTx.mu.Lock()
		g.inTx.users = append(g.inTx.users, ids...)
		g.inTx.mu.Unlock()
		return
	}
	for _, id := range ids {
		if id != "" {
			g.cache.Invalidate(id)
		}
	}
}

func (g *genAdapter) bumpRecord(model string, rec storage.Record) {
	if f := g.field(model); f != "" && rec != nil {
		g.bump(rec.String(f))
	}
}

// affected reads the user ids of the records a bulk write will touch.
func (g *genAdapter) affected(ctx context.Context, model string, where storage.Where, first bool) ([]string, error) {
	f := g.field(model)
	if f == "" {
		return nil, nil
	}
	q := storage.Query{Where: where}
	if first {
		q.Limit = 1
	}
	recs, err := g.Adapter.FindMany(ctx, model, q)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(recs))
	for _, r := range recs {
		ids = append(ids, r.String(f))
	}
	return ids, nil
}

func (g *genAdapter) Create(ctx context.Context, model string, rec storage.Record) (storage.Record, error) {
	out, err := g.Adapter.Create(ctx, model, rec)
	if err == nil {
		g.bumpRecord(model, out)
	}
	return out, err
}

func (g *genAdapter) Update(ctx context.Context, model string, where storage.Where, set storage.Record) (storage.Record, error) {
	ids, err := g.affected(ctx, model, where, true)
	if err != nil {
		return nil, err
	}
	out, err := g.Adapter.Update(ctx, model, where, set)
	g.bump(ids...)
	if err == nil {
		g.bumpRecord(model, out)
	}
	return out, err
}

func (g *genAdapter) UpdateMany(ctx context.Context, model string, where storage.Where, set storage.Record) (int, error) {
	ids, err := g.affected(ctx, model, where, false)
	if err != nil {
		return 0, err
	}
	n, err := g.Adapter.UpdateMany(ctx, model, where, set)
	g.bump(ids...)
	if f := g.field(model); f != "" {
		if v, ok := set[f].(string); ok {
			g.bump(v)
		}
	}
	return n, err
}

func (g *genAdapter) Delete(ctx context.Context, model string, where storage.Where) error {
	ids, err := g.affected(ctx, model, where, true)
	if err != nil {
		return err
	}
	err = g.Adapter.Delete(ctx, model, where)
	g.bump(ids...)
	return err
}

func (g *genAdapter) DeleteMany(ctx context.Context, model string, where storage.Where) (int, error) {
	ids, err := g.affected(ctx, model, where, false)
	if err != nil {
		return 0, err
	}
	n, err := g.Adapter.DeleteMany(ctx, model, where)
	g.bump(ids...)
	return n, err
}

func (g *genAdapter) ConsumeOne(ctx context.Context, model string, where storage.Where) (storage.Record, error) {
	out, err := g.Adapter.ConsumeOne(ctx, model, where)
	if err == nil {
		g.bumpRecord(model, out)
	}
	return out, err
}

func (g *genAdapter) IncrementOne(ctx context.Context, model string, where storage.Where, field string, delta int64, set storage.Record) (storage.Record, error) {
	out, err := g.Adapter.IncrementOne(ctx, model, where, field, delta, set)
	if err == nil {
		g.bumpRecord(model, out)
	}
	return out, err
}

func (g *genAdapter) Tx(ctx context.Context, fn func(tx storage.Adapter) error) error {
	if g.inTx != nil {
		return fn(g)
	}
	bumps := &txBumps{}
	err := g.Adapter.Tx(ctx, func(tx storage.Adapter) error {
		return fn(&genAdapter{Adapter: tx, scoped: g.scoped, cache: g.cache, inTx: bumps})
	})
	// Bump whether or not the transaction committed: a spurious bump only costs a re-read.
	for _, id := range bumps.users {
		if id != "" {
			g.cache.Invalidate(id)
		}
	}
	return err
}

// singleFlight runs one function per key at a time; concurrent callers with the same key
// wait for and share the first caller's result.
type singleFlight struct {
	mu    sync.Mutex
	calls map[string]*flightCall
}

type flightCall struct {
	done chan struct{}
	val  any
	err  error
}

func (s *singleFlight) Do(key string, fn func() (any, error)) (any, error) {
	s.mu.Lock()
	if s.calls == nil {
		s.calls = map[string]*flightCall{}
	}
	if c, ok := s.calls[key]; ok {
		s.mu.Unlock()
		<-c.done
		return c.val, c.err
	}
	c := &flightCall{done: make(chan struct{})}
	s.calls[key] = c
	s.mu.Unlock()
	c.val, c.err = fn()
	s.mu.Lock()
	delete(s.calls, key)
	s.mu.Unlock()
	close(c.done)
	return c.val, c.err
}
