package memory_test

import (
	"sync"
	"testing"

	"github.com/gatehouse-auth/gatehouse/storage"
	"github.com/gatehouse-auth/gatehouse/storage/memory"
	"github.com/gatehouse-auth/gatehouse/storage/storagetest"
)

func TestConformance(t *testing.T) {
	var (
		mu     sync.Mutex
		stores = map[storage.Adapter]*memory.Store{}
	)
	bind := func(t *testing.T, st *memory.Store, s *storage.Schema) (storage.Adapter, error) {
		a, err := st.Bind(t.Context(), s)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		stores[a] = st
		mu.Unlock()
		return a, nil
	}
	storagetest.Run(t, storagetest.Harness{
		Open: func(t *testing.T, s *storage.Schema) storage.Adapter {
			a, err := bind(t, memory.NewStore(), s)
			if err != nil {
				t.Fatal(err)
			}
			return a
		},
		Reopen: func(t *testing.T, a storage.Adapter, s *storage.Schema) (storage.Adapter, error) {
			mu.Lock()
			st := stores[a]
			mu.Unlock()
			return bind(t, st, s)
		},
	})
}

func TestNewRefusesAnInvalidSchema(t *testing.T) {
	s := storage.NewSchema()
	if err := s.AddModel("test", storage.Model{Name: "a", Fields: []storage.Field{
		{Name: "b", Type: storage.TypeString, References: &storage.Reference{Model: "missing"}},
	}}); err != nil {
		t.Fatal(err)
	}
	if _, err := memory.New(s); err == nil {
		t.Fatal("memory.New accepted a schema referencing an unknown model")
	}
}
