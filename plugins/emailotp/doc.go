// Package emailotp is Better Auth's email-otp plugin (plugin id "email-otp", Caddy module
// gatehouse.plugins.email_otp): one-time numeric codes sent by email to sign in — creating
// the user on first use —, verify an address, reset a password and change the address
// (spec §7.5). Codes use authcore's one-time-code mechanism (authcore/otp.go): one live
// code per purpose and address, checked and used up in one storage transaction, so a code
// is redeemed at most once however many requests race for it, and every wrong guess counts.
//
// # Routes
//
// Relative to the base path; every body is JSON. Codes are sent as email messages of type
// "email-otp" with Data.OTP set and Vars["purpose"] = email-verification | sign-in |
// forget-password | change-email.
//
//	POST /email-otp/send-verification-otp   {email, type}            → {"success":true}
//	    type is email-verification, sign-in or forget-password (change-email: 400 "Invalid OTP
//	    type"). The answer is the same for every address: the account look-up, the code and
//	    the email happen after the response. A code is sent only to an existing account,
//	    except for sign-in when sign-up is allowed. Form-CSRF checked.
//	POST /email-otp/check-verification-otp  {email, type, otp}       → {"success":true}
//	    Does not use the code up; a wrong code still counts an attempt. 400 USER_NOT_FOUND
//	    when the code is right but the address has no account.
//	POST /email-otp/verify-email            {email, otp}             → {"status":true,"token":null|string,"user":{…}}
//	    Marks the address verified. With email_verification auto_sign_in_after_verification
//	    it signs in (session gates run, method "verify-email") and returns the token with the
//	    session cookies; otherwise token is null.
//	POST /sign-in/email-otp                 {email, otp, name?, image?, …user fields} → {"token","user"} + cookies
//	    Signs in (session gates run, method "email-otp"). An unknown address gets a new,
//	    verified user (name defaults to ""), unless disable_sign_up or the address is outside
//	    email_and_password allowed_domains (then 400 INVALID_OTP). An existing unverified
//	    account is adopted: its password, linked accounts and sessions, which predate the
//	    proof of the address, are removed and the address marked verified.
//	POST /email-otp/request-password-reset  {email}                  → {"success":true}
//	POST /forget-password/email-otp         {email}                  → {"success":true} (deprecated alias)
//	    Sends a forget-password code to an existing account; same answer for every address.
//	POST /email-otp/reset-password          {email, otp, password}   → {"success":true}
//	    Password policy first (400 PASSWORD_TOO_SHORT / PASSWORD_TOO_LONG /
//	    PASSWORD_TOO_COMMON; the code is not used up), then the code. Sets the password
//	    (creating the credential account if there is none), marks the address verified, and
//	    revokes the user's sessions with email_and_password revoke_sessions_on_password_reset.
//	POST /email-otp/request-email-change    {newEmail, otp?}         → {"success":true}   (sensitive session)
//	    Needs change_email enabled (else 400 "Change email with OTP is disabled"). With
//	    verify_current_email, otp is an email-verification code of the current address
//	    (missing: 400 "OTP is required to verify current email"). Sends a change-email code
//	    to the new address unless it is taken — the caller cannot tell.
//	POST /email-otp/change-email            {newEmail, otp}          → {"success":true}   (sensitive session)
//	    Sets the new address, verified, and refreshes the session cookies. 400 "Email
//	    already in use" if it was taken meanwhile.
//
// Both change-email routes answer 400 INVALID_EMAIL for a malformed address and 400 "Email
// is the same" for the current one. Without a mailer the routes that send a code answer 400
// "send email verification is not implemented" (Better Auth's answer when sending is not set
// up; D13), and start-up logs a warning.
//
// Server-only (Better Auth's createVerificationOTP and getVerificationOTP): the Go methods
// [Plugin.CreateVerificationOTP] and [Plugin.GetVerificationOTP], published with
// Registrar.Provide, so engine.Plugin("email-otp") returns the *Plugin.
//
// # Error codes
//
//	INVALID_OTP        400  "Invalid OTP"        no code for this purpose and address, or a wrong one
//	OTP_EXPIRED        400  "OTP expired"
//	TOO_MANY_ATTEMPTS  403  "Too many attempts"  allowed_attempts wrong codes were given; the code is void
//
// plus the core's INVALID_EMAIL, USER_NOT_FOUND, FAILED_TO_CREATE_USER, PASSWORD_TOO_SHORT,
// PASSWORD_TOO_LONG, PASSWORD_TOO_COMMON, UNAUTHORIZED and VALIDATION_ERROR.
//
// # Hooks
//
// send_verification_on_sign_up adds an after hook on POST /sign-up/email that sends the new
// user an email-verification code (after the response; a synthetic answer to a taken address
// sends nothing). With override_default_email_verification the core's verification email
// (sign-up with email_verification send_on_sign_up or require_email_verification, and
// /send-verification-email) becomes an email-verification code instead of a link, and the
// hook then stays quiet so that only one email goes out.
//
// # Schema
//
// No new model or field. A code is a verification row: identifier "<type>-otp-<email>"
// (change-email: "change-email-otp-<old>-<new>"), value "<stored code>:<failed attempts>".
//
// # Rate limits
//
// Every route above: 3 requests per 60 s per client IP (Better Auth's rules; rules in the
// rate_limit block override them). Gatehouse adds a cap per destination: at most 3 codes a
// minute are sent to one address, whichever client asks (BF-04); it is off when rate limiting
// is off.
//
// # Options
//
//	otp_length                           digits of a code, 4–12                 default 6
//	expires_in                           lifetime of a code                     default 5m
//	allowed_attempts                     wrong codes before the code is void    default 3
//	store_otp                            hashed | encrypted | plain             default hashed (encrypted with reuse)
//	resend_strategy                      rotate | reuse                         default rotate
//	disable_sign_up                      no user creation by sign-in codes      default off
//	send_verification_on_sign_up         code after /sign-up/email              default off
//	override_default_email_verification  the core sends codes instead of links  default off
//	change_email { enabled verify_current_email }                              default off
//
// Gatehouse differs from Better Auth in storing codes hashed (a keyed MAC) by default, and
// in refusing at start-up resend_strategy reuse with store_otp hashed (Better Auth silently
// rotates). With reuse, the live code is sent again and its lifetime restarts, as in Better Auth.
//
// # Caddyfile
//
//	gatehouse {
//	    email_otp {
//	        otp_length 6  expires_in 5m  allowed_attempts 3
//	        store_otp hashed
//	        resend_strategy rotate
//	        disable_sign_up
//	        send_verification_on_sign_up
//	        override_default_email_verification
//	        change_email {
//	            enabled
//	            verify_current_email
//	        }
//	    }
//	}
package emailotp
