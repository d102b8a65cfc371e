package storagetest

import (
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/storage"
)

func testConsumeOne(t *testing.T, h Harness) {
	a := h.Open(t, buildSchema(t, verificationModel()))
	ctx := t.Context()
	exp := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	want := create(t, a, "verification", storage.Record{"id": "v1", "identifier": "reset:alice", "value": "code", "expiresAt": exp})
	create(t, a, "verification", storage.Record{"id": "v2", "identifier": "reset:bob", "value": "code"})

	// Exactly one of many concurrent callers gets the token.
	w := storage.And(storage.Eq("identifier", "reset:alice"), storage.Eq("value", "code"))
	var wins atomic.Int32
	parallel(goroutines, func(int) {
		rec, err := a.ConsumeOne(ctx, "verification", w)
		switch {
		case err == nil:
			wins.Add(1)
			wantRecord(t, "consumed record", rec, want)
		case !errors.Is(err, storage.ErrNotFound):
			t.Errorf("consume one: %v", err)
		}
	})
	if wins.Load() != 1 {
		t.Errorf("%d callers consumed the token, want exactly 1", wins.Load())
	}
	_, err := a.ConsumeOne(ctx, "verification", w)
	wantErr(t, err, storage.ErrNotFound, "consuming a consumed token")
	wantIDs(t, a, "verification", storage.Where{}, "v2")

	// The first match in id order is taken.
	create(t, a, "verification", storage.Record{"id": "v0", "identifier": "reset:bob", "value": "code"})
	rec, err := a.ConsumeOne(ctx, "verification", storage.Eq("identifier", "reset:bob"))
	if err != nil || rec.ID() != "v0" {
		t.Errorf("consume one took %v, %v; want v0", rec, err)
	}
	wantIDs(t, a, "verification", storage.Where{}, "v2")
}

func testIncrementOne(t *testing.T, h Harness) {
	a := h.Open(t, buildSchema(t, counterModel()))
	ctx := t.Context()
	create(t, a, "counter", storage.Record{"id": "c1", "key": "k1", "count": 0})

	// 50 goroutines × 20 increments: nothing lost, every intermediate value seen once.
	const per = 20
	seen := make([][]int64, goroutines)
	parallel(goroutines, func(g int) {
		for range per {
			rec, err := a.IncrementOne(ctx, "counter", storage.Eq("key", "k1"), "count", 1, nil)
			if err != nil {
				t.Errorf("increment: %v", err)
				return
			}
			seen[g] = append(seen[g], rec.Int("count"))
		}
	})
	if got := byID(t, a, "counter", "c1").Int("count"); got != goroutines*per {
		t.Errorf("count after %d increments: %d", goroutines*per, got)
	}
	all := slices.Concat(seen...)
	slices.Sort(all)
	for i, v := range all {
		if v != int64(i+1) {
			t.Errorf("increment results are not 1..%d: position %d holds %d", goroutines*per, i, v)
			break
		}
	}

	// A bound in the where clause makes it compare-and-add: it stops at the bound.
	create(t, a, "counter", storage.Record{"id": "c2", "count": 0})
	var ok, refused atomic.Int32
	parallel(goroutines, func(int) {
		_, err := a.IncrementOne(ctx, "counter", storage.And(storage.ByID("c2"), storage.Lt("count", 5)), "count", 1, nil)
		switch {
		case err == nil:
			ok.Add(1)
		case errors.Is(err, storage.ErrNotFound):
			refused.Add(1)
		default:
			t.Errorf("bounded increment: %v", err)
		}
	})
	if ok.Load() != 5 || refused.Load() != goroutines-5 {
		t.Errorf("bounded increments: %d succeeded, %d refused; want 5 and %d", ok.Load(), refused.Load(), goroutines-5)
	}
	if got := byID(t, a, "counter", "c2").Int("count"); got != 5 {
		t.Errorf("bounded counter: %d, want 5", got)
	}

	// An unset field counts as 0; set is applied in the same step.
	create(t, a, "counter", storage.Record{"id": "c3", "label": "old"})
	at := time.Date(2025, 5, 5, 5, 5, 5, 5000, time.UTC)
	rec, err := a.IncrementOne(ctx, "counter", storage.ByID("c3"), "count", 2, storage.Record{"label": nil, "lastAt": at})
	if err != nil {
		t.Fatal(err)
	}
	want := storage.Record{"id": "c3", "count": int64(2), "lastAt": at}
	wantRecord(t, "increment result", rec, want)
	wantRecord(t, "incremented record", byID(t, a, "counter", "c3"), want)
	rec, err = a.IncrementOne(ctx, "counter", storage.ByID("c3"), "count", -5, nil)
	if err != nil || rec.Int("count") != -3 {
		t.Errorf("negative delta: %v, %v", rec, err)
	}

	// Errors: no match, a field that is not a number, a field also set, overflow.
	_, err = a.IncrementOne(ctx, "counter", storage.ByID("none"), "count", 1, nil)
	wantErr(t, err, storage.ErrNotFound, "increment without a match")
	_, err = a.IncrementOne(ctx, "counter", storage.ByID("c3"), "label", 1, nil)
	wantErr(t, err, storage.ErrInvalidValue, "increment of a string field")
	_, err = a.IncrementOne(ctx, "counter", storage.ByID("c3"), "lastAt", 1, nil)
	wantErr(t, err, storage.ErrInvalidValue, "increment of a date field")
	_, err = a.IncrementOne(ctx, "counter", storage.ByID("c3"), "count", 1, storage.Record{"count": 9})
	wantErr(t, err, storage.ErrInvalidValue, "increment of a field also set")
	create(t, a, "counter", storage.Record{"id": "c4", "count": int64(1<<63 - 1)})
	_, err = a.IncrementOne(ctx, "counter", storage.ByID("c4"), "count", 1, nil)
	wantErr(t, err, storage.ErrInvalidValue, "increment past the int64 range")
	// A unique violation through set leaves the counter as it was.
	create(t, a, "counter", storage.Record{"id": "c5", "key": "k5", "count": 1})
	_, err = a.IncrementOne(ctx, "counter", storage.ByID("c5"), "count", 1, storage.Record{"key": "k1"})
	wantConstraint(t, err, storage.ErrDuplicate, "counter", "key")
	if got := byID(t, a, "counter", "c5").Int("count"); got != 1 {
		t.Errorf("counter after a refused increment: %d", got)
	}
}

