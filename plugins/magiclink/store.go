package magiclink

import (
	"context"
	"errors"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// promote is what a proven mailbox does to an account whose email was never verified
// (spec §7.4, Better Auth's revokeUnprovenAccountAccess): nothing the account gained before
// the proof — a password, an OAuth link, a live session — may outlive it, because whoever
// created it need not own the address. In one transaction the user is re-read (a concurrent
// promotion may have finished), every account and session is deleted, and emailVerified is
// set. It returns the current user, or nil when the user no longer exists.
func (p *Plugin) promote(ctx context.Context, userID string) (storage.Record, error) {
	e := p.engine
	var out storage.Record
	err := e.Store().Tx(ctx, func(tx storage.Adapter) error {
		u, err := tx.FindOne(ctx, authcore.ModelUser, storage.ByID(userID))
		if errors.Is(err, storage.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if u.Bool("emailVerified") {
			out = u
			return nil
		}
		if _, err := tx.DeleteMany(ctx, authcore.ModelAccount, storage.Eq("userId", userID)); err != nil {
			return err
		}
		if _, err := tx.DeleteMany(ctx, authcore.ModelSession, storage.Eq("userId", userID)); err != nil {
			return err
		}
		out, err = tx.Update(ctx, authcore.ModelUser, storage.ByID(userID),
			storage.Record{"emailVerified": true, "updatedAt": e.Clock().Now()})
		return err
	})
	if err != nil {
		return nil, authcore.Internal(err)
	}
	return out, nil
}
