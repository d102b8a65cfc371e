package faultstore

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/gatehouse-auth/gatehouse/storage"
)

// Mode says which calls fail.
type Mode uint32

const (
	Off    Mode = 0
	Reads  Mode = 1 // FindOne, FindMany, Count, View
	Writes Mode = 2 // Create, Update*, Delete*, ConsumeOne, IncrementOne, Tx
	All         = Reads | Writes
)

// ErrInjected is the default injected error: it looks like an I/O failure, not like any of
// the storage contract's answers.
var ErrInjected = errors.New("faultstore: injected I/O error")

// Faults switches failures for every adapter bound through its Store. Safe for concurrent
// use; the zero value fails nothing.
type Faults struct {
	mode  atomic.Uint32
	err   atomic.Pointer[error]
	calls atomic.Int64 // calls that failed
}

// Fail makes the calls of mode fail with err (ErrInjected when nil).
func (f *Faults) Fail(mode Mode, err error) {
	if err == nil {
		err = ErrInjected
	}
	f.err.Store(&err)
	f.mode.Store(uint32(mode))
}

// Clear stops injecting failures.
func (f *Faults) Clear() { f.mode.Store(uint32(Off)) }

// Failed returns how many calls failed so far.
func (f *Faults) Failed() int64 { return f.calls.Load() }

func (f *Faults) check(kind Mode) error {
	if Mode(f.mode.Load())&kind == 0 {
		return nil
	}
	f.calls.Add(1)
	return *f.err.Load()
}

// Store wraps s: every adapter it binds fails as f says.
func (f *Faults) Store(s storage.Store) storage.Store { return store{s: s, f: f} }

type store struct {
	s storage.Store
	f *Faults
}

func (st store) Bind(ctx context.Context, s *storage.Schema) (storage.Adapter, error) {
	a, err := st.s.Bind(ctx, s)
	if err != nil {
		return nil, err
	}
	return adapter{Adapter: a, f: st.f}, nil
}

type adapter struct {
	storage.Adapter
	f *Faults
}

func (a adapter) Create(ctx context.Context, model string, rec storage.Record) (storage.Record, error) {
	if err := a.f.check(Writes); err != nil {
		return nil, err
	}
	return a.Adapter.Create(ctx, model, rec)
}

func (a adapter) FindOne(ctx context.Context, model string, where storage.Where) (storage.Record, error) {
	if err := a.f.check(Reads); err != nil {
		return nil, err
	}
	return a.Adapter.FindOne(ctx, model, where)
}

func (a adapter) FindMany(ctx context.Context, model string, q storage.Query) ([]storage.Record, error) {
	if err := a.f.check(Reads); err != nil {
		return nil, err
	}
	return a.Adapter.FindMany(ctx, model, q)
}

func (a adapter) Count(ctx context.Context, model string, where storage.Where) (int, error) {
	if err := a.f.check(Reads); err != nil {
		return 0, err
	}
	return a.Adapter.Count(ctx, model, where)
}

func (a adapter) Update(ctx context.Context, model string, where storage.Where, set storage.Record) (storage.Record, error) {
	if err := a.f.check(Writes); err != nil {
		return nil, err
	}
	return a.Adapter.Update(ctx, model, where, set)
}

func (a adapter) UpdateMany(ctx context.Context, model string, where storage.Where, set storage.Record) (int, error) {
	if err := a.f.check(Writes); err != nil {
		return 0, err
	}
	return a.Adapter.UpdateMany(ctx, model, where, set)
}

func (a adapter) Delete(ctx context.Context, model string, where storage.Where) error {
	if err := a.f.check(Writes); err != nil {
		return err
	}
	return a.Adapter.Delete(ctx, model, where)
}

func (a adapter) DeleteMany(ctx context.Context, model string, where storage.Where) (int, error) {
	if err := a.f.check(Writes); err != nil {
		return 0, err
	}
	return a.Adapter.DeleteMany(ctx, model, where)
}

func (a adapter) ConsumeOne(ctx context.Context, model string, where storage.Where) (storage.Record, error) {
	if err := a.f.check(Writes); err != nil {
		return nil, err
	}
	return a.Adapter.ConsumeOne(ctx, model, where)
}

func (a adapter) IncrementOne(ctx context.Context, model string, where storage.Where, field string, delta int64, set storage.Record) (storage.Record, error) {
	if err := a.f.check(Writes); err != nil {
		return nil, err
	}
	return a.Adapter.IncrementOne(ctx, model, where, field, delta, set)
}

// Tx fails to begin when writes fail, as a database refusing connections does; the calls
// inside a transaction that began fail as the mode says.
func (a adapter) Tx(ctx context.Context, fn func(tx storage.Adapter) error) error {
	if err := a.f.check(Writes); err != nil {
		return err
	}
	return a.Adapter.Tx(ctx, func(tx storage.Adapter) error { return fn(adapter{Adapter: tx, f: a.f}) })
}

// View fails to begin when reads fail.
func (a adapter) View(ctx context.Context, fn func(tx storage.Adapter) error) error {
	if err := a.f.check(Reads); err != nil {
		return err
	}
	return a.Adapter.View(ctx, func(tx storage.Adapter) error { return fn(adapter{Adapter: tx, f: a.f}) })
}
