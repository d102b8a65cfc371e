package memory

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/gatehouse-auth/gatehouse/storage"
	"github.com/gatehouse-auth/gatehouse/storage/internal/engine"
)

// Store holds the records of every model. Adapters bound to different schemas may share one
// Store, the way a bbolt file outlives config reloads.
type Store struct {
	mu     sync.RWMutex
	tables map[string]*table // by model name; never removed, so data survives a model's absence
}

// table is one model's records. Stored records are never modified in place (writes replace
// them), so a reader may hold one after the lock is released.
type table struct {
	recs map[string]storage.Record // id → full record
	ids  []string                  // sorted, for id order
}

// NewStore returns an empty store.
func NewStore() *Store { return &Store{tables: map[string]*table{}} }

// New returns an adapter over a new, empty store.
func New(schema *storage.Schema) (storage.Adapter, error) {
	return NewStore().Bind(context.Background(), schema)
}

// Bind implements storage.Store: it returns an adapter bound to schema, after validating
// the schema, creating what is missing, and refusing a unique constraint that the stored
// records already break. Adapters bound earlier keep working.
func (s *Store) Bind(ctx context.Context, schema *storage.Schema) (storage.Adapter, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memory: binding schema: %w", err)
	}
	if err := schema.Validate(); err != nil {
		return nil, fmt.Errorf("memory: binding schema: %w", err)
	}
	t := s.begin(true)
	defer t.Rollback()
	for _, m := range schema.Models() {
		tb := t.table(m, true)
		for _, set := range m.UniqueSets() {
			for _, id := range tb.ids {
				if err := engine.CheckUnique(t, m, set, tb.recs[id]); err != nil {
					return nil, fmt.Errorf("memory: binding schema: existing records break unique %s%v: %w", m.Name, set, err)
				}
			}
		}
	}
	if err := t.Commit(); err != nil {
		return nil, err
	}
	return engine.New(backend{s}, schema), nil
}

type backend struct{ s *Store }

func (b backend) Begin(ctx context.Context, writable bool) (engine.Txn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return b.s.begin(writable), nil
}

func (s *Store) begin(writable bool) *txn {
	if writable {
		s.mu.Lock()
	} else {
		s.mu.RLock()
	}
	return &txn{s: s, write: writable}
}

// undo restores one record to what it was before a write (old nil: absent).
type undo struct {
	tb  *table
	id  string
	old storage.Record
}

type txn struct {
	s       *Store
	write   bool
	done    bool
	journal []undo // every write of the transaction, for Rollback and RollbackTo
}

func (t *txn) table(m *storage.Model, create bool) *table {
	tb := t.s.tables[m.Name]
	if tb == nil && create {
		tb = &table{recs: map[string]storage.Record{}}
		t.s.tables[m.Name] = tb
	}
	return tb
}

func (t *txn) First(m *storage.Model, mt *storage.Matcher, full bool) (storage.Record, error) {
	var out storage.Record
	err := t.Scan(m, mt, full, func(r storage.Record) bool { out = r; return false })
	return out, err
}

func (t *txn) Scan(m *storage.Model, mt *storage.Matcher, full bool, fn func(storage.Record) bool) error {
	tb := t.table(m, false)
	if tb == nil {
		return nil
	}
	emit := func(r storage.Record) bool {
		if !mt.Match(r) {
			return true
		}
		if !full {
			r = m.Project(r)
		}
		return fn(r)
	}
	var buf [4]storage.Term
	for _, term := range mt.AppendTerms(buf[:0]) {
		if term.Field.Name == "id" && term.Op == storage.OpEq && term.Value != nil {
			if r := tb.recs[term.Value.(string)]; r != nil {
				emit(r)
			}
			return nil
		}
	}
	for _, id := range tb.ids {
		if !emit(tb.recs[id]) {
			return nil
		}
	}
	return nil
}

func (t *txn) Put(m *storage.Model, old, rec storage.Record) error {
	tb := t.table(m, true)
	id := rec.ID()
	prev := tb.recs[id]
	if old == nil && prev != nil {
		return &storage.ConstraintError{Model: m.Name, Fields: []string{"id"}, Err: storage.ErrDuplicate}
	}
	for _, set := range m.UniqueSets() {
		if err := engine.CheckUnique(t, m, set, rec); err != nil {
			return err
		}
	}
	t.journal = append(t.journal, undo{tb, id, prev})
	tb.set(id, rec)
	return nil
}

func (t *txn) Delete(m *storage.Model, rec storage.Record) error {
	tb := t.table(m, false)
	id := rec.ID()
	if tb == nil || tb.recs[id] == nil {
		return nil
	}
	t.journal = append(t.journal, undo{tb, id, tb.recs[id]})
	tb.remove(id)
	return nil
}

func (t *txn) Savepoint() int { return len(t.journal) }

// Release keeps the journal: Rollback of the whole transaction still needs it.
func (t *txn) Release(int) {}

func (t *txn) RollbackTo(mark int) error {
	for i := len(t.journal) - 1; i >= mark; i-- {
		u := t.journal[i]
		if u.old == nil {
			u.tb.remove(u.id)
		} else {
			u.tb.set(u.id, u.old)
		}
	}
	t.journal = t.journal[:mark]
	return nil
}

func (t *txn) Commit() error {
	if t.done {
		return fmt.Errorf("memory: commit: %w", storage.ErrClosed)
	}
	t.done = true
	t.journal = nil
	t.unlock()
	return nil
}

func (t *txn) Rollback() {
	if t.done {
		return
	}
	t.done = true
	_ = t.RollbackTo(0) // cannot fail in memory
	t.unlock()
}

func (t *txn) unlock() {
	if t.write {
		t.s.mu.Unlock()
	} else {
		t.s.mu.RUnlock()
	}
}

func (tb *table) set(id string, rec storage.Record) {
	if _, ok := tb.recs[id]; !ok {
		i, _ := slices.BinarySearch(tb.ids, id)
		tb.ids = slices.Insert(tb.ids, i, id)
	}
	tb.recs[id] = rec
}

func (tb *table) remove(id string) {
	if _, ok := tb.recs[id]; !ok {
		return
	}
	delete(tb.recs, id)
	if i, found := slices.BinarySearch(tb.ids, id); found {
		tb.ids = slices.Delete(tb.ids, i, i+1)
	}
}

// Interface guards.
var (
	_ storage.Store  = (*Store)(nil)
	_ engine.Backend = backend{}
)
