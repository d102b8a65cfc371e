// Package keyring holds Gatehouse's secret and the secrets it replaced, and does every
// operation keyed by them: cookie signatures, MACs of derived values and symmetric
// encryption (D7: old secrets still verify and decrypt; new output always uses the current
// one).
//
// # Signatures
//
// [Keyring.Sign] and [Keyring.Verify] implement Better Auth's signed-cookie format (spec
// §2.2): value + "." + base64std(HMAC-SHA256(secret, value)), 44 characters with padding. The
// cookie layer percent-encodes and decodes; this package does not. Verify is on the gateway's
// hot path and allocates nothing: each secret keeps a pool of keyed HMAC states.
//
// # MACs
//
// [Keyring.MAC] binds a purpose string to its data (HMAC-SHA256 of purpose || 0x00 || data),
// so a MAC made for one use (say, the opaque session handles of D3) is never valid for
// another.
//
// # Encryption
//
// [Keyring.Encrypt] is Better Auth's symmetricEncrypt (spec §4.3): XChaCha20-Poly1305 with
// key SHA-256(secret), 24-byte random nonce ‖ ciphertext ‖ 16-byte tag, in lower-case hex.
// Gatehouse prefixes it with "$gh$<kid>$", where kid names the secret, so decryption after a
// rotation tries the right secret only. Removing the prefix leaves exactly the bare-hex value
// Better Auth decrypts with that secret. [Keyring.Decrypt] also reads Better Auth's
// "$ba$<version>$<hex>" and bare-hex values, trying every secret, current first.
// `gatehouse secret reencrypt` re-encrypts whatever [Keyring.NeedsReencrypt] reports before an
// old secret is dropped.
package keyring
