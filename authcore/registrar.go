package authcore

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/gatehouse-auth/gatehouse/storage"
)

// Registrar is what a plugin's Register receives: every declaration goes through it, tagged
// with the plugin's ID, so duplicates fail at start-up naming both plugins.
type Registrar struct {
	engine *Engine
	owner  string
	reg    *registry
}

// ID returns the registering plugin's ID.
func (r *Registrar) ID() string { return r.owner }

// Engine returns the engine being built. Plugins keep it to reach storage, sessions, the
// clock, randomness and senders at request time; it is not serving yet during Register.
func (r *Registrar) Engine() *Engine { return r.engine }

// Model declares a new storage model.
func (r *Registrar) Model(m storage.Model) error { return r.reg.schema.AddModel(r.owner, m) }

// Extend adds fields to an existing model (a core model or a dependency's).
func (r *Registrar) Extend(model string, fields ...storage.Field) error {
	return r.reg.schema.Extend(r.owner, model, fields...)
}

// SetDefault changes the value a field takes when a record is created without it — the
// admin plugin's default_role for user.role. Only one plugin may change a given field's
// default.
func (r *Registrar) SetDefault(model, field string, v any) error {
	return r.reg.schema.SetDefault(r.owner, model, field, v)
}

// UserScoped declares that records of model belong to the user whose id is in field: every
// write to such a record invalidates that user's cached sessions on this node (D6).
func (r *Registrar) UserScoped(model, field string) { r.reg.userScoped[model] = field }

// Endpoint registers a route. A method+path already registered is an error naming its owner.
func (r *Registrar) Endpoint(ep Endpoint) error {
	if ep.Method != http.MethodGet && ep.Method != http.MethodPost {
		return fmt.Errorf("plugin %q: endpoint %s %s: method must be GET or POST", r.owner, ep.Method, ep.Path)
	}
	if !strings.HasPrefix(ep.Path, "/") || ep.Handler == nil {
		return fmt.Errorf("plugin %q: endpoint %s %q: needs a path starting with / and a handler", r.owner, ep.Method, ep.Path)
	}
	for _, prev := range r.reg.endpoints {
		if prev.Method == ep.Method && samePattern(prev.Path, ep.Path) {
			return fmt.Errorf("plugin %q: endpoint %s %s is already registered by plugin %q", r.owner, ep.Method, ep.Path, prev.owner)
		}
	}
	for _, p := range r.reg.reserved {
		if strings.HasPrefix(ep.Path, p.prefix) {
			return fmt.Errorf("plugin %q: endpoint %s %s is inside the prefix %s reserved by %q", r.owner, ep.Method, ep.Path, p.prefix, p.owner)
		}
	}
	e := ep
	e.owner = r.owner
	e.segs = strings.Split(strings.TrimPrefix(e.Path, "/"), "/")
	for _, s := range e.segs {
		if strings.HasPrefix(s, ":") {
			e.hasVars = true
		}
	}
	r.reg.endpoints = append(r.reg.endpoints, &e)
	return nil
}

// ReservePrefix claims every path under prefix (relative to the base path) for a handler the
// plugin serves itself, such as the portal's pages under /ui/ (D14). Endpoints registered
// under it by anyone else fail at start-up.
func (r *Registrar) ReservePrefix(prefix string, h http.Handler) error {
	for _, p := range r.reg.reserved {
		if strings.HasPrefix(prefix, p.prefix) || strings.HasPrefix(p.prefix, prefix) {
			return fmt.Errorf("plugin %q: prefix %s overlaps %s reserved by %q", r.owner, prefix, p.prefix, p.owner)
		}
	}
	for _, ep := range r.reg.endpoints {
		if strings.HasPrefix(ep.Path, prefix) {
			return fmt.Errorf("plugin %q: prefix %s collides with endpoint %s registered by %q", r.owner, prefix, ep.Path, ep.owner)
		}
	}
	r.reg.reserved = append(r.reg.reserved, reservedPrefix{prefix: prefix, owner: r.owner, handler: h})
	return nil
}

// Before registers a before hook.
func (r *Registrar) Before(m Matcher, h BeforeHook) {
	r.reg.before = append(r.reg.before, ownedBefore{owner: r.owner, match: m, hook: h})
}

// After registers an after hook.
func (r *Registrar) After(m Matcher, h AfterHook) {
	r.reg.after = append(r.reg.after, ownedAfter{owner: r.owner, match: m, hook: h})
}

// Use registers a path middleware.
func (r *Registrar) Use(m Matcher, mw Middleware) {
	r.reg.middlewares = append(r.reg.middlewares, ownedMiddleware{owner: r.owner, match: m, mw: mw})
}

// OnRequest registers a request interceptor.
func (r *Registrar) OnRequest(f RequestInterceptor) { r.reg.onRequest = append(r.reg.onRequest, f) }

// OnResponse registers a response interceptor.
func (r *Registrar) OnResponse(f ResponseInterceptor) {
	r.reg.onResponse = append(r.reg.onResponse, f)
}

// SessionGate registers a gate on session creation (D11).
func (r *Registrar) SessionGate(g SessionGate) { r.reg.gates = append(r.reg.gates, g) }

// RateLimit adds a rule for a path or prefix ("/two-factor/*"). Rules from configuration
// override plugin rules, which override the built-in ones.
func (r *Registrar) RateLimit(rule PathRateRule) error {
	if rule.Window <= 0 || rule.Max <= 0 || rule.Path == "" {
		return fmt.Errorf("plugin %q: rate-limit rule %q needs a path, a positive window and max", r.owner, rule.Path)
	}
	r.reg.rateRules = append(r.reg.rateRules, rule)
	return nil
}

