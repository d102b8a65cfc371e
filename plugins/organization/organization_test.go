package organization_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/plugins/organization"
	"github.com/gatehouse-auth/gatehouse/storage"
)

const (
	pw            = "correct-horse-battery-staple"
	sessionCookie = "better-auth.session_token"
)

type env struct {
	t                            *testing.T
	h                            *authcoretest.Harness
	p                            *organization.Plugin
	alice, bob, carol, mallory   *authcoretest.Client
	aliceID, bobID, carolID, mID string
}

func setup(t *testing.T, p *organization.Plugin, opts ...authcoretest.Option) *env {
	t.Helper()
	if p == nil {
		p = &organization.Plugin{}
	}
	h := authcoretest.New(t, append([]authcoretest.Option{authcoretest.WithPlugins(p)}, opts...)...)
	e := &env{t: t, h: h, p: p}
	var u map[string]any
	e.alice, u = h.SignUp("Alice", "alice@example.com", pw)
	e.aliceID = userID(u)
	e.bob, u = h.SignUp("Bob", "bob@example.com", pw)
	e.bobID = userID(u)
	e.carol, u = h.SignUp("Carol", "carol@example.com", pw)
	e.carolID = userID(u)
	e.mallory, u = h.SignUp("Mallory", "mallory@example.com", pw)
	e.mID = userID(u)
	return e
}

func userID(signUp map[string]any) string {
	u, _ := signUp["user"].(map[string]any)
	id, _ := u["id"].(string)
	return id
}

func (e *env) clients() []*authcoretest.Client {
	return []*authcoretest.Client{e.alice, e.bob, e.carol, e.mallory}
}

func (e *env) ctx() context.Context { return context.Background() }

// createOrg creates an organization as c and returns its id.
func (e *env) createOrg(c *authcoretest.Client, name, slug string) string {
	e.t.Helper()
	r := c.Post("/organization/create", map[string]any{"name": name, "slug": slug})
	if r.StatusCode != http.StatusOK {
		e.t.Fatalf("create %s: %d %s", slug, r.StatusCode, r.Body)
	}
	id, _ := r.Object()["id"].(string)
	return id
}

// add makes userID a member with role through the Go API.
func (e *env) add(orgID, userID, role string) string {
	e.t.Helper()
	m, err := e.p.AddMember(e.ctx(), orgID, userID, strings.Split(role, ","))
	if err != nil {
		e.t.Fatalf("AddMember %s %s: %v", userID, role, err)
	}
	return m.ID()
}

// orgA is alice's organization with carol (admin) and mallory (member).
func (e *env) orgA() (orgID, carolMember, malloryMember string) {
	e.t.Helper()
	orgID = e.createOrg(e.alice, "Acme", "acme")
	return orgID, e.add(orgID, e.carolID, "admin"), e.add(orgID, e.mID, "member")
}

// roles returns the stored role of each member of orgID, by user id.
func (e *env) roles(orgID string) map[string]string {
	e.t.Helper()
	recs, err := e.h.Engine.Store().FindMany(e.ctx(), organization.ModelMember, storage.Query{Where: storage.Eq("organizationId", orgID)})
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range recs {
		out[r.String("userId")] = r.String("role")
	}
	return out
}

func (e *env) count(model string, where storage.Where) int {
	e.t.Helper()
	n, err := e.h.Engine.Store().Count(e.ctx(), model, where)
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *env) org(id string) storage.Record {
	e.t.Helper()
	r, err := e.h.Engine.Store().FindOne(e.ctx(), organization.ModelOrganization, storage.ByID(id))
	if err != nil {
		return nil
	}
	return r
}

// activeOrg returns the stored active organization of userID's sessions (the newest).
func (e *env) activeOrg(userID string) string {
	e.t.Helper()
	recs, err := e.h.Engine.Store().FindMany(e.ctx(), authcore.ModelSession, storage.Query{Where: storage.Eq("userId", userID)})
	if err != nil || len(recs) == 0 {
		e.t.Fatalf("sessions of %s: %v", userID, err)
	}
	return recs[len(recs)-1].String(organization.FieldActiveOrganizationID)
}

