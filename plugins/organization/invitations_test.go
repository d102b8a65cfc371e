package organization_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/plugins/organization"
	"github.com/gatehouse-auth/gatehouse/plugins/portal"
	"github.com/gatehouse-auth/gatehouse/storage"
)

func (e *env) invite(c *authcoretest.Client, orgID, email, role string) string {
	e.t.Helper()
	r := c.Post("/organization/invite-member", map[string]any{"email": email, "role": role, "organizationId": orgID})
	if r.StatusCode != http.StatusOK {
		e.t.Fatalf("invite %s: %d %s", email, r.StatusCode, r.Body)
	}
	return str(r.Object(), "id")
}

func TestInviteAndAccept(t *testing.T) {
	e := setup(t, nil)
	org, _, _ := e.orgA()
	r := e.carol.Post("/organization/invite-member", map[string]any{"email": "Bob@Example.com", "role": []any{"member"}, "organizationId": org})
	want(t, r, 200, "")
	inv := r.Object()
	id := str(inv, "id")
	if str(inv, "email") != "bob@example.com" || str(inv, "role") != "member" || str(inv, "status") != "pending" ||
		str(inv, "organizationId") != org || str(inv, "inviterId") != e.carolID || inv["expiresAt"] == nil || inv["createdAt"] == nil {
		t.Fatalf("invitation %s", r.Body)
	}
	exp := e.invitation(id).Time("expiresAt")
	if d := exp.Sub(e.h.Clock.Now()); d != 48*time.Hour {
		t.Fatalf("invitation lifetime %v", d)
	}
	e.h.Drain()
	msgs := e.h.Sent(organization.MessageInvitation, "bob@example.com")
	if len(msgs) != 1 {
		t.Fatalf("%d invitation emails", len(msgs))
	}
	m := msgs[0]
	if m.Data.URL != authcoretest.BaseURL+"/accept-invitation/"+id || m.ExpiresIn != 48*time.Hour ||
		m.Vars["inviter"] != "Carol" || m.Vars["organization"] != "Acme" || m.Vars["role"] != "member" {
		t.Fatalf("message %+v", m)
	}

	want(t, e.carol.Post("/organization/invite-member", map[string]any{"email": "bob@example.com", "role": "member", "organizationId": org}), 400, "USER_IS_ALREADY_INVITED_TO_THIS_ORGANIZATION")
	want(t, e.carol.Post("/organization/invite-member", map[string]any{"email": "mallory@example.com", "role": "member", "organizationId": org}), 400, "USER_IS_ALREADY_A_MEMBER_OF_THIS_ORGANIZATION")
	want(t, e.carol.Post("/organization/invite-member", map[string]any{"email": "not-an-email", "role": "member", "organizationId": org}), 400, "")
	want(t, e.bob.Post("/organization/invite-member", map[string]any{"email": "x@example.com", "role": "member"}), 400, "ORGANIZATION_NOT_FOUND")

	// resend renews the same invitation and sends it again.
	e.h.Clock.Advance(time.Hour)
	r = e.carol.Post("/organization/invite-member", map[string]any{"email": "bob@example.com", "role": "member", "organizationId": org, "resend": true})
	want(t, r, 200, "")
	if str(r.Object(), "id") != id || !e.invitation(id).Time("expiresAt").After(exp) {
		t.Fatalf("resend %s", r.Body)
	}
	e.h.Drain()
	if n := len(e.h.Sent(organization.MessageInvitation, "bob@example.com")); n != 2 {
		t.Fatalf("%d emails after resend", n)
	}

	// The recipient sees it; others do not.
	r = e.bob.Get("/organization/get-invitation?id=" + id)
	want(t, r, 200, "")
	if str(r.Object(), "organizationName") != "Acme" || str(r.Object(), "organizationSlug") != "acme" || str(r.Object(), "inviterEmail") != "carol@example.com" {
		t.Fatalf("get-invitation %s", r.Body)
	}
	want(t, e.mallory.Get("/organization/get-invitation?id="+id), 403, "YOU_ARE_NOT_THE_RECIPIENT_OF_THE_INVITATION")
	want(t, e.bob.Get("/organization/get-invitation?id=nope"), 400, "INVITATION_NOT_FOUND")
	// Invitation ids work as links: only members who may invite list them (1.7.25), and
	// only owners see invitations granting owner.
	want(t, e.mallory.Get("/organization/list-invitations?organizationId="+org), 403, "YOU_ARE_NOT_ALLOWED_TO_LIST_INVITATIONS")
	ownerInv := e.invite(e.alice, org, "newowner@example.com", "owner")
	r = e.carol.Get("/organization/list-invitations?organizationId=" + org)
	if l, _ := r.JSON().([]any); r.StatusCode != 200 || len(l) != 1 || str(l[0].(map[string]any), "id") != id {
		t.Fatalf("list-invitations (admin) %d %s", r.StatusCode, r.Body)
	}
	r = e.alice.Get("/organization/list-invitations?organizationId=" + org)
	if l, _ := r.JSON().([]any); len(l) != 2 {
		t.Fatalf("list-invitations (owner) %s", r.Body)
	}
	full := func(c *authcoretest.Client) []any {
		r := c.Get("/organization/get-full-organization?organizationId=" + org)
		want(t, r, 200, "")
		l, _ := r.Object()["invitations"].([]any)
		return l
	}
	if len(full(e.mallory)) != 0 || len(full(e.carol)) != 1 || len(full(e.alice)) != 2 {
		t.Fatal("get-full-organization shows invitations to the wrong members")
	}
	// Nor may an admin resend (renew) the owner invitation.
	want(t, e.carol.Post("/organization/invite-member", map[string]any{"email": "newowner@example.com", "role": "member", "organizationId": org, "resend": true}), 403, "YOU_ARE_NOT_ALLOWED_TO_INVITE_USER_WITH_THIS_ROLE")
	want(t, e.alice.Post("/organization/cancel-invitation", map[string]any{"invitationId": ownerInv}), 200, "")
	want(t, e.bob.Get("/organization/list-invitations"), 400, "NO_ACTIVE_ORGANIZATION")
	want(t, e.bob.Get("/organization/list-user-invitations"), 403, "EMAIL_VERIFICATION_REQUIRED_FOR_INVITATION")
	e.setVerified(e.bobID)
	r = e.bob.Get("/organization/list-user-invitations")
	if l, _ := r.JSON().([]any); r.StatusCode != 200 || len(l) != 1 || str(l[0].(map[string]any), "organizationName") != "Acme" {
		t.Fatalf("list-user-invitations %d %s", r.StatusCode, r.Body)
	}
	want(t, e.bob.Get("/organization/list-user-invitations?email=alice@example.com"), 400, "")

	// ORG-02: mallory cannot accept or reject bob's invitation.
	want(t, e.mallory.Post("/organization/accept-invitation", map[string]any{"invitationId": id}), 403, "YOU_ARE_NOT_THE_RECIPIENT_OF_THE_INVITATION")
	want(t, e.alice.Post("/organization/reject-invitation", map[string]any{"invitationId": id}), 403, "YOU_ARE_NOT_THE_RECIPIENT_OF_THE_INVITATION")
	if _, ok := e.roles(org)[e.bobID]; ok || e.invitation(id).String("status") != "pending" {
		t.Fatal("a stranger's accept changed state")
	}

	r = e.bob.Post("/organization/accept-invitation", map[string]any{"invitationId": id})
	want(t, r, 200, "")
	acc := r.Object()
	if i, _ := acc["invitation"].(map[string]any); str(i, "status") != "accepted" {
		t.Fatalf("accept %s", r.Body)
	}
	if mem, _ := acc["member"].(map[string]any); str(mem, "userId") != e.bobID || str(mem, "role") != "member" || str(mem, "organizationId") != org {
		t.Fatalf("accept member %s", r.Body)
	}
	if e.roles(org)[e.bobID] != "member" || e.activeOrg(e.bobID) != org {
		t.Fatal("accept did not make bob a member with the organization active")
	}
	if _, ok := r.SetCookie(sessionCookie); !ok {
		t.Error("accept did not re-issue the session cookie")
	}
	// Used: a second accept (or reject) is refused.
	want(t, e.bob.Post("/organization/accept-invitation", map[string]any{"invitationId": id}), 400, "INVITATION_NOT_FOUND")
	want(t, e.bob.Post("/organization/reject-invitation", map[string]any{"invitationId": id}), 400, "INVITATION_NOT_FOUND")
	want(t, e.carol.Post("/organization/cancel-invitation", map[string]any{"invitationId": id}), 400, "INVITATION_NOT_FOUND")
}

