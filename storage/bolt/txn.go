package bolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"unsafe"

	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/gatehouse-auth/gatehouse/storage"
	"github.com/gatehouse-auth/gatehouse/storage/internal/engine"
)

type backend struct{ s *Store }

// Begin implements engine.Backend. Writes go through bbolt's Begin(true)/Commit — never
// db.Batch, which may run a function twice.
func (b backend) Begin(ctx context.Context, writable bool) (engine.Txn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s := b.s
	if writable {
		s.mu.RLock()
	}
	if s.closed.Load() {
		if writable {
			s.mu.RUnlock()
		}
		return nil, s.errClosed()
	}
	tx, err := s.db.Begin(writable)
	if err != nil {
		if writable {
			s.mu.RUnlock()
		}
		if errors.Is(err, berrors.ErrDatabaseNotOpen) {
			return nil, fmt.Errorf("bolt %s: %w: %w", s.path, storage.ErrClosed, err)
		}
		return nil, fmt.Errorf("bolt %s: begin: %w", s.path, err)
	}
	var t *txn
	if writable {
		t = new(txn)
	} else {
		t = s.readers.Get().(*txn)
	}
	*t = txn{s: s, tx: tx, cat: s.cat.Load(), write: writable}
	return t, nil
}

type txn struct {
	s          *Store
	tx         *bbolt.Tx
	cat        *catalog
	write      bool
	done       bool
	journaling bool   // set by the first Savepoint: only operations inside Tx need undo
	journal    []undo // writes of the running operation, for RollbackTo
}

// undo restores one bucket key to its value before a write (had false: absent).
type undo struct {
	b        *bbolt.Bucket
	key, old []byte
	had      bool
}

func (t *txn) fail(op string, err error) error {
	return fmt.Errorf("bolt %s: %s: %w", t.s.path, op, err)
}

func (t *txn) put(b *bbolt.Bucket, k, v []byte) error {
	t.remember(b, k)
	if err := b.Put(k, v); err != nil {
		return t.fail("put", err)
	}
	return nil
}

func (t *txn) del(b *bbolt.Bucket, k []byte) error {
	t.remember(b, k)
	if err := b.Delete(k); err != nil {
		return t.fail("delete", err)
	}
	return nil
}

func (t *txn) remember(b *bbolt.Bucket, k []byte) {
	if !t.journaling {
		return
	}
	old := b.Get(k)
	t.journal = append(t.journal, undo{b: b, key: k, old: slices.Clone(old), had: old != nil})
}

func (t *txn) Savepoint() int {
	t.journaling = true
	return len(t.journal)
}

func (t *txn) RollbackTo(mark int) error {
	for i := len(t.journal) - 1; i >= mark; i-- {
		u := t.journal[i]
		var err error
		if u.had {
			err = u.b.Put(u.key, u.old)
		} else {
			err = u.b.Delete(u.key)
		}
		if err != nil {
			return t.fail("undo", err)
		}
	}
	t.journal = t.journal[:mark]
	return nil
}

// Release forgets the operation's undo entries: rolling back the whole transaction is
// bbolt's job, so the journal stays as small as one operation.
func (t *txn) Release(mark int) {
	clear(t.journal[mark:])
	t.journal = t.journal[:mark]
}

func (t *txn) Commit() error {
	if t.done {
		return t.fail("commit", storage.ErrClosed)
	}
	if !t.write {
		t.Rollback()
		return nil
	}
	t.done = true
	defer t.s.mu.RUnlock()
	if err := t.tx.Commit(); err != nil {
		return t.fail("commit", err)
	}
	return nil
}

func (t *txn) Rollback() {
	if t.done {
		return
	}
	t.done = true
	_ = t.tx.Rollback() // nothing of a rolled-back transaction can be lost
	if t.write {
		t.s.mu.RUnlock()
		return
	}
	// Read transactions are recycled: the hot path then allocates no txn. The engine does
	// not touch a transaction after rolling it back.
	s := t.s
	*t = txn{done: true}
	s.readers.Put(t)
}

// records returns the model's record bucket, nil when the model has none in this snapshot.
func (t *txn) records(m *storage.Model) (*modelMeta, *bbolt.Bucket) {
	mm := t.cat.models[m.Name]
	if mm == nil {
		return nil, nil
	}
	return mm, t.tx.Bucket(mm.bucket)
}

// usable returns the bucket of index d when this snapshot has it and it indexes field f
// with f's current type, so a lookup with a value normalized for f finds its entries.
func (t *txn) usable(d *indexDef, f *storage.Field) *bbolt.Bucket {
	if d == nil || d.Types[0] != f.Type {
		return nil
	}
	return t.tx.Bucket(d.bucket)
}

