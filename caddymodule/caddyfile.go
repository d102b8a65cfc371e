package caddymodule

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/gatehouse-auth/gatehouse/authcore/oauth"
	"github.com/gatehouse-auth/gatehouse/caddymodule/caddyopts"
	"github.com/gatehouse-auth/gatehouse/delivery"
)

func init() {
	httpcaddyfile.RegisterGlobalOption("gatehouse", parseGlobal)
	httpcaddyfile.RegisterHandlerDirective("gatehouse", parseHandler)
	// Ordered like Caddy's own auth handlers, so nothing — respond, reverse_proxy,
	// file_server — answers before the gateway has judged the request.
	httpcaddyfile.RegisterDirectiveOrder("gatehouse", httpcaddyfile.After, "basic_auth")
}

// parseGlobal parses the global option:
//
//	gatehouse {
//	    storage bbolt <path>
//	    storage postgres <dsn> [{
//	        max_conns <n>  min_conns <n>  max_conn_lifetime <d>  max_conn_idle_time <d>
//	        connect_timeout <d>  statement_timeout <d>  tx_attempts <n>
//	    }]
//	    secret <value>
//	    previous_secrets <value...>
//	    base_url <url>
//	    base_path /api/auth
//	    trusted_origins <origin...>
//	    app_name <name>
//	    cookie_domain <domain>
//	    cookie_prefix <prefix>
//	    session {
//	        expires_in 7d  update_age 1d  fresh_age 1d  max_age 30d  cookie_cache 5m  cache_ttl 10s
//	        new_device_email
//	    }
//	    email_and_password {
//	        min_password_length 8  max_password_length 128  require_email_verification
//	        disable_sign_up  disable_auto_sign_in  disabled  allowed_domains <d...>
//	        revoke_sessions_on_password_reset  reset_password_token_expires_in 1h
//	        allow_common_passwords
//	    }
//	    email_verification {
//	        send_on_sign_up  auto_sign_in_after_verification  expires_in 1h
//	    }
//	    user {
//	        change_email  update_email_without_verification  send_change_email_confirmation
//	        delete_user  send_delete_account_verification  delete_token_expires_in 1d
//	    }
//	    audit {
//	        store  retention 90d      # events are always logged (logger gatehouse.audit); store keeps them too
//	    }
//	    rate_limit off
//	    rate_limit {
//	        window 10s  max 100  account_failures 10  account_window 15m
//	        rule <path> <window> <max>
//	        storage memory|database      # default: memory; database with storage postgres
//	    }
//	    disabled_paths <path...>
//	    allow_unlinking_all
//	    mailer log
//	    mailer smtp {
//	        host <host>  port <port>  username <user>  password <password>  from <address>
//	        tls starttls|implicit|none  connect_timeout 10s  send_timeout 30s  ca_file <pem>
//	    }
//	    mailer webhook <url> [{
//	        secret <key>
//	    }]
//	    sms log
//	    sms webhook <url> [{
//	        secret <key>
//	    }]
//	    sms twilio {
//	        account_sid <sid>  auth_token <token>  from <number>  api_url <url>
//	    }
//	    templates <dir>
//	    portal off                   # the hosted portal is on by default (portal { ... } configures it)
//	    <plugin_name> [{ plugin options }]
//	}
//
// Inside the sub-blocks several options may share a line (Caddy's parser wants a newline
// after every "{", so a block never fits on one line). List options (previous_secrets,
// trusted_origins, disabled_paths, allowed_domains) take the rest of their line and may be
// repeated; rate-limit rules may be repeated; any other option given twice is an error.
// `mailer` and `sms` name a module of the gatehouse.mailers / gatehouse.sms namespace, which
// reads the rest of its line and its block; `mailer log` and `sms log` are refused unless
// base_url is a loopback address (D13).
func parseGlobal(d *caddyfile.Dispenser, existing any) (any, error) {
	app := new(App)
	if existing != nil {
		return nil, d.Err("gatehouse: the global option may appear only once")
	}
	d.Next() // "gatehouse"
	if d.NextArg() {
		return nil, d.ArgErr()
	}
	var sess SessionConfig
	var ep EmailAndPasswordConfig
	var ev EmailVerificationConfig
	var user UserConfig
	var rl RateLimitConfig
	var audit AuditConfig
	used := map[string]bool{}
	opts := map[string]caddyopts.Opt{
		"secret":              caddyopts.String(&app.Secret),
		"previous_secrets":    caddyopts.Strings(&app.PreviousSecrets),
		"base_url":            caddyopts.String(&app.BaseURL),
		"base_path":           caddyopts.String(&app.BasePath),
		"trusted_origins":     caddyopts.Strings(&app.TrustedOrigins),
		"app_name":            caddyopts.String(&app.AppName),
		"cookie_domain":       caddyopts.String(&app.CookieDomain),
		"cookie_prefix":       caddyopts.String(&app.CookiePrefix),
		"disabled_paths":      caddyopts.Strings(&app.DisabledPaths),
		"allow_unlinking_all": caddyopts.Flag(&app.AllowUnlinkingAll),
		"storage":             {Arity: -1}, // handled below: a backend, maybe with a block
		"session": caddyopts.Block(d, "session", map[string]caddyopts.Opt{
			"expires_in": caddyopts.Duration((*time.Duration)(&sess.ExpiresIn)), "update_age": caddyopts.Duration((*time.Duration)(&sess.UpdateAge)), "fresh_age": caddyopts.Duration((*time.Duration)(&sess.FreshAge)),
			"max_age": caddyopts.Duration((*time.Duration)(&sess.MaxAge)), "cookie_cache": caddyopts.Duration((*time.Duration)(&sess.CookieCache)), "cache_ttl": caddyopts.Duration((*time.Duration)(&sess.CacheTTL)),
			"new_device_email": caddyopts.Flag(&sess.NewDeviceEmail),
		}),
		"email_and_password": caddyopts.Block(d, "email_and_password", map[string]caddyopts.Opt{
			"disabled": caddyopts.Flag(&ep.Disabled), "disable_sign_up": caddyopts.Flag(&ep.DisableSignUp),
			"require_email_verification": caddyopts.Flag(&ep.RequireEmailVerification), "disable_auto_sign_in": caddyopts.Flag(&ep.DisableAutoSignIn),
			"min_password_length": caddyopts.Int(&ep.MinPasswordLength), "max_password_length": caddyopts.Int(&ep.MaxPasswordLength),
			"revoke_sessions_on_password_reset": caddyopts.Flag(&ep.RevokeSessionsOnPasswordReset),
			"reset_password_token_expires_in":   caddyopts.Duration((*time.Duration)(&ep.ResetPasswordTokenExpiresIn)),
			"allowed_domains":                   caddyopts.Strings(&ep.AllowedDomains), "allow_common_passwords": caddyopts.Flag(&ep.AllowCommonPasswords),
		}),
		"email_verification": caddyopts.Block(d, "email_verification", map[string]caddyopts.Opt{
			"send_on_sign_up": caddyopts.Flag(&ev.SendOnSignUp), "auto_sign_in_after_verification": caddyopts.Flag(&ev.AutoSignInAfterVerification),
			"expires_in": caddyopts.Duration((*time.Duration)(&ev.ExpiresIn)),
		}),
		"user": caddyopts.Block(d, "user", map[string]caddyopts.Opt{
			"change_email": caddyopts.Flag(&user.ChangeEmail), "update_email_without_verification": caddyopts.Flag(&user.UpdateEmailWithoutVerification),
			"send_change_email_confirmation": caddyopts.Flag(&user.SendChangeEmailConfirmation), "delete_user": caddyopts.Flag(&user.DeleteUser),
			"send_delete_account_verification": caddyopts.Flag(&user.SendDeleteAccountVerification),
			"delete_token_expires_in":          caddyopts.Duration((*time.Duration)(&user.DeleteTokenExpiresIn)),
		}),
		"audit": caddyopts.Block(d, "audit", map[string]caddyopts.Opt{
			"store": caddyopts.Flag(&audit.Store), "retention": caddyopts.Duration((*time.Duration)(&audit.Retention)),
		}),
		"social":     {Arity: -1, Repeat: true}, // handled below: social <id> { … }
		"rate_limit": {Arity: -1},               // handled below: "off" or a block
		"mailer":     {Arity: -1},               // handled below: a transport module
		"sms":        {Arity: -1},
		"templates":  caddyopts.String(&app.Templates),
	}
	for d.NextBlock(0) {
		key := d.Val()
		if used[key] && !opts[key].Repeat { // plugins too: enabling one twice is a mistake
			return nil, d.Errf("gatehouse: %s given twice", key)
		}
		used[key] = true
		if key == "social" {
			if err := parseSocial(d, app); err != nil {
				return nil, err
			}
			continue
		}
		if key == "storage" {
			if err := parseStorage(d, app); err != nil {
				return nil, err
			}
			continue
		}
		if key == "rate_limit" {
			if err := parseRateLimit(d, &rl); err != nil {
				return nil, err
			}
			continue
		}
		if key == "portal" && d.CountRemainingArgs() == 1 {
			if d.NextArg(); d.Val() != "off" {
				return nil, d.Errf("gatehouse portal: expected off or an options block, got %q", d.Val())
			}
			if d.NextBlock(d.Nesting()) {
				return nil, d.Err("gatehouse portal off: takes no block")
			}
			app.DisablePortal = true
			continue
		}
		if key == "mailer" || key == "sms" {
			ns := map[string]string{"mailer": "gatehouse.mailers", "sms": "gatehouse.sms"}[key]
			raw, err := parseTransport(d, key, ns)
			if err != nil {
				return nil, err
			}
			if key == "mailer" {
				app.MailerRaw = raw
			} else {
				app.SMSRaw = raw
			}
			continue
		}
		o, ok := opts[key]
		if !ok {
			if err := parsePlugin(d, app, key, opts); err != nil {
				return nil, err
			}
			continue
		}
		args := d.RemainingArgs()
		if o.Arity >= 0 && len(args) != o.Arity || o.Arity < 0 && len(args) == 0 {
			return nil, d.Errf("gatehouse %s: wrong number of arguments", key)
		}
		if err := o.Set(args); err != nil {
			return nil, d.Errf("gatehouse %s: %v", key, err)
		}
	}
	if err := checkDevTransports(d, app); err != nil {
		return nil, err
	}
	if used["session"] {
		app.Session = &sess
	}
	if used["email_and_password"] {
		app.EmailAndPassword = &ep
	}
	if used["email_verification"] {
		app.EmailVerification = &ev
	}
	if used["user"] {
		app.User = &user
	}
	if used["rate_limit"] {
		app.RateLimit = &rl
	}
	if used["audit"] {
		app.Audit = &audit
	}
	return httpcaddyfile.App{Name: "gatehouse", Value: caddyconfig.JSON(app, nil)}, nil
}

