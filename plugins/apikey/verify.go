package apikey

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/ratelimit"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// HashKey is Better Auth's defaultKeyHasher: base64url without padding of SHA-256(key).
func HashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// cacheEntry is a verified key and its owner, trusted from memory until until.
type cacheEntry struct {
	rec   storage.Record
	user  storage.Record // nil for organization-owned keys
	perms map[string][]string
	until time.Time
}

// quota is this node's in-memory share of a key's usage quota: units leased from storage
// (already subtracted there) and not yet served. Serving a request takes one unit; only
// when the lease is empty does the node write to storage, taking up to lease_size more.
type quota struct {
	mu               sync.Mutex
	leased           int64
	refillAt         time.Time // zero: no refill
	exhaustedUntil   time.Time // trust "exhausted" until then
	exhaustedRetryIn time.Duration
	known            bool // a lease transaction has run: refillAt is known
}

const maxCacheEntries = 10000

func (p *Plugin) cached(digest string, now time.Time) *cacheEntry {
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	e := p.s.cache[digest]
	if e == nil || !now.Before(e.until) {
		return nil
	}
	return e
}

func (p *Plugin) putCache(digest string, e *cacheEntry) {
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	if len(p.s.cache) >= maxCacheEntries {
		clear(p.s.cache)
	}
	p.s.cache[digest] = e
}

// invalidate forgets the cached copy of a key (after an update or delete on this node).
func (p *Plugin) invalidate(rec storage.Record) {
	p.s.mu.Lock()
	delete(p.s.cache, rec.String(FieldKey))
	p.s.mu.Unlock()
}

// dropQuota forgets this node's lease of a key without returning it (the stored remaining
// was just set by a trusted caller, or the key is gone).
func (p *Plugin) dropQuota(id string) {
	p.s.mu.Lock()
	q := p.s.quotas[id]
	delete(p.s.quotas, id)
	p.s.mu.Unlock()
	if q != nil {
		q.mu.Lock()
		q.leased = 0
		q.mu.Unlock()
	}
}

func (p *Plugin) quotaFor(id string) *quota {
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	q := p.s.quotas[id]
	if q == nil {
		q = &quota{}
		p.s.quotas[id] = q
	}
	return q
}

// unused is the number of leased, unserved units this node holds for a key.
func (p *Plugin) unused(id string) int64 {
	p.s.mu.Lock()
	q := p.s.quotas[id]
	p.s.mu.Unlock()
	if q == nil {
		return 0
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.leased
}

// lookup finds a key by digest (one indexed equality lookup: no per-character comparison)
// and its owner. It returns nil without error for an unknown key or a user key whose user
// is gone.
func (p *Plugin) lookup(ctx context.Context, key string, now time.Time) (*cacheEntry, error) {
	if key == "" || len(key) > maxKeyLen {
		return nil, nil
	}
	digest := HashKey(key)
	if e := p.cached(digest, now); e != nil {
		return e, nil
	}
	rec, err := p.engine.Store().FindOne(ctx, ModelAPIKey, storage.Eq(FieldKey, digest))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, authcore.Internal(err)
	}
	e := &cacheEntry{rec: rec, until: now.Add(cacheTTL), perms: parsePerms(rec.JSON(FieldPermissions))}
	if rec.String(FieldReferenceType) != refOrganization {
		u, err := p.engine.UserByID(ctx, rec.String(FieldReferenceID))
		if err != nil {
			return nil, authcore.Internal(err)
		}
		if u == nil {
			return nil, nil
		}
		e.user = u
	}
	p.putCache(digest, e)
	return e, nil
}

func parsePerms(raw json.RawMessage) map[string][]string {
	if len(raw) == 0 {
		return nil
	}
	var m map[string][]string
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	return m
}

// hasPermissions reports whether granted covers every action of every resource in want.
func hasPermissions(granted, want map[string][]string) bool {
	for res, acts := range want {
		have := granted[res]
		for _, a := range acts {
			ok := false
			for _, h := range have {
				if h == a {
					ok = true
					break
				}
			}
			if !ok {
				return false
			}
		}
	}
	return true
}

// verify applies Better Auth's validation order to a presented key: lookup (401
// INVALID_API_KEY) → enabled (401 KEY_DISABLED) → expiry (401 KEY_EXPIRED) → permissions
// (401 KEY_NOT_FOUND) → per-key rate limit (429 RATE_LIMITED) → quota (429
// USAGE_EXCEEDED). The rate limit is checked before the quota so that a rate-limited request
// spends no quota. Both 429s carry Retry-After and X-Retry-After.
// bannedAt reports whether the admin plugin's ban fields bar user at now: banned, and
// banExpires either unset or still ahead (an expired ban no longer counts, even before the
// user's next sign-in lifts it in storage).
func bannedAt(user storage.Record, now time.Time) bool {
	if user == nil || !user.Bool("banned") {
		return false
	}
	until := user.Time("banExpires")
	return until.IsZero() || now.Before(until)
}

