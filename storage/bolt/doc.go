// Package bolt is the [storage.Adapter] over a bbolt file, Gatehouse's default store.
//
// A [Store] is one open file (mode 0600, exclusively locked by bbolt, so open it once per
// process and share it: the Caddy layer keeps it in a caddy.UsagePool across reloads); each
// config binds its own schema view with [Store.Bind].
//
// Layout (version 2, recorded in the meta bucket; Bind refuses a file of another layout with
// [ErrLayout], and nothing migrates layout 1, which no release shipped). Every model has one
// top-level bucket, "data/<model>" padded with '/' to a multiple of 8 bytes, holding its
// records and the entries of its unique indexes (unique fields, composite unique sets), told
// apart by their first byte (keys.go):
//
//	'i' ‖ num ‖ value(s)   → id       (unique index entry; num numbers the model's unique indexes)
//	'p' ‖ n                → padding  (n = 1…5, see padModel)
//	'r' ‖ id               → record   (codec.go)
//
// so ids stay arbitrary strings. A non-unique index (an indexed or reference field) has a
// bucket of its own, "idx/<model>/<field>", holding value ‖ id → empty. Index values are
// order-preserving and self-delimiting (keys.go); records use a compact self-describing
// binary codec (codec.go) that keeps fields the bound schema does not know. The "meta" bucket
// records the data format, the layout version and the catalog: the indexes the store
// maintains, each as JSON under "index/<model>/<unique|index>/<fields>".
//
// The layout serves the gateway's lookups: a unique value finds its entry and then the
// record in the same bucket with one cursor (a cursor's search stack, allocated on its first
// seek, is reused by the next), and a View reads several models in one bbolt read
// transaction. The name padding, and the pads that keep bbolt from storing a model's bucket
// inline, put every model bucket's header in the root page at an 8-byte aligned offset, so
// a read transaction opens the bucket in place instead of copying the header. The pads also
// keep index entries and records in different leaves, which keeps writing many records in
// one transaction as cheap as with a bucket per index; non-unique indexes stay in buckets
// of their own for the same reason (see indexDef).
//
// Guarantees: every write — the record, its index entries, cascades — happens in one bbolt
// read-write transaction (db.Begin(true)/Commit; never db.Batch, which may run a function
// twice), and bbolt serializes writers, so unique constraints, ConsumeOne and IncrementOne
// hold under concurrency. A commit returns after bbolt's fsyncs. Any bbolt error is returned
// wrapped, never swallowed: storage faults fail closed. Reads run in bbolt read-only
// transactions — one per call, or one for a whole View: consistent snapshots, which writers
// do not wait for — and use the narrowest plan: an id → direct get; an eq on a unique field
// or a full composite unique set → one index lookup; an eq or in on an indexed field → its
// entries; a range (lt/lte/gt/gte/starts_with) on an indexed string, number or date (such as
// a session's expiresAt, for the sweeper) → a key range; otherwise a scan of the model with
// the compiled matcher. Every candidate is checked against the whole filter. A reader uses
// the catalog that describes its snapshot, also while a Bind changes it.
//
// Limits: one writer at a time (bbolt), each write costs an fsync; inside Tx use only the tx
// adapter, as the outer one would wait for the writer lock, and inside View only the view
// adapter (a writer that has to grow the file waits for open read transactions). Model and
// field names must not contain '/' or NUL; ids and indexed values must encode to less than
// bbolt's 32 KiB key limit (a longer one fails the write). Schema changes follow
// [Store.Bind]; see there for the reload overlap.
package bolt
