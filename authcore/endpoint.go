package authcore

import "net/http"

// Auth is the session requirement of an endpoint (spec §3 "Session middlewares").
type Auth int

const (
	// AuthNone: no session is read before the handler (it may still call c.Session()).
	AuthNone Auth = iota
	// AuthOptional: the session is resolved if present; no error without one.
	AuthOptional
	// AuthSession: a valid session is required (401 UNAUTHORIZED otherwise).
	AuthSession
	// AuthSensitive: like AuthSession, but always re-read from storage, never from a cache.
	AuthSensitive
	// AuthFresh: AuthSensitive and the session must be younger than session.fresh_age
	// (403 SESSION_NOT_FRESH).
	AuthFresh
)

// HandlerFunc serves an endpoint. It returns the response value, which is encoded as JSON
// (nil encodes as null), or one of [Redirect], [*RawResponse]; or an error, which is an
// *Error for anything the client should see.
type HandlerFunc func(c *Call) (any, error)

// Endpoint declares one route of the auth API. Its declaration is also its documentation: the
// OpenAPI plugin walks the registry.
type Endpoint struct {
	Method string // GET or POST (HEAD is served for GET routes)
	// Path relative to the base path, e.g. "/sign-in/email"; ":name" segments are
	// parameters ("/reset-password/:token").
	Path    string
	Auth    Auth
	Body    []Param // declared body fields; unknown keys are dropped before the handler runs
	Query   []Param
	Handler HandlerFunc

	// BodyOptional lets a POST arrive with no body at all.
	BodyOptional bool
	// UserFields accepts, besides Body, every user-model field a client may set (plugin
	// fields such as username on sign-up); server-only fields sent with a truthy value are
	// refused with FIELD_NOT_ALLOWED.
	UserFields bool
	// SessionFields does the same for session-model fields (update-session).
	SessionFields bool
	// FormCSRF applies the extra login-CSRF check (spec §4.4 step 2).
	FormCSRF bool
	// AllowForm also accepts application/x-www-form-urlencoded bodies.
	AllowForm bool
	// CrossSitePost exempts the endpoint from the origin check: for a POST an identity
	// provider's page sends cross-site (Apple's response_mode=form_post callback), whose
	// handler changes nothing and only re-issues the request as a same-site GET.
	CrossSitePost bool
	// NoStore adds Cache-Control: no-store and Pragma: no-cache (token-bearing responses).
	NoStore bool
	// Audit is the audit event type (an Audit* constant) the pipeline records for every
	// answer of this endpoint: success, or failure with the error code. The actor is the
	// session the request arrived with; handlers add the subject and details with
	// Call.AuditSubject and Call.AuditDetail (audit.go).
	Audit string

	// OpenAPI metadata.
	Summary     string
	Description string
	Tags        []string
	// Response documents the success body, read through apischema.go (Endpoint.ResponseDoc)
	// by the open-api plugin and client generators. It is a JSON Schema (2020-12) written
	// with a small vocabulary so declarations stay short and exact:
	//
	//	ModelRef(ModelUser)                       the public JSON of a model (Engine.Public)
	//	ArrayOf(x), Nullable(x)                   an array of x; x or null
	//	ObjectOf(map[string]any{...}, required...) an object; property values are schemas or
	//	                                          shorthands "string", "boolean", "number",
	//	                                          "integer", "date-time", "any"
	//	Extend(ModelRef(m), props, required...)   a model's JSON with extra keys
	//	HTMLPage(), RedirectOnly(), RedirectOr(x) a text/html page; always 302; 302 or 200 x
	//
	// Plain JSON-schema maps are accepted too. Nil means undocumented (any JSON value).
	Response any
	// Errors lists the error codes the endpoint can answer with, for documentation.
	Errors []ErrorCode

	owner   string
	segs    []string
	hasVars bool
}

// Owner returns the ID of the plugin that registered the endpoint ("core" for core routes).
func (ep *Endpoint) Owner() string { return ep.owner }

// Redirect is a handler result answered with 302 Found and this Location.
type Redirect string

// RawResponse is a handler result written as is (HTML pages, non-JSON answers).
type RawResponse struct {
	Status int
	Header http.Header
	Body   []byte
}
