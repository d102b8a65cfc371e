package admin

import (
	"net/http"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
)

func (p *Plugin) registerHooks(r *authcore.Registrar) {
	// The ban gate runs at the one step every sign-in method goes through (D11), for every
	// method and whatever opt.MultiFactor says: a passkey with user verification or a passed
	// second factor never skips a ban.
	r.SessionGate(func(c *authcore.Call, user storage.Record, _ authcore.SignInOptions) error {
		return p.checkBan(c, user.ID())
	})
	// /list-sessions hides impersonation sessions from the impersonated user (Better Auth).
	r.After(authcore.MatchPath(authcore.PathListSessions), func(c *authcore.Call) error {
		list, ok := c.Returned.([]map[string]any)
		if !ok {
			return nil
		}
		out := make([]map[string]any, 0, len(list))
		for _, s := range list {
			if by, _ := s[FieldImpersonatedBy].(string); by == "" {
				out = append(out, s)
			}
		}
		c.Returned = out
		return nil
	})
	// An impersonation session never outlives impersonation_session_duration: /get-session
	// must not slide its expiry forward, even when the dont_remember cookie was dropped.
	r.Before(authcore.MatchPath(authcore.PathGetSession), func(c *authcore.Call) (any, error) {
		s, err := c.Session()
		if err != nil || s == nil || s.Session.String(FieldImpersonatedBy) == "" {
			return nil, err
		}
		if c.Query == nil {
			c.Query = authcore.Values{}
		}
		c.Query["disableRefresh"] = true
		return nil, nil
	})
}

// checkBan refuses a banned user with 403 BANNED_USER, lifting a ban whose banExpires has
// passed instead. The user is re-read from storage so a ban set a moment ago counts.
func (p *Plugin) checkBan(c *authcore.Call, userID string) error {
	u, err := p.engine.UserByID(c.Context(), userID)
	if err != nil {
		return authcore.Internal(err)
	}
	if u == nil || !u.Bool(FieldBanned) {
		return nil
	}
	if exp := u.Time(FieldBanExpires); !exp.IsZero() && exp.Before(p.engine.Clock().Now()) {
		if _, err := p.engine.UpdateUser(c.Context(), userID, storage.Record{
			FieldBanned: false, FieldBanReason: nil, FieldBanExpires: nil,
		}); err != nil {
			return authcore.AsError(err)
		}
		return nil
	}
	return p.bannedError()
}

func (p *Plugin) bannedError() *authcore.Error {
	return &authcore.Error{Status: http.StatusForbidden, Code: CodeBannedUser.Code, Message: p.bannedMsg}
}
