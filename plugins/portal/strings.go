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
	// --- methods (magic link, email code, phone code, email changed) ---
	"methods.code":                        "Code",
	"methods.verify_submit":               "Sign in",
	"methods.resend":                      "Send a new code",
	"methods.use_other_email":             "Use a different email address",
	"methods.magic_link.title":            "Sign in with a link",
	"methods.magic_link.heading":          "Sign in with a link",
	"methods.magic_link.intro":            "Enter your email address and we will email you a link that signs you in.",
	"methods.magic_link.submit":           "Email me a link",
	"methods.magic_link.sent_title":       "Check your email",
	"methods.magic_link.sent_body":        "If %s can be used to sign in here, we have sent it a sign-in link.",
	"methods.magic_link.sent_hint":        "The link works once and expires in a few minutes. You can close this page.",
	"methods.email_otp.title":             "Sign in with a code",
	"methods.email_otp.heading":           "Sign in with an email code",
	"methods.email_otp.intro":             "Enter your email address and we will email you a one-time code.",
	"methods.email_otp.submit":            "Email me a code",
	"methods.email_otp.sent":              "If %s can be used to sign in here, we have sent it a code.",
	"methods.email_otp.code_help":         "Enter the code from the email. It expires in a few minutes.",
	"methods.phone.title":                 "Sign in with your phone",
	"methods.phone.heading":               "Sign in with your phone",
	"methods.phone.intro":                 "Enter your phone number and we will text you a one-time code.",
	"methods.phone.number":                "Phone number",
	"methods.phone.number_help":           "In international format, for example +14155550123.",
	"methods.phone.submit":                "Text me a code",
	"methods.phone.sent":                  "We have sent a code to %s.",
	"methods.phone.code_help":             "Enter the code from the text message. It expires in a few minutes.",
	"methods.phone.other_number":          "Use a different phone number",
	"methods.email_changed.title":         "Email address changed",
	"methods.email_changed.done_body":     "Your email address is now %s.",
	"methods.email_changed.unknown_body":  "Thank you, your email change is confirmed. If we sent a link to your new address, follow it to finish. Then sign in with your new address.",
	"methods.email_changed.pending_title": "Confirm your new email address",
	"methods.email_changed.pending_body":  "Thank you. We have sent a link to your new address: follow it to finish changing your email address.",
	// Error codes of the passwordless sign-in plugins and their links.
	"error.MAGIC_LINK_NOT_ENABLED":   "Sign-in links are not available.",
	"error.new_user_signup_disabled": "There is no account for this address, and new accounts cannot be created.",
	"error.failed_to_create_user":    "Your account could not be created. Please try again.",
	"error.failed_to_create_session": "You could not be signed in. Please try again.",
	"error.user_not_found":           "No account was found.",
	"error.INVALID_OTP":              "The code is incorrect. Check it and try again.",
	"error.OTP_EXPIRED":              "The code has expired. Request a new one.",
	"error.OTP_NOT_FOUND":            "There is no valid code. Request a new one.",
	"error.TOO_MANY_ATTEMPTS":        "Too many wrong codes. Request a new one.",
	"error.INVALID_PHONE_NUMBER":     "Enter a valid phone number in international format, like +14155550123.",
	"error.PHONE_NUMBER_NOT_EXIST":   "No account uses this phone number.",
	"error.SEND_OTP_NOT_IMPLEMENTED": "Codes by text message are not available.",
	"error.PHONE_NUMBER_EXIST":       "This phone number is already in use.",
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
