package passkey

import "github.com/gatehouse-auth/gatehouse/authcore"

// Better Auth's PASSKEY_ERROR_CODES, with their exact codes and messages. USER_NOT_FOUND is
// the core's code (same message) and is not declared again.
var (
	CodeChallengeNotFound          = authcore.ErrorCode{Code: "CHALLENGE_NOT_FOUND", Message: "Challenge not found"}
	CodeNotAllowedToRegister       = authcore.ErrorCode{Code: "YOU_ARE_NOT_ALLOWED_TO_REGISTER_THIS_PASSKEY", Message: "You are not allowed to register this passkey"}
	CodeFailedToVerifyRegistration = authcore.ErrorCode{Code: "FAILED_TO_VERIFY_REGISTRATION", Message: "Failed to verify registration"}
	CodePasskeyNotFound            = authcore.ErrorCode{Code: "PASSKEY_NOT_FOUND", Message: "Passkey not found"}
	CodeAuthenticationFailed       = authcore.ErrorCode{Code: "AUTHENTICATION_FAILED", Message: "Authentication failed"}
	CodeUnableToCreateSession      = authcore.ErrorCode{Code: "UNABLE_TO_CREATE_SESSION", Message: "Unable to create session"}
	CodeFailedToUpdatePasskey      = authcore.ErrorCode{Code: "FAILED_TO_UPDATE_PASSKEY", Message: "Failed to update passkey"}
	CodePreviouslyRegistered       = authcore.ErrorCode{Code: "PREVIOUSLY_REGISTERED", Message: "Previously registered"}
	CodeRegistrationCancelled      = authcore.ErrorCode{Code: "REGISTRATION_CANCELLED", Message: "Registration cancelled"}
	CodeAuthCancelled              = authcore.ErrorCode{Code: "AUTH_CANCELLED", Message: "Auth cancelled"}
	CodeUnknownError               = authcore.ErrorCode{Code: "UNKNOWN_ERROR", Message: "Unknown error"}
	CodeSessionRequired            = authcore.ErrorCode{Code: "SESSION_REQUIRED", Message: "Passkey registration requires an authenticated session"}
	CodeResolveUserRequired        = authcore.ErrorCode{Code: "RESOLVE_USER_REQUIRED", Message: "Passkey registration requires either an authenticated session or a resolveUser callback when requireSession is false"}
	CodeResolvedUserInvalid        = authcore.ErrorCode{Code: "RESOLVED_USER_INVALID", Message: "Resolved user is invalid"}
)

// errorCodes is the vocabulary declared with Registrar.Errors. REGISTRATION_CANCELLED,
// AUTH_CANCELLED and UNKNOWN_ERROR are raised by the browser client, SESSION_REQUIRED,
// RESOLVE_USER_REQUIRED and RESOLVED_USER_INVALID by Better Auth's passkey-first registration
// (a resolveUser callback), which Gatehouse does not offer; they are declared so the
// vocabulary (and the OpenAPI document) is Better Auth's whole list.
var errorCodes = []authcore.ErrorCode{
	CodeChallengeNotFound, CodeNotAllowedToRegister, CodeFailedToVerifyRegistration,
	CodePasskeyNotFound, CodeAuthenticationFailed, CodeUnableToCreateSession,
	CodeFailedToUpdatePasskey, CodePreviouslyRegistered, CodeRegistrationCancelled,
	CodeAuthCancelled, CodeUnknownError, CodeSessionRequired, CodeResolveUserRequired,
	CodeResolvedUserInvalid,
}
