package organization

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// Dynamic access control route paths (relative to the base path).
const (
	PathCreateRole = "/organization/create-role"
	PathDeleteRole = "/organization/delete-role"
	PathListRoles  = "/organization/list-roles"
	PathGetRole    = "/organization/get-role"
	PathUpdateRole = "/organization/update-role"
)

// maxRoleNameLen bounds a role name (validName's bound).
const maxRoleNameLen = 128

var roleTags = []string{"Organization", "Access control"}

// roleEndpoints lists the five dynamic access control routes (registered when
// dynamic_access_control.enabled).
func (p *Plugin) roleEndpoints() []authcore.Endpoint {
	id := func(name string) authcore.Param { return authcore.String(name).Len(1, maxIDLen) }
	name := func(name string) authcore.Param { return authcore.String(name).Len(1, maxRoleNameLen) }
	role := roleSchema()
	return []authcore.Endpoint{
		{Method: "POST", Path: PathCreateRole, Auth: authcore.AuthSession, Handler: p.createRole, Tags: roleTags,
			Summary: "Create a role stored for an organization", Response: authcore.ObjectOf(map[string]any{"success": "boolean", "roleData": role,
				"statements": permissionsSchema()}, "success", "roleData", "statements"),
			Body: []authcore.Param{name("role").Req(), authcore.Object("permission").Req(), id("organizationId"),
				authcore.Object("additionalFields")},
			Errors: []authcore.ErrorCode{CodeYouMustBeInAnOrganizationToCreateARole, CodeRoleNameIsAlreadyTaken,
				CodeYouAreNotAMemberOfThisOrganization, CodeYouAreNotAllowedToCreateARole, CodeTooManyRoles, CodeInvalidResource}},
		{Method: "POST", Path: PathDeleteRole, Auth: authcore.AuthSession, Handler: p.deleteRole, Tags: roleTags,
			Summary: "Delete a stored role of an organization", Response: authcore.ObjectOf(map[string]any{"success": "boolean"}, "success"),
			Body: []authcore.Param{name("roleName"), id("roleId"), id("organizationId")},
			Errors: []authcore.ErrorCode{CodeNoActiveOrganization, CodeYouAreNotAMemberOfThisOrganization,
				CodeYouAreNotAllowedToDeleteARole, CodeCannotDeleteAPreDefinedRole, CodeRoleNotFound, CodeRoleIsAssignedToMembers}},
		{Method: "GET", Path: PathListRoles, Auth: authcore.AuthSession, Handler: p.listRoles, Tags: roleTags,
			Summary: "List the stored roles of an organization", Response: authcore.ArrayOf(role),
			Query:  []authcore.Param{id("organizationId")},
			Errors: []authcore.ErrorCode{CodeNoActiveOrganization, CodeYouAreNotAMemberOfThisOrganization, CodeYouAreNotAllowedToListARole}},
		{Method: "GET", Path: PathGetRole, Auth: authcore.AuthSession, Handler: p.getRole, Tags: roleTags,
			Summary: "Get a stored role of an organization", Response: role,
			Query: []authcore.Param{name("roleName"), id("roleId"), id("organizationId")},
			Errors: []authcore.ErrorCode{CodeNoActiveOrganization, CodeYouAreNotAMemberOfThisOrganization,
				CodeYouAreNotAllowedToReadARole, CodeRoleNotFound}},
		{Method: "POST", Path: PathUpdateRole, Auth: authcore.AuthSession, Handler: p.updateRole, Tags: roleTags,
			Summary: "Update a stored role of an organization", Response: authcore.ObjectOf(map[string]any{"success": "boolean", "roleData": role}, "success", "roleData"),
			Body: []authcore.Param{name("roleName"), id("roleId"), authcore.Object("data").Req(), id("organizationId")},
			Errors: []authcore.ErrorCode{CodeNoActiveOrganization, CodeYouAreNotAMemberOfThisOrganization,
				CodeYouAreNotAllowedToUpdateARole, CodeRoleNotFound, CodeInvalidResource, CodeRoleNameIsAlreadyTaken}},
	}
}

// permissionsSchema documents a resource → actions map.
func permissionsSchema() map[string]any {
	return map[string]any{"type": "object", "additionalProperties": authcore.ArrayOf("string")}
}

// roleSchema is a stored role as roleJSON renders it: the model's public JSON with permission
// parsed (null if the stored JSON is unreadable), so not the model component.
func roleSchema() map[string]any {
	return authcore.ObjectOf(map[string]any{"id": "string", "organizationId": "string", "role": "string",
		"permission": authcore.Nullable(permissionsSchema()), "createdAt": "date-time", "updatedAt": authcore.Nullable("date-time")},
		"id", "organizationId", "role", "permission", "createdAt")
}

