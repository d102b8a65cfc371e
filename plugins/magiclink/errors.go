package magiclink

import "github.com/gatehouse-auth/gatehouse/authcore"

// CodeMagicLinkNotEnabled answers POST /sign-in/magic-link (400) when no mailer is
// configured. Better Auth cannot run the plugin without its sendMagicLink callback; Gatehouse
// answers "not enabled" like the core's other mail-backed endpoints (D13).
var CodeMagicLinkNotEnabled = authcore.ErrorCode{Code: "MAGIC_LINK_NOT_ENABLED", Message: "Magic link isn't enabled"}

// Error codes carried by /magic-link/verify's redirects (?error=<code>), exactly as Better
// Auth spells them; they are never JSON envelopes.
const (
	RedirectInvalidToken          = "INVALID_TOKEN"
	RedirectNewUserSignUpDisabled = "new_user_signup_disabled"
	RedirectFailedToCreateUser    = "failed_to_create_user"
	RedirectFailedToCreateSession = "failed_to_create_session"
	RedirectUserNotFound          = "user_not_found"
)
