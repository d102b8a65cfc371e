package phonenumber

import (
	"fmt"
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
		ID:  "gatehouse.plugins.phone_number",
		New: func() caddy.Module { return new(Plugin) },
	}
}

// UnmarshalCaddyfile reads the plugin's block inside the global gatehouse options:
//
//	phone_number {
//	    otp_length 6
//	    expires_in 5m
//	    allowed_attempts 3
//	    require_verification
//	    sign_up_on_verification
//	    temp_email_domain phone-number.placeholder.invalid
//	    phone_number_pattern `^\+[1-9][0-9]{6,14}$`
//	    disable_phone_number_validation
//	    store_otp plain|hashed|encrypted
//	    send_limit 5
//	    send_limit_window 10m
//	}
//
// The name takes no arguments; the block may be omitted.
func (p *Plugin) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the plugin name
	if d.NextArg() {
		return d.ArgErr()
	}
	return caddyopts.Parse(d, "phone_number", map[string]caddyopts.Opt{
		"otp_length":                      caddyopts.Int(&p.OTPLength),
		"expires_in":                      caddyopts.Duration((*time.Duration)(&p.ExpiresIn)),
		"allowed_attempts":                caddyopts.Int(&p.AllowedAttempts),
		"require_verification":            caddyopts.Flag(&p.RequireVerification),
		"sign_up_on_verification":         caddyopts.Flag(&p.SignUpOnVerification),
		"temp_email_domain":               caddyopts.String(&p.TempEmailDomain),
		"phone_number_pattern":            caddyopts.String(&p.PhoneNumberPattern),
		"disable_phone_number_validation": caddyopts.Flag(&p.DisablePhoneNumberValidation),
		"store_otp":                       caddyopts.OneOf(&p.StoreOTP, "plain", "hashed", "encrypted"),
		"send_limit":                      caddyopts.Int(&p.SendLimit),
		"send_limit_window":               caddyopts.Duration((*time.Duration)(&p.SendLimitWindow)),
	})
}

// Validate checks the options when Caddy loads the configuration, so `caddy validate` and a
// reload report a bad option before the engine is built; Register checks them again.
func (p *Plugin) Validate() error {
	c := *p
	if err := c.provision(); err != nil {
		return fmt.Errorf("plugin %q: %w", ID, err)
	}
	return nil
}

// Interface guards
var (
	_ caddy.Module          = (*Plugin)(nil)
	_ caddy.Validator       = (*Plugin)(nil)
	_ caddyfile.Unmarshaler = (*Plugin)(nil)
	_ authcore.Plugin       = (*Plugin)(nil)
)
