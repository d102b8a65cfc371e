package authcore

import (
	"net/http"
	"strings"

	"github.com/gatehouse-auth/gatehouse/storage"
)

// listSessions is spec §6 #5; tokens are replaced by handles (D3).
func (e *Engine) listSessions(c *Call) (any, error) {
	s, _ := c.Session()
	recs, err := e.store.FindMany(c.Context(), ModelSession, storage.Query{
		Where: storage.And(storage.Eq("userId", s.UserID()), storage.Gt("expiresAt", e.clock.Now())),
		Sort:  []storage.SortField{{Field: "createdAt"}},
	})
	if err != nil {
		return nil, Internal(err)
	}
	out := make([]map[string]any, 0, len(recs))
	for _, r := range recs {
		if e.alive(r) {
			out = append(out, e.sessionListJSON(r))
		}
	}
	return out, nil
}

// sessionByTokenOrHandle finds one of user's sessions from a bare token or a listing handle;
// sessions of other users are not found (revoking them is silently ignored, spec §6 #6).
func (e *Engine) sessionByTokenOrHandle(c *Call, userID, tok string) (storage.Record, error) {
	where := storage.Eq("token", HashToken(tok))
	if id, ok := e.parseHandle(tok); ok {
		where = storage.ByID(id)
	}
	return e.findOptional(c.Context(), ModelSession, storage.And(where, storage.Eq("userId", userID)))
}

// revokeSession is spec §6 #6.
func (e *Engine) revokeSession(c *Call) (any, error) {
	s, _ := c.Session()
	rec, err := e.sessionByTokenOrHandle(c, s.UserID(), c.Body.String("token"))
	if err != nil {
		return nil, err
	}
	if rec != nil {
		if err := e.RevokeSession(c.Context(), rec.ID()); err != nil {
			return nil, err
		}
		if rec.ID() == s.ID() {
			c.ClearSessionCookies()
		}
	}
	return map[string]any{"status": true}, nil
}

// revokeSessions is spec §6 #7.
func (e *Engine) revokeSessions(c *Call) (any, error) {
	s, _ := c.Session()
	if _, err := e.RevokeUserSessions(c.Context(), s.UserID(), ""); err != nil {
		return nil, err
	}
	c.ClearSessionCookies()
	return map[string]any{"status": true}, nil
}

// revokeOtherSessions is spec §6 #8.
func (e *Engine) revokeOtherSessions(c *Call) (any, error) {
	s, _ := c.Session()
	if _, err := e.RevokeUserSessions(c.Context(), s.UserID(), s.ID()); err != nil {
		return nil, err
	}
	return map[string]any{"status": true}, nil
}

// updateUser is spec §6 #9: name, image and client-settable plugin fields; never email or
// server-only fields (the validator already refused those, D10).
func (e *Engine) updateUser(c *Call) (any, error) {
	s, _ := c.Session()
	if c.Body.Has("email") {
		return nil, CodeEmailCanNotBeUpdated.With(http.StatusBadRequest)
	}
	set := storage.Record{}
	for k, v := range c.Body {
		set[k] = v
	}
	if len(set) == 0 {
		return nil, errNoFieldsToUpdate
	}
	user, err := e.UpdateUser(c.Context(), s.UserID(), set)
	if cerr := e.UniqueConflictError(err); cerr != nil {
		return nil, cerr
	}
	if err != nil {
		return nil, CodeFailedToUpdateUser.With(http.StatusBadRequest).Wrap(err)
	}
	c.SetSessionCookies(&Session{Session: s.Session, User: user, Token: s.Token}, c.dontRemember())
	return map[string]any{"status": true}, nil
}

// updateSession is spec §6 #10: client-settable plugin fields of the session.
func (e *Engine) updateSession(c *Call) (any, error) {
	s, _ := c.Session()
	set := storage.Record{}
	for k, v := range c.Body {
		set[k] = v
	}
	if len(set) == 0 {
		return nil, errNoFieldsToUpdate
	}
	set["updatedAt"] = e.clock.Now()
	rec, err := e.store.Update(c.Context(), ModelSession, storage.ByID(s.ID()), set)
	if err != nil {
		return nil, Internal(err)
	}
	out := e.Public(ModelSession, rec)
	out["token"] = s.Token
	return map[string]any{"session": out}, nil
}

// listAccounts is spec §6 #21.
func (e *Engine) listAccounts(c *Call) (any, error) {
	s, _ := c.Session()
	recs, err := e.store.FindMany(c.Context(), ModelAccount, storage.Query{
		Where: storage.Eq("userId", s.UserID()), Sort: []storage.SortField{{Field: "createdAt"}},
	})
	if err != nil {
		return nil, Internal(err)
	}
	out := make([]map[string]any, 0, len(recs))
	for _, r := range recs {
		scopes := []string{}
		for _, sc := range strings.Split(r.String("scope"), ",") {
			if sc = strings.TrimSpace(sc); sc != "" {
				scopes = append(scopes, sc)
			}
		}
		out = append(out, map[string]any{
			"id": r.ID(), "providerId": r.String("providerId"), "accountId": r.String("accountId"),
			"userId": r.String("userId"), "createdAt": jsTime(r.Time("createdAt")),
			"updatedAt": jsTime(r.Time("updatedAt")), "scopes": scopes,
		})
	}
	return out, nil
}

// unlinkAccount is spec §6 #22: accountId is the account row id.
func (e *Engine) unlinkAccount(c *Call) (any, error) {
	s, _ := c.Session()
	ctx := c.Context()
	where := storage.And(storage.ByID(c.Body.String("accountId")), storage.Eq("userId", s.UserID()))
	if p := c.Body.String("providerId"); p != "" {
		where = storage.And(where, storage.Eq("providerId", p))
	}
	acc, err := e.findOptional(ctx, ModelAccount, where)
	if err != nil {
		return nil, err
	}
	if acc == nil {
		return nil, CodeAccountNotFound.With(http.StatusBadRequest)
	}
	n, err := e.store.Count(ctx, ModelAccount, storage.Eq("userId", s.UserID()))
	if err != nil {
		return nil, Internal(err)
	}
	if n <= 1 && !e.cfg.Account.AllowUnlinkingAll {
		return nil, CodeFailedToUnlinkLastAccount.With(http.StatusBadRequest)
	}
	if err := e.store.Delete(ctx, ModelAccount, storage.ByID(acc.ID())); err != nil {
		return nil, Internal(err)
	}
	return map[string]any{"status": true}, nil
}
