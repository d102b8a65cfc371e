package origin

import (
	"net/url"
	"strings"
)

// target is a redirect target after browser-like normalisation, in the form
// that was judged. Resolve serialises exactly this, so the Location header
// carries what was checked and nothing a second parser could reinterpret.
type target struct {
	kind     targetKind
	origin   httpOrigin // kindHTTP
	custom   customURL  // kindCustom
	path     string     // resolved path ("/" at least for kindRelative and kindHTTP)
	query    string     // without '?'
	hasQuery bool
	fragment string // without '#'; kindHTTP and kindCustom only
	hasFrag  bool
}

type targetKind uint8

const (
	kindRelative targetKind = iota + 1
	kindHTTP
	kindCustom
)

// SafeRedirect reports whether target may be used as a callbackURL,
// redirectTo, errorCallbackURL or newUserCallbackURL.
//
// The value is first normalised the way a browser reads it: leading and
// trailing C0 controls and spaces are trimmed, ASCII tab, LF and CR are
// removed wherever they are (the WHATWG URL parser does this), and any other
// control character or non-ASCII byte refuses the value outright (a browser
// would map full-width or look-alike characters such as U+FF0F to something we
// would then have to second-guess).
//
// Relative values follow spec §4.5: a single leading '/' not followed by '/',
// '\' or an encoded slash; path characters limited to letters, digits and
// "_-.+/@"; an optional query of those plus "=&%"; no fragment. On top of
// that, dot segments are resolved as a browser resolves them and the result
// must still start with exactly one '/': "/.//evil.example" becomes
// "//evil.example", the open redirect of spec §11, and is refused.
//
// Absolute values must be http or https with "//" right after the scheme
// (so "https:evil.example" and "https:///evil.example" are refused), '\' is
// read as '/' before the query as browsers do for these schemes, the
// authority may hold no userinfo or percent-encoding, and the origin must be
// trusted by [Matcher.TrustedOrigin]'s rules. Custom-scheme values must match
// a custom-scheme pattern and have the form "scheme://authority/path"; their
// path may not contain '%', '\' or empty segments ("//"), and is compared
// and returned with dot segments resolved. javascript:, data:, vbscript:, file:,
// blob: and the like are never trusted. Malformed percent-escapes anywhere
// refuse the value.
func (m *Matcher) SafeRedirect(target string) bool {
	_, ok := m.judge(target)
	return ok
}

// Resolve returns the absolute URL a browser reaches when it follows a safe
// target, for use in a Location header or a link: relative targets are placed
// on base's scheme and host (base is the configured base URL; its path is
// ignored because every accepted relative target is an absolute path), and
// absolute ones are re-serialised in canonical form (lower-case scheme and
// host, default port dropped, dot segments resolved). ok is false when the
// target is not safe or base is not an http(s) URL with a host and no
// userinfo.
func (m *Matcher) Resolve(base *url.URL, target string) (string, bool) {
	t, ok := m.judge(target)
	if !ok {
		return "", false
	}
	var b strings.Builder
	switch t.kind {
	case kindRelative:
		if base == nil || base.User != nil || base.Host == "" {
			return "", false
		}
		scheme := strings.ToLower(base.Scheme)
		if scheme != "http" && scheme != "https" {
			return "", false
		}
		bo, ok := parseHTTPOrigin(scheme, base.Host)
		if !ok {
			return "", false
		}
		b.WriteString(bo.String())
	case kindHTTP:
		b.WriteString(t.origin.String())
	case kindCustom:
		b.WriteString(t.custom.scheme)
		b.WriteString("://")
		b.WriteString(t.custom.authority)
	}
	b.WriteString(t.path)
	if t.hasQuery {
		b.WriteByte('?')
		b.WriteString(t.query)
	}
	if t.hasFrag {
		b.WriteByte('#')
		b.WriteString(t.fragment)
	}
	return b.String(), true
}

// judge normalises and checks a redirect target.
func (m *Matcher) judge(raw string) (target, bool) {
	s, ok := browserClean(raw)
	if !ok || s == "" {
		return target{}, false
	}
	scheme, rest, hasScheme := splitScheme(s)
	if !hasScheme {
		return judgeRelative(s)
	}
	switch {
	case scheme == "http" || scheme == "https":
		return m.judgeHTTP(scheme, rest)
	case forbiddenScheme(scheme):
		return target{}, false
	default:
		return m.judgeCustom(scheme, rest)
	}
}

// browserClean applies the WHATWG URL parser's input clean-up: strip leading
// and trailing C0 controls and spaces, remove every tab, LF and CR. Whatever
// control or non-ASCII byte remains makes the value unacceptable.
func browserClean(s string) (string, bool) {
	if len(s) > maxURLLen {
		return "", false
	}
	start, end := 0, len(s)
	for start < end && s[start] <= ' ' {
		start++
	}
	for end > start && s[end-1] <= ' ' {
		end--
	}
	s = s[start:end]
	if strings.ContainsAny(s, "\t\n\r") {
		s = strings.Map(func(r rune) rune {
			if r == '\t' || r == '\n' || r == '\r' {
				return -1
			}
			return r
		}, s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] >= 0x7f {
			return "", false
		}
	}
	return s, true
}

