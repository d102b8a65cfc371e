package caddymodule

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/gatehouse-auth/gatehouse/storage"
)

// backupPath is the admin route of `gatehouse backup`:
//
//	GET /gatehouse/backup   200 application/octet-stream: the whole bbolt file as of one
//	                        read transaction, with its exact Content-Length
//
// The snapshot is consistent while the server keeps writing (storage.Snapshotter; bbolt's
// Tx.WriteTo): it holds every transaction committed before it began and none after. A store
// that cannot take one (PostgreSQL) answers 501: back it up with pg_dump. Restore is
// offline: stop the server, put the file in the data file's place, start it again.
//
// Once the first byte is sent the status cannot change: a copy that fails midway ends the
// connection short of Content-Length, which the client must treat as a failure (the CLI
// does).
const backupPath = "backup"

// runningStorage returns the storage module of the gatehouse app in the active config.
func runningStorage() (StorageModule, error) {
	app, err := caddy.ActiveContext().AppIfConfigured("gatehouse")
	if err != nil {
		return nil, apiErr(http.StatusServiceUnavailable, "the gatehouse app is not running: the active config has no gatehouse block (%v)", err)
	}
	ga, ok := app.(*App)
	if !ok || ga.store == nil {
		return nil, apiErr(http.StatusServiceUnavailable, "the gatehouse app is not running")
	}
	return ga.store, nil
}

// serveBackup streams a snapshot of the store.
func (a *AdminAPI) serveBackup(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		return apiErr(http.StatusMethodNotAllowed, "method %s not allowed on %s (allowed: GET)", r.Method, r.URL.Path)
	}
	get := a.storage
	if get == nil {
		get = runningStorage
	}
	mod, err := get()
	if err != nil {
		return err
	}
	snap, ok := mod.Store().(storage.Snapshotter)
	if !ok {
		name := "this storage backend"
		if m, ok := mod.(caddy.Module); ok {
			name = "storage " + string(m.CaddyModule().ID)
		}
		hint := "back it up with the database's own tools"
		if _, shared := mod.(SharedStorage); shared {
			hint = "the data lives in PostgreSQL: back it up with pg_dump (or your database's backups)"
		}
		return apiErr(http.StatusNotImplemented, "%s cannot be backed up through Gatehouse: %s", name, hint)
	}
	var started bool
	n, err := snap.Snapshot(r.Context(), w, func(size int64) {
		started = true
		h := w.Header()
		h.Set("Content-Type", "application/octet-stream")
		h.Set("Content-Length", strconv.FormatInt(size, 10))
		h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="gatehouse-%s.db"`, time.Now().UTC().Format("20060102T150405Z")))
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusOK)
	})
	if err == nil {
		return nil
	}
	if !started {
		return apiErr(http.StatusInternalServerError, "taking the snapshot: %v", err)
	}
	// The status and part of the body are gone: the short body (against Content-Length)
	// tells the client; say why here.
	caddy.Log().Named("admin.api.gatehouse").Error("backup cut short", zap.Int64("bytes_sent", n), zap.Error(err))
	return nil
}
