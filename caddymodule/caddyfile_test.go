package caddymodule

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"

	"github.com/gatehouse-auth/gatehouse/authcore"
)

// Two stand-in plugins, registered only in the test binary, so the global parser's plugin
// path is exercised whatever real plugins exist: one reads its own options block, one takes
// none.
func init() {
	caddy.RegisterModule(testGreeter{})
	caddy.RegisterModule(testBare{})
}

type testGreeter struct {
	Greeting string `json:"greeting,omitempty"`
}

func (testGreeter) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "gatehouse.plugins.test_greeter", New: func() caddy.Module { return new(testGreeter) }}
}

func (p *testGreeter) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // plugin name
	for d.NextBlock(0) {
		if d.Val() != "greeting" || !d.Args(&p.Greeting) {
			return d.Errf("test_greeter: bad option %q", d.Val())
		}
	}
	return nil
}

func (testGreeter) ID() string                         { return "test-greeter" }
func (testGreeter) Register(*authcore.Registrar) error { return nil }

type testBare struct{}

func (testBare) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "gatehouse.plugins.test_bare", New: func() caddy.Module { return new(testBare) }}
}
func (testBare) ID() string                         { return "test-bare" }
func (testBare) Register(*authcore.Registrar) error { return nil }

// parseGlobalText runs the global option parser the way httpcaddyfile does (a dispenser over
// the option's segment) and decodes the app it produces.
func parseGlobalText(t *testing.T, text string) (*App, error) {
	t.Helper()
	v, err := parseGlobal(caddyfile.NewTestDispenser(text), nil)
	if err != nil {
		return nil, err
	}
	ha, ok := v.(httpcaddyfile.App)
	if !ok || ha.Name != "gatehouse" {
		t.Fatalf("parseGlobal returned %#v, want httpcaddyfile.App named gatehouse", v)
	}
	app := new(App)
	if err := json.Unmarshal(ha.Value, app); err != nil {
		t.Fatalf("decoding %s: %v", ha.Value, err)
	}
	return app, nil
}

func d(v time.Duration) caddy.Duration { return caddy.Duration(v) }

const day = 24 * time.Hour

