package emailotp

// The plugin adds no model and no field. Its codes live in the core verification table
// through authcore's one-time-code mechanism (authcore/otp.go), one row per purpose and
// address (spec §4.8):
//
//	identifier  <type>-otp-<email>                (change-email: change-email-otp-<old>-<new>)
//	value       <stored code>:<failed attempts>   (stored code: a keyed MAC, ciphertext or the code)
//	expiresAt   issue time + expires_in

// OTPType is the purpose a code is issued for.
type OTPType string

// The four purposes of Better Auth's email-otp plugin.
const (
	TypeEmailVerification OTPType = "email-verification"
	TypeSignIn            OTPType = "sign-in"
	TypeForgetPassword    OTPType = "forget-password"
	TypeChangeEmail       OTPType = "change-email"
)

// parseType returns the OTPType named by s, or false for anything else.
func parseType(s string) (OTPType, bool) {
	switch t := OTPType(s); t {
	case TypeEmailVerification, TypeSignIn, TypeForgetPassword, TypeChangeEmail:
		return t, true
	}
	return "", false
}

// identifier is the verification identifier of a code: "<type>-otp-<email>", with email
// already normalized.
func identifier(t OTPType, email string) string { return string(t) + "-otp-" + email }

// changeEmailIdentifier binds a change-email code to both addresses.
func changeEmailIdentifier(oldEmail, newEmail string) string {
	return identifier(TypeChangeEmail, oldEmail+"-"+newEmail)
}
