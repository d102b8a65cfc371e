package organization_test

import (
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"

	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/plugins/organization"
	"github.com/gatehouse-auth/gatehouse/storage"
)

func TestMoreRefusals(t *testing.T) {
	e := setup(t, nil)
	org, carolM, _ := e.orgA()
	want(t, e.mallory.Post("/organization/update", map[string]any{"organizationId": org, "data": map[string]any{"name": "M"}}), 403, "YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_ORGANIZATION")
	want(t, e.carol.Post("/organization/delete", map[string]any{"organizationId": org}), 403, "YOU_ARE_NOT_ALLOWED_TO_DELETE_THIS_ORGANIZATION")
	if e.org(org).String("name") != "Acme" {
		t.Fatal("refused update changed the organization")
	}
	// The inviter left: the invitation can no longer be shown.
	id := e.invite(e.carol, org, "bob@example.com", "member")
	want(t, e.alice.Post("/organization/remove-member", map[string]any{"organizationId": org, "memberIdOrEmail": carolM}), 200, "")
	want(t, e.bob.Get("/organization/get-invitation?id="+id), 400, "INVITER_IS_NO_LONGER_A_MEMBER_OF_THE_ORGANIZATION")
	// Removing a member clears that member's active organization.
	if e.activeOrg(e.carolID) != "" {
		t.Fatal("removed member keeps the organization active")
	}
}

// With teams enabled, invitations carry teams; accepting joins them (within the team limit).
func TestInvitationTeams(t *testing.T) {
	e := setup(t, &organization.Plugin{Teams: organization.Teams{Enabled: true, MaximumMembersPerTeam: 1}})
	org, _, _ := e.orgA()
	other := e.createOrg(e.bob, "Bravo", "bravo")
	mkTeam := func(orgID, id string) {
		now := e.h.Clock.Now()
		if _, err := e.h.Engine.Store().Create(e.ctx(), organization.ModelTeam, storage.Record{"id": id, "name": id, "organizationId": orgID, "createdAt": now, "updatedAt": now}); err != nil {
			t.Fatal(err)
		}
	}
	mkTeam(org, "team-a")
	mkTeam(org, "team-full")
	mkTeam(other, "team-b")
	if _, err := e.h.Engine.Store().Create(e.ctx(), organization.ModelTeamMember, storage.Record{"id": "tm1", "teamId": "team-full", "userId": e.aliceID, "createdAt": e.h.Clock.Now()}); err != nil {
		t.Fatal(err)
	}
	inv := func(email string, team any) *authcoretest.Response {
		return e.alice.Post("/organization/invite-member", map[string]any{"email": email, "role": "member", "organizationId": org, "teamId": team})
	}
	want(t, inv("x@example.com", "team-b"), 400, "TEAM_NOT_FOUND")
	want(t, inv("x@example.com", "a,b"), 400, "INVALID_TEAM_ID")
	r := inv("mallory2@example.com", "team-full")
	want(t, r, 200, "")
	r = inv("bob@example.com", "team-a")
	want(t, r, 200, "")
	if str(r.Object(), "teamId") != "team-a" {
		t.Fatalf("invitation %s", r.Body)
	}
	r = e.bob.Post("/organization/accept-invitation", map[string]any{"invitationId": str(r.Object(), "id")})
	want(t, r, 200, "")
	if n := e.count(organization.ModelTeamMember, storage.And(storage.Eq("teamId", "team-a"), storage.Eq("userId", e.bobID))); n != 1 {
		t.Fatalf("%d team memberships", n)
	}
	sess, _ := e.h.Engine.Store().FindMany(e.ctx(), "session", storage.Query{Where: storage.Eq("userId", e.bobID)})
	if sess[len(sess)-1].String(organization.FieldActiveTeamID) != "team-a" {
		t.Fatal("single-team invitation did not set the active team")
	}
	// The full team refuses at accept time, leaving the invitation pending and no member.
	e.h.SignUp("M2", "mallory2@example.com", pw)
	m2 := e.h.Client()
	m2.Post("/sign-in/email", map[string]any{"email": "mallory2@example.com", "password": pw})
	invs, _ := e.h.Engine.Store().FindMany(e.ctx(), organization.ModelInvitation, storage.Query{Where: storage.Eq("email", "mallory2@example.com")})
	want(t, m2.Post("/organization/accept-invitation", map[string]any{"invitationId": invs[0].ID()}), 403, "TEAM_MEMBER_LIMIT_REACHED")
	if e.invitation(invs[0].ID()).String("status") != "pending" || len(e.roles(org)) != 4 {
		t.Fatal("a refused accept changed state")
	}
	// Full organization listing includes teams.
	r = e.alice.Get("/organization/get-full-organization?organizationId=" + org)
	if ts, _ := r.Object()["teams"].([]any); len(ts) != 2 {
		t.Fatalf("teams in full organization: %s", r.Body)
	}
	// Removing bob from the organization takes him out of its teams in the same
	// transaction, and his sessions lose the team as active team.
	want(t, e.alice.Post("/organization/remove-member", map[string]any{"organizationId": org, "memberIdOrEmail": "bob@example.com"}), 200, "")
	if n := e.count(organization.ModelTeamMember, storage.Eq("userId", e.bobID)); n != 0 {
		t.Fatalf("removed member still in %d teams", n)
	}
	sess, _ = e.h.Engine.Store().FindMany(e.ctx(), "session", storage.Query{Where: storage.Eq("userId", e.bobID)})
	for _, s := range sess {
		if s.String(organization.FieldActiveTeamID) != "" {
			t.Fatalf("session %s keeps active team %q", s.ID(), s.String(organization.FieldActiveTeamID))
		}
	}
}

// With the cookie cache on, /get-session answers from the cookie: set-active and accept
// re-issue it, so the client sees the new active organization at once.
func TestCookieCacheFollowsActiveOrganization(t *testing.T) {
	e := setup(t, nil, authcoretest.WithConfig(func(c *authcore.Config) { c.Session.CookieCache = 5 * time.Minute }))
	org := e.createOrg(e.alice, "Acme", "acme")
	active := func(c *authcoretest.Client) string {
		r := c.Get("/get-session")
		s, _ := r.Object()["session"].(map[string]any)
		return str(s, "activeOrganizationId")
	}
	if active(e.alice) != org {
		t.Fatal("create: cached session lacks the active organization")
	}
	want(t, e.alice.Post("/organization/set-active", map[string]any{"organizationId": nil}), 200, "")
	if active(e.alice) != "" {
		t.Fatal("unset: cached session still has the active organization")
	}
	id := e.invite(e.alice, org, "bob@example.com", "member")
	want(t, e.bob.Post("/organization/accept-invitation", map[string]any{"invitationId": id}), 200, "")
	if active(e.bob) != org {
		t.Fatal("accept: cached session lacks the active organization")
	}
}
