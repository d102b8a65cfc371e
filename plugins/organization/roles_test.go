package organization_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/plugins/organization"
	"github.com/gatehouse-auth/gatehouse/storage"
)

func rolesPlugin() *organization.Plugin {
	return &organization.Plugin{
		DynamicAccessControl: organization.DynamicAccessControl{Enabled: true},
		Roles: map[string]map[string][]string{
			// A configured role with a custom resource, and one that may only create roles.
			"billing-admin": {"invoice": {"read", "refund"}, "ac": {"create", "read", "update", "delete"}},
			"role-maker":    {"ac": {"create"}},
			"nobody":        {},
		},
	}
}

// roleEnv is organization A with an owner, an admin, a plain member and members holding the
// configured roles, and organization B with its own owner.
type roleEnv struct {
	*fix
	orgA, orgB                                   string
	owner, admin, plain, biller, maker, ownerB   *authcoretest.Client
	ownerID, adminID, plainID, billerID, makerID string
	ownerBID                                     string
	nobody, outsider                             *authcoretest.Client
}

func newRoleEnv(t *testing.T, p *organization.Plugin, opts ...authcoretest.Option) *roleEnv {
	t.Helper()
	e := &roleEnv{fix: newFix(t, p, opts...)}
	e.owner, e.ownerID = e.user("Owner")
	e.admin, e.adminID = e.user("Admin")
	e.plain, e.plainID = e.user("Plain")
	e.biller, e.billerID = e.user("Biller")
	e.maker, e.makerID = e.user("Maker")
	e.ownerB, e.ownerBID = e.user("OwnerB")
	var nobodyID string
	e.nobody, nobodyID = e.user("Nobody")
	e.outsider, _ = e.user("Outsider")
	e.orgA, e.orgB = e.org("org-a"), e.org("org-b")
	for id, role := range map[string]string{e.ownerID: "owner", e.adminID: "admin", e.plainID: "member",
		e.billerID: "billing-admin", e.makerID: "role-maker", nobodyID: "nobody"} {
		e.member(e.orgA, id, role)
		e.activate(id, e.orgA, "")
	}
	e.member(e.orgB, e.ownerBID, "owner")
	e.activate(e.ownerBID, e.orgB, "")
	return e
}

func (e *roleEnv) roleRec(orgID, name string) storage.Record {
	e.t.Helper()
	rec, err := e.store().FindOne(context.Background(), organization.ModelOrganizationRole,
		storage.And(storage.Eq("organizationId", orgID), storage.Eq("role", name)))
	if err != nil {
		return nil
	}
	return rec
}

// allows asks the authcore.Organizations API, as the gateway does.
func (e *roleEnv) allows(orgID string, roles []string, perms map[string][]string) bool {
	e.t.Helper()
	ok, err := e.h.Engine.Organizations().Allows(context.Background(), authcore.OrgMembership{OrgID: orgID, Roles: roles}, perms)
	if err != nil {
		e.t.Fatal(err)
	}
	return ok
}

func (e *roleEnv) createRole(c *authcoretest.Client, name string, perm map[string]any) *authcoretest.Response {
	e.t.Helper()
	return c.Post(organization.PathCreateRole, map[string]any{"role": name, "permission": perm})
}

func TestRoleRoutesOnlyWhenEnabled(t *testing.T) {
	f := newFix(t, &organization.Plugin{})
	c, _ := f.user("Solo")
	for _, path := range []string{organization.PathCreateRole, organization.PathDeleteRole, organization.PathUpdateRole} {
		if r := c.Post(path, map[string]any{}); r.StatusCode != http.StatusNotFound {
			t.Errorf("%s without dynamic access control: %d", path, r.StatusCode)
		}
	}
	for _, path := range []string{organization.PathListRoles, organization.PathGetRole} {
		if r := c.Get(path); r.StatusCode != http.StatusNotFound {
			t.Errorf("%s without dynamic access control: %d", path, r.StatusCode)
		}
	}
}

