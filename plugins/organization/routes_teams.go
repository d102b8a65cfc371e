package organization

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// Team route paths (relative to the base path).
const (
	PathCreateTeam       = "/organization/create-team"
	PathRemoveTeam       = "/organization/remove-team"
	PathUpdateTeam       = "/organization/update-team"
	PathListTeams        = "/organization/list-teams"
	PathSetActiveTeam    = "/organization/set-active-team"
	PathListUserTeams    = "/organization/list-user-teams"
	PathListTeamMembers  = "/organization/list-team-members"
	PathAddTeamMember    = "/organization/add-team-member"
	PathRemoveTeamMember = "/organization/remove-team-member"
)

// Bounds of team inputs: ids are the engine's, names are display text.
const (
	maxIDLen       = 256
	maxTeamNameLen = 256
)

var teamTags = []string{"Organization", "Teams"}

// teamEndpoints lists the nine team routes (registered when teams.enabled).
func (p *Plugin) teamEndpoints() []authcore.Endpoint {
	id := func(name string) authcore.Param { return authcore.String(name).Len(1, maxIDLen) }
	team, teamMember := authcore.ModelRef(ModelTeam), authcore.ModelRef(ModelTeamMember)
	message := authcore.ObjectOf(map[string]any{"message": "string"}, "message")
	return []authcore.Endpoint{
		{Method: "POST", Path: PathCreateTeam, Auth: authcore.AuthSession, Handler: p.createTeam, Tags: teamTags,
			Summary: "Create a new team within an organization", Response: team,
			Body: []authcore.Param{authcore.String("name").Req().Len(1, maxTeamNameLen), id("organizationId")},
			Errors: []authcore.ErrorCode{CodeNoActiveOrganization, CodeYouAreNotAllowedToInviteUsersToThisOrganization,
				CodeYouAreNotAllowedToCreateTeamsInThisOrganization, CodeYouHaveReachedTheMaximumNumberOfTeams, CodeOrganizationNotFound}},
		{Method: "POST", Path: PathRemoveTeam, Auth: authcore.AuthSession, Handler: p.removeTeam, Tags: teamTags,
			Summary: "Remove a team from an organization", Response: message,
			Body: []authcore.Param{id("teamId").Req(), id("organizationId")},
			Errors: []authcore.ErrorCode{CodeNoActiveOrganization, CodeYouAreNotAllowedToDeleteThisTeam,
				CodeYouAreNotAllowedToDeleteTeamsInThisOrganization, CodeTeamNotFound, CodeUnableToRemoveLastTeam}},
		{Method: "POST", Path: PathUpdateTeam, Auth: authcore.AuthSession, Handler: p.updateTeam, Tags: teamTags,
			Summary: "Update an existing team in an organization", Response: team,
			Body:   []authcore.Param{id("teamId").Req(), authcore.Object("data").Req(), id("organizationId")},
			Errors: []authcore.ErrorCode{CodeNoActiveOrganization, CodeYouAreNotAllowedToUpdateThisTeam, CodeTeamNotFound}},
		{Method: "GET", Path: PathListTeams, Auth: authcore.AuthSession, Handler: p.listTeams, Tags: teamTags,
			Summary: "List all teams in an organization", Response: authcore.ArrayOf(team),
			Query:  []authcore.Param{id("organizationId")},
			Errors: []authcore.ErrorCode{CodeNoActiveOrganization, CodeYouAreNotAllowedToAccessThisOrganization}},
		{Method: "POST", Path: PathSetActiveTeam, Auth: authcore.AuthSession, Handler: p.setActiveTeam, Tags: teamTags,
			Summary: "Set the active team for the current active organization", BodyOptional: true,
			Response: authcore.Nullable(team),
			Body:     []authcore.Param{authcore.String("teamId").Len(0, maxIDLen).Null()},
			Errors:   []authcore.ErrorCode{CodeNoActiveOrganization, CodeTeamNotFound, CodeUserIsNotAMemberOfTheTeam}},
		{Method: "GET", Path: PathListUserTeams, Auth: authcore.AuthSession, Handler: p.listUserTeams, Tags: teamTags,
			Summary: "List the teams of a user", Response: authcore.ArrayOf(team),
			Query: []authcore.Param{id("userId"), id("organizationId")},
			Errors: []authcore.ErrorCode{CodeNoActiveOrganization, CodeYouAreNotAMemberOfThisOrganization,
				CodeYouAreNotAllowedToUpdateThisMember, CodeUserIsNotAMemberOfTheOrganization}},
		{Method: "GET", Path: PathListTeamMembers, Auth: authcore.AuthSession, Handler: p.listTeamMembers, Tags: teamTags,
			Summary: "List the members of the given team", Response: authcore.ArrayOf(teamMember),
			Query:  []authcore.Param{id("teamId")},
			Errors: []authcore.ErrorCode{CodeYouDoNotHaveAnActiveTeam, CodeTeamNotFound, CodeUserIsNotAMemberOfTheTeam}},
		{Method: "POST", Path: PathAddTeamMember, Auth: authcore.AuthSession, Handler: p.addTeamMember, Tags: teamTags,
			Summary: "Add a member of the organization to a team", Response: teamMember,
			Body: []authcore.Param{id("teamId").Req(), id("userId").Req(), id("organizationId")},
			Errors: []authcore.ErrorCode{CodeNoActiveOrganization, CodeUserIsNotAMemberOfTheOrganization,
				CodeYouAreNotAllowedToCreateANewTeamMember, CodeTeamNotFound, CodeTeamMemberLimitReached}},
		{Method: "POST", Path: PathRemoveTeamMember, Auth: authcore.AuthSession, Handler: p.removeTeamMember, Tags: teamTags,
			Summary: "Remove a member from a team", Response: message,
			Body: []authcore.Param{id("teamId").Req(), id("userId").Req(), id("organizationId")},
			Errors: []authcore.ErrorCode{CodeNoActiveOrganization, CodeUserIsNotAMemberOfTheOrganization,
				CodeYouAreNotAllowedToRemoveATeamMember, CodeTeamNotFound, CodeUserIsNotAMemberOfTheTeam}},
	}
}

