package migrate

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/gatehouse-auth/gatehouse/storage/bolt"
)

// ErrBoltLocked: the bbolt file is held by another process (a running server).
var ErrBoltLocked = errors.New("the bbolt file is locked")

// DefaultLockTimeout is how long OpenBoltSource waits for the file's shared lock.
const DefaultLockTimeout = 2 * time.Second

// BoltSource is a private copy of a bbolt file, opened as a [bolt.Store].
type BoltSource struct {
	*bolt.Store
	// Models lists the models that hold at least one record in the file, sorted.
	Models []string

	dir string
}

// Close closes the copy and removes it.
func (s *BoltSource) Close() error {
	err := s.Store.Close()
	if rerr := os.RemoveAll(s.dir); err == nil {
		err = rerr
	}
	return err
}

// OpenBoltSource opens the bbolt file at path read-only (waiting at most lockTimeout for
// its shared lock, DefaultLockTimeout when zero), copies a consistent snapshot of it into a
// new directory under tmpDir (os.TempDir() when empty), and opens that copy. A file held by
// a running server fails with an error wrapping ErrBoltLocked that says what to do.
func OpenBoltSource(path, tmpDir string, lockTimeout time.Duration) (*BoltSource, error) {
	if lockTimeout <= 0 {
		lockTimeout = DefaultLockTimeout
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("migrate: source %s: %w", path, err)
	}
	db, err := bbolt.Open(path, 0, &bbolt.Options{ReadOnly: true, Timeout: lockTimeout})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("%w — stop the server or migrate from a snapshot: %s is held by another process, probably a running Gatehouse (waited %s for it); stop it and run this again, or take a consistent snapshot of the running server with `gatehouse backup --output <file>` and migrate from that file", ErrBoltLocked, path, lockTimeout)
	}
	if err != nil {
		return nil, fmt.Errorf("migrate: opening %s read-only: %w", path, err)
	}
	defer db.Close()
	dir, err := os.MkdirTemp(tmpDir, "gatehouse-migrate-")
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	copyPath := filepath.Join(dir, "source.db")
	var models []string
	err = db.View(func(tx *bbolt.Tx) error {
		if tx.Bucket([]byte("meta")) == nil {
			return fmt.Errorf("%s is not a Gatehouse data file (no meta bucket)", path)
		}
		err := tx.ForEach(func(name []byte, b *bbolt.Bucket) error {
			m, ok := bytes.CutPrefix(name, []byte("data/"))
			if !ok {
				return nil
			}
			c := b.Cursor()
			if k, _ := c.Seek([]byte{'r'}); k != nil && k[0] == 'r' {
				models = append(models, strings.TrimRight(string(m), "/"))
			}
			return nil
		})
		if err != nil {
			return err
		}
		return tx.CopyFile(copyPath, 0o600)
	})
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("migrate: reading %s: %w", path, err)
	}
	slices.Sort(models)
	st, err := bolt.Open(copyPath, &bolt.Options{Timeout: lockTimeout})
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return &BoltSource{Store: st, Models: models, dir: dir}, nil
}
