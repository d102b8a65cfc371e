package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
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

// Bucket and meta key names.
const (
	metaBucket    = "meta"
	formatKey     = "format"
	formatValue   = "gatehouse-bolt/1"
	modelPrefix   = "model/" // model/<model>: id → record
	indexPrefix   = "index/" // index/<model>/<unique|index>/<field>[/<field>...]
	uniqueKind    = "unique"
	nonUniqueKind = "index"
)

// Store is one open bbolt file. It outlives the adapters bound to it: each config binds its
// own schema view with Bind, and the Caddy layer shares the Store across reloads (bbolt locks
// the file, so it is opened once per process).
type Store struct {
	db   *bbolt.DB
	path string

	// mu is held shared by every write transaction and exclusively by Bind, so the catalog
	// a writer maintains cannot change under it. Readers do not take it: they check that an
	// index bucket exists in their snapshot before using it.
	mu     sync.RWMutex
	cat    atomic.Pointer[catalog]
	closed atomic.Bool

	readers sync.Pool // of *txn, see txn.Rollback
}

// Open opens (creating it with mode 0600 if needed) the bbolt file at path.
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
	err = db.Update(func(tx *bbolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists([]byte(metaBucket))
		if err != nil {
			return err
		}
		switch f := meta.Get([]byte(formatKey)); {
		case f == nil:
			if err := meta.Put([]byte(formatKey), []byte(formatValue)); err != nil {
				return err
			}
		case string(f) != formatValue:
			return fmt.Errorf("unknown data format %q (this build reads %q)", f, formatValue)
		}
		return cat.load(tx, meta)
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("bolt: opening %s: %w", path, err)
	}
	s.cat.Store(cat)
	return s, nil
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
// meanwhile. All of it is one bbolt transaction.
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
	next := s.cat.Load().clone()
	err := s.db.Update(func(tx *bbolt.Tx) error {
		meta := tx.Bucket([]byte(metaBucket))
		for _, m := range schema.Models() {
			if err := next.bindModel(ctx, tx, meta, m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bolt %s: binding schema: %w", s.path, err)
	}
	s.cat.Store(next)
	return engine.New(backend{s}, schema), nil
}

// checkNames refuses model and field names that would make bucket names ambiguous.
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
	models map[string]*modelMeta
}

type modelMeta struct {
	bucket  []byte
	indexes []*indexDef          // every index of the model the store maintains
	single  map[string]*indexDef // one-field indexes by field name
}

// indexDef describes one index; it is stored as JSON under its bucket name in the meta
// bucket.
type indexDef struct {
	Model  string              `json:"model"`
	Fields []string            `json:"fields"`
	Types  []storage.FieldType `json:"types"`
	Unique bool                `json:"unique"`

	bucket []byte
}

func newIndexDef(model string, unique bool, fields []string, types []storage.FieldType) *indexDef {
	d := &indexDef{Model: model, Fields: fields, Types: types, Unique: unique}
	kind := nonUniqueKind
	if unique {
		kind = uniqueKind
	}
	d.bucket = []byte(indexPrefix + model + "/" + kind + "/" + strings.Join(fields, "/"))
	return d
}

func (d *indexDef) same(o *indexDef) bool {
	return bytes.Equal(d.bucket, o.bucket) && slices.Equal(d.Types, o.Types)
}

// key returns the index key of the full record r (without the id suffix of a non-unique
// entry), or false when r has no entry (a field unset or stored under another type).
func (d *indexDef) key(dst []byte, r storage.Record) ([]byte, bool) {
	if r == nil {
		return nil, false
	}
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

func (c *catalog) load(tx *bbolt.Tx, meta *bbolt.Bucket) error {
	err := tx.ForEach(func(name []byte, _ *bbolt.Bucket) error {
		if model, ok := strings.CutPrefix(string(name), modelPrefix); ok {
			c.model(model)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return meta.ForEach(func(k, v []byte) error {
		if !bytes.HasPrefix(k, []byte(indexPrefix)) {
			return nil
		}
		var d indexDef
		if err := json.Unmarshal(v, &d); err != nil {
			return fmt.Errorf("index %s: %w", k, err)
		}
		nd := newIndexDef(d.Model, d.Unique, d.Fields, d.Types)
		if !bytes.Equal(nd.bucket, k) || len(d.Fields) == 0 || len(d.Fields) != len(d.Types) {
			return fmt.Errorf("index %s: inconsistent description", k)
		}
		mm := c.model(d.Model)
		mm.indexes = append(mm.indexes, nd)
		mm.reindex()
		return nil
	})
}

// model returns the model's entry, adding it if needed.
func (c *catalog) model(name string) *modelMeta {
	mm := c.models[name]
	if mm == nil {
		mm = &modelMeta{bucket: []byte(modelPrefix + name)}
		c.models[name] = mm
		mm.reindex()
	}
	return mm
}

func (c *catalog) clone() *catalog {
	n := &catalog{models: make(map[string]*modelMeta, len(c.models))}
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
		if !seen[string(d.bucket)] {
			seen[string(d.bucket)] = true
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
	recs, err := tx.CreateBucketIfNotExists(mm.bucket)
	if err != nil {
		return fmt.Errorf("model %q: %w", m.Name, err)
	}
	want := desiredIndexes(m)
	var kept []*indexDef
	for _, d := range mm.indexes {
		if slices.ContainsFunc(want, d.same) && tx.Bucket(d.bucket) != nil {
			kept = append(kept, d)
			continue
		}
		// No longer declared: nothing would maintain it, so it must not outlive this Bind.
		if err := dropBucket(tx, d.bucket); err != nil {
			return fmt.Errorf("model %q: dropping index %s: %w", m.Name, d.bucket, err)
		}
		if err := meta.Delete(d.bucket); err != nil {
			return err
		}
	}
	mm.indexes = kept
	for _, d := range want {
		if slices.ContainsFunc(kept, d.same) {
			continue
		}
		if err := buildIndex(ctx, tx, recs, m, d); err != nil {
			return fmt.Errorf("model %q: building index %v: %w", m.Name, d.Fields, err)
		}
		desc, err := json.Marshal(d)
		if err != nil {
			return err
		}
		if err := meta.Put(d.bucket, desc); err != nil {
			return err
		}
		mm.indexes = append(mm.indexes, d)
	}
	mm.reindex()
	return nil
}

func dropBucket(tx *bbolt.Tx, name []byte) error {
	if err := tx.DeleteBucket(name); err != nil && !errors.Is(err, berrors.ErrBucketNotFound) {
		return err
	}
	return nil
}

// buildIndex (re)creates index d from every stored record of m.
func buildIndex(ctx context.Context, tx *bbolt.Tx, recs *bbolt.Bucket, m *storage.Model, d *indexDef) error {
	if err := dropBucket(tx, d.bucket); err != nil {
		return err
	}
	b, err := tx.CreateBucket(d.bucket)
	if err != nil {
		return err
	}
	n := 0
	return recs.ForEach(func(id, raw []byte) error {
		if n++; n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		r, err := decodeRecord(m, raw, true)
		if err != nil {
			return fmt.Errorf("record %q: %w", id, err)
		}
		key, ok := d.key(nil, r)
		if !ok {
			return nil
		}
		k, v := d.entry(key, string(id))
		if d.Unique {
			if other := b.Get(k); other != nil {
				return fmt.Errorf("records %q and %q hold the same value: %w", other, id, &storage.ConstraintError{Model: m.Name, Fields: slices.Clone(d.Fields), Err: storage.ErrDuplicate})
			}
		}
		return b.Put(k, v)
	})
}
