package portal_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// adminSetup starts the portal with the admin plugin, an administrator (role admin, signed
// in through the portal) and a plain user Bob (signed in through the API).
type adminEnv struct {
	h            *authcoretest.Harness
	admin        *browser
	adminID      string
	bob          *authcoretest.Client
	bobID        string
	bobPage      string
	adminUserURL string
}

func adminSetup(t *testing.T) *adminEnv {
	t.Helper()
	h := newAccountPortal(t)
	e := &adminEnv{h: h}
	_, u := h.SignUp("Root", "root@example.com", testPW)
	e.adminID = u["user"].(map[string]any)["id"].(string)
	if _, err := h.Engine.UpdateUser(t.Context(), e.adminID, storage.Record{"role": "admin"}); err != nil {
		t.Fatal(err)
	}
	e.admin = newBrowser(h)
	if res := e.admin.submit("/ui/sign-in", "sign-in", "/ui/sign-in", url.Values{"email": {"root@example.com"}, "password": {testPW}, "remember": {"on"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("admin sign-in: %d", res.StatusCode)
	}
	e.bob, u = h.SignUp("Bob", "bob@example.com", testPW)
	e.bobID = u["user"].(map[string]any)["id"].(string)
	e.bobPage = "/ui/admin/user?id=" + e.bobID
	return e
}

func TestAdminPagesNonAdmin(t *testing.T) {
	e := adminSetup(t)
	h := e.h
	// Bob on the admin pages: 403, and no Admin link.
	b := newBrowser(h)
	b.submit("/ui/sign-in", "sign-in", "/ui/sign-in", url.Values{"email": {"bob@example.com"}, "password": {testPW}})
	for _, p := range []string{"/ui/admin", "/ui/admin?q=root", "/ui/admin/user?id=" + e.adminID} {
		res := b.get(p)
		if res.StatusCode != http.StatusForbidden || alertText(string(res.Body)) != "This page is for administrators only." || strings.Contains(string(res.Body), "root@example.com") {
			t.Fatalf("%s: %d %s", p, res.StatusCode, res.Body)
		}
	}
	if strings.Contains(b.page("/ui/account"), `href="/api/auth/ui/admin"`) {
		t.Fatal("non-admin sees the Admin link")
	}
	if !strings.Contains(e.admin.page("/ui/account"), `href="/api/auth/ui/admin"`) {
		t.Fatal("admin has no Admin link")
	}
	// An administrator demoted after loading the page: every action is 403 and changes
	// nothing (the check reads the stored user, not the session).
	page := e.admin.page(e.bobPage)
	toks := map[string]string{}
	for _, f := range []string{"admin-ban", "admin-set-role", "admin-impersonate", "admin-revoke-sessions"} {
		toks[f] = csrfOf(t, page, f)
	}
	if _, err := h.Engine.UpdateUser(t.Context(), e.adminID, storage.Record{"role": "user"}); err != nil {
		t.Fatal(err)
	}
	for action, form := range map[string]string{"ban": "admin-ban", "set-role": "admin-set-role", "impersonate": "admin-impersonate", "revoke-sessions": "admin-revoke-sessions"} {
		res := e.admin.post("/ui/admin/"+action, url.Values{"csrf": {toks[form]}, "userId": {e.bobID}, "role": {"admin"}})
		if res.StatusCode != http.StatusForbidden {
			t.Fatalf("%s by a demoted admin: %d", action, res.StatusCode)
		}
	}
	bob := userRec(t, h, e.bobID)
	if bob.Bool("banned") || bob.String("role") == "admin" || count(t, h, authcore.ModelSession, storage.Eq("userId", e.bobID)) != 2 {
		t.Fatalf("state changed: %v", bob)
	}
	// Without the admin plugin the pages do not exist.
	h2 := newPortal(t, nil)
	b2, _ := signedInBrowser(t, h2, "Ann", "ann@example.com")
	if res := b2.get("/ui/admin"); res.StatusCode != http.StatusNotFound {
		t.Fatalf("no admin plugin: %d", res.StatusCode)
	}
}

func TestAdminUsersList(t *testing.T) {
	e := adminSetup(t)
	for i := range 25 {
		if _, err := e.h.Engine.CreateUser(t.Context(), storage.Record{"email": fmt.Sprintf("user%02d@example.org", i), "name": fmt.Sprintf("User %d", i), "emailVerified": false}, ""); err != nil {
			t.Fatal(err)
		}
	}
	body := e.admin.page("/ui/admin")
	if !strings.Contains(body, "Users 1–20 of 27") || !strings.Contains(body, `id="admin-next" href="/api/auth/ui/admin?offset=20"`) || strings.Contains(body, "admin-prev") {
		t.Fatalf("first page:\n%s", body)
	}
	body = e.admin.page("/ui/admin?offset=20")
	if !strings.Contains(body, "Users 21–27 of 27") || !strings.Contains(body, `id="admin-prev" href="/api/auth/ui/admin"`) || strings.Contains(body, "admin-next") {
		t.Fatalf("second page:\n%s", body)
	}
	body = e.admin.page("/ui/admin?q=bob")
	if !strings.Contains(body, ">bob@example.com</a>") || strings.Contains(body, ">root@example.com</a>") || !strings.Contains(body, "Users 1–1 of 1") {
		t.Fatalf("search:\n%s", body)
	}
	if v, _ := inputValue(body, "q"); v != "bob" {
		t.Fatalf("search box %q", v)
	}
	for _, p := range []string{"/ui/admin?offset=-5", "/ui/admin?offset=abc", "/ui/admin?q=" + strings.Repeat("%25", 3000)} {
		if res := e.admin.get(p); res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", p, res.StatusCode)
		}
	}
	if res := e.admin.get("/ui/admin/user?id=nope"); res.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown user: %d", res.StatusCode)
	}
}

