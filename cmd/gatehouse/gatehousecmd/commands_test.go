package gatehousecmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

func TestRouteVersion(t *testing.T) {
	for _, tc := range []struct{ in, want []string }{
		{[]string{"gatehouse"}, []string{"gatehouse"}},
		{[]string{"gatehouse", "version"}, []string{"gatehouse", modulesCommand}},
		{[]string{"gatehouse", "version", "--json"}, []string{"gatehouse", modulesCommand, "--json"}},
		{[]string{"gatehouse", "help", "version"}, []string{"gatehouse", "help", modulesCommand}},
		{[]string{"gatehouse", "run", "version"}, []string{"gatehouse", "run", "version"}},
		{[]string{"gatehouse", "user", "list"}, []string{"gatehouse", "user", "list"}},
	} {
		in := slices.Clone(tc.in)
		if got := routeVersion(in); !slices.Equal(got, tc.want) {
			t.Errorf("routeVersion(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if !slices.Equal(in, tc.in) {
			t.Errorf("routeVersion modified its input: %q", in)
		}
	}
}

func TestDialAdmin(t *testing.T) {
	for _, tc := range []struct {
		addr, network, dial, origin, err string
	}{
		{addr: "localhost:2019", network: "tcp", dial: "localhost:2019", origin: "http://localhost:2019"},
		{addr: "127.0.0.1:9999", network: "tcp", dial: "127.0.0.1:9999", origin: "http://127.0.0.1:9999"},
		{addr: "unix//run/caddy/admin.sock", network: "unix", dial: "/run/caddy/admin.sock", origin: "http://127.0.0.1"},
		{addr: "unix//run/caddy/admin.sock|0222", network: "unix", dial: "/run/caddy/admin.sock", origin: "http://127.0.0.1"},
		{addr: "fd/3", err: "file descriptor"},
		{addr: "localhost:2019-2020", err: "port range"},
	} {
		c, err := dialAdmin(tc.addr)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want %q", tc.addr, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.addr, err)
			continue
		}
		if c.network != tc.network || c.dial != tc.dial || c.origin != tc.origin {
			t.Errorf("%s: network %q dial %q origin %q", tc.addr, c.network, c.dial, c.origin)
		}
	}
}

