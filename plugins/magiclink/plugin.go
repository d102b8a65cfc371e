package magiclink

import (
	"fmt"
	"net/http"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/ratelimit"
)

// Route paths of the plugin, relative to the base path. Other plugins match them with
// authcore.MatchPath instead of spelling the routes.
const (
	PathSignInMagicLink = "/sign-in/magic-link"
	PathMagicLinkVerify = "/magic-link/verify"
)

// Defaults (Better Auth's).
const (
	DefaultExpiresIn       = 5 * time.Minute
	DefaultRateLimitWindow = 60 * time.Second
	DefaultRateLimitMax    = 5
)

// Token storage modes (store_token).
const (
	StoreHashed = "hashed"
	StorePlain  = "plain"
)

// Plugin is the magic-link plugin; its exported fields are its configuration.
type Plugin struct {
	// ExpiresIn is how long an emailed link stays valid. Default: 5m.
	ExpiresIn authcore.Duration `json:"expires_in,omitempty"`
	// DisableSignUp refuses to create an account for an address that has none: such a link
	// is not even sent, and a link that arrives anyway redirects with
	// error=new_user_signup_disabled. Default: false (an unknown address gets an account,
	// its email marked verified).
	DisableSignUp bool `json:"disable_sign_up,omitempty"`
	// StoreToken is how the token is kept in the verification table: "hashed" (the
	// base64url SHA-256 of the token, so the store never holds a usable link) or "plain"
	// (Better Auth's default). The emailed token is the same either way. Default: hashed.
	StoreToken string `json:"store_token,omitempty"`
	// RateLimitWindow and RateLimitMax are the per-client-IP limit on each of the two
	// routes. Default: 5 requests per 60s. Rules in the global rate_limit block override it.
	RateLimitWindow authcore.Duration `json:"rate_limit_window,omitempty"`
	RateLimitMax    int               `json:"rate_limit_max,omitempty"`

	engine  *authcore.Engine
	ttl     time.Duration
	hashed  bool
	domains []string // email_and_password.allowed_domains: sign-up outside them is refused
}

// ID returns Better Auth's plugin id.
func (*Plugin) ID() string { return "magic-link" }

// validate checks the options without applying defaults.
func (p *Plugin) validate() error {
	switch p.StoreToken {
	case "", StoreHashed, StorePlain:
	default:
		return fmt.Errorf("magic-link: store_token %q is not %s or %s", p.StoreToken, StoreHashed, StorePlain)
	}
	if p.ExpiresIn < 0 {
		return fmt.Errorf("magic-link: expires_in %s must be positive", p.ExpiresIn.D())
	}
	if p.RateLimitWindow < 0 {
		return fmt.Errorf("magic-link: rate_limit_window %s must be positive", p.RateLimitWindow.D())
	}
	if p.RateLimitMax < 0 {
		return fmt.Errorf("magic-link: rate_limit_max %d must be positive", p.RateLimitMax)
	}
	return nil
}

// Register validates the options and declares the routes, the rate-limit rule and the
// error code.
func (p *Plugin) Register(r *authcore.Registrar) error {
	if err := p.validate(); err != nil {
		return err
	}
	e := r.Engine()
	p.engine = e
	p.ttl = p.ExpiresIn.D()
	if p.ttl == 0 {
		p.ttl = DefaultExpiresIn
	}
	p.hashed = p.StoreToken != StorePlain
	p.domains = e.Config().EmailAndPassword.AllowedDomains

	if err := r.Errors(CodeMagicLinkNotEnabled); err != nil {
		return err
	}
	for _, ep := range p.endpoints() {
		if err := r.Endpoint(ep); err != nil {
			return err
		}
	}
	rule := ratelimit.Rule{Window: p.RateLimitWindow.D(), Max: p.RateLimitMax}
	if rule.Window == 0 {
		rule.Window = DefaultRateLimitWindow
	}
	if rule.Max == 0 {
		rule.Max = DefaultRateLimitMax
	}
	for _, path := range []string{PathSignInMagicLink, PathMagicLinkVerify} {
		if err := r.RateLimit(authcore.PathRateRule{Path: path, Rule: rule}); err != nil {
			return err
		}
	}
	if !e.HasEmail() {
		// D13: without a mailer the feature answers "not enabled"; say so at start-up.
		e.Logger().Warn("magic-link: no mailer configured; POST " + PathSignInMagicLink + " answers 400 " + CodeMagicLinkNotEnabled.Code)
	}
	return nil
}

func (p *Plugin) endpoints() []authcore.Endpoint {
	return []authcore.Endpoint{
		{
			Method: http.MethodPost, Path: PathSignInMagicLink, Handler: p.signIn, FormCSRF: true,
			Body: []authcore.Param{
				authcore.String("email").Req().IsEmail().Doc("Email address to send the magic link to"),
				authcore.String("name").Doc("Display name, used only when the account is created"),
				authcore.String("callbackURL").Doc("Where the link leads after sign-in (default /)"),
				authcore.String("newUserCallbackURL").Doc("Where the link leads after creating an account"),
				authcore.String("errorCallbackURL").Doc("Where the link leads on error (default callbackURL)"),
				authcore.Object("metadata").Doc("Accepted for compatibility; not forwarded to the message"),
			},
			Summary:     "Sign in with magic link",
			Description: "Emails a single-use sign-in link. The answer is the same whether or not the address has an account.",
			Tags:        []string{"Magic link"},
			Response:    map[string]any{"type": "object", "properties": map[string]any{"status": map[string]any{"type": "boolean"}}},
			Errors: []authcore.ErrorCode{CodeMagicLinkNotEnabled, authcore.CodeInvalidCallbackURL,
				authcore.CodeInvalidNewUserCallbackURL, authcore.CodeInvalidErrorCallbackURL},
		},
		{
			Method: http.MethodGet, Path: PathMagicLinkVerify, Handler: p.verify, NoStore: true,
			Query: []authcore.Param{
				authcore.String("token").Req().Doc("The token from the emailed link"),
				authcore.String("callbackURL").Doc("Where to redirect after sign-in; without it the answer is JSON"),
				authcore.String("errorCallbackURL").Doc("Where to redirect on error (default callbackURL, then /)"),
				authcore.String("newUserCallbackURL").Doc("Where to redirect after creating an account (default callbackURL)"),
			},
			Summary:     "Verify magic link",
			Description: "Consumes the token and signs in (creating the account if needed). Errors redirect with ?error=<code>.",
			Tags:        []string{"Magic link"},
			Response: map[string]any{"type": "object", "properties": map[string]any{
				"token":   map[string]any{"type": "string"},
				"user":    map[string]any{"$ref": "#/components/schemas/User"},
				"session": map[string]any{"$ref": "#/components/schemas/Session"},
			}},
			Errors: []authcore.ErrorCode{authcore.CodeInvalidCallbackURL, authcore.CodeInvalidNewUserCallbackURL,
				authcore.CodeInvalidErrorCallbackURL},
		},
	}
}
