package caddymodule

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/gatehouse-auth/gatehouse/authcore"
)

// IdentityJWTConfig is the site option `identity_jwt`: a short-lived JWT, signed with the
// jwt plugin's keys, carrying the principal to the upstream in one header (DESIGN D12).
type IdentityJWTConfig struct {
	// Header the token is sent in. Stripped from every client request, in any case and with
	// '_' or '.' for '-', like mapped identity headers. Required.
	Header string `json:"header"`
	// Lifetime of a token (exp - iat). Default 60s; between 2s and 1h.
	Lifetime caddy.Duration `json:"lifetime,omitempty"`
	// Audience is the aud claim. Default: the origin the request was served on
	// (scheme://host[:port] from the Host header, which Caddy matched against the site's
	// addresses). Set it on a site that answers for any host.
	Audience string `json:"audience,omitempty"`
}

// Identity JWT defaults and bounds.
const (
	defaultIdentityLifetime = 60 * time.Second
	minIdentityLifetime     = 2 * time.Second
	maxIdentityLifetime     = time.Hour
	// identityCacheSize bounds the signed-token cache (entries: principal × audience).
	identityCacheSize = 10000
	// identityJWTType must equal jwtplugin.IdentityJWTType (a test checks it); caddymodule
	// cannot import the plugin, whose tests import caddymodule.
	identityJWTType = "gatehouse-id+jwt"
	jwtPluginID     = "jwt"
)

// identitySigner is the part of the jwt plugin's Go API (Engine.Plugin("jwt")) the identity
// JWT uses: it signs with the same key store and the same /jwks serves the public keys.
type identitySigner interface {
	SignIdentityJWT(ctx context.Context, claims map[string]any) (string, error)
	JWKSRoute() string
}

// refusedIdentityHeaders may not carry the identity JWT: they mean something to the proxy,
// the upstream's framework or the gateway itself.
var refusedIdentityHeaders = map[string]struct{}{
	"authorization": {}, "proxy-authorization": {}, "cookie": {}, "host": {}, "connection": {},
	"keep-alive": {}, "te": {}, "trailer": {}, "transfer-encoding": {}, "upgrade": {},
	"content-length": {}, "content-type": {}, "forwarded": {}, "x-forwarded-for": {},
	"x-forwarded-host": {}, "x-forwarded-proto": {},
}

// identityJWT is a provisioned identity_jwt option.
type identityJWT struct {
	header   string // canonical form
	lifetime time.Duration
	seconds  int64
	audience string // "" → the request's origin
	issuer   string
	signer   identitySigner
	clock    authcore.Clock

	mu    sync.Mutex
	cache map[identityKey]*identityEntry
}

// identityKey locates a principal's token for one audience: the session id, else the API
// key id, else the user id, under the credential method.
type identityKey struct {
	// org: one principal may reach several tenants through per-request organization
	// rules; each keeps its own token rather than re-signing on every switch.
	method, principal, aud, org string
}

// identityClaims are the token's claims other than iat, exp and iss. A cached token is
// reused only when they are all unchanged, so a change of name, role, verified email or
// organization (which the engine's session cache picks up at once, D6) re-signs at once.
type identityClaims struct {
	sub, email, name, role, sid, method, org, orgRole, aud string
}

type identityEntry struct {
	claims identityClaims
	token  string
	renew  time.Time // re-sign from here on: half the lifetime after iat
}