// txFixture creates u1, u2, a counter and a token, and returns a check that they are as
// created.
func txFixture(t *testing.T, h Harness) (storage.Adapter, func(what string)) {
	a := h.Open(t, buildSchema(t, userModel(), sessionModel(), counterModel(), verificationModel()))
	u1 := create(t, a, "user", user("u1", "u1@x"))
	u2 := create(t, a, "user", user("u2", "u2@x"))
	s2 := create(t, a, "session", storage.Record{"id": "s2", "token": "t2", "userId": "u2"})
	c := create(t, a, "counter", storage.Record{"id": "c1", "count": 1})
	v := create(t, a, "verification", storage.Record{"id": "v1", "identifier": "i", "value": "v"})
	return a, func(what string) {
		t.Helper()
		wantIDs(t, a, "user", storage.Where{}, "u1", "u2")
		wantRecord(t, what+": u1", byID(t, a, "user", "u1"), u1)
		wantRecord(t, what+": u2", byID(t, a, "user", "u2"), u2)
		wantRecord(t, what+": session", byID(t, a, "session", "s2"), s2)
		wantRecord(t, what+": counter", byID(t, a, "counter", "c1"), c)
		wantRecord(t, what+": token", byID(t, a, "verification", "v1"), v)
		wantIDs(t, a, "user", storage.Eq("email", "u3@x"))
		wantIDs(t, a, "user", storage.Eq("email", "changed@x"))
	}
}

