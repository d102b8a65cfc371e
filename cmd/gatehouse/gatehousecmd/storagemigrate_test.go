package gatehousecmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	"github.com/gatehouse-auth/gatehouse/storage"
	"github.com/gatehouse-auth/gatehouse/storage/bolt"
	"github.com/gatehouse-auth/gatehouse/storage/migrate"
	"github.com/gatehouse-auth/gatehouse/storage/postgres"
	"github.com/gatehouse-auth/gatehouse/storage/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// storageMigrateCmd runs `gatehouse storage migrate` in process with these flags.
func storageMigrateCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := &cobra.Command{Use: storageMigrateCommand}
	caddycmd.Commands()[storageMigrateCommand].CobraFunc(root)
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	root.SilenceUsage, root.SilenceErrors = true, true
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

const migrateCaddyfile = `{
	admin off
	gatehouse {
		base_url https://auth.example.com
		secret {env.GATEHOUSE_MIGRATE_TEST_UNSET}
		storage bbolt /nonexistent/never-opened.db
		organization
	}
}

https://auth.example.com {
	gatehouse
}
`

// seedBolt writes users, accounts, sessions and organizations into a new bbolt file bound
// to the config's schema and returns the records written per model.
func seedBolt(t *testing.T, path string, schema *storage.Schema, users int) map[string][]storage.Record {
	t.Helper()
	st, err := bolt.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a, err := st.Bind(context.Background(), schema)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)
	out := map[string][]storage.Record{}
	create := func(model string, r storage.Record) {
		got, err := a.Create(context.Background(), model, r)
		if err != nil {
			t.Fatalf("seeding %s: %v", model, err)
		}
		out[model] = append(out[model], got)
	}
	for i := range users {
		uid := fmt.Sprintf("u%03d", i)
		create("user", storage.Record{"id": uid, "name": "User " + uid, "email": uid + "@example.com", "emailVerified": i%2 == 0, "createdAt": now, "updatedAt": now})
		create("account", storage.Record{"id": "a" + uid, "accountId": uid, "providerId": "credential", "userId": uid, "password": "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", "createdAt": now, "updatedAt": now})
		create("session", storage.Record{"id": "s" + uid, "token": "sha256-of-" + uid, "userId": uid, "expiresAt": now.Add(time.Hour), "createdAt": now, "updatedAt": now, "ipAddress": "\x00odd\xffbytes"})
	}
	if _, ok := schema.Model("organization"); ok {
		create("organization", storage.Record{"id": "o1", "name": "Acme", "slug": "acme", "createdAt": now})
		create("member", storage.Record{"id": "m1", "organizationId": "o1", "userId": "u000", "role": "owner", "createdAt": now})
	}
	return out
}

