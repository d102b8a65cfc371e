package caddymodule

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/gatehouse-auth/gatehouse/storage"
	"github.com/gatehouse-auth/gatehouse/storage/bolt"
)

func init() {
	caddy.RegisterModule(BoltStorage{})
}

// StorageModule is a module in the gatehouse.storage namespace: it opens (or shares) a
// store. Key identifies the underlying database, so runtime state can be shared by configs
// that use the same one.
type StorageModule interface {
	Store() storage.Store
	Key() string
}

// BoltStorage is the embedded bbolt store, the default.
type BoltStorage struct {
	// Path of the database file. Default: gatehouse.db in Caddy's data directory.
	Path string `json:"path,omitempty"`

	key   string
	store *bolt.Store
}

// boltPool shares one open bbolt handle per file: bbolt locks its file exclusively and Caddy
// provisions a new config before stopping the old one, so a second Open would block
// (CONVENTIONS 14).
var boltPool = caddy.NewUsagePool()

type pooledBolt struct{ *bolt.Store }

func (p pooledBolt) Destruct() error { return p.Close() }

// CaddyModule returns the Caddy module information.
func (BoltStorage) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "gatehouse.storage.bbolt", New: func() caddy.Module { return new(BoltStorage) }}
}

// Provision opens the file, or takes the handle another config already opened.
func (b *BoltStorage) Provision(ctx caddy.Context) error {
	p := b.Path
	if p == "" {
		p = filepath.Join(caddy.AppDataDir(), "gatehouse.db")
	}
	abs, err := caddy.FastAbs(p)
	if err != nil {
		return fmt.Errorf("storage bbolt %q: %w", p, err)
	}
	b.key = "bbolt:" + filepath.Clean(abs)
	v, _, err := boltPool.LoadOrNew(b.key, func() (caddy.Destructor, error) {
		if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
			return nil, err
		}
		st, err := bolt.Open(abs, &bolt.Options{Timeout: 10 * time.Second})
		if err != nil {
			return nil, err
		}
		return pooledBolt{st}, nil
	})
	if err != nil {
		return fmt.Errorf("storage bbolt: %w", err)
	}
	b.store = v.(pooledBolt).Store
	return nil
}

// Store returns the shared handle.
func (b *BoltStorage) Store() storage.Store { return b.store }

// Key identifies the database file.
func (b *BoltStorage) Key() string { return b.key }

// Cleanup releases this config's use of the handle; the last user closes it.
func (b *BoltStorage) Cleanup() error {
	if b.key == "" {
		return nil
	}
	_, err := boltPool.Delete(b.key)
	return err
}

// Interface guards
var (
	_ caddy.Provisioner  = (*BoltStorage)(nil)
	_ caddy.CleanerUpper = (*BoltStorage)(nil)
	_ StorageModule      = (*BoltStorage)(nil)
)
