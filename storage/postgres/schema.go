package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/gatehouse-auth/gatehouse/storage"
)

// schemaTable records every migration applied: which schema (its fingerprint) and the
// statements that were run for it.
const schemaTable = "gatehouse_schema"

// migrationLock is the pg_advisory_xact_lock key that serialises migrations of nodes
// starting at once ("gatehous" in ASCII).
const migrationLock int64 = 0x6761746568_6f7573

// column is one field's column. Its name carries the field's type ("email:string"), so a
// field whose type changes gets a new column and the values stored under the old type stay
// in theirs: invisible, but back when the type is.
type column struct {
	field   *storage.Field
	ident   string // quoted
	sqlType string // bytea, bigint, boolean, timestamptz, text, bytea[]
}

// table is a model's table.
type table struct {
	model  *storage.Model
	ident  string // quoted
	cols   []column
	byName map[string]*column
	sel    string // the select list: every column of the bound schema, id first
	// stale lists, per field, the columns of the field's other types that exist: writing
	// the field unsets them, as writing a field overwrites it whatever its old type.
	stale map[string][]string
}

// constraint names the fields of a unique index, to turn a violation into a ConstraintError.
type constraint struct {
	model  string
	fields []string
}

// binding is the SQL view of one schema.
type binding struct {
	schema      *storage.Schema
	indexes     map[string]bool // the names of every index the schema declares
	tables      map[string]*table
	constraints map[string]constraint
	ddl         []ddlStmt
	fingerprint string
}

type ddlStmt struct {
	sql string
	con *constraint // set for a unique index: what a duplicate means
}

func sqlType(t storage.FieldType) string {
	switch t {
	case storage.TypeString:
		return "bytea"
	case storage.TypeNumber:
		return "bigint"
	case storage.TypeBoolean:
		return "boolean"
	case storage.TypeDate:
		return "timestamptz"
	case storage.TypeJSON:
		return "text"
	case storage.TypeStringList:
		return "bytea[]"
	}
	return ""
}

func columnName(f *storage.Field) string {
	if f.Name == "id" {
		return "id"
	}
	return f.Name + ":" + string(f.Type)
}

// checkName refuses identifiers PostgreSQL would truncate (63 bytes) or cannot hold.
func checkName(kind, name string) error {
	switch {
	case name == "" || len(name) > 63:
		return fmt.Errorf("postgres: %s name %q must be 1 to 63 bytes", kind, name)
	case strings.IndexByte(name, 0) >= 0 || !utf8.ValidString(name):
		return fmt.Errorf("postgres: %s name %q must be valid UTF-8 without NUL", kind, name)
	}
	return nil
}

func quote(name string) string { return pgx.Identifier{name}.Sanitize() }

// indexName is deterministic, readable and within 63 bytes: a prefix from the model and
// fields, and a hash of the exact columns.
func indexName(kind, model string, cols []string) string {
	h := sha256.Sum256([]byte(kind + "\x00" + model + "\x00" + strings.Join(cols, "\x00")))
	prefix := model + "_" + strings.Join(cols, "_")
	prefix = strings.NewReplacer(":", "", "[", "", "]", "").Replace(prefix)
	for len(prefix) > 40 {
		_, n := utf8.DecodeLastRuneInString(prefix)
		prefix = prefix[:len(prefix)-n]
	}
	return prefix + "_" + hex.EncodeToString(h[:5]) + "_" + kind
}

