// Package authcore is Gatehouse's auth engine: Better Auth's HTTP API (wire-compatible, see
// shared/better-auth-spec.md), sessions, passwords, origin checks, rate limits, plugins and
// the credential checks the gateway runs on every proxied request. It is plain net/http and
// context — it never imports Caddy — so it also works as a library http.Handler.
//
// Build an engine with [New]: configuration in [Config], injected dependencies (storage,
// clock, randomness, senders, client IP) as options. Nothing reads the wall clock, global
// randomness or global state.
//
// # Pipeline
//
// A request under the base path goes through these steps, in this order, implemented once in
// pipeline.go:
//
//  1. routing: the exact base path, then an exact route ("/x/" and "//x" are 404);
//     OPTIONS answers CORS preflights for trusted origins only; reserved prefixes (the
//     portal) go to their handler;
//  2. request interceptors (plugins: bearer turns Authorization into the session cookie);
//  3. origin/CSRF check on the headers (spec §4.4; 403);
//  4. rate limit, keyed by canonical client IP and route pattern (429 with Retry-After and
//     X-Retry-After) — before the body is read, so floods of large or malformed bodies are
//     limited too;
//  5. body: POST bodies are read up to max_body_bytes (413), must be JSON (or urlencoded
//     where the endpoint allows it; 415 otherwise), parsed strictly — duplicate keys,
//     trailing data and deep nesting are 400 — and must be an object; then the redirect
//     parameters callbackURL, redirectTo, errorCallbackURL, newUserCallbackURL (body or
//     query) are checked against the trusted origins (403);
//  6. path middlewares of plugins;
//  7. validation of body and query against the endpoint's declared parameters
//     (400 VALIDATION_ERROR), client-settable model fields let through, server-only ones
//     refused (400 FIELD_NOT_ALLOWED), everything undeclared dropped;
//  8. before hooks (may short-circuit with a response);
//  9. the endpoint's session requirement (401 UNAUTHORIZED, 403 SESSION_NOT_FRESH), then
//     its handler;
//  10. after hooks (may replace the response);
//  11. response interceptors, then the JSON body (or redirect, or raw page), cookies, CORS
//     and cache headers. A 5xx never sets cookies.
//
// Validation runs before the hooks so that hooks see typed, bounded input.
//
// # Audit log
//
// Security events (audit.go: the Audit* type list) are recorded from the pipeline, once per
// answered request: [Call.SignIn] notes the sign-in it attempted (sign_in, or
// sign_in.challenge when a second factor is asked, or sign_in.failure when a gate such as a
// ban refused); a /sign-in/* request that failed without reaching it is a sign_in.failure
// (the same decision the metrics use, signInFailureMethod); and an endpoint declaring
// [Endpoint.Audit] records that event for every answer, success or failure with its error
// code. The actor is the session the request arrived with (resolved before the handler, so
// a sign-out or an impersonation still names it), with the administrator behind an
// impersonation session; handlers add the subject and details ([Call.AuditSubject],
// [Call.AuditDetail], [Call.AuditAs], [Call.AuditFailed]). A declared event concerning
// nobody (no session, no subject) is dropped when it succeeded or answered 401. Each event
// is one Info record "audit" on the audit logger ([WithAuditLogger]) with flat keys, and
// with Audit.Store also a row of the auditEvent model, written on the background queue
// (inline when the queue is full; a failed write is logged, never the request's failure)
// and swept after Audit.Retention. [Engine.Audit] records events from outside the pipeline.
// Events never carry secrets: ids, the client IP, a truncated User-Agent, the attempted
// email of a failed sign-in when it is a valid address, and small strings.
//
// # Plugins
//
// A [Plugin] registers models, fields, endpoints, hooks, middlewares, rate-limit rules,
// error codes, interceptors, session gates and gateway authenticators through a
// [Registrar]. Duplicates fail at start-up naming both plugins. Plugins register — and their
// hooks run — in dependency order, then by plugin ID: never map order (D10).
//
// Order, precisely. The core registers first (it declares no hooks). Then each plugin's
// Register runs once: a plugin implementing [Dependent] comes after every plugin it names,
// and otherwise plugins go in ascending ID order — the order they are passed in (or listed
// in the Caddyfile) never matters, so it is the same across restarts and nodes. That
// registration order is [Engine.Plugins]. At request time every stage runs its entries in
// registration order, and within one plugin in the order Register declared them: request
// interceptors, path middlewares, before hooks, after hooks, response interceptors. A
// before hook that answers (or fails) skips the later before hooks and the endpoint; the
// after hooks still run after an answer. Session gates run in registration order too.
// Gateway authenticators are the exception: they run by their Order* position.
//
// Coordination. [Dependent] (DependsOn) orders and checks: start-up fails naming the plugin
// and the missing dependency, and a cycle fails naming it. [Registrar.Requires] only checks,
// after every plugin registered (for a dependency used at request time). A plugin publishes
// its Go API with [Registrar.Provide]; others reach it with [PluginAPI] (or
// [Engine.Plugin]) — never through package globals.
//
// # Sessions
//
// Session tokens are stored only as SHA-256 hashes; listings show opaque handles (D3).
// Every sign-in method turns a verified user into a session at one step, [Call.SignIn],
// where session gates run (D11). Sessions slide (expires_in, refreshed after update_age) and
// end at an absolute max_age (D6). Session listings add "deviceName", derived at listing
// time from the stored user agent by [DeviceName] ("Firefox on macOS", "curl", "Unknown
// device"); nothing extra is stored.
//
// With [SessionConfig.NewDeviceEmail] (Caddyfile: new_device_email in the session block),
// every session created by [Call.SignIn] is checked after the response, on the background
// queue: the device key is a keyring MAC of user id, device name and the client IP's network
// (/24 IPv4, /48 IPv6), kept among the user's 20 most recent in the verification row
// "known-devices-<userID>" (expires a year after the last sign-in; swept like other
// verification rows). An unknown key for a user who already has the row sends a
// "new-device-sign-in" email (Vars device, ip, time); the first sign-in only records.
// Anonymous users, users without a real email (none, or a .invalid placeholder) and
// sessions started with [Call.StartSession] alone (impersonation, re-issued sessions) are
// never checked.
//
// # Gateway credentials
//
// [Engine.Authenticate] resolves a proxied request's credential through the registered
// authenticators in this fixed order: the session cookie (core), Authorization: Bearer
// (session token), Authorization: Bearer (JWT), the API-key header. Every authenticator
// runs; credentials naming different principals get 401. Verified sessions are served from
// an in-process cache whose entries die at once when their user's rows change on this node
// ([SessionCache]); dead entries (revoked, signed out, expired) are dropped every 10 s, so
// its memory follows the sessions in use rather than every session ever presented.
//
// # Storage
//
// The engine's adapter ([Engine.Store]) wraps the configured storage so that writes to
// user-scoped rows invalidate cached sessions. Single-use tokens are taken with ConsumeOne.
//
// # Storage faults fail closed
//
// Under those wrappers sits a storage health tracker (health.go): every storage error that
// is the store failing to answer — an I/O error, a full disk, a lost database connection,
// anything but the contract's answers (not found, duplicate, ...) — is marked
// storage.ErrUnavailable. [Engine.Unavailable] turns such an error into 503
// SERVICE_UNAVAILABLE with Retry-After; the auth API (in write), the gateway (failClosed)
// and the database rate limiter answer every request that met one through it, whatever
// status a handler made of it, so a credential that cannot be checked is never treated as
// absent. The outage is logged by the tracker alone: "storage unavailable: <error> —
// refusing requests with 503" when it starts, a summary at most every 10 s while it lasts,
// "storage recovered after <d> (<n> requests refused)" on the first success of the failing
// kind (a read ends a read outage, a write ends any). A flapping store is announced at most
// once per 10 s. While storage is healthy a call costs one atomic load.
//
// # Several nodes on one store (WithSharedStore)
//
// With PostgreSQL, several Gatehouse processes serve from one database behind a load
// balancer; the Caddy layer then builds the engine [WithSharedStore]. Every piece of state
// that decides a security outcome is either in the store or bounded in time:
//
//   - Sessions, accounts, verification rows, OTPs and their attempt counters (IssueOTP /
//     CheckOTP), one-time tokens (ConsumeOne: exactly one node wins), two-factor challenges
//     and their lock-out counters, the TOTP replay guard (lastTotpStep, advanced by a
//     conditional update in the accepting transaction) and API-key quotas were always
//     stored: nothing to change.
//   - Rate limits (per-IP rules, /verify, plugin limits such as the API-key per-key limit)
//     and the per-account sign-in failure lock-out (BF-01): RateLimit.Storage "database"
//     (the default with WithSharedStore) keeps them in the rateLimit model through
//     [ratelimit.Stored], so a limit is a cluster-wide limit, not one per node. A single
//     node on bbolt keeps the in-memory limiter (no storage write per auth-API request);
//     bbolt locks its file, so it can never be shared anyway. A store failure refuses the
//     request (fails closed: 503 when storage is unavailable, see [Engine.AllowLimit]). The sweeper deletes counters whose window has ended. The
//     model is ephemeral (storage.Model.Ephemeral): on PostgreSQL an UNLOGGED table, so a
//     counted request waits for no WAL flush, and a database crash or failover empties it —
//     every window and lock-out then starts afresh, once; quotas are not in it.
//   - The session cache ([SessionCache]) stays per process: writes on this node invalidate
//     at once, writes on another node are seen when the entry expires. WithSharedStore
//     lowers the default Session.CacheTTL from 10 s to 5 s ([SharedCacheTTL]), the bound on
//     how long a revocation, ban or role change made on another node can go unseen here.
//     No LISTEN/NOTIFY: a notification channel would make revocation immediate but adds a
//     connection per node, reconnection and missed-notification handling to the hot path's
//     correctness; the TTL is the documented bound instead. The session_data cookie cache
//     (Session.CookieCache, off by default) is Better Auth's: /get-session trusts the signed
//     cookie for its lifetime on any node.
//   - Plugins read [Engine.SharedStore]: the api-key plugin leases quota one unit at a time
//     (exact) and counts its per-key limit with [Engine.RateLimiter]; its 5 s key cache is
//     the same kind of bound as the session cache.
package authcore
