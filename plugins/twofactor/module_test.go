package twofactor

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
		Issuer: "Acme", Digits: 8, Period: dur(time.Minute), DisableTOTP: true, SkipVerificationOnEnable: true,
		AllowPasswordless: true, BackupCodes: &BackupCodeOptions{Amount: 12, Length: 16}, StoreBackupCodes: "plain",
		OTPChannel: "sms", OTPPeriod: dur(5 * time.Minute), OTPDigits: 8, OTPAllowedAttempts: 3, StoreOTP: "encrypted",
		TwoFactorCookieMaxAge: dur(5 * time.Minute), TrustDeviceMaxAge: dur(7 * 24 * time.Hour),
		AccountLockout: &AccountLockout{MaxFailedAttempts: 20, Duration: dur(time.Hour)},
		TwoFactorPage:  "/ui/two-factor",
	}
	for _, tc := range []struct {
		name  string
		input string
		want  Plugin
		err   string
	}{
		{name: "bare", input: `two_factor`, want: Plugin{}},
		{name: "empty block", input: "two_factor {\n}", want: Plugin{}},
		{name: "every option", input: `two_factor {
			issuer Acme
			digits 8
			period 1m
			disable_totp
			skip_verification_on_enable
			allow_passwordless
			backup_codes {
				amount 12
				length 16
			}
			store_backup_codes plain
			otp_channel sms
			otp_period 5m
			otp_digits 8
			otp_allowed_attempts 3
			store_otp encrypted
			two_factor_cookie_max_age 5m
			trust_device_max_age 7d
			account_lockout {
				max_failed_attempts 20
				duration 1h
			}
			two_factor_page /ui/two-factor
		}`, want: every},
		{name: "one line", input: `two_factor {
			issuer "My App"  digits 6  otp_channel email  trust_device_max_age 30d
		}`, want: Plugin{Issuer: "My App", Digits: 6, OTPChannel: "email", TrustDeviceMaxAge: dur(30 * 24 * time.Hour)}},
		{name: "lockout off", input: "two_factor {\n account_lockout {\n disabled\n }\n}", want: Plugin{AccountLockout: &AccountLockout{Disabled: true}}},
		{name: "empty sub-blocks", input: "two_factor {\n backup_codes {\n }\n account_lockout\n}",
			want: Plugin{BackupCodes: &BackupCodeOptions{}, AccountLockout: &AccountLockout{}}},
		{name: "unknown option", input: "two_factor {\n totp_window 2\n}", err: `unknown option "totp_window"`},
		{name: "unknown lockout option", input: "two_factor {\n account_lockout {\n window 15m\n }\n}", err: `unknown option "window"`},
		{name: "argument after the name", input: `two_factor totp`, err: "unexpected argument"},
		{name: "bad digits", input: "two_factor {\n digits 7\n}", err: `"7" is not one of 6, 8`},
		{name: "bad store", input: "two_factor {\n store_backup_codes hashed\n}", err: "not one of encrypted, plain"},
		{name: "bad channel", input: "two_factor {\n otp_channel fax\n}", err: "not one of email, sms"},
		{name: "bad store_otp", input: "two_factor {\n store_otp clear\n}", err: "not one of hashed, encrypted, plain"},
		{name: "bad duration", input: "two_factor {\n otp_period soon\n}", err: "otp_period"},
		{name: "bad period", input: "two_factor {\n period 1500ms\n}", err: "whole number of seconds"},
		{name: "bad count", input: "two_factor {\n otp_allowed_attempts -1\n}", err: "non-negative integer"},
		{name: "bad length", input: "two_factor {\n backup_codes {\n length 4\n }\n}", err: "length 4"},
		{name: "missing value", input: "two_factor {\n issuer\n}", err: "expected 1 argument"},
		{name: "twice", input: "two_factor {\n disable_totp\n disable_totp\n}", err: "given twice"},
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
	in := Plugin{Issuer: "Acme", Digits: 8, BackupCodes: &BackupCodeOptions{Amount: 5}, OTPPeriod: dur(time.Minute),
		AccountLockout: &AccountLockout{Disabled: true}, TwoFactorPage: "/2fa"}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"issuer":"Acme","digits":8,"backup_codes":{"amount":5},"otp_period":"1m0s","account_lockout":{"disabled":true},"two_factor_page":"/2fa"}`
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
	if info.ID != "gatehouse.plugins.two_factor" {
		t.Fatalf("module ID %s", info.ID)
	}
	p, ok := info.New().(authcore.Plugin)
	if !ok || p.ID() != authcore.TwoFactorID || p.ID() != "two-factor" {
		t.Fatalf("New() = %T", p)
	}
	if _, err := caddy.GetModule("gatehouse.plugins.two_factor"); err != nil {
		t.Fatalf("not registered: %v", err)
	}
	if err := (&Plugin{Digits: 9}).Validate(); err == nil {
		t.Fatal("Validate accepted digits 9")
	}
}

// Through the real global gatehouse block.
func TestGlobalBlockAdapt(t *testing.T) {
	const src = `{
	gatehouse {
		base_url https://app.example.com
		two_factor {
			issuer Acme  otp_channel sms
			account_lockout {
				max_failed_attempts 5
			}
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
	got := string(cfg.Apps.Gatehouse.Plugins["two_factor"])
	if want := `{"issuer":"Acme","otp_channel":"sms","account_lockout":{"max_failed_attempts":5}}`; got != want {
		t.Fatalf("plugins.two_factor = %s, want %s", got, want)
	}
	_, _, err = caddyconfig.GetAdapter("caddyfile").Adapt([]byte(strings.Replace(src, "issuer Acme", "window 3", 1)), nil)
	if err == nil || !strings.Contains(err.Error(), `unknown option "window"`) {
		t.Fatalf("unknown option: %v", err)
	}
}
