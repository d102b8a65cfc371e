package apikey

import (
	"strings"
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
		ID:  "gatehouse.plugins.api_key",
		New: func() caddy.Module { return new(Plugin) },
	}
}

// Validate checks the options when Caddy loads the module.
func (p *Plugin) Validate() error { return p.validate() }

// Cleanup returns unused quota leases when Caddy unloads the module (reload, shutdown).
func (p *Plugin) Cleanup() error {
	if p.engine == nil {
		return nil
	}
	return p.Close()
}

// UnmarshalCaddyfile reads the plugin's block inside the global gatehouse block:
//
//	api_key [{
//	    headers <name...>
//	    default_key_length <n>
//	    default_prefix <prefix>
//	    starting_characters_length <n>
//	    require_name
//	    enable_metadata
//	    key_expiration {
//	        default_expires_in <duration>
//	        min_expires_in <duration>
//	        max_expires_in <duration>
//	        disable_custom_expires_time
//	    }
//	    rate_limit {
//	        enabled
//	        time_window <duration>
//	        max <n>
//	    }
//	    permissions {
//	        default <resource> <action...>
//	    }
//	    enable_session_for_api_keys
//	    lease_size <n>
//	}]
func (p *Plugin) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the plugin name
	if d.NextArg() {
		return d.Errf("api_key: unexpected argument %q (options go in a block)", d.Val())
	}
	err := caddyopts.Parse(d, "api_key", map[string]caddyopts.Opt{
		"headers": {Arity: -1, Repeat: true, Set: func(a []string) error {
			for _, h := range a {
				p.Headers = append(p.Headers, strings.ToLower(h))
			}
			return nil
		}},
		"default_key_length":         caddyopts.Int(&p.DefaultKeyLength),
		"default_prefix":             caddyopts.String(&p.DefaultPrefix),
		"starting_characters_length": caddyopts.Int(&p.StartingCharactersLength),
		"disable_key_hashing":        caddyopts.Flag(&p.DisableKeyHashing),
		"require_name":               caddyopts.Flag(&p.RequireName),
		"enable_metadata":            caddyopts.Flag(&p.EnableMetadata),
		"key_expiration": caddyopts.Block(d, "api_key key_expiration", map[string]caddyopts.Opt{
			"default_expires_in":          caddyopts.Duration((*time.Duration)(&p.KeyExpiration.DefaultExpiresIn)),
			"min_expires_in":              caddyopts.Duration((*time.Duration)(&p.KeyExpiration.MinExpiresIn)),
			"max_expires_in":              caddyopts.Duration((*time.Duration)(&p.KeyExpiration.MaxExpiresIn)),
			"disable_custom_expires_time": caddyopts.Flag(&p.KeyExpiration.DisableCustomExpiresTime),
		}),
		"rate_limit": caddyopts.Block(d, "api_key rate_limit", map[string]caddyopts.Opt{
			"enabled":     caddyopts.Flag(&p.RateLimit.Enabled),
			"time_window": caddyopts.Duration((*time.Duration)(&p.RateLimit.TimeWindow)),
			"max":         caddyopts.Int(&p.RateLimit.Max),
		}),
		"permissions": caddyopts.Block(d, "api_key permissions", map[string]caddyopts.Opt{
			"default": {Arity: -1, Repeat: true, Set: func(a []string) error {
				if len(a) < 2 {
					return d.Errf("permissions default: need <resource> <action...>")
				}
				if p.Permissions.Default == nil {
					p.Permissions.Default = map[string][]string{}
				}
				p.Permissions.Default[a[0]] = append(p.Permissions.Default[a[0]], a[1:]...)
				return nil
			}},
		}),
		"enable_session_for_api_keys": caddyopts.Flag(&p.EnableSessionForAPIKeys),
		"lease_size":                  caddyopts.Int(&p.LeaseSize),
	})
	if err != nil {
		return err
	}
	return p.Validate()
}

// Interface guards.
var (
	_ caddy.Module           = (*Plugin)(nil)
	_ caddy.Validator        = (*Plugin)(nil)
	_ caddy.CleanerUpper     = (*Plugin)(nil)
	_ caddyfile.Unmarshaler  = (*Plugin)(nil)
	_ authcore.Plugin        = (*Plugin)(nil)
	_ authcore.Authenticator = gatewayAuth{}
)
