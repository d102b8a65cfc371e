package authcore

import (
	"errors"
	"fmt"
	"net/http"
)

// ErrorCode is one entry of an error vocabulary: an UPPER_SNAKE code and its public message.
// Plugins declare theirs with [Registrar.Errors]; core codes are the Code* variables below.
type ErrorCode struct {
	Code    string
	Message string
}

// With returns an *Error with this code, its message and the HTTP status.
func (c ErrorCode) With(status int) *Error {
	return &Error{Status: status, Code: c.Code, Message: c.Message}
}

// Error is the one error type endpoints return. Status, Code and Message go to the client as
// the envelope {"message", "code"} (spec §1.2); Err is the private cause, logged with the
// request, never sent. A zero Code sends only the message; Empty sends no body at all.
type Error struct {
	Status  int
	Code    string
	Message string
	Err     error
	// Empty: answer with the status and no body (a few Better Auth errors do).
	Empty bool
	// Header holds extra response headers (Retry-After on 429, for example).
	Header http.Header
	// Details is added to the envelope as "details" when set.
	Details any
}

func (e *Error) Error() string {
	s := fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, CodeX.With(status)) style checks unnecessary: two *Error values
// match when their codes match.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code != "" && t.Code == e.Code
}

// Wrap attaches a private cause.
func (e *Error) Wrap(err error) *Error { c := *e; c.Err = err; return &c }

// NewError builds an error with a status and a bare message (no code), as Better Auth does for
// "No fields to update" and friends.
func NewError(status int, message string) *Error {
	return &Error{Status: status, Message: message}
}

// Internal wraps a technical failure as a 500 INTERNAL_SERVER_ERROR; the cause is logged, the
// client sees a generic message.
func Internal(err error) *Error {
	return &Error{Status: http.StatusInternalServerError, Code: "INTERNAL_SERVER_ERROR", Message: "Internal Server Error", Err: err}
}

// AsError converts any error into an *Error: *Error values pass through, everything else is
// an internal error.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return Internal(err)
}

