package authcore_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/storage"
	"github.com/gatehouse-auth/gatehouse/storage/memory"
)

// Plugin mechanics (DESIGN "Plugins", D10, D11): registration conflicts, ordering, hooks,
// middlewares, gates, interceptors, published APIs, schema extensions, reserved prefixes,
// and what a failing plugin can and cannot do to a response.

// probePlugin is a test plugin: an ID, optional dependencies and a Register function.
type probePlugin struct {
	id   string
	deps []string
	reg  func(r *authcore.Registrar) error
}

func (p *probePlugin) ID() string          { return p.id }
func (p *probePlugin) DependsOn() []string { return p.deps }
func (p *probePlugin) Register(r *authcore.Registrar) error {
	if p.reg == nil {
		return nil
	}
	return p.reg(r)
}

func pluginMemStore() storage.Store { return memory.NewStore() }

// pluginEngineCfg builds an engine directly (no server) to test start-up; it is closed at
// cleanup when it starts.
func pluginEngineCfg(t *testing.T, cfg authcore.Config, plugins ...authcore.Plugin) (*authcore.Engine, error) {
	t.Helper()
	if cfg.BaseURL == "" {
		cfg.BaseURL = authcoretest.BaseURL
	}
	if cfg.Secret == "" {
		cfg.Secret = authcoretest.Secret
	}
	cfg.SweepInterval = -1
	e, err := authcore.New(cfg, authcore.WithStore(pluginMemStore()), authcore.WithPlugins(plugins...))
	if err == nil {
		t.Cleanup(func() { e.Close() })
	}
	return e, err
}

func pluginEngine(t *testing.T, plugins ...authcore.Plugin) (*authcore.Engine, error) {
	t.Helper()
	return pluginEngineCfg(t, authcore.Config{}, plugins...)
}

// wantStartError asserts that New fails and that the error names every given string.
func wantStartError(t *testing.T, err error, names ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("engine started; want an error naming %q", names)
	}
	for _, n := range names {
		if !strings.Contains(err.Error(), n) {
			t.Errorf("error %q does not name %q", err, n)
		}
	}
}

func endpointOnly(id, method, path string) *probePlugin {
	return &probePlugin{id: id, reg: func(r *authcore.Registrar) error {
		return r.Endpoint(authcore.Endpoint{Method: method, Path: path, Handler: func(*authcore.Call) (any, error) { return id, nil }})
	}}
}

func TestPluginDuplicateEndpoint(t *testing.T) {
	_, err := pluginEngine(t, endpointOnly("first", "POST", "/probe/x"), endpointOnly("second", "POST", "/probe/x"))
	wantStartError(t, err, `"first"`, `"second"`, "/probe/x")
	// Passed in the other order, the same two are named.
	_, err = pluginEngine(t, endpointOnly("second", "POST", "/probe/x"), endpointOnly("first", "POST", "/probe/x"))
	wantStartError(t, err, `"first"`, `"second"`)
	_, err = pluginEngine(t, endpointOnly("thief", "POST", authcore.PathSignInEmail))
	wantStartError(t, err, `"thief"`, `"core"`, authcore.PathSignInEmail)
	// Parameter names do not make two patterns different.
	_, err = pluginEngine(t, endpointOnly("p1", "GET", "/probe/:a/x"), endpointOnly("p2", "GET", "/probe/:b/x"))
	wantStartError(t, err, `"p1"`, `"p2"`)
	_, err = pluginEngine(t, endpointOnly("bad-method", "PUT", "/probe/put"))
	wantStartError(t, err, `"bad-method"`, "GET or POST")
	_, err = pluginEngine(t, &probePlugin{id: "twice"}, &probePlugin{id: "twice"})
	wantStartError(t, err, `"twice"`)
	// The same path with another method is not a duplicate.
	if _, err := pluginEngine(t, endpointOnly("getter", "GET", "/probe/x"), endpointOnly("poster", "POST", "/probe/x")); err != nil {
		t.Fatalf("GET and POST of one path: %v", err)
	}
}

func TestPluginDuplicateModelField(t *testing.T) {
	extend := func(id, model, field string) *probePlugin {
		return &probePlugin{id: id, reg: func(r *authcore.Registrar) error {
			return r.Extend(model, storage.Field{Name: field, Type: storage.TypeString})
		}}
	}
	_, err := pluginEngine(t, extend("nick-a", "user", "nickname"), extend("nick-b", "user", "nickname"))
	wantStartError(t, err, `"nick-a"`, `"nick-b"`, "nickname")
	_, err = pluginEngine(t, extend("shadow", "user", "email"))
	wantStartError(t, err, `"shadow"`, `"core"`, "email")
	model := func(id string) *probePlugin {
		return &probePlugin{id: id, reg: func(r *authcore.Registrar) error {
			return r.Model(storage.Model{Name: "gadget", Fields: []storage.Field{{Name: "label", Type: storage.TypeString}}})
		}}
	}
	_, err = pluginEngine(t, model("gadget-a"), model("gadget-b"))
	wantStartError(t, err, `"gadget-a"`, `"gadget-b"`, "gadget")
	// Different fields on one model are fine.
	if _, err := pluginEngine(t, extend("f1", "user", "nickname"), extend("f2", "user", "pronouns")); err != nil {
		t.Fatal(err)
	}
}