// errUserNotFound is Better Auth's bare "User not found" 400 of the team-member routes.
func errUserNotFound() *authcore.Error {
	return authcore.NewError(http.StatusBadRequest, "User not found")
}

// teamSession returns the caller's session (the route requires one).
func teamSession(c *authcore.Call) (*authcore.Session, error) {
	s, err := c.RequireSession()
	if err != nil {
		return nil, err
	}
	return s, nil
}

// teamIn returns the team with that id when it belongs to orgID, else 400 TEAM_NOT_FOUND.
func (p *Plugin) teamIn(ctx context.Context, teamID, orgID string) (storage.Record, error) {
	var team storage.Record
	var err error
	if teamID != "" && orgID != "" {
		team, err = p.find(ctx, ModelTeam, storage.And(storage.ByID(teamID), storage.Eq("organizationId", orgID)))
	}
	if err == nil && team == nil {
		err = CodeTeamNotFound.With(http.StatusBadRequest)
	}
	return team, err
}

// teamMemberOf returns userID's teamMember record in teamID, or nil.
func (p *Plugin) teamMemberOf(ctx context.Context, teamID, userID string) (storage.Record, error) {
	if teamID == "" || userID == "" {
		return nil, nil
	}
	return p.find(ctx, ModelTeamMember, storage.And(storage.Eq("teamId", teamID), storage.Eq("userId", userID)))
}

// listOrgTeams returns the teams of orgID, oldest first.
func (p *Plugin) listOrgTeams(ctx context.Context, orgID string) ([]storage.Record, error) {
	recs, err := p.engine.Store().FindMany(ctx, ModelTeam, storage.Query{
		Where: storage.Eq("organizationId", orgID), Sort: []storage.SortField{{Field: "createdAt"}}})
	if err != nil {
		return nil, authcore.Internal(err)
	}
	return recs, nil
}

// teamJSON renders a team.
func (p *Plugin) teamJSON(rec storage.Record) map[string]any { return p.engine.Public(ModelTeam, rec) }

// teamMemberJSON renders a team membership.
func (p *Plugin) teamMemberJSON(rec storage.Record) map[string]any {
	return p.engine.Public(ModelTeamMember, rec)
}

