package emailotp_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/gatehouse-auth/gatehouse/authcore"
	_ "github.com/gatehouse-auth/gatehouse/caddymodule"
	"github.com/gatehouse-auth/gatehouse/caddymodule/caddyopts/caddyoptstest"
	"github.com/gatehouse-auth/gatehouse/plugins/emailotp"
)

func TestCaddyModule(t *testing.T) {
	info := emailotp.Plugin{}.CaddyModule()
	if info.ID != "gatehouse.plugins.email_otp" {
		t.Fatalf("module id %q", info.ID)
	}
	if _, ok := info.New().(*emailotp.Plugin); !ok {
		t.Fatalf("New returns %T", info.New())
	}
	if _, err := caddy.GetModule("gatehouse.plugins.email_otp"); err != nil {
		t.Fatal(err)
	}
	if (emailotp.Plugin{}).ID() != "email-otp" {
		t.Fatal("plugin id")
	}
}

func TestUnmarshalCaddyfile(t *testing.T) {
	var p emailotp.Plugin
	d := caddyfile.NewTestDispenser(`email_otp {
		otp_length 8  expires_in 10m
		allowed_attempts 5
		store_otp encrypted
		resend_strategy reuse
		disable_sign_up
		send_verification_on_sign_up
		override_default_email_verification
		change_email {
			enabled
			verify_current_email
		}
	}`)
	if err := p.UnmarshalCaddyfile(d); err != nil {
		t.Fatal(err)
	}
	want := emailotp.Plugin{
		OTPLength: 8, ExpiresIn: authcore.Duration(10 * time.Minute), AllowedAttempts: 5,
		StoreOTP: "encrypted", ResendStrategy: "reuse", DisableSignUp: true,
		SendVerificationOnSignUp: true, OverrideDefaultEmailVerification: true,
		ChangeEmail: emailotp.ChangeEmail{Enabled: true, VerifyCurrentEmail: true},
	}
	got, _ := json.Marshal(&p)
	exp, _ := json.Marshal(&want)
	if string(got) != string(exp) {
		t.Fatalf("parsed %s\nwant   %s", got, exp)
	}
	if string(got) != `{"otp_length":8,"expires_in":"10m0s","allowed_attempts":5,"store_otp":"encrypted","resend_strategy":"reuse",`+
		`"disable_sign_up":true,"send_verification_on_sign_up":true,"override_default_email_verification":true,`+
		`"change_email":{"enabled":true,"verify_current_email":true}}` {
		t.Fatalf("JSON %s", got)
	}
	// JSON round trip, as Caddy loads the module.
	var back emailotp.Plugin
	if err := json.Unmarshal(got, &back); err != nil || back.ExpiresIn != want.ExpiresIn || back.ChangeEmail != want.ChangeEmail {
		t.Fatalf("round trip: %+v %v", back, err)
	}

	// A bare name is the defaults; their JSON is empty.
	var bare emailotp.Plugin
	if err := bare.UnmarshalCaddyfile(caddyfile.NewTestDispenser(`email_otp`)); err != nil {
		t.Fatal(err)
	}
	if j, _ := json.Marshal(&bare); string(j) != `{}` {
		t.Fatalf("defaults JSON %s", j)
	}

	for name, tc := range map[string]struct{ text, want string }{
		"unknown option":        {"email_otp {\n\tbogus 1\n}", `unknown option "bogus"`},
		"argument after name":   {"email_otp yes", "wrong argument count"},
		"bad storage":           {"email_otp {\n\tstore_otp rot13\n}", "not one of"},
		"bad strategy":          {"email_otp {\n\tresend_strategy sometimes\n}", "not one of"},
		"bad length":            {"email_otp {\n\totp_length six\n}", "not a non-negative integer"},
		"bad duration":          {"email_otp {\n\texpires_in soon\n}", "expires_in"},
		"missing argument":      {"email_otp {\n\tallowed_attempts\n}", "expected 1 argument"},
		"given twice":           {"email_otp {\n\tdisable_sign_up\n\tdisable_sign_up\n}", "given twice"},
		"unknown change_email":  {"email_otp {\n\tchange_email {\n\t\tbogus\n\t}\n}", `unknown option "bogus"`},
		"flag with an argument": {"email_otp {\n\tdisable_sign_up yes\n}", `unknown option "yes"`},
	} {
		t.Run(name, func(t *testing.T) {
			var p emailotp.Plugin
			err := p.UnmarshalCaddyfile(caddyfile.NewTestDispenser(tc.text))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// The plugin's block inside the global gatehouse options, through Caddy's own adapter.
func TestCaddyfileAdapt(t *testing.T) {
	plugins := caddyoptstest.AdaptedPlugins(t, `{
	gatehouse {
		secret 0123456789abcdef0123456789abcdef0123
		base_url https://app.example.com
		email_otp {
			otp_length 6  expires_in 5m
			disable_sign_up
			change_email {
				enabled
			}
		}
	}
}
`)
	got := string(plugins["email_otp"])
	if want := `{"otp_length":6,"expires_in":"5m0s","disable_sign_up":true,"change_email":{"enabled":true}}`; got != want {
		t.Fatalf("plugin JSON %s, want %s (plugins %s)", got, want, plugins)
	}

	_, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte("{\n\tgatehouse {\n\t\temail_otp {\n\t\t\tbogus\n\t\t}\n\t}\n}\n"), nil)
	if err == nil || !strings.Contains(err.Error(), `unknown option "bogus"`) {
		t.Fatalf("unknown option: %v", err)
	}
}