// bytesOf views s as bytes, for bbolt lookups that only read their key.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

func (t *txn) fetch(recs *bbolt.Bucket, m *storage.Model, mt *storage.Matcher, id []byte, full bool) (storage.Record, error) {
	raw := recs.Get(id)
	if raw == nil {
		return nil, nil
	}
	r, err := decodeRecord(m, raw, full)
	if err != nil {
		return nil, t.fail(fmt.Sprintf("reading %s %q", m.Name, id), err)
	}
	if !mt.Match(r) {
		return nil, nil
	}
	return r, nil
}

// point finds the at most one candidate an id eq or a unique eq (single field or composite)
// allows. ok false: no such term, plan otherwise. id nil: no record.
func (t *txn) point(mm *modelMeta, terms []storage.Term) (id []byte, ok bool) {
	for _, tm := range terms {
		if tm.Op == storage.OpEq && tm.Field.Name == "id" && tm.Value != nil {
			return bytesOf(tm.Value.(string)), true
		}
	}
	var kb [96]byte
	for _, tm := range terms {
		if tm.Op != storage.OpEq || tm.Value == nil {
			continue
		}
		d := mm.single[tm.Field.Name]
		if d == nil || !d.Unique {
			continue
		}
		if b := t.usable(d, tm.Field); b != nil {
			key, _ := appendKeyValue(kb[:0], d.Types[0], tm.Value)
			return b.Get(key), true
		}
	}
	for _, d := range mm.indexes {
		if !d.Unique || len(d.Fields) < 2 {
			continue
		}
		key, complete := kb[:0], true
		for i, name := range d.Fields {
			v := eqValue(terms, name, d.Types[i])
			if v == nil {
				complete = false
				break
			}
			key, _ = appendKeyValue(key, d.Types[i], v)
		}
		if complete {
			if b := t.tx.Bucket(d.bucket); b != nil {
				return b.Get(key), true
			}
		}
	}
	return nil, false
}

// eqValue returns the value of an eq term on field name of type typ, or nil.
func eqValue(terms []storage.Term, name string, typ storage.FieldType) any {
	for _, tm := range terms {
		if tm.Op == storage.OpEq && tm.Field.Name == name && tm.Field.Type == typ {
			return tm.Value
		}
	}
	return nil
}

// First implements engine.Txn. The common lookups (by id, by a unique value) run without
// closures or intermediate slices: this is the gateway's per-request path.
func (t *txn) First(m *storage.Model, mt *storage.Matcher, full bool) (storage.Record, error) {
	mm, recs := t.records(m)
	if recs == nil {
		return nil, nil
	}
	var tb [8]storage.Term
	terms := mt.AppendTerms(tb[:0])
	if id, ok := t.point(mm, terms); ok {
		if id == nil {
			return nil, nil
		}
		return t.fetch(recs, m, mt, id, full)
	}
	var out storage.Record
	err := t.scan(m, mt, full, mm, recs, terms, func(r storage.Record) bool { out = r; return false })
	return out, err
}

// Scan implements engine.Txn.
func (t *txn) Scan(m *storage.Model, mt *storage.Matcher, full bool, fn func(storage.Record) bool) error {
	mm, recs := t.records(m)
	if recs == nil {
		return nil
	}
	var tb [8]storage.Term
	return t.scan(m, mt, full, mm, recs, mt.AppendTerms(tb[:0]), fn)
}

