package passkey

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/origin"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// Route paths of the plugin, relative to the base path.
const (
	PathGenerateRegisterOptions     = "/passkey/generate-register-options"
	PathGenerateAuthenticateOptions = "/passkey/generate-authenticate-options"
	PathVerifyRegistration          = "/passkey/verify-registration"
	PathVerifyAuthentication        = "/passkey/verify-authentication"
	PathListUserPasskeys            = "/passkey/list-user-passkeys"
	PathDeletePasskey               = "/passkey/delete-passkey"
	PathUpdatePasskey               = "/passkey/update-passkey"
)

// Defaults (Better Auth's).
const (
	// DefaultChallengeCookie is the challenge cookie's suffix: the full name is
	// [__Secure-]<cookie prefix>.better-auth-passkey.
	DefaultChallengeCookie = "better-auth-passkey"
	// ChallengeTTL is how long a ceremony's challenge (cookie and row) lives.
	ChallengeTTL = 5 * time.Minute
	// ceremonyTimeout is the timeout (ms) the options tell the browser (SimpleWebAuthn's).
	ceremonyTimeout = 60000
)

// Method is the sign-in method passed to session gates, and the two-factor method name a
// passkey adds with passkey_as_second_factor.
const Method = "passkey"

// Option values.
const (
	AttachmentPlatform      = "platform"
	AttachmentCrossPlatform = "cross-platform"
	Required                = "required"
	Preferred               = "preferred"
	Discouraged             = "discouraged"
)

// Plugin is the passkey plugin; its exported fields are its configuration.
type Plugin struct {
	// RPID is the WebAuthn relying-party id: a domain that is the base URL's host or one of
	// its parents. Default: the base URL's hostname (an IP address is refused: WebAuthn
	// needs a domain).
	RPID string `json:"rp_id,omitempty"`
	// RPName is the relying-party name authenticators show. Default: the app name.
	RPName string `json:"rp_name,omitempty"`
	// Origins replaces the origins a ceremony may come from. Each entry is an origin pattern
	// as trusted_origins takes them ("https://app.example.com", "https://*.example.com") or
	// a native app's opaque origin ("android:apk-key-hash:…", "ios:bundle-id:…"). Default:
	// the base URL's origin and the trusted origins. The request's Origin header is never
	// used (D11).
	Origins []string `json:"origins,omitempty"`
	// AuthenticatorAttachment restricts registration to "platform" or "cross-platform"
	// authenticators (a request's authenticatorAttachment query wins). Default: either.
	AuthenticatorAttachment string `json:"authenticator_attachment,omitempty"`
	// ResidentKey is the registration's residentKey: required, preferred or discouraged.
	// Default: preferred.
	ResidentKey string `json:"resident_key,omitempty"`
	// UserVerification is asked of authenticators in both ceremonies: required, preferred
	// or discouraged. With required, an assertion or attestation without the user-verified
	// flag is refused. Default: preferred (verification is not required, as Better Auth).
	UserVerification string `json:"user_verification,omitempty"`
	// ChallengeCookie is the challenge cookie's name after the cookie prefix (Better Auth's
	// advanced.webAuthnChallengeCookie). Default: better-auth-passkey.
	ChallengeCookie string `json:"challenge_cookie,omitempty"`
	// PasskeyAsSecondFactor (Gatehouse) lets a passkey complete a pending two-factor
	// challenge: the two-factor plugin must be enabled, lists "passkey" among the methods of
	// users who have one, and POST /passkey/verify-authentication with the pending
	// challenge's cookie and that user's passkey completes it. Default: off.
	PasskeyAsSecondFactor bool `json:"passkey_as_second_factor,omitempty"`

	engine  *authcore.Engine
	wa      *webauthn.WebAuthn
	rpID    string
	rpName  string
	origins *origin.Matcher // nil when only opaque origins are configured
	opaque  []string
	cookie  string
	uv      protocol.UserVerificationRequirement
	rk      protocol.ResidentKeyRequirement
	tf      authcore.TwoFactorChallenges
}

// ID returns Better Auth's plugin id.
func (*Plugin) ID() string { return "passkey" }

// DependsOn names the two-factor plugin when passkey_as_second_factor is set.
func (p *Plugin) DependsOn() []string {
	if p.PasskeyAsSecondFactor {
		return []string{authcore.TwoFactorID}
	}
	return nil
}

// validate checks the options without applying defaults.
func (p *Plugin) validate() error {
	if p.RPID != "" {
		if net.ParseIP(p.RPID) != nil {
			return fmt.Errorf("passkey: rp_id %q is an IP address; WebAuthn needs a domain", p.RPID)
		}
		if err := protocol.ValidateRPID(p.RPID); err != nil {
			return fmt.Errorf("passkey: rp_id %q: %v", p.RPID, err)
		}
	}
	switch p.AuthenticatorAttachment {
	case "", AttachmentPlatform, AttachmentCrossPlatform:
	default:
		return fmt.Errorf("passkey: authenticator_attachment %q is not %s or %s", p.AuthenticatorAttachment, AttachmentPlatform, AttachmentCrossPlatform)
	}
	for _, o := range []struct{ name, v string }{{"resident_key", p.ResidentKey}, {"user_verification", p.UserVerification}} {
		switch o.v {
		case "", Required, Preferred, Discouraged:
		default:
			return fmt.Errorf("passkey: %s %q is not %s, %s or %s", o.name, o.v, Required, Preferred, Discouraged)
		}
	}
	if p.ChallengeCookie != "" && !cookieToken(p.ChallengeCookie) {
		return fmt.Errorf("passkey: challenge_cookie %q: use letters, digits, '-', '_' and '.' only", p.ChallengeCookie)
	}
	if _, _, err := splitOrigins(p.Origins); err != nil {
		return err
	}
	return nil
}

