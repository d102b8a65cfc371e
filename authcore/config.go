package authcore

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore/password"
	"github.com/gatehouse-auth/gatehouse/authcore/ratelimit"
)

// Config is the engine's configuration. The zero value of every field means "the default"
// written in its comment; [Config.withDefaults] applies them in one place. Booleans are named
// so that false is the default.
type Config struct {
	// AppName appears in messages and as the TOTP issuer. Default: "Gatehouse".
	AppName string
	// BaseURL is the public origin the auth API is reached at, e.g. "https://app.example.com".
	// Links in emails and absolute redirects are built from it, never from the Host header.
	// Required.
	BaseURL string
	// BasePath is where the auth API is mounted. Default: "/api/auth".
	BasePath string
	// Secret signs cookies and tokens and keys encryption. At least 32 bytes. Required.
	Secret string
	// PreviousSecrets still verify signatures and decrypt data after a rotation (D7).
	PreviousSecrets []string
	// TrustedOrigins are accepted as Origin and redirect targets besides BaseURL's origin
	// (spec §4.5 patterns).
	TrustedOrigins []string

	Session           SessionConfig
	Cookies           CookieConfig
	EmailAndPassword  EmailAndPasswordConfig
	EmailVerification EmailVerificationConfig
	User              UserConfig
	Account           AccountConfig
	RateLimit         RateLimitConfig
	Audit             AuditConfig
	// Password selects the hashing parameters. Default: argon2id with OWASP parameters.
	Password PasswordConfig
	// Social lists the social sign-in providers and the account-linking rules (spec §6
	// #23–#28).
	Social SocialConfig

	// DisabledPaths answer 404 as if they did not exist (paths relative to BasePath).
	DisabledPaths []string
	// SweepInterval is how often expired sessions and verification rows are removed in the
	// background. Default: 1h. Negative disables the sweeper.
	SweepInterval time.Duration
	// MaxBodyBytes caps request bodies (413 above). Default: 1 MiB.
	MaxBodyBytes int64
}

// SessionConfig: session lifetimes (spec §3; D6).
type SessionConfig struct {
	// ExpiresIn is the sliding lifetime. Default: 7d.
	ExpiresIn time.Duration
	// UpdateAge: a session used after this much time since its last extension is extended
	// again. Default: 1d.
	UpdateAge time.Duration
	// FreshAge: sensitive endpoints need a session younger than this. Default: 1d. Negative
	// disables freshness checks (Better Auth's freshAge 0).
	FreshAge time.Duration
	// MaxAge is the absolute lifetime: refresh never extends a session past createdAt+MaxAge.
	// Default: 30d.
	MaxAge time.Duration
	// CookieCache enables the signed session_data cookie for /get-session with this
	// lifetime. Default: off.
	CookieCache time.Duration
	// CacheTTL bounds how long a verified session stays in the in-process cache before it is
	// re-read from storage (writes on this node invalidate at once). Default: 10s; negative
	// disables the cache.
	CacheTTL time.Duration
	// CacheSize bounds the in-process cache. Default: 100000 entries.
	CacheSize int
	// DontRememberExpiresIn is the stored lifetime of rememberMe:false sessions. Default: 1d.
	DontRememberExpiresIn time.Duration
	// NewDeviceEmail emails a user (type "new-device-sign-in") when a sign-in creates a
	// session from a device not seen for them before. A device is the pair of its readable
	// name ([DeviceName] of the User-Agent) and the client IP's network (/24 for IPv4, /48
	// for IPv6); the last 20 devices of each user are kept as keyed MACs in one verification
	// row, "known-devices-<userID>", that expires a year after the last sign-in. The check
	// runs after the response, on the background queue. The first sign-in (or sign-up) of a
	// user only records the device; anonymous users, users without an email or with a
	// placeholder one (domain .invalid, D1) and sessions started without a sign-in
	// (impersonation, re-issued sessions) are never checked.
	// Needs an email sender. Default: off.
	NewDeviceEmail bool
}

