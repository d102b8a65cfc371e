package caddymodule

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
	"github.com/gatehouse-auth/gatehouse/storage/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// provisionPG provisions a postgres storage module and releases it at cleanup (once).
func provisionPG(t *testing.T, p *PostgresStorage) *PostgresStorage {
	t.Helper()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := p.Provision(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPostgresStoragePool: configs over the same DSN and options share one pool, as bbolt's
// handle is shared across reloads; the pool closes when the last config is cleaned up; keys
// never contain the DSN (it may hold a password); the DSN may come from the environment.
func TestPostgresStoragePool(t *testing.T) {
	dsn := pgtest.DSN(t)
	t.Setenv("GH_TEST_PG_DSN", dsn)
	ctx := context.Background()
	old := provisionPG(t, &PostgresStorage{DSN: "{env.GH_TEST_PG_DSN}"})
	next := provisionPG(t, &PostgresStorage{DSN: dsn}) // a reload: provisioned before old's cleanup
	if old.Store() != next.Store() || old.Key() != next.Key() {
		t.Fatal("two configs over one DSN opened two pools")
	}
	if strings.Contains(old.Key(), dsn) || !strings.HasPrefix(old.Key(), "postgres:") {
		t.Fatalf("key %q", old.Key())
	}
	if !old.Shared() {
		t.Fatal("postgres storage is not shared")
	}
	tuned := provisionPG(t, &PostgresStorage{DSN: dsn, MaxConns: 3, StatementTimeout: caddy.Duration(5 * time.Second)})
	if tuned.Store() == old.Store() || tuned.Key() != old.Key() {
		t.Fatal("changed pool options must open a new pool over the same database (same key)")
	}
	if err := old.Cleanup(); err != nil {
		t.Fatal(err)
	}
	schema := storage.NewSchema()
	if _, err := next.Store().Bind(ctx, schema); err != nil {
		t.Fatalf("pool closed while a config still uses it: %v", err)
	}
	if err := next.Cleanup(); err != nil {
		t.Fatal(err)
	}
	if _, err := next.Store().Bind(ctx, schema); !errors.Is(err, storage.ErrClosed) {
		t.Fatalf("pool still open after the last config released it: %v", err)
	}
	if _, err := tuned.Store().Bind(ctx, schema); err != nil {
		t.Fatalf("the other pool closed too: %v", err)
	}
	tuned.Cleanup()
}

func TestPostgresStorageErrors(t *testing.T) {
	t.Setenv("GH_TEST_PG_EMPTY", "")
	p := &PostgresStorage{DSN: "{env.GH_TEST_PG_EMPTY}"}
	if err := p.Provision(testCtx(t)); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("empty DSN: %v", err)
	}
	if err := p.Cleanup(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		p    PostgresStorage
		want string
	}{
		{PostgresStorage{}, "DSN is required"},
		{PostgresStorage{DSN: "x", MaxConns: 2, MinConns: 3}, "min_conns 3 is more than max_conns 2"},
		{PostgresStorage{DSN: "x", TxAttempts: -1}, "tx_attempts"},
		{PostgresStorage{DSN: "x", ConnectTimeout: -1}, "connect_timeout"},
	} {
		if err := tt.p.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: %v, want %q", tt.p, err, tt.want)
		}
	}
	// A server that does not answer fails provisioning with the pool's error, not a hang.
	p = &PostgresStorage{DSN: "postgres://nobody@127.0.0.1:1/none?connect_timeout=2"}
	if err := p.Provision(testCtx(t)); err == nil || !strings.Contains(err.Error(), "storage postgres") {
		t.Fatalf("unreachable server: %v", err)
	}
}

// TestPostgresAppIsClusterCorrect: an app on postgres builds its engine WithSharedStore
// (database rate limits, 5 s session cache); rate_limit storage memory still wins; bbolt
// stays single-node.
func TestPostgresAppIsClusterCorrect(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_DATA_HOME", filepath.Join(dir, "data"))
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	t.Setenv("GH_TEST_PG_DSN", pgtest.DSN(t))
	provision := func(extra string) *authcore.Engine {
		t.Helper()
		app, err := parseGlobalText(t, "gatehouse {\n base_url http://localhost:8080\n secret 0123456789abcdef0123456789abcdef-test\n"+extra+"\n}")
		if err != nil {
			t.Fatal(err)
		}
		if err := app.Provision(testCtx(t)); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { app.Stop(); app.Cleanup() })
		return app.Engine()
	}
	e := provision(" storage postgres {env.GH_TEST_PG_DSN}")
	cfg := e.Config()
	if !e.SharedStore() || cfg.RateLimit.Storage != authcore.RateLimitDatabase || cfg.Session.CacheTTL != authcore.SharedCacheTTL {
		t.Fatalf("postgres app: shared %v, rate_limit storage %q, cache_ttl %v", e.SharedStore(), cfg.RateLimit.Storage, cfg.Session.CacheTTL)
	}
	e = provision(" storage postgres {env.GH_TEST_PG_DSN}\n rate_limit {\n storage memory\n }\n session {\n cache_ttl 2s\n }")
	if cfg := e.Config(); cfg.RateLimit.Storage != authcore.RateLimitMemory || cfg.Session.CacheTTL != 2*time.Second {
		t.Fatalf("explicit settings lost: %q %v", cfg.RateLimit.Storage, cfg.Session.CacheTTL)
	}
	e = provision(" storage bbolt " + filepath.Join(dir, "g.db"))
	if cfg := e.Config(); e.SharedStore() || cfg.RateLimit.Storage != authcore.RateLimitMemory || cfg.Session.CacheTTL != 10*time.Second {
		t.Fatalf("bbolt app changed: %v %q %v", e.SharedStore(), cfg.RateLimit.Storage, cfg.Session.CacheTTL)
	}
}
