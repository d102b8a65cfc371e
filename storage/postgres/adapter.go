package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/gatehouse-auth/gatehouse/storage"
)

// querier is what the pool and a transaction have in common.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// adapter is bound to a schema; with tx set it is a transaction's (Tx) or a snapshot's
// (View, readOnly) adapter, dead once done is set.
type adapter struct {
	st       *Store
	b        *binding
	tx       pgx.Tx
	readOnly bool
	done     *atomic.Bool
}

var _ storage.Adapter = (*adapter)(nil)

func (a *adapter) Schema() *storage.Schema { return a.b.schema }

// check refuses work on a finished transaction, a closed store or a cancelled context,
// before the connection is touched (pgx closes a connection whose query is cancelled).
func (a *adapter) check(ctx context.Context) error {
	if a.done.Load() {
		return fmt.Errorf("postgres: %w: the transaction's adapter is used after it ended", storage.ErrClosed)
	}
	if a.st.closed.Load() {
		return fmt.Errorf("postgres: %w", storage.ErrClosed)
	}
	return ctx.Err()
}

func (a *adapter) checkWrite(ctx context.Context) error {
	if err := a.check(ctx); err != nil {
		return err
	}
	if a.readOnly {
		return storage.ErrReadOnly
	}
	return nil
}

func (a *adapter) table(model string) (*table, error) {
	t, ok := a.b.tables[model]
	if !ok {
		return nil, fmt.Errorf("%w: %q", storage.ErrUnknownModel, model)
	}
	return t, nil
}

func (a *adapter) q() querier {
	if a.tx != nil {
		return a.tx
	}
	return a.st.pool
}

// write runs one write operation atomically. In a transaction it runs in a savepoint, so a
// failure (a duplicate, a restricted delete) leaves nothing behind and the transaction
// carries on. Outside, a single statement runs on the pool, and one of several statements
// (multi) in a transaction of its own; either is retried on a serialization failure or a
// deadlock, since nothing of it was kept.
func (a *adapter) write(ctx context.Context, multi bool, fn func(q querier) error) error {
	if a.tx != nil {
		sp, err := a.tx.Begin(ctx)
		if err != nil {
			return err
		}
		if err := fn(sp); err != nil {
			_ = sp.Rollback(context.WithoutCancel(ctx))
			return err
		}
		return sp.Commit(ctx)
	}
	for attempt := 1; ; attempt++ {
		var err error
		if multi {
			err = pgx.BeginFunc(ctx, a.st.pool, func(tx pgx.Tx) error { return fn(tx) })
		} else {
			err = fn(a.st.pool)
		}
		if !retryable(err) || attempt >= a.st.attempts {
			return err
		}
		if berr := backoff(ctx, attempt); berr != nil {
			return err
		}
	}
}

// mapErr turns PostgreSQL errors into the storage sentinels.
func (a *adapter) mapErr(t *table, err error) error {
	if err == nil {
		return nil
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		return fmt.Errorf("postgres: %w", err)
	}
	switch pe.Code {
	case "23505":
		if c, ok := a.b.constraints[pe.ConstraintName]; ok {
			return &storage.ConstraintError{Model: c.model, Fields: slices.Clone(c.fields), Err: storage.ErrDuplicate}
		}
		// An index this schema does not declare (created by another binding).
		return &storage.ConstraintError{Model: t.model.Name, Fields: []string{pe.ConstraintName}, Err: storage.ErrDuplicate}
	case "22003", "22008", "22021", "54000", "22P05":
		// Out of range (a counter past int64, a date PostgreSQL cannot hold), bad encoding,
		// or a value too large for an index (btree keys are limited to about 2.7 kB).
		return fmt.Errorf("%w: %s: %s", storage.ErrInvalidValue, t.model.Name, pe.Message)
	case "25006":
		return storage.ErrReadOnly
	}
	return fmt.Errorf("postgres: %s: %w", t.model.Name, err)
}

