package postgres_test

import (
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/storage"
	"github.com/gatehouse-auth/gatehouse/storage/bolt"
	"github.com/gatehouse-auth/gatehouse/storage/postgres/pgtest"
)

// Benchmarks of the same operations on bolt and on PostgreSQL (the pgtest server: local,
// fsync off — this measures the adapter and the protocol round trips, not disks).

func benchSchema(b *testing.B) *storage.Schema {
	return schemaOf(b, userModel(), storage.Model{Name: "session", Fields: []storage.Field{
		{Name: "token", Type: storage.TypeString, Required: true, Unique: true},
		{Name: "userId", Type: storage.TypeString, Required: true, References: &storage.Reference{Model: "user"}},
		{Name: "expiresAt", Type: storage.TypeDate, Indexed: true},
	}}, verificationModel())
}

func backends(b *testing.B, fn func(b *testing.B, a storage.Adapter)) {
	b.Run("backend=bolt", func(b *testing.B) {
		st, err := bolt.Open(filepath.Join(b.TempDir(), "bench.db"), nil)
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		a, err := st.Bind(b.Context(), benchSchema(b))
		if err != nil {
			b.Fatal(err)
		}
		fn(b, a)
	})
	b.Run("backend=postgres", func(b *testing.B) {
		a, err := openStore(b, pgtest.DSN(b)).Bind(b.Context(), benchSchema(b))
		if err != nil {
			b.Fatal(err)
		}
		fn(b, a)
	})
}

func seed(b *testing.B, a storage.Adapter, n int) {
	for i := range n {
		id := fmt.Sprintf("u%06d", i)
		if _, err := a.Create(b.Context(), "user", storage.Record{"id": id, "email": id + "@x"}); err != nil {
			b.Fatal(err)
		}
		if _, err := a.Create(b.Context(), "session", storage.Record{"id": "s" + id, "token": "t" + id, "userId": id, "expiresAt": time.Now()}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetByID(b *testing.B) {
	backends(b, func(b *testing.B, a storage.Adapter) {
		seed(b, a, 1000)
		var i int
		for b.Loop() {
			if _, err := a.FindOne(b.Context(), "user", storage.ByID(fmt.Sprintf("u%06d", i%1000))); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

func BenchmarkFindSessionByToken(b *testing.B) {
	backends(b, func(b *testing.B, a storage.Adapter) {
		seed(b, a, 1000)
		var i int
		for b.Loop() {
			if _, err := a.FindOne(b.Context(), "session", storage.Eq("token", fmt.Sprintf("tu%06d", i%1000))); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

func BenchmarkCreate(b *testing.B) {
	backends(b, func(b *testing.B, a storage.Adapter) {
		var i int
		for b.Loop() {
			id := fmt.Sprintf("c%08d", i)
			if _, err := a.Create(b.Context(), "user", storage.Record{"id": id, "email": id + "@x"}); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

func BenchmarkConsumeOne(b *testing.B) {
	backends(b, func(b *testing.B, a storage.Adapter) {
		var i int
		for b.Loop() {
			b.StopTimer()
			id := fmt.Sprintf("v%08d", i)
			if _, err := a.Create(b.Context(), "verification", storage.Record{"id": id, "identifier": "i" + id, "value": "x"}); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if _, err := a.ConsumeOne(b.Context(), "verification", storage.And(storage.Eq("identifier", "i"+id), storage.Eq("value", "x"))); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// BenchmarkParallelCreate is where one writer (bolt) and a pool (PostgreSQL) differ.
func BenchmarkParallelCreate(b *testing.B) {
	backends(b, func(b *testing.B, a storage.Adapter) {
		var n atomic.Int64
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				id := fmt.Sprintf("p%08d", n.Add(1))
				if _, err := a.Create(b.Context(), "user", storage.Record{"id": id, "email": id + "@x"}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