func (p *Plugin) teamsToJSON(recs []storage.Record) []any {
	out := make([]any, 0, len(recs))
	for _, r := range recs {
		out = append(out, p.teamJSON(r))
	}
	return out
}

// teamsJSON renders the teams of orgID (get-full-organization's "teams").
func (p *Plugin) teamsJSON(ctx context.Context, orgID string) ([]any, error) {
	recs, err := p.listOrgTeams(ctx, orgID)
	if err != nil {
		return nil, err
	}
	return p.teamsToJSON(recs), nil
}

// createTeam: POST /organization/create-team.
func (p *Plugin) createTeam(c *authcore.Call) (any, error) {
	ctx := c.Context()
	s, err := teamSession(c)
	if err != nil {
		return nil, err
	}
	orgID, err := p.targetOrgID(ctx, s, c.Body)
	if err != nil {
		return nil, err
	}
	member, err := p.requireMember(ctx, orgID, s.UserID(), CodeYouAreNotAllowedToInviteUsersToThisOrganization, http.StatusForbidden)
	if err != nil {
		return nil, err
	}
	if err := p.requirePermission(ctx, member, Permissions{"team": {"create"}},
		CodeYouAreNotAllowedToCreateTeamsInThisOrganization, http.StatusForbidden); err != nil {
		return nil, err
	}
	if err := p.checkTeamCount(ctx, p.engine.Store(), orgID); err != nil {
		return nil, err
	}
	org, err := p.requireOrg(ctx, orgID)
	if err != nil {
		return nil, err
	}
	name := c.Body.String("name")
	if err := p.before(ctx, p.BeforeCreateTeam, &HookEvent{
		Team: storage.Record{"name": name, "organizationId": orgID}, User: s.User, Organization: org}); err != nil {
		return nil, err
	}
	id, err := p.newID()
	if err != nil {
		return nil, err
	}
	now := p.engine.Clock().Now()
	var team storage.Record
	err = p.engine.Store().Tx(ctx, func(tx storage.Adapter) error {
		// Counted again inside the write so that concurrent creations cannot pass the limit.
		if err := p.checkTeamCount(ctx, tx, orgID); err != nil {
			return err
		}
		var err error
		team, err = tx.Create(ctx, ModelTeam, storage.Record{
			"id": id, "name": name, "organizationId": orgID, "createdAt": now, "updatedAt": now})
		return err
	})
	if err != nil {
		return nil, authcore.AsError(err)
	}
	p.after(ctx, p.AfterCreateTeam, &HookEvent{Team: team, User: s.User, Organization: org})
	return p.teamJSON(team), nil
}

// checkTeamCount refuses a new team once the organization has maximum_teams.
func (p *Plugin) checkTeamCount(ctx context.Context, st storage.Adapter, orgID string) error {
	if p.Teams.MaximumTeams <= 0 {
		return nil
	}
	n, err := st.Count(ctx, ModelTeam, storage.Eq("organizationId", orgID))
	if err != nil {
		return authcore.Internal(err)
	}
	if n >= p.Teams.MaximumTeams {
		return CodeYouHaveReachedTheMaximumNumberOfTeams.With(http.StatusBadRequest)
	}
	return nil
}

