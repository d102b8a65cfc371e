package integration

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestAPIKeysEndToEnd: keys minted by the CLI (the only way to set a quota or permissions)
// authenticate at the real gateway as their owner; `require permission` judges them; a quota
// is enforced at the edge with 429 and Retry-After; a revoked key is refused.
func TestAPIKeysEndToEnd(t *testing.T) {
	ports := freePorts(t, 2)
	gw, app := ports[0], ports[1]
	cf := fmt.Sprintf(`{
	admin {ADMIN}
	gatehouse {
		base_url http://localhost:%[1]d
		storage bbolt gatehouse.db
		rate_limit off
		api_key
	}
}
http://localhost:%[1]d {
	gatehouse {
		public /health
		require permission files:read /files/*
		require permission files:write /files/upload
	}
	reverse_proxy 127.0.0.1:%[2]d
}
http://:%[2]d {
	bind 127.0.0.1
	respond /health "ok"
	respond "upstream {header.X-Auth-User-Id} {header.X-Auth-Method} {header.X-Auth-Api-Key-Id} key=[{header.X-Api-Key}]"
}
`, gw, app)
	base := fmt.Sprintf("http://localhost:%d", gw)
	c := &cliSite{t: t, s: StartServer(t, cf, base+"/health"), base: base}
	c.createAda()

	var key struct {
		ID  string `json:"id"`
		Key string `json:"key"`
	}
	out := c.admin("", "apikey", "create", "--user", cliEmail, "--name", "ci", "--permissions", "files:read",
		"--remaining", "3", "--json")
	if err := json.Unmarshal([]byte(out), &key); err != nil || key.Key == "" || key.ID == "" {
		t.Fatalf("apikey create --json: %v\n%s", err, out)
	}
	get := func(path, k string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("X-Api-Key", k)
		resp, err := c.client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, string(b)
	}

	for i := range 3 {
		resp, body := get("/files/report.pdf", key.Key)
		if resp.StatusCode != 200 || !strings.Contains(body, " api-key "+key.ID+" key=[]") {
			t.Fatalf("request %d with the key: %d %q", i+1, resp.StatusCode, body)
		}
	}
	resp, body := get("/files/report.pdf", key.Key)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("4th request on a quota of 3: %d %q (Retry-After %q)", resp.StatusCode, body, resp.Header.Get("Retry-After"))
	}

	// A second key without files:write: the upload route is forbidden, reading is fine.
	var k2 struct {
		ID  string `json:"id"`
		Key string `json:"key"`
	}
	out = c.admin("", "apikey", "create", "--user", cliEmail, "--name", "reader", "--permissions", "files:read", "--json")
	if err := json.Unmarshal([]byte(out), &k2); err != nil || k2.Key == "" {
		t.Fatalf("second key: %v\n%s", err, out)
	}
	if resp, body := get("/files/upload", k2.Key); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("upload without files:write: %d %q", resp.StatusCode, body)
	}
	if resp, _ := get("/files/a", k2.Key); resp.StatusCode != 200 {
		t.Fatalf("read with files:read: %d", resp.StatusCode)
	}

	if out := c.admin("", "apikey", "list", "--user", cliEmail); !strings.Contains(out, "reader") || strings.Contains(out, k2.Key) {
		t.Fatalf("apikey list (both keys, no plaintext):\n%s", out)
	}
	c.admin("", "apikey", "revoke", k2.ID)
	if resp, _ := get("/files/a", k2.Key); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("revoked key: %d", resp.StatusCode)
	}
}
