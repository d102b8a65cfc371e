package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/gatehouse-auth/gatehouse/storage"
)

// Backend opens transactions on a record store.
type Backend interface {
	// Begin starts a transaction. A writable one excludes every other writer until Commit
	// or Rollback; a read-only one sees one consistent snapshot until Rollback, whatever
	// writers commit meanwhile (View relies on it). Begin refuses a done ctx.
	Begin(ctx context.Context, writable bool) (Txn, error)
}

// Txn is one transaction of a [Backend]. It is used by one goroutine at a time.
//
// A full record holds every stored field, also those m does not know (data of a switched-off
// plugin), and is what Put and Delete take; it belongs to the transaction and must not be
// modified. A projected record (full false) holds only m's fields and belongs to the caller.
type Txn interface {
	// First returns the first record of m in id order that matches mt, or nil.
	First(m *storage.Model, mt *storage.Matcher, full bool) (storage.Record, error)
	// Scan calls fn with every record of m that matches mt, in id order, until fn returns
	// false. fn must not write.
	Scan(m *storage.Model, mt *storage.Matcher, full bool, fn func(storage.Record) bool) error
	// Put stores the full record rec in place of old (nil: insert), maintaining indexes and
	// enforcing the id and unique constraints (a *storage.ConstraintError). A failed Put may
	// have written part of its work: callers undo it with RollbackTo or by not committing.
	Put(m *storage.Model, old, rec storage.Record) error
	// Delete removes the full record rec and its index entries.
	Delete(m *storage.Model, rec storage.Record) error
	// Savepoint marks the current state; RollbackTo undoes every write made after it, and
	// Release says the writes after it will not need undoing by RollbackTo (a backend may
	// then forget what it kept for that). Savepoints do not nest: one operation at a time.
	Savepoint() int
	RollbackTo(mark int) error
	Release(mark int)
	// Commit makes the writes durable. Rollback abandons the transaction; it is a no-op
	// after Commit or a previous Rollback, so it can always be deferred.
	Commit() error
	Rollback()
}

// Adapter implements [storage.Adapter] over a [Backend]. The zero value is not usable; see
// [New].
type Adapter struct {
	b        Backend
	schema   *storage.Schema
	tx       *txState // set on the adapter Tx or View hands to its function
	readOnly bool     // the adapter View hands to its function: writes are ErrReadOnly
}

// txAdapter is the adapter Tx and View hand to their function together with its state, in
// one allocation.
type txAdapter struct {
	Adapter
	st txState
}

func (a *Adapter) bound(t Txn, readOnly bool) *Adapter {
	ta := &txAdapter{st: txState{t: t}}
	ta.Adapter = Adapter{b: a.b, schema: a.schema, tx: &ta.st, readOnly: readOnly}
	return &ta.Adapter
}

type txState struct {
	t      Txn
	done   bool  // Tx returned: the transaction is gone
	broken error // an undo failed: the transaction must not commit
}

// New returns an adapter bound to schema, which the caller has validated.
func New(b Backend, schema *storage.Schema) *Adapter { return &Adapter{b: b, schema: schema} }

// Schema implements storage.Adapter.
func (a *Adapter) Schema() *storage.Schema { return a.schema }

func wrap(op, model string, err error) error { return fmt.Errorf("%s %s: %w", op, model, err) }

var errTxDone = fmt.Errorf("transaction already finished: %w", storage.ErrClosed)

// matchers recycles the Matcher FindOne compiles into: passed to the backend through an
// interface, a fresh one would be a heap allocation on every lookup of the gateway's path.
var matchers = sync.Pool{New: func() any { return new(storage.Matcher) }}

func (a *Adapter) model(ctx context.Context, name string) (*storage.Model, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if a.tx != nil && a.tx.done {
		return nil, errTxDone
	}
	return a.schema.MustModel(name)
}

// reader returns the transaction to read in and whether the caller owns it (must roll it
// back).
func (a *Adapter) reader(ctx context.Context) (Txn, bool, error) {
	if a.tx != nil {
		return a.tx.t, false, nil
	}
	t, err := a.b.Begin(ctx, false)
	return t, true, err
}

