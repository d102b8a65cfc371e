package bearer

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse-auth/gatehouse/authcore"
)

// errConflict answers a request whose bearer token and session cookie name different live
// sessions: neither is chosen (D8).
var errConflict = &authcore.Error{Status: http.StatusUnauthorized, Code: authcore.CodeUnauthorized.Code, Message: "Conflicting credentials"}

// onRequest and onMiddleware turn "Authorization: Bearer <x>" into the session cookie for
// the rest of the auth-API request, so that the endpoint's session — and the origin rules for
// cookie requests — see a cookie-authenticated request.
//
// Where it happens follows Better Auth (spec §4.4): its router-level origin check looks at the
// request as sent, before the bearer hook, so a POST authenticated only by a bearer token
// passes without Origin (no browser attaches Authorization cross-site without a preflight the
// engine answers only for trusted origins); its form-CSRF check runs after the hook and so
// treats the token as a cookie. Here the cookie is therefore put in place by the request
// interceptor (before the origin check) on form-CSRF endpoints, and by a path middleware
// (after it, before the session is resolved) everywhere else.
//
//   - a valid token replaces whatever session cookie the request carried; when that cookie
//     names another live session the request is refused with 401 (D8);
//   - an invalid token (bad signature, bare token with require_signature, undecodable) is
//     no credential: the session cookie is removed, so the request is anonymous rather than
//     silently authenticated by a cookie the client did not mean to use;
//   - several Authorization headers of which one is a bearer one are treated as an invalid
//     token;
//   - other schemes and JWT-shaped tokens are left alone (the JWT plugin's business).
func (p *Plugin) onRequest(c *authcore.Call) error {
	if !c.Endpoint.FormCSRF {
		return nil
	}
	return p.inject(c)
}

func (p *Plugin) onMiddleware(c *authcore.Call) error {
	if c.Endpoint.FormCSRF {
		return nil
	}
	return p.inject(c)
}

func (p *Plugin) inject(c *authcore.Call) error {
	tok, ok, ambiguous := bearerToken(c.Request.Header)
	if !ambiguous && (!ok || looksLikeJWT(tok)) {
		return nil
	}
	e := p.engine
	name := e.CookieName(authcore.CookieSessionToken)
	var signed string
	if !ambiguous {
		signed, ok = p.signedValue(tok)
	}
	var token string
	if ok {
		token, ok = e.Keys().Verify(signed)
	}
	if !ok {
		if len(cookieValues(c.Request.Header, name)) > 0 {
			p.setRequestSessionCookie(c, "")
		}
		return nil
	}
	if err := p.checkCookieConflict(c, token); err != nil {
		return err
	}
	p.setRequestSessionCookie(c, signed)
	return nil
}

// checkCookieConflict refuses a request whose session cookie names a live session other
// than the bearer token's, when the bearer token's session is live too.
func (p *Plugin) checkCookieConflict(c *authcore.Call, token string) error {
	e := p.engine
	var other string
	for _, v := range cookieValues(c.Request.Header, e.CookieName(authcore.CookieSessionToken)) {
		d, err := url.PathUnescape(v)
		if err != nil {
			continue
		}
		if t, ok := e.Keys().Verify(d); ok && t != token {
			other = t
			break
		}
	}
	if other == "" {
		return nil
	}
	cs, err := e.SessionByToken(c.Context(), other)
	if err != nil || cs == nil {
		return err
	}
	// Different tokens are different sessions; they conflict only when the bearer's is live
	// too (a dead bearer token already makes the request anonymous).
	bs, err := e.SessionByToken(c.Context(), token)
	if err != nil || bs == nil {
		return err
	}
	return errConflict
}

// setRequestSessionCookie replaces the request's session cookie (and any cookie-cache
// cookie, which belongs to the replaced session) with signed, or removes it when signed is
// empty. The call gets a copy of the request: the caller's request is never modified.
func (p *Plugin) setRequestSessionCookie(c *authcore.Call, signed string) {
	e := p.engine
	name := e.CookieName(authcore.CookieSessionToken)
	data := e.CookieName(authcore.CookieSessionData)
	kept := withoutCookies(c.Request.Header, func(n string) bool {
		return n == name || n == data || strings.HasPrefix(n, data+".")
	})
	if signed != "" {
		if kept != "" {
			kept += "; "
		}
		kept += name + "=" + encodeURIComponent(signed)
	}
	r := c.Request.Clone(c.Context())
	if kept == "" {
		r.Header.Del("Cookie")
	} else {
		r.Header["Cookie"] = []string{kept}
	}
	c.Request = r
}

// onResponse adds set-auth-token (the signed session token, percent-decoded) whenever the
// response sets a live session cookie, and exposes the header to browsers. An expired or
// emptied cookie (sign-out, a sign-in interrupted by two-factor) adds nothing, and neither
// does a 5xx: the engine drops its cookies before the interceptors run.
func (p *Plugin) onResponse(c *authcore.Call) {
	line, ok := c.ResponseCookie(p.engine.CookieName(authcore.CookieSessionToken))
	if !ok {
		return
	}
	value, attrs, _ := strings.Cut(line, ";")
	_, value, _ = strings.Cut(value, "=")
	if value == "" {
		return
	}
	for a := range strings.SplitSeq(attrs, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(a), "=")
		if strings.EqualFold(k, "Max-Age") && (v == "0" || strings.HasPrefix(v, "-")) {
			return
		}
	}
	signed, err := url.PathUnescape(value)
	if err != nil {
		return
	}
	if _, ok := p.engine.Keys().Verify(signed); !ok {
		return
	}
	h := c.Header()
	h.Set(HeaderSetAuthToken, signed)
	var exposed []string
	for _, v := range h.Values("Access-Control-Expose-Headers") {
		for x := range strings.SplitSeq(v, ",") {
			if x = strings.TrimSpace(x); x != "" && !strings.EqualFold(x, HeaderSetAuthToken) {
				exposed = append(exposed, x)
			}
		}
	}
	h.Set("Access-Control-Expose-Headers", strings.Join(append(exposed, HeaderSetAuthToken), ", "))
}
