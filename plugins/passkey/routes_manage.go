package passkey

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// list is GET /passkey/list-user-passkeys: the session user's passkeys, oldest first.
func (p *Plugin) list(c *authcore.Call) (any, error) {
	s, err := c.RequireSession()
	if err != nil {
		return nil, err
	}
	rows, err := p.userPasskeys(c.Context(), s.UserID())
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, 0, len(rows))
	for _, r := range rows {
		out = append(out, p.engine.Public(ModelPasskey, r))
	}
	return out, nil
}

// owned selects the passkey id of user: another user's passkey and a missing one look the
// same (404 PASSKEY_NOT_FOUND), so ids cannot be probed. Better Auth answers 401 with an
// empty body for another user's passkey.
func owned(id, userID string) storage.Where {
	return storage.And(storage.ByID(id), storage.Eq("userId", userID))
}

// delete is POST /passkey/delete-passkey.
func (p *Plugin) delete(c *authcore.Call) (any, error) {
	s, err := c.RequireSession()
	if err != nil {
		return nil, err
	}
	c.AuditDetail("passkey_id", c.Body.String("id"))
	err = p.engine.Store().Delete(c.Context(), ModelPasskey, owned(c.Body.String("id"), s.UserID()))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, CodePasskeyNotFound.With(http.StatusNotFound)
	}
	if err != nil {
		return nil, authcore.Internal(err)
	}
	return map[string]any{"status": true}, nil
}

// update is POST /passkey/update-passkey: renames a passkey (name trimmed, not blank).
func (p *Plugin) update(c *authcore.Call) (any, error) {
	s, err := c.RequireSession()
	if err != nil {
		return nil, err
	}
	name := strings.TrimSpace(c.Body.String("name"))
	if name == "" {
		return nil, &authcore.Error{Status: http.StatusBadRequest, Code: authcore.CodeValidationError.Code,
			Message: "[body.name] Too small: expected string to have >=1 characters"}
	}
	rec, err := p.engine.Store().Update(c.Context(), ModelPasskey, owned(c.Body.String("id"), s.UserID()),
		storage.Record{"name": name})
	if errors.Is(err, storage.ErrNotFound) {
		return nil, CodePasskeyNotFound.With(http.StatusNotFound)
	}
	if err != nil {
		return nil, CodeFailedToUpdatePasskey.With(http.StatusInternalServerError).Wrap(err)
	}
	return map[string]any{"passkey": p.engine.Public(ModelPasskey, rec)}, nil
}