// Core error codes: Better Auth's BASE_ERROR_CODES (spec §1.3) plus the ad-hoc codes core
// routes use.
var (
	CodeUserNotFound                       = ErrorCode{"USER_NOT_FOUND", "User not found"}
	CodeFailedToCreateUser                 = ErrorCode{"FAILED_TO_CREATE_USER", "Failed to create user"}
	CodeFailedToCreateSession              = ErrorCode{"FAILED_TO_CREATE_SESSION", "Failed to create session"}
	CodeFailedToUpdateUser                 = ErrorCode{"FAILED_TO_UPDATE_USER", "Failed to update user"}
	CodeFailedToGetSession                 = ErrorCode{"FAILED_TO_GET_SESSION", "Failed to get session"}
	CodeInvalidPassword                    = ErrorCode{"INVALID_PASSWORD", "Invalid password"}
	CodeInvalidEmail                       = ErrorCode{"INVALID_EMAIL", "Invalid email"}
	CodeInvalidEmailOrPassword             = ErrorCode{"INVALID_EMAIL_OR_PASSWORD", "Invalid email or password"}
	CodeInvalidUser                        = ErrorCode{"INVALID_USER", "Invalid user"}
	CodeSocialAccountAlreadyLinked         = ErrorCode{"SOCIAL_ACCOUNT_ALREADY_LINKED", "Social account already linked"}
	CodeProviderNotFound                   = ErrorCode{"PROVIDER_NOT_FOUND", "Provider not found"}
	CodeInvalidToken                       = ErrorCode{"INVALID_TOKEN", "Invalid token"}
	CodeTokenExpired                       = ErrorCode{"TOKEN_EXPIRED", "Token expired"}
	CodeIDTokenNotSupported                = ErrorCode{"ID_TOKEN_NOT_SUPPORTED", "id_token not supported"}
	CodeFailedToGetUserInfo                = ErrorCode{"FAILED_TO_GET_USER_INFO", "Failed to get user info"}
	CodeUserEmailNotFound                  = ErrorCode{"USER_EMAIL_NOT_FOUND", "User email not found"}
	CodeEmailNotVerified                   = ErrorCode{"EMAIL_NOT_VERIFIED", "Email not verified"}
	CodePasswordTooShort                   = ErrorCode{"PASSWORD_TOO_SHORT", "Password too short"}
	CodePasswordTooLong                    = ErrorCode{"PASSWORD_TOO_LONG", "Password too long"}
	CodeUserAlreadyExists                  = ErrorCode{"USER_ALREADY_EXISTS", "User already exists."}
	CodeUserAlreadyExistsUseAnotherEmail   = ErrorCode{"USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL", "User already exists. Use another email."}
	CodeEmailCanNotBeUpdated               = ErrorCode{"EMAIL_CAN_NOT_BE_UPDATED", "Email can not be updated"}
	CodeChangeEmailDisabled                = ErrorCode{"CHANGE_EMAIL_DISABLED", "Change email is disabled"}
	CodeCredentialAccountNotFound          = ErrorCode{"CREDENTIAL_ACCOUNT_NOT_FOUND", "Credential account not found"}
	CodeSessionExpired                     = ErrorCode{"SESSION_EXPIRED", "Session expired. Re-authenticate to perform this action."}
	CodeFailedToUnlinkLastAccount          = ErrorCode{"FAILED_TO_UNLINK_LAST_ACCOUNT", "You can't unlink your last account"}
	CodeAccountNotFound                    = ErrorCode{"ACCOUNT_NOT_FOUND", "Account not found"}
	CodeUserAlreadyHasPassword             = ErrorCode{"USER_ALREADY_HAS_PASSWORD", "User already has a password. Provide that to delete the account."}
	CodeCrossSiteNavigationLoginBlocked    = ErrorCode{"CROSS_SITE_NAVIGATION_LOGIN_BLOCKED", "Cross-site navigation login blocked. This request appears to be a CSRF attack."}
	CodeVerificationEmailNotEnabled        = ErrorCode{"VERIFICATION_EMAIL_NOT_ENABLED", "Verification email isn't enabled"}
	CodeEmailAlreadyVerified               = ErrorCode{"EMAIL_ALREADY_VERIFIED", "Email is already verified"}
	CodeEmailMismatch                      = ErrorCode{"EMAIL_MISMATCH", "Email mismatch"}
	CodeSessionNotFresh                    = ErrorCode{"SESSION_NOT_FRESH", "Session is not fresh"}
	CodeLinkedAccountAlreadyExists         = ErrorCode{"LINKED_ACCOUNT_ALREADY_EXISTS", "Linked account already exists"}
	CodeInvalidOrigin                      = ErrorCode{"INVALID_ORIGIN", "Invalid origin"}
	CodeInvalidCallbackURL                 = ErrorCode{"INVALID_CALLBACK_URL", "Invalid callbackURL"}
	CodeInvalidRedirectURL                 = ErrorCode{"INVALID_REDIRECT_URL", "Invalid redirectURL"}
	CodeInvalidErrorCallbackURL            = ErrorCode{"INVALID_ERROR_CALLBACK_URL", "Invalid errorCallbackURL"}
	CodeInvalidNewUserCallbackURL          = ErrorCode{"INVALID_NEW_USER_CALLBACK_URL", "Invalid newUserCallbackURL"}
	CodeMissingOrNullOrigin                = ErrorCode{"MISSING_OR_NULL_ORIGIN", "Missing or null Origin"}
	CodeCallbackURLRequired                = ErrorCode{"CALLBACK_URL_REQUIRED", "callbackURL is required"}
	CodeFailedToCreateVerification         = ErrorCode{"FAILED_TO_CREATE_VERIFICATION", "Unable to create verification"}
	CodeFieldNotAllowed                    = ErrorCode{"FIELD_NOT_ALLOWED", "Field not allowed to be set"}
	CodeAsyncValidationNotSupported        = ErrorCode{"ASYNC_VALIDATION_NOT_SUPPORTED", "Async validation is not supported"}
	CodeValidationError                    = ErrorCode{"VALIDATION_ERROR", "Validation Error"}
	CodeMissingField                       = ErrorCode{"MISSING_FIELD", "Field is required"}
	CodeMethodNotAllowedDeferSessionNeeded = ErrorCode{"METHOD_NOT_ALLOWED_DEFER_SESSION_REQUIRED", "POST method requires deferSessionRefresh to be enabled in session config"}
	CodeBodyMustBeAnObject                 = ErrorCode{"BODY_MUST_BE_AN_OBJECT", "Body must be an object"}
	CodePasswordAlreadySet                 = ErrorCode{"PASSWORD_ALREADY_SET", "User already has a password set"}

	// Ad-hoc codes of core routes (spec §1.3, after the table).
	CodeUnauthorized                = ErrorCode{"UNAUTHORIZED", "Unauthorized"}
	CodeEmailPasswordDisabled       = ErrorCode{"EMAIL_PASSWORD_DISABLED", "Email and password is not enabled"}
	CodeEmailPasswordSignUpDisabled = ErrorCode{"EMAIL_PASSWORD_SIGN_UP_DISABLED", "Email and password sign up is not enabled"}
	CodeResetPasswordDisabled       = ErrorCode{"RESET_PASSWORD_DISABLED", "Reset password isn't enabled"}
	CodeNotFound                    = ErrorCode{"NOT_FOUND", "Not Found"}
	CodeBadRequest                  = ErrorCode{"BAD_REQUEST", "Bad Request"}
	CodeUnsupportedMediaType        = ErrorCode{"UNSUPPORTED_MEDIA_TYPE", "Unsupported media type"}
	CodePayloadTooLarge             = ErrorCode{"PAYLOAD_TOO_LARGE", "Request body is too large"}
	CodePasswordTooCommon           = ErrorCode{"PASSWORD_TOO_COMMON", "Password is too common. Choose a less common password."}
	CodeTooManyRequests             = ErrorCode{"TOO_MANY_REQUESTS", "Too many requests. Please try again later."}
	CodeServiceUnavailable          = ErrorCode{"SERVICE_UNAVAILABLE", "Service temporarily unavailable"}
)

