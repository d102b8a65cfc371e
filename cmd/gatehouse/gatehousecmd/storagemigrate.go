package gatehousecmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	"github.com/gatehouse-auth/gatehouse/storage"
	"github.com/gatehouse-auth/gatehouse/storage/bolt"
	"github.com/gatehouse-auth/gatehouse/storage/migrate"
	"github.com/gatehouse-auth/gatehouse/storage/postgres"
)

// storageMigrateCommand is the name `gatehouse storage migrate` is routed to (see
// routeStorageMigrate): Caddy owns the storage command.
const storageMigrateCommand = "storage-migrate"

func init() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  storageMigrateCommand,
		Usage: "--from <bbolt:path|postgres:dsn> --to <bbolt:path|postgres:dsn> [--config <path> [--adapter <name>]] [--resume] [--batch-size <n>]",
		Short: "Copies Gatehouse's data from one storage backend to another",
		Long: `
Also run as 'gatehouse storage migrate' (Caddy's storage command keeps its
export and import subcommands).

  gatehouse storage migrate --from bbolt:/var/lib/gatehouse/gatehouse.db \
      --to postgres:postgres://gatehouse@db/gatehouse --config Caddyfile

Copies every record of every model, in batches (--batch-size, default 500,
one destination transaction each), from a consistent snapshot of the source,
then counts every model on both sides and prints the table; a difference
exits non-zero. Ids, dates, password hashes, hashed tokens and encrypted
secrets are copied unchanged, so the same secret must be configured for the
new backend.

Models: with --config, those of the config's gatehouse app (core plus its
enabled plugins) — the schema the server will bind. Without --config, the
core models only. A source holding records of a model outside that
schema is refused (pass the config whose plugins own them, or
--skip-unknown-models to leave them behind).

Destination: refused when it already holds records, unless --resume: then
records whose id it already has are skipped, so an interrupted copy can be
run again to completion.

bbolt: a running server holds the file's lock; the source is opened
read-only with a short wait (--lock-timeout, default 2s) and the command
fails saying so: stop the server, or take a consistent snapshot of the
running server with 'gatehouse backup --output <file>' and migrate from
bbolt:<file>. The source file is never written (the command reads
a private temporary copy, made under the read lock, in --tmp-dir).
`,
		CobraFunc: func(cmd *cobra.Command) {
			f := cmd.Flags()
			f.String("from", "", "Source: bbolt:<path> or postgres:<dsn> (required)")
			f.String("to", "", "Destination: bbolt:<path> or postgres:<dsn> (required)")
			f.StringP("config", "c", "", "Configuration whose gatehouse app gives the models to copy")
			f.StringP("adapter", "a", "", "Name of the config adapter")
			f.Bool("resume", false, "Allow a non-empty destination; skip records whose id it has")
			f.Bool("skip-unknown-models", false, "Leave behind source models outside the schema instead of failing")
			f.Int("batch-size", migrate.DefaultBatchSize, "Records per read and per destination transaction")
			f.Duration("lock-timeout", migrate.DefaultLockTimeout, "How long to wait for a bbolt source's lock")
			f.String("tmp-dir", "", "Directory for the temporary copy of a bbolt source (default: the system's)")
			cmd.Args = cobra.NoArgs
			cmd.RunE = runStorageMigrate
		},
	})
}