// knownStatements are the resources and actions a stored role may grant: the default
// statements plus whatever the configured roles use.
func (p *Plugin) knownStatements() Permissions {
	out := Permissions{}
	add := func(perms Permissions) {
		for res, acts := range perms {
			for _, a := range acts {
				if !slices.Contains(out[res], a) {
					out[res] = append(out[res], a)
				}
			}
			if _, ok := out[res]; !ok {
				out[res] = []string{}
			}
		}
	}
	add(Statements)
	for _, perms := range p.roles {
		add(perms)
	}
	return out
}

// checkStatements refuses resources or actions outside the known statements (400
// INVALID_RESOURCE): an action no role can hold is as invalid as an unknown resource.
func (p *Plugin) checkStatements(perms Permissions) error {
	known := p.knownStatements()
	for res, acts := range perms {
		allowed, ok := known[res]
		if !ok {
			return CodeInvalidResource.With(http.StatusBadRequest)
		}
		for _, a := range acts {
			if !slices.Contains(allowed, a) {
				return CodeInvalidResource.With(http.StatusBadRequest)
			}
		}
	}
	return nil
}

// holdsAll reports whether the member (stored role field) holds every action of perms
// through one or another of their roles: nobody grants what they do not have.
func (p *Plugin) holdsAll(ctx context.Context, orgID, roleField string, perms Permissions) (bool, error) {
	mine, err := p.rolePermissions(ctx, orgID, splitStoredRoles(roleField))
	if err != nil {
		return false, err
	}
	for res, acts := range perms {
		for _, a := range acts {
			held := false
			for _, rp := range mine {
				if slices.Contains(rp[res], a) {
					held = true
					break
				}
			}
			if !held {
				return false, nil
			}
		}
	}
	return true, nil
}

// normalizeRoleName is Better Auth's: stored role names are lower case.
func normalizeRoleName(s string) string { return strings.ToLower(s) }

// checkNewRoleName refuses a name that is not a role name, or that a built-in or configured
// role already has (400 ROLE_NAME_IS_ALREADY_TAKEN).
func (p *Plugin) checkNewRoleName(field, name string) error {
	if !validName(name) {
		return validationError(field, "Invalid input: a role name cannot contain commas or whitespace")
	}
	if p.isStaticRole(name) {
		return CodeRoleNameIsAlreadyTaken.With(http.StatusBadRequest)
	}
	return nil
}

// roleMember resolves the organization of a role request and the caller's membership in it.
func (p *Plugin) roleMember(ctx context.Context, s *authcore.Session, orgID string, noOrg authcore.ErrorCode) (string, storage.Record, error) {
	if orgID == "" {
		orgID = activeOrgID(s)
	}
	if orgID == "" {
		return "", nil, noOrg.With(http.StatusBadRequest)
	}
	m, err := p.requireMember(ctx, orgID, s.UserID(), CodeYouAreNotAMemberOfThisOrganization, http.StatusForbidden)
	if err != nil {
		return "", nil, err
	}
	return orgID, m, nil
}

// roleJSON renders a stored role with its permission parsed.
func (p *Plugin) roleJSON(rec storage.Record) map[string]any {
	out := p.engine.Public(ModelOrganizationRole, rec)
	if perms, err := parsePermissionJSON(rec.String("permission")); err == nil {
		out["permission"] = perms
	} else {
		out["permission"] = nil
	}
	return out
}

// encodePermission is the stored (JSON string) form of a permission map; empty action lists
// stay lists.
func encodePermission(perms Permissions) (string, error) {
	clean := make(Permissions, len(perms))
	for res, acts := range perms {
		if acts == nil {
			acts = []string{}
		}
		clean[res] = acts
	}
	b, err := json.Marshal(clean)
	if err != nil {
		return "", authcore.Internal(err)
	}
	return string(b), nil
}

// roleWhere selects a stored role of orgID by name or id; ok is false when neither is given.
func roleWhere(orgID string, v authcore.Values) (storage.Where, bool) {
	org := storage.Eq("organizationId", orgID)
	if n := v.String("roleName"); n != "" {
		return storage.And(org, storage.Eq("role", n)), true
	}
	if id := v.String("roleId"); id != "" {
		return storage.And(org, storage.ByID(id)), true
	}
	return storage.Where{}, false
}

