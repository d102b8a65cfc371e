package postgres_test

import (
	"sync"
	"testing"

	"github.com/gatehouse-auth/gatehouse/storage"
	"github.com/gatehouse-auth/gatehouse/storage/postgres"
	"github.com/gatehouse-auth/gatehouse/storage/postgres/pgtest"
	"github.com/gatehouse-auth/gatehouse/storage/storagetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// harness gives every store a fresh database; Reopen closes the pool and opens a new one on
// the same database.
type harness struct {
	mu   sync.Mutex
	dsns map[storage.Adapter]string
	sts  map[storage.Adapter]*postgres.Store
}

func newHarness() *harness {
	return &harness{dsns: map[storage.Adapter]string{}, sts: map[storage.Adapter]*postgres.Store{}}
}

func openStore(t testing.TB, dsn string) *postgres.Store {
	t.Helper()
	st, err := postgres.Open(t.Context(), dsn, &postgres.Options{MaxConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}

func (h *harness) bind(t *testing.T, dsn string, s *storage.Schema) (storage.Adapter, error) {
	st := openStore(t, dsn)
	a, err := st.Bind(t.Context(), s)
	if err != nil {
		st.Close()
		return nil, err
	}
	h.mu.Lock()
	h.dsns[a], h.sts[a] = dsn, st
	h.mu.Unlock()
	return a, nil
}

func (h *harness) open(t *testing.T, s *storage.Schema) storage.Adapter {
	a, err := h.bind(t, pgtest.DSN(t), s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (h *harness) reopen(t *testing.T, a storage.Adapter, s *storage.Schema) (storage.Adapter, error) {
	h.mu.Lock()
	dsn, st := h.dsns[a], h.sts[a]
	h.mu.Unlock()
	st.Close()
	return h.bind(t, dsn, s)
}

func TestConformance(t *testing.T) {
	h := newHarness()
	storagetest.Run(t, storagetest.Harness{Open: h.open, Reopen: h.reopen})
}
