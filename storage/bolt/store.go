package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/gatehouse-auth/gatehouse/storage"
	"github.com/gatehouse-auth/gatehouse/storage/internal/engine"
)

// Options configure Open. The zero value (or nil) gives the defaults.
type Options struct {
	// Timeout bounds the wait for the file lock when another handle (another process, or
	// another Open in this one) holds the file. Default: 5s.
	Timeout time.Duration
}

// DefaultTimeout is the file-lock wait when Options.Timeout is zero.
const DefaultTimeout = 5 * time.Second

// ErrLayout is returned (wrapped) by Bind for a file whose layout this build does not read:
// one written by an earlier build (there is no migration: no release shipped it) or by a
// later one.
var ErrLayout = errors.New("bolt: unsupported data file layout")

// Bucket and meta key names; see the package doc for the layout.
const (
	metaBucket = "meta"
	formatKey  = "format"
	// formatValue identifies a Gatehouse file (and its record codec).
	formatValue = "gatehouse-bolt/1"
	layoutKey   = "layout"
	// layoutVersion is the bucket layout this build reads and writes. 1 (implied by a meta
	// bucket without a layout key) kept every index in a bucket of its own.
	layoutVersion = 2

	dataPrefix    = "data/"  // data/<model> padded with '/' to a multiple of 8 bytes
	idxPrefix     = "idx/"   // idx/<model>/<field>: the bucket of a non-unique index
	indexPrefix   = "index/" // meta keys: index/<model>/<unique|index>/<field>[/<field>...]
	uniqueKind    = "unique"
	nonUniqueKind = "index"
)

// Store is one open bbolt file. It outlives the adapters bound to it: each config binds its
// own schema view with Bind, and the Caddy layer shares the Store across reloads (bbolt locks
// the file, so it is opened once per process).
type Store struct {
	db   *bbolt.DB
	path string

	// layoutErr is why the file cannot be bound (an unsupported layout), or nil.
	layoutErr error

	// mu is held shared by every write transaction and exclusively by Bind, so the catalog
	// a writer maintains cannot change under it. Readers do not take it: they use the
	// catalog only when it is not newer than their snapshot (see backend.Begin).
	mu     sync.RWMutex
	cat    atomic.Pointer[catalog]
	closed atomic.Bool

	readers sync.Pool // of *txn, see txn.Rollback
}

// Open opens (creating it with mode 0600 if needed) the bbolt file at path. A new file gets
// the current layout; a file of another layout opens (and is left untouched) but cannot be
// bound (ErrLayout).
func Open(path string, opts *Options) (*Store, error) {
	timeout := DefaultTimeout
	if opts != nil && opts.Timeout > 0 {
		timeout = opts.Timeout
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: timeout})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("bolt: opening %s: the file is locked by another handle (waited %s); share one Store per file within a process: %w", path, timeout, err)
	}
	if err != nil {
		return nil, fmt.Errorf("bolt: opening %s: %w", path, err)
	}
	s := &Store{db: db, path: path}
	s.readers.New = func() any { return new(txn) }
	cat := &catalog{models: map[string]*modelMeta{}}
	fresh := false
	err = db.View(func(tx *bbolt.Tx) error {
		meta := tx.Bucket([]byte(metaBucket))
		if meta == nil {
			fresh = true
			return nil
		}
		if f := meta.Get([]byte(formatKey)); string(f) != formatValue {
			return fmt.Errorf("unknown data format %q (this build reads %q)", f, formatValue)
		}
		if v := storedLayout(meta); v != layoutVersion {
			s.layoutErr = layoutError(v)
			return nil
		}
		return cat.load(tx, meta)
	})
	if err == nil && fresh {
		err = db.Update(func(tx *bbolt.Tx) error {
			meta, err := tx.CreateBucket([]byte(metaBucket))
			if err != nil {
				return err
			}
			if err := meta.Put([]byte(formatKey), []byte(formatValue)); err != nil {
				return err
			}
			return meta.Put([]byte(layoutKey), []byte(strconv.Itoa(layoutVersion)))
		})
	}
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("bolt: opening %s: %w", path, err)
	}
	s.cat.Store(cat)
	return s, nil
}

// storedLayout returns the layout version the meta bucket records (1 when it records none:
// the first layout did not write one), or -1 when it is unreadable.
func storedLayout(meta *bbolt.Bucket) int {
	v := meta.Get([]byte(layoutKey))
	if v == nil {
		return 1
	}
	n, err := strconv.Atoi(string(v))
	if err != nil || n < 1 {
		return -1
	}
	return n
}

