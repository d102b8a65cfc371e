// Package username is Better Auth's username plugin (id "username", Caddy module
// gatehouse.plugins.username; spec §7.8): users get a unique username they can sign in with
// instead of their email address.
//
// # Schema
//
// The user model gains two client-settable, returned fields:
//
//   - username: unique, stored normalized (lower-case by default);
//   - displayUsername: the username as the user typed it, or a display name of their own
//     (left out with disable_display_username).
//
// # Routes
//
//	POST /sign-in/username        {username, password, rememberMe?, callbackURL?}
//	    → {"redirect", "token", "url"?, "user"} and the session cookie, exactly like
//	    /sign-in/email (Location on the 200 when callbackURL is given). Empty username or
//	    password, unknown username and wrong password all answer 401
//	    INVALID_USERNAME_OR_PASSWORD after the same hashing work; failures count per
//	    account, together with /sign-in/email (a lockout covers both). A username that
//	    breaks the length or pattern rules is 422. A password over the maximum length is
//	    400 PASSWORD_TOO_LONG before any hashing; with email and password disabled the
//	    route answers 400 EMAIL_PASSWORD_DISABLED. With email verification required an
//	    unverified user gets 403 EMAIL_NOT_VERIFIED after the password check. The session
//	    is created through Call.SignIn with method "username", so session gates
//	    (two-factor, bans) apply.
//	POST /is-username-available   {username} → {"available": bool}; 422 for an empty,
//	    too short, too long or malformed username. It tells anyone whether a username is
//	    taken, as Better Auth's does.
//
// # Hooks
//
// Before /sign-up/email and /update-user (after the core's type checks, so a non-string
// username is already 400 VALIDATION_ERROR):
//
//   - username: length then pattern (400 USERNAME_TOO_SHORT, USERNAME_TOO_LONG,
//     INVALID_USERNAME), then on /update-user the immutability rule (400
//     USERNAME_IS_IMMUTABLE), then availability (400 USERNAME_IS_ALREADY_TAKEN; the user's
//     own username is not "taken" on update); then it is stored normalized.
//   - displayUsername: the display pattern, if configured (400 INVALID_DISPLAY_USERNAME);
//     stored with the display normalization.
//   - sign-up only: without a username, a displayUsername that is a valid username becomes
//     the username too; with a username and no (or an empty) displayUsername, the
//     displayUsername is the username as typed.
//
// Two sign-ups racing for one username: the store's unique constraint decides, and the
// loser gets 400 USERNAME_IS_ALREADY_TAKEN (declared with Registrar.UniqueConflict), also on
// /update-user — never a taken-email answer or a 500.
//
// # Options
//
//	min_username_length                 3
//	max_username_length                 30   (lengths in UTF-16 code units, as JavaScript counts)
//	username_pattern                    ^[a-zA-Z0-9_.]+$   (Go RE2; anchor it)
//	display_username_pattern            none (no display-username validation)
//	username_normalization              lowercase | none
//	display_username_normalization      none | lowercase
//	username_validation_order           pre-normalization | post-normalization
//	display_username_validation_order   pre-normalization | post-normalization
//	immutable_username                  off
//	disable_display_username            off
//
// Better Auth takes functions for the validators and normalizers; Gatehouse takes a
// regular expression and a named normalization.
//
// # Error codes
//
// INVALID_USERNAME_OR_PASSWORD "Invalid username or password", EMAIL_NOT_VERIFIED "Email not
// verified", UNEXPECTED_ERROR "Unexpected error", USERNAME_IS_ALREADY_TAKEN "Username is
// already taken. Please try another.", USERNAME_TOO_SHORT "Username is too short",
// USERNAME_TOO_LONG "Username is too long", INVALID_USERNAME "Username is invalid",
// INVALID_DISPLAY_USERNAME "Display username is invalid", USERNAME_IS_IMMUTABLE "Username
// cannot be updated".
//
// # Rate limits
//
// Better Auth's username plugin declares none of its own. /sign-in/username falls under the
// built-in /sign-in/* rule (3 per 10 s per client IP); /is-username-available under the
// general limit.
//
// # Caddyfile
//
//	gatehouse {
//	    username {
//	        min_username_length 3  max_username_length 30
//	        username_pattern "^[a-zA-Z0-9_.]+$"
//	        display_username_pattern "^[^<>]{1,50}$"
//	        username_normalization lowercase
//	        display_username_normalization none
//	        username_validation_order pre-normalization
//	        display_username_validation_order pre-normalization
//	        immutable_username
//	    }
//	}
//
// (disable_display_username, a flag, removes the displayUsername field; it cannot be combined
// with display_username_pattern.)
//
// # Go API
//
// The plugin publishes itself (Engine.Plugin("username")): NormalizeUsername, CheckUsername
// and UserByUsername, for plugins that write or look up usernames outside these routes.
package username
