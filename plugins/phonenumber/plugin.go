package phonenumber

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/ratelimit"
)

// ID is the plugin's Better Auth id.
const ID = "phone-number"

// Defaults of the options.
const (
	DefaultOTPLength       = 6
	DefaultExpiresIn       = 5 * time.Minute
	DefaultAllowedAttempts = 3
	// DefaultTempEmailDomain ends in .invalid (RFC 2606), so a placeholder address can never
	// receive mail and the gateway never reports it as a verified email (D1).
	DefaultTempEmailDomain = "phone-number.placeholder.invalid"
	// DefaultPhoneNumberPattern is E.164: a plus sign, a non-zero country-code digit, and
	// 7 to 15 digits in all.
	DefaultPhoneNumberPattern = `^\+[1-9][0-9]{6,14}$`
	DefaultStoreOTP           = "hashed"
	DefaultSendLimit          = 5
	DefaultSendLimitWindow    = 10 * time.Minute
)

// maxPhoneLen bounds a phone number whatever the pattern (E.164 numbers have at most 16
// characters), so a disabled or permissive pattern never lets kilobyte "numbers" reach an
// SMS provider or a verification identifier.
const maxPhoneLen = 64

// Plugin is the phone-number plugin: sign-in with a phone number and password, one-time
// codes by SMS to verify a number (and optionally sign up with it), password reset by SMS
// code. Its exported fields are its configuration (Caddyfile block phone_number, JSON
// module gatehouse.plugins.phone_number); see the package documentation.
type Plugin struct {
	// OTPLength is the number of digits of a code (4–12). Default: 6.
	OTPLength int `json:"otp_length,omitempty"`
	// ExpiresIn is how long a code stays valid. Default: 5m.
	ExpiresIn authcore.Duration `json:"expires_in,omitempty"`
	// AllowedAttempts is how many wrong guesses void a code; the next try, even with the
	// right code, answers 403 TOO_MANY_ATTEMPTS. Default: 3.
	AllowedAttempts int `json:"allowed_attempts,omitempty"`
	// RequireVerification refuses password sign-in (401 PHONE_NUMBER_NOT_VERIFIED, and a
	// code is sent) until the number is verified. Default: off.
	RequireVerification bool `json:"require_verification,omitempty"`
	// SignUpOnVerification creates a user when a code for an unknown number is verified,
	// with a placeholder email <digits>@<temp_email_domain>. Default: off (400
	// PHONE_NUMBER_NOT_EXIST).
	SignUpOnVerification bool `json:"sign_up_on_verification,omitempty"`
	// TempEmailDomain is the domain of placeholder emails; it must end in ".invalid" (D1).
	// Default: phone-number.placeholder.invalid.
	TempEmailDomain string `json:"temp_email_domain,omitempty"`
	// PhoneNumberPattern replaces the E.164 check (a Go regular expression matched against
	// the whole number as sent). Default: ^\+[1-9][0-9]{6,14}$.
	PhoneNumberPattern string `json:"phone_number_pattern,omitempty"`
	// DisablePhoneNumberValidation accepts any number of 1–64 printable characters (Better
	// Auth's default without phoneNumberValidator). Default: off.
	DisablePhoneNumberValidation bool `json:"disable_phone_number_validation,omitempty"`
	// StoreOTP is how codes are kept at rest: plain, hashed (a keyed MAC) or encrypted.
	// Default: hashed.
	StoreOTP string `json:"store_otp,omitempty"`
	// SendLimit caps the SMS sent to one number (verification and reset codes together)
	// per SendLimitWindow, on top of the per-IP rate limit, against SMS pumping and
	// flooding (BF-04). Off when the engine's rate limiting is disabled. Default: 5.
	SendLimit int `json:"send_limit,omitempty"`
	// SendLimitWindow is the window of SendLimit. Default: 10m.
	SendLimitWindow authcore.Duration `json:"send_limit_window,omitempty"`

	engine      *authcore.Engine
	otp         authcore.OTPOptions
	pattern     *regexp.Regexp // nil: any number within maxPhoneLen
	emailDomain string
	sendRule    ratelimit.Rule
	limitSends  bool
	maxPassword int
}

// ID returns "phone-number".
func (*Plugin) ID() string { return ID }

