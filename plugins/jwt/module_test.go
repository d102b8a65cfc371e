package jwtplugin

import (
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	"github.com/gatehouse-auth/gatehouse/authcore"
	_ "github.com/gatehouse-auth/gatehouse/caddymodule"
	"github.com/gatehouse-auth/gatehouse/caddymodule/caddyopts/caddyoptstest"
)

func dur(d time.Duration) authcore.Duration { return authcore.Duration(d) }

func TestUnmarshalCaddyfile(t *testing.T) {
	every := Plugin{
		JWKSPath: "/.well-known/jwks.json", Issuer: "https://auth.example.com", Audience: "https://api.example.com",
		ExpirationTime: dur(time.Hour), Algorithm: AlgES256, RotationInterval: dur(90 * 24 * time.Hour),
		GracePeriod: dur(7 * 24 * time.Hour), DisableSettingJWTHeader: true, DisablePrivateKeyEncryption: true,
	}
	caddyoptstest.Unmarshal(t, []caddyoptstest.Case[Plugin]{
		{Name: "bare", Input: `jwt`, Want: Plugin{}},
		{Name: "empty block", Input: "jwt {\n}", Want: Plugin{}},
		{Name: "every option", Input: `jwt {
			jwks_path /.well-known/jwks.json
			issuer https://auth.example.com
			audience https://api.example.com
			expiration_time 1h
			algorithm ES256
			rotation_interval 90d
			grace_period 7d
			disable_setting_jwt_header
			disable_private_key_encryption
		}`, Want: every},
		{Name: "RS256", Input: "jwt {\n algorithm RS256\n}", Want: Plugin{Algorithm: AlgRS256}},
		{Name: "EdDSA", Input: "jwt {\n algorithm EdDSA\n}", Want: Plugin{Algorithm: AlgEdDSA}},
		{Name: "unknown option", Input: "jwt {\n remote_url https://x\n}", Err: `unknown option "remote_url"`},
		{Name: "argument after the name", Input: `jwt EdDSA`, Err: "unexpected argument"},
		{Name: "bad algorithm", Input: "jwt {\n algorithm HS256\n}", Err: "not one of EdDSA, ES256, RS256"},
		{Name: "alg none", Input: "jwt {\n algorithm none\n}", Err: "not one of"},
		{Name: "bad duration", Input: "jwt {\n expiration_time soon\n}", Err: "expiration_time"},
		{Name: "tiny duration", Input: "jwt {\n grace_period 10ms\n}", Err: "at least 1s"},
		{Name: "bad path", Input: "jwt {\n jwks_path jwks\n}", Err: "must start with /"},
		{Name: "missing value", Input: "jwt {\n issuer\n}", Err: "expected 1 argument"},
		{Name: "twice", Input: "jwt {\n disable_setting_jwt_header\n disable_setting_jwt_header\n}", Err: "given twice"},
	})
}

func TestJSONRoundTrip(t *testing.T) {
	in := Plugin{JWKSPath: "/keys", Algorithm: AlgRS256, RotationInterval: dur(time.Hour), DisableSettingJWTHeader: true}
	caddyoptstest.RoundTrip(t, in, `{"jwks_path":"/keys","algorithm":"RS256","rotation_interval":"1h0m0s","disable_setting_jwt_header":true}`)
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
	plugins := caddyoptstest.AdaptedPlugins(t, src)
	if got, want := string(plugins["jwt"]), `{"algorithm":"ES256","rotation_interval":"720h0m0s"}`; got != want {
		t.Fatalf("plugins.jwt = %s, want %s", got, want)
	}
}
