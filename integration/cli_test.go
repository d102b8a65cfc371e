package integration

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// cliTimeout bounds one CLI invocation.
const cliTimeout = 30 * time.Second

// cliSite is a gateway on loopback in front of an upstream that echoes the identity it was
// given, plus the admin endpoint the CLI talks to ({ADMIN} unless admin is given).
type cliSite struct {
	t    *testing.T
	s    *Server
	base string
}

func startCLISite(t *testing.T, admin string) *cliSite {
	t.Helper()
	ports := freePorts(t, 2)
	gw, app := ports[0], ports[1]
	if admin == "" {
		admin = "{ADMIN}"
	}
	cf := fmt.Sprintf(`{
	admin %[3]s
	gatehouse {
		base_url http://localhost:%[1]d
		storage bbolt gatehouse.db
		rate_limit off
	}
}
http://localhost:%[1]d {
	gatehouse {
		public /health
		require role admin /admin/*
	}
	reverse_proxy 127.0.0.1:%[2]d
}
http://:%[2]d {
	bind 127.0.0.1
	respond /health "ok"
	respond "upstream {header.X-Auth-User-Id} [{header.X-Auth-User-Role}]"
}
`, gw, app, admin)
	base := fmt.Sprintf("http://localhost:%d", gw)
	return &cliSite{t: t, s: StartServer(t, cf, base+"/health"), base: base}
}

// cli runs the gatehouse binary with the server's environment, stdin, and a deadline; it
// returns the combined output and whether the command exited 0.
func (c *cliSite) cli(stdin string, args ...string) (string, bool) {
	c.t.Helper()
	return runCLI(c.t, c.s.Env(), c.s.Dir, stdin, args...)
}

// admin runs a CLI command against the server's admin address and fails the test unless it
// succeeds.
func (c *cliSite) admin(stdin string, args ...string) string {
	c.t.Helper()
	out, ok := c.cli(stdin, append(args, "--address", c.s.Admin)...)
	if !ok {
		c.t.Fatalf("gatehouse %s failed:\n%s", strings.Join(args, " "), out)
	}
	return out
}

// adminFails runs a CLI command that must fail and returns its output.
func (c *cliSite) adminFails(stdin string, args ...string) string {
	c.t.Helper()
	out, ok := c.cli(stdin, append(args, "--address", c.s.Admin)...)
	if ok {
		c.t.Fatalf("gatehouse %s succeeded, want a failure:\n%s", strings.Join(args, " "), out)
	}
	return out
}

func runCLI(t *testing.T, env []string, dir, stdin string, args ...string) (string, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir, cmd.Env = dir, env
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("gatehouse %s: timed out after %s\n%s", strings.Join(args, " "), cliTimeout, out.String())
	}
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatalf("running gatehouse %s: %v", strings.Join(args, " "), err)
		}
	}
	return out.String(), err == nil
}

// signIn signs in over HTTP and returns the status and the session cookie ("" if none).
func (c *cliSite) signIn(email, pw string) (int, string) {
	c.t.Helper()
	body, _ := json.Marshal(map[string]string{"email": email, "password": pw})
	req, _ := http.NewRequest("POST", c.base+"/api/auth/sign-in/email", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", c.base)
	resp, err := c.client().Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	resp.Body.Close()
	for _, ck := range resp.Cookies() {
		if ck.Name == "better-auth.session_token" && ck.Value != "" {
			return resp.StatusCode, ck.Name + "=" + ck.Value
		}
	}
	return resp.StatusCode, ""
}

// client follows redirects like http.DefaultClient, and validates every auth-API answer
// against the server's OpenAPI document.
func (c *cliSite) client() *http.Client {
	return &http.Client{Transport: c.s.Transport(c.t, nil)}
}

// get requests a gateway path with a cookie and returns the status and body.
func (c *cliSite) get(path, cookie string) (int, string) {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.base+path, nil)
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	resp, err := c.client().Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// expectGet fails unless path answers status for the cookie.
func (c *cliSite) expectGet(what, path, cookie string, status int) string {
	c.t.Helper()
	code, body := c.get(path, cookie)
	if code != status {
		c.t.Fatalf("%s: GET %s = %d %q, want %d", what, path, code, body, status)
	}
	return body
}

// sessionHandles lists a user's sessions through the CLI (--json) and returns the handles.
func (c *cliSite) sessionHandles(user string) []string {
	c.t.Helper()
	var res struct {
		Sessions []struct {
			ID    string `json:"id"`
			Token string `json:"token"`
		} `json:"sessions"`
	}
	out := c.admin("", "session", "list", user, "--json")
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		c.t.Fatalf("session list --json: %v\n%s", err, out)
	}
	var hs []string
	for _, s := range res.Sessions {
		if !strings.HasPrefix(s.Token, s.ID+".") {
			c.t.Fatalf("session %s: token field %q is not a handle", s.ID, s.Token)
		}
		hs = append(hs, s.Token)
	}
	return hs
}

