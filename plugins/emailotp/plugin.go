package emailotp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/ratelimit"
)

// Plugin is Better Auth's email-otp plugin: one-time codes sent by email to sign in (and
// sign up), verify an address, reset a password and change the address. Its exported fields
// are its configuration; the zero value is Better Auth's defaults except where noted.
type Plugin struct {
	// OTPLength is the number of digits of a code, 4 to 12. Default: 6.
	OTPLength int `json:"otp_length,omitempty"`
	// ExpiresIn is how long a code stays valid. Default: 5m.
	ExpiresIn authcore.Duration `json:"expires_in,omitempty"`
	// AllowedAttempts is how many wrong codes are accepted before the code is void (the
	// right code then fails too). Default: 3.
	AllowedAttempts int `json:"allowed_attempts,omitempty"`
	// StoreOTP says how codes are kept at rest: "hashed" (a keyed MAC), "encrypted" or
	// "plain". Default: "hashed" — Gatehouse's deliberate difference from Better Auth's
	// "plain" — or "encrypted" with resend_strategy reuse, which cannot use "hashed".
	StoreOTP string `json:"store_otp,omitempty"`
	// ResendStrategy is what a new request does while a code is live: "rotate" issues a new
	// code and voids the old one, "reuse" sends the live code again. Default: "rotate".
	ResendStrategy string `json:"resend_strategy,omitempty"`
	// DisableSignUp stops /sign-in/email-otp from creating users for unknown addresses (and
	// sign-in codes from being sent to them).
	DisableSignUp bool `json:"disable_sign_up,omitempty"`
	// SendVerificationOnSignUp sends an email-verification code after /sign-up/email.
	SendVerificationOnSignUp bool `json:"send_verification_on_sign_up,omitempty"`
	// OverrideDefaultEmailVerification makes the core send a verification code instead of a
	// verification link wherever it sends one.
	OverrideDefaultEmailVerification bool `json:"override_default_email_verification,omitempty"`
	// ChangeEmail configures /email-otp/request-email-change and /email-otp/change-email.
	ChangeEmail ChangeEmail `json:"change_email,omitzero"`

	engine *authcore.Engine
	cfg    authcore.Config
	otp    authcore.OTPOptions
}

// ChangeEmail is Better Auth's changeEmail option of the plugin.
type ChangeEmail struct {
	// Enabled turns the change-email endpoints on. Default: off.
	Enabled bool `json:"enabled,omitempty"`
	// VerifyCurrentEmail requires, with the request, an email-verification code sent to the
	// current address.
	VerifyCurrentEmail bool `json:"verify_current_email,omitempty"`
}

// ID returns Better Auth's plugin id.
func (Plugin) ID() string { return "email-otp" }

// rateRule is Better Auth's limit for every email-otp route: 3 requests a minute per client.
var rateRule = ratelimit.Rule{Window: time.Minute, Max: 3}

// Register validates the options and declares the plugin's routes, hooks, error codes and
// rate limits.
func (p *Plugin) Register(r *authcore.Registrar) error {
	o, err := p.options()
	if err != nil {
		return err
	}
	p.engine, p.cfg, p.otp = r.Engine(), r.Engine().Config(), o
	if !p.engine.HasEmail() {
		p.engine.Logger().Warn("email-otp: no mailer configured; the endpoints that send codes answer \"" + msgNotImplemented + "\"")
	}
	if err := r.Errors(CodeOTPExpired, CodeInvalidOTP, CodeTooManyAttempts); err != nil {
		return err
	}
	for _, ep := range p.endpoints() {
		if err := r.Endpoint(ep); err != nil {
			return err
		}
		if err := r.RateLimit(authcore.PathRateRule{Path: ep.Path, Rule: rateRule}); err != nil {
			return err
		}
	}
	p.registerHooks(r)
	if p.OverrideDefaultEmailVerification {
		if err := r.VerificationEmail(p.sendVerificationCode); err != nil {
			return err
		}
	}
	r.Provide(p)
	return nil
}