// scan picks the narrowest plan the terms allow — a point lookup, an eq prefix of a
// non-unique index, the values of an in, a range of an ordered index, or else every record
// — and feeds the matching records to fn in id order.
func (t *txn) scan(m *storage.Model, mt *storage.Matcher, full bool, mm *modelMeta, recs *bbolt.Bucket, terms []storage.Term, fn func(storage.Record) bool) error {
	if id, ok := t.point(mm, terms); ok {
		if id == nil {
			return nil
		}
		r, err := t.fetch(recs, m, mt, id, full)
		if r != nil {
			fn(r)
		}
		return err
	}
	// eq on another index: its entries for the value are in id order already, so they
	// stream (FindOne of one user's sessions reads one entry, not all of them).
	for _, tm := range terms {
		if tm.Op != storage.OpEq || tm.Value == nil {
			continue
		}
		d := mm.single[tm.Field.Name]
		b := t.usable(d, tm.Field)
		if b == nil {
			continue
		}
		prefix, _ := appendKeyValue(nil, d.Types[0], tm.Value)
		c := b.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			id := v
			if !d.Unique {
				id = k[len(prefix):]
			}
			r, err := t.fetch(recs, m, mt, id, full)
			if err != nil {
				return err
			}
			if r != nil && !fn(r) {
				return nil
			}
		}
		return nil
	}
	ids, planned, err := t.candidates(mm, terms)
	if err != nil {
		return err
	}
	if planned {
		for _, id := range ids {
			r, err := t.fetch(recs, m, mt, id, full)
			if err != nil {
				return err
			}
			if r != nil && !fn(r) {
				return nil
			}
		}
		return nil
	}
	c := recs.Cursor()
	for k, raw := c.First(); k != nil; k, raw = c.Next() {
		r, err := decodeRecord(m, raw, full)
		if err != nil {
			return t.fail(fmt.Sprintf("reading %s %q", m.Name, k), err)
		}
		if mt.Match(r) && !fn(r) {
			return nil
		}
	}
	return nil
}

// candidates returns the ids, sorted and unique, that an in or a range on an index narrows
// the terms to, or planned false when no index helps.
func (t *txn) candidates(mm *modelMeta, terms []storage.Term) (ids [][]byte, planned bool, err error) {
	// in: the union of eq lookups.
	for _, tm := range terms {
		if tm.Op != storage.OpIn {
			continue
		}
		if tm.Field.Name == "id" {
			for _, v := range tm.Values {
				if s, ok := v.(string); ok {
					ids = append(ids, []byte(s))
				}
			}
			return sortIDs(ids), true, nil
		}
		d := mm.single[tm.Field.Name]
		if b := t.usable(d, tm.Field); b != nil {
			for _, v := range tm.Values {
				if key, ok := appendKeyValue(nil, d.Types[0], v); ok {
					ids = collect(d, b, key, nil, true, ids)
				}
			}
			return sortIDs(ids), true, nil
		}
	}
	// A range (lt, lte, gt, gte, starts_with) on an ordered index.
	for _, tm := range terms {
		switch tm.Op {
		case storage.OpLt, storage.OpLte, storage.OpGt, storage.OpGte, storage.OpStartsWith:
		default:
			continue
		}
		d := mm.single[tm.Field.Name]
		b := t.usable(d, tm.Field)
		if b == nil || tm.Field.Type == storage.TypeBoolean {
			continue
		}
		lo, hi, hiIncl := rangeOf(tm.Field, terms)
		return sortIDs(collect(d, b, lo, hi, hiIncl, nil)), true, nil
	}
	return nil, false, nil
}

// rangeOf folds every range term on f into one key range: entries from lo (inclusive) up to
// hi (exclusive, or inclusive of every entry hi prefixes when hiIncl). nil bounds are open.
// The bounds may be wider than the terms (gt is scanned as gte): Match filters exactly.
func rangeOf(f *storage.Field, terms []storage.Term) (lo, hi []byte, hiIncl bool) {
	for _, tm := range terms {
		if tm.Field != f && tm.Field.Name != f.Name {
			continue
		}
		switch tm.Op {
		case storage.OpGt, storage.OpGte:
			k, _ := appendKeyValue(nil, f.Type, tm.Value)
			if lo == nil || bytes.Compare(k, lo) > 0 {
				lo = k
			}
		case storage.OpLt, storage.OpLte:
			k, _ := appendKeyValue(nil, f.Type, tm.Value)
			incl := tm.Op == storage.OpLte
			if c := bytes.Compare(k, hi); hi == nil || c < 0 || (c == 0 && !incl) {
				hi, hiIncl = k, incl
			}
		case storage.OpStartsWith:
			p := appendEscapedPrefix(nil, tm.Value.(string))
			if lo == nil || bytes.Compare(p, lo) > 0 {
				lo = p
			}
			if c := bytes.Compare(p, hi); hi == nil || c < 0 {
				hi, hiIncl = p, true
			}
		}
	}
	return lo, hi, hiIncl
}