// ORG-02: cancelled, expired and rejected invitations cannot be accepted.
func TestInvitationLifecycle(t *testing.T) {
	e := setup(t, nil)
	org, _, _ := e.orgA()
	id := e.invite(e.alice, org, "bob@example.com", "member")
	want(t, e.mallory.Post("/organization/cancel-invitation", map[string]any{"invitationId": id}), 403, "YOU_ARE_NOT_ALLOWED_TO_CANCEL_THIS_INVITATION")
	r := e.carol.Post("/organization/cancel-invitation", map[string]any{"invitationId": id})
	want(t, r, 200, "")
	if str(r.Object(), "status") != "canceled" {
		t.Fatalf("cancel %s", r.Body)
	}
	want(t, e.bob.Post("/organization/accept-invitation", map[string]any{"invitationId": id}), 400, "INVITATION_NOT_FOUND")
	want(t, e.carol.Post("/organization/cancel-invitation", map[string]any{"invitationId": "nope"}), 400, "INVITATION_NOT_FOUND")

	id = e.invite(e.alice, org, "bob@example.com", "member")
	e.h.Clock.Advance(48*time.Hour + time.Second)
	want(t, e.bob.Post("/organization/accept-invitation", map[string]any{"invitationId": id}), 400, "INVITATION_NOT_FOUND")
	want(t, e.bob.Get("/organization/get-invitation?id="+id), 400, "INVITATION_NOT_FOUND")
	// An expired invitation no longer blocks a new one.
	id = e.invite(e.alice, org, "bob@example.com", "admin")
	r = e.bob.Post("/organization/reject-invitation", map[string]any{"invitationId": id})
	want(t, r, 200, "")
	if i, _ := r.Object()["invitation"].(map[string]any); str(i, "status") != "rejected" || r.Object()["member"] != nil || !hasKey(r.Object(), "member") {
		t.Fatalf("reject %s", r.Body)
	}
	want(t, e.bob.Post("/organization/accept-invitation", map[string]any{"invitationId": id}), 400, "INVITATION_NOT_FOUND")
	if _, ok := e.roles(org)[e.bobID]; ok {
		t.Fatal("bob became a member")
	}
}

