package bolt

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/gatehouse-auth/gatehouse/storage"
)

// benchRecords is the size of the benchmark store.
const benchRecords = 100_000

// benchSchema is shaped like Gatehouse's hot path: a session (8 fields with the id) found
// by the hash of its token, then its user by id.
func benchSchema() (*storage.Schema, error) {
	s := storage.NewSchema()
	err := s.AddModel("core", storage.Model{Name: "user", Fields: []storage.Field{
		{Name: "email", Type: storage.TypeString, Required: true, Unique: true},
		{Name: "name", Type: storage.TypeString},
		{Name: "emailVerified", Type: storage.TypeBoolean},
		{Name: "role", Type: storage.TypeString},
		{Name: "createdAt", Type: storage.TypeDate},
		{Name: "updatedAt", Type: storage.TypeDate},
		{Name: "image", Type: storage.TypeString},
	}})
	if err == nil {
		err = s.AddModel("core", storage.Model{Name: "session", Fields: []storage.Field{
			{Name: "token", Type: storage.TypeString, Required: true, Unique: true},
			{Name: "userId", Type: storage.TypeString, Required: true, References: &storage.Reference{Model: "user"}},
			{Name: "expiresAt", Type: storage.TypeDate, Required: true, Indexed: true},
			{Name: "ipAddress", Type: storage.TypeString},
			{Name: "userAgent", Type: storage.TypeString},
			{Name: "createdAt", Type: storage.TypeDate},
			{Name: "updatedAt", Type: storage.TypeDate},
		}})
	}
	if err == nil {
		err = s.Validate()
	}
	return s, err
}

// openBench returns an adapter over a new store in a temporary directory.
func openBench(b *testing.B) storage.Adapter {
	st, err := Open(filepath.Join(b.TempDir(), "bench.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	s, err := benchSchema()
	if err != nil {
		b.Fatal(err)
	}
	a, err := st.Bind(b.Context(), s)
	if err != nil {
		b.Fatal(err)
	}
	return a
}

func tokenHash(i int) string {
	h := sha256.Sum256(fmt.Appendf(nil, "token-%d", i))
	return hex.EncodeToString(h[:])
}

func benchSession(i int, now time.Time) storage.Record {
	return storage.Record{
		"id":        fmt.Sprintf("s%023d", i),
		"token":     tokenHash(i),
		"userId":    fmt.Sprintf("u%023d", i),
		"expiresAt": now.Add(7 * 24 * time.Hour),
		"ipAddress": "203.0.113.7",
		"userAgent": "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/140.0",
		"createdAt": now,
		"updatedAt": now,
	}
}

func benchUser(i int, now time.Time) storage.Record {
	return storage.Record{
		"id": fmt.Sprintf("u%023d", i), "email": fmt.Sprintf("user%d@example.com", i), "name": "Some User",
		"emailVerified": true, "role": "user", "createdAt": now, "updatedAt": now,
	}
}

// loaded is the read benchmarks' store: 100k users and 100k sessions, each model loaded in
// one transaction (D17), built once per test binary and removed by TestMain.
var loaded struct {
	once sync.Once
	dir  string
	st   *Store
	a    storage.Adapter
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if loaded.st != nil {
		_ = loaded.st.Close()
	}
	if loaded.dir != "" {
		_ = os.RemoveAll(loaded.dir)
	}
	os.Exit(code)
}

func load() error {
	ctx := context.Background()
	var err error
	if loaded.dir, err = os.MkdirTemp("", "gatehouse-bench-"); err != nil {
		return err
	}
	if loaded.st, err = Open(filepath.Join(loaded.dir, "bench.db"), nil); err != nil {
		return err
	}
	s, err := benchSchema()
	if err != nil {
		return err
	}
	if loaded.a, err = loaded.st.Bind(ctx, s); err != nil {
		return err
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, kind := range []struct {
		model string
		rec   func(int, time.Time) storage.Record
	}{{"user", benchUser}, {"session", benchSession}} {
		err := loaded.a.Tx(ctx, func(tx storage.Adapter) error {
			for i := range benchRecords {
				if _, err := tx.Create(ctx, kind.model, kind.rec(i, now)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func benchAdapter(b *testing.B) storage.Adapter {
	loaded.once.Do(func() { loaded.err = load() })
	if loaded.err != nil {
		b.Fatal(loaded.err)
	}
	return loaded.a
}

// BenchmarkFindOneUnique is the gateway's session lookup: FindOne by a unique token hash in
// a bucket of 100k sessions.
func BenchmarkFindOneUnique(b *testing.B) {
	a := benchAdapter(b)
	keys := make([]string, 4096)
	for i := range keys {
		keys[i] = tokenHash((i * 7919) % benchRecords)
	}
	ctx := b.Context()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		r, err := a.FindOne(ctx, "session", storage.Eq("token", keys[i%len(keys)]))
		if err != nil || len(r) != 8 {
			b.Fatal(r, err)
		}
	}
}

// BenchmarkRawTwoGets is the floor under BenchmarkFindOneUnique: the same two bbolt lookups
// (token index, then record) on the same data, without decoding or anything else.
func BenchmarkRawTwoGets(b *testing.B) {
	benchAdapter(b)
	keys := make([][]byte, 4096)
	for i := range keys {
		keys[i], _ = appendKeyValue(nil, storage.TypeString, tokenHash((i*7919)%benchRecords))
	}
	idx, recs := []byte(indexPrefix+"session/unique/token"), []byte(modelPrefix+"session")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		err := loaded.st.db.View(func(tx *bbolt.Tx) error {
			id := tx.Bucket(idx).Get(keys[i%len(keys)])
			if tx.Bucket(recs).Get(id) == nil {
				return errCorrupt
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetByID is the second half of it: the session's user by id.
func BenchmarkGetByID(b *testing.B) {
	a := benchAdapter(b)
	ids := make([]string, 4096)
	for i := range ids {
		ids[i] = fmt.Sprintf("u%023d", (i*7919)%benchRecords)
	}
	ctx := b.Context()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := a.FindOne(ctx, "user", storage.ByID(ids[i%len(ids)])); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreate creates sessions one transaction (and fsync) each.
func BenchmarkCreate(b *testing.B) {
	a := openBench(b)
	now := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := a.Create(b.Context(), "session", benchSession(i, now)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreateInTx creates sessions 1000 to a transaction: the CPU cost of a create
// without the fsync.
func BenchmarkCreateInTx(b *testing.B) {
	a := openBench(b)
	now := time.Now()
	recs := make([]storage.Record, 1000)
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; {
		batch := min(len(recs), b.N-n)
		b.StopTimer()
		for i := range batch {
			recs[i] = benchSession(n+i, now)
		}
		b.StartTimer()
		err := a.Tx(b.Context(), func(tx storage.Adapter) error {
			for i := range batch {
				if _, err := tx.Create(b.Context(), "session", recs[i]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		n += batch
	}
}
