package caddymodule

import (
	"bytes"
	"encoding/json"
	stdflag "flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	_ "github.com/caddyserver/caddy/v2/modules/standard"
)

var updateGolden = stdflag.Bool("update", false, "rewrite the expected JSON of testdata/caddyfile_adapt/*.caddyfiletest (and copy Caddyfile.example into its golden)")

const (
	adaptDir       = "testdata/caddyfile_adapt"
	exampleGolden  = "caddyfile_example.caddyfiletest"
	exampleSource  = "../Caddyfile.example"
	goldenSplitter = "----------"
)

// adapt runs the Caddyfile adapter and returns tab-indented JSON, as the golden files hold it.
func adapt(caddyfileText string) ([]byte, error) {
	out, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(caddyfileText), nil)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, out, "", "\t"); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// TestCaddyfileAdapt runs every golden file in testdata/caddyfile_adapt, in Caddy's own
// format (caddytest/integration/caddyfile_adapt_test.go): a Caddyfile, a line of ten
// dashes, then either the expected JSON or a substring of the expected error.
func TestCaddyfileAdapt(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(adaptDir, "*.caddyfiletest"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files in %s: %v", adaptDir, err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			text := strings.ReplaceAll(string(raw), "\r\n", "\n")
			if filepath.Base(file) == exampleGolden && *updateGolden {
				src, err := os.ReadFile(exampleSource)
				if err != nil {
					t.Fatal(err)
				}
				_, rest, _ := strings.Cut(text, goldenSplitter)
				text = string(src) + goldenSplitter + rest
			}
			cf, expected, ok := strings.Cut(text, goldenSplitter)
			if !ok {
				t.Fatalf("%s has no %q line", file, goldenSplitter)
			}
			cf = strings.TrimSpace(cf) + "\n"
			expected = strings.TrimSpace(expected)

			got, err := adapt(cf)
			if !strings.HasPrefix(expected, "{") {
				if err == nil {
					t.Fatalf("expected an error containing %q, but the Caddyfile adapted:\n%s", expected, got)
				}
				if !strings.Contains(err.Error(), expected) {
					t.Fatalf("error %q does not contain %q", err, expected)
				}
				return
			}
			if err != nil {
				t.Fatalf("adapting: %v", err)
			}
			if *updateGolden {
				if err := os.WriteFile(file, []byte(strings.TrimSpace(cf)+"\n"+goldenSplitter+"\n"+string(got)+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if string(got) != expected {
				t.Errorf("adapted JSON differs from the golden file%s", lineDiff(expected, string(got)))
			}
		})
	}
}

// lineDiff names the first differing line, enough to find the change in a golden file.
func lineDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(wl), len(gl)); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "\nfirst difference at line " + itoa(i+1) + ":\nwant: " + w + "\n got: " + g +
				"\n(run `go test ./caddymodule -run TestCaddyfileAdapt -update` to accept the new output)"
		}
	}
	return ""
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// TestCaddyfileExampleIsGolden keeps the golden copy of Caddyfile.example identical to the
// file users run, so the example is adapted (and its JSON reviewed) on every change.
func TestCaddyfileExampleIsGolden(t *testing.T) {
	src, err := os.ReadFile(exampleSource)
	if err != nil {
		t.Fatal(err)
	}
	golden, err := os.ReadFile(filepath.Join(adaptDir, exampleGolden))
	if err != nil {
		t.Fatal(err)
	}
	cf, _, _ := strings.Cut(string(golden), goldenSplitter)
	if strings.TrimSpace(cf) != strings.TrimSpace(string(src)) {
		t.Fatalf("%s does not hold the current %s; run `go test ./caddymodule -run TestCaddyfileAdapt -update`", exampleGolden, exampleSource)
	}
}

// handlerOrder lists the handler names of a config's routes depth-first, in the order a
// request meets them.
func handlerOrder(t *testing.T, cfgJSON []byte) []string {
	t.Helper()
	var cfg struct {
		Apps struct {
			HTTP struct {
				Servers map[string]struct {
					Routes []json.RawMessage `json:"routes"`
				} `json:"servers"`
			} `json:"http"`
		} `json:"apps"`
	}
	if err := json.Unmarshal(cfgJSON, &cfg); err != nil {
		t.Fatal(err)
	}
	var names []string
	var walkRoutes func(routes []json.RawMessage)
	walkRoutes = func(routes []json.RawMessage) {
		for _, rt := range routes {
			var route struct {
				Handle []struct {
					Handler string            `json:"handler"`
					Routes  []json.RawMessage `json:"routes"`
				} `json:"handle"`
			}
			if err := json.Unmarshal(rt, &route); err != nil {
				t.Fatal(err)
			}
			for _, h := range route.Handle {
				if h.Handler == "subroute" {
					walkRoutes(h.Routes)
					continue
				}
				names = append(names, h.Handler)
			}
		}
	}
	for _, srv := range cfg.Apps.HTTP.Servers {
		walkRoutes(srv.Routes)
	}
	return names
}

