// Package memory is a map-backed [storage.Adapter] for fast unit tests. It follows the whole
// contract (it passes storage/storagetest): unique constraints, on-delete rules, atomic
// ConsumeOne and IncrementOne, transactions with rollback on error or panic, and schema
// evolution (fields of a switched-off plugin survive and come back).
//
// Limits: nothing is persisted; one RWMutex serializes writers and a transaction holds the
// write lock until it ends, so inside Tx use only the tx adapter (the outer one would wait
// for the lock: a deadlock). View holds the read lock until it ends — its snapshot is the
// store itself, which no writer can change meanwhile — so writers wait for views, and inside
// View too only the view adapter may be used. Lookups other than by id and unique checks scan the model, which
// is fine for test-sized data. Unique constraints are those of the schema an adapter is bound
// to; Bind refuses a schema whose unique constraints existing records already break.
package memory
