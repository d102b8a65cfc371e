// Package caddymodule plugs Gatehouse into Caddy.
//
// Module IDs:
//
//	gatehouse                   the app: one auth engine per Caddy config, configured by the
//	                            global `gatehouse { ... }` option
//	http.handlers.gatehouse     the site directive: serves the auth API under the base path and
//	                            guards every other request (ordered right after basic_auth)
//	gatehouse.storage.bbolt     the embedded store (the default; one node)
//	gatehouse.storage.postgres  PostgreSQL, for several nodes on one database
//	                            (storage_postgres.go: storage postgres <dsn> { pool options })
//	gatehouse.plugins.<name>    plugins (see plugins/)
//	gatehouse.mailers.<name>    email transports: log, smtp, webhook (delivery.go; D13)
//	gatehouse.sms.<name>        SMS transports: log, webhook, twilio
//	admin.api.gatehouse         user, session and API-key management for the CLI
//	caddy.logging.encoders.gatehouse
//	                            the log format `gatehouse`: Caddy's filter encoder with every
//	                            credential of Gatehouse redacted from request URIs and request
//	                            and response headers (logformat.go; D16)
//
// Config flows one way: Caddyfile → JSON → App.Provision → authcore.Engine. The bbolt handle,
// the rate-limit counters and the session cache live in caddy.UsagePools keyed by the store,
// so a config reload reuses them instead of reopening or forgetting them (D15); the old
// config's engine keeps serving until Caddy stops it. The PostgreSQL pool is shared the same
// way (one pool per DSN and pool options).
//
// A storage module that implements SharedStorage (postgres) makes the app build its engine
// authcore.WithSharedStore: rate limits and account lock-outs counted in the database
// (rate_limit storage database, unless the Caddyfile says memory), a 5 s session cache
// (unless session cache_ttl says otherwise) and exact API-key quotas; see authcore's package
// doc, "Several nodes on one store", for each piece of per-node state and why it is safe.
//
// Audit events (authcore's audit log) go to the zap logger gatehouse.audit (App.auditLogger),
// one Info record "audit" each, so a `log { include gatehouse.audit }` block can route them
// to a file of their own; `audit { store  retention 90d }` also keeps them for the admin
// plugin's /admin/list-audit-events. Changes made through the admin API are recorded too
// (details.source admin_api).
//
// The gateway path (handler.go) is the hot path: per request it strips forgeable identity
// headers, resolves a credential (in-process session cache first), matches the route rules,
// and either answers 302/401/403/429 itself or sets identity headers and placeholders (and,
// with identity_jwt, a cached signed identity JWT: identityjwt.go) and calls the next handler.
package caddymodule
