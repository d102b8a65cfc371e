package postgres_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/storage"
	"github.com/gatehouse-auth/gatehouse/storage/postgres"
	"github.com/gatehouse-auth/gatehouse/storage/postgres/pgtest"
)

// hostile are values that break naive SQL: quotes, comment and statement separators, LIKE
// wildcards, backslashes, NUL, invalid UTF-8, PostgreSQL's bytea escape syntax.
var hostile = []string{
	`'`, `''`, `"`, `\`, `\'`, `'; DROP TABLE "user"; --`, `" OR 1=1 --`, `%`, `_`, `a%b_c`,
	"nul\x00inside", "\x00", "\xff\xfe\xfd", `\x41`, `$1`, `$$ $tag$`, "line\nbreak\r\n", "é日本\u2028",
}

// TestHostileValues: hostile strings round-trip byte for byte through every string-typed
// place (id, unique, indexed, plain, list, json) and every operator finds exactly them.
func TestHostileValues(t *testing.T) {
	s := schemaOf(t, storage.Model{Name: "thing", Fields: []storage.Field{
		{Name: "u", Type: storage.TypeString, Unique: true},
		{Name: "i", Type: storage.TypeString, Indexed: true},
		{Name: "p", Type: storage.TypeString},
		{Name: "l", Type: storage.TypeStringList},
		{Name: "j", Type: storage.TypeJSON},
	}})
	a, _ := twoNodes(t, s)
	ctx := t.Context()
	for i, v := range hostile {
		id := v + "#id"
		j, _ := json.Marshal(map[string]string{"v": v})
		rec := storage.Record{"id": id, "u": v, "i": v, "p": v + "|" + v, "l": []string{v, "x"}, "j": json.RawMessage(j)}
		got, err := a.Create(ctx, "thing", rec)
		if err != nil {
			t.Fatalf("create %q: %v", v, err)
		}
		want, _ := s.Normalize("thing", rec)
		if stored, err := a.FindOne(ctx, "thing", storage.ByID(id)); err != nil || !reflect.DeepEqual(stored, want) || !reflect.DeepEqual(got, want) {
			t.Errorf("value %d %q: stored %#v, %v; want %#v", i, v, stored, err, want)
		}
		for name, w := range map[string]storage.Where{
			"eq unique": storage.Eq("u", v), "eq indexed": storage.Eq("i", v), "in": storage.In("p", []string{v + "|" + v}),
			"starts": storage.StartsWith("p", v+"|"), "ends": storage.EndsWith("p", "|"+v), "contains": storage.Contains("p", v+"|"),
			"list contains": storage.Contains("l", v), "list eq": storage.Eq("l", []string{v, "x"}), "json": storage.Eq("j", json.RawMessage(j)),
		} {
			recs, err := a.FindMany(ctx, "thing", storage.Query{Where: w})
			if err != nil || len(recs) != 1 || recs[0].ID() != id {
				t.Errorf("%s %q: got %d records, %v", name, v, len(recs), err)
			}
		}
		// A taken hostile value is a duplicate like any other.
		_, err = a.Create(ctx, "thing", storage.Record{"id": "other", "u": v})
		if !errors.Is(err, storage.ErrDuplicate) {
			t.Errorf("duplicate %q: %v", v, err)
		}
	}
	if n, err := a.Count(ctx, "thing", storage.Where{}); err != nil || n != len(hostile) {
		t.Errorf("%d things, %v; want %d (no value was read as SQL)", n, err, len(hostile))
	}
	// LIKE wildcards are literal: "%" starts only with "%".
	if n, _ := a.Count(ctx, "thing", storage.StartsWith("u", "%")); n != 1 {
		t.Errorf("starts with %%: %d records, want 1", n)
	}
	if n, _ := a.Count(ctx, "thing", storage.Contains("u", "_")); n != 2 {
		t.Errorf("contains _: %d records, want 2 (\"_\" and \"a%%b_c\")", n)
	}
}

