package integration

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestExamplePlugin builds examples/cmd — a gatehouse binary with the third-party-style
// audit-log plugin (examples/auditlog) built in by a blank import — and checks the plugin end
// to end: Caddy lists it as a module, a Caddyfile enables it with `audit_log`, and a user who
// signs up and signs in through the API reads both actions back from
// /api/auth/audit-log/list, with the plugin's interceptor header on every answer.
func TestExamplePlugin(t *testing.T) {
	bin := buildExample(t)

	out, err := exec.Command(bin, "list-modules").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "gatehouse.plugins.audit_log\n") {
		t.Fatalf("list-modules: %v\n%s", err, out)
	}
	// The stock binary does not have it: the module comes from the example's import.
	if out, _ := exec.Command(binary, "list-modules").CombinedOutput(); strings.Contains(string(out), "audit_log") {
		t.Fatal("the stock gatehouse binary lists audit_log")
	}

	port := freePorts(t, 1)[0]
	base := fmt.Sprintf("http://localhost:%d", port)
	cf := fmt.Sprintf(`{
	admin {ADMIN}
	gatehouse {
		base_url %[1]s
		storage bbolt gatehouse.db
		audit_log {
			retention 7d
			actions sign-up sign-in sign-out
		}
	}
}
%[1]s {
	gatehouse {
		public /health
	}
	respond /health "ok"
	respond "hello"
}
`, base)
	startBinary(t, bin, cf, base+"/health")

	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	call := func(method, path, body string, hdr ...string) (*http.Response, map[string]any) {
		t.Helper()
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, _ := http.NewRequest(method, base+"/api/auth"+path, rd)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("Origin", base)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var m map[string]any
		json.Unmarshal(b, &m)
		if resp.Header.Get("X-Audit-Log") != "on" {
			t.Fatalf("%s %s: no X-Audit-Log header (%d %s)", method, path, resp.StatusCode, b)
		}
		return resp, m
	}

	resp, m := call("POST", "/sign-up/email", `{"name":"Ada","email":"ada@example.com","password":"correct horse battery"}`,
		"User-Agent", "example-test/1")
	if resp.StatusCode != 200 {
		t.Fatalf("sign-up: %d %v", resp.StatusCode, m)
	}
	resp, m = call("POST", "/sign-in/email", `{"email":"ada@example.com","password":"correct horse battery"}`,
		"User-Agent", "example-test/2")
	if resp.StatusCode != 200 {
		t.Fatalf("sign-in: %d %v", resp.StatusCode, m)
	}

	// Entries are written after the response, on the engine's background queue: poll briefly.
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, m = call("GET", "/audit-log/list", "")
		if resp.StatusCode != 200 {
			t.Fatalf("list: %d %v", resp.StatusCode, m)
		}
		if m["total"] == float64(2) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	entries, _ := m["entries"].([]any)
	if m["total"] != float64(2) || len(entries) != 2 {
		t.Fatalf("list: %v", m)
	}
	for i, want := range []struct{ action, ua string }{{"sign-in", "example-test/2"}, {"sign-up", "example-test/1"}} {
		e, _ := entries[i].(map[string]any)
		if e["action"] != want.action || e["userAgent"] != want.ua || (e["ip"] != "127.0.0.1" && e["ip"] != "::1") ||
			(want.action == "sign-in") != (e["method"] == "email") {
			t.Fatalf("entry %d: %v, want %s by %s from loopback", i, e, want.action, want.ua)
		}
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("list Cache-Control %q", resp.Header.Get("Cache-Control"))
	}
	// The limit error code comes through the binary too.
	if resp, m = call("GET", "/audit-log/list?limit=101", ""); resp.StatusCode != 400 || m["code"] != "AUDIT_LOG_LIMIT_TOO_LARGE" {
		t.Fatalf("limit=101: %d %v", resp.StatusCode, m)
	}
	// The user object carries the plugin's field.
	if _, m = call("GET", "/get-session", ""); m["user"].(map[string]any)["lastSeenAt"] == nil {
		t.Fatalf("get-session: no lastSeenAt: %v", m)
	}
}

// buildExample builds examples/cmd once, for this test only (TestMain builds the stock binary
// for every test).
func buildExample(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "gatehouse-auditlog")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, "../examples/cmd")...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("building examples/cmd: %v", err)
	}
	return bin
}

// startBinary is StartServer for another binary: the same directory layout, environment,
// readiness wait and cleanup (Server.Stop ends only the process it started).
func startBinary(t *testing.T, bin, caddyfile, readyURL string) *Server {
	t.Helper()
	s := &Server{t: t, Dir: t.TempDir()}
	s.Admin = fmt.Sprintf("127.0.0.1:%d", freePorts(t, 1)[0])
	s.Config = filepath.Join(s.Dir, "Caddyfile")
	if err := os.WriteFile(s.Config, []byte(strings.ReplaceAll(caddyfile, "{ADMIN}", s.Admin)), 0o600); err != nil {
		t.Fatal(err)
	}
	s.cmd = exec.Command(bin, "run", "--config", s.Config, "--adapter", "caddyfile")
	s.cmd.Dir, s.cmd.Env = s.Dir, s.Env()
	s.cmd.Stdout, s.cmd.Stderr = lockedWriter{s}, lockedWriter{s}
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	t.Cleanup(s.Stop)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(readyURL)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		if time.Now().After(deadline) || s.cmd.ProcessState != nil {
			t.Fatalf("%s did not come up at %s: %v\n%s", bin, readyURL, err, s.Output())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
