package caddymodule

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/logging"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

func init() {
	caddy.RegisterModule(LogEncoder{})
}

// LogEncoder is the log format `gatehouse` (D16): Caddy's `filter` encoder with the
// request URI and the request and response headers already filtered, so no credential of
// Gatehouse reaches a log. Caddyfile, in a site (access log) and in the global options
// (Caddy's error log and Gatehouse's own log lines, which also carry the request):
//
//	log {
//	    format gatehouse
//	}
//
// It is an encoder rather than a snippet of `filter` fields because the redaction cannot
// be written with Caddy's field filters: tokens sit in URL paths (/reset-password/<token>)
// and in nested URLs (a callbackURL holding ?token=), the identity JWT and api_key header
// names are configurable, and Referer and Location headers carry the same URLs; one module
// keeps that knowledge next to the code that mints the credentials, and an operator writes
// one line instead of copying a list that goes stale.
//
// The block takes the `filter` encoder's options (`wrap <encoder>`, more `<field>
// <filter>` lines). A field of the operator's replaces Gatehouse's filter of the same field;
// filters on single headers (request>headers>X-Foo) never run, as the whole header object is
// filtered here.
type LogEncoder struct {
	logging.FilterEncoder
}

// CaddyModule returns the Caddy module information.
func (LogEncoder) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "caddy.logging.encoders.gatehouse",
		New: func() caddy.Module { return new(LogEncoder) },
	}
}

// Provision implements caddy.Provisioner: Gatehouse's field filters, then the filter
// encoder's own provisioning (which adds the operator's fields over them).
func (e *LogEncoder) Provision(ctx caddy.Context) error {
	e.Fields = map[string]logging.LogFieldFilter{
		"request>uri":     uriFilter{}, // access and error logs, reverse_proxy's debug lines
		"request>headers": headerFilter{},
		"resp_headers":    headerFilter{}, // access log
		"uri":             uriFilter{},    // the admin API's "received request"
		"headers":         headerFilter{}, // the same, and reverse_proxy's upstream answers
	}
	return e.FilterEncoder.Provision(ctx)
}

// redacted replaces a credential, as Caddy writes for Cookie and Authorization.
const redacted = "REDACTED"

// credentialWords mark a query parameter or header name as carrying a credential, compared
// with the lower-cased name: Gatehouse's own (token: reset-password, verify-email,
// magic-link and delete-user links and the portal pages that take them on; x-api-key and
// the api_key plugin's configurable `headers`; set-auth-token; set-auth-jwt; identity_jwt
// headers such as X-Id-Token), a session token a client puts where it does not belong
// (?session_token=), and the OAuth, OIDC and cloud names an upstream may see
// (access_token, id_token, client_secret, X-Amz-Signature).
var credentialWords = []string{"token", "key", "secret", "password", "session", "jwt", "otp", "credential", "signature"}

// credentialQueryParams are the query (and fragment) parameters that carry a credential
// without saying so, lower case: the OAuth and OIDC callback's code and state, and SAML's
// handle (Gatehouse's ACS redirect), RelayState, SAMLResponse and SAMLart.
var credentialQueryParams = map[string]bool{
	"code": true, "state": true, "handle": true, "relaystate": true, "samlresponse": true, "samlart": true,
}

// credentialPathSegments are path segments followed by a credential: the reset-password
// link /reset-password/<token> (spec §2, route 17), under any base path.
var credentialPathSegments = map[string]bool{"reset-password": true}

// credentialHeaders are header names whose value is a credential that credentialWords do
// not catch, lower case: Caddy's own four (redacted here too, with or without
// log_credentials) and the example's identity_jwt header. JWT values under any other name
// are caught by jwtValue.
var credentialHeaders = map[string]bool{
	"authorization": true, "proxy-authorization": true, "cookie": true, "set-cookie": true,
	"x-auth-identity": true,
}

