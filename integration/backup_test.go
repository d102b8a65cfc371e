package integration

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// TestBackupRestore: `gatehouse backup` takes a snapshot of a running server while users
// keep signing up; the snapshot opens with bbolt, passes its consistency check, holds every
// user whose sign-up was answered before the backup started, is a valid `storage migrate`
// source, and restores (stop, replace the file, start) to a server where those users sign
// in and users created after the snapshot do not exist.
func TestBackupRestore(t *testing.T) {
	c := startCLISite(t, "")
	pw := "correct horse battery staple"
	signUp := func(email string) int {
		body, _ := json.Marshal(map[string]string{"name": "User", "email": email, "password": pw})
		req, _ := http.NewRequest("POST", c.base+"/api/auth/sign-up/email", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", c.base)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	var (
		mu       sync.Mutex
		answered []string // sign-ups answered 200, in order
	)
	for i := range 5 {
		email := fmt.Sprintf("pre-%d@example.com", i)
		if s := signUp(email); s != http.StatusOK {
			t.Fatalf("sign-up %s: %d", email, s)
		}
		answered = append(answered, email)
	}
	// Four clients sign up continuously while the backup runs.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				email := fmt.Sprintf("w%d-%d@example.com", g, n)
				if signUp(email) == http.StatusOK {
					mu.Lock()
					answered = append(answered, email)
					mu.Unlock()
				}
			}
		}()
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(answered) }
	waitFor := func(n int) {
		deadline := time.Now().Add(60 * time.Second)
		for count() < n {
			if time.Now().After(deadline) {
				close(stop)
				t.Fatalf("only %d sign-ups answered, waiting for %d", count(), n)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitFor(5 + 8)
	mu.Lock()
	before := append([]string(nil), answered...) // answered before the backup started
	mu.Unlock()

	snap := filepath.Join(t.TempDir(), "snap.db")
	out := c.admin("", "backup", "--output", snap)
	if !strings.Contains(out, "wrote "+snap) {
		t.Errorf("backup output: %s", out)
	}
	waitFor(count() + 4) // writes carried on after the snapshot too
	close(stop)
	wg.Wait()
	all := append([]string(nil), answered...)

	fi, err := os.Stat(snap)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("snapshot mode %v, want 0600", fi.Mode().Perm())
	}
	if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(snap), ".snap.db.partial-*")); len(leftovers) > 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}
	// An existing --output is refused without --force, and replaced with it.
	if out := c.adminFails("", "backup", "--output", snap); !strings.Contains(out, "--force") {
		t.Errorf("second backup to the same file: %s", out)
	}
	forced := filepath.Join(t.TempDir(), "forced.db")
	if err := os.WriteFile(forced, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.admin("", "backup", "--output", forced, "--force", "--json")
	checkBoltSnapshot(t, forced)

	c.s.Stop()

	// The snapshot: bbolt opens it, Check passes, and it holds at least every user answered
	// before the backup started and at most every user answered at all.
	users := checkBoltSnapshot(t, snap)
	if users < len(before) || users > len(all) {
		t.Fatalf("the snapshot holds %d users; %d were answered before the backup, %d in all", users, len(before), len(all))
	}
	t.Logf("%d users answered before the backup, %d in the snapshot, %d in all", len(before), users, len(all))

	// It is a storage migrate source.
	migrated := filepath.Join(t.TempDir(), "migrated.db")
	if out, ok := c.cli("", "storage", "migrate", "--from", "bbolt:"+snap, "--to", "bbolt:"+migrated,
		"--config", c.s.Config, "--adapter", "caddyfile"); !ok || !strings.Contains(out, "verified") {
		t.Fatalf("storage migrate from the snapshot:\n%s", out)
	}

	// Restore: replace the data file with the snapshot and start the server again.
	data := filepath.Join(c.s.Dir, "gatehouse.db")
	if _, err := os.Stat(data); err != nil {
		t.Fatalf("the server's data file: %v", err)
	}
	b, err := os.ReadFile(snap)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(data+".restore", b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(data+".restore", data); err != nil {
		t.Fatal(err)
	}
	c.s = restartServer(t, c.s, c.base+"/health")

	var list struct {
		Users []struct {
			Email string `json:"email"`
		} `json:"users"`
		Total int `json:"total"`
	}
	if err := json.Unmarshal([]byte(c.admin("", "user", "list", "--limit", "1000", "--json")), &list); err != nil {
		t.Fatal(err)
	}
	if list.Total != users {
		t.Fatalf("the restored server has %d users, the snapshot %d", list.Total, users)
	}
	restored := map[string]bool{}
	for _, u := range list.Users {
		restored[u.Email] = true
	}
	for _, e := range before {
		if !restored[e] {
			t.Fatalf("%s was answered before the backup but is not in the restored server", e)
		}
	}
	// A user from the snapshot signs in; one created after it does not exist.
	if status, cookie := c.signIn(before[len(before)-1], pw); status != http.StatusOK || cookie == "" {
		t.Fatalf("sign-in of %s after the restore: %d", before[len(before)-1], status)
	}
	for _, e := range all {
		if !restored[e] {
			if status, _ := c.signIn(e, pw); status != http.StatusUnauthorized {
				t.Fatalf("%s (signed up after the snapshot) signs in on the restored server: %d", e, status)
			}
			break
		}
	}
}

// TestBackupUsage: --output is required, and a server that cannot be reached is an error
// that says so; no file is written.
func TestBackupUsage(t *testing.T) {
	dir := t.TempDir()
	env := append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME="+dir, "XDG_CONFIG_HOME="+dir)
	if out, ok := runCLI(t, env, dir, "", "backup"); ok || !strings.Contains(out, "--output") {
		t.Fatalf("backup without --output: %v\n%s", ok, out)
	}
	port := freePorts(t, 1)[0]
	out, ok := runCLI(t, env, dir, "", "backup", "--output", filepath.Join(dir, "x.db"), "--address", fmt.Sprintf("127.0.0.1:%d", port))
	if ok || !strings.Contains(out, "cannot reach the admin API") {
		t.Fatalf("backup of nothing: %v\n%s", ok, out)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*x.db*")); len(m) > 0 {
		t.Fatalf("files left: %v", m)
	}
}

// checkBoltSnapshot opens path read-only with bbolt, runs Check, and returns the number of
// user records (the 'r' keys of the user model's data bucket: storage/bolt's layout, see
// its doc.go).
func checkBoltSnapshot(t *testing.T, path string) int {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatalf("%s does not open with bbolt: %v", path, err)
	}
	defer db.Close()
	users := -1
	err = db.View(func(tx *bbolt.Tx) error {
		var errs []error
		for e := range tx.Check() {
			errs = append(errs, e)
		}
		if len(errs) > 0 {
			return fmt.Errorf("Check: %w", errors.Join(errs...))
		}
		return tx.ForEach(func(name []byte, b *bbolt.Bucket) error {
			if strings.TrimRight(string(name), "/") != "data/user" {
				return nil
			}
			users = 0
			return b.ForEach(func(k, _ []byte) error {
				if len(k) > 0 && k[0] == 'r' { // a record; 'i' and 'p' keys are index entries and pads
					users++
				}
				return nil
			})
		})
	})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if users < 0 {
		t.Fatalf("%s has no user bucket", path)
	}
	return users
}

// restartServer starts the binary again on old's directory and Caddyfile (same ports and
// data file), as an operator restarting the service would.
func restartServer(t *testing.T, old *Server, readyURL string) *Server {
	t.Helper()
	s := &Server{t: t, Dir: old.Dir, Config: old.Config, Admin: old.Admin, bin: old.bin}
	s.launch(readyURL)
	return s
}
