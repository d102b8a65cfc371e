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
	"slices"
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
	srv := startBinary(t, bin, cf, base+"/health")

	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 10 * time.Second, Transport: srv.Transport(t, nil)}
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

	// The front-end side: `client-plugin` writes the Better Auth client plugin of audit-log
	// from this config, and the official better-auth client calls the plugin's endpoint
	// through it (authClient.auditLog.list).
	checkGeneratedClient(t, bin, srv, base)

	// The third-party plugin is in the binary's OpenAPI document, under its own tag, with
	// its declared error codes (the answers above were validated against it).
	doc := srv.MustSpec(t)
	list := doc.Paths.Find("/audit-log/list")
	if list == nil || list.Get == nil || list.Post != nil || doc.Paths.Find("/audit-log/clear") == nil {
		t.Fatalf("the audit-log routes are missing from the OpenAPI document")
	}
	if tags := list.Get.Tags; !slices.Contains(tags, "audit-log") {
		t.Fatalf("/audit-log/list tags %v, want the plugin's own tag audit-log among them", tags)
	}
	if codes, _ := json.Marshal(list.Get.Extensions["x-error-codes"]); !strings.Contains(string(codes), "AUDIT_LOG_LIMIT_TOO_LARGE") {
		t.Fatalf("/audit-log/list x-error-codes %s", codes)
	}
}

// checkGeneratedClient generates audit-log's client plugin with the binary and drives it
// with the official better-auth client under Node (interop/node_modules, which ./test.sh
// installs; GATEHOUSE_SKIP_INTEROP=1 skips this part, as it does the interop test).
func checkGeneratedClient(t *testing.T, bin string, srv *Server, base string) {
	if os.Getenv("GATEHOUSE_SKIP_INTEROP") == "1" {
		t.Log("GATEHOUSE_SKIP_INTEROP=1: the generated client is not run")
		return
	}
	interop, err := filepath.Abs(filepath.Join("..", "interop"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(interop, "node_modules", "better-auth", "package.json")); err != nil {
		t.Fatalf("interop/node_modules is missing (%v): run `npm ci --prefix interop` (./test.sh does) or set GATEHOUSE_SKIP_INTEROP=1", err)
	}
	// The module lives inside interop/ so that Node resolves better-auth from there.
	dir, err := os.MkdirTemp(interop, ".generated-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	client := filepath.Join(dir, "audit-log-client.mjs")
	gen := exec.Command(bin, "client-plugin", "audit-log", "--config", srv.Config, "--adapter", "caddyfile", "--out", client)
	gen.Dir, gen.Env = srv.Dir, srv.Env()
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("client-plugin audit-log: %v\n%s", err, out)
	}
	script := filepath.Join(dir, "run.mjs")
	if err := os.WriteFile(script, []byte(`
import { createAuthClient } from "better-auth/client";
import { CookieJar, jarFetch } from "../lib/helpers.mjs";
import { auditLogClient } from "./audit-log-client.mjs";

const jar = new CookieJar();
const client = createAuthClient({ baseURL: process.env.GATEHOUSE_URL, plugins: [auditLogClient()], fetchOptions: { customFetchImpl: jarFetch(jar) } });
const signIn = await client.signIn.email({ email: "ada@example.com", password: "correct horse battery" });
if (signIn.error) throw new Error("sign-in: " + JSON.stringify(signIn.error));
const list = await client.auditLog.list({ limit: 1 });
const tooMany = await client.auditLog.list({ limit: 101 });
console.log(JSON.stringify({ list: list.data, error: list.error, tooMany: tooMany.error }));
`), 0o600); err != nil {
		t.Fatal(err)
	}
	node := exec.Command("node", script)
	node.Dir = interop
	node.Env = append(os.Environ(), "GATEHOUSE_URL="+base)
	out, err := node.CombinedOutput()
	if err != nil {
		t.Fatalf("node with the generated client: %v\n%s", err, out)
	}
	var got struct {
		List struct {
			Entries []map[string]any `json:"entries"`
			Total   float64          `json:"total"`
		} `json:"list"`
		Error   any `json:"error"`
		TooMany struct {
			Status float64 `json:"status"`
			Code   string  `json:"code"`
		} `json:"tooMany"`
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &got); err != nil {
		t.Fatalf("node output: %v\n%s", err, out)
	}
	// At least sign-up and sign-in (the sign-in just made is written after its response, so
	// it may or may not be there yet); limit 1 gives the newest, a sign-in either way.
	if got.Error != nil || got.List.Total < 2 || len(got.List.Entries) != 1 || got.List.Entries[0]["action"] != "sign-in" {
		t.Fatalf("authClient.auditLog.list: %s", out)
	}
	if got.TooMany.Status != 400 || got.TooMany.Code != "AUDIT_LOG_LIMIT_TOO_LARGE" {
		t.Fatalf("authClient.auditLog.list({limit: 101}): %s", out)
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