func layoutError(v int) error {
	switch {
	case v < 0:
		return fmt.Errorf("%w: the layout version in the meta bucket is unreadable (this build reads layout %d)", ErrLayout, layoutVersion)
	case v < layoutVersion:
		return fmt.Errorf("%w: the file has layout %d, written by an earlier build; this build reads layout %d and cannot migrate it: move the file away and let Gatehouse create a new one", ErrLayout, v, layoutVersion)
	default:
		return fmt.Errorf("%w: the file has layout %d, written by a later build; this build reads layout %d", ErrLayout, v, layoutVersion)
	}
}

// Path returns the file's path as given to Open.
func (s *Store) Path() string { return s.path }

// Close closes the file, waiting for running transactions. Adapters bound to the Store
// then fail with storage.ErrClosed. Closing twice is a no-op.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("bolt: closing %s: %w", s.path, err)
	}
	return nil
}

func (s *Store) errClosed() error { return fmt.Errorf("bolt %s: %w", s.path, storage.ErrClosed) }

// Bind implements storage.Store: it returns an adapter over the Store bound to schema. It
// validates the schema, creates the buckets of new models, builds the indexes the schema
// needs that the store does not hold yet — new ones, and ones dropped while their field was
// unknown — from the stored records (a unique index over duplicate values fails the Bind
// with an error wrapping storage.ErrDuplicate, and nothing changes), and drops the indexes
// of this schema's models that it no longer declares, which would cost every write for
// nothing. Indexes of models the schema does not name are kept: nothing writes those models
// meanwhile. All of it is one bbolt transaction. A file of another layout is refused with
// an error wrapping ErrLayout.
//
// Every write maintains the indexes the store holds (the catalog is the Store's, not the
// schema's), decoding the whole stored record, so no index goes stale whichever view
// writes. Bind is therefore safe while adapters bound earlier are in use, as during a config
// reload, when the old config's adapter keeps serving until it is released: a unique
// constraint it declares whose index the new schema dropped is still enforced, by a scan,
// and its lookups fall back to scans where an index is gone. Both views stay correct; the
// old one is slower for that moment.
func (s *Store) Bind(ctx context.Context, schema *storage.Schema) (storage.Adapter, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("bolt %s: binding schema: %w", s.path, err)
	}
	if s.layoutErr != nil {
		return nil, fmt.Errorf("bolt %s: binding schema: %w", s.path, s.layoutErr)
	}
	if err := schema.Validate(); err != nil {
		return nil, fmt.Errorf("bolt %s: binding schema: %w", s.path, err)
	}
	if err := checkNames(schema); err != nil {
		return nil, fmt.Errorf("bolt %s: binding schema: %w", s.path, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return nil, s.errClosed()
	}
	if err := s.bind(ctx, schema); err != nil {
		return nil, fmt.Errorf("bolt %s: binding schema: %w", s.path, err)
	}
	return engine.New(backend{s}, schema), nil
}

// bind runs Bind's transaction; s.mu is held, so no other writer runs.
func (s *Store) bind(ctx context.Context, schema *storage.Schema) error {
	cur := s.cat.Load()
	next := cur.clone()
	tx, err := s.db.Begin(true)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }() // a no-op after Commit
	meta := tx.Bucket([]byte(metaBucket))
	for _, m := range schema.Models() {
		if err := next.bindModel(ctx, tx, meta, m); err != nil {
			return err
		}
	}
	// Publish the catalog before the commit, tagged with the commit's transaction id:
	// readers whose snapshot predates it do not use it (backend.Begin), and no writer can
	// commit before it is either kept or taken back (s.mu).
	next.txid = tx.ID()
	s.cat.Store(next)
	if err := tx.Commit(); err != nil {
		s.cat.Store(cur)
		return err
	}
	return nil
}

// checkNames refuses model and field names that would make keys ambiguous.
func checkNames(schema *storage.Schema) error {
	for _, m := range schema.Models() {
		if m.Name == "" || strings.ContainsAny(m.Name, "/\x00") {
			return fmt.Errorf("model %q: a name must not be empty or contain '/' or NUL", m.Name)
		}
		for _, f := range m.Fields {
			if strings.ContainsAny(f.Name, "/\x00") {
				return fmt.Errorf("field %s.%q: a name must not contain '/' or NUL", m.Name, f.Name)
			}
		}
	}
	return nil
}

