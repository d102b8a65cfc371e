package sso

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/oauth"
)

// ID is Better Auth's plugin id.
const ID = "sso"

// Defaults of Better Auth's sso plugin.
const (
	// DefaultProvidersLimit is providersLimit's default: providers one user may register.
	DefaultProvidersLimit = 10
	// DefaultTokenPrefix names the DNS TXT record of a domain verification:
	// _<token_prefix>-<providerId>.<domain>.
	DefaultTokenPrefix = "better-auth-token"
	// DefaultTokenTTL is how long a domain verification token stays valid (one week).
	DefaultTokenTTL = 7 * 24 * time.Hour
	// DefaultProvisioningRole is the role users of an organization's provider get.
	DefaultProvisioningRole = "member"
)

// Resolver answers DNS TXT queries; *net.Resolver is one. Tests inject a resolver pointed at
// a DNS server of their own.
type Resolver interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
}

// DomainVerification configures the DNS TXT proof of a provider's domain.
type DomainVerification struct {
	// TokenPrefix is the <prefix> of the record name _<prefix>-<providerId>.<domain>.
	// Default "better-auth-token".
	TokenPrefix string `json:"token_prefix,omitempty"`
	// TokenTTL is how long a token from /sso/request-domain-verification (or
	// /sso/register) can be proved. Default 7d.
	TokenTTL authcore.Duration `json:"token_ttl,omitempty"`
	// Resolver is the DNS server (host:port, UDP) TXT queries go to. Default: the
	// system's resolver.
	Resolver string `json:"resolver,omitempty"`
}

// OrganizationProvisioning configures how users signing in through a provider that belongs
// to an organization become members of it (needs the organization plugin).
type OrganizationProvisioning struct {
	// Disabled turns provisioning off. Default: on.
	Disabled bool `json:"disabled,omitempty"`
	// DefaultRole is the role (a comma list of the organization's roles) new members get.
	// Default "member".
	DefaultRole string `json:"default_role,omitempty"`
}

// Plugin is the sso plugin (Better Auth id "sso", Caddy module gatehouse.plugins.sso): the
// registry of enterprise identity providers (OIDC and SAML 2.0) that users or organizations
// register, with DNS proof of their email domains. Its fields are its configuration; the
// zero value is Better Auth's default configuration.
type Plugin struct {
	// ProvidersLimit is how many providers one user may register. Default 10.
	ProvidersLimit int `json:"providers_limit,omitempty"`
	// DisableRegistration refuses every /sso/register (Better Auth's providersLimit: 0).
	DisableRegistration bool `json:"disable_registration,omitempty"`
	// TrustIdPMFA lets a sign-in through an SSO provider count as multi-factor (skips the
	// two-factor step, DESIGN D11). Default off: two-factor applies.
	TrustIdPMFA bool `json:"trust_idp_mfa,omitempty"`
	// TrustEmailVerified believes the IdP's email_verified claim (SAML: mapping.emailVerified)
	// for linking to an existing account and for new users. Default off (Better Auth's
	// trustEmailVerified): only a verified provider domain covering the address vouches for
	// it, since any user can register an IdP of their own.
	TrustEmailVerified bool `json:"trust_email_verified,omitempty"`
	// DomainVerification configures the DNS TXT proof of domains.
	DomainVerification DomainVerification `json:"domain_verification,omitzero"`
	// OrganizationProvisioning configures membership of the users of an organization's
	// provider.
	OrganizationProvisioning OrganizationProvisioning `json:"organization_provisioning,omitzero"`

	// Resolver answers the TXT queries of /sso/verify-domain. Default net.DefaultResolver.
	Resolver Resolver `json:"-"`
	// HTTPClient fetches OIDC discovery documents. Default: a client with a 10 s timeout.
	HTTPClient *http.Client `json:"-"`

	engine   *authcore.Engine
	limit    int
	prefix   string
	tokenTTL time.Duration
	role     string

	cache *oidcCache
}

// oidcCache holds the OIDC providers built from stored configs, by providerId.
type oidcCache struct {
	mu sync.Mutex
	m  map[string]oidcEntry
}

// oidcEntry is a cached OIDC provider with the providerRef it was built from.
type oidcEntry struct {
	ref  string
	prov oauth.Provider
}

// ID is Better Auth's plugin id.
func (*Plugin) ID() string { return ID }

// Register validates the options and declares the model, routes and error codes.
func (p *Plugin) Register(r *authcore.Registrar) error {
	if err := p.setup(); err != nil {
		return fmt.Errorf("plugin %q: %w", ID, err)
	}
	p.engine = r.Engine()
	if err := p.registerSchema(r); err != nil {
		return err
	}
	if err := r.Errors(errorCodes...); err != nil {
		return err
	}
	if err := r.Model(samlAssertionModel()); err != nil {
		return err
	}
	p.cache = &oidcCache{m: map[string]oidcEntry{}}
	for _, ep := range append(p.endpoints(), p.signInEndpoints()...) {
		if err := r.Endpoint(ep); err != nil {
			return err
		}
	}
	r.Provide(p)
	return nil
}

func (p *Plugin) setup() error {
	if p.ProvidersLimit < 0 {
		return fmt.Errorf("providers_limit must not be negative")
	}
	p.limit = p.ProvidersLimit
	if p.limit == 0 {
		p.limit = DefaultProvidersLimit
	}
	p.prefix = p.DomainVerification.TokenPrefix
	if p.prefix == "" {
		p.prefix = DefaultTokenPrefix
	}
	for _, c := range p.prefix {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return fmt.Errorf("domain_verification token_prefix %q: only letters, digits, '-' and '_' make a DNS label", p.prefix)
		}
	}
	if len(p.prefix) > 40 {
		return fmt.Errorf("domain_verification token_prefix %q is too long for a DNS label with a provider id", p.prefix)
	}
	p.tokenTTL = time.Duration(p.DomainVerification.TokenTTL)
	if p.tokenTTL < 0 {
		return fmt.Errorf("domain_verification token_ttl must not be negative")
	}
	if p.tokenTTL == 0 {
		p.tokenTTL = DefaultTokenTTL
	}
	p.role = strings.TrimSpace(p.OrganizationProvisioning.DefaultRole)
	if p.role == "" {
		p.role = DefaultProvisioningRole
	}
	if strings.ContainsAny(p.role, " \t") {
		return fmt.Errorf("organization_provisioning default_role %q: roles are a comma list without spaces", p.role)
	}
	if addr := p.DomainVerification.Resolver; addr != "" && p.Resolver == nil {
		if _, port, err := net.SplitHostPort(addr); err != nil || port == "" {
			return fmt.Errorf("domain_verification resolver %q: want host:port", addr)
		}
		p.Resolver = &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "udp", addr)
		}}
	}
	if p.Resolver == nil {
		p.Resolver = net.DefaultResolver
	}
	if p.HTTPClient == nil {
		p.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	return nil
}
