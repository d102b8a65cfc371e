package organization

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// errLastOwner is the answer when a change would leave an organization without an owner.
var errLastOwner = errors.New("last owner")

// AddMember adds userID to the organization with the given roles (each exactly a known
// role) and runs the add-member hooks — Better Auth's server-only addMember. It enforces
// membership_limit; a user already a member is USER_IS_ALREADY_A_MEMBER_OF_THIS_ORGANIZATION.
func (p *Plugin) AddMember(ctx context.Context, orgID, userID string, roles []string) (storage.Record, error) {
	parsed := make([]any, len(roles))
	for i, r := range roles {
		parsed[i] = r
	}
	rs, err := p.parseRoleInput(ctx, orgID, parsed)
	if err != nil {
		return nil, err
	}
	org, err := p.requireOrg(ctx, orgID)
	if err != nil {
		return nil, err
	}
	user, err := p.userByID(ctx, userID)
	if err != nil {
		return nil, err
	}
	if user == nil {
		return nil, authcore.CodeUserNotFound.With(http.StatusBadRequest)
	}
	return p.addMember(ctx, org, user, joinRoles(rs), nil)
}

// addMember stores a membership after the checks and hooks: already a member, the
// membership limit (counted inside the write transaction), then inTx (may be nil) runs in
// the same transaction — accept-invitation marks its invitation there.
func (p *Plugin) addMember(ctx context.Context, org, user storage.Record, role string, inTx func(tx storage.Adapter) error) (storage.Record, error) {
	id, err := p.newID()
	if err != nil {
		return nil, err
	}
	rec := storage.Record{"id": id, "organizationId": org.ID(), "userId": user.ID(), "role": role,
		"createdAt": p.engine.Clock().Now()}
	existing, err := p.memberOf(ctx, org.ID(), user.ID())
	if err != nil {
		return nil, err
	}
	if existing != nil {
		return nil, CodeUserIsAlreadyAMemberOfThisOrganization.With(http.StatusBadRequest)
	}
	if err := p.before(ctx, p.BeforeAddMember, &HookEvent{Organization: org, Member: rec.Clone(), User: user}); err != nil {
		return nil, err
	}
	var member storage.Record
	err = p.engine.Store().Tx(ctx, func(tx storage.Adapter) error {
		n, err := tx.Count(ctx, ModelMember, storage.Eq("organizationId", org.ID()))
		if err != nil {
			return err
		}
		if n >= p.membershipMax {
			return CodeOrganizationMembershipLimitReached.With(http.StatusForbidden)
		}
		if inTx != nil {
			if err := inTx(tx); err != nil {
				return err
			}
		}
		member, err = tx.Create(ctx, ModelMember, rec)
		return err
	})
	p.invalidate()
	if errors.Is(err, storage.ErrDuplicate) {
		return nil, CodeUserIsAlreadyAMemberOfThisOrganization.With(http.StatusBadRequest)
	}
	if err != nil {
		return nil, authcore.AsError(err)
	}
	p.after(ctx, p.AfterAddMember, &HookEvent{Organization: org, Member: member, User: user})
	return member, nil
}

// deleteMemberGuarded deletes a membership unless it would leave the organization without
// an owner (checked in the same transaction, so two owners cannot remove each other at
// once).
func (p *Plugin) deleteMemberGuarded(ctx context.Context, member storage.Record) error {
	err := p.engine.Store().Tx(ctx, func(tx storage.Adapter) error {
		if p.isOwner(member.String("role")) {
			n, err := p.ownersIn(ctx, tx, member.String("organizationId"))
			if err != nil {
				return err
			}
			if n <= 1 {
				return errLastOwner
			}
		}
		if err := tx.Delete(ctx, ModelMember, storage.ByID(member.ID())); err != nil {
			return err
		}
		return leaveOrgTeams(ctx, tx, member.String("organizationId"), member.String("userId"))
	})
	p.invalidate()
	switch {
	case errors.Is(err, errLastOwner):
		return CodeYouCannotLeaveTheOrganizationAsTheOnlyOwner.With(http.StatusBadRequest)
	case errors.Is(err, storage.ErrNotFound):
		return CodeMemberNotFound.With(http.StatusBadRequest)
	case err != nil:
		return authcore.Internal(err)
	}
	return nil
}

// ownersIn counts the owners of an organization through a (transaction's) adapter.
func (p *Plugin) ownersIn(ctx context.Context, a storage.Adapter, orgID string) (int, error) {
	recs, err := a.FindMany(ctx, ModelMember, storage.Query{Where: storage.Eq("organizationId", orgID)})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range recs {
		if p.isOwner(r.String("role")) {
			n++
		}
	}
	return n, nil
}

