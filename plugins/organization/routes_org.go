package organization

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// OrganizationInput is what CreateOrganization stores.
type OrganizationInput struct {
	Name     string
	Slug     string
	Logo     string
	Metadata map[string]any
}

// CreateOrganization creates an organization with user as its first member (creator_role)
// and runs the create and add-member hooks — the server-side form of /organization/create
// (Better Auth's createOrganization called with userId). It does not check
// disallow_user_to_create_organization or organization_limit, and sets no active
// organization.
func (p *Plugin) CreateOrganization(ctx context.Context, user storage.Record, in OrganizationInput) (org, member storage.Record, err error) {
	if user == nil || in.Name == "" || in.Slug == "" {
		return nil, nil, authcore.CodeValidationError.With(http.StatusBadRequest)
	}
	existing, err := p.orgBySlug(ctx, in.Slug)
	if err != nil {
		return nil, nil, err
	}
	if existing != nil {
		return nil, nil, CodeOrganizationAlreadyExists.With(http.StatusBadRequest)
	}
	orgID, err := p.newID()
	if err != nil {
		return nil, nil, err
	}
	memberID, err := p.newID()
	if err != nil {
		return nil, nil, err
	}
	now := p.engine.Clock().Now()
	orgRec := storage.Record{"id": orgID, "name": in.Name, "slug": in.Slug, "createdAt": now}
	if in.Logo != "" {
		orgRec["logo"] = in.Logo
	}
	if in.Metadata != nil {
		b, err := json.Marshal(in.Metadata)
		if err != nil {
			return nil, nil, authcore.CodeValidationError.With(http.StatusBadRequest)
		}
		orgRec["metadata"] = string(b)
	}
	memRec := storage.Record{"id": memberID, "organizationId": orgID, "userId": user.ID(), "role": p.creatorRole, "createdAt": now}
	if err := p.before(ctx, p.BeforeCreateOrganization, &HookEvent{Organization: orgRec.Clone(), User: user}); err != nil {
		return nil, nil, err
	}
	if err := p.before(ctx, p.BeforeAddMember, &HookEvent{Organization: orgRec.Clone(), Member: memRec.Clone(), User: user}); err != nil {
		return nil, nil, err
	}
	err = p.engine.Store().Tx(ctx, func(tx storage.Adapter) error {
		var err error
		if org, err = tx.Create(ctx, ModelOrganization, orgRec); err != nil {
			return err
		}
		member, err = tx.Create(ctx, ModelMember, memRec)
		return err
	})
	if errors.Is(err, storage.ErrDuplicate) {
		return nil, nil, CodeOrganizationAlreadyExists.With(http.StatusBadRequest)
	}
	if err != nil {
		return nil, nil, authcore.Internal(err)
	}
	p.invalidate()
	p.after(ctx, p.AfterAddMember, &HookEvent{Organization: org, Member: member, User: user})
	p.after(ctx, p.AfterCreateOrganization, &HookEvent{Organization: org, Member: member, User: user})
	return org, member, nil
}

// create is POST /organization/create.
func (p *Plugin) create(c *authcore.Call) (any, error) {
	s, err := c.RequireSession()
	if err != nil {
		return nil, err
	}
	if v, ok := c.Body["userId"]; ok && v != nil {
		// userId is Better Auth's server-only creator override: a client never picks whose
		// organization it creates.
		return nil, authcore.CodeFieldNotAllowed.With(http.StatusBadRequest)
	}
	if p.DisallowUserToCreateOrganization {
		return nil, CodeYouAreNotAllowedToCreateANewOrganization.With(http.StatusForbidden)
	}
	ctx := c.Context()
	if p.OrganizationLimit > 0 {
		n, err := p.engine.Store().Count(ctx, ModelMember, storage.Eq("userId", s.UserID()))
		if err != nil {
			return nil, authcore.Internal(err)
		}
		if n >= p.OrganizationLimit {
			return nil, CodeYouHaveReachedTheMaximumNumberOfOrganizations.With(http.StatusForbidden)
		}
	}
	in := OrganizationInput{Name: c.Body.String("name"), Slug: c.Body.String("slug"), Logo: c.Body.String("logo")}
	if c.Body.Has("metadata") && c.Body["metadata"] != nil {
		in.Metadata = c.Body.Object("metadata")
	}
	org, member, err := p.CreateOrganization(ctx, s.User, in)
	if err != nil {
		return nil, err
	}
	if !c.Body.Bool("keepCurrentActiveOrganization") {
		if _, err := p.setActive(c, s, org.ID(), ""); err != nil {
			return nil, err
		}
	}
	out := p.orgJSON(org)
	out["members"] = []any{p.memberJSON(member)}
	return out, nil
}