func errNoRoleRef(where string) *authcore.Error {
	return validationError(where, "Invalid input: roleName or roleId is required")
}

// createRole: POST /organization/create-role (ac:create).
func (p *Plugin) createRole(c *authcore.Call) (any, error) {
	ctx := c.Context()
	s, err := c.RequireSession()
	if err != nil {
		return nil, err
	}
	perms, err := p.parsePermissionShape("body.permission", c.Body.Object("permission"))
	if err != nil {
		return nil, err
	}
	orgID, err := requestOrgID(s, c.Body, CodeYouMustBeInAnOrganizationToCreateARole)
	if err != nil {
		return nil, err
	}
	name := normalizeRoleName(c.Body.String("role"))
	if err := p.checkNewRoleName("body.role", name); err != nil {
		return nil, err
	}
	_, member, err := p.roleMember(ctx, s, orgID, CodeYouMustBeInAnOrganizationToCreateARole)
	if err != nil {
		return nil, err
	}
	if err := p.requirePermission(ctx, member, Permissions{"ac": {"create"}}, CodeYouAreNotAllowedToCreateARole, http.StatusForbidden); err != nil {
		return nil, err
	}
	if err := p.checkRoleCount(ctx, p.engine.Store(), orgID); err != nil {
		return nil, err
	}
	if err := p.checkStatements(perms); err != nil {
		return nil, err
	}
	if ok, err := p.holdsAll(ctx, orgID, member.String("role"), perms); err != nil {
		return nil, err
	} else if !ok {
		return nil, CodeYouAreNotAllowedToCreateARole.With(http.StatusForbidden)
	}
	if taken, err := p.find(ctx, ModelOrganizationRole, storage.And(storage.Eq("organizationId", orgID), storage.Eq("role", name))); err != nil {
		return nil, err
	} else if taken != nil {
		return nil, CodeRoleNameIsAlreadyTaken.With(http.StatusBadRequest)
	}
	permJSON, err := encodePermission(perms)
	if err != nil {
		return nil, err
	}
	id, err := p.newID()
	if err != nil {
		return nil, err
	}
	now := p.engine.Clock().Now()
	var rec storage.Record
	err = p.engine.Store().Tx(ctx, func(tx storage.Adapter) error {
		if err := p.checkRoleCount(ctx, tx, orgID); err != nil {
			return err
		}
		var err error
		rec, err = tx.Create(ctx, ModelOrganizationRole, storage.Record{
			"id": id, "organizationId": orgID, "role": name, "permission": permJSON, "createdAt": now, "updatedAt": now})
		if errors.Is(err, storage.ErrDuplicate) {
			return CodeRoleNameIsAlreadyTaken.With(http.StatusBadRequest)
		}
		return err
	})
	if err != nil {
		return nil, authcore.AsError(err)
	}
	p.invalidate()
	return map[string]any{"success": true, "roleData": p.roleJSON(rec), "statements": perms}, nil
}

// parsePermissionShape reads a permission body value (resource → actions), checking only
// its JSON shape (400 VALIDATION_ERROR, as Better Auth's schema validation refuses it before
// the handler runs) and dropping duplicate actions; checkStatements checks the statements
// later, in Better Auth's order. A map larger than the known statements is refused at once.
func (p *Plugin) parsePermissionShape(field string, v map[string]any) (Permissions, error) {
	if len(v) > len(p.knownStatements()) {
		return nil, CodeInvalidResource.With(http.StatusBadRequest)
	}
	out := make(Permissions, len(v))
	for _, res := range slices.Sorted(maps.Keys(v)) {
		list, ok := v[res].([]any)
		if !ok {
			return nil, validationError(field, "Invalid input: expected an array of actions for each resource")
		}
		acts := make([]string, 0, len(list))
		for _, e := range list {
			a, ok := e.(string)
			if !ok {
				return nil, validationError(field, "Invalid input: expected an array of strings")
			}
			if !slices.Contains(acts, a) {
				acts = append(acts, a)
			}
		}
		out[res] = acts
	}
	return out, nil
}

// checkRoleCount refuses a new stored role once the organization has
// maximum_roles_per_organization.
func (p *Plugin) checkRoleCount(ctx context.Context, st storage.Adapter, orgID string) error {
	max := p.DynamicAccessControl.MaximumRolesPerOrganization
	if max <= 0 {
		return nil
	}
	n, err := st.Count(ctx, ModelOrganizationRole, storage.Eq("organizationId", orgID))
	if err != nil {
		return authcore.Internal(err)
	}
	if n >= max {
		return CodeTooManyRoles.With(http.StatusBadRequest)
	}
	return nil
}

