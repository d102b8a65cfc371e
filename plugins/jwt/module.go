package jwtplugin

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
		ID:  "gatehouse.plugins.jwt",
		New: func() caddy.Module { return new(Plugin) },
	}
}

// Validate checks the options when Caddy loads the module, before the engine is built.
func (p *Plugin) Validate() error { return p.validate() }

// UnmarshalCaddyfile reads the plugin's block inside the global gatehouse block:
//
//	jwt [{
//	    jwks_path <path>
//	    issuer <iss>
//	    audience <aud>
//	    expiration_time <duration>
//	    algorithm EdDSA|ES256|RS256
//	    rotation_interval <duration>
//	    grace_period <duration>
//	    disable_setting_jwt_header
//	    disable_private_key_encryption
//	}]
func (p *Plugin) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the plugin name
	if d.NextArg() {
		return d.Errf("jwt: unexpected argument %q (options go in a block)", d.Val())
	}
	err := caddyopts.Parse(d, "jwt", map[string]caddyopts.Opt{
		"jwks_path":                      caddyopts.String(&p.JWKSPath),
		"issuer":                         caddyopts.String(&p.Issuer),
		"audience":                       caddyopts.String(&p.Audience),
		"expiration_time":                caddyopts.Duration((*time.Duration)(&p.ExpirationTime)),
		"algorithm":                      caddyopts.OneOf(&p.Algorithm, AlgEdDSA, AlgES256, AlgRS256),
		"rotation_interval":              caddyopts.Duration((*time.Duration)(&p.RotationInterval)),
		"grace_period":                   caddyopts.Duration((*time.Duration)(&p.GracePeriod)),
		"disable_setting_jwt_header":     caddyopts.Flag(&p.DisableSettingJWTHeader),
		"disable_private_key_encryption": caddyopts.Flag(&p.DisablePrivateKeyEncryption),
	})
	if err != nil {
		return err
	}
	return p.validate()
}

// Interface guards.
var (
	_ caddy.Module           = (*Plugin)(nil)
	_ caddy.Validator        = (*Plugin)(nil)
	_ caddyfile.Unmarshaler  = (*Plugin)(nil)
	_ authcore.Plugin        = (*Plugin)(nil)
	_ authcore.Authenticator = authenticator{}
)
