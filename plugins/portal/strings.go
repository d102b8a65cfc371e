package portal

import (
	"fmt"
	"strings"
)

// messages holds every user-visible string of the portal (English), in one place ready for
// translation. Keys are "<page>.<item>"; error messages are "error.<CODE>" for the API's error
// codes. Page authors add their keys here, grouped by page.
var messages = map[string]string{
	// Common.
	"common.email":             "Email",
	"common.email_or_username": "Email or username",
	"common.password":          "Password",
	"common.password_confirm":  "Confirm password",
	"common.name":              "Name",
	"common.show_password":     "Show password",
	"common.hide_password":     "Hide password",
	"common.or":                "or",
	"common.back_to_sign_in":   "Back to sign in",
	"common.continue":          "Continue",
	"common.sign_out":          "Sign out",
	"common.signed_in_as":      "Signed in as",
	"common.skip_to_content":   "Skip to content",
	"common.required":          "required",

	// Sign in.
	"signin.title":             "Sign in",
	"signin.heading":           "Sign in to %s",
	"signin.remember":          "Remember me",
	"signin.submit":            "Sign in",
	"signin.forgot":            "Forgot your password?",
	"signin.no_account":        "Don't have an account?",
	"signin.sign_up":           "Create one",
	"signin.other_methods":     "Other ways to sign in",
	"signin.magic_link":        "Email me a sign-in link",
	"signin.email_otp":         "Email me a sign-in code",
	"signin.phone":             "Sign in with a phone number",
	"signin.passkey":           "Sign in with a passkey",
	"signin.no_password_login": "Password sign-in is not available. Choose another way to sign in below.",

	// Sign up.
	"signup.title":             "Create an account",
	"signup.heading":           "Create your %s account",
	"signup.submit":            "Create account",
	"signup.have_account":      "Already have an account?",
	"signup.sign_in":           "Sign in",
	"signup.password_help":     "At least %d characters.",
	"signup.check_email.title": "Check your email",
	"signup.check_email.body":  "We sent a verification link to %s. Follow it to activate your account.",

	// Forgot / reset password.
	"forgot.title":      "Reset your password",
	"forgot.intro":      "Enter your email address and we will send you a link to choose a new password.",
	"forgot.submit":     "Send reset link",
	"forgot.sent.title": "Check your email",
	"forgot.sent.body":  "If an account exists for %s, we sent it a link to reset the password. The link expires soon.",
	"reset.title":       "Choose a new password",
	"reset.submit":      "Set new password",
	"reset.done.title":  "Password changed",
	"reset.done.body":   "Your password has been changed. You can now sign in with it.",
	"reset.sign_in":     "Sign in",

	// Verify email.
	"verify.title":    "Email verified",
	"verify.body":     "Thank you, your email address is verified.",
	"verify.continue": "Continue",

	// Error page.
	"error.title":           "Something went wrong",
	"error.not_found.title": "Page not found",
	"error.home":            "Go to sign in",

	// Errors the portal itself detects.
	"error.generic":            "Something went wrong. Please try again.",
	"error.NOT_FOUND":          "This page does not exist.",
	"error.METHOD_NOT_ALLOWED": "This page cannot be used that way.",
	"error.CSRF":               "This form has expired or was sent from another site. Go back, reload the page and try again.",
	"error.PASSWORD_MISMATCH":  "The passwords do not match.",
	"error.MISSING_FIELDS":     "Please fill in every required field.",
	"error.MISSING_TOKEN":      "This link is incomplete. Open the link from your email again.",
	"error.FORM_TOO_LARGE":     "The form you sent is too large.",
	"error.BAD_FORM":           "The form could not be read. Please try again.",

	// Error codes of the auth API (core and the sign-in plugins).
	"error.INVALID_EMAIL_OR_PASSWORD":             "The email or password is incorrect.",
	"error.INVALID_USERNAME_OR_PASSWORD":          "The username or password is incorrect.",
	"error.INVALID_EMAIL":                         "Enter a valid email address.",
	"error.INVALID_PASSWORD":                      "The password is incorrect.",
	"error.EMAIL_NOT_VERIFIED":                    "Verify your email address first: we sent you a link.",
	"error.PASSWORD_TOO_SHORT":                    "The password is too short.",
	"error.PASSWORD_TOO_LONG":                     "The password is too long.",
	"error.PASSWORD_TOO_COMMON":                   "This password is too common. Choose a less common one.",
	"error.USER_ALREADY_EXISTS":                   "An account with this email already exists.",
	"error.USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL": "An account with this email already exists. Sign in or use another email.",
	"error.EMAIL_DOMAIN_NOT_ALLOWED":              "Sign-up with this email domain is not allowed.",
	"error.EMAIL_PASSWORD_DISABLED":               "Signing in with a password is not enabled.",
	"error.EMAIL_PASSWORD_SIGN_UP_DISABLED":       "Sign-up is not available.",
	"error.FAILED_TO_CREATE_USER":                 "Your account could not be created. Please try again.",
	"error.FAILED_TO_CREATE_SESSION":              "You could not be signed in. Please try again.",
	"error.USER_NOT_FOUND":                        "No account was found.",
	"error.INVALID_TOKEN":                         "This link is invalid or has already been used.",
	"error.TOKEN_EXPIRED":                         "This link has expired. Request a new one.",
	"error.INVALID_USER":                          "This link does not belong to a valid account.",
	"error.RESET_PASSWORD_DISABLED":               "Password reset is not available.",
	"error.TOO_MANY_REQUESTS":                     "Too many attempts. Please wait a moment and try again.",
	"error.UNAUTHORIZED":                          "Please sign in to continue.",
	"error.BANNED_USER":                           "This account has been suspended.",
	"error.VALIDATION_ERROR":                      "Some fields are not valid. Please check them and try again.",
	"error.MISSING_FIELD":                         "Please fill in every required field.",
	"error.BAD_REQUEST":                           "The request could not be understood. Please try again.",
	"error.PAYLOAD_TOO_LARGE":                     "The form you sent is too large.",
	"error.INVALID_CALLBACK_URL":                  "The return address is not allowed.",
	"error.INVALID_REDIRECT_URL":                  "The return address is not allowed.",
	"error.INVALID_ORIGIN":                        "This form was sent from a site that is not allowed.",
	"error.MISSING_OR_NULL_ORIGIN":                "This form was sent from a site that is not allowed.",
	"error.CROSS_SITE_NAVIGATION_LOGIN_BLOCKED":   "This form was sent from another site. Reload the page and try again.",
	"error.SERVICE_UNAVAILABLE":                   "The service is temporarily unavailable. Please try again shortly.",
	"error.INTERNAL_SERVER_ERROR":                 "Something went wrong on our side. Please try again.",
	"error.USERNAME_TOO_SHORT":                    "The username is too short.",
	"error.USERNAME_TOO_LONG":                     "The username is too long.",
	"error.INVALID_USERNAME":                      "The username may only contain letters, digits, underscores and dots.",
	"error.USERNAME_IS_ALREADY_TAKEN":             "This username is taken. Please choose another.",
	"error.FAILED_TO_GET_USER_INFO":               "Your account could not be read. Please try again.",
	"error.SESSION_EXPIRED":                       "Your session has expired. Please sign in again.",
	"error.VERIFICATION_EMAIL_NOT_ENABLED":        "Email verification is not enabled.",
	"error.EMAIL_ALREADY_VERIFIED":                "Your email address is already verified.",
	"error.FAILED_TO_CREATE_VERIFICATION":         "The link could not be created. Please try again.",
	"error.UNEXPECTED_ERROR":                      "Something went wrong. Please try again.",

	// --- two-factor and passkeys (routes_twofactor.go, routes_passkey.go) ---
	"twofactor.title":                          "Two-factor authentication",
	"twofactor.heading":                        "Confirm it's you",
	"twofactor.intro_totp":                     "Enter the 6-digit code from your authenticator app.",
	"twofactor.intro_choose":                   "Choose how to confirm it's you.",
	"twofactor.intro_otp":                      "Enter the code we sent you.",
	"twofactor.code_totp":                      "Authenticator code",
	"twofactor.code_otp":                       "Code",
	"twofactor.trust_device":                   "Trust this device (skip this step next time)",
	"twofactor.submit":                         "Verify",
	"twofactor.other_ways":                     "Other ways to confirm",
	"twofactor.send_otp":                       "Send me a code instead",
	"twofactor.resend_otp":                     "Send a new code",
	"twofactor.otp_sent":                       "We sent you a code. It expires in a few minutes.",
	"twofactor.use_passkey":                    "Use a passkey",
	"twofactor.backup_summary":                 "Use a backup code",
	"twofactor.backup_code":                    "Backup code",
	"twofactor.submit_backup":                  "Verify backup code",
	"twofactor.cancel":                         "Cancel and sign in again",
	"twofactor.expired":                        "This sign-in has expired. Please sign in again.",
	"twofactor.account.title":                  "Two-factor authentication",
	"twofactor.account.heading":                "Two-factor authentication",
	"twofactor.account.on":                     "Two-factor authentication is on: signing in asks for a code from your authenticator app.",
	"twofactor.account.off":                    "Two-factor authentication is off. Turn it on to ask for a code from an authenticator app when you sign in.",
	"twofactor.account.enable_intro":           "Enter your password to set up an authenticator app.",
	"twofactor.account.enable_submit":          "Set up two-factor authentication",
	"twofactor.account.scan_heading":           "Set up your authenticator app",
	"twofactor.account.scan_intro":             "Scan this QR code with your authenticator app, then enter the code it shows.",
	"twofactor.account.qr_alt":                 "QR code for your authenticator app",
	"twofactor.account.manual":                 "Can't scan it? Enter this key in the app:",
	"twofactor.account.open_app":               "Open in an authenticator app on this device",
	"twofactor.account.show_qr_intro":          "Enter your password to show the QR code again.",
	"twofactor.account.show_qr":                "Show QR code",
	"twofactor.account.verify_code":            "Code from your authenticator app",
	"twofactor.account.verify_submit":          "Turn on two-factor authentication",
	"twofactor.account.backup_heading":         "Your backup codes",
	"twofactor.account.backup_intro":           "Save these codes somewhere safe. Each one lets you sign in once if you lose your authenticator. They will not be shown again.",
	"twofactor.account.regenerate_heading":     "Backup codes",
	"twofactor.account.regenerate_intro":       "Create new backup codes. Your old codes will stop working.",
	"twofactor.account.regenerate_submit":      "Create new backup codes",
	"twofactor.account.regenerated_flash":      "New backup codes created. Your old codes no longer work.",
	"twofactor.account.disable_heading":        "Turn off two-factor authentication",
	"twofactor.account.disable_submit":         "Turn off two-factor authentication",
	"twofactor.account.enabled_flash":          "Two-factor authentication is now on.",
	"twofactor.account.disabled_flash":         "Two-factor authentication is now off.",
	"passkey.title":                            "Sign in with a passkey",
	"passkey.heading":                          "Sign in with a passkey",
	"passkey.intro":                            "Use the passkey saved on this device, your phone or a security key.",
	"passkey.sign_in":                          "Sign in with a passkey",
	"passkey.other_ways":                       "Sign in another way",
	"passkey.needs_js":                         "Passkeys need JavaScript. Turn it on in your browser, or sign in another way.",
	"passkey.unsupported":                      "This browser does not support passkeys. Sign in another way.",
	"passkey.cancelled":                        "The passkey request was cancelled or timed out. Try again.",
	"passkey.failed":                           "The passkey could not be verified. Try again or sign in another way.",
	"passkey.account.title":                    "Passkeys",
	"passkey.account.heading":                  "Your passkeys",
	"passkey.account.link":                     "Manage passkeys",
	"passkey.account.none":                     "You have no passkeys yet.",
	"passkey.account.unnamed":                  "Unnamed passkey",
	"passkey.account.created":                  "Added",
	"passkey.account.new_name":                 "New name",
	"passkey.account.rename":                   "Rename",
	"passkey.account.delete":                   "Delete",
	"passkey.account.add_heading":              "Add a passkey",
	"passkey.account.name":                     "Passkey name (optional)",
	"passkey.account.register":                 "Add a passkey",
	"passkey.account.added_flash":              "Passkey added.",
	"passkey.account.deleted_flash":            "Passkey deleted.",
	"passkey.account.renamed_flash":            "Passkey renamed.",
	"error.INVALID_CODE":                       "The code is incorrect. Try again.",
	"error.INVALID_BACKUP_CODE":                "The backup code is incorrect or has already been used.",
	"error.INVALID_TWO_FACTOR_COOKIE":          "This sign-in has expired. Please sign in again.",
	"error.TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE": "Too many wrong codes. Please sign in again.",
	"error.ACCOUNT_TEMPORARILY_LOCKED":         "Too many failed attempts. Your account is locked for a while; try again later.",
	"error.OTP_HAS_EXPIRED":                    "The code has expired. Send a new one.",
	"error.OTP_NOT_CONFIGURED":                 "Codes cannot be sent to you. Use another way to confirm.",
	"error.TOTP_NOT_ENABLED":                   "No authenticator app is set up. Use another way to confirm.",
	"error.TOTP_NOT_CONFIGURED":                "Authenticator apps are not available.",
	"error.TOTP_ALREADY_ENABLED":               "An authenticator app is already set up.",
	"error.TWO_FACTOR_NOT_ENABLED":             "Two-factor authentication is not on.",
	"error.BACKUP_CODES_NOT_ENABLED":           "You have no backup codes.",
	"error.SESSION_NOT_FRESH":                  "For your security, sign in again before changing this.",
	"error.PASSKEY_NOT_FOUND":                  "This passkey was not found.",
	"error.FAILED_TO_UPDATE_PASSKEY":           "The passkey could not be renamed. Please try again.",
	"error.AUTHENTICATION_FAILED":              "The passkey could not be verified.",
	"error.CHALLENGE_NOT_FOUND":                "The passkey request has expired. Try again.",
}

// t returns the text of a key. An unknown "error.X" key falls back to the generic error
// message (never a raw code or internal detail); any other unknown key returns the key
// itself, which the render tests catch.
func t(key string) string {
	if s, ok := messages[key]; ok {
		return s
	}
	if strings.HasPrefix(key, "error.") {
		return messages["error.generic"]
	}
	return key
}

// tf formats the text of a key with arguments (fmt verbs in the string).
func tf(key string, args ...any) string { return fmt.Sprintf(t(key), args...) }

// errorText is the translated message of an API or portal error code.
func errorText(code string) string { return t("error." + code) }
