package authcore

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/gatehouse-auth/gatehouse/authcore/password"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// NormalizeEmail is the one canonical form of an email address: lower-case (Better Auth
// stores emails lower-cased; Unicode case variants collapse too, ENUM-02).
func NormalizeEmail(s string) string { return strings.ToLower(s) }

// UserByEmail returns the user with that email, or nil.
func (e *Engine) UserByEmail(ctx context.Context, email string) (storage.Record, error) {
	return e.findOptional(ctx, ModelUser, storage.Eq("email", NormalizeEmail(email)))
}

// UserByID returns the user with that id, or nil.
func (e *Engine) UserByID(ctx context.Context, id string) (storage.Record, error) {
	return e.findOptional(ctx, ModelUser, storage.ByID(id))
}

func (e *Engine) findOptional(ctx context.Context, model string, where storage.Where) (storage.Record, error) {
	rec, err := e.store.FindOne(ctx, model, where)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, Internal(err)
	}
	return rec, nil
}

// NewID returns a fresh 32-character id.
func (e *Engine) NewID() (string, error) {
	id, err := e.rand.ID()
	if err != nil {
		return "", Internal(err)
	}
	return id, nil
}

// CreateUser stores a new user (id and timestamps filled in, email normalized) and, when
// passwordHash is not empty, its credential account, in one transaction. A taken email is
// storage.ErrDuplicate (uniqueness is enforced by the store, atomically).
func (e *Engine) CreateUser(ctx context.Context, user storage.Record, passwordHash string) (storage.Record, error) {
	id, err := e.NewID()
	if err != nil {
		return nil, err
	}
	now := e.clock.Now()
	u := user.Clone()
	u["id"], u["createdAt"], u["updatedAt"] = id, now, now
	u["email"] = NormalizeEmail(u.String("email"))
	var out storage.Record
	err = e.store.Tx(ctx, func(tx storage.Adapter) error {
		var err error
		if out, err = tx.Create(ctx, ModelUser, u); err != nil {
			return err
		}
		if passwordHash == "" {
			return nil
		}
		return e.createCredential(ctx, tx, id, passwordHash)
	})
	return out, err
}

func (e *Engine) createCredential(ctx context.Context, tx storage.Adapter, userID, hash string) error {
	aid, err := e.NewID()
	if err != nil {
		return err
	}
	now := e.clock.Now()
	_, err = tx.Create(ctx, ModelAccount, storage.Record{
		"id": aid, "accountId": userID, "providerId": ProviderCredential, "userId": userID,
		"password": hash, "createdAt": now, "updatedAt": now,
	})
	return err
}

// UpdateUser sets fields on a user (updatedAt too) and returns the new row.
func (e *Engine) UpdateUser(ctx context.Context, id string, set storage.Record) (storage.Record, error) {
	s := set.Clone()
	s["updatedAt"] = e.clock.Now()
	rec, err := e.store.Update(ctx, ModelUser, storage.ByID(id), s)
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return nil, CodeUserNotFound.With(http.StatusNotFound)
		}
		return nil, err
	}
	return rec, nil
}

// DeleteUser deletes a user; its sessions and accounts go with it (cascade).
func (e *Engine) DeleteUser(ctx context.Context, id string) error {
	err := e.store.Delete(ctx, ModelUser, storage.ByID(id))
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return Internal(err)
	}
	return nil
}

// CheckNewPassword applies the password policy to a new password: length (400
// PASSWORD_TOO_SHORT / PASSWORD_TOO_LONG, checked before any hashing) and the common-password
// list (400 PASSWORD_TOO_COMMON, D18).
func (e *Engine) CheckNewPassword(pw string) error {
	if err := e.checkPasswordLength(pw); err != nil {
		return err
	}
	if !e.cfg.EmailAndPassword.AllowCommonPasswords && password.IsCommon(pw) {
		return CodePasswordTooCommon.With(http.StatusBadRequest)
	}
	return nil
}

