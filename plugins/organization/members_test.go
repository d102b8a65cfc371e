package organization_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/plugins/organization"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// The last owner can neither leave, be removed, nor be demoted.
func TestLastOwner(t *testing.T) {
	e := setup(t, nil)
	org, carolM, _ := e.orgA()
	m, _ := e.h.Engine.Store().FindOne(e.ctx(), organization.ModelMember, storage.And(storage.Eq("organizationId", org), storage.Eq("userId", e.aliceID)))
	want(t, e.alice.Post("/organization/leave", map[string]any{"organizationId": org}), 400, "YOU_CANNOT_LEAVE_THE_ORGANIZATION_AS_THE_ONLY_OWNER")
	want(t, e.alice.Post("/organization/remove-member", map[string]any{"memberIdOrEmail": m.ID()}), 400, "YOU_CANNOT_LEAVE_THE_ORGANIZATION_AS_THE_ONLY_OWNER")
	want(t, e.alice.Post("/organization/remove-member", map[string]any{"memberIdOrEmail": "ALICE@example.com"}), 400, "YOU_CANNOT_LEAVE_THE_ORGANIZATION_AS_THE_ONLY_OWNER")
	want(t, e.alice.Post("/organization/update-member-role", map[string]any{"memberId": m.ID(), "role": "admin"}), 400, "YOU_CANNOT_LEAVE_THE_ORGANIZATION_WITHOUT_AN_OWNER")
	if e.roles(org)[e.aliceID] != "owner" {
		t.Fatal("the last owner lost the role")
	}
	// With a second owner, either may go — but not both.
	want(t, e.alice.Post("/organization/update-member-role", map[string]any{"memberId": carolM, "role": "owner"}), 200, "")
	want(t, e.carol.Post("/organization/remove-member", map[string]any{"memberIdOrEmail": m.ID(), "organizationId": org}), 200, "")
	if _, ok := e.roles(org)[e.aliceID]; ok {
		t.Fatal("alice still a member")
	}
	want(t, e.carol.Post("/organization/leave", map[string]any{"organizationId": org}), 400, "YOU_CANNOT_LEAVE_THE_ORGANIZATION_AS_THE_ONLY_OWNER")
	want(t, e.alice.Post("/organization/leave", map[string]any{"organizationId": org}), 400, "MEMBER_NOT_FOUND")
}