func TestCreateRole(t *testing.T) {
	e := newRoleEnv(t, rolesPlugin())
	perm := map[string]any{"member": []any{"create", "update", "create"}, "invitation": []any{"create"}}
	r := e.createRole(e.admin, "Support", perm)
	wantOK(t, "admin creates", r)
	body := r.Object()
	role, _ := body["roleData"].(map[string]any)
	want := map[string]any{"member": []any{"create", "update"}, "invitation": []any{"create"}}
	if body["success"] != true || role["role"] != "support" || role["organizationId"] != e.orgA || role["id"] == nil ||
		!reflect.DeepEqual(role["permission"], want) || !reflect.DeepEqual(body["statements"], want) {
		t.Fatalf("body: %s", r.Body)
	}
	rec := e.roleRec(e.orgA, "support")
	if rec == nil || rec.String("permission") != `{"invitation":["create"],"member":["create","update"]}` {
		t.Fatalf("stored: %v", rec)
	}
	// Explicit organizationId; a custom resource granted by a configured role's holder.
	wantOK(t, "biller grants invoice:read", e.biller.Post(organization.PathCreateRole,
		map[string]any{"role": "auditor", "permission": map[string]any{"invoice": []any{"read"}}, "organizationId": e.orgA}))
	wantOK(t, "empty permission", e.createRole(e.owner, "viewer", map[string]any{}))
}

func TestCreateRoleRefusals(t *testing.T) {
	p := rolesPlugin()
	p.DynamicAccessControl.MaximumRolesPerOrganization = 3
	e := newRoleEnv(t, p)
	wantOK(t, "existing", e.createRole(e.owner, "existing", map[string]any{"member": []any{"create"}}))

	for _, tc := range []struct {
		what   string
		c      *authcoretest.Client
		body   map[string]any
		status int
		code   string
	}{
		{"no active org", e.outsider, map[string]any{"role": "x", "permission": map[string]any{}}, 400, "YOU_MUST_BE_IN_AN_ORGANIZATION_TO_CREATE_A_ROLE"},
		{"built-in name", e.owner, map[string]any{"role": "Admin", "permission": map[string]any{}}, 400, "ROLE_NAME_IS_ALREADY_TAKEN"},
		{"owner name", e.owner, map[string]any{"role": "owner", "permission": map[string]any{}}, 400, "ROLE_NAME_IS_ALREADY_TAKEN"},
		{"configured name", e.owner, map[string]any{"role": "Billing-Admin", "permission": map[string]any{}}, 400, "ROLE_NAME_IS_ALREADY_TAKEN"},
		{"stored name", e.owner, map[string]any{"role": "EXISTING", "permission": map[string]any{}}, 400, "ROLE_NAME_IS_ALREADY_TAKEN"},
		{"cross-tenant", e.ownerB, map[string]any{"role": "x", "permission": map[string]any{}, "organizationId": e.orgA}, 403, "YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION"},
		{"unknown org", e.owner, map[string]any{"role": "x", "permission": map[string]any{}, "organizationId": "nope"}, 403, "YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION"},
		// A member holds only ac:read: reading roles is not creating them.
		{"ac:read only", e.plain, map[string]any{"role": "x", "permission": map[string]any{}}, 403, "YOU_ARE_NOT_ALLOWED_TO_CREATE_A_ROLE"},
		{"unknown resource", e.owner, map[string]any{"role": "x", "permission": map[string]any{"billing": []any{"read"}}}, 400, "INVALID_RESOURCE"},
		{"unknown action", e.owner, map[string]any{"role": "x", "permission": map[string]any{"member": []any{"obliterate"}}}, 400, "INVALID_RESOURCE"},
		// Admins lack organization:delete, so they cannot hand it out.
		{"admin grants organization:delete", e.admin, map[string]any{"role": "x", "permission": map[string]any{"organization": []any{"delete"}}}, 403, "YOU_ARE_NOT_ALLOWED_TO_CREATE_A_ROLE"},
		// The owner does not hold the configured custom resource.
		{"owner grants invoice:refund", e.owner, map[string]any{"role": "x", "permission": map[string]any{"invoice": []any{"refund"}}}, 403, "YOU_ARE_NOT_ALLOWED_TO_CREATE_A_ROLE"},
		// ac:create alone lets one create roles granting nothing else.
		{"role-maker grants member:create", e.maker, map[string]any{"role": "x", "permission": map[string]any{"member": []any{"create"}}}, 403, "YOU_ARE_NOT_ALLOWED_TO_CREATE_A_ROLE"},
		{"comma in name", e.owner, map[string]any{"role": "a,owner", "permission": map[string]any{}}, 400, "VALIDATION_ERROR"},
		{"space in name", e.owner, map[string]any{"role": "a b", "permission": map[string]any{}}, 400, "VALIDATION_ERROR"},
	} {
		wantErr(t, tc.what, tc.c.Post(organization.PathCreateRole, tc.body), tc.status, tc.code)
	}
	if n := e.count(organization.ModelOrganizationRole, storage.Where{}); n != 1 {
		t.Fatalf("refused creations stored roles: %d", n)
	}
	wantOK(t, "role-maker grants ac:create", e.createRole(e.maker, "maker2", map[string]any{"ac": []any{"create"}}))
	wantOK(t, "third", e.createRole(e.owner, "third", map[string]any{}))
	wantErr(t, "limit", e.createRole(e.owner, "fourth", map[string]any{}), 400, "TOO_MANY_ROLES")
	// The limit is per organization.
	wantOK(t, "B", e.createRole(e.ownerB, "fourth", map[string]any{}))
}

