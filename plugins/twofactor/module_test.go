package twofactor

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
	caddyoptstest.Unmarshal(t, []caddyoptstest.Case[Plugin]{
		{Name: "bare", Input: `two_factor`, Want: Plugin{}},
		{Name: "empty block", Input: "two_factor {\n}", Want: Plugin{}},
		{Name: "every option", Input: `two_factor {
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
		}`, Want: every},
		{Name: "one line", Input: `two_factor {
			issuer "My App"  digits 6  otp_channel email  trust_device_max_age 30d
		}`, Want: Plugin{Issuer: "My App", Digits: 6, OTPChannel: "email", TrustDeviceMaxAge: dur(30 * 24 * time.Hour)}},
		{Name: "lockout off", Input: "two_factor {\n account_lockout {\n disabled\n }\n}", Want: Plugin{AccountLockout: &AccountLockout{Disabled: true}}},
		{Name: "empty sub-blocks", Input: "two_factor {\n backup_codes {\n }\n account_lockout\n}",
			Want: Plugin{BackupCodes: &BackupCodeOptions{}, AccountLockout: &AccountLockout{}}},
		{Name: "unknown option", Input: "two_factor {\n totp_window 2\n}", Err: `unknown option "totp_window"`},
		{Name: "unknown lockout option", Input: "two_factor {\n account_lockout {\n window 15m\n }\n}", Err: `unknown option "window"`},
		{Name: "argument after the name", Input: `two_factor totp`, Err: "unexpected argument"},
		{Name: "bad digits", Input: "two_factor {\n digits 7\n}", Err: `"7" is not one of 6, 8`},
		{Name: "bad store", Input: "two_factor {\n store_backup_codes hashed\n}", Err: "not one of encrypted, plain"},
		{Name: "bad channel", Input: "two_factor {\n otp_channel fax\n}", Err: "not one of email, sms"},
		{Name: "bad store_otp", Input: "two_factor {\n store_otp clear\n}", Err: "not one of hashed, encrypted, plain"},
		{Name: "bad duration", Input: "two_factor {\n otp_period soon\n}", Err: "otp_period"},
		{Name: "bad period", Input: "two_factor {\n period 1500ms\n}", Err: "whole number of seconds"},
		{Name: "bad count", Input: "two_factor {\n otp_allowed_attempts -1\n}", Err: "non-negative integer"},
		{Name: "bad length", Input: "two_factor {\n backup_codes {\n length 4\n }\n}", Err: "length 4"},
		{Name: "missing value", Input: "two_factor {\n issuer\n}", Err: "expected 1 argument"},
		{Name: "twice", Input: "two_factor {\n disable_totp\n disable_totp\n}", Err: "given twice"},
	})
}

// The JSON the Caddyfile adapter writes loads back into the same configuration.
func TestJSONRoundTrip(t *testing.T) {
	in := Plugin{Issuer: "Acme", Digits: 8, BackupCodes: &BackupCodeOptions{Amount: 5}, OTPPeriod: dur(time.Minute),
		AccountLockout: &AccountLockout{Disabled: true}, TwoFactorPage: "/2fa"}
	caddyoptstest.RoundTrip(t, in, `{"issuer":"Acme","digits":8,"backup_codes":{"amount":5},"otp_period":"1m0s","account_lockout":{"disabled":true},"two_factor_page":"/2fa"}`)
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
	plugins := caddyoptstest.AdaptedPlugins(t, src)
	got := string(plugins["two_factor"])
	if want := `{"issuer":"Acme","otp_channel":"sms","account_lockout":{"max_failed_attempts":5}}`; got != want {
		t.Fatalf("plugins.two_factor = %s, want %s", got, want)
	}
	_, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(strings.Replace(src, "issuer Acme", "window 3", 1)), nil)
	if err == nil || !strings.Contains(err.Error(), `unknown option "window"`) {
		t.Fatalf("unknown option: %v", err)
	}
}