func TestInvitationOptions(t *testing.T) {
	e := setup(t, &organization.Plugin{InvitationLimit: 2, RequireEmailVerificationOnInvitation: true,
		CancelPendingInvitationsOnReInvite: true, InvitationURL: "https://app.example/join?i={id}",
		InvitationExpiresIn: 0, MembershipLimit: 4})
	org, _, _ := e.orgA()
	first := e.invite(e.alice, org, "bob@example.com", "member")
	second := e.invite(e.alice, org, "bob@example.com", "admin")
	if e.invitation(first).String("status") != "canceled" || e.invitation(second).String("status") != "pending" {
		t.Fatal("re-invite did not cancel the pending invitation")
	}
	e.h.Drain()
	if msgs := e.h.Sent(organization.MessageInvitation, "bob@example.com"); len(msgs) != 2 || msgs[1].Data.URL != "https://app.example/join?i="+second {
		t.Fatalf("messages %+v", msgs)
	}
	e.invite(e.alice, org, "x1@example.com", "member")
	want(t, e.alice.Post("/organization/invite-member", map[string]any{"email": "x2@example.com", "role": "member", "organizationId": org}), 403, "INVITATION_LIMIT_REACHED")
	if n := e.count(organization.ModelInvitation, storage.Eq("email", "x2@example.com")); n != 0 {
		t.Fatal("invitation over the limit stored")
	}
	// Unverified recipients can neither accept nor reject.
	want(t, e.bob.Post("/organization/accept-invitation", map[string]any{"invitationId": second}), 403, "EMAIL_VERIFICATION_REQUIRED_BEFORE_ACCEPTING_OR_REJECTING_INVITATION")
	want(t, e.bob.Post("/organization/reject-invitation", map[string]any{"invitationId": second}), 403, "EMAIL_VERIFICATION_REQUIRED_BEFORE_ACCEPTING_OR_REJECTING_INVITATION")
	want(t, e.bob.Get("/organization/get-invitation?id="+second), 403, "EMAIL_VERIFICATION_REQUIRED_FOR_INVITATION")
	e.setVerified(e.bobID)
	// The membership limit (4: alice, carol, mallory + one) holds at accept time.
	x, _ := e.h.SignUp("X1", "x1@example.com", pw)
	u, _ := e.h.Engine.UserByEmail(e.ctx(), "x1@example.com")
	e.add(org, u.ID(), "member")
	_ = x
	want(t, e.bob.Post("/organization/accept-invitation", map[string]any{"invitationId": second}), 403, "ORGANIZATION_MEMBERSHIP_LIMIT_REACHED")
	if e.invitation(second).String("status") != "pending" {
		t.Fatal("a refused accept consumed the invitation")
	}
}

