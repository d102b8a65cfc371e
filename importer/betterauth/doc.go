// Package betterauth imports a Better Auth database into a Gatehouse store, so an
// application can switch from Better Auth to Gatehouse without its users noticing.
//
// # Source
//
// A PostgreSQL database written by Better Auth's default (Kysely) adapter, with Better
// Auth's default model and column names (no modelName/fields overrides, no usePlural), read
// only, one REPEATABLE READ transaction per table. SQLite is not supported: it could not be
// tested against a database Better Auth created (better-sqlite3 needs a native build this
// project's CI cannot do offline; Node 20 has no node:sqlite).
//
// # Mapping
//
// Gatehouse keeps Better Auth's model and field names, so a row maps onto the model of the
// same name field by field (see [Tables]); types are converted (integer → number,
// timestamptz → date, JSON text → json, "null" → unset). Columns Gatehouse has no field for
// are reported and not kept (team.memberCount, teamMember.membershipKey,
// twoFactor.failedVerificationCount and lockedUntil, account.issuer of early 1.7 releases);
// fields added by plugins to user and session (username, phoneNumber, role, banned,
// activeOrganizationId, …) map when the config enables the plugin. verification, rateLimit
// and jwks rows are not imported ([NotImported]); other unknown tables are listed.
//
// Differences handled:
//
//   - account.password: Better Auth's scrypt hashes are kept. Gatehouse's hasher verifies
//     them (authcore/password) and the sign-in path replaces them with an argon2id hash
//     after the first successful password check.
//   - session.token: Gatehouse stores SHA-256 (base64url) of session tokens (D3), so the
//     import hashes them. Better Auth's cookie value is "<token>.<HMAC(secret, token)>":
//     with Better Auth's secret in Gatehouse's previous_secrets (or as its secret) the
//     existing cookies stay valid, and users stay signed in; without it they sign in again
//     (the rows then just expire). Pass Skip: ["session"] to sign everyone out instead.
//   - twoFactor.secret and backupCodes: encrypted with Better Auth's secret (XChaCha20-
//     Poly1305, key SHA-256(secret)); they are decrypted with Options.Secret and encrypted
//     again with Gatehouse's keyring. A wrong or missing secret stops the import before
//     anything is written.
//   - apikey.key: Better Auth's hash (base64url SHA-256) is Gatehouse's too: kept, so
//     existing keys keep working. An old userId column becomes referenceId; a key whose
//     referenceId is an organization's id (and no user's) gets referenceType organization.
//   - user.email is lower-cased (Better Auth stores it so already).
//
// # Destination
//
// The engine's store (built from the Gatehouse config, with its plugins). A store that
// already has users is refused ([ErrNotEmpty]) unless Options.Merge: then records whose id
// it has are skipped, and a Better Auth user whose email belongs to another Gatehouse user
// stops the import before anything is written. Rows whose plugin the config does not enable
// stop the import too ([ErrPluginMissing]) unless their table is skipped. Records are
// written in batches, one transaction each.
package betterauth