func TestAdminActions(t *testing.T) {
	e := adminSetup(t)
	h := e.h
	page := e.admin.page(e.bobPage)
	if !strings.Contains(page, "bob@example.com") || strings.Count(page, "<tr><td>") != 1 {
		t.Fatalf("user page:\n%s", page)
	}
	// Ban with a reason and a length; Bob's sessions end.
	res := e.admin.submit(e.bobPage, "admin-ban", "/ui/admin/ban", url.Values{"userId": {e.bobID}, "banReason": {"spam"}, "banExpires": {"abc"}})
	wantAlert(t, res, http.StatusBadRequest, "Some fields are not valid. Please check them and try again.")
	res = e.admin.submit(e.bobPage, "admin-ban", "/ui/admin/ban", url.Values{"userId": {e.bobID}, "banReason": {"spam"}, "banExpires": {"7"}})
	wantDone(t, res, "/admin/user?id="+e.bobID, "banned")
	bob := userRec(t, h, e.bobID)
	if !bob.Bool("banned") || bob.String("banReason") != "spam" || bob.Time("banExpires").Sub(h.Clock.Now()) != 7*24*time.Hour {
		t.Fatalf("ban stored %v", bob)
	}
	if count(t, h, authcore.ModelSession, storage.Eq("userId", e.bobID)) != 0 {
		t.Fatal("banned user keeps sessions")
	}
	page = e.admin.page(e.bobPage + "&done=banned")
	if !strings.Contains(page, "spam") || !strings.Contains(page, "The user has been banned") || !strings.Contains(page, `id="admin-unban"`) {
		t.Fatalf("banned page:\n%s", page)
	}
	// Unban.
	wantDone(t, e.admin.submit(e.bobPage, "admin-unban", "/ui/admin/unban", url.Values{"userId": {e.bobID}}), "/admin/user?id="+e.bobID, "unbanned")
	if userRec(t, h, e.bobID).Bool("banned") {
		t.Fatal("still banned")
	}
	// Banning yourself: the API's 400 on the user page, nothing changed.
	res = e.admin.submit("/ui/admin/user?id="+e.adminID, "admin-ban", "/ui/admin/ban", url.Values{"userId": {e.adminID}})
	wantAlert(t, res, http.StatusBadRequest, "You cannot ban yourself.")
	if userRec(t, h, e.adminID).Bool("banned") {
		t.Fatal("admin banned themselves")
	}
	// Set role.
	res = e.admin.submit(e.bobPage, "admin-set-role", "/ui/admin/set-role", url.Values{"userId": {e.bobID}, "role": {""}})
	wantAlert(t, res, http.StatusBadRequest, "Please fill in every required field.")
	wantDone(t, e.admin.submit(e.bobPage, "admin-set-role", "/ui/admin/set-role", url.Values{"userId": {e.bobID}, "role": {"editor"}}), "/admin/user?id="+e.bobID, "role_set")
	if r := userRec(t, h, e.bobID).String("role"); r != "editor" {
		t.Fatalf("role %q", r)
	}
	// Revoke sessions.
	h.Client().Post("/sign-in/email", map[string]any{"email": "bob@example.com", "password": testPW})
	if count(t, h, authcore.ModelSession, storage.Eq("userId", e.bobID)) != 1 {
		t.Fatal("bob did not sign in")
	}
	wantDone(t, e.admin.submit(e.bobPage, "admin-revoke-sessions", "/ui/admin/revoke-sessions", url.Values{"userId": {e.bobID}}), "/admin/user?id="+e.bobID, "user_sessions")
	if count(t, h, authcore.ModelSession, storage.Eq("userId", e.bobID)) != 0 {
		t.Fatal("sessions not revoked")
	}
}

