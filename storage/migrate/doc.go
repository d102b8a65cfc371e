// Package migrate copies a Gatehouse store to another backend: every record of every model
// of a schema, model by model, in batches, then verifies the copy by counting.
//
// [Copy] reads the source inside one [storage.Adapter.View] (one consistent snapshot: a
// bbolt read transaction, or a PostgreSQL REPEATABLE READ transaction) and pages through
// each model in id order with keyset pagination ("id > last", [Options.BatchSize] records a
// page); each page is written to the destination in one transaction, so a failure leaves
// whole pages behind. Records are copied as the source adapter returns them: ids, dates,
// hidden fields (password hashes, encrypted secrets, hashed tokens) unchanged; fields the
// schema does not declare (left by a plugin since switched off) are not copied.
//
// A destination that already holds records of the schema is refused with [ErrNotEmpty]
// unless [Options.Resume] is set: then a record whose id the destination already has is
// skipped (not compared, not overwritten), so a copy that stopped half-way can be run again
// and finishes the job; a record that collides with a different record on another unique
// field fails the copy. After copying, every model is counted on both sides; a difference
// fails with [ErrCountMismatch] and the [Report] says where.
//
// bbolt sources: a running server holds the file's exclusive lock, and bbolt's read-only
// open waits for a shared lock, so [OpenBoltSource] fails after a short wait with
// [ErrBoltLocked] rather than reading a file being written. It copies the file (bbolt's
// Tx.WriteTo, under the shared lock) to a temporary file and opens that, so the source file
// is never written, even by the schema binding (which may create buckets and indexes).
package migrate
