package origin

import (
	"net/url"
	"strings"
	"testing"
)

// oracleTrusted is an independent, deliberately naive statement of the
// trusted set testPatterns describe, applied to what net/url parsed. It shares
// no code with the Matcher.
func oracleTrusted(u *url.URL) bool {
	if u.User != nil || u.Opaque != "" {
		return false
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	switch scheme {
	case "https":
		if port != "" {
			return false
		}
		if host == "app.test" {
			return true
		}
		label, ok := strings.CutSuffix(host, ".tenant.test")
		return ok && label != "" && !strings.Contains(label, ".") && !strings.HasPrefix(label, "xn--")
	case "http":
		return host == "localhost" && port == "8080"
	case "myapp":
		return true
	case "exp":
		return u.Host == "192.168.1.5:8081" && (u.Path == "/--" || strings.HasPrefix(u.Path, "/--/"))
	}
	return false
}

// browserLike is the test's own version of the WHATWG input clean-up plus
// backslash handling, so the fuzz property is checked through net/url rather
// than through the code under test.
func browserLike(s string) string {
	s = strings.TrimFunc(s, func(r rune) bool { return r <= ' ' })
	s = strings.NewReplacer("\t", "", "\n", "", "\r", "").Replace(s)
	lower := strings.ToLower(s)
	if strings.HasPrefix(lower, "http:") || strings.HasPrefix(lower, "https:") || s != "" && (s[0] == '/' || s[0] == '\\') {
		end := strings.IndexAny(s, "?#")
		if end < 0 {
			end = len(s)
		}
		s = strings.ReplaceAll(s[:end], "\\", "/") + s[end:]
	}
	return s
}

func addSeeds(f *testing.F, names ...string) {
	for _, name := range names {
		for _, s := range readCorpus(f, name) {
			target, _, _ := strings.Cut(s, "\t")
			f.Add(target)
		}
	}
}

// FuzzSafeRedirect checks that SafeRedirect never panics and that whatever
// it accepts lands on a trusted origin, by three independent routes: the
// string Resolve returns parsed by net/url; the raw input cleaned like a
// browser and resolved against the base by net/url; and the path-only form
// of Resolve's result, which must not be protocol-relative (spec §11).
func FuzzSafeRedirect(f *testing.F) {
	addSeeds(f, "open_redirect.txt", "legit_redirects.txt")
	m := newTestMatcher(f)
	base := testBase(f)
	f.Fuzz(func(t *testing.T, s string) {
		if !m.SafeRedirect(s) {
			if _, ok := m.Resolve(base, s); ok {
				t.Fatalf("Resolve accepted %q which SafeRedirect refused", s)
			}
			return
		}
		res, ok := m.Resolve(base, s)
		if !ok {
			t.Fatalf("SafeRedirect accepted %q but Resolve refused it", s)
		}
		u, err := url.Parse(res)
		if err != nil {
			t.Fatalf("Resolve(%q) = %q, which net/url cannot parse: %v", s, res, err)
		}
		if !oracleTrusted(u) {
			t.Fatalf("Resolve(%q) = %q: origin not trusted by the oracle", s, res)
		}
		if strings.HasPrefix(u.EscapedPath(), "//") && (u.Scheme == "https" || u.Scheme == "http") && strings.HasPrefix(browserLike(s), "/") {
			t.Fatalf("relative %q resolved to a protocol-relative path %q", s, res)
		}

		ref, err := url.Parse(browserLike(s))
		if err != nil {
			t.Fatalf("accepted %q, which net/url cannot parse after browser clean-up: %v", s, err)
		}
		abs := base.ResolveReference(ref)
		if !oracleTrusted(abs) {
			t.Fatalf("accepted %q; net/url resolves it to untrusted %q", s, abs)
		}
		if ref.Scheme == "" && abs.Host != base.Host {
			t.Fatalf("accepted relative %q; net/url resolves it to host %q", s, abs.Host)
		}

		again, ok := m.Resolve(base, res)
		if !ok || again != res {
			t.Fatalf("Resolve is not a fixpoint: %q -> %q -> %q, %v", s, res, again, ok)
		}
	})
}

// FuzzTrustedOrigin checks that TrustedOrigin never panics, that every
// accepted value is a bare origin net/url agrees is trusted, and that it is
// also a safe redirect target.
func FuzzTrustedOrigin(f *testing.F) {
	for _, s := range []string{
		"https://app.test", "https://APP.TEST:443", "https://a.tenant.test", "https://a.b.tenant.test",
		"https://xn--80ak6aa92e.tenant.test", "http://localhost:8080", "https://app.test.", "null",
		"https://app.test@evil.example", "myapp://x", "exp://192.168.1.5:8081/--/a", "https://[::1]",
		"https://0x7f.1", "https://app.test:0443", "HTTPS://A.TENANT.TEST",
	} {
		f.Add(s)
	}
	m := newTestMatcher(f)
	f.Fuzz(func(t *testing.T, s string) {
		if !m.TrustedOrigin(s) {
			return
		}
		u, err := url.Parse(s)
		if err != nil {
			t.Fatalf("accepted %q, which net/url cannot parse: %v", s, err)
		}
		if !oracleTrusted(u) {
			t.Fatalf("accepted %q, which the oracle does not trust", s)
		}
		if (u.Scheme == "http" || u.Scheme == "https") && (u.Path != "" || u.RawQuery != "" || u.Fragment != "") {
			t.Fatalf("accepted %q, which is not a bare origin", s)
		}
		if !m.SafeRedirect(s) {
			t.Fatalf("trusted origin %q is not a safe redirect", s)
		}
		if err := m.Check(Request{Method: "POST", HasCookie: true, Origin: s}); err != nil {
			t.Fatalf("Check refused trusted origin %q: %v", s, err)
		}
	})
}
