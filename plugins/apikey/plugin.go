package apikey

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/ratelimit"
)

// ID is the plugin's Better Auth id.
const ID = authcore.APIKeyID

// Route paths.
const (
	PathCreate = "/api-key/create"
	PathGet    = "/api-key/get"
	PathUpdate = "/api-key/update"
	PathDelete = "/api-key/delete"
	PathList   = "/api-key/list"
)

// Fixed rules of Better Auth's defaults that Gatehouse does not make configurable.
const (
	minPrefixLen = 1
	maxPrefixLen = 32
	minNameLen   = 1
	maxNameLen   = 32
	// maxKeyLen bounds the header value looked at: longer values are no key of ours and are
	// not worth a hash.
	maxKeyLen = 512
	// cacheTTL is how long a verified key (and its user) is trusted from memory on the
	// gateway path. Updates and deletes through this node invalidate at once.
	cacheTTL = 5 * time.Second
	// exhaustedRecheck is how long a node trusts its own "quota exhausted" verdict before
	// reading storage again (another node or the admin API may have raised it).
	exhaustedRecheck = 5 * time.Second
)

var prefixRE = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)

// KeyExpiration is the expiry policy of new and updated keys.
type KeyExpiration struct {
	// DefaultExpiresIn applies when a create call names no expiresIn. Default: 0 (keys do
	// not expire).
	DefaultExpiresIn authcore.Duration `json:"default_expires_in,omitempty"`
	// MinExpiresIn and MaxExpiresIn bound a client's expiresIn. Defaults: 1 day, 365 days.
	MinExpiresIn authcore.Duration `json:"min_expires_in,omitempty"`
	MaxExpiresIn authcore.Duration `json:"max_expires_in,omitempty"`
	// DisableCustomExpiresTime refuses any expiresIn from clients (KEY_DISABLED_EXPIRATION).
	DisableCustomExpiresTime bool `json:"disable_custom_expires_time,omitempty"`
}

// RateLimit is the per-key rate limit stored on new keys.
type RateLimit struct {
	// Enabled stores rateLimitEnabled:true on new keys. Default: false — unlike Better
	// Auth's 10 requests a day, which makes no sense for proxied traffic.
	Enabled bool `json:"enabled,omitempty"`
	// TimeWindow and Max: at most Max requests per TimeWindow (sliding from the last allowed
	// request). Defaults: 1 day, 10.
	TimeWindow authcore.Duration `json:"time_window,omitempty"`
	Max        int               `json:"max,omitempty"`
}

// Permissions configures the permissions of new keys.
type Permissions struct {
	// Default is stored on keys created without explicit permissions: resource → actions.
	Default map[string][]string `json:"default,omitempty"`
}

// Plugin is the api-key plugin and its configuration (Caddy module
// gatehouse.plugins.api_key). The zero value is ready to use. A Plugin value serves one
// engine: Register keeps the engine and the in-memory key state for request time.
type Plugin struct {
	// Headers carry the key (first one present wins). Default: ["x-api-key"]. The gateway
	// strips them from upstream requests.
	Headers []string `json:"headers,omitempty"`
	// DefaultKeyLength is the number of random characters after the prefix. Default: 64.
	DefaultKeyLength int `json:"default_key_length,omitempty"`
	// DefaultPrefix is put in front of keys created without a prefix. Default: none.
	DefaultPrefix string `json:"default_prefix,omitempty"`
	// StartingCharactersLength is how many leading characters (prefix included) are stored
	// in clear as "start" for display. Default: 6 (at most 6: more would weaken the digest).
	StartingCharactersLength int `json:"starting_characters_length,omitempty"`
	// DisableKeyHashing is refused at start-up: keys are always stored as digests.
	DisableKeyHashing bool `json:"disable_key_hashing,omitempty"`
	// RequireName makes name mandatory on create (NAME_REQUIRED).
	RequireName bool `json:"require_name,omitempty"`
	// EnableMetadata accepts metadata on create and update (else METADATA_DISABLED).
	EnableMetadata bool `json:"enable_metadata,omitempty"`
	// KeyExpiration is the expiry policy.
	KeyExpiration KeyExpiration `json:"key_expiration,omitempty"`
	// RateLimit is the per-key rate limit of new keys.
	RateLimit RateLimit `json:"rate_limit,omitempty"`
	// Permissions configures default permissions.
	Permissions Permissions `json:"permissions,omitempty"`
	// EnableSessionForAPIKeys lets a key act as a session on the auth API.
	EnableSessionForAPIKeys bool `json:"enable_session_for_api_keys,omitempty"`
	// LeaseSize is how many quota units a node takes from storage at once (one write per
	// lease). 1 is the exact mode: every request decrements the stored remaining count with
	// one atomic compare-and-subtract, nothing is held in memory. Default: 100 on a
	// single-node store (bbolt), 1 on a shared one (PostgreSQL, authcore.WithSharedStore),
	// where a lease held by one node would refuse requests reaching the others.
	LeaseSize int `json:"lease_size,omitempty"`

	engine  *authcore.Engine
	limiter *ratelimit.Limiter
	lease   int // LeaseSize or its default

	s *keyState
}

