package magiclink

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	"github.com/gatehouse-auth/gatehouse/authcore"
	_ "github.com/gatehouse-auth/gatehouse/caddymodule"
)

func TestUnmarshalCaddyfile(t *testing.T) {
	for _, tc := range []struct {
		name  string
		input string
		want  Plugin
		err   string
	}{
		{name: "bare", input: `magic_link`, want: Plugin{}},
		{name: "empty block", input: "magic_link {\n}", want: Plugin{}},
		{name: "every option", input: `magic_link {
			expires_in 10m
			disable_sign_up
			store_token plain
			rate_limit 2m 10
		}`, want: Plugin{ExpiresIn: authcore.Duration(10 * time.Minute), DisableSignUp: true, StoreToken: "plain",
			RateLimitWindow: authcore.Duration(2 * time.Minute), RateLimitMax: 10}},
		{name: "one line", input: `magic_link {
			expires_in 1d  store_token hashed  disable_sign_up
		}`, want: Plugin{ExpiresIn: authcore.Duration(24 * time.Hour), StoreToken: "hashed", DisableSignUp: true}},
		{name: "unknown option", input: "magic_link {\n allowed_attempts 3\n}", err: `unknown option "allowed_attempts"`},
		{name: "argument after the name", input: `magic_link hashed`, err: "unexpected argument"},
		{name: "bad store_token", input: "magic_link {\n store_token encrypted\n}", err: "not one of hashed, plain"},
		{name: "bad duration", input: "magic_link {\n expires_in soon\n}", err: "expires_in"},
		{name: "missing duration", input: "magic_link {\n expires_in\n}", err: "expected 1 argument"},
		{name: "bad rate_limit max", input: "magic_link {\n rate_limit 1m 0\n}", err: "usage: rate_limit"},
		{name: "bad rate_limit window", input: "magic_link {\n rate_limit never 5\n}", err: "rate_limit"},
		{name: "short rate_limit", input: "magic_link {\n rate_limit 1m\n}", err: "expected 2 argument"},
		{name: "twice", input: "magic_link {\n disable_sign_up\n disable_sign_up\n}", err: "given twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p Plugin
			err := p.UnmarshalCaddyfile(caddyfile.NewTestDispenser(tc.input))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(p, tc.want) {
				t.Fatalf("got %+v, want %+v", p, tc.want)
			}
		})
	}
}

// The JSON the Caddyfile adapter writes loads back into the same configuration.
func TestJSONRoundTrip(t *testing.T) {
	in := Plugin{ExpiresIn: authcore.Duration(10 * time.Minute), DisableSignUp: true, StoreToken: "plain",
		RateLimitWindow: authcore.Duration(time.Minute), RateLimitMax: 7}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"expires_in":"10m0s","disable_sign_up":true,"store_token":"plain","rate_limit_window":"1m0s","rate_limit_max":7}`
	if string(b) != want {
		t.Fatalf("JSON %s, want %s", b, want)
	}
	var out Plugin
	if err := json.Unmarshal(b, &out); err != nil || !reflect.DeepEqual(in, out) {
		t.Fatalf("round trip: %+v %v", out, err)
	}
	if b, _ := json.Marshal(Plugin{}); string(b) != `{}` {
		t.Fatalf("zero config JSON %s", b)
	}
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
	out, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Apps struct {
			Gatehouse struct {
				Plugins map[string]json.RawMessage `json:"plugins"`
			} `json:"gatehouse"`
		} `json:"apps"`
	}
	if err := json.Unmarshal(out, &cfg); err != nil {
		t.Fatal(err)
	}
	got := string(cfg.Apps.Gatehouse.Plugins["magic_link"])
	if want := `{"expires_in":"10m0s","disable_sign_up":true,"rate_limit_window":"1m0s","rate_limit_max":3}`; got != want {
		t.Fatalf("plugins.magic_link = %s, want %s", got, want)
	}
	_, _, err = caddyconfig.GetAdapter("caddyfile").Adapt([]byte(strings.Replace(src, "disable_sign_up", "allowed_attempts 3", 1)), nil)
	if err == nil || !strings.Contains(err.Error(), `unknown option "allowed_attempts"`) {
		t.Fatalf("unknown option: %v", err)
	}
}
