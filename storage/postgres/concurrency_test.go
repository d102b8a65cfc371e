package postgres_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gatehouse-auth/gatehouse/storage"
	"github.com/gatehouse-auth/gatehouse/storage/postgres"
	"github.com/gatehouse-auth/gatehouse/storage/postgres/pgtest"
)

func schemaOf(t testing.TB, models ...storage.Model) *storage.Schema {
	t.Helper()
	s := storage.NewSchema()
	for _, m := range models {
		if err := s.AddModel("test", m); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	return s
}

func userModel(extra ...storage.Field) storage.Model {
	return storage.Model{Name: "user", Fields: append([]storage.Field{
		{Name: "email", Type: storage.TypeString, Required: true, Unique: true},
		{Name: "name", Type: storage.TypeString},
	}, extra...)}
}

func verificationModel() storage.Model {
	return storage.Model{Name: "verification", Fields: []storage.Field{
		{Name: "identifier", Type: storage.TypeString, Required: true, Indexed: true},
		{Name: "value", Type: storage.TypeString, Required: true},
		{Name: "attempts", Type: storage.TypeNumber},
		{Name: "userId", Type: storage.TypeString, References: &storage.Reference{Model: "user"}},
	}}
}

// release runs fn(i) on n goroutines released together.
func release(n int, fn func(i int)) {
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { <-start; fn(i) })
	}
	close(start)
	wg.Wait()
}

func migrations(t *testing.T, st *postgres.Store) int {
	t.Helper()
	var n int
	if err := st.Pool().QueryRow(t.Context(), "SELECT count(*) FROM gatehouse_schema").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestConcurrentMigration starts four nodes (four pools) binding the same schema at the same
// moment, then a grown schema: every bind succeeds, each schema is applied and recorded
// once, and the nodes share one set of tables.
func TestConcurrentMigration(t *testing.T) {
	dsn := pgtest.DSN(t)
	const nodes = 4
	stores := make([]*postgres.Store, nodes)
	for i := range stores {
		stores[i] = openStore(t, dsn)
	}
	for round, s := range []*storage.Schema{
		schemaOf(t, userModel(), verificationModel()),
		schemaOf(t, userModel(storage.Field{Name: "nick", Type: storage.TypeString, Unique: true}), verificationModel(),
			storage.Model{Name: "post", Fields: []storage.Field{{Name: "userId", Type: storage.TypeString, References: &storage.Reference{Model: "user"}}}}),
	} {
		adapters := make([]storage.Adapter, nodes)
		errs := make([]error, nodes)
		release(nodes, func(i int) { adapters[i], errs[i] = stores[i].Bind(t.Context(), s) })
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d: node %d: bind: %v", round, i, err)
			}
		}
		if n := migrations(t, stores[0]); n != round+1 {
			t.Errorf("round %d: %d migrations recorded, want %d", round, n, round+1)
		}
		// One schema: what one node writes, another reads, and uniqueness spans nodes.
		id := fmt.Sprintf("u%d", round)
		if _, err := adapters[0].Create(t.Context(), "user", storage.Record{"id": id, "email": id + "@x"}); err != nil {
			t.Fatal(err)
		}
		if _, err := adapters[3].FindOne(t.Context(), "user", storage.Eq("email", id+"@x")); err != nil {
			t.Errorf("round %d: node 3 does not see node 0's record: %v", round, err)
		}
		_, err := adapters[2].Create(t.Context(), "user", storage.Record{"id": id + "b", "email": id + "@x"})
		if !errors.Is(err, storage.ErrDuplicate) {
			t.Errorf("round %d: duplicate across nodes: %v", round, err)
		}
	}
	// Binding an applied schema again changes nothing.
	if _, err := stores[1].Bind(t.Context(), schemaOf(t, userModel(), verificationModel())); err != nil {
		t.Fatal(err)
	}
	if n := migrations(t, stores[0]); n != 3 {
		t.Errorf("%d migrations after going back to the first schema, want 3 (it is the last applied no more)", n)
	}
	if _, err := stores[2].Bind(t.Context(), schemaOf(t, userModel(), verificationModel())); err != nil {
		t.Fatal(err)
	}
	if n := migrations(t, stores[0]); n != 3 {
		t.Errorf("%d migrations after binding the last schema again, want 3", n)
	}
}

// twoNodes binds s on two pools over one fresh database.
func twoNodes(t *testing.T, s *storage.Schema) (storage.Adapter, storage.Adapter) {
	t.Helper()
	dsn := pgtest.DSN(t)
	a, err := openStore(t, dsn).Bind(t.Context(), s)
	if err != nil {
		t.Fatal(err)
	}
	b, err := openStore(t, dsn).Bind(t.Context(), s)
	if err != nil {
		t.Fatal(err)
	}
	return a, b
}