// forgetActive unsets orgID as the active organization of userID's sessions, re-issuing the
// caller's cookies when the caller is that user.
func (p *Plugin) forgetActive(c *authcore.Call, s *authcore.Session, orgID, userID string) error {
	if err := p.clearActiveOrg(c.Context(), orgID, userID); err != nil {
		return err
	}
	if userID == s.UserID() && activeOrgID(s) == orgID {
		_, err := p.setActive(c, s, "", "")
		return err
	}
	return nil
}

// removeMember is POST /organization/remove-member.
func (p *Plugin) removeMember(c *authcore.Call) (any, error) {
	s, err := c.RequireSession()
	if err != nil {
		return nil, err
	}
	ctx := c.Context()
	orgID, err := requestOrgID(s, c.Body, CodeNoActiveOrganization)
	if err != nil {
		return nil, err
	}
	caller, err := p.requireMember(ctx, orgID, s.UserID(), CodeMemberNotFound, http.StatusBadRequest)
	if err != nil {
		return nil, err
	}
	if err := p.requirePermission(ctx, caller, Permissions{"member": {"delete"}}, CodeYouAreNotAllowedToDeleteThisMember, http.StatusUnauthorized); err != nil {
		return nil, err
	}
	ref := c.Body.String("memberIdOrEmail")
	var target storage.Record
	if strings.Contains(ref, "@") {
		u, err := p.engine.UserByEmail(ctx, ref)
		if err != nil {
			return nil, authcore.AsError(err)
		}
		if u != nil {
			target, err = p.memberOf(ctx, orgID, u.ID())
		}
		if err != nil {
			return nil, err
		}
	} else {
		target, err = p.memberByID(ctx, ref)
		if err != nil {
			return nil, err
		}
	}
	if target == nil || target.String("organizationId") != orgID {
		return nil, CodeMemberNotFound.With(http.StatusBadRequest)
	}
	// Only an owner removes an owner (ORG-01: admins cannot remove owners).
	if p.isOwner(target.String("role")) && !p.isOwner(caller.String("role")) {
		return nil, CodeYouAreNotAllowedToDeleteThisMember.With(http.StatusForbidden)
	}
	org, err := p.requireOrg(ctx, orgID)
	if err != nil {
		return nil, err
	}
	user, err := p.userByID(ctx, target.String("userId"))
	if err != nil {
		return nil, err
	}
	ev := &HookEvent{Organization: org, Member: target, User: user}
	if err := p.before(ctx, p.BeforeRemoveMember, ev); err != nil {
		return nil, err
	}
	if err := p.deleteMemberGuarded(ctx, target); err != nil {
		return nil, err
	}
	if err := p.forgetActive(c, s, orgID, target.String("userId")); err != nil {
		return nil, err
	}
	p.after(ctx, p.AfterRemoveMember, ev)
	return map[string]any{"member": p.memberJSON(target)}, nil
}

// updateMemberRole is POST /organization/update-member-role.
func (p *Plugin) updateMemberRole(c *authcore.Call) (any, error) {
	s, err := c.RequireSession()
	if err != nil {
		return nil, err
	}
	ctx := c.Context()
	orgID, err := requestOrgID(s, c.Body, CodeNoActiveOrganization)
	if err != nil {
		return nil, err
	}
	caller, err := p.requireMember(ctx, orgID, s.UserID(), CodeMemberNotFound, http.StatusBadRequest)
	if err != nil {
		return nil, err
	}
	target := caller
	if id := c.Body.String("memberId"); id != caller.ID() {
		if target, err = p.memberByID(ctx, id); err != nil {
			return nil, err
		}
	}
	if target == nil {
		return nil, CodeMemberNotFound.With(http.StatusBadRequest)
	}
	if target.String("organizationId") != orgID {
		return nil, CodeYouAreNotAllowedToUpdateThisMember.With(http.StatusForbidden)
	}
	roles, err := p.parseRoleInput(ctx, orgID, c.Body["role"])
	if err != nil {
		return nil, err
	}
	callerRole := caller.String("role")
	callerIsOwner := p.isOwner(callerRole)
	if !callerIsOwner {
		// Only owners touch owners or hand out the owner role (ORG-01).
		if p.isOwner(target.String("role")) || contains(roles, p.creatorRole) {
			return nil, CodeYouAreNotAllowedToUpdateThisMember.With(http.StatusForbidden)
		}
		if err := p.requirePermission(ctx, caller, Permissions{"member": {"update"}}, CodeYouAreNotAllowedToUpdateThisMember, http.StatusForbidden); err != nil {
			return nil, err
		}
		// Nobody hands out (to others or themselves) more than they hold.
		ok, err := p.canGrant(ctx, orgID, callerRole, roles)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, CodeYouAreNotAllowedToUpdateThisMember.With(http.StatusForbidden)
		}
	}
	org, err := p.requireOrg(ctx, orgID)
	if err != nil {
		return nil, err
	}
	user, err := p.userByID(ctx, target.String("userId"))
	if err != nil {
		return nil, err
	}
	newRole, previous := joinRoles(roles), target.String("role")
	if err := p.before(ctx, p.BeforeUpdateMemberRole, &HookEvent{Organization: org, Member: target, User: user, NewRole: newRole, PreviousRole: previous}); err != nil {
		return nil, err
	}
	var updated storage.Record
	err = p.engine.Store().Tx(ctx, func(tx storage.Adapter) error {
		if p.isOwner(previous) && !contains(roles, p.creatorRole) {
			n, err := p.ownersIn(ctx, tx, orgID)
			if err != nil {
				return err
			}
			if n <= 1 {
				return errLastOwner
			}
		}
		var err error
		updated, err = tx.Update(ctx, ModelMember, storage.ByID(target.ID()), storage.Record{"role": newRole})
		return err
	})
	p.invalidate()
	switch {
	case errors.Is(err, errLastOwner):
		return nil, CodeYouCannotLeaveTheOrganizationWithoutAnOwner.With(http.StatusBadRequest)
	case errors.Is(err, storage.ErrNotFound):
		return nil, CodeMemberNotFound.With(http.StatusBadRequest)
	case err != nil:
		return nil, authcore.Internal(err)
	}
	p.after(ctx, p.AfterUpdateMemberRole, &HookEvent{Organization: org, Member: updated, User: user, NewRole: newRole, PreviousRole: previous})
	return p.memberJSON(updated), nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// leave is POST /organization/leave.
