// Package bearer is Better Auth's bearer plugin (id "bearer", Caddy module
// gatehouse.plugins.bearer): clients that keep no cookies (Node, CLIs, mobile apps)
// authenticate with "Authorization: Bearer <token>" instead of the session cookie.
//
// It adds no routes, models, fields, error codes or rate limits. It adds:
//
//   - a request interceptor and a path middleware on the auth API: "Authorization: Bearer
//     <x>" (scheme case-insensitive). A value containing '.' is the signed token
//     "<token>.<base64 HMAC>" (spec §2.2), percent-decoded first when it contains '%'; a value
//     without '.' is a bare session token, signed server-side — unless require_signature, when
//     it is no credential. A value that verifies becomes the session_token cookie for the rest
//     of the request. A value that does not verify is no credential, and any session cookie is
//     dropped from the request: it is answered as anonymous, never as the cookie's session. A
//     valid token together with a session cookie naming another live session (even of the
//     same user) is 401 UNAUTHORIZED "Conflicting credentials" (DESIGN D8). Several Authorization
//     headers of which one is a bearer one count as an invalid token. JWT-shaped values
//     (three base64url parts) and other schemes are left alone.
//     Origin rules (spec §4.4) as in Better Auth: the router-level check sees the request as
//     sent, so a POST authenticated only by a bearer token needs no Origin (a browser cannot
//     attach Authorization cross-site without a preflight, which the engine answers for
//     trusted origins only), while one that also carries cookies is checked as a cookie
//     request; the form-CSRF endpoints (/sign-in/email, /sign-up/email, ...) see the token as
//     the cookie it has become, so there a bearer request needs a trusted Origin (403
//     MISSING_OR_NULL_ORIGIN without one). Hence the cookie is put in place by the request
//     interceptor on form-CSRF endpoints and by the middleware (after the origin check, before
//     any before hook or session lookup) everywhere else.
//   - a response interceptor: whenever the response sets a live session_token cookie it adds
//     "set-auth-token: <signed token, percent-decoded>" and lists set-auth-token in
//     Access-Control-Expose-Headers. Nothing is added for an expired or emptied cookie
//     (sign-out, a sign-in interrupted by two-factor, where no session is created at all) or
//     on a 5xx (the engine drops its cookies first).
//   - a gateway authenticator at authcore.OrderBearer accepting the same tokens through the
//     engine's session cache. Its principal has Method "bearer", so the gateway removes
//     Authorization from the upstream request (D8); sessions slide as cookie sessions do
//     (refreshed once update_age has passed). A JWT-shaped token, another scheme, or a bare
//     token naming no session is not claimed (it may be the upstream's own credential) and
//     Authorization goes upstream untouched. A signed token that does not verify or names no
//     live session is no credential, but 401 when a session cookie is also present; a live
//     token and a cookie naming another live session is 401, and so are several Authorization
//     headers of which one is a bearer one. Tokens are read from the header only, never from
//     the query string.
//
// Options (Plugin fields): require_signature (bool, default false; Better Auth's
// requireSignature).
//
// Caddyfile, inside the global gatehouse block:
//
//	bearer [{
//	    require_signature
//	}]
package bearer