// TestConsumeOneAcrossNodes: 20 consumers on two pools race for one token, for a model
// without referrers (one statement) and for one with (a delete with cascade in a
// transaction), and outside and inside Tx: exactly one gets it, the rest ErrNotFound.
func TestConsumeOneAcrossNodes(t *testing.T) {
	ref := storage.Model{Name: "attempt", Fields: []storage.Field{{Name: "verificationId", Type: storage.TypeString, References: &storage.Reference{Model: "verification"}}}}
	for _, tc := range []struct {
		name   string
		models []storage.Model
		inTx   bool
	}{
		{"single statement", []storage.Model{userModel(), verificationModel()}, false},
		{"with cascade", []storage.Model{userModel(), verificationModel(), ref}, false},
		{"inside tx", []storage.Model{userModel(), verificationModel()}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := twoNodes(t, schemaOf(t, tc.models...))
			ctx := t.Context()
			for round := range 3 {
				id := fmt.Sprintf("v%d", round)
				if _, err := a.Create(ctx, "verification", storage.Record{"id": id, "identifier": "reset:alice", "value": "code"}); err != nil {
					t.Fatal(err)
				}
				if len(tc.models) == 3 {
					if _, err := a.Create(ctx, "attempt", storage.Record{"id": "at" + id, "verificationId": id}); err != nil {
						t.Fatal(err)
					}
				}
				var wins, misses atomic.Int32
				release(20, func(i int) {
					node := []storage.Adapter{a, b}[i%2]
					consume := func(ad storage.Adapter) error {
						_, err := ad.ConsumeOne(ctx, "verification", storage.And(storage.Eq("identifier", "reset:alice"), storage.Eq("value", "code")))
						return err
					}
					var err error
					if tc.inTx {
						err = node.Tx(ctx, consume)
					} else {
						err = consume(node)
					}
					switch {
					case err == nil:
						wins.Add(1)
					case errors.Is(err, storage.ErrNotFound):
						misses.Add(1)
					default:
						t.Errorf("consume: %v", err)
					}
				})
				if wins.Load() != 1 || misses.Load() != 19 {
					t.Errorf("round %d: %d consumers won and %d missed, want 1 and 19", round, wins.Load(), misses.Load())
				}
				if n, _ := b.Count(ctx, "verification", storage.Where{}); n != 0 {
					t.Errorf("round %d: %d tokens left", round, n)
				}
				if len(tc.models) == 3 {
					if n, _ := b.Count(ctx, "attempt", storage.Where{}); n != 0 {
						t.Errorf("round %d: the cascade left %d attempts", round, n)
					}
				}
			}
		})
	}
}

// TestIncrementLimitAcrossNodes: 40 bounded increments (attempts lt 5) on two pools stop at
// exactly five, and 40×10 unbounded ones lose nothing.
func TestIncrementLimitAcrossNodes(t *testing.T) {
	a, b := twoNodes(t, schemaOf(t, userModel(), verificationModel()))
	ctx := t.Context()
	if _, err := a.Create(ctx, "verification", storage.Record{"id": "v1", "identifier": "otp", "value": "123456", "attempts": 0}); err != nil {
		t.Fatal(err)
	}
	var ok, refused atomic.Int32
	seen := make([]int64, 40)
	release(40, func(i int) {
		node := []storage.Adapter{a, b}[i%2]
		rec, err := node.IncrementOne(ctx, "verification", storage.And(storage.ByID("v1"), storage.Lt("attempts", 5)), "attempts", 1, nil)
		switch {
		case err == nil:
			ok.Add(1)
			seen[i] = rec.Int("attempts")
		case errors.Is(err, storage.ErrNotFound):
			refused.Add(1)
		default:
			t.Errorf("increment: %v", err)
		}
	})
	if ok.Load() != 5 || refused.Load() != 35 {
		t.Errorf("%d increments succeeded and %d were refused, want 5 and 35", ok.Load(), refused.Load())
	}
	var got [6]int
	for _, v := range seen {
		if v > 5 {
			t.Errorf("an increment returned %d, past the bound", v)
		} else {
			got[v]++
		}
	}
	for v := 1; v <= 5; v++ {
		if got[v] != 1 {
			t.Errorf("value %d returned %d times, want once", v, got[v])
		}
	}
	if r, _ := b.FindOne(ctx, "verification", storage.ByID("v1")); r.Int("attempts") != 5 {
		t.Errorf("attempts after the race: %v", r)
	}

	if _, err := a.Create(ctx, "verification", storage.Record{"id": "v2", "identifier": "n", "value": "x"}); err != nil {
		t.Fatal(err)
	}
	release(40, func(i int) {
		node := []storage.Adapter{a, b}[i%2]
		for range 10 {
			if _, err := node.IncrementOne(ctx, "verification", storage.ByID("v2"), "attempts", 1, nil); err != nil {
				t.Errorf("increment: %v", err)
				return
			}
		}
	})
	if r, _ := a.FindOne(ctx, "verification", storage.ByID("v2")); r.Int("attempts") != 400 {
		t.Errorf("after 400 increments on two nodes: %v", r)
	}
}

