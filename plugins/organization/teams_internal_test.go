package organization

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// The helpers the invitation and member routes call inside their transactions: joinTeams,
// leaveOrgTeams; and teamsJSON.
func TestTeamHelpers(t *testing.T) {
	p := &Plugin{Teams: Teams{Enabled: true, MaximumMembersPerTeam: 2}}
	h := authcoretest.New(t, authcoretest.WithPlugins(p))
	ctx := context.Background()
	st := h.Engine.Store()
	now := h.Clock.Now()
	mk := func(model string, rec storage.Record) {
		t.Helper()
		if _, err := st.Create(ctx, model, rec); err != nil {
			t.Fatalf("%s: %v", model, err)
		}
	}
	for _, u := range []string{"u1", "u2", "u3"} {
		mk(authcore.ModelUser, storage.Record{"id": u, "name": u, "email": u + "@example.com", "emailVerified": false, "createdAt": now, "updatedAt": now})
	}
	for _, o := range []string{"A", "B"} {
		mk(ModelOrganization, storage.Record{"id": o, "name": o, "slug": o, "createdAt": now})
	}
	for id, org := range map[string]string{"a1": "A", "a2": "A", "b1": "B"} {
		mk(ModelTeam, storage.Record{"id": id, "name": id, "organizationId": org, "createdAt": now, "updatedAt": now})
		now = now.Add(time.Second)
	}
	addToTeams := func(ctx context.Context, orgID, userID string, teamIDs []string) error {
		return st.Tx(ctx, func(tx storage.Adapter) error { return p.joinTeams(ctx, tx, orgID, userID, teamIDs) })
	}
	count := func(where storage.Where) int {
		n, err := st.Count(ctx, ModelTeamMember, where)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	if err := addToTeams(ctx, "A", "u1", []string{"a1", "a2"}); err != nil {
		t.Fatal(err)
	}
	if err := addToTeams(ctx, "A", "u1", []string{"a1"}); err != nil || count(storage.Eq("userId", "u1")) != 2 {
		t.Fatalf("re-adding: %v, %d memberships", err, count(storage.Eq("userId", "u1")))
	}
	// All or nothing: B's team named for A refuses the whole list.
	err := addToTeams(ctx, "A", "u2", []string{"a1", "b1"})
	if !errors.Is(err, CodeTeamNotFound.With(400)) || count(storage.Eq("userId", "u2")) != 0 {
		t.Fatalf("cross-organization team: %v, %d memberships", err, count(storage.Eq("userId", "u2")))
	}
	if err := addToTeams(ctx, "A", "u2", []string{"a1"}); err != nil {
		t.Fatal(err)
	}
	var ae *authcore.Error
	if err := addToTeams(ctx, "A", "u3", []string{"a2", "a1"}); !errors.As(err, &ae) || ae.Code != CodeTeamMemberLimitReached.Code || ae.Status != 403 {
		t.Fatalf("full team: %v", err)
	}
	if count(storage.Eq("userId", "u3")) != 0 {
		t.Fatal("partial add kept")
	}

	teams, err := p.teamsJSON(ctx, "A")
	if err != nil || len(teams) != 2 || teams[0].(map[string]any)["id"] != "a1" || teams[1].(map[string]any)["id"] != "a2" {
		t.Fatalf("teamsJSON: %v %v", teams, err)
	}
	if teams, _ := p.teamsJSON(ctx, "none"); teams == nil || len(teams) != 0 {
		t.Fatalf("teamsJSON of an unknown org: %#v", teams)
	}

	// u1 is also in B's team with B's team active on one session and A's on another.
	if err := addToTeams(ctx, "B", "u1", []string{"b1"}); err != nil {
		t.Fatal(err)
	}
	mk(authcore.ModelSession, storage.Record{"id": "s1", "userId": "u1", "token": "t1", "expiresAt": now.Add(time.Hour), "createdAt": now, "updatedAt": now,
		FieldActiveOrganizationID: "A", FieldActiveTeamID: "a1"})
	mk(authcore.ModelSession, storage.Record{"id": "s2", "userId": "u1", "token": "t2", "expiresAt": now.Add(time.Hour), "createdAt": now, "updatedAt": now,
		FieldActiveOrganizationID: "B", FieldActiveTeamID: "b1"})
	if err := st.Tx(ctx, func(tx storage.Adapter) error { return leaveOrgTeams(ctx, tx, "A", "u1") }); err != nil {
		t.Fatal(err)
	}
	if n := count(storage.Eq("userId", "u1")); n != 1 || count(storage.Eq("teamId", "a1")) != 1 {
		t.Fatalf("after removal: u1 in %d teams, a1 has %d", n, count(storage.Eq("teamId", "a1")))
	}
	s1, _ := st.FindOne(ctx, authcore.ModelSession, storage.ByID("s1"))
	s2, _ := st.FindOne(ctx, authcore.ModelSession, storage.ByID("s2"))
	if s1.Has(FieldActiveTeamID) || s2.String(FieldActiveTeamID) != "b1" {
		t.Fatalf("sessions: %v / %v", s1, s2)
	}
}
