package magiclink

import (
	"fmt"
	"strconv"
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
		ID:  "gatehouse.plugins.magic_link",
		New: func() caddy.Module { return new(Plugin) },
	}
}

// Validate checks the options when Caddy loads the module, before the engine is built.
func (p *Plugin) Validate() error { return p.validate() }

// UnmarshalCaddyfile reads the plugin's block inside the global gatehouse block:
//
//	magic_link {
//	    expires_in <duration>
//	    disable_sign_up
//	    store_token hashed|plain
//	    rate_limit <window> <max>
//	}
func (p *Plugin) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the plugin name
	if d.NextArg() {
		return d.Errf("magic_link: unexpected argument %q (options go in a block)", d.Val())
	}
	return caddyopts.Parse(d, "magic_link", map[string]caddyopts.Opt{
		"expires_in":      caddyopts.Duration((*time.Duration)(&p.ExpiresIn)),
		"disable_sign_up": caddyopts.Flag(&p.DisableSignUp),
		"store_token":     caddyopts.OneOf(&p.StoreToken, StoreHashed, StorePlain),
		"rate_limit": {Arity: 2, Set: func(a []string) error {
			w, err := caddy.ParseDuration(a[0])
			if err != nil {
				return err
			}
			m, err := strconv.Atoi(a[1])
			if err != nil || m <= 0 || w <= 0 {
				return fmt.Errorf("usage: rate_limit <window> <max> (positive window and max)")
			}
			p.RateLimitWindow, p.RateLimitMax = authcore.Duration(w), m
			return nil
		}},
	})
}

// Interface guards.
var (
	_ caddy.Module          = (*Plugin)(nil)
	_ caddy.Validator       = (*Plugin)(nil)
	_ caddyfile.Unmarshaler = (*Plugin)(nil)
	_ authcore.Plugin       = (*Plugin)(nil)
)
