// Package apikey is Better Auth's api-key plugin (`@better-auth/api-key`, plugin id
// "api-key", Caddy module gatehouse.plugins.api_key): API keys for users, usable on the
// gateway (and, optionally, as a session on the auth API).
//
// # Routes (all need a session; key-authenticated sessions are refused on every /api-key/*
// route with 401 UNAUTHORIZED_SESSION, so a key can never mint, renew or manage keys)
//
//   - POST /api-key/create {name?, expiresIn? (s, ≥1, nullable), prefix?, metadata?,
//     configId?, organizationId?} → the key, with the plaintext "key" (the only time it is
//     shown). The key always belongs to the session user.
//   - GET /api-key/get?id= → the key without "key"; foreign or unknown ids: 404 KEY_NOT_FOUND.
//   - POST /api-key/update {keyId, name?, enabled?, expiresIn? (null: never), metadata?,
//     configId?} → the key.
//   - POST /api-key/delete {keyId, configId?} → {"success": true}; banned users: 401 USER_BANNED.
//   - GET /api-key/list?configId&organizationId&limit&offset&sortBy&sortDirection →
//     {"apiKeys": [...], "total": n, "limit"?, "offset"?}.
//
// Server-only fields — userId, remaining, refillAmount, refillInterval, rateLimitEnabled,
// rateLimitTimeWindow, rateLimitMax, permissions — sent to create or update in any letter
// case are refused with 400 SERVER_ONLY_PROPERTY (CVE-2025-61928; Better Auth answers 401
// UNAUTHORIZED_SESSION for userId, Gatehouse answers 400 SERVER_ONLY_PROPERTY for all of
// them). `"remaining": null` on create is Better Auth's default and passes. Duplicate JSON
// keys are refused by the engine's decoder. Trusted callers (the admin API and the
// `gatehouse apikey` CLI) set them through [authcore.APIKeyAdmin], which the plugin provides
// (Engine.Plugin(authcore.APIKeyID)). Better Auth's server-only verifyApiKey is
// [Plugin.VerifyAPIKey] and deleteAllExpiredApiKeys is [Plugin.DeleteExpired] (also run
// before each create).
//
// Organization-owned keys: creating one over HTTP (organizationId) answers 400
// ORGANIZATION_PLUGIN_REQUIRED (there is no organization plugin yet); APIKeyAdmin may create
// them. They authenticate on the gateway as Principal{Method "api-key", UserID "", OrgID,
// KeyID} and never as a session.
//
// # Keys
//
// A key is <prefix><default_key_length letters a-zA-Z>. Only its digest is stored —
// base64url without padding of SHA-256 (spec §4.2) — in the hidden, unique "key" field, plus
// the first starting_characters_length characters as "start". Lookups are one indexed
// equality on the digest: no per-character comparison. disable_key_hashing is refused at
// start-up. Names are 1–32 characters; prefixes 1–32 of [a-zA-Z0-9_-]; expiresIn must lie in
// [min_expires_in, max_expires_in].
//
// # Gateway
//
// A request carrying one of the key headers (first configured header present; query
// strings are never read) is authenticated at authcore.OrderAPIKey as the key's user:
// Principal{Method "api-key", UserID, User, Roles, KeyID, Permissions}. The headers are
// declared with Registrar.CredentialHeader, so the gateway strips them upstream. Every key
// it does not accept (unknown, malformed, disabled, expired, deleted, owner deleted or
// banned, several header values) gets the same 401 INVALID_API_KEY. A verified key and its
// user are kept in memory for 5 s (keyed by digest); updates and deletes on this node
// invalidate at once, other nodes within 5 s.
//
// Per-key rate limit (rateLimitEnabled, rateLimitTimeWindow, rateLimitMax): counted per
// key in memory on a single-node store, and in the engine's database limiter (the rateLimit
// model, key "api-key|<id>") on a shared store (authcore.WithSharedStore: PostgreSQL), so the
// max holds across nodes; over it, 429 {"code":"RATE_LIMITED","message":"Rate limit
// exceeded.","details":{"tryAgainIn": ms}} with Retry-After and X-Retry-After. It is checked
// before the quota, so a rate-limited request spends no quota. Difference from Better Auth:
// new keys get rateLimitEnabled:false unless rate_limit { enabled } is configured (Better
// Auth's 10 requests a day makes no sense for proxied traffic); the window and max are
// stored on the key either way and shown in responses.
//
// Quota (remaining, refillAmount every refillInterval): exact under concurrency and never
// refilled by a crash; never over-served, on one node or many. A node leases up to
// lease_size units at a time by decrementing remaining in storage in one transaction, then
// serves from memory: no storage write per request in the common case. Unused units go back
// on Close (Caddy's Cleanup); a crashed node's lease is lost (under-serve, never over-serve).
// The API's "remaining" adds back the units this node leased but has not served. lease_size
// defaults to 100 on a single-node store (bbolt) and to 1 on a shared store (PostgreSQL):
// with several nodes a lease held by one node would refuse requests reaching another while
// units remain, and a small quota would be stranded. lease_size 1 is the exact mode: each
// request is one atomic compare-and-subtract ("remaining >= 1", minus one, lastRequest) on
// the stored key, with no lock held across it, so however many requests race on however
// many nodes, exactly min(requests, remaining) pass (the transaction path still handles a
// node's first sight of a key, refills and exhaustion). When remaining is exhausted: 429
// USAGE_EXCEEDED with Retry-After (time to the next refill, or one day without refill),
// trusted by the node for up to 5 s; unlike Better Auth the key is not deleted (an admin may
// raise its quota). A refill sets remaining to refillAmount (Better Auth's rule) once
// refillInterval has passed since lastRefillAt, in the same transaction, so two nodes never
// both refill. lastRequest is written with each lease (each request in the exact mode), and
// requestCount is not maintained.
//
// Cluster: a verified key and its user are cached per node for 5 s; an update, disable or
// delete on another node takes effect here within those 5 s (on this node at once).
//
// # API key as session (enable_session_for_api_keys)
//
// A path middleware on every auth-API route reads the key header: a key shorter than
// default_key_length is 403 INVALID_API_KEY; otherwise it is verified as on the gateway
// (KEY_DISABLED, KEY_EXPIRED, USER_BANNED, INVALID_API_KEY: 401; quota and rate limit: 429)
// and the call gets a virtual session {id: key id, token: the key, userId, userAgent,
// ipAddress, createdAt/updatedAt: now, expiresAt: key expiry or now + session.expires_in};
// /get-session answers {"session","user"} with it directly (no cookies). /api-key/* refuse
// key sessions (401 UNAUTHORIZED_SESSION); /admin/* answer 403 FORBIDDEN.
//
// # Errors
//
// Better Auth's API_KEY_ERROR_CODES with their exact messages (errors.go). Gatehouse has
// one configuration: configId other than "default" is 400
// NO_DEFAULT_API_KEY_CONFIGURATION_FOUND on create and 404 KEY_NOT_FOUND elsewhere.
// Better Auth declares no special auth-API rate-limit rule for these routes; the global rule
// applies.
//
// # Schema
//
// Model "apikey": configId, name, start, referenceId, prefix, key (digest, hidden),
// refillInterval (ms), refillAmount, lastRefillAt, enabled, rateLimitEnabled,
// rateLimitTimeWindow (ms), rateLimitMax, requestCount, remaining, lastRequest, expiresAt,
// createdAt, updatedAt, permissions (JSON), metadata (JSON), and Gatehouse's hidden
// referenceType ("user" | "organization").
//
// # Caddyfile
//
//	api_key {
//	    headers x-api-key                 # default x-api-key; several allowed
//	    default_key_length 64             # 32..256
//	    default_prefix gh_
//	    starting_characters_length 6      # 0..6
//	    require_name
//	    enable_metadata
//	    key_expiration {
//	        default_expires_in 90d        # default: none
//	        min_expires_in 1d
//	        max_expires_in 365d
//	        disable_custom_expires_time
//	    }
//	    rate_limit {
//	        enabled                       # default off (Better Auth: on)
//	        time_window 1d
//	        max 10
//	    }
//	    permissions {
//	        default files read write      # repeatable: <resource> <action...>
//	    }
//	    enable_session_for_api_keys
//	    lease_size 100                    # default 100; 1 (exact) on a shared store
//	}
package apikey