// parseStorage reads `storage bbolt [<path>]` or `storage postgres <dsn> [{ … }]`.
func parseStorage(d *caddyfile.Dispenser, app *App) error {
	args := d.RemainingArgs()
	switch {
	case len(args) == 0:
		return d.Err("gatehouse storage: wrong number of arguments")
	case args[0] == "bbolt":
		if len(args) > 2 {
			return d.Err("gatehouse storage: usage: storage bbolt [<path>]")
		}
		if d.NextBlock(d.Nesting()) {
			return d.Err("gatehouse storage bbolt: takes no block")
		}
		b := BoltStorage{}
		if len(args) == 2 {
			b.Path = args[1]
		}
		app.StorageRaw = caddyconfig.JSONModuleObject(b, "backend", "bbolt", nil)
		return nil
	case args[0] == "postgres":
		if len(args) != 2 || args[1] == "" {
			return d.Err("gatehouse storage: usage: storage postgres <dsn> [{ max_conns … }]")
		}
		p := PostgresStorage{DSN: args[1]}
		err := caddyopts.Parse(d, "storage postgres", map[string]caddyopts.Opt{
			"max_conns": positiveInt(&p.MaxConns), "min_conns": caddyopts.Int(&p.MinConns),
			"max_conn_lifetime":  caddyopts.Duration((*time.Duration)(&p.MaxConnLifetime)),
			"max_conn_idle_time": caddyopts.Duration((*time.Duration)(&p.MaxConnIdleTime)),
			"connect_timeout":    caddyopts.Duration((*time.Duration)(&p.ConnectTimeout)),
			"statement_timeout":  caddyopts.Duration((*time.Duration)(&p.StatementTimeout)),
			"tx_attempts":        positiveInt(&p.TxAttempts),
		})
		if err != nil {
			return err
		}
		if err := p.Validate(); err != nil {
			return d.Errf("gatehouse %v", err)
		}
		app.StorageRaw = caddyconfig.JSONModuleObject(p, "backend", "postgres", nil)
		return nil
	}
	if _, err := caddy.GetModule("gatehouse.storage." + args[0]); err != nil {
		return d.Errf("gatehouse storage: unknown backend %q (valid: %s)", args[0], moduleNames("gatehouse.storage"))
	}
	return d.Errf("gatehouse storage: backend %q has no Caddyfile syntax here yet; use JSON", args[0])
}

