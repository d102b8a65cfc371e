package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gatehouse-auth/gatehouse/storage"
)

// Options tunes the connection pool. The zero value (or nil) keeps pgxpool's defaults and
// whatever the DSN says (pool_max_conns and friends); a non-zero option overrides the DSN.
type Options struct {
	MaxConns        int32         // most open connections (pgxpool default: max(4, NumCPU))
	MinConns        int32         // connections kept open when idle
	MaxConnLifetime time.Duration // a connection is closed after this long (default 1h)
	MaxConnIdleTime time.Duration // an idle connection is closed after this long (default 30m)
	ConnectTimeout  time.Duration // dialling and authenticating one connection
	// StatementTimeout bounds every statement on the server (PostgreSQL's statement_timeout);
	// 0 keeps the server's setting. Schema migrations run without it.
	StatementTimeout time.Duration
	// TxAttempts is how often Tx runs its function when PostgreSQL reports a serialization
	// failure or a deadlock (default 30); single operations retry the same way.
	TxAttempts int
}

// Store is an open PostgreSQL connection pool. Open it once per process and share it;
// [Store.Bind] gives an adapter per schema.
type Store struct {
	pool     *pgxpool.Pool
	attempts int
	closed   atomic.Bool
}

// Open connects to the database named by dsn (a postgres:// URL or a key=value string),
// checks that it answers, and returns the store.
func Open(ctx context.Context, dsn string, opts *Options) (*Store, error) {
	if opts == nil {
		opts = &Options{}
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	if opts.MinConns > 0 {
		cfg.MinConns = opts.MinConns
	}
	if cfg.MinConns > cfg.MaxConns {
		return nil, fmt.Errorf("postgres: min_conns %d is more than max_conns %d", cfg.MinConns, cfg.MaxConns)
	}
	if opts.MaxConnLifetime > 0 {
		cfg.MaxConnLifetime = opts.MaxConnLifetime
	}
	if opts.MaxConnIdleTime > 0 {
		cfg.MaxConnIdleTime = opts.MaxConnIdleTime
	}
	if opts.ConnectTimeout > 0 {
		cfg.ConnConfig.ConnectTimeout = opts.ConnectTimeout
	}
	if opts.StatementTimeout > 0 {
		cfg.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(opts.StatementTimeout.Milliseconds(), 10)
	}
	attempts := opts.TxAttempts
	if attempts <= 0 {
		attempts = 30
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connecting: %w", err)
	}
	return &Store{pool: pool, attempts: attempts}, nil
}

// Close closes the pool; adapters bound to the store fail with storage.ErrClosed afterwards.
func (s *Store) Close() {
	if s.closed.CompareAndSwap(false, true) {
		s.pool.Close()
	}
}

// Pool returns the underlying pool, for health checks and metrics.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Bind migrates the database to what the schema needs (see the package doc) and returns an
// adapter bound to it.
func (s *Store) Bind(ctx context.Context, schema *storage.Schema) (storage.Adapter, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("postgres: %w", storage.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := schema.Validate(); err != nil {
		return nil, fmt.Errorf("postgres: binding schema: %w", err)
	}
	b, err := newBinding(schema)
	if err != nil {
		return nil, err
	}
	if err := s.migrate(ctx, b); err != nil {
		return nil, err
	}
	return &adapter{st: s, b: b, done: new(atomic.Bool)}, nil
}

// retryable reports whether PostgreSQL rolled the transaction back because of a concurrent
// one: a serialization failure or a deadlock. Running it again is the remedy.
func retryable(err error) bool {
	var pe interface{ SQLState() string }
	if errors.As(err, &pe) {
		switch pe.SQLState() {
		case "40001", "40P01":
			return true
		}
	}
	return false
}

// backoff sleeps a little, more after each attempt, with jitter so that retrying
// transactions spread out.
func backoff(ctx context.Context, attempt int) error {
	d := time.Duration(1<<min(attempt, 6)) * time.Millisecond
	d += time.Duration(time.Now().UnixNano() % int64(d))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

var _ storage.Store = (*Store)(nil)

// txOptions of a Tx: serializable, so read-modify-write functions lose no update and see
// no write skew; conflicts make PostgreSQL abort one side, which is retried.
var txOptions = pgx.TxOptions{IsoLevel: pgx.Serializable}

// viewOptions of a View: one snapshot for every read, writes refused by the server too.
var viewOptions = pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
