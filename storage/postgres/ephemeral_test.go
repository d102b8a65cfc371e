package postgres_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/authcore/ratelimit"
	"github.com/gatehouse-auth/gatehouse/storage"
	"github.com/gatehouse-auth/gatehouse/storage/postgres"
	"github.com/gatehouse-auth/gatehouse/storage/postgres/pgtest"
)

func persistence(t *testing.T, st *postgres.Store, table string) string {
	t.Helper()
	var p string
	if err := st.Pool().QueryRow(t.Context(), "SELECT relpersistence::text FROM pg_class WHERE oid = $1::regclass", `"`+table+`"`).Scan(&p); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestEphemeralUnlogged: the rate limiter's model is an UNLOGGED table (relpersistence
// 'u') and the others are logged ('p'); flipping a model's Ephemeral flag migrates the
// existing table both ways, keeping its records, as a new recorded migration.
func TestEphemeralUnlogged(t *testing.T) {
	dsn := pgtest.DSN(t)
	st := openStore(t, dsn)
	rl := ratelimit.Model("rateLimit")
	if !rl.Ephemeral {
		t.Fatal("ratelimit.Model is not ephemeral")
	}
	a, err := st.Bind(t.Context(), schemaOf(t, userModel(), rl))
	if err != nil {
		t.Fatal(err)
	}
	if p := persistence(t, st, "rateLimit"); p != "u" {
		t.Errorf("rateLimit relpersistence %q, want u (unlogged)", p)
	}
	if p := persistence(t, st, "user"); p != "p" {
		t.Errorf("user relpersistence %q, want p (logged)", p)
	}
	if _, err := a.Create(t.Context(), "rateLimit", storage.Record{"id": "k", "key": "k", "count": 3, "lastRequest": 1}); err != nil {
		t.Fatal(err)
	}
	n := migrations(t, st)

	for i, step := range []struct {
		ephemeral bool
		want      string
	}{{false, "p"}, {true, "u"}} {
		m := ratelimit.Model("rateLimit")
		m.Ephemeral = step.ephemeral
		a, err := openStore(t, dsn).Bind(t.Context(), schemaOf(t, userModel(), m))
		if err != nil {
			t.Fatalf("step %d: bind: %v", i, err)
		}
		if p := persistence(t, st, "rateLimit"); p != step.want {
			t.Errorf("step %d (ephemeral %v): relpersistence %q, want %q", i, step.ephemeral, p, step.want)
		}
		if got := migrations(t, st); got != n+i+1 {
			t.Errorf("step %d: %d migrations recorded, want %d (the flag is part of the fingerprint)", i, got, n+i+1)
		}
		rec, err := a.FindOne(t.Context(), "rateLimit", storage.ByID("k"))
		if err != nil || rec.Int("count") != 3 {
			t.Errorf("step %d: the counter after the migration: %v, %v", i, rec, err)
		}
	}
	// The statements applied are recorded with the migration.
	var stmts string
	if err := st.Pool().QueryRow(t.Context(), "SELECT statements FROM gatehouse_schema ORDER BY version DESC LIMIT 1").Scan(&stmts); err != nil {
		t.Fatal(err)
	}
	if want := `ALTER TABLE "rateLimit" SET UNLOGGED;`; !slices.Contains(strings.Split(stmts, "\n"), want) {
		t.Errorf("last migration's statements lack %q:\n%s", want, stmts)
	}
	// Plan shows the flag.
	plan, err := postgres.Plan(schemaOf(t, rl))
	if err != nil {
		t.Fatal(err)
	}
	if len(plan) == 0 || !strings.HasPrefix(plan[0], `CREATE UNLOGGED TABLE IF NOT EXISTS "rateLimit" `) {
		t.Errorf("Plan does not create rateLimit unlogged: %q", plan)
	}
}