func (p *Plugin) leave(c *authcore.Call) (any, error) {
	s, err := c.RequireSession()
	if err != nil {
		return nil, err
	}
	ctx := c.Context()
	orgID := c.Body.String("organizationId")
	member, err := p.requireMember(ctx, orgID, s.UserID(), CodeMemberNotFound, http.StatusBadRequest)
	if err != nil {
		return nil, err
	}
	if err := p.deleteMemberGuarded(ctx, member); err != nil {
		return nil, err
	}
	if err := p.forgetActive(c, s, orgID, s.UserID()); err != nil {
		return nil, err
	}
	return p.memberJSON(member), nil
}

// getActiveMember is GET /organization/get-active-member.
func (p *Plugin) getActiveMember(c *authcore.Call) (any, error) {
	s, err := c.RequireSession()
	if err != nil {
		return nil, err
	}
	orgID := activeOrgID(s)
	if orgID == "" {
		return nil, CodeNoActiveOrganization.With(http.StatusBadRequest)
	}
	member, err := p.requireMember(c.Context(), orgID, s.UserID(), CodeMemberNotFound, http.StatusBadRequest)
	if err != nil {
		return nil, err
	}
	out := p.memberJSON(member)
	out["user"] = userBrief(s.User)
	return out, nil
}

// getActiveMemberRole is GET /organization/get-active-member-role.
func (p *Plugin) getActiveMemberRole(c *authcore.Call) (any, error) {
	s, err := c.RequireSession()
	if err != nil {
		return nil, err
	}
	ctx := c.Context()
	orgID, err := p.targetOrgID(ctx, s, c.Query)
	if err != nil {
		return nil, err
	}
	caller, err := p.requireMember(ctx, orgID, s.UserID(), CodeYouAreNotAMemberOfThisOrganization, http.StatusForbidden)
	if err != nil {
		return nil, err
	}
	uid := c.Query.String("userId")
	if uid == "" || uid == s.UserID() {
		return map[string]any{"role": caller.String("role")}, nil
	}
	m, err := p.requireMember(ctx, orgID, uid, CodeYouAreNotAMemberOfThisOrganization, http.StatusForbidden)
	if err != nil {
		return nil, err
	}
	return map[string]any{"role": m.String("role")}, nil
}

// memberListFields are the member fields list-members sorts and filters on.
var memberListFields = map[string]bool{"id": true, "userId": true, "role": true, "createdAt": true}