func TestPluginDuplicateErrorCode(t *testing.T) {
	codes := func(id string, cs ...authcore.ErrorCode) *probePlugin {
		return &probePlugin{id: id, reg: func(r *authcore.Registrar) error { return r.Errors(cs...) }}
	}
	_, err := pluginEngine(t, codes("e1", authcore.ErrorCode{Code: "PROBE_FAILED", Message: "Probe failed"}),
		codes("e2", authcore.ErrorCode{Code: "PROBE_FAILED", Message: "Something else"}))
	wantStartError(t, err, "PROBE_FAILED", `"e1"`, `"e2"`)
	_, err = pluginEngine(t, codes("rewriter", authcore.ErrorCode{Code: "INVALID_ORIGIN", Message: "Whatever"}))
	wantStartError(t, err, "INVALID_ORIGIN", `"core"`)
	// The same code with the same message is shared vocabulary, not a conflict.
	e, err := pluginEngine(t, codes("e1", authcore.ErrorCode{Code: "PROBE_FAILED", Message: "Probe failed"}),
		codes("e2", authcore.ErrorCode{Code: "PROBE_FAILED", Message: "Probe failed"}))
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, cs := range e.ErrorCodes() {
		for _, c := range cs {
			found = found || c.Code == "PROBE_FAILED"
		}
	}
	if !found {
		t.Fatal("declared code not listed")
	}
}

func TestPluginDependencies(t *testing.T) {
	_, err := pluginEngine(t, &probePlugin{id: "needy", deps: []string{"absent-plugin"}})
	wantStartError(t, err, `"needy"`, `"absent-plugin"`)
	_, err = pluginEngine(t, &probePlugin{id: "a", deps: []string{"b"}}, &probePlugin{id: "b", deps: []string{"c"}}, &probePlugin{id: "c", deps: []string{"a"}})
	wantStartError(t, err, "cycle", "a", "b", "c")
	_, err = pluginEngine(t, &probePlugin{id: "selfish", deps: []string{"selfish"}})
	wantStartError(t, err, "cycle", "selfish")
	// A failing Register names its plugin.
	_, err = pluginEngine(t, &probePlugin{id: "broken", reg: func(*authcore.Registrar) error { return errors.New("no can do") }})
	wantStartError(t, err, `"broken"`, "no can do")
}

// probeEvents records what plugins saw, in order.
type probeEvents struct {
	mu  sync.Mutex
	log []string
}

func (l *probeEvents) add(format string, args ...any) {
	l.mu.Lock()
	l.log = append(l.log, fmt.Sprintf(format, args...))
	l.mu.Unlock()
}

func (l *probeEvents) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.log
	l.log = nil
	return out
}

func TestPluginHookOrder(t *testing.T) {
	// zeta ← alpha ← beta (alpha needs zeta, beta needs alpha), mid alone. Dependencies
	// first, then by ID: zeta, alpha, beta, mid — never the order they were passed in.
	want := []string{"zeta", "alpha", "beta", "mid"}
	deps := map[string][]string{"alpha": {"zeta"}, "beta": {"alpha"}}
	orders := [][]string{
		{"mid", "beta", "alpha", "zeta"},
		{"zeta", "alpha", "beta", "mid"},
		{"beta", "zeta", "mid", "alpha"},
		{"alpha", "mid", "zeta", "beta"},
	}
	for _, order := range orders {
		t.Run(strings.Join(order, ","), func(t *testing.T) {
			log := &probeEvents{}
			var registered []string
			var plugins []authcore.Plugin
			for _, id := range order {
				plugins = append(plugins, &probePlugin{id: id, deps: deps[id], reg: func(r *authcore.Registrar) error {
					registered = append(registered, r.ID())
					ok := authcore.MatchPath(authcore.PathOK)
					r.OnRequest(func(c *authcore.Call) error { log.add("request:%s", id); return nil })
					r.Use(ok, func(c *authcore.Call) error { log.add("middleware:%s", id); return nil })
					r.Before(ok, func(c *authcore.Call) (any, error) { log.add("before:%s", id); return nil, nil })
					r.After(ok, func(c *authcore.Call) error { log.add("after:%s", id); return nil })
					r.OnResponse(func(c *authcore.Call) { log.add("response:%s", id) })
					return nil
				}})
			}
			h := authcoretest.New(t, authcoretest.WithPlugins(plugins...))
			if !slices.Equal(registered, want) || !slices.Equal(h.Engine.Plugins(), want) {
				t.Fatalf("registered %v, Plugins() %v, want %v", registered, h.Engine.Plugins(), want)
			}
			log.take()
			if r := h.Client().Get(authcore.PathOK); r.StatusCode != 200 {
				t.Fatalf("/ok: %d", r.StatusCode)
			}
			var expect []string
			for _, stage := range []string{"request", "middleware", "before", "after", "response"} {
				for _, id := range want {
					expect = append(expect, stage+":"+id)
				}
			}
			if got := log.take(); !slices.Equal(got, expect) {
				t.Fatalf("events\n got %v\nwant %v", got, expect)
			}
			// Matchers select: another route runs only the unconditional interceptors.
			h.Client().Get(authcore.PathGetSession)
			for _, ev := range log.take() {
				if !strings.HasPrefix(ev, "request:") && !strings.HasPrefix(ev, "response:") {
					t.Fatalf("hook for /ok ran on /get-session: %s", ev)
				}
			}
		})
	}
}

