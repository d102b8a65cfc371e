package ratelimit

import (
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

type step struct {
	at    time.Duration // offset from t0
	ok    bool
	retry time.Duration // expected retryAfter when !ok
}

func runSteps(t *testing.T, l *Limiter, key string, rule Rule, steps []step) {
	t.Helper()
	for i, s := range steps {
		ok, retry := l.Allow(key, rule, t0.Add(s.at))
		if ok != s.ok {
			t.Fatalf("step %d at +%v: ok = %v, want %v", i, s.at, ok, s.ok)
		}
		if !ok && retry != s.retry {
			t.Fatalf("step %d at +%v: retryAfter = %v, want %v", i, s.at, retry, s.retry)
		}
		if ok && retry != 0 {
			t.Fatalf("step %d at +%v: retryAfter = %v on an allowed request", i, s.at, retry)
		}
	}
}

// TestAllowSemantics follows spec §4.6 step by step: lastRequest is the time
// of the last ALLOWED request, a rejection changes nothing, and the count
// restarts once now - lastRequest >= window.
func TestAllowSemantics(t *testing.T) {
	rule := Rule{Window: 10 * time.Second, Max: 3}
	l := NewLimiter(100)
	runSteps(t, l, "1.2.3.4|/sign-in/email", rule, []step{
		{at: 0, ok: true},
		{at: 1 * time.Second, ok: true},
		{at: 2 * time.Second, ok: true},
		// Full: retry = lastRequest(2s) + 10s - now.
		{at: 3 * time.Second, ok: false, retry: 9 * time.Second},
		{at: 11500 * time.Millisecond, ok: false, retry: 500 * time.Millisecond},
		// Rejections did not move lastRequest: at exactly 2s+10s the window
		// has passed, the count restarts at 1.
		{at: 12 * time.Second, ok: true},
		{at: 13 * time.Second, ok: true},
		{at: 14 * time.Second, ok: true},
		{at: 14 * time.Second, ok: false, retry: 10 * time.Second},
		// Not a fixed window: each allowed request pushed lastRequest, so
		// 12s+10s is not enough; 14s+10s is.
		{at: 22 * time.Second, ok: false, retry: 2 * time.Second},
		{at: 24*time.Second - time.Nanosecond, ok: false, retry: time.Nanosecond},
		{at: 24 * time.Second, ok: true},
	})
}

func TestAllowBoundaryExactlyAtWindow(t *testing.T) {
	rule := Rule{Window: time.Minute, Max: 1}
	l := NewLimiter(10)
	runSteps(t, l, "k", rule, []step{
		{at: 0, ok: true},
		{at: time.Minute - time.Nanosecond, ok: false, retry: time.Nanosecond},
		{at: time.Minute, ok: true}, // now - lastRequest == window ⇒ restart
		{at: time.Minute, ok: false, retry: time.Minute},
	})
}

func TestAllowKeysAreIndependent(t *testing.T) {
	rule := Rule{Window: 10 * time.Second, Max: 1}
	// 64 keys over 32 shards: room for two keys per shard, so "a" and "b" never evict each
	// other even when the random seed puts them in one shard. (NewLimiter(10) made ten
	// one-key shards, and the test failed whenever both keys hashed alike, ~1 run in 10.)
	l := NewLimiter(64)
	if ok, _ := l.Allow("a", rule, t0); !ok {
		t.Fatal("a refused")
	}
	if ok, _ := l.Allow("b", rule, t0); !ok {
		t.Fatal("b refused after a")
	}
	if ok, _ := l.Allow("a", rule, t0); ok {
		t.Fatal("a allowed twice")
	}
}

func TestAllowDegenerateRules(t *testing.T) {
	l := NewLimiter(10)
	// Max < 1 fails closed.
	for _, max := range []int{0, -1} {
		ok, retry := l.Allow("k", Rule{Window: 10 * time.Second, Max: max}, t0)
		if ok || retry != 10*time.Second {
			t.Errorf("Max %d: Allow = %v, %v; want false, 10s", max, ok, retry)
		}
	}
	// Window <= 0 limits nothing and stores nothing.
	for i := range 5 {
		if ok, _ := l.Allow("k", Rule{Window: 0, Max: 1}, t0); !ok {
			t.Fatalf("Window 0: request %d refused", i)
		}
	}
	if n := l.Len(); n != 0 {
		t.Errorf("Len = %d after degenerate rules, want 0", n)
	}
}

func TestAllowRuleChangeKeepsCount(t *testing.T) {
	l := NewLimiter(10)
	short := Rule{Window: 10 * time.Second, Max: 2}
	long := Rule{Window: 60 * time.Second, Max: 2}
	runSteps(t, l, "k", short, []step{{at: 0, ok: true}, {at: time.Second, ok: true}})
	// Same key, longer window (configuration reloaded): the count carries
	// over and the new window applies.
	runSteps(t, l, "k", long, []step{
		{at: 20 * time.Second, ok: false, retry: 41 * time.Second},
		{at: 61 * time.Second, ok: true},
	})
	if n := l.Sweep(t0.Add(121 * time.Second)); n != 1 {
		t.Errorf("Sweep = %d, want 1", n)
	}
}

// TestAllowConcurrentOneKey hammers one key from 100 goroutines inside one
// window: exactly Max requests may pass (run under -race).
func TestAllowConcurrentOneKey(t *testing.T) {
	l := NewLimiter(1000)
	rule := Rule{Window: 10 * time.Second, Max: 10}
	var allowed atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := range 100 {
		wg.Go(func() {
			<-start
			for i := range 5 {
				// Distinct instants inside one window, as real callers have.
				now := t0.Add(time.Duration(g*5+i) * time.Millisecond)
				if ok, _ := l.Allow("9.9.9.9|/sign-in/email", rule, now); ok {
					allowed.Add(1)
				}
			}
		})
	}
	close(start)
	wg.Wait()
	if got := allowed.Load(); got != 10 {
		t.Fatalf("allowed %d requests, want exactly 10", got)
	}
}

func TestAllowConcurrentManyKeys(t *testing.T) {
	l := NewLimiter(64)
	rule := Rule{Window: time.Second, Max: 3}
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 2000 {
				key := "k" + strconv.Itoa((g*2000+i)%200)
				l.Allow(key, rule, t0.Add(time.Duration(i)*time.Millisecond))
				if i%500 == 0 {
					l.Sweep(t0.Add(time.Duration(i) * time.Millisecond))
					_ = l.Len()
				}
			}
		})
	}
	wg.Wait()
	if n := l.Len(); n > 64 {
		t.Fatalf("Len = %d, bound is 64", n)
	}
}

