package admin

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
		ID:  "gatehouse.plugins.admin",
		New: func() caddy.Module { return new(Plugin) },
	}
}

// UnmarshalCaddyfile reads the plugin's block inside the global gatehouse block:
//
//	admin [{
//	    default_role <role>
//	    admin_roles <role...>
//	    admin_user_ids <id...>
//	    impersonation_session_duration <duration>
//	    allow_impersonating_admins
//	    default_ban_reason <text>
//	    default_ban_expires_in <duration>
//	    banned_user_message <text>
//	    roles {
//	        <role> [<resource> <action...>]
//	    }
//	}]
//
// Each line of roles grants one role the listed actions on one resource; a role may have
// several lines (one per resource), and a line with the role alone declares a role with no
// permissions.
func (p *Plugin) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the plugin name
	if d.NextArg() {
		return d.ArgErr()
	}
	return caddyopts.Parse(d, "admin", map[string]caddyopts.Opt{
		"default_role":                   caddyopts.String(&p.DefaultRole),
		"admin_roles":                    caddyopts.Strings(&p.AdminRoles),
		"admin_user_ids":                 caddyopts.Strings(&p.AdminUserIDs),
		"impersonation_session_duration": caddyopts.Duration((*time.Duration)(&p.ImpersonationSessionDuration)),
		"allow_impersonating_admins":     caddyopts.Flag(&p.AllowImpersonatingAdmins),
		"default_ban_reason":             caddyopts.String(&p.DefaultBanReason),
		"default_ban_expires_in":         caddyopts.Duration((*time.Duration)(&p.DefaultBanExpiresIn)),
		"banned_user_message":            caddyopts.String(&p.BannedUserMessage),
		"roles":                          {Arity: 0, Set: func([]string) error { return p.parseRolesBlock(d) }},
	})
}

func (p *Plugin) parseRolesBlock(d *caddyfile.Dispenser) error {
	if p.Roles == nil {
		p.Roles = map[string]map[string][]string{}
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		role := d.Val()
		args := d.RemainingArgs()
		if p.Roles[role] == nil {
			p.Roles[role] = map[string][]string{}
		}
		if len(args) == 0 {
			continue
		}
		if len(args) < 2 {
			return fmt.Errorf("roles %s %s: expected at least one action", role, args[0])
		}
		p.Roles[role][args[0]] = append(p.Roles[role][args[0]], args[1:]...)
	}
	return nil
}

// Interface guards.
var (
	_ caddy.Module          = (*Plugin)(nil)
	_ caddyfile.Unmarshaler = (*Plugin)(nil)
	_ authcore.Plugin       = (*Plugin)(nil)
)
