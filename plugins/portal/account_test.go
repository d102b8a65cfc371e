package portal_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/plugins/admin"
	"github.com/gatehouse-auth/gatehouse/plugins/apikey"
	"github.com/gatehouse-auth/gatehouse/plugins/organization"
	"github.com/gatehouse-auth/gatehouse/plugins/passkey"
	"github.com/gatehouse-auth/gatehouse/plugins/portal"
	"github.com/gatehouse-auth/gatehouse/plugins/twofactor"
	"github.com/gatehouse-auth/gatehouse/storage"
)

const testPW = "correct horse battery"

// newAccountPortal starts the portal with the api-key, organization and admin plugins and
// change-email enabled.
func newAccountPortal(t *testing.T, opts ...authcoretest.Option) *authcoretest.Harness {
	t.Helper()
	base := []authcoretest.Option{
		authcoretest.WithPlugins(&apikey.Plugin{}, &organization.Plugin{}, &admin.Plugin{}),
		authcoretest.WithConfig(func(c *authcore.Config) { c.User.ChangeEmail.Enabled = true }),
	}
	return newPortal(t, nil, append(base, opts...)...)
}

// signedInBrowser signs up email (through the API) and signs a new browser in through the
// portal's sign-in form. It returns the browser and the user id.
func signedInBrowser(t *testing.T, h *authcoretest.Harness, name, email string) (*browser, string) {
	t.Helper()
	_, u := h.SignUp(name, email, testPW)
	id := u["user"].(map[string]any)["id"].(string)
	b := newBrowser(h)
	res := b.submit("/ui/sign-in", "sign-in", "/ui/sign-in", url.Values{"email": {email}, "password": {testPW}, "remember": {"on"}})
	if res.StatusCode != http.StatusSeeOther || !hasSessionCookie(h, res) {
		t.Fatalf("sign-in %s: %d %s", email, res.StatusCode, res.Body)
	}
	return b, id
}

// page loads a portal page that must answer 200 and returns its body.
func (b *browser) page(path string) string {
	b.t.Helper()
	res := b.get(path)
	if res.StatusCode != http.StatusOK {
		b.t.Fatalf("GET %s: %d %s", path, res.StatusCode, res.Body)
	}
	return string(res.Body)
}

// csrfOfClass returns the csrf token of the first form with the given class.
func csrfOfClass(t *testing.T, body, class string) string {
	t.Helper()
	i := strings.Index(body, `<form class="`+class)
	if i < 0 {
		t.Fatalf("no form.%s in page:\n%s", class, body)
	}
	m := csrfRe.FindStringSubmatch(body[i:])
	if m == nil {
		t.Fatalf("form.%s has no csrf", class)
	}
	return m[1]
}

// wantDone asserts a 303 to the given portal page (path and query) plus done=key.
func wantDone(t *testing.T, res *authcoretest.Response, page, key string) {
	t.Helper()
	want, _ := url.Parse("/api/auth/ui" + page)
	q := want.Query()
	q.Set("done", key)
	got, err := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusSeeOther || err != nil || got.Path != want.Path || got.Query().Encode() != q.Encode() {
		t.Fatalf("want 303 %s?%s, got %d %q\n%s", want.Path, q.Encode(), res.StatusCode, res.Header.Get("Location"), res.Body)
	}
}

// wantAlert asserts a re-rendered page with status and the translated error of code.
func wantAlert(t *testing.T, res *authcoretest.Response, status int, message string) {
	t.Helper()
	if res.StatusCode != status || alertText(string(res.Body)) != message {
		t.Fatalf("want %d %q, got %d %q\n%s", status, message, res.StatusCode, alertText(string(res.Body)), res.Body)
	}
}

func userRec(t *testing.T, h *authcoretest.Harness, id string) storage.Record {
	t.Helper()
	u, err := h.Engine.UserByID(t.Context(), id)
	if err != nil || u == nil {
		t.Fatalf("user %s: %v", id, err)
	}
	return u
}

func count(t *testing.T, h *authcoretest.Harness, model string, where storage.Where) int {
	t.Helper()
	recs, err := h.Engine.Store().FindMany(t.Context(), model, storage.Query{Where: where})
	if err != nil {
		t.Fatal(err)
	}
	return len(recs)
}

