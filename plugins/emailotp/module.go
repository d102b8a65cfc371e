package emailotp

import (
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/caddymodule/caddyopts"
)

func init() { caddy.RegisterModule(Plugin{}) }

// CaddyModule returns the Caddy module information.
func (Plugin) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "gatehouse.plugins.email_otp", New: func() caddy.Module { return new(Plugin) }}
}

// UnmarshalCaddyfile reads the plugin's block in the global gatehouse options:
//
//	email_otp {
//	    otp_length <digits>
//	    expires_in <duration>
//	    allowed_attempts <n>
//	    store_otp hashed|encrypted|plain
//	    resend_strategy rotate|reuse
//	    disable_sign_up
//	    send_verification_on_sign_up
//	    override_default_email_verification
//	    change_email {
//	        enabled
//	        verify_current_email
//	    }
//	}
//
// Several options may share a line.
func (p *Plugin) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the plugin name
	if d.NextArg() {
		return d.ArgErr()
	}
	return caddyopts.Parse(d, "email_otp", map[string]caddyopts.Opt{
		"otp_length":                          caddyopts.Int(&p.OTPLength),
		"expires_in":                          caddyopts.Duration((*time.Duration)(&p.ExpiresIn)),
		"allowed_attempts":                    caddyopts.Int(&p.AllowedAttempts),
		"store_otp":                           caddyopts.OneOf(&p.StoreOTP, "hashed", "encrypted", "plain"),
		"resend_strategy":                     caddyopts.OneOf(&p.ResendStrategy, "rotate", "reuse"),
		"disable_sign_up":                     caddyopts.Flag(&p.DisableSignUp),
		"send_verification_on_sign_up":        caddyopts.Flag(&p.SendVerificationOnSignUp),
		"override_default_email_verification": caddyopts.Flag(&p.OverrideDefaultEmailVerification),
		"change_email": caddyopts.Block(d, "email_otp change_email", map[string]caddyopts.Opt{
			"enabled":              caddyopts.Flag(&p.ChangeEmail.Enabled),
			"verify_current_email": caddyopts.Flag(&p.ChangeEmail.VerifyCurrentEmail),
		}),
	})
}

// Interface guards.
var (
	_ caddy.Module          = Plugin{}
	_ caddyfile.Unmarshaler = (*Plugin)(nil)
	_ authcore.Plugin       = (*Plugin)(nil)
)