func TestBeforeHookShortCircuits(t *testing.T) {
	log := &probeEvents{}
	var calls atomic.Int32
	short := &probePlugin{id: "a-short", reg: func(r *authcore.Registrar) error {
		r.Before(authcore.MatchPath("/probe/echo"), func(c *authcore.Call) (any, error) {
			log.add("before:a")
			if c.Query.String("short") == "1" {
				return map[string]any{"from": "before"}, nil
			}
			return nil, nil
		})
		return r.Endpoint(authcore.Endpoint{Method: "GET", Path: "/probe/echo", Query: []authcore.Param{authcore.String("short")},
			Handler: func(c *authcore.Call) (any, error) { calls.Add(1); return map[string]any{"from": "endpoint"}, nil }})
	}}
	late := &probePlugin{id: "b-late", reg: func(r *authcore.Registrar) error {
		r.Before(authcore.MatchPath("/probe/echo"), func(c *authcore.Call) (any, error) { log.add("before:b"); return nil, nil })
		r.After(authcore.MatchPath("/probe/echo"), func(c *authcore.Call) error {
			log.add("after:b saw %v", c.Returned)
			return nil
		})
		return nil
	}}
	h := authcoretest.New(t, authcoretest.WithPlugins(late, short))
	r := h.Client().Get("/probe/echo?short=1")
	if r.StatusCode != 200 || string(r.Body) != `{"from":"before"}` {
		t.Fatalf("short-circuit: %d %s", r.StatusCode, r.Body)
	}
	if calls.Load() != 0 {
		t.Fatal("the endpoint ran after a before hook answered")
	}
	if got := log.take(); !slices.Equal(got, []string{"before:a", "after:b saw map[from:before]"}) {
		t.Fatalf("events %v", got)
	}
	r = h.Client().Get("/probe/echo")
	if string(r.Body) != `{"from":"endpoint"}` || calls.Load() != 1 {
		t.Fatalf("no short-circuit: %s (%d calls)", r.Body, calls.Load())
	}
	if got := log.take(); !slices.Equal(got, []string{"before:a", "before:b", "after:b saw map[from:endpoint]"}) {
		t.Fatalf("events %v", got)
	}
}

func TestBeforeHookError(t *testing.T) {
	var calls atomic.Int32
	p := &probePlugin{id: "denier", reg: func(r *authcore.Registrar) error {
		r.Before(authcore.MatchPath(authcore.PathSignInEmail), func(c *authcore.Call) (any, error) {
			return nil, &authcore.Error{Status: http.StatusForbidden, Code: "PROBE_DENIED", Message: "Denied by probe"}
		})
		r.After(authcore.MatchPath(authcore.PathSignInEmail), func(c *authcore.Call) error { calls.Add(1); return nil })
		return nil
	}}
	h := authcoretest.New(t, authcoretest.WithPlugins(p))
	h.Engine.CreateUser(t.Context(), storage.Record{"name": "A", "email": "a@example.com"}, "")
	before := inpRowCounts(t, h)
	r := h.Client().Post(authcore.PathSignInEmail, map[string]any{"email": "a@example.com", "password": inpPassword})
	wantEnvelope(t, "denied", r, 403, "PROBE_DENIED", "Denied by probe")
	inpSameRows(t, h, before)
	if calls.Load() != 0 {
		t.Fatal("after hooks ran after a before hook failed the call")
	}
}

