package storage

import (
	"errors"
	"fmt"
)

// Sentinel errors of the storage contract. Adapters wrap them with context; callers compare
// with errors.Is.
var (
	// ErrNotFound: no record matched.
	ErrNotFound = errors.New("storage: record not found")
	// ErrDuplicate: a unique constraint (single field, composite, or the id) would be violated.
	ErrDuplicate = errors.New("storage: duplicate value for unique field")
	// ErrRestricted: a delete was refused because another record references this one with
	// on-delete restrict.
	ErrRestricted = errors.New("storage: record is still referenced")
	// ErrUnknownModel: the model is not in the bound schema.
	ErrUnknownModel = errors.New("storage: unknown model")
	// ErrUnknownField: a field is not in the model.
	ErrUnknownField = errors.New("storage: unknown field")
	// ErrInvalidValue: a value does not fit its field's type, or a required field is missing.
	ErrInvalidValue = errors.New("storage: invalid value")
	// ErrClosed: the adapter was closed.
	ErrClosed = errors.New("storage: adapter closed")
	// ErrReadOnly: a write through the adapter of a read-only transaction ([Adapter.View]).
	ErrReadOnly = errors.New("storage: write in a read-only transaction")
	// ErrUnavailable: the store could not answer (an I/O error, a full disk, a read-only
	// file, a lost database connection), as opposed to answering with one of the errors
	// above. Adapters return their drivers' errors; the engine's storage wrapper marks them
	// so that errors.Is(err, ErrUnavailable) holds, and requests meeting one fail closed
	// with 503.
	ErrUnavailable = errors.New("storage: unavailable")
)

// ConstraintError names the model and fields of a violated constraint, so a caller can tell
// "email taken" from "username taken" without parsing strings.
type ConstraintError struct {
	Model  string
	Fields []string
	Err    error // ErrDuplicate or ErrRestricted
}

func (e *ConstraintError) Error() string {
	return fmt.Sprintf("%v: %s%v", e.Err, e.Model, e.Fields)
}

func (e *ConstraintError) Unwrap() error { return e.Err }
