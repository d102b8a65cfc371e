package authcore

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/storage"
)

// Session is a live session with its user. Token is the bare session token when the caller
// presented it (or it was just created); storage holds only its hash (D3).
type Session struct {
	Session storage.Record
	User    storage.Record
	Token   string
}

// ID returns the session id.
func (s *Session) ID() string { return s.Session.ID() }

// UserID returns the session's user id.
func (s *Session) UserID() string { return s.Session.String("userId") }

// SignInOptions describe a sign-in that is about to create a session.
type SignInOptions struct {
	// Method names the first factor ("email", "username", "magic-link", ...); session gates
	// (two-factor, bans) see it.
	Method string
	// DontRemember makes a browser-session cookie and a short stored lifetime
	// (rememberMe:false).
	DontRemember bool
	// MultiFactor says the sign-in already proved a second factor: a passkey assertion with
	// user verification, or a passed two-factor challenge. The two-factor gate lets it
	// through; other gates (a ban) still run.
	MultiFactor bool
	// CallbackURL is where a redirect-style sign-in (an OAuth or SSO callback, which has no
	// callbackURL in its own query) continues; the two-factor gate sends the browser to its
	// page with it. Already checked against the trusted origins.
	CallbackURL string
}

// SignIn is the one step where every sign-in method turns a verified user into a session
// (D11): the session gates run first (two-factor may interrupt, a ban refuses), then the
// session is created and its cookies set. Handlers return its error unchanged. With
// session.new_device_email on, the new session's device is then checked in the background
// (see [SessionConfig.NewDeviceEmail]); StartSession alone never does that.
func (c *Call) SignIn(user storage.Record, opt SignInOptions) (*Session, error) {
	rec := &signInRecord{method: opt.Method, userID: user.ID()}
	c.audit.signIn = rec
	for _, g := range c.engine.reg.gates {
		if err := g(c, user, opt); err != nil {
			c.engine.signInMetric(opt, err)
			rec.err = err
			return nil, err
		}
	}
	s, err := c.StartSession(user, opt.DontRemember)
	c.engine.signInMetric(opt, err)
	rec.err = err
	if err != nil {
		return nil, err
	}
	c.engine.checkNewDevice(user, c.ClientIP(), c.UserAgent())
	return s, nil
}

// StartSession creates a session and sets its cookies without running the gates: for
// re-issuing a session to a user who is already fully signed in (password change with
// revokeOtherSessions) or who just passed the gate's own challenge (a second factor).
func (c *Call) StartSession(user storage.Record, dontRemember bool) (*Session, error) {
	s, err := c.engine.createSession(c.Context(), user, dontRemember, c.ClientIP(), c.UserAgent())
	if err != nil {
		return nil, err
	}
	c.SetSessionCookies(s, dontRemember)
	c.NewSession = s
	c.SetSession(s)
	return s, nil
}

// SetSessionCookies sets the signed session cookie (and dont_remember, and the cookie cache
// when enabled) for s.
func (c *Call) SetSessionCookies(s *Session, dontRemember bool) {
	maxAge := c.engine.cfg.Session.ExpiresIn
	if dontRemember {
		maxAge = -1
		c.SetSignedCookie(CookieDontRemember, "true", -1)
	}
	c.SetSignedCookie(CookieSessionToken, s.Token, maxAge)
	if c.engine.cfg.Session.CookieCache > 0 {
		c.setSessionData(s)
	}
}

// ClearSessionCookies expires the session, cookie-cache and dont_remember cookies.
func (c *Call) ClearSessionCookies() {
	c.ExpireCookie(CookieSessionToken)
	c.ExpireCookie(CookieSessionData)
	c.ExpireCookie(CookieDontRemember)
}

// createSession stores a new session for user and returns it with its bare token.
func (e *Engine) createSession(ctx context.Context, user storage.Record, dontRemember bool, ip, ua string) (*Session, error) {
	token, err := e.rand.ID()
	if err != nil {
		return nil, Internal(err)
	}
	id, err := e.rand.ID()
	if err != nil {
		return nil, Internal(err)
	}
	now := e.clock.Now()
	life := e.cfg.Session.ExpiresIn
	if dontRemember {
		life = e.cfg.Session.DontRememberExpiresIn
	}
	rec, err := e.store.Create(ctx, ModelSession, storage.Record{
		"id": id, "token": HashToken(token), "userId": user.ID(),
		"expiresAt": now.Add(life), "createdAt": now, "updatedAt": now,
		"ipAddress": ip, "userAgent": ua,
	})
	if err != nil {
		return nil, CodeFailedToCreateSession.With(http.StatusInternalServerError).Wrap(err)
	}
	return &Session{Session: rec, User: user, Token: token}, nil
}

// sessionFromRequest resolves the signed session cookie of r. Absent, forged, duplicated
// (SES-04), unknown or expired all mean no session (nil, nil); err is a storage failure.
func (e *Engine) sessionFromRequest(ctx context.Context, r *http.Request, _ bool) (*Session, error) {
	signed, n := readCookie(r.Header, e.cookies.Name(CookieSessionToken))
	if n == 0 || signed == "" {
		return nil, nil
	}
	token, ok := e.keys.Verify(signed)
	if !ok {
		return nil, nil
	}
	return e.SessionByToken(ctx, token)
}

