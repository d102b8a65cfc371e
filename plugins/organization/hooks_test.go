package organization_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/plugins/organization"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// hookRecorder counts hook calls and refuses the ones named in deny.
type hookRecorder struct {
	mu    sync.Mutex
	calls map[string]int
	deny  map[string]bool
	last  map[string]*organization.HookEvent
}

func (h *hookRecorder) hook(name string) organization.Hook {
	return func(_ context.Context, ev *organization.HookEvent) error {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.calls[name]++
		h.last[name] = ev
		if h.deny[name] {
			if name == "BeforeDeleteOrganization" {
				return errors.New("plain error") // not an *authcore.Error: a 500, nothing changed
			}
			return authcore.NewError(http.StatusForbidden, "refused by "+name)
		}
		return nil
	}
}

func (h *hookRecorder) count(name string) int { h.mu.Lock(); defer h.mu.Unlock(); return h.calls[name] }

func hookedPlugin(rec *hookRecorder) *organization.Plugin {
	p := &organization.Plugin{}
	p.BeforeCreateOrganization, p.AfterCreateOrganization = rec.hook("BeforeCreateOrganization"), rec.hook("AfterCreateOrganization")
	p.BeforeUpdateOrganization, p.AfterUpdateOrganization = rec.hook("BeforeUpdateOrganization"), rec.hook("AfterUpdateOrganization")
	p.BeforeDeleteOrganization, p.AfterDeleteOrganization = rec.hook("BeforeDeleteOrganization"), rec.hook("AfterDeleteOrganization")
	p.BeforeAddMember, p.AfterAddMember = rec.hook("BeforeAddMember"), rec.hook("AfterAddMember")
	p.BeforeRemoveMember, p.AfterRemoveMember = rec.hook("BeforeRemoveMember"), rec.hook("AfterRemoveMember")
	p.BeforeUpdateMemberRole, p.AfterUpdateMemberRole = rec.hook("BeforeUpdateMemberRole"), rec.hook("AfterUpdateMemberRole")
	p.BeforeCreateInvitation, p.AfterCreateInvitation = rec.hook("BeforeCreateInvitation"), rec.hook("AfterCreateInvitation")
	p.BeforeAcceptInvitation, p.AfterAcceptInvitation = rec.hook("BeforeAcceptInvitation"), rec.hook("AfterAcceptInvitation")
	p.BeforeRejectInvitation, p.AfterRejectInvitation = rec.hook("BeforeRejectInvitation"), rec.hook("AfterRejectInvitation")
	p.BeforeCancelInvitation, p.AfterCancelInvitation = rec.hook("BeforeCancelInvitation"), rec.hook("AfterCancelInvitation")
	return p
}

