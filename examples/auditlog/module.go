package auditlog

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
	return caddy.ModuleInfo{ID: "gatehouse.plugins.audit_log", New: func() caddy.Module { return new(Plugin) }}
}

// UnmarshalCaddyfile reads the plugin's block inside the global gatehouse block:
//
//	audit_log {
//	    retention <duration>
//	    actions <action>...
//	}
func (p *Plugin) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the plugin name
	if d.NextArg() {
		return d.ArgErr()
	}
	return caddyopts.Parse(d, "audit_log", map[string]caddyopts.Opt{
		"retention": caddyopts.Duration((*time.Duration)(&p.Retention)),
		"actions":   caddyopts.Strings(&p.Actions),
	})
}

// Interface guards.
var (
	_ caddy.Module          = (*Plugin)(nil)
	_ caddyfile.Unmarshaler = (*Plugin)(nil)
	_ authcore.Plugin       = (*Plugin)(nil)
)