// txWrites does one of each write inside tx and checks that tx sees them.
func txWrites(t *testing.T, tx storage.Adapter) {
	ctx := t.Context()
	steps := []error{}
	_, err := tx.Create(ctx, "user", user("u3", "u3@x"))
	steps = append(steps, err)
	_, err = tx.Update(ctx, "user", storage.ByID("u1"), storage.Record{"email": "changed@x", "age": 9})
	steps = append(steps, err)
	steps = append(steps, tx.Delete(ctx, "user", storage.ByID("u2"))) // cascades to s2
	_, err = tx.IncrementOne(ctx, "counter", storage.ByID("c1"), "count", 5, nil)
	steps = append(steps, err)
	_, err = tx.ConsumeOne(ctx, "verification", storage.ByID("v1"))
	steps = append(steps, err)
	_, err = tx.UpdateMany(ctx, "user", storage.Where{}, storage.Record{"role": "tx"})
	steps = append(steps, err)
	for i, err := range steps {
		if err != nil {
			t.Fatalf("write %d in tx: %v", i, err)
		}
	}
	// Reads inside the transaction see its own writes.
	wantIDs(t, tx, "user", storage.Where{}, "u1", "u3")
	wantIDs(t, tx, "user", storage.Eq("email", "changed@x"), "u1")
	wantIDs(t, tx, "user", storage.Eq("email", "u1@x"))
	wantIDs(t, tx, "user", storage.Eq("role", "tx"), "u1", "u3")
	wantIDs(t, tx, "session", storage.Where{})
	wantIDs(t, tx, "verification", storage.Where{})
	if c := byID(t, tx, "counter", "c1").Int("count"); c != 6 {
		t.Errorf("counter inside tx: %d", c)
	}
}

