package caddymodule

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/storage"
)

const adminTestPW = "correct horse battery staple"

// adminHarness is an engine (authcoretest: memory store, cheap argon2id) with the admin
// routes bound to it, called the way Caddy's admin server calls them.
type adminHarness struct {
	t   *testing.T
	h   *authcoretest.Harness
	api *AdminAPI
}

func newAdminHarness(t *testing.T) *adminHarness {
	t.Helper()
	h := authcoretest.New(t)
	return &adminHarness{t: t, h: h, api: &AdminAPI{engine: func() (*authcore.Engine, error) { return h.Engine, nil }}}
}

// adminReply is an admin API answer: the status, the decoded body, and Caddy's error text.
type adminReply struct {
	status int
	header http.Header
	body   map[string]any
	err    string
}

// call serves one request through the module's route and renders a returned error as
// Caddy's admin server does (caddy.APIError → status and {"error": message}).
func (a *adminHarness) call(method, target string, body any) adminReply {
	a.t.Helper()
	var rd *strings.Reader
	switch b := body.(type) {
	case nil:
		rd = strings.NewReader("")
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			a.t.Fatal(err)
		}
		rd = strings.NewReader(string(j))
	}
	routes := a.api.Routes()
	if len(routes) != 1 || !strings.HasPrefix(target, routes[0].Pattern) {
		a.t.Fatalf("%s is not under the module's route %v", target, routes)
	}
	req := httptest.NewRequest(method, target, rd)
	rec := httptest.NewRecorder()
	err := routes[0].Handler.ServeHTTP(rec, req)
	out := adminReply{header: rec.Header()}
	if err != nil {
		var apiErr caddy.APIError
		if !errors.As(err, &apiErr) {
			a.t.Fatalf("%s %s: error is not a caddy.APIError: %T %v", method, target, err, err)
		}
		out.status, out.err = apiErr.HTTPStatus, apiErr.Error()
		return out
	}
	out.status = rec.Code
	if err := json.Unmarshal(rec.Body.Bytes(), &out.body); err != nil {
		a.t.Fatalf("%s %s: %d, body is not a JSON object: %q", method, target, rec.Code, rec.Body.String())
	}
	return out
}

// expect fails unless the answer has that status (and, for errors, contains msg).
func (r adminReply) expect(t *testing.T, status int, msg string) adminReply {
	t.Helper()
	if r.status != status || (msg != "" && !strings.Contains(r.err, msg)) {
		t.Fatalf("got %d %q %v, want %d containing %q", r.status, r.err, r.body, status, msg)
	}
	return r
}

func (a *adminHarness) createUser(email, role string) map[string]any {
	a.t.Helper()
	body := map[string]any{"email": email, "name": "Test " + email, "password": adminTestPW}
	if role != "" {
		body["role"] = role
	}
	return a.call("POST", "/gatehouse/users", body).expect(a.t, http.StatusCreated, "").body
}

// signIn signs a fresh client in through the auth API and reports the status.
func (a *adminHarness) signIn(email, pw string) (*authcoretest.Client, int) {
	a.t.Helper()
	c := a.h.Client()
	r := c.Post("/sign-in/email", map[string]any{"email": email, "password": pw})
	return c, r.StatusCode
}

// signedIn reports whether the client's session is live (get-session returns a user).
func signedIn(t *testing.T, c *authcoretest.Client) bool {
	t.Helper()
	r := c.Get("/get-session")
	return r.StatusCode == http.StatusOK && r.Object()["user"] != nil
}

func TestAdminModuleRegistered(t *testing.T) {
	info, err := caddy.GetModule("admin.api.gatehouse")
	if err != nil {
		t.Fatal(err)
	}
	router, ok := info.New().(caddy.AdminRouter)
	if !ok {
		t.Fatalf("%T is not a caddy.AdminRouter", info.New())
	}
	if r := router.Routes(); len(r) != 1 || r[0].Pattern != "/gatehouse/" {
		t.Fatalf("routes %v", r)
	}
}

// Without a running config that has a gatehouse block, the routes answer 503 and do not make
// Caddy provision a gatehouse app of their own.
func TestAdminWithoutGatehouseApp(t *testing.T) {
	if _, err := caddy.ActiveContext().AppIfConfigured("gatehouse"); err == nil {
		t.Skip("a config with a gatehouse app is running in this process")
	}
	rec := httptest.NewRecorder()
	err := (&AdminAPI{}).serveHTTP(rec, httptest.NewRequest("GET", "/gatehouse/users", nil))
	var apiErr caddy.APIError
	if !errors.As(err, &apiErr) || apiErr.HTTPStatus != http.StatusServiceUnavailable || !strings.Contains(apiErr.Error(), "not running") {
		t.Fatalf("got %v", err)
	}
}

