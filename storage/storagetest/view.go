package storagetest

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/storage"
)

// viewWriterWait bounds how long a View waits for a concurrent writer. A backend whose
// writers wait for open views (memory) never finishes in time, and the view's reads are
// checked all the same; one whose writers commit meanwhile (bolt) finishes at once.
const viewWriterWait = 500 * time.Millisecond

// viewSnapshot is what a View of the viewFixture store reads.
type viewSnapshot struct {
	u1, s1       storage.Record
	users, byTok []string
	sessions     int
}

func readViewSnapshot(t *testing.T, a storage.Adapter) viewSnapshot {
	t.Helper()
	var v viewSnapshot
	var err error
	if v.u1, err = a.FindOne(t.Context(), "user", storage.ByID("u1")); err != nil {
		t.Errorf("view: user u1: %v", err)
	}
	if v.s1, err = a.FindOne(t.Context(), "session", storage.Eq("token", "t1")); err != nil {
		t.Errorf("view: session by token: %v", err)
	}
	v.users = ids(findMany(t, a, "user", storage.Query{}))
	v.byTok = ids(findMany(t, a, "session", storage.Query{Where: storage.Eq("token", "t1")}))
	v.sessions = count(t, a, "session", storage.Where{})
	return v
}

func testViewSnapshot(t *testing.T, h Harness) {
	a := h.Open(t, buildSchema(t, userModel(), sessionModel()))
	ctx := t.Context()
	// Room in the store, so that a writer can commit without growing it (bbolt waits for
	// readers before it remaps a grown file).
	pad := strings.Repeat("x", 2000)
	for i := range 100 {
		create(t, a, "user", storage.Record{"id": fmt.Sprintf("pad%03d", i), "email": fmt.Sprintf("pad%d@x", i), "name": pad})
	}
	if _, err := a.DeleteMany(ctx, "user", storage.StartsWith("id", "pad")); err != nil {
		t.Fatal(err)
	}
	create(t, a, "user", user("u1", "u1@x"))
	create(t, a, "session", storage.Record{"id": "s1", "token": "t1", "userId": "u1"})

	done := make(chan error, 1)
	write := func() {
		done <- a.Tx(ctx, func(tx storage.Adapter) error {
			if _, err := tx.Update(ctx, "user", storage.ByID("u1"), storage.Record{"name": "renamed"}); err != nil {
				return err
			}
			if err := tx.Delete(ctx, "session", storage.ByID("s1")); err != nil {
				return err
			}
			_, err := tx.Create(ctx, "user", user("u2", "u2@x"))
			return err
		})
	}
	var before, during viewSnapshot
	committed := false
	err := a.View(ctx, func(tx storage.Adapter) error {
		before = readViewSnapshot(t, tx)
		go write()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("concurrent writer: %v", err)
			}
			committed = true
		case <-time.After(viewWriterWait):
		}
		// Whether or not the writer committed meanwhile, the view reads its snapshot.
		during = readViewSnapshot(t, tx)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the writer committed while the view was open: %v", committed)
	if !committed {
		if err := <-done; err != nil {
			t.Fatalf("writer after the view: %v", err)
		}
	}
	wantRecord(t, "u1 read again in the view", during.u1, before.u1)
	wantRecord(t, "s1 read again in the view", during.s1, before.s1)
	if strings.Join(during.users, ",") != "u1" || strings.Join(during.byTok, ",") != "s1" || during.sessions != 1 {
		t.Errorf("a view saw a concurrent writer's commit (committed during the view: %v): users %q, sessions by token %q, %d sessions",
			committed, during.users, during.byTok, during.sessions)
	}
	if before.u1.String("name") != "name of u1" {
		t.Errorf("view read u1 as %v", before.u1)
	}
	// After the view, the write is visible.
	if got := byID(t, a, "user", "u1").String("name"); got != "renamed" {
		t.Errorf("u1 after the view: name %q", got)
	}
	wantIDs(t, a, "user", storage.Where{}, "u1", "u2")
	wantIDs(t, a, "session", storage.Eq("token", "t1"))
}