func runStorageMigrate(cmd *cobra.Command, _ []string) error {
	from, _ := cmd.Flags().GetString("from")
	to, _ := cmd.Flags().GetString("to")
	configFile, _ := cmd.Flags().GetString("config")
	adapter, _ := cmd.Flags().GetString("adapter")
	resume, _ := cmd.Flags().GetBool("resume")
	skipUnknown, _ := cmd.Flags().GetBool("skip-unknown-models")
	batch, _ := cmd.Flags().GetInt("batch-size")
	lockTimeout, _ := cmd.Flags().GetDuration("lock-timeout")
	tmpDir, _ := cmd.Flags().GetString("tmp-dir")
	if from == "" || to == "" {
		return errors.New("--from and --to are required (bbolt:<path> or postgres:<dsn>)")
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	// Check both locations before the (slower, chattier) schema build.
	if _, _, err := splitBackend(from, "--from"); err != nil {
		return err
	}
	if _, _, err := splitBackend(to, "--to"); err != nil {
		return err
	}
	schema, err := migrationSchema(configFile, adapter)
	if err != nil {
		return err
	}
	src, srcModels, closeSrc, err := openSource(ctx, from, tmpDir, lockTimeout)
	if err != nil {
		return err
	}
	defer closeSrc()
	var unknown []string
	for _, m := range srcModels {
		if _, ok := schema.Model(m); !ok {
			unknown = append(unknown, m)
		}
	}
	if len(unknown) > 0 && !skipUnknown {
		return fmt.Errorf("the source holds records of models outside the schema: %s; pass --config with the Caddyfile whose plugins own them, or --skip-unknown-models to leave them behind", strings.Join(unknown, ", "))
	}
	dst, closeDst, err := openDestination(ctx, to, from)
	if err != nil {
		return err
	}
	defer closeDst()
	srcA, err := src.Bind(ctx, schema)
	if err != nil {
		return fmt.Errorf("source: %w", err)
	}
	dstA, err := dst.Bind(ctx, schema)
	if err != nil {
		return fmt.Errorf("destination: %w", err)
	}
	out := cmd.OutOrStdout()
	rep, err := migrate.Copy(ctx, srcA, dstA, migrate.Options{BatchSize: batch, Resume: resume, Progress: cmd.ErrOrStderr()})
	if len(rep.Models) > 0 {
		rep.Print(out)
	}
	if len(unknown) > 0 {
		fmt.Fprintf(out, "not copied (outside the schema): %s\n", strings.Join(unknown, ", "))
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "verified: every model has as many records in the destination as in the source")
	return nil
}

// migrationSchema is the assembled schema of the config's gatehouse app, or the core schema
// (an app with no plugins) without a config.
func migrationSchema(configFile, adapter string) (*storage.Schema, error) {
	raw := json.RawMessage(`{"base_url":"https://gatehouse.invalid"}`)
	if configFile != "" {
		var err error
		if raw, err = gatehouseAppConfig(configFile, adapter); err != nil {
			return nil, err
		}
	}
	e, cleanup, err := EngineFromAppConfig(raw)
	if err != nil {
		return nil, fmt.Errorf("building the gatehouse app's schema: %w", err)
	}
	defer cleanup()
	return e.Schema(), nil
}

// openSource opens a migration source; models lists the models holding records.
func openSource(ctx context.Context, spec, tmpDir string, lockTimeout time.Duration) (st storage.Store, models []string, closeFn func(), err error) {
	kind, loc, err := splitBackend(spec, "--from")
	if err != nil {
		return nil, nil, nil, err
	}
	switch kind {
	case "bbolt":
		s, err := migrate.OpenBoltSource(loc, tmpDir, lockTimeout)
		if err != nil {
			return nil, nil, nil, err
		}
		return s, s.Models, func() { _ = s.Close() }, nil
	default:
		models, err := migrate.PostgresModels(ctx, loc)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("source: %w", err)
		}
		s, err := postgres.Open(ctx, loc, nil)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("source: %w", err)
		}
		return s, models, s.Close, nil
	}
}

func openDestination(ctx context.Context, spec, from string) (storage.Store, func(), error) {
	kind, loc, err := splitBackend(spec, "--to")
	if err != nil {
		return nil, nil, err
	}
	if spec == from {
		return nil, nil, errors.New("--from and --to name the same store")
	}
	switch kind {
	case "bbolt":
		s, err := bolt.Open(loc, &bolt.Options{Timeout: 2 * time.Second})
		if err != nil {
			return nil, nil, fmt.Errorf("destination: %w", err)
		}
		return s, func() { _ = s.Close() }, nil
	default:
		s, err := postgres.Open(ctx, loc, nil)
		if err != nil {
			return nil, nil, fmt.Errorf("destination: %w", err)
		}
		return s, s.Close, nil
	}
}

func splitBackend(spec, flag string) (kind, loc string, err error) {
	kind, loc, ok := strings.Cut(spec, ":")
	if kind == "postgresql" {
		kind = "postgres"
	}
	if !ok || loc == "" || !slices.Contains([]string{"bbolt", "postgres"}, kind) {
		return "", "", fmt.Errorf("%s %q: want bbolt:<path> or postgres:<dsn> (such as postgres:postgres://user@host/db)", flag, spec)
	}
	if kind == "bbolt" {
		if _, err := os.Stat(loc); err != nil && flag == "--from" {
			return "", "", fmt.Errorf("%s: %w", flag, err)
		}
	}
	return kind, loc, nil
}

// routeStorageMigrate sends `gatehouse storage migrate ...` to the storage-migrate command:
// Caddy registers `storage` (export, import) before ours, and a duplicate name panics.
func routeStorageMigrate(args []string) []string {
	if len(args) < 3 || args[1] != "storage" || args[2] != "migrate" {
		return args
	}
	return append([]string{args[0], storageMigrateCommand}, args[3:]...)
}
