package twofactor

import (
	"net/http"

	"github.com/gatehouse-auth/gatehouse/authcore"
)

// Better Auth's TWO_FACTOR_ERROR_CODES (plugins/two-factor/error-code.ts) with their exact
// messages, plus TOTP_ALREADY_ENABLED, which npm 1.7.25 added (spec §14). The statuses each
// route answers with are listed in doc.go.
var (
	CodeOTPNotEnabled                 = authcore.ErrorCode{Code: "OTP_NOT_ENABLED", Message: "OTP not enabled"}
	CodeOTPNotConfigured              = authcore.ErrorCode{Code: "OTP_NOT_CONFIGURED", Message: "OTP is not available"}
	CodeOTPHasExpired                 = authcore.ErrorCode{Code: "OTP_HAS_EXPIRED", Message: "OTP has expired"}
	CodeTOTPNotEnabled                = authcore.ErrorCode{Code: "TOTP_NOT_ENABLED", Message: "TOTP not enabled"}
	CodeTOTPNotConfigured             = authcore.ErrorCode{Code: "TOTP_NOT_CONFIGURED", Message: "TOTP is not available"}
	CodeTwoFactorNotEnabled           = authcore.ErrorCode{Code: "TWO_FACTOR_NOT_ENABLED", Message: "Two factor isn't enabled"}
	CodeBackupCodesNotEnabled         = authcore.ErrorCode{Code: "BACKUP_CODES_NOT_ENABLED", Message: "Backup codes aren't enabled"}
	CodeInvalidBackupCode             = authcore.ErrorCode{Code: "INVALID_BACKUP_CODE", Message: "Invalid backup code"}
	CodeInvalidCode                   = authcore.ErrorCode{Code: "INVALID_CODE", Message: "Invalid code"}
	CodeTooManyAttemptsRequestNewCode = authcore.ErrorCode{Code: "TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE", Message: "Too many attempts. Please request a new code."}
	CodeAccountTemporarilyLocked      = authcore.ErrorCode{Code: "ACCOUNT_TEMPORARILY_LOCKED", Message: "Too many failed verification attempts. Your account is temporarily locked. Please try again later."}
	CodeInvalidTwoFactorCookie        = authcore.ErrorCode{Code: "INVALID_TWO_FACTOR_COOKIE", Message: "Invalid two factor cookie"}
	CodeTOTPAlreadyEnabled            = authcore.ErrorCode{Code: "TOTP_ALREADY_ENABLED", Message: "TOTP is already enabled"}
	errorCodes                        = []authcore.ErrorCode{
		CodeOTPNotEnabled, CodeOTPNotConfigured, CodeOTPHasExpired, CodeTOTPNotEnabled, CodeTOTPNotConfigured,
		CodeTwoFactorNotEnabled, CodeBackupCodesNotEnabled, CodeInvalidBackupCode, CodeInvalidCode,
		CodeTooManyAttemptsRequestNewCode, CodeAccountTemporarilyLocked, CodeInvalidTwoFactorCookie,
		CodeTOTPAlreadyEnabled,
	}
)

// Better Auth answers a few routes with its codes but ad-hoc messages: send-otp without a
// sender says "otp isn't configured", the TOTP routes with TOTP disabled "totp isn't
// configured". The wire keeps them.
var (
	errSendOTPNotConfigured = &authcore.Error{Status: http.StatusBadRequest, Code: CodeOTPNotConfigured.Code, Message: "otp isn't configured"}
	errTOTPDisabled         = &authcore.Error{Status: http.StatusBadRequest, Code: CodeTOTPNotConfigured.Code, Message: "totp isn't configured"}
)

// Errors returned often.
var (
	errInvalidCookie   = CodeInvalidTwoFactorCookie.With(http.StatusUnauthorized)
	errInvalidCode     = CodeInvalidCode.With(http.StatusUnauthorized)
	errInvalidBackup   = CodeInvalidBackupCode.With(http.StatusUnauthorized)
	errTooMany         = CodeTooManyAttemptsRequestNewCode.With(http.StatusBadRequest)
	errLocked          = CodeAccountTemporarilyLocked.With(http.StatusTooManyRequests)
	errOTPExpired      = CodeOTPHasExpired.With(http.StatusBadRequest)
	errInvalidPassword = authcore.CodeInvalidPassword.With(http.StatusBadRequest)
)
