package multisession

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/gatehouse-auth/gatehouse/authcore"
)

// Route paths of the plugin, relative to the base path.
const (
	PathListDeviceSessions = "/multi-session/list-device-sessions"
	PathSetActive          = "/multi-session/set-active"
	PathRevoke             = "/multi-session/revoke"
)

// sessionTokenParam is the body field of set-active and revoke: a bare session token as
// list-device-sessions shows it (bounded like any string).
var sessionTokenParam = authcore.Param{Name: "sessionToken", Kind: authcore.KindString, Required: true,
	MaxLen: 256, Description: "The session token, as listed by list-device-sessions"}

var sessionUserSchema = map[string]any{"type": "object", "properties": map[string]any{
	"session": map[string]any{"$ref": "#/components/schemas/Session"},
	"user":    map[string]any{"$ref": "#/components/schemas/User"},
}}

func (p *Plugin) endpoints() []authcore.Endpoint {
	tags := []string{"Multi-session"}
	return []authcore.Endpoint{
		{Method: http.MethodGet, Path: PathListDeviceSessions, Handler: p.listDeviceSessions, NoStore: true,
			Summary: "List device sessions", Tags: tags,
			Description: "Lists the sessions of the accounts signed in on this browser: one per user, from the caller's valid multi-session cookies.",
			Response:    map[string]any{"type": "array", "items": sessionUserSchema}},
		{Method: http.MethodPost, Path: PathSetActive, Audit: authcore.AuditSessionSwitch, Handler: p.setActive, NoStore: true,
			Body:    []authcore.Param{sessionTokenParam},
			Summary: "Set the active session", Tags: tags,
			Description: "Makes one of the caller's multi-session sessions the active session (the session cookie).",
			Response:    sessionUserSchema,
			Errors:      []authcore.ErrorCode{CodeInvalidSessionToken}},
		{Method: http.MethodPost, Path: PathRevoke, Audit: authcore.AuditSessionRevoke, Handler: p.revoke, Auth: authcore.AuthSession,
			Body:    []authcore.Param{sessionTokenParam},
			Summary: "Revoke a device session", Tags: tags,
			Description: "Deletes one of the caller's multi-session sessions and its cookie; revoking the active one switches to another or signs out.",
			Response:    map[string]any{"type": "object", "properties": map[string]any{"status": map[string]any{"type": "boolean"}}},
			Errors:      []authcore.ErrorCode{authcore.CodeUnauthorized, CodeInvalidSessionToken}},
	}
}

// listDeviceSessions is GET /multi-session/list-device-sessions: {"session", "user"} for
// every valid multi-session cookie whose session is alive, the first per user, in cookie
// order. session.token is the session's opaque handle (D3), which set-active and revoke
// take as well as the bare token.
func (p *Plugin) listDeviceSessions(c *authcore.Call) (any, error) {
	out := []any{}
	users := map[string]bool{}
	for _, mc := range p.requestCookies(c.Request) {
		s, err := p.engine.SessionByToken(c.Context(), mc.token)
		if err != nil {
			return nil, err
		}
		if s == nil || users[s.UserID()] {
			continue
		}
		users[s.UserID()] = true
		listed := *s
		listed.Token = "" // an opaque handle in session.token, never the live token (D3)
		out = append(out, p.engine.SessionJSON(&listed))
	}
	return out, nil
}

// setActive is POST /multi-session/set-active: the session of the caller's multi-session
// cookie for sessionToken becomes the session cookie. The cookie's signed value, not the
// body, names the session. No such valid cookie, or a session that is gone (its cookie is
// then expired), is 401 INVALID_SESSION_TOKEN.
func (p *Plugin) setActive(c *authcore.Call) (any, error) {
	name, tok, ok, err := p.held(c, c.Body.String("sessionToken"))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, CodeInvalidSessionToken.With(http.StatusUnauthorized)
	}
	s, err := p.engine.SessionByToken(c.Context(), tok)
	if err != nil {
		return nil, err
	}
	if s == nil {
		expireCookie(c, name)
		return nil, CodeInvalidSessionToken.With(http.StatusUnauthorized)
	}
	c.AuditSubject(s.UserID())
	c.AuditDetail("session_id", s.ID())
	c.SetSessionCookies(s, p.dontRemember(c))
	return p.engine.SessionJSON(s), nil
}

// revoke is POST /multi-session/revoke (session required): deletes the session of the
// caller's multi-session cookie for sessionToken and expires that cookie. When it was the
// active session, the first other multi-session cookie with a live session becomes the
// session cookie; if there is none the session cookies are expired. {"status": true}.
func (p *Plugin) revoke(c *authcore.Call) (any, error) {
	cur, err := c.RequireSession()
	if err != nil {
		return nil, err
	}
	name, tok, ok, err := p.held(c, c.Body.String("sessionToken"))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, CodeInvalidSessionToken.With(http.StatusUnauthorized)
	}
	if err := p.deleteSession(c, tok); err != nil {
		return nil, err
	}
	expireCookie(c, name)
	if cur.Session.String("token") != authcore.HashToken(tok) {
		return map[string]any{"status": true}, nil
	}
	for _, mc := range p.requestCookies(c.Request) {
		if mc.name == name {
			continue
		}
		next, err := p.engine.SessionByToken(c.Context(), mc.token)
		if err != nil {
			return nil, err
		}
		if next != nil {
			c.SetSessionCookies(next, p.dontRemember(c))
			return map[string]any{"status": true}, nil
		}
	}
	c.ClearSessionCookies()
	return map[string]any{"status": true}, nil
}

// dontRemember reports whether the caller's browser holds a "don't remember" session: the
// session cookie that replaces it stays a browser-session cookie (Better Auth's
// setSessionCookie reads the same cookie).
func (p *Plugin) dontRemember(c *authcore.Call) bool {
	_, ok := c.SignedCookie(authcore.CookieDontRemember)
	return ok
}

// held finds the caller's multi-session cookie for sessionToken: the bare token (matched
// lower-case in the cookie name, as Better Auth does), or the opaque handle the listing
// shows (D3), matched against the live sessions of the caller's cookies. It returns the
// cookie's name and the token its signed value carries — that value, never the body, names
// the session (SES-08).
func (p *Plugin) held(c *authcore.Call, sessionToken string) (name, token string, ok bool, err error) {
	if sessionToken == "" {
		return "", "", false, nil
	}
	name = p.cookieName(sessionToken)
	if token, ok = p.requestCookie(c.Request, name); ok {
		return name, token, true, nil
	}
	if !strings.Contains(sessionToken, ".") { // handles are "<id>.<mac>"
		return "", "", false, nil
	}
	for _, mc := range p.requestCookies(c.Request) {
		s, err := p.engine.SessionByToken(c.Context(), mc.token)
		if err != nil {
			return "", "", false, err
		}
		if s != nil && subtle.ConstantTimeCompare([]byte(p.engine.SessionHandle(s.ID())), []byte(sessionToken)) == 1 {
			return mc.name, mc.token, true, nil
		}
	}
	return "", "", false, nil
}