func TestAdminCreateUser(t *testing.T) {
	a := newAdminHarness(t)
	u := a.call("POST", "/gatehouse/users", map[string]any{
		"email": "  Ada@Example.COM ", "name": "Ada", "password": adminTestPW, "emailVerified": true,
	}).expect(t, http.StatusCreated, "").body
	if u["email"] != "ada@example.com" || u["name"] != "Ada" || u["role"] != "user" || u["emailVerified"] != true || u["id"] == "" {
		t.Fatalf("created user %v", u)
	}
	for k := range u {
		if strings.Contains(strings.ToLower(k), "password") {
			t.Fatalf("user JSON carries %q: %v", k, u)
		}
	}
	// The password works through the auth API.
	if _, code := a.signIn("ada@example.com", adminTestPW); code != http.StatusOK {
		t.Fatalf("sign-in with the admin-set password: %d", code)
	}
	if u := a.createUser("root@example.com", "admin,support"); u["role"] != "admin,support" {
		t.Fatalf("role %v", u["role"])
	}

	cases := []struct {
		name   string
		body   any
		status int
		msg    string
	}{
		{"duplicate email", map[string]any{"email": "ADA@example.com", "name": "A", "password": adminTestPW}, http.StatusConflict, "already exists"},
		{"too short", map[string]any{"email": "b@example.com", "name": "B", "password": "short"}, http.StatusBadRequest, "PASSWORD_TOO_SHORT"},
		{"too common", map[string]any{"email": "b@example.com", "name": "B", "password": "password123"}, http.StatusBadRequest, "PASSWORD_TOO_COMMON"},
		{"too long", map[string]any{"email": "b@example.com", "name": "B", "password": strings.Repeat("x", 500)}, http.StatusBadRequest, "PASSWORD_TOO_LONG"},
		{"no password", map[string]any{"email": "b@example.com", "name": "B"}, http.StatusBadRequest, "password is required"},
		{"bad email", map[string]any{"email": "not-an-email", "name": "B", "password": adminTestPW}, http.StatusBadRequest, "invalid email"},
		{"no name", map[string]any{"email": "b@example.com", "name": " ", "password": adminTestPW}, http.StatusBadRequest, "name is required"},
		{"bad role", map[string]any{"email": "b@example.com", "name": "B", "password": adminTestPW, "role": "a b"}, http.StatusBadRequest, "invalid role"},
		{"unknown field", map[string]any{"email": "b@example.com", "name": "B", "password": adminTestPW, "banned": true}, http.StatusBadRequest, "unknown field"},
		{"not JSON", "email=b@example.com", http.StatusBadRequest, "decoding request body"},
		{"trailing data", `{"email":"b@example.com","name":"B","password":"` + adminTestPW + `"} {}`, http.StatusBadRequest, "after the JSON object"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a.call("POST", "/gatehouse/users", c.body).expect(t, c.status, c.msg)
		})
	}
	if n, _ := a.h.Engine.Store().Count(t.Context(), authcore.ModelUser, storage.Where{}); n != 2 {
		t.Fatalf("%d users stored, want 2", n)
	}
}

func TestAdminListUsers(t *testing.T) {
	a := newAdminHarness(t)
	for _, e := range []string{"ada@example.com", "bob@example.com", "carol@other.org"} {
		a.createUser(e, "")
		a.h.Clock.Advance(time.Second) // listings are oldest first
	}
	list := func(query string) ([]any, float64) {
		t.Helper()
		b := a.call("GET", "/gatehouse/users"+query, nil).expect(t, http.StatusOK, "").body
		users, _ := b["users"].([]any)
		total, _ := b["total"].(float64)
		return users, total
	}
	if users, total := list(""); len(users) != 3 || total != 3 {
		t.Fatalf("all: %d users, total %v", len(users), total)
	}
	if users, total := list("?search=EXAMPLE.com"); len(users) != 2 || total != 2 {
		t.Fatalf("search: %d users, total %v", len(users), total)
	}
	users, total := list("?limit=1&offset=1")
	if len(users) != 1 || total != 3 || users[0].(map[string]any)["email"] != "bob@example.com" {
		t.Fatalf("page: %v total %v", users, total)
	}
	a.call("GET", "/gatehouse/users?limit=-1", nil).expect(t, http.StatusBadRequest, "limit")
	a.call("GET", "/gatehouse/users?limit=100000", nil).expect(t, http.StatusBadRequest, "limit")
	a.call("GET", "/gatehouse/users?offset=x", nil).expect(t, http.StatusBadRequest, "offset")
}

