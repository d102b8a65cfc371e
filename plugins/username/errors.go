package username

import "github.com/gatehouse-auth/gatehouse/authcore"

// Better Auth's USERNAME_ERROR_CODES (plugins/username/error-codes.ts), with their exact
// messages. Statuses: length and format errors are 400 on /sign-up/email and /update-user,
// 422 on /sign-in/username and /is-username-available; see doc.go.
var (
	CodeInvalidUsernameOrPassword = authcore.ErrorCode{Code: "INVALID_USERNAME_OR_PASSWORD", Message: "Invalid username or password"}
	CodeEmailNotVerified          = authcore.ErrorCode{Code: "EMAIL_NOT_VERIFIED", Message: "Email not verified"}
	CodeUnexpectedError           = authcore.ErrorCode{Code: "UNEXPECTED_ERROR", Message: "Unexpected error"}
	CodeUsernameIsAlreadyTaken    = authcore.ErrorCode{Code: "USERNAME_IS_ALREADY_TAKEN", Message: "Username is already taken. Please try another."}
	CodeUsernameTooShort          = authcore.ErrorCode{Code: "USERNAME_TOO_SHORT", Message: "Username is too short"}
	CodeUsernameTooLong           = authcore.ErrorCode{Code: "USERNAME_TOO_LONG", Message: "Username is too long"}
	CodeInvalidUsername           = authcore.ErrorCode{Code: "INVALID_USERNAME", Message: "Username is invalid"}
	CodeInvalidDisplayUsername    = authcore.ErrorCode{Code: "INVALID_DISPLAY_USERNAME", Message: "Display username is invalid"}
	CodeUsernameIsImmutable       = authcore.ErrorCode{Code: "USERNAME_IS_IMMUTABLE", Message: "Username cannot be updated"}
)

// errorCodes is the plugin's vocabulary, declared with Registrar.Errors.
var errorCodes = []authcore.ErrorCode{
	CodeInvalidUsernameOrPassword, CodeEmailNotVerified, CodeUnexpectedError,
	CodeUsernameIsAlreadyTaken, CodeUsernameTooShort, CodeUsernameTooLong,
	CodeInvalidUsername, CodeInvalidDisplayUsername, CodeUsernameIsImmutable,
}
