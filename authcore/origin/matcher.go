package origin

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Matcher holds the trusted origin patterns. It is immutable once built, so one
// value can be shared by every request goroutine without locking; to change the
// trusted list, build a new Matcher and swap it in.
//
// Pattern forms (spec §4.5, with Gatehouse's stricter reading):
//
//   - Exact origin: "https://app.example.com", "http://localhost:8080",
//     "http://[::1]:3000". Scheme and host are lower-cased, a default port is
//     dropped and one trailing "/" is tolerated; any other path, a query, a
//     fragment or userinfo is an error.
//   - Origin glob: "https://*.example.com", "https://preview-*.example.com:8443".
//     Scheme and port are matched exactly.
//   - Host glob: "*.example.com". Matches http and https on their default ports
//     (as Better Auth matches the host only); prefer an origin glob to pin https.
//   - Custom scheme: "myapp://", "myapp://callback", "exp://192.168.1.5:8081/--".
//     The scheme must match; the authority must match when the pattern has one;
//     the path must equal or lie under the pattern's path after dot-segment
//     resolution. Custom schemes are for native apps: javascript, data, vbscript,
//     file, blob, about, filesystem, view-source, ws, wss and ftp are refused.
//
// Wildcards: '*' stands for one or more characters and '?' for exactly one
// character, both inside a single DNS label — a wildcard never matches a '.',
// so "*.tenant.test" matches "a.tenant.test" but neither "a.b.tenant.test" nor
// "tenant.test". A wildcard never matches a punycode label ("xn--…"), so IDN
// look-alikes cannot slip in under a glob; an IDN host must be listed exactly
// in its punycode form. Better Auth's "**" (match across labels) is refused, as
// are "*" on its own, wildcards in the last label, in the port or in a custom
// scheme, and globs with fewer than two fixed labels to the right of the
// wildcard ("*.com"; "*.localhost" is allowed), because each of those trusts
// origins nobody controls. Wildcards never match IP-address hosts.
type Matcher struct {
	exact   map[httpOrigin]struct{}
	globs   []hostGlob
	customs []customPattern
}

// hostGlob is a wildcard pattern over the host of an http(s) origin.
type hostGlob struct {
	scheme string   // "http", "https", or "" for either
	port   string   // canonical port, "" for the scheme's default
	labels []string // one glob per DNS label, lower-case
}

// customPattern is a native-app scheme pattern.
type customPattern struct {
	scheme    string
	authority string // "" trusts every authority
	path      string // resolved; "" trusts every path
}