// removeTeam: POST /organization/remove-team.
func (p *Plugin) removeTeam(c *authcore.Call) (any, error) {
	ctx := c.Context()
	s, err := teamSession(c)
	if err != nil {
		return nil, err
	}
	orgID, err := p.targetOrgID(ctx, s, c.Body)
	if err != nil {
		return nil, err
	}
	teamID := c.Body.String("teamId")
	member, err := p.memberOf(ctx, orgID, s.UserID())
	if err != nil {
		return nil, err
	}
	// Better Auth refuses to remove the team the caller's session has active.
	if member == nil || s.Session.String(FieldActiveTeamID) == teamID {
		return nil, CodeYouAreNotAllowedToDeleteThisTeam.With(http.StatusForbidden)
	}
	if err := p.requirePermission(ctx, member, Permissions{"team": {"delete"}},
		CodeYouAreNotAllowedToDeleteTeamsInThisOrganization, http.StatusForbidden); err != nil {
		return nil, err
	}
	team, err := p.teamIn(ctx, teamID, orgID)
	if err != nil {
		return nil, err
	}
	if err := p.checkNotLastTeam(ctx, p.engine.Store(), orgID); err != nil {
		return nil, err
	}
	org, err := p.requireOrg(ctx, orgID)
	if err != nil {
		return nil, err
	}
	if err := p.before(ctx, p.BeforeDeleteTeam, &HookEvent{Team: team, User: s.User, Organization: org}); err != nil {
		return nil, err
	}
	err = p.engine.Store().Tx(ctx, func(tx storage.Adapter) error {
		if err := p.checkNotLastTeam(ctx, tx, orgID); err != nil {
			return err
		}
		// Team members go with the team (cascade); sessions having it active lose it (set null).
		if err := tx.Delete(ctx, ModelTeam, storage.ByID(team.ID())); err != nil {
			if errors.Is(err, storage.ErrNotFound) {
				return CodeTeamNotFound.With(http.StatusBadRequest)
			}
			return err
		}
		return dropTeamFromInvitations(ctx, tx, orgID, team.ID())
	})
	if err != nil {
		return nil, authcore.AsError(err)
	}
	p.after(ctx, p.AfterDeleteTeam, &HookEvent{Team: team, User: s.User, Organization: org})
	return map[string]any{"message": "Team removed successfully."}, nil
}

// checkNotLastTeam refuses to remove the organization's last team unless
// allow_removing_all_teams is set.
func (p *Plugin) checkNotLastTeam(ctx context.Context, st storage.Adapter, orgID string) error {
	if p.Teams.AllowRemovingAllTeams {
		return nil
	}
	n, err := st.Count(ctx, ModelTeam, storage.Eq("organizationId", orgID))
	if err != nil {
		return authcore.Internal(err)
	}
	if n <= 1 {
		return CodeUnableToRemoveLastTeam.With(http.StatusBadRequest)
	}
	return nil
}

// dropTeamFromInvitations removes a deleted team from the team lists of the organization's
// pending invitations, so they stay acceptable (an emptied list makes an organization-only
// invitation), as Better Auth does.
func dropTeamFromInvitations(ctx context.Context, tx storage.Adapter, orgID, teamID string) error {
	invs, err := tx.FindMany(ctx, ModelInvitation, storage.Query{Where: storage.And(
		storage.Eq("organizationId", orgID), storage.Eq("status", StatusPending))})
	if err != nil {
		return err
	}
	for _, inv := range invs {
		ids := strings.Split(inv.String("teamId"), ",")
		if inv.String("teamId") == "" || !slices.Contains(ids, teamID) {
			continue
		}
		ids = slices.DeleteFunc(ids, func(s string) bool { return s == teamID })
		var v any
		if len(ids) > 0 {
			v = strings.Join(ids, ",")
		}
		if _, err := tx.Update(ctx, ModelInvitation, storage.ByID(inv.ID()), storage.Record{"teamId": v}); err != nil {
			return err
		}
	}
	return nil
}

