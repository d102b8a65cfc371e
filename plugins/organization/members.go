package organization

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// Helpers every route uses: finding organizations and memberships, resolving the target
// organization of a request, the caller's active organization, JSON shapes and hooks.

// find returns the first record matching where, or nil when there is none.
func (p *Plugin) find(ctx context.Context, model string, where storage.Where) (storage.Record, error) {
	rec, err := p.engine.Store().FindOne(ctx, model, where)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, authcore.Internal(err)
	}
	return rec, nil
}

// orgByID returns the organization or nil.
func (p *Plugin) orgByID(ctx context.Context, id string) (storage.Record, error) {
	if id == "" {
		return nil, nil
	}
	return p.find(ctx, ModelOrganization, storage.ByID(id))
}

// requireOrg returns the organization, or 400 ORGANIZATION_NOT_FOUND when there is none.
func (p *Plugin) requireOrg(ctx context.Context, id string) (storage.Record, error) {
	org, err := p.orgByID(ctx, id)
	if err == nil && org == nil {
		err = CodeOrganizationNotFound.With(http.StatusBadRequest)
	}
	return org, err
}

// orgBySlug returns the organization with that exact slug or nil.
func (p *Plugin) orgBySlug(ctx context.Context, slug string) (storage.Record, error) {
	if slug == "" {
		return nil, nil
	}
	return p.find(ctx, ModelOrganization, storage.Eq("slug", slug))
}

// memberOf returns userID's member record in orgID, or nil.
func (p *Plugin) memberOf(ctx context.Context, orgID, userID string) (storage.Record, error) {
	if orgID == "" || userID == "" {
		return nil, nil
	}
	return p.find(ctx, ModelMember, storage.And(storage.Eq("organizationId", orgID), storage.Eq("userId", userID)))
}

// memberByID returns the member record with that id, or nil.
func (p *Plugin) memberByID(ctx context.Context, id string) (storage.Record, error) {
	if id == "" {
		return nil, nil
	}
	return p.find(ctx, ModelMember, storage.ByID(id))
}

// userByID returns the user or nil.
func (p *Plugin) userByID(ctx context.Context, id string) (storage.Record, error) {
	if id == "" {
		return nil, nil
	}
	return p.find(ctx, authcore.ModelUser, storage.ByID(id))
}

// activeOrgID returns the session's active organization id ("" when none).
func activeOrgID(s *authcore.Session) string { return s.Session.String(FieldActiveOrganizationID) }

// targetOrgID resolves the organization a request is about: organizationId, else
// organizationSlug (looked up: unknown → 400 ORGANIZATION_NOT_FOUND), else the session's
// active organization; none at all → 400 NO_ACTIVE_ORGANIZATION. It does not check
// membership: follow it with requireMember.
func (p *Plugin) targetOrgID(ctx context.Context, s *authcore.Session, v authcore.Values) (string, error) {
	if id := v.String("organizationId"); id != "" {
		return id, nil
	}
	if slug := v.String("organizationSlug"); slug != "" {
		org, err := p.orgBySlug(ctx, slug)
		if err != nil {
			return "", err
		}
		if org == nil {
			return "", CodeOrganizationNotFound.With(http.StatusBadRequest)
		}
		return org.ID(), nil
	}
	return requestOrgID(s, v, CodeNoActiveOrganization)
}

// requestOrgID is v's organizationId, else the session's active organization; with neither
// it answers missing with 400 (Better Auth's code differs from route to route).
func requestOrgID(s *authcore.Session, v authcore.Values, missing authcore.ErrorCode) (string, error) {
	if id := v.String("organizationId"); id != "" {
		return id, nil
	}
	if id := activeOrgID(s); id != "" {
		return id, nil
	}
	return "", missing.With(http.StatusBadRequest)
}

// requireMember returns the caller's membership in orgID, or code with status when the
// caller is not a member (an unknown organization counts as not a member, so nobody learns
// which organization ids exist).
func (p *Plugin) requireMember(ctx context.Context, orgID, userID string, code authcore.ErrorCode, status int) (storage.Record, error) {
	m, err := p.memberOf(ctx, orgID, userID)
	if err != nil {
		return nil, err
	}
	if m == nil {
		return nil, code.With(status)
	}
	return m, nil
}

