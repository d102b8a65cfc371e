package jwtplugin

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
)

// ID is Better Auth's plugin id.
const ID = "jwt"

// Algorithms the plugin can create keys for (Better Auth's keyPairConfig.alg values we
// support).
const (
	AlgEdDSA = "EdDSA" // Ed25519, the default
	AlgES256 = "ES256" // ECDSA P-256
	AlgRS256 = "RS256" // RSA 2048
)

// Defaults (Better Auth's, plugins/jwt).
const (
	DefaultJWKSPath       = "/jwks"
	DefaultExpirationTime = 15 * time.Minute
	DefaultGracePeriod    = 30 * 24 * time.Hour
)

// IdentityJWTType is the typ of Gatehouse's signed identity JWT (DESIGN D12). Such a token
// is for upstream applications only: the gateway authenticator refuses it.
const IdentityJWTType = "gatehouse-id+jwt"

// Plugin is the jwt plugin; its exported fields are its configuration. The zero value is
// Better Auth's default: Ed25519 keys created on first use, never rotated, encrypted at
// rest, tokens valid 15 minutes, issuer and audience the base URL's origin.
type Plugin struct {
	// JWKSPath is where the public key set is served. Default: /jwks.
	JWKSPath string `json:"jwks_path,omitempty"`
	// Issuer is the iss claim written and required. Default: the base URL's origin.
	Issuer string `json:"issuer,omitempty"`
	// Audience is the aud claim written and required. Default: the base URL's origin.
	Audience string `json:"audience,omitempty"`
	// ExpirationTime is how long a token is valid after iat. Default: 15m.
	ExpirationTime authcore.Duration `json:"expiration_time,omitempty"`
	// Algorithm of the keys created: EdDSA (Ed25519), ES256 (P-256) or RS256 (RSA 2048).
	// Default: EdDSA.
	Algorithm string `json:"algorithm,omitempty"`
	// RotationInterval gives each new key an expiresAt this far after its creation; a key
	// past it signs no more and a new one is created on first use. Default: no rotation.
	RotationInterval authcore.Duration `json:"rotation_interval,omitempty"`
	// GracePeriod is how long a rotated-out key stays in the JWKS and still verifies tokens
	// after its expiresAt. Default: 30d.
	GracePeriod authcore.Duration `json:"grace_period,omitempty"`
	// DisableSettingJWTHeader stops the set-auth-jwt header on /get-session.
	DisableSettingJWTHeader bool `json:"disable_setting_jwt_header,omitempty"`
	// DisablePrivateKeyEncryption stores private keys as plain JWK JSON instead of
	// encrypting them with the engine's secret. Default: encrypted.
	DisablePrivateKeyEncryption bool `json:"disable_private_key_encryption,omitempty"`

	engine   *authcore.Engine
	jwksPath string
	issuer   string
	audience string
	expires  time.Duration
	alg      string
	rotation time.Duration
	grace    time.Duration

	cache *keyCache // set by Register
}

// keyCache is the plugin's in-memory key state.
type keyCache struct {
	mu      sync.Mutex  // serializes key creation on this node
	current *signingKey // the signing key
	pubMu   sync.Mutex
	pubs    map[string]*verifyKey // parsed public keys by kid
}

// ID returns Better Auth's plugin id.
func (*Plugin) ID() string { return ID }

// validate checks the options without the engine (Caddy's Validate runs it too).
func (p *Plugin) validate() error {
	if p.JWKSPath != "" && (!strings.HasPrefix(p.JWKSPath, "/") || strings.Contains(p.JWKSPath, "..") ||
		strings.ContainsAny(p.JWKSPath, " ?#\x00\r\n")) {
		return fmt.Errorf("jwt: jwks_path %q must start with / and contain no '..', spaces, ? or #", p.JWKSPath)
	}
	switch p.Algorithm {
	case "", AlgEdDSA, AlgES256, AlgRS256:
	default:
		return fmt.Errorf("jwt: algorithm %q is not one of %s, %s, %s", p.Algorithm, AlgEdDSA, AlgES256, AlgRS256)
	}
	for name, d := range map[string]authcore.Duration{
		"expiration_time": p.ExpirationTime, "rotation_interval": p.RotationInterval, "grace_period": p.GracePeriod,
	} {
		if d < 0 || (d > 0 && d.D() < time.Second) {
			return fmt.Errorf("jwt: %s %s must be at least 1s", name, d.D())
		}
	}
	if strings.ContainsAny(p.Issuer+p.Audience, "\x00\r\n") {
		return fmt.Errorf("jwt: issuer and audience must be one line")
	}
	return nil
}

// Register validates the options, applies the defaults and declares the jwks model, the two
// routes, the /get-session hook and the gateway authenticator, and publishes the Go API (the
// plugin itself: SignJWT, VerifyJWT).
func (p *Plugin) Register(r *authcore.Registrar) error {
	if err := p.validate(); err != nil {
		return err
	}
	e := r.Engine()
	p.engine = e
	p.applyDefaults()
	if err := r.Model(jwksModel()); err != nil {
		return err
	}
	for _, ep := range p.endpoints() {
		if err := r.Endpoint(ep); err != nil {
			return err
		}
	}
	if !p.DisableSettingJWTHeader {
		r.After(authcore.MatchPath(authcore.PathGetSession), p.setJWTHeader)
	}
	r.Authenticator(authcore.OrderJWT, authenticator{p})
	r.Provide(p)
	return nil
}

func (p *Plugin) applyDefaults() {
	p.jwksPath = p.JWKSPath
	if p.jwksPath == "" {
		p.jwksPath = DefaultJWKSPath
	}
	u := p.engine.BaseURL()
	origin := u.Scheme + "://" + u.Host
	p.issuer, p.audience = p.Issuer, p.Audience
	if p.issuer == "" {
		p.issuer = origin
	}
	if p.audience == "" {
		p.audience = origin
	}
	p.expires = p.ExpirationTime.D()
	if p.expires == 0 {
		p.expires = DefaultExpirationTime
	}
	p.alg = p.Algorithm
	if p.alg == "" {
		p.alg = AlgEdDSA
	}
	p.rotation = p.RotationInterval.D()
	p.grace = p.GracePeriod.D()
	if p.grace == 0 {
		p.grace = DefaultGracePeriod
	}
	p.cache = &keyCache{pubs: map[string]*verifyKey{}}
}
