package admin_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/plugins/admin"
)

func storedAudit() authcoretest.Option {
	return authcoretest.WithConfig(func(c *authcore.Config) { c.Audit.Store = true })
}

// auditRec returns the only logged event of typ, checking the fields given.
func auditRec(t *testing.T, h *authcoretest.Harness, typ string, want map[string]any) map[string]any {
	t.Helper()
	rec := h.Audit.One(t, typ)
	for k, v := range want {
		if v == nil {
			if got, ok := rec[k]; ok {
				t.Errorf("%s: %s = %v, want absent", typ, k, got)
			}
		} else if rec[k] != v {
			t.Errorf("%s: %s = %v, want %v (%v)", typ, k, rec[k], v, rec)
		}
	}
	return rec
}

// tokenOf is the bare session token inside a client's signed session cookie.
func tokenOf(c *authcoretest.Client, name string) string {
	v, _ := url.QueryUnescape(c.CookieValue(name))
	tok, _, _ := strings.Cut(v, ".")
	return tok
}

func TestAdminAuditEvents(t *testing.T) {
	e := setup(t, nil, storedAudit())
	h := e.h
	secrets := []string{pw, tokenOf(e.root, sessionCookie), tokenOf(e.alice, sessionCookie), tokenOf(e.bob, sessionCookie)}
	h.Audit.Reset()

	// A refused admin action names who tried it and on whom.
	r := e.alice.Post(admin.PathBanUser, map[string]any{"userId": e.bobID})
	want(t, r, http.StatusForbidden, "YOU_ARE_NOT_ALLOWED_TO_BAN_USERS")
	auditRec(t, h, authcore.AuditAdminBanUser, map[string]any{"result": "failure", "code": "YOU_ARE_NOT_ALLOWED_TO_BAN_USERS",
		"actor": e.aliceID, "subject": e.bobID})
	h.Audit.Reset()
	ok(t, e.root.Post(admin.PathBanUser, map[string]any{"userId": e.bobID, "banReason": "spam"}))
	auditRec(t, h, authcore.AuditAdminBanUser, map[string]any{"result": "success", "actor": e.rootID, "subject": e.bobID, "impersonator": nil})
	// The banned user's sign-in is refused by the gate: a failure naming the user.
	want(t, signIn(e, "bob@example.com"), http.StatusForbidden, "BANNED_USER")
	auditRec(t, h, authcore.AuditSignInFailure, map[string]any{"result": "failure", "code": "BANNED_USER", "actor": e.bobID, "method": "email"})
	ok(t, e.root.Post(admin.PathUnbanUser, map[string]any{"userId": e.bobID}))
	auditRec(t, h, authcore.AuditAdminUnbanUser, map[string]any{"actor": e.rootID, "subject": e.bobID})

	ok(t, e.root.Post(admin.PathSetRole, map[string]any{"userId": e.bobID, "role": "admin"}))
	rec := auditRec(t, h, authcore.AuditAdminSetRole, map[string]any{"actor": e.rootID, "subject": e.bobID})
	if d, _ := rec["details"].(map[string]any); d["role"] != "admin" {
		t.Errorf("set_role details %v, want the role", rec["details"])
	}
	const newPw = "Set-By-Admin-Secret-4242"
	ok(t, e.root.Post(admin.PathSetUserPassword, map[string]any{"userId": e.bobID, "newPassword": newPw}))
	auditRec(t, h, authcore.AuditAdminSetPassword, map[string]any{"actor": e.rootID, "subject": e.bobID})
	const createdPw = "Created-User-Secret-777"
	got := ok(t, e.root.Post(admin.PathCreateUser, map[string]any{"email": "carol@example.com", "name": "Carol", "password": createdPw}))
	carol := got["user"].(map[string]any)["id"].(string)
	auditRec(t, h, authcore.AuditAdminCreateUser, map[string]any{"actor": e.rootID, "subject": carol, "result": "success"})
	ok(t, e.root.Post(admin.PathRevokeUserSessions, map[string]any{"userId": e.aliceID}))
	auditRec(t, h, authcore.AuditAdminRevokeSessions, map[string]any{"actor": e.rootID, "subject": e.aliceID})
	ok(t, e.root.Post(admin.PathRemoveUser, map[string]any{"userId": carol}))
	auditRec(t, h, authcore.AuditAdminRemoveUser, map[string]any{"actor": e.rootID, "subject": carol})

	// Impersonation: started by root on alice; what alice's impersonated session does
	// names root as the impersonator; stopping it too.
	rootSession := h.Audit.Of(authcore.AuditAdminRemoveUser)[0]["session"]
	got = ok(t, e.root.Post(admin.PathImpersonateUser, map[string]any{"userId": e.aliceID}))
	impID := got["session"].(map[string]any)["id"]
	rec = auditRec(t, h, authcore.AuditAdminImpersonate, map[string]any{"actor": e.rootID, "subject": e.aliceID,
		"session": rootSession, "impersonator": nil})
	if d, _ := rec["details"].(map[string]any); d["impersonation_session_id"] != impID {
		t.Errorf("impersonate details %v, want the impersonation session id %v", rec["details"], impID)
	}
	secrets = append(secrets, tokenOf(e.root, sessionCookie))
	ok(t, e.root.Post(authcore.PathRevokeOtherSessions, nil))
	auditRec(t, h, authcore.AuditSessionRevokeOthers, map[string]any{"actor": e.aliceID, "impersonator": e.rootID, "session": impID})
	ok(t, e.root.Post(admin.PathStopImpersonating, nil))
	auditRec(t, h, authcore.AuditAdminStopImpersonating, map[string]any{"actor": e.aliceID, "impersonator": e.rootID, "session": impID})
	if n := len(h.Audit.Of(authcore.AuditSignIn)); n != 0 {
		t.Errorf("impersonation logged %d sign_in events; it starts sessions without signing in", n)
	}

	log := h.Audit.Text()
	for _, s := range append(secrets, newPw, createdPw) {
		if s != "" && strings.Contains(log, s) {
			t.Errorf("the audit log contains the secret %q", s)
		}
	}
}

