package magiclink

import (
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	"github.com/gatehouse-auth/gatehouse/authcore"
	_ "github.com/gatehouse-auth/gatehouse/caddymodule"
	"github.com/gatehouse-auth/gatehouse/caddymodule/caddyopts/caddyoptstest"
)

func TestUnmarshalCaddyfile(t *testing.T) {
	caddyoptstest.Unmarshal(t, []caddyoptstest.Case[Plugin]{
		{Name: "bare", Input: `magic_link`, Want: Plugin{}},
		{Name: "empty block", Input: "magic_link {\n}", Want: Plugin{}},
		{Name: "every option", Input: `magic_link {
			expires_in 10m
			disable_sign_up
			store_token plain
			rate_limit 2m 10
		}`, Want: Plugin{ExpiresIn: authcore.Duration(10 * time.Minute), DisableSignUp: true, StoreToken: "plain",
			RateLimitWindow: authcore.Duration(2 * time.Minute), RateLimitMax: 10}},
		{Name: "one line", Input: `magic_link {
			expires_in 1d  store_token hashed  disable_sign_up
		}`, Want: Plugin{ExpiresIn: authcore.Duration(24 * time.Hour), StoreToken: "hashed", DisableSignUp: true}},
		{Name: "unknown option", Input: "magic_link {\n allowed_attempts 3\n}", Err: `unknown option "allowed_attempts"`},
		{Name: "argument after the name", Input: `magic_link hashed`, Err: "unexpected argument"},
		{Name: "bad store_token", Input: "magic_link {\n store_token encrypted\n}", Err: "not one of hashed, plain"},
		{Name: "bad duration", Input: "magic_link {\n expires_in soon\n}", Err: "expires_in"},
		{Name: "missing duration", Input: "magic_link {\n expires_in\n}", Err: "expected 1 argument"},
		{Name: "bad rate_limit max", Input: "magic_link {\n rate_limit 1m 0\n}", Err: "usage: rate_limit"},
		{Name: "bad rate_limit window", Input: "magic_link {\n rate_limit never 5\n}", Err: "rate_limit"},
		{Name: "short rate_limit", Input: "magic_link {\n rate_limit 1m\n}", Err: "expected 2 argument"},
		{Name: "twice", Input: "magic_link {\n disable_sign_up\n disable_sign_up\n}", Err: "given twice"},
	})
}

// The JSON the Caddyfile adapter writes loads back into the same configuration.
func TestJSONRoundTrip(t *testing.T) {
	in := Plugin{ExpiresIn: authcore.Duration(10 * time.Minute), DisableSignUp: true, StoreToken: "plain",
		RateLimitWindow: authcore.Duration(time.Minute), RateLimitMax: 7}
	caddyoptstest.RoundTrip(t, in, `{"expires_in":"10m0s","disable_sign_up":true,"store_token":"plain","rate_limit_window":"1m0s","rate_limit_max":7}`)
}

func TestCaddyModule(t *testing.T) {
	info := Plugin{}.CaddyModule()
	if info.ID != "gatehouse.plugins.magic_link" {
		t.Fatalf("module ID %s", info.ID)
	}
	mod := info.New()
	p, ok := mod.(authcore.Plugin)
	if !ok || p.ID() != "magic-link" {
		t.Fatalf("New() = %T", mod)
	}
	if _, err := caddy.GetModule("gatehouse.plugins.magic_link"); err != nil {
		t.Fatalf("not registered: %v", err)
	}
}

// Through the real global gatehouse block: the plugin reads its own block and lands in the
// app's plugins map under its module name.
func TestGlobalBlockAdapt(t *testing.T) {
	const src = `{
	gatehouse {
		base_url https://app.example.com
		magic_link {
			expires_in 10m  disable_sign_up
			rate_limit 1m 3
		}
	}
}

https://app.example.com {
	respond ok
}
`
	plugins := caddyoptstest.AdaptedPlugins(t, src)
	got := string(plugins["magic_link"])
	if want := `{"expires_in":"10m0s","disable_sign_up":true,"rate_limit_window":"1m0s","rate_limit_max":3}`; got != want {
		t.Fatalf("plugins.magic_link = %s, want %s", got, want)
	}
	_, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(strings.Replace(src, "disable_sign_up", "allowed_attempts 3", 1)), nil)
	if err == nil || !strings.Contains(err.Error(), `unknown option "allowed_attempts"`) {
		t.Fatalf("unknown option: %v", err)
	}
}
