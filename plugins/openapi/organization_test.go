package openapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/plugins/openapi"
	"github.com/gatehouse-auth/gatehouse/plugins/openapi/openapitest"
	"github.com/gatehouse-auth/gatehouse/plugins/organization"
)

// orgPlugin is the organization plugin with everything it can register: teams and dynamic
// access control.
func orgPlugin() *organization.Plugin {
	return &organization.Plugin{Teams: organization.Teams{Enabled: true},
		DynamicAccessControl: organization.DynamicAccessControl{Enabled: true}}
}

// Every organization endpoint declares its response: none is left as "any JSON".
func TestEveryOrganizationEndpointDeclaresItsResponse(t *testing.T) {
	h := authcoretest.New(t, authcoretest.WithPlugins(orgPlugin(), &openapi.Plugin{}))
	n := 0
	for _, ep := range h.Engine.Endpoints() {
		if ep.Owner() != "organization" {
			continue
		}
		n++
		if !ep.ResponseDoc().Declared {
			t.Errorf("%s %s declares no Response", ep.Method, ep.Path)
		}
	}
	if n != 36 { // 22 base routes, 9 team routes, 5 role routes
		t.Errorf("%d organization endpoints, want 36", n)
	}
}

// Every organization endpoint, driven through real calls (teams and dynamic access control
// on), answers what the document says.
func TestOrganizationResponsesMatchTheirSchemas(t *testing.T) {
	h := authcoretest.New(t, authcoretest.WithPlugins(orgPlugin(), &openapi.Plugin{}))
	doc, _ := fetchDoc(t, h)
	type user struct {
		c     *authcoretest.Client
		id    string
		email string
	}
	signUp := func(name string) user {
		email := name + "@example.com"
		c, body := h.SignUp(name, email, password)
		id := body["user"].(map[string]any)["id"].(string)
		// Invitations are only shown and answered by verified addresses.
		if _, err := h.Engine.UpdateUser(t.Context(), id, map[string]any{"emailVerified": true}); err != nil {
			t.Fatal(err)
		}
		return user{c, id, email}
	}
	ann, bob, cy := signUp("ann"), signUp("bob"), signUp("cy")
	succeeded := map[string]bool{}
	call := func(u user, method, path string, body any, status int) map[string]any {
		t.Helper()
		req, r := exchange(t, h, u.c, method, path, body)
		if r.StatusCode != status {
			t.Fatalf("%s %s: %d %s, want %d", method, path, r.StatusCode, r.Body, status)
		}
		openapitest.Validate(t, doc, req, r.StatusCode, r.Header, r.Body)
		if status == http.StatusOK {
			succeeded[method+" "+strings.SplitN(path, "?", 2)[0]] = true
		}
		return r.Object()
	}
	// callNull is call for an answer that must be JSON null (the Nullable declarations).
	callNull := func(u user, method, path string, body any) {
		t.Helper()
		req, r := exchange(t, h, u.c, method, path, body)
		if r.StatusCode != http.StatusOK || strings.TrimSpace(string(r.Body)) != "null" {
			t.Fatalf("%s %s: %d %s, want 200 null", method, path, r.StatusCode, r.Body)
		}
		openapitest.Validate(t, doc, req, r.StatusCode, r.Header, r.Body)
	}
	q := url.QueryEscape
	str := func(m map[string]any, k string) string {
		t.Helper()
		s, ok := m[k].(string)
		if !ok {
			t.Fatalf("no %s in %v", k, m)
		}
		return s
	}

	// Organizations. set-active and get-full-organization also answer null.
	org := call(ann, "POST", organization.PathCreate, map[string]any{"name": "Acme", "slug": "acme", "metadata": map[string]any{"tier": 1}}, 200)
	orgID := str(org, "id")
	call(ann, "POST", organization.PathCheckSlug, map[string]any{"slug": "free-slug"}, 200)
	call(ann, "POST", organization.PathUpdate, map[string]any{"organizationId": orgID, "data": map[string]any{"name": "Acme Inc", "logo": "https://example.com/l.png"}}, 200)
	callNull(ann, "POST", organization.PathSetActive, map[string]any{"organizationId": nil})
	callNull(ann, "GET", organization.PathGetFullOrganization, nil) // no active organization
	call(ann, "POST", organization.PathSetActive, map[string]any{"organizationSlug": "acme"}, 200)
	call(ann, "GET", organization.PathGetOrganization+"?organizationId="+q(orgID), nil, 200)
	call(ann, "GET", organization.PathList, nil, 200)

	// Teams (part one: a team to invite into).
	team := call(ann, "POST", organization.PathCreateTeam, map[string]any{"name": "Core"}, 200)
	teamID := str(team, "id")

	// Invitations: accepted, rejected, canceled.
	inv := call(ann, "POST", organization.PathInviteMember, map[string]any{"email": bob.email, "role": "member", "teamId": teamID}, 200)
	invID := str(inv, "id")
	call(ann, "GET", organization.PathListInvitations, nil, 200)
	call(bob, "GET", organization.PathListUserInvitations, nil, 200)
	call(bob, "GET", organization.PathGetInvitation+"?id="+q(invID), nil, 200)
	accepted := call(bob, "POST", organization.PathAcceptInvitation, map[string]any{"invitationId": invID}, 200)
	bobMember := str(accepted["member"].(map[string]any), "id")
	rej := call(ann, "POST", organization.PathInviteMember, map[string]any{"email": cy.email, "role": []string{"member"}}, 200)
	call(cy, "POST", organization.PathRejectInvitation, map[string]any{"invitationId": str(rej, "id")}, 200)
	canc := call(ann, "POST", organization.PathInviteMember, map[string]any{"email": "dee@example.com", "role": "admin"}, 200)
	call(ann, "POST", organization.PathCancelInvitation, map[string]any{"invitationId": str(canc, "id")}, 200)
	call(ann, "GET", organization.PathGetFullOrganization, nil, 200)

	// Members.
	call(ann, "GET", organization.PathListMembers+"?limit=10&sortBy=createdAt&sortDirection=desc", nil, 200)
	call(ann, "GET", organization.PathGetActiveMember, nil, 200)
	call(ann, "GET", organization.PathGetActiveMemberRole, nil, 200)
	call(ann, "GET", organization.PathGetActiveMemberRole+"?userId="+q(bob.id), nil, 200)
	call(ann, "POST", organization.PathHasPermission, map[string]any{"permissions": map[string]any{"member": []string{"create"}}}, 200)
	call(bob, "POST", organization.PathHasPermission, map[string]any{"organizationId": orgID, "permissions": map[string]any{"organization": []string{"delete"}}}, 200)
	call(ann, "POST", organization.PathUpdateMemberRole, map[string]any{"memberId": bobMember, "role": "admin"}, 200)

	// Teams (part two).
	call(ann, "POST", organization.PathUpdateTeam, map[string]any{"teamId": teamID, "data": map[string]any{"name": "Core 2"}}, 200)
	call(ann, "GET", organization.PathListTeams, nil, 200)
	call(ann, "POST", organization.PathAddTeamMember, map[string]any{"teamId": teamID, "userId": ann.id}, 200)
	call(ann, "POST", organization.PathSetActiveTeam, map[string]any{"teamId": teamID}, 200)
	call(ann, "GET", organization.PathListUserTeams, nil, 200)
	call(ann, "GET", organization.PathListTeamMembers, nil, 200)
	call(ann, "POST", organization.PathRemoveTeamMember, map[string]any{"teamId": teamID, "userId": bob.id}, 200)
	callNull(ann, "POST", organization.PathSetActiveTeam, map[string]any{"teamId": nil})
	spare := call(ann, "POST", organization.PathCreateTeam, map[string]any{"name": "Spare", "organizationId": orgID}, 200)
	call(ann, "POST", organization.PathRemoveTeam, map[string]any{"teamId": str(spare, "id")}, 200)

	// Dynamic access control.
	call(ann, "POST", organization.PathCreateRole, map[string]any{"role": "auditor", "permission": map[string]any{"member": []string{"create"}}}, 200)
	call(ann, "GET", organization.PathListRoles, nil, 200)
	call(ann, "GET", organization.PathGetRole+"?roleName=auditor", nil, 200)
	call(ann, "POST", organization.PathUpdateRole, map[string]any{"roleName": "auditor", "data": map[string]any{"permission": map[string]any{"member": []string{"create", "update"}}}}, 200)
	call(ann, "POST", organization.PathDeleteRole, map[string]any{"roleName": "auditor"}, 200)

	// Leaving, removing, deleting.
	call(bob, "POST", organization.PathLeave, map[string]any{"organizationId": orgID}, 200)
	again := call(ann, "POST", organization.PathInviteMember, map[string]any{"email": cy.email, "role": "member"}, 200)
	call(cy, "POST", organization.PathAcceptInvitation, map[string]any{"invitationId": str(again, "id")}, 200)
	call(ann, "POST", organization.PathRemoveMember, map[string]any{"memberIdOrEmail": cy.email}, 200)
	call(ann, "POST", organization.PathDelete, map[string]any{"organizationId": orgID}, 200)
	callNull(ann, "GET", organization.PathGetOrganization, nil)         // the active organization is gone
	callNull(ann, "POST", organization.PathSetActive, map[string]any{}) // none active

	// Every organization endpoint answered at least one success above.
	for _, ep := range h.Engine.Endpoints() {
		if ep.Owner() == "organization" && !succeeded[ep.Method+" "+ep.Path] {
			t.Errorf("%s %s not exercised", ep.Method, ep.Path)
		}
	}
}