func TestListAuditEvents(t *testing.T) {
	e := setup(t, nil, storedAudit())
	h := e.h
	h.Clock.Advance(time.Second)
	ok(t, e.root.Post(admin.PathBanUser, map[string]any{"userId": e.bobID}))
	h.Clock.Advance(time.Second)
	ok(t, e.root.Post(admin.PathUnbanUser, map[string]any{"userId": e.bobID}))
	h.Clock.Advance(time.Second)
	ok(t, e.root.Post(admin.PathSetRole, map[string]any{"userId": e.aliceID, "role": "user"}))
	h.Drain()

	list := func(c *authcoretest.Client, q string) map[string]any {
		t.Helper()
		return ok(t, c.Get(admin.PathListAuditEvents+q))
	}
	types := func(m map[string]any) []string {
		var out []string
		for _, ev := range m["events"].([]any) {
			out = append(out, ev.(map[string]any)["type"].(string))
		}
		return out
	}
	// Everything: 3 sign-ups and sign-ins from setup, then 3 admin actions; newest first.
	all := list(e.root, "")
	if all["total"] != float64(9) || all["limit"] != float64(admin.DefaultAuditLimit) || all["offset"] != float64(0) {
		t.Fatalf("all: total %v limit %v offset %v, want 9 100 0", all["total"], all["limit"], all["offset"])
	}
	if ts := types(all); ts[0] != authcore.AuditAdminSetRole || ts[1] != authcore.AuditAdminUnbanUser || ts[2] != authcore.AuditAdminBanUser {
		t.Errorf("default order %v: want newest first", ts)
	}
	first := all["events"].([]any)[0].(map[string]any)
	if first["actorId"] != e.rootID || first["subjectId"] != e.aliceID || first["result"] != "success" ||
		first["ipAddress"] != "127.0.0.1" || first["id"] == "" || first["createdAt"] == nil {
		t.Errorf("newest event %v", first)
	}
	bob := list(e.root, "?userId="+e.bobID+"&type="+authcore.AuditAdminBanUser)
	if bob["total"] != float64(1) || types(bob)[0] != authcore.AuditAdminBanUser {
		t.Errorf("bob's bans: %v", bob)
	}
	bobAll := list(e.root, "?userId="+e.bobID+"&sortDirection=asc")
	// Setup's sign-up and sign-in share one instant; the admin actions follow.
	if ts := types(bobAll); bobAll["total"] != float64(4) || len(ts) != 4 || ts[0] == ts[1] ||
		!strings.HasPrefix(ts[0], "sign_") || !strings.HasPrefix(ts[1], "sign_") || ts[2] != authcore.AuditAdminBanUser || ts[3] != authcore.AuditAdminUnbanUser {
		t.Errorf("bob's events oldest first: %v (total %v)", ts, bobAll["total"])
	}
	page := list(e.root, "?userId="+e.bobID+"&sortDirection=asc&limit=2&offset=2")
	if ts := types(page); page["total"] != float64(4) || len(ts) != 2 || ts[0] != authcore.AuditAdminBanUser || ts[1] != authcore.AuditAdminUnbanUser {
		t.Errorf("page 2 of bob's events: %v", ts)
	}

	for _, q := range []string{"?limit=0", "?limit=abc", "?limit=1001", "?offset=-1", "?offset=1.5", "?sortDirection=up"} {
		want(t, e.root.Get(admin.PathListAuditEvents+q), http.StatusBadRequest, "VALIDATION_ERROR")
	}
	want(t, e.alice.Get(admin.PathListAuditEvents), http.StatusForbidden, "YOU_ARE_NOT_ALLOWED_TO_LIST_AUDIT_EVENTS")
	if r := h.Client().Get(admin.PathListAuditEvents); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous: %d", r.StatusCode)
	}
	// A custom role granted audit:list may list; an admin role without it may not.
	p := &admin.Plugin{Roles: map[string]map[string][]string{"auditor": {"audit": {"list"}}}, AdminRoles: []string{"admin", "auditor"}}
	e2 := setup(t, p, storedAudit())
	e2.setRole(t, e2.aliceID, "auditor")
	ok(t, e2.alice.Get(admin.PathListAuditEvents))
}

func TestListAuditEventsNotStored(t *testing.T) {
	e := setup(t, nil)
	want(t, e.root.Get(admin.PathListAuditEvents), http.StatusNotFound, "AUDIT_EVENTS_NOT_STORED")
	want(t, e.alice.Get(admin.PathListAuditEvents), http.StatusForbidden, "YOU_ARE_NOT_ALLOWED_TO_LIST_AUDIT_EVENTS")
}