// options checks the configuration and returns the code options with defaults applied.
func (p *Plugin) options() (authcore.OTPOptions, error) {
	var errs []error
	o := authcore.OTPOptions{Length: p.OTPLength, TTL: p.ExpiresIn.D(), Attempts: p.AllowedAttempts}
	if o.Length == 0 {
		o.Length = 6
	}
	if o.Length < 4 || o.Length > 12 {
		errs = append(errs, fmt.Errorf("otp_length %d must be between 4 and 12", p.OTPLength))
	}
	if o.TTL < 0 {
		errs = append(errs, fmt.Errorf("expires_in %v must be positive", o.TTL))
	}
	if o.TTL == 0 {
		o.TTL = 5 * time.Minute
	}
	if o.Attempts < 0 {
		errs = append(errs, fmt.Errorf("allowed_attempts %d must be positive", p.AllowedAttempts))
	}
	if o.Attempts == 0 {
		o.Attempts = 3
	}
	switch p.ResendStrategy {
	case "", "rotate":
	case "reuse":
		o.Reuse = true
	default:
		errs = append(errs, fmt.Errorf("resend_strategy %q must be rotate or reuse", p.ResendStrategy))
	}
	switch p.StoreOTP {
	case "":
		o.Storage = authcore.OTPHashed
		if o.Reuse {
			o.Storage = authcore.OTPEncrypted
		}
	case "plain", "hashed", "encrypted":
		o.Storage = authcore.OTPStorage(p.StoreOTP)
	default:
		errs = append(errs, fmt.Errorf("store_otp %q must be plain, hashed or encrypted", p.StoreOTP))
	}
	if o.Reuse && o.Storage == authcore.OTPHashed {
		errs = append(errs, errors.New("resend_strategy reuse needs store_otp plain or encrypted: a hashed code cannot be sent again"))
	}
	if p.ChangeEmail.VerifyCurrentEmail && !p.ChangeEmail.Enabled {
		errs = append(errs, errors.New("change_email: verify_current_email needs enabled"))
	}
	return o, errors.Join(errs...)
}

// issueOptions are the code options for a send; change-email always issues a fresh code, as
// Better Auth does.
func (p *Plugin) issueOptions(t OTPType) authcore.OTPOptions {
	o := p.otp
	if t == TypeChangeEmail {
		o.Reuse = false
	}
	return o
}

// CreateVerificationOTP issues a code for email and purpose t and returns it in clear,
// without sending anything (Better Auth's server-only createVerificationOTP). Any earlier
// code for the same purpose and address is replaced. Change-email codes made here are keyed
// by one address, as in Better Auth; /email-otp/change-email expects codes from
// /email-otp/request-email-change.
func (p *Plugin) CreateVerificationOTP(ctx context.Context, email string, t OTPType) (string, error) {
	email = authcore.NormalizeEmail(email)
	if !authcore.ValidEmail(email) {
		return "", authcore.CodeInvalidEmail.With(http.StatusBadRequest)
	}
	if _, ok := parseType(string(t)); !ok {
		return "", badRequest(msgInvalidOTPType)
	}
	o := p.otp
	o.Reuse = false
	return p.engine.IssueOTP(ctx, identifier(t, email), o)
}

// GetVerificationOTP returns the live code for email and purpose t in clear (Better Auth's
// server-only getVerificationOTP): found=false when there is none or it expired, and
// ErrHashedOTP when codes are stored hashed.
func (p *Plugin) GetVerificationOTP(ctx context.Context, email string, t OTPType) (code string, found bool, err error) {
	if p.otp.Storage == authcore.OTPHashed {
		return "", false, ErrHashedOTP
	}
	return p.engine.PeekOTP(ctx, identifier(t, authcore.NormalizeEmail(email)), p.otp)
}

// message is the email that carries a code.
func (p *Plugin) message(to, code string, t OTPType) authcore.Message {
	return authcore.Message{
		Type: "email-otp", To: to, Data: authcore.MessageData{OTP: code},
		ExpiresIn: p.otp.TTL, Vars: map[string]string{"purpose": string(t)},
	}
}

// issueAndSend issues a code to identifier and queues its email to the address to. Under
// resend_strategy reuse the live code is sent again with its lifetime restarted.
func (p *Plugin) issueAndSend(ctx context.Context, id, to string, t OTPType) error {
	code, err := p.engine.IssueOTP(ctx, id, p.issueOptions(t))
	if err != nil {
		return err
	}
	p.engine.SendEmail(p.message(to, code, t))
	return nil
}

// destinationRule caps the codes sent to one address, whatever the client: Better Auth
// limits per client IP only, which a botnet spreads thin (BF-04).
var destinationRule = ratelimit.Rule{Window: time.Minute, Max: 3}

// limitDestination applies destinationRule to an address (normalized) before anything is
// looked up, so it answers alike for known and unknown addresses.
func (p *Plugin) limitDestination(email string) error {
	if p.cfg.RateLimit.Disabled {
		return nil
	}
	return p.engine.Limit("email-otp-to|"+email, destinationRule)
}

// signUpAllowed reports whether a sign-in code may create a user for email: sign-up is not
// disabled and the address is inside email_and_password.allowed_domains, when set (D1).
func (p *Plugin) signUpAllowed(email string) bool {
	if p.DisableSignUp {
		return false
	}
	domains := p.cfg.EmailAndPassword.AllowedDomains
	if len(domains) == 0 {
		return true
	}
	_, domain, _ := strings.Cut(email, "@")
	for _, d := range domains {
		if strings.EqualFold(domain, d) {
			return true
		}
	}
	return false
}