// positiveInt is caddyopts.Int refusing zero.
func positiveInt(p *int) caddyopts.Opt {
	o := caddyopts.Int(p)
	set := o.Set
	o.Set = func(a []string) error {
		if err := set(a); err != nil {
			return err
		}
		if *p == 0 {
			return fmt.Errorf("must be at least 1")
		}
		return nil
	}
	return o
}

func parseRateLimit(d *caddyfile.Dispenser, rl *RateLimitConfig) error {
	args := d.RemainingArgs()
	if len(args) == 1 && args[0] == "off" {
		rl.Off = true
		return nil
	}
	if len(args) > 0 {
		return d.Errf("rate_limit: expected `off` or a block")
	}
	return caddyopts.Parse(d, "rate_limit", map[string]caddyopts.Opt{
		"window": caddyopts.Duration((*time.Duration)(&rl.Window)), "max": caddyopts.Int(&rl.Max),
		"account_failures": caddyopts.Int(&rl.AccountFailures), "account_window": caddyopts.Duration((*time.Duration)(&rl.AccountWindow)),
		"storage": caddyopts.OneOf(&rl.Storage, "memory", "database"),
		"rule": {Arity: 3, Repeat: true, Set: func(a []string) error {
			w, err := caddy.ParseDuration(a[1])
			if err != nil {
				return err
			}
			m, err := strconv.Atoi(a[2])
			if err != nil || m <= 0 || w <= 0 || !strings.HasPrefix(a[0], "/") {
				return fmt.Errorf("usage: rule <path> <window> <max> (positive window and max)")
			}
			rl.Rules = append(rl.Rules, RateRule{Path: a[0], Window: caddy.Duration(w), Max: m})
			return nil
		}},
	})
}