func TestAfterHookReplacesResponse(t *testing.T) {
	p := &probePlugin{id: "rewriter", reg: func(r *authcore.Registrar) error {
		r.After(authcore.MatchPath(authcore.PathOK), func(c *authcore.Call) error {
			c.Returned = map[string]any{"ok": "replaced", "was": c.Returned}
			c.Header().Set("X-Rewritten", "yes")
			return nil
		})
		r.After(authcore.MatchPath(authcore.PathGetSession), func(c *authcore.Call) error {
			return &authcore.Error{Status: http.StatusTeapot, Code: "PROBE_AFTER", Message: "After hook refused"}
		})
		return nil
	}}
	h := authcoretest.New(t, authcoretest.WithPlugins(p))
	r := h.Client().Get(authcore.PathOK)
	if r.StatusCode != 200 || string(r.Body) != `{"ok":"replaced","was":{"ok":true}}` || r.Header.Get("X-Rewritten") != "yes" {
		t.Fatalf("replaced response: %d %s %v", r.StatusCode, r.Body, r.Header)
	}
	wantEnvelope(t, "after error", h.Client().Get(authcore.PathGetSession), http.StatusTeapot, "PROBE_AFTER", "After hook refused")
}

func TestMiddlewareErrorStopsCall(t *testing.T) {
	log := &probeEvents{}
	p := &probePlugin{id: "guard", reg: func(r *authcore.Registrar) error {
		r.Use(authcore.MatchPrefix("/probe/guarded"), func(c *authcore.Call) error {
			log.add("middleware")
			if c.Request.Header.Get("X-Let-Me-In") != "please" {
				return &authcore.Error{Status: http.StatusTeapot, Code: "I_AM_A_TEAPOT", Message: "Short and stout"}
			}
			return nil
		})
		r.Before(authcore.MatchAny(), func(c *authcore.Call) (any, error) { log.add("before %s", c.Route); return nil, nil })
		r.After(authcore.MatchAny(), func(c *authcore.Call) error { log.add("after %s", c.Route); return nil })
		return r.Endpoint(authcore.Endpoint{Method: "POST", Path: "/probe/guarded/x", BodyOptional: true,
			Handler: func(c *authcore.Call) (any, error) { log.add("endpoint"); return map[string]bool{"ok": true}, nil }})
	}}
	h := authcoretest.New(t, authcoretest.WithPlugins(p))
	r := h.Client().Post("/probe/guarded/x", nil)
	wantEnvelope(t, "guarded", r, http.StatusTeapot, "I_AM_A_TEAPOT", "Short and stout")
	if got := log.take(); !slices.Equal(got, []string{"middleware"}) {
		t.Fatalf("events after a middleware error: %v", got)
	}
	r = h.Client().Post("/probe/guarded/x", nil, "X-Let-Me-In", "please")
	if r.StatusCode != 200 {
		t.Fatalf("allowed: %d %s", r.StatusCode, r.Body)
	}
	if got := log.take(); !slices.Equal(got, []string{"middleware", "before /probe/guarded/x", "endpoint", "after /probe/guarded/x"}) {
		t.Fatalf("events: %v", got)
	}
	// Middlewares run after the origin check: a forged cross-site call never reaches them.
	c, _ := h.SignUp("Alice", "alice@example.com", inpPassword)
	log.take()
	r = c.Post("/probe/guarded/x", nil, "Origin", evilOrigin, "X-Let-Me-In", "please")
	if r.StatusCode != http.StatusForbidden || len(log.take()) != 0 {
		t.Fatalf("cross-site call reached plugin code: %d", r.StatusCode)
	}
}

// gatePlugin is a session gate whose verdict a test switches.
type gatePlugin struct {
	mode atomic.Int32 // 0 pass, 1 interrupt, 2 refuse, 3 redirect
	log  probeEvents
}

func (g *gatePlugin) ID() string { return "gatekeeper" }
func (g *gatePlugin) Register(r *authcore.Registrar) error {
	r.SessionGate(func(c *authcore.Call, user storage.Record, opt authcore.SignInOptions) error {
		method := opt.Method
		g.log.add("%s %s", user.String("email"), method)
		switch g.mode.Load() {
		case 1:
			c.SetSignedCookie("two_factor", "2fa-probe", 10*time.Minute)
			return &authcore.Interrupt{Response: map[string]any{"twoFactorRedirect": true, "twoFactorMethods": []string{"totp"}}}
		case 2:
			return &authcore.Error{Status: http.StatusForbidden, Code: "BANNED_USER", Message: "You have been banned from this application"}
		case 3:
			return &authcore.Interrupt{Response: authcore.Redirect("/portal/two-factor")}
		}
		return nil
	})
	return nil
}

