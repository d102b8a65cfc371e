package twofactor

import (
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/ratelimit"
)

// Route paths of the plugin, relative to the base path (spec §7.3).
const (
	PathEnable              = "/two-factor/enable"
	PathDisable             = "/two-factor/disable"
	PathGetTOTPURI          = "/two-factor/get-totp-uri"
	PathVerifyTOTP          = "/two-factor/verify-totp"
	PathSendOTP             = "/two-factor/send-otp"
	PathVerifyOTP           = "/two-factor/verify-otp"
	PathVerifyBackupCode    = "/two-factor/verify-backup-code"
	PathGenerateBackupCodes = "/two-factor/generate-backup-codes"
)

// Cookie suffixes (spec §2.1): the full names are [__Secure-]<prefix>.two_factor and
// .trust_device.
const (
	CookieTwoFactor   = "two_factor"
	CookieTrustDevice = "trust_device"
)

// Method names listed in twoFactorMethods.
const (
	MethodTOTP = "totp"
	MethodOTP  = "otp"
	// MethodTwoFactor is the sign-in method of the session a passed challenge creates.
	MethodTwoFactor = "two-factor"
)

// Option values.
const (
	StoreEncrypted = "encrypted"
	StorePlain     = "plain"
	StoreHashed    = "hashed"

	ChannelEmail = "email"
	ChannelSMS   = "sms"
)

// Defaults (Better Auth's, plugins/two-factor/constant.ts and the sub-plugins).
const (
	DefaultDigits                = 6
	DefaultPeriod                = 30 * time.Second
	DefaultBackupCodeAmount      = 10
	DefaultBackupCodeLength      = 10
	DefaultOTPPeriod             = 3 * time.Minute
	DefaultOTPDigits             = 6
	DefaultOTPAllowedAttempts    = 5
	DefaultTwoFactorCookieMaxAge = 10 * time.Minute
	DefaultTrustDeviceMaxAge     = 30 * 24 * time.Hour
	DefaultLockoutMaxFailures    = 10
	DefaultLockoutDuration       = 15 * time.Minute
	// ChallengeAttempts is how many codes one pending sign-in may try; the next try burns
	// it (Better Auth's DEFAULT_TWO_FACTOR_ALLOWED_ATTEMPTS, not an option there either).
	ChallengeAttempts = 5
)

// Plugin is the two-factor plugin; its exported fields are its configuration. The zero
// value is Better Auth's default setup: TOTP with 6 digits every 30 s, 10 encrypted backup
// codes, codes by email when a mailer is configured, account lockout after 10 failures.
type Plugin struct {
	// Issuer names the service in authenticator apps (the otpauth URI's issuer). A body
	// issuer on /two-factor/enable wins for that enrolment. Default: the engine's app_name.
	Issuer string `json:"issuer,omitempty"`
	// Digits is the length of TOTP codes: 6 or 8. Default: 6.
	Digits int `json:"digits,omitempty"`
	// Period is the TOTP time step, in whole seconds. Default: 30s.
	Period authcore.Duration `json:"period,omitempty"`
	// DisableTOTP turns authenticator apps off: enable with method totp, get-totp-uri and
	// verify-totp answer 400 TOTP_NOT_CONFIGURED, and "totp" is never offered.
	DisableTOTP bool `json:"disable_totp,omitempty"`
	// SkipVerificationOnEnable turns two-factor on as soon as /two-factor/enable returns the
	// TOTP URI, without a first verify-totp. Default: off.
	SkipVerificationOnEnable bool `json:"skip_verification_on_enable,omitempty"`
	// AllowPasswordless lets users without a password (magic link, passkey, email code
	// users) manage two-factor without one; users who have a password must still give it.
	// Default: off (a password is always required).
	AllowPasswordless bool `json:"allow_passwordless,omitempty"`
	// BackupCodes sets how many backup codes are made and how long each is.
	BackupCodes *BackupCodeOptions `json:"backup_codes,omitempty"`
	// StoreBackupCodes is how backup codes are kept: "encrypted" with the secret's key, or
	// "plain" JSON. Default: encrypted.
	StoreBackupCodes string `json:"store_backup_codes,omitempty"`
	// OTPChannel is where one-time codes go: "email", or "sms" to the user's verified
	// phoneNumber (phone-number plugin) when there is one, else email. Default: email.
	OTPChannel string `json:"otp_channel,omitempty"`
	// OTPPeriod is how long an emailed or texted code stays valid. Default: 3m.
	OTPPeriod authcore.Duration `json:"otp_period,omitempty"`
	// OTPDigits is the length of emailed or texted codes (4–12). Default: 6.
	OTPDigits int `json:"otp_digits,omitempty"`
	// OTPAllowedAttempts is how many wrong guesses void a code. Default: 5.
	OTPAllowedAttempts int `json:"otp_allowed_attempts,omitempty"`
	// StoreOTP is how codes are kept at rest: "hashed" (a keyed MAC), "encrypted" or
	// "plain". Default: hashed (Better Auth's default is plain).
	StoreOTP string `json:"store_otp,omitempty"`
	// TwoFactorCookieMaxAge is how long a pending sign-in may take to pass its second
	// factor. Default: 10m.
	TwoFactorCookieMaxAge authcore.Duration `json:"two_factor_cookie_max_age,omitempty"`
	// TrustDeviceMaxAge is how long a device trusted with trustDevice:true skips the second
	// factor; each sign-in on it starts the period again. Default: 30d.
	TrustDeviceMaxAge authcore.Duration `json:"trust_device_max_age,omitempty"`
	// AccountLockout caps failed second-factor verifications per account, across every
	// pending sign-in and factor. Default: on, 10 failures, 15m.
	AccountLockout *AccountLockout `json:"account_lockout,omitempty"`
	// TwoFactorPage is where a sign-in by link (a GET, such as a magic link or a verification
	// link with auto sign-in) is sent when it needs the second factor: a path or a URL of a
	// trusted origin. It gets ?callbackURL=<the flow's callback>. Default: with the portal
	// plugin on, the portal's page <base_path>/ui/two-factor; without it, the flow's
	// callbackURL (default "/") with twoFactorRedirect=true added.
	TwoFactorPage string `json:"two_factor_page,omitempty"`

	engine       *authcore.Engine
	digits       int
	period       time.Duration
	amount       int
	length       int
	plainBackup  bool
	otp          authcore.OTPOptions
	cookieMaxAge time.Duration
	trustMaxAge  time.Duration
	lockout      bool
	lockMax      int
	lockFor      time.Duration
	extra        *methodList
}

