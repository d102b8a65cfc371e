// Package bolt is the [storage.Adapter] over a bbolt file, Gatehouse's default store.
//
// A [Store] is one open file (mode 0600, exclusively locked by bbolt, so open it once per
// process and share it: the Caddy layer keeps it in a caddy.UsagePool across reloads); each
// config binds its own schema view with [Store.Bind]. Layout: one bucket per model
// ("model/<name>", id → record) and one bucket per index ("index/<model>/unique|index/<fields>")
// for every unique, indexed and reference field and every composite unique set; a unique
// index maps value → id, a non-unique one holds value ‖ id. Index keys are order-preserving
// and self-delimiting (see keys.go), records use a compact self-describing binary codec
// (codec.go) that keeps fields the bound schema does not know. The "meta" bucket records the
// data format and the indexes the store maintains.
//
// Guarantees: every write — the record, its index entries, cascades — happens in one bbolt
// read-write transaction (db.Begin(true)/Commit; never db.Batch, which may run a function
// twice), and bbolt serializes writers, so unique constraints, ConsumeOne and IncrementOne
// hold under concurrency. A commit returns after bbolt's fsyncs. Any bbolt error is returned
// wrapped, never swallowed: storage faults fail closed. Reads run in read-only transactions
// (consistent snapshots) and use the narrowest plan: an id → direct get; an eq on a unique
// field or a full composite unique set → one index lookup; an eq or in on an indexed field →
// its entries; a range (lt/lte/gt/gte/starts_with) on an indexed string, number or date
// (such as a session's expiresAt, for the sweeper) → a key range; otherwise a scan of the
// model with the compiled matcher. Every candidate is checked against the whole filter.
//
// Limits: one writer at a time (bbolt), each write costs an fsync; inside Tx use only the tx
// adapter, as the outer one would wait for the writer lock. Model and field names must not
// contain '/' or NUL; ids and indexed values must encode to less than bbolt's 32 KiB key
// limit (a longer one fails the write). Schema changes follow [Store.Bind]; see there for the
// reload overlap.
package bolt
