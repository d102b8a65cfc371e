package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/gatehouse-auth/gatehouse/storage"
)

// Fields of the stored rate-limit model (Better Auth's rateLimit table: key, count,
// lastRequest in milliseconds, plus Gatehouse's expiresAt for the sweeper).
const (
	FieldKey         = "key"
	FieldCount       = "count"
	FieldLastRequest = "lastRequest"
	FieldExpiresAt   = "expiresAt"
)

// Model is the storage model a [Stored] limiter keeps its counters in. The record id is the
// limiter key itself, so every operation is a primary-key lookup. It is ephemeral
// ([storage.Model.Ephemeral]): counters lost in a database crash only let a few more
// requests through once, and every allowed request writes one, so on PostgreSQL they live in
// an UNLOGGED table whose writes do not wait for a write-ahead-log flush.
func Model(name string) storage.Model {
	return storage.Model{Name: name, Ephemeral: true, Fields: []storage.Field{
		{Name: FieldKey, Type: storage.TypeString, Required: true},
		{Name: FieldCount, Type: storage.TypeNumber, Required: true},
		{Name: FieldLastRequest, Type: storage.TypeNumber, Required: true}, // unix ms
		{Name: FieldExpiresAt, Type: storage.TypeNumber, Indexed: true},    // unix ms: lastRequest + window
	}}
}

// Stored is the [Store] over a shared storage adapter, for several Gatehouse nodes on one
// database (PostgreSQL): every node sees the same counters, so a limit holds across the
// cluster, not per node. An allowed request inside a running window costs one conditional
// single-statement write (compare-and-add on count: "lastRequest inside the window and count
// below Max"); otherwise a primary-key read decides between a refusal, a conditional window
// restart and a create: the adapter's atomic operations make a bound hold
// under any number of concurrent callers on any number of nodes, without transactions. A
// write whose condition no longer holds (another node got there first) re-reads and decides
// again.
//
// Errors fail closed: a request is refused (retry after one second) when the store cannot
// answer, and logged (unless marked storage.ErrUnavailable, an outage the caller logs);
// [Stored.Check] returns the error instead. The Store interface carries no context; each call is bounded by
// Timeout.
type Stored struct {
	a       storage.Adapter
	model   string
	log     *slog.Logger
	Timeout time.Duration
}

// NewStored returns a Stored limiter over a, whose schema must contain Model(model).
func NewStored(a storage.Adapter, model string, log *slog.Logger) *Stored {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Stored{a: a, model: model, log: log, Timeout: 5 * time.Second}
}

var _ Store = (*Stored)(nil)

// storedAttempts bounds how often Allow re-decides after losing a race.
const storedAttempts = 8

// failClosedRetry is the Retry-After of a request refused because the store failed.
const failClosedRetry = time.Second

// Allow implements [Store] with spec §4.6's semantics, across every node sharing the store.
func (s *Stored) Allow(key string, rule Rule, now time.Time) (bool, time.Duration) {
	ok, retry, err := s.Check(key, rule, now)
	if err != nil {
		s.logFailure(err)
	}
	return ok, retry
}