// parseSocial reads `social <id> { preset … client_id … client_secret … issuer … scopes …
// prompt … tenant … disable_sign_up disable_implicit_sign_up trust_idp_mfa trust_email
// auth_url … token_url … userinfo_url … jwks_url … name … pkce off algorithms … }`. The
// preset defaults to the id when the id names one (social github { … }).
func parseSocial(d *caddyfile.Dispenser, app *App) error {
	args := d.RemainingArgs()
	if len(args) != 1 {
		return d.Err("gatehouse social: usage: social <provider-id> { client_id … client_secret … }")
	}
	c := oauth.Config{ID: args[0]}
	for _, s := range app.Social {
		if s.ID == c.ID {
			return d.Errf("gatehouse social %s: given twice", c.ID)
		}
	}
	var pkce string
	err := caddyopts.Parse(d, "social "+c.ID, map[string]caddyopts.Opt{
		"preset":                   caddyopts.OneOf(&c.Preset, "google", "github", "microsoft", "gitlab", "apple", "discord", "oidc", "oauth2"),
		"name":                     caddyopts.String(&c.Name),
		"client_id":                caddyopts.String(&c.ClientID),
		"client_secret":            caddyopts.String(&c.ClientSecret),
		"issuer":                   caddyopts.String(&c.Issuer),
		"auth_url":                 caddyopts.String(&c.AuthURL),
		"token_url":                caddyopts.String(&c.TokenURL),
		"userinfo_url":             caddyopts.String(&c.UserInfoURL),
		"jwks_url":                 caddyopts.String(&c.JWKSURL),
		"scopes":                   caddyopts.Strings(&c.Scopes),
		"algorithms":               caddyopts.Strings(&c.Algorithms),
		"prompt":                   caddyopts.String(&c.Prompt),
		"tenant":                   caddyopts.String(&c.Tenant),
		"pkce":                     caddyopts.OneOf(&pkce, "on", "off"),
		"disable_sign_up":          caddyopts.Flag(&c.DisableSignUp),
		"disable_implicit_sign_up": caddyopts.Flag(&c.DisableImplicitSignUp),
		"trust_idp_mfa":            caddyopts.Flag(&c.TrustIDPMFA),
		"trust_email":              caddyopts.Flag(&c.TrustEmail),
	})
	if err != nil {
		return err
	}
	if pkce != "" {
		on := pkce == "on"
		c.PKCE = &on
	}
	// Checked now where it can be: placeholders in the credentials resolve at provision.
	check := c
	if hasPlaceholder(check.ClientID) {
		check.ClientID = "x"
	}
	if hasPlaceholder(check.ClientSecret) {
		check.ClientSecret = "x"
	}
	if err := check.Validate(); err != nil {
		return d.Errf("gatehouse %v", err)
	}
	app.Social = append(app.Social, c)
	return nil
}

