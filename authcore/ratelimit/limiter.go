package ratelimit

import (
	"hash/maphash"
	"sync"
	"time"
)

// Rule is one rate-limit rule: at most Max allowed requests per key within
// Window of the last allowed one.
//
// A Window of zero or less limits nothing (every request starts a new
// window). A Max of zero or less allows nothing: a misconfigured rule fails
// closed rather than open.
type Rule struct {
	Window time.Duration
	Max    int
}

// Store is what the engine consults for every rate-limited request. The
// memory [Limiter] implements it; a shared-storage implementation for
// multi-node deployments will implement the same contract.
//
// Allow applies spec §4.6 to key at time now and reports whether the request
// may proceed. When it may not, retryAfter is the exact time left until the
// window ends (lastRequest + Window - now); rounding it up to whole seconds for
// X-Retry-After / Retry-After is the caller's job.
//
// Peek reports what Allow would answer without changing anything; Reset forgets
// a key. The engine uses the pair to count sign-in failures per account: Allow
// on each failure, Peek before checking a password, Reset after a success.
type Store interface {
	Allow(key string, rule Rule, now time.Time) (ok bool, retryAfter time.Duration)
	Peek(key string, rule Rule, now time.Time) (ok bool, retryAfter time.Duration)
	Reset(key string)
}

// DefaultMaxKeys is the bound NewLimiter uses when given zero or less.
const DefaultMaxKeys = 100_000

// maxShards is the number of independently locked shards of a Limiter.
const maxShards = 32

// Limiter is the in-memory [Store]. Keys are spread over up to 32 shards,
// each a mutex and a map, so concurrent requests for different keys rarely
// contend. Memory is bounded: a Limiter never holds more than its maxKeys
// entries. When a shard is full, entries whose window has passed are dropped
// first (that loses nothing — their next request would start a new window
// anyway), then the entry whose last allowed request is oldest. Evicting a
// live entry forgets its count, which a flood of fresh keys could exploit to
// reset someone's window; size maxKeys well above the expected number of
// active keys and, because the hash seed is random per Limiter, an attacker
// cannot aim a flood at one shard.
//
// Inside a shard, entries are kept in one list per window duration, ordered
// by last allowed request, so expiry and eviction look only at list heads.
// That order assumes callers pass a non-decreasing now (give or take
// concurrent callers racing by microseconds); a clock stepping backwards only
// makes eviction slightly less exact, never unsafe.
type Limiter struct {
	seed   maphash.Seed
	shards []shard
}

type shard struct {
	mu      sync.Mutex
	entries map[string]*entry
	lists   []*windowList // few: one per distinct Rule.Window seen
	limit   int
}

// entry is the state of one key: spec §4.6's count and lastRequest.
type entry struct {
	key        string
	count      int
	last       time.Time // time of the last allowed request
	list       *windowList
	prev, next *entry
}

// windowList is an intrusive doubly linked list of the entries last used
// with one window, oldest last-allowed request first.
type windowList struct {
	window     time.Duration
	head, tail *entry
}

// NewLimiter returns an empty memory Limiter holding at most maxKeys keys
// (DefaultMaxKeys if maxKeys < 1). It is safe for concurrent use; run
// [Limiter.Sweep] periodically to release expired entries early.
func NewLimiter(maxKeys int) *Limiter {
	if maxKeys < 1 {
		maxKeys = DefaultMaxKeys
	}
	n := min(maxKeys, maxShards)
	l := &Limiter{seed: maphash.MakeSeed(), shards: make([]shard, n)}
	for i := range l.shards {
		// Split maxKeys exactly, so the total bound is maxKeys itself.
		limit := maxKeys / n
		if i < maxKeys%n {
			limit++
		}
		l.shards[i].limit = limit
		l.shards[i].entries = make(map[string]*entry)
	}
	return l
}

var _ Store = (*Limiter)(nil)

// Allow implements [Store] with spec §4.6's semantics:
//
//   - no entry, or now - lastRequest >= Window: the count restarts at 1 and
//     lastRequest = now (allowed);
//   - else count >= Max: rejected, state unchanged, retryAfter =
//     lastRequest + Window - now;
//   - else count++ and lastRequest = now (allowed).
//
// Allow does not allocate when key already has an entry.
func (l *Limiter) Allow(key string, rule Rule, now time.Time) (bool, time.Duration) {
	if ok, retry, decided := trivial(rule); decided {
		return ok, retry
	}
	s := &l.shards[l.shardIndex(key)]
	s.mu.Lock()
	defer s.mu.Unlock()

	e := s.entries[key]
	if e == nil {
		s.makeRoom(now)
		e = &entry{key: key, count: 1, last: now}
		s.entries[key] = e
		s.list(rule.Window).pushBack(e)
		return true, 0
	}
	if e.list.window != rule.Window {
		// The rule for this key changed (a configuration reload); keep the
		// count and move the entry to the right list. If this request is
		// then rejected, the entry sits at the back with an older
		// lastRequest — a one-off blemish in eviction order, not in limits.
		e.list.remove(e)
		s.list(rule.Window).pushBack(e)
	}
	if ok, retry := e.verdict(rule, now); !ok {
		return false, retry
	}
	if now.Sub(e.last) >= rule.Window {
		e.count = 1
	} else {
		e.count++
	}
	e.last = now
	e.list.moveToBack(e)
	return true, 0
}

