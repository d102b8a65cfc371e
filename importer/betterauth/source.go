package betterauth

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Source is a Better Auth database being read.
type Source interface {
	// Tables returns the tables of the database with their column names.
	Tables(ctx context.Context) (map[string][]string, error)
	// Rows calls fn with every row of table, as column name → value (nil for NULL), in a
	// stable order.
	Rows(ctx context.Context, table string, fn func(row map[string]any) error) error
	Close()
}

// Postgres is a Better Auth database on PostgreSQL (Better Auth's Kysely/pg adapter, its
// default for PostgreSQL), read in the given schema ("public" when empty).
type Postgres struct {
	pool   *pgxpool.Pool
	schema string
}

// OpenPostgres connects to a Better Auth PostgreSQL database. It reads only.
func OpenPostgres(ctx context.Context, dsn string) (*Postgres, error) {
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("better-auth source: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("better-auth source: %w", err)
	}
	return &Postgres{pool: pool, schema: "public"}, nil
}

// Close closes the connections.
func (p *Postgres) Close() { p.pool.Close() }

// Tables implements Source.
func (p *Postgres) Tables(ctx context.Context) (map[string][]string, error) {
	rows, err := p.pool.Query(ctx, `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = $1 ORDER BY table_name, ordinal_position`, p.schema)
	if err != nil {
		return nil, fmt.Errorf("better-auth source: listing tables: %w", err)
	}
	out := map[string][]string{}
	var t, c string
	_, err = pgx.ForEachRow(rows, []any{&t, &c}, func() error {
		out[t] = append(out[t], c)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("better-auth source: listing tables: %w", err)
	}
	return out, nil
}

// Rows implements Source. Rows are read in one REPEATABLE READ transaction per table, in
// id order, streamed (not loaded into memory at once).
func (p *Postgres) Rows(ctx context.Context, table string, fn func(map[string]any) error) error {
	tx, err := p.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("better-auth source: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	q := fmt.Sprintf(`SELECT * FROM %s.%s ORDER BY "id"`, quoteIdent(p.schema), quoteIdent(table))
	rows, err := tx.Query(ctx, q)
	if err != nil {
		return fmt.Errorf("better-auth source: reading %s: %w", table, err)
	}
	defer rows.Close()
	fields := rows.FieldDescriptions()
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return fmt.Errorf("better-auth source: reading %s: %w", table, err)
		}
		row := make(map[string]any, len(vals))
		for i, v := range vals {
			row[fields[i].Name] = v
		}
		if err := fn(row); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("better-auth source: reading %s: %w", table, err)
	}
	return nil
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
