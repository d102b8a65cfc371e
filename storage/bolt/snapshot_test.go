package bolt_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/gatehouse-auth/gatehouse/storage"
	"github.com/gatehouse-auth/gatehouse/storage/bolt"
)

func snapshotSchema(t testing.TB) *storage.Schema {
	s := storage.NewSchema()
	if err := s.AddModel("test", storage.Model{Name: "item", Fields: []storage.Field{
		{Name: "writer", Type: storage.TypeString, Indexed: true},
		{Name: "seq", Type: storage.TypeNumber},
		{Name: "email", Type: storage.TypeString, Unique: true},
		{Name: "payload", Type: storage.TypeString},
	}}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddModel("test", storage.Model{Name: "pair", Fields: []storage.Field{
		{Name: "itemId", Type: storage.TypeString, References: &storage.Reference{Model: "item", OnDelete: storage.Cascade}},
		{Name: "payload", Type: storage.TypeString},
	}}); err != nil {
		t.Fatal(err)
	}
	return s
}

// checkBoltFile opens path with bbolt itself and runs its consistency check.
func checkBoltFile(t *testing.T, path string) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		t.Fatalf("the snapshot does not open with bbolt: %v", err)
	}
	defer db.Close()
	err = db.View(func(tx *bbolt.Tx) error {
		var errs []error
		for e := range tx.Check() {
			errs = append(errs, e)
		}
		return errors.Join(errs...)
	})
	if err != nil {
		t.Fatalf("bbolt's Check fails on the snapshot: %v", err)
	}
}

