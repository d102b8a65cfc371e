package apikey

import (
	"net/http"
	"strings"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// serverOnlyFields may be set only by trusted callers (authcore.APIKeyAdmin), never over
// HTTP (CVE-2025-61928).
var serverOnlyFields = []string{
	"userId", "remaining", "refillAmount", "refillInterval", "rateLimitEnabled",
	"rateLimitTimeWindow", "rateLimitMax", "permissions",
}

// refuseServerOnly answers 400 SERVER_ONLY_PROPERTY when a create or update body names a
// server-only field, in any letter case ("UserId", "USERID"): the decoder is case-sensitive
// and refuses duplicate keys, but a case variant must not slip through as an ignored
// unknown key either. Create's "remaining": null is Better Auth's default and passes.
func (p *Plugin) refuseServerOnly(c *authcore.Call) error {
	for k, v := range c.Body {
		for _, f := range serverOnlyFields {
			if strings.EqualFold(k, f) {
				if k == "remaining" && v == nil && c.Route == PathCreate {
					continue
				}
				return ErrServerOnlyProperty.With(http.StatusBadRequest)
			}
		}
	}
	return nil
}

// keySession makes a key header act as a session on the auth API (enable_session_for_api_keys,
// Better Auth's before hook): the key is verified like on the gateway (quota and rate limit
// included) and the call gets a virtual session {id: key id, token: the key, userId, ...};
// /get-session answers it directly. Key sessions may not manage keys (/api-key/*: 401
// UNAUTHORIZED_SESSION) nor reach /admin/* (403).
func (p *Plugin) keySession(c *authcore.Call) error {
	if !p.EnableSessionForAPIKeys {
		return nil
	}
	key, found, ambiguous := p.presentedKey(c.Request.Header)
	if !found {
		return nil
	}
	if strings.HasPrefix(c.Route, "/api-key/") {
		return ErrUnauthorizedSession.With(http.StatusUnauthorized)
	}
	if strings.HasPrefix(c.Route, "/admin/") {
		return authcore.ErrorCode{Code: "FORBIDDEN", Message: "API keys cannot call admin routes"}.With(http.StatusForbidden)
	}
	if ambiguous || len(key) < p.DefaultKeyLength {
		return ErrInvalidAPIKey.With(http.StatusForbidden)
	}
	e, err := p.verify(c.Context(), key, nil)
	if err != nil {
		return err
	}
	if e.user == nil {
		return ErrInvalidReferenceIDFromAPIKey.With(http.StatusUnauthorized)
	}
	now := p.engine.Clock().Now()
	exp := e.rec.Time(FieldExpiresAt)
	if exp.IsZero() {
		exp = now.Add(p.engine.Config().Session.ExpiresIn)
	}
	sess := storage.Record{
		"id": e.rec.ID(), "token": key, "userId": e.user.ID(),
		"userAgent": c.UserAgent(), "ipAddress": c.ClientIP(),
		"createdAt": now, "updatedAt": now, "expiresAt": exp,
	}
	s := &authcore.Session{Session: sess, User: e.user, Token: key}
	c.SetSession(s)
	if c.Route == authcore.PathGetSession {
		return &authcore.Interrupt{Response: p.engine.SessionJSON(s)}
	}
	return nil
}
