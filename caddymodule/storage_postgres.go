package caddymodule

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/gatehouse-auth/gatehouse/storage"
	"github.com/gatehouse-auth/gatehouse/storage/postgres"
)

func init() {
	caddy.RegisterModule(PostgresStorage{})
}

// SharedStorage is implemented by storage modules whose database other Gatehouse processes
// use at the same time (PostgreSQL behind a load balancer). The app then builds the engine
// WithSharedStore: rate limits and lock-outs counted in the database, a 5 s session cache,
// API-key quotas leased one unit at a time.
type SharedStorage interface {
	Shared() bool
}

// PostgresStorage is PostgreSQL (storage/postgres), for several Gatehouse nodes on one
// database. Caddyfile:
//
//	storage postgres <dsn> {
//	    max_conns 20  min_conns 2  max_conn_lifetime 1h  max_conn_idle_time 30m
//	    connect_timeout 5s  statement_timeout 10s  tx_attempts 30
//	}
//
// The DSN (postgres://… URL or key=value string) may be a placeholder such as
// {env.GATEHOUSE_DATABASE_URL}, replaced at provision. Unset options keep pgxpool's defaults
// and whatever the DSN says (pool_max_conns …).
type PostgresStorage struct {
	DSN              string         `json:"dsn"`
	MaxConns         int            `json:"max_conns,omitempty"`
	MinConns         int            `json:"min_conns,omitempty"`
	MaxConnLifetime  caddy.Duration `json:"max_conn_lifetime,omitempty"`
	MaxConnIdleTime  caddy.Duration `json:"max_conn_idle_time,omitempty"`
	ConnectTimeout   caddy.Duration `json:"connect_timeout,omitempty"`
	StatementTimeout caddy.Duration `json:"statement_timeout,omitempty"`
	TxAttempts       int            `json:"tx_attempts,omitempty"`

	key   string
	pool  string
	store *postgres.Store
}

// pgPool shares one connection pool per DSN and options across config reloads, as boltPool
// shares a bbolt handle: Caddy provisions the new config before cleaning up the old one, so
// a reload with the same database reuses the open pool instead of reconnecting. A reload
// that changes the options opens a new pool; the old one closes with the old config.
var pgPool = caddy.NewUsagePool()

type pooledPostgres struct{ *postgres.Store }

func (p pooledPostgres) Destruct() error { p.Close(); return nil }

// CaddyModule returns the Caddy module information.
func (PostgresStorage) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "gatehouse.storage.postgres", New: func() caddy.Module { return new(PostgresStorage) }}
}

// options checks and converts the pool options.
func (p *PostgresStorage) options() (*postgres.Options, error) {
	var errs []error
	if p.MaxConns < 0 || p.MaxConns > 10000 {
		errs = append(errs, fmt.Errorf("max_conns %d: must be 1..10000", p.MaxConns))
	}
	if p.MinConns < 0 || p.MinConns > 10000 {
		errs = append(errs, fmt.Errorf("min_conns %d: must be 0..10000", p.MinConns))
	}
	if p.MaxConns > 0 && p.MinConns > p.MaxConns {
		errs = append(errs, fmt.Errorf("min_conns %d is more than max_conns %d", p.MinConns, p.MaxConns))
	}
	if p.TxAttempts < 0 || p.TxAttempts > 1000 {
		errs = append(errs, fmt.Errorf("tx_attempts %d: must be 1..1000", p.TxAttempts))
	}
	for name, d := range map[string]caddy.Duration{"max_conn_lifetime": p.MaxConnLifetime, "max_conn_idle_time": p.MaxConnIdleTime,
		"connect_timeout": p.ConnectTimeout, "statement_timeout": p.StatementTimeout} {
		if d < 0 {
			errs = append(errs, fmt.Errorf("%s %v: must not be negative", name, time.Duration(d)))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &postgres.Options{
		MaxConns: int32(p.MaxConns), MinConns: int32(p.MinConns),
		MaxConnLifetime: time.Duration(p.MaxConnLifetime), MaxConnIdleTime: time.Duration(p.MaxConnIdleTime),
		ConnectTimeout: time.Duration(p.ConnectTimeout), StatementTimeout: time.Duration(p.StatementTimeout),
		TxAttempts: p.TxAttempts,
	}, nil
}

// Validate checks the options without connecting.
func (p *PostgresStorage) Validate() error {
	if p.DSN == "" {
		return errors.New("storage postgres: a DSN is required")
	}
	if _, err := p.options(); err != nil {
		return fmt.Errorf("storage postgres: %w", err)
	}
	return nil
}

// Provision connects, or takes the pool another config already opened for the same DSN and
// options.
func (p *PostgresStorage) Provision(caddy.Context) error {
	dsn, err := replace(caddy.NewReplacer(), "storage postgres dsn", p.DSN)
	if err != nil {
		return err
	}
	if dsn == "" {
		return errors.New("storage postgres: the DSN is empty (is its environment variable set?)")
	}
	opts, err := p.options()
	if err != nil {
		return fmt.Errorf("storage postgres: %w", err)
	}
	// Keys hold a digest, never the DSN: it may carry a password.
	sum := sha256.Sum256([]byte(dsn))
	p.key = "postgres:" + hex.EncodeToString(sum[:16])
	o, _ := json.Marshal(opts)
	sum = sha256.Sum256(append([]byte(dsn+"\x00"), o...))
	p.pool = "postgres:" + hex.EncodeToString(sum[:16])
	v, _, err := pgPool.LoadOrNew(p.pool, func() (caddy.Destructor, error) {
		timeout := 30 * time.Second
		if opts.ConnectTimeout > 0 {
			timeout = 2 * opts.ConnectTimeout
		}
		// Not the config's context: the pool outlives this config when a reload shares it.
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		st, err := postgres.Open(ctx, dsn, opts)
		if err != nil {
			return nil, err
		}
		return pooledPostgres{st}, nil
	})
	if err != nil {
		p.pool = ""
		return fmt.Errorf("storage postgres: %w", err)
	}
	p.store = v.(pooledPostgres).Store
	return nil
}

// Store returns the shared pool.
func (p *PostgresStorage) Store() storage.Store { return p.store }

// Key identifies the database (a digest of the DSN).
func (p *PostgresStorage) Key() string { return p.key }

// Shared reports that other nodes use the database too.
func (p *PostgresStorage) Shared() bool { return true }

// Cleanup releases this config's use of the pool; the last user closes it.
func (p *PostgresStorage) Cleanup() error {
	if p.pool == "" {
		return nil
	}
	_, err := pgPool.Delete(p.pool)
	return err
}

// Interface guards
var (
	_ caddy.Provisioner  = (*PostgresStorage)(nil)
	_ caddy.Validator    = (*PostgresStorage)(nil)
	_ caddy.CleanerUpper = (*PostgresStorage)(nil)
	_ StorageModule      = (*PostgresStorage)(nil)
	_ SharedStorage      = (*PostgresStorage)(nil)
)
