package authcore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-auth/gatehouse/storage"
)

// unavailableError marks a storage failure as [storage.ErrUnavailable]; the cause's text and
// chain are kept. Requests that meet one are refused with 503 SERVICE_UNAVAILABLE: never
// answered as if the record were absent, which could turn a valid credential into
// "anonymous".
type unavailableError struct{ err error }

func (u *unavailableError) Error() string        { return u.err.Error() }
func (u *unavailableError) Unwrap() error        { return u.err }
func (u *unavailableError) Is(target error) bool { return target == storage.ErrUnavailable }

// storageFault reports whether err is the store failing rather than answering.
func storageFault(err error) bool {
	switch {
	case err == nil,
		errors.Is(err, storage.ErrNotFound),
		errors.Is(err, storage.ErrDuplicate),
		errors.Is(err, storage.ErrRestricted),
		errors.Is(err, storage.ErrUnknownModel),
		errors.Is(err, storage.ErrUnknownField),
		errors.Is(err, storage.ErrInvalidValue),
		errors.Is(err, storage.ErrReadOnly),
		errors.Is(err, context.Canceled), // the client went away
		errors.Is(err, storage.ErrUnavailable):
		return false
	}
	return true
}

// unavailableRetry is the Retry-After of a request refused because storage is unavailable.
const unavailableRetry = 5 * time.Second

// healthReportEvery bounds how often the outage summary is logged while it lasts.
const healthReportEvery = 10 * time.Second

// Operation kinds tracked separately: a file that can no longer grow fails writes while
// reads succeed, and must not log "recovered" on every read.
const (
	opRead uint32 = 1 << iota
	opWrite
)

// storageHealth is the one place that watches storage for an outage and logs it: one line
// when failures start, a summary at most every healthReportEvery while they last, and one
// line when the failing kinds of operation all succeed again. A store that fails only some
// writes (a full disk: a write that fits in free pages succeeds, one that must grow the
// file fails) flaps between the two; a new outage that starts less than healthReportEvery
// after the last announced one is not announced (nor its end), so flapping logs at most a
// start and an end line per period. A success costs one atomic load while storage is
// healthy.
type storageHealth struct {
	down    atomic.Uint32 // opRead|opWrite bits of the kinds currently failing
	refused atomic.Int64  // requests refused since the announced outage started

	mu         sync.Mutex // guards the fields below and transitions of down
	announced  bool       // the current outage's start was logged, its end not yet
	since      time.Time  // start of the announced outage
	lastReport time.Time  // last start or summary line
	reported   int64      // refused at the last summary
	lastErr    string

	log   *slog.Logger
	clock Clock
}

// ok records a successful operation of kind.
func (h *storageHealth) ok(kind uint32) {
	if h.down.Load()&kind == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	d := h.down.Load()
	if d&kind == 0 {
		return
	}
	if kind == opWrite {
		d = 0 // a committed write proves reads work too
	} else {
		d &^= kind
	}
	h.down.Store(d)
	if d != 0 || !h.announced {
		return
	}
	h.announced = false
	n := h.refused.Swap(0)
	out := h.clock.Now().Sub(h.since).Round(time.Millisecond)
	h.log.Warn(fmt.Sprintf("storage recovered after %s (%d requests refused)", out, n),
		"outage", out.String(), "refused", n)
}

// failed records a failed operation of kind and returns the error marked as unavailable.
func (h *storageHealth) failed(kind uint32, err error) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.clock.Now()
	d := h.down.Load()
	h.down.Store(d | kind)
	h.lastErr = err.Error()
	switch {
	case !h.announced && (h.since.IsZero() || now.Sub(h.lastReport) >= healthReportEvery):
		h.announced = true
		h.since, h.lastReport, h.reported = now, now, 0
		h.refused.Store(0)
		h.log.Error("storage unavailable: "+h.lastErr+" — refusing requests with 503",
			"operation", kindName(kind), "error", h.lastErr)
	case h.announced && now.Sub(h.lastReport) >= healthReportEvery:
		n := h.refused.Load()
		h.log.Error(fmt.Sprintf("storage still unavailable after %s: %d requests refused in the last %s",
			now.Sub(h.since).Round(time.Second), n-h.reported, now.Sub(h.lastReport).Round(time.Second)),
			"failing", kindName(d|kind), "error", h.lastErr, "refused", n)
		h.lastReport, h.reported = now, n
	}
	return &unavailableError{err: err}
}

func kindName(k uint32) string {
	switch k {
	case opRead:
		return "read"
	case opWrite:
		return "write"
	}
	return "read+write"
}

// observe records the outcome of one call and returns err, marked when it is a fault.
func (h *storageHealth) observe(kind uint32, err error) error {
	if err == nil {
		h.ok(kind)
		return nil
	}
	if !storageFault(err) {
		if errors.Is(err, storage.ErrNotFound) {
			h.ok(opRead) // the store answered (for a write: without proving it can write)
		}
		return err
	}
	return h.failed(kind, err)
}