func (p *Plugin) verify(ctx context.Context, key string, want map[string][]string) (*cacheEntry, error) {
	now := p.engine.Clock().Now()
	e, err := p.lookup(ctx, key, now)
	if err != nil {
		return nil, err
	}
	if e == nil {
		return nil, ErrInvalidAPIKey.With(http.StatusUnauthorized)
	}
	rec := e.rec
	if !rec.Bool(FieldEnabled) {
		return nil, ErrKeyDisabled.With(http.StatusUnauthorized)
	}
	if exp := rec.Time(FieldExpiresAt); !exp.IsZero() && !now.Before(exp) {
		return nil, ErrKeyExpired.With(http.StatusUnauthorized)
	}
	if bannedAt(e.user, now) {
		return nil, ErrUserBanned.With(http.StatusUnauthorized)
	}
	if len(want) > 0 && !hasPermissions(e.perms, want) {
		return nil, ErrKeyNotFound.With(http.StatusUnauthorized)
	}
	if rec.Bool(FieldRateLimitEnabled) {
		window := time.Duration(rec.Int(FieldRateLimitTimeWindow)) * time.Millisecond
		max := rec.Int(FieldRateLimitMax)
		if window > 0 && max > 0 {
			lim, key := p.rateLimiter(rec.ID())
			ok, retry, err := p.engine.AllowLimit(lim, key, ratelimit.Rule{Window: window, Max: int(max)})
			if err != nil {
				return nil, err // storage unavailable: 503, not a rate-limit answer
			}
			if !ok {
				err := retryError(http.StatusTooManyRequests, "RATE_LIMITED", ErrRateLimitExceeded.Message, retry)
				err.Details = map[string]any{"tryAgainIn": retry.Milliseconds()}
				p.engine.Metrics().RateLimited("api_key")
				return nil, err
			}
		}
	}
	if rec.Has(FieldRemaining) {
		if err := p.consume(ctx, rec.ID(), now); err != nil {
			if ae, ok := err.(*authcore.Error); ok && ae.Code == ErrUsageExceeded.Code {
				p.engine.Metrics().APIKeyQuotaRejected()
			}
			return nil, err
		}
	}
	return e, nil
}

// rateLimiter counts the per-key limit: on a shared store the engine's limiter (in the
// database, so the limit holds across nodes; the key prefixed with the plugin id), else the
// plugin's own memory limiter (keyed by the key id: no allocation per request).
func (p *Plugin) rateLimiter(id string) (ratelimit.Store, string) {
	if p.engine.SharedStore() {
		return p.engine.RateLimiter(), ID + "|" + id
	}
	return p.limiter, id
}