// membersHolding returns the members of orgID whose role list holds role exactly.
func membersHolding(ctx context.Context, st storage.Adapter, orgID, role string) ([]storage.Record, error) {
	recs, err := st.FindMany(ctx, ModelMember, storage.Query{Where: storage.And(
		storage.Eq("organizationId", orgID), storage.Contains("role", role))})
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(recs, func(r storage.Record) bool { return !hasRole(r.String("role"), role) }), nil
}

// deleteRole: POST /organization/delete-role (ac:delete). A built-in or configured role
// cannot be deleted, nor a stored role some member still holds.
func (p *Plugin) deleteRole(c *authcore.Call) (any, error) {
	ctx := c.Context()
	s, err := c.RequireSession()
	if err != nil {
		return nil, err
	}
	orgID, member, err := p.roleMember(ctx, s, c.Body.String("organizationId"), CodeNoActiveOrganization)
	if err != nil {
		return nil, err
	}
	if err := p.requirePermission(ctx, member, Permissions{"ac": {"delete"}}, CodeYouAreNotAllowedToDeleteARole, http.StatusForbidden); err != nil {
		return nil, err
	}
	if n := c.Body.String("roleName"); n != "" && p.isStaticRole(n) {
		return nil, CodeCannotDeleteAPreDefinedRole.With(http.StatusBadRequest)
	}
	where, ok := roleWhere(orgID, c.Body)
	if !ok {
		return nil, errNoRoleRef("body")
	}
	err = p.engine.Store().Tx(ctx, func(tx storage.Adapter) error {
		role, err := tx.FindOne(ctx, ModelOrganizationRole, where)
		if errors.Is(err, storage.ErrNotFound) {
			return CodeRoleNotFound.With(http.StatusBadRequest)
		}
		if err != nil {
			return err
		}
		holders, err := membersHolding(ctx, tx, orgID, role.String("role"))
		if err != nil {
			return err
		}
		if len(holders) > 0 {
			return CodeRoleIsAssignedToMembers.With(http.StatusBadRequest)
		}
		return tx.Delete(ctx, ModelOrganizationRole, storage.ByID(role.ID()))
	})
	if err != nil {
		return nil, authcore.AsError(err)
	}
	p.invalidate()
	return map[string]any{"success": true}, nil
}

// listRoles: GET /organization/list-roles (ac:read).
func (p *Plugin) listRoles(c *authcore.Call) (any, error) {
	ctx := c.Context()
	s, err := c.RequireSession()
	if err != nil {
		return nil, err
	}
	orgID, member, err := p.roleMember(ctx, s, c.Query.String("organizationId"), CodeNoActiveOrganization)
	if err != nil {
		return nil, err
	}
	if err := p.requirePermission(ctx, member, Permissions{"ac": {"read"}}, CodeYouAreNotAllowedToListARole, http.StatusForbidden); err != nil {
		return nil, err
	}
	recs, err := p.engine.Store().FindMany(ctx, ModelOrganizationRole, storage.Query{
		Where: storage.Eq("organizationId", orgID), Sort: []storage.SortField{{Field: "createdAt"}}})
	if err != nil {
		return nil, authcore.Internal(err)
	}
	out := make([]any, 0, len(recs))
	for _, r := range recs {
		out = append(out, p.roleJSON(r))
	}
	return out, nil
}

// getRole: GET /organization/get-role (ac:read).
func (p *Plugin) getRole(c *authcore.Call) (any, error) {
	ctx := c.Context()
	s, err := c.RequireSession()
	if err != nil {
		return nil, err
	}
	orgID, member, err := p.roleMember(ctx, s, c.Query.String("organizationId"), CodeNoActiveOrganization)
	if err != nil {
		return nil, err
	}
	if err := p.requirePermission(ctx, member, Permissions{"ac": {"read"}}, CodeYouAreNotAllowedToReadARole, http.StatusForbidden); err != nil {
		return nil, err
	}
	where, ok := roleWhere(orgID, c.Query)
	if !ok {
		return nil, errNoRoleRef("query")
	}
	rec, err := p.find(ctx, ModelOrganizationRole, where)
	if err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, CodeRoleNotFound.With(http.StatusBadRequest)
	}
	return p.roleJSON(rec), nil
}

