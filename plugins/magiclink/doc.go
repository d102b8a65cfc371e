// Package magiclink is Better Auth's magic-link plugin (spec §7.4): sign-in by a single-use
// link sent by email. Plugin ID "magic-link", Caddy module gatehouse.plugins.magic_link.
//
// # Routes
//
// POST /sign-in/magic-link (form-CSRF checked, JSON only). Body: email (required, a valid
// address: 400 VALIDATION_ERROR otherwise), name, callbackURL, newUserCallbackURL,
// errorCallbackURL, metadata (an object; accepted for the client's sake and not forwarded,
// since message templates must not carry caller-chosen text). Every redirect parameter must
// be trusted (403 INVALID_CALLBACK_URL, INVALID_NEW_USER_CALLBACK_URL,
// INVALID_ERROR_CALLBACK_URL, checked by the pipeline before anything is stored or sent).
// The answer is {"status":true} whether or not the address has an account: the rest runs on
// the background queue after the response (D13, D18). There a token of 32 letters
// (generateRandomString(32, a-z, A-Z)) is stored in a verification row for expires_in and a
// message of type "magic-link" is emailed with Data.URL, Data.Token and ExpiresIn. The link is
//
//	<base_url><base_path>/magic-link/verify?token=..&callbackURL=<cb or />[&newUserCallbackURL=..][&errorCallbackURL=..]
//
// built from the configured base URL, never from request headers. When sign-up is closed
// for the address (disable_sign_up, or email_and_password.allowed_domains excludes it) and it
// has no account, nothing is stored or sent. With no mailer configured the route answers
// 400 MAGIC_LINK_NOT_ENABLED (and start-up logs a warning).
//
// GET /magic-link/verify. Query: token (required), callbackURL, errorCallbackURL,
// newUserCallbackURL, each checked against the trusted origins (403 as above). The token is
// consumed atomically: it signs in at most once. Then:
//
//   - unknown address: an account is created (emailVerified true, name from the request or
//     "") unless sign-up is closed;
//   - existing account whose email was never verified: it is "promoted" — all its accounts
//     (password included) and sessions are deleted and emailVerified set — because whoever
//     created it did not prove the mailbox;
//   - the user is signed in through Call.SignIn with method "magic-link", so session gates
//     (two-factor, bans) apply (D11).
//
// Without callbackURL the answer is {"token","user","session"} with the session cookies;
// with it, 302 to callbackURL (newUserCallbackURL for a new account). Every failure is a 302
// to errorCallbackURL (default callbackURL, default /) with ?error= INVALID_TOKEN (unknown,
// used, expired or malformed token), new_user_signup_disabled, failed_to_create_user,
// failed_to_create_session or user_not_found. HEAD never consumes the token (link checkers).
//
// # Storage
//
// No models or fields of its own; a pending link is a verification row with identifier the
// token's hash (store_token hashed, the default — Better Auth defaults to plain) or the token
// itself, and value JSON {"email","name"}. Better Auth's allowedAttempts is deprecated and
// ignored there, so it has no counterpart.
//
// # Errors
//
// MAGIC_LINK_NOT_ENABLED (400) "Magic link isn't enabled". Better Auth declares no error
// codes for this plugin.
//
// # Rate limits
//
// Both routes: 5 requests per 60 s per client IP (Better Auth's rule), configurable with
// rate_limit; the global rate_limit rules still take precedence.
//
// # Options
//
//	expires_in        link lifetime                          default 5m
//	disable_sign_up   never create accounts                  default off
//	store_token       hashed | plain                         default hashed
//	rate_limit        <window> <max> for both routes         default 60s 5
//
// # Caddyfile
//
// Inside the global gatehouse block:
//
//	magic_link {
//	    expires_in 10m
//	    disable_sign_up
//	    store_token hashed
//	    rate_limit 60s 5
//	}
//
// JSON: {"expires_in":"10m","disable_sign_up":true,"store_token":"hashed",
// "rate_limit_window":"1m0s","rate_limit_max":5}.
package magiclink