func testViewReadOnly(t *testing.T, h Harness) {
	a, unchanged := txFixture(t, h)
	ctx := t.Context()
	boom := errors.New("boom")
	var inside storage.Adapter
	err := a.View(ctx, func(tx storage.Adapter) error {
		inside = tx
		w := storage.ByID("u1")
		errs := map[string]error{}
		_, errs["create"] = tx.Create(ctx, "user", user("u3", "u3@x"))
		_, errs["update"] = tx.Update(ctx, "user", w, storage.Record{"email": "changed@x"})
		_, errs["update many"] = tx.UpdateMany(ctx, "user", storage.Where{}, storage.Record{"role": "x"})
		errs["delete"] = tx.Delete(ctx, "user", storage.ByID("u2"))
		_, errs["delete many"] = tx.DeleteMany(ctx, "user", storage.Where{})
		_, errs["consume one"] = tx.ConsumeOne(ctx, "verification", storage.ByID("v1"))
		_, errs["increment one"] = tx.IncrementOne(ctx, "counter", storage.ByID("c1"), "count", 1, nil)
		ran := false
		errs["tx"] = tx.Tx(ctx, func(storage.Adapter) error { ran = true; return nil })
		for op, err := range errs {
			wantErr(t, err, storage.ErrReadOnly, op+" in a view")
		}
		if ran {
			t.Error("tx in a view ran its function")
		}
		// Reads carry on after refused writes, and a nested view reads the same snapshot.
		wantIDs(t, tx, "user", storage.Where{}, "u1", "u2")
		if err := tx.View(ctx, func(inner storage.Adapter) error {
			wantIDs(t, inner, "session", storage.Eq("token", "t2"), "s2")
			_, err := inner.Create(ctx, "user", user("u4", "u4@x"))
			wantErr(t, err, storage.ErrReadOnly, "create in a nested view")
			return nil
		}); err != nil {
			t.Errorf("nested view: %v", err)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("view returned %v, want the function's error", err)
	}
	unchanged("after writes in a view")
	// The view's adapter is dead once View returned.
	if _, err := inside.FindOne(ctx, "user", storage.ByID("u1")); err == nil {
		t.Error("a finished view's adapter still reads")
	}
	// A panic in the function propagates and leaves nothing locked.
	func() {
		defer func() {
			if recover() == nil {
				t.Error("view did not propagate the panic")
			}
		}()
		_ = a.View(ctx, func(storage.Adapter) error { panic("boom") })
	}()
	create(t, a, "user", user("u9", "u9@x"))
	wantPresent(t, a, "user", "u9")
}

func testViewInTx(t *testing.T, h Harness) {
	a, unchanged := txFixture(t, h)
	ctx := t.Context()
	boom := errors.New("boom")
	var nested storage.Adapter
	err := a.Tx(ctx, func(tx storage.Adapter) error {
		create(t, tx, "user", user("u3", "u3@x"))
		if _, err := tx.Update(ctx, "user", storage.ByID("u1"), storage.Record{"email": "changed@x"}); err != nil {
			return err
		}
		err := tx.View(ctx, func(v storage.Adapter) error {
			nested = v
			// The view runs inside the transaction: it sees the transaction's writes.
			wantIDs(t, v, "user", storage.Where{}, "u1", "u2", "u3")
			wantIDs(t, v, "user", storage.Eq("email", "changed@x"), "u1")
			wantIDs(t, v, "user", storage.Eq("email", "u1@x"))
			_, err := v.Create(ctx, "user", user("u4", "u4@x"))
			wantErr(t, err, storage.ErrReadOnly, "create in a view inside a tx")
			return nil
		})
		if err != nil {
			return err
		}
		if _, err := nested.FindOne(ctx, "user", storage.ByID("u1")); err == nil {
			t.Error("a finished view's adapter still reads inside the tx")
		}
		// The transaction carries on writing after the view.
		create(t, tx, "user", user("u5", "u5@x"))
		wantIDs(t, tx, "user", storage.Where{}, "u1", "u2", "u3", "u5")
		return boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("tx: %v", err)
	}
	unchanged("after a failed tx with a view")
	// Committed, the writes the view saw are kept.
	err = a.Tx(ctx, func(tx storage.Adapter) error {
		create(t, tx, "user", user("u3", "u3@x"))
		return tx.View(ctx, func(v storage.Adapter) error {
			wantIDs(t, v, "user", storage.Eq("email", "u3@x"), "u3")
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	wantIDs(t, a, "user", storage.Eq("email", "u3@x"), "u3")
}