// The role limit holds under concurrent creations.
func TestCreateRoleLimitConcurrent(t *testing.T) {
	forStores(t, func(t *testing.T, opts ...authcoretest.Option) {
		p := rolesPlugin()
		p.DynamicAccessControl.MaximumRolesPerOrganization = 3
		e := newRoleEnv(t, p, opts...)
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := e.createRole(e.owner, fmt.Sprintf("r%d", i), map[string]any{})
				if r.StatusCode != 200 && r.Code() != "TOO_MANY_ROLES" {
					t.Errorf("create: %d %s", r.StatusCode, r.Body)
				}
			}()
		}
		wg.Wait()
		if n := e.count(organization.ModelOrganizationRole, storage.Eq("organizationId", e.orgA)); n != 3 {
			t.Fatalf("%d roles stored, want 3", n)
		}
	})
}

// A stored role counts in permission checks the moment it is created, updated or deleted,
// and membership answers follow a rename at once (the cache is invalidated).
func TestStoredRoleTakesEffectAtOnce(t *testing.T) {
	e := newRoleEnv(t, rolesPlugin())
	ctx := context.Background()
	perms := map[string][]string{"invitation": {"create"}}
	if e.allows(e.orgA, []string{"inviter"}, perms) {
		t.Fatal("unknown role allowed")
	}
	wantOK(t, "create", e.createRole(e.admin, "inviter", map[string]any{"invitation": []any{"create"}}))
	if !e.allows(e.orgA, []string{"inviter"}, perms) {
		t.Fatal("created role not counted")
	}
	if e.allows(e.orgB, []string{"inviter"}, perms) {
		t.Fatal("A's role counted in B")
	}
	// A member holding the role, seen through the Organizations API (and its cache).
	_, holderID := e.user("Holder")
	e.member(e.orgA, holderID, "member,inviter")
	orgs := e.h.Engine.Organizations()
	m, ok, err := orgs.Membership(ctx, holderID, e.orgA, false)
	if err != nil || !ok || !reflect.DeepEqual(m.Roles, []string{"member", "inviter"}) {
		t.Fatalf("membership: %v %v %v", m, ok, err)
	}
	if ok, _ := orgs.Allows(ctx, m, perms); !ok {
		t.Fatal("holder not allowed")
	}

	wantOK(t, "update", e.admin.Post(organization.PathUpdateRole, map[string]any{"roleName": "inviter",
		"data": map[string]any{"permission": map[string]any{"invitation": []any{"cancel"}}}}))
	if e.allows(e.orgA, []string{"inviter"}, perms) || !e.allows(e.orgA, []string{"inviter"}, map[string][]string{"invitation": {"cancel"}}) {
		t.Fatal("updated permissions not counted")
	}

	wantOK(t, "rename", e.admin.Post(organization.PathUpdateRole, map[string]any{"roleName": "inviter",
		"data": map[string]any{"roleName": "Canceller"}}))
	m, ok, err = orgs.Membership(ctx, holderID, e.orgA, false)
	if err != nil || !ok || !reflect.DeepEqual(m.Roles, []string{"member", "canceller"}) {
		t.Fatalf("membership after rename (stale cache?): %v %v %v", m, ok, err)
	}
	if ok, _ := orgs.Allows(ctx, m, map[string][]string{"invitation": {"cancel"}}); !ok {
		t.Fatal("renamed role lost its permissions")
	}
	if e.allows(e.orgA, []string{"inviter"}, map[string][]string{"invitation": {"cancel"}}) {
		t.Fatal("old name still grants")
	}

	wantErr(t, "delete while held", e.admin.Post(organization.PathDeleteRole, map[string]any{"roleName": "canceller"}),
		400, "ROLE_IS_ASSIGNED_TO_MEMBERS")
	if _, err := e.store().UpdateMany(ctx, organization.ModelMember, storage.Eq("userId", holderID), storage.Record{"role": "member"}); err != nil {
		t.Fatal(err)
	}
	wantOK(t, "delete", e.admin.Post(organization.PathDeleteRole, map[string]any{"roleName": "canceller"}))
	if e.allows(e.orgA, []string{"canceller"}, map[string][]string{"invitation": {"cancel"}}) {
		t.Fatal("deleted role still grants")
	}
}