// The organization schemas are strict enough to catch wrong answers.
func TestOrganizationSchemasRefuseWrongShapes(t *testing.T) {
	h := authcoretest.New(t, authcoretest.WithPlugins(orgPlugin(), &openapi.Plugin{}))
	doc, _ := fetchDoc(t, h)
	hdr := http.Header{"Content-Type": {"application/json"}}
	const date = `"2026-01-01T00:00:00.000Z"`
	member := `{"id":"m1","organizationId":"o1","userId":"u1","role":"owner","createdAt":` + date
	withUser := member + `,"user":{"id":"u1","name":"A","email":"a@example.com","image":null}}`
	org := `{"id":"o1","name":"Acme","slug":"acme","logo":null,"metadata":{"tier":1},"createdAt":` + date + `}`
	role := `{"id":"r1","organizationId":"o1","role":"auditor","permission":{"member":["create"]},"createdAt":` + date + `}`
	cases := []struct {
		path, body string
		ok         bool
	}{
		{organization.PathListMembers, `{"members":[` + withUser + `],"total":1}`, true},
		{organization.PathListMembers, `{"members":[` + member + `}],"total":1}`, false},    // user missing
		{organization.PathListMembers, `{"members":[` + withUser + `]}`, false},             // total missing
		{organization.PathListMembers, `{"members":[` + withUser + `],"total":1.5}`, false}, // total not an integer
		{organization.PathGetActiveMember, withUser, true},
		{organization.PathGetActiveMember, member + `,"user":{"id":"u1"}}`, false}, // user incomplete
		{organization.PathGetOrganization, org, true},
		{organization.PathGetOrganization, `null`, true},
		{organization.PathGetOrganization, `{"id":"o1","name":"Acme"}`, false}, // slug, createdAt missing
		{organization.PathHasPermission, `{"error":null,"success":true}`, true},
		{organization.PathHasPermission, `{"error":"x","success":true}`, false},
		{organization.PathGetRole, role, true},
		{organization.PathGetRole, `{"id":"r1","organizationId":"o1","role":"auditor","permission":"{}","createdAt":` + date + `}`, false}, // permission unparsed
		{organization.PathListTeams, `[{"id":"t1"}]`, false},                                                                               // not a team
		{organization.PathRemoveTeam, `{"message":"Team removed successfully."}`, true},
		{organization.PathRemoveTeam, `{}`, false},
	}
	for _, k := range cases {
		method := "GET"
		if k.path == organization.PathHasPermission || k.path == organization.PathRemoveTeam {
			method = "POST"
		}
		req, _ := http.NewRequest(method, h.URL(k.path), nil)
		err := openapitest.ResponseError(doc, req, 200, hdr, []byte(k.body))
		if (err == nil) != k.ok {
			t.Errorf("%s %s: error %v, want ok=%v", k.path, k.body, err, k.ok)
		}
	}
}