// SessionByToken looks up a bare session token in storage. An expired session is deleted
// and reported as none.
func (e *Engine) SessionByToken(ctx context.Context, token string) (*Session, error) {
	if token == "" {
		return nil, nil
	}
	rec, err := e.store.FindOne(ctx, ModelSession, storage.Eq("token", HashToken(token)))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, Internal(err)
	}
	if !e.alive(rec) {
		if err := e.store.Delete(ctx, ModelSession, storage.ByID(rec.ID())); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return nil, Internal(err)
		}
		return nil, nil
	}
	// rec["userId"] is already boxed: reusing it saves an allocation on the hot path.
	user, err := e.store.FindOne(ctx, ModelUser, storage.Eq("id", rec["userId"]))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, Internal(err)
	}
	return &Session{Session: rec, User: user, Token: token}, nil
}

// alive reports whether a session row is within both its sliding expiry and the absolute
// max_age (D6).
func (e *Engine) alive(rec storage.Record) bool {
	now := e.clock.Now()
	return now.Before(rec.Time("expiresAt")) && now.Before(rec.Time("createdAt").Add(e.cfg.Session.MaxAge))
}

// refreshDue reports whether update_age has passed since the session's last extension
// (spec §3 step 4).
func (e *Engine) refreshDue(rec storage.Record) bool {
	if e.cfg.Session.UpdateAge <= 0 {
		return false
	}
	lastExtended := rec.Time("expiresAt").Add(-e.cfg.Session.ExpiresIn)
	return !e.clock.Now().Before(lastExtended.Add(e.cfg.Session.UpdateAge))
}

// extend pushes a session's expiry to now+expires_in, capped at createdAt+max_age, and
// returns the updated row.
func (e *Engine) extend(ctx context.Context, rec storage.Record) (storage.Record, error) {
	now := e.clock.Now()
	exp := now.Add(e.cfg.Session.ExpiresIn)
	if limit := rec.Time("createdAt").Add(e.cfg.Session.MaxAge); exp.After(limit) {
		exp = limit
	}
	updated, err := e.store.Update(ctx, ModelSession, storage.ByID(rec.ID()), storage.Record{"expiresAt": exp, "updatedAt": now})
	if err != nil {
		return nil, Internal(err)
	}
	return updated, nil
}

// RefreshSession extends a session whose update_age has passed, once per session even when
// many requests notice at the same time (single flight, D6). It returns the new expiry.
func (e *Engine) RefreshSession(ctx context.Context, s *Session) (time.Time, error) {
	v, err := e.refresh.Do(s.ID(), func() (any, error) {
		cur, err := e.store.FindOne(ctx, ModelSession, storage.ByID(s.ID()))
		if err != nil {
			return nil, err
		}
		if !e.refreshDue(cur) {
			return cur.Time("expiresAt"), nil
		}
		upd, err := e.extend(ctx, cur)
		if err != nil {
			return nil, err
		}
		return upd.Time("expiresAt"), nil
	})
	if err != nil {
		return time.Time{}, err
	}
	return v.(time.Time), nil
}

// RevokeSession deletes one session by id.
func (e *Engine) RevokeSession(ctx context.Context, id string) error {
	err := e.store.Delete(ctx, ModelSession, storage.ByID(id))
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return Internal(err)
	}
	return nil
}

// RevokeUserSessions deletes every session of a user except exceptID ("" for none).
func (e *Engine) RevokeUserSessions(ctx context.Context, userID, exceptID string) (int, error) {
	where := storage.Eq("userId", userID)
	if exceptID != "" {
		where = storage.And(where, storage.Ne("id", exceptID))
	}
	n, err := e.store.DeleteMany(ctx, ModelSession, where)
	if err != nil {
		return 0, Internal(err)
	}
	return n, nil
}

// SessionHandle is the opaque stand-in for a token in session listings (D3): the session id
// and a MAC of it, so revoke endpoints can accept it without tokens ever being stored or
// shown. Better Auth returns live tokens there; Gatehouse does not.
func (e *Engine) SessionHandle(id string) string {
	mac := e.keys.MAC("session-handle", []byte(id))
	return id + "." + base64.RawURLEncoding.EncodeToString(mac[:18])
}

// parseHandle returns the session id of a valid handle.
func (e *Engine) parseHandle(h string) (string, bool) {
	id, tag, ok := strings.Cut(h, ".")
	if !ok || id == "" {
		return "", false
	}
	got, err := base64.RawURLEncoding.DecodeString(tag)
	if err != nil || len(got) != 18 {
		return "", false
	}
	mac := e.keys.MAC("session-handle", []byte(id))
	return id, subtle.ConstantTimeCompare(got, mac[:18]) == 1
}

// SessionJSON renders {"session", "user"} for the API. token is what goes in session.token:
// the caller's own bare token, or a handle (D3).
func (e *Engine) SessionJSON(s *Session) map[string]any {
	sess := e.Public(ModelSession, s.Session)
	if s.Token != "" {
		sess["token"] = s.Token
	} else {
		sess["token"] = e.SessionHandle(s.ID())
	}
	return map[string]any{"session": sess, "user": e.Public(ModelUser, s.User)}
}

// sessionListJSON renders a session row for listings, its token replaced by a handle and
// with "deviceName" derived from its user agent at listing time (nothing is stored).
func (e *Engine) sessionListJSON(rec storage.Record) map[string]any {
	out := e.Public(ModelSession, rec)
	out["token"] = e.SessionHandle(rec.ID())
	out["deviceName"] = DeviceName(rec.String("userAgent"))
	return out
}
