package oauth

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// Config is the one documented description of a provider. The Caddyfile's
// `social <id> { … }` block and the JSON `social` list of the gatehouse app map onto it.
type Config struct {
	// ID is the provider id used in routes (/callback/<id>) and stored as the account's
	// providerId. Required; lower-case letters, digits, '-' and '_'.
	ID string `json:"id"`
	// Preset is google, github, microsoft, gitlab, apple, discord, oidc or oauth2. Default:
	// the ID when it names a preset.
	Preset string `json:"preset,omitempty"`
	// Name is the display name. Default: the preset's (e.g. "GitHub") or the ID.
	Name         string `json:"name,omitempty"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret,omitempty"`
	// Issuer is the OIDC issuer (discovery at <issuer>/.well-known/openid-configuration).
	// Presets fill it; required for preset oidc.
	Issuer string `json:"issuer,omitempty"`
	// AuthURL, TokenURL, UserInfoURL, JWKSURL override the endpoints of the preset or of
	// discovery. Required (auth, token, userinfo) for preset oauth2.
	AuthURL     string `json:"auth_url,omitempty"`
	TokenURL    string `json:"token_url,omitempty"`
	UserInfoURL string `json:"userinfo_url,omitempty"`
	JWKSURL     string `json:"jwks_url,omitempty"`
	// Scopes are requested in addition to the preset's defaults.
	Scopes []string `json:"scopes,omitempty"`
	// Prompt is sent as prompt= (e.g. select_account, consent).
	Prompt string `json:"prompt,omitempty"`
	// Tenant is the Microsoft tenant: common (default), organizations, consumers or a tenant id.
	Tenant string `json:"tenant,omitempty"`
	// DisableSignUp: no new users from this provider, only existing accounts sign in.
	DisableSignUp bool `json:"disable_sign_up,omitempty"`
	// DisableImplicitSignUp: new users only when the sign-in asks for it (requestSignUp).
	DisableImplicitSignUp bool `json:"disable_implicit_sign_up,omitempty"`
	// TrustIDPMFA: a sign-in through this provider counts as multi-factor, so the
	// two-factor step is skipped (D11).
	TrustIDPMFA bool `json:"trust_idp_mfa,omitempty"`
	// TrustEmail treats the provider's email as verified for account linking even when it
	// does not say so (Better Auth's trustedProviders).
	TrustEmail bool `json:"trust_email,omitempty"`
	// PKCE sends an S256 code challenge. Default: on.
	PKCE *bool `json:"pkce,omitempty"`
	// Algorithms allowed for ID-token signatures. Default: RS256, RS384, RS512, ES256,
	// ES384, ES512, PS256, PS384, PS512, EdDSA. "none" is never accepted.
	Algorithms []string `json:"algorithms,omitempty"`
}

// Preset names.
const (
	PresetGoogle    = "google"
	PresetGitHub    = "github"
	PresetMicrosoft = "microsoft"
	PresetGitLab    = "gitlab"
	PresetApple     = "apple"
	PresetDiscord   = "discord"
	PresetOIDC      = "oidc"
	PresetOAuth2    = "oauth2"
)

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

var defaultAlgs = []string{"RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "EdDSA"}

// withDefaults resolves the preset name.
func (c Config) withDefaults() Config {
	if c.Preset == "" {
		if _, ok := presets[c.ID]; ok {
			c.Preset = c.ID
		}
	}
	c.Preset = strings.ToLower(c.Preset)
	if c.Preset == PresetMicrosoft && c.Tenant == "" {
		c.Tenant = "common"
	}
	if c.Name == "" {
		if p, ok := presets[c.Preset]; ok && p.name != "" {
			c.Name = p.name
		} else {
			c.Name = c.ID
		}
	}
	if len(c.Algorithms) == 0 {
		c.Algorithms = defaultAlgs
	}
	return c
}

// Validate reports every problem of the config with the field names of the Caddyfile.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	bad := func(f string, a ...any) {
		errs = append(errs, fmt.Errorf("social %s: "+f, append([]any{c.ID}, a...)...))
	}
	if !idPattern.MatchString(c.ID) {
		errs = append(errs, fmt.Errorf("social provider id %q must be lower-case letters, digits, '-' or '_'", c.ID))
	}
	p, ok := presets[c.Preset]
	if !ok {
		bad("preset %q is unknown (google, github, microsoft, gitlab, apple, discord, oidc, oauth2); set preset when the id is not a preset name", c.Preset)
		return errors.Join(errs...)
	}
	if c.ClientID == "" {
		bad("client_id is required")
	}
	if c.ClientSecret == "" { // apple's is the client-secret JWT its developer console signs
		bad("client_secret is required")
	}
	if c.Preset == PresetOIDC && c.Issuer == "" {
		bad("issuer is required for preset oidc")
	}
	if c.Preset == PresetOAuth2 && (c.AuthURL == "" || c.TokenURL == "" || c.UserInfoURL == "") {
		bad("auth_url, token_url and userinfo_url are required for preset oauth2")
	}
	if c.Tenant != "" && c.Preset != PresetMicrosoft {
		bad("tenant applies only to preset microsoft")
	}
	if c.Tenant != "" && !regexp.MustCompile(`^[A-Za-z0-9.-]+$`).MatchString(c.Tenant) {
		bad("tenant %q is not a tenant name or id", c.Tenant)
	}
	if !p.oidc && c.JWKSURL != "" {
		bad("jwks_url applies only to OIDC providers")
	}
	for _, fv := range [][2]string{{"issuer", c.Issuer}, {"auth_url", c.AuthURL}, {"token_url", c.TokenURL}, {"userinfo_url", c.UserInfoURL}, {"jwks_url", c.JWKSURL}} {
		f, v := fv[0], fv[1]
		if v == "" {
			continue
		}
		if u, err := url.Parse(v); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			bad("%s %q must be an absolute http(s) URL", f, v)
		}
	}
	for _, a := range c.Algorithms {
		if !slices.Contains(defaultAlgs, a) {
			bad("algorithm %q is not allowed (one of %s)", a, strings.Join(defaultAlgs, ", "))
		}
	}
	return errors.Join(errs...)
}

func (c Config) pkce() bool { return c.PKCE == nil || *c.PKCE }