// checkSlug is POST /organization/check-slug.
func (p *Plugin) checkSlug(c *authcore.Call) (any, error) {
	org, err := p.orgBySlug(c.Context(), c.Body.String("slug"))
	if err != nil {
		return nil, err
	}
	if org != nil {
		return nil, CodeOrganizationSlugAlreadyTaken.With(http.StatusBadRequest)
	}
	return map[string]any{"status": true}, nil
}

// errValidation is a 400 VALIDATION_ERROR naming a body field.
func errValidation(field, problem string) *authcore.Error {
	return &authcore.Error{Status: http.StatusBadRequest, Code: authcore.CodeValidationError.Code,
		Message: "[body." + field + "] " + problem}
}

// update is POST /organization/update.
func (p *Plugin) update(c *authcore.Call) (any, error) {
	s, err := c.RequireSession()
	if err != nil {
		return nil, err
	}
	ctx := c.Context()
	orgID, err := requestOrgID(s, c.Body, CodeOrganizationNotFound)
	if err != nil {
		return nil, err
	}
	member, err := p.requireMember(ctx, orgID, s.UserID(), CodeUserIsNotAMemberOfTheOrganization, http.StatusForbidden)
	if err != nil {
		return nil, err
	}
	if err := p.requirePermission(ctx, member, Permissions{"organization": {"update"}}, CodeYouAreNotAllowedToUpdateThisOrganization, http.StatusForbidden); err != nil {
		return nil, err
	}
	data := c.Body.Object("data")
	set := storage.Record{}
	for _, f := range []string{"name", "slug"} {
		if v, ok := data[f]; ok {
			str, isStr := v.(string)
			if !isStr || str == "" || len(str) > 255 && f == "slug" || len(str) > 8192 {
				return nil, errValidation("data."+f, "Invalid input: expected a non-empty string")
			}
			set[f] = str
		}
	}
	if v, ok := data["logo"]; ok {
		switch x := v.(type) {
		case nil:
			set["logo"] = nil
		case string:
			if len(x) > 8192 {
				return nil, errValidation("data.logo", "Too big")
			}
			set["logo"] = x
		default:
			return nil, errValidation("data.logo", "Invalid input: expected string")
		}
	}
	if v, ok := data["metadata"]; ok {
		m, isObj := v.(map[string]any)
		if !isObj {
			return nil, errValidation("data.metadata", "Invalid input: expected record")
		}
		b, err := json.Marshal(m)
		if err != nil {
			return nil, errValidation("data.metadata", "Invalid input")
		}
		set["metadata"] = string(b)
	}
	if slug, ok := set["slug"].(string); ok {
		other, err := p.orgBySlug(ctx, slug)
		if err != nil {
			return nil, err
		}
		if other != nil && other.ID() != orgID {
			return nil, CodeOrganizationSlugAlreadyTaken.With(http.StatusBadRequest)
		}
	}
	if err := p.before(ctx, p.BeforeUpdateOrganization, &HookEvent{Organization: set.Clone(), Member: member, User: s.User}); err != nil {
		return nil, err
	}
	var org storage.Record
	if len(set) == 0 {
		org, err = p.requireOrg(ctx, orgID)
	} else {
		org, err = p.engine.Store().Update(ctx, ModelOrganization, storage.ByID(orgID), set)
		switch {
		case errors.Is(err, storage.ErrDuplicate):
			err = CodeOrganizationSlugAlreadyTaken.With(http.StatusBadRequest)
		case errors.Is(err, storage.ErrNotFound):
			err = CodeOrganizationNotFound.With(http.StatusBadRequest)
		case err != nil:
			err = authcore.Internal(err)
		}
		p.invalidate()
	}
	if err != nil {
		return nil, err
	}
	p.after(ctx, p.AfterUpdateOrganization, &HookEvent{Organization: org, Member: member, User: s.User})
	return p.orgJSON(org), nil
}