func TestDeleteRole(t *testing.T) {
	e := newRoleEnv(t, rolesPlugin())
	wantOK(t, "create", e.createRole(e.owner, "temp", map[string]any{}))
	wantOK(t, "create B", e.createRole(e.ownerB, "temp", map[string]any{}))
	roleB := e.roleRec(e.orgB, "temp")

	for _, tc := range []struct {
		what   string
		c      *authcoretest.Client
		body   map[string]any
		status int
		code   string
	}{
		{"no active org", e.outsider, map[string]any{"roleName": "temp"}, 400, "NO_ACTIVE_ORGANIZATION"},
		{"not a member", e.ownerB, map[string]any{"roleName": "temp", "organizationId": e.orgA}, 403, "YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION"},
		{"member", e.plain, map[string]any{"roleName": "temp"}, 403, "YOU_ARE_NOT_ALLOWED_TO_DELETE_A_ROLE"},
		{"built-in", e.owner, map[string]any{"roleName": "admin"}, 400, "CANNOT_DELETE_A_PRE_DEFINED_ROLE"},
		{"configured", e.owner, map[string]any{"roleName": "billing-admin"}, 400, "CANNOT_DELETE_A_PRE_DEFINED_ROLE"},
		{"unknown", e.owner, map[string]any{"roleName": "ghost"}, 400, "ROLE_NOT_FOUND"},
		// B's role addressed by id from A.
		{"cross-tenant id", e.owner, map[string]any{"roleId": roleB.ID()}, 400, "ROLE_NOT_FOUND"},
		{"neither", e.owner, map[string]any{}, 400, "VALIDATION_ERROR"},
	} {
		wantErr(t, tc.what, tc.c.Post(organization.PathDeleteRole, tc.body), tc.status, tc.code)
	}
	if e.roleRec(e.orgB, "temp") == nil || e.roleRec(e.orgA, "temp") == nil {
		t.Fatal("refused deletions removed a role")
	}
	// Held as one of several roles.
	_, uid := e.user("Holder")
	mem := e.member(e.orgA, uid, "admin,temp")
	wantErr(t, "held", e.owner.Post(organization.PathDeleteRole, map[string]any{"roleName": "temp"}), 400, "ROLE_IS_ASSIGNED_TO_MEMBERS")
	// A role name that only contains "temp" is not "temp".
	if _, err := e.store().Update(context.Background(), organization.ModelMember, storage.ByID(mem), storage.Record{"role": "admin,temporary"}); err != nil {
		t.Fatal(err)
	}
	r := e.owner.Post(organization.PathDeleteRole, map[string]any{"roleId": e.roleRec(e.orgA, "temp").ID()})
	wantOK(t, "by id", r)
	if r.Object()["success"] != true || e.roleRec(e.orgA, "temp") != nil || e.roleRec(e.orgB, "temp") == nil {
		t.Fatalf("delete: %s", r.Body)
	}
}

