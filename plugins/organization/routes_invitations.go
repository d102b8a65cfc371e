package organization

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// MessageInvitation is the email type of an invitation.
const MessageInvitation = "organization-invitation"

func errInvitationNotFound() *authcore.Error {
	return CodeInvitationNotFound.With(http.StatusBadRequest)
}

// invitationURL is the link sent to an invitee. Without invitation_url it is the hosted
// portal's landing page when the portal plugin is enabled, else <base_url>/accept-invitation/{id}.
// (The plugin list is complete only once the engine is built, so it is read here.)
func (p *Plugin) invitationURL(id string) string {
	tmpl := p.InvitationURL
	if tmpl == "" {
		if slices.Contains(p.engine.Plugins(), "portal") {
			tmpl = p.engine.APIURL("/ui/accept-invitation?id={id}")
		} else {
			base := strings.TrimRight(p.engine.BaseURL().String(), "/")
			tmpl = base + "/accept-invitation/{id}"
		}
	}
	return strings.ReplaceAll(tmpl, "{id}", id)
}

// sendInvitation queues the invitation email.
func (p *Plugin) sendInvitation(inv, org, inviter storage.Record) {
	name := inviter.String("name")
	if name == "" {
		name = inviter.String("email")
	}
	p.engine.SendEmail(authcore.Message{
		Type: MessageInvitation, To: inv.String("email"),
		Data:      authcore.MessageData{URL: p.invitationURL(inv.ID())},
		ExpiresIn: inv.Time("expiresAt").Sub(p.engine.Clock().Now()).Round(time.Second),
		Vars: map[string]string{"inviter": name, "inviterEmail": inviter.String("email"),
			"organization": org.String("name"), "role": inv.String("role")},
	})
}

// inviteMember is POST /organization/invite-member.
func (p *Plugin) inviteMember(c *authcore.Call) (any, error) {
	s, err := c.RequireSession()
	if err != nil {
		return nil, err
	}
	ctx := c.Context()
	orgID, err := requestOrgID(s, c.Body, CodeOrganizationNotFound)
	if err != nil {
		return nil, err
	}
	email := strings.ToLower(strings.TrimSpace(c.Body.String("email")))
	if !authcore.ValidEmail(email) {
		return nil, authcore.CodeInvalidEmail.With(http.StatusBadRequest)
	}
	member, err := p.requireMember(ctx, orgID, s.UserID(), CodeUserIsNotAMemberOfTheOrganization, http.StatusForbidden)
	if err != nil {
		return nil, err
	}
	if err := p.requirePermission(ctx, member, Permissions{"invitation": {"create"}}, CodeYouAreNotAllowedToInviteUsersToThisOrganization, http.StatusForbidden); err != nil {
		return nil, err
	}
	roles, err := p.parseRoleInput(ctx, orgID, c.Body["role"])
	if err != nil {
		return nil, err
	}
	// Nobody invites with a role above their own; only owners invite owners (ORG-01).
	ok, err := p.canGrant(ctx, orgID, member.String("role"), roles)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, CodeYouAreNotAllowedToInviteUserWithThisRole.With(http.StatusForbidden)
	}
	if u, err := p.engine.UserByEmail(ctx, email); err != nil {
		return nil, authcore.AsError(err)
	} else if u != nil {
		if m, err := p.memberOf(ctx, orgID, u.ID()); err != nil {
			return nil, err
		} else if m != nil {
			return nil, CodeUserIsAlreadyAMemberOfThisOrganization.With(http.StatusBadRequest)
		}
	}
	pendingWhere := storage.And(storage.Eq("organizationId", orgID), storage.Eq("email", email),
		storage.Eq("status", StatusPending), storage.Gt("expiresAt", p.engine.Clock().Now()))
	pending, err := p.engine.Store().FindMany(ctx, ModelInvitation, storage.Query{Where: pendingWhere})
	if err != nil {
		return nil, authcore.Internal(err)
	}
	resend := c.Body.Bool("resend")
	if len(pending) > 0 && !resend && !p.CancelPendingInvitationsOnReInvite {
		return nil, CodeUserIsAlreadyInvitedToThisOrganization.With(http.StatusBadRequest)
	}
	org, err := p.requireOrg(ctx, orgID)
	if err != nil {
		return nil, err
	}
	expires := p.engine.Clock().Now().Add(p.invitationTTL)
	if len(pending) > 0 && resend {
		// Resending renews the stored invitation, whose role the caller must be able to grant.
		if ok, err := p.canGrant(ctx, orgID, member.String("role"), splitStoredRoles(pending[0].String("role"))); err != nil {
			return nil, err
		} else if !ok {
			return nil, CodeYouAreNotAllowedToInviteUserWithThisRole.With(http.StatusForbidden)
		}
		inv, err := p.engine.Store().Update(ctx, ModelInvitation, storage.ByID(pending[0].ID()), storage.Record{"expiresAt": expires})
		if err != nil {
			return nil, authcore.Internal(err)
		}
		p.sendInvitation(inv, org, s.User)
		return p.invitationJSON(inv), nil
	}
	teamIDs, err := p.inviteTeams(ctx, orgID, c.Body.Strings("teamId"))
	if err != nil {
		return nil, err
	}
	id, err := p.newID()
	if err != nil {
		return nil, err
	}
	rec := storage.Record{"id": id, "organizationId": orgID, "email": email, "role": joinRoles(roles),
		"status": StatusPending, "expiresAt": expires, "inviterId": s.UserID(), "createdAt": p.engine.Clock().Now()}
	if len(teamIDs) > 0 {
		rec["teamId"] = strings.Join(teamIDs, ",")
	}
	if err := p.before(ctx, p.BeforeCreateInvitation, &HookEvent{Invitation: rec.Clone(), Inviter: s.User, Organization: org, Member: member}); err != nil {
		return nil, err
	}
	var inv storage.Record
	err = p.engine.Store().Tx(ctx, func(tx storage.Adapter) error {
		if len(pending) > 0 {
			if _, err := tx.UpdateMany(ctx, ModelInvitation, pendingWhere, storage.Record{"status": StatusCanceled}); err != nil {
				return err
			}
		}
		n, err := tx.Count(ctx, ModelInvitation, storage.And(storage.Eq("organizationId", orgID), storage.Eq("status", StatusPending)))
		if err != nil {
			return err
		}
		if n >= p.invitationMax {
			return CodeInvitationLimitReached.With(http.StatusForbidden)
		}
		inv, err = tx.Create(ctx, ModelInvitation, rec)
		return err
	})
	if err != nil {
		return nil, authcore.AsError(err)
	}
	p.sendInvitation(inv, org, s.User)
	p.after(ctx, p.AfterCreateInvitation, &HookEvent{Invitation: inv, Inviter: s.User, Organization: org, Member: member})
	return p.invitationJSON(inv), nil
}

