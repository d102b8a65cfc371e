package twofactor

import (
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/caddymodule/caddyopts"
)

func init() {
	caddy.RegisterModule(Plugin{})
}

// CaddyModule returns the Caddy module information.
func (Plugin) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "gatehouse.plugins.two_factor",
		New: func() caddy.Module { return new(Plugin) },
	}
}

// Validate checks the options when Caddy loads the module, before the engine is built
// (two_factor_page is checked against the trusted origins when the engine is).
func (p *Plugin) Validate() error { return p.validate() }

// UnmarshalCaddyfile reads the plugin's block inside the global gatehouse block:
//
//	two_factor {
//	    issuer <name>
//	    digits 6|8
//	    period <duration>
//	    disable_totp
//	    skip_verification_on_enable
//	    allow_passwordless
//	    backup_codes {
//	        amount <n>
//	        length <n>
//	    }
//	    store_backup_codes encrypted|plain
//	    otp_channel email|sms
//	    otp_period <duration>
//	    otp_digits <n>
//	    otp_allowed_attempts <n>
//	    store_otp hashed|encrypted|plain
//	    two_factor_cookie_max_age <duration>
//	    trust_device_max_age <duration>
//	    account_lockout {
//	        max_failed_attempts <n>
//	        duration <duration>
//	        disabled
//	    }
//	    two_factor_page <path or URL>
//	}
func (p *Plugin) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the plugin name
	if d.NextArg() {
		return d.Errf("two_factor: unexpected argument %q (options go in a block)", d.Val())
	}
	var backup BackupCodeOptions
	var lockout AccountLockout
	var usedBackup, usedLockout bool
	err := caddyopts.Parse(d, "two_factor", map[string]caddyopts.Opt{
		"issuer":                      caddyopts.String(&p.Issuer),
		"digits":                      digitsOpt(&p.Digits),
		"period":                      caddyopts.Duration((*time.Duration)(&p.Period)),
		"disable_totp":                caddyopts.Flag(&p.DisableTOTP),
		"skip_verification_on_enable": caddyopts.Flag(&p.SkipVerificationOnEnable),
		"allow_passwordless":          caddyopts.Flag(&p.AllowPasswordless),
		"backup_codes": used(&usedBackup, caddyopts.Block(d, "two_factor backup_codes", map[string]caddyopts.Opt{
			"amount": caddyopts.Int(&backup.Amount),
			"length": caddyopts.Int(&backup.Length),
		})),
		"store_backup_codes":        caddyopts.OneOf(&p.StoreBackupCodes, StoreEncrypted, StorePlain),
		"otp_channel":               caddyopts.OneOf(&p.OTPChannel, ChannelEmail, ChannelSMS),
		"otp_period":                caddyopts.Duration((*time.Duration)(&p.OTPPeriod)),
		"otp_digits":                caddyopts.Int(&p.OTPDigits),
		"otp_allowed_attempts":      caddyopts.Int(&p.OTPAllowedAttempts),
		"store_otp":                 caddyopts.OneOf(&p.StoreOTP, StoreHashed, StoreEncrypted, StorePlain),
		"two_factor_cookie_max_age": caddyopts.Duration((*time.Duration)(&p.TwoFactorCookieMaxAge)),
		"trust_device_max_age":      caddyopts.Duration((*time.Duration)(&p.TrustDeviceMaxAge)),
		"account_lockout": used(&usedLockout, caddyopts.Block(d, "two_factor account_lockout", map[string]caddyopts.Opt{
			"max_failed_attempts": caddyopts.Int(&lockout.MaxFailedAttempts),
			"duration":            caddyopts.Duration((*time.Duration)(&lockout.Duration)),
			"disabled":            caddyopts.Flag(&lockout.Disabled),
		})),
		"two_factor_page": caddyopts.String(&p.TwoFactorPage),
	})
	if err != nil {
		return err
	}
	if usedBackup {
		p.BackupCodes = &backup
	}
	if usedLockout {
		p.AccountLockout = &lockout
	}
	return p.validate()
}

// used marks that an option appeared.
func used(flag *bool, o caddyopts.Opt) caddyopts.Opt {
	set := o.Set
	o.Set = func(a []string) error { *flag = true; return set(a) }
	return o
}

// digitsOpt takes 6 or 8.
func digitsOpt(p *int) caddyopts.Opt {
	var s string
	o := caddyopts.OneOf(&s, "6", "8")
	set := o.Set
	o.Set = func(a []string) error {
		if err := set(a); err != nil {
			return err
		}
		*p = int(s[0] - '0')
		return nil
	}
	return o
}

// Interface guards.
var (
	_ caddy.Module          = (*Plugin)(nil)
	_ caddy.Validator       = (*Plugin)(nil)
	_ caddyfile.Unmarshaler = (*Plugin)(nil)
	_ authcore.Plugin       = (*Plugin)(nil)
)