// Create inserts one row.
func (a *adapter) Create(ctx context.Context, model string, rec storage.Record) (storage.Record, error) {
	if err := a.checkWrite(ctx); err != nil {
		return nil, err
	}
	t, err := a.table(model)
	if err != nil {
		return nil, err
	}
	rec, err = t.model.NormalizeCreate(rec)
	if err != nil {
		return nil, err
	}
	var b builder
	b.WriteString("INSERT INTO " + t.ident + " (")
	var vals []string
	for i := range t.cols {
		c := &t.cols[i]
		v, ok := rec[c.field.Name]
		if !ok {
			continue
		}
		if len(vals) > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c.ident)
		vals = append(vals, b.argString(encode(v), c.sqlType))
	}
	b.WriteString(") VALUES (")
	for i, v := range vals {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(v)
	}
	b.WriteByte(')')
	err = a.write(ctx, false, func(q querier) error {
		_, err := q.Exec(ctx, b.String(), b.args...)
		return err
	})
	if err != nil {
		return nil, a.mapErr(t, err)
	}
	return rec, nil
}

// selectFrom builds SELECT <columns> FROM t WHERE w.
func (t *table) selectFrom(b *builder, what string, w storage.Where) error {
	b.WriteString("SELECT " + what + " FROM " + t.ident + " WHERE ")
	return t.where(b, w)
}

func (a *adapter) FindOne(ctx context.Context, model string, w storage.Where) (storage.Record, error) {
	if err := a.check(ctx); err != nil {
		return nil, err
	}
	t, err := a.table(model)
	if err != nil {
		return nil, err
	}
	var b builder
	if err := t.selectFrom(&b, t.sel, w); err != nil {
		return nil, err
	}
	b.WriteString(" ORDER BY id LIMIT 1")
	return a.one(ctx, t, a.q(), &b)
}

// one runs a statement returning at most one row of the select list.
func (a *adapter) one(ctx context.Context, t *table, q querier, b *builder) (storage.Record, error) {
	s := t.scanner()
	if err := q.QueryRow(ctx, b.String(), b.args...).Scan(s.dest...); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, fmt.Errorf("%s: %w", t.model.Name, storage.ErrNotFound)
		}
		return nil, a.mapErr(t, err)
	}
	return s.record(), nil
}

func (a *adapter) FindMany(ctx context.Context, model string, q storage.Query) ([]storage.Record, error) {
	if err := a.check(ctx); err != nil {
		return nil, err
	}
	t, err := a.table(model)
	if err != nil {
		return nil, err
	}
	var b builder
	if err := t.selectFrom(&b, t.sel, q.Where); err != nil {
		return nil, err
	}
	if err := t.orderBy(&b, q.Sort); err != nil {
		return nil, err
	}
	if q.Limit > 0 {
		b.WriteString(" LIMIT ")
		b.arg(int64(q.Limit), "bigint")
	}
	if q.Offset > 0 {
		b.WriteString(" OFFSET ")
		b.arg(int64(q.Offset), "bigint")
	}
	rows, err := a.q().Query(ctx, b.String(), b.args...)
	if err != nil {
		return nil, a.mapErr(t, err)
	}
	defer rows.Close()
	out := []storage.Record{}
	s := t.scanner()
	for rows.Next() {
		if err := rows.Scan(s.dest...); err != nil {
			return nil, a.mapErr(t, err)
		}
		out = append(out, s.record())
	}
	if err := rows.Err(); err != nil {
		return nil, a.mapErr(t, err)
	}
	return out, nil
}

func (a *adapter) Count(ctx context.Context, model string, w storage.Where) (int, error) {
	if err := a.check(ctx); err != nil {
		return 0, err
	}
	t, err := a.table(model)
	if err != nil {
		return 0, err
	}
	var b builder
	if err := t.selectFrom(&b, "count(*)", w); err != nil {
		return 0, err
	}
	var n int64
	if err := a.q().QueryRow(ctx, b.String(), b.args...).Scan(&n); err != nil {
		return 0, a.mapErr(t, err)
	}
	return int(n), nil
}

