// Package ratelimit counts requests per key for Gatehouse's rate limits
// (spec §4.6) and canonicalises client IPs into keys.
//
// The engine decides which [Rule] applies to a request and builds the key
// (client key and canonical path); this package only keeps the counters.
// [Store] is the contract the engine consults; [Limiter] is the bounded,
// sharded in-memory implementation (one process: bbolt), and [Stored] keeps the
// counters in a storage model ([Model]) shared by every node on one database
// (PostgreSQL), deciding each request with a primary-key read and one
// conditional single-statement write, so a limit holds across the cluster. Time
// is always passed in, so tests drive windows with an explicit now and no sleeps.
//
// The key the engine builds must use the canonical route path, so every
// spelling of one endpoint ("//api/auth/sign-in/email", "/api/auth/sign-in/email/",
// percent-encoded letters) shares one bucket (security case PATH-02).
//
// [ClientKey] maps every spelling of one client address — IPv6 case and
// zero-compression, IPv4-mapped forms, zones, and by default every address in
// one IPv6 /64 — to one key, so rotating spellings or addresses does not
// multiply a client's budget (security case HDR-06).
package ratelimit
