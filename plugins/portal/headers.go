package portal

import (
	"net/http"
	"net/url"
	"strings"
)

// buildCSP returns the one Content-Security-Policy of every /ui response (D14): no inline
// script or style, images from self (and the logo's origin), forms posting to self and to the
// trusted origins a callbackURL may lead to (a form's redirect is checked against
// form-action), never framed.
func buildCSP(base *url.URL, trusted []string, logoOrigin string) string {
	img := "'self' data:"
	if logoOrigin != "" {
		img += " " + logoOrigin
	}
	form := "'self'"
	seen := map[string]bool{}
	add := func(src string) {
		if src != "" && !seen[src] {
			seen[src] = true
			form += " " + src
		}
	}
	add(base.Scheme + "://" + base.Host)
	for _, t := range trusted {
		add(cspSource(t))
	}
	return "default-src 'none'; script-src 'self'; style-src 'self'; img-src " + img +
		"; connect-src 'self'; form-action " + form + "; frame-ancestors 'none'; base-uri 'none'"
}

// cspSource turns a trusted-origin pattern into a CSP source expression, or "" when it has
// characters a source expression cannot carry (it is then simply not allowed as a form
// target; the redirect check still applies).
func cspSource(pattern string) string {
	scheme, rest, ok := strings.Cut(pattern, "://")
	if !ok { // a bare host pattern ("*.example.com") is a CSP host-source as it is
		if validHostSource(pattern) {
			return strings.ToLower(pattern)
		}
		return ""
	}
	if scheme == "" {
		return ""
	}
	for _, c := range scheme {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
			return ""
		}
	}
	scheme = strings.ToLower(scheme)
	if scheme != "http" && scheme != "https" {
		return scheme + ":"
	}
	host, _, _ := strings.Cut(rest, "/")
	if !validHostSource(host) {
		return ""
	}
	return scheme + "://" + strings.ToLower(host)
}

func validHostSource(host string) bool {
	if host == "" {
		return false
	}
	for _, c := range host {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == ':' || c == '*' || c == '[' || c == ']') {
			return false
		}
	}
	return true
}

// setSecurityHeaders sets the headers of every /ui response. Pages are never cached;
// assets pass cacheable=true and set their own Cache-Control.
func (p *Plugin) setSecurityHeaders(h http.Header, cacheable bool) {
	h.Set("Content-Security-Policy", p.csp)
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	if !cacheable {
		h.Set("Cache-Control", "no-store")
	}
}