// TestSnapshotUnderWrites takes a snapshot while 4 goroutines keep committing, each write
// one transaction of two records (an item and its pair), with per-writer sequence numbers
// written strictly in order. The snapshot must open with bbolt, pass Check, bind, and hold
// for every writer a gap-free prefix of its sequence (a transaction is visible entirely or
// not at all, so no torn item/pair), at least up to the last write that returned before
// Snapshot was called and at most up to the last write that had begun when the snapshot's
// transaction had started; every record decodes to what was written and the indexes agree
// with the records.
func TestSnapshotUnderWrites(t *testing.T) {
	dir := t.TempDir()
	st, err := bolt.Open(filepath.Join(dir, "gatehouse.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := t.Context()
	a, err := st.Bind(ctx, snapshotSchema(t))
	if err != nil {
		t.Fatal(err)
	}

	const writers = 4
	payload := strings.Repeat("x", 300) // records big enough that the file grows during the copy
	var (
		done     [writers]atomic.Int64 // last seq whose write returned (-1: none)
		begun    [writers]atomic.Int64 // last seq whose write had begun
		stop     atomic.Bool
		wg       sync.WaitGroup
		writeErr atomic.Pointer[error]
	)
	write := func(w int, seq int64) error {
		id := fmt.Sprintf("w%d-%06d", w, seq)
		return a.Tx(ctx, func(tx storage.Adapter) error {
			if _, err := tx.Create(ctx, "item", storage.Record{
				"id": id, "writer": fmt.Sprint(w), "seq": seq, "email": id + "@example.com", "payload": payload + id,
			}); err != nil {
				return err
			}
			_, err := tx.Create(ctx, "pair", storage.Record{"id": "p-" + id, "itemId": id, "payload": id})
			return err
		})
	}
	for w := range writers {
		done[w].Store(-1)
		begun[w].Store(-1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := int64(0); !stop.Load(); seq++ {
				begun[w].Store(seq)
				if err := write(w, seq); err != nil {
					writeErr.Store(&err)
					return
				}
				done[w].Store(seq)
			}
		}()
	}
	// Let every writer commit a few hundred records first.
	for w := range writers {
		for done[w].Load() < 200 && writeErr.Load() == nil {
			time.Sleep(time.Millisecond)
		}
	}
	var before, upper [writers]int64
	for w := range writers {
		before[w] = done[w].Load()
	}
	var buf bytes.Buffer
	var size int64 = -1
	n, err := st.Snapshot(ctx, &buf, func(sz int64) {
		size = sz
		for w := range writers {
			upper[w] = begun[w].Load()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	// Keep writing a little after the snapshot, then stop.
	for w := range writers {
		for done[w].Load() < upper[w]+50 && writeErr.Load() == nil {
			time.Sleep(time.Millisecond)
		}
	}
	stop.Store(true)
	wg.Wait()
	if p := writeErr.Load(); p != nil {
		t.Fatal(*p)
	}
	if n != size || int64(buf.Len()) != n {
		t.Fatalf("Snapshot wrote %d bytes (buffer %d), announced %d", n, buf.Len(), size)
	}

	path := filepath.Join(dir, "snapshot.db")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	checkBoltFile(t, path)

	snap, err := bolt.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	sa, err := snap.Bind(ctx, snapshotSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	items, err := sa.FindMany(ctx, "item", storage.Query{})
	if err != nil {
		t.Fatal(err)
	}
	pairs, err := sa.FindMany(ctx, "pair", storage.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != len(pairs) {
		t.Fatalf("%d items but %d pairs: a transaction is in the snapshot in part", len(items), len(pairs))
	}
	seqs := make([]map[int64]bool, writers)
	for w := range seqs {
		seqs[w] = map[int64]bool{}
	}
	for _, it := range items {
		var w int
		var seq int64
		if _, err := fmt.Sscanf(it.ID(), "w%d-%d", &w, &seq); err != nil {
			t.Fatalf("unexpected id %q", it.ID())
		}
		if it.String("writer") != fmt.Sprint(w) || it.Int("seq") != seq || it.String("payload") != payload+it.ID() || it.String("email") != it.ID()+"@example.com" {
			t.Fatalf("record %s does not hold what was written: %v", it.ID(), it)
		}
		p, err := sa.FindOne(ctx, "pair", storage.ByID("p-"+it.ID()))
		if err != nil || p.String("itemId") != it.ID() {
			t.Fatalf("item %s has no pair in the snapshot (%v): a torn transaction", it.ID(), err)
		}
		// The unique index finds it.
		if got, err := sa.FindOne(ctx, "item", storage.Eq("email", it.ID()+"@example.com")); err != nil || got.ID() != it.ID() {
			t.Fatalf("unique index lookup of %s: %v %v", it.ID(), got, err)
		}
		seqs[w][seq] = true
	}
	for w := range writers {
		k := int64(len(seqs[w])) - 1 // the prefix 0..k, if it is gap-free
		for seq := range seqs[w] {
			if seq > k {
				t.Fatalf("writer %d: the snapshot holds seq %d but only %d records: a gap", w, seq, k+1)
			}
		}
		if k < before[w] || k > upper[w] {
			t.Fatalf("writer %d: the snapshot holds seq 0..%d; want at least 0..%d (returned before the snapshot) and at most 0..%d (begun when it started)", w, k, before[w], upper[w])
		}
		// The non-unique index agrees with the records.
		n, err := sa.Count(ctx, "item", storage.Eq("writer", fmt.Sprint(w)))
		if err != nil || int64(n) != k+1 {
			t.Fatalf("writer %d: index count %d (%v), want %d", w, n, err, k+1)
		}
		t.Logf("writer %d: %d before, %d in the snapshot, %d begun at its start, %d in the end", w, before[w]+1, k+1, upper[w]+1, done[w].Load()+1)
	}
}

// TestSnapshotCancelled: a cancelled context stops the copy with its error.
func TestSnapshotCancelled(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "gatehouse.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := st.Snapshot(ctx, new(bytes.Buffer), nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("Snapshot with a cancelled context: %v, want context.Canceled", err)
	}
	ctx, cancel = context.WithCancel(t.Context())
	w := &cancelAfter{cancel: cancel}
	if _, err := st.Snapshot(ctx, w, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("Snapshot cancelled during the copy: %v, want context.Canceled", err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Snapshot(t.Context(), new(bytes.Buffer), nil); !errors.Is(err, storage.ErrClosed) {
		t.Fatalf("Snapshot of a closed store: %v, want ErrClosed", err)
	}
}

// cancelAfter cancels its context on the first write.
type cancelAfter struct{ cancel func() }

func (c *cancelAfter) Write(p []byte) (int, error) { c.cancel(); return len(p), nil }
