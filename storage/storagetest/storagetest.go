package storagetest

import (
	"errors"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/gatehouse-auth/gatehouse/storage"
)

// Harness tells the suite how to get adapters of one kind.
type Harness struct {
	// Open returns an adapter bound to s over a fresh, empty store (cleanup via t.Cleanup).
	Open func(t *testing.T, s *storage.Schema) storage.Adapter
	// Reopen closes what it can of the store behind a (bolt: closes the file; memory:
	// nothing) and returns an adapter over the same data bound to s, or the error binding s
	// gave. After an error, a may be passed to Reopen again.
	Reopen func(t *testing.T, a storage.Adapter, s *storage.Schema) (storage.Adapter, error)
}

type contract struct {
	name string
	run  func(t *testing.T, h Harness)
}

// contracts lists every contract; each builds its own schema and store.
func contracts() []contract {
	return []contract{
		{"round-trip", testRoundTrip},
		{"date-precision", testDatePrecision},
		{"copies", testCopies},
		{"unique", testUnique},
		{"unique-concurrent", testUniqueConcurrent},
		{"index-consistency", testIndexConsistency},
		{"references-cascade", testCascade},
		{"references-set-null", testSetNull},
		{"references-restrict", testRestrict},
		{"consume-one", testConsumeOne},
		{"increment-one", testIncrementOne},
		{"tx-rollback", testTxRollback},
		{"tx-panic", testTxPanic},
		{"tx-commit", testTxCommit},
		{"tx-nested", testTxNested},
		{"tx-operation-atomicity", testTxOperationAtomicity},
		{"tx-serializable", testTxSerializable},
		{"view-snapshot", testViewSnapshot},
		{"view-read-only", testViewReadOnly},
		{"view-in-tx", testViewInTx},
		{"sort-window", testSortWindow},
		{"where-operators", testWhereOperators},
		{"update", testUpdate},
		{"update-many", testUpdateMany},
		{"delete", testDelete},
		{"errors", testErrors},
		{"schema-add-model", testSchemaAddModel},
		{"schema-add-index", testSchemaAddIndex},
		{"schema-unique-over-duplicates", testSchemaUniqueOverDuplicates},
		{"schema-remove-field", testSchemaRemoveField},
		{"schema-stale-index", testSchemaStaleIndex},
		{"schema-type-change", testSchemaTypeChange},
		{"context", testContext},
	}
}

// Run runs every contract against the adapter kind h provides. Contracts run in parallel,
// each on its own store.
func Run(t *testing.T, h Harness) {
	if h.Open == nil || h.Reopen == nil {
		t.Fatal("storagetest: Harness needs Open and Reopen")
	}
	for _, c := range contracts() {
		t.Run("contract="+c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, h)
		})
	}
}

// goroutines is how many concurrent callers the concurrency contracts start.
const goroutines = 50

// parallel runs fn(i) for i in [0, n) on n goroutines released at the same moment, and
// waits for all of them.
func parallel(n int, fn func(i int)) {
	var (
		start = make(chan struct{})
		wg    sync.WaitGroup
	)
	for i := range n {
		wg.Go(func() {
			<-start
			fn(i)
		})
	}
	close(start)
	wg.Wait()
}

func reopen(t *testing.T, h Harness, a storage.Adapter, s *storage.Schema) storage.Adapter {
	t.Helper()
	b, err := h.Reopen(t, a, s)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	return b
}

func create(t *testing.T, a storage.Adapter, model string, rec storage.Record) storage.Record {
	t.Helper()
	out, err := a.Create(t.Context(), model, rec)
	if err != nil {
		t.Fatalf("create %s %v: %v", model, rec, err)
	}
	return out
}

func findOne(t *testing.T, a storage.Adapter, model string, w storage.Where) storage.Record {
	t.Helper()
	out, err := a.FindOne(t.Context(), model, w)
	if err != nil {
		t.Fatalf("find one %s %+v: %v", model, w, err)
	}
	return out
}

func byID(t *testing.T, a storage.Adapter, model, id string) storage.Record {
	t.Helper()
	return findOne(t, a, model, storage.ByID(id))
}

func findMany(t *testing.T, a storage.Adapter, model string, q storage.Query) []storage.Record {
	t.Helper()
	out, err := a.FindMany(t.Context(), model, q)
	if err != nil {
		t.Fatalf("find many %s %+v: %v", model, q, err)
	}
	return out
}

func count(t *testing.T, a storage.Adapter, model string, w storage.Where) int {
	t.Helper()
	n, err := a.Count(t.Context(), model, w)
	if err != nil {
		t.Fatalf("count %s %+v: %v", model, w, err)
	}
	return n
}

// ids returns the ids of recs in order.
func ids(recs []storage.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.ID()
	}
	return out
}

// wantIDs checks which records of model match w, through FindMany (id order), Count and
// FindOne (the first in id order).
func wantIDs(t *testing.T, a storage.Adapter, model string, w storage.Where, want ...string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	if got := ids(findMany(t, a, model, storage.Query{Where: w})); !slices.Equal(got, want) {
		t.Errorf("find many %s where %+v: got ids %q, want %q", model, w, got, want)
	}
	if n := count(t, a, model, w); n != len(want) {
		t.Errorf("count %s where %+v: got %d, want %d", model, w, n, len(want))
	}
	r, err := a.FindOne(t.Context(), model, w)
	switch {
	case len(want) == 0 && !errors.Is(err, storage.ErrNotFound):
		t.Errorf("find one %s where %+v: got %v, %v; want ErrNotFound", model, w, r, err)
	case len(want) > 0 && (err != nil || r.ID() != want[0]):
		t.Errorf("find one %s where %+v: got %v, %v; want id %q", model, w, r, err, want[0])
	}
}

func wantErr(t *testing.T, err, target error, what string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: got error %v, want %v", what, err, target)
	}
}

// wantConstraint checks that err is a *storage.ConstraintError for sentinel naming model
// and fields.
func wantConstraint(t *testing.T, err, sentinel error, model string, fields ...string) {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Errorf("got error %v, want %v", err, sentinel)
		return
	}
	var ce *storage.ConstraintError
	if !errors.As(err, &ce) {
		t.Errorf("error %v is not a *storage.ConstraintError", err)
		return
	}
	if ce.Model != model || !slices.Equal(ce.Fields, fields) {
		t.Errorf("constraint error names %s%v, want %s%v", ce.Model, ce.Fields, model, fields)
	}
}

func wantRecord(t *testing.T, what string, got, want storage.Record) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got  %#v\n want %#v", what, got, want)
	}
}

func wantGone(t *testing.T, a storage.Adapter, model, id string) {
	t.Helper()
	if r, err := a.FindOne(t.Context(), model, storage.ByID(id)); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("%s %q should be gone: got %v, %v", model, id, r, err)
	}
}

func wantPresent(t *testing.T, a storage.Adapter, model string, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if _, err := a.FindOne(t.Context(), model, storage.ByID(id)); err != nil {
			t.Errorf("%s %q should exist: %v", model, id, err)
		}
	}
}
