package multisession

import (
	"fmt"

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
		ID:  "gatehouse.plugins.multi_session",
		New: func() caddy.Module { return new(Plugin) },
	}
}

// UnmarshalCaddyfile reads the plugin's block inside the global gatehouse block:
//
//	multi_session [{
//	    maximum_sessions <n>
//	}]
func (p *Plugin) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the plugin name
	if d.NextArg() {
		return d.Errf("multi_session: unexpected argument %q (options go in a block)", d.Val())
	}
	return caddyopts.Parse(d, "multi_session", map[string]caddyopts.Opt{
		"maximum_sessions": positiveInt(&p.MaximumSessions),
	})
}

// positiveInt is caddyopts.Int refusing 0: in a Caddyfile an option written out is a choice,
// and 0 would silently mean the default.
func positiveInt(p *int) caddyopts.Opt {
	o := caddyopts.Int(p)
	set := o.Set
	o.Set = func(a []string) error {
		if err := set(a); err != nil {
			return err
		}
		if *p < 1 || *p > maxMaximumSessions {
			return fmt.Errorf("must be between 1 and %d", maxMaximumSessions)
		}
		return nil
	}
	return o
}

// Interface guards.
var (
	_ caddy.Module          = (*Plugin)(nil)
	_ caddyfile.Unmarshaler = (*Plugin)(nil)
	_ authcore.Plugin       = (*Plugin)(nil)
)
