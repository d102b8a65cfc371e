package caddymodule

import (
	"bytes"
	"net/http"
	"slices"
	"strings"

	"github.com/caddyserver/caddy/v2"

	"github.com/gatehouse-auth/gatehouse/authcore"
)

// identityField is one piece of identity the gateway forwards: its Caddyfile name, the
// header suffix under the prefix, its Caddy placeholder, and how to read it.
type identityField struct {
	name   string
	suffix string
	key    string // the Caddy placeholder, e.g. http.auth.user.id
	get    func(p *authcore.Principal) string
}

func userString(p *authcore.Principal, f string) string {
	if p.User == nil {
		return ""
	}
	return p.User.String(f)
}

// identityFields is the one list of forwarded identity (D1, D8). The email is sent only when
// verified, together with User-Email-Verified: true.
var identityFields = []identityField{
	{"user_id", "User-Id", "http.auth.user.id", func(p *authcore.Principal) string { return p.UserID }},
	{"user_email", "User-Email", "http.auth.user.email", func(p *authcore.Principal) string {
		if p.User != nil && p.User.Bool("emailVerified") {
			return p.User.String("email")
		}
		return ""
	}},
	{"user_email_verified", "User-Email-Verified", "http.auth.user.email_verified", func(p *authcore.Principal) string {
		if p.User != nil && p.User.Bool("emailVerified") {
			return "true"
		}
		return ""
	}},
	{"user_name", "User-Name", "http.auth.user.name", func(p *authcore.Principal) string { return userString(p, "name") }},
	{"user_role", "User-Role", "http.auth.user.role", func(p *authcore.Principal) string { return strings.Join(p.Roles, ",") }},
	{"session_id", "Session-Id", "http.auth.user.session_id", func(p *authcore.Principal) string {
		if p.Session == nil {
			return ""
		}
		return p.Session.ID()
	}},
	{"method", "Method", "http.auth.user.method", func(p *authcore.Principal) string { return p.Method }},
	{"org_id", "Org-Id", "http.auth.user.org_id", func(p *authcore.Principal) string { return p.OrgID }},
	{"org_slug", "Org-Slug", "http.auth.user.org_slug", func(p *authcore.Principal) string { return p.OrgSlug }},
	{"org_role", "Org-Role", "http.auth.user.org_role", func(p *authcore.Principal) string { return strings.Join(p.OrgRoles, ",") }},
	{"api_key_id", "Api-Key-Id", "http.auth.user.api_key_id", func(p *authcore.Principal) string { return p.KeyID }},
	{"permissions", "Permissions", "http.auth.user.permissions", func(p *authcore.Principal) string { return permissionList(p.Permissions) }},
}

// permissionList renders a credential's permissions as sorted "resource:action" pairs,
// comma-separated ("files:read,files:write"); "" when it has none.
func permissionList(perms map[string][]string) string {
	if len(perms) == 0 {
		return ""
	}
	var out []string
	for res, actions := range perms {
		for _, a := range actions {
			out = append(out, res+":"+a)
		}
	}
	slices.Sort(out)
	return strings.Join(out, ",")
}

// knownField reports whether name is an identity field (for `header <field> <name>`).
func knownField(name string) bool {
	for i := range identityFields {
		if identityFields[i].name == name {
			return true
		}
	}
	return false
}

// normHeader lower-cases a header name and turns '_' and '.' into '-': CGI-style backends
// (PHP's $_SERVER, FastCGI) fold all three onto the same variable, so "X_Auth_User_Id" and
// "X-Auth.User-Id" reach them as HTTP_X_AUTH_USER_ID. Caddy drops such names by default
// (GHSA-f59h-q822-g45g, GHSA-49wc-4hcv-v58q) unless a server allowlists them, so the gateway
// does not rely on that.
func normHeader(name string) string {
	b := []byte(name)
	for i, c := range b {
		b[i] = normByte(c)
	}
	return string(b)
}

// overrideHeaders are request headers that some frameworks honour to change the method or
// the path of a request after the gateway has judged it (Rails/Express method override,
// Symfony/IIS X-Original-URL): "GET /public/x" with "X-HTTP-Method-Override: DELETE" or
// "X-Original-URL: /admin" would slip past rules written for the method and path the gateway
// saw. The upstream must act on exactly what was judged (D2, PATH-03), so they are stripped
// with the identity headers. Names are in normHeader form.
var overrideHeaders = map[string]struct{}{
	"x-http-method-override": {},
	"x-http-method":          {},
	"x-method-override":      {},
	"x-original-url":         {},
	"x-rewrite-url":          {},
}

// reserved reports whether a client header name must not reach the upstream as sent: under
// the reserved identity prefix in any case or spelling ('_' or '.' for '-'), a mapped legacy name, or a
// method/path override.
func (h *Handler) reserved(name string) bool {
	// Normalise into a stack buffer: this runs for every header of every proxied request,
	// and the map lookups below do not allocate for a string(bytes) key.
	var buf [96]byte
	var n []byte
	if len(name) <= len(buf) {
		n = buf[:len(name)]
		for i := 0; i < len(name); i++ {
			n[i] = normByte(name[i])
		}
	} else {
		n = []byte(normHeader(name))
	}
	if bytes.HasPrefix(n, h.normPrefixB) {
		return true
	}
	if _, ok := h.mapped[string(n)]; ok {
		return true
	}
	_, ok := overrideHeaders[string(n)]
	return ok
}

