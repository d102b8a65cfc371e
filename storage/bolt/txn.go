package bolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"

	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/gatehouse-auth/gatehouse/storage"
	"github.com/gatehouse-auth/gatehouse/storage/internal/engine"
)

type backend struct{ s *Store }

// Begin implements engine.Backend. Writes go through bbolt's Begin(true)/Commit — never
// db.Batch, which may run a function twice. A read transaction is one bbolt read-only
// transaction: one snapshot, as View promises.
func (b backend) Begin(ctx context.Context, writable bool) (engine.Txn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s := b.s
	if writable {
		s.mu.RLock()
		if s.closed.Load() {
			s.mu.RUnlock()
			return nil, s.errClosed()
		}
		tx, err := s.db.Begin(true)
		if err != nil {
			s.mu.RUnlock()
			return nil, s.beginError(err)
		}
		return &txn{s: s, tx: tx, cat: s.cat.Load(), write: true}, nil
	}
	if s.closed.Load() {
		return nil, s.errClosed()
	}
	tx, err := s.db.Begin(false)
	if err != nil {
		return nil, s.beginError(err)
	}
	cat := s.cat.Load()
	if tx.ID() < cat.txid {
		// A Bind is committing a catalog this snapshot predates (Store.bind publishes it
		// just before its commit): wait for the Bind, then take a snapshot that holds what
		// the catalog describes.
		_ = tx.Rollback()
		s.mu.RLock()
		tx, err = s.db.Begin(false)
		cat = s.cat.Load()
		s.mu.RUnlock()
		if err != nil {
			return nil, s.beginError(err)
		}
	}
	t := s.readers.Get().(*txn)
	*t = txn{s: s, tx: tx, cat: cat, open: t.open[:0]}
	return t, nil
}

func (s *Store) beginError(err error) error {
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return fmt.Errorf("bolt %s: %w: %w", s.path, storage.ErrClosed, err)
	}
	return fmt.Errorf("bolt %s: begin: %w", s.path, err)
}

type txn struct {
	s          *Store
	tx         *bbolt.Tx
	cat        *catalog
	write      bool
	done       bool
	journaling bool   // set by the first Savepoint: only operations inside Tx need undo
	journal    []undo // writes of the running operation, for RollbackTo
	// open holds the buckets opened in this transaction: bbolt's read transactions do not
	// keep them, and opening one costs allocations (a View reads several times).
	open []opened
}

