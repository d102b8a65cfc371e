package authcore

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/gatehouse-auth/gatehouse/authcore/keyring"
	"github.com/gatehouse-auth/gatehouse/authcore/origin"
	"github.com/gatehouse-auth/gatehouse/authcore/password"
	"github.com/gatehouse-auth/gatehouse/authcore/ratelimit"
	"github.com/gatehouse-auth/gatehouse/authcore/templates"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// Engine is the auth engine: the Better Auth–compatible API as an http.Handler, plus the
// session checks the gateway uses. Build it with [New]; it is safe for concurrent use.
type Engine struct {
	cfg      Config
	baseURL  *url.URL
	store    storage.Adapter // wrapped: writes invalidate cached sessions
	clock    Clock
	rand     Random
	keys     *keyring.Keyring
	hasher   password.Hasher
	origins  *origin.Matcher
	limiter  ratelimit.Store
	failures ratelimit.Store
	mailer   EmailSender
	sms      SMSSender
	tmpl     *templates.Set
	log      *slog.Logger
	clientIP func(*http.Request) string
	cookies  cookieJar
	cache    *SessionCache
	shared   bool              // other processes serve from the same store (WithSharedStore)
	stored   *ratelimit.Stored // the database limiter, when RateLimit.Storage is "database"
	keyFP    uint64
	jobs     *jobQueue
	metrics  Metrics
	metered  bool // a metrics sink was configured (WithMetrics)
	auditLog *slog.Logger
	health   *storageHealth

	reg      *registry
	static   map[string]*Endpoint // "GET /ok"
	dynamic  []*Endpoint
	disabled map[string]bool
	auths    []orderedAuth
	refresh  singleFlight

	stop     context.CancelFunc
	wg       sync.WaitGroup
	closeOne sync.Once
}

// Option customises an engine: injected dependencies live here, configuration in [Config].
type Option func(*options)

type options struct {
	store    storage.Store
	clock    Clock
	random   io.Reader
	mailer   EmailSender
	sms      SMSSender
	tmpl     *templates.Set
	log      *slog.Logger
	clientIP func(*http.Request) string
	hasher   password.Hasher
	plugins  []Plugin
	limiter  ratelimit.Store
	failures ratelimit.Store
	cache    *SessionCache
	shared   bool
	metrics  Metrics
	audit    *slog.Logger
}

// WithStore sets the storage the engine binds its assembled schema to. Required.
func WithStore(s storage.Store) Option { return func(o *options) { o.store = s } }

// WithClock injects the clock. Default: the system clock.
func WithClock(c Clock) Option { return func(o *options) { o.clock = c } }

// WithRandom injects the randomness source. Default: crypto/rand.Reader.
func WithRandom(r io.Reader) Option { return func(o *options) { o.random = r } }

// WithEmailSender sets the email transport. Without one, features that need email answer as
// Better Auth does when they are not set up.
func WithEmailSender(s EmailSender) Option { return func(o *options) { o.mailer = s } }

// WithSMSSender sets the SMS transport.
func WithSMSSender(s SMSSender) Option { return func(o *options) { o.sms = s } }

// WithTemplates sets the message templates the engine renders emails and SMS from (D13).
// Default: the embedded set, [templates.Default].
func WithTemplates(t *templates.Set) Option { return func(o *options) { o.tmpl = t } }

// WithLogger sets the logger. Default: discard.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithClientIP sets how the client IP is found (D4: the Caddy layer passes Caddy's own,
// which honours trusted_proxies). Default: the socket peer; X-Forwarded-For is never read.
func WithClientIP(f func(*http.Request) string) Option {
	return func(o *options) { o.clientIP = f }
}

// WithPasswordHasher replaces the hasher (tests inject cheap or counting hashers).
func WithPasswordHasher(h password.Hasher) Option { return func(o *options) { o.hasher = h } }

// WithPlugins enables plugins.
func WithPlugins(ps ...Plugin) Option {
	return func(o *options) { o.plugins = append(o.plugins, ps...) }
}

// WithRateLimiter shares the per-IP limiter state (it survives config reloads, D15).
func WithRateLimiter(l ratelimit.Store) Option { return func(o *options) { o.limiter = l } }

// WithFailureLimiter shares the per-account sign-in failure counters.
func WithFailureLimiter(l ratelimit.Store) Option { return func(o *options) { o.failures = l } }

// WithSessionCache shares the in-process session cache (it survives config reloads, D15).
func WithSessionCache(c *SessionCache) Option { return func(o *options) { o.cache = c } }