// updateRole: POST /organization/update-role (ac:update). New permissions must be held by
// the caller; a rename also renames the role in the organization's member and pending
// invitation role lists, so nobody silently loses it (or later gains an unrelated role that
// takes the old name).
func (p *Plugin) updateRole(c *authcore.Call) (any, error) {
	ctx := c.Context()
	s, err := c.RequireSession()
	if err != nil {
		return nil, err
	}
	data := c.Body.Object("data")
	var newPerms Permissions
	hasPerms := false
	if v, ok := data["permission"]; ok && v != nil {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, validationError("body.data.permission", "Invalid input: expected object")
		}
		if newPerms, err = p.parsePermissionShape("body.data.permission", m); err != nil {
			return nil, err
		}
		hasPerms = true
	}
	newName := ""
	if v, ok := data["roleName"]; ok && v != nil {
		n, ok := v.(string)
		if !ok || n == "" || len(n) > maxRoleNameLen {
			return nil, validationError("body.data.roleName", "Invalid input: expected a role name")
		}
		newName = normalizeRoleName(n)
	}
	orgID, member, err := p.roleMember(ctx, s, c.Body.String("organizationId"), CodeNoActiveOrganization)
	if err != nil {
		return nil, err
	}
	if err := p.requirePermission(ctx, member, Permissions{"ac": {"update"}}, CodeYouAreNotAllowedToUpdateARole, http.StatusForbidden); err != nil {
		return nil, err
	}
	where, ok := roleWhere(orgID, c.Body)
	if !ok {
		return nil, errNoRoleRef("body")
	}
	role, err := p.find(ctx, ModelOrganizationRole, where)
	if err != nil {
		return nil, err
	}
	if role == nil {
		return nil, CodeRoleNotFound.With(http.StatusBadRequest)
	}
	set := storage.Record{}
	if hasPerms {
		if err := p.checkStatements(newPerms); err != nil {
			return nil, err
		}
		if ok, err := p.holdsAll(ctx, orgID, member.String("role"), newPerms); err != nil {
			return nil, err
		} else if !ok {
			return nil, CodeYouAreNotAllowedToUpdateARole.With(http.StatusForbidden)
		}
		if set["permission"], err = encodePermission(newPerms); err != nil {
			return nil, err
		}
	}
	oldName := role.String("role")
	if newName == oldName {
		newName = ""
	}
	if newName != "" {
		if err := p.checkNewRoleName("body.data.roleName", newName); err != nil {
			return nil, err
		}
		set["role"] = newName
	}
	set["updatedAt"] = p.engine.Clock().Now()
	var updated storage.Record
	err = p.engine.Store().Tx(ctx, func(tx storage.Adapter) error {
		var err error
		updated, err = tx.Update(ctx, ModelOrganizationRole, storage.And(
			storage.ByID(role.ID()), storage.Eq("organizationId", orgID)), set)
		if errors.Is(err, storage.ErrDuplicate) {
			return CodeRoleNameIsAlreadyTaken.With(http.StatusBadRequest)
		}
		if errors.Is(err, storage.ErrNotFound) {
			return CodeRoleNotFound.With(http.StatusBadRequest)
		}
		if err != nil || newName == "" {
			return err
		}
		return renameRoleInOrg(ctx, tx, orgID, oldName, newName)
	})
	if err != nil {
		return nil, authcore.AsError(err)
	}
	p.invalidate()
	return map[string]any{"success": true, "roleData": p.roleJSON(updated)}, nil
}

// renameRoleInOrg replaces oldName with newName in the role lists of the organization's
// members and pending invitations.
func renameRoleInOrg(ctx context.Context, tx storage.Adapter, orgID, oldName, newName string) error {
	rename := func(field string) string {
		var out []string
		for _, r := range splitStoredRoles(field) {
			if r == oldName {
				r = newName
			}
			if !slices.Contains(out, r) {
				out = append(out, r)
			}
		}
		return joinRoles(out)
	}
	holders, err := membersHolding(ctx, tx, orgID, oldName)
	if err != nil {
		return err
	}
	for _, m := range holders {
		if _, err := tx.Update(ctx, ModelMember, storage.ByID(m.ID()), storage.Record{"role": rename(m.String("role"))}); err != nil {
			return err
		}
	}
	invs, err := tx.FindMany(ctx, ModelInvitation, storage.Query{Where: storage.And(
		storage.Eq("organizationId", orgID), storage.Eq("status", StatusPending), storage.Contains("role", oldName))})
	if err != nil {
		return err
	}
	for _, inv := range invs {
		if !hasRole(inv.String("role"), oldName) {
			continue
		}
		if _, err := tx.Update(ctx, ModelInvitation, storage.ByID(inv.ID()), storage.Record{"role": rename(inv.String("role"))}); err != nil {
			return err
		}
	}
	return nil
}
