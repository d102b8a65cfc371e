package username

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
	return caddy.ModuleInfo{ID: "gatehouse.plugins.username", New: func() caddy.Module { return new(Plugin) }}
}

// UnmarshalCaddyfile reads the plugin's block inside the global gatehouse block:
//
//	username {
//	    min_username_length <n>
//	    max_username_length <n>
//	    username_pattern <regexp>
//	    display_username_pattern <regexp>
//	    username_normalization lowercase|none
//	    display_username_normalization none|lowercase
//	    username_validation_order pre-normalization|post-normalization
//	    display_username_validation_order pre-normalization|post-normalization
//	    immutable_username
//	    disable_display_username
//	}
func (p *Plugin) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the plugin name
	if d.NextArg() {
		return d.ArgErr()
	}
	orders := []string{PreNormalization, PostNormalization}
	return caddyopts.Parse(d, "username", map[string]caddyopts.Opt{
		"min_username_length":               caddyopts.Int(&p.MinUsernameLength),
		"max_username_length":               caddyopts.Int(&p.MaxUsernameLength),
		"username_pattern":                  caddyopts.String(&p.UsernamePattern),
		"display_username_pattern":          caddyopts.String(&p.DisplayUsernamePattern),
		"username_normalization":            caddyopts.OneOf(&p.UsernameNormalization, NormalizeLowercase, NormalizeNone),
		"display_username_normalization":    caddyopts.OneOf(&p.DisplayUsernameNormalization, NormalizeNone, NormalizeLowercase),
		"username_validation_order":         caddyopts.OneOf(&p.UsernameValidationOrder, orders...),
		"display_username_validation_order": caddyopts.OneOf(&p.DisplayUsernameValidationOrder, orders...),
		"immutable_username":                caddyopts.Flag(&p.ImmutableUsername),
		"disable_display_username":          caddyopts.Flag(&p.DisableDisplayUsername),
	})
}

// Interface guards.
var (
	_ caddy.Module          = (*Plugin)(nil)
	_ caddyfile.Unmarshaler = (*Plugin)(nil)
	_ authcore.Plugin       = (*Plugin)(nil)
)