func (e *Engine) checkPasswordLength(pw string) error {
	err := password.CheckLength(pw, e.cfg.EmailAndPassword.MinPasswordLength, e.cfg.EmailAndPassword.MaxPasswordLength)
	switch {
	case errors.Is(err, password.ErrTooShort):
		return CodePasswordTooShort.With(http.StatusBadRequest)
	case errors.Is(err, password.ErrTooLong):
		return CodePasswordTooLong.With(http.StatusBadRequest)
	}
	return nil
}

// tooLong reports a password over the maximum length: such input is refused before any
// hash is computed, so megabyte passwords cost nothing (PWD-04).
func (e *Engine) tooLong(pw string) bool {
	return errors.Is(password.CheckLength(pw, 0, e.cfg.EmailAndPassword.MaxPasswordLength), password.ErrTooLong)
}

// HashPassword hashes a password with the configured hasher.
func (e *Engine) HashPassword(pw string) (string, error) {
	h, err := e.hasher.Hash(pw)
	if err != nil {
		return "", Internal(err)
	}
	return h, nil
}

// credentialAccount returns the user's email/password account, or nil.
func (e *Engine) credentialAccount(ctx context.Context, userID string) (storage.Record, error) {
	return e.findOptional(ctx, ModelAccount, storage.And(storage.Eq("userId", userID), storage.Eq("providerId", ProviderCredential)))
}

// CheckUserPassword verifies a user's password against their credential account. A missing
// account or password still costs one hash (timing). A hash in an outdated format (Better
// Auth's scrypt, or older argon2 parameters) is replaced after a successful check.
func (e *Engine) CheckUserPassword(ctx context.Context, userID, pw string) (ok, hasAccount bool, err error) {
	acc, err := e.credentialAccount(ctx, userID)
	if err != nil {
		return false, false, err
	}
	if acc == nil || acc.String("password") == "" {
		e.hasher.FakeVerify(pw)
		return false, false, nil
	}
	ok, rehash, err := e.hasher.Verify(pw, acc.String("password"))
	if err != nil {
		return false, true, Internal(err)
	}
	if ok && rehash {
		if h, herr := e.hasher.Hash(pw); herr == nil {
			_, uerr := e.store.Update(ctx, ModelAccount, storage.ByID(acc.ID()), storage.Record{"password": h, "updatedAt": e.clock.Now()})
			if uerr != nil {
				e.log.Warn("upgrading password hash failed", "error", uerr.Error())
			}
		}
	}
	return ok, true, nil
}

// ResetPassword is the last step of every password reset (link, email code, SMS code): the
// new password replaces (or creates) the credential password, and with
// revoke_sessions_on_password_reset every session of the user ends. Callers check the
// password policy first (CheckNewPassword), so a refused password spends no token or code.
func (e *Engine) ResetPassword(ctx context.Context, userID, pw string) error {
	if err := e.SetUserPassword(ctx, userID, pw); err != nil {
		return AsError(err)
	}
	if e.cfg.EmailAndPassword.RevokeSessionsOnPasswordReset {
		if _, err := e.RevokeUserSessions(ctx, userID, ""); err != nil {
			return err
		}
	}
	return nil
}

// SetUserPassword replaces (or creates) the user's credential password.
func (e *Engine) SetUserPassword(ctx context.Context, userID, pw string) error {
	h, err := e.HashPassword(pw)
	if err != nil {
		return err
	}
	return e.store.Tx(ctx, func(tx storage.Adapter) error {
		_, err := tx.Update(ctx, ModelAccount, storage.And(storage.Eq("userId", userID), storage.Eq("providerId", ProviderCredential)),
			storage.Record{"password": h, "updatedAt": e.clock.Now()})
		if errors.Is(err, storage.ErrNotFound) {
			return e.createCredential(ctx, tx, userID, h)
		}
		return err
	})
}
