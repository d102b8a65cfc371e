package bearer

import (
	"github.com/gatehouse-auth/gatehouse/authcore"
)

// ID is the plugin's Better Auth id.
const ID = "bearer"

// HeaderSetAuthToken is the response header carrying the signed session token.
const HeaderSetAuthToken = "set-auth-token"

// maxTokenLen bounds the bearer value the plugin looks at: a signed session token is 77
// bytes (a little over 100 percent-encoded), so anything far longer is not one of ours and is
// not worth an HMAC.
const maxTokenLen = 1024

// Plugin is the bearer plugin and its configuration (Caddy module gatehouse.plugins.bearer).
// The zero value is ready to use. A Plugin value serves one engine: Register keeps the engine
// for request time.
type Plugin struct {
	// RequireSignature accepts only signed tokens (<token>.<signature>, as sent in
	// set-auth-token); a bare session token in Authorization is then no credential (Better
	// Auth's requireSignature). Default: false (bare tokens are signed server-side and
	// accepted).
	RequireSignature bool `json:"require_signature,omitempty"`

	engine *authcore.Engine
}

// ID returns "bearer".
func (*Plugin) ID() string { return ID }

// Register installs the request interceptor and the path middleware (Authorization → session
// cookie), the response interceptor (set-auth-token) and the gateway authenticator.
func (p *Plugin) Register(r *authcore.Registrar) error {
	p.engine = r.Engine()
	r.OnRequest(p.onRequest)
	r.Use(authcore.MatchAny(), p.onMiddleware)
	r.OnResponse(p.onResponse)
	r.Authenticator(authcore.OrderBearer, gatewayAuth{p})
	return nil
}
