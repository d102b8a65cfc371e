package gatehousecmd

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/plugins/openapi/openapitest"
)

// openAPICmd runs `gatehouse openapi` in process with these flags and returns its output.
func openAPICmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := &cobra.Command{Use: "openapi"}
	cmd.Flags().StringP("config", "c", "", "")
	cmd.Flags().StringP("adapter", "a", "", "")
	cmd.Flags().StringP("output", "o", "", "")
	if err := cmd.Flags().Parse(args); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd.SetOut(&out)
	err := runOpenAPI(cmd, nil)
	return out.String(), err
}

const openAPICaddyfile = `{
	admin off
	gatehouse {
		base_url https://auth.example.com
		base_path /auth
		cookie_prefix myapp
		secret {env.GATEHOUSE_OPENAPI_TEST_UNSET}
		storage bbolt /nonexistent/never-opened.db
		username
		api_key
		bearer
		organization
		open_api
	}
}

https://auth.example.com {
	gatehouse
}
`

func TestOpenAPICommandPrintsAValidDocument(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(path, []byte(openAPICaddyfile), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := openAPICmd(t, "--config", path, "--adapter", "caddyfile")
	if err != nil {
		t.Fatal(err)
	}
	doc := openapitest.Load(t, []byte(out))
	if got := doc.Servers[0].URL; got != "https://auth.example.com/auth" {
		t.Errorf("server %q", got)
	}
	// https base URL: the cookie carries the __Secure- prefix, as the server sets it.
	if c := doc.Components.SecuritySchemes["apiKeyCookie"]; c == nil || c.Value.Name != "__Secure-myapp.session_token" {
		t.Errorf("cookie scheme %+v", c.Value)
	}
	for _, p := range []string{"/sign-in/email", "/sign-in/username", "/api-key/create", "/organization/create", "/open-api/generate-schema"} {
		if doc.Paths.Value(p) == nil {
			t.Errorf("%s missing", p)
		}
	}
	if doc.Components.Schemas["Apikey"] == nil && doc.Components.Schemas["ApiKey"] == nil {
		t.Errorf("no api key component: %v", len(doc.Components.Schemas))
	}
	// The configured database was never touched (the command builds on a throwaway store).
	if _, err := os.Stat("/nonexistent/never-opened.db"); err == nil {
		t.Error("the configured store was opened")
	}

	// --output writes the same document; a JSON config works without --adapter.
	file := filepath.Join(dir, "openapi.json")
	if _, err := openAPICmd(t, "--config", path, "--adapter", "caddyfile", "--output", file); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	openapitest.Load(t, b)
	jsonCfg := filepath.Join(dir, "config.json")
	os.WriteFile(jsonCfg, []byte(`{"apps":{"gatehouse":{"base_url":"https://x.example.com","plugins":{"bearer":{}}}}}`), 0o600)
	out, err = openAPICmd(t, "--config", jsonCfg)
	if err != nil {
		t.Fatal(err)
	}
	doc = openapitest.Load(t, []byte(out))
	if doc.Components.SecuritySchemes["bearerAuth"] == nil || doc.Paths.Value("/api-key/create") != nil {
		t.Error("JSON config: wrong plugin set")
	}
}

func TestOpenAPICommandErrors(t *testing.T) {
	dir := t.TempDir()
	noApp := filepath.Join(dir, "Caddyfile")
	os.WriteFile(noApp, []byte("https://example.com {\n\trespond ok\n}\n"), 0o600)
	badBase := filepath.Join(dir, "bad.json")
	os.WriteFile(badBase, []byte(`{"apps":{"gatehouse":{"plugins":{}}}}`), 0o600)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "--config is required"},
		{[]string{"--config", filepath.Join(dir, "missing")}, "no such file"},
		{[]string{"--config", noApp, "--adapter", "caddyfile"}, "no gatehouse app"},
		{[]string{"--config", badBase}, "base_url is required"},
	} {
		_, err := openAPICmd(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
}
