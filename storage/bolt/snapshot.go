package bolt

import (
	"context"
	"fmt"
	"io"

	"github.com/gatehouse-auth/gatehouse/storage"
)

// Snapshot implements storage.Snapshotter: it copies the whole file as of one read
// transaction (bbolt's Tx.WriteTo), so the copy holds exactly the transactions committed
// before it began, and is itself a valid bbolt file of this layout — restore it by stopping
// the server and putting it in the data file's place.
//
// Writers are not blocked, with one exception of bbolt's: a commit that must grow the file
// (remap it) waits until every read transaction ends, this one included, so a snapshot
// written to a slow reader can hold such a commit for as long as the copy takes.
func (s *Store) Snapshot(ctx context.Context, w io.Writer, started func(size int64)) (int64, error) {
	if s.closed.Load() {
		return 0, s.errClosed()
	}
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("bolt %s: snapshot: %w", s.path, err)
	}
	tx, err := s.db.Begin(false)
	if err != nil {
		return 0, fmt.Errorf("bolt %s: snapshot: %w", s.path, err)
	}
	defer func() { _ = tx.Rollback() }()
	if started != nil {
		started(tx.Size())
	}
	n, err := tx.WriteTo(ctxWriter{ctx: ctx, w: w})
	if err != nil && ctx.Err() != nil {
		err = ctx.Err() // bbolt does not wrap the writer's error
	}
	if err != nil {
		return n, fmt.Errorf("bolt %s: snapshot: %w", s.path, err)
	}
	return n, nil
}

// ctxWriter stops a copy once its context is done.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}

var _ storage.Snapshotter = (*Store)(nil)