func TestEvictionBound(t *testing.T) {
	for _, maxKeys := range []int{1, 7, 31, 32, 33, 100, 1000} {
		t.Run(strconv.Itoa(maxKeys), func(t *testing.T) {
			l := NewLimiter(maxKeys)
			rule := Rule{Window: time.Hour, Max: 5}
			// Random keys: the bound holds after every insertion.
			for i := range maxKeys * 5 {
				if ok, _ := l.Allow(fmt.Sprintf("key-%d", i), rule, t0.Add(time.Duration(i)*time.Millisecond)); !ok {
					t.Fatalf("new key %d refused", i)
				}
				if n := l.Len(); n > maxKeys {
					t.Fatalf("after %d keys Len = %d > %d", i+1, n, maxKeys)
				}
			}
			// Overfill every shard on purpose: the total is then exactly
			// the bound, so the per-shard limits add up to maxKeys.
			now := t0.Add(time.Minute)
			for i := range l.shards {
				for _, k := range keysInShard(l, "fill-", i, l.shards[i].limit+3) {
					now = now.Add(time.Millisecond)
					l.Allow(k, rule, now)
				}
			}
			if n := l.Len(); n != maxKeys {
				t.Fatalf("Len = %d, want the bound %d (full)", n, maxKeys)
			}
		})
	}
}