// NewMatcher parses the trusted origin patterns (see [Matcher] for the forms).
// Every malformed pattern is reported, each error naming its pattern, so a
// configuration can be fixed in one pass. Empty strings, "*", "**" and "null"
// are refused: in Better Auth "*" turns origin protection off, and Gatehouse
// never allows that by configuration.
func NewMatcher(patterns []string) (*Matcher, error) {
	m := &Matcher{exact: make(map[httpOrigin]struct{}, len(patterns))}
	var errs []error
	for _, p := range patterns {
		if err := m.add(p); err != nil {
			errs = append(errs, fmt.Errorf("trusted origin %q: %w", p, err))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return m, nil
}

func (m *Matcher) add(p string) error {
	if p == "" {
		return errors.New("empty pattern")
	}
	if p == "null" {
		return errors.New(`"null" is the origin of opaque documents and cannot be trusted`)
	}
	if strings.Trim(p, "*") == "" {
		return errors.New("a wildcard-only pattern would trust every origin")
	}
	for i := 0; i < len(p); i++ {
		if p[i] <= ' ' || p[i] >= 0x7f {
			return errors.New("only printable ASCII is allowed (write IDN hosts in punycode)")
		}
	}
	if strings.Contains(p, "**") {
		return errors.New(`"**" would match across DNS labels; use one '*' per label`)
	}

	scheme, rest, hasScheme := splitScheme(p)
	if !hasScheme {
		// Host glob, e.g. "*.example.com".
		if !strings.ContainsAny(p, "*?") {
			return errors.New(`an exact origin needs a scheme, e.g. "https://` + p + `"`)
		}
		g, err := parseHostGlob("", p, "")
		if err != nil {
			return err
		}
		m.globs = append(m.globs, g)
		return nil
	}
	if !strings.HasPrefix(rest, "//") {
		return errors.New(`expected "scheme://"`)
	}
	rest = rest[2:]

	if scheme != "http" && scheme != "https" {
		if forbiddenScheme(scheme) {
			return fmt.Errorf("scheme %q can never be a trusted origin", scheme)
		}
		if strings.ContainsAny(rest, "*?") {
			return errors.New("wildcards are not supported in custom-scheme patterns")
		}
		c, ok := parseCustom(scheme, rest)
		if !ok {
			return errors.New("malformed custom-scheme pattern")
		}
		// "/cb/" pins the same subtree as "/cb"; "/" pins nothing.
		m.customs = append(m.customs, customPattern{scheme: c.scheme, authority: c.authority, path: strings.TrimRight(c.path, "/")})
		return nil
	}

	// http(s): exact origin or origin glob. One trailing "/" is tolerated
	// because configurations are often written that way; nothing else may
	// follow the authority.
	rest = strings.TrimSuffix(rest, "/")
	if strings.ContainsAny(rest, "/#\\") {
		return errors.New("an origin has no path, query or fragment")
	}
	if strings.Contains(rest, "@") {
		return errors.New("an origin has no userinfo")
	}
	if strings.ContainsAny(rest, "*?") {
		host, port, ok := splitHostPort(rest)
		if !ok || strings.ContainsAny(port, "*?") {
			return errors.New("malformed origin glob (wildcards are allowed in the host only)")
		}
		cport, ok := canonicalPort(scheme, port)
		if !ok {
			return errors.New("invalid port")
		}
		g, err := parseHostGlob(scheme, host, cport)
		if err != nil {
			return err
		}
		m.globs = append(m.globs, g)
		return nil
	}
	o, ok := parseHTTPOrigin(scheme, rest)
	if !ok {
		return errors.New("malformed origin")
	}
	m.exact[o] = struct{}{}
	return nil
}

func parseHostGlob(scheme, host, port string) (hostGlob, error) {
	host = strings.ToLower(host)
	if host == "" || len(host) > 253 {
		return hostGlob{}, errors.New("invalid host")
	}
	labels := strings.Split(host, ".")
	last := -1 // index of the rightmost label holding a wildcard
	for i, l := range labels {
		if l == "" || len(l) > 63 {
			return hostGlob{}, errors.New("empty or over-long DNS label (no trailing dot either)")
		}
		for j := 0; j < len(l); j++ {
			if !isHostChar(l[j]) && l[j] != '*' && l[j] != '?' {
				return hostGlob{}, fmt.Errorf("invalid character %q in host", l[j])
			}
		}
		if strings.ContainsAny(l, "*?") {
			last = i
		}
	}
	if last == len(labels)-1 {
		return hostGlob{}, errors.New("a wildcard in the last label would trust whole top-level domains")
	}
	fixed := labels[last+1:]
	if len(fixed) < 2 && !(len(fixed) == 1 && fixed[0] == "localhost") {
		return hostGlob{}, errors.New("a wildcard needs at least two fixed labels to its right (e.g. *.example.com)")
	}
	if isNumericLabel(labels[len(labels)-1]) {
		return hostGlob{}, errors.New("wildcards cannot match IP addresses")
	}
	return hostGlob{scheme: scheme, port: port, labels: labels}, nil
}

// TrustedOrigin reports whether origin, a value in the form of an Origin
// header, is trusted. http(s) values must be exactly "scheme://host[:port]":
// scheme and host are compared case-insensitively and a default port is
// ignored, so "https://APP.TEST:443" equals "https://app.test". Refused
// outright, whatever the patterns: "null", paths, queries, fragments,
// userinfo, hosts with a trailing dot or empty labels, non-ASCII (IDN) hosts,
// percent-encoding, whitespace and control characters, invalid or
// non-canonical ports and IPv4 forms a browser would rewrite ("0x7f.1").
// Relative paths are never an origin. Custom-scheme values
// ("myapp://", "exp://host/path") are matched against custom-scheme patterns.
func (m *Matcher) TrustedOrigin(origin string) bool {
	if origin == "" || origin == "null" || len(origin) > maxURLLen {
		return false
	}
	for i := 0; i < len(origin); i++ {
		if origin[i] <= ' ' || origin[i] >= 0x7f {
			return false
		}
	}
	scheme, rest, ok := splitScheme(origin)
	if !ok || !strings.HasPrefix(rest, "//") {
		return false
	}
	rest = rest[2:]
	if scheme == "http" || scheme == "https" {
		o, ok := parseHTTPOrigin(scheme, rest)
		return ok && m.trustedHTTP(o)
	}
	if forbiddenScheme(scheme) || strings.ContainsAny(rest, "?#") {
		return false
	}
	c, ok := parseCustom(scheme, rest)
	return ok && m.trustedCustom(c)
}

func (m *Matcher) trustedHTTP(o httpOrigin) bool {
	if _, ok := m.exact[o]; ok {
		return true
	}
	if o.ip {
		return false
	}
	for _, g := range m.globs {
		if g.matches(o) {
			return true
		}
	}
	return false
}

func (g hostGlob) matches(o httpOrigin) bool {
	if g.scheme != "" && g.scheme != o.scheme {
		return false
	}
	if g.port != o.port {
		return false
	}
	// Count labels without allocating.
	if strings.Count(o.host, ".")+1 != len(g.labels) {
		return false
	}
	h := o.host
	for _, pat := range g.labels {
		var label string
		if i := strings.IndexByte(h, '.'); i >= 0 {
			label, h = h[:i], h[i+1:]
		} else {
			label, h = h, ""
		}
		if !strings.ContainsAny(pat, "*?") {
			if label != pat {
				return false
			}
			continue
		}
		if strings.HasPrefix(label, "xn--") || !globLabel(pat, label) {
			return false
		}
	}
	return true
}

// globLabel matches one DNS label against a pattern where '?' is exactly one
// character and '*' one or more. It rewrites '*' as '?' followed by a
// zero-or-more star and runs the usual backtracking matcher, which is linear
// in practice for labels of at most 63 bytes.
func globLabel(pat, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pat) && pat[p] == '?':
			p++
			i++
		case p < len(pat) && pat[p] == '*':
			// '*' = one character, then zero or more.
			p++
			i++
			star, mark = p, i
		case p < len(pat) && pat[p] == s[i]:
			p++
			i++
		case star >= 0:
			mark++
			i = mark
			p = star
		default:
			return false
		}
	}
	return p == len(pat)
}

