package gatehousecmd

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// apiKeyRequest is what the fake admin API received.
type apiKeyRequest struct {
	method, path, query string
	body                map[string]any
}

// runAPIKey runs `gatehouse apikey <args>` against a fake admin API answering answer, and
// returns what it received (nil when nothing was sent), the output and the error.
func runAPIKey(t *testing.T, answer string, args ...string) (*apiKeyRequest, string, error) {
	t.Helper()
	var got *apiKeyRequest
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = &apiKeyRequest{method: r.Method, path: r.URL.EscapedPath(), query: r.URL.RawQuery}
		if len(b) > 0 {
			if err := json.Unmarshal(b, &got.body); err != nil {
				t.Errorf("body %q: %v", b, err)
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(answer))
	}))
	defer srv.Close()
	cmd := &cobra.Command{Use: "apikey", SilenceUsage: true, SilenceErrors: true}
	apiKeyCommand(cmd)
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(io.Discard)
	cmd.SetArgs(append(args, "--address", strings.TrimPrefix(srv.URL, "http://")))
	err := cmd.Execute()
	return got, out.String(), err
}

const keyJSON = `{"id":"k1","name":"ci","start":"gh_ab","userId":"u1","enabled":true,"remaining":100,"expiresAt":"2026-02-01T00:00:00.000Z","permissions":{"files":["read","write"]},"key":"gh_abSECRET"}`

func TestAPIKeyCreate(t *testing.T) {
	req, out, err := runAPIKey(t, keyJSON, "create", "--user", "ada@example.com", "--name", "ci", "--prefix", "gh_",
		"--expires-in", "30d", "--permissions", "files:read, files:write,files:read,reports:export",
		"--remaining", "100", "--refill-amount", "50", "--refill-interval", "1d", "--rate-limit", "10/1m",
		"--enabled=false", "--metadata", `{"team":"infra","n":2}`)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"user": "ada@example.com", "name": "ci", "prefix": "gh_", "expiresIn": "30d",
		"permissions": map[string]any{"files": []any{"read", "write"}, "reports": []any{"export"}},
		"remaining":   float64(100), "refillAmount": float64(50), "refillInterval": "1d",
		"rateLimitEnabled": true, "rateLimitMax": float64(10), "rateLimitTimeWindow": "1m",
		"enabled": false, "metadata": map[string]any{"team": "infra", "n": float64(2)},
	}
	if req.method != "POST" || req.path != "/gatehouse/api-keys" || !reflect.DeepEqual(req.body, want) {
		t.Errorf("sent %s %s %v\nwant %v", req.method, req.path, req.body, want)
	}
	for _, s := range []string{"gh_abSECRET", "shown only now", "files:read,files:write", "2026-02-01 00:00:00Z", "k1"} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}

	// Only the options given are sent; an organization key needs no user.
	req, _, err = runAPIKey(t, keyJSON, "create", "--org", "org-1")
	if err != nil || !reflect.DeepEqual(req.body, map[string]any{"organizationId": "org-1"}) {
		t.Errorf("org key: %v sent %v", err, req.body)
	}
	req, _, _ = runAPIKey(t, keyJSON, "create", "--user", "u1", "--rate-limit", "off", "--expires-in", "never")
	if !reflect.DeepEqual(req.body, map[string]any{"user": "u1", "rateLimitEnabled": false, "expiresIn": "never"}) {
		t.Errorf("rate limit off: sent %v", req.body)
	}

	// --json prints the server's answer as it is.
	_, out, err = runAPIKey(t, keyJSON, "create", "--user", "u1", "--json")
	var v map[string]any
	if err != nil || json.Unmarshal([]byte(out), &v) != nil || v["key"] != "gh_abSECRET" {
		t.Errorf("--json: %v %q", err, out)
	}
}

func TestAPIKeyArgumentErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		err  string
	}{
		{[]string{"create"}, "an owner is required: --user <id|email> or --org <id>"},
		{[]string{"create", "--user", "u", "--permissions", "files"}, `--permissions: "files" is not <resource>:<action>`},
		{[]string{"create", "--user", "u", "--permissions", "files:read,:write"}, `":write" is not <resource>:<action>`},
		{[]string{"create", "--user", "u", "--rate-limit", "100"}, `--rate-limit: "100" is not <max>/<window>`},
		{[]string{"create", "--user", "u", "--rate-limit", "x/1m"}, "is not <max>/<window>"},
		{[]string{"create", "--user", "u", "--rate-limit", "-1/1m"}, "is not <max>/<window>"},
		{[]string{"create", "--user", "u", "--rate-limit", "10/soon"}, `the window "soon" is not a positive duration`},
		{[]string{"create", "--user", "u", "--rate-limit", "10/0s"}, "not a positive duration"},
		{[]string{"create", "--user", "u", "--remaining", "-5"}, "--remaining: -5 is negative"},
		{[]string{"create", "--user", "u", "--remaining", "many"}, `invalid argument "many"`},
		{[]string{"create", "--user", "u", "--metadata", "[1]"}, "--metadata: \"[1]\" is not a JSON object"},
		{[]string{"create", "--user", "u", "--metadata", `{"a":1} {}`}, "is not a JSON object"},
		{[]string{"create", "--user", ""}, "--user: empty value"},
		{[]string{"create", "extra", "--user", "u"}, "unknown command"},
		{[]string{"update"}, "accepts 1 arg(s)"},
		{[]string{"update", "k1"}, "nothing to update"},
		{[]string{"update", "k1", "--user", "u"}, "unknown flag: --user"},
		{[]string{"update", "k1", "--prefix", "x"}, "unknown flag: --prefix"},
		{[]string{"revoke"}, "accepts 1 arg(s)"},
		{[]string{"list", "u1"}, "unknown command"},
		{[]string{"rotate"}, `"rotate"`},
		{nil, "a subcommand is required"},
	} {
		req, _, err := runAPIKey(t, keyJSON, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%q: error %v, want %q", tc.args, err, tc.err)
		}
		if req != nil {
			t.Errorf("%q: a request was sent: %+v", tc.args, req)
		}
	}
}

func TestAPIKeyUpdateListRevoke(t *testing.T) {
	req, out, err := runAPIKey(t, keyJSON, "update", "k/1", "--name", "new", "--permissions", "", "--enabled", "--refill-interval", "12h")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"name": "new", "permissions": map[string]any{}, "enabled": true, "refillInterval": "12h"}
	if req.method != "PATCH" || req.path != "/gatehouse/api-keys/k%2F1" || !reflect.DeepEqual(req.body, want) {
		t.Errorf("sent %s %s %v\nwant %v", req.method, req.path, req.body, want)
	}
	if !strings.Contains(out, "k1") || strings.Contains(out, "SECRET") {
		t.Errorf("update output:\n%s", out)
	}

	list := `{"apiKeys":[{"id":"k1","name":"ci","userId":"u1","enabled":true,"remaining":null,"expiresAt":null,"permissions":"{\"files\":[\"read\"]}"},{"id":"k2","organizationId":"o1","enabled":false}]}`
	req, out, err = runAPIKey(t, list, "list", "--user", "a+b@example.com")
	if err != nil || req.method != "GET" || req.path != "/gatehouse/api-keys" || req.query != "user=a%2Bb%40example.com" || req.body != nil {
		t.Fatalf("list: %v sent %+v", err, req)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "ID") ||
		!strings.Contains(lines[1], "unlimited") || !strings.Contains(lines[1], "never") || !strings.Contains(lines[1], "files:read") ||
		!strings.Contains(lines[2], "org o1") || !strings.Contains(lines[2], "false") {
		t.Errorf("list output:\n%s", out)
	}
	req, out, _ = runAPIKey(t, `{"apiKeys":[]}`, "list")
	if req.query != "" || !strings.Contains(out, "No API keys.") {
		t.Errorf("list all: query %q output %q", req.query, out)
	}

	req, out, err = runAPIKey(t, `{"revoked":1,"id":"k1"}`, "revoke", "k1")
	if err != nil || req.method != "DELETE" || req.path != "/gatehouse/api-keys/k1" || out != "Revoked API key k1.\n" {
		t.Errorf("revoke: %v %+v %q", err, req, out)
	}
}

// The server's refusal (such as the plugin being off) is the command's error.
func TestAPIKeyServerError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"error":"the api-key plugin is not enabled: add api_key to the gatehouse global options"}`))
	}))
	defer srv.Close()
	cmd := &cobra.Command{Use: "apikey", SilenceUsage: true, SilenceErrors: true}
	apiKeyCommand(cmd)
	cmd.SetOut(io.Discard)
	cmd.SetArgs([]string{"list", "--address", strings.TrimPrefix(srv.URL, "http://")})
	if err := cmd.Execute(); err == nil || !strings.Contains(err.Error(), "api-key plugin is not enabled") {
		t.Fatalf("got %v", err)
	}
}
