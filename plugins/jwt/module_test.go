package jwtplugin

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

func dur(d time.Duration) authcore.Duration { return authcore.Duration(d) }

func TestUnmarshalCaddyfile(t *testing.T) {
	every := Plugin{
		JWKSPath: "/.well-known/jwks.json", Issuer: "https://auth.example.com", Audience: "https://api.example.com",
		ExpirationTime: dur(time.Hour), Algorithm: AlgES256, RotationInterval: dur(90 * 24 * time.Hour),
		GracePeriod: dur(7 * 24 * time.Hour), DisableSettingJWTHeader: true, DisablePrivateKeyEncryption: true,
	}
	for _, tc := range []struct {
		name, input string
		want        Plugin
		err         string
	}{
		{name: "bare", input: `jwt`, want: Plugin{}},
		{name: "empty block", input: "jwt {\n}", want: Plugin{}},
		{name: "every option", input: `jwt {
			jwks_path /.well-known/jwks.json
			issuer https://auth.example.com
			audience https://api.example.com
			expiration_time 1h
			algorithm ES256
			rotation_interval 90d
			grace_period 7d
			disable_setting_jwt_header
			disable_private_key_encryption
		}`, want: every},
		{name: "RS256", input: "jwt {\n algorithm RS256\n}", want: Plugin{Algorithm: AlgRS256}},
		{name: "EdDSA", input: "jwt {\n algorithm EdDSA\n}", want: Plugin{Algorithm: AlgEdDSA}},
		{name: "unknown option", input: "jwt {\n remote_url https://x\n}", err: `unknown option "remote_url"`},
		{name: "argument after the name", input: `jwt EdDSA`, err: "unexpected argument"},
		{name: "bad algorithm", input: "jwt {\n algorithm HS256\n}", err: "not one of EdDSA, ES256, RS256"},
		{name: "alg none", input: "jwt {\n algorithm none\n}", err: "not one of"},
		{name: "bad duration", input: "jwt {\n expiration_time soon\n}", err: "expiration_time"},
		{name: "tiny duration", input: "jwt {\n grace_period 10ms\n}", err: "at least 1s"},
		{name: "bad path", input: "jwt {\n jwks_path jwks\n}", err: "must start with /"},
		{name: "missing value", input: "jwt {\n issuer\n}", err: "expected 1 argument"},
		{name: "twice", input: "jwt {\n disable_setting_jwt_header\n disable_setting_jwt_header\n}", err: "given twice"},
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

func TestJSONRoundTrip(t *testing.T) {
	in := Plugin{JWKSPath: "/keys", Algorithm: AlgRS256, RotationInterval: dur(time.Hour), DisableSettingJWTHeader: true}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"jwks_path":"/keys","algorithm":"RS256","rotation_interval":"1h0m0s","disable_setting_jwt_header":true}`
	if string(b) != want {
		t.Fatalf("JSON %s, want %s", b, want)
	}
	var out Plugin
	if err := json.Unmarshal(b, &out); err != nil || !reflect.DeepEqual(in, out) {
		t.Fatalf("round trip: %+v %v", out, err)
	}
}

func TestCaddyModule(t *testing.T) {
	info := Plugin{}.CaddyModule()
	if info.ID != "gatehouse.plugins.jwt" {
		t.Fatalf("module ID %s", info.ID)
	}
	p, ok := info.New().(authcore.Plugin)
	if !ok || p.ID() != "jwt" {
		t.Fatalf("New() = %T", p)
	}
	if _, err := caddy.GetModule("gatehouse.plugins.jwt"); err != nil {
		t.Fatalf("not registered: %v", err)
	}
	if err := (&Plugin{Algorithm: "HS256"}).Validate(); err == nil {
		t.Fatal("Validate accepted HS256")
	}
}

// Through the real global gatehouse block.
func TestGlobalBlockAdapt(t *testing.T) {
	const src = `{
	gatehouse {
		base_url https://app.example.com
		jwt {
			algorithm ES256  rotation_interval 30d
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
	if got, want := string(cfg.Apps.Gatehouse.Plugins["jwt"]), `{"algorithm":"ES256","rotation_interval":"720h0m0s"}`; got != want {
		t.Fatalf("plugins.jwt = %s, want %s", got, want)
	}
}
