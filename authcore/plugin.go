package authcore

import (
	"net/http"

	"github.com/gatehouse-auth/gatehouse/authcore/ratelimit"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// Plugin extends the engine. ID is Better Auth's kebab-case plugin id ("two-factor",
// "api-key"); Register declares everything the plugin adds through the registrar. Register
// runs once, in dependency order then by ID, while the engine is built.
type Plugin interface {
	ID() string
	Register(r *Registrar) error
}

// Dependent is implemented by plugins that need other plugins: start-up fails naming the
// missing one, and the dependency registers (and its hooks run) first.
type Dependent interface {
	DependsOn() []string
}

// Matcher selects the calls a hook or middleware applies to. Use [MatchPath], [MatchPrefix]
// and [MatchAny] with the exported Path* constants instead of spelling routes inline.
type Matcher func(c *Call) bool

// MatchPath matches calls to any of the given route paths (relative to the base path).
func MatchPath(paths ...string) Matcher {
	return func(c *Call) bool {
		for _, p := range paths {
			if c.Route == p {
				return true
			}
		}
		return false
	}
}

// MatchPrefix matches calls whose route starts with prefix.
func MatchPrefix(prefix string) Matcher {
	return func(c *Call) bool { return len(c.Route) >= len(prefix) && c.Route[:len(prefix)] == prefix }
}

// MatchAny matches every call.
func MatchAny() Matcher { return func(*Call) bool { return true } }

// BeforeHook runs before the endpoint. Returning a non-nil response short-circuits: the
// endpoint and the remaining before hooks are skipped and the after hooks still run.
// Returning an error answers with it.
type BeforeHook func(c *Call) (response any, err error)

// AfterHook runs after the endpoint (and after a short-circuit). It reads c.Returned and
// c.NewSession and may replace c.Returned or add cookies and headers. An error replaces the
// response.
type AfterHook func(c *Call) error

// Middleware runs for matching paths before the before hooks (Better Auth's plugin
// "middlewares"). An error stops the call.
type Middleware func(c *Call) error

// RequestInterceptor runs first for every auth-API request, before origin checks: it may
// rewrite request headers (the bearer plugin turns Authorization into the session cookie).
type RequestInterceptor func(c *Call) error

// ResponseInterceptor runs last, before the response is written: it may add headers (the
// bearer plugin adds set-auth-token when a session cookie is set).
type ResponseInterceptor func(c *Call)

// SessionGate runs at the one engine step where a sign-in is about to create a session (D11),
// whatever the sign-in method (opt.Method). It returns nil to let the session be created, or
// an error to stop: an *Interrupt answers with its response (the two-factor challenge) and
// creates no session; an *Error refuses the sign-in (a banned user). A second-factor gate
// lets opt.MultiFactor sign-ins through; every other gate applies to them too.
type SessionGate func(c *Call, user storage.Record, opt SignInOptions) error

// Interrupt is the error a SessionGate returns to answer a sign-in with something other than
// a session (a two-factor challenge). Handlers propagate it like any error; the pipeline
// answers with Response (status 200 unless Redirect is set).
type Interrupt struct {
	Response any
}

func (i *Interrupt) Error() string { return "sign-in interrupted" }

// Authenticator resolves one kind of credential on the gateway path (session cookie, bearer
// token, JWT, API key). found=false means the request carries no credential of this kind. A
// non-nil error means the credential is present but not acceptable (an *Error: 401, 403, 429)
// or a technical failure; it never means "try the next one".
type Authenticator interface {
	Authenticate(r *http.Request) (p *Principal, found bool, err error)
}

// Authenticator order values: lower runs first. The fixed order is documented in doc.go.
const (
	OrderSessionCookie = 100
	OrderBearer        = 200
	OrderJWT           = 300
	OrderAPIKey        = 400
)

// Principal is who a gateway request acts as. Its User and Session records may be shared
// with the in-process session cache and with concurrent requests: treat them as read-only.
type Principal struct {
	// Method names the credential: "session", "bearer", "jwt", "api-key".
	Method string
	// UserID is empty for organization-owned API keys.
	UserID  string
	User    storage.Record
	Session storage.Record // nil unless a session
	// Anonymous sessions pass only "allow anonymous" rules (D1).
	Anonymous bool
	// OrgID is the active or owning organization, if any. For a user, Authenticate keeps
	// it only while the organization plugin confirms the membership, and a per-request
	// organization rule replaces it with the organization it judged.
	OrgID string
	// OrgSlug and OrgRoles describe the user's membership in OrgID (empty for an
	// organization-owned API key).
	OrgSlug  string
	OrgRoles []string
	// Roles are the user's roles (the comma-separated role field, split).
	Roles []string
	// Permissions granted to an API key or JWT, if any.
	Permissions map[string][]string
	// KeyID is the API key id when Method is "api-key".
	KeyID string
	// Headers are extra identity headers a plugin adds (name without the prefix → value).
	Headers map[string]string
	// Refresh is set when the session should be extended (update_age passed); the gateway
	// then calls Engine.GatewayRefresh.
	Refresh bool
	// FromAuthorization is set when the Authorization header carried an accepted credential
	// (a bearer token or JWT), alone or naming the same principal as a cookie: the gateway
	// then removes it from the upstream request (D8, HDR-08).
	FromAuthorization bool

	sess    *Session  // the session behind a session principal
	roleBuf [1]string // backs Roles for the common single role, saving an allocation
}

// PathRateRule is a plugin's rate-limit rule: a path (exact) or prefix (ending in "*").
type PathRateRule struct {
	Path string
	ratelimit.Rule
}