// BackupCodeOptions are Better Auth's backupCodeOptions amount and length.
type BackupCodeOptions struct {
	// Amount is how many codes are made. Default: 10.
	Amount int `json:"amount,omitempty"`
	// Length is how many characters each code has, before the dash inserted after the
	// fifth (6–64). Default: 10.
	Length int `json:"length,omitempty"`
}

// AccountLockout is Better Auth's accountLockout option.
type AccountLockout struct {
	// Disabled turns the account lockout off (the per-challenge cap of 5 stays).
	Disabled bool `json:"disabled,omitempty"`
	// MaxFailedAttempts is how many consecutive failures lock the account. Default: 10.
	MaxFailedAttempts int `json:"max_failed_attempts,omitempty"`
	// Duration is how long the account stays locked; failures further apart than this do
	// not add up. Default: 15m.
	Duration authcore.Duration `json:"duration,omitempty"`
}

// ID returns Better Auth's plugin id.
func (*Plugin) ID() string { return authcore.TwoFactorID }

// validate checks the options without the engine (Caddy's Validate runs it too).
func (p *Plugin) validate() error {
	if p.Digits != 0 && p.Digits != 6 && p.Digits != 8 {
		return fmt.Errorf("two-factor: digits %d is not 6 or 8", p.Digits)
	}
	if d := p.Period.D(); d < 0 || d%time.Second != 0 || d > time.Hour {
		return fmt.Errorf("two-factor: period %s must be a whole number of seconds up to 1h", d)
	}
	if b := p.BackupCodes; b != nil {
		if b.Amount < 0 || b.Amount > 100 {
			return fmt.Errorf("two-factor: backup_codes amount %d must be 1–100", b.Amount)
		}
		if b.Length != 0 && (b.Length < 6 || b.Length > 64) {
			return fmt.Errorf("two-factor: backup_codes length %d must be 6–64", b.Length)
		}
	}
	switch p.StoreBackupCodes {
	case "", StoreEncrypted, StorePlain:
	default:
		return fmt.Errorf("two-factor: store_backup_codes %q is not %s or %s", p.StoreBackupCodes, StoreEncrypted, StorePlain)
	}
	switch p.OTPChannel {
	case "", ChannelEmail, ChannelSMS:
	default:
		return fmt.Errorf("two-factor: otp_channel %q is not %s or %s", p.OTPChannel, ChannelEmail, ChannelSMS)
	}
	switch p.StoreOTP {
	case "", StoreHashed, StoreEncrypted, StorePlain:
	default:
		return fmt.Errorf("two-factor: store_otp %q is not %s, %s or %s", p.StoreOTP, StoreHashed, StoreEncrypted, StorePlain)
	}
	if p.OTPDigits != 0 && (p.OTPDigits < 4 || p.OTPDigits > 12) {
		return fmt.Errorf("two-factor: otp_digits %d must be 4–12", p.OTPDigits)
	}
	if p.OTPAllowedAttempts < 0 {
		return fmt.Errorf("two-factor: otp_allowed_attempts %d must be positive", p.OTPAllowedAttempts)
	}
	for name, d := range map[string]authcore.Duration{
		"otp_period": p.OTPPeriod, "two_factor_cookie_max_age": p.TwoFactorCookieMaxAge, "trust_device_max_age": p.TrustDeviceMaxAge,
	} {
		if d < 0 || (d > 0 && d.D() < time.Second) {
			return fmt.Errorf("two-factor: %s %s must be at least 1s", name, d.D())
		}
	}
	if l := p.AccountLockout; l != nil {
		if l.MaxFailedAttempts < 0 {
			return fmt.Errorf("two-factor: account_lockout max_failed_attempts %d must be positive", l.MaxFailedAttempts)
		}
		if l.Duration < 0 || (l.Duration > 0 && l.Duration.D() < time.Second) {
			return fmt.Errorf("two-factor: account_lockout duration %s must be at least 1s", l.Duration.D())
		}
	}
	if strings.ContainsAny(p.Issuer, "\x00\r\n") {
		return fmt.Errorf("two-factor: issuer must be one line")
	}
	return nil
}