// parseTransport reads `mailer|sms <transport> [args] [{ options }]`: the transport is a
// module of namespace ns, which parses its own segment when it can.
func parseTransport(d *caddyfile.Dispenser, option, ns string) (json.RawMessage, error) {
	if !d.NextArg() {
		return nil, d.Errf("gatehouse %s: name a transport (%s)", option, moduleNames(ns))
	}
	name := d.Val()
	info, err := caddy.GetModule(ns + "." + name)
	if err != nil {
		return nil, d.Errf("gatehouse %s: unknown transport %q (valid: %s)", option, name, moduleNames(ns))
	}
	mod := info.New()
	if um, ok := mod.(caddyfile.Unmarshaler); ok {
		if err := um.UnmarshalCaddyfile(d.NewFromNextSegment()); err != nil {
			return nil, fmt.Errorf("gatehouse %s %s: %w", option, name, err)
		}
	} else if d.NextArg() || d.NextBlock(d.Nesting()) {
		return nil, d.Errf("gatehouse %s %s: the transport takes no options", option, name)
	}
	return caddyconfig.JSONModuleObject(mod, "transport", name, nil), nil
}

// checkDevTransports refuses `mailer log` / `sms log` with a base_url that is not loopback
// (D13) when both are written out; placeholders are checked again at provision.
func checkDevTransports(d *caddyfile.Dispenser, app *App) error {
	if app.BaseURL == "" || strings.Contains(app.BaseURL, "{") || delivery.IsLoopbackURL(app.BaseURL) {
		return nil
	}
	for _, option := range []string{"mailer", "sms"} {
		raw := map[string]json.RawMessage{"mailer": app.MailerRaw, "sms": app.SMSRaw}[option]
		var t struct {
			Transport string `json:"transport"`
		}
		if raw != nil && json.Unmarshal(raw, &t) == nil && t.Transport == "log" {
			return d.Errf("gatehouse: `%s log` writes sign-in links and codes to the log and is allowed only when base_url is a loopback address, not %s (D13)", option, app.BaseURL)
		}
	}
	return nil
}