// setList writes the SET list of an update.
func (t *table) setList(b *builder, set storage.Record) {
	first := true
	for i := range t.cols {
		c := &t.cols[i]
		v, ok := set[c.field.Name]
		if !ok {
			continue
		}
		if !first {
			b.WriteString(", ")
		}
		first = false
		b.WriteString(c.ident + " = ")
		if v == nil {
			b.WriteString("NULL")
		} else {
			b.arg(encode(v), c.sqlType)
		}
		t.unsetStale(b, c.field.Name)
	}
}

// unsetStale clears the columns of the field's earlier types.
func (t *table) unsetStale(b *builder, field string) {
	for _, s := range t.stale[field] {
		b.WriteString(", " + s + " = NULL")
	}
}

// firstID writes the subquery that picks and locks the first matching row in id order.
// FOR UPDATE makes concurrent writers of the same row queue; when the row changed meanwhile
// PostgreSQL re-checks the filter on the new version and moves on to the next match, so a
// bound in where ("attempts lt 5") holds under concurrency.
func (t *table) firstID(b *builder, w storage.Where) error {
	b.WriteString("id = (SELECT id FROM " + t.ident + " WHERE ")
	if err := t.where(b, w); err != nil {
		return err
	}
	b.WriteString(" ORDER BY id LIMIT 1 FOR UPDATE)")
	return nil
}

func (a *adapter) Update(ctx context.Context, model string, w storage.Where, set storage.Record) (storage.Record, error) {
	if err := a.checkWrite(ctx); err != nil {
		return nil, err
	}
	t, err := a.table(model)
	if err != nil {
		return nil, err
	}
	set, err = t.model.NormalizeUpdate(set)
	if err != nil {
		return nil, err
	}
	if len(set) == 0 {
		return a.FindOne(ctx, model, w)
	}
	var b builder
	b.WriteString("UPDATE " + t.ident + " SET ")
	t.setList(&b, set)
	b.WriteString(" WHERE ")
	if err := t.firstID(&b, w); err != nil {
		return nil, err
	}
	b.WriteString(" RETURNING " + t.sel)
	var out storage.Record
	err = a.write(ctx, false, func(q querier) error {
		out, err = a.one(ctx, t, q, &b)
		return err
	})
	return out, err
}