func (m *Matcher) trustedCustom(c customURL) bool {
	for _, p := range m.customs {
		if p.scheme != c.scheme {
			continue
		}
		if p.authority != "" && p.authority != c.authority {
			continue
		}
		if p.path == "" || c.path == p.path || strings.HasPrefix(c.path, p.path+"/") {
			return true
		}
	}
	return false
}

// maxURLLen bounds every value judged here; longer ones are refused rather
// than parsed (browsers cap URLs too, and a callback has no business being
// this long).
const maxURLLen = 8192

// httpOrigin is a canonical http(s) origin.
type httpOrigin struct {
	scheme string
	host   string // lower-case name, dotted-quad IPv4 or bracketed canonical IPv6
	port   string // "" for the scheme's default port
	ip     bool
}

func (o httpOrigin) String() string {
	if o.port == "" {
		return o.scheme + "://" + o.host
	}
	return o.scheme + "://" + o.host + ":" + o.port
}

// parseHTTPOrigin canonicalises the authority of an http(s) URL. It refuses
// everything a browser could read differently from us, or that an honest
// client never sends: userinfo, percent-encoding, empty labels, a trailing
// dot, non-ASCII, IPv6 zones, non-canonical IPv4 and ports.
func parseHTTPOrigin(scheme, authority string) (httpOrigin, bool) {
	if authority == "" || strings.ContainsAny(authority, "@%/\\?#") {
		return httpOrigin{}, false
	}
	host, port, ok := splitHostPort(authority)
	if !ok {
		return httpOrigin{}, false
	}
	cport, ok := canonicalPort(scheme, port)
	if !ok {
		return httpOrigin{}, false
	}
	o := httpOrigin{scheme: scheme, port: cport}
	if host[0] == '[' {
		a, err := netip.ParseAddr(host[1 : len(host)-1])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return httpOrigin{}, false
		}
		o.host, o.ip = "["+a.String()+"]", true
		return o, true
	}
	host = strings.ToLower(host)
	if len(host) > 253 {
		return httpOrigin{}, false
	}
	start, lastLabel := 0, 0
	for i := 0; i <= len(host); i++ {
		if i < len(host) && host[i] != '.' {
			if !isHostChar(host[i]) {
				return httpOrigin{}, false
			}
			continue
		}
		if n := i - start; n == 0 || n > 63 {
			return httpOrigin{}, false // empty label, trailing dot, over-long label
		}
		lastLabel, start = start, i+1
	}
	// A browser parses a host whose last label is numeric as IPv4 (and
	// accepts octal, hex and short forms). Accept only the canonical
	// dotted quad so what we compare is what the browser connects to.
	if isNumericLabel(host[lastLabel:]) {
		a, err := netip.ParseAddr(host)
		if err != nil || !a.Is4() || a.String() != host {
			return httpOrigin{}, false
		}
		o.ip = true
	}
	o.host = host
	return o, true
}

// splitHostPort splits "host[:port]" or "[v6][:port]" without validating
// the host characters.
func splitHostPort(a string) (host, port string, ok bool) {
	if a == "" {
		return "", "", false
	}
	if a[0] == '[' {
		end := strings.IndexByte(a, ']')
		if end < 2 {
			return "", "", false
		}
		host, rest := a[:end+1], a[end+1:]
		if rest == "" {
			return host, "", true
		}
		if rest[0] != ':' {
			return "", "", false
		}
		return host, rest[1:], rest[1:] != ""
	}
	i := strings.IndexByte(a, ':')
	if i < 0 {
		return a, "", true
	}
	if i == 0 || i == len(a)-1 || strings.IndexByte(a[i+1:], ':') >= 0 {
		return "", "", false
	}
	return a[:i], a[i+1:], true
}