// baseErrorCodes is the core vocabulary, registered under the owner "core" so plugins cannot
// redefine a core code with another message.
var baseErrorCodes = []ErrorCode{
	CodeUserNotFound, CodeFailedToCreateUser, CodeFailedToCreateSession, CodeFailedToUpdateUser,
	CodeFailedToGetSession, CodeInvalidPassword, CodeInvalidEmail, CodeInvalidEmailOrPassword,
	CodeInvalidUser, CodeSocialAccountAlreadyLinked, CodeProviderNotFound, CodeInvalidToken,
	CodeTokenExpired, CodeIDTokenNotSupported, CodeFailedToGetUserInfo, CodeUserEmailNotFound,
	CodeEmailNotVerified, CodePasswordTooShort, CodePasswordTooLong, CodeUserAlreadyExists,
	CodeUserAlreadyExistsUseAnotherEmail, CodeEmailCanNotBeUpdated, CodeChangeEmailDisabled,
	CodeCredentialAccountNotFound, CodeSessionExpired, CodeFailedToUnlinkLastAccount,
	CodeAccountNotFound, CodeUserAlreadyHasPassword, CodeCrossSiteNavigationLoginBlocked,
	CodeVerificationEmailNotEnabled, CodeEmailAlreadyVerified, CodeEmailMismatch,
	CodeSessionNotFresh, CodeLinkedAccountAlreadyExists, CodeInvalidOrigin, CodeInvalidCallbackURL,
	CodeInvalidRedirectURL, CodeInvalidErrorCallbackURL, CodeInvalidNewUserCallbackURL,
	CodeMissingOrNullOrigin, CodeCallbackURLRequired, CodeFailedToCreateVerification,
	CodeFieldNotAllowed, CodeAsyncValidationNotSupported, CodeValidationError, CodeMissingField,
	CodeMethodNotAllowedDeferSessionNeeded, CodeBodyMustBeAnObject, CodePasswordAlreadySet,
	CodeEmailDomainNotAllowed, CodeUnauthorized, CodeEmailPasswordDisabled, CodeEmailPasswordSignUpDisabled,
	CodeResetPasswordDisabled, CodeNotFound, CodeBadRequest, CodeUnsupportedMediaType,
	CodePayloadTooLarge, CodePasswordTooCommon, CodeTooManyRequests, CodeServiceUnavailable,
}

// Frequently returned errors.
var (
	errUnauthorized = CodeUnauthorized.With(http.StatusUnauthorized)
)

// CodeEmailDomainNotAllowed refuses sign-up outside email_and_password.allowed_domains (D1).
var CodeEmailDomainNotAllowed = ErrorCode{"EMAIL_DOMAIN_NOT_ALLOWED", "Sign-up with this email domain is not allowed"}

// CodeNoFieldsToUpdate carries Better Auth's code-less "No fields to update".
var errNoFieldsToUpdate = NewError(http.StatusBadRequest, "No fields to update")