func TestListAndGetRoles(t *testing.T) {
	e := newRoleEnv(t, rolesPlugin())
	wantOK(t, "a", e.createRole(e.owner, "first", map[string]any{"member": []any{"create"}}))
	e.h.Clock.Advance(time.Second)
	wantOK(t, "b", e.createRole(e.owner, "second", map[string]any{}))
	wantOK(t, "B", e.createRole(e.ownerB, "secret", map[string]any{}))

	r := e.plain.Get(organization.PathListRoles)
	wantOK(t, "member lists", r)
	list, _ := r.JSON().([]any)
	if len(list) != 2 {
		t.Fatalf("list: %s", r.Body)
	}
	first := list[0].(map[string]any)
	if first["role"] != "first" || !reflect.DeepEqual(first["permission"], map[string]any{"member": []any{"create"}}) || first["organizationId"] != e.orgA {
		t.Fatalf("first: %v", first)
	}
	wantErr(t, "no ac:read", e.nobody.Get(organization.PathListRoles), 403, "YOU_ARE_NOT_ALLOWED_TO_LIST_A_ROLE")
	wantErr(t, "cross-tenant list", e.ownerB.Get(organization.PathListRoles+"?organizationId="+e.orgA), 403, "YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION")
	wantErr(t, "no org", e.outsider.Get(organization.PathListRoles), 400, "NO_ACTIVE_ORGANIZATION")

	r = e.plain.Get(organization.PathGetRole + "?roleName=first")
	wantOK(t, "get by name", r)
	if r.Object()["id"] != first["id"] || !reflect.DeepEqual(r.Object()["permission"], first["permission"]) {
		t.Fatalf("get: %s", r.Body)
	}
	wantOK(t, "get by id", e.plain.Get(organization.PathGetRole+"?roleId="+first["id"].(string)))
	secret := e.roleRec(e.orgB, "secret").ID()
	wantErr(t, "cross-tenant id", e.owner.Get(organization.PathGetRole+"?roleId="+secret), 400, "ROLE_NOT_FOUND")
	wantErr(t, "cross-tenant org", e.owner.Get(organization.PathGetRole+"?roleId="+secret+"&organizationId="+e.orgB), 403, "YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION")
	wantErr(t, "unknown", e.plain.Get(organization.PathGetRole+"?roleName=ghost"), 400, "ROLE_NOT_FOUND")
	wantErr(t, "no ac:read", e.nobody.Get(organization.PathGetRole+"?roleName=first"), 403, "YOU_ARE_NOT_ALLOWED_TO_READ_A_ROLE")
	wantErr(t, "neither", e.plain.Get(organization.PathGetRole), 400, "VALIDATION_ERROR")
	wantErr(t, "no org", e.outsider.Get(organization.PathGetRole+"?roleName=first"), 400, "NO_ACTIVE_ORGANIZATION")
}