func TestEvictionPrefersExpiredThenOldest(t *testing.T) {
	// maxKeys 1 means a single shard with room for one key, so the
	// eviction order is fully observable.
	short := Rule{Window: time.Second, Max: 1}
	long := Rule{Window: time.Hour, Max: 1}

	t.Run("expired first", func(t *testing.T) {
		l := NewLimiter(2) // two shards; all keys below land in shard 0
		s := &l.shards[0]
		s.limit = 2
		keys := keysInShard(l, "key-", 0, 3)
		l.Allow(keys[0], long, t0)                   // oldest, live for an hour
		l.Allow(keys[1], short, t0.Add(time.Second)) // newer, expires at t0+2s
		if len(s.entries) != 2 {
			t.Fatalf("setup: shard holds %d", len(s.entries))
		}
		// At t0+3s keys[1] has expired: it goes, although keys[0] is older.
		l.Allow(keys[2], long, t0.Add(3*time.Second))
		if _, ok := s.entries[keys[0]]; !ok {
			t.Error("live oldest entry evicted while an expired one existed")
		}
		if _, ok := s.entries[keys[1]]; ok {
			t.Error("expired entry kept")
		}
	})

	t.Run("then oldest", func(t *testing.T) {
		l := NewLimiter(1)
		l.shards[0].limit = 3
		l.Allow("a", long, t0)
		l.Allow("b", long, t0.Add(time.Second))
		l.Allow("c", long, t0.Add(2*time.Second))
		l.Allow("a", long, t0.Add(3*time.Second)) // refused: no change to a's age
		l.Allow("b", long, t0.Add(3*time.Second)) // refused too
		l.Allow("d", long, t0.Add(4*time.Second))
		if _, ok := l.shards[0].entries["a"]; ok {
			t.Error("oldest entry a not evicted")
		}
		for _, k := range []string{"b", "c", "d"} {
			if _, ok := l.shards[0].entries[k]; !ok {
				t.Errorf("entry %s evicted", k)
			}
		}
	})

	t.Run("allowed request refreshes age", func(t *testing.T) {
		l := NewLimiter(1)
		l.shards[0].limit = 2
		rule := Rule{Window: time.Hour, Max: 5}
		l.Allow("a", rule, t0)
		l.Allow("b", rule, t0.Add(time.Second))
		l.Allow("a", rule, t0.Add(2*time.Second)) // a is now the newest
		l.Allow("c", rule, t0.Add(3*time.Second))
		if _, ok := l.shards[0].entries["b"]; ok {
			t.Error("b (least recently allowed) not evicted")
		}
		if _, ok := l.shards[0].entries["a"]; !ok {
			t.Error("a evicted although recently allowed")
		}
	})
}

// keysInShard finds n keys that hash to shard i of l.
func keysInShard(l *Limiter, prefix string, i, n int) []string {
	var out []string
	for k := 0; len(out) < n; k++ {
		key := prefix + strconv.Itoa(k)
		if l.shardIndex(key) == i {
			out = append(out, key)
		}
	}
	return out
}