// 20 concurrent accepts of one invitation make exactly one member.
func TestConcurrentAccept(t *testing.T) {
	for _, name := range []string{"memory", "bolt"} {
		t.Run(name, func(t *testing.T) {
			var opts []authcoretest.Option
			if name == "bolt" {
				opts = append(opts, authcoretest.WithBolt())
			}
			e := setup(t, nil, opts...)
			org, _, _ := e.orgA()
			id := e.invite(e.alice, org, "bob@example.com", "member")
			var wg sync.WaitGroup
			var mu sync.Mutex
			codes := map[int]int{}
			for range 20 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := e.bob.Post("/organization/accept-invitation", map[string]any{"invitationId": id})
					mu.Lock()
					codes[r.StatusCode]++
					mu.Unlock()
				}()
			}
			wg.Wait()
			if codes[200] != 1 || codes[500] != 0 {
				t.Fatalf("statuses %v", codes)
			}
			if n := e.count(organization.ModelMember, storage.And(storage.Eq("organizationId", org), storage.Eq("userId", e.bobID))); n != 1 {
				t.Fatalf("%d member rows", n)
			}
			if e.invitation(id).String("status") != "accepted" {
				t.Fatal("invitation not accepted")
			}
		})
	}
}

// Hostile input is a 4xx envelope, never a 500.
func TestHostileInput(t *testing.T) {
	e := setup(t, nil)
	org, carolM, _ := e.orgA()
	id := e.invite(e.alice, org, "bob@example.com", "member")
	huge := strings.Repeat("a", 20000)
	odd := []any{nil, 1, true, []any{1, 2}, map[string]any{"$ne": ""}, huge, "\u0000", "../../etc", "a,b,c", ""}
	routes := map[string][]string{
		"/organization/create":             {"name", "slug", "logo", "metadata", "keepCurrentActiveOrganization", "userId"},
		"/organization/check-slug":         {"slug"},
		"/organization/update":             {"data", "organizationId"},
		"/organization/delete":             {"organizationId"},
		"/organization/set-active":         {"organizationId", "organizationSlug"},
		"/organization/invite-member":      {"email", "role", "organizationId", "resend", "teamId"},
		"/organization/accept-invitation":  {"invitationId"},
		"/organization/reject-invitation":  {"invitationId"},
		"/organization/cancel-invitation":  {"invitationId"},
		"/organization/remove-member":      {"memberIdOrEmail", "organizationId"},
		"/organization/update-member-role": {"role", "memberId", "organizationId"},
		"/organization/leave":              {"organizationId"},
		"/organization/has-permission":     {"permissions", "permission", "organizationId"},
	}
	base := map[string]map[string]any{
		"/organization/create":             {"name": "N", "slug": "s-hostile"},
		"/organization/update":             {"data": map[string]any{"name": "N"}, "organizationId": org},
		"/organization/invite-member":      {"email": "z@example.com", "role": "member", "organizationId": org},
		"/organization/accept-invitation":  {"invitationId": id},
		"/organization/update-member-role": {"memberId": carolM, "role": "admin", "organizationId": org},
		"/organization/has-permission":     {"permissions": map[string]any{"ac": []any{"read"}}, "organizationId": org},
	}
	for path, fields := range routes {
		for _, f := range fields {
			for _, v := range odd {
				body := map[string]any{}
				for k, bv := range base[path] {
					body[k] = bv
				}
				body[f] = v
				r := e.mallory.Post(path, body)
				if r.StatusCode >= 500 {
					t.Errorf("%s %s=%.40v: %d %s", path, f, v, r.StatusCode, r.Body)
				}
				if r.StatusCode >= 400 && r.Object()["message"] == nil && r.StatusCode != 404 {
					t.Errorf("%s %s=%.40v: %d without an envelope: %s", path, f, v, r.StatusCode, r.Body)
				}
			}
		}
		for _, raw := range []string{"[]", "1", `{"a":`, `"x"`, "null"} {
			if r := e.mallory.Post(path, raw); r.StatusCode >= 500 {
				t.Errorf("%s %s: %d", path, raw, r.StatusCode)
			}
		}
	}
	for _, q := range []string{"/organization/list-members?limit=99999999999999999999", "/organization/list-members?filterValue=a&filterValue=b&filterField=role&filterOperator=in",
		"/organization/get-full-organization?organizationId=" + huge[:5000], "/organization/get-invitation?id=%00",
		"/organization/get-active-member-role?userId[]=x", "/organization/list-members?organizationSlug=%00"} {
		if r := e.mallory.Get(q); r.StatusCode >= 500 {
			t.Errorf("GET %.80s: %d %s", q, r.StatusCode, r.Body)
		}
	}
	// Nothing hostile changed A's members.
	if rs := e.roles(org); len(rs) != 3 || rs[e.mID] != "member" || rs[e.carolID] != "admin" {
		t.Fatalf("members changed: %v", rs)
	}
}

