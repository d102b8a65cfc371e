package organization

import (
	"fmt"
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
		ID:  "gatehouse.plugins.organization",
		New: func() caddy.Module { return new(Plugin) },
	}
}

// UnmarshalCaddyfile reads the plugin's block inside the global gatehouse block:
//
//	organization [{
//	    disallow_user_to_create_organization
//	    organization_limit <n>
//	    creator_role <role>
//	    membership_limit <n>
//	    invitation_limit <n>
//	    invitation_expires_in <duration>
//	    invitation_url <url with {id}>
//	    require_email_verification_on_invitation
//	    cancel_pending_invitations_on_re_invite
//	    disable_organization_deletion
//	    roles {
//	        <role> [<resource>:<action>...]
//	    }
//	    teams {
//	        enabled
//	        maximum_teams <n>
//	        maximum_members_per_team <n>
//	        allow_removing_all_teams
//	    }
//	    dynamic_access_control {
//	        enabled
//	        maximum_roles_per_organization <n>
//	    }
//	}]
//
// Each line of roles grants one role the listed resource:action pairs; a role may span
// several lines, and a line with the role alone declares a role with no permissions.
func (p *Plugin) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the plugin name
	if d.NextArg() {
		return d.ArgErr()
	}
	return caddyopts.Parse(d, "organization", map[string]caddyopts.Opt{
		"disallow_user_to_create_organization":     caddyopts.Flag(&p.DisallowUserToCreateOrganization),
		"organization_limit":                       caddyopts.Int(&p.OrganizationLimit),
		"creator_role":                             caddyopts.String(&p.CreatorRole),
		"membership_limit":                         caddyopts.Int(&p.MembershipLimit),
		"invitation_limit":                         caddyopts.Int(&p.InvitationLimit),
		"invitation_expires_in":                    caddyopts.Duration((*time.Duration)(&p.InvitationExpiresIn)),
		"invitation_url":                           caddyopts.String(&p.InvitationURL),
		"require_email_verification_on_invitation": caddyopts.Flag(&p.RequireEmailVerificationOnInvitation),
		"cancel_pending_invitations_on_re_invite":  caddyopts.Flag(&p.CancelPendingInvitationsOnReInvite),
		"disable_organization_deletion":            caddyopts.Flag(&p.DisableOrganizationDeletion),
		"roles":                                    {Arity: 0, Set: func([]string) error { return p.parseRolesBlock(d) }},
		"teams": caddyopts.Block(d, "teams", map[string]caddyopts.Opt{
			"enabled":                  caddyopts.Flag(&p.Teams.Enabled),
			"maximum_teams":            caddyopts.Int(&p.Teams.MaximumTeams),
			"maximum_members_per_team": caddyopts.Int(&p.Teams.MaximumMembersPerTeam),
			"allow_removing_all_teams": caddyopts.Flag(&p.Teams.AllowRemovingAllTeams),
		}),
		"dynamic_access_control": caddyopts.Block(d, "dynamic_access_control", map[string]caddyopts.Opt{
			"enabled":                        caddyopts.Flag(&p.DynamicAccessControl.Enabled),
			"maximum_roles_per_organization": caddyopts.Int(&p.DynamicAccessControl.MaximumRolesPerOrganization),
		}),
	})
}

func (p *Plugin) parseRolesBlock(d *caddyfile.Dispenser) error {
	if p.Roles == nil {
		p.Roles = map[string]map[string][]string{}
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		role := d.Val()
		if p.Roles[role] == nil {
			p.Roles[role] = map[string][]string{}
		}
		for _, arg := range d.RemainingArgs() {
			res, act, ok := strings.Cut(arg, ":")
			if !ok || res == "" || act == "" {
				return fmt.Errorf("roles %s: %q is not <resource>:<action>", role, arg)
			}
			p.Roles[role][res] = append(p.Roles[role][res], act)
		}
	}
	return nil
}

// Interface guards.
var (
	_ caddy.Module          = (*Plugin)(nil)
	_ caddyfile.Unmarshaler = (*Plugin)(nil)
	_ authcore.Plugin       = (*Plugin)(nil)
)
