package anonymous

import "github.com/gatehouse-auth/gatehouse/authcore"

// Error codes of the anonymous plugin: Better Auth's ANONYMOUS_ERROR_CODES, same codes and
// messages (spec §7.9).
var (
	// CodeInvalidEmailFormat: GenerateEmail returned something that is not an email
	// address (400).
	CodeInvalidEmailFormat = authcore.ErrorCode{Code: "INVALID_EMAIL_FORMAT", Message: "Email was not generated in a valid format"}
	// CodeFailedToCreateUser: storing the anonymous user failed (500).
	CodeFailedToCreateUser = authcore.ErrorCode{Code: "FAILED_TO_CREATE_USER", Message: "Failed to create user"}
	// CodeCouldNotCreateSession: storing the anonymous user's session failed (500; Better
	// Auth answers 400).
	CodeCouldNotCreateSession = authcore.ErrorCode{Code: "COULD_NOT_CREATE_SESSION", Message: "Could not create session"}
	// CodeAnonymousUsersCannotSignInAgainAnonymously: /sign-in/anonymous from a caller whose
	// session is already anonymous (400).
	CodeAnonymousUsersCannotSignInAgainAnonymously = authcore.ErrorCode{Code: "ANONYMOUS_USERS_CANNOT_SIGN_IN_AGAIN_ANONYMOUSLY", Message: "Anonymous users cannot sign in again anonymously"}
	// CodeFailedToDeleteAnonymousUser: deleting the user row failed (500).
	CodeFailedToDeleteAnonymousUser = authcore.ErrorCode{Code: "FAILED_TO_DELETE_ANONYMOUS_USER", Message: "Failed to delete anonymous user"}
	// CodeFailedToDeleteAnonymousUserSessions: deleting the user's sessions failed (500).
	CodeFailedToDeleteAnonymousUserSessions = authcore.ErrorCode{Code: "FAILED_TO_DELETE_ANONYMOUS_USER_SESSIONS", Message: "Failed to delete anonymous user sessions"}
	// CodeUserIsNotAnonymous: /delete-anonymous-user by a regular user (403).
	CodeUserIsNotAnonymous = authcore.ErrorCode{Code: "USER_IS_NOT_ANONYMOUS", Message: "User is not anonymous"}
	// CodeDeleteAnonymousUserDisabled: /delete-anonymous-user with
	// disable_delete_anonymous_user set (400).
	CodeDeleteAnonymousUserDisabled = authcore.ErrorCode{Code: "DELETE_ANONYMOUS_USER_DISABLED", Message: "Deleting anonymous users is disabled"}
)

// errorCodes is the plugin's whole vocabulary, declared with Registrar.Errors.
var errorCodes = []authcore.ErrorCode{
	CodeInvalidEmailFormat, CodeFailedToCreateUser, CodeCouldNotCreateSession,
	CodeAnonymousUsersCannotSignInAgainAnonymously, CodeFailedToDeleteAnonymousUser,
	CodeFailedToDeleteAnonymousUserSessions, CodeUserIsNotAnonymous, CodeDeleteAnonymousUserDisabled,
}
