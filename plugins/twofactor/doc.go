// Package twofactor is Better Auth's two-factor plugin (plugin id "two-factor",
// authcore.TwoFactorID; Caddy module gatehouse.plugins.two_factor): a second factor after
// any first one — an authenticator app (TOTP), a one-time code by email or SMS, or a backup
// code — plus trusted devices (spec §7.3).
//
// # The sign-in interruption (D11)
//
// The plugin registers a session gate, which the engine runs at its one session-creation
// step, whatever the first factor: /sign-in/email, /sign-up/email with auto sign-in,
// /sign-in/username, /sign-in/phone-number, /phone-number/verify, /sign-in/email-otp,
// /email-otp/verify-email and GET /verify-email with auto sign-in, GET /magic-link/verify,
// and later social and SSO callbacks. For a user with twoFactorEnabled:
//
//  1. A valid trust_device cookie — signed, its MAC bound to the user, its verification row
//     live — lets the sign-in through; the cookie is used up and replaced (30 days again).
//     An invalid one expires.
//
//  2. Otherwise no session is created and no session cookie set (and so no set-auth-token,
//     spec §11; a session cookie the browser held is expired, dont_remember is kept, and set
//     for rememberMe:false). The rows 2fa-<20 chars> (value: user id) and
//     2fa-attempts-<id> ("0") are stored, the signed two_factor cookie is set (Max-Age 600,
//     two_factor_cookie_max_age), and the answer is, with HTTP 200,
//
//     {"twoFactorRedirect":true,"twoFactorMethods":[…]}
//
//     where the methods are "totp" (a confirmed authenticator, unless disable_totp), "otp"
//     (a code can reach the user: a mailer, or with otp_channel sms an SMS sender and a
//     verified phone number) and those other plugins add (authcore.TwoFactorChallenges).
//     A sign-in by link (GET: magic link, verification link) is answered instead with 302 to
//     two_factor_page?callbackURL=<the flow's callbackURL>. When two_factor_page is not set
//     and the hosted portal (plugin "portal") is on, that page is the portal's
//     <base_path>/ui/two-factor; without the portal it is the flow's callbackURL (default
//     "/") with twoFactorRedirect=true added — the app's page then offers the verify routes
//     below.
//
// # Routes
//
// All POST, JSON, relative to the base path; rate-limited by Better Auth's rule, 3 requests
// per 10 s per client on /two-factor/*. "password" is required and checked (400
// INVALID_PASSWORD) unless allow_passwordless and the user has no password.
//
//	/two-factor/enable      session    {password, method?: "totp"|"otp", issuer?}
//	    totp → {"method":"totp","totpURI","backupCodes":[10 codes]}: a new secret (stored
//	    encrypted, verified:false) and backup codes; two-factor turns on with the first
//	    verify-totp (or at once with skip_verification_on_enable, rotating the session).
//	    400 TOTP_ALREADY_ENABLED when a confirmed authenticator exists (npm 1.7.25), 400
//	    TOTP_NOT_CONFIGURED with disable_totp.
//	    otp → {"method":"otp"}: two-factor on at once, session rotated; 400
//	    OTP_NOT_CONFIGURED when no code can reach the user. Another method: 400
//	    VALIDATION_ERROR.
//	/two-factor/disable     sensitive  {password} → {"status":true}
//	    Deletes the twoFactor row, twoFactorEnabled=false, rotates the session, ends every
//	    trusted device of the user server-side (Better Auth ends only the calling device).
//	/two-factor/get-totp-uri session   {password} → {"totpURI"}
//	    400 TOTP_NOT_ENABLED without a row, 400 TOTP_NOT_CONFIGURED ("totp isn't configured")
//	    with disable_totp.
//	/two-factor/verify-totp  session or two_factor cookie  {code, trustDevice?} → {"token","user"}
//	/two-factor/send-otp     session or two_factor cookie  {trustDevice?}       → {"status":true}
//	    Issues a code (authcore's one-time codes, identifier 2fa-otp-<challenge id>, or
//	    2fa-otp-<userId>!<sessionId> with a session; otp_digits digits, valid otp_period,
//	    otp_allowed_attempts wrong guesses) and sends it after the response: an email of
//	    type "two-factor-otp", or with otp_channel sms an SMS of type "phone-otp"
//	    (Vars purpose "two-factor") to the verified phoneNumber. 400 OTP_NOT_CONFIGURED ("otp
//	    isn't configured") without a transport.
//	/two-factor/verify-otp   session or two_factor cookie  {code, trustDevice?} → {"token","user"}
//	/two-factor/verify-backup-code session or two_factor cookie {code, disableSession?, trustDevice?} → {"token","user"}
//	/two-factor/generate-backup-codes session {password} → {"status":true,"backupCodes":[…]}
//	    Replaces every code. 400 TWO_FACTOR_NOT_ENABLED.
//
// The verify routes, with the two_factor cookie of a pending sign-in (and no session): a
// right code consumes the challenge, creates the session (without the gates again,
// dont_remember honoured), expires two_factor and answers {"token","user"}; with
// trustDevice:true the device is trusted (trust_device cookie, a trust-device-<32> row,
// trust_device_max_age) and dont_remember expires. Each pending sign-in allows 5 codes; the
// next try answers 400 TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE and burns it. Consecutive failures
// are also counted per account across all pending sign-ins and factors: after
// account_lockout max_failed_attempts (10) of them, every verification answers 429
// ACCOUNT_TEMPORARILY_LOCKED for account_lockout duration (15m); a success resets the count.
// Both counts are reserved in one storage transaction before the code is looked at, so
// parallel guesses cannot exceed them. No or a dead cookie: 401 INVALID_TWO_FACTOR_COOKIE;
// wrong code 401 INVALID_CODE / INVALID_BACKUP_CODE; no live emailed code 400
// OTP_HAS_EXPIRED; a TOTP route for an unconfirmed or absent authenticator 400
// TOTP_NOT_ENABLED; no backup codes 400 BACKUP_CODES_NOT_ENABLED. verify-backup-code with
// disableSession spends the code and answers {"user"} without a session (as Better Auth).
//
// With a session: verify-totp confirms an enrolment — verified:true and, if two-factor was
// off, twoFactorEnabled:true and a rotated session, answered with the NEW token and the
// updated user (Better Auth answers with the old token and the old user, spec §7.3; not
// copied). verify-otp likewise turns two-factor on. Otherwise they answer the caller's own
// token and user. No session is created.
//
// TOTP: RFC 6238, HMAC-SHA1, digits 6 (or 8), period 30 s, ±1 step; the secret is 32
// characters of [a-z0-9A-Z-_] whose UTF-8 bytes are the key, stored encrypted (spec §4.3);
// the URI is otpauth://totp/<issuer>:<email>?secret=<base32, no padding>&issuer=<issuer>&digits=6&period=30.
// A code is accepted once: the time step it belongs to is recorded on the row
// (lastTotpStep) in the transaction that accepts it, and only later steps are accepted
// after it, so a replay — even two parallel sign-ins with one code — fails (spec §11).
//
// Backup codes: 10 codes "xxxxx-xxxxx" (backup_codes amount, length), stored as an
// encrypted JSON array (store_backup_codes plain: clear); a code is removed in the
// transaction that accepts it, together with the pending sign-in it completes.
//
// # Hooks
//
// The session gate above. After POST /change-password, and before a POST /reset-password
// whose token is live and whose new password passes the policy, every trusted device of the
// user is ended.
//
// # Go API
//
// engine.Plugin(authcore.TwoFactorID) returns the *Plugin: it implements
// authcore.TwoFactorChallenges (PendingUser, CompleteChallenge, AddMethod) and has
// GenerateTOTP(secret) (Better Auth's server-only generateTOTP), UserBackupCodes(ctx,
// userID) and ViewBackupCodes(call) (viewBackupCodes; the latter for HTTP use, own codes
// only, with a fresh session). QRCodePNG(uri, size) renders a totpURI as a PNG QR code.
// PendingMethods(r) returns the twoFactorMethods of the pending sign-in a plain
// *http.Request carries (its signed two_factor cookie and live challenge), for the hosted
// portal's challenge page; it reads nothing else and changes nothing.
//
// # Schema
//
//	user.twoFactorEnabled   boolean, default false, server-only (returned)
//	twoFactor               secret (encrypted, hidden), backupCodes (encrypted JSON array,
//	                        hidden), userId (unique, hidden, → user, cascade), verified
//	                        (boolean, default true, server-only), lastTotpStep (number,
//	                        hidden: the replay guard)
//
// The model is declared a credential (authcore.ClaimEmail removes it when a proven owner
// claims an unverified account) and user-scoped. Pending sign-ins, attempt counts, the
// account lockout, emailed codes and trusted devices are verification rows (see
// challenge.go).
//
// # Options (Caddyfile)
//
//	two_factor {
//	    issuer <name>                       # default: app_name
//	    digits 6|8                          # default 6
//	    period <duration>                   # TOTP step, whole seconds; default 30s
//	    disable_totp
//	    skip_verification_on_enable
//	    allow_passwordless
//	    backup_codes {
//	        amount <n>                      # default 10
//	        length <n>                      # 6–64, default 10
//	    }
//	    store_backup_codes encrypted|plain  # default encrypted
//	    otp_channel email|sms               # default email
//	    otp_period <duration>               # default 3m
//	    otp_digits <n>                      # 4–12, default 6
//	    otp_allowed_attempts <n>            # default 5
//	    store_otp hashed|encrypted|plain    # default hashed (Better Auth: plain)
//	    two_factor_cookie_max_age <duration> # default 10m
//	    trust_device_max_age <duration>     # default 30d
//	    account_lockout {
//	        max_failed_attempts <n>         # default 10
//	        duration <duration>             # default 15m
//	        disabled                        # turn the account lockout off
//	    }
//	    two_factor_page <path or URL>       # trusted; default: the portal's /ui/two-factor
//	                                        # when the portal is on, else the flow's callbackURL
//	}
//
// # Error codes
//
//	OTP_NOT_ENABLED                     "OTP not enabled"                 (declared; unused, as in Better Auth)
//	OTP_NOT_CONFIGURED                  400 "OTP is not available"
//	OTP_HAS_EXPIRED                     400 "OTP has expired"
//	TOTP_NOT_ENABLED                    400 "TOTP not enabled"
//	TOTP_NOT_CONFIGURED                 400 "TOTP is not available"
//	TWO_FACTOR_NOT_ENABLED              400 "Two factor isn't enabled"
//	BACKUP_CODES_NOT_ENABLED            400 "Backup codes aren't enabled"
//	INVALID_BACKUP_CODE                 401 "Invalid backup code"
//	INVALID_CODE                        401 "Invalid code"
//	TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE  400 "Too many attempts. Please request a new code."
//	ACCOUNT_TEMPORARILY_LOCKED          429 "Too many failed verification attempts. Your account is temporarily locked. Please try again later."
//	INVALID_TWO_FACTOR_COOKIE           401 "Invalid two factor cookie"
//	TOTP_ALREADY_ENABLED                400 "TOTP is already enabled"
//
// plus the core's INVALID_PASSWORD (400), UNAUTHORIZED, SESSION_NOT_FRESH and
// VALIDATION_ERROR.
package twofactor