// cookieToken is the bare session token inside a signed session cookie.
func cookieToken(cookie string) string {
	_, v, _ := strings.Cut(cookie, "=")
	tok, _, _ := strings.Cut(v, ".")
	return tok
}

// The CLI tests each start their own server and keep to a handful of CLI runs: a -race
// build of the binary takes a second or more just to start on a loaded 2-core machine.

const (
	cliEmail = "ada@example.com"
	cliPW    = "correct horse battery staple"
	cliPW2   = "a brand new passphrase 42"
)

// createAda creates the test user through the CLI (password as a flag).
func (c *cliSite) createAda() {
	c.t.Helper()
	c.admin("", "user", "create", "--email", cliEmail, "--name", "Ada", "--password", cliPW)
}

// TestCLICreateListRole: a user created by the CLI signs in over HTTP and reaches the
// upstream; user list shows them; set-role admin takes effect at once for the live session.
func TestCLICreateListRole(t *testing.T) {
	c := startCLISite(t, "")

	// Create with the password on stdin; the admin address comes from the config file.
	out, ok := c.cli(cliPW+"\n", "user", "create", "--email", "Ada@Example.com", "--name", "Ada Lovelace",
		"--password-stdin", "--config", c.s.Config, "--adapter", "caddyfile")
	if !ok || !strings.Contains(out, "Created user "+cliEmail) {
		t.Fatalf("user create: %v\n%s", ok, out)
	}

	// That password signs in over HTTP and reaches the protected upstream as a plain user.
	code, s1 := c.signIn(cliEmail, cliPW)
	if code != 200 || s1 == "" {
		t.Fatalf("sign-in with the CLI-set password: %d, cookie %q", code, s1)
	}
	if body := c.expectGet("as user", "/", s1, 200); !strings.HasPrefix(body, "upstream ") || !strings.HasSuffix(body, "[user]") {
		t.Fatalf("upstream saw %q", body)
	}
	c.expectGet("no session", "/", "", 401)
	c.expectGet("admin area as user", "/admin/", s1, 403)

	// user list: a table with the user, and JSON without password material.
	out = c.admin("", "user", "list")
	if !strings.Contains(out, "EMAIL") || !strings.Contains(out, cliEmail) || !strings.Contains(out, "Ada Lovelace") {
		t.Fatalf("user list:\n%s", out)
	}
	var list struct {
		Users []map[string]any `json:"users"`
		Total int              `json:"total"`
	}
	out = c.admin("", "user", "list", "--search", "ada", "--json")
	if err := json.Unmarshal([]byte(out), &list); err != nil || list.Total != 1 || list.Users[0]["email"] != cliEmail {
		t.Fatalf("user list --json: %v\n%s", err, out)
	}
	if strings.Contains(strings.ToLower(out), "argon2") || strings.Contains(out, `"password"`) {
		t.Fatalf("user list leaks password material:\n%s", out)
	}

	// set-role admin: the same session passes `require role admin` at once (the write
	// invalidates the node's session cache).
	if out := c.admin("", "user", "set-role", cliEmail, "admin"); !strings.Contains(out, "admin") {
		t.Fatalf("set-role:\n%s", out)
	}
	c.expectGet("admin area as admin", "/admin/", s1, 200)
}

// TestCLISessions: session list shows handles, never tokens; session revoke <handle> ends
// exactly that session.
func TestCLISessions(t *testing.T) {
	c := startCLISite(t, "")
	c.createAda()
	_, s1 := c.signIn(cliEmail, cliPW)
	_, s2 := c.signIn(cliEmail, cliPW)
	c.expectGet("first session", "/", s1, 200)

	out := c.admin("", "session", "list", cliEmail)
	if !strings.Contains(out, "HANDLE") {
		t.Fatalf("session list:\n%s", out)
	}
	for _, s := range []string{s1, s2} {
		if tok := cookieToken(s); tok == "" || strings.Contains(out, tok) {
			t.Fatalf("session list shows a session token (%q):\n%s", tok, out)
		}
	}
	handles := c.sessionHandles(cliEmail)
	if len(handles) != 2 {
		t.Fatalf("%d sessions listed, want 2", len(handles))
	}
	for _, h := range handles {
		if !strings.Contains(out, h) {
			t.Fatalf("table lacks handle %s:\n%s", h, out)
		}
	}

	// Listed oldest first: handles[1] is s2. Its next request is 401; s1 lives on.
	if out := c.admin("", "session", "revoke", handles[1]); !strings.Contains(out, "Revoked 1 session(s)") {
		t.Fatalf("session revoke:\n%s", out)
	}
	c.expectGet("revoked session", "/", s2, 401)
	c.expectGet("other session", "/", s1, 200)
}

