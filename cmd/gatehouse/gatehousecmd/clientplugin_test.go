package gatehousecmd

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

func runClientPluginCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := &cobra.Command{Use: "client-plugin", SilenceUsage: true, SilenceErrors: true}
	clientPluginCommand(cmd)
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

func TestClientPluginFromCaddyfile(t *testing.T) {
	dir := t.TempDir()
	caddyfile := filepath.Join(dir, "Caddyfile")
	os.WriteFile(caddyfile, []byte(`{
	admin off
	gatehouse {
		base_url http://localhost:8080
		storage bbolt `+filepath.Join(dir, "must-not-be-created.db")+`
		anonymous
		username
	}
}
`), 0o644)
	ts := filepath.Join(dir, "username.ts")
	if out, err := runClientPluginCmd(t, "username", "--config", caddyfile, "--adapter", "caddyfile", "--out", ts); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	src, err := os.ReadFile(ts)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"export const usernameClient = () =>",
		`"/sign-in/username": "POST",`,
		"signInUsername: (body: UsernameSignInUsernameBody",
		`"/is-username-available": "POST",`,
		"}) satisfies BetterAuthClientPlugin;",
	} {
		if !strings.Contains(string(src), want) {
			t.Errorf("generated client lacks %q:\n%s", want, src)
		}
	}
	// The configured database is never opened.
	if _, err := os.Stat(filepath.Join(dir, "must-not-be-created.db")); !os.IsNotExist(err) {
		t.Errorf("the configured bbolt file was touched: %v", err)
	}
	// An .mjs output is plain JavaScript; stdout without --out.
	out, err := runClientPluginCmd(t, "anonymous", "--config", caddyfile, "--adapter", "caddyfile", "--js")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "export const anonymousClient = () =>") || strings.Contains(out, "satisfies") {
		t.Errorf("--js output:\n%s", out)
	}
	// A plugin built in but not enabled by the config.
	if _, err := runClientPluginCmd(t, "jwt", "--config", caddyfile, "--adapter", "caddyfile"); err == nil || !strings.Contains(err.Error(), `plugin "jwt" is not enabled`) {
		t.Errorf("jwt not enabled: %v", err)
	}
}

func TestClientPluginDefaults(t *testing.T) {
	out, err := runClientPluginCmd(t, "magic-link")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "export const magicLinkClient = () =>") || !strings.Contains(out, `"/magic-link/verify": "GET",`) ||
		!strings.Contains(out, "verify: (query: MagicLinkVerifyQuery") {
		t.Errorf("magic-link client:\n%s", out)
	}
	if _, err := runClientPluginCmd(t, "no-such-plugin"); err == nil || !strings.Contains(err.Error(), `no plugin "no-such-plugin"`) {
		t.Errorf("unknown plugin: %v", err)
	}
}