// A hostile organization or inviter name cannot start a mail header.
func TestInvitationHeaderInjection(t *testing.T) {
	e := setup(t, nil)
	r := e.alice.Post("/organization/create", map[string]any{"name": "Evil\r\nBcc: victim@example.net", "slug": "evil"})
	want(t, r, 200, "")
	e.invite(e.alice, str(r.Object(), "id"), "bob@example.com", "member")
	e.h.Drain()
	msgs := e.h.Sent(organization.MessageInvitation, "bob@example.com")
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	if strings.ContainsAny(msgs[0].Subject, "\r\n") || msgs[0].Subject == "" {
		t.Fatalf("subject %q", msgs[0].Subject)
	}
}

// With the portal enabled and no invitation_url, the email links to the portal's landing
// page; an explicit invitation_url still wins.
func TestInvitationURLDefaultsToPortal(t *testing.T) {
	e := setup(t, nil, authcoretest.WithPlugins(&portal.Plugin{}))
	org, _, _ := e.orgA()
	id := e.invite(e.carol, org, "bob@example.com", "member")
	e.h.Drain()
	msgs := e.h.Sent(organization.MessageInvitation, "bob@example.com")
	if len(msgs) != 1 || msgs[0].Data.URL != authcoretest.BaseURL+"/api/auth/ui/accept-invitation?id="+id {
		t.Fatalf("messages %+v", msgs)
	}

	e = setup(t, &organization.Plugin{InvitationURL: "https://app.example/join/{id}"}, authcoretest.WithPlugins(&portal.Plugin{}))
	org, _, _ = e.orgA()
	id = e.invite(e.carol, org, "bob@example.com", "member")
	e.h.Drain()
	if msgs := e.h.Sent(organization.MessageInvitation, "bob@example.com"); len(msgs) != 1 || msgs[0].Data.URL != "https://app.example/join/"+id {
		t.Fatalf("messages %+v", msgs)
	}
}