func TestSweep(t *testing.T) {
	// Room for far more keys than the test uses: with 32 randomly seeded shards, a small
	// bound would let a crowded shard evict keys and make the counts below flaky.
	l := NewLimiter(10000)
	short := Rule{Window: 10 * time.Second, Max: 3}
	long := Rule{Window: 60 * time.Second, Max: 3}
	for i := range 10 {
		l.Allow("s"+strconv.Itoa(i), short, t0.Add(time.Duration(i)*time.Second))
		l.Allow("l"+strconv.Itoa(i), long, t0.Add(time.Duration(i)*time.Second))
	}
	if n := l.Len(); n != 20 {
		t.Fatalf("Len = %d, want 20", n)
	}
	if n := l.Sweep(t0.Add(9 * time.Second)); n != 0 {
		t.Fatalf("Sweep(+9s) = %d, want 0", n)
	}
	// At +15s the short entries allowed at 0..5s have expired (>= 10s).
	if n := l.Sweep(t0.Add(15 * time.Second)); n != 6 {
		t.Fatalf("Sweep(+15s) = %d, want 6", n)
	}
	if n := l.Len(); n != 14 {
		t.Fatalf("Len = %d, want 14", n)
	}
	if n := l.Sweep(t0.Add(time.Hour)); n != 14 {
		t.Fatalf("Sweep(+1h) = %d, want 14", n)
	}
	if n := l.Len(); n != 0 {
		t.Fatalf("Len = %d after full sweep", n)
	}
	// A swept key starts afresh, exactly as if it had been kept.
	runSteps(t, l, "s0", short, []step{{at: time.Hour, ok: true}})
}

func TestNewLimiterDefault(t *testing.T) {
	l := NewLimiter(0)
	total := 0
	for i := range l.shards {
		total += l.shards[i].limit
	}
	if total != DefaultMaxKeys || len(l.shards) != maxShards {
		t.Fatalf("default limiter: %d shards, %d keys", len(l.shards), total)
	}
}

func BenchmarkAllowExistingKey(b *testing.B) {
	l := NewLimiter(DefaultMaxKeys)
	rule := Rule{Window: 10 * time.Second, Max: 1 << 30}
	key := "2001:db8::/64|/sign-in/email"
	l.Allow(key, rule, t0)
	now := t0
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(time.Microsecond)
		l.Allow(key, rule, now)
	}
}

func BenchmarkAllowRejected(b *testing.B) {
	l := NewLimiter(DefaultMaxKeys)
	rule := Rule{Window: time.Hour, Max: 3}
	key := "1.2.3.4|/sign-in/email"
	for range 3 {
		l.Allow(key, rule, t0)
	}
	b.ReportAllocs()
	for b.Loop() {
		l.Allow(key, rule, t0)
	}
}

func BenchmarkAllowParallel(b *testing.B) {
	l := NewLimiter(DefaultMaxKeys)
	rule := Rule{Window: 10 * time.Second, Max: 1 << 30}
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = "10.0." + strconv.Itoa(i/256) + "." + strconv.Itoa(i%256) + "|/get-session"
		l.Allow(keys[i], rule, t0)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			l.Allow(keys[i%len(keys)], rule, t0)
			i++
		}
	})
}

func BenchmarkAllowNewKeysFull(b *testing.B) {
	l := NewLimiter(10_000)
	rule := Rule{Window: time.Hour, Max: 3}
	keys := make([]string, 100_000)
	for i := range keys {
		keys[i] = "k" + strconv.Itoa(i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		l.Allow(keys[i%len(keys)], rule, t0.Add(time.Duration(i)))
		i++
	}
}

func TestPeekAndReset(t *testing.T) {
	l := NewLimiter(16)
	rule := Rule{Window: time.Minute, Max: 2}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if ok, _ := l.Peek("k", rule, now); !ok {
		t.Fatal("peek on an unknown key must allow")
	}
	l.Allow("k", rule, now)
	l.Allow("k", rule, now)
	if ok, retry := l.Peek("k", rule, now.Add(10*time.Second)); ok || retry != 50*time.Second {
		t.Fatalf("peek after max: ok=%v retry=%v, want false 50s", ok, retry)
	}
	if ok, _ := l.Peek("k", rule, now.Add(10*time.Second)); ok {
		t.Fatal("peek must not change state")
	}
	if ok, _ := l.Peek("k", rule, now.Add(time.Minute)); !ok {
		t.Fatal("peek after the window must allow")
	}
	l.Reset("k")
	if l.Len() != 0 {
		t.Fatalf("reset left %d keys", l.Len())
	}
	if ok, _ := l.Allow("k", rule, now.Add(time.Second)); !ok {
		t.Fatal("allow after reset must succeed")
	}
}