func newBinding(s *storage.Schema) (*binding, error) {
	b := &binding{schema: s, tables: map[string]*table{}, constraints: map[string]constraint{}, indexes: map[string]bool{}}
	for _, m := range s.Models() {
		if err := checkName("model", m.Name); err != nil {
			return nil, err
		}
		if m.Name == schemaTable {
			return nil, fmt.Errorf("postgres: model name %q is reserved", m.Name)
		}
		t := &table{model: m, ident: quote(m.Name), byName: map[string]*column{}}
		idField, _ := m.Field("id")
		fields := []*storage.Field{idField}
		for i := range m.Fields {
			fields = append(fields, &m.Fields[i])
		}
		var sel []string
		for _, f := range fields {
			name := columnName(f)
			if err := checkName("column", name); err != nil {
				return nil, err
			}
			t.cols = append(t.cols, column{field: f, ident: quote(name), sqlType: sqlType(f.Type)})
			sel = append(sel, quote(name))
		}
		for i := range t.cols {
			t.byName[t.cols[i].field.Name] = &t.cols[i]
		}
		t.sel = strings.Join(sel, ", ")
		b.tables[m.Name] = t

		pk := indexName("pk", m.Name, nil)
		b.constraints[pk] = constraint{model: m.Name, fields: []string{"id"}}
		create := "CREATE TABLE"
		if m.Ephemeral {
			create = "CREATE UNLOGGED TABLE" // the flag is part of the fingerprint through this
		}
		b.ddl = append(b.ddl, ddlStmt{sql: fmt.Sprintf("%s IF NOT EXISTS %s (id bytea NOT NULL, CONSTRAINT %s PRIMARY KEY (id))", create, t.ident, quote(pk))})
		for _, c := range t.cols[1:] {
			b.ddl = append(b.ddl, ddlStmt{sql: fmt.Sprintf("ALTER TABLE %s ADD COLUMN IF NOT EXISTS %s %s", t.ident, c.ident, c.sqlType)})
		}
		unique := map[string]bool{}
		for _, set := range m.UniqueSets() {
			var cols, idents []string
			for _, name := range set {
				c := t.byName[name]
				cols = append(cols, columnName(c.field))
				idents = append(idents, c.ident)
			}
			if len(set) == 1 {
				unique[set[0]] = true
			}
			name := indexName("u", m.Name, cols)
			con := constraint{model: m.Name, fields: append([]string(nil), set...)}
			b.constraints[name] = con
			b.indexes[name] = true
			b.ddl = append(b.ddl, ddlStmt{sql: fmt.Sprintf("CREATE UNIQUE INDEX IF NOT EXISTS %s ON %s (%s)", quote(name), t.ident, strings.Join(idents, ", ")), con: &con})
		}
		for _, f := range m.IndexedFields() {
			if unique[f.Name] {
				continue
			}
			c := t.byName[f.Name]
			name := indexName("i", m.Name, []string{columnName(f)})
			b.indexes[name] = true
			b.ddl = append(b.ddl, ddlStmt{sql: fmt.Sprintf("CREATE INDEX IF NOT EXISTS %s ON %s (%s)", quote(name), t.ident, c.ident)})
		}
	}
	h := sha256.New()
	for _, d := range b.ddl {
		h.Write([]byte(d.sql))
		h.Write([]byte{0})
	}
	b.fingerprint = hex.EncodeToString(h.Sum(nil))
	return b, nil
}

// migrate brings the database to the binding's schema. Every statement is idempotent
// (IF NOT EXISTS), all of them run in one transaction (PostgreSQL's DDL is transactional: a
// failure changes nothing) under an advisory lock, so nodes starting together apply it once
// and the others find it recorded. A schema already applied last costs one query.
func (s *Store) migrate(ctx context.Context, b *binding) error {
	var last string
	err := s.pool.QueryRow(ctx, "SELECT fingerprint FROM "+schemaTable+" ORDER BY version DESC LIMIT 1").Scan(&last)
	if err == nil && last == b.fingerprint {
		return s.loadStale(ctx, b)
	}
	var pe *pgconn.PgError
	if err != nil && !errors.Is(err, pgx.ErrNoRows) && !(errors.As(err, &pe) && pe.Code == "42P01") {
		return fmt.Errorf("postgres: reading %s: %w", schemaTable, err)
	}
	if err := s.apply(ctx, b); err != nil {
		return err
	}
	return s.loadStale(ctx, b)
}

// ourIndex matches the names indexName gives.
var ourIndex = regexp.MustCompile(`_[0-9a-f]{10}_[ui]$`)

// staleIndexes returns the DROP INDEX statements for indexes Gatehouse created that the
// schema no longer declares although it knows every column they cover: a unique constraint
// or an index a plugin relaxed. Indexes over columns the schema does not know (a plugin
// switched off, a field's earlier type) are kept: nothing of this schema writes those
// columns, and a node still running with the plugin relies on its unique constraints.
func (b *binding) staleIndexes(ctx context.Context, tx pgx.Tx) ([]string, error) {
	var out []string
	for _, m := range b.schema.Models() {
		t := b.tables[m.Name]
		current := map[string]bool{}
		for _, c := range t.cols {
			current[columnName(c.field)] = true
		}
		rows, err := tx.Query(ctx, `SELECT i.relname::text, array_agg(a.attname::text)
			FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
			JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = ANY(x.indkey)
			WHERE x.indrelid = $1::regclass AND NOT x.indisprimary GROUP BY i.relname`, t.ident)
		if err != nil {
			return nil, fmt.Errorf("postgres: reading the indexes of %s: %w", m.Name, err)
		}
		type index struct {
			name string
			cols []string
		}
		idx, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (index, error) {
			var ix index
			err := r.Scan(&ix.name, &ix.cols)
			return ix, err
		})
		if err != nil {
			return nil, fmt.Errorf("postgres: reading the indexes of %s: %w", m.Name, err)
		}
		for _, ix := range idx {
			if b.indexes[ix.name] || !ourIndex.MatchString(ix.name) {
				continue
			}
			known := true
			for _, c := range ix.cols {
				known = known && current[c]
			}
			if known {
				out = append(out, "DROP INDEX "+quote(ix.name))
			}
		}
	}
	return out, nil
}