// Register validates the options, applies the defaults and declares the schema, the routes,
// the sign-in gate, the hooks, the rate-limit rule and the error codes, and publishes the
// plugin's Go API (itself: see api.go).
func (p *Plugin) Register(r *authcore.Registrar) error {
	if err := p.validate(); err != nil {
		return err
	}
	e := r.Engine()
	p.engine = e
	if p.TwoFactorPage != "" && !e.Origins().SafeRedirect(p.TwoFactorPage) {
		return fmt.Errorf("two-factor: two_factor_page %q is neither a path nor a URL of a trusted origin", p.TwoFactorPage)
	}
	p.applyDefaults()
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
	r.SessionGate(p.gate)
	p.registerHooks(r)
	// Better Auth's rule for the plugin: 3 requests per 10 s per client on /two-factor/*.
	if err := r.RateLimit(authcore.PathRateRule{Path: "/two-factor/*", Rule: ratelimit.Rule{Window: 10 * time.Second, Max: 3}}); err != nil {
		return err
	}
	r.Provide(p)
	if !e.HasEmail() && !(p.OTPChannel == ChannelSMS && e.HasSMS()) {
		e.Logger().Warn("two-factor: no transport for one-time codes; method otp is not offered and " + PathSendOTP + " answers 400 " + CodeOTPNotConfigured.Code)
	}
	return nil
}

func (p *Plugin) applyDefaults() {
	p.digits = p.Digits
	if p.digits == 0 {
		p.digits = DefaultDigits
	}
	p.period = p.Period.D()
	if p.period == 0 {
		p.period = DefaultPeriod
	}
	p.amount, p.length = DefaultBackupCodeAmount, DefaultBackupCodeLength
	if b := p.BackupCodes; b != nil {
		if b.Amount > 0 {
			p.amount = b.Amount
		}
		if b.Length > 0 {
			p.length = b.Length
		}
	}
	p.plainBackup = p.StoreBackupCodes == StorePlain
	p.otp = authcore.OTPOptions{
		Length: p.OTPDigits, TTL: p.OTPPeriod.D(), Attempts: p.OTPAllowedAttempts, Storage: authcore.OTPHashed,
	}
	if p.otp.Length == 0 {
		p.otp.Length = DefaultOTPDigits
	}
	if p.otp.TTL == 0 {
		p.otp.TTL = DefaultOTPPeriod
	}
	if p.otp.Attempts == 0 {
		p.otp.Attempts = DefaultOTPAllowedAttempts
	}
	if p.StoreOTP != "" {
		p.otp.Storage = authcore.OTPStorage(p.StoreOTP)
	}
	p.cookieMaxAge = p.TwoFactorCookieMaxAge.D()
	if p.cookieMaxAge == 0 {
		p.cookieMaxAge = DefaultTwoFactorCookieMaxAge
	}
	p.trustMaxAge = p.TrustDeviceMaxAge.D()
	if p.trustMaxAge == 0 {
		p.trustMaxAge = DefaultTrustDeviceMaxAge
	}
	p.lockout, p.lockMax, p.lockFor = true, DefaultLockoutMaxFailures, DefaultLockoutDuration
	if l := p.AccountLockout; l != nil {
		p.lockout = !l.Disabled
		if l.MaxFailedAttempts > 0 {
			p.lockMax = l.MaxFailedAttempts
		}
		if l.Duration > 0 {
			p.lockFor = l.Duration.D()
		}
	}
	p.extra = &methodList{}
}

// issuer is the TOTP issuer: the body's, the option, or the app name.
func (p *Plugin) issuer(body string) string {
	switch {
	case body != "":
		return body
	case p.Issuer != "":
		return p.Issuer
	}
	return p.engine.Config().AppName
}