func TestUpdateRole(t *testing.T) {
	e := newRoleEnv(t, rolesPlugin())
	wantOK(t, "create", e.createRole(e.admin, "support", map[string]any{"member": []any{"create"}}))
	wantOK(t, "other", e.createRole(e.admin, "other", map[string]any{}))
	wantOK(t, "B", e.createRole(e.ownerB, "support", map[string]any{"member": []any{"create"}}))
	roleB := e.roleRec(e.orgB, "support")
	// A member and a pending invitation hold the role.
	_, uid := e.user("Holder")
	mem := e.member(e.orgA, uid, "support,member")
	inv := e.create(organization.ModelInvitation, storage.Record{"id": "inv1", "organizationId": e.orgA, "email": "x@example.com",
		"role": "support", "status": "pending", "expiresAt": e.now().Add(time.Hour), "inviterId": e.ownerID, "createdAt": e.now()})

	upd := func(c *authcoretest.Client, body map[string]any) *authcoretest.Response {
		return c.Post(organization.PathUpdateRole, body)
	}
	perm := func(p map[string]any) map[string]any { return map[string]any{"permission": p} }
	for _, tc := range []struct {
		what   string
		c      *authcoretest.Client
		body   map[string]any
		status int
		code   string
	}{
		{"no org", e.outsider, map[string]any{"roleName": "support", "data": perm(map[string]any{})}, 400, "NO_ACTIVE_ORGANIZATION"},
		{"member", e.plain, map[string]any{"roleName": "support", "data": perm(map[string]any{})}, 403, "YOU_ARE_NOT_ALLOWED_TO_UPDATE_A_ROLE"},
		{"not a member", e.ownerB, map[string]any{"roleName": "support", "organizationId": e.orgA, "data": perm(map[string]any{})}, 403, "YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION"},
		{"unknown", e.admin, map[string]any{"roleName": "ghost", "data": perm(map[string]any{})}, 400, "ROLE_NOT_FOUND"},
		{"cross-tenant id", e.admin, map[string]any{"roleId": roleB.ID(), "data": perm(map[string]any{"member": []any{"delete"}})}, 400, "ROLE_NOT_FOUND"},
		{"admin grants organization:delete", e.admin, map[string]any{"roleName": "support", "data": perm(map[string]any{"organization": []any{"delete"}})}, 403, "YOU_ARE_NOT_ALLOWED_TO_UPDATE_A_ROLE"},
		{"unknown resource", e.admin, map[string]any{"roleName": "support", "data": perm(map[string]any{"nuke": []any{"all"}})}, 400, "INVALID_RESOURCE"},
		{"rename to built-in", e.admin, map[string]any{"roleName": "support", "data": map[string]any{"roleName": "Owner"}}, 400, "ROLE_NAME_IS_ALREADY_TAKEN"},
		{"rename to stored", e.admin, map[string]any{"roleName": "support", "data": map[string]any{"roleName": "other"}}, 400, "ROLE_NAME_IS_ALREADY_TAKEN"},
		{"rename with comma", e.admin, map[string]any{"roleName": "support", "data": map[string]any{"roleName": "a,owner"}}, 400, "VALIDATION_ERROR"},
		{"neither", e.admin, map[string]any{"data": perm(map[string]any{})}, 400, "VALIDATION_ERROR"},
	} {
		wantErr(t, tc.what, upd(tc.c, tc.body), tc.status, tc.code)
	}
	if got := e.roleRec(e.orgA, "support").String("permission"); got != `{"member":["create"]}` {
		t.Fatalf("refused updates changed the role: %s", got)
	}
	if got := e.get(organization.ModelOrganizationRole, roleB.ID()).String("permission"); got != `{"member":["create"]}` {
		t.Fatalf("B's role changed: %s", got)
	}

	r := upd(e.admin, map[string]any{"roleName": "support", "data": map[string]any{
		"permission": map[string]any{"member": []any{"update"}, "team": []any{"create"}}, "roleName": "Helpdesk"}})
	wantOK(t, "update and rename", r)
	rd, _ := r.Object()["roleData"].(map[string]any)
	if r.Object()["success"] != true || rd["role"] != "helpdesk" ||
		!reflect.DeepEqual(rd["permission"], map[string]any{"member": []any{"update"}, "team": []any{"create"}}) {
		t.Fatalf("body: %s", r.Body)
	}
	if e.roleRec(e.orgA, "support") != nil || e.roleRec(e.orgA, "helpdesk") == nil || e.roleRec(e.orgB, "support") == nil {
		t.Fatal("rename stored wrong")
	}
	if got := e.get(organization.ModelMember, mem).String("role"); got != "helpdesk,member" {
		t.Fatalf("member role after rename: %q", got)
	}
	if got := e.get(organization.ModelInvitation, inv.ID()).String("role"); got != "helpdesk" {
		t.Fatalf("invitation role after rename: %q", got)
	}
	// Renaming to its own name changes nothing.
	wantOK(t, "same name", upd(e.admin, map[string]any{"roleName": "helpdesk", "data": map[string]any{"roleName": "helpdesk"}}))
}

