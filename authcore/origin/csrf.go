package origin

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors returned (possibly wrapped) by [Matcher.Check]; compare
// with errors.Is. The engine maps them to Better Auth's 403 codes
// MISSING_OR_NULL_ORIGIN, INVALID_ORIGIN and
// CROSS_SITE_NAVIGATION_LOGIN_BLOCKED.
var (
	ErrMissingOrNullOrigin = errors.New("missing or null origin")
	ErrInvalidOrigin       = errors.New("invalid origin")
	ErrCrossSiteNavigation = errors.New("cross-site navigation login blocked")
)

// Request holds the request facts the CSRF decision needs, read by the caller
// from the HTTP request so this package stays free of handler code.
type Request struct {
	Method    string
	HasCookie bool // the request carries any Cookie header (a bearer token turned into a cookie counts)
	Origin    string
	Referer   string

	SecFetchSite, SecFetchMode, SecFetchDest string

	// FormCSRF marks the login/sign-up style endpoints that also need
	// protection without cookies (/sign-up/email, /sign-in/email,
	// /sign-in/magic-link, /email-otp/send-verification-otp, and any a
	// plugin declares).
	FormCSRF bool

	// Self is the request's own origin (scheme://host as the server received it). An
	// Origin equal to it is same-origin and passes, so every site that serves the engine is
	// a trusted origin for its own requests (D5) — the check Go's CrossOriginProtection
	// makes. It never widens redirect targets, which are judged against the configured
	// origins only (links and redirects are never built from Host).
	Self string
}

// Check makes the origin/CSRF decision of spec §4.4 for one request. The
// rules, in order:
//
//  1. GET, HEAD and OPTIONS pass: they must not change state. The method is
//     compared case-sensitively, as HTTP methods are; any other spelling is
//     checked like a POST.
//  2. With a cookie, the request's origin is validated: the Origin header, or
//     when it is absent the origin of the Referer. No origin at all, or
//     Origin "null", gives [ErrMissingOrNullOrigin]; an origin not trusted by
//     [Matcher.TrustedOrigin] (or an unparsable Referer) gives
//     [ErrInvalidOrigin]. One exception, from Better Auth 1.7.25 (spec §14):
//     Origin "null" together with Sec-Fetch-Site "same-origin" passes,
//     because the browser sets that header and script cannot forge it, so
//     the request did come from our own origin (e.g. a form in a sandboxed
//     or privacy-mode document).
//  3. Form-CSRF endpoints without a cookie:
//     a. if any Sec-Fetch-Site/-Mode/-Dest value is present,
//     Sec-Fetch-Site "cross-site" with Sec-Fetch-Mode "navigate" (a
//     cross-site form post — login CSRF) gives [ErrCrossSiteNavigation];
//     otherwise the origin is validated as in rule 2, so a missing Origin
//     is an error here too;
//     b. without fetch metadata but with Origin or Referer, the origin is
//     validated as in rule 2 (older browsers; Gatehouse's stricter reading,
//     also in the spec);
//     c. with none of these headers (curl, server-to-server) the request
//     passes: such callers cannot be driven by a victim's browser.
//  4. Any other cookie-less request passes, even with an untrusted Origin:
//     without a cookie there is no ambient credential to abuse, and Better
//     Auth's router-level check fires only with cookies (API-key and bearer
//     clients rely on this).
//
// Fetch-metadata values are compared case-insensitively after trimming
// spaces. Errors wrapping [ErrInvalidOrigin] quote the offending value
// (truncated) for the log; never show it to the client.
func (m *Matcher) Check(r Request) error {
	switch r.Method {
	case "GET", "HEAD", "OPTIONS":
		return nil
	}
	if r.HasCookie {
		return m.checkOrigin(r)
	}
	if !r.FormCSRF {
		return nil
	}
	site := strings.TrimSpace(r.SecFetchSite)
	mode := strings.TrimSpace(r.SecFetchMode)
	dest := strings.TrimSpace(r.SecFetchDest)
	if site != "" || mode != "" || dest != "" {
		if strings.EqualFold(site, "cross-site") && strings.EqualFold(mode, "navigate") {
			return ErrCrossSiteNavigation
		}
		return m.checkOrigin(r)
	}
	if r.Origin != "" || r.Referer != "" {
		return m.checkOrigin(r)
	}
	return nil
}

// checkOrigin validates Origin, falling back to the Referer's origin.
func (m *Matcher) checkOrigin(r Request) error {
	if r.Origin != "" {
		if r.Origin == "null" {
			if strings.EqualFold(strings.TrimSpace(r.SecFetchSite), "same-origin") {
				return nil
			}
			return ErrMissingOrNullOrigin
		}
		if !m.trustedFor(r, r.Origin) {
			return invalidOrigin(r.Origin)
		}
		return nil
	}
	if r.Referer == "" || r.Referer == "null" {
		return ErrMissingOrNullOrigin
	}
	o, ok := refererOrigin(r.Referer)
	if !ok || !m.trustedFor(r, o) {
		return invalidOrigin(r.Referer)
	}
	return nil
}

// trustedFor reports whether origin is trusted, or is the request's own origin.
func (m *Matcher) trustedFor(r Request, origin string) bool {
	if m.TrustedOrigin(origin) {
		return true
	}
	if r.Self == "" {
		return false
	}
	o, ok1 := parseOriginValue(origin)
	self, ok2 := parseOriginValue(r.Self)
	return ok1 && ok2 && o == self
}

// parseOriginValue canonicalises an http(s) origin value ("" and false for anything else).
func parseOriginValue(v string) (httpOrigin, bool) {
	scheme, rest, ok := splitScheme(v)
	if !ok || !strings.HasPrefix(rest, "//") || (scheme != "http" && scheme != "https") {
		return httpOrigin{}, false
	}
	return parseHTTPOrigin(scheme, rest[2:])
}

func invalidOrigin(v string) error {
	const maxShown = 100
	if len(v) > maxShown {
		v = v[:maxShown] + "…"
	}
	return fmt.Errorf("%w: %q", ErrInvalidOrigin, v)
}

// refererOrigin extracts "scheme://authority" from a Referer URL (for a
// custom scheme, also its path, which custom patterns may pin). Browsers send
// the Referer already normalised, so anything unusual — backslashes, missing
// "//" — makes it unparsable rather than being repaired.
func refererOrigin(ref string) (string, bool) {
	scheme, rest, ok := splitScheme(ref)
	if !ok || !strings.HasPrefix(rest, "//") {
		return "", false
	}
	n := len(ref) - len(rest) + 2 // up to and including "://"
	stop := "/?#\\"
	if scheme != "http" && scheme != "https" {
		stop = "?#\\"
	}
	end := strings.IndexAny(rest[2:], stop)
	if end < 0 {
		return ref, true
	}
	if rest[2+end] == '\\' {
		return "", false
	}
	return ref[:n+end], true
}
