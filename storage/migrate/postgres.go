package migrate

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// PostgresModels lists the models that hold at least one record in a Gatehouse PostgreSQL
// database (a table per model in the connection's current schema; the gatehouse_schema
// bookkeeping table excluded), sorted, so a migration can refuse to leave models behind.
func PostgresModels(ctx context.Context, dsn string) ([]string, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> 'gatehouse_schema'`)
	if err != nil {
		return nil, fmt.Errorf("migrate: listing tables: %w", err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("migrate: listing tables: %w", err)
	}
	var out []string
	for _, t := range tables {
		var has bool
		q := `SELECT EXISTS (SELECT 1 FROM "` + strings.ReplaceAll(t, `"`, `""`) + `")`
		if err := conn.QueryRow(ctx, q).Scan(&has); err != nil {
			return nil, fmt.Errorf("migrate: reading %s: %w", t, err)
		}
		if has {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out, nil
}