// Register validates the options and declares the schema, routes, hooks, error codes and
// rate limit.
func (p *Plugin) Register(r *authcore.Registrar) error {
	if err := p.provision(); err != nil {
		return fmt.Errorf("plugin %q: %w", ID, err)
	}
	e := r.Engine()
	p.engine = e
	cfg := e.Config()
	p.limitSends = !cfg.RateLimit.Disabled
	p.maxPassword = cfg.EmailAndPassword.MaxPasswordLength
	if err := registerSchema(r); err != nil {
		return err
	}
	if err := r.Errors(errorCodes...); err != nil {
		return err
	}
	for _, ep := range p.endpoints() {
		if err := r.Endpoint(ep); err != nil {
			return err
		}
	}
	p.registerHooks(r)
	// Better Auth's plugin rule: every path starting with /phone-number, 10 requests a
	// minute per IP. /sign-in/phone-number falls under the core /sign-in/* rule (3 in 10 s).
	return r.RateLimit(authcore.PathRateRule{Path: "/phone-number/*", Rule: ratelimit.Rule{Window: time.Minute, Max: 10}})
}

// provision applies the defaults and checks the options; the errors name the option.
func (p *Plugin) provision() error {
	if p.OTPLength == 0 {
		p.OTPLength = DefaultOTPLength
	}
	if p.OTPLength < 4 || p.OTPLength > 12 {
		return fmt.Errorf("otp_length %d: must be between 4 and 12", p.OTPLength)
	}
	if p.ExpiresIn < 0 {
		return errors.New("expires_in must be positive")
	}
	if p.ExpiresIn == 0 {
		p.ExpiresIn = authcore.Duration(DefaultExpiresIn)
	}
	if p.AllowedAttempts < 0 {
		return errors.New("allowed_attempts must not be negative")
	}
	if p.AllowedAttempts == 0 {
		p.AllowedAttempts = DefaultAllowedAttempts
	}
	if p.StoreOTP == "" {
		p.StoreOTP = DefaultStoreOTP
	}
	var store authcore.OTPStorage
	switch p.StoreOTP {
	case "plain":
		store = authcore.OTPPlain
	case "hashed":
		store = authcore.OTPHashed
	case "encrypted":
		store = authcore.OTPEncrypted
	default:
		return fmt.Errorf("store_otp %q: must be plain, hashed or encrypted", p.StoreOTP)
	}
	p.otp = authcore.OTPOptions{Length: p.OTPLength, TTL: p.ExpiresIn.D(), Attempts: p.AllowedAttempts, Storage: store}

	switch {
	case p.DisablePhoneNumberValidation && p.PhoneNumberPattern != "":
		return errors.New("phone_number_pattern and disable_phone_number_validation exclude each other")
	case p.DisablePhoneNumberValidation:
		p.pattern = nil
	default:
		src := p.PhoneNumberPattern
		if src == "" {
			src = DefaultPhoneNumberPattern
		}
		re, err := regexp.Compile(src)
		if err != nil {
			return fmt.Errorf("phone_number_pattern: %v", err)
		}
		p.pattern = re
	}

	domain := strings.ToLower(strings.TrimSpace(p.TempEmailDomain))
	if domain == "" {
		domain = DefaultTempEmailDomain
	}
	// D1: placeholder addresses of phone users end in .invalid, so they can never be a real
	// mailbox that someone else controls.
	if !strings.HasSuffix(domain, ".invalid") || !authcore.ValidEmail("0@"+domain) {
		return fmt.Errorf("temp_email_domain %q: must be a domain name ending in .invalid", p.TempEmailDomain)
	}
	p.emailDomain = domain

	if p.SendLimit < 0 || p.SendLimitWindow < 0 {
		return errors.New("send_limit and send_limit_window must not be negative")
	}
	if p.SendLimit == 0 {
		p.SendLimit = DefaultSendLimit
	}
	if p.SendLimitWindow == 0 {
		p.SendLimitWindow = authcore.Duration(DefaultSendLimitWindow)
	}
	p.sendRule = ratelimit.Rule{Window: p.SendLimitWindow.D(), Max: p.SendLimit}
	return nil
}

