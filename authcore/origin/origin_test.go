package origin

import (
	"bufio"
	"errors"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
)

// testPatterns is the trusted list every test uses unless it says otherwise:
// the CSRF-04 configuration plus a local dev origin and two native-app schemes.
var testPatterns = []string{
	"https://app.test",
	"https://*.tenant.test",
	"http://localhost:8080",
	"myapp://",
	"exp://192.168.1.5:8081/--",
}

func newTestMatcher(t testing.TB) *Matcher {
	t.Helper()
	m, err := NewMatcher(testPatterns)
	if err != nil {
		t.Fatalf("NewMatcher: %v", err)
	}
	return m
}

func testBase(t testing.TB) *url.URL {
	t.Helper()
	u, err := url.Parse("https://app.test/api/auth")
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestNewMatcherRefuses(t *testing.T) {
	for _, p := range []string{
		"", "*", "**", "***", "null",
		"https://*", "https://**", "http://*", "*.*", "*.com", "https://*.com",
		"**.example.com", "https://**.example.com", "https://a.**.example.com",
		"*.example.*", "example.*", "https://app.*",
		"*.1.2.3", "https://*.0.0.1",
		"app.example.com", // exact origin without a scheme
		"https://app.example.com/path",
		"https://app.example.com/cb?x=1",
		"https://app.example.com#f",
		"https://user@app.example.com",
		"https://app.example.com.",
		"https://app..example.com",
		"https://app.example.com:0",
		"https://app.example.com:65536",
		"https://app.example.com:08080",
		"https://app.example.com:*",
		"http://localhost:*",
		"https://exa mple.com",
		"https://exämple.com",
		" https://app.example.com",
		"https:app.example.com",
		"https://",
		"https://[::1%25eth0]",
		"javascript://",
		"javascript://app.example.com",
		"data://x",
		"vbscript://x",
		"file://",
		"blob://x",
		"ws://app.example.com",
		"wss://app.example.com",
		"ftp://app.example.com",
		"myapp://*",
		"myapp://cb@evil",
		"myapp://cb/%2e%2e",
		"myapp:cb",
		"https://0x7f.1",
		"https://256.1.1.1",
	} {
		if _, err := NewMatcher([]string{p}); err == nil {
			t.Errorf("NewMatcher(%q) = nil error, want refusal", p)
		} else if p != "" && !strings.Contains(err.Error(), strconv.Quote(p)) {
			t.Errorf("NewMatcher(%q) error %q does not name the pattern", p, err)
		}
	}
}

func TestNewMatcherReportsEveryBadPattern(t *testing.T) {
	_, err := NewMatcher([]string{"https://ok.example", "*", "https://x.example/path"})
	if err == nil {
		t.Fatal("want error")
	}
	for _, want := range []string{`"*"`, `"https://x.example/path"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

func TestNewMatcherAccepts(t *testing.T) {
	for _, p := range []string{
		"https://app.example.com",
		"https://app.example.com/",
		"HTTPS://APP.EXAMPLE.COM",
		"https://app.example.com:443",
		"http://localhost:8080",
		"http://127.0.0.1:3000",
		"http://[::1]:3000",
		"*.example.com",
		"https://*.example.com",
		"https://preview-*.example.com:8443",
		"https://pr-??.example.com",
		"*.localhost",
		"https://xn--bcher-kva.example",
		"myapp://",
		"myapp://callback",
		"exp://192.168.1.5:8081/--",
	} {
		if _, err := NewMatcher([]string{p}); err != nil {
			t.Errorf("NewMatcher(%q): %v", p, err)
		}
	}
	if _, err := NewMatcher(nil); err != nil {
		t.Errorf("NewMatcher(nil): %v", err)
	}
}

// TestTrustedOriginCSRF04 is security case CSRF-04: with trusted origins
// https://app.test and https://*.tenant.test only exact scheme+host+port
// matches pass, the wildcard covers exactly one label, hosts compare
// case-insensitively, and look-alikes are refused.
func TestTrustedOriginCSRF04(t *testing.T) {
	m := newTestMatcher(t)
	for _, tc := range []struct {
		origin string
		want   bool
	}{
		{"https://app.test", true},
		{"https://APP.TEST", true},
		{"HTTPS://App.Test", true},
		{"https://app.test:443", true},
		{"https://a.tenant.test", true},
		{"https://A.TENANT.TEST", true},
		{"https://preview-1.tenant.test", true},
		{"http://localhost:8080", true},
		{"http://LOCALHOST:8080", true},
		{"myapp://", true},
		{"myapp://anything", true},
		{"exp://192.168.1.5:8081/--", true},
		{"exp://192.168.1.5:8081/--/x", true},

		{"https://app.test.evil.example", false},
		{"https://evilapp.test", false},
		{"https://app.test:444", false},
		{"http://app.test", false},
		{"http://app.test:443", false},
		{"https://app.test:80", false},
		{"https://a.b.tenant.test", false},
		{"https://tenant.test", false},
		{"https://xtenant.test", false},
		{"https://.tenant.test", false},
		{"https://x.tenant.test.", false},
		{"http://a.tenant.test", false},
		{"https://a.tenant.test:8443", false},
		{"https://app.test.", false},
		{"https://app.test..", false},
		{"https://app.test/", false},
		{"https://app.test/x", false},
		{"https://app.test?x", false},
		{"https://app.test#x", false},
		{"https://user@app.test", false},
		{"https://app.test@evil.example", false},
		{"https://app.test%2eevil.example", false},
		{"https://xn--pp-ulc.test", false},            // punycode look-alike of app.test
		{"https://xn--80ak6aa92e.tenant.test", false}, // punycode label under a wildcard
		{"https://XN--80AK6AA92E.tenant.test", false}, // same, upper-case
		{"https://\u0430pp.test", false},              // Cyrillic 'а'
		{"https://app.tenant.test\u3002evil", false},  // ideographic full stop
		{"https://app.test:0443", false},
		{"https://app.test:", false},
		{"https://app.test:443:443", false},
		{"https://[::1]", false},
		{"https://127.0.0.1", false},
		{"https:app.test", false},
		{"https:/app.test", false},
		{"https:///app.test", false},
		{"//app.test", false},
		{"/dashboard", false},
		{"app.test", false},
		{"null", false},
		{"", false},
		{" https://app.test", false},
		{"https://app.test ", false},
		{"https://app.test\t", false},
		{"https://app.test, https://evil.example", false},
		{"javascript://app.test", false},
		{"myapp2://x", false},
		{"myapp://x?y", false},
		{"myapp://x#y", false},
		{"exp://192.168.1.5:8081/--x", false},
		{"exp://192.168.1.5:8081/--/../x", false},
		{"exp://192.168.1.5:8081", false},
	} {
		if got := m.TrustedOrigin(tc.origin); got != tc.want {
			t.Errorf("TrustedOrigin(%q) = %v, want %v", tc.origin, got, tc.want)
		}
	}
}

func TestTrustedOriginPatternForms(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		origin  string
		want    bool
	}{
		// Host globs match http and https on default ports.
		{"*.example.com", "https://a.example.com", true},
		{"*.example.com", "http://a.example.com", true},
		{"*.example.com", "https://a.example.com:8443", false},
		{"*.example.com", "https://example.com", false},
		{"*.example.com", "https://a.b.example.com", false},
		// Origin globs pin scheme and port.
		{"https://*.example.com:8443", "https://a.example.com:8443", true},
		{"https://*.example.com:8443", "https://a.example.com", false},
		{"https://*.example.com:443", "https://a.example.com", true},
		// Partial-label wildcards stay inside their label; '*' needs a character.
		{"https://preview-*.example.com", "https://preview-123.example.com", true},
		{"https://preview-*.example.com", "https://preview-.example.com", false},
		{"https://preview-*.example.com", "https://preview-1.x.example.com", false},
		{"https://preview-*.example.com", "https://xpreview-1.example.com", false},
		{"https://*-preview.example.com", "https://a-b-preview.example.com", true},
		{"https://a*b*c.example.com", "https://aXbYc.example.com", true},
		{"https://a*b*c.example.com", "https://abc.example.com", false},
		{"https://a*b*c.example.com", "https://abbbcc.example.com", true},
		{"https://pr-??.example.com", "https://pr-12.example.com", true},
		{"https://pr-??.example.com", "https://pr-123.example.com", false},
		{"https://*.*.example.com", "https://a.b.example.com", true},
		{"https://*.*.example.com", "https://a.example.com", false},
		{"*.localhost", "http://app.localhost", true},
		// IP literals, canonicalised; globs never match them.
		{"http://[::1]:3000", "http://[0:0::1]:3000", true},
		{"http://[::1]:3000", "http://[::1%25lo]:3000", false},
		{"http://127.0.0.1:3000", "http://127.0.0.1:3000", true},
		{"http://127.0.0.1:3000", "http://127.1:3000", false},
		{"http://127.0.0.1:3000", "http://2130706433:3000", false},
		// Exact IDN host listed in punycode.
		{"https://xn--bcher-kva.example", "https://xn--bcher-kva.example", true},
		{"https://xn--bcher-kva.example", "https://bücher.example", false},
		// A trailing slash in the pattern is tolerated.
		{"https://app.example.com/", "https://app.example.com", true},
		// Custom schemes.
		{"myapp://callback", "myapp://callback", true},
		{"myapp://callback", "myapp://callback.attacker.tld", false},
		{"myapp://callback", "MYAPP://CALLBACK", true},
		{"myapp://host/cb", "myapp://host/cb/x", true},
		{"myapp://host/cb", "myapp://host/cbx", false},
		{"myapp://host/cb", "myapp://host/cb/../evil", false},
	} {
		m, err := NewMatcher([]string{tc.pattern})
		if err != nil {
			t.Fatalf("NewMatcher(%q): %v", tc.pattern, err)
		}
		if got := m.TrustedOrigin(tc.origin); got != tc.want {
			t.Errorf("pattern %q: TrustedOrigin(%q) = %v, want %v", tc.pattern, tc.origin, got, tc.want)
		}
	}
}

// readCorpus reads a testdata file: '#' lines are comments, '"' lines are Go
// string literals, everything else is taken verbatim.
func readCorpus(t testing.TB, name string) []string {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case line == "" || line[0] == '#':
			continue
		case line[0] == '"':
			s, err := strconv.Unquote(line)
			if err != nil {
				t.Fatalf("%s:%d: %v", name, n, err)
			}
			out = append(out, s)
		default:
			out = append(out, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSafeRedirectOpenRedirectCorpus runs the open-redirect payload corpus
// (protocol-relative, backslashes, encodings, userinfo, control characters,
// dangerous schemes, dot segments like spec §11's "/.//evil.example",
// Unicode look-alikes, custom-scheme tricks): every one must be refused, and
// Resolve must refuse it too (RDR-02: nothing unsafe reaches a Location
// header or an emailed link).
func TestSafeRedirectOpenRedirectCorpus(t *testing.T) {
	m := newTestMatcher(t)
	base := testBase(t)
	payloads := readCorpus(t, "open_redirect.txt")
	if len(payloads) < 150 {
		t.Fatalf("corpus has %d payloads, want at least 150", len(payloads))
	}
	seen := map[string]bool{}
	for _, p := range payloads {
		if seen[p] {
			t.Errorf("duplicate payload %q", p)
		}
		seen[p] = true
		if m.SafeRedirect(p) {
			t.Errorf("SafeRedirect(%q) = true, want false", p)
		}
		if got, ok := m.Resolve(base, p); ok {
			t.Errorf("Resolve(%q) = %q, true; want refusal", p, got)
		}
	}
}

func TestSafeRedirectLegitimate(t *testing.T) {
	m := newTestMatcher(t)
	base := testBase(t)
	lines := readCorpus(t, "legit_redirects.txt")
	if len(lines) < 30 {
		t.Fatalf("legit corpus has %d entries, want at least 30", len(lines))
	}
	for _, line := range lines {
		target, want, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("legit line %q has no expected URL", line)
		}
		if !m.SafeRedirect(target) {
			t.Errorf("SafeRedirect(%q) = false, want true", target)
			continue
		}
		got, ok := m.Resolve(base, target)
		if !ok || got != want {
			t.Errorf("Resolve(%q) = %q, %v; want %q", target, got, ok, want)
		}
		// What Resolve returns is itself safe and a fixpoint, so an
		// emailed link judged again at click time (RDR-02) still passes
		// unchanged.
		if again, ok := m.Resolve(base, got); !ok || again != got {
			t.Errorf("Resolve(Resolve(%q)) = %q, %v; want %q", target, again, ok, got)
		}
	}
}

func TestResolveBase(t *testing.T) {
	m := newTestMatcher(t)
	for _, tc := range []struct {
		base   string
		target string
		want   string
		ok     bool
	}{
		{"https://app.test/api/auth", "/x", "https://app.test/x", true},
		{"https://APP.test:443", "/x", "https://app.test/x", true},
		{"http://localhost:8080/", "/a/../b?c=d", "http://localhost:8080/b?c=d", true},
		{"http://[::1]:3000", "/x", "http://[::1]:3000/x", true},
		// Absolute targets do not depend on base.
		{"http://localhost:8080", "https://a.tenant.test/x", "https://a.tenant.test/x", true},
		{"ftp://app.test", "https://app.test/x", "https://app.test/x", true},
		// Unusable bases.
		{"ftp://app.test", "/x", "", false},
		{"https://user@app.test", "/x", "", false},
		{"/relative/base", "/x", "", false},
		{"https://app.test", "//evil.example", "", false},
	} {
		b, err := url.Parse(tc.base)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := m.Resolve(b, tc.target)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Resolve(%q, %q) = %q, %v; want %q, %v", tc.base, tc.target, got, ok, tc.want, tc.ok)
		}
	}
	if got, ok := m.Resolve(nil, "/x"); ok {
		t.Errorf("Resolve(nil, /x) = %q, true; want refusal", got)
	}
	if got, ok := m.Resolve(nil, "https://app.test/x"); !ok || got != "https://app.test/x" {
		t.Errorf("Resolve(nil, absolute) = %q, %v", got, ok)
	}
}

// TestSafeRedirectSpec11 is the regression test for the open redirect of
// Better Auth 1.7.25 (spec §11): GET /verify-email?callbackURL=/.//evil.example
// answered "302 Location: //evil.example". The value passes §4.5's character
// rule, so only resolving dot segments first catches it.
func TestSafeRedirectSpec11(t *testing.T) {
	m := newTestMatcher(t)
	if m.SafeRedirect("/.//evil.example") {
		t.Fatal("/.//evil.example accepted")
	}
}

func TestSafeRedirectEmptyMatcher(t *testing.T) {
	m, err := NewMatcher(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !m.SafeRedirect("/dashboard") {
		t.Error("relative path refused by an empty matcher")
	}
	if m.SafeRedirect("https://app.test/") || m.SafeRedirect("myapp://x") {
		t.Error("absolute target accepted by an empty matcher")
	}
}

func TestSafeRedirectLength(t *testing.T) {
	m := newTestMatcher(t)
	long := "/" + strings.Repeat("a", maxURLLen)
	if m.SafeRedirect(long) {
		t.Error("over-long target accepted")
	}
	if m.TrustedOrigin("https://" + strings.Repeat("a.", maxURLLen/2) + "tenant.test") {
		t.Error("over-long origin accepted")
	}
}

// TestCheck covers every branch of the CSRF decision (spec §4.4, CSRF-01,
// CSRF-03).
func TestCheck(t *testing.T) {
	m := newTestMatcher(t)
	const (
		good = "https://app.test"
		evil = "https://evil.example"
	)
	for _, tc := range []struct {
		name string
		req  Request
		want error
	}{
		// Rule 1: safe methods.
		{"GET with cookie, evil origin", Request{Method: "GET", HasCookie: true, Origin: evil}, nil},
		{"HEAD with cookie, no origin", Request{Method: "HEAD", HasCookie: true}, nil},
		{"OPTIONS form endpoint cross-site nav", Request{Method: "OPTIONS", FormCSRF: true, SecFetchSite: "cross-site", SecFetchMode: "navigate"}, nil},
		{"lower-case get is not GET", Request{Method: "get", HasCookie: true}, ErrMissingOrNullOrigin},

		// Rule 2: with cookie (CSRF-01).
		{"cookie, trusted origin", Request{Method: "POST", HasCookie: true, Origin: good}, nil},
		{"cookie, wildcard origin", Request{Method: "POST", HasCookie: true, Origin: "https://a.tenant.test"}, nil},
		{"cookie, evil origin", Request{Method: "POST", HasCookie: true, Origin: evil}, ErrInvalidOrigin},
		{"cookie, no origin no referer", Request{Method: "POST", HasCookie: true}, ErrMissingOrNullOrigin},
		{"cookie, null origin", Request{Method: "POST", HasCookie: true, Origin: "null"}, ErrMissingOrNullOrigin},
		{"cookie, null origin, same-site", Request{Method: "POST", HasCookie: true, Origin: "null", SecFetchSite: "same-site"}, ErrMissingOrNullOrigin},
		{"cookie, null origin, cross-site", Request{Method: "POST", HasCookie: true, Origin: "null", SecFetchSite: "cross-site"}, ErrMissingOrNullOrigin},
		{"cookie, null origin, same-origin (spec 14)", Request{Method: "POST", HasCookie: true, Origin: "null", SecFetchSite: "same-origin"}, nil},
		{"cookie, null origin, Same-Origin spelled oddly", Request{Method: "POST", HasCookie: true, Origin: "null", SecFetchSite: " Same-Origin "}, nil},
		{"cookie, null origin beats trusted referer", Request{Method: "POST", HasCookie: true, Origin: "null", Referer: good + "/x"}, ErrMissingOrNullOrigin},
		{"cookie, trusted referer", Request{Method: "DELETE", HasCookie: true, Referer: good + "/settings?x=1"}, nil},
		{"cookie, evil referer", Request{Method: "POST", HasCookie: true, Referer: evil + "/x"}, ErrInvalidOrigin},
		{"cookie, referer look-alike", Request{Method: "POST", HasCookie: true, Referer: "https://app.test.evil.example/x"}, ErrInvalidOrigin},
		{"cookie, referer with userinfo", Request{Method: "POST", HasCookie: true, Referer: "https://app.test@evil.example/"}, ErrInvalidOrigin},
		{"cookie, referer backslash", Request{Method: "POST", HasCookie: true, Referer: "https://app.test\\@evil.example/"}, ErrInvalidOrigin},
		{"cookie, referer null", Request{Method: "POST", HasCookie: true, Referer: "null"}, ErrMissingOrNullOrigin},
		{"cookie, referer garbage", Request{Method: "POST", HasCookie: true, Referer: "not a url"}, ErrInvalidOrigin},
		{"cookie, referer relative", Request{Method: "POST", HasCookie: true, Referer: "/x"}, ErrInvalidOrigin},
		{"cookie, origin wins over referer", Request{Method: "POST", HasCookie: true, Origin: evil, Referer: good + "/"}, ErrInvalidOrigin},
		{"cookie, trusted origin, evil referer", Request{Method: "POST", HasCookie: true, Origin: good, Referer: evil + "/"}, nil},
		{"cookie, custom-scheme origin", Request{Method: "POST", HasCookie: true, Origin: "myapp://"}, nil},
		{"cookie, custom-scheme referer with path", Request{Method: "POST", HasCookie: true, Referer: "exp://192.168.1.5:8081/--/home?x"}, nil},
		{"cookie, custom-scheme referer outside path", Request{Method: "POST", HasCookie: true, Referer: "exp://192.168.1.5:8081/other"}, ErrInvalidOrigin},
		{"cookie, form endpoint, evil origin", Request{Method: "POST", HasCookie: true, FormCSRF: true, Origin: evil}, ErrInvalidOrigin},
		{"cookie, cross-site fetch from trusted origin", Request{Method: "POST", HasCookie: true, Origin: "https://a.tenant.test", SecFetchSite: "cross-site", SecFetchMode: "cors"}, nil},

		// Rule 3a: form endpoint, no cookie, fetch metadata (CSRF-03).
		{"form, cross-site navigate", Request{Method: "POST", FormCSRF: true, SecFetchSite: "cross-site", SecFetchMode: "navigate", Origin: good}, ErrCrossSiteNavigation},
		{"form, CROSS-SITE NAVIGATE", Request{Method: "POST", FormCSRF: true, SecFetchSite: "Cross-Site", SecFetchMode: " NAVIGATE"}, ErrCrossSiteNavigation},
		{"form, cross-site cors evil origin", Request{Method: "POST", FormCSRF: true, SecFetchSite: "cross-site", SecFetchMode: "cors", Origin: evil}, ErrInvalidOrigin},
		{"form, cross-site cors trusted origin", Request{Method: "POST", FormCSRF: true, SecFetchSite: "cross-site", SecFetchMode: "cors", Origin: "https://b.tenant.test"}, nil},
		{"form, same-origin navigate trusted", Request{Method: "POST", FormCSRF: true, SecFetchSite: "same-origin", SecFetchMode: "navigate", Origin: good}, nil},
		{"form, node fetch (mode cors) no origin", Request{Method: "POST", FormCSRF: true, SecFetchMode: "cors"}, ErrMissingOrNullOrigin},
		{"form, dest only, no origin", Request{Method: "POST", FormCSRF: true, SecFetchDest: "empty"}, ErrMissingOrNullOrigin},
		{"form, metadata, null same-origin", Request{Method: "POST", FormCSRF: true, SecFetchSite: "same-origin", SecFetchMode: "navigate", Origin: "null"}, nil},
		{"form, metadata, null cross-site", Request{Method: "POST", FormCSRF: true, SecFetchSite: "cross-site", SecFetchMode: "no-cors", Origin: "null"}, ErrMissingOrNullOrigin},
		{"form, metadata, trusted referer", Request{Method: "POST", FormCSRF: true, SecFetchSite: "same-origin", Referer: good + "/login"}, nil},
		{"form, blank metadata is absent", Request{Method: "POST", FormCSRF: true, SecFetchSite: "  ", SecFetchMode: "", SecFetchDest: " "}, nil},

		// Rule 3b: form endpoint, no cookie, no metadata, Origin/Referer present.
		{"form, evil origin, no metadata", Request{Method: "POST", FormCSRF: true, Origin: evil}, ErrInvalidOrigin},
		{"form, trusted origin, no metadata", Request{Method: "POST", FormCSRF: true, Origin: good}, nil},
		{"form, evil referer, no metadata", Request{Method: "POST", FormCSRF: true, Referer: evil + "/"}, ErrInvalidOrigin},
		{"form, null origin, no metadata", Request{Method: "POST", FormCSRF: true, Origin: "null"}, ErrMissingOrNullOrigin},

		// Rule 3c: form endpoint, nothing at all (curl, server-to-server).
		{"form, no headers", Request{Method: "POST", FormCSRF: true}, nil},

		// Rule 4: no cookie, not a form endpoint (API key / bearer callers).
		{"no cookie, evil origin", Request{Method: "POST", Origin: evil}, nil},
		{"no cookie, null origin", Request{Method: "POST", Origin: "null"}, nil},
		{"no cookie, cross-site navigate", Request{Method: "POST", SecFetchSite: "cross-site", SecFetchMode: "navigate"}, nil},
		{"no cookie, nothing", Request{Method: "PATCH"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := m.Check(tc.req)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Check = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Check = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestCheckErrorQuotesValue(t *testing.T) {
	m := newTestMatcher(t)
	err := m.Check(Request{Method: "POST", HasCookie: true, Origin: "https://evil.example\x00" + strings.Repeat("x", 300)})
	if !errors.Is(err, ErrInvalidOrigin) {
		t.Fatalf("err = %v", err)
	}
	if s := err.Error(); strings.ContainsRune(s, 0) || len(s) > 200 {
		t.Errorf("error text not sanitised or not truncated: %q", s)
	}
}

func TestRefererOrigin(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://app.test/x?y#z", "https://app.test"},
		{"https://app.test", "https://app.test"},
		{"https://app.test?x", "https://app.test"},
		{"HTTPS://APP.TEST:443/", "HTTPS://APP.TEST:443"},
		{"exp://h:1/--/a?x", "exp://h:1/--/a"},
		{"https://app.test\\x", ""},
		{"https:app.test", ""},
		{"/x", ""},
	} {
		got, _ := refererOrigin(tc.in)
		if got != tc.want {
			t.Errorf("refererOrigin(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestResolveDots(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/", "/"},
		{"/a/b", "/a/b"},
		{"/a/./b", "/a/b"},
		{"/a/../b", "/b"},
		{"/..", "/"},
		{"/../..", "/"},
		{"/a/..", "/"},
		{"/a/.", "/a/"},
		{"/a/b/..", "/a/"},
		{"/.//x", "//x"},
		{"/..//x", "//x"},
		{"/a/..//x", "//x"},
		{"/%2e/x", "/x"},
		{"/%2E%2e/x", "/x"},
		{"/a/.%2e/x", "/x"},
		{"/a/%2e./x", "/x"},
		{"/a/%2e%2f/x", "/a/%2e%2f/x"},
		{"/a/.../x", "/a/.../x"},
	} {
		if got := resolveDots(tc.in); got != tc.want {
			t.Errorf("resolveDots(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestGlobLabel(t *testing.T) {
	for _, tc := range []struct {
		pat, s string
		want   bool
	}{
		{"*", "a", true},
		{"*", "", false},
		{"*", "abc", true},
		{"a*", "a", false},
		{"a*", "ab", true},
		{"*a", "ba", true},
		{"*a", "a", false},
		{"a*a", "aaa", true},
		{"a*a", "aa", false},
		{"?", "a", true},
		{"?", "ab", false},
		{"a?c", "abc", true},
		{"*x*", "axbxc", true},
		{"*x*", "x", false},
		{"*x*", "axb", true},
		{"*ab", "aab", true},
		{"*ab", "abab", true},
		{strings.Repeat("*a", 10), strings.Repeat("a", 62) + "b", false},
		{strings.Repeat("*a", 10), strings.Repeat("a", 63), true},
	} {
		if got := globLabel(tc.pat, tc.s); got != tc.want {
			t.Errorf("globLabel(%q, %q) = %v, want %v", tc.pat, tc.s, got, tc.want)
		}
	}
}

// TestCheckSelfOrigin: a request whose Origin is its own scheme://host is same-origin and
// passes without being configured (D5); another host, scheme or port does not, and Self
// never makes a redirect target trusted.
func TestCheckSelfOrigin(t *testing.T) {
	m, err := NewMatcher([]string{"https://app.test"})
	if err != nil {
		t.Fatal(err)
	}
	base := Request{Method: "POST", HasCookie: true, Self: "https://second.test"}
	cases := []struct {
		origin, referer string
		ok              bool
	}{
		{"https://second.test", "", true},
		{"https://SECOND.test:443", "", true},
		{"", "https://second.test/page?x=1", true},
		{"https://app.test", "", true},
		{"http://second.test", "", false},
		{"https://second.test:8443", "", false},
		{"https://evil.test", "", false},
		{"https://second.test.evil.test", "", false},
	}
	for _, c := range cases {
		r := base
		r.Origin, r.Referer = c.origin, c.referer
		if err := m.Check(r); (err == nil) != c.ok {
			t.Errorf("origin %q referer %q: err=%v, want ok=%v", c.origin, c.referer, err, c.ok)
		}
	}
	r := base
	r.Origin, r.Self = "https://second.test", ""
	if m.Check(r) == nil {
		t.Fatal("without Self an unlisted origin must be refused")
	}
	if m.SafeRedirect("https://second.test/x") {
		t.Fatal("Self must not make redirect targets trusted")
	}
}