// TestCLIPasswordAndDelete: set-password revokes sessions and swaps the password;
// session revoke --user ends every session; user delete removes the user.
func TestCLIPasswordAndDelete(t *testing.T) {
	c := startCLISite(t, "")
	c.createAda()
	_, s1 := c.signIn(cliEmail, cliPW)
	c.expectGet("before set-password", "/", s1, 200)

	if out := c.admin(cliPW2+"\n", "user", "set-password", cliEmail, "--password-stdin"); !strings.Contains(out, "1 session(s) revoked") {
		t.Fatalf("set-password:\n%s", out)
	}
	c.expectGet("session from before set-password", "/", s1, 401)
	if code, _ := c.signIn(cliEmail, cliPW); code == 200 {
		t.Fatal("the old password still signs in")
	}
	code, s2 := c.signIn(cliEmail, cliPW2)
	if code != 200 || s2 == "" {
		t.Fatalf("sign-in with the new password: %d", code)
	}
	_, s3 := c.signIn(cliEmail, cliPW2)
	c.expectGet("new session", "/", s2, 200)

	if out := c.admin("", "session", "revoke", "--user", cliEmail); !strings.Contains(out, "Revoked 2 session(s)") {
		t.Fatalf("revoke --user:\n%s", out)
	}
	c.expectGet("after revoke --user", "/", s2, 401)
	c.expectGet("after revoke --user", "/", s3, 401)

	// user delete: the user's sessions go too, and sign-in fails.
	_, s4 := c.signIn(cliEmail, cliPW2)
	if out := c.admin("", "user", "delete", cliEmail); !strings.Contains(out, "Deleted user "+cliEmail) {
		t.Fatalf("user delete:\n%s", out)
	}
	c.expectGet("session of a deleted user", "/", s4, 401)
	if code, _ := c.signIn(cliEmail, cliPW2); code == 200 {
		t.Fatal("a deleted user signs in")
	}
	if out := c.admin("", "user", "list"); strings.Contains(out, cliEmail) {
		t.Fatalf("deleted user still listed:\n%s", out)
	}
}

type cliFailure struct {
	name  string
	stdin string
	args  []string
	want  string
}

func (c *cliSite) expectFailures(cases []cliFailure) {
	c.t.Helper()
	for _, tc := range cases {
		c.t.Run(tc.name, func(t *testing.T) {
			if out := c.adminFails(tc.stdin, tc.args...); !strings.Contains(out, tc.want) {
				t.Fatalf("output lacks %q:\n%s", tc.want, out)
			}
		})
	}
}

// TestCLIUnknownTargets: an unknown user or session exits non-zero with the server's
// message.
func TestCLIUnknownTargets(t *testing.T) {
	c := startCLISite(t, "")
	c.expectFailures([]cliFailure{
		{"set-role", "", []string{"user", "set-role", "nobody@example.com", "admin"}, `user "nobody@example.com" not found`},
		{"delete", "", []string{"user", "delete", "nobody@example.com"}, `user "nobody@example.com" not found`},
		{"set-password", "", []string{"user", "set-password", "nobody@example.com", "--password", cliPW}, `user "nobody@example.com" not found`},
		{"session list", "", []string{"session", "list", "nobody@example.com"}, `user "nobody@example.com" not found`},
		{"revoke unknown session", "", []string{"session", "revoke", "nosuchsession"}, "session not found"},
		{"forged handle", "", []string{"session", "revoke", "abc.AAAAAAAAAAAAAAAAAAAAAAAA"}, "invalid session handle"},
	})
}

// TestCLIRefusedInput: the password policy and other validation, enforced by the server,
// exit non-zero with its message and change nothing.
func TestCLIRefusedInput(t *testing.T) {
	c := startCLISite(t, "")
	c.createAda()
	c.expectFailures([]cliFailure{
		{"weak password", "short\n", []string{"user", "create", "--email", "bob@example.com", "--name", "Bob", "--password-stdin"}, "PASSWORD_TOO_SHORT"},
		{"common password", "", []string{"user", "create", "--email", "bob@example.com", "--name", "Bob", "--password", "password123"}, "PASSWORD_TOO_COMMON"},
		{"weak new password", "", []string{"user", "set-password", cliEmail, "--password", "short"}, "PASSWORD_TOO_SHORT"},
		{"duplicate email", "", []string{"user", "create", "--email", "ADA@example.com", "--name", "Ada", "--password", cliPW}, "already exists"},
		{"invalid role", "", []string{"user", "set-role", cliEmail, "no spaces"}, "invalid role"},
	})
	var list struct {
		Total int `json:"total"`
		Users []struct {
			Role string `json:"role"`
		} `json:"users"`
	}
	out := c.admin("", "user", "list", "--json")
	if err := json.Unmarshal([]byte(out), &list); err != nil || list.Total != 1 || list.Users[0].Role != "user" {
		t.Fatalf("after refusals: %v\n%s", err, out)
	}
	if code, _ := c.signIn(cliEmail, cliPW); code != 200 {
		t.Fatalf("a refused set-password changed the password: %d", code)
	}
}