func TestAdminImpersonation(t *testing.T) {
	e := adminSetup(t)
	h := e.h
	res := e.admin.submit(e.bobPage, "admin-impersonate", "/ui/admin/impersonate", url.Values{"userId": {e.bobID}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != authcoretest.BaseURL+"/" || !hasSessionCookie(h, res) {
		t.Fatalf("impersonate: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	recs, _ := h.Engine.Store().FindMany(t.Context(), authcore.ModelSession, storage.Query{Where: storage.Eq("impersonatedBy", e.adminID)})
	if len(recs) != 1 || recs[0].String("userId") != e.bobID {
		t.Fatalf("impersonation sessions %v", recs)
	}
	// Browsing as Bob: the banner with the stop form, no Admin link, and no admin pages.
	body := e.admin.page("/ui/account")
	if !strings.Contains(body, `id="stop-impersonating"`) || !strings.Contains(body, "You are impersonating <strong>bob@example.com</strong>") ||
		strings.Contains(body, `href="/api/auth/ui/admin"`) {
		t.Fatalf("impersonated page:\n%s", body)
	}
	if res := e.admin.get("/ui/admin"); res.StatusCode != http.StatusForbidden {
		t.Fatalf("admin pages while impersonating: %d", res.StatusCode)
	}
	// The stop form needs its token.
	if res := e.admin.post("/ui/admin/stop-impersonating", url.Values{"csrf": {csrfOf(t, body, "profile")}}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("stop without its token: %d", res.StatusCode)
	}
	stopTok := csrfOf(t, body, "stop-impersonating")
	res = e.admin.submit("/ui/account", "stop-impersonating", "/ui/admin/stop-impersonating", nil)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/api/auth/ui/admin?done=stopped" {
		t.Fatalf("stop: %d %q %s", res.StatusCode, res.Header.Get("Location"), res.Body)
	}
	if count(t, h, authcore.ModelSession, storage.Eq("impersonatedBy", e.adminID)) != 0 {
		t.Fatal("impersonation session kept")
	}
	body = e.admin.page("/ui/admin?done=stopped")
	if strings.Contains(body, `id="stop-impersonating"`) || !strings.Contains(body, "root@example.com") || !strings.Contains(body, "back in your own account") {
		t.Fatalf("after stop:\n%s", body)
	}
	// Impersonating another admin is refused by the API: 403 on the user page.
	_, u := h.SignUp("Other", "other@example.com", testPW)
	other := u["user"].(map[string]any)["id"].(string)
	h.Engine.UpdateUser(t.Context(), other, storage.Record{"role": "admin"})
	res = e.admin.submit("/ui/admin/user?id="+other, "admin-impersonate", "/ui/admin/impersonate", url.Values{"userId": {other}})
	wantAlert(t, res, http.StatusForbidden, "Administrators cannot be impersonated.")
	// Stopping when not impersonating: the API's 400.
	res = e.admin.post("/ui/admin/stop-impersonating", url.Values{"csrf": {stopTok}})
	if res.StatusCode != http.StatusBadRequest || alertText(string(res.Body)) == "" {
		t.Fatalf("stop without impersonation: %d %s", res.StatusCode, res.Body)
	}
	if count(t, h, authcore.ModelSession, storage.Eq("userId", e.adminID)) != 2 { // sign-up + browser
		t.Fatal("admin sessions changed")
	}
}

// Every admin POST refuses a missing or wrong token with 403 and changes nothing.
func TestAdminCSRF(t *testing.T) {
	e := adminSetup(t)
	page := e.admin.page(e.bobPage)
	wrong := csrfOf(t, page, "sign-out")
	for _, action := range []string{"ban", "unban", "set-role", "impersonate", "revoke-sessions", "stop-impersonating"} {
		for _, tok := range []string{"", wrong} {
			res := e.admin.post("/ui/admin/"+action, url.Values{"csrf": {tok}, "userId": {e.bobID}, "role": {"admin"}})
			if res.StatusCode != http.StatusForbidden {
				t.Fatalf("%s with %q: %d", action, tok, res.StatusCode)
			}
		}
	}
	bob := userRec(t, e.h, e.bobID)
	if bob.Bool("banned") || bob.String("role") == "admin" || count(t, e.h, authcore.ModelSession, storage.Eq("userId", e.bobID)) != 1 ||
		count(t, e.h, authcore.ModelSession, storage.Eq("impersonatedBy", e.adminID)) != 0 {
		t.Fatalf("state changed: %v", bob)
	}
}
