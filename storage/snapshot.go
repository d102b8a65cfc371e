package storage

import (
	"context"
	"io"
)

// Snapshotter is implemented by a Store that can copy its whole database, consistently,
// while it keeps serving: the embedded bbolt store does; a PostgreSQL store does not (use
// pg_dump). Callers type-assert a Store to it; nothing in the engine depends on it.
type Snapshotter interface {
	// Snapshot writes a copy of the database to w as of one moment: everything committed
	// before the snapshot began, nothing committed after, no transaction in part. Writers
	// carry on meanwhile. started, when not nil, is called once the snapshot has begun and
	// before the first byte is written, with the exact number of bytes that will be written
	// (a copy of fewer bytes is truncated). It returns the number of bytes written. A
	// cancelled ctx stops the copy with ctx's error.
	Snapshot(ctx context.Context, w io.Writer, started func(size int64)) (int64, error)
}