// Errors declares the plugin's error vocabulary. A code already declared with another
// message is an error naming its owner.
func (r *Registrar) Errors(codes ...ErrorCode) error {
	for _, c := range codes {
		if prev, ok := r.reg.errors[c.Code]; ok && prev.code.Message != c.Message {
			return fmt.Errorf("plugin %q: error code %s is already declared by %q with another message", r.owner, c.Code, prev.owner)
		}
		r.reg.errors[c.Code] = ownedCode{owner: r.owner, code: c}
	}
	return nil
}

// Authenticator registers a gateway credential resolver at a position (Order* constants).
func (r *Registrar) Authenticator(order int, a Authenticator) {
	r.reg.authenticators = append(r.reg.authenticators, orderedAuth{order: order, owner: r.owner, a: a})
}

// CredentialHeader declares a request header that carries a credential of this plugin (an
// API-key header). The gateway strips it from upstream requests unless pass_credentials
// (D8).
func (r *Registrar) CredentialHeader(name string) {
	r.reg.credentialHeaders = append(r.reg.credentialHeaders, http.CanonicalHeaderKey(name))
}

// VerificationEmailer sends the email-verification message for user in place of the core's
// link (see [Registrar.VerificationEmail]).
type VerificationEmailer func(ctx context.Context, user storage.Record, callbackURL string) error

// VerificationEmail replaces the core's verification link with the plugin's own message
// wherever the core sends one (sign-up, sign-in of an unverified user,
// /send-verification-email): the email-otp plugin sends a code instead. One plugin at most.
func (r *Registrar) VerificationEmail(f VerificationEmailer) error {
	if r.reg.verifyEmail != nil {
		return fmt.Errorf("plugin %q: the verification email is already replaced by plugin %q", r.owner, r.reg.verifyEmailOwner)
	}
	r.reg.verifyEmail, r.reg.verifyEmailOwner = f, r.owner
	return nil
}

// Provide publishes the plugin's Go API so other plugins can reach it with Engine.Plugin.
func (r *Registrar) Provide(api any) { r.reg.apis[r.owner] = api }

// registry is everything declared, frozen once the engine is built.
type registry struct {
	schema            *storage.Schema
	endpoints         []*Endpoint
	reserved          []reservedPrefix
	before            []ownedBefore
	after             []ownedAfter
	middlewares       []ownedMiddleware
	onRequest         []RequestInterceptor
	onResponse        []ResponseInterceptor
	gates             []SessionGate
	rateRules         []PathRateRule
	errors            map[string]ownedCode
	authenticators    []orderedAuth
	apis              map[string]any
	userScoped        map[string]string
	credentialHeaders []string
	plugins           []string // IDs in registration order
	verifyEmail       VerificationEmailer
	verifyEmailOwner  string
	conflicts         []uniqueConflict  // see conflicts.go
	credentials       []credentialModel // see claim.go
	requires          []requirement     // see requires.go
	errorPage         string            // see errorpage.go
	errorPageOwner    string
}

type reservedPrefix struct {
	prefix  string
	owner   string
	handler http.Handler
}

type ownedBefore struct {
	owner string
	match Matcher
	hook  BeforeHook
}

type ownedAfter struct {
	owner string
	match Matcher
	hook  AfterHook
}

type ownedMiddleware struct {
	owner string
	match Matcher
	mw    Middleware
}

type ownedCode struct {
	owner string
	code  ErrorCode
}

type orderedAuth struct {
	order int
	owner string
	a     Authenticator
}

func samePattern(a, b string) bool {
	as, bs := strings.Split(a, "/"), strings.Split(b, "/")
	if len(as) != len(bs) {
		return false
	}
	for i := range as {
		if strings.HasPrefix(as[i], ":") && strings.HasPrefix(bs[i], ":") {
			continue
		}
		if as[i] != bs[i] {
			return false
		}
	}
	return true
}

// orderPlugins sorts plugins so that dependencies come first, ties broken by ID (D10: never
// map order). A missing dependency or a cycle is an error naming the plugins.
func orderPlugins(plugins []Plugin) ([]Plugin, error) {
	byID := map[string]Plugin{}
	for _, p := range plugins {
		if _, dup := byID[p.ID()]; dup {
			return nil, fmt.Errorf("plugin %q is enabled twice", p.ID())
		}
		byID[p.ID()] = p
	}
	deps := func(p Plugin) []string {
		if d, ok := p.(Dependent); ok {
			return d.DependsOn()
		}
		return nil
	}
	for _, p := range plugins {
		for _, d := range deps(p) {
			if _, ok := byID[d]; !ok {
				return nil, fmt.Errorf("plugin %q requires plugin %q, which is not enabled", p.ID(), d)
			}
		}
	}
	ids := make([]string, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var out []Plugin
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(id string, path []string) error
	visit = func(id string, path []string) error {
		switch state[id] {
		case 2:
			return nil
		case 1:
			return fmt.Errorf("plugin dependency cycle: %s", strings.Join(append(path, id), " → "))
		}
		state[id] = 1
		ds := append([]string(nil), deps(byID[id])...)
		sort.Strings(ds)
		for _, d := range ds {
			if err := visit(d, append(path, id)); err != nil {
				return err
			}
		}
		state[id] = 2
		out = append(out, byID[id])
		return nil
	}
	for _, id := range ids {
		if err := visit(id, nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}