// Check is Allow that returns the storage failure behind a refusal instead of logging it,
// so that a caller can answer an outage as such (503) rather than as a limit (429). A
// failure always comes with ok false.
func (s *Stored) Check(key string, rule Rule, now time.Time) (bool, time.Duration, error) {
	if ok, retry, decided := trivial(rule); decided {
		return ok, retry, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.Timeout)
	defer cancel()
	ms := now.UnixMilli()
	start := ms - rule.Window.Milliseconds() // a lastRequest after start is inside the window
	set := storage.Record{FieldLastRequest: ms, FieldExpiresAt: ms + rule.Window.Milliseconds()}
	// The common case — inside the window and under Max — is one conditional write.
	_, err := s.a.IncrementOne(ctx, s.model, storage.And(storage.ByID(key),
		storage.Gt(FieldLastRequest, start), storage.Lt(FieldCount, int64(rule.Max))), FieldCount, 1, set)
	if err == nil {
		return true, 0, nil
	}
	if !errors.Is(err, storage.ErrNotFound) {
		return false, failClosedRetry, fmt.Errorf("rate limit update: %w", err)
	}
	for range storedAttempts {
		rec, err := s.a.FindOne(ctx, s.model, storage.ByID(key))
		switch {
		case errors.Is(err, storage.ErrNotFound):
			_, err = s.a.Create(ctx, s.model, storage.Record{"id": key, FieldKey: key, FieldCount: int64(1),
				FieldLastRequest: ms, FieldExpiresAt: ms + rule.Window.Milliseconds()})
			if err == nil {
				return true, 0, nil
			}
			if errors.Is(err, storage.ErrDuplicate) {
				continue // another node created it: decide again
			}
			return false, failClosedRetry, fmt.Errorf("rate limit create: %w", err)
		case err != nil:
			return false, failClosedRetry, fmt.Errorf("rate limit read: %w", err)
		}
		last := rec.Int(FieldLastRequest)
		if last <= start {
			// The window has passed: restart it, unless someone else just did.
			restart := storage.Record{FieldCount: int64(1)}
			restart.Merge(set)
			_, err = s.a.Update(ctx, s.model, storage.And(storage.ByID(key), storage.Lte(FieldLastRequest, start)), restart)
		} else {
			if rec.Int(FieldCount) >= int64(rule.Max) {
				retry := rule.Window - time.Duration(ms-last)*time.Millisecond
				return false, min(max(retry, time.Millisecond), rule.Window), nil
			}
			_, err = s.a.IncrementOne(ctx, s.model, storage.And(storage.ByID(key),
				storage.Gt(FieldLastRequest, start), storage.Lt(FieldCount, int64(rule.Max))), FieldCount, 1, set)
		}
		if err == nil {
			return true, 0, nil
		}
		if !errors.Is(err, storage.ErrNotFound) {
			return false, failClosedRetry, fmt.Errorf("rate limit update: %w", err)
		}
		// The row changed under us (another node counted or restarted it): decide again.
	}
	return false, failClosedRetry, errors.New("rate limit: too much contention")
}

// Peek implements [Store]: Allow's verdict without a write.
func (s *Stored) Peek(key string, rule Rule, now time.Time) (bool, time.Duration) {
	if ok, retry, decided := trivial(rule); decided {
		return ok, retry
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.Timeout)
	defer cancel()
	rec, err := s.a.FindOne(ctx, s.model, storage.ByID(key))
	if errors.Is(err, storage.ErrNotFound) {
		return true, 0
	}
	if err != nil {
		return s.failClosed("read", err)
	}
	elapsed := time.Duration(now.UnixMilli()-rec.Int(FieldLastRequest)) * time.Millisecond
	if elapsed < rule.Window && rec.Int(FieldCount) >= int64(rule.Max) {
		return false, min(max(rule.Window-elapsed, time.Millisecond), rule.Window)
	}
	return true, 0
}

// Reset implements [Store]: key starts afresh on every node.
func (s *Stored) Reset(key string) {
	ctx, cancel := context.WithTimeout(context.Background(), s.Timeout)
	defer cancel()
	if err := s.a.Delete(ctx, s.model, storage.ByID(key)); err != nil && !errors.Is(err, storage.ErrNotFound) {
		s.log.Error("rate limit: reset failed", "error", err.Error())
	}
}

// Sweep deletes the counters whose window ended before now and returns how many.
func (s *Stored) Sweep(ctx context.Context, now time.Time) (int, error) {
	return s.a.DeleteMany(ctx, s.model, storage.Lte(FieldExpiresAt, now.UnixMilli()))
}

func (s *Stored) failClosed(op string, err error) (bool, time.Duration) {
	s.logFailure(fmt.Errorf("rate limit %s: %w", op, err))
	return false, failClosedRetry
}

// logFailure logs a refusal caused by the store, unless the error is marked
// storage.ErrUnavailable: an outage is logged once by whoever marked it (the engine's
// storage health tracker), not once per request.
func (s *Stored) logFailure(err error) {
	if errors.Is(err, storage.ErrUnavailable) {
		return
	}
	s.log.Error("rate limit: storage failed; refusing the request", "error", err.Error())
}
