// Package phonenumber is Better Auth's phone-number plugin (id "phone-number", Caddy module
// gatehouse.plugins.phone_number): password sign-in by phone number, SMS one-time codes that
// verify a number (and may sign up a new user), and password reset by SMS code. Wire
// reference: shared/better-auth-spec.md §7.10, checked against Better Auth's source (the
// main snapshot and npm 1.7.25).
//
// # Routes
//
//	POST /sign-in/phone-number                {phoneNumber, password, rememberMe?}
//	     → {"token", "user"} + session cookies; 401 INVALID_PHONE_NUMBER_OR_PASSWORD;
//	     with require_verification and an unverified number (right password only): a code
//	     is sent and 401 PHONE_NUMBER_NOT_VERIFIED. Session gates (two-factor) apply, method
//	     "phone-number".
//	POST /phone-number/send-otp               {phoneNumber}
//	     → {"message": "code sent"}; 501 SEND_OTP_NOT_IMPLEMENTED without an SMS transport.
//	POST /phone-number/verify                 {phoneNumber, code, disableSession?,
//	                                           updatePhoneNumber?, ...user fields}
//	     → {"status": true, "token": string|null, "user"}; marks the number verified and
//	     signs in (method "phone-number-otp") unless disableSession; with
//	     sign_up_on_verification an unknown number creates a user (without it: 400
//	     PHONE_NUMBER_NOT_EXIST); updatePhoneNumber moves the number to the signed-in
//	     caller (401 USER_NOT_FOUND without a session, 400 PHONE_NUMBER_EXIST if taken).
//	POST /phone-number/request-password-reset {phoneNumber}
//	     → {"status": true}, whether or not the number has an account.
//	POST /phone-number/reset-password         {otp, phoneNumber, newPassword}
//	     → {"status": true}; 400 UNEXPECTED_ERROR when no account holds the number.
//
// Code failures on verify and reset-password: 400 OTP_NOT_FOUND, 400 OTP_EXPIRED, 400
// INVALID_OTP (a wrong code counts one attempt), 403 TOO_MANY_ATTEMPTS (after
// allowed_attempts wrong codes the code is void, even the right one). Every route answers
// 400 INVALID_PHONE_NUMBER to a number the validation refuses.
//
// # Hooks
//
// Before /update-user: a phoneNumber other than null is 400 PHONE_NUMBER_CANNOT_BE_UPDATED;
// null removes the number and clears phoneNumberVerified. Before every other route that
// accepts user fields (sign-up, other plugins' user-creating routes; not /admin/*): a
// non-empty phoneNumber is 400 PHONE_NUMBER_CANNOT_BE_SET (npm 1.7.25). A number reaches an
// account only by proving it with a code.
//
// # Schema
//
// user.phoneNumber (string, unique, returned) and user.phoneNumberVerified (boolean, default
// false, server-only).
//
// # Codes and messages
//
// Codes come from the engine's one-time-code mechanism (authcore IssueOTP/CheckOTP): digits,
// a new code replaces the previous one, checks and redemption are transactional so a code is
// redeemed at most once. Verification identifiers are phone-number-otp-<number> and
// phone-number-reset-<number> (npm 1.7.25). Each SMS is an authcore.Message of type
// "phone-otp" to the number, Data.OTP the code, ExpiresIn the code's lifetime and
// Vars["purpose"] "verification" or "password-reset"; delivery happens after the response.
//
// # Enumeration (D18)
//
// send-otp never looks the number up. request-password-reset does its lookup, code and SMS
// on the engine's background queue, so every valid number gets the same answer in the same
// time, and an unknown number gets no code and no SMS. Sign-in costs one password hash for
// known and unknown numbers alike and counts failures per account.
//
// # Differences from Better Auth
//
//   - require_verification is applied after the password check (Better Auth checks it first,
//     revealing unverified accounts and sending SMS to anyone who types their number).
//   - verify of an unknown number without sign_up_on_verification is 400
//     PHONE_NUMBER_NOT_EXIST, not 500 FAILED_TO_UPDATE_USER.
//   - Phone numbers are validated as E.164 by default (Better Auth accepts any string unless
//     a validator is configured), and are always bounded to 64 printable characters.
//   - Codes are stored hashed by default; each number may receive at most send_limit SMS per
//     send_limit_window (429 with Retry-After), on top of the per-IP rate limit.
//   - A created user's name is the body's name when given, else the number; the placeholder
//     email is <digits>@<temp_email_domain>, a domain that must end in .invalid (D1), with a
//     random suffix when an account that gave the number up still holds that address.
//   - Verification identifiers are npm 1.7.25's prefixed ones, not the snapshot's bare
//     number (spec §4.8).
//
// # Rate limits
//
// Better Auth's plugin rule: paths under /phone-number/ allow 10 requests per minute per
// IP. /sign-in/phone-number is under the core /sign-in/* rule (3 per 10 s).
//
// # Options
//
//	otp_length                        digits per code, 4–12                 default 6
//	expires_in                        code lifetime                         default 5m
//	allowed_attempts                  wrong codes before a code is void     default 3
//	require_verification              password sign-in needs a verified number
//	sign_up_on_verification           verifying an unknown number creates a user
//	temp_email_domain                 placeholder email domain (*.invalid)  default phone-number.placeholder.invalid
//	phone_number_pattern              regular expression for numbers        default ^\+[1-9][0-9]{6,14}$ (E.164)
//	disable_phone_number_validation   accept any 1–64 printable characters
//	store_otp                         plain | hashed | encrypted            default hashed
//	send_limit                        SMS per number per window             default 5
//	send_limit_window                 window of send_limit                  default 10m
//
// Caddyfile, inside the global gatehouse block:
//
//	phone_number {
//	    require_verification
//	    sign_up_on_verification
//	    expires_in 5m  allowed_attempts 3
//	}
//
// SMS delivery needs an SMS transport configured on the engine (authcore.WithSMSSender).
package phonenumber