func TestAccountSignedOutRedirects(t *testing.T) {
	h := newAccountPortal(t)
	b := newBrowser(h)
	for path, want := range map[string]string{
		"/ui/account":                   "/api/auth/ui/sign-in?callbackURL=%2Fapi%2Fauth%2Fui%2Faccount",
		"/ui/accept-invitation?id=abc1": "/api/auth/ui/sign-in?callbackURL=%2Fapi%2Fauth%2Fui%2Faccept-invitation%3Fid%3Dabc1",
		"/ui/admin":                     "/api/auth/ui/sign-in?callbackURL=%2Fapi%2Fauth%2Fui%2Fadmin",
		"/ui/admin/user?id=u1":          "/api/auth/ui/sign-in?callbackURL=%2Fapi%2Fauth%2Fui%2Fadmin%2Fuser%3Fid%3Du1",
	} {
		res := b.get(path)
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != want {
			t.Fatalf("%s: %d %q", path, res.StatusCode, res.Header.Get("Location"))
		}
	}
	// The callback survives sign-in.
	h.SignUp("Ann", "ann@example.com", testPW)
	res := b.submit("/ui/sign-in?callbackURL=%2Fapi%2Fauth%2Fui%2Faccount", "sign-in", "/ui/sign-in",
		url.Values{"email": {"ann@example.com"}, "password": {testPW}, "callbackURL": {"/api/auth/ui/account"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != authcoretest.BaseURL+"/api/auth/ui/account" {
		t.Fatalf("sign-in: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	body := b.page("/ui/account")
	for _, id := range []string{`id="profile"`, `id="change-password"`, `id="change-email"`, `id="revoke-others"`, `id="api-key-create"`, `id="sign-out"`, `class="account-nav"`} {
		if !strings.Contains(body, id) {
			t.Fatalf("account page lacks %s", id)
		}
	}
	if strings.Contains(body, `href="/api/auth/ui/admin"`) {
		t.Fatal("non-admin sees the Admin link")
	}
}

func TestAccountProfile(t *testing.T) {
	h := newAccountPortal(t)
	b, id := signedInBrowser(t, h, "Ann", "ann@example.com")
	res := b.submit("/ui/account", "profile", "/ui/account/profile", url.Values{"name": {"Ann Other"}, "image": {"https://img.example/a.png"}})
	wantDone(t, res, "/account", "profile")
	if u := userRec(t, h, id); u.String("name") != "Ann Other" || u.String("image") != "https://img.example/a.png" {
		t.Fatalf("stored %v", u)
	}
	body := b.page("/ui/account?done=profile")
	if v, _ := inputValue(body, "name"); v != "Ann Other" || !strings.Contains(body, "Your profile has been saved.") {
		t.Fatalf("page after save:\n%s", body)
	}
	// Only known done keys render.
	if body := b.page("/ui/account?done=%3Cscript%3E"); strings.Contains(body, `id="flash"`) {
		t.Fatal("unknown done key rendered")
	}
	// Failures change nothing.
	for _, f := range []url.Values{
		{"name": {""}},
		{"name": {"X"}, "image": {"javascript:alert(1)"}},
		{"name": {strings.Repeat("n", 5000)}},
	} {
		res = b.submit("/ui/account", "profile", "/ui/account/profile", f)
		if res.StatusCode != http.StatusBadRequest || alertText(string(res.Body)) == "" {
			t.Fatalf("%v: %d %s", f, res.StatusCode, res.Body)
		}
	}
	if u := userRec(t, h, id); u.String("name") != "Ann Other" {
		t.Fatalf("stored %v", u)
	}
	// Clearing the picture.
	wantDone(t, b.submit("/ui/account", "profile", "/ui/account/profile", url.Values{"name": {"Ann"}}), "/account", "profile")
	if u := userRec(t, h, id); u.String("image") != "" {
		t.Fatalf("image kept: %v", u)
	}
}

func TestAccountPassword(t *testing.T) {
	h := newAccountPortal(t)
	b, id := signedInBrowser(t, h, "Ann", "ann@example.com")
	other := h.Client()
	other.Post("/sign-in/email", map[string]any{"email": "ann@example.com", "password": testPW})
	sessions := func() int { return count(t, h, authcore.ModelSession, storage.Eq("userId", id)) }
	if n := sessions(); n != 3 { // sign-up, browser, other
		t.Fatalf("%d sessions", n)
	}
	res := b.submit("/ui/account", "change-password", "/ui/account/password", url.Values{
		"current-password": {"wrong password!!"}, "new-password": {"new horse battery"}, "new-password-confirm": {"new horse battery"}})
	wantAlert(t, res, http.StatusBadRequest, "The password is incorrect.")
	res = b.submit("/ui/account", "change-password", "/ui/account/password", url.Values{
		"current-password": {testPW}, "new-password": {"new horse battery"}, "new-password-confirm": {"other horse battery"}})
	wantAlert(t, res, http.StatusBadRequest, "The passwords do not match.")
	res = b.submit("/ui/account", "change-password", "/ui/account/password", url.Values{
		"current-password": {testPW}, "new-password": {"short"}, "new-password-confirm": {"short"}})
	wantAlert(t, res, http.StatusBadRequest, "The password is too short.")
	if ok, _, _ := h.Engine.CheckUserPassword(t.Context(), id, testPW); !ok || sessions() != 3 {
		t.Fatal("a failed change changed something")
	}

	res = b.submit("/ui/account", "change-password", "/ui/account/password", url.Values{
		"current-password": {testPW}, "new-password": {"new horse battery"}, "new-password-confirm": {"new horse battery"}, "revoke-other-sessions": {"on"}})
	wantDone(t, res, "/account", "password")
	if ok, _, _ := h.Engine.CheckUserPassword(t.Context(), id, "new horse battery"); !ok {
		t.Fatal("new password does not work")
	}
	if n := sessions(); n != 1 {
		t.Fatalf("%d sessions after revoking the others", n)
	}
	if r := other.Get("/get-session"); r.StatusCode != 200 || string(r.Body) != "null" {
		t.Fatalf("other session still alive: %d %s", r.StatusCode, r.Body)
	}
	if body := b.page("/ui/account"); !strings.Contains(body, "ann@example.com") {
		t.Fatal("browser signed out by its own password change")
	}
}

func TestAccountEmail(t *testing.T) {
	h := newAccountPortal(t)
	b, _ := signedInBrowser(t, h, "Ann", "ann@example.com")
	res := b.submit("/ui/account", "change-email", "/ui/account/email", url.Values{"new-email": {"not an email"}})
	if res.StatusCode != http.StatusBadRequest || alertText(string(res.Body)) == "" {
		t.Fatalf("bad email: %d %s", res.StatusCode, res.Body)
	}
	res = b.submit("/ui/account", "change-email", "/ui/account/email", url.Values{"new-email": {"ann2@example.com"}})
	wantDone(t, res, "/account", "email")
	h.Drain()
	var found bool
	for _, m := range h.Sink.Messages() {
		if m.To == "ann2@example.com" {
			found = strings.Contains(m.Data.URL, url.QueryEscape("/api/auth/ui/email-changed?email="))
		}
	}
	if !found {
		t.Fatalf("no confirmation to the new address with the account page as callback: %+v", h.Sink.Messages())
	}
	if body := b.page("/ui/account?done=email"); !strings.Contains(body, "confirmation link") {
		t.Fatal("no message about the confirmation email")
	}
}

func TestAccountSessions(t *testing.T) {
	h := newAccountPortal(t)
	b, id := signedInBrowser(t, h, "Ann", "ann@example.com")
	sessions := func() int { return count(t, h, authcore.ModelSession, storage.Eq("userId", id)) }
	body := b.page("/ui/account")
	if strings.Count(body, "This device") != 1 || strings.Count(body, `<form class="session-revoke`) != 1 {
		t.Fatalf("sessions table:\n%s", body)
	}
	// Revoke the other (sign-up) session by its handle.
	i := strings.Index(body, `<form class="session-revoke`)
	handle := valueRe.FindStringSubmatch(body[i+strings.Index(body[i:], `name="session"`):])[1]
	revokeTok := csrfOfClass(t, body, "session-revoke")
	res := b.post("/ui/account/sessions/revoke", url.Values{"csrf": {revokeTok}, "session": {handle}})
	wantDone(t, res, "/account", "session_revoked")
	if n := sessions(); n != 1 {
		t.Fatalf("%d sessions", n)
	}
	// Two more, then revoke-others.
	for range 2 {
		h.Client().Post("/sign-in/email", map[string]any{"email": "ann@example.com", "password": testPW})
	}
	wantDone(t, b.submit("/ui/account", "revoke-others", "/ui/account/sessions/revoke-others", nil), "/account", "sessions_revoked")
	if n := sessions(); n != 1 {
		t.Fatalf("%d sessions after revoke-others", n)
	}
	// A handle of another user's session is ignored (nothing revoked).
	h.SignUp("Bob", "bob@example.com", testPW)
	wantDone(t, b.post("/ui/account/sessions/revoke", url.Values{"csrf": {revokeTok}, "session": {"not-a-handle"}}), "/account", "session_revoked")
	if count(t, h, authcore.ModelSession, storage.Where{}) != 2 {
		t.Fatal("foreign session revoked")
	}
	// A stale session shows a message instead of the table.
	h.Clock.Advance(25 * 60 * 60 * 1e9)
	if body := b.page("/ui/account"); !strings.Contains(body, "please sign in again to continue") {
		t.Fatalf("stale session:\n%s", body)
	}
}

func TestAccountAPIKeys(t *testing.T) {
	h := newAccountPortal(t)
	b, id := signedInBrowser(t, h, "Ann", "ann@example.com")
	keys := func() []storage.Record {
		recs, _ := h.Engine.Store().FindMany(t.Context(), apikey.ModelAPIKey, storage.Query{Where: storage.Eq("referenceId", id)})
		return recs
	}
	res := b.submit("/ui/account", "api-key-create", "/ui/account/api-keys/create", url.Values{"name": {"ci"}, "expires": {"7"}})
	if res.StatusCode != http.StatusBadRequest || len(keys()) != 0 {
		t.Fatalf("bad expiry: %d", res.StatusCode)
	}
	res = b.submit("/ui/account", "api-key-create", "/ui/account/api-keys/create", url.Values{"name": {strings.Repeat("k", 40)}})
	if res.StatusCode != http.StatusBadRequest || alertText(string(res.Body)) == "" || len(keys()) != 0 {
		t.Fatalf("long name: %d %s", res.StatusCode, res.Body)
	}

	res = b.submit("/ui/account", "api-key-create", "/ui/account/api-keys/create", url.Values{"name": {"ci"}, "expires": {"30"}})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("create: %d %s", res.StatusCode, res.Body)
	}
	body := string(res.Body)
	m := regexpKey.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no #api-key-value:\n%s", body)
	}
	key := m[1]
	if len(key) < 32 || strings.Count(body, key) != 1 {
		t.Fatalf("key %q shown %d times", key, strings.Count(body, key))
	}
	for _, l := range res.Header.Values("Set-Cookie") {
		if strings.Contains(l, key) {
			t.Fatal("key in a cookie")
		}
	}
	if res.Header.Get("Location") != "" || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatal("create response redirects or is cacheable")
	}
	ks := keys()
	if len(ks) != 1 || ks[0].String("name") != "ci" || ks[0].Time("expiresAt").Sub(h.Clock.Now()).Hours() != 30*24 {
		t.Fatalf("stored %v", ks)
	}
	// The following GET lists the key by its start, never the key.
	body = b.page("/ui/account")
	if strings.Contains(body, key) || strings.Contains(body, "api-key-value") || !strings.Contains(body, ks[0].String("start")) {
		t.Fatalf("list:\n%s", body)
	}
	// Revoke.
	res = b.post("/ui/account/api-keys/delete", url.Values{"csrf": {csrfOfClass(t, body, "api-key-revoke")}, "keyId": {"no-such-key"}})
	wantAlert(t, res, http.StatusNotFound, "This API key was not found.")
	res = b.post("/ui/account/api-keys/delete", url.Values{"csrf": {csrfOfClass(t, body, "api-key-revoke")}, "keyId": {ks[0].ID()}})
	wantDone(t, res, "/account", "api_key_revoked")
	if len(keys()) != 0 {
		t.Fatal("key not deleted")
	}
	// Without the plugin there is no section and the route is 404.
	h2 := newPortal(t, nil)
	b2, _ := signedInBrowser(t, h2, "Ann", "ann@example.com")
	if body := b2.page("/ui/account"); strings.Contains(body, "api-key-create") || strings.Contains(body, "Organizations") {
		t.Fatal("api key / org sections without their plugins")
	}
}

func TestAccountOrganizations(t *testing.T) {
	h := newAccountPortal(t)
	b, id := signedInBrowser(t, h, "Ann", "ann@example.com")
	// Ann creates two organizations (the second becomes active), then switches to the first.
	mk := func(c *authcoretest.Client, name string) string {
		r := c.Post("/organization/create", map[string]any{"name": name, "slug": strings.ToLower(name)})
		if r.StatusCode != 200 {
			t.Fatalf("create org: %d %s", r.StatusCode, r.Body)
		}
		return r.Object()["id"].(string)
	}
	acme, _ := mk(b.c, "Acme"), mk(b.c, "Beta")
	body := b.page("/ui/account")
	if strings.Count(body, `<form class="org-switch`) != 1 || !strings.Contains(body, "Active") {
		t.Fatalf("org list:\n%s", body)
	}
	activeOf := func() string {
		recs, _ := h.Engine.Store().FindMany(t.Context(), authcore.ModelSession, storage.Query{Where: storage.Eq("userId", id)})
		for _, r := range recs {
			if r.String("activeOrganizationId") != "" {
				return r.String("activeOrganizationId")
			}
		}
		return ""
	}
	res := b.post("/ui/account/organizations/set-active", url.Values{"csrf": {csrfOfClass(t, body, "org-switch")}, "organizationId": {"someone-elses"}})
	if res.StatusCode < 400 || res.StatusCode >= 500 {
		t.Fatalf("foreign org: %d", res.StatusCode)
	}
	res = b.post("/ui/account/organizations/set-active", url.Values{"csrf": {csrfOfClass(t, body, "org-switch")}, "organizationId": {acme}})
	wantDone(t, res, "/account", "org_switched")
	if activeOf() != acme {
		t.Fatalf("active %q, want %q", activeOf(), acme)
	}

	// Carol invites Ann (verified email) to two organizations; Ann accepts one on the account
	// page and declines the other.
	if _, err := h.Engine.UpdateUser(t.Context(), id, storage.Record{"emailVerified": true}); err != nil {
		t.Fatal(err)
	}
	carol, _ := h.SignUp("Carol", "carol@example.com", testPW)
	invite := func(org string) string {
		r := carol.Post("/organization/invite-member", map[string]any{"email": "ann@example.com", "role": "member", "organizationId": org})
		if r.StatusCode != 200 {
			t.Fatalf("invite: %d %s", r.StatusCode, r.Body)
		}
		return r.Object()["id"].(string)
	}
	c1, c2 := mk(carol, "Carolco"), mk(carol, "Carolco2")
	inv1, inv2 := invite(c1), invite(c2)
	b = newBrowser(h) // a fresh sign-in sees the verified email
	b.submit("/ui/sign-in", "sign-in", "/ui/sign-in", url.Values{"email": {"ann@example.com"}, "password": {testPW}})
	body = b.page("/ui/account")
	if strings.Count(body, `<form class="invitation-accept`) != 2 || !strings.Contains(body, "Carolco invites you as member.") {
		t.Fatalf("invitations:\n%s", body)
	}
	res = b.post("/ui/account/invitations/accept", url.Values{"csrf": {csrfOfClass(t, body, "invitation-accept")}, "invitationId": {inv1}})
	wantDone(t, res, "/account", "invitation_accepted")
	if count(t, h, organization.ModelMember, storage.And(storage.Eq("organizationId", c1), storage.Eq("userId", id))) != 1 {
		t.Fatal("no member row")
	}
	res = b.post("/ui/account/invitations/reject", url.Values{"csrf": {csrfOfClass(t, body, "invitation-reject")}, "invitationId": {inv2}})
	wantDone(t, res, "/account", "invitation_rejected")
	if count(t, h, organization.ModelMember, storage.Eq("organizationId", c2)) != 1 ||
		count(t, h, organization.ModelInvitation, storage.And(storage.ByID(inv2), storage.Eq("status", "rejected"))) != 1 {
		t.Fatal("reject did not reject")
	}
	// Accepting again: the API's 400 on the error page.
	res = b.post("/ui/account/invitations/accept", url.Values{"csrf": {csrfOfClass(t, body, "invitation-accept")}, "invitationId": {inv1}})
	wantAlert(t, res, http.StatusBadRequest, "This invitation is no longer valid.")
}

func TestAcceptInvitationPage(t *testing.T) {
	h := newAccountPortal(t)
	carol, _ := h.SignUp("Carol", "carol@example.com", testPW)
	org := carol.Post("/organization/create", map[string]any{"name": "Acme <b>", "slug": "acme"}).Object()["id"].(string)
	r := carol.Post("/organization/invite-member", map[string]any{"email": "ann@example.com", "role": "admin", "organizationId": org})
	inv := r.Object()["id"].(string)
	h.Drain()
	link := h.Sent(organization.MessageInvitation, "ann@example.com")[0].Data.URL
	page := strings.TrimPrefix(link, authcoretest.BaseURL+"/api/auth")
	if page != "/ui/accept-invitation?id="+inv {
		t.Fatalf("invitation link %q", link)
	}
	// Signed out: sign in first, coming back here.
	mallory, _ := signedInBrowser(t, h, "Mallory", "mallory@example.com")
	res := mallory.get(page)
	if res.StatusCode != http.StatusForbidden || alertText(string(res.Body)) == "" || strings.Contains(string(res.Body), "Acme") {
		t.Fatalf("another user: %d %s", res.StatusCode, res.Body)
	}
	b, id := signedInBrowser(t, h, "Ann", "ann@example.com")
	body := b.page(page)
	if !strings.Contains(body, "carol@example.com invites you to join Acme &lt;b&gt; as admin.") {
		t.Fatalf("landing page:\n%s", body)
	}
	if res := b.get("/ui/accept-invitation?id=nope"); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("unknown invitation: %d", res.StatusCode)
	}
	res = b.submit(page, "invitation-accept", "/ui/account/invitations/accept", url.Values{"invitationId": {inv}})
	wantDone(t, res, "/account", "invitation_accepted")
	recs, _ := h.Engine.Store().FindMany(t.Context(), organization.ModelMember, storage.Query{Where: storage.And(storage.Eq("organizationId", org), storage.Eq("userId", id))})
	if len(recs) != 1 || recs[0].String("role") != "admin" {
		t.Fatalf("member %v", recs)
	}
}

// Every account POST refuses a missing or wrong-form token with 403 and changes nothing.
func TestAccountCSRF(t *testing.T) {
	h := newAccountPortal(t)
	b, id := signedInBrowser(t, h, "Ann", "ann@example.com")
	body := b.page("/ui/account")
	wrong := csrfOf(t, body, "change-email") // a valid token of another form
	for _, action := range []string{"profile", "password", "email", "sessions/revoke", "sessions/revoke-others",
		"api-keys/create", "api-keys/delete", "organizations/set-active", "invitations/accept", "invitations/reject"} {
		for _, tok := range []string{"", wrong, "x"} {
			if action == "email" && tok == wrong {
				continue
			}
			res := b.post("/ui/account/"+action, url.Values{"csrf": {tok}, "name": {"Hacked"}, "new-email": {"evil@example.com"},
				"current-password": {testPW}, "new-password": {"hacked hacked hacked"}, "new-password-confirm": {"hacked hacked hacked"}})
			if res.StatusCode != http.StatusForbidden {
				t.Fatalf("%s with %q: %d", action, tok, res.StatusCode)
			}
		}
	}
	// A cross-site POST with the right token is refused too.
	res := b.post("/ui/account/profile", url.Values{"csrf": {csrfOf(t, body, "profile")}, "name": {"Hacked"}}, "Sec-Fetch-Site", "cross-site")
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site: %d", res.StatusCode)
	}
	if u := userRec(t, h, id); u.String("name") != "Ann" {
		t.Fatalf("changed: %v", u)
	}
	if ok, _, _ := h.Engine.CheckUserPassword(t.Context(), id, testPW); !ok {
		t.Fatal("password changed")
	}
	if count(t, h, apikey.ModelAPIKey, storage.Where{}) != 0 || len(h.Sink.Messages()) != 0 {
		t.Fatal("something was created or sent")
	}
}