// TestHugeValues: a megabyte in a plain field round-trips; one in an indexed or unique field
// is a clear ErrInvalidValue (btree keys are limited), and nothing is stored.
func TestHugeValues(t *testing.T) {
	s := schemaOf(t, userModel(storage.Field{Name: "bio", Type: storage.TypeString}, storage.Field{Name: "tags", Type: storage.TypeStringList},
		storage.Field{Name: "born", Type: storage.TypeDate}, storage.Field{Name: "data", Type: storage.TypeJSON}))
	a, _ := twoNodes(t, s)
	ctx := t.Context()
	huge := strings.Repeat("\x00'\"x", 1<<18) // 1 MiB
	rec := storage.Record{"id": "u1", "email": "a@x", "bio": huge, "tags": []string{huge, huge}}
	if _, err := a.Create(ctx, "user", rec); err != nil {
		t.Fatal(err)
	}
	got, err := a.FindOne(ctx, "user", storage.Eq("bio", huge))
	if err != nil || got.String("bio") != huge || len(got.Strings("tags")) != 2 || got.Strings("tags")[1] != huge {
		t.Errorf("huge value did not round-trip: %v", err)
	}
	_, err = a.Create(ctx, "user", storage.Record{"id": "u2", "email": huge})
	if !errors.Is(err, storage.ErrInvalidValue) || !strings.Contains(err.Error(), "user") {
		t.Errorf("huge unique value: got %v, want ErrInvalidValue naming the model", err)
	}
	_, err = a.Update(ctx, "user", storage.ByID("u1"), storage.Record{"email": huge})
	if !errors.Is(err, storage.ErrInvalidValue) {
		t.Errorf("huge unique value by update: %v", err)
	}
	if n, _ := a.Count(ctx, "user", storage.Where{}); n != 1 {
		t.Errorf("%d users after refused writes", n)
	}
	// A date the contract allows but PostgreSQL cannot hold (before 4713 BC), and JSON text
	// that is not UTF-8, are refused with ErrInvalidValue too.
	_, err = a.Create(ctx, "user", storage.Record{"id": "u3", "email": "c@x", "born": time.Date(-5000, 1, 1, 0, 0, 0, 0, time.UTC)})
	if !errors.Is(err, storage.ErrInvalidValue) {
		t.Errorf("date before 4713 BC: %v", err)
	}
	_, err = a.Create(ctx, "user", storage.Record{"id": "u3", "email": "c@x", "data": json.RawMessage("\"\xff\"")})
	if !errors.Is(err, storage.ErrInvalidValue) {
		t.Errorf("json that is not UTF-8: %v", err)
	}
	if n, _ := a.Count(ctx, "user", storage.Where{}); n != 1 {
		t.Errorf("%d users after refused writes", n)
	}
}

// TestHostileNames: model and field names with quotes and spaces are quoted identifiers.
func TestHostileNames(t *testing.T) {
	s := schemaOf(t, storage.Model{Name: `we"ird; DROP`, Fields: []storage.Field{
		{Name: `fi"eld'); --`, Type: storage.TypeString, Unique: true},
		{Name: "at", Type: storage.TypeDate, Indexed: true},
	}})
	a, _ := twoNodes(t, s)
	ctx := t.Context()
	at := time.Date(2024, 1, 2, 3, 4, 5, 6000, time.UTC)
	if _, err := a.Create(ctx, `we"ird; DROP`, storage.Record{"id": "1", `fi"eld'); --`: "v", "at": at}); err != nil {
		t.Fatal(err)
	}
	r, err := a.FindOne(ctx, `we"ird; DROP`, storage.And(storage.Eq(`fi"eld'); --`, "v"), storage.Gte("at", at)))
	if err != nil || r.Time("at") != at {
		t.Errorf("find: %v, %v", r, err)
	}
	_, err = a.Create(ctx, `we"ird; DROP`, storage.Record{"id": "2", `fi"eld'); --`: "v"})
	var ce *storage.ConstraintError
	if !errors.As(err, &ce) || ce.Fields[0] != `fi"eld'); --` {
		t.Errorf("duplicate: %v", err)
	}
	// Names PostgreSQL would truncate are refused at bind.
	long := schemaOf(t, storage.Model{Name: strings.Repeat("m", 64)})
	st := openStore(t, pgtest.DSN(t))
	if _, err := st.Bind(ctx, long); err == nil || !strings.Contains(err.Error(), "63 bytes") {
		t.Errorf("bind of a 64-byte model name: %v", err)
	}
}

