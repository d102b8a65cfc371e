package authcore

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Cookie name suffixes (spec §2.1). The full name is [__Secure-]<prefix>.<suffix>.
const (
	CookieSessionToken = "session_token"
	CookieSessionData  = "session_data"
	CookieDontRemember = "dont_remember"
)

// cookieJar knows the names and attributes of the engine's cookies. It is built once from the
// config and only read afterwards.
type cookieJar struct {
	prefix string // "better-auth" or "__Secure-better-auth"
	secure bool
	domain string
}

func newCookieJar(cfg Config) cookieJar {
	secure := strings.HasPrefix(cfg.BaseURL, "https://")
	if cfg.Cookies.Secure != nil {
		secure = *cfg.Cookies.Secure
	}
	p := cfg.Cookies.Prefix
	if secure {
		p = "__Secure-" + p
	}
	return cookieJar{prefix: p, secure: secure, domain: cfg.Cookies.Domain}
}

// Name returns the full cookie name for a suffix.
func (j cookieJar) Name(suffix string) string { return j.prefix + "." + suffix }

// serialize renders a Set-Cookie value in Better Auth's attribute order:
// name=value; Max-Age=N; [Domain=]; Path=/; HttpOnly; [Secure]; SameSite=Lax.
// maxAge < 0 omits Max-Age (a browser-session cookie); maxAge == 0 with an empty value
// deletes the cookie.
func (j cookieJar) serialize(name, value string, maxAge time.Duration) string {
	var b strings.Builder
	b.Grow(len(name) + len(value) + 96)
	b.WriteString(name)
	b.WriteByte('=')
	b.WriteString(encodeURIComponent(value))
	if maxAge >= 0 {
		b.WriteString("; Max-Age=")
		b.WriteString(strconv.FormatInt(int64(maxAge/time.Second), 10))
	}
	if j.domain != "" {
		b.WriteString("; Domain=")
		b.WriteString(j.domain)
	}
	b.WriteString("; Path=/; HttpOnly")
	if j.secure {
		b.WriteString("; Secure")
	}
	b.WriteString("; SameSite=Lax")
	return b.String()
}

// encodeURIComponent matches JavaScript's: everything but A-Z a-z 0-9 - _ . ! ~ * ' ( ) is
// percent-encoded (so a signed value's '/', '+', '=' become %2F, %2B, %3D).
func encodeURIComponent(s string) string {
	const hex = "0123456789ABCDEF"
	n := 0
	for i := 0; i < len(s); i++ {
		if !uriUnreserved(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if uriUnreserved(c) {
			b = append(b, c)
		} else {
			b = append(b, '%', hex[c>>4], hex[c&15])
		}
	}
	return string(b)
}

func uriUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		strings.IndexByte("-_.!~*'()", c) >= 0
}

// readCookie returns the value of the cookie named name in r's Cookie headers, percent-
// decoded, and how many times the name occurs. Callers treat count > 1 with differing values
// as no cookie: two session cookies (cookie tossing from a sibling subdomain, SES-04) must
// never yield a mixed or attacker-chosen identity.
func readCookie(h http.Header, name string) (value string, count int) {
	raw, n := readCookieRaw(h, name)
	return decodeCookieValue(raw), n
}

// readCookieRaw is readCookie without the percent-decoding. It scans the raw headers without
// allocating, because the gateway calls it on every proxied request (and keys its session
// cache by the raw value, so a cache hit never decodes).
func readCookieRaw(h http.Header, name string) (value string, count int) {
	for _, line := range h["Cookie"] {
		for len(line) > 0 {
			var part string
			part, line, _ = strings.Cut(line, ";")
			part = strings.TrimSpace(part)
			k, v, ok := strings.Cut(part, "=")
			if !ok || k != name {
				continue
			}
			if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			if count > 0 && v != value {
				value = ""
			} else if count == 0 {
				value = v
			}
			count++
		}
	}
	return value, count
}

// decodeCookieValue undoes encodeURIComponent; an invalid escape yields "".
func decodeCookieValue(v string) string {
	if strings.IndexByte(v, '%') < 0 {
		return v
	}
	dv, err := url.PathUnescape(v)
	if err != nil {
		return ""
	}
	return dv
}

// ReservedCookie reports whether a cookie name belongs to the engine ([__Secure-]<prefix>.*).
// The gateway strips such cookies from upstream requests and drops them from upstream
// responses (D8).
func (e *Engine) ReservedCookie(name string) bool {
	p := e.cfg.Cookies.Prefix + "."
	return strings.HasPrefix(name, p) || strings.HasPrefix(name, "__Secure-"+p) ||
		strings.HasPrefix(name, "__Host-"+p)
}

// CookieName returns the full name of one of the engine's cookies (for plugins and the
// gateway).
func (e *Engine) CookieName(suffix string) string { return e.cookies.Name(suffix) }