// endpoints are Better Auth's five HTTP routes of the plugin (its sixth endpoint,
// consumePhoneNumberOTP, is server-only and has no URL).
func (p *Plugin) endpoints() []authcore.Endpoint {
	phone := authcore.String("phoneNumber").Req().Doc(`Phone number. Eg: "+1234567890"`)
	tags := []string{"Phone Number"}
	otpCodes := []authcore.ErrorCode{CodeOTPNotFound, CodeOTPExpired, CodeInvalidOTP, CodeTooManyAttempts}
	return []authcore.Endpoint{
		{
			Method: http.MethodPost, Path: PathSignIn, Handler: p.signIn, NoStore: true,
			Body: []authcore.Param{phone, authcore.String("password").Req().Doc("Password to use for sign in."),
				authcore.Bool("rememberMe").Doc("Remember the session. Eg: true")},
			Summary: "Sign in with phone number", Response: authcore.ObjectOf(map[string]any{"token": "string", "user": authcore.ModelRef(authcore.ModelUser)}, "token", "user"), Description: "Use this endpoint to sign in with phone number", Tags: tags,
			Errors: []authcore.ErrorCode{CodeInvalidPhoneNumber, authcore.CodePasswordTooLong,
				CodeInvalidPhoneNumberOrPassword, CodePhoneNumberNotVerified},
		},
		{
			Method: http.MethodPost, Path: PathSendOTP, Handler: p.sendOTP,
			Body:    []authcore.Param{phone},
			Summary: "Send OTP to phone number", Response: authcore.ObjectOf(map[string]any{"message": "string"}, "message"), Description: "Use this endpoint to send OTP to phone number", Tags: tags,
			Errors: []authcore.ErrorCode{CodeSendOTPNotImplemented, CodeInvalidPhoneNumber, authcore.CodeTooManyRequests},
		},
		{
			Method: http.MethodPost, Path: PathVerify, Handler: p.verify, NoStore: true, UserFields: true,
			Body: []authcore.Param{phone, authcore.String("code").Req().Doc(`OTP code. Eg: "123456"`),
				authcore.Bool("disableSession").Doc("Disable session creation after verification. Eg: false"),
				authcore.Bool("updatePhoneNumber").Doc("Check if there is a session and update the phone number. Eg: true")},
			Summary: "Verify phone number", Response: authcore.ObjectOf(map[string]any{"status": "boolean", "token": authcore.Nullable("string"), "user": authcore.ModelRef(authcore.ModelUser)}, "status", "token", "user"), Description: "Use this endpoint to verify phone number", Tags: tags,
			Errors: append([]authcore.ErrorCode{CodeInvalidPhoneNumber, authcore.CodeUserNotFound, CodePhoneNumberExist,
				CodePhoneNumberNotExist, authcore.CodeFailedToCreateUser}, otpCodes...),
		},
		{
			Method: http.MethodPost, Path: PathRequestPasswordReset, Handler: p.requestPasswordReset,
			Body:    []authcore.Param{phone},
			Summary: "Request a password reset OTP by phone number", Response: authcore.ObjectOf(map[string]any{"status": "boolean"}, "status"),
			Description: "Request OTP for password reset via phone number", Tags: tags,
			Errors: []authcore.ErrorCode{CodeInvalidPhoneNumber, authcore.CodeTooManyRequests},
		},
		{
			Method: http.MethodPost, Path: PathResetPassword, Audit: authcore.AuditPasswordReset, Handler: p.resetPassword,
			Body: []authcore.Param{authcore.String("otp").Req().Doc(`The one time password to reset the password. Eg: "123456"`),
				phone, authcore.String("newPassword").Req().Doc("The new password.")},
			Summary: "Reset the password with a phone number OTP", Response: authcore.ObjectOf(map[string]any{"status": "boolean"}, "status"),
			Description: "Reset password using phone number OTP", Tags: tags,
			Errors: append([]authcore.ErrorCode{CodeInvalidPhoneNumber, authcore.CodePasswordTooShort, authcore.CodePasswordTooLong,
				authcore.CodePasswordTooCommon, CodeUnexpectedError, CodePhoneNumberPendingVerification}, otpCodes...),
		},
	}
}

// Route paths of the plugin, relative to the base path.
const (
	PathSignIn               = "/sign-in/phone-number"
	PathSendOTP              = "/phone-number/send-otp"
	PathVerify               = "/phone-number/verify"
	PathRequestPasswordReset = "/phone-number/request-password-reset"
	PathResetPassword        = "/phone-number/reset-password"
)