// catalog is what the store holds: its models' buckets and the indexes it maintains. It
// is persisted in the meta bucket and replaced as a whole (copy on write) by Bind.
type catalog struct {
	// txid is the bbolt transaction that committed this catalog (0: it was read by Open). A
	// snapshot older than that does not hold what the catalog describes.
	txid   int
	models map[string]*modelMeta
}

type modelMeta struct {
	bucket  []byte
	indexes []*indexDef          // every index of the model the store maintains
	single  map[string]*indexDef // one-field indexes by field name
}

// indexDef describes one index; it is stored as JSON under its name in the meta bucket.
//
// A unique index (single field or composite) keeps its entries in the model's bucket, next
// to the records, so that a lookup by its value touches one bucket with one cursor. A
// non-unique one (an indexed or reference field) has a bucket of its own: bbolt does not
// split a node before the commit, so within one transaction the entries written into a
// small bucket all go into one node, where an insert moves every entry after it; with the
// entries of every index in the model's bucket, loading many records in one transaction
// (fixtures, imports) was 8 times slower than with a bucket per index, and only the unique
// ones are needed next to the records.
type indexDef struct {
	Model  string              `json:"model"`
	Fields []string            `json:"fields"`
	Types  []storage.FieldType `json:"types"`
	Unique bool                `json:"unique"`
	// Num (unique indexes) tells the index's entries apart from the other unique indexes'
	// in the model's bucket: their keys start with indexTag ‖ Num (2 bytes, big endian).
	Num uint16 `json:"num,omitempty"`

	name   []byte // its meta key
	home   []byte // the bucket holding its entries: the model's, or its own
	prefix []byte // what its keys start with in home: indexTag ‖ Num, or nothing
}

func newIndexDef(model string, unique bool, fields []string, types []storage.FieldType) *indexDef {
	d := &indexDef{Model: model, Fields: fields, Types: types, Unique: unique}
	kind := nonUniqueKind
	if unique {
		kind = uniqueKind
		d.home = bucketName(model)
	} else {
		d.home = []byte(idxPrefix + model + "/" + strings.Join(fields, "/"))
	}
	d.name = []byte(indexPrefix + model + "/" + kind + "/" + strings.Join(fields, "/"))
	return d
}

func (d *indexDef) setNum(n uint16) {
	d.Num = n
	d.prefix = binary.BigEndian.AppendUint16([]byte{indexTag}, n)
}

func (d *indexDef) same(o *indexDef) bool {
	return bytes.Equal(d.name, o.name) && slices.Equal(d.Types, o.Types)
}

// key appends the index key of the full record r — the prefix and the values, without the
// id suffix of a non-unique entry — to dst, or reports false when r has no entry (a field
// unset or stored under another type).
func (d *indexDef) key(dst []byte, r storage.Record) ([]byte, bool) {
	if r == nil {
		return nil, false
	}
	dst = append(dst, d.prefix...)
	for i, f := range d.Fields {
		var ok bool
		if dst, ok = appendKeyValue(dst, d.Types[i], r[f]); !ok {
			return nil, false
		}
	}
	return dst, true
}

// entry returns the bucket key and value of r's entry under key.
func (d *indexDef) entry(key []byte, id string) (k, v []byte) {
	if d.Unique {
		return key, []byte(id)
	}
	return append(key, id...), []byte{}
}

// bucketName returns the name of the model's bucket: "data/<model>", padded with '/' (which
// a model name cannot hold) to a multiple of 8 bytes. As no model bucket is stored inline
// (see padModel), each header in the root page is 16 bytes at an 8-byte aligned offset, and
// read transactions open buckets in place instead of copying the header. Only an allocation
// depends on it.
func bucketName(model string) []byte {
	n := len(dataPrefix) + len(model)
	b := make([]byte, 0, (n+7)&^7)
	b = append(b, dataPrefix...)
	b = append(b, model...)
	for len(b) < cap(b) {
		b = append(b, '/')
	}
	return b
}

