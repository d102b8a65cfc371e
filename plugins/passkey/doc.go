// Package passkey is Better Auth's passkey plugin (@better-auth/passkey, spec §7.6): WebAuthn
// registration and sign-in with passkeys, verified by github.com/go-webauthn/webauthn. Plugin
// ID "passkey", Caddy module gatehouse.plugins.passkey. The options JSON has the shape
// @simplewebauthn/server produces, so the official passkeyClient drives it unchanged.
//
// # Routes
//
// GET /passkey/generate-register-options (fresh session: 401 UNAUTHORIZED without one, 403
// SESSION_NOT_FRESH when older than session.fresh_age). Query: authenticatorAttachment
// (platform | cross-platform, else 400 VALIDATION_ERROR), name (the WebAuthn user name;
// default the email), context (kept with the challenge). Answers
// PublicKeyCredentialCreationOptionsJSON:
//
//	{"challenge","rp":{"name","id"},"user":{"id","name","displayName"},
//	 "pubKeyCredParams":[{"alg":-8,"type":"public-key"},{"alg":-7,…},{"alg":-257,…}],
//	 "timeout":60000,"attestation":"none","excludeCredentials":[{"id","transports"?,"type"}],
//	 "authenticatorSelection":{"residentKey":"preferred","userVerification":"preferred",
//	 "authenticatorAttachment"?,"requireResidentKey":false},"extensions":{"credProps":true},
//	 "hints":[]}
//
// excludeCredentials lists the user's passkeys. user.id is the base64url of the user handle,
// a random 32-character [a-z0-9] string (never the user id).
//
// GET /passkey/generate-authenticate-options (session optional). Answers
// PublicKeyCredentialRequestOptionsJSON {"rpId","challenge","allowCredentials"?,"timeout":
// 60000,"userVerification":"preferred"}. Signed in with passkeys, allowCredentials lists
// them and the ceremony is bound to that user: another user's passkey cannot answer it.
// Otherwise the ceremony is discoverable ("usernameless") and the answer says nothing about
// any account (ENUM-03).
//
// Both option routes set the challenge cookie and answer with Cache-Control: no-store.
//
// POST /passkey/verify-registration (fresh session). Body: response (RegistrationResponseJSON,
// required object), name, createSession. The challenge must be a registration challenge of
// the session user (401 YOU_ARE_NOT_ALLOWED_TO_REGISTER_THIS_PASSKEY otherwise). Every failed
// check of the attestation — client-data type, challenge, origin, RP ID hash, user presence,
// flags, signature, parse — answers 400 FAILED_TO_VERIFY_REGISTRATION (Better Auth answers
// 500, a bug). User verification is not required unless user_verification is required. A
// credential id registered before, to anyone, is 400 PREVIOUSLY_REGISTERED. Answers the
// Passkey row; with createSession also "session" and "user" and new session cookies (a
// re-issue to the already signed-in user, as Better Auth does).
//
// POST /passkey/verify-authentication. Body: response (AuthenticationResponseJSON, required
// object), trustDevice (only with passkey_as_second_factor). The passkey is found by the
// credential id (401 PASSKEY_NOT_FOUND); a failed check answers 400 AUTHENTICATION_FAILED,
// a bad signature, a passkey the ceremony did not offer, or a signature counter that did not
// move forward 401 AUTHENTICATION_FAILED. Counter regressions (a cloned authenticator or
// a replay, WA-02) are refused and logged, the stored counter kept; counters that stay 0
// (synced passkeys) are accepted. On success the counter (and backup state) is updated —
// compare-and-set, so of two racing ceremonies only one wins — and the owner is signed in:
//
//   - an assertion with the user-verified flag is two factors in one step: the session is
//     created with Call.StartSession, without the session gates (D11);
//   - without it, Call.SignIn with method "passkey", so the two-factor gate applies;
//   - with passkey_as_second_factor and a pending two-factor challenge whose user owns the
//     passkey, the challenge is completed instead (TwoFactorChallenges.CompleteChallenge,
//     trustDevice honoured). A passkey of another user never completes it.
//
// The answer is {"session","user"} (session.token is the bare token) with the session cookies.
//
// GET /passkey/list-user-passkeys (session): the user's passkeys, oldest first.
//
// POST /passkey/delete-passkey (session). Body: id. {"status":true}.
//
// POST /passkey/update-passkey (session). Body: id, name (trimmed, not blank: 400
// VALIDATION_ERROR). {"passkey": Passkey}.
//
// Delete and update act only on the session user's passkeys: another user's passkey and a
// missing one both answer 404 PASSKEY_NOT_FOUND with the same body, so passkey ids cannot
// be probed. (Better Auth answers 401 with an empty body for another user's passkey.)
//
// # Challenges
//
// A ceremony's state lives server-side: the signed cookie <prefix>.better-auth-passkey
// (name: challenge_cookie; __Secure- with secure cookies; Max-Age 300) holds a random
// 32-character id, and a verification row "passkey-challenge-<id>" (300 s) holds JSON
// {"type":"registration"|"authentication","expectedChallenge","userData":{"id","name",
// "displayName"},"context"?,"sessionData":<go-webauthn SessionData>}. The challenge is 32
// random bytes from the engine's randomness. The verify routes consume the row atomically
// before anything else and expire the cookie, so a ceremony finishes at most once however
// many requests race, and a replay fails even after a failed first try. A missing, forged,
// used, expired or other-ceremony challenge answers 400 CHALLENGE_NOT_FOUND.
//
// # Origins and relying party
//
// The RP ID is rp_id (default: the base URL's hostname; an IP address is refused at
// start-up); the RP name is rp_name (default: the app name). A ceremony's client-data
// origin must be the base URL's origin or a trusted origin (patterns included), or, with the
// origins option, one of those instead. The request's Origin header is never used (D11;
// Better Auth trusts it). crossOrigin/topOrigin ceremonies are refused. Extension outputs
// nobody asked for are ignored, as SimpleWebAuthn does.
//
// # Storage
//
// Model passkey (Better Auth's fields): id, name?, publicKey (standard base64 of the COSE
// key), userId (→ user, cascade), credentialID (base64url; unique), counter, deviceType
// (singleDevice | multiDevice), backedUp, transports (comma-joined, "" for none),
// createdAt, aaguid (UUID form). Gatehouse adds userHandle (hidden, never returned): the user
// handle each credential was created with. A new registration reuses the handle of the
// user's existing passkeys, so it stays stable for the user; only a user without passkeys
// gets a fresh one. An assertion's userHandle must match it; rows imported from Better Auth
// (which never stored handles) are matched by credential id alone, as Better Auth does. The
// model is user-scoped (writes invalidate cached sessions) and declared a credential:
// Engine.ClaimEmail deletes the passkeys a squatter attached to an unverified account.
//
// # Errors
//
// Better Auth's PASSKEY_ERROR_CODES: CHALLENGE_NOT_FOUND, YOU_ARE_NOT_ALLOWED_TO_REGISTER_THIS_PASSKEY,
// FAILED_TO_VERIFY_REGISTRATION, PASSKEY_NOT_FOUND, AUTHENTICATION_FAILED,
// UNABLE_TO_CREATE_SESSION, FAILED_TO_UPDATE_PASSKEY, PREVIOUSLY_REGISTERED,
// REGISTRATION_CANCELLED, AUTH_CANCELLED, UNKNOWN_ERROR, SESSION_REQUIRED,
// RESOLVE_USER_REQUIRED, RESOLVED_USER_INVALID (the last six are raised by the browser
// client or by Better Auth's passkey-first registration, which needs a resolveUser callback
// and is not offered), plus the core's USER_NOT_FOUND.
//
// # Rate limits
//
// Better Auth declares none for this plugin; the global rate limit applies.
//
// # Options
//
//	rp_id                      relying-party id                  default base URL hostname
//	rp_name                    relying-party name                default app name
//	origins                    ceremony origins (replace)        default base URL + trusted origins
//	authenticator_attachment   platform | cross-platform         default either
//	resident_key               required | preferred | discouraged   default preferred
//	user_verification          required | preferred | discouraged   default preferred
//	challenge_cookie           challenge cookie name suffix      default better-auth-passkey
//	passkey_as_second_factor   a passkey completes a pending two-factor challenge (needs the
//	                           two-factor plugin; start-up fails without it)   default off
//
// # Caddyfile
//
// Inside the global gatehouse block:
//
//	passkey {
//	    rp_id example.com
//	    rp_name "Example"
//	    origins https://example.com https://*.example.com android:apk-key-hash:…
//	    authenticator_attachment platform
//	    resident_key preferred
//	    user_verification preferred
//	    challenge_cookie better-auth-passkey
//	    passkey_as_second_factor
//	}
//
// JSON: {"rp_id":"example.com","rp_name":"Example","origins":[…],
// "authenticator_attachment":"platform","resident_key":"preferred",
// "user_verification":"preferred","challenge_cookie":"better-auth-passkey",
// "passkey_as_second_factor":true}.
package passkey