// parsePlugin enables the plugin named key (module gatehouse.plugins.<key>), letting it read
// its own options block.
func parsePlugin(d *caddyfile.Dispenser, app *App, key string, opts map[string]caddyopts.Opt) error {
	info, err := caddy.GetModule("gatehouse.plugins." + key)
	if err != nil {
		return d.Errf("gatehouse: unknown option or plugin %q (options: %s; plugins: %s)",
			key, caddyopts.Names(opts), moduleNames("gatehouse.plugins"))
	}
	mod := info.New()
	if um, ok := mod.(caddyfile.Unmarshaler); ok {
		if err := um.UnmarshalCaddyfile(d.NewFromNextSegment()); err != nil {
			return fmt.Errorf("gatehouse %s: %w", key, err)
		}
	} else if d.NextArg() || d.NextBlock(d.Nesting()) {
		return d.Errf("gatehouse %s: the plugin takes no options", key)
	}
	if app.PluginsRaw == nil {
		app.PluginsRaw = caddy.ModuleMap{}
	}
	if _, dup := app.PluginsRaw[key]; dup {
		return d.Errf("gatehouse: plugin %s enabled twice", key)
	}
	app.PluginsRaw[key] = caddyconfig.JSON(mod, nil)
	return nil
}

func moduleNames(ns string) string {
	var names []string
	for _, m := range caddy.GetModules(ns) {
		names = append(names, m.ID.Name())
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// parseHandler parses the site directive:
//
//	gatehouse {
//	    public <path...>
//	    require authenticated <path...>
//	    require role <role> <path...|@matcher>
//	    require permission <resource>:<action> <path...|@matcher>
//	    require admin <path...|@matcher>
//	    require org_member <path...|@matcher> [{ org_from path|host <n> [slug|id] }]
//	    require org_role <role[,role...]> <path...|@matcher> [{ org_from ... }]
//	    require org_permission <resource>:<action> <path...|@matcher> [{ org_from ... }]
//	    allow anonymous <path...>
//	    header <field> <Header-Name>
//	    login_url <url>
//	    header_prefix X-Auth-
//	    pass_credentials
//	    allow_encoded_slashes
//	    use_handle_errors
//	    refuse_preflight
//	    verify { <rules as above> }
//	    identity_jwt <Header-Name> [<lifetime>] [{
//	        lifetime 60s
//	        audience <aud>
//	    }]
//	}
//
// identity_jwt needs the jwt plugin in the global options (its keys sign the token).
func parseHandler(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	hd := new(Handler)
	h.Next() // directive name
	if h.NextArg() {
		return nil, h.ArgErr()
	}
	seen := map[string]bool{}
	for h.NextBlock(0) {
		key := h.Val()
		switch key {
		case "public", "require", "allow", "header": // repeatable
		default:
			if seen[key] {
				return nil, h.Errf("gatehouse: %s given twice", key)
			}
			seen[key] = true
		}
		switch key {
		case "public", "require", "allow":
			r, err := parseRule(h, key)
			if err != nil {
				return nil, err
			}
			hd.Rules = append(hd.Rules, r)
		case "header":
			args := h.RemainingArgs()
			if len(args) != 2 {
				return nil, h.Err("usage: header <field> <Header-Name>")
			}
			field, name := args[0], args[1]
			if !knownField(field) {
				return nil, h.Errf("header %s: unknown identity field (valid: %s)", field, fieldNames())
			}
			if !validHeaderName(name) {
				return nil, h.Errf("header %s: %q is not a valid header name", field, name)
			}
			if _, dup := hd.Headers[field]; dup {
				return nil, h.Errf("header %s given twice", field)
			}
			if hd.Headers == nil {
				hd.Headers = map[string]string{}
			}
			hd.Headers[field] = name
		case "login_url", "header_prefix":
			args := h.RemainingArgs()
			if len(args) != 1 {
				return nil, h.ArgErr()
			}
			if key == "login_url" {
				hd.LoginURL = args[0]
			} else {
				hd.HeaderPrefix = args[0]
			}
		case "pass_credentials", "allow_encoded_slashes", "use_handle_errors", "refuse_preflight":
			if h.NextArg() {
				return nil, h.ArgErr()
			}
			switch key {
			case "pass_credentials":
				hd.PassCredentials = true
			case "allow_encoded_slashes":
				hd.AllowEncodedSlashes = true
			case "use_handle_errors":
				hd.UseHandleErrors = true
			case "refuse_preflight":
				hd.RefusePreflight = true
			}
		case "identity_jwt":
			c, err := parseIdentityJWT(h)
			if err != nil {
				return nil, err
			}
			hd.IdentityJWT = c
		case "verify":
			if h.NextArg() {
				return nil, h.ArgErr()
			}
			hd.Verify = &VerifyConfig{}
			for nesting := h.Nesting(); h.NextBlock(nesting); {
				kind := h.Val()
				if kind != "public" && kind != "require" && kind != "allow" {
					return nil, h.Errf("verify: unknown rule %q (valid: public, require, allow)", kind)
				}
				r, err := parseRule(h, kind)
				if err != nil {
					return nil, err
				}
				hd.Verify.Rules = append(hd.Verify.Rules, r)
			}
		default:
			return nil, h.Errf("gatehouse: unknown subdirective %q (valid: public, require, allow, header, login_url, header_prefix, pass_credentials, allow_encoded_slashes, use_handle_errors, refuse_preflight, verify, identity_jwt)", key)
		}
	}
	return hd, nil
}

// parseIdentityJWT reads `identity_jwt <Header-Name> [<lifetime>]` and its optional block
// (lifetime, audience; the lifetime given once, on the line or in the block).
func parseIdentityJWT(h httpcaddyfile.Helper) (*IdentityJWTConfig, error) {
	const usage = "usage: identity_jwt <Header-Name> [<lifetime>] [{ lifetime <duration>  audience <aud> }]"
	args := h.RemainingArgs()
	if len(args) < 1 || len(args) > 2 {
		return nil, h.Err(usage)
	}
	c := &IdentityJWTConfig{Header: args[0]}
	if !validHeaderName(c.Header) {
		return nil, h.Errf("identity_jwt: %q is not a valid header name", c.Header)
	}
	lifetime := func(v string) error {
		if c.Lifetime != 0 {
			return h.Err("identity_jwt: lifetime given twice")
		}
		d, err := caddy.ParseDuration(v)
		if err != nil || d < minIdentityLifetime || d > maxIdentityLifetime || d%time.Second != 0 {
			return h.Errf("identity_jwt: lifetime %q must be whole seconds between %s and %s", v, minIdentityLifetime, maxIdentityLifetime)
		}
		c.Lifetime = caddy.Duration(d)
		return nil
	}
	if len(args) == 2 {
		if err := lifetime(args[1]); err != nil {
			return nil, err
		}
	}
	for nesting := h.Nesting(); h.NextBlock(nesting); {
		key := h.Val()
		vals := h.RemainingArgs()
		if len(vals) != 1 {
			return nil, h.Errf("identity_jwt %s: wrong number of arguments", key)
		}
		switch key {
		case "lifetime":
			if err := lifetime(vals[0]); err != nil {
				return nil, err
			}
		case "audience":
			if c.Audience != "" {
				return nil, h.Err("identity_jwt: audience given twice")
			}
			c.Audience = vals[0]
		default:
			return nil, h.Errf("identity_jwt: unknown option %q (valid: lifetime, audience)", key)
		}
	}
	return c, nil
}

// ruleUsage lists the rule forms for error messages.
const ruleUsage = "usage: require authenticated|admin|org_member <path...|@matcher>, " +
	"require role <role>|permission <resource>:<action>|org_role <role[,role...]>|org_permission <resource>:<action> <path...|@matcher> " +
	"(org_* rules take an optional block: { org_from path|host <n> [slug|id] })"

// kindUsage is the usage of one require form.
var kindUsage = map[string]string{
	KindRole:          "usage: require role <role> <path...|@matcher>",
	KindPermission:    "usage: require permission <resource>:<action> <path...|@matcher>",
	KindOrgRole:       "usage: require org_role <role[,role...]> <path...|@matcher> [{ org_from path|host <n> [slug|id] }]",
	KindOrgPermission: "usage: require org_permission <resource>:<action> <path...|@matcher> [{ org_from path|host <n> [slug|id] }]",
}

// parseRule reads one rule line: public <path...> | allow anonymous <path...> |
// require authenticated|admin|org_member <path...|@matcher> |
// require role <role> <...> | require permission <resource>:<action> <...> |
// require org_role <role[,role...]> <...> | require org_permission <resource>:<action> <...>,
// the org_* forms with an optional block { org_from path|host <n> [slug|id] }.
func parseRule(h httpcaddyfile.Helper, key string) (Rule, error) {
	var r Rule
	switch key {
	case "public":
		r.Kind = KindPublic
	case "allow":
		if !h.NextArg() || h.Val() != "anonymous" {
			return r, h.Err("usage: allow anonymous <path...>")
		}
		r.Kind = KindAnonymous
	case "require":
		if !h.NextArg() {
			return r, h.Err(ruleUsage)
		}
		r.Kind = h.Val()
		switch r.Kind {
		case KindAuthenticated, KindAdmin, KindOrgMember:
		case KindRole, KindOrgRole:
			if !h.NextArg() || strings.HasPrefix(h.Val(), "/") || strings.HasPrefix(h.Val(), "@") {
				return r, h.Errf("require %s: expected a role name before the paths (%s)", r.Kind, kindUsage[r.Kind])
			}
			if r.Kind == KindRole {
				r.Role = h.Val()
			} else {
				r.OrgRoles = strings.Split(h.Val(), ",")
				if slices.Contains(r.OrgRoles, "") {
					return r, h.Errf("require org_role %q: empty role name", h.Val())
				}
			}
		case KindPermission, KindOrgPermission:
			if !h.NextArg() {
				return r, h.Err(kindUsage[r.Kind])
			}
			res, act, ok := strings.Cut(h.Val(), ":")
			if !ok || res == "" || act == "" || strings.HasPrefix(res, "@") || strings.HasPrefix(res, "/") {
				return r, h.Errf("require %s %q: expected <resource>:<action>, such as files:read (%s)", r.Kind, h.Val(), kindUsage[r.Kind])
			}
			r.Resource, r.Action = res, act
		default:
			return r, h.Errf("require %q: expected authenticated, role, permission, admin, org_member, org_role or org_permission", h.Val())
		}
	}
	for h.NextArg() {
		if strings.HasPrefix(h.Val(), "@") {
			// MatcherToken reads the next argument itself: step back so that it reads
			// this one, not the token after it.
			h.Prev()
			mm, ok, err := h.MatcherToken()
			if err != nil {
				return r, err
			}
			if !ok {
				return r, h.Errf("unknown matcher %s", h.Val())
			}
			r.MatchRaw = append(r.MatchRaw, mm)
			continue
		}
		if err := checkRulePath(h.Val()); err != nil {
			return r, h.Errf("%s: %v", key, err)
		}
		r.Paths = append(r.Paths, h.Val())
	}
	for nesting := h.Nesting(); h.NextBlock(nesting); {
		if !isOrg(r.Kind) {
			return r, h.Errf("%s: only org_member, org_role and org_permission rules take a block", key)
		}
		if h.Val() != "org_from" {
			return r, h.Errf("require %s: unknown option %q (valid: org_from)", r.Kind, h.Val())
		}
		if r.OrgFrom != nil {
			return r, h.Err("org_from given twice")
		}
		args := h.RemainingArgs()
		if len(args) < 2 || len(args) > 3 {
			return r, h.Err("usage: org_from path|host <n> [slug|id]")
		}
		n, err := strconv.Atoi(args[1])
		if err != nil {
			return r, h.Errf("org_from %s %q: expected a position counting from 1", args[0], args[1])
		}
		r.OrgFrom = &OrgSource{From: args[0], Index: n}
		if len(args) == 3 {
			r.OrgFrom.By = args[2]
		}
		if err := r.validate(nil); err != nil {
			return r, h.Err(err.Error())
		}
	}
	if len(r.Paths) == 0 && len(r.MatchRaw) == 0 {
		return r, h.Errf("%s: needs at least one path or @matcher", key)
	}
	if len(r.Paths) > 0 && len(r.MatchRaw) > 0 {
		return r, h.Errf("%s: give paths or a matcher, not both", key)
	}
	return r, nil
}
