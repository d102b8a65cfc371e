package pgtest_test

import (
	"testing"

	"github.com/gatehouse-auth/gatehouse/storage/postgres/pgtest"
	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestFreshDatabases proves the server runs and every DSN is its own empty database.
func TestFreshDatabases(t *testing.T) {
	a, b := pgtest.DSN(t), pgtest.DSN(t)
	if a == b {
		t.Fatalf("two DSN calls gave the same database %q", a)
	}
	ca, err := pgx.Connect(t.Context(), a)
	if err != nil {
		t.Fatal(err)
	}
	defer ca.Close(t.Context())
	if _, err := ca.Exec(t.Context(), "CREATE TABLE only_in_a (x int)"); err != nil {
		t.Fatal(err)
	}
	cb, err := pgx.Connect(t.Context(), b)
	if err != nil {
		t.Fatal(err)
	}
	defer cb.Close(t.Context())
	var n int
	if err := cb.QueryRow(t.Context(), "SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_a'").Scan(&n); err != nil || n != 0 {
		t.Fatalf("database b sees a's table: %d, %v", n, err)
	}
	var v string
	if err := ca.QueryRow(t.Context(), "SHOW server_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	t.Logf("PostgreSQL %s, socket in %s", v, pgtest.SocketDir())
}

// TestServerStopStart: a private server goes down (its clients' queries fail) and comes
// back on the same data and address (the data written before is there).
func TestServerStopStart(t *testing.T) {
	srv := pgtest.NewServer(t)
	dsn := srv.DSN(t)
	c, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(t.Context(), "CREATE TABLE kept (x int); INSERT INTO kept VALUES (42)"); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	if _, err := c.Exec(t.Context(), "SELECT 1"); err == nil {
		t.Fatal("a query succeeded on a stopped server")
	}
	if _, err := pgx.Connect(t.Context(), dsn); err == nil {
		t.Fatal("connected to a stopped server")
	}
	srv.Start(t)
	c2, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatalf("after restart: %v", err)
	}
	defer c2.Close(t.Context())
	var x int
	if err := c2.QueryRow(t.Context(), "SELECT x FROM kept").Scan(&x); err != nil || x != 42 {
		t.Fatalf("after restart: %d, %v", x, err)
	}
}
