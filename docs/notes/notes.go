// Package notes is the example plugin of docs/plugins.md: every Go snippet of that document
// is in this package (or in cmd/main.go), compiled by `go vet` and exercised by `go test`;
// TestSnippetsInDoc fails when a ```go block of the document is not found here verbatim.
package notes

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/ratelimit"
	"github.com/gatehouse-auth/gatehouse/caddymodule/caddyopts"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// --- snippet: plugin ---

// Plugin is the "notes" plugin. Its exported fields are its configuration (JSON tags in
// snake_case; durations as authcore.Duration so "7d" works in JSON and Caddyfile alike).
type Plugin struct {
	MaxNotes int               `json:"max_notes,omitempty"`
	TTL      authcore.Duration `json:"ttl,omitempty"`

	engine *authcore.Engine // kept from Register for request time
}

// ID is the Better Auth-style kebab-case plugin id.
func (p *Plugin) ID() string { return "notes" }

// Register declares everything the plugin adds. It runs once, while the engine is built.
func (p *Plugin) Register(r *authcore.Registrar) error {
	if p.MaxNotes < 0 {
		return errors.New("max_notes must not be negative")
	}
	if p.MaxNotes == 0 {
		p.MaxNotes = 100
	}
	p.engine = r.Engine()
	if err := p.schema(r); err != nil {
		return err
	}
	if err := p.routes(r); err != nil {
		return err
	}
	if err := p.hooks(r); err != nil {
		return err
	}
	r.Provide(NotesAPI(p)) // other plugins: authcore.PluginAPI[NotesAPI](e, "notes")
	return r.Errors(ErrNoteNotFound, ErrTooManyNotes)
}

// --- end ---

// --- snippet: schema ---

// ModelNote is the plugin's own model.
const ModelNote = "note"

func (p *Plugin) schema(r *authcore.Registrar) error {
	err := r.Model(storage.Model{Name: ModelNote, Fields: []storage.Field{
		{Name: "userId", Type: storage.TypeString, Required: true,
			References: &storage.Reference{Model: "user", OnDelete: storage.Cascade}},
		{Name: "text", Type: storage.TypeString, Required: true},
		{Name: "createdAt", Type: storage.TypeDate, Required: true, Indexed: true},
	}})
	if err != nil {
		return err
	}
	// Writes to a note invalidate its owner's cached sessions on this node.
	r.UserScoped(ModelNote, "userId")
	// A new field on the core user model; clients may not set it (ServerOnly).
	return r.Extend("user", storage.Field{Name: "noteCount", Type: storage.TypeNumber,
		Default: int64(0), ServerOnly: true})
}

// --- end ---

// --- snippet: errors ---

// The plugin's error vocabulary: declared with r.Errors, answered with Code.With(status).
var (
	ErrNoteNotFound = authcore.ErrorCode{Code: "NOTE_NOT_FOUND", Message: "Note not found"}
	ErrTooManyNotes = authcore.ErrorCode{Code: "TOO_MANY_NOTES", Message: "Too many notes"}
)

// --- end ---

// --- snippet: routes ---

func (p *Plugin) routes(r *authcore.Registrar) error {
	noteSchema := map[string]any{"type": "object", "required": []any{"id", "text"},
		"properties": map[string]any{
			"id": map[string]any{"type": "string"}, "text": map[string]any{"type": "string"},
			"createdAt": map[string]any{"type": "string", "format": "date-time"},
		}}
	for _, ep := range []authcore.Endpoint{{
		Method: http.MethodPost, Path: "/notes/add", Auth: authcore.AuthSession,
		Body:    []authcore.Param{authcore.String("text").Req().Len(1, 2000).Doc("The note.")},
		Summary: "Add a note", Tags: []string{"Notes"},
		Response: map[string]any{"type": "object", "properties": map[string]any{"note": noteSchema}},
		Errors:   []authcore.ErrorCode{ErrTooManyNotes},
		Handler:  p.add,
	}, {
		Method: http.MethodGet, Path: "/notes/list", Auth: authcore.AuthSession,
		Query:   []authcore.Param{authcore.Number("limit"), authcore.Number("offset")},
		Summary: "List my notes", Tags: []string{"Notes"},
		Response: map[string]any{"type": "object", "required": []any{"notes"},
			"properties": map[string]any{"notes": map[string]any{"type": "array", "items": noteSchema}}},
		Handler: p.list,
	}} {
		if err := r.Endpoint(ep); err != nil {
			return err
		}
	}
	return r.RateLimit(authcore.PathRateRule{Path: "/notes/*",
		Rule: ratelimit.Rule{Window: time.Minute, Max: 30}})
}