// TestTxAcrossNodes: read-modify-write transactions on two pools serialize (with retries):
// no update is lost.
func TestTxAcrossNodes(t *testing.T) {
	a, b := twoNodes(t, schemaOf(t, userModel(), verificationModel()))
	ctx := t.Context()
	if _, err := a.Create(ctx, "verification", storage.Record{"id": "c", "identifier": "counter", "value": "x", "attempts": 0}); err != nil {
		t.Fatal(err)
	}
	var runs atomic.Int32
	release(16, func(i int) {
		node := []storage.Adapter{a, b}[i%2]
		err := node.Tx(ctx, func(tx storage.Adapter) error {
			runs.Add(1)
			r, err := tx.FindOne(ctx, "verification", storage.ByID("c"))
			if err != nil {
				return err
			}
			_, err = tx.Update(ctx, "verification", storage.ByID("c"), storage.Record{"attempts": r.Int("attempts") + 1})
			return err
		})
		if err != nil {
			t.Errorf("tx: %v", err)
		}
	})
	if r, _ := b.FindOne(ctx, "verification", storage.ByID("c")); r.Int("attempts") != 16 {
		t.Errorf("after 16 read-modify-write transactions: %v", r)
	}
	t.Logf("16 transactions ran their function %d times", runs.Load())
}

// TestIndexLifecycle: a unique constraint the schema relaxes is dropped; one over a field
// the schema no longer knows (a plugin switched off) is kept, so a node still running with
// the plugin keeps its guarantee, and it is enforced again when the plugin is back.
func TestIndexLifecycle(t *testing.T) {
	ctx := t.Context()
	nick := func(unique bool) storage.Field {
		return storage.Field{Name: "nick", Type: storage.TypeString, Unique: unique}
	}
	dsn := pgtest.DSN(t)
	withPlugin, err := openStore(t, dsn).Bind(ctx, schemaOf(t, userModel(nick(true))))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := withPlugin.Create(ctx, "user", storage.Record{"id": "u1", "email": "a@x", "nick": "n"}); err != nil {
		t.Fatal(err)
	}
	// Another node binds a schema without the field: the constraint stays enforced.
	if _, err := openStore(t, dsn).Bind(ctx, schemaOf(t, userModel())); err != nil {
		t.Fatal(err)
	}
	_, err = withPlugin.Create(ctx, "user", storage.Record{"id": "u2", "email": "b@x", "nick": "n"})
	if !errors.Is(err, storage.ErrDuplicate) {
		t.Errorf("unique over a field another node does not know: %v", err)
	}
	// A schema that knows the field and declares it non-unique drops the constraint.
	relaxed, err := openStore(t, dsn).Bind(ctx, schemaOf(t, userModel(nick(false))))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := relaxed.Create(ctx, "user", storage.Record{"id": "u2", "email": "b@x", "nick": "n"}); err != nil {
		t.Errorf("relaxed unique constraint still enforced: %v", err)
	}
	// Declared unique again over duplicates: the bind fails, naming the field.
	_, err = openStore(t, dsn).Bind(ctx, schemaOf(t, userModel(nick(true))))
	var ce *storage.ConstraintError
	if !errors.As(err, &ce) || ce.Fields[0] != "nick" {
		t.Errorf("unique over duplicates: %v", err)
	}
}

// TestPlan: the statements are deterministic, quote every identifier, and a bind after the
// plan's indexes were created by hand (as CONCURRENTLY would) finds them and succeeds.
func TestPlan(t *testing.T) {
	s := schemaOf(t, userModel(), verificationModel())
	p1, err := postgres.Plan(s)
	if err != nil {
		t.Fatal(err)
	}
	p2, _ := postgres.Plan(schemaOf(t, userModel(), verificationModel()))
	if !slices.Equal(p1, p2) || len(p1) == 0 {
		t.Fatalf("plans differ or are empty:\n%q\n%q", p1, p2)
	}
	want := []string{
		`CREATE TABLE IF NOT EXISTS "user" (id bytea NOT NULL, CONSTRAINT "user__`,
		`ALTER TABLE "user" ADD COLUMN IF NOT EXISTS "email:string" bytea`,
		`CREATE UNIQUE INDEX IF NOT EXISTS "user_emailstring_`,
		`CREATE INDEX IF NOT EXISTS "verification_identifierstring_`,
	}
	for _, w := range want {
		if !slices.ContainsFunc(p1, func(s string) bool { return strings.HasPrefix(s, w) }) {
			t.Errorf("no statement starts with %s in\n%s", w, strings.Join(p1, "\n"))
		}
	}
	st := openStore(t, pgtest.DSN(t))
	for _, q := range p1 {
		if _, err := st.Pool().Exec(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	a, err := st.Bind(t.Context(), s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Create(t.Context(), "user", storage.Record{"id": "u1", "email": "a@x"}); err != nil {
		t.Fatal(err)
	}
	var indexes int
	if err := st.Pool().QueryRow(t.Context(), "SELECT count(*) FROM pg_indexes WHERE tablename IN ('user', 'verification')").Scan(&indexes); err != nil || indexes != 5 {
		t.Errorf("%d indexes (%v), want 5: two primary keys, email, identifier, userId", indexes, err)
	}
}
