package multisession

import (
	"fmt"

	"github.com/gatehouse-auth/gatehouse/authcore"
)

// ID is the plugin's Better Auth id.
const ID = "multi-session"

// DefaultMaximumSessions is Better Auth's default maximumSessions.
const DefaultMaximumSessions = 5

// maxMaximumSessions bounds the option: every multi-session cookie costs a storage lookup
// on the requests that read them, and browsers keep only so many cookies per site.
const maxMaximumSessions = 100

// Plugin is the multi-session plugin and its configuration (Caddy module
// gatehouse.plugins.multi_session). The zero value is ready to use. A Plugin value serves
// one engine: Register keeps the engine for request time.
type Plugin struct {
	// MaximumSessions is how many signed-in accounts one browser may hold at once (Better
	// Auth's maximumSessions): a sign-in that would make more multi-session cookies than
	// this still signs in, but gets no multi-session cookie. 1 to 100; 0 means the default,
	// 5.
	MaximumSessions int `json:"maximum_sessions,omitempty"`

	engine *authcore.Engine
	max    int
}

// ID returns "multi-session".
func (*Plugin) ID() string { return ID }

// Register validates the options and declares the three routes, the two after hooks and the
// error code.
func (p *Plugin) Register(r *authcore.Registrar) error {
	if err := p.validate(); err != nil {
		return err
	}
	p.engine = r.Engine()
	if err := r.Errors(errorCodes...); err != nil {
		return err
	}
	for _, ep := range p.endpoints() {
		if err := r.Endpoint(ep); err != nil {
			return err
		}
	}
	p.registerHooks(r)
	return nil
}

// validate checks the options and settles the defaults.
func (p *Plugin) validate() error {
	switch n := p.MaximumSessions; {
	case n == 0:
		p.max = DefaultMaximumSessions
	case n < 1 || n > maxMaximumSessions:
		return fmt.Errorf("multi-session: maximum_sessions must be between 1 and %d, not %d", maxMaximumSessions, n)
	default:
		p.max = n
	}
	return nil
}