// The server's {"error": ...} becomes the error text; other failures say what happened.
func TestAdminClientErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/gatehouse/users/nobody@example.com":
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"error":"user \"nobody@example.com\" not found"}`))
		case "/gatehouse/plain":
			http.Error(w, "something broke", http.StatusInternalServerError)
		default:
			if r.Header.Get("Origin") != "http://"+r.Host {
				t.Errorf("Origin %q for host %q", r.Header.Get("Origin"), r.Host)
			}
			w.Write([]byte(`{"ok":true}`))
		}
	}))
	defer srv.Close()
	c, err := dialAdmin(strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	err = c.do(ctx, "GET", userPath("nobody@example.com"), nil, nil, nil)
	var ae *adminError
	if !errors.As(err, &ae) || ae.Status != 404 || err.Error() != `user "nobody@example.com" not found` {
		t.Fatalf("got %v", err)
	}
	if err := c.do(ctx, "GET", "/gatehouse/plain", nil, nil, nil); err == nil || !strings.Contains(err.Error(), "something broke") {
		t.Fatalf("got %v", err)
	}
	var out struct{ OK bool }
	if err := c.do(ctx, "GET", "/gatehouse/x", nil, nil, &out); err != nil || !out.OK {
		t.Fatalf("got %v %v", err, out)
	}
}

// Over a unix socket the client sends Host 127.0.0.1 and no Origin, as Caddy's admin server
// expects there.
func TestAdminClientUnixSocket(t *testing.T) {
	dir, err := os.MkdirTemp("", "gh")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "a.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Skipf("unix sockets unavailable: %v", err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host != "127.0.0.1" || r.Header.Get("Origin") != "" || r.URL.Query().Get("user") != "a+b@example.com" {
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]string{"error": "host " + r.Host + " origin " + r.Header.Get("Origin") + " query " + r.URL.RawQuery})
			return
		}
		w.Write([]byte(`{"revoked":3}`))
	})}
	go srv.Serve(ln)
	defer srv.Close()
	c, err := dialAdmin("unix/" + sock + "|0200")
	if err != nil {
		t.Fatal(err)
	}
	var res struct{ Revoked int }
	if err := c.do(context.Background(), "DELETE", "/gatehouse/sessions", map[string][]string{"user": {"a+b@example.com"}}, nil, &res); err != nil || res.Revoked != 3 {
		t.Fatalf("got %v %+v", err, res)
	}
}

func newPasswordCmd(stdin string, args ...string) *cobra.Command {
	cmd := &cobra.Command{Use: "x"}
	cmd.Flags().String("password", "", "")
	cmd.Flags().Bool("password-stdin", false, "")
	cmd.SetIn(strings.NewReader(stdin))
	cmd.Flags().Parse(args)
	return cmd
}

func TestReadPassword(t *testing.T) {
	for _, tc := range []struct {
		stdin string
		args  []string
		want  string
		err   string
	}{
		{args: []string{"--password", "p w"}, want: "p w"},
		{stdin: "  spaced pass  \r\nsecond line\n", args: []string{"--password-stdin"}, want: "  spaced pass  "},
		{stdin: "no newline", args: []string{"--password-stdin"}, want: "no newline"},
		{stdin: "\n", args: []string{"--password-stdin"}, err: "no password on standard input"},
		{args: []string{"--password", "x", "--password-stdin"}, err: "not both"},
		{err: "password is required"},
		{stdin: strings.Repeat("x", maxPasswordInput+1), args: []string{"--password-stdin"}, err: "too long"},
	} {
		got, err := readPassword(newPasswordCmd(tc.stdin, tc.args...))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q %q: error %v, want %q", tc.stdin, tc.args, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q %q: %q %v, want %q", tc.stdin, tc.args, got, err, tc.want)
		}
	}
}

func TestGatehouseModules(t *testing.T) {
	var ids []string
	for _, m := range gatehouseModules() {
		ids = append(ids, m.ID)
	}
	for _, want := range []string{"gatehouse", "http.handlers.gatehouse", "admin.api.gatehouse", "gatehouse.storage.bbolt"} {
		if !slices.Contains(ids, want) {
			t.Errorf("modules %q lack %s", ids, want)
		}
	}
	for _, id := range ids {
		if strings.Contains(id, "reverse_proxy") || id == "http" {
			t.Errorf("non-gatehouse module listed: %s", id)
		}
	}
	for _, tc := range []struct {
		id, pkg string
		want    bool
	}{
		{"gatehouse.plugins.acme_sso", "example.com/thirdparty", true},
		{"http.authentication.providers.gatehouse", goModule + "/caddymodule", true},
		{"http.matchers.gatehouse_role", goModule + "/caddymodule", true},
		{"http.handlers.gatehouses", "example.com/other", false},
		{"http.handlers.reverse_proxy", "github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy", false},
		{"http.handlers.x", goModule + "extra/x", false},
	} {
		if got := isGatehouseModule(tc.id, tc.pkg); got != tc.want {
			t.Errorf("isGatehouseModule(%q, %q) = %v", tc.id, tc.pkg, got)
		}
	}
}

func TestRunModules(t *testing.T) {
	cmd := &cobra.Command{}
	cmd.Flags().Bool("json", false, "")
	var out bytes.Buffer
	cmd.SetOut(&out)
	if err := runModules(cmd, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "\nGatehouse modules:\n") || !strings.Contains(out.String(), "  http.handlers.gatehouse\n") {
		t.Fatalf("output:\n%s", out.String())
	}
	out.Reset()
	cmd.Flags().Set("json", "true")
	if err := runModules(cmd, nil); err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(out.Bytes(), &v); err != nil || v["caddy"] == nil || v["modules"] == nil {
		t.Fatalf("json %v: %s", err, out.String())
	}
}