// Register validates the options, builds the relying party and declares the model, routes
// and error codes.
func (p *Plugin) Register(r *authcore.Registrar) error {
	if err := p.validate(); err != nil {
		return err
	}
	e := r.Engine()
	p.engine = e
	base := e.BaseURL()

	p.rpID = p.RPID
	if p.rpID == "" {
		p.rpID = base.Hostname()
		if net.ParseIP(p.rpID) != nil {
			return fmt.Errorf("passkey: the base URL's host %s is an IP address; WebAuthn needs a domain: set rp_id (and use a name such as localhost)", p.rpID)
		}
		if err := protocol.ValidateRPID(p.rpID); err != nil {
			return fmt.Errorf("passkey: the base URL's host %q is not a valid rp_id: %v", p.rpID, err)
		}
	}
	p.rpName = p.RPName
	if p.rpName == "" {
		p.rpName = e.Config().AppName
	}
	if len(p.Origins) == 0 {
		// D11: base_url and the trusted origins, never the request's Origin header.
		p.origins = e.Origins()
	} else {
		patterns, opaque, _ := splitOrigins(p.Origins)
		if len(patterns) > 0 {
			m, err := origin.NewMatcher(patterns)
			if err != nil {
				return fmt.Errorf("passkey: origins: %w", err)
			}
			p.origins = m
		}
		p.opaque = opaque
	}
	if host := base.Hostname(); len(p.Origins) == 0 && host != p.rpID && !strings.HasSuffix(host, "."+p.rpID) {
		return fmt.Errorf("passkey: rp_id %q does not cover the base URL's host %q: browsers would refuse every ceremony", p.rpID, host)
	}
	p.cookie = p.ChallengeCookie
	if p.cookie == "" {
		p.cookie = DefaultChallengeCookie
	}
	p.uv = protocol.VerificationPreferred
	if p.UserVerification != "" {
		p.uv = protocol.UserVerificationRequirement(p.UserVerification)
	}
	p.rk = protocol.ResidentKeyRequirementPreferred
	if p.ResidentKey != "" {
		p.rk = protocol.ResidentKeyRequirement(p.ResidentKey)
	}
	wa, err := webauthn.New(&webauthn.Config{
		RPID:          p.rpID,
		RPDisplayName: p.rpName,
		// Every ceremony is bound to the origin its client data names, once that origin
		// has passed p.trustedOrigin (SessionData.Origin); this list only satisfies the
		// library's configuration check.
		RPOrigins:             []string{base.Scheme + "://" + base.Host},
		AttestationPreference: protocol.PreferNoAttestation,
		// Browsers and password managers are known to return extension outputs nobody
		// asked for; SimpleWebAuthn (Better Auth) ignores them, so does Gatehouse. Client
		// extension outputs are not signed, so refusing them protects nothing.
		ExtensionsUnsolicitedOutputPolicy: protocol.UnsolicitedOutputPolicyIgnore,
	})
	if err != nil {
		return fmt.Errorf("passkey: relying party: %w", err)
	}
	p.wa = wa

	if p.PasskeyAsSecondFactor {
		api, _ := e.Plugin(authcore.TwoFactorID)
		tf, ok := api.(authcore.TwoFactorChallenges)
		if !ok {
			return errors.New("passkey: passkey_as_second_factor needs the two-factor plugin, which does not offer its challenges to other plugins (authcore.TwoFactorChallenges)")
		}
		p.tf = tf
		tf.AddMethod(Method, p.hasPasskeys)
	}

	if err := r.Model(passkeyModel()); err != nil {
		return err
	}
	r.UserScoped(ModelPasskey, "userId")
	// A passkey signs its user in: claiming an unverified account's address removes the
	// passkeys a squatter may have attached (Engine.ClaimEmail).
	r.Credential(ModelPasskey, "userId")
	if err := r.Errors(errorCodes...); err != nil {
		return err
	}
	for _, ep := range p.endpoints() {
		if err := r.Endpoint(ep); err != nil {
			return err
		}
	}
	return nil
}

// hasPasskeys reports whether user has at least one passkey (two-factor method listing).
func (p *Plugin) hasPasskeys(ctx context.Context, user storage.Record) (bool, error) {
	n, err := p.engine.Store().Count(ctx, ModelPasskey, storage.Eq("userId", user.ID()))
	return n > 0, err
}

// splitOrigins separates native-app opaque origins from origin patterns.
func splitOrigins(list []string) (patterns, opaque []string, err error) {
	for _, o := range list {
		switch {
		case o == protocol.OpaqueOriginPrefixFile || strings.HasPrefix(o, protocol.OpaqueOriginPrefixFile):
			return nil, nil, fmt.Errorf("passkey: origins: %q: documents on the local file system cannot be an origin", o)
		case protocol.IsKnownOpaqueOrigin(o):
			opaque = append(opaque, o)
		default:
			patterns = append(patterns, o)
		}
	}
	if len(patterns) > 0 {
		if _, err := origin.NewMatcher(patterns); err != nil {
			return nil, nil, fmt.Errorf("passkey: origins: %w", err)
		}
	}
	return patterns, opaque, nil
}

// trustedOrigin reports whether a ceremony's client-data origin is one of the relying
// party's origins.
func (p *Plugin) trustedOrigin(o string) bool {
	for _, x := range p.opaque {
		if o == x {
			return true
		}
	}
	return p.origins != nil && p.origins.TrustedOrigin(o)
}

// cookieToken reports whether s is safe as part of a cookie name.
func cookieToken(s string) bool {
	if len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}