// Peek implements [Store]: Allow's verdict for key at now, with no state
// change.
func (l *Limiter) Peek(key string, rule Rule, now time.Time) (bool, time.Duration) {
	if ok, retry, decided := trivial(rule); decided {
		return ok, retry
	}
	s := &l.shards[l.shardIndex(key)]
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.entries[key]; e != nil {
		return e.verdict(rule, now)
	}
	return true, 0
}

// trivial decides rules that need no state: Max < 1 allows nothing (fail
// closed), Window <= 0 limits nothing.
func trivial(rule Rule) (ok bool, retry time.Duration, decided bool) {
	if rule.Max < 1 {
		return false, max(rule.Window, 0), true
	}
	if rule.Window <= 0 {
		return true, 0, true
	}
	return false, 0, false
}

// verdict is spec §4.6's decision for an existing entry: rejected while the
// window of the last allowed request is open and the count has reached Max.
func (e *entry) verdict(rule Rule, now time.Time) (bool, time.Duration) {
	if elapsed := now.Sub(e.last); elapsed < rule.Window && e.count >= rule.Max {
		return false, rule.Window - elapsed
	}
	return true, 0
}

// Reset implements [Store]: key starts afresh.
func (l *Limiter) Reset(key string) {
	s := &l.shards[l.shardIndex(key)]
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.entries[key]; e != nil {
		s.delete(e)
	}
}

// shardIndex picks key's shard with a per-Limiter random seed.
func (l *Limiter) shardIndex(key string) int {
	return int(maphash.String(l.seed, key) % uint64(len(l.shards)))
}

// Sweep removes every entry whose window has passed at now and returns how
// many it removed. The engine calls it periodically; correctness never
// depends on it, only memory use does.
func (l *Limiter) Sweep(now time.Time) int {
	n := 0
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		n += s.dropExpired(now)
		s.mu.Unlock()
	}
	return n
}

// Len returns the number of keys held.
func (l *Limiter) Len() int {
	n := 0
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		n += len(s.entries)
		s.mu.Unlock()
	}
	return n
}

// makeRoom ensures the shard can take one more entry: first expired entries
// go, then the least recently allowed one. Called with s.mu held.
func (s *shard) makeRoom(now time.Time) {
	if len(s.entries) < s.limit {
		return
	}
	if s.dropExpired(now) > 0 {
		return
	}
	var oldest *entry
	for _, wl := range s.lists {
		if wl.head != nil && (oldest == nil || wl.head.last.Before(oldest.last)) {
			oldest = wl.head
		}
	}
	if oldest != nil {
		s.delete(oldest)
	}
}

// dropExpired removes the entries whose window has passed. Lists are ordered
// by last allowed request, so it stops at the first live entry of each list.
func (s *shard) dropExpired(now time.Time) int {
	n := 0
	for _, wl := range s.lists {
		for e := wl.head; e != nil && now.Sub(e.last) >= wl.window; e = wl.head {
			s.delete(e)
			n++
		}
	}
	return n
}

func (s *shard) delete(e *entry) {
	e.list.remove(e)
	delete(s.entries, e.key)
}

// list returns the shard's list for window, creating it on first use.
func (s *shard) list(window time.Duration) *windowList {
	for _, wl := range s.lists {
		if wl.window == window {
			return wl
		}
	}
	wl := &windowList{window: window}
	s.lists = append(s.lists, wl)
	return wl
}

func (wl *windowList) pushBack(e *entry) {
	e.list, e.prev, e.next = wl, wl.tail, nil
	if wl.tail != nil {
		wl.tail.next = e
	} else {
		wl.head = e
	}
	wl.tail = e
}

func (wl *windowList) remove(e *entry) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		wl.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		wl.tail = e.prev
	}
	e.list, e.prev, e.next = nil, nil, nil
}

func (wl *windowList) moveToBack(e *entry) {
	if wl.tail == e {
		return
	}
	wl.remove(e)
	wl.pushBack(e)
}