var regexpKey = regexp.MustCompile(`<code id="api-key-value"[^>]*>([^<]+)</code>`)

// The security links appear with their plugins only.
func TestAccountSecurityLinks(t *testing.T) {
	h := newAccountPortal(t)
	b, _ := signedInBrowser(t, h, "Ann", "ann@example.com")
	if body := b.page("/ui/account"); strings.Contains(body, "security-heading") {
		t.Fatal("security section without 2FA or passkeys")
	}
	h = newPortal(t, nil, authcoretest.WithPlugins(&twofactor.Plugin{}, &passkey.Plugin{}))
	b, _ = signedInBrowser(t, h, "Ann", "ann@example.com")
	body := b.page("/ui/account")
	if !strings.Contains(body, `<a href="/api/auth/ui/account/two-factor">Two-factor authentication</a>`) ||
		!strings.Contains(body, `<a href="/api/auth/ui/account/passkeys">Passkeys</a>`) {
		t.Fatalf("security links:\n%s", body)
	}
}

// Hostile input is a 4xx page, never a 500.
func TestAccountHostileInput(t *testing.T) {
	pp := &portal.Plugin{}
	h := newPortal(t, pp, authcoretest.WithPlugins(&apikey.Plugin{}, &organization.Plugin{}, &admin.Plugin{}))
	b, _ := signedInBrowser(t, h, "Ann", "ann@example.com")
	csrfTokenFor := func(form string) string {
		return pp.CSRFToken(b.c.CookieValue(h.Engine.CookieName("portal_csrf")), form)
	}
	for _, p := range []string{
		"/ui/accept-invitation",
		"/ui/accept-invitation?id=" + strings.Repeat("x", 1000),
		"/ui/accept-invitation?id=%00%0d%0a",
		"/ui/admin/user?id=" + strings.Repeat("x", 1000),
	} {
		if res := b.get(p); res.StatusCode < 400 || res.StatusCode >= 500 {
			t.Fatalf("%s: %d", p, res.StatusCode)
		}
	}
	body := b.page("/ui/account")
	for action, f := range map[string]url.Values{
		"sessions/revoke":          {"session": {strings.Repeat("s", 600)}},
		"api-keys/delete":          {"keyId": {strings.Repeat("k", 1000)}},
		"organizations/set-active": {"organizationId": {"\x00"}},
		"invitations/accept":       {"invitationId": {strings.Repeat("i", 300)}},
		"email":                    {"new-email": {strings.Repeat("a", 300) + "@example.com"}},
		"password":                 {"current-password": {testPW}, "new-password": {strings.Repeat("p", 5000)}, "new-password-confirm": {strings.Repeat("p", 5000)}},
	} {
		form := map[string]string{"sessions/revoke": "session-revoke", "api-keys/delete": "api-key-revoke", "organizations/set-active": "org-switch",
			"invitations/accept": "invitation-accept", "email": "change-email", "password": "change-password"}[action]
		f.Set("csrf", csrfTokenFor(form))
		res := b.post("/ui/account/"+action, f)
		if res.StatusCode < 400 || res.StatusCode >= 500 || res.StatusCode == http.StatusForbidden { // 403 would be the CSRF page
			t.Fatalf("%s: %d %s", action, res.StatusCode, res.Body)
		}
	}
	if res := b.post("/ui/account/profile", url.Values{"csrf": {csrfOf(t, body, "profile")}, "name": {strings.Repeat("n", 70<<10)}}); res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("huge form: %d", res.StatusCode)
	}
}
