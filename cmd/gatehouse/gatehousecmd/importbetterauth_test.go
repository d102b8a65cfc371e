package gatehousecmd

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/importer/betterauth/betterauthtest"
	"github.com/gatehouse-auth/gatehouse/storage"
	"github.com/gatehouse-auth/gatehouse/storage/bolt"
)

func importCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := &cobra.Command{Use: "import"}
	caddycmd.Commands()["import"].CobraFunc(root)
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	root.SilenceUsage, root.SilenceErrors = true, true
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

const importCaddyfile = `{
	admin off
	gatehouse {
		base_url http://localhost:3000
		secret gatehouse-own-secret-0123456789abcdef0123
		%s
		storage bbolt %s
		two_factor
		api_key
		passkey
		organization {
			teams {
				enabled
			}
		}
	}
}

http://localhost:3000 {
	gatehouse
}
`

// TestImportBetterAuthCommand: the command imports into the config's own store (a bbolt
// file), reads the secret from the environment, prints the table, notes that Better Auth's
// cookies will not verify without its secret in previous_secrets, and refuses a second run.
func TestImportBetterAuthCommand(t *testing.T) {
	f := betterauthtest.Database(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "gatehouse.db")
	cfg := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, importCaddyfile, "", db), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := importCmd(t, "better-auth", "--from", "/tmp/app.sqlite", "--config", cfg); err == nil || !strings.Contains(err.Error(), "SQLite databases are not supported") {
		t.Fatalf("sqlite: %v", err)
	}
	t.Setenv("BETTER_AUTH_SECRET", f.Secret)
	out, err := importCmd(t, "better-auth", "--from", f.DSN, "--config", cfg, "--adapter", "caddyfile")
	if err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	for _, want := range []string{"user               user                      2         2", "twoFactor", "apikey", "note: Better Auth's secret is not among"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if _, err := importCmd(t, "better-auth", "--from", f.DSN, "--config", cfg, "--adapter", "caddyfile"); err == nil || !strings.Contains(err.Error(), "--merge") {
		t.Fatalf("second run: %v", err)
	}

	// The records are in the config's store, with the config's plugins.
	raw, err := gatehouseAppConfig(cfg, "caddyfile")
	if err != nil {
		t.Fatal(err)
	}
	e, cleanup, err := engineWithConfiguredStorage(raw)
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	if n, _ := e.Store().Count(context.Background(), authcore.ModelUser, storage.Where{}); n != 2 {
		t.Errorf("%d users in the config's store", n)
	}
	if _, err := e.Store().FindOne(context.Background(), "apikey", storage.ByID(f.APIKeyID)); err != nil {
		t.Errorf("api key: %v", err)
	}
}

// TestImportBetterAuthLockedStore: a bbolt store a server holds is refused with a message
// saying so (the store is opened before the source, so no Better Auth database is needed).
func TestImportBetterAuthLockedStore(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "gatehouse.db")
	cfg := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, importCaddyfile, "", db), 0o600); err != nil {
		t.Fatal(err)
	}
	held, err := bolt.Open(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	_, err = importCmd(t, "better-auth", "--from", "postgres://nobody@127.0.0.1:1/none", "--config", cfg, "--adapter", "caddyfile")
	if err == nil || !strings.Contains(err.Error(), "the bbolt file is locked — stop the server") {
		t.Fatalf("locked store: %v", err)
	}
}