// A before hook's error refuses the request with nothing changed; after hooks see the
// stored result.
func TestHooks(t *testing.T) {
	rec := &hookRecorder{calls: map[string]int{}, deny: map[string]bool{}, last: map[string]*organization.HookEvent{}}
	e := setup(t, hookedPlugin(rec))

	rec.deny["BeforeCreateOrganization"] = true
	want(t, e.alice.Post("/organization/create", map[string]any{"name": "A", "slug": "a"}), 403, "")
	if e.count(organization.ModelOrganization, storage.Where{}) != 0 || rec.count("AfterCreateOrganization") != 0 {
		t.Fatal("refused create stored an organization")
	}
	rec.deny["BeforeCreateOrganization"] = false
	rec.deny["BeforeAddMember"] = true
	want(t, e.alice.Post("/organization/create", map[string]any{"name": "A", "slug": "a"}), 403, "")
	if e.count(organization.ModelOrganization, storage.Where{}) != 0 {
		t.Fatal("create refused by the add-member hook stored an organization")
	}
	rec.deny["BeforeAddMember"] = false
	org, carolM, malloryM := e.orgA()
	if rec.count("AfterCreateOrganization") != 1 || rec.count("AfterAddMember") != 3 {
		t.Fatalf("after hooks: %v", rec.calls)
	}
	if ev := rec.last["AfterCreateOrganization"]; ev.Organization.ID() != org || ev.User.ID() != e.aliceID || ev.Member.String("role") != "owner" {
		t.Fatalf("AfterCreateOrganization event %+v", ev)
	}

	steps := []struct {
		hook  string
		do    func() int
		check func() bool // true when nothing changed
	}{
		{"BeforeUpdateOrganization", func() int {
			return e.alice.Post("/organization/update", map[string]any{"organizationId": org, "data": map[string]any{"name": "X"}}).StatusCode
		}, func() bool { return e.org(org).String("name") == "Acme" }},
		{"BeforeRemoveMember", func() int {
			return e.alice.Post("/organization/remove-member", map[string]any{"organizationId": org, "memberIdOrEmail": malloryM}).StatusCode
		}, func() bool { return e.roles(org)[e.mID] == "member" }},
		{"BeforeUpdateMemberRole", func() int {
			return e.alice.Post("/organization/update-member-role", map[string]any{"organizationId": org, "memberId": carolM, "role": "member"}).StatusCode
		}, func() bool { return e.roles(org)[e.carolID] == "admin" }},
		{"BeforeCreateInvitation", func() int {
			return e.alice.Post("/organization/invite-member", map[string]any{"organizationId": org, "email": "bob@example.com", "role": "member"}).StatusCode
		}, func() bool { return e.count(organization.ModelInvitation, storage.Where{}) == 0 }},
		{"BeforeDeleteOrganization", func() int {
			return e.alice.Post("/organization/delete", map[string]any{"organizationId": org}).StatusCode
		}, func() bool { return e.org(org) != nil && len(e.roles(org)) == 3 }},
	}
	for _, s := range steps {
		rec.deny[s.hook] = true
		st := s.do()
		if st < 400 || !s.check() {
			t.Errorf("%s refused: status %d, state unchanged %v", s.hook, st, s.check())
		}
		rec.deny[s.hook] = false
	}

	inv := e.invite(e.alice, org, "bob@example.com", "member")
	for _, h := range []string{"BeforeAcceptInvitation", "BeforeAddMember"} {
		rec.deny[h] = true
		want(t, e.bob.Post("/organization/accept-invitation", map[string]any{"invitationId": inv}), 403, "")
		if e.invitation(inv).String("status") != "pending" || e.roles(org)[e.bobID] != "" {
			t.Fatalf("accept refused by %s changed state", h)
		}
		rec.deny[h] = false
	}
	rec.deny["BeforeRejectInvitation"] = true
	want(t, e.bob.Post("/organization/reject-invitation", map[string]any{"invitationId": inv}), 403, "")
	rec.deny["BeforeRejectInvitation"] = false
	rec.deny["BeforeCancelInvitation"] = true
	want(t, e.alice.Post("/organization/cancel-invitation", map[string]any{"invitationId": inv}), 403, "")
	rec.deny["BeforeCancelInvitation"] = false
	if e.invitation(inv).String("status") != "pending" {
		t.Fatal("refused reject/cancel changed the invitation")
	}

	// Now let everything through and check the after hooks.
	want(t, e.bob.Post("/organization/accept-invitation", map[string]any{"invitationId": inv}), 200, "")
	if ev := rec.last["AfterAcceptInvitation"]; ev == nil || ev.Member.String("userId") != e.bobID || ev.Invitation.String("status") != "accepted" {
		t.Fatalf("AfterAcceptInvitation %+v", ev)
	}
	want(t, e.alice.Post("/organization/update-member-role", map[string]any{"organizationId": org, "memberId": carolM, "role": "member"}), 200, "")
	if ev := rec.last["AfterUpdateMemberRole"]; ev.NewRole != "member" || ev.PreviousRole != "admin" || ev.User.ID() != e.carolID {
		t.Fatalf("AfterUpdateMemberRole %+v", ev)
	}
	want(t, e.alice.Post("/organization/remove-member", map[string]any{"organizationId": org, "memberIdOrEmail": malloryM}), 200, "")
	if ev := rec.last["AfterRemoveMember"]; ev.Member.ID() != malloryM || ev.User.ID() != e.mID {
		t.Fatalf("AfterRemoveMember %+v", ev)
	}
	inv2 := e.invite(e.alice, org, "dave@example.com", "member")
	want(t, e.alice.Post("/organization/cancel-invitation", map[string]any{"invitationId": inv2}), 200, "")
	inv3 := e.invite(e.alice, org, "mallory@example.com", "member")
	want(t, e.mallory.Post("/organization/reject-invitation", map[string]any{"invitationId": inv3}), 200, "")
	want(t, e.alice.Post("/organization/update", map[string]any{"organizationId": org, "data": map[string]any{"name": "Acme 2"}}), 200, "")
	want(t, e.alice.Post("/organization/delete", map[string]any{"organizationId": org}), 200, "")
	for _, h := range []string{"AfterUpdateOrganization", "AfterDeleteOrganization", "AfterCreateInvitation", "AfterCancelInvitation", "AfterRejectInvitation"} {
		if rec.count(h) == 0 {
			t.Errorf("%s never ran", h)
		}
	}
}