func TestSessionGate(t *testing.T) {
	g := &gatePlugin{}
	h := authcoretest.New(t, authcoretest.WithPlugins(g))
	h.SignUp("Alice", "alice@example.com", inpPassword)
	if got := g.log.take(); !slices.Equal(got, []string{"alice@example.com email"}) {
		t.Fatalf("gate at sign-up saw %v", got)
	}
	signIn := map[string]any{"email": "alice@example.com", "password": inpPassword}

	g.mode.Store(1)
	before := inpRowCounts(t, h)
	c := h.Client()
	r := c.Post(authcore.PathSignInEmail, signIn)
	if r.StatusCode != 200 || string(r.Body) != `{"twoFactorMethods":["totp"],"twoFactorRedirect":true}` {
		t.Fatalf("interrupted sign-in: %d %s", r.StatusCode, r.Body)
	}
	if _, set := r.SetCookie(sessionCookie); set {
		t.Fatal("interrupted sign-in set a session cookie")
	}
	if _, set := r.SetCookie("better-auth.two_factor"); !set {
		t.Fatalf("the gate's own cookie was dropped: %v", r.Header.Values("Set-Cookie"))
	}
	inpSameRows(t, h, before)
	if _, obj := getSession(t, c, ""); obj != nil {
		t.Fatal("interrupted sign-in yields a session")
	}
	// Sign-up is a sign-in too (D11): a new user is stored, but gets no session.
	r = h.Client().Post(authcore.PathSignUpEmail, map[string]any{"name": "Bob", "email": "bob@example.com", "password": inpPassword})
	if r.StatusCode != 200 || r.Object()["twoFactorRedirect"] != true {
		t.Fatalf("interrupted sign-up: %d %s", r.StatusCode, r.Body)
	}
	if _, set := r.SetCookie(sessionCookie); set || storedSessions(t, h) != before["session"] {
		t.Fatal("interrupted sign-up created a session")
	}

	g.mode.Store(2)
	r = h.Client().Post(authcore.PathSignInEmail, signIn)
	wantEnvelope(t, "refused sign-in", r, http.StatusForbidden, "BANNED_USER", "You have been banned from this application")
	if len(r.Header.Values("Set-Cookie")) != 0 || storedSessions(t, h) != before["session"] {
		t.Fatal("refused sign-in left a session or cookie")
	}

	g.mode.Store(3)
	r = h.Client().Post(authcore.PathSignInEmail, signIn)
	if r.StatusCode != http.StatusFound || r.Header.Get("Location") != "/portal/two-factor" || len(r.Header.Values("Set-Cookie")) != 0 {
		t.Fatalf("redirecting gate: %d %v", r.StatusCode, r.Header)
	}
	g.log.take()

	// Wrong passwords never reach the gate.
	h.Client().Post(authcore.PathSignInEmail, map[string]any{"email": "alice@example.com", "password": "wrong horse battery"})
	if got := g.log.take(); len(got) != 0 {
		t.Fatalf("gate consulted for a failed password: %v", got)
	}
	g.mode.Store(0)
	if r := h.Client().Post(authcore.PathSignInEmail, signIn); r.StatusCode != 200 || storedSessions(t, h) != before["session"]+1 {
		t.Fatalf("open gate: %d %s", r.StatusCode, r.Body)
	}
}

func TestInterceptors(t *testing.T) {
	p := &probePlugin{id: "interceptor", reg: func(r *authcore.Registrar) error {
		r.OnRequest(func(c *authcore.Call) error {
			if c.Request.Header.Get("X-Reject") != "" {
				return &authcore.Error{Status: http.StatusBadRequest, Code: "PROBE_REJECTED", Message: "Rejected early"}
			}
			c.Request.Header.Set("X-Injected", "from-interceptor")
			// Bearer style: a header becomes the session cookie before anything reads it.
			if tok, ok := strings.CutPrefix(c.Request.Header.Get("Authorization"), "Probe "); ok {
				c.Request.Header.Set("Cookie", c.Engine().CookieName(authcore.CookieSessionToken)+"="+tok)
			}
			return nil
		})
		r.OnResponse(func(c *authcore.Call) { c.Header().Set("X-Intercepted", c.Route) })
		return r.Endpoint(authcore.Endpoint{Method: "GET", Path: "/probe/header",
			Handler: func(c *authcore.Call) (any, error) {
				return map[string]string{"seen": c.Request.Header.Get("X-Injected")}, nil
			}})
	}}
	h := authcoretest.New(t, authcoretest.WithPlugins(p))
	r := h.Client().Get("/probe/header")
	if string(r.Body) != `{"seen":"from-interceptor"}` || r.Header.Get("X-Intercepted") != "/probe/header" {
		t.Fatalf("interceptors: %s %v", r.Body, r.Header)
	}
	// Error answers pass through response interceptors too.
	r = h.Client().Get(authcore.PathListSessions)
	if r.StatusCode != 401 || r.Header.Get("X-Intercepted") != authcore.PathListSessions {
		t.Fatalf("interceptor on an error: %d %v", r.StatusCode, r.Header)
	}
	wantEnvelope(t, "interceptor error", h.Client().Get(authcore.PathOK, "X-Reject", "1"), 400, "PROBE_REJECTED", "Rejected early")

	c, _ := h.SignUp("Alice", "alice@example.com", inpPassword)
	bearer := h.Client()
	r = bearer.Get(authcore.PathGetSession, "Authorization", "Probe "+c.CookieValue(sessionCookie))
	if r.Object() == nil {
		t.Fatalf("interceptor-made cookie not seen by the session lookup: %s", r.Body)
	}
	// ... and the origin check sees the cookie as well (spec §4.4: bearer POSTs need Origin).
	bearer.Origin = ""
	r = bearer.Post(authcore.PathUpdateUser, map[string]any{"name": "X"}, "Authorization", "Probe "+c.CookieValue(sessionCookie))
	if r.Code() != "MISSING_OR_NULL_ORIGIN" {
		t.Fatalf("interceptor cookie skipped the origin check: %d %s", r.StatusCode, r.Body)
	}
}

