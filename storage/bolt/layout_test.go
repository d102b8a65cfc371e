package bolt

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"go.etcd.io/bbolt"

	"github.com/gatehouse-auth/gatehouse/storage"
)

func layoutSchema(t testing.TB, models ...storage.Model) *storage.Schema {
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
		{Name: "email", Type: storage.TypeString, Unique: true},
		{Name: "name", Type: storage.TypeString},
	}, extra...)}
}

// TestLayout checks the file a Store writes: the meta bucket with the format and layout
// version, one bucket per model holding its records, its unique index entries and its
// pads, and one per non-unique index.
func TestLayout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	st, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	team := storage.Field{Name: "team", Type: storage.TypeString, Indexed: true}
	code := storage.Field{Name: "code", Type: storage.TypeString, Unique: true}
	a, err := st.Bind(t.Context(), layoutSchema(t, userModel(team, code)))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"u1", "u2"} {
		if _, err := a.Create(t.Context(), "user", storage.Record{"id": id, "email": id + "@x", "team": "t", "code": id}); err != nil {
			t.Fatal(err)
		}
	}
	topLevel := func(tx *bbolt.Tx) string {
		var names []string
		_ = tx.ForEach(func(name []byte, _ *bbolt.Bucket) error {
			names = append(names, string(name))
			return nil
		})
		return strings.Join(names, " ")
	}
	err = st.db.View(func(tx *bbolt.Tx) error {
		if got, want := topLevel(tx), string(bucketName("user"))+" idx/user/team meta"; got != want {
			t.Errorf("top-level buckets %q, want %q", got, want)
		}
		if n := tx.Bucket([]byte("idx/user/team")).Stats().KeyN; n != 2 {
			t.Errorf("%d entries in the team index, want 2", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Dropping the team and code indexes removes their entries.
	if _, err := st.Bind(t.Context(), layoutSchema(t, userModel())); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(tx *bbolt.Tx) error {
		if got, want := topLevel(tx), string(bucketName("user"))+" meta"; got != want {
			t.Errorf("top-level buckets %q, want %q", got, want)
		}
		meta := tx.Bucket([]byte(metaBucket))
		if got := string(meta.Get([]byte(layoutKey))); got != "2" {
			t.Errorf("layout %q, want 2", got)
		}
		if got := string(meta.Get([]byte(formatKey))); got != formatValue {
			t.Errorf("format %q", got)
		}
		b := tx.Bucket(bucketName("user"))
		kinds := map[byte]int{}
		_ = b.ForEach(func(k, v []byte) error {
			kinds[k[0]]++
			if k[0] == indexTag && !bytes.HasPrefix(k, []byte{indexTag, 0, 0}) {
				t.Errorf("entry %q of a dropped index is left", k)
			}
			return nil
		})
		if kinds[recordTag] != 2 || kinds[indexTag] != 2 || kinds[padTag] != pads || len(kinds) != 3 {
			t.Errorf("keys in the user bucket by first byte: %v", kinds)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestBucketName(t *testing.T) {
	for _, model := range []string{"a", "abc", "session", "verification", "x1234567"} {
		n := bucketName(model)
		if len(n)%8 != 0 || !strings.HasPrefix(string(n), dataPrefix+model) || strings.TrimRight(string(n[len(dataPrefix):]), "/") != model {
			t.Errorf("bucket name of %q: %q", model, n)
		}
	}
}

// writeFile creates a bbolt file holding what fill writes.
func writeFile(t *testing.T, fill func(tx *bbolt.Tx) error) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(fill); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestBindRefusesOtherLayouts: a file of the first layout (a meta bucket without a layout
// version, a bucket per model and per index) or of a later one opens but does not bind,
// with an error saying why, and is left as it was.
func TestBindRefusesOtherLayouts(t *testing.T) {
	for _, tc := range []struct {
		layout string // "" : none, as the first layout wrote
		want   []string
	}{
		{"", []string{"layout 1", "earlier build", "layout 2"}},
		{"3", []string{"layout 3", "later build"}},
		{"x", []string{"unreadable"}},
	} {
		t.Run("layout="+tc.layout, func(t *testing.T) {
			path := writeFile(t, func(tx *bbolt.Tx) error {
				meta, _ := tx.CreateBucket([]byte(metaBucket))
				_ = meta.Put([]byte(formatKey), []byte(formatValue))
				if tc.layout != "" {
					_ = meta.Put([]byte(layoutKey), []byte(tc.layout))
				}
				_ = meta.Put([]byte("index/user/unique/email"), []byte(`{"model":"user","fields":["email"],"types":["string"],"unique":true}`))
				recs, _ := tx.CreateBucket([]byte("model/user"))
				_ = recs.Put([]byte("u1"), []byte{1, 1, 1, 0, 0, 2, 'i', 'd', 1, 2, 'u', '1'})
				idx, err := tx.CreateBucket([]byte("index/user/unique/email"))
				if err != nil {
					return err
				}
				return idx.Put([]byte("u1@x\x00\x01"), []byte("u1"))
			})
			st, err := Open(path, nil)
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			_, err = st.Bind(t.Context(), layoutSchema(t, userModel()))
			if !errors.Is(err, ErrLayout) {
				t.Fatalf("bind: %v, want ErrLayout", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			db, err := bbolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			_ = db.View(func(tx *bbolt.Tx) error {
				if got := tx.Bucket([]byte(metaBucket)).Get([]byte(layoutKey)); string(got) != tc.layout {
					t.Errorf("the refused file's layout key changed to %q", got)
				}
				if tx.Bucket(bucketName("user")) != nil {
					t.Error("the refused file got a bucket of the current layout")
				}
				return nil
			})
		})
	}
}

// TestPadsSplitNewBuckets checks what padModel counts on: the bucket of a new model is split
// by the Bind that creates it, so that index entries and records written later start in
// different leaves.
func TestPadsSplitNewBuckets(t *testing.T) {
	st, err := Open(filepath.Join(t.TempDir(), "gatehouse.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Bind(t.Context(), layoutSchema(t, userModel())); err != nil {
		t.Fatal(err)
	}
	_ = st.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketName("user"))
		if s := b.Stats(); s.BranchPageN != 1 || s.LeafPageN != 2 || s.InlineBucketN != 0 {
			t.Errorf("a new model's bucket: %d branch and %d leaf pages, %d inline buckets; want 1, 2, 0", s.BranchPageN, s.LeafPageN, s.InlineBucketN)
		}
		return nil
	})
}

// TestLookupAllocs pins down the allocations of the gateway's lookups, which the layout is
// built for: a unique-value lookup costs what a lookup by id costs (one bucket, one cursor
// for the index entry and the record), whatever the models around it, and a View shares
// one read transaction between lookups. In a store this small every model's tree has two
// levels (the pads split it): per lookup 3 for the record, 2 to open the bucket, 2 for the
// cursor's stack; 3 per transaction; 1 for a View's adapter.
func TestLookupAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items")
	}
	st, err := Open(filepath.Join(t.TempDir(), "gatehouse.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// Models of every name length up to 9, each with a few records: without the padding of
	// bucket names and the pads, some bucket headers would be unaligned (or inline) in the
	// root page, and opening them would cost a copy.
	var models []storage.Model
	for n := 1; n <= 9; n++ {
		models = append(models, storage.Model{Name: strings.Repeat("m", n), Fields: []storage.Field{
			{Name: "key", Type: storage.TypeString, Unique: true},
			{Name: "owner", Type: storage.TypeString, Indexed: true},
		}})
	}
	a, err := st.Bind(t.Context(), layoutSchema(t, models...))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	for _, m := range models {
		for i := range 3 {
			id := fmt.Sprintf("%s-%d", m.Name, i)
			if _, err := a.Create(ctx, m.Name, storage.Record{"id": id, "key": "k" + id, "owner": "o"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	const perTx, perLookup, perView = 3, 3 + 2 + 2, 1
	for _, m := range models {
		byKey, byID := storage.Eq("key", "k"+m.Name+"-1"), storage.ByID(m.Name+"-2")
		if n := testing.AllocsPerRun(100, func() {
			if _, err := a.FindOne(ctx, m.Name, byKey); err != nil {
				t.Fatal(err)
			}
		}); n > perTx+perLookup {
			t.Errorf("model %s: FindOne by a unique value: %v allocations, want %d", m.Name, n, perTx+perLookup)
		}
		if n := testing.AllocsPerRun(100, func() {
			if _, err := a.FindOne(ctx, m.Name, byID); err != nil {
				t.Fatal(err)
			}
		}); n > perTx+perLookup {
			t.Errorf("model %s: FindOne by id: %v allocations, want %d", m.Name, n, perTx+perLookup)
		}
	}
	w1, w2 := storage.Eq("key", "km-1"), storage.ByID("mmmmmmmmm-0")
	view := func(tx storage.Adapter) error {
		if _, err := tx.FindOne(ctx, "m", w1); err != nil {
			return err
		}
		_, err := tx.FindOne(ctx, "mmmmmmmmm", w2)
		return err
	}
	if n := testing.AllocsPerRun(100, func() {
		if err := a.View(ctx, view); err != nil {
			t.Fatal(err)
		}
	}); n > perTx+perView+2*perLookup {
		t.Errorf("two lookups in a View: %v allocations, want %d", n, perTx+perView+2*perLookup)
	}
}

// TestReadersDuringBinds runs lookups while Binds drop and build indexes, handing an index
// number from one field to another: a reader must never use a catalog that does not
// describe its snapshot (it would look the value up among another field's entries).
func TestReadersDuringBinds(t *testing.T) {
	st, err := Open(filepath.Join(t.TempDir(), "gatehouse.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// The unique indexes of withName are numbered email 0, name 1; withCode's email 0,
	// code 1.
	withName := layoutSchema(t, userModel(storage.Field{Name: "code", Type: storage.TypeString}))
	withName.Models()[0].Fields[1].Unique = true
	withCode := layoutSchema(t, userModel(storage.Field{Name: "code", Type: storage.TypeString, Unique: true}))
	a, err := st.Bind(t.Context(), withName)
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	for i := range n {
		rec := storage.Record{"id": fmt.Sprintf("u%02d", i), "email": fmt.Sprintf("e%d", i), "name": fmt.Sprintf("v%d", i), "code": fmt.Sprintf("v%d", (i+1)%n)}
		if _, err := a.Create(t.Context(), "user", rec); err != nil {
			t.Fatal(err)
		}
	}
	var (
		stop   atomic.Bool
		wg     sync.WaitGroup
		lookup atomic.Int64
	)
	for r := range 4 {
		wg.Go(func() {
			for i := r; !stop.Load(); i++ {
				want := fmt.Sprintf("u%02d", i%n)
				got, err := a.FindOne(t.Context(), "user", storage.Eq("name", fmt.Sprintf("v%d", i%n)))
				if err != nil || got.ID() != want {
					t.Errorf("name v%d: got %v, %v; want %s", i%n, got, err, want)
					return
				}
				lookup.Add(1)
			}
		})
	}
	for i := range 30 {
		s := withCode
		if i%2 == 1 {
			s = withName
		}
		if _, err := st.Bind(t.Context(), s); err != nil {
			t.Error(err)
			break
		}
	}
	stop.Store(true)
	wg.Wait()
	t.Logf("%d lookups during the binds", lookup.Load())
}
