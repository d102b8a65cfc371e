package ratelimit_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore/ratelimit"
	"github.com/gatehouse-auth/gatehouse/storage"
	"github.com/gatehouse-auth/gatehouse/storage/memory"
	"github.com/gatehouse-auth/gatehouse/storage/postgres"
	"github.com/gatehouse-auth/gatehouse/storage/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func limitSchema(t *testing.T) *storage.Schema {
	t.Helper()
	s := storage.NewSchema()
	if err := s.AddModel("core", ratelimit.Model("rateLimit")); err != nil {
		t.Fatal(err)
	}
	return s
}

func memoryStored(t *testing.T) (*ratelimit.Stored, storage.Adapter) {
	t.Helper()
	a, err := memory.New(limitSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	return ratelimit.NewStored(a, "rateLimit", nil), a
}

// pgNodes opens n independent pools on one fresh database: n Gatehouse nodes.
func pgNodes(t *testing.T, n int) []*ratelimit.Stored {
	t.Helper()
	dsn := pgtest.DSN(t)
	var out []*ratelimit.Stored
	for range n {
		st, err := postgres.Open(context.Background(), dsn, &postgres.Options{MaxConns: 16})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(st.Close)
		a, err := st.Bind(context.Background(), limitSchema(t))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ratelimit.NewStored(a, "rateLimit", nil))
	}
	return out
}

// TestStoredMatchesMemory drives the stored limiter and the memory one through the same
// script (spec §4.6: counts, window restart, retry time, Peek, Reset, trivial rules) and
// requires identical answers.
func TestStoredMatchesMemory(t *testing.T) {
	st, _ := memoryStored(t)
	mem := ratelimit.NewLimiter(0)
	rule := ratelimit.Rule{Window: 10 * time.Second, Max: 3}
	t0 := time.Unix(1_800_000_000, 0)
	type step struct {
		op  string // allow, peek, reset
		key string
		at  time.Duration
		r   ratelimit.Rule
	}
	var script []step
	for i := range 5 {
		script = append(script, step{"allow", "a", time.Duration(i) * time.Second, rule})
	}
	script = append(script,
		step{"peek", "a", 5 * time.Second, rule},
		step{"allow", "b", 5 * time.Second, rule},
		step{"allow", "a", 13*time.Second + 999*time.Millisecond, rule}, // last allowed at 2s: still inside
		step{"allow", "a", 14 * time.Second, rule},                      // window of the last allowed passed
		step{"allow", "a", 14 * time.Second, rule},
		step{"allow", "a", 14 * time.Second, rule},
		step{"peek", "a", 15 * time.Second, rule},
		step{"allow", "a", 15 * time.Second, rule},
		step{"reset", "a", 15 * time.Second, rule},
		step{"peek", "a", 15 * time.Second, rule},
		step{"allow", "a", 15 * time.Second, rule},
		step{"allow", "z", 15 * time.Second, ratelimit.Rule{Window: time.Second, Max: 0}},
		step{"allow", "z", 15 * time.Second, ratelimit.Rule{Window: 0, Max: 1}},
		step{"allow", "b", 16 * time.Second, ratelimit.Rule{Window: time.Minute, Max: 1}}, // rule changed (reload)
	)
	for i, s := range script {
		now := t0.Add(s.at)
		var okS, okM bool
		var rS, rM time.Duration
		switch s.op {
		case "allow":
			okS, rS = st.Allow(s.key, s.r, now)
			okM, rM = mem.Allow(s.key, s.r, now)
		case "peek":
			okS, rS = st.Peek(s.key, s.r, now)
			okM, rM = mem.Peek(s.key, s.r, now)
		case "reset":
			st.Reset(s.key)
			mem.Reset(s.key)
			continue
		}
		if okS != okM || rS != rM {
			t.Errorf("step %d %s %s at %v: stored (%v, %v), memory (%v, %v)", i, s.op, s.key, s.at, okS, rS, okM, rM)
		}
	}
}

// TestStoredSweep: counters whose window has ended are deleted, live ones stay.
func TestStoredSweep(t *testing.T) {
	st, a := memoryStored(t)
	t0 := time.Unix(1_800_000_000, 0)
	st.Allow("old", ratelimit.Rule{Window: time.Second, Max: 5}, t0)
	st.Allow("live", ratelimit.Rule{Window: time.Hour, Max: 5}, t0)
	n, err := st.Sweep(context.Background(), t0.Add(2*time.Second))
	if err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v; want 1", n, err)
	}
	if c, _ := a.Count(context.Background(), "rateLimit", storage.Where{}); c != 1 {
		t.Fatalf("%d counters left, want 1", c)
	}
}

// TestStoredFailsClosed: a store that cannot answer refuses the request.
func TestStoredFailsClosed(t *testing.T) {
	a, err := memory.New(storage.NewSchema()) // no rateLimit model: every operation fails
	if err != nil {
		t.Fatal(err)
	}
	st := ratelimit.NewStored(a, "rateLimit", nil)
	if ok, retry := st.Allow("k", ratelimit.Rule{Window: time.Second, Max: 5}, time.Now()); ok || retry <= 0 {
		t.Fatalf("Allow on a failing store = %v, %v; want refused", ok, retry)
	}
	if ok, _ := st.Peek("k", ratelimit.Rule{Window: time.Second, Max: 5}, time.Now()); ok {
		t.Fatal("Peek on a failing store allowed")
	}
}

// TestStoredClusterBound: three nodes (three pools on one PostgreSQL database) hammer the
// same keys concurrently; exactly Max requests per key are allowed in one window, however
// the requests interleave, including the race to create the first counter row.
func TestStoredClusterBound(t *testing.T) {
	nodes := pgNodes(t, 3)
	rule := ratelimit.Rule{Window: time.Hour, Max: 7}
	now := time.Now()
	const keys, perKey = 4, 60
	var allowed [keys]atomic.Int64
	var wg sync.WaitGroup
	for k := range keys {
		for i := range perKey {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if ok, _ := nodes[i%len(nodes)].Allow(fmt.Sprintf("key-%d", k), rule, now); ok {
					allowed[k].Add(1)
				}
			}()
		}
	}
	wg.Wait()
	for k := range keys {
		if n := allowed[k].Load(); n != int64(rule.Max) {
			t.Errorf("key-%d: %d allowed across nodes, want exactly %d", k, n, rule.Max)
		}
	}
	// A reset on one node is seen by the others; a failure lock-out likewise.
	nodes[0].Reset("key-0")
	if ok, _ := nodes[2].Peek("key-0", rule, now); !ok {
		t.Fatal("node 2 still limited after node 0 reset the key")
	}
	if ok, _ := nodes[1].Peek("key-1", rule, now); ok {
		t.Fatal("node 1 does not see key-1's exhausted window")
	}
}

// TestStoredWindowRestartRace: when a window ends, concurrent nodes restart it once: the
// new window still admits exactly Max.
func TestStoredWindowRestartRace(t *testing.T) {
	nodes := pgNodes(t, 2)
	rule := ratelimit.Rule{Window: time.Minute, Max: 5}
	t0 := time.Now()
	for range rule.Max {
		nodes[0].Allow("k", rule, t0)
	}
	later := t0.Add(2 * time.Minute)
	var n atomic.Int64
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if ok, _ := nodes[i%2].Allow("k", rule, later); ok {
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	if n.Load() != int64(rule.Max) {
		t.Fatalf("%d allowed after the window restart, want %d", n.Load(), rule.Max)
	}
}
