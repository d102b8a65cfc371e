package admin_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/caddymodule/caddyopts/caddyoptstest"
	"github.com/gatehouse-auth/gatehouse/plugins/admin"
	"github.com/gatehouse-auth/gatehouse/storage/memory"
)

func TestUnmarshalCaddyfile(t *testing.T) {
	every := admin.Plugin{
		DefaultRole: "member", AdminRoles: []string{"admin", "support"}, AdminUserIDs: []string{"u1", "u2", "u3"},
		ImpersonationSessionDuration: authcore.Duration(30 * time.Minute), AllowImpersonatingAdmins: true,
		DefaultBanReason: "Terms", DefaultBanExpiresIn: authcore.Duration(7 * 24 * time.Hour),
		BannedUserMessage: "Banned.",
		Roles: map[string]map[string][]string{
			"support": {"user": {"list", "get", "ban"}, "session": {"list"}},
			"member":  {},
		},
	}
	caddyoptstest.Unmarshal(t, []caddyoptstest.Case[admin.Plugin]{
		{Name: "bare", Input: `admin`, Want: admin.Plugin{}},
		{Name: "empty block", Input: "admin {\n}", Want: admin.Plugin{}},
		{Name: "every option", Input: `admin {
			default_role member
			admin_roles admin support
			admin_user_ids u1 u2
			admin_user_ids u3
			impersonation_session_duration 30m
			allow_impersonating_admins
			default_ban_reason Terms
			default_ban_expires_in 7d
			banned_user_message Banned.
			roles {
				support user list get
				support user ban
				support session list
				member
			}
		}`, Want: every},
		{Name: "unknown option", Input: "admin {\n super_admin x\n}", Err: `unknown option "super_admin"`},
		{Name: "argument after the name", Input: `admin x`, Err: "wrong argument count"},
		{Name: "bad duration", Input: "admin {\n impersonation_session_duration soon\n}", Err: "impersonation_session_duration"},
		{Name: "resource without actions", Input: "admin {\n roles {\n support user\n }\n}", Err: "expected at least one action"},
		{Name: "twice", Input: "admin {\n default_role a\n default_role b\n}", Err: "given twice"},
	})
}

func TestJSONRoundTrip(t *testing.T) {
	in := admin.Plugin{AdminRoles: []string{"admin"}, ImpersonationSessionDuration: authcore.Duration(time.Hour),
		Roles: map[string]map[string][]string{"support": {"user": {"list"}}}}
	caddyoptstest.RoundTrip(t, in, `{"admin_roles":["admin"],"impersonation_session_duration":"1h0m0s","roles":{"support":{"user":["list"]}}}`)
}

func TestCaddyModule(t *testing.T) {
	info := admin.Plugin{}.CaddyModule()
	if info.ID != "gatehouse.plugins.admin" {
		t.Fatalf("module id %s", info.ID)
	}
	if _, ok := info.New().(*admin.Plugin); !ok {
		t.Fatal("New does not return *Plugin")
	}
}

// Bad options fail start-up with a clear message.
func TestRegisterValidates(t *testing.T) {
	for _, tc := range []struct {
		p    admin.Plugin
		want string
	}{
		{admin.Plugin{AdminRoles: []string{"owner"}}, `admin_roles: "owner" is not a defined role`},
		{admin.Plugin{DefaultRole: "a,b"}, "default_role"},
		{admin.Plugin{Roles: map[string]map[string][]string{"a b": {}}}, "not a role name"},
		{admin.Plugin{Roles: map[string]map[string][]string{"r": {"user": {""}}}}, "not an action name"},
		{admin.Plugin{ImpersonationSessionDuration: authcore.Duration(time.Millisecond)}, "impersonation_session_duration"},
		{admin.Plugin{DefaultBanExpiresIn: authcore.Duration(time.Millisecond)}, "default_ban_expires_in"},
		{admin.Plugin{AdminUserIDs: []string{""}}, "admin_user_ids"},
	} {
		p := tc.p
		_, err := authcore.New(authcore.Config{BaseURL: authcoretest.BaseURL, Secret: authcoretest.Secret}, authcore.WithPlugins(&p), authcore.WithStore(memory.NewStore()))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", tc.p, err, tc.want)
		}
	}
}
