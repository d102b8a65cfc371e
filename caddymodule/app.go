package caddymodule

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/exp/zapslog"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/oauth"
	"github.com/gatehouse-auth/gatehouse/authcore/ratelimit"
)

func init() {
	caddy.RegisterModule(App{})
}

// App is the `gatehouse` app: the auth engine shared by every site that uses the gatehouse
// directive. Its configuration comes from the global `gatehouse { ... }` option.
type App struct {
	// Storage backend. Default: bbolt at gatehouse.db in Caddy's data directory.
	StorageRaw json.RawMessage `json:"storage,omitempty" caddy:"namespace=gatehouse.storage inline_key=backend"`
	// Secret signs cookies and tokens and keys encryption; at least 32 bytes. Default: one
	// generated on first start and kept in Caddy's data directory (mode 0600).
	Secret string `json:"secret,omitempty"`
	// PreviousSecrets still verify and decrypt after a rotation (D7).
	PreviousSecrets []string `json:"previous_secrets,omitempty"`
	// BaseURL is the public URL of the auth API's site; links and redirects are built from
	// it, never from Host. Required.
	BaseURL string `json:"base_url,omitempty"`
	// BasePath of the auth API. Default: /api/auth.
	BasePath string `json:"base_path,omitempty"`
	// TrustedOrigins are accepted as Origin and redirect targets besides base_url's origin.
	TrustedOrigins []string `json:"trusted_origins,omitempty"`
	// AppName appears in messages. Default: Gatehouse.
	AppName string `json:"app_name,omitempty"`
	// CookieDomain shares the session across subdomains (D5). Default: host-only cookies.
	CookieDomain string `json:"cookie_domain,omitempty"`
	// CookiePrefix of every cookie name. Default: better-auth.
	CookiePrefix string `json:"cookie_prefix,omitempty"`

	Session           *SessionConfig           `json:"session,omitempty"`
	EmailAndPassword  *EmailAndPasswordConfig  `json:"email_and_password,omitempty"`
	EmailVerification *EmailVerificationConfig `json:"email_verification,omitempty"`
	User              *UserConfig              `json:"user,omitempty"`
	RateLimit         *RateLimitConfig         `json:"rate_limit,omitempty"`
	// Audit configures the audit log of security events. The events are always logged, at
	// Info on the logger gatehouse.audit; this block adds storage.
	Audit *AuditConfig `json:"audit,omitempty"`

	// DisabledPaths answer 404 (paths relative to base_path).
	DisabledPaths []string `json:"disabled_paths,omitempty"`
	// Social lists the social sign-in providers (Caddyfile: `social <id> { … }`).
	// client_id and client_secret may be placeholders such as {env.GITHUB_SECRET}.
	Social []oauth.Config `json:"social,omitempty"`
	// AllowUnlinkingAll lets users unlink their last account.
	AllowUnlinkingAll bool `json:"allow_unlinking_all,omitempty"`

	// PluginsRaw enables plugins by name (gatehouse.plugins namespace).
	PluginsRaw caddy.ModuleMap `json:"plugins,omitempty" caddy:"namespace=gatehouse.plugins"`
	// DisablePortal turns off the hosted portal, which is otherwise enabled with its
	// defaults whenever "plugins" does not configure it (D14).
	DisablePortal bool `json:"disable_portal,omitempty"`

	// MailerRaw is the email transport (gatehouse.mailers namespace: log, smtp, webhook,
	// or a third party's), wrapped in bounded retries unless it is development-only.
	// Default: log when base_url is a loopback address; otherwise none, and the features
	// that need email answer as Better Auth does when they are not set up (D13).
	MailerRaw json.RawMessage `json:"mailer,omitempty" caddy:"namespace=gatehouse.mailers inline_key=transport"`
	// SMSRaw is the SMS transport (gatehouse.sms namespace: log, webhook, twilio, or a
	// third party's). Default: log when base_url is a loopback address; otherwise none.
	SMSRaw json.RawMessage `json:"sms,omitempty" caddy:"namespace=gatehouse.sms inline_key=transport"`
	// Templates is a directory of message templates overriding the embedded ones
	// (<type>.subject.txt, <type>.txt, <type>.html, layout.txt, layout.html; see
	// authcore/templates). Default: the embedded templates.
	Templates string `json:"templates,omitempty"`

	engine  *authcore.Engine
	store   StorageModule
	state   string
	logger  *zap.Logger
	plugins []authcore.Plugin
}

