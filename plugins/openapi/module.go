package openapi

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
		ID:  "gatehouse.plugins.open_api",
		New: func() caddy.Module { return new(Plugin) },
	}
}

// UnmarshalCaddyfile reads the plugin's block inside the global gatehouse block:
//
//	open_api [{
//	    path <path>
//	    reference_script_url <https URL>
//	    disable_default_reference
//	}]
func (p *Plugin) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the plugin name
	if d.NextArg() {
		return d.ArgErr()
	}
	return caddyopts.Parse(d, "open_api", map[string]caddyopts.Opt{
		"path":                      caddyopts.String(&p.Path),
		"reference_script_url":      caddyopts.String(&p.ReferenceScriptURL),
		"disable_default_reference": caddyopts.Flag(&p.DisableDefaultReference),
	})
}

// Interface guards.
var (
	_ caddy.Module          = (*Plugin)(nil)
	_ caddyfile.Unmarshaler = (*Plugin)(nil)
	_ authcore.Plugin       = (*Plugin)(nil)
)