// TestDirectiveOrder: the gatehouse directive is ordered with Caddy's auth handlers, right
// after basic_auth, so nothing that answers (respond, reverse_proxy, file_server) runs before
// the request has been judged, whatever order the Caddyfile lists them in. Request rewrites
// (uri, rewrite) come first, so the path judged is the path forwarded.
func TestDirectiveOrder(t *testing.T) {
	out, err := adapt(`{
	gatehouse {
		base_url http://localhost:8080
	}
}
http://localhost:8080 {
	file_server
	reverse_proxy /api/* 127.0.0.1:9000
	respond /health 200
	gatehouse {
		public /health
	}
	forward_auth /other/* 127.0.0.1:9100 {
		uri /verify
	}
	basic_auth /private/* {
		alice $2a$14$Zkx19XLiW6VYouLHR5NmfOFU0z2GTNmpkT/5qqR7hx4IjWJPDhjvG
	}
	uri strip_prefix /app
}
`)
	if err != nil {
		t.Fatal(err)
	}
	order := handlerOrder(t, out)
	pos := func(name string) int {
		i := slices.Index(order, name)
		if i < 0 {
			t.Fatalf("handler %q not in %v", name, order)
		}
		return i
	}
	gh := pos("gatehouse")
	for _, before := range []string{"rewrite", "authentication"} {
		if pos(before) > gh {
			t.Errorf("%s runs after gatehouse: %v", before, order)
		}
	}
	// forward_auth expands to a reverse_proxy; every reverse_proxy must come after gatehouse.
	for _, after := range []string{"static_response", "reverse_proxy", "file_server"} {
		for i, n := range order {
			if n == after && i < gh {
				t.Errorf("%s runs before gatehouse: %v", after, order)
			}
		}
	}
}

// TestCaddyfileProvisions adapts a Caddyfile using every part of the directive — named
// matcher rules, header mapping, a verify block — and lets Caddy load and provision it
// (without listening), so the adapted JSON is known to be accepted by the modules, not only
// produced by the parser.
func TestCaddyfileProvisions(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_DATA_HOME", filepath.Join(dir, "data"))
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	out, err := adapt(`{
	admin off
	gatehouse {
		base_url http://localhost:8080
		secret 0123456789abcdef0123456789abcdef-test
		storage bbolt ` + filepath.Join(dir, "g.db") + `
		session {
			expires_in 7d  update_age 1d
		}
	}
}
http://localhost:8080 {
	@writes method POST PUT DELETE
	gatehouse {
		public /health /docs/*
		require role admin /admin/*
		require role editor @writes
		allow anonymous /try/*
		header user_email X-WEBAUTH-USER
		login_url /login
		verify {
			public /status
		}
	}
	respond "ok"
}
`)
	if err != nil {
		t.Fatal(err)
	}
	if err := caddy.Validate(mustConfig(t, out)); err != nil {
		t.Fatalf("provisioning the adapted config: %v", err)
	}

	// A config the parser accepts but provisioning must refuse: login_url neither absolute
	// nor a path.
	bad := bytes.Replace(out, []byte(`"login_url": "/login"`), []byte(`"login_url": "login"`), 1)
	if bytes.Equal(bad, out) {
		t.Fatalf("login_url not found in the adapted JSON:\n%s", out)
	}
	if err := caddy.Validate(mustConfig(t, bad)); err == nil || !strings.Contains(err.Error(), "login_url") {
		t.Fatalf("relative login_url: err = %v, want a login_url error", err)
	}
}

func mustConfig(t *testing.T, js []byte) *caddy.Config {
	t.Helper()
	cfg := new(caddy.Config)
	if err := json.Unmarshal(js, cfg); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestSecretPlaceholder: secret and previous_secrets accept {env.*} placeholders, as the
// README shows; an unset variable stops start-up instead of becoming an empty or literal
// secret.
func TestSecretPlaceholder(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_DATA_HOME", filepath.Join(dir, "data"))
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	out, err := adapt(`{
	admin off
	gatehouse {
		base_url http://localhost:8080
		secret {env.GH_TEST_SECRET}
		previous_secrets {env.GH_TEST_OLD_SECRET}
		storage bbolt ` + filepath.Join(dir, "g.db") + `
	}
}
`)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("GH_TEST_SECRET", "0123456789abcdef0123456789abcdef-from-env")
	t.Setenv("GH_TEST_OLD_SECRET", "fedcba9876543210fedcba9876543210-from-env")
	if err := caddy.Validate(mustConfig(t, out)); err != nil {
		t.Fatalf("secret from the environment: %v", err)
	}
	t.Setenv("GH_TEST_SECRET", "")
	if err := caddy.Validate(mustConfig(t, out)); err == nil || !strings.Contains(err.Error(), "secret") {
		t.Fatalf("unset secret variable: err = %v, want a secret error", err)
	}
}