// TestCLIUsageErrors: mistakes caught before any request, and an address with no server.
func TestCLIUsageErrors(t *testing.T) {
	env, dir := (&Server{Dir: t.TempDir()}).Env(), t.TempDir()
	dead := fmt.Sprintf("127.0.0.1:%d", freePorts(t, 1)[0])
	for _, tc := range []cliFailure{
		{"no password", "", []string{"user", "create", "--email", "bob@example.com", "--name", "Bob"}, "password is required"},
		{"empty stdin", "", []string{"user", "create", "--email", "bob@example.com", "--name", "Bob", "--password-stdin"}, "no password on standard input"},
		{"unknown subcommand", "", []string{"user", "frobnicate"}, `unknown subcommand "frobnicate"`},
		{"no server", "", []string{"user", "list"}, "cannot reach the admin API at " + dead},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, ok := runCLI(t, env, dir, tc.stdin, append(tc.args, "--address", dead)...)
			if ok || !strings.Contains(out, tc.want) {
				t.Fatalf("ok=%v, output lacks %q:\n%s", ok, tc.want, out)
			}
		})
	}
}

// TestCLIUnixSocket: the admin endpoint on a unix socket, reached by --address and by
// reading the address from --config.
func TestCLIUnixSocket(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "admin.sock")
	if len(sock) > 100 {
		t.Skipf("socket path too long for this system: %s", sock)
	}
	c := startCLISite(t, "unix/"+sock)
	out, ok := c.cli("", "user", "create", "--email", cliEmail, "--name", "Ada",
		"--password", cliPW, "--address", "unix/"+sock)
	if !ok || !strings.Contains(out, "Created user "+cliEmail) {
		t.Fatalf("user create over a unix socket: %v\n%s", ok, out)
	}
	out, ok = c.cli("", "user", "list", "--config", c.s.Config, "--adapter", "caddyfile")
	if !ok || !strings.Contains(out, cliEmail) {
		t.Fatalf("user list with the socket from --config: %v\n%s", ok, out)
	}
	if code, _ := c.signIn(cliEmail, cliPW); code != 200 {
		t.Fatalf("sign-in: %d", code)
	}
}

// TestCLIOffline: commands that need no server.
func TestCLIOffline(t *testing.T) {
	env, dir := (&Server{Dir: t.TempDir()}).Env(), t.TempDir()

	seen := map[string]bool{}
	for range 2 {
		out, ok := runCLI(t, env, dir, "", "secret", "generate")
		s := strings.TrimSpace(out)
		raw, err := base64.RawURLEncoding.DecodeString(s)
		if !ok || err != nil || len(raw) < 32 || strings.ContainsAny(s, " \n") {
			t.Fatalf("secret generate: ok=%v err=%v %d bytes: %q", ok, err, len(raw), out)
		}
		if seen[s] {
			t.Fatal("secret generate printed the same secret twice")
		}
		seen[s] = true
	}

	out, ok := runCLI(t, env, dir, "", "version")
	if !ok || !strings.HasPrefix(out, "v2.") {
		t.Fatalf("version: first line is not Caddy's version:\n%s", out)
	}
	for _, id := range []string{"http.handlers.gatehouse", "admin.api.gatehouse", "gatehouse.storage.bbolt"} {
		if !strings.Contains(out, "  "+id+"\n") {
			t.Fatalf("version lacks %s:\n%s", id, out)
		}
	}
	if strings.Contains(out, "reverse_proxy") {
		t.Fatalf("version lists non-gatehouse modules:\n%s", out)
	}
	var v struct {
		Caddy   string `json:"caddy"`
		Modules []struct {
			ID string `json:"id"`
		} `json:"modules"`
	}
	out, ok = runCLI(t, env, dir, "", "version", "--json")
	if err := json.Unmarshal([]byte(out), &v); !ok || err != nil || v.Caddy == "" || len(v.Modules) < 3 {
		t.Fatalf("version --json: %v\n%s", err, out)
	}
}