// updateTeam: POST /organization/update-team. The organization is data.organizationId (as
// Better Auth reads it), else organizationId, else the active organization.
func (p *Plugin) updateTeam(c *authcore.Call) (any, error) {
	ctx := c.Context()
	s, err := teamSession(c)
	if err != nil {
		return nil, err
	}
	data := c.Body.Object("data")
	set := storage.Record{}
	if v, ok := data["name"]; ok && v != nil {
		name, ok := v.(string)
		if msg := checkTeamName(name, ok); msg != "" {
			return nil, validationError("body.data.name", msg)
		}
		set["name"] = name
	}
	ref := authcore.Values{"organizationId": c.Body.String("organizationId")}
	if v, ok := data["organizationId"]; ok && v != nil {
		id, ok := v.(string)
		if !ok || len(id) > maxIDLen {
			return nil, validationError("body.data.organizationId", "Invalid input: expected string")
		}
		if id != "" {
			ref["organizationId"] = id
		}
	}
	orgID, err := p.targetOrgID(ctx, s, ref)
	if err != nil {
		return nil, err
	}
	member, err := p.requireMember(ctx, orgID, s.UserID(), CodeYouAreNotAllowedToUpdateThisTeam, http.StatusForbidden)
	if err != nil {
		return nil, err
	}
	if err := p.requirePermission(ctx, member, Permissions{"team": {"update"}},
		CodeYouAreNotAllowedToUpdateThisTeam, http.StatusForbidden); err != nil {
		return nil, err
	}
	team, err := p.teamIn(ctx, c.Body.String("teamId"), orgID)
	if err != nil {
		return nil, err
	}
	org, err := p.requireOrg(ctx, orgID)
	if err != nil {
		return nil, err
	}
	set["updatedAt"] = p.engine.Clock().Now()
	next := team.Clone()
	next.Merge(set)
	if err := p.before(ctx, p.BeforeUpdateTeam, &HookEvent{Team: next, User: s.User, Organization: org}); err != nil {
		return nil, err
	}
	updated, err := p.engine.Store().Update(ctx, ModelTeam,
		storage.And(storage.ByID(team.ID()), storage.Eq("organizationId", orgID)), set)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, CodeTeamNotFound.With(http.StatusBadRequest)
	}
	if err != nil {
		return nil, authcore.Internal(err)
	}
	p.after(ctx, p.AfterUpdateTeam, &HookEvent{Team: updated, User: s.User, Organization: org})
	return p.teamJSON(updated), nil
}

// checkTeamName returns what is wrong with a team name ("" when nothing).
func checkTeamName(name string, isString bool) string {
	switch {
	case !isString:
		return "Invalid input: expected string"
	case name == "":
		return "Too small: expected string to have >=1 characters"
	case len([]rune(name)) > maxTeamNameLen || strings.IndexByte(name, 0) >= 0:
		return "Invalid input: not a team name"
	}
	return ""
}

// validationError is the engine's 400 VALIDATION_ERROR for a nested field it cannot see.
func validationError(field, msg string) *authcore.Error {
	return &authcore.Error{Status: http.StatusBadRequest, Code: authcore.CodeValidationError.Code,
		Message: "[" + field + "] " + msg}
}

// listTeams: GET /organization/list-teams.
func (p *Plugin) listTeams(c *authcore.Call) (any, error) {
	ctx := c.Context()
	s, err := teamSession(c)
	if err != nil {
		return nil, err
	}
	orgID, err := requestOrgID(s, c.Query, CodeNoActiveOrganization)
	if err != nil {
		return nil, err
	}
	if _, err := p.requireMember(ctx, orgID, s.UserID(), CodeYouAreNotAllowedToAccessThisOrganization, http.StatusForbidden); err != nil {
		return nil, err
	}
	return p.teamsJSON(ctx, orgID)
}

// setActiveTeam: POST /organization/set-active-team. null unsets the active team; an absent
// teamId re-checks the current one.
func (p *Plugin) setActiveTeam(c *authcore.Call) (any, error) {
	ctx := c.Context()
	s, err := teamSession(c)
	if err != nil {
		return nil, err
	}
	current := s.Session.String(FieldActiveTeamID)
	if c.Body.Has("teamId") && c.Body["teamId"] == nil {
		if current == "" {
			return nil, nil
		}
		if _, err := p.setActive(c, s, activeOrgID(s), ""); err != nil {
			return nil, err
		}
		return nil, nil
	}
	teamID := c.Body.String("teamId")
	if teamID == "" {
		if current == "" {
			return nil, nil
		}
		teamID = current
	}
	orgID := activeOrgID(s)
	if orgID == "" {
		return nil, CodeNoActiveOrganization.With(http.StatusBadRequest)
	}
	team, err := p.teamIn(ctx, teamID, orgID)
	if err != nil {
		return nil, err
	}
	tm, err := p.teamMemberOf(ctx, teamID, s.UserID())
	if err != nil {
		return nil, err
	}
	// A team membership counts only while the organization membership does.
	m, err := p.memberOf(ctx, orgID, s.UserID())
	if err != nil {
		return nil, err
	}
	if tm == nil || m == nil {
		return nil, CodeUserIsNotAMemberOfTheTeam.With(http.StatusForbidden)
	}
	if _, err := p.setActive(c, s, orgID, team.ID()); err != nil {
		return nil, err
	}
	return p.teamJSON(team), nil
}

