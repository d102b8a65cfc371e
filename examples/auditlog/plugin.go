package auditlog

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/ratelimit"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// The actions the plugin records.
const (
	ActionSignUp         = "sign-up"
	ActionSignIn         = "sign-in"
	ActionSignOut        = "sign-out"
	ActionChangePassword = "change-password"
	ActionResetPassword  = "reset-password"
)

// AllActions lists every action, in the order the documentation gives them.
var AllActions = []string{ActionSignUp, ActionSignIn, ActionSignOut, ActionChangePassword, ActionResetPassword}

// Defaults and bounds.
const (
	DefaultRetention = 90 * 24 * time.Hour
	DefaultLimit     = 20
	MaxLimit         = 100
	// maxUserAgent bounds the stored User-Agent (bytes): the header is client-controlled.
	maxUserAgent = 512
	// sweepEvery is the least time between two retention sweeps.
	sweepEvery = time.Minute
)

// ListRateRule is the rate limit of GET /audit-log/list: 30 requests per 60 s per client IP.
var ListRateRule = ratelimit.Rule{Window: 60 * time.Second, Max: 30}

// Plugin is the audit-log plugin (ID "audit-log", Caddy module gatehouse.plugins.audit_log).
// Its fields are its configuration; the zero value records every action and keeps entries
// for 90 days.
type Plugin struct {
	// Retention is how long entries are kept; older ones are deleted in the background after
	// a write. Default: 90d.
	Retention authcore.Duration `json:"retention,omitempty"`
	// Actions are the actions recorded (see AllActions). Default: all of them.
	Actions []string `json:"actions,omitempty"`

	engine    *authcore.Engine
	retention time.Duration
	record    map[string]bool

	sweeps *sweepState
}

// sweepState remembers the last retention sweep (a pointer: the Plugin value is copied by
// Caddy's module registry).
type sweepState struct {
	mu   sync.Mutex
	last time.Time
}

// ID is the plugin's ID.
func (*Plugin) ID() string { return "audit-log" }

// Register validates the options and declares everything the plugin adds.
func (p *Plugin) Register(r *authcore.Registrar) error {
	if err := p.setup(); err != nil {
		return fmt.Errorf("plugin %q: %w", p.ID(), err)
	}
	p.engine = r.Engine()
	if err := registerSchema(r); err != nil {
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
	if err := r.RateLimit(authcore.PathRateRule{Path: PathList, Rule: ListRateRule}); err != nil {
		return err
	}
	r.Use(authcore.MatchPrefix(pathPrefix), jsonOnly)
	r.OnResponse(func(c *authcore.Call) { c.Header().Set(HeaderAuditLog, "on") })
	p.registerHooks(r)
	r.Provide(p)
	return nil
}

// setup applies the defaults and checks the options, naming the offending one.
func (p *Plugin) setup() error {
	p.retention = p.Retention.D()
	switch {
	case p.retention < 0:
		return fmt.Errorf("retention must not be negative")
	case p.retention == 0:
		p.retention = DefaultRetention
	}
	p.sweeps = &sweepState{}
	p.record = map[string]bool{}
	actions := p.Actions
	if len(actions) == 0 {
		actions = AllActions
	}
	for _, a := range actions {
		if !slices.Contains(AllActions, a) {
			return fmt.Errorf("actions: %q is not one of %s", a, strings.Join(AllActions, ", "))
		}
		p.record[a] = true
	}
	return nil
}

// Entry is one recorded action, as other plugins and Go callers see it.
type Entry struct {
	UserID, Action string
	// Route is the API route of the call; Method the sign-in method of a sign-in ("email",
	// "magic-link", "two-factor", ...).
	Route, Method, IP, UserAgent string
	At                           time.Time
}

// Record queues an entry for writing after the response, if its action is enabled. It is
// the plugin's Go API, published with Registrar.Provide: another plugin reaches it with
// engine.Plugin("audit-log") and a type assertion to interface{ Record(Entry) }.
func (p *Plugin) Record(e Entry) {
	if !p.record[e.Action] || e.UserID == "" {
		return
	}
	p.engine.Defer("audit-log "+e.Action, func(ctx context.Context) error { return p.write(ctx, e) })
}

// write stores an entry (skipping users that do not exist: a sign-up answered with a
// synthetic user, see hooks.go), stamps the user's lastSeenAt on sign-in, and sweeps old
// entries now and then. It runs on the engine's background queue; its error is logged there.
func (p *Plugin) write(ctx context.Context, e Entry) error {
	user, err := p.engine.UserByID(ctx, e.UserID)
	if err != nil {
		return fmt.Errorf("audit-log: looking up the user: %w", err)
	}
	if user == nil {
		return nil
	}
	id, err := p.engine.NewID()
	if err != nil {
		return err
	}
	rec := storage.Record{"id": id, "userId": e.UserID, "action": e.Action, "createdAt": e.At}
	for k, v := range map[string]string{"route": e.Route, "method": e.Method, "ip": e.IP, "userAgent": clip(e.UserAgent, maxUserAgent)} {
		if v != "" {
			rec[k] = v
		}
	}
	if _, err := p.engine.Store().Create(ctx, ModelAuditEntry, rec); err != nil {
		return fmt.Errorf("audit-log: writing a %s entry: %w", e.Action, err)
	}
	if e.Action == ActionSignIn {
		if _, err := p.engine.UpdateUser(ctx, e.UserID, storage.Record{FieldLastSeenAt: e.At}); err != nil {
			return fmt.Errorf("audit-log: updating lastSeenAt: %w", err)
		}
	}
	return p.sweep(ctx)
}

// sweep deletes entries older than the retention, at most once a minute. The engine's own
// sweeper covers only core models (no plugin hook), so the plugin sweeps on write: a log
// nobody writes to keeps its old rows until the next write, which is harmless.
func (p *Plugin) sweep(ctx context.Context) error {
	now := p.engine.Clock().Now()
	st := p.sweeps
	st.mu.Lock()
	due := st.last.IsZero() || now.Sub(st.last) >= sweepEvery
	if due {
		st.last = now
	}
	st.mu.Unlock()
	if !due {
		return nil
	}
	if _, err := p.engine.Store().DeleteMany(ctx, ModelAuditEntry, storage.Lt("createdAt", now.Add(-p.retention))); err != nil {
		return fmt.Errorf("audit-log: sweeping old entries: %w", err)
	}
	return nil
}

// clip cuts s to at most n bytes on a rune boundary and drops invalid UTF-8.
func clip(s string, n int) string {
	s = strings.ToValidUTF8(s, "")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