func (p *Plugin) add(c *authcore.Call) (any, error) {
	s, err := c.RequireSession()
	if err != nil {
		return nil, err
	}
	ctx, st := c.Context(), p.engine.Store()
	n, err := st.Count(ctx, ModelNote, storage.Eq("userId", s.UserID()))
	if err != nil {
		return nil, authcore.Internal(err)
	}
	if n >= p.MaxNotes {
		return nil, ErrTooManyNotes.With(http.StatusBadRequest)
	}
	id, err := p.engine.Random().ID()
	if err != nil {
		return nil, authcore.Internal(err)
	}
	rec, err := st.Create(ctx, ModelNote, storage.Record{"id": id, "userId": s.UserID(),
		"text": c.Body.String("text"), "createdAt": p.engine.Clock().Now()})
	if err != nil {
		return nil, authcore.Internal(err)
	}
	return map[string]any{"note": p.engine.Public(ModelNote, rec)}, nil
}

func (p *Plugin) list(c *authcore.Call) (any, error) {
	s, err := c.RequireSession()
	if err != nil {
		return nil, err
	}
	limit, _ := c.Query.Int("limit")
	offset, _ := c.Query.Int("offset")
	if limit <= 0 || limit > 100 {
		limit = 20
	}
	recs, err := p.engine.Store().FindMany(c.Context(), ModelNote, storage.Query{
		Where: storage.Eq("userId", s.UserID()), Sort: []storage.SortField{{Field: "createdAt", Desc: true}},
		Limit: int(limit), Offset: int(max(offset, 0)),
	})
	if err != nil {
		return nil, authcore.Internal(err)
	}
	notes := make([]map[string]any, 0, len(recs))
	for _, rec := range recs {
		notes = append(notes, p.engine.Public(ModelNote, rec))
	}
	return map[string]any{"notes": notes}, nil
}

// --- end ---

// --- snippet: hooks ---

func (p *Plugin) hooks(r *authcore.Registrar) error {
	// Before hook: refuse sign-ups from one domain (a non-nil response or error stops the call).
	r.Before(authcore.MatchPath(authcore.PathSignUpEmail), func(c *authcore.Call) (any, error) {
		if strings.HasSuffix(c.Body.String("email"), "@blocked.example") {
			return nil, authcore.ErrorCode{Code: "DOMAIN_BLOCKED", Message: "Domain blocked"}.With(403)
		}
		return nil, nil
	})
	// After hook: runs after the endpoint; c.Returned is the response, c.NewSession a new session.
	r.After(authcore.MatchPath(authcore.PathSignInEmail), func(c *authcore.Call) error {
		if c.NewSession != nil {
			c.Header().Set("X-Notes-Welcome", "1")
		}
		return nil
	})
	// Path middleware: runs before validation and the hooks for matching routes.
	r.Use(authcore.MatchPrefix("/notes/"), func(c *authcore.Call) error {
		if c.UserAgent() == "" {
			return authcore.ErrorCode{Code: "USER_AGENT_REQUIRED", Message: "User agent required"}.With(400)
		}
		return nil
	})
	// Interceptors: first and last for every auth-API request.
	r.OnRequest(func(c *authcore.Call) error { return nil })
	r.OnResponse(func(c *authcore.Call) { c.Header().Set("X-Notes-Plugin", "1") })
	// Session gate: the one step where any sign-in method is about to create a session.
	r.SessionGate(func(c *authcore.Call, user storage.Record, opt authcore.SignInOptions) error {
		if user.Bool("notesLocked") {
			return authcore.ErrorCode{Code: "NOTES_LOCKED", Message: "Account locked"}.With(403)
		}
		return nil
	})
	return nil
}