type probeAPI struct{ answer int }

func TestPluginAPI(t *testing.T) {
	api := &probeAPI{answer: 42}
	var seen any
	var seenOK bool
	provider := &probePlugin{id: "provider", reg: func(r *authcore.Registrar) error { r.Provide(api); return nil }}
	consumer := &probePlugin{id: "consumer", deps: []string{"provider"}, reg: func(r *authcore.Registrar) error {
		// Dependencies register first, so their API is reachable during Register.
		seen, seenOK = r.Engine().Plugin("provider")
		return nil
	}}
	e, err := pluginEngine(t, consumer, provider)
	if err != nil {
		t.Fatal(err)
	}
	if !seenOK || seen != api {
		t.Fatalf("consumer saw %v %v during Register", seen, seenOK)
	}
	got, ok := e.Plugin("provider")
	if !ok || got.(*probeAPI) != api || got.(*probeAPI).answer != 42 {
		t.Fatalf("Plugin(provider) = %v %v", got, ok)
	}
	if _, ok := e.Plugin("consumer"); ok {
		t.Fatal("a plugin that provided nothing has an API")
	}
	if _, ok := e.Plugin("missing"); ok {
		t.Fatal("an absent plugin has an API")
	}
}

func profilePlugin() *probePlugin {
	return &probePlugin{id: "profile", reg: func(r *authcore.Registrar) error {
		if err := r.Extend("user",
			storage.Field{Name: "nickname", Type: storage.TypeString},
			storage.Field{Name: "age", Type: storage.TypeNumber},
			storage.Field{Name: "tier", Type: storage.TypeString, ServerOnly: true, Default: "free"},
			storage.Field{Name: "secretNote", Type: storage.TypeString, Hidden: true},
			storage.Field{Name: "tags", Type: storage.TypeStringList},
		); err != nil {
			return err
		}
		return r.Extend("session", storage.Field{Name: "theme", Type: storage.TypeString})
	}}
}