func TestParseGlobal(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  *App
	}{
		{
			name:  "minimal",
			input: "gatehouse {\n base_url http://localhost:8080\n}",
			want:  &App{BaseURL: "http://localhost:8080"},
		},
		{
			name: "every top-level option",
			input: `gatehouse {
				secret s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t
				previous_secrets old1 old2
				base_url https://app.example.com
				base_path /auth
				trusted_origins https://a.example.com https://*.b.example.com
				app_name "My App"
				cookie_domain example.com
				cookie_prefix myapp
				disabled_paths /sign-up/email /delete-user
				allow_unlinking_all
			}`,
			want: &App{
				Secret: "s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t", PreviousSecrets: []string{"old1", "old2"},
				BaseURL: "https://app.example.com", BasePath: "/auth",
				TrustedOrigins: []string{"https://a.example.com", "https://*.b.example.com"},
				AppName:        "My App", CookieDomain: "example.com", CookiePrefix: "myapp",
				DisabledPaths: []string{"/sign-up/email", "/delete-user"}, AllowUnlinkingAll: true,
			},
		},
		{
			name: "list options accumulate when repeated",
			input: `gatehouse {
				trusted_origins https://a.example.com
				trusted_origins https://b.example.com
				previous_secrets one
				previous_secrets two
				disabled_paths /a
				disabled_paths /b
			}`,
			want: &App{
				TrustedOrigins:  []string{"https://a.example.com", "https://b.example.com"},
				PreviousSecrets: []string{"one", "two"}, DisabledPaths: []string{"/a", "/b"},
			},
		},
		{
			name: "session options sharing a line",
			input: `gatehouse {
				session {
					expires_in 7d  update_age 1d  fresh_age 1d  cookie_cache 5m
				}
			}`,
			want: &App{Session: &SessionConfig{ExpiresIn: d(7 * day), UpdateAge: d(day), FreshAge: d(day), CookieCache: d(5 * time.Minute)}},
		},
		{
			name: "session options one per line",
			input: `gatehouse {
				session {
					expires_in 12h
					max_age 30d
					cache_ttl 2s
				}
			}`,
			want: &App{Session: &SessionConfig{ExpiresIn: d(12 * time.Hour), MaxAge: d(30 * day), CacheTTL: d(2 * time.Second)}},
		},
		{
			name: "session new_device_email flag",
			input: `gatehouse {
				session {
					new_device_email
					expires_in 1d
				}
			}`,
			want: &App{Session: &SessionConfig{NewDeviceEmail: true, ExpiresIn: d(day)}},
		},
		{
			name:  "empty session block still enables the section",
			input: "gatehouse {\n session {\n }\n}",
			want:  &App{Session: &SessionConfig{}},
		},
		{
			name: "email_and_password options sharing a line",
			input: `gatehouse {
				email_and_password {
					min_password_length 8  require_email_verification  disable_sign_up
				}
			}`,
			want: &App{EmailAndPassword: &EmailAndPasswordConfig{MinPasswordLength: 8, RequireEmailVerification: true, DisableSignUp: true}},
		},
		{
			name: "every email_and_password option",
			input: `gatehouse {
				email_and_password {
					disabled
					disable_auto_sign_in
					max_password_length 64
					revoke_sessions_on_password_reset
					reset_password_token_expires_in 30m
					allowed_domains example.com example.org
					allow_common_passwords
				}
			}`,
			want: &App{EmailAndPassword: &EmailAndPasswordConfig{
				Disabled: true, DisableAutoSignIn: true, MaxPasswordLength: 64, RevokeSessionsOnPasswordReset: true,
				ResetPasswordTokenExpiresIn: d(30 * time.Minute), AllowedDomains: []string{"example.com", "example.org"},
				AllowCommonPasswords: true,
			}},
		},
		{
			name: "email_verification and user",
			input: `gatehouse {
				email_verification {
					send_on_sign_up  auto_sign_in_after_verification  expires_in 2h
				}
				user {
					change_email  update_email_without_verification  send_change_email_confirmation
					delete_user  send_delete_account_verification  delete_token_expires_in 1d
				}
			}`,
			want: &App{
				EmailVerification: &EmailVerificationConfig{SendOnSignUp: true, AutoSignInAfterVerification: true, ExpiresIn: d(2 * time.Hour)},
				User: &UserConfig{ChangeEmail: true, UpdateEmailWithoutVerification: true, SendChangeEmailConfirmation: true,
					DeleteUser: true, SendDeleteAccountVerification: true, DeleteTokenExpiresIn: d(day)},
			},
		},
		{
			name: "rate_limit options and a rule sharing a line",
			input: `gatehouse {
				rate_limit {
					window 10s  max 100  rule /sign-in/* 10s 3
				}
			}`,
			want: &App{RateLimit: &RateLimitConfig{Window: d(10 * time.Second), Max: 100,
				Rules: []RateRule{{Path: "/sign-in/*", Window: d(10 * time.Second), Max: 3}}}},
		},
		{
			name: "rate_limit rules accumulate, account lockout",
			input: `gatehouse {
				rate_limit {
					rule /sign-in/* 10s 3
					rule /sign-up/email 1m 5
					account_failures 5  account_window 15m
				}
			}`,
			want: &App{RateLimit: &RateLimitConfig{
				Rules: []RateRule{
					{Path: "/sign-in/*", Window: d(10 * time.Second), Max: 3},
					{Path: "/sign-up/email", Window: d(time.Minute), Max: 5},
				},
				AccountFailures: 5, AccountWindow: d(15 * time.Minute),
			}},
		},
		{
			name:  "rate_limit off",
			input: "gatehouse {\n rate_limit off\n}",
			want:  &App{RateLimit: &RateLimitConfig{Off: true}},
		},
		{
			name:  "storage bbolt without a path",
			input: "gatehouse {\n storage bbolt\n}",
			want:  &App{StorageRaw: json.RawMessage(`{"backend":"bbolt"}`)},
		},
		{
			name:  "storage bbolt with a path",
			input: "gatehouse {\n storage bbolt /var/lib/gatehouse/auth.db\n}",
			want:  &App{StorageRaw: json.RawMessage(`{"backend":"bbolt","path":"/var/lib/gatehouse/auth.db"}`)},
		},
		{
			name:  "storage postgres with a placeholder DSN",
			input: "gatehouse {\n storage postgres {env.GATEHOUSE_DATABASE_URL}\n}",
			want:  &App{StorageRaw: json.RawMessage(`{"backend":"postgres","dsn":"{env.GATEHOUSE_DATABASE_URL}"}`)},
		},
		{
			name: "storage postgres with every pool option",
			input: `gatehouse {
				storage postgres "postgres://gh:pw@db:5432/gatehouse?sslmode=require" {
					max_conns 20  min_conns 2
					max_conn_lifetime 1h  max_conn_idle_time 30m
					connect_timeout 5s  statement_timeout 10s  tx_attempts 40
				}
				rate_limit {
					storage database
				}
			}`,
			want: &App{StorageRaw: json.RawMessage(`{"backend":"postgres","connect_timeout":5000000000,` +
				`"dsn":"postgres://gh:pw@db:5432/gatehouse?sslmode=require","max_conn_idle_time":1800000000000,` +
				`"max_conn_lifetime":3600000000000,"max_conns":20,"min_conns":2,"statement_timeout":10000000000,"tx_attempts":40}`),
				RateLimit: &RateLimitConfig{Storage: "database"}},
		},
		{
			name:  "audit storage with a retention",
			input: "gatehouse {\n audit {\n store  retention 30d\n }\n}",
			want:  &App{Audit: &AuditConfig{Store: true, Retention: d(30 * day)}},
		},
		{
			name:  "rate_limit storage memory",
			input: "gatehouse {\n rate_limit {\n storage memory\n }\n}",
			want:  &App{RateLimit: &RateLimitConfig{Storage: "memory"}},
		},
		{
			name: "plugins by name, with and without options",
			input: `gatehouse {
				test_greeter {
					greeting hello
				}
				test_bare
			}`,
			want: &App{PluginsRaw: caddy.ModuleMap{
				"test_greeter": json.RawMessage(`{"greeting":"hello"}`),
				"test_bare":    json.RawMessage(`{}`),
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseGlobalText(t, tt.input)
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				gj, _ := json.Marshal(got)
				wj, _ := json.Marshal(tt.want)
				t.Errorf("parsed\n got: %s\nwant: %s", gj, wj)
			}
		})
	}
}