type opened struct {
	name []byte // the catalog's
	b    *bbolt.Bucket
	c    *bbolt.Cursor // the writers' cursor, see txn.cursor
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

// cursor returns the transaction's cursor on b, for the point reads of writes: one per
// bucket, so its search stack is allocated once. Every use starts with a Seek, which is
// valid after writes.
func (t *txn) cursor(b *bbolt.Bucket) *bbolt.Cursor {
	for i := range t.open {
		if o := &t.open[i]; o.b == b {
			if o.c == nil {
				o.c = b.Cursor()
			}
			return o.c
		}
	}
	return b.Cursor()
}

// get returns the value stored under k in b, and whether there is one.
func (t *txn) get(b *bbolt.Bucket, k []byte) ([]byte, bool) {
	got, v := t.cursor(b).Seek(k)
	return v, got != nil && bytes.Equal(got, k)
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
	old, had := t.get(b, k)
	old = slices.Clone(old)
	if had && old == nil {
		old = []byte{}
	}
	t.journal = append(t.journal, undo{b: b, key: k, old: old, had: had})
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
	// Read transactions are recycled: the hot path then allocates no txn (and no room for
	// its open buckets). The engine does not touch a transaction after rolling it back.
	s := t.s
	clear(t.open)
	*t = txn{done: true, open: t.open[:0]}
	s.readers.Put(t)
}

// openBucket returns the top-level bucket name, opened once per transaction; nil when the
// snapshot has none.
func (t *txn) openBucket(name []byte) *bbolt.Bucket {
	for i := range t.open {
		if bytes.Equal(t.open[i].name, name) {
			return t.open[i].b
		}
	}
	b := t.tx.Bucket(name)
	if b != nil {
		t.open = append(t.open, opened{name: name, b: b})
	}
	return b
}

// bucket returns the model's bucket, nil when the model has none in this snapshot.
func (t *txn) bucket(m *storage.Model) (*modelMeta, *bbolt.Bucket) {
	mm := t.cat.models[m.Name]
	if mm == nil {
		return nil, nil
	}
	b := t.openBucket(mm.bucket)
	if b == nil {
		return nil, nil
	}
	return mm, b
}

// entries returns the bucket holding index d's entries: b, the model's, for a unique index.
// The catalog matches the snapshot, so it is there; nil would mean a damaged file.
func (t *txn) entries(d *indexDef, b *bbolt.Bucket) *bbolt.Bucket {
	if d.Unique {
		return b
	}
	return t.openBucket(d.home)
}

// usable returns index d when it indexes field f with f's current type, so a lookup with a
// value normalized for f finds its entries; otherwise nil.
func usable(d *indexDef, f *storage.Field) *indexDef {
	if d == nil || d.Types[0] != f.Type {
		return nil
	}
	return d
}

// pointKind says what a point key is.
type pointKind uint8

const (
	noPoint     pointKind = iota
	recordPoint           // a record key
	indexPoint            // a unique index key: its value is the id
)

// point appends to dst the key of the at most one candidate an id eq or a unique eq (single
// field or composite) allows, and says which kind of key it is; noPoint when no term allows
// a point lookup.
func point(mm *modelMeta, terms []storage.Term, dst []byte) ([]byte, pointKind) {
	for _, tm := range terms {
		if tm.Op == storage.OpEq && tm.Field.Name == "id" && tm.Value != nil {
			return appendRecordKey(dst, tm.Value.(string)), recordPoint
		}
	}
	for _, tm := range terms {
		if tm.Op != storage.OpEq || tm.Value == nil {
			continue
		}
		if d := usable(mm.single[tm.Field.Name], tm.Field); d != nil && d.Unique {
			key, _ := appendKeyValue(append(dst, d.prefix...), d.Types[0], tm.Value)
			return key, indexPoint
		}
	}
	for _, d := range mm.indexes {
		if !d.Unique || len(d.Fields) < 2 {
			continue
		}
		key, complete := append(dst, d.prefix...), true
		for i, name := range d.Fields {
			v := eqValue(terms, name, d.Types[i])
			if v == nil {
				complete = false
				break
			}
			key, _ = appendKeyValue(key, d.Types[i], v)
		}
		if complete {
			return key, indexPoint
		}
	}
	return nil, noPoint
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

// lookup reads the candidate of a point key with cursor c: for an index key, the entry
// and then the record it names, with the same cursor — bbolt reuses a cursor's search stack
// from one seek to the next, so the second seek allocates nothing. key's array is reused.
func (t *txn) lookup(c *bbolt.Cursor, m *storage.Model, mt *storage.Matcher, key []byte, kind pointKind, full bool) (storage.Record, error) {
	if kind == indexPoint {
		k, id := c.Seek(key)
		if id == nil || !bytes.Equal(k, key) {
			return nil, nil
		}
		key = appendRecordKey(key[:0], id)
	}
	k, raw := c.Seek(key)
	if raw == nil || !bytes.Equal(k, key) {
		return nil, nil
	}
	return t.decode(m, mt, k, raw, full)
}

// decode decodes the record stored under k and returns it when it matches mt.
func (t *txn) decode(m *storage.Model, mt *storage.Matcher, k, raw []byte, full bool) (storage.Record, error) {
	r, err := decodeRecord(m, raw, full)
	if err != nil {
		return nil, t.fail(fmt.Sprintf("reading %s %q", m.Name, k[1:]), err)
	}
	if !mt.Match(r) {
		return nil, nil
	}
	return r, nil
}

// First implements engine.Txn. The common lookups (by id, by a unique value) run without
// closures or intermediate slices and with one bucket and one cursor: this is the gateway's
// per-request path.
func (t *txn) First(m *storage.Model, mt *storage.Matcher, full bool) (storage.Record, error) {
	mm, b := t.bucket(m)
	if b == nil {
		return nil, nil
	}
	var tb [8]storage.Term
	terms := mt.AppendTerms(tb[:0])
	var kb [128]byte
	if key, kind := point(mm, terms, kb[:0]); kind != noPoint {
		return t.lookup(b.Cursor(), m, mt, key, kind, full)
	}
	var out storage.Record
	err := t.scan(m, mt, full, mm, b, terms, func(r storage.Record) bool { out = r; return false })
	return out, err
}

// Scan implements engine.Txn.
func (t *txn) Scan(m *storage.Model, mt *storage.Matcher, full bool, fn func(storage.Record) bool) error {
	mm, b := t.bucket(m)
	if b == nil {
		return nil
	}
	var tb [8]storage.Term
	return t.scan(m, mt, full, mm, b, mt.AppendTerms(tb[:0]), fn)
}

// scan picks the narrowest plan the terms allow — a point lookup, an eq prefix of a
// non-unique index, the values of an in, a range of an ordered index, or else every record
// — and feeds the matching records to fn in id order.
func (t *txn) scan(m *storage.Model, mt *storage.Matcher, full bool, mm *modelMeta, b *bbolt.Bucket, terms []storage.Term, fn func(storage.Record) bool) error {
	var kb [128]byte
	if key, kind := point(mm, terms, kb[:0]); kind != noPoint {
		r, err := t.lookup(b.Cursor(), m, mt, key, kind, full)
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
		d := usable(mm.single[tm.Field.Name], tm.Field)
		if d == nil {
			continue
		}
		eb := t.entries(d, b)
		if eb == nil {
			continue
		}
		prefix, _ := appendKeyValue(append(kb[:0], d.prefix...), d.Types[0], tm.Value)
		entries, records := eb.Cursor(), b.Cursor()
		var rk []byte
		for k, v := entries.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = entries.Next() {
			id := v
			if !d.Unique {
				id = k[len(prefix):]
			}
			rk = appendRecordKey(rk[:0], id)
			r, err := t.lookup(records, m, mt, rk, recordPoint, full)
			if err != nil {
				return err
			}
			if r != nil && !fn(r) {
				return nil
			}
		}
		return nil
	}
	ids, planned := t.candidates(mm, b, terms)
	if planned {
		c := b.Cursor()
		var rk []byte
		for _, id := range ids {
			rk = appendRecordKey(rk[:0], id)
			r, err := t.lookup(c, m, mt, rk, recordPoint, full)
			if err != nil {
				return err
			}
			if r != nil && !fn(r) {
				return nil
			}
		}
		return nil
	}
	c := b.Cursor()
	for k, raw := c.Seek([]byte{recordTag}); k != nil && k[0] == recordTag; k, raw = c.Next() {
		r, err := t.decode(m, mt, k, raw, full)
		if err != nil {
			return err
		}
		if r != nil && !fn(r) {
			return nil
		}
	}
	return nil
}

// candidates returns the ids, sorted and unique, that an in or a range on an index narrows
// the terms to, or planned false when no index helps.
func (t *txn) candidates(mm *modelMeta, b *bbolt.Bucket, terms []storage.Term) (ids [][]byte, planned bool) {
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
			return sortIDs(ids), true
		}
		d := usable(mm.single[tm.Field.Name], tm.Field)
		if eb := t.entriesOf(d, b); eb != nil {
			c := eb.Cursor()
			for _, v := range tm.Values {
				if key, ok := appendKeyValue(nil, d.Types[0], v); ok {
					ids = collect(d, c, key, nil, true, ids)
				}
			}
			return sortIDs(ids), true
		}
	}
	// A range (lt, lte, gt, gte, starts_with) on an ordered index.
	for _, tm := range terms {
		switch tm.Op {
		case storage.OpLt, storage.OpLte, storage.OpGt, storage.OpGte, storage.OpStartsWith:
		default:
			continue
		}
		d := usable(mm.single[tm.Field.Name], tm.Field)
		eb := t.entriesOf(d, b)
		if eb == nil || tm.Field.Type == storage.TypeBoolean {
			continue
		}
		lo, hi, hiIncl := rangeOf(tm.Field, terms)
		return sortIDs(collect(d, eb.Cursor(), lo, hi, hiIncl, nil)), true
	}
	return nil, false
}