// persistence returns the ALTER TABLE statements that make existing tables match their
// models' Ephemeral flag (CREATE … IF NOT EXISTS leaves an existing table as it is): SET
// UNLOGGED for a model that became ephemeral, SET LOGGED for one that no longer is. Both
// rewrite the table (SET LOGGED also writes it to the WAL), under the migration's lock.
func (b *binding) persistence(ctx context.Context, tx pgx.Tx) ([]string, error) {
	var out []string
	for _, m := range b.schema.Models() {
		t := b.tables[m.Name]
		var p string
		if err := tx.QueryRow(ctx, "SELECT relpersistence::text FROM pg_class WHERE oid = $1::regclass", t.ident).Scan(&p); err != nil {
			return nil, fmt.Errorf("postgres: reading the persistence of %s: %w", m.Name, err)
		}
		switch {
		case m.Ephemeral && p == "p":
			out = append(out, "ALTER TABLE "+t.ident+" SET UNLOGGED")
		case !m.Ephemeral && p == "u":
			out = append(out, "ALTER TABLE "+t.ident+" SET LOGGED")
		}
	}
	return out, nil
}

// loadStale finds the columns of earlier types of the schema's fields.
func (s *Store) loadStale(ctx context.Context, b *binding) error {
	for _, t := range b.tables {
		rows, err := s.pool.Query(ctx, "SELECT attname::text FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped", t.ident)
		if err != nil {
			return fmt.Errorf("postgres: reading the columns of %s: %w", t.model.Name, err)
		}
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return fmt.Errorf("postgres: reading the columns of %s: %w", t.model.Name, err)
		}
		t.stale = map[string][]string{}
		for _, name := range names {
			i := strings.LastIndexByte(name, ':')
			if i < 0 {
				continue
			}
			field, typ := name[:i], storage.FieldType(name[i+1:])
			if c, ok := t.byName[field]; ok && field != "id" && c.field.Type != typ && sqlType(typ) != "" {
				t.stale[field] = append(t.stale[field], quote(name))
			}
		}
	}
	return nil
}

func (s *Store) apply(ctx context.Context, b *binding) error {
	var last string
	var pe *pgconn.PgError
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		stmts := []string{
			"SET LOCAL statement_timeout = 0",
			fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", migrationLock),
			"CREATE TABLE IF NOT EXISTS " + schemaTable + " (version bigint PRIMARY KEY, fingerprint text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(), statements text NOT NULL)",
		}
		for _, q := range stmts {
			if _, err := tx.Exec(ctx, q); err != nil {
				return fmt.Errorf("postgres: migration: %w", err)
			}
		}
		err := tx.QueryRow(ctx, "SELECT fingerprint FROM "+schemaTable+" ORDER BY version DESC LIMIT 1").Scan(&last)
		if err == nil && last == b.fingerprint {
			return nil // another node applied it meanwhile
		}
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("postgres: reading %s: %w", schemaTable, err)
		}
		var applied []string
		for _, d := range b.ddl {
			if _, err := tx.Exec(ctx, d.sql); err != nil {
				if d.con != nil && errors.As(err, &pe) && pe.Code == "23505" {
					return fmt.Errorf("postgres: binding the schema: stored records break a unique constraint (%s): %w",
						pe.Detail, &storage.ConstraintError{Model: d.con.model, Fields: d.con.fields, Err: storage.ErrDuplicate})
				}
				return fmt.Errorf("postgres: migration %q: %w", d.sql, err)
			}
			applied = append(applied, d.sql+";")
		}
		drops, err := b.staleIndexes(ctx, tx)
		if err != nil {
			return err
		}
		alters, err := b.persistence(ctx, tx)
		if err != nil {
			return err
		}
		for _, d := range append(drops, alters...) {
			if _, err := tx.Exec(ctx, d); err != nil {
				return fmt.Errorf("postgres: migration %q: %w", d, err)
			}
			applied = append(applied, d+";")
		}
		_, err = tx.Exec(ctx, "INSERT INTO "+schemaTable+" (version, fingerprint, statements) SELECT coalesce(max(version), 0) + 1, $1, $2 FROM "+schemaTable,
			b.fingerprint, strings.Join(applied, "\n"))
		if err != nil {
			return fmt.Errorf("postgres: recording the migration: %w", err)
		}
		return nil
	})
}

// Plan returns the statements Bind runs for s on a database that lacks some of it (all are
// IF NOT EXISTS; index drops and the SET LOGGED / SET UNLOGGED of an existing table whose
// model's Ephemeral flag changed are decided against the database at bind time and are not
// listed). Operators of large databases can run the CREATE INDEX statements beforehand with
// CONCURRENTLY added, under the same names, so that the bind finds them and does not lock
// the table while they build.
func Plan(s *storage.Schema) ([]string, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	b, err := newBinding(s)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(b.ddl))
	for i, d := range b.ddl {
		out[i] = d.sql
	}
	return out, nil
}