// Hostile bodies on every role route are a 4xx envelope, never a 500, and store nothing.
func TestRoleRoutesHostileInput(t *testing.T) {
	e := newRoleEnv(t, rolesPlugin())
	wantOK(t, "create", e.createRole(e.owner, "keep", map[string]any{}))
	big := strings.Repeat("r", 10240)
	thousand := map[string]any{}
	for i := range 1000 {
		thousand[fmt.Sprintf("res%d", i)] = []any{"read"}
	}
	manyActions := map[string]any{"member": func() []any {
		out := make([]any, 1000)
		for i := range out {
			out[i] = fmt.Sprintf("a%d", i)
		}
		return out
	}()}
	posts := map[string][]any{
		organization.PathCreateRole: {
			map[string]any{"role": big, "permission": map[string]any{}},
			map[string]any{"role": "x", "permission": thousand},
			map[string]any{"role": "x", "permission": manyActions},
			map[string]any{"role": "x", "permission": "member:create"},
			map[string]any{"role": "x", "permission": []any{"member"}},
			map[string]any{"role": "x", "permission": map[string]any{"member": "create"}},
			map[string]any{"role": "x", "permission": map[string]any{"member": []any{1}}},
			map[string]any{"role": "x", "permission": map[string]any{"member": []any{[]any{"create"}}}},
			map[string]any{"role": 5, "permission": map[string]any{}},
			map[string]any{"role": "x"},
			map[string]any{"permission": map[string]any{}},
			"[]", "{",
		},
		organization.PathDeleteRole: {
			map[string]any{"roleName": big}, map[string]any{"roleId": 1}, map[string]any{"roleName": []any{"keep"}},
		},
		organization.PathUpdateRole: {
			map[string]any{"roleName": "keep", "data": map[string]any{"permission": thousand}},
			map[string]any{"roleName": "keep", "data": map[string]any{"permission": "x"}},
			map[string]any{"roleName": "keep", "data": map[string]any{"permission": map[string]any{"member": map[string]any{}}}},
			map[string]any{"roleName": "keep", "data": map[string]any{"roleName": big}},
			map[string]any{"roleName": "keep", "data": map[string]any{"roleName": 3}},
			map[string]any{"roleName": "keep", "data": []any{}},
			map[string]any{"roleName": "keep"},
			map[string]any{"roleName": big, "data": map[string]any{}},
		},
	}
	for path, bodies := range posts {
		for _, b := range bodies {
			wantClientError(t, fmt.Sprintf("%s %.80v", path, b), e.owner.Post(path, b))
		}
	}
	q := url.QueryEscape(big)
	for _, path := range []string{
		organization.PathGetRole + "?roleName=" + q,
		organization.PathGetRole + "?roleId=" + q,
		organization.PathListRoles + "?organizationId=" + q,
		organization.PathGetRole + "?roleName=a&roleName=b",
	} {
		wantClientError(t, path[:30], e.owner.Get(path))
	}
	recs := e.all(organization.ModelOrganizationRole)
	if len(recs) != 1 || recs[0].String("role") != "keep" || recs[0].String("permission") != "{}" {
		t.Fatalf("hostile input changed roles: %v", recs)
	}
}
