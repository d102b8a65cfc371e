package authcore

import (
	"context"
	"time"

	"github.com/gatehouse-auth/gatehouse/storage"
)

// sweepLoop removes expired rows every SweepInterval until ctx ends (D10). It runs in the
// background and never blocks requests: each sweep is a few bulk deletes.
func (e *Engine) sweepLoop(ctx context.Context) {
	t := time.NewTicker(e.cfg.SweepInterval)
	defer t.Stop()
	e.reportActiveSessions(ctx) // the gauge has a value before the first sweep
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := e.Sweep(ctx); err != nil {
				e.log.Error("sweeping expired rows failed", "error", err.Error())
			}
		}
	}
}

// Sweep deletes expired sessions (sliding or absolute expiry), verification rows, stored
// rate-limit windows and audit events past their retention now, and returns how many rows
// went. With a metrics sink it then counts the active sessions.
func (e *Engine) Sweep(ctx context.Context) (int, error) {
	now := e.clock.Now()
	n1, err := e.store.DeleteMany(ctx, ModelSession, storage.Or(
		storage.Lte("expiresAt", now),
		storage.Lte("createdAt", now.Add(-e.cfg.Session.MaxAge)),
	))
	if err != nil {
		return 0, err
	}
	n2, err := e.store.DeleteMany(ctx, ModelVerification, storage.Lte("expiresAt", now))
	if err != nil {
		return n1 + n2, err
	}
	n3, err := e.sweepStoredLimits(ctx, now)
	if err != nil {
		return n1 + n2 + n3, err
	}
	n4, err := e.sweepAuditEvents(ctx, now)
	e.reportActiveSessions(ctx)
	return n1 + n2 + n3 + n4, err
}
