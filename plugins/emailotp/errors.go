package emailotp

import (
	"errors"
	"net/http"

	"github.com/gatehouse-auth/gatehouse/authcore"
)

// The plugin's error vocabulary: Better Auth's EMAIL_OTP_ERROR_CODES, same codes, same
// messages.
var (
	CodeOTPExpired      = authcore.ErrorCode{Code: "OTP_EXPIRED", Message: "OTP expired"}
	CodeInvalidOTP      = authcore.ErrorCode{Code: "INVALID_OTP", Message: "Invalid OTP"}
	CodeTooManyAttempts = authcore.ErrorCode{Code: "TOO_MANY_ATTEMPTS", Message: "Too many attempts"}
)

// Better Auth answers these with a bare message and no code (spec §1.2).
const (
	msgNotImplemented     = "send email verification is not implemented"
	msgInvalidOTPType     = "Invalid OTP type"
	msgChangeEmailOff     = "Change email with OTP is disabled"
	msgEmailIsTheSame     = "Email is the same"
	msgOTPRequired        = "OTP is required to verify current email"
	msgEmailAlreadyInUse  = "Email already in use"
	msgTypeValidationText = `[body.type] Invalid option: expected one of "email-verification"|"sign-in"|"forget-password"|"change-email"`
)

// ErrHashedOTP is returned by [Plugin.GetVerificationOTP] when codes are stored hashed and
// so cannot be read back (Better Auth: "OTP is hashed, cannot return the plain text OTP").
var ErrHashedOTP = errors.New("email-otp: codes are stored hashed and cannot be read back")

// otpError maps a verdict of authcore's one-time-code check to the plugin's answer: an
// unknown or wrong code is 400 INVALID_OTP, an expired one 400 OTP_EXPIRED, a code whose
// attempts are used up 403 TOO_MANY_ATTEMPTS. Anything else is a technical failure and
// passes through.
func otpError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, authcore.ErrOTPNotFound), errors.Is(err, authcore.ErrOTPInvalid):
		return CodeInvalidOTP.With(http.StatusBadRequest)
	case errors.Is(err, authcore.ErrOTPExpired):
		return CodeOTPExpired.With(http.StatusBadRequest)
	case errors.Is(err, authcore.ErrOTPTooManyAttempts):
		return CodeTooManyAttempts.With(http.StatusForbidden)
	}
	return err
}

func badRequest(msg string) *authcore.Error { return authcore.NewError(http.StatusBadRequest, msg) }