func TestMemberRoutes(t *testing.T) {
	e := setup(t, &organization.Plugin{MembershipLimit: 4})
	org, carolM, malloryM := e.orgA()
	for _, c := range e.clients() {
		c.Post("/organization/set-active", map[string]any{"organizationId": org})
	}

	r := e.carol.Get("/organization/get-active-member")
	want(t, r, 200, "")
	if str(r.Object(), "id") != carolM || str(r.Object(), "role") != "admin" || str(r.Object()["user"].(map[string]any), "email") != "carol@example.com" {
		t.Fatalf("get-active-member %s", r.Body)
	}
	want(t, e.bob.Get("/organization/get-active-member"), 400, "NO_ACTIVE_ORGANIZATION")
	r = e.mallory.Get("/organization/get-active-member-role")
	if str(r.Object(), "role") != "member" {
		t.Fatalf("get-active-member-role %s", r.Body)
	}
	r = e.mallory.Get("/organization/get-active-member-role?userId=" + e.carolID)
	if str(r.Object(), "role") != "admin" {
		t.Fatalf("get-active-member-role of carol %s", r.Body)
	}
	want(t, e.mallory.Get("/organization/get-active-member-role?userId="+e.bobID), 403, "YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION")
	want(t, e.bob.Get("/organization/get-active-member-role"), 400, "NO_ACTIVE_ORGANIZATION")

	// list-members: window, sort, filter.
	r = e.mallory.Get("/organization/list-members")
	want(t, r, 200, "")
	if ms, _ := r.Object()["members"].([]any); len(ms) != 3 || r.Object()["total"] != float64(3) {
		t.Fatalf("list-members %s", r.Body)
	}
	r = e.mallory.Get("/organization/list-members?limit=1&offset=1&sortBy=role&sortDirection=asc")
	ms, _ := r.Object()["members"].([]any)
	if len(ms) != 1 || str(ms[0].(map[string]any), "role") != "member" || r.Object()["total"] != float64(3) {
		t.Fatalf("list-members window %s", r.Body)
	}
	r = e.mallory.Get("/organization/list-members?filterField=role&filterValue=admin")
	ms, _ = r.Object()["members"].([]any)
	if len(ms) != 1 || str(ms[0].(map[string]any), "userId") != e.carolID || r.Object()["total"] != float64(1) {
		t.Fatalf("list-members filter %s", r.Body)
	}
	r = e.mallory.Get("/organization/list-members?filterField=role&filterOperator=ne&filterValue=admin")
	if r.Object()["total"] != float64(2) {
		t.Fatalf("list-members ne %s", r.Body)
	}
	for _, q := range []string{"limit=-1", "offset=x", "sortBy=password", "sortBy=role&sortDirection=up",
		"filterField=token&filterValue=1", "filterField=role&filterOperator=regex&filterValue=a", "filterField=createdAt&filterValue=yesterday"} {
		want(t, e.mallory.Get("/organization/list-members?"+q), 400, "VALIDATION_ERROR")
	}
	want(t, e.bob.Get("/organization/list-members"), 400, "NO_ACTIVE_ORGANIZATION")

	// has-permission.
	check := func(who string, perms map[string]any, ok bool) {
		t.Helper()
		c := map[string]*authcoretest.Client{"carol": e.carol, "mallory": e.mallory, "alice": e.alice}[who]
		r := c.Post("/organization/has-permission", map[string]any{"permissions": perms})
		want(t, r, 200, "")
		if r.Object()["success"] != ok || !hasKey(r.Object(), "error") || r.Object()["error"] != nil {
			t.Fatalf("%s %v: %s", who, perms, r.Body)
		}
	}
	check("carol", map[string]any{"member": []any{"create", "delete"}}, true)
	check("carol", map[string]any{"organization": []any{"delete"}}, false)
	check("alice", map[string]any{"organization": []any{"delete"}}, true)
	check("mallory", map[string]any{"ac": []any{"read"}}, true)
	check("mallory", map[string]any{"invitation": []any{"create"}}, false)
	check("mallory", map[string]any{"nonsense": []any{"x"}}, false)
	r = e.mallory.Post("/organization/has-permission", map[string]any{"permission": map[string]any{"ac": []any{"read"}}})
	if r.Object()["success"] != true {
		t.Fatalf("has-permission (permission) %s", r.Body)
	}
	want(t, e.mallory.Post("/organization/has-permission", map[string]any{}), 400, "")
	want(t, e.mallory.Post("/organization/has-permission", map[string]any{"permissions": map[string]any{"ac": "read"}}), 400, "VALIDATION_ERROR")
	want(t, e.bob.Post("/organization/has-permission", map[string]any{"permissions": map[string]any{"ac": []any{"read"}}}), 400, "NO_ACTIVE_ORGANIZATION")

	// update-member-role by an admin; unknown member.
	r = e.carol.Post("/organization/update-member-role", map[string]any{"memberId": malloryM, "role": []any{"member", "admin"}})
	want(t, r, 200, "")
	if str(r.Object(), "role") != "member,admin" || str(r.Object(), "id") != malloryM {
		t.Fatalf("update-member-role %s", r.Body)
	}
	want(t, e.carol.Post("/organization/update-member-role", map[string]any{"memberId": "nope", "role": "member"}), 400, "MEMBER_NOT_FOUND")
	want(t, e.bob.Post("/organization/update-member-role", map[string]any{"memberId": malloryM, "role": "member"}), 400, "NO_ACTIVE_ORGANIZATION")

	// membership_limit (4): alice, carol, mallory + bob; a fifth is refused.
	e.add(org, e.bobID, "member")
	if _, err := e.p.AddMember(e.ctx(), org, e.bobID, []string{"member"}); !isCode(err, "USER_IS_ALREADY_A_MEMBER_OF_THIS_ORGANIZATION") {
		t.Fatalf("AddMember twice: %v", err)
	}
	e.h.SignUp("Extra", "extra@example.com", pw)
	u, _ := e.h.Engine.UserByEmail(e.ctx(), "extra@example.com")
	if _, err := e.p.AddMember(e.ctx(), org, u.ID(), []string{"member"}); !isCode(err, "ORGANIZATION_MEMBERSHIP_LIMIT_REACHED") {
		t.Fatalf("AddMember over the limit: %v", err)
	}
	if _, err := e.p.AddMember(e.ctx(), org, u.ID(), []string{"OWNER"}); !isCode(err, "ROLE_NOT_FOUND") {
		t.Fatalf("AddMember with a bad role: %v", err)
	}
	if _, err := e.p.AddMember(e.ctx(), "nope", u.ID(), []string{"member"}); !isCode(err, "ORGANIZATION_NOT_FOUND") {
		t.Fatalf("AddMember to no organization: %v", err)
	}

	// remove-member by email, then leave: the leaver's active organization is unset.
	r = e.carol.Post("/organization/remove-member", map[string]any{"memberIdOrEmail": "bob@example.com"})
	want(t, r, 200, "")
	if m, _ := r.Object()["member"].(map[string]any); str(m, "userId") != e.bobID {
		t.Fatalf("remove-member %s", r.Body)
	}
	want(t, e.carol.Post("/organization/remove-member", map[string]any{"memberIdOrEmail": "nobody@example.com"}), 400, "MEMBER_NOT_FOUND")
	r = e.mallory.Post("/organization/leave", map[string]any{"organizationId": org})
	want(t, r, 200, "")
	if str(r.Object(), "id") != malloryM || e.activeOrg(e.mID) != "" {
		t.Fatalf("leave %s (active %q)", r.Body, e.activeOrg(e.mID))
	}
	if _, ok := e.roles(org)[e.mID]; ok {
		t.Fatal("mallory still a member after leaving")
	}
}

