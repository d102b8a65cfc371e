package gatehousecmd

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/storage/bolt"
)

// backupAgainst runs the backup download against handler and returns the error and the
// files left in the output's directory.
func backupAgainst(t *testing.T, handler http.HandlerFunc) ([]string, error) {
	t.Helper()
	srv := httptest.NewServer(handler)
	defer srv.Close()
	c, err := dialAdmin(strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cmd := &cobra.Command{}
	cmd.SetContext(t.Context())
	_, err = c.backup(cmd, filepath.Join(dir, "out.db"))
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names, err
}

// goodSnapshot is a real, empty Gatehouse bbolt file.
func goodSnapshot(t *testing.T) []byte {
	t.Helper()
	p := filepath.Join(t.TempDir(), "g.db")
	st, err := bolt.Open(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := st.Snapshot(t.Context(), &buf, nil); err != nil {
		t.Fatal(err)
	}
	st.Close()
	return buf.Bytes()
}

// TestBackupDownload: a complete snapshot lands at --output (0600, nothing else left); a
// refusal carries the server's message; a cut, mistyped or corrupt answer fails and leaves
// no file behind.
func TestBackupDownload(t *testing.T) {
	good := goodSnapshot(t)
	serve := func(ct string, body []byte, length int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/gatehouse/backup" || r.Method != http.MethodGet {
				http.Error(w, "wrong route", http.StatusTeapot)
				return
			}
			w.Header().Set("Content-Type", ct)
			w.Header().Set("Content-Length", strconv.Itoa(length))
			w.Write(body)
		}
	}

	files, err := backupAgainst(t, serve("application/octet-stream", good, len(good)))
	if err != nil || len(files) != 1 || files[0] != "out.db" {
		t.Fatalf("good snapshot: %v, files %v", err, files)
	}

	cases := []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{"postgres", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotImplemented)
			w.Write([]byte(`{"error":"storage gatehouse.storage.postgres cannot be backed up through Gatehouse: back it up with pg_dump"}`))
		}, "pg_dump"},
		{"cut short", serve("application/octet-stream", good[:len(good)/2], len(good)), "receiving the snapshot"},
		{"not a snapshot", serve("text/html", good, len(good)), "not a snapshot"},
		{"corrupt", serve("application/octet-stream", bytes.Repeat([]byte{0xAB}, 32768), 32768), "does not open as a bbolt file"},
		{"old server", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNotFound) }, "no such endpoint"},
	}
	for _, tc := range cases {
		files, err := backupAgainst(t, tc.handler)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error containing %q", tc.name, err, tc.want)
		}
		if len(files) != 0 {
			t.Errorf("%s: files left behind: %v", tc.name, files)
		}
	}
}
