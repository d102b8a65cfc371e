package bolt_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/storage"
	"github.com/gatehouse-auth/gatehouse/storage/bolt"
	"github.com/gatehouse-auth/gatehouse/storage/storagetest"
)

// harness opens each store in its own file; Reopen closes the file and opens it again.
type harness struct {
	mu     sync.Mutex
	stores map[storage.Adapter]*bolt.Store
}

func (h *harness) bind(t *testing.T, path string, s *storage.Schema) (storage.Adapter, error) {
	st, err := bolt.Open(path, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { _ = st.Close() })
	a, err := st.Bind(t.Context(), s)
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	h.mu.Lock()
	h.stores[a] = st
	h.mu.Unlock()
	return a, nil
}

func (h *harness) open(t *testing.T, s *storage.Schema) storage.Adapter {
	a, err := h.bind(t, filepath.Join(t.TempDir(), "gatehouse.db"), s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (h *harness) reopen(t *testing.T, a storage.Adapter, s *storage.Schema) (storage.Adapter, error) {
	h.mu.Lock()
	st := h.stores[a]
	h.mu.Unlock()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := h.bind(t, st.Path(), s)
	if err != nil {
		return nil, err
	}
	// A later Reopen may be given a again (after a failed one): follow the file.
	h.mu.Lock()
	h.stores[a] = h.stores[b]
	h.mu.Unlock()
	return b, nil
}

func TestConformance(t *testing.T) {
	h := &harness{stores: map[storage.Adapter]*bolt.Store{}}
	storagetest.Run(t, storagetest.Harness{Open: h.open, Reopen: h.reopen})
}

func testSchema(t testing.TB) *storage.Schema {
	s := storage.NewSchema()
	if err := s.AddModel("test", storage.Model{Name: "user", Fields: []storage.Field{
		{Name: "email", Type: storage.TypeString, Unique: true},
	}}); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestFileMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	st, err := bolt.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("data file mode %v, want 0600", mode)
	}
}

// TestSecondOpenTimesOut guards the reload hazard: Caddy provisions a new config before it
// stops the old one, so a second Open of the same file in one process must not hang.
func TestSecondOpenTimesOut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	first, err := bolt.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	start := time.Now()
	second, err := bolt.Open(path, &bolt.Options{Timeout: 100 * time.Millisecond})
	if err == nil {
		second.Close()
		t.Fatal("a second Open of a held file succeeded")
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Errorf("second Open waited %v", waited)
	}
	if !strings.Contains(err.Error(), "locked") || !strings.Contains(err.Error(), path) {
		t.Errorf("unclear error: %v", err)
	}
	// Once the first is closed, the file opens.
	first.Close()
	again, err := bolt.Open(path, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	again.Close()
}

func TestClosedStore(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "gatehouse.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := st.Bind(t.Context(), testSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
	if _, err := a.Create(t.Context(), "user", storage.Record{"id": "u1"}); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("create on a closed store: %v", err)
	}
	if _, err := a.FindOne(t.Context(), "user", storage.ByID("u1")); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("find on a closed store: %v", err)
	}
	if _, err := st.Bind(t.Context(), testSchema(t)); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("bind on a closed store: %v", err)
	}
}

func TestBindRefusesAmbiguousNames(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "gatehouse.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := storage.NewSchema()
	if err := s.AddModel("test", storage.Model{Name: "a/b"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Bind(t.Context(), s); err == nil {
		t.Error("bind accepted a model name with '/'")
	}
}

// TestBindWhileInUse binds new schema views while writers and readers of an earlier view
// run, as a config reload does.
func TestBindWhileInUse(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "gatehouse.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	old, err := st.Bind(t.Context(), testSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range 2 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id := string(rune('a'+w)) + strings.Repeat("x", i%7) + string(rune('0'+i%10))
				_, _ = old.Create(t.Context(), "user", storage.Record{"id": id, "email": id + "@x"})
				_, _ = old.FindOne(t.Context(), "user", storage.Eq("email", id+"@x"))
				_ = old.Delete(t.Context(), "user", storage.ByID(id))
			}
		})
	}
	for i := range 10 {
		s := testSchema(t)
		if i%2 == 1 { // alternately add and drop an index
			if err := s.Extend("test", "user", storage.Field{Name: "name", Type: storage.TypeString, Indexed: true}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := st.Bind(t.Context(), s); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	// Every index entry still points at a record holding its value.
	a, err := st.Bind(t.Context(), testSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := a.FindMany(t.Context(), "user", storage.Query{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		got, err := a.FindOne(t.Context(), "user", storage.Eq("email", r.String("email")))
		if err != nil || got.ID() != r.ID() {
			t.Errorf("index lookup of %v: %v, %v", r, got, err)
		}
	}
}