// TestDuplicateMapping: every unique violation is a *storage.ConstraintError naming the
// fields: id, single, composite, by create, update, update many, increment, inside a Tx
// (which carries on), and across nodes.
func TestDuplicateMapping(t *testing.T) {
	account := storage.Model{Name: "account", Fields: []storage.Field{
		{Name: "providerId", Type: storage.TypeString, Required: true},
		{Name: "accountId", Type: storage.TypeString, Required: true},
		{Name: "n", Type: storage.TypeNumber},
	}, Unique: [][]string{{"providerId", "accountId"}}}
	a, b := twoNodes(t, schemaOf(t, userModel(storage.Field{Name: "nick", Type: storage.TypeString, Unique: true}), account))
	ctx := t.Context()
	want := func(what string, err error, model string, fields ...string) {
		t.Helper()
		var ce *storage.ConstraintError
		if !errors.Is(err, storage.ErrDuplicate) || !errors.As(err, &ce) || ce.Model != model || !reflect.DeepEqual(ce.Fields, fields) {
			t.Errorf("%s: got %v, want a duplicate of %s%v", what, err, model, fields)
		}
	}
	mustCreate := func(ad storage.Adapter, model string, r storage.Record) {
		t.Helper()
		if _, err := ad.Create(ctx, model, r); err != nil {
			t.Fatal(err)
		}
	}
	mustCreate(a, "user", storage.Record{"id": "u1", "email": "a@x", "nick": "ann"})
	mustCreate(a, "user", storage.Record{"id": "u2", "email": "b@x"})
	mustCreate(a, "account", storage.Record{"id": "a1", "providerId": "g", "accountId": "1"})
	mustCreate(a, "account", storage.Record{"id": "a2", "providerId": "g", "accountId": "2"})

	_, err := b.Create(ctx, "user", storage.Record{"id": "u1", "email": "z@x"})
	want("id on another node", err, "user", "id")
	_, err = b.Create(ctx, "user", storage.Record{"id": "u3", "email": "a@x"})
	want("email", err, "user", "email")
	_, err = b.Update(ctx, "user", storage.ByID("u2"), storage.Record{"nick": "ann"})
	want("update", err, "user", "nick")
	_, err = b.UpdateMany(ctx, "user", storage.Where{}, storage.Record{"email": "same@x"})
	want("update many", err, "user", "email")
	_, err = b.Create(ctx, "account", storage.Record{"id": "a3", "providerId": "g", "accountId": "1"})
	want("composite", err, "account", "providerId", "accountId")
	_, err = b.IncrementOne(ctx, "account", storage.ByID("a2"), "n", 1, storage.Record{"accountId": "1"})
	want("increment with set", err, "account", "providerId", "accountId")
	err = b.Tx(ctx, func(tx storage.Adapter) error {
		_, err := tx.Create(ctx, "user", storage.Record{"id": "u4", "email": "a@x"})
		want("in a tx", err, "user", "email")
		_, err = tx.Create(ctx, "user", storage.Record{"id": "u4", "email": "d@x"})
		return err
	})
	if err != nil {
		t.Fatalf("the tx did not carry on after a duplicate: %v", err)
	}
	if r, err := a.FindOne(ctx, "user", storage.ByID("u4")); err != nil || r.String("email") != "d@x" {
		t.Errorf("u4 after the tx: %v, %v", r, err)
	}
	if r, _ := a.FindOne(ctx, "account", storage.ByID("a2")); r.Has("n") {
		t.Errorf("a refused increment changed the record: %v", r)
	}
}

// TestOptions: pool options and the statement timeout reach pgx and the server.
func TestOptions(t *testing.T) {
	dsn := pgtest.DSN(t)
	st, err := postgres.Open(t.Context(), dsn, &postgres.Options{
		MaxConns: 7, MinConns: 2, MaxConnLifetime: time.Hour, MaxConnIdleTime: time.Minute,
		ConnectTimeout: 3 * time.Second, StatementTimeout: 1500 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg := st.Pool().Config()
	if cfg.MaxConns != 7 || cfg.MinConns != 2 || cfg.MaxConnLifetime != time.Hour || cfg.MaxConnIdleTime != time.Minute || cfg.ConnConfig.ConnectTimeout != 3*time.Second {
		t.Errorf("pool config: %+v", cfg)
	}
	var timeout string
	if err := st.Pool().QueryRow(t.Context(), "SHOW statement_timeout").Scan(&timeout); err != nil || timeout != "1500ms" {
		t.Errorf("statement_timeout: %q, %v", timeout, err)
	}
	if _, err := postgres.Open(t.Context(), dsn, &postgres.Options{MaxConns: 2, MinConns: 3}); err == nil {
		t.Error("min_conns above max_conns was accepted")
	}
	if _, err := postgres.Open(t.Context(), "postgres://nobody@127.0.0.1:1/x?connect_timeout=1", nil); err == nil {
		t.Error("open of an unreachable server succeeded")
	}
	// A closed store's adapters fail with ErrClosed.
	a, err := st.Bind(t.Context(), schemaOf(t, userModel()))
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if _, err := a.FindOne(t.Context(), "user", storage.ByID("x")); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("find on a closed store: %v", err)
	}
}
