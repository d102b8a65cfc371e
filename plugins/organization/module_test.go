package organization_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/caddymodule/caddyopts/caddyoptstest"
	"github.com/gatehouse-auth/gatehouse/plugins/organization"
	"github.com/gatehouse-auth/gatehouse/storage/memory"
)

func TestUnmarshalCaddyfile(t *testing.T) {
	every := organization.Plugin{
		DisallowUserToCreateOrganization: true, OrganizationLimit: 3, CreatorRole: "founder",
		MembershipLimit: 50, InvitationLimit: 20, InvitationExpiresIn: authcore.Duration(72 * time.Hour),
		InvitationURL: "https://app.example/invite/{id}", RequireEmailVerificationOnInvitation: true,
		CancelPendingInvitationsOnReInvite: true, DisableOrganizationDeletion: true,
		Roles: map[string]map[string][]string{
			"billing": {"organization": {"update"}, "invitation": {"create", "cancel"}},
			"viewer":  {},
		},
		Teams:                organization.Teams{Enabled: true, MaximumTeams: 5, MaximumMembersPerTeam: 10, AllowRemovingAllTeams: true},
		DynamicAccessControl: organization.DynamicAccessControl{Enabled: true, MaximumRolesPerOrganization: 7},
	}
	caddyoptstest.Unmarshal(t, []caddyoptstest.Case[organization.Plugin]{
		{Name: "bare", Input: `organization`, Want: organization.Plugin{}},
		{Name: "empty block", Input: "organization {\n}", Want: organization.Plugin{}},
		{Name: "every option", Input: `organization {
			disallow_user_to_create_organization
			organization_limit 3
			creator_role founder
			membership_limit 50
			invitation_limit 20
			invitation_expires_in 3d
			invitation_url https://app.example/invite/{id}
			require_email_verification_on_invitation
			cancel_pending_invitations_on_re_invite
			disable_organization_deletion
			roles {
				billing organization:update invitation:create
				billing invitation:cancel
				viewer
			}
			teams {
				enabled
				maximum_teams 5
				maximum_members_per_team 10
				allow_removing_all_teams
			}
			dynamic_access_control {
				enabled
				maximum_roles_per_organization 7
			}
		}`, Want: every},
		{Name: "unknown option", Input: "organization {\n super_admin x\n}", Err: `unknown option "super_admin"`},
		{Name: "unknown teams option", Input: "organization {\n teams {\n colour red\n }\n}", Err: `unknown option "colour"`},
		{Name: "argument after the name", Input: `organization x`, Err: "wrong argument count"},
		{Name: "bad duration", Input: "organization {\n invitation_expires_in soon\n}", Err: "invitation_expires_in"},
		{Name: "bad limit", Input: "organization {\n membership_limit -1\n}", Err: "non-negative"},
		{Name: "permission without colon", Input: "organization {\n roles {\n billing organization\n }\n}", Err: "<resource>:<action>"},
		{Name: "twice", Input: "organization {\n creator_role a\n creator_role b\n}", Err: "given twice"},
	})
}

func TestJSONRoundTrip(t *testing.T) {
	in := organization.Plugin{OrganizationLimit: 2, InvitationExpiresIn: authcore.Duration(time.Hour),
		Roles: map[string]map[string][]string{"billing": {"organization": {"update"}}},
		Teams: organization.Teams{Enabled: true}}
	caddyoptstest.RoundTrip(t, in, `{"organization_limit":2,"invitation_expires_in":"1h0m0s","roles":{"billing":{"organization":["update"]}},"teams":{"enabled":true}}`)
}

func TestCaddyModule(t *testing.T) {
	info := organization.Plugin{}.CaddyModule()
	if info.ID != "gatehouse.plugins.organization" {
		t.Fatalf("module id %s", info.ID)
	}
	if _, ok := info.New().(*organization.Plugin); !ok {
		t.Fatal("New does not return *Plugin")
	}
}

// Bad options fail start-up with a clear message.
func TestRegisterValidates(t *testing.T) {
	for _, tc := range []struct {
		p    organization.Plugin
		want string
	}{
		{organization.Plugin{CreatorRole: "a,b"}, "creator_role"},
		{organization.Plugin{Roles: map[string]map[string][]string{"a b": {}}}, "not a role name"},
		{organization.Plugin{Roles: map[string]map[string][]string{"owner": {}}}, "cannot be redefined"},
		{organization.Plugin{Roles: map[string]map[string][]string{"r": {"member": {""}}}}, "not an action name"},
		{organization.Plugin{InvitationExpiresIn: authcore.Duration(time.Second)}, "invitation_expires_in"},
		{organization.Plugin{InvitationURL: "https://x.example/invite"}, "{id}"},
		{organization.Plugin{OrganizationLimit: -1}, "negative"},
	} {
		p := tc.p
		_, err := authcore.New(authcore.Config{BaseURL: authcoretest.BaseURL, Secret: authcoretest.Secret}, authcore.WithPlugins(&p), authcore.WithStore(memory.NewStore()))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", tc.p, err, tc.want)
		}
	}
}
