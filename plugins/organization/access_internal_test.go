package organization

import (
	"context"
	"github.com/gatehouse-auth/gatehouse/authcore"
	"testing"
)

// Role strings are canonical: exactly a configured role, nothing trimmed or folded.
func TestParseRoleInput(t *testing.T) {
	p := &Plugin{Roles: map[string]map[string][]string{"billing": {"organization": {"update"}}}}
	if err := p.validate(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, bad := range []any{"OWNER", " owner", "owner ", "owner\u0000", "superadmin", "", "owner,", ",admin",
		"owner,superadmin", []any{}, []any{"admin", 3}, 7, nil, map[string]any{"a": "owner"}, "Admin", "member\n"} {
		if got, err := p.parseRoleInput(ctx, "", bad); err == nil {
			t.Errorf("%q accepted as %v", bad, got)
		}
	}
	for in, want := range map[string]string{"owner": "owner", "admin,member": "admin,member", "billing": "billing", "admin,admin": "admin"} {
		got, err := p.parseRoleInput(ctx, "", in)
		if err != nil || joinRoles(got) != want {
			t.Errorf("%q: %v %v, want %s", in, got, err, want)
		}
	}
	got, err := p.parseRoleInput(ctx, "", []any{"admin", "billing"})
	if err != nil || joinRoles(got) != "admin,billing" {
		t.Errorf("array: %v %v", got, err)
	}
}

// Nobody hands out more than they hold; only the owner grants owner.
func TestCanGrant(t *testing.T) {
	p := &Plugin{Roles: map[string]map[string][]string{
		"billing": {"organization": {"update"}},
		"inviter": {"invitation": {"create"}},
	}}
	if err := p.validate(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		granter string
		roles   []string
		want    bool
	}{
		{"owner", []string{"owner"}, true},
		{"owner", []string{"admin"}, true},
		{"admin", []string{"owner"}, false},
		{"admin", []string{"admin"}, true},
		{"admin", []string{"member", "billing"}, true},
		{"member", []string{"admin"}, false},
		{"inviter", []string{"admin"}, false},
		{"inviter", []string{"member"}, false}, // member has ac:read, inviter does not
		{"inviter,member", []string{"member"}, true},
		{"admin,member", []string{"owner", "member"}, false},
	} {
		got, err := p.canGrant(ctx, "", tc.granter, tc.roles)
		if err != nil || got != tc.want {
			t.Errorf("%s granting %v: %v %v, want %v", tc.granter, tc.roles, got, err, tc.want)
		}
	}
}

func TestAuthorizeDefaults(t *testing.T) {
	p := &Plugin{}
	if err := p.validate(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		role string
		req  Permissions
		want bool
	}{
		{"owner", Permissions{"organization": {"delete"}}, true},
		{"admin", Permissions{"organization": {"delete"}}, false},
		{"admin", Permissions{"organization": {"update"}, "member": {"delete"}}, true},
		{"member", Permissions{"ac": {"read"}}, true},
		{"member", Permissions{"member": {"create"}}, false},
		{"member,admin", Permissions{"member": {"create"}}, true},
		{"admin", Permissions{"organization": {"update", "delete"}}, false},
		{"admin", Permissions{}, false},
		{"admin", Permissions{"member": {}}, false},
		{"Owner", Permissions{"organization": {"update"}}, false},
		{"superadmin", Permissions{"ac": {"read"}}, false},
	} {
		got, err := p.allows(ctx, "", tc.role, tc.req)
		if err != nil || got != tc.want {
			t.Errorf("%s %v: %v %v, want %v", tc.role, tc.req, got, err, tc.want)
		}
		// The gateway's form (authcore.Organizations.Allows) judges the same.
		m := authcore.OrgMembership{OrgID: "o", Roles: splitStoredRoles(tc.role)}
		if got, err := p.Allows(ctx, m, tc.req); err != nil || got != tc.want {
			t.Errorf("Allows %s %v: %v %v, want %v", tc.role, tc.req, got, err, tc.want)
		}
	}
}
