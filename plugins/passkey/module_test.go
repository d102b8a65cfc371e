package passkey

import (
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	_ "github.com/gatehouse-auth/gatehouse/caddymodule"
	"github.com/gatehouse-auth/gatehouse/caddymodule/caddyopts/caddyoptstest"
	"github.com/gatehouse-auth/gatehouse/storage/memory"
)

func TestUnmarshalCaddyfile(t *testing.T) {
	caddyoptstest.Unmarshal(t, []caddyoptstest.Case[Plugin]{
		{Name: "bare", Input: `passkey`, Want: Plugin{}},
		{Name: "empty block", Input: "passkey {\n}", Want: Plugin{}},
		{Name: "every option", Input: `passkey {
			rp_id example.com
			rp_name "Example Corp"
			origins https://example.com https://*.example.com
			origins android:apk-key-hash:abc
			authenticator_attachment platform
			resident_key required
			user_verification discouraged
			challenge_cookie my-passkey
			passkey_as_second_factor
		}`, Want: Plugin{RPID: "example.com", RPName: "Example Corp",
			Origins:                 []string{"https://example.com", "https://*.example.com", "android:apk-key-hash:abc"},
			AuthenticatorAttachment: "platform", ResidentKey: "required", UserVerification: "discouraged",
			ChallengeCookie: "my-passkey", PasskeyAsSecondFactor: true}},
		{Name: "one line", Input: "passkey {\n rp_id example.com  passkey_as_second_factor  user_verification required\n}",
			Want: Plugin{RPID: "example.com", PasskeyAsSecondFactor: true, UserVerification: "required"}},
		{Name: "unknown option", Input: "passkey {\n rpID example.com\n}", Err: `unknown option "rpID"`},
		{Name: "argument after the name", Input: `passkey example.com`, Err: "unexpected argument"},
		{Name: "bad attachment", Input: "passkey {\n authenticator_attachment usb\n}", Err: "not one of platform, cross-platform"},
		{Name: "bad resident_key", Input: "passkey {\n resident_key maybe\n}", Err: "not one of required, preferred, discouraged"},
		{Name: "bad user_verification", Input: "passkey {\n user_verification always\n}", Err: "not one of required, preferred, discouraged"},
		{Name: "missing rp_id", Input: "passkey {\n rp_id\n}", Err: "expected 1 argument"},
		{Name: "empty origins", Input: "passkey {\n origins\n}", Err: "expected 1 argument"},
		{Name: "twice", Input: "passkey {\n rp_id a.example\n rp_id b.example\n}", Err: "given twice"},
	})
}

// The JSON the Caddyfile adapter writes loads back into the same configuration.
func TestJSONRoundTrip(t *testing.T) {
	in := Plugin{RPID: "example.com", RPName: "Example", Origins: []string{"https://example.com"},
		AuthenticatorAttachment: "platform", ResidentKey: "required", UserVerification: "required",
		ChallengeCookie: "pk", PasskeyAsSecondFactor: true}
	caddyoptstest.RoundTrip(t, in, `{"rp_id":"example.com","rp_name":"Example","origins":["https://example.com"],"authenticator_attachment":"platform","resident_key":"required","user_verification":"required","challenge_cookie":"pk","passkey_as_second_factor":true}`)
}

func TestCaddyModule(t *testing.T) {
	info := Plugin{}.CaddyModule()
	if info.ID != "gatehouse.plugins.passkey" {
		t.Fatalf("module ID %s", info.ID)
	}
	p, ok := info.New().(authcore.Plugin)
	if !ok || p.ID() != "passkey" {
		t.Fatalf("New() = %T", info.New())
	}
	if _, err := caddy.GetModule("gatehouse.plugins.passkey"); err != nil {
		t.Fatalf("not registered: %v", err)
	}
}

// Through the real global gatehouse block.
func TestGlobalBlockAdapt(t *testing.T) {
	const src = `{
	gatehouse {
		base_url https://app.example.com
		passkey {
			rp_name "Example"  user_verification required
		}
	}
}

https://app.example.com {
	respond ok
}
`
	plugins := caddyoptstest.AdaptedPlugins(t, src)
	if got, want := string(plugins["passkey"]), `{"rp_name":"Example","user_verification":"required"}`; got != want {
		t.Fatalf("plugins.passkey = %s, want %s", got, want)
	}
}

// Start-up refuses configurations that could never work, naming the option.
func TestStartUpValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		base string
		p    Plugin
		err  string
	}{
		{"rp_id an IP address", "", Plugin{RPID: "127.0.0.1"}, "rp_id \"127.0.0.1\" is an IP address"},
		{"base URL an IP address", "http://127.0.0.1:3000", Plugin{}, "is an IP address; WebAuthn needs a domain"},
		{"rp_id not covering the base URL", "", Plugin{RPID: "example.com"}, "does not cover the base URL's host"},
		{"rp_id with a port", "", Plugin{RPID: "localhost:3000"}, "rp_id"},
		{"origins wildcard", "", Plugin{Origins: []string{"*"}}, "origins"},
		{"origins local file", "", Plugin{Origins: []string{"file:///index.html"}}, "local file system"},
		{"bad attachment", "", Plugin{AuthenticatorAttachment: "usb"}, "authenticator_attachment"},
		{"bad user_verification", "", Plugin{UserVerification: "always"}, "user_verification"},
		{"bad cookie name", "", Plugin{ChallengeCookie: "a b;c"}, "challenge_cookie"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := tc.base
			if base == "" {
				base = authcoretest.BaseURL
			}
			p := tc.p
			e, err := authcore.New(authcore.Config{BaseURL: base, Secret: authcoretest.Secret},
				authcore.WithStore(memory.NewStore()), authcore.WithPlugins(&p))
			if err == nil {
				e.Close()
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("error %v, want one containing %q", err, tc.err)
			}
		})
	}
	// A parent domain of the base URL's host is a valid RP ID.
	p := Plugin{RPID: "example.com", ChallengeCookie: "pk-challenge"}
	e, err := authcore.New(authcore.Config{BaseURL: "https://login.example.com", Secret: authcoretest.Secret},
		authcore.WithStore(memory.NewStore()), authcore.WithPlugins(&p))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if p.rpID != "example.com" || p.rpName != "Gatehouse" || p.cookie != "pk-challenge" {
		t.Fatalf("rp %q %q cookie %q", p.rpID, p.rpName, p.cookie)
	}
}