// listMembers is GET /organization/list-members.
func (p *Plugin) listMembers(c *authcore.Call) (any, error) {
	s, err := c.RequireSession()
	if err != nil {
		return nil, err
	}
	ctx := c.Context()
	orgID, err := p.targetOrgID(ctx, s, c.Query)
	if err != nil {
		return nil, err
	}
	if _, err := p.requireMember(ctx, orgID, s.UserID(), CodeYouAreNotAMemberOfThisOrganization, http.StatusForbidden); err != nil {
		return nil, err
	}
	q := c.Query
	bad := func(field string) *authcore.Error {
		return &authcore.Error{Status: http.StatusBadRequest, Code: authcore.CodeValidationError.Code,
			Message: "[query." + field + "] Invalid input"}
	}
	limit, offset := 0, 0
	if v := q.String("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, bad("limit")
		}
		limit = n
	}
	if v := q.String("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, bad("offset")
		}
		offset = n
	}
	where := storage.Eq("organizationId", orgID)
	if f := q.String("filterField"); f != "" {
		if !memberListFields[f] {
			return nil, bad("filterField")
		}
		w, ok := filterClause(f, q.String("filterOperator"), q["filterValue"])
		if !ok {
			return nil, bad("filterOperator")
		}
		where = storage.And(where, w)
	}
	var sortBy []storage.SortField
	if f := q.String("sortBy"); f != "" {
		if !memberListFields[f] {
			return nil, bad("sortBy")
		}
		dir := q.String("sortDirection")
		if dir != "" && dir != "asc" && dir != "desc" {
			return nil, bad("sortDirection")
		}
		sortBy = []storage.SortField{{Field: f, Desc: dir == "desc"}}
	} else {
		sortBy = []storage.SortField{{Field: "createdAt"}}
	}
	total, err := p.engine.Store().Count(ctx, ModelMember, where)
	if err != nil {
		return nil, authcore.Internal(err)
	}
	members, err := p.membersWithUsers(ctx, storage.Query{Where: where, Sort: sortBy, Limit: limit, Offset: offset})
	if err != nil {
		return nil, err
	}
	return map[string]any{"members": members, "total": total}, nil
}

// filterClause builds a list-members filter. Values are compared as strings (createdAt
// filters take an RFC 3339 date).
func filterClause(field, op string, raw any) (storage.Where, bool) {
	var vals []string
	switch x := raw.(type) {
	case string:
		vals = []string{x}
	case []any:
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return storage.Where{}, false
			}
			vals = append(vals, s)
		}
	case []string:
		vals = x
	default:
		return storage.Where{}, false
	}
	if len(vals) == 0 {
		return storage.Where{}, false
	}
	var v any = vals[0]
	if field == "createdAt" {
		t, err := parseTime(vals[0])
		if err != nil {
			return storage.Where{}, false
		}
		v = t
	}
	switch op {
	case "", "eq":
		return storage.Eq(field, v), true
	case "ne":
		return storage.Ne(field, v), true
	case "lt":
		return storage.Lt(field, v), true
	case "lte":
		return storage.Lte(field, v), true
	case "gt":
		return storage.Gt(field, v), true
	case "gte":
		return storage.Gte(field, v), true
	case "in", "not_in":
		if field == "createdAt" {
			return storage.Where{}, false
		}
		if op == "in" {
			return storage.In(field, vals), true
		}
		return storage.NotIn(field, vals), true
	case "contains":
		return storage.Contains(field, vals[0]), field != "createdAt"
	case "starts_with":
		return storage.StartsWith(field, vals[0]), field != "createdAt"
	case "ends_with":
		return storage.EndsWith(field, vals[0]), field != "createdAt"
	}
	return storage.Where{}, false
}

// hasPermission is POST /organization/has-permission.
func (p *Plugin) hasPermission(c *authcore.Call) (any, error) {
	s, err := c.RequireSession()
	if err != nil {
		return nil, err
	}
	ctx := c.Context()
	orgID, err := requestOrgID(s, c.Body, CodeNoActiveOrganization)
	if err != nil {
		return nil, err
	}
	member, err := p.requireMember(ctx, orgID, s.UserID(), CodeUserIsNotAMemberOfTheOrganization, http.StatusUnauthorized)
	if err != nil {
		return nil, err
	}
	raw := c.Body.Object("permissions")
	if raw == nil {
		raw = c.Body.Object("permission")
	}
	if len(raw) == 0 {
		return nil, authcore.NewError(http.StatusBadRequest, "invalid permission check. no permission(s) were passed.")
	}
	req := Permissions{}
	for res, v := range raw {
		list, ok := v.([]any)
		if !ok {
			return nil, errValidation("permissions."+res, "Invalid input: expected array")
		}
		for _, a := range list {
			str, ok := a.(string)
			if !ok {
				return nil, errValidation("permissions."+res, "Invalid input: expected string")
			}
			req[res] = append(req[res], str)
		}
	}
	ok, err := p.allows(ctx, orgID, member.String("role"), req)
	if err != nil {
		return nil, err
	}
	return map[string]any{"error": nil, "success": ok}, nil
}

// parseTime reads an RFC 3339 date.
func parseTime(s string) (time.Time, error) { return time.Parse(time.RFC3339Nano, s) }
