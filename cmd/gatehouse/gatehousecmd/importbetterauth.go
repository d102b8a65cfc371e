package gatehousecmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/spf13/cobra"
	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/caddymodule"
	"github.com/gatehouse-auth/gatehouse/importer/betterauth"
	"github.com/gatehouse-auth/gatehouse/storage/migrate"
)

func init() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "import",
		Usage: "better-auth --from <postgres-dsn> --config <path> [--adapter <name>] [--better-auth-secret <s>] [--merge] [--skip <table,...>]",
		Short: "Imports the users and data of another auth system",
		Long: `
  gatehouse import better-auth --from postgres://user@db/app --config Caddyfile

Copies a Better Auth database (PostgreSQL, Better Auth's default table and
column names) into the store the config's gatehouse app uses (stop the
server first when that is a bbolt file): users, accounts (password hashes
kept: Gatehouse verifies Better Auth's scrypt hashes and replaces them with
argon2id at the next sign-in), sessions, two-factor secrets and backup
codes, passkeys, API keys (their hashes keep working), organizations,
members, teams, invitations. It prints what it read and imported per table.

--better-auth-secret (or $BETTER_AUTH_SECRET) is Better Auth's secret: two-
factor secrets are encrypted with it, and are encrypted again with
Gatehouse's secret. It is required when the database has two-factor rows.

Sessions are stored hashed, as Gatehouse does. Better Auth's cookies are
signed with its secret: put that secret in the gatehouse block's
previous_secrets and existing cookies stay valid (users stay signed in);
otherwise users sign in again. --skip session signs everyone out.

A store that already has users is refused unless --merge (records it has
are skipped; a Better Auth user whose email belongs to another Gatehouse
user stops the import). Rows of a plugin the config does not enable
(two_factor, passkey, api_key, organization) stop the import: enable the
plugin, or --skip the table. Verification, rate-limit and jwks rows are not
imported. SQLite databases are not supported.
`,
		CobraFunc: func(cmd *cobra.Command) {
			ba := &cobra.Command{
				Use:   "better-auth --from <postgres-dsn> --config <path> [flags]",
				Short: "Imports a Better Auth PostgreSQL database",
				Args:  cobra.NoArgs,
				RunE:  runImportBetterAuth,
			}
			f := ba.Flags()
			f.String("from", "", "Better Auth's PostgreSQL database (postgres://... DSN) (required)")
			f.StringP("config", "c", "", "Gatehouse configuration: its storage, secret and plugins (required)")
			f.StringP("adapter", "a", "", "Name of the config adapter")
			f.String("better-auth-secret", "", "Better Auth's secret (default $BETTER_AUTH_SECRET)")
			f.Bool("merge", false, "Import into a store that already has users")
			f.StringSlice("skip", nil, "Better Auth tables not to import, such as session")
			cmd.Args = cobra.ArbitraryArgs
			parent(cmd, ba)
		},
	})
}

func runImportBetterAuth(cmd *cobra.Command, _ []string) error {
	from, _ := cmd.Flags().GetString("from")
	configFile, _ := cmd.Flags().GetString("config")
	adapter, _ := cmd.Flags().GetString("adapter")
	secret, _ := cmd.Flags().GetString("better-auth-secret")
	merge, _ := cmd.Flags().GetBool("merge")
	skip, _ := cmd.Flags().GetStringSlice("skip")
	if from == "" || configFile == "" {
		return errors.New("--from and --config are required")
	}
	if secret == "" {
		secret = os.Getenv("BETTER_AUTH_SECRET")
	}
	if !strings.Contains(from, "://") && !strings.Contains(from, "=") {
		return fmt.Errorf("--from %q: want a PostgreSQL DSN (postgres://user@host/db); SQLite databases are not supported", from)
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	raw, err := gatehouseAppConfig(configFile, adapter)
	if err != nil {
		return err
	}
	if err := checkBoltUnlocked(raw); err != nil {
		return err
	}
	e, cleanup, err := engineWithConfiguredStorage(raw)
	if errors.Is(err, berrors.ErrTimeout) || err != nil && strings.Contains(err.Error(), "locked by another handle") {
		return fmt.Errorf("the bbolt file is locked — stop the server, then import: %w", err)
	}
	if err != nil {
		return fmt.Errorf("building the gatehouse app: %w", err)
	}
	defer cleanup()
	src, err := betterauth.OpenPostgres(ctx, from)
	if err != nil {
		return err
	}
	defer src.Close()
	out := cmd.OutOrStdout()
	rep, err := betterauth.Import(ctx, src, e, betterauth.Options{Secret: secret, Merge: merge, Skip: skip, Progress: cmd.ErrOrStderr()})
	if len(rep.Tables) > 0 {
		rep.Print(out)
	}
	if err != nil {
		return err
	}
	if secret != "" && !hasSecret(e, secret) {
		for _, t := range rep.Tables {
			if t.Table == "session" && t.Imported > 0 {
				fmt.Fprintln(out, "note: Better Auth's secret is not among the config's secrets: its session cookies will not verify (users sign in again) unless you add it to previous_secrets")
			}
		}
	}
	return nil
}

func hasSecret(e *authcore.Engine, secret string) bool {
	for _, s := range e.Keys().Secrets() {
		if bytes.Equal(s, []byte(secret)) {
			return true
		}
	}
	return false
}

// engineWithConfiguredStorage builds the engine of a gatehouse app config as the server
// would, with the config's own storage and secrets (unlike EngineFromAppConfig), for commands
// that write the server's data offline.
func engineWithConfiguredStorage(raw json.RawMessage) (*authcore.Engine, func(), error) {
	a := new(caddymodule.App)
	if err := json.Unmarshal(raw, a); err != nil {
		return nil, nil, fmt.Errorf("gatehouse app config: %w", err)
	}
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	cleanup := func() {
		a.Cleanup()
		cancel()
	}
	if err := a.Provision(ctx); err != nil {
		cleanup()
		return nil, nil, err
	}
	if a.Engine() == nil {
		cleanup()
		return nil, nil, errors.New("gatehouse: the app built no engine")
	}
	return a.Engine(), cleanup, nil
}

// checkBoltUnlocked fails fast, with a clear message, when the config's bbolt file is held by
// a running server (bbolt's read-only open waits for a shared lock, which the server's
// exclusive lock blocks). A missing file, another backend or an unknown path passes.
func checkBoltUnlocked(raw json.RawMessage) error {
	var app struct {
		Storage struct {
			Backend string `json:"backend"`
			Path    string `json:"path"`
		} `json:"storage"`
	}
	if json.Unmarshal(raw, &app) != nil || app.Storage.Backend != "bbolt" || app.Storage.Path == "" {
		return nil
	}
	if _, err := os.Stat(app.Storage.Path); err != nil {
		return nil
	}
	db, err := bbolt.Open(app.Storage.Path, 0, &bbolt.Options{ReadOnly: true, Timeout: migrate.DefaultLockTimeout})
	if errors.Is(err, berrors.ErrTimeout) {
		return fmt.Errorf("the bbolt file is locked — stop the server, then import: %s is held by another process (waited %s)", app.Storage.Path, migrate.DefaultLockTimeout)
	}
	if err != nil {
		return fmt.Errorf("opening %s: %w", app.Storage.Path, err)
	}
	return db.Close()
}