// The Organizations API: memberships by id and slug, permissions, and a cache that the
// plugin's own writes invalidate at once.
func TestOrganizationsAPI(t *testing.T) {
	e := setup(t, &organization.Plugin{Roles: map[string]map[string][]string{"billing": {"billing": {"read"}}}})
	org, carolM, malloryM := e.orgA()
	api := e.h.Engine.Organizations()
	if api == nil {
		t.Fatal("Engine.Organizations() is nil")
	}
	m, ok, err := api.Membership(e.ctx(), e.carolID, "acme", true)
	if err != nil || !ok || m.OrgID != org || m.OrgSlug != "acme" || m.MemberID != carolM || len(m.Roles) != 1 || m.Roles[0] != "admin" {
		t.Fatalf("Membership by slug: %+v %v %v", m, ok, err)
	}
	if _, ok, _ := api.Membership(e.ctx(), e.bobID, org, false); ok {
		t.Fatal("bob is not a member")
	}
	if _, ok, _ := api.Membership(e.ctx(), e.carolID, "ACME", true); ok {
		t.Fatal("slugs are exact")
	}
	allow := func(m authcore.OrgMembership, perms map[string][]string) bool {
		ok, err := api.Allows(e.ctx(), m, perms)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !allow(m, map[string][]string{"member": {"delete"}}) || allow(m, map[string][]string{"organization": {"delete"}}) {
		t.Fatal("admin permissions")
	}
	if allow(authcore.OrgMembership{OrgID: org, Roles: []string{"Admin"}}, map[string][]string{"ac": {"read"}}) {
		t.Fatal("role names are exact")
	}
	if !allow(authcore.OrgMembership{OrgID: org, Roles: []string{"member", "billing"}}, map[string][]string{"billing": {"read"}}) {
		t.Fatal("custom role")
	}

	// Prime the cache for mallory, then change her role and remove her: each answer is fresh.
	if m, ok, _ := api.Membership(e.ctx(), e.mID, org, false); !ok || m.Roles[0] != "member" {
		t.Fatal("mallory's membership")
	}
	want(t, e.alice.Post("/organization/update-member-role", map[string]any{"memberId": malloryM, "role": "admin", "organizationId": org}), 200, "")
	if m, ok, _ := api.Membership(e.ctx(), e.mID, org, false); !ok || m.Roles[0] != "admin" {
		t.Fatalf("after update-member-role: %+v", m)
	}
	want(t, e.alice.Post("/organization/remove-member", map[string]any{"memberIdOrEmail": malloryM, "organizationId": org}), 200, "")
	if _, ok, _ := api.Membership(e.ctx(), e.mID, org, false); ok {
		t.Fatal("removed member still a member (stale cache)")
	}
	// Slug changes and deletion invalidate too.
	if _, ok, _ := api.Membership(e.ctx(), e.carolID, "acme", true); !ok {
		t.Fatal("carol by slug")
	}
	want(t, e.alice.Post("/organization/update", map[string]any{"organizationId": org, "data": map[string]any{"slug": "acme2"}}), 200, "")
	if _, ok, _ := api.Membership(e.ctx(), e.carolID, "acme", true); ok {
		t.Fatal("old slug still resolves")
	}
	if _, ok, _ := api.Membership(e.ctx(), e.carolID, org, false); !ok {
		t.Fatal("carol by id")
	}
	want(t, e.alice.Post("/organization/delete", map[string]any{"organizationId": org}), 200, "")
	if _, ok, _ := api.Membership(e.ctx(), e.carolID, org, false); ok {
		t.Fatal("deleted organization still has members (stale cache)")
	}
	// Entries expire on their own within 5 s, even for writes made behind the plugin's back.
	org2 := e.createOrg(e.bob, "Bravo", "bravo")
	if _, ok, _ := api.Membership(e.ctx(), e.bobID, org2, false); !ok {
		t.Fatal("bob in bravo")
	}
	if _, err := e.h.Engine.Store().DeleteMany(e.ctx(), organization.ModelMember, storage.Eq("organizationId", org2)); err != nil {
		t.Fatal(err)
	}
	e.h.Clock.Advance(6e9)
	if _, ok, _ := api.Membership(e.ctx(), e.bobID, org2, false); ok {
		t.Fatal("cache entry outlived its TTL")
	}
}

func isCode(err error, code string) bool {
	if err == nil {
		return false
	}
	ae := authcore.AsError(err)
	return ae.Code == code && ae.Status != http.StatusInternalServerError
}

func hasKey(m map[string]any, k string) bool { _, ok := m[k]; return ok }

// Two owners removing each other (or both leaving) at once never leave the organization
// without an owner: the owner count is checked in the deleting transaction.
func TestConcurrentOwnerRemoval(t *testing.T) {
	for _, name := range []string{"memory", "bolt"} {
		t.Run(name, func(t *testing.T) {
			var opts []authcoretest.Option
			if name == "bolt" {
				opts = append(opts, authcoretest.WithBolt())
			}
			e := setup(t, nil, opts...)
			for round := range 5 {
				org := e.createOrg(e.alice, "Round", fmt.Sprintf("round-%d", round))
				carolM := e.add(org, e.carolID, "owner")
				m, _ := e.h.Engine.Store().FindOne(e.ctx(), organization.ModelMember, storage.And(storage.Eq("organizationId", org), storage.Eq("userId", e.aliceID)))
				var wg sync.WaitGroup
				wg.Add(4)
				go func() {
					defer wg.Done()
					e.alice.Post("/organization/remove-member", map[string]any{"organizationId": org, "memberIdOrEmail": carolM})
				}()
				go func() {
					defer wg.Done()
					e.carol.Post("/organization/remove-member", map[string]any{"organizationId": org, "memberIdOrEmail": m.ID()})
				}()
				go func() { defer wg.Done(); e.alice.Post("/organization/leave", map[string]any{"organizationId": org}) }()
				go func() { defer wg.Done(); e.carol.Post("/organization/leave", map[string]any{"organizationId": org}) }()
				wg.Wait()
				owners := 0
				for _, r := range e.roles(org) {
					if r == "owner" {
						owners++
					}
				}
				if owners != 1 {
					t.Fatalf("round %d: %d owners left: %v", round, owners, e.roles(org))
				}
			}
		})
	}
}