// inviteTeams checks the teamId of an invitation when teams are enabled (ignored otherwise,
// as Better Auth does): each must be a team of the organization.
func (p *Plugin) inviteTeams(ctx context.Context, orgID string, ids []string) ([]string, error) {
	if !p.Teams.Enabled || len(ids) == 0 {
		return nil, nil
	}
	var out []string
	for _, id := range ids {
		if id == "" {
			continue
		}
		if strings.Contains(id, ",") {
			return nil, CodeInvalidTeamId.With(http.StatusBadRequest)
		}
		t, err := p.find(ctx, ModelTeam, storage.And(storage.ByID(id), storage.Eq("organizationId", orgID)))
		if err != nil {
			return nil, err
		}
		if t == nil {
			return nil, CodeTeamNotFound.With(http.StatusBadRequest)
		}
		if !contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

// recipientInvitation loads an invitation for its recipient: it must exist and be pending
// (and, unless allowExpired, unexpired), be addressed to the session's email (compared
// without case), and with require_email_verification_on_invitation that email must be
// verified.
func (p *Plugin) recipientInvitation(ctx context.Context, s *authcore.Session, id string, allowExpired bool, unverified authcore.ErrorCode) (storage.Record, error) {
	inv, err := p.find(ctx, ModelInvitation, storage.ByID(id))
	if err != nil {
		return nil, err
	}
	if inv == nil || inv.String("status") != StatusPending || (!allowExpired && !p.engine.Clock().Now().Before(inv.Time("expiresAt"))) {
		return nil, errInvitationNotFound()
	}
	if !strings.EqualFold(inv.String("email"), s.User.String("email")) {
		return nil, CodeYouAreNotTheRecipientOfTheInvitation.With(http.StatusForbidden)
	}
	if p.RequireEmailVerificationOnInvitation && !s.User.Bool("emailVerified") {
		return nil, unverified.With(http.StatusForbidden)
	}
	return inv, nil
}

// acceptInvitation is POST /organization/accept-invitation. The invitation is marked
// accepted in the same transaction that creates the membership, only if it is still
// pending and unexpired then: concurrent accepts make one member.
func (p *Plugin) acceptInvitation(c *authcore.Call) (any, error) {
	s, err := c.RequireSession()
	if err != nil {
		return nil, err
	}
	ctx := c.Context()
	inv, err := p.recipientInvitation(ctx, s, c.Body.String("invitationId"), false, CodeEmailVerificationRequiredBeforeAcceptingOrRejectingInvitation)
	if err != nil {
		return nil, err
	}
	orgID := inv.String("organizationId")
	org, err := p.requireOrg(ctx, orgID)
	if err != nil {
		return nil, err
	}
	if err := p.before(ctx, p.BeforeAcceptInvitation, &HookEvent{Invitation: inv, User: s.User, Organization: org}); err != nil {
		return nil, err
	}
	var accepted storage.Record
	var teamIDs []string
	if p.Teams.Enabled && inv.String("teamId") != "" {
		teamIDs = strings.Split(inv.String("teamId"), ",")
	}
	now := p.engine.Clock().Now()
	member, err := p.addMember(ctx, org, s.User, inv.String("role"), func(tx storage.Adapter) error {
		var err error
		if accepted, err = settleInvitation(ctx, tx, inv.ID(), StatusAccepted, storage.Gt("expiresAt", now)); err != nil {
			return err
		}
		return p.joinTeams(ctx, tx, orgID, s.UserID(), teamIDs)
	})
	if err != nil {
		return nil, err
	}
	activeTeam := ""
	if len(teamIDs) == 1 {
		activeTeam = teamIDs[0]
	}
	if _, err := p.setActive(c, s, orgID, activeTeam); err != nil {
		return nil, err
	}
	p.after(ctx, p.AfterAcceptInvitation, &HookEvent{Invitation: accepted, Member: member, User: s.User, Organization: org})
	return map[string]any{"invitation": p.invitationJSON(accepted), "member": p.memberJSON(member)}, nil
}

// settleInvitation moves a pending invitation to status (with the extra conditions), at most
// once however many requests race; one no longer pending is 400 INVITATION_NOT_FOUND.
func settleInvitation(ctx context.Context, st storage.Adapter, id, status string, extra ...storage.Where) (storage.Record, error) {
	where := storage.And(append([]storage.Where{storage.ByID(id), storage.Eq("status", StatusPending)}, extra...)...)
	rec, err := st.Update(ctx, ModelInvitation, where, storage.Record{"status": status})
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, errInvitationNotFound()
	case err != nil:
		return nil, authcore.Internal(err)
	}
	return rec, nil
}

// rejectInvitation is POST /organization/reject-invitation.
func (p *Plugin) rejectInvitation(c *authcore.Call) (any, error) {
	s, err := c.RequireSession()
	if err != nil {
		return nil, err
	}
	ctx := c.Context()
	inv, err := p.recipientInvitation(ctx, s, c.Body.String("invitationId"), true, CodeEmailVerificationRequiredBeforeAcceptingOrRejectingInvitation)
	if err != nil {
		return nil, err
	}
	org, err := p.requireOrg(ctx, inv.String("organizationId"))
	if err != nil {
		return nil, err
	}
	if err := p.before(ctx, p.BeforeRejectInvitation, &HookEvent{Invitation: inv, User: s.User, Organization: org}); err != nil {
		return nil, err
	}
	rejected, err := settleInvitation(ctx, p.engine.Store(), inv.ID(), StatusRejected)
	if err != nil {
		return nil, err
	}
	p.after(ctx, p.AfterRejectInvitation, &HookEvent{Invitation: rejected, User: s.User, Organization: org})
	return map[string]any{"invitation": p.invitationJSON(rejected), "member": nil}, nil
}

// cancelInvitation is POST /organization/cancel-invitation.
func (p *Plugin) cancelInvitation(c *authcore.Call) (any, error) {
	s, err := c.RequireSession()
	if err != nil {
		return nil, err
	}
	ctx := c.Context()
	inv, err := p.find(ctx, ModelInvitation, storage.ByID(c.Body.String("invitationId")))
	if err != nil {
		return nil, err
	}
	if inv == nil {
		return nil, errInvitationNotFound()
	}
	orgID := inv.String("organizationId")
	member, err := p.requireMember(ctx, orgID, s.UserID(), CodeMemberNotFound, http.StatusBadRequest)
	if err != nil {
		return nil, err
	}
	if err := p.requirePermission(ctx, member, Permissions{"invitation": {"cancel"}}, CodeYouAreNotAllowedToCancelThisInvitation, http.StatusForbidden); err != nil {
		return nil, err
	}
	if inv.String("status") != StatusPending {
		return nil, errInvitationNotFound()
	}
	org, err := p.requireOrg(ctx, orgID)
	if err != nil {
		return nil, err
	}
	if err := p.before(ctx, p.BeforeCancelInvitation, &HookEvent{Invitation: inv, User: s.User, Organization: org}); err != nil {
		return nil, err
	}
	canceled, err := settleInvitation(ctx, p.engine.Store(), inv.ID(), StatusCanceled)
	if err != nil {
		return nil, err
	}
	p.after(ctx, p.AfterCancelInvitation, &HookEvent{Invitation: canceled, User: s.User, Organization: org})
	return p.invitationJSON(canceled), nil
}

// getInvitation is GET /organization/get-invitation.
func (p *Plugin) getInvitation(c *authcore.Call) (any, error) {
	s, err := c.RequireSession()
	if err != nil {
		return nil, err
	}
	ctx := c.Context()
	inv, err := p.recipientInvitation(ctx, s, c.Query.String("id"), false, CodeEmailVerificationRequiredForInvitation)
	if err != nil {
		return nil, err
	}
	org, err := p.requireOrg(ctx, inv.String("organizationId"))
	if err != nil {
		return nil, err
	}
	inviter, err := p.memberOf(ctx, org.ID(), inv.String("inviterId"))
	if err != nil {
		return nil, err
	}
	var inviterUser storage.Record
	if inviter != nil {
		inviterUser, err = p.userByID(ctx, inv.String("inviterId"))
		if err != nil {
			return nil, err
		}
	}
	if inviterUser == nil {
		return nil, CodeInviterIsNoLongerAMemberOfTheOrganization.With(http.StatusBadRequest)
	}
	out := p.invitationJSON(inv)
	out["organizationName"] = org.String("name")
	out["organizationSlug"] = org.String("slug")
	out["inviterEmail"] = inviterUser.String("email")
	return out, nil
}

// listInvitations is GET /organization/list-invitations.
func (p *Plugin) listInvitations(c *authcore.Call) (any, error) {
	s, err := c.RequireSession()
	if err != nil {
		return nil, err
	}
	ctx := c.Context()
	orgID, err := requestOrgID(s, c.Query, CodeNoActiveOrganization)
	if err != nil {
		return nil, err
	}
	member, err := p.requireMember(ctx, orgID, s.UserID(), CodeYouAreNotAMemberOfThisOrganization, http.StatusForbidden)
	if err != nil {
		return nil, err
	}
	out, ok, err := p.visibleInvitations(ctx, member)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, CodeYouAreNotAllowedToListInvitations.With(http.StatusForbidden)
	}
	return out, nil
}