func normByte(c byte) byte {
	switch {
	case 'A' <= c && c <= 'Z':
		return c + 'a' - 'A'
	case c == '_', c == '.':
		return '-'
	}
	return c
}

func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0 {
			continue
		}
		return false
	}
	return true
}

// stripIdentity removes every client header the gateway could set, before anything is set
// (HDR-01, HDR-02; Caddy GHSA-7r4p-vjf4-gxv4 deleted only the names it was about to set), and
// the method/path overrides. It also removes Connection tokens naming them, so a client
// cannot make a hop-by-hop proxy drop the trusted header after it is set.
func (h *Handler) stripIdentity(r *http.Request) {
	for name := range r.Header {
		if h.reserved(name) {
			delete(r.Header, name)
		}
	}
	conn := r.Header["Connection"]
	if len(conn) == 0 {
		return
	}
	var keep []string
	changed := false
	for _, line := range conn {
		for _, tok := range strings.Split(line, ",") {
			tok = strings.TrimSpace(tok)
			if tok == "" {
				continue
			}
			if h.reserved(tok) {
				changed = true
				continue
			}
			keep = append(keep, tok)
		}
	}
	if !changed {
		return
	}
	if len(keep) == 0 {
		delete(r.Header, "Connection")
	} else {
		r.Header["Connection"] = []string{strings.Join(keep, ", ")}
	}
}

// setIdentity sets the identity headers and Caddy placeholders for p; fields that do not
// apply stay absent (HDR-02).
func (h *Handler) setIdentity(r *http.Request, repl *caddy.Replacer, p *authcore.Principal) {
	if p == nil {
		return
	}
	// One backing array for all the header values: one allocation, not one per header.
	vals := make([]string, len(identityFields))
	for i := range identityFields {
		f := &identityFields[i]
		v := f.get(p)
		if v == "" {
			continue
		}
		vals[i] = headerValue(v)
		r.Header[h.headerNames[i]] = vals[i : i+1 : i+1]
	}
	if repl != nil {
		// One lazy provider instead of a Set per field: placeholders cost nothing unless a
		// later handler uses them.
		repl.Map(func(key string) (any, bool) {
			for i := range identityFields {
				if identityFields[i].key == key {
					v := identityFields[i].get(p)
					return v, v != ""
				}
			}
			return nil, false
		})
	}
	for k, v := range p.Headers {
		if v != "" {
			r.Header.Set(h.HeaderPrefix+k, headerValue(v))
		}
	}
}

// headerValue percent-encodes what is not printable ASCII (and '%' itself, so the encoding
// is unambiguous): header values carry names like "Zoë" safely (D8).
func headerValue(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '%' {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '%' {
			b = append(b, '%', hex[c>>4], hex[c&15])
		} else {
			b = append(b, c)
		}
	}
	return string(b)
}

// withoutGatewayCookies returns the Cookie header lines without the gateway's cookies, joined
// into one line, and whether anything was removed. It allocates only when it must rebuild
// (a request with only the session cookie costs nothing).
func (h *Handler) withoutGatewayCookies(lines []string) (string, bool) {
	changed := false
	for _, line := range lines {
		for rest := line; rest != ""; {
			var part string
			part, rest, _ = strings.Cut(rest, ";")
			name, _, _ := strings.Cut(strings.TrimSpace(part), "=")
			if h.engine.ReservedCookie(strings.TrimSpace(name)) {
				changed = true
			}
		}
	}
	if !changed {
		return "", false
	}
	var b strings.Builder
	for _, line := range lines {
		for rest := line; rest != ""; {
			var part string
			part, rest, _ = strings.Cut(rest, ";")
			part = strings.TrimSpace(part)
			name, _, _ := strings.Cut(part, "=")
			if part == "" || h.engine.ReservedCookie(strings.TrimSpace(name)) {
				continue
			}
			if b.Len() > 0 {
				b.WriteString("; ")
			}
			b.WriteString(part)
		}
	}
	return b.String(), true
}

// stripCredentials removes the gateway's own credentials from the upstream request unless
// pass_credentials (D8): its cookies, and Authorization when that carried the credential
// used.
func (h *Handler) stripCredentials(r *http.Request, p *authcore.Principal) {
	if h.PassCredentials {
		return
	}
	if lines := r.Header["Cookie"]; len(lines) > 0 {
		if kept, changed := h.withoutGatewayCookies(lines); changed {
			if kept == "" {
				delete(r.Header, "Cookie")
			} else {
				r.Header["Cookie"] = []string{kept}
			}
		}
	}
	for _, name := range h.engine.CredentialHeaders() {
		r.Header.Del(name)
	}
	if p != nil && p.FromAuthorization {
		r.Header.Del("Authorization")
	}
}