func TestPluginUserFields(t *testing.T) {
	h := authcoretest.New(t, authcoretest.WithPlugins(profilePlugin()))
	c := h.Client()
	r := c.Post(authcore.PathSignUpEmail, map[string]any{"name": "Alice", "email": "alice@example.com", "password": inpPassword, "nickname": "Al", "age": 30, "tags": []string{"a", "b"}})
	if r.StatusCode != 200 {
		t.Fatalf("sign-up with plugin fields: %d %s", r.StatusCode, r.Body)
	}
	_, obj := getSession(t, c, "")
	user := obj["user"].(map[string]any)
	if user["nickname"] != "Al" || user["age"] != float64(30) || user["tier"] != "free" || fmt.Sprint(user["tags"]) != "[a b]" {
		t.Fatalf("get-session user %v", user)
	}
	if _, leaked := user["secretNote"]; leaked {
		t.Fatal("hidden plugin field returned")
	}

	before := inpRowCounts(t, h)
	for _, tc := range []struct {
		body map[string]any
		code string
	}{
		{map[string]any{"tier": "gold"}, "FIELD_NOT_ALLOWED"},
		{map[string]any{"nickname": 5}, "VALIDATION_ERROR"},
		{map[string]any{"nickname": "a\x00b"}, "VALIDATION_ERROR"},
		{map[string]any{"nickname": strings.Repeat("n", 100_000)}, "VALIDATION_ERROR"},
		{map[string]any{"age": "thirty"}, "VALIDATION_ERROR"},
		{map[string]any{"age": 1.5}, "VALIDATION_ERROR"},
		{map[string]any{"age": json.RawMessage("1e999")}, "VALIDATION_ERROR"},
		{map[string]any{"tags": []any{"ok", 5}}, "VALIDATION_ERROR"},
		{map[string]any{"tags": []any{"a\x00b"}}, "VALIDATION_ERROR"},
		{map[string]any{"tags": []any{strings.Repeat("t", 100_000)}}, "VALIDATION_ERROR"},
	} {
		body := map[string]any{"name": "Bob", "email": "bob@example.com", "password": inpPassword}
		for k, v := range tc.body {
			body[k] = v
		}
		r := h.Client().Post(authcore.PathSignUpEmail, body)
		wantEnvelope(t, fmt.Sprint(tc.body)[:min(40, len(fmt.Sprint(tc.body)))], r, 400, tc.code, "")
	}
	inpSameRows(t, h, before)
	// Case variants of a server-only plugin field are not the field.
	r = h.Client().Post(authcore.PathSignUpEmail, map[string]any{"name": "Bob", "email": "bob@example.com", "password": inpPassword, "TIER": "gold", "Tier": "gold"})
	if r.StatusCode != 200 {
		t.Fatalf("sign-up: %d %s", r.StatusCode, r.Body)
	}
	if u := inpStoredUser(t, h, "bob@example.com"); u.String("tier") != "free" {
		t.Fatalf("bob: %v", u)
	}

	// update-user: client-settable fields change, server-only ones are refused.
	if r := c.Post(authcore.PathUpdateUser, map[string]any{"nickname": "Ally"}); r.StatusCode != 200 {
		t.Fatalf("update nickname: %d %s", r.StatusCode, r.Body)
	}
	wantEnvelope(t, "update tier", c.Post(authcore.PathUpdateUser, map[string]any{"tier": "gold"}), 400, "FIELD_NOT_ALLOWED", "tier is not allowed to be set")
	if u := inpStoredUser(t, h, "alice@example.com"); u.String("nickname") != "Ally" || u.String("tier") != "free" {
		t.Fatalf("alice after updates: %v", u)
	}

	// update-session: plugin session fields only; core session fields are the server's.
	r = c.Post(authcore.PathUpdateSession, map[string]any{"theme": "dark"})
	if r.StatusCode != 200 || r.Object()["session"].(map[string]any)["theme"] != "dark" {
		t.Fatalf("update-session: %d %s", r.StatusCode, r.Body)
	}
	_, obj = getSession(t, c, "")
	sess := obj["session"].(map[string]any)
	for _, attack := range []map[string]any{
		{"expiresAt": "2099-01-01T00:00:00.000Z"},
		{"token": authcore.HashToken("attacker-chosen")},
		{"userId": "someone-else"},
		{"ipAddress": "10.0.0.1"},
		{"userAgent": "forged"},
	} {
		r := c.Post(authcore.PathUpdateSession, attack)
		if r.StatusCode != 400 {
			t.Errorf("update-session %v: %d %s", attack, r.StatusCode, r.Body)
		}
	}
	_, obj = getSession(t, c, "")
	after := obj["session"].(map[string]any)
	for _, k := range []string{"expiresAt", "userId", "ipAddress", "userAgent", "token", "createdAt"} {
		if fmt.Sprint(after[k]) != fmt.Sprint(sess[k]) {
			t.Errorf("session %s changed from %v to %v", k, sess[k], after[k])
		}
	}
}

func TestReservePrefix(t *testing.T) {
	portal := func(id, prefix string) *probePlugin {
		return &probePlugin{id: id, reg: func(r *authcore.Registrar) error {
			return r.ReservePrefix(prefix, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				fmt.Fprintf(w, "%s served %s %s", id, req.Method, req.URL.Path)
			}))
		}}
	}
	h := authcoretest.New(t, authcoretest.WithPlugins(portal("portal", "/ui/")))
	for _, m := range []string{"GET", "POST"} {
		r := h.Client().Do(m, "/ui/sign-in", nil)
		if r.StatusCode != 200 || string(r.Body) != "portal served "+m+" /api/auth/ui/sign-in" {
			t.Fatalf("%s reserved path: %d %s", m, r.StatusCode, r.Body)
		}
	}
	if r := h.Client().Get("/ui"); r.StatusCode != 404 {
		t.Fatalf("/ui without the slash: %d %s", r.StatusCode, r.Body)
	}

	_, err := pluginEngine(t, portal("portal", "/ui/"), endpointOnly("zzz-late", "GET", "/ui/page"))
	wantStartError(t, err, `"zzz-late"`, `"portal"`, "/ui/")
	_, err = pluginEngine(t, portal("portal", "/ui/"), endpointOnly("aaa-early", "GET", "/ui/page"))
	wantStartError(t, err, `"aaa-early"`, `"portal"`, "/ui/")
	_, err = pluginEngine(t, portal("portal", "/ui/"), portal("portal-admin", "/ui/admin/"))
	wantStartError(t, err, `"portal"`, `"portal-admin"`)
	_, err = pluginEngine(t, portal("portal", "/ui/admin/"), portal("portal-wide", "/ui/"))
	wantStartError(t, err, `"portal"`, `"portal-wide"`)
	_, err = pluginEngine(t, portal("squatter", "/sign-in/"))
	wantStartError(t, err, `"squatter"`, `"core"`, authcore.PathSignInEmail)
}