// visibleInvitations lists the invitations of member's organization that member may see
// (Better Auth 1.7.25): invitation ids work as links, so only members who may create
// invitations see them (ok false otherwise), and invitations granting the owner role only
// owners see.
func (p *Plugin) visibleInvitations(ctx context.Context, member storage.Record) ([]any, bool, error) {
	orgID, role := member.String("organizationId"), member.String("role")
	ok, err := p.allows(ctx, orgID, role, Permissions{"invitation": {"create"}})
	if err != nil || !ok {
		return []any{}, false, err
	}
	recs, err := p.engine.Store().FindMany(ctx, ModelInvitation, storage.Query{Where: storage.Eq("organizationId", orgID),
		Sort: []storage.SortField{{Field: "createdAt"}}})
	if err != nil {
		return nil, false, authcore.Internal(err)
	}
	owner := p.isOwner(role)
	out := make([]any, 0, len(recs))
	for _, r := range recs {
		if !owner && p.isOwner(r.String("role")) {
			continue
		}
		out = append(out, p.invitationJSON(r))
	}
	return out, true, nil
}

// listUserInvitations is GET /organization/list-user-invitations: the pending invitations
// addressed to the session's (verified) email. The email query is server-only.
func (p *Plugin) listUserInvitations(c *authcore.Call) (any, error) {
	s, err := c.RequireSession()
	if err != nil {
		return nil, err
	}
	if c.Query.String("email") != "" {
		return nil, authcore.NewError(http.StatusBadRequest, "User email cannot be passed for client side API calls.")
	}
	if !s.User.Bool("emailVerified") {
		return nil, CodeEmailVerificationRequiredForInvitation.With(http.StatusForbidden)
	}
	ctx := c.Context()
	recs, err := p.engine.Store().FindMany(ctx, ModelInvitation, storage.Query{
		Where: storage.And(storage.Eq("email", strings.ToLower(s.User.String("email"))), storage.Eq("status", StatusPending)),
		Sort:  []storage.SortField{{Field: "createdAt"}}})
	if err != nil {
		return nil, authcore.Internal(err)
	}
	out := make([]any, 0, len(recs))
	orgNames := map[string]string{}
	for _, r := range recs {
		j := p.invitationJSON(r)
		oid := r.String("organizationId")
		name, ok := orgNames[oid]
		if !ok {
			if org, err := p.orgByID(ctx, oid); err == nil && org != nil {
				name = org.String("name")
			}
			orgNames[oid] = name
		}
		j["organizationName"] = name
		out = append(out, j)
	}
	return out, nil
}