// provisionIdentityJWT validates the option and finds the jwt plugin's signer. The engine
// (and with it every plugin and its routes) is built once, by the gatehouse app, before any
// site handler is provisioned, so the handler cannot switch the plugin on: it requires it,
// and start-up fails naming the fix.
func (h *Handler) provisionIdentityJWT(eng *authcore.Engine) error {
	c := h.IdentityJWT
	if c == nil {
		return nil
	}
	if !validHeaderName(c.Header) {
		return fmt.Errorf("identity_jwt: %q is not a valid header name", c.Header)
	}
	n := normHeader(c.Header)
	if _, bad := refusedIdentityHeaders[n]; bad {
		return fmt.Errorf("identity_jwt: header %s cannot carry the identity JWT", c.Header)
	}
	for i, name := range h.headerNames {
		if normHeader(name) == n {
			return fmt.Errorf("identity_jwt: header %s is already the %s identity header", c.Header, identityFields[i].name)
		}
	}
	for _, name := range eng.CredentialHeaders() {
		if normHeader(name) == n {
			return fmt.Errorf("identity_jwt: header %s is a credential header", c.Header)
		}
	}
	lifetime := time.Duration(c.Lifetime)
	if lifetime == 0 {
		lifetime = defaultIdentityLifetime
	}
	if lifetime < minIdentityLifetime || lifetime > maxIdentityLifetime || lifetime%time.Second != 0 {
		return fmt.Errorf("identity_jwt: lifetime %s must be whole seconds between %s and %s", lifetime, minIdentityLifetime, maxIdentityLifetime)
	}
	if c.Audience != "" && (strings.TrimSpace(c.Audience) != c.Audience || strings.ContainsAny(c.Audience, "\x00\r\n")) {
		return fmt.Errorf("identity_jwt: audience %q must be one line without surrounding spaces", c.Audience)
	}
	api, ok := eng.Plugin(jwtPluginID)
	if !ok {
		return errors.New("identity_jwt: needs the jwt plugin, whose keys sign the token and whose /jwks publishes them: " +
			"enable it in the global options (gatehouse { ... jwt }, or \"plugins\": {\"jwt\": {}} in JSON)")
	}
	signer, ok := api.(identitySigner)
	if !ok {
		return fmt.Errorf("identity_jwt: the jwt plugin (%T) cannot sign identity tokens", api)
	}
	u := eng.BaseURL()
	h.identity = &identityJWT{
		header: http.CanonicalHeaderKey(c.Header), lifetime: lifetime, seconds: int64(lifetime / time.Second),
		audience: c.Audience, issuer: u.Scheme + "://" + u.Host, signer: signer, clock: eng.Clock(),
		cache: map[identityKey]*identityEntry{},
	}
	// Stripped from clients in every spelling, like a mapped header (D8).
	h.mapped[n] = struct{}{}
	h.logger.Info("identity_jwt: upstreams verify the token against the JWKS",
		zap.String("header", h.identity.header), zap.String("jwks", u.String()+eng.Config().BasePath+signer.JWKSRoute()))
	return nil
}

// requestAudience is the default aud: the origin the request was served on.
func requestAudience(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + strings.ToLower(r.Host)
}

// set puts the identity JWT for p on r (p is not nil). The signed token is cached per
// principal and audience and reused while more than half its lifetime remains and its
// claims are unchanged, so the hot path costs a map lookup and a few string compares.
func (j *identityJWT) set(r *http.Request, p *authcore.Principal) error {
	c := identityClaims{sub: p.UserID, name: userString(p, "name"), role: strings.Join(p.Roles, ","),
		method: p.Method, org: p.OrgID, orgRole: strings.Join(p.OrgRoles, ","), aud: j.audience}
	if p.User != nil && p.User.Bool("emailVerified") {
		c.email = p.User.String("email")
	}
	if p.Session != nil {
		c.sid = p.Session.ID()
	}
	if c.aud == "" {
		c.aud = requestAudience(r)
	}
	key := identityKey{method: p.Method, principal: c.sid, aud: c.aud, org: p.OrgID}
	if key.principal == "" {
		key.principal = p.KeyID
	}
	if key.principal == "" {
		key.principal = "user:" + p.UserID
	}
	now := j.clock.Now()
	j.mu.Lock()
	e := j.cache[key]
	j.mu.Unlock()
	if e == nil || e.claims != c || !now.Before(e.renew) {
		tok, err := j.sign(r.Context(), c, now)
		if err != nil {
			return err
		}
		e = &identityEntry{claims: c, token: tok, renew: time.Unix(now.Unix(), 0).Add(j.lifetime / 2)}
		j.store(key, e, now)
	}
	r.Header[j.header] = []string{e.token}
	return nil
}

// sign builds the claims (empty ones omitted, except sub: an organization-owned API key
// has no user, and says so with an empty sub beside org) and signs them.
func (j *identityJWT) sign(ctx context.Context, c identityClaims, now time.Time) (string, error) {
	iat := now.Unix()
	claims := map[string]any{"sub": c.sub, "method": c.method, "iat": iat, "exp": iat + j.seconds,
		"iss": j.issuer, "aud": c.aud}
	for k, v := range map[string]string{"email": c.email, "name": c.name, "role": c.role, "sid": c.sid, "org": c.org, "org_role": c.orgRole} {
		if v != "" {
			claims[k] = v
		}
	}
	return j.signer.SignIdentityJWT(ctx, claims)
}

// store caches e, keeping the cache bounded: when full, entries due for renewal go first,
// and if none are, the whole cache (it refills at the cost of one signature per principal).
func (j *identityJWT) store(key identityKey, e *identityEntry, now time.Time) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, ok := j.cache[key]; !ok && len(j.cache) >= identityCacheSize {
		for k, old := range j.cache {
			if !now.Before(old.renew) {
				delete(j.cache, k)
			}
		}
		if len(j.cache) >= identityCacheSize {
			clear(j.cache)
		}
	}
	j.cache[key] = e
}
