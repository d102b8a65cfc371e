package multisession

import (
	"net/url"
	"strings"

	"github.com/gatehouse-auth/gatehouse/authcore"
)

// registerHooks declares the two after hooks of Better Auth's plugin.
func (p *Plugin) registerHooks(r *authcore.Registrar) {
	r.After(authcore.MatchAny(), p.afterNewSession)
	r.After(authcore.MatchPath(authcore.PathSignOut), p.afterSignOut)
}

// afterNewSession runs after every call. When the call created a session (Call.NewSession,
// set only by Call.StartSession — an interrupted two-factor sign-in creates none) and is
// answering with that session's cookie, it adds the session's multi-session cookie:
//
//   - the caller's multi-session cookies of the same user are expired and their sessions
//     deleted (signing in again as someone replaces that account's session);
//   - cookies whose session is gone are expired and not counted;
//   - if the remaining cookies plus the new one would exceed maximum_sessions, no cookie is
//     added (the sign-in itself succeeds).
func (p *Plugin) afterNewSession(c *authcore.Call) error {
	s := c.NewSession
	if s == nil || s.Token == "" || !p.answersWithSession(c, s.Token) {
		return nil
	}
	name := p.cookieName(s.Token)
	if _, ok := c.ResponseCookie(name); ok {
		return nil
	}
	existing := p.requestCookies(c.Request)
	count := 0
	for _, mc := range existing {
		if mc.name == name {
			return nil
		}
		other, err := p.engine.SessionByToken(c.Context(), mc.token)
		if err != nil {
			return err
		}
		switch {
		case other == nil:
			expireCookie(c, mc.name)
		case other.UserID() == s.UserID():
			if err := p.deleteSession(c, mc.token); err != nil {
				return err
			}
			expireCookie(c, mc.name)
		default:
			count++
		}
	}
	if count+1 > p.max {
		return nil
	}
	p.setCookie(c, s.Token)
	return nil
}

// answersWithSession reports whether the response sets the session cookie to token (and not,
// say, expires it again after a later step undid the sign-in).
func (p *Plugin) answersWithSession(c *authcore.Call, token string) bool {
	name := p.engine.CookieName(authcore.CookieSessionToken)
	line, ok := c.ResponseCookie(name)
	if !ok {
		return false
	}
	v, _, _ := strings.Cut(strings.TrimPrefix(line, name+"="), ";")
	v, err := url.PathUnescape(v)
	if err != nil {
		return false
	}
	got, ok := p.engine.Keys().Verify(v)
	return ok && got == token
}

// afterSignOut runs after /sign-out: every valid multi-session cookie of the caller is
// expired and its session deleted, so signing out signs out of every account on this
// browser.
func (p *Plugin) afterSignOut(c *authcore.Call) error {
	for _, mc := range p.requestCookies(c.Request) {
		if err := p.deleteSession(c, mc.token); err != nil {
			return err
		}
		expireCookie(c, mc.name)
	}
	return nil
}