// write runs fn as one atomic operation: in its own transaction, or inside the adapter's
// transaction between a savepoint and either success or an undo back to it.
func (a *Adapter) write(ctx context.Context, fn func(Txn) error) error {
	if a.readOnly {
		return storage.ErrReadOnly
	}
	if a.tx != nil {
		st := a.tx
		if st.broken != nil {
			return fmt.Errorf("transaction is unusable after a failed undo: %w", st.broken)
		}
		mark := st.t.Savepoint()
		if err := fn(st.t); err != nil {
			if uerr := st.t.RollbackTo(mark); uerr != nil {
				st.broken = uerr
				return errors.Join(err, fmt.Errorf("undoing the failed operation: %w", uerr))
			}
			return err
		}
		st.t.Release(mark)
		return nil
	}
	t, err := a.b.Begin(ctx, true)
	if err != nil {
		return err
	}
	defer t.Rollback()
	if err := fn(t); err != nil {
		return err
	}
	return t.Commit()
}

// Create implements storage.Adapter.
func (a *Adapter) Create(ctx context.Context, model string, rec storage.Record) (storage.Record, error) {
	m, err := a.model(ctx, model)
	if err != nil {
		return nil, wrap("create", model, err)
	}
	n, err := m.NormalizeCreate(rec)
	if err != nil {
		return nil, wrap("create", model, err)
	}
	if err := a.write(ctx, func(t Txn) error { return t.Put(m, nil, n) }); err != nil {
		return nil, wrap("create", model, err)
	}
	return m.Project(n), nil
}

// FindOne implements storage.Adapter. It is the gateway's hot path (session by token hash,
// user by id), so it runs without closures.
func (a *Adapter) FindOne(ctx context.Context, model string, where storage.Where) (storage.Record, error) {
	m, err := a.model(ctx, model)
	if err != nil {
		return nil, wrap("find one", model, err)
	}
	mt := matchers.Get().(*storage.Matcher)
	defer func() {
		mt.Reset()
		matchers.Put(mt)
	}()
	if err := m.CompileTo(mt, where); err != nil {
		return nil, wrap("find one", model, err)
	}
	t, own, err := a.reader(ctx)
	if err != nil {
		return nil, wrap("find one", model, err)
	}
	if own {
		defer t.Rollback()
	}
	rec, err := t.First(m, mt, false)
	if err != nil {
		return nil, wrap("find one", model, err)
	}
	if rec == nil {
		return nil, wrap("find one", model, storage.ErrNotFound)
	}
	return rec, nil
}

// FindMany implements storage.Adapter.
func (a *Adapter) FindMany(ctx context.Context, model string, q storage.Query) ([]storage.Record, error) {
	m, err := a.model(ctx, model)
	if err != nil {
		return nil, wrap("find many", model, err)
	}
	mt, err := m.Compile(q.Where)
	if err != nil {
		return nil, wrap("find many", model, err)
	}
	if err := m.SortRecords(nil, q.Sort); err != nil { // validates the sort fields
		return nil, wrap("find many", model, err)
	}
	t, own, err := a.reader(ctx)
	if err != nil {
		return nil, wrap("find many", model, err)
	}
	if own {
		defer t.Rollback()
	}
	out := []storage.Record{}
	// Without a sort the scan is already in id order: stop once the window is full.
	stopAt := -1
	if len(q.Sort) == 0 && q.Limit > 0 {
		stopAt = max(q.Offset, 0) + q.Limit
	}
	err = t.Scan(m, mt, false, func(r storage.Record) bool {
		out = append(out, r)
		return len(out) != stopAt
	})
	if err != nil {
		return nil, wrap("find many", model, err)
	}
	if err := m.SortRecords(out, q.Sort); err != nil {
		return nil, wrap("find many", model, err)
	}
	return storage.Window(out, q.Offset, q.Limit), nil
}

// Count implements storage.Adapter.
func (a *Adapter) Count(ctx context.Context, model string, where storage.Where) (int, error) {
	m, err := a.model(ctx, model)
	if err != nil {
		return 0, wrap("count", model, err)
	}
	mt, err := m.Compile(where)
	if err != nil {
		return 0, wrap("count", model, err)
	}
	t, own, err := a.reader(ctx)
	if err != nil {
		return 0, wrap("count", model, err)
	}
	if own {
		defer t.Rollback()
	}
	n := 0
	err = t.Scan(m, mt, true, func(storage.Record) bool { n++; return true })
	if err != nil {
		return 0, wrap("count", model, err)
	}
	return n, nil
}

