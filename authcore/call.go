package authcore

import (
	"context"
	"net/http"
	"time"
)

// Call is the per-request state of one auth-API request: what came in (request, route,
// decoded body and query), the session once resolved, and what goes out (status, headers,
// cookies, the returned value). It is passed explicitly to hooks and handlers; it never embeds
// a context or a service bag (CONVENTIONS 10).
type Call struct {
	Request  *http.Request
	Endpoint *Endpoint
	// Route is the endpoint's path pattern relative to the base path ("/reset-password/:token").
	Route  string
	Params map[string]string
	Body   Values
	Query  Values

	// Returned is the endpoint's result; after hooks may replace it.
	Returned any
	// NewSession is the session a sign-in created during this call, if any.
	NewSession *Session

	audit callAudit // what the call's audit events need (audit.go)

	engine  *Engine
	header  http.Header
	cookies []setCookie

	session     *Session
	sessionErr  error
	sessionDone bool
	sessionAuth bool // resolved from storage (not a cache)
}

type setCookie struct {
	name string
	line string
}

// Context returns the request's context.
func (c *Call) Context() context.Context { return c.Request.Context() }

// Engine returns the engine serving the call.
func (c *Call) Engine() *Engine { return c.engine }

// Header returns the response headers.
func (c *Call) Header() http.Header { return c.header }

// ClientIP returns the client address (D4).
func (c *Call) ClientIP() string { return c.engine.clientIP(c.Request) }

// UserAgent returns the request's User-Agent.
func (c *Call) UserAgent() string { return c.Request.Header.Get("User-Agent") }

// SetCookie sets one of the engine's cookies (by suffix) with a plain value. maxAge < 0
// makes a browser-session cookie. A later call for the same cookie replaces the earlier one.
func (c *Call) SetCookie(suffix, value string, maxAge time.Duration) {
	c.setCookieLine(c.engine.cookies.Name(suffix), value, maxAge)
}

// SetSignedCookie sets a cookie whose value is HMAC-signed (spec §2.2).
func (c *Call) SetSignedCookie(suffix, value string, maxAge time.Duration) {
	c.SetCookie(suffix, c.engine.keys.Sign(value), maxAge)
}

// ExpireCookie deletes one of the engine's cookies.
func (c *Call) ExpireCookie(suffix string) { c.SetCookie(suffix, "", 0) }

// SetCookieNamed sets a cookie by its full name (plugins with their own naming, such as the
// multi-session cookies).
func (c *Call) SetCookieNamed(name, value string, maxAge time.Duration) {
	c.setCookieLine(name, value, maxAge)
}

func (c *Call) setCookieLine(name, value string, maxAge time.Duration) {
	line := c.engine.cookies.serialize(name, value, maxAge)
	for i := range c.cookies {
		if c.cookies[i].name == name {
			c.cookies[i].line = line
			return
		}
	}
	c.cookies = append(c.cookies, setCookie{name: name, line: line})
}

// ResponseCookie returns the Set-Cookie line queued for a full cookie name.
func (c *Call) ResponseCookie(name string) (string, bool) {
	for _, sc := range c.cookies {
		if sc.name == name {
			return sc.line, true
		}
	}
	return "", false
}

// Cookie returns the request cookie with the given suffix. Duplicates with different values
// count as absent (SES-04).
func (c *Call) Cookie(suffix string) (string, bool) {
	v, n := readCookie(c.Request.Header, c.engine.cookies.Name(suffix))
	return v, n > 0 && v != ""
}

// SignedCookie returns the verified value of a signed request cookie.
func (c *Call) SignedCookie(suffix string) (string, bool) {
	v, ok := c.Cookie(suffix)
	if !ok {
		return "", false
	}
	return c.engine.keys.Verify(v)
}

// Session returns the caller's session, resolved once per call from the signed session
// cookie (after request interceptors, so a bearer token counts too). It returns nil without
// error when there is none or it is invalid or expired.
func (c *Call) Session() (*Session, error) {
	if !c.sessionDone {
		c.session, c.sessionErr = c.engine.sessionFromRequest(c.Context(), c.Request, false)
		c.sessionDone, c.sessionAuth = true, true
	}
	return c.session, c.sessionErr
}

// SetSession replaces the call's session (a plugin that authenticates the call another way,
// such as an API key used as a session).
func (c *Call) SetSession(s *Session) {
	c.session, c.sessionErr, c.sessionDone, c.sessionAuth = s, nil, true, true
}

// RequestSession returns the session the request arrived with, even after a sign-in during
// this call replaced the call's session (the anonymous plugin finds the guest being signed in
// over this way).
func (c *Call) RequestSession() (*Session, error) {
	if c.NewSession == nil || c.session != c.NewSession {
		return c.Session()
	}
	return c.engine.sessionFromRequest(c.Context(), c.Request, false)
}

// RequireSession returns the session or 401 UNAUTHORIZED.
func (c *Call) RequireSession() (*Session, error) {
	s, err := c.Session()
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, errUnauthorized
	}
	return s, nil
}
