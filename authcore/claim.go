package authcore

import (
	"context"
	"errors"

	"github.com/gatehouse-auth/gatehouse/storage"
)

// credentialModel is a model whose records let their user in (passkeys, two-factor secrets,
// API keys): declared with [Registrar.Credential], removed by [Engine.ClaimEmail].
type credentialModel struct {
	model, userField string
	userFlags        []string
}

// Credential declares that records of model, owned by the user whose id is in userField, can
// sign that user in or stand in for a factor. When an unverified account is claimed by the
// proven owner of its address ([Engine.ClaimEmail]), such records are deleted with the
// account's passwords and sessions, and the boolean user fields userFlags that announce them
// (twoFactorEnabled) are reset to false.
func (r *Registrar) Credential(model, userField string, userFlags ...string) {
	r.reg.credentials = append(r.reg.credentials, credentialModel{model: model, userField: userField, userFlags: userFlags})
}

// ClaimEmail is the one step every passwordless method (magic link, email code) takes when
// the owner of an unverified account's email address has just proved it. The account may
// have been set up by someone else before the owner arrived (account pre-hijacking), so
// whatever was attached before the proof — passwords and linked accounts, sessions, and the
// records of every declared credential model — is deleted in one transaction and the email
// marked verified, as Better Auth does. A verified user is returned unchanged; nil when the
// user does not exist (any more).
func (e *Engine) ClaimEmail(ctx context.Context, userID string) (storage.Record, error) {
	var out storage.Record
	err := e.store.Tx(ctx, func(tx storage.Adapter) error {
		u, err := tx.FindOne(ctx, ModelUser, storage.ByID(userID))
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
		set := storage.Record{"emailVerified": true, "updatedAt": e.clock.Now()}
		strip := append([]credentialModel{{model: ModelAccount, userField: "userId"}, {model: ModelSession, userField: "userId"}}, e.reg.credentials...)
		for _, c := range strip {
			if _, err := tx.DeleteMany(ctx, c.model, storage.Eq(c.userField, userID)); err != nil {
				return err
			}
			for _, f := range c.userFlags {
				set[f] = false
			}
		}
		out, err = tx.Update(ctx, ModelUser, storage.ByID(userID), set)
		return err
	})
	if err != nil {
		return nil, Internal(err)
	}
	return out, nil
}