// hasCredentialWord reports whether a lower-case name contains one of credentialWords.
func hasCredentialWord(lower string) bool {
	for _, w := range credentialWords {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}

// urlHeaders carry a URL that may hold a token: the page a request came from (a portal
// reset-password page), a redirect (the reset link answers 302 to callbackURL?token=...),
// and forward_auth's original URI.
var urlHeaders = map[string]bool{
	"referer": true, "location": true, "content-location": true,
	"x-forwarded-uri": true, "x-original-url": true, "x-rewrite-url": true,
}

// jwtValue matches a compact JWS (a JWT): base64url of `{"` starts its header. Any header
// value holding one is a credential whatever the header's name.
var jwtValue = regexp.MustCompile(`eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*`)

// uriFilter redacts credentials in the request URI and keeps the rest readable.
type uriFilter struct{}

// Filter implements logging.LogFieldFilter.
func (uriFilter) Filter(in zapcore.Field) zapcore.Field {
	in.String = RedactURL(in.String)
	return in
}

// headerFilter redacts credential headers, credentials in URL headers and JWTs anywhere.
type headerFilter struct{}

// Filter implements logging.LogFieldFilter.
func (headerFilter) Filter(in zapcore.Field) zapcore.Field {
	var h http.Header
	switch v := in.Interface.(type) {
	case caddyhttp.LoggableHTTPHeader:
		h = v.Header
	case http.Header: // logged with zap.Reflect (the admin API)
		h = v
	default:
		return in
	}
	out := make(http.Header, len(h))
	for name, vals := range h {
		out[name] = redactHeader(name, vals)
	}
	return zap.Object(in.Key, caddyhttp.LoggableHTTPHeader{Header: out, ShouldLogCredentials: true})
}

// redactHeader returns a copy of one header's values with its credentials redacted.
func redactHeader(name string, vals []string) []string {
	lower := strings.ToLower(name)
	credential := credentialHeaders[lower] || hasCredentialWord(lower)
	out := make([]string, len(vals))
	for i, v := range vals {
		switch {
		case credential:
			v = redacted
		case urlHeaders[lower]:
			v = RedactURL(v)
		}
		out[i] = jwtValue.ReplaceAllString(v, redacted)
	}
	return out
}

// RedactURL returns u (a request URI or an absolute URL) with every credential replaced by
// REDACTED: the values of credential query and fragment parameters, the token segment after
// /reset-password/, credentials inside URLs nested in parameters (callbackURL=/x?token=..),
// and JWTs anywhere. Everything else is kept as it was written.
func RedactURL(u string) string {
	return redactURL(u, 2)
}

// redactURL is RedactURL with a bound on how deeply nested URLs are followed.
func redactURL(u string, depth int) string {
	rest, fragment, hasFragment := strings.Cut(u, "#")
	path, query, hasQuery := strings.Cut(rest, "?")
	var b strings.Builder
	b.WriteString(redactPath(path))
	if hasQuery {
		b.WriteByte('?')
		b.WriteString(redactQuery(query, depth))
	}
	if hasFragment {
		b.WriteByte('#')
		b.WriteString(redactQuery(fragment, depth))
	}
	return jwtValue.ReplaceAllString(b.String(), redacted)
}

// redactPath replaces each segment that follows a credentialPathSegments segment.
func redactPath(p string) string {
	segs := strings.Split(p, "/")
	for i := 1; i < len(segs); i++ {
		if credentialPathSegments[strings.ToLower(segs[i-1])] && segs[i] != "" {
			segs[i] = redacted
		}
	}
	return strings.Join(segs, "/")
}

// redactQuery redacts a query string (or a fragment written like one) pair by pair,
// keeping the original encoding of everything it does not change.
func redactQuery(q string, depth int) string {
	pairs := strings.Split(q, "&")
	for i, pair := range pairs {
		k, v, hasValue := strings.Cut(pair, "=")
		if !hasValue {
			continue
		}
		name, err := url.QueryUnescape(k)
		if err != nil {
			name = k
		}
		if lower := strings.ToLower(name); credentialQueryParams[lower] || hasCredentialWord(lower) {
			pairs[i] = k + "=" + redacted
			continue
		}
		val, err := url.QueryUnescape(v)
		if depth > 0 && err == nil && strings.ContainsAny(val, "?#/") {
			if r := redactURL(val, depth-1); r != val {
				pairs[i] = k + "=" + url.QueryEscape(r)
			}
		}
	}
	return strings.Join(pairs, "&")
}

// Interface guards
var (
	_ zapcore.Encoder                  = (*LogEncoder)(nil)
	_ caddy.Provisioner                = (*LogEncoder)(nil)
	_ logging.LogFieldFilter           = uriFilter{}
	_ logging.LogFieldFilter           = headerFilter{}
	_ caddy.ConfiguresFormatterDefault = (*LogEncoder)(nil)
)
