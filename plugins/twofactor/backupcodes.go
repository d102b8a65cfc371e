package twofactor

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// Backup codes (spec §7.3): amount codes of generateRandomString(length, a-z 0-9 A-Z), shown
// as "xxxxx-xxxxx" (a dash after the fifth character), stored as a JSON array, encrypted with
// the engine's keyring unless store_backup_codes is plain. A code works once: it is removed
// in the storage transaction that accepts it.

const backupAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

// newBackupCodes returns fresh codes and their stored form.
func (p *Plugin) newBackupCodes() (codes []string, stored string, err error) {
	codes = make([]string, p.amount)
	for i := range codes {
		s, err := p.engine.Random().String(p.length, backupAlphabet)
		if err != nil {
			return nil, "", authcore.Internal(err)
		}
		codes[i] = s[:5] + "-" + s[5:]
	}
	stored, err = p.encodeBackupCodes(codes)
	return codes, stored, err
}

func (p *Plugin) encodeBackupCodes(codes []string) (string, error) {
	if codes == nil {
		codes = []string{}
	}
	j, err := json.Marshal(codes)
	if err != nil {
		return "", authcore.Internal(err)
	}
	if p.plainBackup {
		return string(j), nil
	}
	enc, err := p.engine.Keys().Encrypt(p.engine.Random().Reader(), j)
	if err != nil {
		return "", authcore.Internal(err)
	}
	return enc, nil
}

// decodeBackupCodes reads a stored list. A row written under the other storage setting is
// read too (a plain JSON array always starts with '['; ciphertext never does), so changing
// store_backup_codes does not strand existing codes.
func (p *Plugin) decodeBackupCodes(stored string) ([]string, error) {
	raw := []byte(stored)
	if len(stored) == 0 || stored[0] != '[' {
		b, err := p.engine.Keys().Decrypt(stored)
		if err != nil {
			return nil, err
		}
		raw = b
	}
	var codes []string
	if err := json.Unmarshal(raw, &codes); err != nil {
		return nil, err
	}
	return codes, nil
}

// indexOf finds code among codes, comparing with every one in constant time.
func indexOf(codes []string, code string) int {
	found := -1
	for i, c := range codes {
		if subtle.ConstantTimeCompare([]byte(c), []byte(code)) == 1 {
			found = i
		}
	}
	return found
}

// errRollback aborts a transaction whose verdict is already decided.
var errRollback = errors.New("two-factor: rolled back")

// useBackupCode removes code from the user's list, atomically: among concurrent uses of one
// code exactly one gets true. With challengeID set the pending sign-in is consumed in the
// same transaction (a code is never spent without its sign-in, nor the other way round); a
// challenge that is gone is errInvalidCookie. The write is also guarded on the stored value
// being the one read, so an adapter with weaker transactions still cannot accept a code
// twice.
func (p *Plugin) useBackupCode(ctx context.Context, userID, code, challengeID string) (ok bool, err error) {
	var verdict error
	err = p.engine.Store().Tx(ctx, func(tx storage.Adapter) error {
		if challengeID != "" {
			rec, err := p.consumeChallengeTx(ctx, tx, challengeID)
			if err != nil {
				return err
			}
			if rec == nil || rec.String("value") != userID {
				verdict = errInvalidCookie
				return errRollback
			}
		}
		row, err := tx.FindOne(ctx, ModelTwoFactor, storage.Eq(FieldUserID, userID))
		if errors.Is(err, storage.ErrNotFound) {
			verdict = CodeBackupCodesNotEnabled.With(http.StatusBadRequest)
			return errRollback
		}
		if err != nil {
			return err
		}
		old := row.String(FieldBackupCodes)
		codes, err := p.decodeBackupCodes(old)
		if err != nil {
			verdict = errInvalidBackup
			return errRollback
		}
		i := indexOf(codes, code)
		if i < 0 {
			verdict = errInvalidBackup
			return errRollback
		}
		stored, err := p.encodeBackupCodes(append(codes[:i:i], codes[i+1:]...))
		if err != nil {
			return err
		}
		_, err = tx.Update(ctx, ModelTwoFactor, storage.And(storage.ByID(row.ID()), storage.Eq(FieldBackupCodes, old)),
			storage.Record{FieldBackupCodes: stored})
		if errors.Is(err, storage.ErrNotFound) {
			verdict = errInvalidBackup
			return errRollback
		}
		return err
	})
	if errors.Is(err, errRollback) {
		return false, verdict
	}
	if err != nil {
		return false, authcore.Internal(err)
	}
	return true, nil
}

// UserBackupCodes returns a user's remaining backup codes in clear (Better Auth's server-only
// viewBackupCodes) for trusted server code: an operator tool, a migration. It has no URL.
// 400 BACKUP_CODES_NOT_ENABLED when the user has no two-factor row.
func (p *Plugin) UserBackupCodes(ctx context.Context, userID string) ([]string, error) {
	row, err := p.row(ctx, userID)
	if err != nil {
		return nil, err
	}
	if row == nil {
		return nil, CodeBackupCodesNotEnabled.With(http.StatusBadRequest)
	}
	codes, err := p.decodeBackupCodes(row.String(FieldBackupCodes))
	if err != nil {
		return nil, CodeInvalidBackupCode.With(http.StatusBadRequest)
	}
	if codes == nil {
		codes = []string{}
	}
	return codes, nil
}

// ViewBackupCodes is viewBackupCodes for an HTTP request (the portal's "show my codes"
// page): the caller's own codes, and only with a fresh session re-read from storage — a
// session older than session.fresh_age answers 403 SESSION_NOT_FRESH, none 401.
func (p *Plugin) ViewBackupCodes(c *authcore.Call) ([]string, error) {
	s, err := p.freshSession(c)
	if err != nil {
		return nil, err
	}
	return p.UserBackupCodes(c.Context(), s.UserID())
}

// freshSession returns the call's session if it is young enough for sensitive actions,
// judged as the engine judges AuthFresh endpoints.
func (p *Plugin) freshSession(c *authcore.Call) (*authcore.Session, error) {
	s, err := c.RequireSession()
	if err != nil {
		return nil, err
	}
	fresh := p.engine.Config().Session.FreshAge
	if fresh >= 0 && p.engine.Clock().Now().Sub(s.Session.Time("createdAt")) >= fresh {
		return nil, authcore.CodeSessionNotFresh.With(http.StatusForbidden)
	}
	return s, nil
}