// Update implements storage.Adapter.
func (a *Adapter) Update(ctx context.Context, model string, where storage.Where, set storage.Record) (storage.Record, error) {
	m, mt, nset, err := a.prepareUpdate(ctx, model, where, set)
	if err != nil {
		return nil, wrap("update", model, err)
	}
	var out storage.Record
	err = a.write(ctx, func(t Txn) error {
		old, err := t.First(m, mt, true)
		if err != nil {
			return err
		}
		if old == nil {
			return storage.ErrNotFound
		}
		rec := old.Clone()
		rec.Merge(nset)
		if err := t.Put(m, old, rec); err != nil {
			return err
		}
		out = m.Project(rec)
		return nil
	})
	if err != nil {
		return nil, wrap("update", model, err)
	}
	return out, nil
}

// UpdateMany implements storage.Adapter.
func (a *Adapter) UpdateMany(ctx context.Context, model string, where storage.Where, set storage.Record) (int, error) {
	m, mt, nset, err := a.prepareUpdate(ctx, model, where, set)
	if err != nil {
		return 0, wrap("update many", model, err)
	}
	n := 0
	err = a.write(ctx, func(t Txn) error {
		olds, err := collect(t, m, mt)
		if err != nil {
			return err
		}
		for _, old := range olds {
			rec := old.Clone()
			rec.Merge(nset)
			if err := t.Put(m, old, rec); err != nil {
				return err
			}
		}
		n = len(olds)
		return nil
	})
	if err != nil {
		return 0, wrap("update many", model, err)
	}
	return n, nil
}

func (a *Adapter) prepareUpdate(ctx context.Context, model string, where storage.Where, set storage.Record) (*storage.Model, *storage.Matcher, storage.Record, error) {
	m, err := a.model(ctx, model)
	if err != nil {
		return nil, nil, nil, err
	}
	mt, err := m.Compile(where)
	if err != nil {
		return nil, nil, nil, err
	}
	nset, err := m.NormalizeUpdate(set)
	if err != nil {
		return nil, nil, nil, err
	}
	return m, mt, nset, nil
}

// collect returns the full records matching mt, so they can be rewritten after the scan.
func collect(t Txn, m *storage.Model, mt *storage.Matcher) ([]storage.Record, error) {
	var out []storage.Record
	err := t.Scan(m, mt, true, func(r storage.Record) bool { out = append(out, r); return true })
	return out, err
}

// Delete implements storage.Adapter.
func (a *Adapter) Delete(ctx context.Context, model string, where storage.Where) error {
	_, err := a.deleteWhere(ctx, "delete", model, where, true)
	return err
}

// ConsumeOne implements storage.Adapter: Delete that returns what it deleted, in one write
// transaction, so two callers cannot both get the record.
func (a *Adapter) ConsumeOne(ctx context.Context, model string, where storage.Where) (storage.Record, error) {
	recs, err := a.deleteWhere(ctx, "consume one", model, where, true)
	if err != nil {
		return nil, err
	}
	return recs[0], nil
}

// DeleteMany implements storage.Adapter.
func (a *Adapter) DeleteMany(ctx context.Context, model string, where storage.Where) (int, error) {
	recs, err := a.deleteWhere(ctx, "delete many", model, where, false)
	return len(recs), err
}

// deleteWhere deletes the first (one) or every match with the on-delete rules and returns
// the deleted records, projected.
func (a *Adapter) deleteWhere(ctx context.Context, op, model string, where storage.Where, one bool) ([]storage.Record, error) {
	m, err := a.model(ctx, model)
	if err != nil {
		return nil, wrap(op, model, err)
	}
	mt, err := m.Compile(where)
	if err != nil {
		return nil, wrap(op, model, err)
	}
	var out []storage.Record
	err = a.write(ctx, func(t Txn) error {
		var roots []storage.Record
		if one {
			r, err := t.First(m, mt, true)
			if err != nil {
				return err
			}
			if r == nil {
				return storage.ErrNotFound
			}
			roots = []storage.Record{r}
		} else if roots, err = collect(t, m, mt); err != nil {
			return err
		}
		if err := a.deleteWithRules(t, m, roots); err != nil {
			return err
		}
		out = make([]storage.Record, len(roots))
		for i, r := range roots {
			out[i] = m.Project(r)
		}
		return nil
	})
	if err != nil {
		return nil, wrap(op, model, err)
	}
	return out, nil
}

