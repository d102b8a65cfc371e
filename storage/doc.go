// Package storage is Gatehouse's generic, schema-driven record store contract.
//
// Everything Gatehouse persists — users, sessions, accounts, verification rows and every
// plugin's tables — goes through one small interface, [Adapter]. A plugin never needs adapter
// changes: it declares its models (or extra fields on core models) in a [Schema] and reads and
// writes [Record] values.
//
// # Models and records
//
// A [Model] is a named set of typed [Field]s. Every model has an implicit string primary key
// "id", which the caller supplies on Create (Gatehouse generates ids from injected randomness;
// storage never invents data). A [Record] is a map from field name to a value of the field's
// Go type:
//
//	string      → string
//	number      → int64 (every number Gatehouse stores is an integer: counters, limits, ms)
//	boolean     → bool
//	date        → time.Time, UTC, truncated to the microsecond (what PostgreSQL keeps)
//	json        → json.RawMessage (compact)
//	string[]    → []string
//
// A nil value means "not set". [Schema.Normalize] converts convenient inputs (int, float64
// without fraction, time in any zone, []byte JSON) into these canonical forms, so every adapter
// stores and returns exactly the same values.
//
// # Queries
//
// A [Where] is a tree: leaves compare one field with a value (eq, ne, lt, lte, gt, gte, in,
// not_in, contains, starts_with, ends_with) and groups join children with AND or OR. The zero
// Where matches every record. [Query] adds sort, limit and offset; ties are broken by id so
// paging is stable.
//
// # Atomicity
//
// ConsumeOne finds and deletes one record in one atomic step: single-use tokens are taken with
// it, never read-then-delete. IncrementOne adds to a number field of one record atomically, and
// because its where clause can carry a bound ("attempts lt 5") it is also a compare-and-add.
// Tx runs a function with an adapter bound to one transaction: all of its writes land or none.
// View runs a function with an adapter bound to one read-only transaction: all of its reads
// see one consistent snapshot (a session and its user read together cannot straddle a
// concurrent delete), writes through it fail with [ErrReadOnly], and on bbolt the lookups
// share one read transaction instead of opening one each. Inside Tx, View joins the running
// transaction and sees its writes.
// Unique constraints (single fields and composite [Model.Unique] sets) are enforced by the
// store inside the writing transaction, so concurrent creators cannot both win.
//
// # Durability
//
// A durable adapter (bbolt, PostgreSQL; not the memory one) keeps every write that returned
// without error across a crash of the process or the database, except the records of an
// [Model.Ephemeral] model: an adapter may keep those less durably for speed (PostgreSQL: an UNLOGGED table, emptied after a database crash or failover), so
// after a crash they may be missing or older. Declare a model ephemeral only when losing its
// recent records is harmless — rate-limit counters, whose loss lets a few more requests
// through once — never for state whose loss would grant something again (quotas, single-use
// tokens). bbolt and the memory adapter keep ephemeral models like any other.
//
// # Schema evolution
//
// The schema is assembled at start-up from the core models and every enabled plugin's
// declarations. Binding an adapter to a schema creates what is missing (models, indexes for
// new unique or indexed fields) without manual steps. Fields the current schema does not know
// — a plugin switched off — are kept untouched in stored records and simply not returned.
//
// # Errors
//
// [ErrNotFound] and [ErrDuplicate] are the sentinels callers branch on (errors.Is); a
// [ConstraintError] for a restrict reference also matches [ErrRestricted]. Unknown models and
// fields and values of the wrong type are programmer errors reported as [ErrUnknownModel],
// [ErrUnknownField] and [ErrInvalidValue].
package storage