// --- end ---

// --- snippet: authenticator ---

// keyAuth lets a gateway request act as one user with a shared key in X-Notes-Key.
type keyAuth struct {
	engine      *authcore.Engine
	key, userID string
}

func (a keyAuth) Authenticate(r *http.Request) (*authcore.Principal, bool, error) {
	k := r.Header.Get("X-Notes-Key")
	if k == "" {
		return nil, false, nil // no credential of this kind
	}
	if subtle.ConstantTimeCompare([]byte(k), []byte(a.key)) != 1 {
		return nil, true, authcore.ErrorCode{Code: "INVALID_NOTES_KEY", Message: "Invalid key"}.With(401)
	}
	u, err := a.engine.Store().FindOne(r.Context(), "user", storage.ByID(a.userID))
	if err != nil {
		return nil, true, authcore.Internal(err)
	}
	return &authcore.Principal{Method: "notes-key", UserID: u.ID(), User: u}, true, nil
}

func registerKeyAuth(r *authcore.Registrar, key, userID string) {
	r.Authenticator(authcore.OrderAPIKey+10, keyAuth{engine: r.Engine(), key: key, userID: userID})
	r.CredentialHeader("X-Notes-Key") // stripped from upstream requests (D8)
}

// --- end ---

// --- snippet: api ---

// NotesAPI is what the notes plugin publishes with r.Provide.
type NotesAPI interface {
	CountNotes(ctx context.Context, userID string) (int, error)
}

// CountNotes implements NotesAPI.
func (p *Plugin) CountNotes(ctx context.Context, userID string) (int, error) {
	return p.engine.Store().Count(ctx, ModelNote, storage.Eq("userId", userID))
}

// Reminders uses the notes plugin: start-up fails if it is not enabled.
type Reminders struct{ engine *authcore.Engine }

func (p *Reminders) ID() string { return "reminders" }

func (p *Reminders) Register(r *authcore.Registrar) error {
	r.Requires("notes")
	p.engine = r.Engine()
	return nil
}

func (p *Reminders) pending(ctx context.Context, userID string) (int, error) {
	notes, ok := authcore.PluginAPI[NotesAPI](p.engine, "notes")
	if !ok {
		return 0, errors.New("notes plugin not enabled")
	}
	return notes.CountNotes(ctx, userID)
}

// --- end ---

// --- snippet: module ---

func init() { caddy.RegisterModule(&Plugin{}) }

// CaddyModule names the plugin in Caddy's gatehouse.plugins namespace (snake_case).
func (*Plugin) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "gatehouse.plugins.notes", New: func() caddy.Module { return new(Plugin) }}
}

// UnmarshalCaddyfile reads `notes [{ max_notes <n>; ttl <duration> }]` in the gatehouse block.
func (p *Plugin) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the plugin name
	if d.NextArg() {
		return d.ArgErr()
	}
	return caddyopts.Parse(d, "notes", map[string]caddyopts.Opt{
		"max_notes": caddyopts.Int(&p.MaxNotes),
		"ttl":       caddyopts.Duration((*time.Duration)(&p.TTL)),
	})
}

var (
	_ caddy.Module          = (*Plugin)(nil)
	_ caddyfile.Unmarshaler = (*Plugin)(nil)
	_ authcore.Plugin       = (*Plugin)(nil)
)

// --- end ---
