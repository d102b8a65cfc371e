package apikey_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/plugins/apikey"
	"github.com/gatehouse-auth/gatehouse/storage"
	"github.com/gatehouse-auth/gatehouse/storage/memory"
	"github.com/gatehouse-auth/gatehouse/storage/postgres"
	"github.com/gatehouse-auth/gatehouse/storage/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// clusterNodes builds two engines on one store WithSharedStore, as two Gatehouse nodes on
// one PostgreSQL database: each its own plugin state (leases, caches, memory limiter).
func clusterNodes(t *testing.T, st storage.Store, plugin func() *apikey.Plugin) [2]*authcoretest.Harness {
	t.Helper()
	var out [2]*authcoretest.Harness
	for i := range out {
		out[i] = newHarness(t, plugin(), authcoretest.WithEngineOptions(authcore.WithStore(st), authcore.WithSharedStore()))
	}
	return out
}

func pgStore(t *testing.T) storage.Store {
	t.Helper()
	st, err := postgres.Open(context.Background(), pgtest.DSN(t), &postgres.Options{MaxConns: 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}

// burst sends n gateway requests with key in parallel, alternating nodes, and counts the
// outcomes.
func burst(t *testing.T, nodes [2]*authcoretest.Harness, key string, n int) (ok, usage, limited, other int64) {
	t.Helper()
	var a, b, c, d atomic.Int64
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := nodes[i%2].Engine.Authenticate(gwReq(key))
			switch e := authcore.AsError(err); {
			case err == nil:
				a.Add(1)
			case e.Status == 429 && e.Code == "USAGE_EXCEEDED":
				b.Add(1)
			case e.Status == 429 && e.Code == "RATE_LIMITED":
				c.Add(1)
			default:
				t.Logf("unexpected: %v", err)
				d.Add(1)
			}
		}()
	}
	wg.Wait()
	return a.Load(), b.Load(), c.Load(), d.Load()
}

// The acceptance case at the engine level: a key with remaining 10 used by 40
// parallel requests spread over two nodes passes exactly 10 times, on the memory store and
// on PostgreSQL; the default lease on a shared store is one unit, so nothing is stranded in a
// node's memory.
func TestClusterQuotaExact(t *testing.T) {
	for _, tc := range []struct {
		name  string
		store func(*testing.T) storage.Store
	}{
		{"memory", func(*testing.T) storage.Store { return memory.NewStore() }},
		{"postgres", pgStore},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nodes := clusterNodes(t, tc.store(t), func() *apikey.Plugin { return &apikey.Plugin{} })
			_, u := nodes[0].SignUp("A", "a@example.com", pw)
			k, err := admin(t, nodes[0]).CreateAPIKey(t.Context(), authcore.APIKeyParams{UserID: userID(u), Remaining: ptr(int64(10))})
			if err != nil {
				t.Fatal(err)
			}
			key, id := k["key"].(string), k["id"].(string)
			// One request on node A takes one unit from storage, not a lease of 100.
			if _, err := nodes[0].Engine.Authenticate(gwReq(key)); err != nil {
				t.Fatal(err)
			}
			rec, err := nodes[1].Engine.Store().FindOne(t.Context(), apikey.ModelAPIKey, storage.ByID(id))
			if err != nil || rec.Int("remaining") != 9 {
				t.Fatalf("stored remaining after one request: %v %v, want 9", rec["remaining"], err)
			}
			ok, usage, limited, other := burst(t, nodes, key, 40)
			if ok != 9 || usage != 31 || limited != 0 || other != 0 {
				t.Fatalf("ok %d, USAGE_EXCEEDED %d, RATE_LIMITED %d, other %d; want 9 (10 in all) and 31", ok, usage, limited, other)
			}
			rec, _ = nodes[0].Engine.Store().FindOne(t.Context(), apikey.ModelAPIKey, storage.ByID(id))
			if rec.Int("remaining") != 0 {
				t.Fatalf("stored remaining %d", rec.Int("remaining"))
			}
		})
	}
}

// An explicit lease_size still never over-serves across nodes (it may under-serve while a
// node holds units); the leases of both nodes together never exceed the stored count.
func TestClusterLeaseNeverOverServes(t *testing.T) {
	nodes := clusterNodes(t, memory.NewStore(), func() *apikey.Plugin { return &apikey.Plugin{LeaseSize: 4} })
	_, u := nodes[0].SignUp("A", "a@example.com", pw)
	k, err := admin(t, nodes[0]).CreateAPIKey(t.Context(), authcore.APIKeyParams{UserID: userID(u), Remaining: ptr(int64(10))})
	if err != nil {
		t.Fatal(err)
	}
	ok, usage, _, other := burst(t, nodes, k["key"].(string), 40)
	if ok != 10 || usage != 30 || other != 0 { // 20 requests per node ≥ any lease split
		t.Fatalf("ok %d, USAGE_EXCEEDED %d, other %d", ok, usage, other)
	}
}

// A refill is applied once across nodes, and the exact mode serves exactly the refilled
// amount.
func TestClusterQuotaRefill(t *testing.T) {
	nodes := clusterNodes(t, memory.NewStore(), func() *apikey.Plugin { return &apikey.Plugin{} })
	_, u := nodes[0].SignUp("A", "a@example.com", pw)
	k, err := admin(t, nodes[0]).CreateAPIKey(t.Context(), authcore.APIKeyParams{UserID: userID(u), Remaining: ptr(int64(2)),
		RefillAmount: ptr(int64(3)), RefillInterval: ptr(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	key := k["key"].(string)
	if ok, usage, _, _ := burst(t, nodes, key, 10); ok != 2 || usage != 8 {
		t.Fatalf("first window: ok %d, 429 %d", ok, usage)
	}
	for _, n := range nodes {
		n.Clock.Advance(time.Hour)
	}
	if ok, usage, _, _ := burst(t, nodes, key, 10); ok != 3 || usage != 7 {
		t.Fatalf("after the refill: ok %d, 429 %d; want 3 (one refill, not one per node)", ok, usage)
	}
}

// The per-key rate limit is counted in the database on a shared store: its max holds across
// nodes.
func TestClusterPerKeyRateLimit(t *testing.T) {
	nodes := clusterNodes(t, pgStore(t), func() *apikey.Plugin { return &apikey.Plugin{} })
	_, u := nodes[0].SignUp("A", "a@example.com", pw)
	k, err := admin(t, nodes[0]).CreateAPIKey(t.Context(), authcore.APIKeyParams{UserID: userID(u),
		RateLimitEnabled: ptr(true), RateLimitTimeWindow: ptr(time.Hour), RateLimitMax: ptr(int64(4))})
	if err != nil {
		t.Fatal(err)
	}
	ok, usage, limited, other := burst(t, nodes, k["key"].(string), 20)
	if ok != 4 || limited != 16 || usage != 0 || other != 0 {
		t.Fatalf("ok %d, RATE_LIMITED %d, USAGE_EXCEEDED %d, other %d; want 4 across both nodes", ok, limited, usage, other)
	}
}
