package storage

import "context"

// Adapter is the storage contract every backend implements and every consumer uses.
//
// All methods take the request context first. Model and field names are the schema's names.
// Records passed in are normalized against the bound schema (see [Schema.Normalize]); records
// returned are fresh copies the caller may keep and modify, holding only the fields the bound
// schema knows (unset fields are absent).
type Adapter interface {
	// Create inserts rec, which must carry a non-empty string "id". Defaults from the schema
	// fill missing fields; a missing required field is ErrInvalidValue; a taken unique value
	// or id is ErrDuplicate (as a *ConstraintError). It returns the stored record.
	Create(ctx context.Context, model string, rec Record) (Record, error)

	// FindOne returns the first record matching where, in id order, or ErrNotFound.
	FindOne(ctx context.Context, model string, where Where) (Record, error)

	// FindMany returns the records matching q.Where, sorted by q.Sort (then id), windowed by
	// q.Offset and q.Limit (0 means no limit).
	FindMany(ctx context.Context, model string, q Query) ([]Record, error)

	// Count returns how many records match where.
	Count(ctx context.Context, model string, where Where) (int, error)

	// Update sets the given fields on the first record matching where (id order) and returns
	// the updated record, or ErrNotFound. A nil value unsets an optional field. The id cannot
	// change.
	Update(ctx context.Context, model string, where Where, set Record) (Record, error)

	// UpdateMany sets the given fields on every matching record and returns how many changed.
	// It is all-or-nothing: a unique violation on any record changes none.
	UpdateMany(ctx context.Context, model string, where Where, set Record) (int, error)

	// Delete removes the first record matching where (id order), applying the schema's
	// on-delete rules to records that reference it, or returns ErrNotFound.
	Delete(ctx context.Context, model string, where Where) error

	// DeleteMany removes every matching record (with on-delete rules) and returns how many.
	DeleteMany(ctx context.Context, model string, where Where) (int, error)

	// ConsumeOne atomically finds and deletes the first record matching where and returns it:
	// among concurrent callers exactly one gets the record, the others ErrNotFound.
	ConsumeOne(ctx context.Context, model string, where Where) (Record, error)

	// IncrementOne atomically adds delta to the number field of the first record matching
	// where (an unset field counts as 0), also applies set (may be nil), and returns the
	// updated record, or ErrNotFound. Put a bound in where to get compare-and-add.
	IncrementOne(ctx context.Context, model string, where Where, field string, delta int64, set Record) (Record, error)

	// Tx runs fn with an adapter bound to one transaction. When fn returns an error (or
	// panics) nothing it wrote is kept; otherwise everything is committed at once. Calling
	// Tx on a transaction's adapter runs fn inside the same transaction (its writes stand or
	// fall with the outer one). Each operation stays atomic inside a transaction: one that
	// fails (UpdateMany on a unique violation, a restricted cascade) leaves nothing behind and
	// fn may carry on. The tx adapter belongs to fn's goroutine and is dead once Tx returns;
	// inside fn use only it, since the outer adapter may wait for the transaction to end.
	Tx(ctx context.Context, fn func(tx Adapter) error) error

	// View runs fn with an adapter bound to one read-only transaction: every read inside
	// sees one consistent snapshot, whatever writers commit meanwhile, and every write (Tx
	// included) fails with ErrReadOnly and changes nothing. It returns fn's error. Calling
	// View on a transaction's adapter (Tx's or View's) runs fn inside that transaction, so it
	// sees the transaction's own writes; its adapter is read-only as well. Like Tx's, the
	// view adapter belongs to fn's goroutine and is dead once View returns, and inside fn
	// only it may be used: the outer adapter may wait for the view to end (a writer of the
	// memory store waits for it; bbolt may need to remap the file before committing).
	View(ctx context.Context, fn func(tx Adapter) error) error

	// Schema returns the schema the adapter is bound to.
	Schema() *Schema
}

// Store is an opened backend (a bbolt file, a memory map, a PostgreSQL pool). Bind returns an
// adapter for a schema, creating what the schema needs (models, indexes) first. Bind may be
// called again with another schema — a configuration reload — while adapters bound earlier
// are still serving; closing the backend is the owner's business, not the adapters'.
type Store interface {
	Bind(ctx context.Context, s *Schema) (Adapter, error)
}
