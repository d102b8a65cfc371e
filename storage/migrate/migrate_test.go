package migrate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/storage"
	"github.com/gatehouse-auth/gatehouse/storage/bolt"
	"github.com/gatehouse-auth/gatehouse/storage/memory"
)

func testSchema(t *testing.T) *storage.Schema {
	t.Helper()
	s := storage.NewSchema()
	if err := s.AddModel("core", storage.Model{Name: "thing", Fields: []storage.Field{
		{Name: "name", Type: storage.TypeString, Required: true, Unique: true},
		{Name: "at", Type: storage.TypeDate},
		{Name: "tags", Type: storage.TypeStringList},
	}}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddModel("core", storage.Model{Name: "empty"}); err != nil {
		t.Fatal(err)
	}
	return s
}

func seed(t *testing.T, a storage.Adapter, n int) {
	t.Helper()
	for i := range n {
		_, err := a.Create(context.Background(), "thing", storage.Record{"id": fmt.Sprintf("t%02d", i), "name": fmt.Sprintf("n%02d", i), "at": time.Unix(int64(i), 1000).UTC(), "tags": []string{"a", "\x00"}})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestCopyPagesResumesAndVerifies: every record arrives across page boundaries; a second
// run is refused, --resume skips what is there, and a unique clash with another record
// fails rather than being skipped.
func TestCopyPagesResumesAndVerifies(t *testing.T) {
	ctx := context.Background()
	s := testSchema(t)
	src, _ := memory.New(s)
	dst, _ := memory.New(s)
	seed(t, src, 10)
	for _, batch := range []int{3} {
		rep, err := Copy(ctx, src, dst, Options{BatchSize: batch})
		if err != nil {
			t.Fatal(err)
		}
		if got := rep.Models[0]; got != (ModelReport{Model: "thing", Source: 10, Copied: 10, Destination: 10}) {
			t.Errorf("report %+v", got)
		}
	}
	got, _ := dst.FindMany(ctx, "thing", storage.Query{})
	want, _ := src.FindMany(ctx, "thing", storage.Query{})
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("copy differs:\n%v\n%v", got, want)
	}
	if _, err := Copy(ctx, src, dst, Options{}); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("second copy: %v", err)
	}
	if err := dst.Delete(ctx, "thing", storage.ByID("t04")); err != nil {
		t.Fatal(err)
	}
	rep, err := Copy(ctx, src, dst, Options{Resume: true, BatchSize: 4})
	if err != nil || rep.Models[0].Copied != 1 || rep.Models[0].Skipped != 9 {
		t.Fatalf("resume: %+v, %v", rep, err)
	}
	var buf bytes.Buffer
	rep.Print(&buf)
	if !strings.Contains(buf.String(), "ok") || strings.Contains(buf.String(), "MISMATCH") {
		t.Errorf("table:\n%s", buf.String())
	}
	// t05 replaced by another record holding its name: a clash, not a skip.
	_ = dst.Delete(ctx, "thing", storage.ByID("t05"))
	if _, err := dst.Create(ctx, "thing", storage.Record{"id": "zz", "name": "n05"}); err != nil {
		t.Fatal(err)
	}
	if _, err := Copy(ctx, src, dst, Options{Resume: true}); !errors.Is(err, storage.ErrDuplicate) {
		t.Fatalf("clash: %v", err)
	}
	// An extra destination record: the counts differ.
	_ = dst.Delete(ctx, "thing", storage.ByID("zz"))
	if _, err := dst.Create(ctx, "thing", storage.Record{"id": "zz", "name": "other"}); err != nil {
		t.Fatal(err)
	}
	rep, err = Copy(ctx, src, dst, Options{Resume: true})
	if !errors.Is(err, ErrCountMismatch) || rep.OK() {
		t.Fatalf("mismatch: %+v, %v", rep, err)
	}
}

// TestOpenBoltSource: a held file fails fast with the lock message; a free one is read
// through a private copy (the original is not written) listing the models with records.
func TestOpenBoltSource(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "g.db")
	st, err := bolt.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := st.Bind(ctx, testSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	seed(t, a, 3)
	_, err = OpenBoltSource(path, dir, 100*time.Millisecond)
	if !errors.Is(err, ErrBoltLocked) || !strings.Contains(err.Error(), "the bbolt file is locked — stop the server") {
		t.Fatalf("locked: %v", err)
	}
	st.Close()
	before, _ := os.ReadFile(path)
	src, err := OpenBoltSource(path, dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(src.Models) != "[thing]" {
		t.Errorf("models %v", src.Models)
	}
	s2 := testSchema(t)
	_ = s2.AddModel("p", storage.Model{Name: "newer", Fields: []storage.Field{{Name: "x", Type: storage.TypeString, Unique: true}}})
	sa, err := src.Bind(ctx, s2)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := sa.Count(ctx, "thing", storage.Where{}); n != 3 {
		t.Errorf("count %d", n)
	}
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Error("the source file was written")
	}
	if _, err := OpenBoltSource(filepath.Join(dir, "missing.db"), dir, 0); err == nil {
		t.Error("missing file opened")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
}
