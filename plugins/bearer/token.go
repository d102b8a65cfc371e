package bearer

import (
	"net/http"
	"net/url"
	"strings"
)

// bearerToken returns the credential of an "Authorization: Bearer <x>" header (scheme
// case-insensitive, RFC 7235). ok is false for other schemes and for an empty token. Several
// Authorization headers of which any is a bearer one are ambiguous: ambiguous is true and the
// request must not be authenticated by any of them (TOK-01).
func bearerToken(h http.Header) (tok string, ok, ambiguous bool) {
	lines := h.Values("Authorization")
	if len(lines) == 0 {
		return "", false, false
	}
	const scheme = "bearer "
	for i, v := range lines {
		if len(v) < len(scheme) || !strings.EqualFold(v[:len(scheme)], scheme) {
			continue
		}
		if len(lines) > 1 {
			return "", false, true
		}
		if i == 0 {
			tok = strings.TrimSpace(v[len(scheme):])
		}
	}
	return tok, tok != "", false
}

// looksLikeJWT reports whether tok has the compact JWS shape: three non-empty base64url
// parts. Such a token belongs to the JWT authenticator. A signed session token has one dot
// and a standard-base64 signature ending in '=', so the two never overlap.
func looksLikeJWT(tok string) bool {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return false
	}
	for _, p := range parts {
		if p == "" {
			return false
		}
		for i := 0; i < len(p); i++ {
			c := p[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// signedValue turns a bearer credential into the signed cookie value it stands for (still
// to be verified): a value with a '.' is the signed form, percent-decoded when it contains
// '%'; a bare token is signed server-side unless signatures are required. ok is false when
// the value cannot be one of ours.
func (p *Plugin) signedValue(tok string) (string, bool) {
	if len(tok) > maxTokenLen {
		return "", false
	}
	if strings.Contains(tok, ".") {
		if strings.Contains(tok, "%") {
			d, err := url.PathUnescape(tok)
			if err != nil {
				return "", false
			}
			tok = d
		}
		return tok, true
	}
	if p.RequireSignature {
		return "", false
	}
	return p.engine.Keys().Sign(tok), true
}

// cookieValues returns the values of every cookie named name in h, as sent (not decoded).
func cookieValues(h http.Header, name string) []string {
	var out []string
	for _, line := range h["Cookie"] {
		for part := range strings.SplitSeq(line, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
			if !ok || k != name {
				continue
			}
			if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			out = append(out, v)
		}
	}
	return out
}

// withoutCookies returns h's Cookie lines joined into one, without the cookies in drop.
func withoutCookies(h http.Header, drop func(name string) bool) string {
	var b strings.Builder
	for _, line := range h["Cookie"] {
		for part := range strings.SplitSeq(line, ";") {
			part = strings.TrimSpace(part)
			k, _, _ := strings.Cut(part, "=")
			if part == "" || drop(strings.TrimSpace(k)) {
				continue
			}
			if b.Len() > 0 {
				b.WriteString("; ")
			}
			b.WriteString(part)
		}
	}
	return b.String()
}

// encodeURIComponent is JavaScript's: everything but A-Z a-z 0-9 - _ . ! ~ * ' ( ) is
// percent-encoded, as the engine writes its cookie values.
func encodeURIComponent(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.!~*'()", c) >= 0 {
			b.WriteByte(c)
		} else {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}