// SessionConfig: session lifetimes.
type SessionConfig struct {
	ExpiresIn   caddy.Duration `json:"expires_in,omitempty"`   // default 7d
	UpdateAge   caddy.Duration `json:"update_age,omitempty"`   // default 1d
	FreshAge    caddy.Duration `json:"fresh_age,omitempty"`    // default 1d
	MaxAge      caddy.Duration `json:"max_age,omitempty"`      // default 30d
	CookieCache caddy.Duration `json:"cookie_cache,omitempty"` // default off
	// CacheTTL bounds the in-process session cache. Default 10s.
	CacheTTL caddy.Duration `json:"cache_ttl,omitempty"`
	// NewDeviceEmail emails users on a sign-in from a new device
	// (authcore.SessionConfig.NewDeviceEmail). Default off.
	NewDeviceEmail bool `json:"new_device_email,omitempty"`
}

// EmailAndPasswordConfig: the email/password sign-in method.
type EmailAndPasswordConfig struct {
	Disabled                      bool           `json:"disabled,omitempty"`
	DisableSignUp                 bool           `json:"disable_sign_up,omitempty"`
	RequireEmailVerification      bool           `json:"require_email_verification,omitempty"`
	DisableAutoSignIn             bool           `json:"disable_auto_sign_in,omitempty"`
	MinPasswordLength             int            `json:"min_password_length,omitempty"`
	MaxPasswordLength             int            `json:"max_password_length,omitempty"`
	RevokeSessionsOnPasswordReset bool           `json:"revoke_sessions_on_password_reset,omitempty"`
	ResetPasswordTokenExpiresIn   caddy.Duration `json:"reset_password_token_expires_in,omitempty"`
	AllowedDomains                []string       `json:"allowed_domains,omitempty"`
	AllowCommonPasswords          bool           `json:"allow_common_passwords,omitempty"`
}

// EmailVerificationConfig: verification links.
type EmailVerificationConfig struct {
	SendOnSignUp                bool           `json:"send_on_sign_up,omitempty"`
	AutoSignInAfterVerification bool           `json:"auto_sign_in_after_verification,omitempty"`
	ExpiresIn                   caddy.Duration `json:"expires_in,omitempty"`
}

// UserConfig: change-email and delete-user.
type UserConfig struct {
	ChangeEmail                    bool           `json:"change_email,omitempty"`
	UpdateEmailWithoutVerification bool           `json:"update_email_without_verification,omitempty"`
	SendChangeEmailConfirmation    bool           `json:"send_change_email_confirmation,omitempty"`
	DeleteUser                     bool           `json:"delete_user,omitempty"`
	SendDeleteAccountVerification  bool           `json:"send_delete_account_verification,omitempty"`
	DeleteTokenExpiresIn           caddy.Duration `json:"delete_token_expires_in,omitempty"`
}

// RateLimitConfig: the auth-API limiter.
type RateLimitConfig struct {
	Off    bool           `json:"off,omitempty"`
	Window caddy.Duration `json:"window,omitempty"` // default 10s
	Max    int            `json:"max,omitempty"`    // default 100
	Rules  []RateRule     `json:"rules,omitempty"`
	// AccountFailures locks password sign-in of an account after this many failures.
	AccountFailures int            `json:"account_failures,omitempty"`
	AccountWindow   caddy.Duration `json:"account_window,omitempty"`
	// Storage is where the counters live: "memory" (per process) or "database" (in the
	// store, shared by every node). Default: memory, database on a shared store (postgres).
	Storage string `json:"storage,omitempty"`
}