type target struct {
	m   *storage.Model
	rec storage.Record
}

type nulling struct {
	target
	fields []string
}

// deleteWithRules deletes roots and applies the schema's on-delete rules transitively. It
// first works out everything the delete implies — records to cascade to, fields to unset —
// and only then writes, so a restrict found anywhere refuses the whole delete. A restrict
// hit on a record that the same delete removes anyway does not count (PostgreSQL's NO
// ACTION, checked at the end of the statement). References from models the bound schema
// does not know (a switched-off plugin) are not followed.
func (a *Adapter) deleteWithRules(t Txn, m *storage.Model, roots []storage.Record) error {
	key := func(m *storage.Model, id string) string { return m.Name + "\x00" + id }
	seen := make(map[string]bool, len(roots))
	dels := make([]target, 0, len(roots))
	for _, r := range roots {
		seen[key(m, r.ID())] = true
		dels = append(dels, target{m, r})
	}
	var (
		nulls     = map[string]*nulling{}
		nullOrder []string
		restricts []nulling // the referencing record and field
	)
	for i := 0; i < len(dels); i++ { // dels grows as cascades are found
		d := dels[i]
		for _, ref := range a.schema.ReferencesTo(d.m.Name) {
			mt, err := ref.Model.Compile(storage.Eq(ref.Field.Name, d.rec.ID()))
			if err != nil {
				return err
			}
			err = t.Scan(ref.Model, mt, true, func(x storage.Record) bool {
				k := key(ref.Model, x.ID())
				if seen[k] {
					return true
				}
				switch ref.Field.References.OnDelete {
				case storage.Restrict:
					restricts = append(restricts, nulling{target{ref.Model, x}, []string{ref.Field.Name}})
				case storage.SetNull:
					n := nulls[k]
					if n == nil {
						n = &nulling{target: target{ref.Model, x}}
						nulls[k] = n
						nullOrder = append(nullOrder, k)
					}
					n.fields = append(n.fields, ref.Field.Name)
				default:
					seen[k] = true
					dels = append(dels, target{ref.Model, x})
				}
				return true
			})
			if err != nil {
				return err
			}
		}
	}
	for _, r := range restricts {
		if !seen[key(r.m, r.rec.ID())] {
			return &storage.ConstraintError{Model: r.m.Name, Fields: r.fields, Err: storage.ErrRestricted}
		}
	}
	for _, k := range nullOrder {
		if seen[k] {
			continue
		}
		n := nulls[k]
		rec := n.rec.Clone()
		for _, f := range n.fields {
			delete(rec, f)
		}
		if err := t.Put(n.m, n.rec, rec); err != nil {
			return err
		}
	}
	for _, d := range dels {
		if err := t.Delete(d.m, d.rec); err != nil {
			return err
		}
	}
	return nil
}

