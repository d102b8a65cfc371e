package admin

import (
	"slices"
	"strings"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
)

var _ authcore.Admins = (*Plugin)(nil)

// Permissions maps a resource to actions ({"user": ["list", "ban"]}).
type Permissions map[string][]string

// Statements are Better Auth's default admin access-control statements: every action the
// admin routes check (with Gatehouse's audit:list).
var Statements = Permissions{
	"user": {"create", "list", "set-role", "ban", "impersonate", "impersonate-admins",
		"delete", "set-password", "set-email", "get", "update"},
	"session": {"list", "revoke", "delete"},
	"audit":   {"list"},
}

// DefaultRoles are Better Auth's built-in roles: admin may do everything except
// impersonate-admins; user may do nothing. Gatehouse adds audit:list (the audit-log
// listing) to admin.
func DefaultRoles() map[string]Permissions {
	return map[string]Permissions{
		"admin": {
			"user": {"create", "list", "set-role", "ban", "impersonate", "delete",
				"set-password", "set-email", "get", "update"},
			"session": {"list", "revoke", "delete"},
			"audit":   {"list"},
		},
		"user": {"user": {}, "session": {}, "audit": {}},
	}
}

// authorize is Better Auth's role.authorize with the AND connector: every requested
// resource must be granted by the role with all of its requested actions; an empty request,
// or an empty action list, is not authorized.
func authorize(role Permissions, req Permissions) bool {
	if role == nil || len(req) == 0 {
		return false
	}
	for res, actions := range req {
		allowed, ok := role[res]
		if !ok || len(actions) == 0 {
			return false
		}
		for _, a := range actions {
			if !slices.Contains(allowed, a) {
				return false
			}
		}
	}
	return true
}

// rolesOf splits a user's role field (comma list) into roles; empty means the default role.
func (p *Plugin) rolesOf(role string) []string {
	rs := authcore.SplitRoles(role)
	if len(rs) == 0 {
		return []string{p.defaultRole}
	}
	return rs
}

// allows reports whether a user (id and role field) holds every requested permission:
// admin_user_ids always do; otherwise any one of the user's roles must grant them all
// (Better Auth's hasPermission). Role names are matched exactly.
func (p *Plugin) allows(userID, role string, req Permissions) bool {
	if userID != "" && slices.Contains(p.AdminUserIDs, userID) {
		return true
	}
	if len(req) == 0 {
		return false
	}
	for _, r := range p.rolesOf(role) {
		if authorize(p.roles[r], req) {
			return true
		}
	}
	return false
}

// IsAdmin reports whether a user is an administrator: listed in admin_user_ids or holding
// one of admin_roles. Roles are compared without regard to case, so "Admin" or " admin" in
// a role list counts as admin wherever that protects an account (ADM-02). It is the
// authcore.Admins the gateway's `require admin` rule asks.
func (p *Plugin) IsAdmin(user storage.Record) bool {
	if slices.Contains(p.AdminUserIDs, user.ID()) {
		return true
	}
	for _, r := range authcore.SplitRoles(user.String("role")) {
		for _, a := range p.adminRoles {
			if strings.EqualFold(r, a) {
				return true
			}
		}
	}
	return false
}

// HasPermission is the server-side form of /admin/has-permission (Better Auth's
// userHasPermission called without a request): it judges a role, or the stored user when
// role is empty. It is published with Registrar.Provide for other plugins.
func (p *Plugin) HasPermission(user storage.Record, role string, req Permissions) bool {
	id := ""
	if user != nil {
		id = user.ID()
		if role == "" {
			role = user.String("role")
		}
	}
	return p.allows(id, role, req)
}
