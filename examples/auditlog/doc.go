// Package auditlog is an example of a third-party Gatehouse plugin: it lives outside plugins/,
// imports only the public SDK (authcore, storage, caddymodule/caddyopts and Caddy), and uses
// every kind of extension the registrar offers. It records who signed up, in and out and
// changed or reset a password, from which address and device, and lets users read and clear
// their own log.
//
// Plugin ID "audit-log"; Caddy module gatehouse.plugins.audit_log.
//
// # Schema
//
//   - model auditEntry: userId (→ user, cascade on delete; indexed), action, route, method
//     (of a sign-in: "email", "magic-link", "two-factor", ...), ip, userAgent (at most 512
//     bytes kept), createdAt (indexed).
//   - user.lastSeenAt (date, server-only: clients read it, never set it), stamped on every
//     recorded sign-in.
//
// # Endpoints
//
//   - GET /audit-log/list?limit=&offset= (session required): {"entries":[{id, action,
//     route, method, ip, userAgent, createdAt}], "total": n}, newest first; limit 1–100 (default
//     20), offset ≥ 0 (default 0). limit above 100 is 400 AUDIT_LOG_LIMIT_TOO_LARGE; any
//     other bad value 400 AUDIT_LOG_INVALID_PAGINATION (a non-number 400 VALIDATION_ERROR).
//   - POST /audit-log/clear (fresh session: 403 SESSION_NOT_FRESH otherwise): deletes the
//     caller's entries, {"deleted": n}.
//
// # Hooks
//
// After hooks (successful calls only) record:
//
//   - sign-up: /sign-up/email (also when sign-up does not sign in);
//   - sign-in: every call in which Call.SignIn created a session, whatever the route — the
//     core's /sign-in/email, every plugin's /sign-in/..., and sign-ins completed elsewhere
//     (/magic-link/verify, /two-factor/verify-*, /passkey/verify-authentication, verify-email
//     with auto sign-in). A session gate (which never refuses) marks the call; the after
//     hook records it when a session was created, so a magic-link request or a two-factor
//     challenge records nothing, and sessions started without SignIn (re-issued after a
//     password change, admin impersonation) are not sign-ins. The user's lastSeenAt is set
//     to the same time;
//   - sign-out: /sign-out with a session;
//   - change-password: /change-password;
//   - reset-password: /reset-password (a before hook finds the user from the token before the
//     handler consumes it).
//
// Entries are written on the engine's background queue after the response (see hooks.go
// for why); a failed write is logged and never changes the response.
//
// # Middleware, interceptor, rate limit
//
//   - Path middleware on /audit-log/*: Cache-Control: no-store and Pragma: no-cache on every
//     answer, and 406 AUDIT_LOG_NOT_ACCEPTABLE when the Accept header rules out
//     application/json.
//   - Response interceptor: X-Audit-Log: on on every auth-API response (errors included).
//   - Rate limit: GET /audit-log/list, 30 requests per 60 s per client IP (then 429).
//
// # Options
//
//	audit_log {
//	    retention 30d                       # default 90d; older entries are deleted
//	    actions sign-in sign-out           # default: sign-up sign-in sign-out change-password reset-password
//	}
//
// The retention sweep runs after a write, at most once a minute: the engine's sweeper knows
// only core models.
//
// # Go API
//
// The plugin publishes itself with Registrar.Provide: another plugin can record its own
// entries with engine.Plugin("audit-log") asserted to interface{ Record(auditlog.Entry) }.
package auditlog