func TestAdminUserByIDOrEmail(t *testing.T) {
	a := newAdminHarness(t)
	id := a.createUser("ada@example.com", "")["id"].(string)
	for _, ref := range []string{id, "ada@example.com", "ADA@example.com", url.PathEscape("ada@example.com")} {
		if u := a.call("GET", "/gatehouse/users/"+ref, nil).expect(t, http.StatusOK, "").body; u["id"] != id {
			t.Fatalf("%s: %v", ref, u)
		}
	}
	a.call("GET", "/gatehouse/users/nobody@example.com", nil).expect(t, http.StatusNotFound, `user "nobody@example.com" not found`)
	a.call("GET", "/gatehouse/users/unknownid", nil).expect(t, http.StatusNotFound, "not found")
}

func TestAdminSetRole(t *testing.T) {
	a := newAdminHarness(t)
	a.createUser("ada@example.com", "")
	u := a.call("POST", "/gatehouse/users/ada@example.com/role", map[string]any{"role": "admin"}).expect(t, http.StatusOK, "").body
	if u["role"] != "admin" {
		t.Fatalf("role %v", u["role"])
	}
	// The role is stored: a fresh sign-in sees it.
	c, _ := a.signIn("ada@example.com", adminTestPW)
	if r := c.Get("/get-session"); r.Object()["user"].(map[string]any)["role"] != "admin" {
		t.Fatalf("get-session %s", r.Body)
	}
	a.call("POST", "/gatehouse/users/ada@example.com/role", map[string]any{"role": ""}).expect(t, http.StatusBadRequest, "invalid role")
	a.call("POST", "/gatehouse/users/ada@example.com/role", map[string]any{"role": "x\ny"}).expect(t, http.StatusBadRequest, "invalid role")
	a.call("POST", "/gatehouse/users/nobody@example.com/role", map[string]any{"role": "admin"}).expect(t, http.StatusNotFound, "not found")
	r := a.call("GET", "/gatehouse/users/ada@example.com/role", nil).expect(t, http.StatusMethodNotAllowed, "not allowed")
	if r.header.Get("Allow") != "POST" {
		t.Fatalf("Allow %q", r.header.Get("Allow"))
	}
}

func TestAdminSetPassword(t *testing.T) {
	a := newAdminHarness(t)
	a.createUser("ada@example.com", "")
	c1, _ := a.signIn("ada@example.com", adminTestPW)
	c2, _ := a.signIn("ada@example.com", adminTestPW)
	if !signedIn(t, c1) || !signedIn(t, c2) {
		t.Fatal("sessions not live before the change")
	}
	a.call("POST", "/gatehouse/users/ada@example.com/password", map[string]any{"password": "short"}).expect(t, http.StatusBadRequest, "PASSWORD_TOO_SHORT")
	a.call("POST", "/gatehouse/users/ada@example.com/password", map[string]any{"password": "password123"}).expect(t, http.StatusBadRequest, "PASSWORD_TOO_COMMON")
	if !signedIn(t, c1) {
		t.Fatal("a refused password change revoked sessions")
	}
	const newPW = "a brand new passphrase 42"
	r := a.call("POST", "/gatehouse/users/ada@example.com/password", map[string]any{"password": newPW}).expect(t, http.StatusOK, "")
	if r.body["revokedSessions"] != float64(2) {
		t.Fatalf("answer %v", r.body)
	}
	if signedIn(t, c1) || signedIn(t, c2) {
		t.Fatal("old sessions survived the password change")
	}
	if _, code := a.signIn("ada@example.com", adminTestPW); code == http.StatusOK {
		t.Fatal("the old password still works")
	}
	if _, code := a.signIn("ada@example.com", newPW); code != http.StatusOK {
		t.Fatalf("the new password: %d", code)
	}
	a.call("POST", "/gatehouse/users/nobody@example.com/password", map[string]any{"password": newPW}).expect(t, http.StatusNotFound, "not found")
}