// listUserTeams: GET /organization/list-user-teams. Without parameters: the caller's teams
// in every organization they belong to; organizationId scopes it; userId (another member)
// needs member:update in the organization.
func (p *Plugin) listUserTeams(c *authcore.Call) (any, error) {
	ctx := c.Context()
	s, err := teamSession(c)
	if err != nil {
		return nil, err
	}
	target := c.Query.String("userId")
	if target == "" {
		target = s.UserID()
	}
	explicit := c.Query.String("organizationId")
	orgID := explicit
	if orgID == "" {
		orgID = activeOrgID(s)
	}
	if target != s.UserID() {
		if orgID == "" {
			return nil, CodeNoActiveOrganization.With(http.StatusBadRequest)
		}
		me, err := p.requireMember(ctx, orgID, s.UserID(), CodeYouAreNotAMemberOfThisOrganization, http.StatusForbidden)
		if err != nil {
			return nil, err
		}
		if err := p.requirePermission(ctx, me, Permissions{"member": {"update"}},
			CodeYouAreNotAllowedToUpdateThisMember, http.StatusForbidden); err != nil {
			return nil, err
		}
		if _, err := p.requireMember(ctx, orgID, target, CodeUserIsNotAMemberOfTheOrganization, http.StatusBadRequest); err != nil {
			return nil, err
		}
		return p.userTeamsJSON(ctx, target, func(o string) (bool, error) { return o == orgID, nil })
	}
	if explicit != "" {
		if _, err := p.requireMember(ctx, explicit, s.UserID(), CodeYouAreNotAMemberOfThisOrganization, http.StatusForbidden); err != nil {
			return nil, err
		}
		return p.userTeamsJSON(ctx, target, func(o string) (bool, error) { return o == explicit, nil })
	}
	// A teamMember row alone does not reveal a team: the caller must belong to its
	// organization too.
	memberOf := map[string]bool{}
	return p.userTeamsJSON(ctx, target, func(o string) (bool, error) {
		if ok, seen := memberOf[o]; seen {
			return ok, nil
		}
		m, err := p.memberOf(ctx, o, target)
		if err != nil {
			return false, err
		}
		memberOf[o] = m != nil
		return m != nil, nil
	})
}

// userTeamsJSON renders the teams userID is in whose organization keep accepts.
func (p *Plugin) userTeamsJSON(ctx context.Context, userID string, keep func(orgID string) (bool, error)) (any, error) {
	tms, err := p.engine.Store().FindMany(ctx, ModelTeamMember, storage.Query{Where: storage.Eq("userId", userID)})
	if err != nil {
		return nil, authcore.Internal(err)
	}
	out := []any{}
	for _, tm := range tms {
		team, err := p.find(ctx, ModelTeam, storage.ByID(tm.String("teamId")))
		if err != nil {
			return nil, err
		}
		if team == nil {
			continue
		}
		ok, err := keep(team.String("organizationId"))
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, p.teamJSON(team))
		}
	}
	return out, nil
}

// listTeamMembers: GET /organization/list-team-members (the active team by default). Only
// members of the team (who are members of its organization) may list it.
func (p *Plugin) listTeamMembers(c *authcore.Call) (any, error) {
	ctx := c.Context()
	s, err := teamSession(c)
	if err != nil {
		return nil, err
	}
	teamID := c.Query.String("teamId")
	if teamID == "" {
		teamID = s.Session.String(FieldActiveTeamID)
	}
	if teamID == "" {
		return nil, CodeYouDoNotHaveAnActiveTeam.With(http.StatusBadRequest)
	}
	team, err := p.find(ctx, ModelTeam, storage.ByID(teamID))
	if err != nil {
		return nil, err
	}
	if team == nil {
		return nil, CodeTeamNotFound.With(http.StatusBadRequest)
	}
	m, err := p.memberOf(ctx, team.String("organizationId"), s.UserID())
	if err != nil {
		return nil, err
	}
	if m == nil {
		return nil, CodeUserIsNotAMemberOfTheTeam.With(http.StatusBadRequest)
	}
	tm, err := p.teamMemberOf(ctx, teamID, s.UserID())
	if err != nil {
		return nil, err
	}
	if tm == nil {
		return nil, CodeUserIsNotAMemberOfTheTeam.With(http.StatusBadRequest)
	}
	recs, err := p.engine.Store().FindMany(ctx, ModelTeamMember, storage.Query{
		Where: storage.Eq("teamId", teamID), Sort: []storage.SortField{{Field: "createdAt"}}})
	if err != nil {
		return nil, authcore.Internal(err)
	}
	out := make([]any, 0, len(recs))
	for _, r := range recs {
		out = append(out, p.teamMemberJSON(r))
	}
	return out, nil
}