func (e *env) setVerified(userID string) {
	e.t.Helper()
	if _, err := e.h.Engine.Store().Update(e.ctx(), authcore.ModelUser, storage.ByID(userID), storage.Record{"emailVerified": true}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) invitation(id string) storage.Record {
	e.t.Helper()
	r, err := e.h.Engine.Store().FindOne(e.ctx(), organization.ModelInvitation, storage.ByID(id))
	if err != nil {
		e.t.Fatalf("invitation %s: %v", id, err)
	}
	return r
}

// want checks a response's status and, when code is not empty, its error code.
func want(t *testing.T, r *authcoretest.Response, status int, code string) {
	t.Helper()
	if r.StatusCode != status || (code != "" && r.Code() != code) {
		t.Fatalf("got %d %s, want %d %s", r.StatusCode, r.Body, status, code)
	}
}

func str(m map[string]any, k string) string { s, _ := m[k].(string); return s }

func TestCreateAndManageOrganization(t *testing.T) {
	e := setup(t, nil)
	r := e.alice.Post("/organization/create", map[string]any{"name": "Acme", "slug": "acme", "logo": "https://x/l.png",
		"metadata": map[string]any{"plan": "pro"}})
	want(t, r, 200, "")
	o := r.Object()
	orgID := str(o, "id")
	if str(o, "name") != "Acme" || str(o, "slug") != "acme" || str(o, "logo") != "https://x/l.png" || o["createdAt"] == nil {
		t.Fatalf("organization %s", r.Body)
	}
	if md, _ := o["metadata"].(map[string]any); md["plan"] != "pro" {
		t.Fatalf("metadata %v", o["metadata"])
	}
	ms, _ := o["members"].([]any)
	if len(ms) != 1 || str(ms[0].(map[string]any), "role") != "owner" || str(ms[0].(map[string]any), "userId") != e.aliceID {
		t.Fatalf("members %v", o["members"])
	}
	if _, ok := r.SetCookie(sessionCookie); !ok {
		t.Error("create did not re-issue the session cookie")
	}
	if e.activeOrg(e.aliceID) != orgID {
		t.Fatal("create did not set the active organization")
	}
	if e.roles(orgID)[e.aliceID] != "owner" {
		t.Fatal("creator is not stored as owner")
	}

	want(t, e.alice.Post("/organization/check-slug", map[string]any{"slug": "acme"}), 400, "ORGANIZATION_SLUG_ALREADY_TAKEN")
	r = e.alice.Post("/organization/check-slug", map[string]any{"slug": "free"})
	want(t, r, 200, "")
	if r.Object()["status"] != true {
		t.Fatalf("check-slug %s", r.Body)
	}
	want(t, e.h.Client().Post("/organization/check-slug", map[string]any{"slug": "free"}), 401, "")
	want(t, e.bob.Post("/organization/create", map[string]any{"name": "Other", "slug": "acme"}), 400, "ORGANIZATION_ALREADY_EXISTS")

	// keepCurrentActiveOrganization leaves the active organization alone.
	r = e.alice.Post("/organization/create", map[string]any{"name": "Beta", "slug": "beta", "keepCurrentActiveOrganization": true})
	want(t, r, 200, "")
	betaID := str(r.Object(), "id")
	if e.activeOrg(e.aliceID) != orgID {
		t.Fatal("keepCurrentActiveOrganization changed the active organization")
	}

	r = e.alice.Get("/organization/get-organization")
	want(t, r, 200, "")
	if str(r.Object(), "id") != orgID {
		t.Fatalf("get-organization (active) %s", r.Body)
	}
	r = e.alice.Get("/organization/get-organization?organizationSlug=beta")
	if str(r.Object(), "id") != betaID {
		t.Fatalf("get-organization by slug %s", r.Body)
	}
	want(t, e.alice.Get("/organization/get-organization?organizationId=nope"), 400, "ORGANIZATION_NOT_FOUND")
	r = e.bob.Get("/organization/get-organization")
	if r.StatusCode != 200 || string(r.Body) != "null" {
		t.Fatalf("get-organization without active org: %d %s", r.StatusCode, r.Body)
	}

	r = e.alice.Post("/organization/update", map[string]any{"data": map[string]any{"name": "Acme Inc", "slug": "acme-inc",
		"metadata": map[string]any{"plan": "team"}, "logo": nil}})
	want(t, r, 200, "")
	if str(r.Object(), "name") != "Acme Inc" || str(r.Object(), "slug") != "acme-inc" || r.Object()["logo"] != nil {
		t.Fatalf("update %s", r.Body)
	}
	if e.org(orgID).String("slug") != "acme-inc" || e.org(orgID).String("metadata") != `{"plan":"team"}` {
		t.Fatalf("stored %v", e.org(orgID))
	}
	want(t, e.alice.Post("/organization/update", map[string]any{"data": map[string]any{"slug": "beta"}}), 400, "ORGANIZATION_SLUG_ALREADY_TAKEN")
	want(t, e.alice.Post("/organization/update", map[string]any{"data": map[string]any{"name": 7}}), 400, "VALIDATION_ERROR")
	want(t, e.bob.Post("/organization/update", map[string]any{"data": map[string]any{"name": "x"}}), 400, "ORGANIZATION_NOT_FOUND")

	r = e.alice.Get("/organization/list")
	if l, _ := r.JSON().([]any); len(l) != 2 {
		t.Fatalf("list %s", r.Body)
	}
	r = e.bob.Get("/organization/list")
	if string(r.Body) != "[]" {
		t.Fatalf("bob's list %s", r.Body)
	}

	e.add(orgID, e.bobID, "member")
	r = e.alice.Get("/organization/get-full-organization")
	want(t, r, 200, "")
	full := r.Object()
	ms, _ = full["members"].([]any)
	if len(ms) != 2 || full["invitations"] == nil {
		t.Fatalf("full %s", r.Body)
	}
	var u map[string]any
	for _, m := range ms {
		if str(m.(map[string]any), "userId") == e.bobID {
			u, _ = m.(map[string]any)["user"].(map[string]any)
		}
	}
	if str(u, "email") != "bob@example.com" || str(u, "name") != "Bob" || str(u, "id") != e.bobID {
		t.Fatalf("member user %v", u)
	}
	r = e.alice.Get("/organization/get-full-organization?membersLimit=1")
	if ms, _ := r.Object()["members"].([]any); len(ms) != 1 {
		t.Fatalf("membersLimit %s", r.Body)
	}
	want(t, e.alice.Get("/organization/get-full-organization?membersLimit=abc"), 400, "VALIDATION_ERROR")

	// set-active by slug, then unset with null.
	r = e.alice.Post("/organization/set-active", map[string]any{"organizationSlug": "beta"})
	want(t, r, 200, "")
	if str(r.Object(), "id") != betaID || e.activeOrg(e.aliceID) != betaID {
		t.Fatalf("set-active %s", r.Body)
	}
	if _, ok := r.SetCookie(sessionCookie); !ok {
		t.Error("set-active did not re-issue the session cookie")
	}
	r = e.alice.Get("/get-session")
	if s, _ := r.Object()["session"].(map[string]any); str(s, "activeOrganizationId") != betaID {
		t.Fatalf("get-session after set-active %s", r.Body)
	}
	r = e.alice.Post("/organization/set-active", map[string]any{"organizationId": nil})
	if r.StatusCode != 200 || string(r.Body) != "null" || e.activeOrg(e.aliceID) != "" {
		t.Fatalf("unset active %d %s", r.StatusCode, r.Body)
	}
	want(t, e.alice.Post("/organization/set-active", map[string]any{"organizationSlug": "nope"}), 400, "ORGANIZATION_NOT_FOUND")
	want(t, e.alice.Post("/organization/set-active", map[string]any{"organizationId": orgID}), 200, "")

	// delete: bob (member) may not, alice (owner) may; members and sessions follow.
	e.bob.Post("/organization/set-active", map[string]any{"organizationId": orgID})
	want(t, e.bob.Post("/organization/delete", map[string]any{"organizationId": orgID}), 403, "YOU_ARE_NOT_ALLOWED_TO_DELETE_THIS_ORGANIZATION")
	r = e.alice.Post("/organization/delete", map[string]any{"organizationId": orgID})
	want(t, r, 200, "")
	if str(r.Object(), "id") != orgID || e.org(orgID) != nil {
		t.Fatalf("delete %s", r.Body)
	}
	if n := e.count(organization.ModelMember, storage.Eq("organizationId", orgID)); n != 0 {
		t.Fatalf("%d members left after delete", n)
	}
	if e.activeOrg(e.aliceID) != "" || e.activeOrg(e.bobID) != "" {
		t.Fatal("a session still has the deleted organization active")
	}
	want(t, e.alice.Post("/organization/delete", map[string]any{"organizationId": orgID}), 403, "USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION")
	want(t, e.h.Client().Get("/organization/list"), 401, "")
}

// userId on create is server-only; limits and the creation switch.
func TestCreateRules(t *testing.T) {
	e := setup(t, &organization.Plugin{OrganizationLimit: 1})
	want(t, e.alice.Post("/organization/create", map[string]any{"name": "A", "slug": "a", "userId": e.bobID}), 400, "FIELD_NOT_ALLOWED")
	if e.count(organization.ModelOrganization, storage.Where{}) != 0 {
		t.Fatal("organization created despite userId")
	}
	e.createOrg(e.alice, "A", "a")
	want(t, e.alice.Post("/organization/create", map[string]any{"name": "B", "slug": "b"}), 403, "YOU_HAVE_REACHED_THE_MAXIMUM_NUMBER_OF_ORGANIZATIONS")
	want(t, e.alice.Post("/organization/create", map[string]any{"name": "", "slug": "c"}), 400, "VALIDATION_ERROR")

	e2 := setup(t, &organization.Plugin{DisallowUserToCreateOrganization: true, DisableOrganizationDeletion: true})
	want(t, e2.alice.Post("/organization/create", map[string]any{"name": "A", "slug": "a"}), 403, "YOU_ARE_NOT_ALLOWED_TO_CREATE_A_NEW_ORGANIZATION")
	// The Go API still creates.
	alice, _ := e2.h.Engine.UserByEmail(context.Background(), "alice@example.com")
	org, _, err := e2.p.CreateOrganization(context.Background(), alice, organization.OrganizationInput{Name: "A", Slug: "a"})
	if err != nil {
		t.Fatal(err)
	}
	r := e2.alice.Post("/organization/delete", map[string]any{"organizationId": org.ID()})
	want(t, r, 404, "ORGANIZATION_DELETION_DISABLED")
	if e2.org(org.ID()) == nil {
		t.Fatal("organization deleted although deletion is disabled")
	}
}

// ORG-02: mallory, a member of A only, reaches for B.
func TestCrossTenant(t *testing.T) {
	e := setup(t, nil)
	orgA, _, _ := e.orgA()
	orgB := e.createOrg(e.bob, "Bravo", "bravo")
	bobMember := ""
	for _, r := range []string{e.bobID} {
		m, _ := e.h.Engine.Store().FindOne(e.ctx(), organization.ModelMember, storage.And(storage.Eq("organizationId", orgB), storage.Eq("userId", r)))
		bobMember = m.ID()
	}
	r := e.bob.Post("/organization/invite-member", map[string]any{"email": "dave@example.com", "role": "member"})
	want(t, r, 200, "")
	bInv := str(r.Object(), "id")
	e.mallory.Post("/organization/set-active", map[string]any{"organizationId": orgA})

	want(t, e.mallory.Get("/organization/list-members?organizationId="+orgB), 403, "YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION")
	want(t, e.mallory.Get("/organization/list-members?organizationSlug=bravo"), 403, "YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION")
	want(t, e.mallory.Post("/organization/invite-member", map[string]any{"email": "eve@example.com", "role": "member", "organizationId": orgB}), 403, "USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION")
	want(t, e.mallory.Post("/organization/update", map[string]any{"organizationId": orgB, "data": map[string]any{"name": "Pwned"}}), 403, "USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION")
	want(t, e.mallory.Post("/organization/delete", map[string]any{"organizationId": orgB}), 403, "USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION")
	want(t, e.mallory.Post("/organization/set-active", map[string]any{"organizationId": orgB}), 403, "USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION")
	want(t, e.mallory.Post("/organization/set-active", map[string]any{"organizationSlug": "bravo"}), 403, "USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION")
	want(t, e.mallory.Get("/organization/get-full-organization?organizationId="+orgB), 403, "USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION")
	want(t, e.mallory.Get("/organization/get-organization?organizationSlug=bravo"), 403, "USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION")
	want(t, e.mallory.Get("/organization/list-invitations?organizationId="+orgB), 403, "YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION")
	want(t, e.mallory.Get("/organization/get-active-member-role?organizationId="+orgB), 403, "YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION")
	want(t, e.mallory.Post("/organization/has-permission", map[string]any{"organizationId": orgB, "permissions": map[string]any{"member": []any{"create"}}}), 401, "USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION")
	want(t, e.mallory.Post("/organization/cancel-invitation", map[string]any{"invitationId": bInv}), 400, "MEMBER_NOT_FOUND")
	want(t, e.mallory.Post("/organization/remove-member", map[string]any{"memberIdOrEmail": bobMember, "organizationId": orgB}), 400, "MEMBER_NOT_FOUND")
	want(t, e.mallory.Post("/organization/update-member-role", map[string]any{"memberId": bobMember, "role": "member", "organizationId": orgB}), 400, "MEMBER_NOT_FOUND")
	// Naming A while pointing at B's member: the member is not A's. Carol (admin of A) tries.
	want(t, e.carol.Post("/organization/remove-member", map[string]any{"memberIdOrEmail": bobMember, "organizationId": orgA}), 400, "MEMBER_NOT_FOUND")
	want(t, e.carol.Post("/organization/remove-member", map[string]any{"memberIdOrEmail": "bob@example.com", "organizationId": orgA}), 400, "MEMBER_NOT_FOUND")
	want(t, e.carol.Post("/organization/update-member-role", map[string]any{"memberId": bobMember, "role": "member", "organizationId": orgA}), 403, "YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_MEMBER")

	// Nothing in B changed, and mallory's active organization is still A.
	if o := e.org(orgB); o == nil || o.String("name") != "Bravo" {
		t.Fatalf("B changed: %v", o)
	}
	if rs := e.roles(orgB); len(rs) != 1 || rs[e.bobID] != "owner" {
		t.Fatalf("B members changed: %v", rs)
	}
	if inv := e.invitation(bInv); inv.String("status") != "pending" {
		t.Fatalf("B invitation %v", inv)
	}
	if n := e.count(organization.ModelInvitation, storage.Eq("organizationId", orgB)); n != 1 {
		t.Fatalf("%d invitations in B", n)
	}
	if e.activeOrg(e.mID) != orgA {
		t.Fatalf("mallory's active organization is %q", e.activeOrg(e.mID))
	}
	// The Go API agrees.
	if _, ok, _ := e.p.Membership(e.ctx(), e.mID, orgB, false); ok {
		t.Fatal("Membership says mallory is in B")
	}
}

// ORG-01: role escalation in org A (owner alice, admin carol, member mallory).
func TestRoleEscalation(t *testing.T) {
	e := setup(t, nil)
	orgA, carolM, malloryM := e.orgA()
	aliceM := ""
	if m, err := e.p.AddMember(e.ctx(), orgA, e.aliceID, []string{"owner"}); err == nil {
		t.Fatalf("alice added twice: %v", m)
	}
	for id, r := range e.roles(orgA) {
		if id == e.aliceID && r == "owner" {
			m, _ := e.h.Engine.Store().FindOne(e.ctx(), organization.ModelMember, storage.And(storage.Eq("organizationId", orgA), storage.Eq("userId", id)))
			aliceM = m.ID()
		}
	}
	before := e.roles(orgA)
	invite := func(c *authcoretest.Client, role any) *authcoretest.Response {
		return c.Post("/organization/invite-member", map[string]any{"email": "new@example.com", "role": role, "organizationId": orgA})
	}
	want(t, invite(e.mallory, "owner"), 403, "YOU_ARE_NOT_ALLOWED_TO_INVITE_USERS_TO_THIS_ORGANIZATION")
	want(t, invite(e.mallory, "admin"), 403, "YOU_ARE_NOT_ALLOWED_TO_INVITE_USERS_TO_THIS_ORGANIZATION")
	want(t, invite(e.carol, "owner"), 403, "YOU_ARE_NOT_ALLOWED_TO_INVITE_USER_WITH_THIS_ROLE")
	want(t, invite(e.carol, "owner,admin"), 403, "YOU_ARE_NOT_ALLOWED_TO_INVITE_USER_WITH_THIS_ROLE")
	want(t, invite(e.carol, []any{"admin", "owner"}), 403, "YOU_ARE_NOT_ALLOWED_TO_INVITE_USER_WITH_THIS_ROLE")
	for _, bad := range []any{"OWNER", " owner", "owner\u0000", "superadmin", "admin,superadmin", "", []any{}, 5} {
		r := invite(e.alice, bad)
		if r.StatusCode != 400 {
			t.Errorf("invite with role %q: %d %s", bad, r.StatusCode, r.Body)
		}
	}
	want(t, invite(e.alice, "OWNER"), 400, "ROLE_NOT_FOUND")

	upd := func(c *authcoretest.Client, memberID string, role any) *authcoretest.Response {
		return c.Post("/organization/update-member-role", map[string]any{"memberId": memberID, "role": role, "organizationId": orgA})
	}
	want(t, upd(e.carol, aliceM, "member"), 403, "YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_MEMBER")
	want(t, upd(e.carol, aliceM, "admin"), 403, "YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_MEMBER")
	want(t, upd(e.carol, carolM, "owner"), 403, "YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_MEMBER")
	want(t, upd(e.carol, malloryM, "owner"), 403, "YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_MEMBER")
	want(t, upd(e.carol, carolM, "owner,admin"), 403, "YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_MEMBER")
	want(t, upd(e.mallory, malloryM, "admin"), 403, "YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_MEMBER")
	want(t, upd(e.mallory, carolM, "member"), 403, "YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_MEMBER")
	for _, bad := range []string{"OWNER", " owner", "superadmin", "Admin", "admin,"} {
		want(t, upd(e.alice, malloryM, bad), 400, "ROLE_NOT_FOUND")
	}
	// A NUL never gets as far: the core refuses it while validating the body.
	want(t, upd(e.alice, malloryM, "owner\u0000"), 400, "")
	want(t, e.carol.Post("/organization/remove-member", map[string]any{"memberIdOrEmail": aliceM, "organizationId": orgA}), 403, "YOU_ARE_NOT_ALLOWED_TO_DELETE_THIS_MEMBER")
	want(t, e.carol.Post("/organization/remove-member", map[string]any{"memberIdOrEmail": "alice@example.com", "organizationId": orgA}), 403, "YOU_ARE_NOT_ALLOWED_TO_DELETE_THIS_MEMBER")
	want(t, e.mallory.Post("/organization/remove-member", map[string]any{"memberIdOrEmail": carolM, "organizationId": orgA}), 401, "YOU_ARE_NOT_ALLOWED_TO_DELETE_THIS_MEMBER")

	after := e.roles(orgA)
	if len(after) != len(before) {
		t.Fatalf("members changed: %v → %v", before, after)
	}
	for id, r := range before {
		if after[id] != r {
			t.Fatalf("role of %s changed: %q → %q", id, r, after[id])
		}
	}
	if n := e.count(organization.ModelInvitation, storage.Where{}); n != 0 {
		t.Fatalf("%d invitations stored", n)
	}

	// What is allowed: carol (admin) invites an admin and demotes mallory's peer; alice
	// (owner) grants owner.
	want(t, invite(e.carol, "admin"), 200, "")
	want(t, upd(e.carol, malloryM, "admin"), 200, "")
	r := upd(e.alice, carolM, []any{"owner", "admin"})
	want(t, r, 200, "")
	if str(r.Object(), "role") != "owner,admin" || e.roles(orgA)[e.carolID] != "owner,admin" {
		t.Fatalf("owner grant %s", r.Body)
	}
}

// A custom role that may invite or update members cannot hand out more than it holds.
func TestCustomRoleCannotEscalate(t *testing.T) {
	e := setup(t, &organization.Plugin{Roles: map[string]map[string][]string{
		"recruiter": {"invitation": {"create"}, "ac": {"read"}},
		"manager":   {"member": {"update"}, "ac": {"read"}},
		// admin redefined with every owner permission: still not an owner.
		"admin": {"organization": {"update", "delete"}, "member": {"create", "update", "delete"},
			"invitation": {"create", "cancel"}, "team": {"create", "update", "delete"}, "ac": {"create", "read", "update", "delete"}},
	}})
	orgX := e.createOrg(e.alice, "Xeno", "xeno")
	e.add(orgX, e.carolID, "admin")
	want(t, e.carol.Post("/organization/invite-member", map[string]any{"email": "o@example.com", "role": "owner", "organizationId": orgX}), 403, "YOU_ARE_NOT_ALLOWED_TO_INVITE_USER_WITH_THIS_ROLE")
	want(t, e.carol.Post("/organization/invite-member", map[string]any{"email": "o@example.com", "role": "admin", "organizationId": orgX}), 200, "")
	org := e.createOrg(e.alice, "Acme", "acme")
	e.add(org, e.bobID, "recruiter")
	carolM := e.add(org, e.carolID, "manager")
	malloryM := e.add(org, e.mID, "member")
	inv := func(role string) *authcoretest.Response {
		return e.bob.Post("/organization/invite-member", map[string]any{"email": "x-" + role + "@example.com", "role": role, "organizationId": org})
	}
	want(t, inv("recruiter"), 200, "")
	want(t, inv("member"), 200, "")
	want(t, inv("admin"), 403, "YOU_ARE_NOT_ALLOWED_TO_INVITE_USER_WITH_THIS_ROLE")
	want(t, inv("manager"), 403, "YOU_ARE_NOT_ALLOWED_TO_INVITE_USER_WITH_THIS_ROLE")
	upd := func(memberID, role string) *authcoretest.Response {
		return e.carol.Post("/organization/update-member-role", map[string]any{"memberId": memberID, "role": role, "organizationId": org})
	}
	want(t, upd(malloryM, "admin"), 403, "YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_MEMBER")
	want(t, upd(carolM, "admin"), 403, "YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_MEMBER")
	want(t, upd(carolM, "manager,recruiter"), 403, "YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_MEMBER")
	if rs := e.roles(org); rs[e.carolID] != "manager" || rs[e.mID] != "member" {
		t.Fatalf("roles changed: %v", rs)
	}
	want(t, upd(malloryM, "manager"), 200, "")
	if e.roles(org)[e.mID] != "manager" {
		t.Fatal("manager could not grant manager")
	}
}
