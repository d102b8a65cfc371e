package authcore

import (
	"context"

	"github.com/gatehouse-auth/gatehouse/storage"
)

// OrganizationID is the organization plugin's ID, under which it publishes its
// [Organizations] (Engine.Plugin(OrganizationID)).
const OrganizationID = "organization"

// AdminID is the admin plugin's ID, under which it publishes its [Admins].
const AdminID = "admin"

// OrgMembership is one user's membership in one organization, as the gateway judges and
// forwards it.
type OrgMembership struct {
	OrgID    string
	OrgSlug  string
	MemberID string
	// Roles are the member's roles: the stored comma list, split and trimmed.
	Roles []string
}

// Organizations is what the organization plugin publishes so that the gateway (route rules,
// identity headers) and other plugins can ask about memberships without importing it.
type Organizations interface {
	// Membership returns userID's membership in the organization that ref names — its id,
	// or its slug when bySlug — and false when there is no such organization or the user
	// is not a member of it. Answers may come from a short-lived cache that the plugin's
	// own writes invalidate, so a removal or a role change counts at once on this node.
	Membership(ctx context.Context, userID, ref string, bySlug bool) (OrgMembership, bool, error)
	// Allows reports whether any one of the membership's roles grants every requested
	// action (resource → actions) — built-in, configured and stored (dynamic) roles
	// alike, compared exactly, as /organization/has-permission judges them.
	Allows(ctx context.Context, m OrgMembership, perms map[string][]string) (bool, error)
}

// Admins is what the admin plugin publishes: whether a user is an administrator (listed in
// admin_user_ids or holding one of admin_roles).
type Admins interface {
	IsAdmin(user storage.Record) bool
}

// Organizations returns the organization plugin's API, or nil when it is not enabled.
func (e *Engine) Organizations() Organizations {
	o, _ := PluginAPI[Organizations](e, OrganizationID)
	return o
}

// Admins returns the admin plugin's API, or nil when it is not enabled.
func (e *Engine) Admins() Admins {
	a, _ := PluginAPI[Admins](e, AdminID)
	return a
}