// New validates cfg, registers the core routes and every plugin (dependencies first, then
// by ID), binds the assembled schema to the store, and starts the background workers
// (sweeper, delivery queue). Close stops them.
func New(cfg Config, opts ...Option) (*Engine, error) {
	o := options{clock: SystemClock{}, random: rand.Reader}
	for _, opt := range opts {
		opt(&o)
	}
	if o.shared {
		cfg = cfg.withSharedDefaults()
	}
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("authcore: invalid configuration: %w", err)
	}
	if o.store == nil {
		return nil, errors.New("authcore: no storage configured (WithStore)")
	}
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	if o.clientIP == nil {
		o.clientIP = peerIP
	}
	if o.tmpl == nil {
		o.tmpl = templates.Default()
	}
	keys, err := keyring.New(cfg.Secret, cfg.PreviousSecrets...)
	if err != nil {
		return nil, fmt.Errorf("authcore: secret: %w", err)
	}
	base, _ := url.Parse(cfg.BaseURL)
	base.Path = strings.TrimSuffix(base.Path, "/")
	patterns := append([]string{base.Scheme + "://" + base.Host}, cfg.TrustedOrigins...)
	origins, err := origin.NewMatcher(patterns)
	if err != nil {
		return nil, fmt.Errorf("authcore: trusted_origins: %w", err)
	}
	if o.hasher == nil {
		params := password.OWASP()
		if cfg.Password.Argon2 != nil {
			params = *cfg.Password.Argon2
			if err := params.Validate(); err != nil {
				return nil, fmt.Errorf("authcore: password hashing parameters: %w", err)
			}
		}
		o.hasher = password.NewArgon2id(params, cfg.Password.MaxConcurrent, o.random)
	}
	if o.limiter == nil {
		o.limiter = ratelimit.NewLimiter(100000)
	}
	if o.failures == nil {
		o.failures = ratelimit.NewLimiter(100000)
	}
	if o.cache == nil {
		o.cache = NewSessionCache(cfg.Session.CacheSize)
	}

	e := &Engine{
		cfg:      cfg,
		baseURL:  base,
		clock:    o.clock,
		rand:     Random{src: o.random},
		keys:     keys,
		hasher:   o.hasher,
		origins:  origins,
		limiter:  o.limiter,
		failures: o.failures,
		mailer:   o.mailer,
		sms:      o.sms,
		tmpl:     o.tmpl,
		log:      o.log,
		clientIP: o.clientIP,
		cookies:  newCookieJar(cfg),
		cache:    o.cache,
		keyFP:    fingerprint(keys),
		static:   map[string]*Endpoint{},
		disabled: map[string]bool{},
		shared:   o.shared,
		metrics:  o.metrics,
		metered:  o.metrics != nil,
		auditLog: o.audit,
	}
	if e.auditLog == nil {
		e.auditLog = o.log
	}
	if e.metrics == nil {
		e.metrics = NopMetrics{}
	}
	if cfg.Session.NewDeviceEmail && o.mailer == nil {
		o.log.Warn("session.new_device_email is on but no mailer is configured; new devices are not checked")
	}
	e.reg = &registry{
		schema:     storage.NewSchema(),
		errors:     map[string]ownedCode{},
		apis:       map[string]any{},
		userScoped: map[string]string{},
	}
	if err := e.registerCore(); err != nil {
		return nil, err
	}
	plugins, err := orderPlugins(o.plugins)
	if err != nil {
		return nil, fmt.Errorf("authcore: %w", err)
	}
	for _, p := range plugins {
		r := &Registrar{engine: e, owner: p.ID(), reg: e.reg}
		if err := p.Register(r); err != nil {
			return nil, fmt.Errorf("authcore: plugin %q: %w", p.ID(), err)
		}
		e.reg.plugins = append(e.reg.plugins, p.ID())
	}
	if err := e.reg.checkRequires(); err != nil {
		return nil, fmt.Errorf("authcore: %w", err)
	}
	if err := e.reg.schema.Validate(); err != nil {
		return nil, fmt.Errorf("authcore: schema: %w", err)
	}
	raw, err := o.store.Bind(context.Background(), e.reg.schema)
	if err != nil {
		return nil, fmt.Errorf("authcore: binding storage: %w", err)
	}
	e.health = &storageHealth{log: e.log, clock: e.clock}
	var checked storage.Adapter = healthAdapter{Adapter: raw, h: e.health}
	timed := checked
	if e.metered {
		timed = timedAdapter{Adapter: checked, m: e.metrics}
	}
	e.store = &genAdapter{Adapter: timed, scoped: e.reg.userScoped, cache: e.cache}
	e.useStoredLimits(checked)
	e.freeze()

	ctx, cancel := context.WithCancel(context.Background())
	e.stop = cancel
	e.jobs = newJobQueue(e.log, 1024)
	e.wg.Add(1)
	go func() { defer e.wg.Done(); e.jobs.run(ctx) }()
	if cfg.SweepInterval > 0 {
		e.wg.Add(1)
		go func() { defer e.wg.Done(); e.sweepLoop(ctx) }()
	}
	return e, nil
}