// keyState is the in-memory state of the keys this node serves.
type keyState struct {
	mu     sync.Mutex
	cache  map[string]*cacheEntry // by key digest
	quotas map[string]*quota      // by key id
	closed bool
}

// ID returns "api-key".
func (*Plugin) ID() string { return ID }

func (p *Plugin) applyDefaults() {
	if len(p.Headers) == 0 {
		p.Headers = []string{"x-api-key"}
	}
	if p.DefaultKeyLength == 0 {
		p.DefaultKeyLength = 64
	}
	if p.StartingCharactersLength == 0 {
		p.StartingCharactersLength = 6
	}
	if p.KeyExpiration.MinExpiresIn == 0 {
		p.KeyExpiration.MinExpiresIn = authcore.Duration(24 * time.Hour)
	}
	if p.KeyExpiration.MaxExpiresIn == 0 {
		p.KeyExpiration.MaxExpiresIn = authcore.Duration(365 * 24 * time.Hour)
	}
	if p.RateLimit.TimeWindow == 0 {
		p.RateLimit.TimeWindow = authcore.Duration(24 * time.Hour)
	}
	if p.RateLimit.Max == 0 {
		p.RateLimit.Max = 10
	}
}

func (p *Plugin) validate() error {
	p.applyDefaults()
	var errs []error
	if p.DisableKeyHashing {
		errs = append(errs, errors.New("disable_key_hashing is not supported: keys are always stored as SHA-256 digests"))
	}
	for _, h := range p.Headers {
		if h == "" || strings.ContainsAny(h, " \t:\r\n") {
			errs = append(errs, fmt.Errorf("headers: %q is not a header name", h))
		}
	}
	if p.DefaultKeyLength < 32 || p.DefaultKeyLength > 256 {
		errs = append(errs, fmt.Errorf("default_key_length %d: must be 32..256", p.DefaultKeyLength))
	}
	if p.DefaultPrefix != "" && (len(p.DefaultPrefix) > maxPrefixLen || !prefixRE.MatchString(p.DefaultPrefix)) {
		errs = append(errs, fmt.Errorf("default_prefix %q: 1-32 characters of a-z A-Z 0-9 _ -", p.DefaultPrefix))
	}
	if p.StartingCharactersLength < 0 || p.StartingCharactersLength > 6 {
		errs = append(errs, fmt.Errorf("starting_characters_length %d: must be 0..6", p.StartingCharactersLength))
	}
	ke := p.KeyExpiration
	if ke.MinExpiresIn < 0 || ke.MaxExpiresIn < ke.MinExpiresIn {
		errs = append(errs, errors.New("key_expiration: need 0 <= min_expires_in <= max_expires_in"))
	}
	if ke.DefaultExpiresIn < 0 {
		errs = append(errs, errors.New("key_expiration: default_expires_in must not be negative"))
	}
	if p.RateLimit.TimeWindow < 0 || p.RateLimit.Max < 0 {
		errs = append(errs, errors.New("rate_limit: time_window and max must be positive"))
	}
	if p.LeaseSize < 0 || p.LeaseSize > 1_000_000 {
		errs = append(errs, fmt.Errorf("lease_size %d: must be 1..1000000", p.LeaseSize))
	}
	for res, acts := range p.Permissions.Default {
		if res == "" || len(acts) == 0 {
			errs = append(errs, fmt.Errorf("permissions: default %q needs at least one action", res))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("api_key: %w", errors.Join(errs...))
	}
	return nil
}

// Register validates the options and installs the model, the routes, the hooks, the
// gateway authenticator and the trusted-caller API (authcore.APIKeyAdmin).
func (p *Plugin) Register(r *authcore.Registrar) error {
	if err := p.validate(); err != nil {
		return err
	}
	p.engine = r.Engine()
	p.limiter = ratelimit.NewLimiter(0)
	p.lease = p.LeaseSize
	if p.lease == 0 {
		p.lease = 100
		if p.engine.SharedStore() {
			p.lease = 1
		}
	}
	p.s = &keyState{cache: map[string]*cacheEntry{}, quotas: map[string]*quota{}}
	if err := r.Model(apiKeyModel()); err != nil {
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
	r.Use(authcore.MatchPath(PathCreate, PathUpdate), p.refuseServerOnly)
	r.Use(authcore.MatchAny(), p.keySession)
	r.Authenticator(authcore.OrderAPIKey, gatewayAuth{p})
	for _, h := range p.Headers {
		r.CredentialHeader(h)
	}
	r.Provide(authcore.APIKeyAdmin(p))
	return nil
}
