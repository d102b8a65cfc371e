package gatehousecmd

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.etcd.io/bbolt"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	"github.com/gatehouse-auth/gatehouse/caddymodule"
)

func init() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "backup",
		Usage: "--output <file> [--force] [--address <addr> | --config <path> [--adapter <name>]] [--json]",
		Short: "Writes a consistent snapshot of a running server's bbolt store",
		Long: `
  gatehouse backup --output /var/backups/gatehouse-$(date +%F).db

Asks the running server (through its admin API, found as for 'gatehouse
user') for a snapshot of its bbolt data file, taken inside one read
transaction: it holds every change committed before the snapshot began and
none made after, while the server keeps serving and writing. The copy is
written to a temporary file next to --output, checked (it must open with
bbolt and pass bbolt's consistency check), flushed to disk, and renamed to
--output with mode 0600. An existing --output is refused unless --force.

The file holds password hashes, hashed session tokens and encrypted
secrets: keep it as private as the server's secret. Restoring it needs the
same secret.

Restore: stop the server, replace its data file (storage bbolt <path>,
default gatehouse.db in Caddy's data directory) with the snapshot, start
the server. A snapshot is also a valid source for
'gatehouse storage migrate --from bbolt:<file>'.

PostgreSQL storage is not backed up this way (the server answers 501): use
pg_dump.
`,
		CobraFunc: func(cmd *cobra.Command) {
			adminFlags(cmd)
			f := cmd.Flags()
			f.StringP("output", "o", "", "File to write the snapshot to (required)")
			f.Bool("force", false, "Replace --output if it exists")
			cmd.Args = cobra.NoArgs
			cmd.RunE = backupCommand
		},
	})
}

func backupCommand(cmd *cobra.Command, _ []string) error {
	dest, _ := cmd.Flags().GetString("output")
	force, _ := cmd.Flags().GetBool("force")
	asJSON, _ := cmd.Flags().GetBool("json")
	if dest == "" {
		return errors.New("--output <file> is required")
	}
	if !force {
		if _, err := os.Lstat(dest); err == nil {
			return fmt.Errorf("%s exists; pass --force to replace it (never point --output at the server's own data file)", dest)
		} else if !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	c, err := newAdminClient(cmd)
	if err != nil {
		return err
	}
	start := time.Now()
	n, err := c.backup(cmd, dest)
	if err != nil {
		return err
	}
	o := &output{w: cmd.OutOrStdout(), json: asJSON}
	if asJSON {
		b, err := json.Marshal(map[string]any{"output": dest, "bytes": n})
		if err != nil {
			return err
		}
		return o.printJSON(b)
	}
	o.linef("wrote %s (%d bytes) in %s", dest, n, time.Since(start).Round(time.Millisecond))
	return nil
}

// backup downloads the snapshot into a temporary file beside output, verifies it, syncs it
// and renames it into place. Nothing is left behind on failure.
func (c *adminClient) backup(cmd *cobra.Command, output string) (n int64, err error) {
	dir, base := filepath.Split(output)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".partial-*")
	if err != nil {
		return 0, fmt.Errorf("creating the output file: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return 0, err
	}

	req, err := http.NewRequestWithContext(cmd.Context(), http.MethodGet, c.origin+caddymodule.AdminPrefix+"backup", nil)
	if err != nil {
		return 0, err
	}
	if !strings.HasPrefix(c.network, "unix") {
		req.Header.Set("Origin", c.origin)
	}
	hc := *c.http
	hc.Timeout = 0 // a large file takes as long as it takes; ^C cancels
	resp, err := hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("cannot reach the admin API at %s (is gatehouse running? use --address or --config): %w", c.addr, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if resp.StatusCode < 400 {
			return 0, fmt.Errorf("unexpected answer %s from the admin API", resp.Status)
		}
		return 0, fmt.Errorf("backup refused: %w", answerError(resp.StatusCode, b))
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/octet-stream" {
		return 0, fmt.Errorf("the admin API answered %q, not a snapshot: is this a gatehouse server?", resp.Header.Get("Content-Type"))
	}
	if resp.ContentLength < 0 {
		return 0, errors.New("the admin API's answer has no Content-Length: cannot tell a complete snapshot from a cut one")
	}
	n, err = io.Copy(tmp, resp.Body)
	if err != nil {
		return n, fmt.Errorf("receiving the snapshot (%d of %d bytes): %w", n, resp.ContentLength, err)
	}
	if n != resp.ContentLength {
		return n, fmt.Errorf("the snapshot was cut short: %d of %d bytes (see the server's log)", n, resp.ContentLength)
	}
	if err := tmp.Sync(); err != nil {
		return n, fmt.Errorf("flushing %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return n, err
	}
	if err := checkSnapshot(tmp.Name()); err != nil {
		return n, err
	}
	if err := os.Rename(tmp.Name(), output); err != nil {
		return n, fmt.Errorf("moving the snapshot into place: %w", err)
	}
	// Make the rename itself durable.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return n, nil
}

// checkSnapshot opens a downloaded snapshot with bbolt, read-only, and runs bbolt's
// consistency check over every page, and makes sure it is a Gatehouse file.
func checkSnapshot(path string) error {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return fmt.Errorf("the snapshot does not open as a bbolt file: %w", err)
	}
	defer db.Close()
	return db.View(func(tx *bbolt.Tx) error {
		var errs []error
		for e := range tx.Check() { // drain it: Check's goroutine uses tx until it ends
			if len(errs) < 10 {
				errs = append(errs, e)
			}
		}
		if len(errs) > 0 {
			return fmt.Errorf("the snapshot fails bbolt's consistency check: %w", errors.Join(errs...))
		}
		if tx.Bucket([]byte("meta")) == nil {
			return errors.New("the snapshot is not a Gatehouse data file (no meta bucket)")
		}
		return nil
	})
}