func TestStorageMigrateBoltToPostgres(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(cfg, []byte(migrateCaddyfile), 0o600); err != nil {
		t.Fatal(err)
	}
	schema, err := migrationSchema(cfg, "caddyfile")
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(dir, "gatehouse.db")
	seeded := seedBolt(t, src, schema, 7)
	before, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dsn := pgtest.DSN(t)

	// Without the config, the organization models are outside the core schema: refused.
	_, err = storageMigrateCmd(t, "--from", "bbolt:"+src, "--to", "postgres:"+dsn)
	if err == nil || !strings.Contains(err.Error(), "member, organization") {
		t.Fatalf("core schema with organization records: err = %v", err)
	}

	// While a server holds the file: the lock message, quickly.
	held, err := bolt.Open(src, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = storageMigrateCmd(t, "--from", "bbolt:"+src, "--to", "postgres:"+dsn, "--config", cfg, "--adapter", "caddyfile", "--lock-timeout", "200ms")
	held.Close()
	if !errors.Is(err, migrate.ErrBoltLocked) || !strings.Contains(err.Error(), "the bbolt file is locked — stop the server") {
		t.Fatalf("locked source: err = %v", err)
	}

	out, err := storageMigrateCmd(t, "--from", "bbolt:"+src, "--to", "postgres:"+dsn, "--config", cfg, "--adapter", "caddyfile", "--batch-size", "3")
	if err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	for _, want := range []string{"user ", "session ", "account ", "organization ", "member ", "verified: every model"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "MISMATCH") {
		t.Errorf("mismatch reported:\n%s", out)
	}
	after, _ := os.ReadFile(src)
	if !bytes.Equal(before, after) {
		t.Error("the source file changed")
	}

	// Every record arrived unchanged (hidden fields, odd bytes and dates included).
	pg, err := postgres.Open(context.Background(), dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	a, err := pg.Bind(context.Background(), schema)
	if err != nil {
		t.Fatal(err)
	}
	for model, recs := range seeded {
		for _, want := range recs {
			got, err := a.FindOne(context.Background(), model, storage.ByID(want.ID()))
			if err != nil {
				t.Fatalf("%s %s: %v", model, want.ID(), err)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s %s:\n got %v\nwant %v", model, want.ID(), got, want)
			}
		}
	}

	// A second run is refused; --resume skips what is there and verifies.
	_, err = storageMigrateCmd(t, "--from", "bbolt:"+src, "--to", "postgres:"+dsn, "--config", cfg, "--adapter", "caddyfile")
	if !errors.Is(err, migrate.ErrNotEmpty) {
		t.Fatalf("second run: err = %v", err)
	}
	if err := a.Delete(context.Background(), "session", storage.ByID("su003")); err != nil {
		t.Fatal(err)
	}
	out, err = storageMigrateCmd(t, "--from", "bbolt:"+src, "--to", "postgres:"+dsn, "--config", cfg, "--adapter", "caddyfile", "--resume")
	if err != nil {
		t.Fatalf("resume: %v\n%s", err, out)
	}
	if !strings.Contains(out, "session                           7          1          6            7  ok") {
		t.Errorf("resume output:\n%s", out)
	}

	// A destination with more records than the source fails the verification.
	if _, err := a.Create(context.Background(), "organization", storage.Record{"id": "extra", "name": "X", "slug": "x", "createdAt": time.Now()}); err != nil {
		t.Fatal(err)
	}
	out, err = storageMigrateCmd(t, "--from", "bbolt:"+src, "--to", "postgres:"+dsn, "--config", cfg, "--adapter", "caddyfile", "--resume")
	if !errors.Is(err, migrate.ErrCountMismatch) || !strings.Contains(out, "MISMATCH") {
		t.Fatalf("extra destination record: err = %v\n%s", err, out)
	}
}

// TestStorageMigratePostgresToBolt: the other direction, from the PostgreSQL database a
// first migration filled, into a new bbolt file; a PostgreSQL source with models outside the
// schema is refused as a bbolt one is.
func TestStorageMigratePostgresToBolt(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(cfg, []byte(migrateCaddyfile), 0o600); err != nil {
		t.Fatal(err)
	}
	schema, err := migrationSchema(cfg, "caddyfile")
	if err != nil {
		t.Fatal(err)
	}
	first := filepath.Join(dir, "first.db")
	seeded := seedBolt(t, first, schema, 4)
	dsn := pgtest.DSN(t)
	if out, err := storageMigrateCmd(t, "--from", "bbolt:"+first, "--to", "postgres:"+dsn, "--config", cfg, "--adapter", "caddyfile"); err != nil {
		t.Fatalf("to postgres: %v\n%s", err, out)
	}
	second := filepath.Join(dir, "second.db")
	if _, err := storageMigrateCmd(t, "--from", "postgres:"+dsn, "--to", "bbolt:"+second); err == nil || !strings.Contains(err.Error(), "member, organization") {
		t.Fatalf("postgres source, core schema: %v", err)
	}
	out, err := storageMigrateCmd(t, "--from", "postgres:"+dsn, "--to", "bbolt:"+second, "--config", cfg, "--adapter", "caddyfile")
	if err != nil {
		t.Fatalf("to bbolt: %v\n%s", err, out)
	}
	st, err := bolt.Open(second, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a, err := st.Bind(context.Background(), schema)
	if err != nil {
		t.Fatal(err)
	}
	for model, recs := range seeded {
		for _, want := range recs {
			got, err := a.FindOne(context.Background(), model, storage.ByID(want.ID()))
			if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s %s: got %v (%v), want %v", model, want.ID(), got, err, want)
			}
		}
	}
}

func TestStorageMigrateFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--to", "postgres:x"},
		{"--from", "mysql:x", "--to", "postgres:x"},
		{"--from", "bbolt:/nonexistent/x.db", "--to", "postgres:x"},
	} {
		if _, err := storageMigrateCmd(t, args...); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}

func TestRouteStorageMigrate(t *testing.T) {
	got := routeStorageMigrate([]string{"gatehouse", "storage", "migrate", "--from", "x"})
	if strings.Join(got, " ") != "gatehouse storage-migrate --from x" {
		t.Errorf("routed to %v", got)
	}
	for _, keep := range [][]string{{"gatehouse", "storage", "export"}, {"gatehouse", "storage"}, {"gatehouse"}} {
		if got := routeStorageMigrate(keep); strings.Join(got, " ") != strings.Join(keep, " ") {
			t.Errorf("%v routed to %v", keep, got)
		}
	}
}