func (c *catalog) load(tx *bbolt.Tx, meta *bbolt.Bucket) error {
	err := tx.ForEach(func(name []byte, _ *bbolt.Bucket) error {
		if rest, ok := bytes.CutPrefix(name, []byte(dataPrefix)); ok {
			model := string(bytes.TrimRight(rest, "/"))
			if !bytes.Equal(bucketName(model), name) {
				return fmt.Errorf("bucket %q: not a model bucket of this layout", name)
			}
			c.model(model)
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = meta.ForEach(func(k, v []byte) error {
		if !bytes.HasPrefix(k, []byte(indexPrefix)) {
			return nil
		}
		var d indexDef
		if err := json.Unmarshal(v, &d); err != nil {
			return fmt.Errorf("index %s: %w", k, err)
		}
		nd := newIndexDef(d.Model, d.Unique, d.Fields, d.Types)
		mm := c.models[d.Model]
		if !bytes.Equal(nd.name, k) || len(d.Fields) == 0 || len(d.Fields) != len(d.Types) || mm == nil || (!d.Unique && len(d.Fields) != 1) {
			return fmt.Errorf("index %s: inconsistent description", k)
		}
		if d.Unique {
			nd.setNum(d.Num)
			if slices.ContainsFunc(mm.indexes, func(o *indexDef) bool { return o.Unique && o.Num == nd.Num }) {
				return fmt.Errorf("index %s: number %d is taken twice", k, nd.Num)
			}
		} else if tx.Bucket(nd.home) == nil {
			return fmt.Errorf("index %s: bucket %s is missing", k, nd.home)
		}
		mm.indexes = append(mm.indexes, nd)
		return nil
	})
	for _, mm := range c.models {
		mm.reindex()
	}
	return err
}

// model returns the model's entry, adding it if needed.
func (c *catalog) model(name string) *modelMeta {
	mm := c.models[name]
	if mm == nil {
		mm = &modelMeta{bucket: bucketName(name)}
		c.models[name] = mm
		mm.reindex()
	}
	return mm
}

func (c *catalog) clone() *catalog {
	n := &catalog{txid: c.txid, models: make(map[string]*modelMeta, len(c.models))}
	for k, mm := range c.models {
		n.models[k] = &modelMeta{bucket: mm.bucket, indexes: slices.Clone(mm.indexes)}
		n.models[k].reindex()
	}
	return n
}

func (mm *modelMeta) reindex() {
	mm.single = map[string]*indexDef{}
	for _, d := range mm.indexes {
		if len(d.Fields) == 1 {
			mm.single[d.Fields[0]] = d
		}
	}
}

// desiredIndexes lists the indexes model m needs: one per unique, indexed or reference
// field, and one per composite unique set.
func desiredIndexes(m *storage.Model) []*indexDef {
	var out []*indexDef
	seen := map[string]bool{}
	add := func(d *indexDef) {
		if !seen[string(d.name)] {
			seen[string(d.name)] = true
			out = append(out, d)
		}
	}
	for _, f := range m.IndexedFields() {
		add(newIndexDef(m.Name, f.Unique, []string{f.Name}, []storage.FieldType{f.Type}))
	}
	for _, set := range m.Unique {
		types := make([]storage.FieldType, len(set))
		for i, name := range set {
			f, _ := m.Field(name)
			types[i] = f.Type
		}
		add(newIndexDef(m.Name, true, slices.Clone(set), types))
	}
	return out
}

// bindModel makes the store hold what m needs, inside Bind's write transaction.
func (c *catalog) bindModel(ctx context.Context, tx *bbolt.Tx, meta *bbolt.Bucket, m *storage.Model) error {
	mm := c.model(m.Name)
	b, err := tx.CreateBucketIfNotExists(mm.bucket)
	if err == nil {
		err = padModel(b, tx.DB().Info().PageSize)
	}
	if err != nil {
		return fmt.Errorf("model %q: %w", m.Name, err)
	}
	want := desiredIndexes(m)
	var kept []*indexDef
	for _, d := range mm.indexes {
		if slices.ContainsFunc(want, d.same) {
			kept = append(kept, d)
			continue
		}
		// No longer declared: nothing would maintain it, so it must not outlive this Bind.
		if err := dropIndex(ctx, tx, b, d); err != nil {
			return fmt.Errorf("model %q: dropping index %v: %w", m.Name, d.Fields, err)
		}
		if err := meta.Delete(d.name); err != nil {
			return err
		}
	}
	mm.indexes = kept
	for _, d := range want {
		if slices.ContainsFunc(kept, d.same) {
			continue
		}
		if d.Unique {
			num, ok := freeNum(mm.indexes)
			if !ok {
				return fmt.Errorf("model %q: too many unique indexes", m.Name)
			}
			d.setNum(num)
		}
		// Entries a failed earlier build or a foreign writer may have left go first.
		if err := dropIndex(ctx, tx, b, d); err != nil {
			return fmt.Errorf("model %q: building index %v: %w", m.Name, d.Fields, err)
		}
		if err := buildIndex(ctx, tx, b, m, d); err != nil {
			return fmt.Errorf("model %q: building index %v: %w", m.Name, d.Fields, err)
		}
		desc, err := json.Marshal(d)
		if err != nil {
			return err
		}
		if err := meta.Put(d.name, desc); err != nil {
			return err
		}
		mm.indexes = append(mm.indexes, d)
	}
	mm.reindex()
	return nil
}

// padModel writes the pads of a model's bucket (what is missing of them). Each holds a
// quarter of a page, so a new bucket's node — the pads alone, more than a page in more than
// four keys — is split by bbolt when Bind commits, between the second and third pad: index
// entries (before the pads) and records (after them) then start in different leaves. That
// matters when many records are written in one transaction (fixtures, imports): bbolt does
// not split a node before the commit, and an insert moves every entry after it in its node,
// so in a single node each index entry written would move every record. The pads cost a
// page and a quarter per model, and keep the bucket from being stored inline.
func padModel(b *bbolt.Bucket, pageSize int) error {
	for n := byte(1); n <= pads; n++ {
		k := []byte{padTag, n}
		if b.Get(k) == nil {
			if err := b.Put(k, make([]byte, pageSize/4)); err != nil {
				return err
			}
		}
	}
	return nil
}

// freeNum returns the smallest number no unique index of indexes uses.
func freeNum(indexes []*indexDef) (uint16, bool) {
	for n := 0; n <= 0xFFFF; n++ {
		if !slices.ContainsFunc(indexes, func(d *indexDef) bool { return d.Unique && int(d.Num) == n }) {
			return uint16(n), true
		}
	}
	return 0, false
}

// chunk is how many keys Bind reads before it writes: bbolt cursors must not be used across
// writes to their bucket, so long walks that write go in chunks, each with a fresh seek.
const chunk = 1024

// dropIndex removes every entry of index d: its keys in the model's bucket b, or its bucket.
func dropIndex(ctx context.Context, tx *bbolt.Tx, b *bbolt.Bucket, d *indexDef) error {
	if d.Unique {
		return deletePrefix(ctx, b, d.prefix)
	}
	if err := tx.DeleteBucket(d.home); err != nil && !errors.Is(err, berrors.ErrBucketNotFound) {
		return err
	}
	return nil
}

// deletePrefix removes every key of b starting with prefix.
func deletePrefix(ctx context.Context, b *bbolt.Bucket, prefix []byte) error {
	keys := make([][]byte, 0, chunk)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		keys = keys[:0]
		c := b.Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(keys) < chunk; k, _ = c.Next() {
			keys = append(keys, slices.Clone(k))
		}
		if len(keys) == 0 {
			return nil
		}
		for _, k := range keys {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
	}
}

// buildIndex writes index d's entry for every stored record of m (in b, the model's bucket);
// dropIndex left no entry of d.
func buildIndex(ctx context.Context, tx *bbolt.Tx, b *bbolt.Bucket, m *storage.Model, d *indexDef) error {
	dst := b
	if !d.Unique {
		var err error
		if dst, err = tx.CreateBucket(d.home); err != nil {
			return err
		}
	}
	type entry struct{ k, v []byte }
	entries := make([]entry, 0, chunk)
	from := []byte{recordTag}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		entries = entries[:0]
		var last []byte
		c := b.Cursor()
		n := 0
		for k, raw := c.Seek(from); k != nil && k[0] == recordTag && n < chunk; k, raw = c.Next() {
			n++
			last = k
			r, err := decodeRecord(m, raw, true)
			if err != nil {
				return fmt.Errorf("record %q: %w", k[1:], err)
			}
			key, ok := d.key(nil, r)
			if !ok {
				continue
			}
			ek, ev := d.entry(key, string(k[1:]))
			entries = append(entries, entry{ek, ev})
		}
		if n == 0 {
			return nil
		}
		from = append(slices.Clone(last), 0) // the next key after the chunk's last
		for _, e := range entries {
			if d.Unique {
				if other := dst.Get(e.k); other != nil {
					return fmt.Errorf("records %q and %q hold the same value: %w", other, e.v, &storage.ConstraintError{Model: m.Name, Fields: slices.Clone(d.Fields), Err: storage.ErrDuplicate})
				}
			}
			if err := dst.Put(e.k, e.v); err != nil {
				return err
			}
		}
	}
}