// CookieConfig: names and attributes (spec §2.1).
type CookieConfig struct {
	// Prefix of every cookie name. Default: "better-auth" (what the official client expects).
	Prefix string
	// Secure forces (true) or disables (false) the __Secure- prefix and Secure attribute.
	// Default: on exactly when BaseURL is https.
	Secure *bool
	// Domain shares the session across subdomains (D5). Default: host-only cookies.
	Domain string
}

// EmailAndPasswordConfig: the email/password method (spec §6 #1, #2).
type EmailAndPasswordConfig struct {
	Disabled                      bool
	DisableSignUp                 bool
	RequireEmailVerification      bool
	DisableAutoSignIn             bool // default: sign-up signs the user in
	MinPasswordLength             int  // default 8
	MaxPasswordLength             int  // default 128
	RevokeSessionsOnPasswordReset bool
	ResetPasswordTokenExpiresIn   time.Duration // default 1h
	// AllowedDomains restricts sign-up to these email domains (D1). Default: any.
	AllowedDomains []string
	// AllowCommonPasswords turns off the common-password list (D18). Default: refused.
	AllowCommonPasswords bool
}

// EmailVerificationConfig: verification links (spec §4.8, §6 #19, #20).
type EmailVerificationConfig struct {
	SendOnSignUp                bool
	AutoSignInAfterVerification bool
	// ExpiresIn: lifetime of verification links. Default: 1h.
	ExpiresIn time.Duration
}

// UserConfig: change-email and delete-user (spec §6 #13–#15).
type UserConfig struct {
	ChangeEmail struct {
		Enabled                        bool
		UpdateEmailWithoutVerification bool
		// SendChangeEmailConfirmation sends a confirmation to the old address of a
		// verified user before the new address is verified.
		SendChangeEmailConfirmation bool
	}
	DeleteUser struct {
		Enabled bool
		// SendDeleteAccountVerification requires a link sent by email before deletion.
		SendDeleteAccountVerification bool
		DeleteTokenExpiresIn          time.Duration // default 1d
	}
}

// AccountConfig: linked accounts (spec §6 #21, #22).
type AccountConfig struct {
	AllowUnlinkingAll bool
}

// RateLimitConfig: the auth API limiter (spec §4.6). Gatehouse enables it by default.
type RateLimitConfig struct {
	Disabled bool
	Window   time.Duration // default 10s
	Max      int           // default 100
	// Rules override the built-in and plugin rules; the first rule whose path matches wins.
	Rules []RateLimitRule
	// AccountFailures locks an account's password sign-in after this many consecutive
	// failures within AccountWindow. Default: 10 in 15m.
	AccountFailures int
	AccountWindow   time.Duration
	// Storage is where the counters (per-IP rules, account failures, plugin limits such as
	// API keys' per-key limit) live: RateLimitMemory (per process; the default) or
	// RateLimitDatabase (the rateLimit model in the store, shared by every node on it; the
	// default with WithSharedStore).
	Storage string
}

// Rate-limit storage modes (RateLimitConfig.Storage), Better Auth's rateLimit.storage names.
const (
	RateLimitMemory   = "memory"
	RateLimitDatabase = "database"
)

// RateLimitRule applies a window and maximum to a path (exact) or prefix (ending in "*").
type RateLimitRule struct {
	Path string
	ratelimit.Rule
}