func retryError(status int, code, msg string, retry time.Duration) *authcore.Error {
	secs := int64((retry + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	h := http.Header{}
	h.Set("Retry-After", strconv.FormatInt(secs, 10))
	h.Set("X-Retry-After", strconv.FormatInt(secs, 10))
	return &authcore.Error{Status: status, Code: code, Message: msg, Header: h}
}

// noRefillRetry is the Retry-After of an exhausted quota that never refills.
const noRefillRetry = 24 * time.Hour

// consume takes one unit of a key's quota: from this node's lease when it has one, else by
// leasing up to lease_size units from storage in one transaction (refilling first when the
// refill interval has passed). Units are subtracted in storage before they are served, so
// concurrent requests and crashes can under-serve (a crashed node's lease is lost), never
// over-serve.
func (p *Plugin) consume(ctx context.Context, id string, now time.Time) error {
	if p.lease == 1 {
		if done, err := p.consumeExact(ctx, id, now); done {
			return err
		}
	}
	q := p.quotaFor(id)
	q.mu.Lock()
	defer q.mu.Unlock()
	refillDue := !q.refillAt.IsZero() && !now.Before(q.refillAt)
	if q.leased > 0 && !refillDue {
		q.leased--
		return nil
	}
	if !refillDue && now.Before(q.exhaustedUntil) {
		return retryError(http.StatusTooManyRequests, ErrUsageExceeded.Code, ErrUsageExceeded.Message, q.exhaustedRetryIn)
	}
	var (
		got      int64
		refillAt time.Time
		gone     bool
	)
	err := p.engine.Store().Tx(ctx, func(tx storage.Adapter) error {
		got, refillAt, gone = 0, time.Time{}, false
		rec, err := tx.FindOne(ctx, ModelAPIKey, storage.ByID(id))
		if errors.Is(err, storage.ErrNotFound) {
			gone = true
			return nil
		}
		if err != nil {
			return err
		}
		if !rec.Has(FieldRemaining) { // quota removed meanwhile: unlimited
			got = -1
			return nil
		}
		rem := rec.Int(FieldRemaining)
		set := storage.Record{}
		interval := time.Duration(rec.Int(FieldRefillInterval)) * time.Millisecond
		amount := rec.Int(FieldRefillAmount)
		if interval > 0 && amount > 0 {
			last := rec.Time(FieldLastRefillAt)
			if last.IsZero() {
				last = rec.Time(FieldCreatedAt)
			}
			if !now.Before(last.Add(interval)) {
				// Better Auth's refill: remaining becomes refillAmount.
				rem = amount
				last = now
				set[FieldLastRefillAt] = now
				q.leased = 0
			}
			refillAt = last.Add(interval)
		}
		got = min(int64(p.lease), max(rem, 0))
		if got > 0 || len(set) > 0 {
			set[FieldRemaining] = rem - got
			set[FieldLastRequest] = now
			_, err = tx.Update(ctx, ModelAPIKey, storage.ByID(id), set)
		}
		return err
	})
	if err != nil {
		return authcore.Internal(err)
	}
	if gone {
		return ErrInvalidAPIKey.With(http.StatusUnauthorized)
	}
	q.refillAt = refillAt
	q.known = true
	if got < 0 {
		return nil
	}
	if got == 0 {
		retry := noRefillRetry
		until := now.Add(exhaustedRecheck)
		if !refillAt.IsZero() {
			retry = refillAt.Sub(now)
			if refillAt.Before(until) {
				until = refillAt
			}
		}
		q.exhaustedUntil, q.exhaustedRetryIn = until, retry
		return retryError(http.StatusTooManyRequests, ErrUsageExceeded.Code, ErrUsageExceeded.Message, retry)
	}
	q.exhaustedUntil = time.Time{}
	q.leased = got - 1
	return nil
}

// consumeExact is lease_size 1 (the default on a shared store): one atomic
// compare-and-subtract on the stored remaining count ("remaining >= 1"), so nodes never
// hold units another node could serve, and however many requests race on however many
// nodes, at most remaining of them pass. It runs without the key's lock. It leaves the
// decision to the lease transaction (done=false) the first time this node sees the key
// (to learn its refill time), when a refill is due, and when the conditional write finds
// nothing (exhausted, quota removed, key gone): that path answers exactly.
func (p *Plugin) consumeExact(ctx context.Context, id string, now time.Time) (done bool, err error) {
	q := p.quotaFor(id)
	q.mu.Lock()
	known := q.known
	refillDue := !q.refillAt.IsZero() && !now.Before(q.refillAt)
	exhausted := !refillDue && now.Before(q.exhaustedUntil)
	retry := q.exhaustedRetryIn
	q.mu.Unlock()
	if !known || refillDue {
		return false, nil
	}
	if exhausted {
		return true, retryError(http.StatusTooManyRequests, ErrUsageExceeded.Code, ErrUsageExceeded.Message, retry)
	}
	_, err = p.engine.Store().IncrementOne(ctx, ModelAPIKey, storage.And(storage.ByID(id), storage.Gte(FieldRemaining, int64(1))),
		FieldRemaining, -1, storage.Record{FieldLastRequest: now})
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return true, authcore.Internal(err)
	}
	return true, nil
}

// Close returns this node's unused leased units to storage (Caddy calls it through
// Cleanup on reload and shutdown). After a crash they are lost: the key under-serves.
func (p *Plugin) Close() error {
	p.s.mu.Lock()
	if p.s.closed {
		p.s.mu.Unlock()
		return nil
	}
	p.s.closed = true
	quotas := p.s.quotas
	p.s.quotas = map[string]*quota{}
	p.s.mu.Unlock()
	var errs []error
	for id, q := range quotas {
		q.mu.Lock()
		n := q.leased
		q.leased = 0
		q.mu.Unlock()
		if n <= 0 {
			continue
		}
		_, err := p.engine.Store().IncrementOne(context.Background(), ModelAPIKey, storage.ByID(id), FieldRemaining, n, nil)
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