// teamTarget is what add- and remove-team-member resolve before acting.
type teamTarget struct {
	org, team, user storage.Record
}

// resolveTeamTarget runs the checks add- and remove-team-member share, in Better Auth's
// order: the organization, the caller's membership and permission, the target's membership,
// the team (in that organization), the target user.
func (p *Plugin) resolveTeamTarget(c *authcore.Call, s *authcore.Session, perm string, denied authcore.ErrorCode) (*teamTarget, error) {
	ctx := c.Context()
	orgID, err := requestOrgID(s, c.Body, CodeNoActiveOrganization)
	if err != nil {
		return nil, err
	}
	me, err := p.requireMember(ctx, orgID, s.UserID(), CodeUserIsNotAMemberOfTheOrganization, http.StatusBadRequest)
	if err != nil {
		return nil, err
	}
	if err := p.requirePermission(ctx, me, Permissions{"member": {perm}}, denied, http.StatusForbidden); err != nil {
		return nil, err
	}
	userID := c.Body.String("userId")
	if _, err := p.requireMember(ctx, orgID, userID, CodeUserIsNotAMemberOfTheOrganization, http.StatusBadRequest); err != nil {
		return nil, err
	}
	team, err := p.teamIn(ctx, c.Body.String("teamId"), orgID)
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
		return nil, errUserNotFound()
	}
	return &teamTarget{org: org, team: team, user: user}, nil
}

// addTeamMember: POST /organization/add-team-member (member:update).
func (p *Plugin) addTeamMember(c *authcore.Call) (any, error) {
	ctx := c.Context()
	s, err := teamSession(c)
	if err != nil {
		return nil, err
	}
	t, err := p.resolveTeamTarget(c, s, "update", CodeYouAreNotAllowedToCreateANewTeamMember)
	if err != nil {
		return nil, err
	}
	if err := p.before(ctx, p.BeforeAddTeamMember, &HookEvent{
		TeamMember: storage.Record{"teamId": t.team.ID(), "userId": t.user.ID()},
		Team:       t.team, User: t.user, Organization: t.org}); err != nil {
		return nil, err
	}
	var tm storage.Record
	err = p.engine.Store().Tx(ctx, func(tx storage.Adapter) error {
		var err error
		tm, err = p.joinTeam(ctx, tx, t.team.ID(), t.user.ID())
		return err
	})
	if err != nil {
		return nil, authcore.AsError(err)
	}
	p.after(ctx, p.AfterAddTeamMember, &HookEvent{TeamMember: tm, Team: t.team, User: t.user, Organization: t.org})
	return p.teamMemberJSON(tm), nil
}

// joinTeam adds userID to teamID inside tx, or returns the existing membership; a full team
// (maximum_members_per_team) is 403 TEAM_MEMBER_LIMIT_REACHED.
func (p *Plugin) joinTeam(ctx context.Context, tx storage.Adapter, teamID, userID string) (storage.Record, error) {
	where := storage.And(storage.Eq("teamId", teamID), storage.Eq("userId", userID))
	existing, err := tx.FindOne(ctx, ModelTeamMember, where)
	if err == nil {
		return existing, nil
	}
	if !errors.Is(err, storage.ErrNotFound) {
		return nil, err
	}
	if max := p.Teams.MaximumMembersPerTeam; max > 0 {
		n, err := tx.Count(ctx, ModelTeamMember, storage.Eq("teamId", teamID))
		if err != nil {
			return nil, err
		}
		if n >= max {
			return nil, CodeTeamMemberLimitReached.With(http.StatusForbidden)
		}
	}
	id, err := p.newID()
	if err != nil {
		return nil, err
	}
	return tx.Create(ctx, ModelTeamMember, storage.Record{
		"id": id, "teamId": teamID, "userId": userID, "createdAt": p.engine.Clock().Now()})
}