// entriesOf is entries for an index that may be nil.
func (t *txn) entriesOf(d *indexDef, b *bbolt.Bucket) *bbolt.Bucket {
	if d == nil {
		return nil
	}
	return t.entries(d, b)
}

// rangeOf folds every range term on f into one range of value keys: entries from lo
// (inclusive) up to hi (exclusive, or inclusive of every entry hi prefixes when hiIncl). nil
// bounds are open. The bounds may be wider than the terms (gt is scanned as gte): Match
// filters exactly.
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

// collect appends the ids of index d's entries whose value keys run from lo up to hi (see
// rangeOf), read with cursor c; lo == hi with hiIncl is an exact prefix.
func collect(d *indexDef, c *bbolt.Cursor, lo, hi []byte, hiIncl bool, ids [][]byte) [][]byte {
	if hi == nil && hiIncl {
		hi = lo // exact-prefix call: collect(d, c, key, nil, true, …)
	}
	for k, v := c.Seek(append(slices.Clip(d.prefix), lo...)); k != nil && bytes.HasPrefix(k, d.prefix); k, v = c.Next() {
		vk := k[len(d.prefix):]
		if hi != nil {
			if cmp := bytes.Compare(vk, hi); cmp >= 0 && !(hiIncl && bytes.HasPrefix(vk, hi)) {
				break
			}
		}
		if d.Unique {
			if v != nil {
				ids = append(ids, slices.Clone(v))
			}
			continue
		}
		n := valueLen(d.Types[0], vk)
		if n < 0 {
			continue // not an entry of this index's shape: ignore rather than misread
		}
		ids = append(ids, slices.Clone(vk[n:]))
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
	mm, b := t.bucket(m)
	if b == nil {
		return t.fail("put", fmt.Errorf("model %q has no bucket: bind a schema declaring it first", m.Name))
	}
	id := rec.ID()
	rk := appendRecordKey(nil, id)
	if old == nil {
		if _, taken := t.get(b, rk); taken {
			return &storage.ConstraintError{Model: m.Name, Fields: []string{"id"}, Err: storage.ErrDuplicate}
		}
	}
	type change struct {
		d        *indexDef
		eb       *bbolt.Bucket
		from, to []byte
	}
	changes := make([]change, 0, len(mm.indexes))
	for _, d := range mm.indexes { // the store's indexes, known to this schema or not
		from, hadFrom := d.key(nil, old)
		to, hasTo := d.key(nil, rec)
		if hadFrom == hasTo && bytes.Equal(from, to) {
			continue
		}
		eb := t.entries(d, b)
		if eb == nil {
			return t.fail("put", fmt.Errorf("index bucket %s is missing", d.home))
		}
		if d.Unique && hasTo {
			if owner, ok := t.get(eb, to); ok && string(owner) != id {
				return &storage.ConstraintError{Model: m.Name, Fields: slices.Clone(d.Fields), Err: storage.ErrDuplicate}
			}
		}
		changes = append(changes, change{d, eb, from, to})
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
	if err := t.put(b, rk, enc); err != nil {
		return err
	}
	for _, c := range changes {
		if c.from != nil {
			k, _ := c.d.entry(c.from, id)
			if err := t.del(c.eb, k); err != nil {
				return err
			}
		}
		if c.to != nil {
			k, v := c.d.entry(c.to, id)
			if err := t.put(c.eb, k, v); err != nil {
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
	mm, b := t.bucket(m)
	if b == nil {
		return nil
	}
	id := rec.ID()
	if err := t.del(b, appendRecordKey(nil, id)); err != nil {
		return err
	}
	for _, d := range mm.indexes {
		key, ok := d.key(nil, rec)
		if !ok {
			continue
		}
		eb := t.entries(d, b)
		if eb == nil {
			return t.fail("delete", fmt.Errorf("index bucket %s is missing", d.home))
		}
		k, _ := d.entry(key, id)
		if err := t.del(eb, k); err != nil {
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
