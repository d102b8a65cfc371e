package passkey

import (
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
		ID:  "gatehouse.plugins.passkey",
		New: func() caddy.Module { return new(Plugin) },
	}
}

// Validate checks the options when Caddy loads the module, before the engine is built.
func (p *Plugin) Validate() error { return p.validate() }

// UnmarshalCaddyfile reads the plugin's block inside the global gatehouse block:
//
//	passkey {
//	    rp_id <domain>
//	    rp_name <name>
//	    origins <origin> [<origin>...]
//	    authenticator_attachment platform|cross-platform
//	    resident_key required|preferred|discouraged
//	    user_verification required|preferred|discouraged
//	    challenge_cookie <name>
//	    passkey_as_second_factor
//	}
//
// Several options may share a line.
func (p *Plugin) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the plugin name
	if d.NextArg() {
		return d.Errf("passkey: unexpected argument %q (options go in a block)", d.Val())
	}
	return caddyopts.Parse(d, "passkey", map[string]caddyopts.Opt{
		"rp_id":                    caddyopts.String(&p.RPID),
		"rp_name":                  caddyopts.String(&p.RPName),
		"origins":                  caddyopts.Strings(&p.Origins),
		"authenticator_attachment": caddyopts.OneOf(&p.AuthenticatorAttachment, AttachmentPlatform, AttachmentCrossPlatform),
		"resident_key":             caddyopts.OneOf(&p.ResidentKey, Required, Preferred, Discouraged),
		"user_verification":        caddyopts.OneOf(&p.UserVerification, Required, Preferred, Discouraged),
		"challenge_cookie":         caddyopts.String(&p.ChallengeCookie),
		"passkey_as_second_factor": caddyopts.Flag(&p.PasskeyAsSecondFactor),
	})
}

// Interface guards.
var (
	_ caddy.Module          = (*Plugin)(nil)
	_ caddy.Validator       = (*Plugin)(nil)
	_ caddyfile.Unmarshaler = (*Plugin)(nil)
	_ authcore.Plugin       = (*Plugin)(nil)
	_ authcore.Dependent    = (*Plugin)(nil)
)