func testTxRollback(t *testing.T, h Harness) {
	a, unchanged := txFixture(t, h)
	boom := errors.New("boom")
	err := a.Tx(t.Context(), func(tx storage.Adapter) error {
		txWrites(t, tx)
		return boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("tx returned %v, want the function's error", err)
	}
	unchanged("after a failed tx")
}

func testTxPanic(t *testing.T, h Harness) {
	a, unchanged := txFixture(t, h)
	type token struct{ s string }
	var recovered any
	func() {
		defer func() { recovered = recover() }()
		_ = a.Tx(t.Context(), func(tx storage.Adapter) error {
			txWrites(t, tx)
			panic(token{"boom"})
		})
	}()
	if recovered != (token{"boom"}) {
		t.Errorf("tx did not propagate the panic: recovered %v", recovered)
	}
	unchanged("after a panicking tx")
	// The store is usable afterwards: nothing is left locked.
	create(t, a, "user", user("u9", "u9@x"))
	if err := a.Tx(t.Context(), func(tx storage.Adapter) error {
		_, err := tx.Create(t.Context(), "user", user("u8", "u8@x"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	wantPresent(t, a, "user", "u8", "u9")
}

func testTxCommit(t *testing.T, h Harness) {
	a, _ := txFixture(t, h)
	var inside storage.Adapter
	err := a.Tx(t.Context(), func(tx storage.Adapter) error {
		inside = tx
		txWrites(t, tx)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	wantIDs(t, a, "user", storage.Where{}, "u1", "u3")
	wantIDs(t, a, "user", storage.Eq("email", "changed@x"), "u1")
	wantIDs(t, a, "user", storage.Eq("email", "u1@x"))
	wantIDs(t, a, "user", storage.Eq("role", "tx"), "u1", "u3")
	wantIDs(t, a, "session", storage.Where{})
	wantIDs(t, a, "verification", storage.Where{})
	if c := byID(t, a, "counter", "c1").Int("count"); c != 6 {
		t.Errorf("counter after tx: %d", c)
	}
	// The transaction's adapter is dead once Tx returned.
	if _, err := inside.FindOne(t.Context(), "user", storage.ByID("u1")); err == nil {
		t.Error("a finished transaction's adapter still reads")
	}
	if _, err := inside.Create(t.Context(), "user", user("u7", "u7@x")); err == nil {
		t.Error("a finished transaction's adapter still writes")
	}
	wantGone(t, a, "user", "u7")
}

func testTxNested(t *testing.T, h Harness) {
	a, unchanged := txFixture(t, h)
	ctx := t.Context()
	boom := errors.New("boom")
	// A nested Tx joins the outer one: the outer failure takes the inner writes too.
	err := a.Tx(ctx, func(tx storage.Adapter) error {
		if err := tx.Tx(ctx, func(inner storage.Adapter) error {
			txWrites(t, inner)
			return nil
		}); err != nil {
			return err
		}
		wantIDs(t, tx, "user", storage.Where{}, "u1", "u3") // the outer sees the inner writes
		return boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("tx: %v", err)
	}
	unchanged("after an outer failure")
	// And the outer success commits them.
	err = a.Tx(ctx, func(tx storage.Adapter) error {
		return tx.Tx(ctx, func(inner storage.Adapter) error {
			_, err := inner.Create(ctx, "user", user("u5", "u5@x"))
			return err
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	wantPresent(t, a, "user", "u5")
	// An inner error reaches the outer function unchanged.
	err = a.Tx(ctx, func(tx storage.Adapter) error {
		return tx.Tx(ctx, func(storage.Adapter) error { return boom })
	})
	if !errors.Is(err, boom) {
		t.Errorf("inner error: %v", err)
	}
}

func testTxOperationAtomicity(t *testing.T, h Harness) {
	a := h.Open(t, buildSchema(t, userModel(), sessionModel(), invoiceModel()))
	ctx := t.Context()
	for _, u := range []string{"u1", "u2", "u3"} {
		create(t, a, "user", user(u, u+"@x"))
		create(t, a, "session", storage.Record{"id": "s" + u, "token": "t" + u, "userId": u})
	}
	create(t, a, "invoice", storage.Record{"id": "i3", "userId": "u3"})
	err := a.Tx(ctx, func(tx storage.Adapter) error {
		create(t, tx, "user", user("u4", "u4@x"))
		// A unique violation surfaces as ErrDuplicate and leaves nothing behind.
		_, err := tx.Create(ctx, "user", user("u5", "u4@x"))
		wantConstraint(t, err, storage.ErrDuplicate, "user", "email")
		// A failing UpdateMany changes none of its records, even those before the clash.
		_, err = tx.UpdateMany(ctx, "user", storage.Where{}, storage.Record{"username": "same", "age": 1})
		wantConstraint(t, err, storage.ErrDuplicate, "user", "username")
		// A refused cascade deletes nothing.
		_, err = tx.DeleteMany(ctx, "user", storage.In("id", []string{"u1", "u2", "u3"}))
		wantConstraint(t, err, storage.ErrRestricted, "invoice", "userId")
		// The transaction carries on.
		wantIDs(t, tx, "user", storage.Where{}, "u1", "u2", "u3", "u4")
		wantIDs(t, tx, "user", storage.Eq("age", 1))
		wantIDs(t, tx, "session", storage.Where{}, "su1", "su2", "su3")
		_, err = tx.Update(ctx, "user", storage.ByID("u1"), storage.Record{"age": 2})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	wantIDs(t, a, "user", storage.Where{}, "u1", "u2", "u3", "u4")
	wantIDs(t, a, "user", storage.Eq("username", "same"))
	wantIDs(t, a, "user", storage.Eq("age", 2), "u1")
	wantIDs(t, a, "user", storage.Eq("age", 1))
	wantIDs(t, a, "session", storage.Where{}, "su1", "su2", "su3")
	create(t, a, "user", user("u5", "u5@x"))
}

func testTxSerializable(t *testing.T, h Harness) {
	a := h.Open(t, buildSchema(t, counterModel()))
	ctx := t.Context()
	create(t, a, "counter", storage.Record{"id": "c1", "count": 0})
	// Read-modify-write inside transactions from many goroutines loses no update.
	const n = 20
	parallel(n, func(i int) {
		err := a.Tx(ctx, func(tx storage.Adapter) error {
			c, err := tx.FindOne(ctx, "counter", storage.ByID("c1"))
			if err != nil {
				return err
			}
			if _, err := tx.Update(ctx, "counter", storage.ByID("c1"), storage.Record{"count": c.Int("count") + 1}); err != nil {
				return err
			}
			_, err = tx.Create(ctx, "counter", storage.Record{"id": fmt.Sprintf("log%02d", i), "count": c.Int("count")})
			return err
		})
		if err != nil {
			t.Errorf("tx %d: %v", i, err)
		}
	})
	if got := byID(t, a, "counter", "c1").Int("count"); got != n {
		t.Errorf("count after %d read-modify-write transactions: %d", n, got)
	}
	// Each transaction saw the value the previous one wrote.
	logs := findMany(t, a, "counter", storage.Query{Where: storage.StartsWith("id", "log"), Sort: []storage.SortField{{Field: "count"}}})
	if len(logs) != n {
		t.Fatalf("%d log records, want %d", len(logs), n)
	}
	for i, r := range logs {
		if r.Int("count") != int64(i) {
			t.Errorf("transactions overlapped: the %d-th read saw %d", i, r.Int("count"))
		}
	}
}
