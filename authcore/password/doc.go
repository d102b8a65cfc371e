// Package password hashes, verifies and vets user passwords.
//
// # Hashing
//
// [Argon2id] is Gatehouse's [Hasher]. New hashes are argon2id (OWASP parameters by default,
// see [OWASP]) in the PHC string format, so the parameters travel with each hash. Verify also
// accepts Better Auth's scrypt hashes (`<salt hex>:<key hex>`, spec §4.1), so an imported
// Better Auth user table keeps working; it reports rehash=true for them, and for argon2id
// hashes made with other parameters, so the caller upgrades the stored hash after the next
// successful sign-in (DESIGN: Security principles; security case PWD-02).
//
// Passwords are NFKC-normalized before hashing with either algorithm: Better Auth does so
// for scrypt, and doing the same for argon2id keeps a password that was typed in another
// Unicode form working after its hash was upgraded (NIST SP 800-63B also asks for it).
// Nothing else is done to a password: no trimming, no case folding, no truncation.
//
// At most maxConcurrent hash computations run at once ([NewArgon2id]); others wait their
// turn. Each computation holds tens of MiB (19 MiB for argon2id with OWASP parameters,
// 32 MiB for Better Auth's scrypt), so the cap bounds memory under a flood of sign-ins
// (PWD-04). Callers must still refuse over-long passwords before hashing ([CheckLength]).
//
// FakeVerify does the work of a Verify for accounts that do not exist, so a sign-in for an
// unknown email costs the same time as one with a wrong password (D18).
//
// # Policy
//
// [CheckLength] counts UTF-16 code units, as Better Auth (JavaScript) does. [IsCommon]
// looks a password up in an embedded list of common passwords (D18): Openwall's
// password.lst (3,545 entries, public domain), also matching case-insensitively and with up
// to four digits appended ("Password123", "dragon2024").
package password