// delete is POST /organization/delete.
func (p *Plugin) delete(c *authcore.Call) (any, error) {
	if p.DisableOrganizationDeletion {
		return nil, CodeOrganizationDeletionDisabled.With(http.StatusNotFound)
	}
	s, err := c.RequireSession()
	if err != nil {
		return nil, err
	}
	ctx := c.Context()
	orgID := c.Body.String("organizationId")
	if orgID == "" {
		return nil, CodeOrganizationNotFound.With(http.StatusBadRequest)
	}
	member, err := p.requireMember(ctx, orgID, s.UserID(), CodeUserIsNotAMemberOfTheOrganization, http.StatusForbidden)
	if err != nil {
		return nil, err
	}
	if err := p.requirePermission(ctx, member, Permissions{"organization": {"delete"}}, CodeYouAreNotAllowedToDeleteThisOrganization, http.StatusForbidden); err != nil {
		return nil, err
	}
	org, err := p.requireOrg(ctx, orgID)
	if err != nil {
		return nil, err
	}
	if err := p.before(ctx, p.BeforeDeleteOrganization, &HookEvent{Organization: org, User: s.User}); err != nil {
		return nil, err
	}
	// No session keeps the deleted organization active (storage's set-null would too, but
	// it bypasses the session cache).
	if err := p.clearActiveOrg(ctx, orgID, ""); err != nil {
		return nil, err
	}
	err = p.engine.Store().Delete(ctx, ModelOrganization, storage.ByID(orgID))
	p.invalidate()
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return nil, authcore.Internal(err)
	}
	if activeOrgID(s) == orgID {
		if _, err := p.setActive(c, s, "", ""); err != nil {
			return nil, err
		}
	}
	p.after(ctx, p.AfterDeleteOrganization, &HookEvent{Organization: org, User: s.User})
	return p.orgJSON(org), nil
}

// setActiveRoute is POST /organization/set-active.
func (p *Plugin) setActiveRoute(c *authcore.Call) (any, error) {
	s, err := c.RequireSession()
	if err != nil {
		return nil, err
	}
	ctx := c.Context()
	if v, ok := c.Body["organizationId"]; ok && v == nil {
		if activeOrgID(s) == "" {
			return nil, nil
		}
		if _, err := p.setActive(c, s, "", ""); err != nil {
			return nil, err
		}
		return nil, nil
	}
	orgID, slug := c.Body.String("organizationId"), c.Body.String("organizationSlug")
	var org storage.Record
	switch {
	case orgID != "":
		org, err = p.orgByID(ctx, orgID)
	case slug != "":
		org, err = p.orgBySlug(ctx, slug)
	default:
		orgID = activeOrgID(s)
		if orgID == "" {
			return nil, nil
		}
		org, err = p.orgByID(ctx, orgID)
	}
	if err != nil {
		return nil, err
	}
	if org == nil {
		return nil, CodeOrganizationNotFound.With(http.StatusBadRequest)
	}
	if _, err := p.requireMember(ctx, org.ID(), s.UserID(), CodeUserIsNotAMemberOfTheOrganization, http.StatusForbidden); err != nil {
		return nil, err
	}
	if _, err := p.setActive(c, s, org.ID(), ""); err != nil {
		return nil, err
	}
	return p.orgJSON(org), nil
}