func TestAdminSessions(t *testing.T) {
	a := newAdminHarness(t)
	a.createUser("ada@example.com", "")
	a.createUser("bob@example.com", "")
	c1, _ := a.signIn("ada@example.com", adminTestPW)
	c2, _ := a.signIn("ada@example.com", adminTestPW)
	bob, _ := a.signIn("bob@example.com", adminTestPW)

	r := a.call("GET", "/gatehouse/sessions?user=ada@example.com", nil).expect(t, http.StatusOK, "")
	sessions, _ := r.body["sessions"].([]any)
	if len(sessions) != 2 {
		t.Fatalf("sessions %v", r.body)
	}
	// Listings carry handles, never tokens or their stored hashes (D3).
	tokens := map[string]bool{}
	for _, c := range []*authcoretest.Client{c1, c2} {
		tok, _, _ := strings.Cut(c.CookieValue("better-auth.session_token"), ".")
		tokens[tok], tokens[authcore.HashToken(tok)] = true, true
	}
	var handles []string
	for _, s := range sessions {
		m := s.(map[string]any)
		h, _ := m["token"].(string)
		if h == "" || tokens[h] || !strings.HasPrefix(h, m["id"].(string)+".") {
			t.Fatalf("session token field %q (id %v)", h, m["id"])
		}
		handles = append(handles, h)
	}

	// A forged handle is refused; an unknown session is 404.
	id, _, _ := strings.Cut(handles[0], ".")
	a.call("DELETE", "/gatehouse/sessions/"+id+".AAAAAAAAAAAAAAAAAAAAAAAA", nil).expect(t, http.StatusBadRequest, "invalid session handle")
	a.call("DELETE", "/gatehouse/sessions/nosuchsession", nil).expect(t, http.StatusNotFound, "session not found")
	a.call("DELETE", "/gatehouse/sessions/"+handles[0]+"?user=ada@example.com", nil).expect(t, http.StatusBadRequest, "not both")

	// Revoke one by handle: exactly that session ends.
	a.call("DELETE", "/gatehouse/sessions/"+handles[0], nil).expect(t, http.StatusOK, "")
	live := 0
	for _, c := range []*authcoretest.Client{c1, c2} {
		if signedIn(t, c) {
			live++
		}
	}
	if live != 1 {
		t.Fatalf("%d of ada's sessions live after revoking one", live)
	}
	a.call("DELETE", "/gatehouse/sessions/"+handles[0], nil).expect(t, http.StatusNotFound, "session not found")

	// Revoke all of a user's; other users keep theirs.
	r = a.call("DELETE", "/gatehouse/sessions?user=ada@example.com", nil).expect(t, http.StatusOK, "")
	if r.body["revoked"] != float64(1) || signedIn(t, c1) || signedIn(t, c2) {
		t.Fatalf("revoke all: %v", r.body)
	}
	if !signedIn(t, bob) {
		t.Fatal("bob's session was revoked too")
	}

	// A bare session id works as well (the admin is trusted with ids).
	bobSessions := a.call("GET", "/gatehouse/sessions?user=bob@example.com", nil).expect(t, http.StatusOK, "").body["sessions"].([]any)
	a.call("DELETE", "/gatehouse/sessions/"+bobSessions[0].(map[string]any)["id"].(string), nil).expect(t, http.StatusOK, "")
	if signedIn(t, bob) {
		t.Fatal("revoke by id left the session live")
	}

	a.call("GET", "/gatehouse/sessions", nil).expect(t, http.StatusBadRequest, "user query parameter is required")
	a.call("DELETE", "/gatehouse/sessions", nil).expect(t, http.StatusBadRequest, "user query parameter is required")
	a.call("GET", "/gatehouse/sessions?user=nobody@example.com", nil).expect(t, http.StatusNotFound, "not found")
	a.call("POST", "/gatehouse/sessions", nil).expect(t, http.StatusMethodNotAllowed, "")
	a.call("GET", "/gatehouse/sessions/"+handles[1], nil).expect(t, http.StatusMethodNotAllowed, "")
}

func TestAdminDeleteUser(t *testing.T) {
	a := newAdminHarness(t)
	id := a.createUser("ada@example.com", "")["id"].(string)
	c, _ := a.signIn("ada@example.com", adminTestPW)
	r := a.call("DELETE", "/gatehouse/users/ada@example.com", nil).expect(t, http.StatusOK, "")
	if r.body["deleted"] != true {
		t.Fatalf("answer %v", r.body)
	}
	if signedIn(t, c) {
		t.Fatal("the deleted user's session still works")
	}
	if _, code := a.signIn("ada@example.com", adminTestPW); code == http.StatusOK {
		t.Fatal("the deleted user can sign in")
	}
	st := a.h.Engine.Store()
	for _, model := range []string{authcore.ModelSession, authcore.ModelAccount} {
		if n, _ := st.Count(t.Context(), model, storage.Eq("userId", id)); n != 0 {
			t.Fatalf("%d %s rows left for the deleted user", n, model)
		}
	}
	a.call("DELETE", "/gatehouse/users/ada@example.com", nil).expect(t, http.StatusNotFound, "not found")
}

func TestAdminRouting(t *testing.T) {
	a := newAdminHarness(t)
	a.call("GET", "/gatehouse/", nil).expect(t, http.StatusNotFound, "unknown gatehouse admin endpoint")
	a.call("GET", "/gatehouse/nope", nil).expect(t, http.StatusNotFound, "unknown gatehouse admin endpoint")
	a.call("GET", "/gatehouse/users/x/y/z", nil).expect(t, http.StatusNotFound, "unknown gatehouse admin endpoint")
	r := a.call("PUT", "/gatehouse/users", nil).expect(t, http.StatusMethodNotAllowed, "")
	if r.header.Get("Allow") != "GET, POST" {
		t.Fatalf("Allow %q", r.header.Get("Allow"))
	}
	a.call("PATCH", "/gatehouse/users/ada@example.com", nil).expect(t, http.StatusMethodNotAllowed, "")
}