// healthAdapter feeds every call's outcome to the tracker and marks failures with
// storage.ErrUnavailable. It sits directly on the bound adapter, under the metrics and
// cache-generation wrappers.
type healthAdapter struct {
	storage.Adapter
	h *storageHealth
}

func (a healthAdapter) Create(ctx context.Context, model string, rec storage.Record) (storage.Record, error) {
	r, err := a.Adapter.Create(ctx, model, rec)
	return r, a.h.observe(opWrite, err)
}

func (a healthAdapter) FindOne(ctx context.Context, model string, where storage.Where) (storage.Record, error) {
	r, err := a.Adapter.FindOne(ctx, model, where)
	return r, a.h.observe(opRead, err)
}

func (a healthAdapter) FindMany(ctx context.Context, model string, q storage.Query) ([]storage.Record, error) {
	r, err := a.Adapter.FindMany(ctx, model, q)
	return r, a.h.observe(opRead, err)
}

func (a healthAdapter) Count(ctx context.Context, model string, where storage.Where) (int, error) {
	n, err := a.Adapter.Count(ctx, model, where)
	return n, a.h.observe(opRead, err)
}

func (a healthAdapter) Update(ctx context.Context, model string, where storage.Where, set storage.Record) (storage.Record, error) {
	r, err := a.Adapter.Update(ctx, model, where, set)
	return r, a.h.observe(opWrite, err)
}

func (a healthAdapter) UpdateMany(ctx context.Context, model string, where storage.Where, set storage.Record) (int, error) {
	n, err := a.Adapter.UpdateMany(ctx, model, where, set)
	return n, a.h.observe(opWrite, err)
}

func (a healthAdapter) Delete(ctx context.Context, model string, where storage.Where) error {
	return a.h.observe(opWrite, a.Adapter.Delete(ctx, model, where))
}

func (a healthAdapter) DeleteMany(ctx context.Context, model string, where storage.Where) (int, error) {
	n, err := a.Adapter.DeleteMany(ctx, model, where)
	return n, a.h.observe(opWrite, err)
}

func (a healthAdapter) ConsumeOne(ctx context.Context, model string, where storage.Where) (storage.Record, error) {
	r, err := a.Adapter.ConsumeOne(ctx, model, where)
	return r, a.h.observe(opWrite, err)
}

func (a healthAdapter) IncrementOne(ctx context.Context, model string, where storage.Where, field string, delta int64, set storage.Record) (storage.Record, error) {
	r, err := a.Adapter.IncrementOne(ctx, model, where, field, delta, set)
	return r, a.h.observe(opWrite, err)
}

// Tx observes the calls inside the transaction one by one, and the transaction itself only
// when fn succeeded: an error fn returns is the caller's (a refusal, or a call already
// observed), while an error after it is the store failing to begin or commit.
func (a healthAdapter) Tx(ctx context.Context, fn func(tx storage.Adapter) error) error {
	var fnErr error
	err := a.Adapter.Tx(ctx, func(tx storage.Adapter) error {
		fnErr = fn(healthAdapter{Adapter: tx, h: a.h})
		return fnErr
	})
	if err != nil && fnErr != nil {
		return err
	}
	return a.h.observe(opWrite, err)
}

// View is Tx for reads.
func (a healthAdapter) View(ctx context.Context, fn func(tx storage.Adapter) error) error {
	var fnErr error
	err := a.Adapter.View(ctx, func(tx storage.Adapter) error {
		fnErr = fn(healthAdapter{Adapter: tx, h: a.h})
		return fnErr
	})
	if err != nil && fnErr != nil {
		return err
	}
	return a.h.observe(opRead, err)
}

// Unavailable returns the answer to a request that failed because storage is unavailable —
// 503 SERVICE_UNAVAILABLE with Retry-After — and counts it for the outage log; nil when err
// is anything else. The gateway and the auth API answer every such request through it, and
// do not log it one by one: the outage is logged once, by the engine.
func (e *Engine) Unavailable(err error) *Error {
	if err == nil || !errors.Is(err, storage.ErrUnavailable) {
		return nil
	}
	var ae *Error
	if errors.As(err, &ae) && ae.Status == http.StatusServiceUnavailable && ae.Code == CodeServiceUnavailable.Code {
		return ae // already answered and counted
	}
	e.health.refused.Add(1)
	return unavailable(err)
}

func unavailable(cause error) *Error {
	h := http.Header{}
	secs := fmt.Sprint(int(unavailableRetry / time.Second))
	h.Set("Retry-After", secs)
	return &Error{Status: http.StatusServiceUnavailable, Code: CodeServiceUnavailable.Code,
		Message: CodeServiceUnavailable.Message, Err: cause, Header: h}
}
