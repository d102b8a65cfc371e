// Package multisession is Better Auth's multi-session plugin (spec §7.7; plugin id
// "multi-session", Caddy module gatehouse.plugins.multi_session): one browser stays signed
// in to several accounts at once and switches between them.
//
// Every session created in a browser also gets a multi-session cookie, named
// "<session cookie name>_multi-<session token, lower-case>" (for example
// "better-auth.session_token_multi-abcd…", or with the __Secure- prefix on https), holding
// the signed session token (spec §2.2) with the session cookie's attributes and Max-Age
// session.expires_in. The session cookie itself still names the one active session. Like
// every "<prefix>.*" cookie these are gateway cookies: stripped from upstream requests and
// dropped from upstream responses (Engine.ReservedCookie, D8).
//
// A multi-session cookie is accepted only when its signature verifies, its name is the one
// of the token it carries (the signature covers the value, not the name), and its name is
// not sent twice with different values (SES-04). At most 2×maximum_sessions+16 of them are
// read per request.
//
// # Routes
//
//   - GET /multi-session/list-device-sessions — no session needed. An array of
//     {"session", "user"} (Engine.SessionJSON: the session's public fields, its token
//     replaced by the opaque session handle of D3; the user's public fields), one per user:
//     the first live session per user in cookie order. [] without cookies.
//     Cache-Control: no-store.
//   - POST /multi-session/set-active {sessionToken} — no session needed. sessionToken is the
//     bare token (matched lower-case in the cookie name, as Better Auth does) or the handle
//     the listing shows; either way the caller must hold a valid multi-session cookie for
//     that session, and the cookie's value, not the body, names the session (SES-08). Its session becomes the session
//     cookie (browser-session cookie if the caller has dont_remember) and the answer is
//     {"session", "user"} with Cache-Control: no-store. No such cookie: 401
//     INVALID_SESSION_TOKEN; a cookie whose session is gone: the cookie is expired and 401
//     INVALID_SESSION_TOKEN.
//   - POST /multi-session/revoke {sessionToken} — session required (401 UNAUTHORIZED).
//     sessionToken as for set-active; the caller must hold a valid multi-session cookie for
//     it (401 INVALID_SESSION_TOKEN otherwise); its session is deleted and its cookie expired. If it
//     was the active session, the first other multi-session cookie with a live session
//     becomes the session cookie, or, without one, the session cookies are expired.
//     {"status": true}.
//
// Better Auth declares no rate-limit rule for these routes; the default rule applies.
//
// # Hooks
//
//   - After every call: when the call created a session (Call.NewSession) and answers with
//     that session's cookie, the caller's multi-session cookies of the same user are expired
//     and their sessions deleted, cookies whose session is gone are expired, and — unless
//     the remaining ones plus the new one would exceed maximum_sessions — the new session's
//     multi-session cookie is set. A sign-in over the limit still signs in; it only gets no
//     multi-session cookie. A sign-in interrupted by a session gate (two-factor) creates no
//     session and so gets no cookie; the session created when the challenge is passed does.
//   - After /sign-out: every valid multi-session cookie of the caller is expired and its
//     session deleted (the core deletes the active one), so signing out signs out of every
//     account in that browser. Other browsers' sessions are untouched.
//
// # Schema
//
// None: the plugin only reads and deletes core sessions.
//
// # Options
//
//   - maximum_sessions (integer 1–100): how many accounts one browser may hold multi-session
//     cookies for. Default 5 (Better Auth's maximumSessions).
//
// Caddyfile, inside the global gatehouse block:
//
//	multi_session {
//	    maximum_sessions 5
//	}
//
// # Error codes
//
//   - INVALID_SESSION_TOKEN "Invalid session token" (401).
//
// # Differences from Better Auth
//
// Better Auth lists live session tokens; Gatehouse lists handles and accepts both (D3) —
// the official client sends back whatever the listing gave it, so it works unchanged.
// Better Auth counts every "_multi-" cookie name toward maximumSessions, forged or stale
// ones included; Gatehouse counts only cookies with a valid signature and a live session,
// and expires the stale ones, so sessions that ended elsewhere do not block new sign-ins.
// Better Auth recognises any cookie name containing "_multi-"; Gatehouse only its own
// prefix.
package multisession