// canonicalPort validates a decimal port and returns "" for the scheme's
// default. Leading zeros are refused: browsers would strip them, and an
// Origin header never carries them.
func canonicalPort(scheme, port string) (string, bool) {
	if port == "" {
		return "", true
	}
	if port[0] == '0' || len(port) > 5 {
		return "", false
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
		return "", false
	}
	if (scheme == "https" && n == 443) || (scheme == "http" && n == 80) {
		return "", true
	}
	return port, true
}

// isHostChar reports the characters allowed in a (lower-cased) DNS host.
func isHostChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

// isNumericLabel reports a label the WHATWG host parser would treat as
// an IPv4 part: decimal digits, or "0x" followed by hex digits.
func isNumericLabel(l string) bool {
	if l == "" {
		return false
	}
	if len(l) >= 2 && l[0] == '0' && (l[1] == 'x' || l[1] == 'X') {
		for i := 2; i < len(l); i++ {
			c := l[i] | 0x20
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
				return false
			}
		}
		return true
	}
	for i := 0; i < len(l); i++ {
		if l[i] < '0' || l[i] > '9' {
			return false
		}
	}
	return true
}

// splitScheme splits "scheme:rest" the way a URL parser detects a scheme
// (ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"), lower-casing the scheme.
func splitScheme(s string) (scheme, rest string, ok bool) {
	if s == "" || !isAlpha(s[0]) {
		return "", s, false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ':':
			return strings.ToLower(s[:i]), s[i+1:], true
		case isAlpha(c) || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.':
		default:
			return "", s, false
		}
	}
	return "", s, false
}

func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// forbiddenScheme lists schemes that run code, read local data or reach
// the network in ways an app-link allowlist must never cover.
func forbiddenScheme(s string) bool {
	switch s {
	case "javascript", "data", "vbscript", "file", "blob", "about",
		"filesystem", "view-source", "ws", "wss", "ftp", "http", "https":
		return true
	}
	return false
}

// customURL is a parsed native-app URL: lower-cased scheme and authority and
// a resolved path ("" or "/a/b").
type customURL struct {
	scheme, authority, path string
}

// parseCustom parses the part of a custom-scheme URL after "scheme://"
// (without query or fragment). Authorities and paths are kept to a strict
// character set: no userinfo, percent-encoding or backslashes, so the string
// we compare is the string the app receives.
func parseCustom(scheme, rest string) (customURL, bool) {
	c := customURL{scheme: scheme}
	var ok bool
	end := strings.IndexByte(rest, '/')
	if end < 0 {
		end = len(rest)
	}
	auth := strings.ToLower(rest[:end])
	if !validCustomAuthority(auth) {
		return customURL{}, false
	}
	c.authority = auth
	path := rest[end:]
	for i := 0; i < len(path); i++ {
		if !isCustomPathChar(path[i]) {
			return customURL{}, false
		}
	}
	c.path, ok = resolveCustomPath(path)
	return c, ok
}

// validCustomAuthority accepts "", "host", "host:port" and "[v6]:port" with
// a lower-case DNS-style host and a decimal port.
func validCustomAuthority(a string) bool {
	if a == "" {
		return true
	}
	host, port, ok := splitHostPort(a)
	if !ok || len(port) > 5 {
		return false
	}
	for i := 0; i < len(port); i++ {
		if port[i] < '0' || port[i] > '9' {
			return false
		}
	}
	if host[0] == '[' {
		ip, err := netip.ParseAddr(host[1 : len(host)-1])
		return err == nil && ip.Is6() && ip.Zone() == ""
	}
	for i := 0; i < len(host); i++ {
		if !isHostChar(host[i]) && host[i] != '.' {
			return false
		}
	}
	return true
}

func isCustomPathChar(c byte) bool {
	return isAlpha(c) || c >= '0' && c <= '9' || strings.IndexByte("/-._~!$&'()*+,;=:@", c) >= 0
}

// resolveCustomPath resolves "." and ".." segments so a path-pinned pattern
// cannot be escaped ("/cb/../evil" is not under "/cb"), as Better Auth does.
// Unlike Better Auth it refuses empty segments instead of dropping them, so
// the path compared is the path a URL parser (and the app) sees.
func resolveCustomPath(p string) (string, bool) {
	if p == "" {
		return "", true
	}
	if strings.Contains(p, "//") {
		return "", false
	}
	return resolveDots(p), true
}