// A failing plugin or handler never leaves cookies (or tokens derived from them) on a 5xx
// answer (DUR-02), and a panic is a 500 envelope, not a dropped connection.
func TestPanicsAndServerErrors(t *testing.T) {
	setToken := func(c *authcore.Call) {
		c.SetSignedCookie(authcore.CookieSessionToken, "half-made-session-token", time.Hour)
		c.SetCookie("probe", "x", time.Hour)
	}
	p := &probePlugin{id: "crasher", reg: func(r *authcore.Registrar) error {
		// A bearer-style response interceptor: it publishes the token of a session cookie
		// the call is about to set.
		r.OnResponse(func(c *authcore.Call) {
			if line, ok := c.ResponseCookie(c.Engine().CookieName(authcore.CookieSessionToken)); ok {
				c.Header().Set("Set-Auth-Token", line)
			}
		})
		r.OnRequest(func(c *authcore.Call) error {
			if c.Route == "/probe/panic-request" {
				panic("request interceptor exploded")
			}
			return nil
		})
		r.Use(authcore.MatchPath("/probe/panic-middleware"), func(c *authcore.Call) error { setToken(c); panic("middleware exploded") })
		r.Before(authcore.MatchPath("/probe/panic-before"), func(c *authcore.Call) (any, error) { setToken(c); panic("before exploded") })
		r.After(authcore.MatchPath("/probe/panic-after"), func(c *authcore.Call) error { setToken(c); var m map[string]int; m["x"] = 1; return nil })
		ok := func(c *authcore.Call) (any, error) { return map[string]bool{"ok": true}, nil }
		eps := []authcore.Endpoint{
			{Method: "POST", Path: "/probe/panic", BodyOptional: true, Handler: func(c *authcore.Call) (any, error) {
				setToken(c)
				c.Header().Set("X-Before-Panic", "1")
				panic("handler exploded")
			}},
			{Method: "GET", Path: "/probe/nan", Handler: func(c *authcore.Call) (any, error) {
				setToken(c)
				return map[string]any{"value": math.NaN()}, nil
			}},
			{Method: "GET", Path: "/probe/unencodable", Handler: func(c *authcore.Call) (any, error) {
				setToken(c)
				return map[string]any{"ch": make(chan int)}, nil
			}},
			{Method: "GET", Path: "/probe/503", Handler: func(c *authcore.Call) (any, error) {
				setToken(c)
				return nil, &authcore.Error{Status: http.StatusServiceUnavailable, Code: "SERVICE_UNAVAILABLE", Message: "Service temporarily unavailable"}
			}},
			{Method: "GET", Path: "/probe/storage", Handler: func(c *authcore.Call) (any, error) {
				setToken(c)
				return nil, errors.New("disk on fire") // a plain error is an internal error
			}},
			{Method: "GET", Path: "/probe/panic-request", Handler: ok},
			{Method: "GET", Path: "/probe/panic-middleware", Handler: ok},
			{Method: "GET", Path: "/probe/panic-before", Handler: ok},
			{Method: "GET", Path: "/probe/panic-after", Handler: ok},
		}
		for _, ep := range eps {
			if err := r.Endpoint(ep); err != nil {
				return err
			}
		}
		return nil
	}}
	h := authcoretest.New(t, authcoretest.WithPlugins(p))
	for _, tc := range []struct{ method, path string }{
		{"POST", "/probe/panic"}, {"GET", "/probe/nan"}, {"GET", "/probe/unencodable"}, {"GET", "/probe/storage"},
		{"GET", "/probe/panic-request"}, {"GET", "/probe/panic-middleware"}, {"GET", "/probe/panic-before"}, {"GET", "/probe/panic-after"},
	} {
		r := h.Client().Do(tc.method, tc.path, nil)
		wantEnvelope(t, tc.path, r, 500, "INTERNAL_SERVER_ERROR", "Internal Server Error")
		if cs := r.Header.Values("Set-Cookie"); len(cs) != 0 {
			t.Errorf("%s: 500 with Set-Cookie %v", tc.path, cs)
		}
		if v := r.Header.Get("Set-Auth-Token"); v != "" {
			t.Errorf("%s: 500 published a token: %s", tc.path, v)
		}
		if strings.Contains(string(r.Body), "exploded") || strings.Contains(string(r.Body), "fire") {
			t.Errorf("%s: the cause leaked to the client: %s", tc.path, r.Body)
		}
	}
	r := h.Client().Get("/probe/503")
	wantEnvelope(t, "503", r, 503, "SERVICE_UNAVAILABLE", "")
	if len(r.Header.Values("Set-Cookie")) != 0 || r.Header.Get("Set-Auth-Token") != "" {
		t.Errorf("503 set cookies: %v", r.Header)
	}
	// The server survives and serves the next request.
	if r := h.Client().Get(authcore.PathOK); r.StatusCode != 200 {
		t.Fatalf("after the panics: %d", r.StatusCode)
	}
}