// readableOrg resolves the organization of a get-organization style query (organizationSlug,
// organizationId, or the active one) and checks the caller is a member. It returns nil when
// nothing names an organization.
func (p *Plugin) readableOrg(c *authcore.Call, s *authcore.Session) (storage.Record, error) {
	ctx := c.Context()
	var org storage.Record
	var err error
	switch {
	case c.Query.String("organizationSlug") != "":
		org, err = p.orgBySlug(ctx, c.Query.String("organizationSlug"))
	case c.Query.String("organizationId") != "":
		org, err = p.orgByID(ctx, c.Query.String("organizationId"))
	case activeOrgID(s) != "":
		org, err = p.orgByID(ctx, activeOrgID(s))
	default:
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if org == nil {
		return nil, CodeOrganizationNotFound.With(http.StatusBadRequest)
	}
	if _, err := p.requireMember(ctx, org.ID(), s.UserID(), CodeUserIsNotAMemberOfTheOrganization, http.StatusForbidden); err != nil {
		return nil, err
	}
	return org, nil
}

// getOrganization is GET /organization/get-organization.
func (p *Plugin) getOrganization(c *authcore.Call) (any, error) {
	s, err := c.RequireSession()
	if err != nil {
		return nil, err
	}
	org, err := p.readableOrg(c, s)
	if err != nil || org == nil {
		return nil, err
	}
	return p.orgJSON(org), nil
}

// getFullOrganization is GET /organization/get-full-organization.
func (p *Plugin) getFullOrganization(c *authcore.Call) (any, error) {
	s, err := c.RequireSession()
	if err != nil {
		return nil, err
	}
	org, err := p.readableOrg(c, s)
	if err != nil || org == nil {
		return nil, err
	}
	ctx := c.Context()
	caller, err := p.memberOf(ctx, org.ID(), s.UserID())
	if err != nil {
		return nil, err
	}
	if caller == nil {
		return nil, CodeUserIsNotAMemberOfTheOrganization.With(http.StatusForbidden)
	}
	limit := p.membershipMax
	if v := c.Query.String("membersLimit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, &authcore.Error{Status: http.StatusBadRequest, Code: authcore.CodeValidationError.Code,
				Message: "[query.membersLimit] Invalid input: expected number"}
		}
		limit = n
	}
	members, err := p.membersWithUsers(ctx, storage.Query{Where: storage.Eq("organizationId", org.ID()),
		Sort: []storage.SortField{{Field: "createdAt"}}, Limit: limit})
	if err != nil {
		return nil, err
	}
	invitations, _, err := p.visibleInvitations(ctx, caller)
	if err != nil {
		return nil, err
	}
	out := p.orgJSON(org)
	out["members"] = members
	out["invitations"] = invitations
	if p.Teams.Enabled {
		teams, err := p.teamsJSON(ctx, org.ID())
		if err != nil {
			return nil, err
		}
		out["teams"] = teams
	}
	return out, nil
}

// membersWithUsers lists members matching q, each with user{id,name,email,image}.
func (p *Plugin) membersWithUsers(ctx context.Context, q storage.Query) ([]any, error) {
	recs, err := p.engine.Store().FindMany(ctx, ModelMember, q)
	if err != nil {
		return nil, authcore.Internal(err)
	}
	ids := make([]string, 0, len(recs))
	for _, m := range recs {
		ids = append(ids, m.String("userId"))
	}
	users := map[string]storage.Record{}
	if len(ids) > 0 {
		us, err := p.engine.Store().FindMany(ctx, authcore.ModelUser, storage.Query{Where: storage.In("id", ids)})
		if err != nil {
			return nil, authcore.Internal(err)
		}
		for _, u := range us {
			users[u.ID()] = u
		}
	}
	out := make([]any, 0, len(recs))
	for _, m := range recs {
		j := p.memberJSON(m)
		j["user"] = userBrief(users[m.String("userId")])
		out = append(out, j)
	}
	return out, nil
}

// list is GET /organization/list.
func (p *Plugin) list(c *authcore.Call) (any, error) {
	s, err := c.RequireSession()
	if err != nil {
		return nil, err
	}
	ctx := c.Context()
	mems, err := p.engine.Store().FindMany(ctx, ModelMember, storage.Query{Where: storage.Eq("userId", s.UserID())})
	if err != nil {
		return nil, authcore.Internal(err)
	}
	out := []any{}
	if len(mems) == 0 {
		return out, nil
	}
	ids := make([]string, 0, len(mems))
	for _, m := range mems {
		ids = append(ids, m.String("organizationId"))
	}
	orgs, err := p.engine.Store().FindMany(ctx, ModelOrganization, storage.Query{Where: storage.In("id", ids),
		Sort: []storage.SortField{{Field: "createdAt"}}})
	if err != nil {
		return nil, authcore.Internal(err)
	}
	for _, o := range orgs {
		out = append(out, p.orgJSON(o))
	}
	return out, nil
}