// IncrementOne implements storage.Adapter.
func (a *Adapter) IncrementOne(ctx context.Context, model string, where storage.Where, field string, delta int64, set storage.Record) (storage.Record, error) {
	m, mt, nset, err := a.prepareUpdate(ctx, model, where, set)
	if err != nil {
		return nil, wrap("increment one", model, err)
	}
	f, ok := m.Field(field)
	_, alsoSet := nset[field]
	switch {
	case !ok:
		err = fmt.Errorf("%w: %s.%s", storage.ErrUnknownField, model, field)
	case f.Type != storage.TypeNumber:
		err = fmt.Errorf("%w: cannot increment %s field %s.%s", storage.ErrInvalidValue, f.Type, model, field)
	case alsoSet:
		err = fmt.Errorf("%w: %s.%s is both incremented and set", storage.ErrInvalidValue, model, field)
	}
	if err != nil {
		return nil, wrap("increment one", model, err)
	}
	var out storage.Record
	err = a.write(ctx, func(t Txn) error {
		old, err := t.First(m, mt, true)
		if err != nil {
			return err
		}
		if old == nil {
			return storage.ErrNotFound
		}
		var n int64
		switch v := old[field].(type) {
		case nil:
		case int64:
			n = v
		default:
			return fmt.Errorf("%w: %s.%s holds a %T", storage.ErrInvalidValue, model, field, v)
		}
		if (delta > 0 && n > math.MaxInt64-delta) || (delta < 0 && n < math.MinInt64-delta) {
			return fmt.Errorf("%w: %s.%s would overflow", storage.ErrInvalidValue, model, field)
		}
		rec := old.Clone()
		rec[field] = n + delta
		rec.Merge(nset)
		if err := t.Put(m, old, rec); err != nil {
			return err
		}
		out = m.Project(rec)
		return nil
	})
	if err != nil {
		return nil, wrap("increment one", model, err)
	}
	return out, nil
}

// Tx implements storage.Adapter. A panic in fn rolls back (the deferred Rollback) and then
// continues unwinding.
func (a *Adapter) Tx(ctx context.Context, fn func(tx storage.Adapter) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("transaction: %w", err)
	}
	if a.tx != nil { // nested: join the running transaction
		if a.tx.done {
			return fmt.Errorf("transaction: %w", errTxDone)
		}
		if a.readOnly {
			return fmt.Errorf("transaction: %w", storage.ErrReadOnly)
		}
		return fn(a)
	}
	t, err := a.b.Begin(ctx, true)
	if err != nil {
		return fmt.Errorf("transaction: %w", err)
	}
	ta := a.bound(t, false)
	st := ta.tx
	defer func() {
		st.done = true
		t.Rollback()
	}()
	if err := fn(ta); err != nil {
		return err
	}
	st.done = true
	if st.broken != nil {
		return fmt.Errorf("transaction not committed: %w", st.broken)
	}
	if err := t.Commit(); err != nil {
		return fmt.Errorf("transaction commit: %w", err)
	}
	return nil
}

// View implements storage.Adapter: fn gets an adapter bound to one read-only transaction of
// the backend (a consistent snapshot), or, called on a transaction's adapter, a read-only
// adapter of that transaction. A panic in fn ends the transaction (the deferred Rollback)
// and continues unwinding.
func (a *Adapter) View(ctx context.Context, fn func(tx storage.Adapter) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("view: %w", err)
	}
	if a.tx != nil { // nested: read inside the running transaction
		if a.tx.done {
			return fmt.Errorf("view: %w", errTxDone)
		}
		if a.readOnly {
			return fn(a)
		}
		va := a.bound(a.tx.t, true) // the running transaction, read-only, dead after fn
		defer func() { va.tx.done = true }()
		return fn(va)
	}
	t, err := a.b.Begin(ctx, false)
	if err != nil {
		return fmt.Errorf("view: %w", err)
	}
	va := a.bound(t, true)
	defer func() {
		va.tx.done = true
		t.Rollback()
	}()
	return fn(va)
}

// CheckUnique returns a *storage.ConstraintError when a record of m other than rec holds
// rec's values in every field of set. An unset value (or one stored under another type)
// never collides. Backends without an index for a unique set use it; it scans.
func CheckUnique(t Txn, m *storage.Model, set []string, rec storage.Record) error {
	clauses := make([]storage.Where, 0, len(set)+1)
	for _, name := range set {
		f, ok := m.Field(name)
		v := rec[name]
		if !ok || v == nil || !f.Type.Holds(v) {
			return nil
		}
		clauses = append(clauses, storage.Eq(name, v))
	}
	clauses = append(clauses, storage.Ne("id", rec.ID()))
	mt, err := m.Compile(storage.And(clauses...))
	if err != nil {
		return err
	}
	other, err := t.First(m, mt, true)
	if err != nil {
		return err
	}
	if other != nil {
		return &storage.ConstraintError{Model: m.Name, Fields: slices.Clone(set), Err: storage.ErrDuplicate}
	}
	return nil
}