// AuditConfig: storage of audit events.
type AuditConfig struct {
	// Store keeps every event in the store as well, for /admin/list-audit-events.
	// Default: logged only.
	Store bool `json:"store,omitempty"`
	// Retention: stored events older than this are deleted by the sweeper. Default: 90d.
	Retention caddy.Duration `json:"retention,omitempty"`
}

// RateRule limits one path or prefix ("/sign-in/*").
type RateRule struct {
	Path   string         `json:"path"`
	Window caddy.Duration `json:"window"`
	Max    int            `json:"max"`
}

// CaddyModule returns the Caddy module information.
func (App) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "gatehouse", New: func() caddy.Module { return new(App) }}
}

// Provision loads the storage and plugin modules and builds the engine.
func (a *App) Provision(ctx caddy.Context) error {
	a.logger = ctx.Logger()
	if a.StorageRaw == nil {
		a.StorageRaw = json.RawMessage(`{"backend":"bbolt"}`)
	}
	mod, err := ctx.LoadModule(a, "StorageRaw")
	if err != nil {
		return fmt.Errorf("loading storage module: %w", err)
	}
	store, ok := mod.(StorageModule)
	if !ok {
		return fmt.Errorf("storage module %T does not provide a store", mod)
	}
	a.store = store
	mods, err := ctx.LoadModule(a, "PluginsRaw")
	if err != nil {
		return fmt.Errorf("loading plugins: %w", err)
	}
	// Plugins register in name order: Caddy hands them over as a map, and hook order
	// between plugins must not change from one start to the next.
	loaded := mods.(map[string]any)
	for _, name := range slices.Sorted(maps.Keys(loaded)) {
		m := loaded[name]
		p, ok := m.(authcore.Plugin)
		if !ok {
			return fmt.Errorf("plugin %q (%T) does not implement authcore.Plugin", name, m)
		}
		a.plugins = append(a.plugins, p)
	}
	// LoadModule has cleared PluginsRaw by now: what was configured is in loaded.
	if _, configured := loaded["portal"]; configured && a.DisablePortal {
		return errors.New("gatehouse: the portal is both configured and disabled (disable_portal)")
	} else if !configured && !a.DisablePortal {
		// The portal is found by its module ID, not imported: a build without it (a
		// custom binary that leaves plugins/portal out) simply has no portal.
		if info, err := caddy.GetModule("gatehouse.plugins." + portalID); err == nil {
			if p, ok := info.New().(authcore.Plugin); ok {
				a.plugins = append(a.plugins, p)
			}
		}
	}
	// Secrets may come from placeholders ({env.GATEHOUSE_SECRET}); an empty one is an error,
	// never a weak secret.
	repl := caddy.NewReplacer()
	secret, err := replace(repl, "secret", a.Secret)
	if err != nil {
		return err
	}
	if secret == "" {
		secret, err = loadOrCreateSecret(a.logger)
		if err != nil {
			return err
		}
	}
	cfg, err := a.engineConfig(secret)
	if err != nil {
		return err
	}
	deliveryOpts, err := a.deliveryOptions(ctx, cfg.BaseURL)
	if err != nil {
		return err
	}
	a.state = store.Key()
	st, err := loadState(a.state)
	if err != nil {
		return err
	}
	if s, ok := store.(SharedStorage); ok && s.Shared() {
		// Several nodes on one database: limits counted in the database, a short session
		// cache, exact API-key quotas (authcore.WithSharedStore).
		deliveryOpts = append(deliveryOpts, authcore.WithSharedStore())
		if cfg.RateLimit.Storage == authcore.RateLimitMemory {
			a.logger.Warn("rate_limit storage memory on a shared database: every node counts on its own, so limits and lock-outs multiply by the number of nodes")
		}
	}
	m := gatehouseMetrics()
	if err := m.register(ctx.GetMetricsRegistry()); err != nil {
		return fmt.Errorf("registering metrics: %w", err)
	}
	a.engine, err = authcore.New(cfg, append(deliveryOpts,
		authcore.WithMetrics(m),
		authcore.WithStore(store.Store()),
		authcore.WithLogger(slogFor(a.logger)),
		authcore.WithAuditLogger(a.auditLogger()),
		authcore.WithClientIP(clientIP),
		authcore.WithPlugins(a.plugins...),
		authcore.WithRateLimiter(st.limiter),
		authcore.WithFailureLimiter(st.failures),
		authcore.WithSessionCache(st.cache),
	)...)
	if err != nil {
		return err
	}
	ep := cfg.EmailAndPassword
	if !ep.Disabled && !ep.DisableSignUp && !ep.RequireEmailVerification && len(ep.AllowedDomains) == 0 {
		a.logger.Warn("sign-up is open to anyone: no email verification and no allowed_domains (D1)")
	}
	return nil
}