// freeze builds the routing tables and sorts hooks and authenticators; the registry is
// read-only afterwards.
func (e *Engine) freeze() {
	for _, ep := range e.reg.endpoints {
		if ep.hasVars {
			e.dynamic = append(e.dynamic, ep)
		} else {
			e.static[ep.Method+" "+ep.Path] = ep
		}
	}
	for _, p := range e.cfg.DisabledPaths {
		e.disabled["/"+strings.TrimPrefix(p, "/")] = true
	}
	e.auths = slices.Clone(e.reg.authenticators)
	sort.SliceStable(e.auths, func(i, j int) bool { return e.auths[i].order < e.auths[j].order })
}

// Close stops the background workers, waiting for queued deliveries to finish or be
// abandoned. It does not close the store, which the caller owns.
func (e *Engine) Close() error {
	e.closeOne.Do(func() {
		e.stop()
		e.wg.Wait()
	})
	return nil
}

// Config returns the effective configuration (defaults applied).
func (e *Engine) Config() Config { return e.cfg }

// Store returns the storage adapter bound to the engine's schema. Writes through it
// invalidate cached sessions of the users they touch.
func (e *Engine) Store() storage.Adapter { return e.store }

// Schema returns the assembled schema.
func (e *Engine) Schema() *storage.Schema { return e.reg.schema }

// Clock returns the injected clock.
func (e *Engine) Clock() Clock { return e.clock }

// Random returns the injected randomness.
func (e *Engine) Random() Random { return e.rand }

// Keys returns the keyring (signing, MACs, encryption with rotation).
func (e *Engine) Keys() *keyring.Keyring { return e.keys }

// Hasher returns the password hasher.
func (e *Engine) Hasher() password.Hasher { return e.hasher }

// Logger returns the engine's logger.
func (e *Engine) Logger() *slog.Logger { return e.log }

// BaseURL returns the configured base URL (no trailing slash).
func (e *Engine) BaseURL() *url.URL { u := *e.baseURL; return &u }

// APIURL returns the absolute URL of an auth-API path ("/verify-email" →
// "https://host/api/auth/verify-email"). Links are always built from the base URL (HDR-07).
func (e *Engine) APIURL(path string) string {
	return e.baseURL.String() + e.cfg.BasePath + path
}

// Origins returns the trusted-origin matcher.
func (e *Engine) Origins() *origin.Matcher { return e.origins }

// Plugin returns the Go API a plugin published with Registrar.Provide.
func (e *Engine) Plugin(id string) (any, bool) { a, ok := e.reg.apis[id]; return a, ok }

// Plugins lists enabled plugin IDs in registration order.
func (e *Engine) Plugins() []string { return slices.Clone(e.reg.plugins) }

// Endpoints lists every registered endpoint (for documentation generators).
func (e *Engine) Endpoints() []*Endpoint { return slices.Clone(e.reg.endpoints) }

// CredentialHeaders lists the request headers plugins declared as credential carriers.
func (e *Engine) CredentialHeaders() []string { return e.reg.credentialHeaders }

// ErrorCodes lists every declared error code by owner.
func (e *Engine) ErrorCodes() map[string][]ErrorCode {
	out := map[string][]ErrorCode{}
	for _, oc := range e.reg.errors {
		out[oc.owner] = append(out[oc.owner], oc.code)
	}
	for _, cs := range out {
		slices.SortFunc(cs, func(a, b ErrorCode) int { return strings.Compare(a.Code, b.Code) })
	}
	return out
}

// ClientIP returns the client address of r as the engine sees it (D4).
func (e *Engine) ClientIP(r *http.Request) string { return e.clientIP(r) }

func peerIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func fingerprint(k *keyring.Keyring) uint64 {
	var h uint64 = 1469598103934665603
	for _, s := range k.Secrets() {
		for _, b := range s {
			h = (h ^ uint64(b)) * 1099511628211
		}
		h = (h ^ 0xff) * 1099511628211
	}
	return h
}
