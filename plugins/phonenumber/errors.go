package phonenumber

import "github.com/gatehouse-auth/gatehouse/authcore"

// The phone-number plugin's error vocabulary: Better Auth's PHONE_NUMBER_ERROR_CODES as of
// npm 1.7.25 (the snapshot's twelve codes plus PHONE_NUMBER_PENDING_VERIFICATION and
// PHONE_NUMBER_CANNOT_BE_SET), with their exact messages.
var (
	CodeInvalidPhoneNumber             = authcore.ErrorCode{Code: "INVALID_PHONE_NUMBER", Message: "Invalid phone number"}
	CodePhoneNumberExist               = authcore.ErrorCode{Code: "PHONE_NUMBER_EXIST", Message: "Phone number already exists"}
	CodePhoneNumberNotExist            = authcore.ErrorCode{Code: "PHONE_NUMBER_NOT_EXIST", Message: "phone number isn't registered"}
	CodeInvalidPhoneNumberOrPassword   = authcore.ErrorCode{Code: "INVALID_PHONE_NUMBER_OR_PASSWORD", Message: "Invalid phone number or password"}
	CodeUnexpectedError                = authcore.ErrorCode{Code: "UNEXPECTED_ERROR", Message: "Unexpected error"}
	CodeOTPNotFound                    = authcore.ErrorCode{Code: "OTP_NOT_FOUND", Message: "OTP not found"}
	CodeOTPExpired                     = authcore.ErrorCode{Code: "OTP_EXPIRED", Message: "OTP expired"}
	CodeInvalidOTP                     = authcore.ErrorCode{Code: "INVALID_OTP", Message: "Invalid OTP"}
	CodePhoneNumberNotVerified         = authcore.ErrorCode{Code: "PHONE_NUMBER_NOT_VERIFIED", Message: "Phone number not verified"}
	CodePhoneNumberPendingVerification = authcore.ErrorCode{Code: "PHONE_NUMBER_PENDING_VERIFICATION", Message: "Phone number requires account ownership proof"}
	CodePhoneNumberCannotBeUpdated     = authcore.ErrorCode{Code: "PHONE_NUMBER_CANNOT_BE_UPDATED", Message: "Phone number cannot be updated"}
	CodePhoneNumberCannotBeSet         = authcore.ErrorCode{Code: "PHONE_NUMBER_CANNOT_BE_SET", Message: "Phone number can only be set by verifying it"}
	CodeSendOTPNotImplemented          = authcore.ErrorCode{Code: "SEND_OTP_NOT_IMPLEMENTED", Message: "sendOTP not implemented"}
	CodeTooManyAttempts                = authcore.ErrorCode{Code: "TOO_MANY_ATTEMPTS", Message: "Too many attempts"}
)

// errorCodes is everything declared with Registrar.Errors.
var errorCodes = []authcore.ErrorCode{
	CodeInvalidPhoneNumber, CodePhoneNumberExist, CodePhoneNumberNotExist,
	CodeInvalidPhoneNumberOrPassword, CodeUnexpectedError, CodeOTPNotFound, CodeOTPExpired,
	CodeInvalidOTP, CodePhoneNumberNotVerified, CodePhoneNumberPendingVerification,
	CodePhoneNumberCannotBeUpdated, CodePhoneNumberCannotBeSet, CodeSendOTPNotImplemented,
	CodeTooManyAttempts,
}