func TestParseGlobalErrors(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []string // substrings of the error
	}{
		{"arguments after gatehouse", "gatehouse extra {\n}", []string{"wrong argument count"}},
		{
			"unknown option lists options and plugins",
			"gatehouse {\n bse_url http://x\n}",
			[]string{`unknown option or plugin "bse_url"`, "base_url", "rate_limit", "session", "storage", "test_greeter", "test_bare"},
		},
		{
			"unknown plugin name",
			"gatehouse {\n no_such_plugin {\n issuer x\n }\n}",
			[]string{`unknown option or plugin "no_such_plugin"`, "plugins: ", "test_greeter"},
		},
		{"unknown option inside a block lists the block's options", "gatehouse {\n session {\n expires 1d\n }\n}",
			[]string{`session: unknown option "expires"`, "cache_ttl, cookie_cache, expires_in, fresh_age, max_age, new_device_email, update_age"}},
		{"new_device_email takes no argument", "gatehouse {\n session {\n new_device_email on\n }\n}", []string{"new_device_email"}},
		{"duplicate new_device_email", "gatehouse {\n session {\n new_device_email\n new_device_email\n }\n}", []string{"session: new_device_email given twice"}},
		{"unknown rate_limit option", "gatehouse {\n rate_limit {\n burst 3\n }\n}", []string{`rate_limit: unknown option "burst"`, "account_failures", "rule", "window"}},
		{"duplicate scalar", "gatehouse {\n base_url http://a\n base_url http://b\n}", []string{"base_url given twice"}},
		{"unknown audit option", "gatehouse {\n audit {\n keep 3d\n }\n}", []string{`audit: unknown option "keep"`, "retention, store"}},
		{"audit retention needs a duration", "gatehouse {\n audit {\n retention forever\n }\n}", []string{"retention"}},
		{"portal with a bad argument", "gatehouse {\n portal on\n}", []string{`gatehouse portal: expected off or an options block, got "on"`}},
		{"portal off with a block", "gatehouse {\n portal off {\n app_name x\n }\n}", []string{"portal off: takes no block"}},
		{"portal off and configured", "gatehouse {\n portal off\n portal {\n app_name x\n }\n}", []string{"portal given twice"}},
		{"duplicate flag", "gatehouse {\n allow_unlinking_all\n allow_unlinking_all\n}", []string{"allow_unlinking_all given twice"}},
		{"duplicate block", "gatehouse {\n session {\n expires_in 1d\n }\n session {\n update_age 1h\n }\n}", []string{"session given twice"}},
		{"duplicate storage", "gatehouse {\n storage bbolt a.db\n storage bbolt b.db\n}", []string{"storage given twice"}},
		{"duplicate rate_limit", "gatehouse {\n rate_limit off\n rate_limit {\n max 3\n }\n}", []string{"rate_limit given twice"}},
		{"duplicate plugin", "gatehouse {\n test_bare\n test_bare\n}", []string{"test_bare given twice"}},
		{"duplicate option inside a block", "gatehouse {\n session {\n expires_in 7d  expires_in 1d\n }\n}", []string{"session: expires_in given twice"}},
		{"duplicate option inside a block on two lines", "gatehouse {\n email_and_password {\n min_password_length 8\n min_password_length 12\n }\n}",
			[]string{"email_and_password: min_password_length given twice"}},
		{"duplicate rate_limit window", "gatehouse {\n rate_limit {\n window 1s  window 2s\n }\n}", []string{"rate_limit: window given twice"}},
		{"scalar without argument", "gatehouse {\n base_url\n}", []string{"gatehouse base_url: wrong number of arguments"}},
		{"scalar with two arguments", "gatehouse {\n base_url http://a http://b\n}", []string{"gatehouse base_url: wrong number of arguments"}},
		{"list without argument", "gatehouse {\n trusted_origins\n}", []string{"gatehouse trusted_origins: wrong number of arguments"}},
		{"flag with an argument", "gatehouse {\n allow_unlinking_all yes\n}", []string{"gatehouse allow_unlinking_all: wrong number of arguments"}},
		{"block with an argument", "gatehouse {\n session 7d\n}", []string{"gatehouse session: wrong number of arguments"}},
		{"block option without argument", "gatehouse {\n session {\n expires_in\n }\n}", []string{"session expires_in: expected 1 argument(s)"}},
		{"block list without argument", "gatehouse {\n email_and_password {\n allowed_domains\n }\n}", []string{"email_and_password allowed_domains: expected 1 argument(s)"}},
		{"bad duration", "gatehouse {\n session {\n expires_in soon\n }\n}", []string{"session expires_in:"}},
		{"negative number", "gatehouse {\n email_and_password {\n min_password_length -1\n }\n}", []string{`"-1" is not a non-negative integer`}},
		{"not a number", "gatehouse {\n rate_limit {\n max lots\n }\n}", []string{`"lots" is not a non-negative integer`}},
		{"rate_limit with a word other than off", "gatehouse {\n rate_limit on\n}", []string{"rate_limit: expected `off` or a block"}},
		{"rate_limit rule missing max", "gatehouse {\n rate_limit {\n rule /sign-in/* 10s\n }\n}", []string{"rate_limit rule: expected 3 argument(s)"}},
		{"rate_limit rule path without slash", "gatehouse {\n rate_limit {\n rule sign-in 10s 3\n }\n}", []string{"usage: rule <path> <window> <max>"}},
		{"rate_limit rule zero max", "gatehouse {\n rate_limit {\n rule /x 10s 0\n }\n}", []string{"usage: rule <path> <window> <max>"}},
		{"rate_limit rule bad window", "gatehouse {\n rate_limit {\n rule /x often 3\n }\n}", []string{"rate_limit rule:"}},
		{"storage without backend", "gatehouse {\n storage\n}", []string{"gatehouse storage: wrong number of arguments"}},
		{"storage bbolt with two paths", "gatehouse {\n storage bbolt a.db b.db\n}", []string{"usage: storage bbolt [<path>]"}},
		{"unknown storage backend", "gatehouse {\n storage mongo\n}", []string{`unknown backend "mongo"`, "bbolt", "postgres"}},
		{"storage bbolt with a block", "gatehouse {\n storage bbolt a.db {\n max_conns 3\n }\n}", []string{"storage bbolt: takes no block"}},
		{"storage postgres without DSN", "gatehouse {\n storage postgres\n}", []string{"usage: storage postgres <dsn>"}},
		{"storage postgres with two DSNs", "gatehouse {\n storage postgres a b\n}", []string{"usage: storage postgres <dsn>"}},
		{"storage postgres unknown option", "gatehouse {\n storage postgres postgres://db {\n pool 3\n }\n}",
			[]string{`storage postgres: unknown option "pool"`, "connect_timeout, max_conn_idle_time, max_conn_lifetime, max_conns, min_conns, statement_timeout, tx_attempts"}},
		{"storage postgres max_conns 0", "gatehouse {\n storage postgres postgres://db {\n max_conns 0\n }\n}", []string{"storage postgres max_conns: must be at least 1"}},
		{"storage postgres tx_attempts 0", "gatehouse {\n storage postgres postgres://db {\n tx_attempts 0\n }\n}", []string{"storage postgres tx_attempts: must be at least 1"}},
		{"storage postgres min over max", "gatehouse {\n storage postgres postgres://db {\n max_conns 2  min_conns 3\n }\n}", []string{"min_conns 3 is more than max_conns 2"}},
		{"storage postgres bad duration", "gatehouse {\n storage postgres postgres://db {\n connect_timeout soon\n }\n}", []string{"storage postgres connect_timeout:"}},
		{"duplicate postgres option", "gatehouse {\n storage postgres postgres://db {\n max_conns 2  max_conns 3\n }\n}", []string{"storage postgres: max_conns given twice"}},
		{"rate_limit storage redis", "gatehouse {\n rate_limit {\n storage redis\n }\n}", []string{"rate_limit storage:", "memory", "database"}},
		{"plugin without options given some", "gatehouse {\n test_bare {\n x 1\n }\n}", []string{"test_bare: the plugin takes no options"}},
		{"plugin option error is reported", "gatehouse {\n test_greeter {\n shout\n }\n}", []string{"gatehouse test_greeter:", `bad option "shout"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app, err := parseGlobalText(t, tt.input)
			if err == nil {
				j, _ := json.Marshal(app)
				t.Fatalf("no error; parsed %s", j)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// TestParseGlobalListsEachOptionOnce: the list of valid options in the unknown-option error
// is built from the one option table; rate_limit was once appended to it a second time.
func TestParseGlobalListsEachOptionOnce(t *testing.T) {
	_, err := parseGlobalText(t, "gatehouse {\n nope\n}")
	if err == nil {
		t.Fatal("no error for an unknown option")
	}
	if n := strings.Count(err.Error(), "rate_limit"); n != 1 {
		t.Errorf("rate_limit listed %d times in %q", n, err)
	}
}

func TestParseGlobalOnlyOnce(t *testing.T) {
	_, err := parseGlobal(caddyfile.NewTestDispenser("gatehouse {\n base_url http://x\n}"), httpcaddyfile.App{Name: "gatehouse"})
	if err == nil || !strings.Contains(err.Error(), "only once") {
		t.Fatalf("second global gatehouse block: err = %v, want 'only once'", err)
	}
}

// TestEngineConfigFromCaddyfile follows a parsed block into the engine configuration, so a
// field that parses but is never mapped shows up.
func TestEngineConfigFromCaddyfile(t *testing.T) {
	app, err := parseGlobalText(t, `gatehouse {
		base_url https://app.example.com/
		base_path /auth
		previous_secrets old-old-old-old-old-old-old-old-old-old
		trusted_origins https://other.example.com
		app_name Demo
		cookie_domain example.com
		cookie_prefix demo
		disabled_paths /delete-user
		allow_unlinking_all
		session {
			expires_in 2d  update_age 12h  fresh_age 1h  max_age 10d  cookie_cache 5m  cache_ttl 3s  new_device_email
		}
		email_and_password {
			min_password_length 10  max_password_length 64  require_email_verification  disable_sign_up
			disable_auto_sign_in  revoke_sessions_on_password_reset  reset_password_token_expires_in 20m  allow_common_passwords
		}
		email_verification {
			send_on_sign_up  auto_sign_in_after_verification  expires_in 2h
		}
		user {
			change_email  update_email_without_verification  send_change_email_confirmation  delete_user
			send_delete_account_verification  delete_token_expires_in 3d
		}
		rate_limit {
			window 20s  max 50  rule /sign-in/* 10s 3  account_failures 4  account_window 5m
		}
		audit {
			store  retention 14d
		}
	}`)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := app.engineConfig("current-secret-current-secret-current")
	if err != nil {
		t.Fatal(err)
	}
	check := func(name string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", name, got, want)
		}
	}
	check("BaseURL", cfg.BaseURL, "https://app.example.com")
	check("BasePath", cfg.BasePath, "/auth")
	check("Secret", cfg.Secret, "current-secret-current-secret-current")
	check("PreviousSecrets", cfg.PreviousSecrets, []string{"old-old-old-old-old-old-old-old-old-old"})
	check("TrustedOrigins", cfg.TrustedOrigins, []string{"https://other.example.com"})
	check("AppName", cfg.AppName, "Demo")
	check("Cookies.Domain", cfg.Cookies.Domain, "example.com")
	check("Cookies.Prefix", cfg.Cookies.Prefix, "demo")
	check("DisabledPaths", cfg.DisabledPaths, []string{"/delete-user"})
	check("AllowUnlinkingAll", cfg.Account.AllowUnlinkingAll, true)
	check("Session", cfg.Session, authcore.SessionConfig{ExpiresIn: 2 * day, UpdateAge: 12 * time.Hour, FreshAge: time.Hour,
		MaxAge: 10 * day, CookieCache: 5 * time.Minute, CacheTTL: 3 * time.Second, NewDeviceEmail: true})
	check("EmailAndPassword", cfg.EmailAndPassword, authcore.EmailAndPasswordConfig{
		DisableSignUp: true, RequireEmailVerification: true, DisableAutoSignIn: true, MinPasswordLength: 10,
		MaxPasswordLength: 64, RevokeSessionsOnPasswordReset: true, ResetPasswordTokenExpiresIn: 20 * time.Minute,
		AllowCommonPasswords: true})
	check("EmailVerification", cfg.EmailVerification, authcore.EmailVerificationConfig{SendOnSignUp: true,
		AutoSignInAfterVerification: true, ExpiresIn: 2 * time.Hour})
	check("User.ChangeEmail", cfg.User.ChangeEmail.Enabled && cfg.User.ChangeEmail.UpdateEmailWithoutVerification &&
		cfg.User.ChangeEmail.SendChangeEmailConfirmation, true)
	check("User.DeleteUser", cfg.User.DeleteUser.Enabled && cfg.User.DeleteUser.SendDeleteAccountVerification, true)
	check("User.DeleteUser.DeleteTokenExpiresIn", cfg.User.DeleteUser.DeleteTokenExpiresIn, 3*day)
	check("Audit", cfg.Audit, authcore.AuditConfig{Store: true, Retention: 14 * day})
	check("RateLimit.Window", cfg.RateLimit.Window, 20*time.Second)
	check("RateLimit.Max", cfg.RateLimit.Max, 50)
	check("RateLimit.AccountFailures", cfg.RateLimit.AccountFailures, 4)
	check("RateLimit.AccountWindow", cfg.RateLimit.AccountWindow, 5*time.Minute)
	if len(cfg.RateLimit.Rules) != 1 || cfg.RateLimit.Rules[0].Path != "/sign-in/*" ||
		cfg.RateLimit.Rules[0].Window != 10*time.Second || cfg.RateLimit.Rules[0].Max != 3 {
		t.Errorf("RateLimit.Rules = %+v", cfg.RateLimit.Rules)
	}

	for _, bad := range []string{"", "/relative", "not a url"} {
		if _, err := (&App{BaseURL: bad}).engineConfig("x"); err == nil {
			t.Errorf("base_url %q accepted", bad)
		}
	}
}

// parseDirective runs the site directive parser on a `gatehouse { ... }` segment.
func parseDirective(text string) (*Handler, error) {
	mh, err := parseHandler(httpcaddyfile.Helper{Dispenser: caddyfile.NewTestDispenser(text)})
	if err != nil {
		return nil, err
	}
	return mh.(*Handler), nil
}

func TestParseDirective(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  *Handler
	}{
		{"empty", "gatehouse", &Handler{}},
		{"empty block", "gatehouse {\n}", &Handler{}},
		{"public", "gatehouse {\n public /health /docs/*\n}", &Handler{Rules: []Rule{{Kind: KindPublic, Paths: []string{"/health", "/docs/*"}}}}},
		{"require authenticated", "gatehouse {\n require authenticated /app/*\n}", &Handler{Rules: []Rule{{Kind: KindAuthenticated, Paths: []string{"/app/*"}}}}},
		{"require role with paths", "gatehouse {\n require role admin /admin/* /ops\n}",
			&Handler{Rules: []Rule{{Kind: KindRole, Role: "admin", Paths: []string{"/admin/*", "/ops"}}}}},
		{"require permission with paths", "gatehouse {\n require permission files:read /files/* /shared\n}",
			&Handler{Rules: []Rule{{Kind: KindPermission, Resource: "files", Action: "read", Paths: []string{"/files/*", "/shared"}}}}},
		{"require permission splits at the first colon", "gatehouse {\n require permission billing:invoice:send /x\n}",
			&Handler{Rules: []Rule{{Kind: KindPermission, Resource: "billing", Action: "invoice:send", Paths: []string{"/x"}}}}},
		{"allow anonymous", "gatehouse {\n allow anonymous /try/*\n}", &Handler{Rules: []Rule{{Kind: KindAnonymous, Paths: []string{"/try/*"}}}}},
		{"rules keep their order", "gatehouse {\n public /a\n require role x /b\n public /c\n}", &Handler{Rules: []Rule{
			{Kind: KindPublic, Paths: []string{"/a"}}, {Kind: KindRole, Role: "x", Paths: []string{"/b"}}, {Kind: KindPublic, Paths: []string{"/c"}}}}},
		{"header mappings", "gatehouse {\n header user_email X-WEBAUTH-USER\n header user_id X-Remote-User\n}",
			&Handler{Headers: map[string]string{"user_email": "X-WEBAUTH-USER", "user_id": "X-Remote-User"}}},
		{"scalars and flags", `gatehouse {
			login_url https://portal.example.com/sign-in
			header_prefix X-Gate-
			pass_credentials
			allow_encoded_slashes
			use_handle_errors
			refuse_preflight
		}`, &Handler{LoginURL: "https://portal.example.com/sign-in", HeaderPrefix: "X-Gate-", PassCredentials: true,
			AllowEncodedSlashes: true, UseHandleErrors: true, RefusePreflight: true}},
		{"verify block", `gatehouse {
			public /health
			verify {
				public /status
				require role admin /admin/*
				allow anonymous /try/*
				require authenticated /app/*
			}
		}`, &Handler{Rules: []Rule{{Kind: KindPublic, Paths: []string{"/health"}}}, Verify: &VerifyConfig{Rules: []Rule{
			{Kind: KindPublic, Paths: []string{"/status"}}, {Kind: KindRole, Role: "admin", Paths: []string{"/admin/*"}},
			{Kind: KindAnonymous, Paths: []string{"/try/*"}}, {Kind: KindAuthenticated, Paths: []string{"/app/*"}}}}}},
		{"empty verify block", "gatehouse {\n verify {\n }\n}", &Handler{Verify: &VerifyConfig{}}},
		{"identity_jwt with a header", "gatehouse {\n identity_jwt X-Gatehouse-Identity\n}", &Handler{IdentityJWT: &IdentityJWTConfig{Header: "X-Gatehouse-Identity"}}},
		{"identity_jwt with a lifetime", "gatehouse {\n identity_jwt X-Id 2m\n}", &Handler{IdentityJWT: &IdentityJWTConfig{Header: "X-Id", Lifetime: caddy.Duration(2 * time.Minute)}}},
		{"identity_jwt block", "gatehouse {\n identity_jwt X-Id {\n lifetime 30s\n audience https://api.internal\n }\n}",
			&Handler{IdentityJWT: &IdentityJWTConfig{Header: "X-Id", Lifetime: caddy.Duration(30 * time.Second), Audience: "https://api.internal"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseDirective(tt.input)
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				gj, _ := json.Marshal(got)
				wj, _ := json.Marshal(tt.want)
				t.Errorf("parsed\n got: %s\nwant: %s", gj, wj)
			}
		})
	}
}

func TestParseDirectiveErrors(t *testing.T) {
	valid := []string{"public", "require", "allow", "header", "login_url", "header_prefix", "pass_credentials",
		"allow_encoded_slashes", "use_handle_errors", "refuse_preflight", "verify", "identity_jwt"}
	tests := []struct {
		name  string
		input string
		want  []string
	}{
		{"unknown subdirective lists the valid ones", "gatehouse {\n protect /x\n}", append([]string{`unknown subdirective "protect"`}, valid...)},
		{"arguments on the directive line", "gatehouse /x {\n}", []string{"wrong argument count"}},
		{"public without paths", "gatehouse {\n public\n}", []string{"public: needs at least one path or @matcher"}},
		{"path without a slash", "gatehouse {\n public health\n}", []string{`path "health" must start with /`}},
		{"star in the middle of a path", "gatehouse {\n require role admin /api/*/admin\n}", []string{`"/api/*/admin": '*' is only allowed at the end`}},
		{"require alone", "gatehouse {\n require\n}", []string{"usage: require authenticated|admin|org_member <path...|@matcher>, require role <role>|permission"}},
		{"require something else", "gatehouse {\n require superuser /x\n}", []string{`require "superuser": expected authenticated, role, permission, admin, org_member, org_role or org_permission`}},
		{"require role without a role", "gatehouse {\n require role\n}", []string{"usage: require role <role>"}},
		{"require role without paths", "gatehouse {\n require role admin\n}", []string{"require: needs at least one path or @matcher"}},
		{"require permission alone", "gatehouse {\n require permission\n}", []string{"usage: require permission <resource>:<action> <path...|@matcher>"}},
		{"require permission without a colon", "gatehouse {\n require permission files /files/*\n}", []string{`require permission "files": expected <resource>:<action>`}},
		{"require permission without an action", "gatehouse {\n require permission files: /files/*\n}", []string{`require permission "files:": expected <resource>:<action>`}},
		{"require permission without a resource", "gatehouse {\n require permission :read /files/*\n}", []string{`require permission ":read": expected <resource>:<action>`}},
		{"require permission with a path for the permission", "gatehouse {\n require permission /files:read\n}", []string{`require permission "/files:read": expected`}},
		{"require permission without paths", "gatehouse {\n require permission files:read\n}", []string{"require: needs at least one path or @matcher"}},
		{"require authenticated without paths", "gatehouse {\n require authenticated\n}", []string{"require: needs at least one path"}},
		{"allow without anonymous", "gatehouse {\n allow /x\n}", []string{"usage: allow anonymous <path...>"}},
		{"allow anonymous without paths", "gatehouse {\n allow anonymous\n}", []string{"allow: needs at least one path"}},
		{"undefined matcher", "gatehouse {\n require role admin @writes\n}", []string{"unrecognized matcher name: @writes"}},
		{"header with one argument", "gatehouse {\n header user_id\n}", []string{"usage: header <field> <Header-Name>"}},
		{"header with three arguments", "gatehouse {\n header user_id X-User extra\n}", []string{"usage: header <field> <Header-Name>"}},
		{"header for an unknown field", "gatehouse {\n header nickname X-Nick\n}", []string{"header nickname: unknown identity field", "user_id", "user_email", "api_key_id"}},
		{"header with an invalid name", "gatehouse {\n header user_id \"X User\"\n}", []string{`"X User" is not a valid header name`}},
		{"header field mapped twice", "gatehouse {\n header user_id X-A\n header user_id X-B\n}", []string{"header user_id given twice"}},
		{"login_url without argument", "gatehouse {\n login_url\n}", []string{"wrong argument count"}},
		{"login_url with two arguments", "gatehouse {\n login_url /a /b\n}", []string{"wrong argument count"}},
		{"header_prefix without argument", "gatehouse {\n header_prefix\n}", []string{"wrong argument count"}},
		{"flag with an argument", "gatehouse {\n pass_credentials yes\n}", []string{"wrong argument count"}},
		{"refuse_preflight with an argument", "gatehouse {\n refuse_preflight always\n}", []string{"wrong argument count"}},
		{"duplicate login_url", "gatehouse {\n login_url /a\n login_url /b\n}", []string{"login_url given twice"}},
		{"duplicate flag", "gatehouse {\n use_handle_errors\n use_handle_errors\n}", []string{"use_handle_errors given twice"}},
		{"duplicate verify", "gatehouse {\n verify {\n public /a\n }\n verify {\n public /b\n }\n}", []string{"verify given twice"}},
		{"verify with an argument", "gatehouse {\n verify strict {\n }\n}", []string{"wrong argument count"}},
		{"verify with a non-rule", "gatehouse {\n verify {\n login_url /x\n }\n}", []string{`verify: unknown rule "login_url" (valid: public, require, allow)`}},
		{"verify rule error", "gatehouse {\n verify {\n require role\n }\n}", []string{"usage: require role <role>"}},
		{"identity_jwt without a header", "gatehouse {\n identity_jwt\n}", []string{"usage: identity_jwt <Header-Name> [<lifetime>]"}},
		{"identity_jwt with three arguments", "gatehouse {\n identity_jwt X-Id 60s extra\n}", []string{"usage: identity_jwt"}},
		{"identity_jwt with an invalid header", "gatehouse {\n identity_jwt \"X Id\"\n}", []string{`identity_jwt: "X Id" is not a valid header name`}},
		{"identity_jwt with a bad lifetime", "gatehouse {\n identity_jwt X-Id soon\n}", []string{`lifetime "soon" must be whole seconds between 2s and 1h0m0s`}},
		{"identity_jwt lifetime too short", "gatehouse {\n identity_jwt X-Id 1s\n}", []string{`lifetime "1s"`}},
		{"identity_jwt lifetime too long", "gatehouse {\n identity_jwt X-Id 2h\n}", []string{`lifetime "2h"`}},
		{"identity_jwt lifetime not whole seconds", "gatehouse {\n identity_jwt X-Id 2500ms\n}", []string{`lifetime "2500ms"`}},
		{"identity_jwt lifetime twice", "gatehouse {\n identity_jwt X-Id 30s {\n lifetime 40s\n }\n}", []string{"identity_jwt: lifetime given twice"}},
		{"identity_jwt audience twice", "gatehouse {\n identity_jwt X-Id {\n audience a\n audience b\n }\n}", []string{"identity_jwt: audience given twice"}},
		{"identity_jwt unknown option", "gatehouse {\n identity_jwt X-Id {\n issuer x\n }\n}", []string{`identity_jwt: unknown option "issuer" (valid: lifetime, audience)`}},
		{"identity_jwt option without value", "gatehouse {\n identity_jwt X-Id {\n audience\n }\n}", []string{"identity_jwt audience: wrong number of arguments"}},
		{"identity_jwt twice", "gatehouse {\n identity_jwt X-A\n identity_jwt X-B\n}", []string{"identity_jwt given twice"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hd, err := parseDirective(tt.input)
			if err == nil {
				j, _ := json.Marshal(hd)
				t.Fatalf("no error; parsed %s", j)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// TestParsePortalOff: the portal is on unless `portal off`; `portal { ... }` configures it.
func TestParsePortalOff(t *testing.T) {
	app, err := parseGlobalText(t, "gatehouse {\n portal off\n}")
	if err != nil {
		t.Fatal(err)
	}
	if !app.DisablePortal || app.PluginsRaw["portal"] != nil {
		t.Fatalf("portal off: disable %v, plugins %v", app.DisablePortal, app.PluginsRaw)
	}
	app, err = parseGlobalText(t, "gatehouse {\n portal {\n app_name Acme\n }\n}")
	if err != nil {
		t.Fatal(err)
	}
	if app.DisablePortal || !strings.Contains(string(app.PluginsRaw["portal"]), `"app_name":"Acme"`) {
		t.Fatalf("portal block: disable %v, plugins %s", app.DisablePortal, app.PluginsRaw["portal"])
	}
}
