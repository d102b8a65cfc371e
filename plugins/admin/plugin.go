package admin

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
)

// ID is the plugin's Better Auth id.
const ID = "admin"

// Defaults (Better Auth's).
const (
	DefaultRole                         = "user"
	DefaultAdminRole                    = "admin"
	DefaultImpersonationSessionDuration = time.Hour
	DefaultBanReason                    = "No reason"
	DefaultBannedUserMessage            = "You have been banned from this application. Please contact support if you believe this is an error."
)

// CookieAdminSession is the suffix of the signed cookie that keeps the admin's own session
// while impersonating ("<prefix>.admin_session").
const CookieAdminSession = "admin_session"

// Plugin is the admin plugin and its configuration (Caddy module gatehouse.plugins.admin).
// The zero value is ready to use. A Plugin value serves one engine.
type Plugin struct {
	// DefaultRole is the role assumed for a user whose role field is empty. Default "user".
	// (New users get the core schema's default role, "user".)
	DefaultRole string `json:"default_role,omitempty"`

	// AdminRoles are the roles that make a user an administrator. Each must be a known
	// role (built-in or from Roles). Default ["admin"].
	AdminRoles []string `json:"admin_roles,omitempty"`

	// AdminUserIDs are user ids that are administrators with every permission, whatever
	// their role.
	AdminUserIDs []string `json:"admin_user_ids,omitempty"`

	// ImpersonationSessionDuration is the lifetime of an impersonation session. Default 1h.
	ImpersonationSessionDuration authcore.Duration `json:"impersonation_session_duration,omitempty"`

	// AllowImpersonatingAdmins lets admins impersonate other admins (otherwise only a role
	// granting user:impersonate-admins may).
	AllowImpersonatingAdmins bool `json:"allow_impersonating_admins,omitempty"`

	// DefaultBanReason is stored when /admin/ban-user gives no reason. Default "No reason".
	DefaultBanReason string `json:"default_ban_reason,omitempty"`

	// DefaultBanExpiresIn is the ban length when /admin/ban-user gives none. Default: bans
	// never expire.
	DefaultBanExpiresIn authcore.Duration `json:"default_ban_expires_in,omitempty"`

	// BannedUserMessage is the message of the 403 BANNED_USER answer to a banned user's
	// sign-in. Default Better Auth's "You have been banned from this application. Please
	// contact support if you believe this is an error."
	BannedUserMessage string `json:"banned_user_message,omitempty"`

	// Roles are custom roles: role → resource → actions. They are added to the built-in
	// admin and user roles (a custom role of the same name replaces the built-in one). When
	// set, /admin/set-role, create-user and update-user accept only known roles.
	Roles map[string]map[string][]string `json:"roles,omitempty"`

	engine      *authcore.Engine
	defaultRole string
	adminRoles  []string
	roles       map[string]Permissions
	impDur      time.Duration
	banReason   string
	bannedMsg   string
}

// ID returns "admin".
func (*Plugin) ID() string { return ID }

// Register validates the options and declares the schema fields, routes, hooks, the ban
// session gate and the error codes.
func (p *Plugin) Register(r *authcore.Registrar) error {
	if err := p.validate(); err != nil {
		return err
	}
	p.engine = r.Engine()
	if err := registerSchema(r); err != nil {
		return err
	}
	// New users — by sign-up or any other way — are stored with default_role (Better
	// Auth sets it on user creation), so a role rule sees what the admin plugin judges.
	if err := r.SetDefault(authcore.ModelUser, "role", p.defaultRole); err != nil {
		return err
	}
	if err := r.Errors(errorCodes...); err != nil {
		return err
	}
	for _, ep := range p.endpoints() {
		if err := r.Endpoint(ep); err != nil {
			return err
		}
	}
	p.registerHooks(r)
	r.Provide(p)
	return nil
}

func validName(s string) bool {
	return s != "" && !strings.ContainsAny(s, ", \t\r\n\x00") && len(s) <= 128
}

// validate checks the options and computes the effective settings.
func (p *Plugin) validate() error {
	p.defaultRole = p.DefaultRole
	if p.defaultRole == "" {
		p.defaultRole = DefaultRole
	}
	if !validName(p.defaultRole) {
		return fmt.Errorf("admin: default_role %q is not a role name (no commas or spaces)", p.defaultRole)
	}
	p.roles = DefaultRoles()
	for _, name := range slices.Sorted(maps.Keys(p.Roles)) {
		if !validName(name) {
			return fmt.Errorf("admin: roles: %q is not a role name (no commas or spaces)", name)
		}
		perms := Permissions{}
		for res, actions := range p.Roles[name] {
			if !validName(res) {
				return fmt.Errorf("admin: roles %s: %q is not a resource name", name, res)
			}
			for _, a := range actions {
				if !validName(a) {
					return fmt.Errorf("admin: roles %s %s: %q is not an action name", name, res, a)
				}
			}
			perms[res] = slices.Clone(actions)
		}
		p.roles[name] = perms
	}
	p.adminRoles = p.AdminRoles
	if len(p.adminRoles) == 0 {
		p.adminRoles = []string{DefaultAdminRole}
	}
	for _, a := range p.adminRoles {
		if _, ok := p.roles[a]; !ok {
			return fmt.Errorf("admin: admin_roles: %q is not a defined role (built-in: admin, user; add it under roles)", a)
		}
	}
	for _, id := range p.AdminUserIDs {
		if id == "" {
			return fmt.Errorf("admin: admin_user_ids: empty id")
		}
	}
	p.impDur = p.ImpersonationSessionDuration.D()
	if p.impDur == 0 {
		p.impDur = DefaultImpersonationSessionDuration
	}
	if p.impDur < time.Second {
		return fmt.Errorf("admin: impersonation_session_duration must be at least 1s")
	}
	if d := p.DefaultBanExpiresIn.D(); d != 0 && d < time.Second {
		return fmt.Errorf("admin: default_ban_expires_in must be at least 1s")
	}
	p.banReason = p.DefaultBanReason
	if p.banReason == "" {
		p.banReason = DefaultBanReason
	}
	p.bannedMsg = p.BannedUserMessage
	if p.bannedMsg == "" {
		p.bannedMsg = DefaultBannedUserMessage
	}
	return nil
}