// ownerCount counts the members of orgID holding the creator role.
func (p *Plugin) ownerCount(ctx context.Context, orgID string) (int, error) {
	recs, err := p.engine.Store().FindMany(ctx, ModelMember, storage.Query{Where: storage.Eq("organizationId", orgID)})
	if err != nil {
		return 0, authcore.Internal(err)
	}
	n := 0
	for _, r := range recs {
		if p.isOwner(r.String("role")) {
			n++
		}
	}
	return n, nil
}

// countMembers counts the members of orgID.
func (p *Plugin) countMembers(ctx context.Context, orgID string) (int, error) {
	n, err := p.engine.Store().Count(ctx, ModelMember, storage.Eq("organizationId", orgID))
	if err != nil {
		return 0, authcore.Internal(err)
	}
	return n, nil
}

// setActive stores the active organization (and team) of the caller's session — "" unsets
// them — and re-issues the session cookies so a cookie cache carries the change.
func (p *Plugin) setActive(c *authcore.Call, s *authcore.Session, orgID, teamID string) (*authcore.Session, error) {
	set := storage.Record{FieldActiveOrganizationID: nilIfEmpty(orgID), FieldActiveTeamID: nilIfEmpty(teamID)}
	rec, err := p.engine.Store().Update(c.Context(), authcore.ModelSession, storage.ByID(s.ID()), set)
	if err != nil {
		return nil, authcore.Internal(err)
	}
	ns := &authcore.Session{Session: rec, User: s.User, Token: s.Token}
	if ns.Token != "" {
		_, dontRemember := c.SignedCookie(authcore.CookieDontRemember)
		c.SetSessionCookies(ns, dontRemember)
	}
	c.SetSession(ns)
	return ns, nil
}

// clearActiveOrg unsets orgID as the active organization of every session that has it
// (after the caller leaves, is removed, or the organization is deleted). Sessions are
// user-scoped, so their caches are invalidated.
func (p *Plugin) clearActiveOrg(ctx context.Context, orgID, userID string) error {
	where := storage.Eq(FieldActiveOrganizationID, orgID)
	if userID != "" {
		where = storage.And(where, storage.Eq("userId", userID))
	}
	_, err := p.engine.Store().UpdateMany(ctx, authcore.ModelSession, where,
		storage.Record{FieldActiveOrganizationID: nil, FieldActiveTeamID: nil})
	if err != nil {
		return authcore.Internal(err)
	}
	return nil
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// orgJSON renders an organization, its metadata parsed back into an object.
func (p *Plugin) orgJSON(rec storage.Record) map[string]any {
	out := p.engine.Public(ModelOrganization, rec)
	if out == nil {
		return nil
	}
	if s := rec.String("metadata"); s != "" {
		var v any
		if json.Unmarshal([]byte(s), &v) == nil {
			out["metadata"] = v
		}
	}
	return out
}

// memberJSON renders a member.
func (p *Plugin) memberJSON(rec storage.Record) map[string]any {
	return p.engine.Public(ModelMember, rec)
}

// invitationJSON renders an invitation.
func (p *Plugin) invitationJSON(rec storage.Record) map[string]any {
	return p.engine.Public(ModelInvitation, rec)
}

// userBrief is the user object embedded in members: {id, name, email, image}.
func userBrief(u storage.Record) map[string]any {
	if u == nil {
		return nil
	}
	out := map[string]any{"id": u.ID(), "name": u.String("name"), "email": u.String("email")}
	if img, ok := u["image"].(string); ok {
		out["image"] = img
	} else {
		out["image"] = nil
	}
	return out
}

// before runs a before hook: its error refuses the request (an *authcore.Error as is).
func (p *Plugin) before(ctx context.Context, h Hook, ev *HookEvent) error {
	if h == nil {
		return nil
	}
	if err := h(ctx, ev); err != nil {
		return authcore.AsError(err)
	}
	return nil
}

// after runs an after hook; the change is already stored, so its error is only logged.
func (p *Plugin) after(ctx context.Context, h Hook, ev *HookEvent) {
	if h == nil {
		return
	}
	if err := h(ctx, ev); err != nil {
		p.engine.Logger().Error("organization: after hook failed", "error", err)
	}
}

// newID returns a fresh record id.
func (p *Plugin) newID() (string, error) {
	id, err := p.engine.Random().ID()
	if err != nil {
		return "", authcore.Internal(err)
	}
	return id, nil
}
