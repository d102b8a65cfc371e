// Package anonymous is Better Auth's anonymous plugin (spec §7.9; Caddy module
// gatehouse.plugins.anonymous): guests get a real user and session without giving anything,
// and keep them until they sign in or up by another method, when the guest is handed over
// and deleted.
//
// # Routes
//
//   - POST /sign-in/anonymous — no body (none needed, any sent is ignored). Creates a user
//     {name: "Anonymous" (option name), email: "<id>@anonymous.placeholder.invalid" — the
//     id lower-case, Better Auth 1.7.25's form — or "temp-<id>@<email_domain_name>",
//     emailVerified: false, isAnonymous: true} and signs it in through Call.SignIn with
//     method "anonymous" (D11: session gates run). Answers {"token", "user"} with the session
//     cookies and Cache-Control: no-store. A caller whose session is already anonymous gets
//     400 ANONYMOUS_USERS_CANNOT_SIGN_IN_AGAIN_ANONYMOUSLY; a signed-in regular user may sign
//     in anonymously (a new guest, as in Better Auth). If the session cannot be created the
//     new user is deleted again.
//   - POST /delete-anonymous-user — sensitive session (re-read from storage; 401 without).
//     400 DELETE_ANONYMOUS_USER_DISABLED when disable_delete_anonymous_user is set, then 403
//     USER_IS_NOT_ANONYMOUS for a regular user; otherwise deletes every session of the user,
//     then the user (accounts and other cascading records with it), expires the session
//     cookies and answers {"success": true}.
//
// Both are covered by the built-in /sign-in/* rate-limit rule (3 per 10 s) and the default
// rule respectively; Better Auth declares no rule of its own for them.
//
// # Link hook
//
// An after hook on Better Auth's sign-in/up families, matched as prefixes: /sign-in*,
// /sign-up*, /callback*, /magic-link/verify, /email-otp/verify-email, /one-tap/callback,
// /passkey/verify-authentication, /phone-number/verify, /verify-email. When such a call
// created a session (Call.NewSession) for a user that is neither the guest nor anonymous,
// and the request arrived with an anonymous session (Call.RequestSession), then:
//
//  1. unless disable_delete_anonymous_user, the guest's session is claimed atomically, so
//     of concurrent sign-ins over the same guest cookie exactly one links;
//  2. OnLinkAccount (Go embedders only) runs with the guest's and the new user's records;
//  3. unless disable_delete_anonymous_user, every session of the guest and then the guest
//     user are deleted.
//
// What is handed over: nothing moves by itself. The guest's core records are not
// transferred — its sessions are deleted, its user row is deleted, and records referencing
// the user with on-delete cascade (accounts, and plugin models declared that way) go with
// it; records of other plugins' user-scoped models are not known generically and are not
// moved. Application data is moved by OnLinkAccount. If OnLinkAccount fails, the sign-in
// fails: the new session is revoked, the guest session is kept (its cookie is issued again
// on a 4xx answer; a 5xx sets no cookie), nothing is deleted. A storage failure while
// claiming or deleting is logged and the sign-in still succeeds (Better Auth does the
// same), leaving the guest in place.
//
// A sign-in that creates no session — a wrong password, a two-factor challenge, a sign-up
// that waits for email verification — links nothing; the session created later by the
// two-factor verification routes does not link either (those routes are not in Better
// Auth's list). Better Auth also calls onLinkAccount when the new session belongs to the
// guest itself or to another anonymous user; Gatehouse does not, since nothing is linked
// then. Better Auth's before hook on /sign-in/social (carrying the guest id through the
// OAuth state for callbacks that arrive without cookies) waits for social sign-in.
//
// # Schema
//
// user.isAnonymous: boolean, default false, server-only (Better Auth's input:false). A
// truthy client value on /sign-up/email or /update-user is refused with 400
// FIELD_NOT_ALLOWED and a false one is dropped, so a guest cannot shed its anonymity except
// by signing up. The gateway reads the field: an anonymous session's principal has
// Anonymous set and passes only `allow anonymous` rules (D1). Its placeholder email is
// unverified and ends in .invalid, so no X-Auth-User-Email header is sent for it (D1).
//
// # Options
//
//   - email_domain_name (string): domain of placeholder emails, giving
//     "temp-<id>@<domain>". Must be a lower-case domain name; one not ending in ".invalid"
//     starts with a warning. Default: empty ("<id>@anonymous.placeholder.invalid").
//   - name (string): the name of every anonymous user. Default "Anonymous".
//   - disable_delete_anonymous_user (flag): keep the guest when it links, and refuse
//     /delete-anonymous-user. Default false.
//
// Go embedders may also set OnLinkAccount, GenerateName and GenerateEmail (Better Auth's
// onLinkAccount, generateName, generateRandomEmail); they have no JSON or Caddyfile form.
//
// # Error codes
//
// Better Auth's ANONYMOUS_ERROR_CODES: INVALID_EMAIL_FORMAT (400, GenerateEmail gave a
// non-address), FAILED_TO_CREATE_USER (500), COULD_NOT_CREATE_SESSION (500; Better Auth
// answers 400 for this storage failure), ANONYMOUS_USERS_CANNOT_SIGN_IN_AGAIN_ANONYMOUSLY
// (400), FAILED_TO_DELETE_ANONYMOUS_USER (500), FAILED_TO_DELETE_ANONYMOUS_USER_SESSIONS
// (500), USER_IS_NOT_ANONYMOUS (403), DELETE_ANONYMOUS_USER_DISABLED (400).
//
// # Caddyfile
//
//	gatehouse {
//	    anonymous {
//	        email_domain_name guests.example.invalid
//	        name Guest
//	        disable_delete_anonymous_user
//	    }
//	}
//
// `anonymous` alone enables the plugin with the defaults.
package anonymous