// PasswordConfig selects hashing parameters.
type PasswordConfig struct {
	// Argon2 parameters. Default: password.OWASP().
	Argon2 *password.Argon2Params
	// MaxConcurrent caps simultaneous hash computations. Default: 2×GOMAXPROCS.
	MaxConcurrent int
}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	if c.AppName == "" {
		c.AppName = "Gatehouse"
	}
	if c.BasePath == "" {
		c.BasePath = "/api/auth"
	}
	c.BasePath = "/" + strings.Trim(c.BasePath, "/")
	def(&c.Session.ExpiresIn, 7*24*time.Hour)
	def(&c.Session.UpdateAge, 24*time.Hour)
	def(&c.Session.FreshAge, 24*time.Hour)
	def(&c.Session.MaxAge, 30*24*time.Hour)
	def(&c.Session.CacheTTL, 10*time.Second)
	def(&c.Session.DontRememberExpiresIn, 24*time.Hour)
	if c.Session.CacheSize == 0 {
		c.Session.CacheSize = 100000
	}
	if c.Cookies.Prefix == "" {
		c.Cookies.Prefix = "better-auth"
	}
	if c.EmailAndPassword.MinPasswordLength == 0 {
		c.EmailAndPassword.MinPasswordLength = 8
	}
	if c.EmailAndPassword.MaxPasswordLength == 0 {
		c.EmailAndPassword.MaxPasswordLength = 128
	}
	def(&c.EmailAndPassword.ResetPasswordTokenExpiresIn, time.Hour)
	def(&c.EmailVerification.ExpiresIn, time.Hour)
	def(&c.User.DeleteUser.DeleteTokenExpiresIn, 24*time.Hour)
	def(&c.RateLimit.Window, 10*time.Second)
	if c.RateLimit.Max == 0 {
		c.RateLimit.Max = 100
	}
	if c.RateLimit.AccountFailures == 0 {
		c.RateLimit.AccountFailures = 10
	}
	def(&c.RateLimit.AccountWindow, 15*time.Minute)
	if c.RateLimit.Storage == "" {
		c.RateLimit.Storage = RateLimitMemory
	}
	def(&c.Audit.Retention, 90*24*time.Hour)
	def(&c.SweepInterval, time.Hour)
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = 1 << 20
	}
	return c
}

// validate checks what the defaults cannot fix; errors name the field.
func (c Config) validate() error {
	var errs []error
	if c.BaseURL == "" {
		errs = append(errs, errors.New("base_url is required"))
	} else if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("base_url %q must be an absolute http(s) URL", c.BaseURL))
	}
	if len(c.Secret) < 32 {
		errs = append(errs, errors.New("secret must be at least 32 bytes (generate one with `gatehouse secret generate`)"))
	}
	if c.EmailAndPassword.MinPasswordLength < 1 || c.EmailAndPassword.MaxPasswordLength < c.EmailAndPassword.MinPasswordLength {
		errs = append(errs, fmt.Errorf("email_and_password: min_password_length %d and max_password_length %d are inconsistent",
			c.EmailAndPassword.MinPasswordLength, c.EmailAndPassword.MaxPasswordLength))
	}
	if c.Session.ExpiresIn < time.Minute || c.Session.UpdateAge < 0 || c.Session.MaxAge < c.Session.ExpiresIn {
		errs = append(errs, fmt.Errorf("session: expires_in %v, update_age %v and max_age %v are inconsistent (max_age ≥ expires_in ≥ 1m)",
			c.Session.ExpiresIn, c.Session.UpdateAge, c.Session.MaxAge))
	}
	if c.RateLimit.Storage != RateLimitMemory && c.RateLimit.Storage != RateLimitDatabase {
		errs = append(errs, fmt.Errorf("rate_limit storage %q: must be memory or database", c.RateLimit.Storage))
	}
	for _, r := range c.RateLimit.Rules {
		if r.Path == "" || r.Window <= 0 || r.Max <= 0 {
			errs = append(errs, fmt.Errorf("rate_limit rule %q: window and max must be positive", r.Path))
		}
	}
	if c.Audit.Retention < time.Hour {
		errs = append(errs, fmt.Errorf("audit: retention %v must be at least 1h", c.Audit.Retention))
	}
	seen := map[string]bool{}
	for i, p := range c.Social.Providers {
		switch {
		case p == nil:
			errs = append(errs, fmt.Errorf("social: provider %d is nil", i))
		case seen[p.ID()]:
			errs = append(errs, fmt.Errorf("social: provider id %q is configured twice", p.ID()))
		default:
			seen[p.ID()] = true
		}
	}
	return errors.Join(errs...)
}