func (a *adapter) UpdateMany(ctx context.Context, model string, w storage.Where, set storage.Record) (int, error) {
	if err := a.checkWrite(ctx); err != nil {
		return 0, err
	}
	t, err := a.table(model)
	if err != nil {
		return 0, err
	}
	set, err = t.model.NormalizeUpdate(set)
	if err != nil {
		return 0, err
	}
	if len(set) == 0 {
		return a.Count(ctx, model, w)
	}
	var b builder
	b.WriteString("UPDATE " + t.ident + " SET ")
	t.setList(&b, set)
	b.WriteString(" WHERE ")
	if err := t.where(&b, w); err != nil {
		return 0, err
	}
	var n int64
	err = a.write(ctx, false, func(q querier) error {
		tag, err := q.Exec(ctx, b.String(), b.args...)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, a.mapErr(t, err)
	}
	return int(n), nil
}

func (a *adapter) IncrementOne(ctx context.Context, model string, w storage.Where, field string, delta int64, set storage.Record) (storage.Record, error) {
	if err := a.checkWrite(ctx); err != nil {
		return nil, err
	}
	t, err := a.table(model)
	if err != nil {
		return nil, err
	}
	f, ok := t.model.Field(field)
	if !ok {
		return nil, fmt.Errorf("%w: %s.%s", storage.ErrUnknownField, model, field)
	}
	if f.Type != storage.TypeNumber {
		return nil, fmt.Errorf("%w: increment of %s field %s.%s", storage.ErrInvalidValue, f.Type, model, field)
	}
	set, err = t.model.NormalizeUpdate(set)
	if err != nil {
		return nil, err
	}
	if _, ok := set[field]; ok {
		return nil, fmt.Errorf("%w: %s.%s is both incremented and set", storage.ErrInvalidValue, model, field)
	}
	c := t.byName[field]
	var b builder
	b.WriteString("UPDATE " + t.ident + " SET " + c.ident + " = coalesce(" + c.ident + ", 0) + ")
	b.arg(delta, "bigint")
	t.unsetStale(&b, field)
	if len(set) > 0 {
		b.WriteString(", ")
		t.setList(&b, set)
	}
	b.WriteString(" WHERE ")
	if err := t.firstID(&b, w); err != nil {
		return nil, err
	}
	b.WriteString(" RETURNING " + t.sel)
	var out storage.Record
	err = a.write(ctx, false, func(q querier) error {
		out, err = a.one(ctx, t, q, &b)
		return err
	})
	return out, err
}

func (a *adapter) Delete(ctx context.Context, model string, w storage.Where) error {
	_, err := a.deleteOne(ctx, model, w)
	return err
}

// ConsumeOne deletes and returns the first match in one statement (DELETE … WHERE id =
// (SELECT … FOR UPDATE) RETURNING): concurrent consumers queue on the row lock, and once the
// winner has deleted it the others find no row — exactly one gets it.
func (a *adapter) ConsumeOne(ctx context.Context, model string, w storage.Where) (storage.Record, error) {
	return a.deleteOne(ctx, model, w)
}

func (a *adapter) deleteOne(ctx context.Context, model string, w storage.Where) (storage.Record, error) {
	if err := a.checkWrite(ctx); err != nil {
		return nil, err
	}
	t, err := a.table(model)
	if err != nil {
		return nil, err
	}
	var b builder
	b.WriteString("DELETE FROM " + t.ident + " WHERE ")
	if err := t.firstID(&b, w); err != nil {
		return nil, err
	}
	b.WriteString(" RETURNING " + t.sel)
	refs := a.b.schema.ReferencesTo(model)
	var out storage.Record
	err = a.write(ctx, len(refs) > 0, func(q querier) error {
		out, err = a.one(ctx, t, q, &b)
		if err != nil || len(refs) == 0 {
			return err
		}
		return a.cascade(ctx, q, t, [][]byte{[]byte(out.ID())})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (a *adapter) DeleteMany(ctx context.Context, model string, w storage.Where) (int, error) {
	if err := a.checkWrite(ctx); err != nil {
		return 0, err
	}
	t, err := a.table(model)
	if err != nil {
		return 0, err
	}
	var b builder
	b.WriteString("DELETE FROM " + t.ident + " WHERE ")
	if err := t.where(&b, w); err != nil {
		return 0, err
	}
	b.WriteString(" RETURNING id")
	refs := a.b.schema.ReferencesTo(model)
	var n int
	err = a.write(ctx, len(refs) > 0, func(q querier) error {
		ids, err := collectIDs(ctx, q, b.String(), b.args...)
		if err != nil {
			return a.mapErr(t, err)
		}
		n = len(ids)
		if len(refs) == 0 || len(ids) == 0 {
			return nil
		}
		return a.cascade(ctx, q, t, ids)
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

func collectIDs(ctx context.Context, q querier, sql string, args ...any) ([][]byte, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[[]byte])
}

// cascade applies the on-delete rules after rows of t were deleted: referencing rows with
// cascade go too (recursively; a cycle ends because deleted rows are not found again), then
// — once every cascade is known, like PostgreSQL's NO ACTION — a restrict reference still
// pointing at a deleted row refuses the whole delete, and set-null references are unset.
// References are schema-level (a reference may name a record that does not exist yet), so
// they are applied here, in the delete's transaction, rather than by foreign keys.
func (a *adapter) cascade(ctx context.Context, q querier, t *table, ids [][]byte) error {
	type batch struct {
		t   *table
		ids [][]byte
	}
	deleted := []batch{{t, ids}}
	for i := 0; i < len(deleted); i++ {
		d := deleted[i]
		for _, ref := range a.b.schema.ReferencesTo(d.t.model.Name) {
			if ref.Field.References.OnDelete != storage.Cascade {
				continue
			}
			rt := a.b.tables[ref.Model.Name]
			got, err := collectIDs(ctx, q, "DELETE FROM "+rt.ident+" WHERE "+rt.byName[ref.Field.Name].ident+" = ANY($1::bytea[]) RETURNING id", d.ids)
			if err != nil {
				return a.mapErr(rt, err)
			}
			if len(got) > 0 {
				deleted = append(deleted, batch{rt, got})
			}
		}
	}
	for _, d := range deleted {
		for _, ref := range a.b.schema.ReferencesTo(d.t.model.Name) {
			rt := a.b.tables[ref.Model.Name]
			col := rt.byName[ref.Field.Name].ident
			switch ref.Field.References.OnDelete {
			case storage.Restrict:
				var found bool
				err := q.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+rt.ident+" WHERE "+col+" = ANY($1::bytea[]))", d.ids).Scan(&found)
				if err != nil {
					return a.mapErr(rt, err)
				}
				if found {
					return &storage.ConstraintError{Model: ref.Model.Name, Fields: []string{ref.Field.Name}, Err: storage.ErrRestricted}
				}
			case storage.SetNull:
				if _, err := q.Exec(ctx, "UPDATE "+rt.ident+" SET "+col+" = NULL WHERE "+col+" = ANY($1::bytea[])", d.ids); err != nil {
					return a.mapErr(rt, err)
				}
			}
		}
	}
	return nil
}

// Tx runs fn in one SERIALIZABLE transaction. When PostgreSQL aborts it for a conflict with
// a concurrent transaction (serialization failure, deadlock) — reported by an operation or
// by the commit — the transaction is rolled back and fn runs again, up to TxAttempts times:
// fn must therefore only change state through tx (its results are those of the run that
// committed). Inside a Tx, Tx joins the running transaction.
func (a *adapter) Tx(ctx context.Context, fn func(tx storage.Adapter) error) error {
	if err := a.checkWrite(ctx); err != nil {
		return err
	}
	if a.tx != nil {
		return fn(a)
	}
	for attempt := 1; ; attempt++ {
		err := a.runTx(ctx, txOptions, false, fn)
		if !retryable(err) || attempt >= a.st.attempts {
			return err
		}
		if berr := backoff(ctx, attempt); berr != nil {
			return err
		}
	}
}

// View runs fn in one REPEATABLE READ, READ ONLY transaction: one snapshot for every read.
// Inside a Tx it runs on the Tx's transaction (and sees its writes), read-only.
func (a *adapter) View(ctx context.Context, fn func(tx storage.Adapter) error) error {
	if err := a.check(ctx); err != nil {
		return err
	}
	if a.tx != nil {
		v := &adapter{st: a.st, b: a.b, tx: a.tx, readOnly: true, done: new(atomic.Bool)}
		defer v.done.Store(true)
		return fn(v)
	}
	return a.runTx(ctx, viewOptions, true, fn)
}

func (a *adapter) runTx(ctx context.Context, opts pgx.TxOptions, readOnly bool, fn func(tx storage.Adapter) error) (err error) {
	tx, err := a.st.pool.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("postgres: begin: %w", err)
	}
	t := &adapter{st: a.st, b: a.b, tx: tx, readOnly: readOnly, done: new(atomic.Bool)}
	finished := false
	defer func() {
		t.done.Store(true)
		if !finished {
			_ = tx.Rollback(context.WithoutCancel(ctx)) // fn panicked: roll back, let the panic go on
		}
	}()
	err = fn(t)
	finished = true
	if err != nil || readOnly {
		if rerr := tx.Rollback(context.WithoutCancel(ctx)); rerr != nil && err == nil {
			return fmt.Errorf("postgres: ending a view: %w", rerr)
		}
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: commit: %w", err)
	}
	return nil
}