// removeTeamMember: POST /organization/remove-team-member (member:delete).
func (p *Plugin) removeTeamMember(c *authcore.Call) (any, error) {
	ctx := c.Context()
	s, err := teamSession(c)
	if err != nil {
		return nil, err
	}
	t, err := p.resolveTeamTarget(c, s, "delete", CodeYouAreNotAllowedToRemoveATeamMember)
	if err != nil {
		return nil, err
	}
	tm, err := p.teamMemberOf(ctx, t.team.ID(), t.user.ID())
	if err != nil {
		return nil, err
	}
	if tm == nil {
		return nil, CodeUserIsNotAMemberOfTheTeam.With(http.StatusBadRequest)
	}
	if err := p.before(ctx, p.BeforeRemoveTeamMember, &HookEvent{TeamMember: tm, Team: t.team, User: t.user, Organization: t.org}); err != nil {
		return nil, err
	}
	err = p.engine.Store().Tx(ctx, func(tx storage.Adapter) error {
		if _, err := tx.DeleteMany(ctx, ModelTeamMember, storage.And(
			storage.Eq("teamId", t.team.ID()), storage.Eq("userId", t.user.ID()))); err != nil {
			return err
		}
		// The removed user's sessions no longer have that team active.
		_, err := tx.UpdateMany(ctx, authcore.ModelSession, storage.And(
			storage.Eq("userId", t.user.ID()), storage.Eq(FieldActiveTeamID, t.team.ID())),
			storage.Record{FieldActiveTeamID: nil})
		return err
	})
	if err != nil {
		return nil, authcore.Internal(err)
	}
	p.after(ctx, p.AfterRemoveTeamMember, &HookEvent{TeamMember: tm, Team: t.team, User: t.user, Organization: t.org})
	return map[string]any{"message": "Team member removed successfully."}, nil
}

// joinTeams adds userID to each of teamIDs inside tx, all or nothing with it: every team
// must belong to orgID (400 TEAM_NOT_FOUND) and have room (403 TEAM_MEMBER_LIMIT_REACHED); a
// membership that already exists is kept. Accepting an invitation with a teamId does this in
// the transaction that creates the member.
func (p *Plugin) joinTeams(ctx context.Context, tx storage.Adapter, orgID, userID string, teamIDs []string) error {
	for _, teamID := range teamIDs {
		if teamID == "" {
			return CodeTeamNotFound.With(http.StatusBadRequest)
		}
		_, err := tx.FindOne(ctx, ModelTeam, storage.And(storage.ByID(teamID), storage.Eq("organizationId", orgID)))
		if errors.Is(err, storage.ErrNotFound) {
			return CodeTeamNotFound.With(http.StatusBadRequest)
		}
		if err != nil {
			return err
		}
		if _, err := p.joinTeam(ctx, tx, teamID, userID); err != nil {
			return err
		}
	}
	return nil
}

// leaveOrgTeams removes userID from every team of orgID inside tx and unsets those teams as
// the active team of the user's sessions: a member who leaves or is removed leaves the
// organization's teams with it (Better Auth deletes the team memberships with the member).
func leaveOrgTeams(ctx context.Context, tx storage.Adapter, orgID, userID string) error {
	teams, err := tx.FindMany(ctx, ModelTeam, storage.Query{Where: storage.Eq("organizationId", orgID)})
	if err != nil || len(teams) == 0 {
		return err
	}
	ids := make([]string, len(teams))
	for i, t := range teams {
		ids[i] = t.ID()
	}
	if _, err := tx.DeleteMany(ctx, ModelTeamMember, storage.And(
		storage.Eq("userId", userID), storage.In("teamId", ids))); err != nil {
		return err
	}
	_, err = tx.UpdateMany(ctx, authcore.ModelSession, storage.And(
		storage.Eq("userId", userID), storage.In(FieldActiveTeamID, ids)),
		storage.Record{FieldActiveTeamID: nil})
	return err
}
