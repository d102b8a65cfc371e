package caddymodule

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.etcd.io/bbolt"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
	"github.com/gatehouse-auth/gatehouse/storage/bolt"
	"github.com/gatehouse-auth/gatehouse/storage/memory"
)

// fakeStorage is a storage module around any store.
type fakeStorage struct{ st storage.Store }

func (f fakeStorage) Store() storage.Store { return f.st }
func (f fakeStorage) Key() string          { return "fake" }

// serveBackupRoute calls GET-or-method /gatehouse/backup through the module's route and
// returns the recorder and the error Caddy's admin server would render.
func serveBackupRoute(t *testing.T, api *AdminAPI, method string) (*httptest.ResponseRecorder, *caddy.APIError) {
	t.Helper()
	rec := httptest.NewRecorder()
	err := api.Routes()[0].Handler.ServeHTTP(rec, httptest.NewRequest(method, AdminPrefix+backupPath, nil))
	if err == nil {
		return rec, nil
	}
	var ae caddy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error is not a caddy.APIError: %T %v", err, err)
	}
	return rec, &ae
}

// TestAdminBackupBolt: the route streams a bbolt file with the right headers and exact
// length; the file opens with bbolt, passes Check, and holds the records; the engine is not
// needed (the route works even when the engine lookup would fail).
func TestAdminBackupBolt(t *testing.T) {
	dir := t.TempDir()
	st, err := bolt.Open(filepath.Join(dir, "gatehouse.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := storage.NewSchema()
	if err := s.AddModel("test", storage.Model{Name: "user", Fields: []storage.Field{{Name: "email", Type: storage.TypeString, Unique: true}}}); err != nil {
		t.Fatal(err)
	}
	a, err := st.Bind(t.Context(), s)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"u1", "u2", "u3"} {
		if _, err := a.Create(t.Context(), "user", storage.Record{"id": id, "email": id + "@example.com"}); err != nil {
			t.Fatal(err)
		}
	}
	api := &AdminAPI{
		engine:  func() (*authcore.Engine, error) { return nil, errors.New("the backup route must not need the engine") },
		storage: func() (StorageModule, error) { return fakeStorage{st}, nil },
	}
	rec, aerr := serveBackupRoute(t, api, http.MethodGet)
	if aerr != nil {
		t.Fatalf("GET backup: %v", aerr)
	}
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	h := rec.Header()
	if ct := h.Get("Content-Type"); ct != "application/octet-stream" {
		t.Errorf("Content-Type %q", ct)
	}
	if cl := h.Get("Content-Length"); cl != strconv.Itoa(rec.Body.Len()) {
		t.Errorf("Content-Length %q, body %d bytes", cl, rec.Body.Len())
	}
	if cc := h.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
	if cd := h.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="gatehouse-`) {
		t.Errorf("Content-Disposition %q", cd)
	}
	path := filepath.Join(dir, "backup.db")
	if err := os.WriteFile(path, rec.Body.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		t.Fatalf("the backup does not open with bbolt: %v", err)
	}
	err = db.View(func(tx *bbolt.Tx) error {
		var errs []error
		for e := range tx.Check() {
			errs = append(errs, e)
		}
		return errors.Join(errs...)
	})
	db.Close()
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	copyStore, err := bolt.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer copyStore.Close()
	ca, err := copyStore.Bind(t.Context(), s)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := ca.Count(t.Context(), "user", storage.Where{}); err != nil || n != 3 {
		t.Fatalf("the backup holds %d users (%v), want 3", n, err)
	}

	// Other methods: 405 with Allow.
	rec, aerr = serveBackupRoute(t, api, http.MethodPost)
	if aerr == nil || aerr.HTTPStatus != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET" {
		t.Fatalf("POST backup: %v, Allow %q", aerr, rec.Header().Get("Allow"))
	}
}

// TestAdminBackupPostgres: a PostgreSQL store cannot be snapshotted here: 501 naming
// pg_dump, nothing streamed. The real module type is used (unprovisioned: its store is a
// nil *postgres.Store, which is what the route type-asserts on).
func TestAdminBackupPostgres(t *testing.T) {
	api := &AdminAPI{storage: func() (StorageModule, error) { return &PostgresStorage{}, nil }}
	rec, aerr := serveBackupRoute(t, api, http.MethodGet)
	if aerr == nil || aerr.HTTPStatus != http.StatusNotImplemented {
		t.Fatalf("GET backup on postgres: %v, want 501", aerr)
	}
	if msg := aerr.Error(); !strings.Contains(msg, "pg_dump") || !strings.Contains(msg, "gatehouse.storage.postgres") {
		t.Errorf("message %q should name the module and pg_dump", msg)
	}
	if rec.Body.Len() != 0 {
		t.Errorf("a body was streamed: %d bytes", rec.Body.Len())
	}
	// Another store without snapshots (memory): 501 too, without the PostgreSQL hint.
	api.storage = func() (StorageModule, error) { return fakeStorage{memory.NewStore()}, nil }
	if _, aerr := serveBackupRoute(t, api, http.MethodGet); aerr == nil || aerr.HTTPStatus != http.StatusNotImplemented || strings.Contains(aerr.Error(), "pg_dump") {
		t.Fatalf("GET backup on memory: %v", aerr)
	}
	// No running app: the lookup's error.
	api.storage = func() (StorageModule, error) { return nil, apiErr(http.StatusServiceUnavailable, "not running") }
	if _, aerr := serveBackupRoute(t, api, http.MethodGet); aerr == nil || aerr.HTTPStatus != http.StatusServiceUnavailable {
		t.Fatalf("GET backup without an app: %v", aerr)
	}
}

// failingSnap announces size bytes, writes half, and fails: after the status is sent the
// route cannot report an error, so the body stops short of Content-Length.
type failingSnap struct{ storage.Store }

func (failingSnap) Snapshot(_ context.Context, w io.Writer, started func(int64)) (int64, error) {
	started(100)
	n, _ := w.Write(make([]byte, 50))
	return int64(n), errors.New("disk on fire")
}

func TestAdminBackupCutShort(t *testing.T) {
	api := &AdminAPI{storage: func() (StorageModule, error) { return fakeStorage{failingSnap{}}, nil }}
	rec, aerr := serveBackupRoute(t, api, http.MethodGet)
	if aerr != nil {
		t.Fatalf("after the status was sent the route returned %v (Caddy would write a second status)", aerr)
	}
	if rec.Header().Get("Content-Length") != "100" || rec.Body.Len() != 50 {
		t.Fatalf("Content-Length %q with %d bytes: the client could not tell the copy was cut", rec.Header().Get("Content-Length"), rec.Body.Len())
	}
}
