package multisession

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// multiCookie is one validly signed multi-session cookie of a request.
type multiCookie struct {
	name  string // full cookie name
	token string // the bare session token it carries
}

// maxCookiesRead bounds how many multi-session cookies one request is read for, so a
// request stuffed with thousands of them cannot cost thousands of storage lookups. It is
// well above any maximum_sessions a browser reaches.
func (p *Plugin) maxCookiesRead() int { return 2*p.max + 16 }

// prefix is "<session_token cookie name>_multi-" (spec §2.1), with the engine's cookie prefix
// and its __Secure- variant: the gateway strips every such cookie from upstream requests
// and responses (Engine.ReservedCookie, D8).
func (p *Plugin) prefix() string {
	return p.engine.CookieName(authcore.CookieSessionToken) + "_multi-"
}

// cookieName is the multi-session cookie of a session token. Better Auth lower-cases the
// token in the name; the value keeps it as is.
func (p *Plugin) cookieName(token string) string { return p.prefix() + strings.ToLower(token) }

// requestCookies returns the request's multi-session cookies whose signature verifies and
// whose name matches the token they carry, in header order, at most maxCookiesRead of them.
// A name sent twice with different values counts as absent (SES-04), as the engine does for
// its own cookies.
func (p *Plugin) requestCookies(r *http.Request) []multiCookie {
	prefix := p.prefix()
	type seen struct {
		raw string
		bad bool
	}
	var order []string
	vals := map[string]*seen{}
	eachCookie(r, func(name, raw string) {
		if !strings.HasPrefix(name, prefix) {
			return
		}
		if s, ok := vals[name]; ok {
			if s.raw != raw {
				s.bad = true
			}
			return
		}
		order = append(order, name)
		vals[name] = &seen{raw: raw}
	})
	var out []multiCookie
	for _, name := range order {
		if len(out) == p.maxCookiesRead() {
			break
		}
		s := vals[name]
		if s.bad {
			continue
		}
		if tok, ok := p.verify(name, s.raw); ok {
			out = append(out, multiCookie{name: name, token: tok})
		}
	}
	return out
}

// requestCookie returns the token of one multi-session cookie of the request, by full name,
// under the same rules as requestCookies.
func (p *Plugin) requestCookie(r *http.Request, name string) (string, bool) {
	raw, n, bad := "", 0, false
	eachCookie(r, func(k, v string) {
		if k != name {
			return
		}
		if n > 0 && v != raw {
			bad = true
		}
		raw = v
		n++
	})
	if n == 0 || bad {
		return "", false
	}
	return p.verify(name, raw)
}

// verify checks a raw (percent-encoded) cookie value: a signed session token (spec §2.2)
// belonging to the cookie's name. The signature covers only the value, so the name check
// keeps one signed token from standing in under another token's name.
func (p *Plugin) verify(name, raw string) (string, bool) {
	v, err := url.PathUnescape(raw)
	if err != nil || v == "" {
		return "", false
	}
	tok, ok := p.engine.Keys().Verify(v)
	if !ok || tok == "" || p.cookieName(tok) != name {
		return "", false
	}
	return tok, true
}

// eachCookie calls f for every name=value pair of the request's Cookie headers (quotes
// around a value removed).
func eachCookie(r *http.Request, f func(name, raw string)) {
	for _, line := range r.Header["Cookie"] {
		for line != "" {
			var part string
			part, line, _ = strings.Cut(line, ";")
			k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
			if !ok {
				continue
			}
			if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			f(k, v)
		}
	}
}

// setCookie sets the multi-session cookie of a session token: its signed value with the
// session cookie's attributes and the session lifetime (Better Auth uses the session
// cookie's default attributes, so even a "don't remember" sign-in's cookie has the full
// Max-Age).
func (p *Plugin) setCookie(c *authcore.Call, token string) {
	c.SetCookieNamed(p.cookieName(token), p.engine.Keys().Sign(token), p.engine.Config().Session.ExpiresIn)
}

// expireCookie deletes a multi-session cookie.
func expireCookie(c *authcore.Call, name string) { c.SetCookieNamed(name, "", 0) }

// deleteSession deletes the session of a bare token, if it still exists.
func (p *Plugin) deleteSession(c *authcore.Call, token string) error {
	if _, err := p.engine.Store().DeleteMany(c.Context(), authcore.ModelSession,
		storage.Eq("token", authcore.HashToken(token))); err != nil {
		return authcore.Internal(err)
	}
	return nil
}