// collect appends the ids of index d's entries from lo up to hi (see rangeOf); lo == hi
// with hiIncl is an exact prefix.
func collect(d *indexDef, b *bbolt.Bucket, lo, hi []byte, hiIncl bool, ids [][]byte) [][]byte {
	if hi == nil && hiIncl {
		hi = lo // exact-prefix call: collect(d, b, key, nil, true, …)
	}
	c := b.Cursor()
	var k, v []byte
	if lo == nil {
		k, v = c.First()
	} else {
		k, v = c.Seek(lo)
	}
	for ; k != nil; k, v = c.Next() {
		if hi != nil {
			if cmp := bytes.Compare(k, hi); cmp >= 0 && !(hiIncl && bytes.HasPrefix(k, hi)) {
				break
			}
		}
		if d.Unique {
			ids = append(ids, slices.Clone(v))
			continue
		}
		n := valueLen(d.Types[0], k)
		if n < 0 {
			continue // not an entry of this index's shape: ignore rather than misread
		}
		ids = append(ids, slices.Clone(k[n:]))
	}
	return ids
}

func sortIDs(ids [][]byte) [][]byte {
	slices.SortFunc(ids, bytes.Compare)
	return slices.CompactFunc(ids, bytes.Equal)
}

// Put implements engine.Txn: the record and every index entry that changes are written in
// this transaction, after every unique constraint was checked.
func (t *txn) Put(m *storage.Model, old, rec storage.Record) error {
	mm, recs := t.records(m)
	if recs == nil {
		return t.fail("put", fmt.Errorf("model %q has no bucket: bind a schema declaring it first", m.Name))
	}
	id := rec.ID()
	idb := []byte(id)
	if old == nil && recs.Get(idb) != nil {
		return &storage.ConstraintError{Model: m.Name, Fields: []string{"id"}, Err: storage.ErrDuplicate}
	}
	type change struct {
		d        *indexDef
		b        *bbolt.Bucket
		from, to []byte
	}
	changes := make([]change, 0, len(mm.indexes))
	for _, d := range mm.indexes { // the store's indexes, known to this schema or not
		from, hadFrom := d.key(nil, old)
		to, hasTo := d.key(nil, rec)
		if hadFrom == hasTo && bytes.Equal(from, to) {
			continue
		}
		b := t.tx.Bucket(d.bucket)
		if b == nil {
			return t.fail("put", fmt.Errorf("index bucket %s is missing", d.bucket))
		}
		if d.Unique && hasTo {
			if owner := b.Get(to); owner != nil && string(owner) != id {
				return &storage.ConstraintError{Model: m.Name, Fields: slices.Clone(d.Fields), Err: storage.ErrDuplicate}
			}
		}
		changes = append(changes, change{d, b, from, to})
	}
	// A unique constraint of this schema without an index in the store (another view
	// dropped it during a reload) is still enforced, by a scan.
	for i := range m.Fields {
		if f := &m.Fields[i]; f.Unique {
			if d := mm.single[f.Name]; d == nil || !d.Unique || d.Types[0] != f.Type {
				if err := engine.CheckUnique(t, m, []string{f.Name}, rec); err != nil {
					return err
				}
			}
		}
	}
	for _, set := range m.Unique {
		if !mm.hasUnique(m, set) {
			if err := engine.CheckUnique(t, m, set, rec); err != nil {
				return err
			}
		}
	}
	enc, err := encodeRecord(m, rec)
	if err != nil {
		return t.fail("put", err)
	}
	if err := t.put(recs, idb, enc); err != nil {
		return err
	}
	for _, c := range changes {
		if c.from != nil {
			k, _ := c.d.entry(c.from, id)
			if err := t.del(c.b, k); err != nil {
				return err
			}
		}
		if c.to != nil {
			k, v := c.d.entry(c.to, id)
			if err := t.put(c.b, k, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// hasUnique reports whether the store maintains a unique index for set with m's types.
func (mm *modelMeta) hasUnique(m *storage.Model, set []string) bool {
	for _, d := range mm.indexes {
		if d.Unique && slices.Equal(d.Fields, set) {
			for i, name := range set {
				if f, _ := m.Field(name); f.Type != d.Types[i] {
					return false
				}
			}
			return true
		}
	}
	return false
}

// Delete implements engine.Txn.
func (t *txn) Delete(m *storage.Model, rec storage.Record) error {
	mm, recs := t.records(m)
	if recs == nil {
		return nil
	}
	id := rec.ID()
	if err := t.del(recs, []byte(id)); err != nil {
		return err
	}
	for _, d := range mm.indexes {
		key, ok := d.key(nil, rec)
		if !ok {
			continue
		}
		b := t.tx.Bucket(d.bucket)
		if b == nil {
			return t.fail("delete", fmt.Errorf("index bucket %s is missing", d.bucket))
		}
		k, _ := d.entry(key, id)
		if err := t.del(b, k); err != nil {
			return err
		}
	}
	return nil
}

// Interface guards.
var (
	_ storage.Store  = (*Store)(nil)
	_ engine.Backend = backend{}
)
