package portal

import (
	"net/http"

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
	return caddy.ModuleInfo{ID: "gatehouse.plugins.portal", New: func() caddy.Module { return new(Plugin) }}
}

// UnmarshalCaddyfile reads the plugin's block inside the global gatehouse block:
//
//	portal {
//	    app_name <name>
//	    logo_url <https URL or /path>
//	    accent_color "<#rgb or #rrggbb>"   (quoted: an unquoted # starts a comment)
//	    default_callback </path>
//	}
func (p *Plugin) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the plugin name
	if d.NextArg() {
		return d.ArgErr()
	}
	return caddyopts.Parse(d, "portal", map[string]caddyopts.Opt{
		"app_name":         caddyopts.String(&p.AppName),
		"logo_url":         caddyopts.String(&p.LogoURL),
		"accent_color":     caddyopts.String(&p.AccentColor),
		"default_callback": caddyopts.String(&p.DefaultCallback),
	})
}

// Interface guards.
var (
	_ caddy.Module          = (*Plugin)(nil)
	_ caddyfile.Unmarshaler = (*Plugin)(nil)
	_ authcore.Plugin       = (*Plugin)(nil)
	_ http.Handler          = (*Plugin)(nil)
)
