// Package origin decides which origins Gatehouse trusts, which redirect
// targets it will follow, and whether a state-changing request passes the
// origin/CSRF check (spec §4.4, §4.5).
//
// Everything here is a pure function of its inputs over an immutable
// [Matcher] built once from the configured trusted origins; the engine reads
// headers and request bodies and passes plain strings in. There is no
// net/http handler code and no global state.
//
// # Trusted origins
//
// [NewMatcher] accepts exact origins, origin and host globs whose '*' covers
// exactly one DNS label, and native-app custom schemes, and refuses patterns
// that would trust everyone ("*", "**", "*.com", javascript:…). Origin
// comparison is exact on scheme, host and port after canonicalisation;
// look-alikes (trailing dots, userinfo, IDN/punycode under a wildcard,
// "null") never match. See [Matcher].
//
// # Redirects
//
// [Matcher.SafeRedirect] and [Matcher.Resolve] judge callbackURL-style values
// after normalising them the way a browser does, and only then compare the
// origin, so Better Auth's "/.//evil.example" open redirect (spec §11) and its
// relatives are refused. Resolve returns the exact URL that was judged, for
// use in Location headers and emailed links.
//
// # CSRF
//
// [Matcher.Check] applies the origin rule for requests with cookies and the
// Fetch-Metadata rule for login-style endpoints; its doc comment lists every
// rule.
package origin