// AuditLoggerName is the zap logger name of audit events: `log { include gatehouse.audit }`.
const AuditLoggerName = "gatehouse.audit"

// auditLogger is the engine's audit logger: Caddy's logging core under its own name, so a
// `log { include gatehouse.audit }` block can route the events.
func (a *App) auditLogger() *slog.Logger {
	return slog.New(zapslog.NewHandler(a.logger.Core(), zapslog.WithName(AuditLoggerName)))
}

// clientIP is Caddy's own idea of the client address, which honours the server's
// trusted_proxies; forwarded headers are never read here (D4).
func clientIP(r *http.Request) string {
	if ip, ok := caddyhttp.GetVar(r.Context(), caddyhttp.ClientIPVarKey).(string); ok && ip != "" {
		return ip
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// engineConfig maps the Caddy config onto authcore's.
func (a *App) engineConfig(secret string) (authcore.Config, error) {
	previous := make([]string, len(a.PreviousSecrets))
	for i, p := range a.PreviousSecrets {
		var err error
		if previous[i], err = replace(caddy.NewReplacer(), "previous_secrets", p); err != nil {
			return authcore.Config{}, err
		}
	}
	if a.BaseURL == "" {
		return authcore.Config{}, errors.New("gatehouse: base_url is required (links and redirects are built from it, never from the Host header)")
	}
	if u, err := url.Parse(a.BaseURL); err != nil || u.Host == "" {
		return authcore.Config{}, fmt.Errorf("gatehouse: base_url %q is not an absolute URL", a.BaseURL)
	}
	cfg := authcore.Config{
		AppName: a.AppName, BaseURL: strings.TrimSuffix(a.BaseURL, "/"), BasePath: a.BasePath,
		Secret: secret, PreviousSecrets: previous, TrustedOrigins: a.TrustedOrigins,
		DisabledPaths: a.DisabledPaths,
	}
	cfg.Cookies.Domain = a.CookieDomain
	cfg.Cookies.Prefix = a.CookiePrefix
	cfg.Account.AllowUnlinkingAll = a.AllowUnlinkingAll
	for _, sc := range a.Social {
		p, err := a.socialProvider(sc)
		if err != nil {
			return authcore.Config{}, err
		}
		cfg.Social.Providers = append(cfg.Social.Providers, p)
	}
	if s := a.Session; s != nil {
		cfg.Session.ExpiresIn = time.Duration(s.ExpiresIn)
		cfg.Session.UpdateAge = time.Duration(s.UpdateAge)
		cfg.Session.FreshAge = time.Duration(s.FreshAge)
		cfg.Session.MaxAge = time.Duration(s.MaxAge)
		cfg.Session.CookieCache = time.Duration(s.CookieCache)
		cfg.Session.CacheTTL = time.Duration(s.CacheTTL)
		cfg.Session.NewDeviceEmail = s.NewDeviceEmail
	}
	if e := a.EmailAndPassword; e != nil {
		cfg.EmailAndPassword = authcore.EmailAndPasswordConfig{
			Disabled: e.Disabled, DisableSignUp: e.DisableSignUp, RequireEmailVerification: e.RequireEmailVerification,
			DisableAutoSignIn: e.DisableAutoSignIn, MinPasswordLength: e.MinPasswordLength, MaxPasswordLength: e.MaxPasswordLength,
			RevokeSessionsOnPasswordReset: e.RevokeSessionsOnPasswordReset,
			ResetPasswordTokenExpiresIn:   time.Duration(e.ResetPasswordTokenExpiresIn),
			AllowedDomains:                e.AllowedDomains, AllowCommonPasswords: e.AllowCommonPasswords,
		}
	}
	if v := a.EmailVerification; v != nil {
		cfg.EmailVerification = authcore.EmailVerificationConfig{SendOnSignUp: v.SendOnSignUp,
			AutoSignInAfterVerification: v.AutoSignInAfterVerification, ExpiresIn: time.Duration(v.ExpiresIn)}
	}
	if u := a.User; u != nil {
		cfg.User.ChangeEmail.Enabled = u.ChangeEmail
		cfg.User.ChangeEmail.UpdateEmailWithoutVerification = u.UpdateEmailWithoutVerification
		cfg.User.ChangeEmail.SendChangeEmailConfirmation = u.SendChangeEmailConfirmation
		cfg.User.DeleteUser.Enabled = u.DeleteUser
		cfg.User.DeleteUser.SendDeleteAccountVerification = u.SendDeleteAccountVerification
		cfg.User.DeleteUser.DeleteTokenExpiresIn = time.Duration(u.DeleteTokenExpiresIn)
	}
	if au := a.Audit; au != nil {
		cfg.Audit.Store = au.Store
		cfg.Audit.Retention = time.Duration(au.Retention)
	}
	if r := a.RateLimit; r != nil {
		cfg.RateLimit.Disabled = r.Off
		cfg.RateLimit.Window = time.Duration(r.Window)
		cfg.RateLimit.Max = r.Max
		cfg.RateLimit.AccountFailures = r.AccountFailures
		cfg.RateLimit.AccountWindow = time.Duration(r.AccountWindow)
		cfg.RateLimit.Storage = r.Storage
		for _, rule := range r.Rules {
			cfg.RateLimit.Rules = append(cfg.RateLimit.Rules, authcore.RateLimitRule{Path: rule.Path,
				Rule: ratelimit.Rule{Window: time.Duration(rule.Window), Max: rule.Max}})
		}
	}
	return cfg, nil
}

// socialHTTPClient makes every request to social identity providers (discovery, JWKS,
// token and user-info endpoints): bounded, so a slow provider cannot hold a sign-in.
var socialHTTPClient = &http.Client{Timeout: 15 * time.Second}

// socialProvider builds one social provider, resolving placeholders in its credentials.
func (a *App) socialProvider(sc oauth.Config) (oauth.Provider, error) {
	repl := caddy.NewReplacer()
	var err error
	if sc.ClientID, err = replace(repl, "social "+sc.ID+" client_id", sc.ClientID); err != nil {
		return nil, err
	}
	if sc.ClientSecret, err = replace(repl, "social "+sc.ID+" client_secret", sc.ClientSecret); err != nil {
		return nil, err
	}
	p, err := oauth.New(sc, socialHTTPClient)
	if err != nil {
		return nil, fmt.Errorf("gatehouse: %w", err)
	}
	return p, nil
}

// Engine returns the provisioned engine.
func (a *App) Engine() *authcore.Engine { return a.engine }

// Start implements caddy.App.
func (a *App) Start() error { return nil }

// Stop implements caddy.App: background workers stop; the store stays open for the next
// config until Cleanup releases it.
func (a *App) Stop() error {
	if a.engine != nil {
		return a.engine.Close()
	}
	return nil
}

// Cleanup releases the pooled runtime state.
func (a *App) Cleanup() error {
	if a.engine != nil {
		a.engine.Close() // idempotent; covers a config that never started
	}
	if a.state != "" {
		_, err := statePool.Delete(a.state)
		return err
	}
	return nil
}

// Interface guards
var (
	_ caddy.App          = (*App)(nil)
	_ caddy.Provisioner  = (*App)(nil)
	_ caddy.CleanerUpper = (*App)(nil)
)