// judgeRelative applies spec §4.5's relative-path rule, then resolves dot
// segments the way a browser will and refuses anything that turned into a
// protocol-relative reference.
func judgeRelative(s string) (target, bool) {
	if strings.IndexByte(s, '#') >= 0 {
		return target{}, false
	}
	path, query, hasQuery := strings.Cut(s, "?")
	if len(path) == 0 || path[0] != '/' || (len(path) > 1 && path[1] == '/') {
		return target{}, false
	}
	for i := 0; i < len(path); i++ {
		if !isRelPathChar(path[i]) {
			return target{}, false // also '\', '%' (so no %2f / %5c / %2e)
		}
	}
	for i := 0; i < len(query); i++ {
		if !isRelPathChar(query[i]) && query[i] != '=' && query[i] != '&' && query[i] != '%' {
			return target{}, false
		}
	}
	if !validEscapes(query) {
		return target{}, false
	}
	path = resolveDots(path)
	if strings.HasPrefix(path, "//") {
		return target{}, false
	}
	return target{kind: kindRelative, path: path, query: query, hasQuery: hasQuery}, true
}

// isRelPathChar is spec §4.5's path character class: [A-Za-z0-9_] and "-.+/@".
func isRelPathChar(c byte) bool {
	return isAlpha(c) || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' || c == '+' || c == '/' || c == '@'
}

// judgeHTTP judges "http(s):rest".
func (m *Matcher) judgeHTTP(scheme, rest string) (target, bool) {
	// Browsers read '\' as '/' in the authority and path of special URLs, not
	// in the query or fragment.
	if q := strings.IndexAny(rest, "?#"); q >= 0 {
		rest = strings.ReplaceAll(rest[:q], "\\", "/") + rest[q:]
	} else {
		rest = strings.ReplaceAll(rest, "\\", "/")
	}
	// Exactly two slashes: "https:evil", "https:/evil" and "https:///evil" are
	// each read differently by different parsers (and by a browser depending
	// on the base URL), so none of them is accepted.
	if !strings.HasPrefix(rest, "//") || strings.HasPrefix(rest, "///") {
		return target{}, false
	}
	rest = rest[2:]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	o, ok := parseHTTPOrigin(scheme, rest[:end])
	if !ok || !m.trustedHTTP(o) {
		return target{}, false
	}
	t := target{kind: kindHTTP, origin: o}
	if !splitTail(rest[end:], &t) {
		return target{}, false
	}
	t.path = resolveDots(t.path)
	return t, true
}

// judgeCustom judges "scheme:rest" for a native-app scheme.
func (m *Matcher) judgeCustom(scheme, rest string) (target, bool) {
	if !strings.HasPrefix(rest, "//") || strings.IndexByte(rest, '\\') >= 0 {
		return target{}, false
	}
	rest = rest[2:]
	end := strings.IndexAny(rest, "?#")
	if end < 0 {
		end = len(rest)
	}
	c, ok := parseCustom(scheme, rest[:end])
	if !ok || !m.trustedCustom(c) {
		return target{}, false
	}
	t := target{kind: kindCustom, custom: c}
	if !splitTail(rest[end:], &t) {
		return target{}, false
	}
	// parseCustom already resolved the path; keep that form.
	t.path = c.path
	return t, true
}

// splitTail splits "path?query#fragment" into t, checking characters and
// percent-escapes.
func splitTail(s string, t *target) bool {
	if i := strings.IndexByte(s, '#'); i >= 0 {
		t.fragment, t.hasFrag = s[i+1:], true
		s = s[:i]
	}
	if i := strings.IndexByte(s, '?'); i >= 0 {
		t.query, t.hasQuery = s[i+1:], true
		s = s[:i]
	}
	t.path = s
	if t.path == "" {
		t.path = "/"
	}
	for _, part := range [...]string{t.path, t.query, t.fragment} {
		for i := 0; i < len(part); i++ {
			switch part[i] {
			case ' ', '"', '<', '>', '`', '\\', '{', '}', '|', '^':
				return false
			}
		}
		if !validEscapes(part) {
			return false
		}
	}
	return true
}

// validEscapes reports whether every '%' starts a two-hex-digit escape.
func validEscapes(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			continue
		}
		if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			return false
		}
		i += 2
	}
	return true
}

func isHex(c byte) bool {
	c |= 0x20
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f'
}

// resolveDots removes dot segments from an absolute path as the WHATWG URL
// parser does for http(s) URLs: "." and ".." are recognised also as "%2e",
// ".%2e", "%2e." and "%2e%2e" (any case), a ".." at the root stays at the
// root, and a final "." or ".." leaves a trailing '/'. Empty segments are
// kept — "/.//x" becomes "//x", which is exactly why the result is checked
// again after this step.
func resolveDots(p string) string {
	if !strings.Contains(p, ".") && !strings.Contains(p, "%2") {
		return p
	}
	segs := strings.Split(p[1:], "/")
	out := make([]string, 0, len(segs))
	for i, s := range segs {
		last := i == len(segs)-1
		switch {
		case isDotDot(s):
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
			if last {
				out = append(out, "")
			}
		case isDot(s):
			if last {
				out = append(out, "")
			}
		default:
			out = append(out, s)
		}
	}
	return "/" + strings.Join(out, "/")
}

func isDot(s string) bool { return s == "." || strings.EqualFold(s, "%2e") }

func isDotDot(s string) bool {
	switch len(s) {
	case 2:
		return s == ".."
	case 4:
		return strings.EqualFold(s, ".%2e") || strings.EqualFold(s, "%2e.")
	case 6:
		return strings.EqualFold(s, "%2e%2e")
	}
	return false
}
