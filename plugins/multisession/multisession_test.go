package multisession_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/plugins/multisession"
	"github.com/gatehouse-auth/gatehouse/storage"
	"github.com/gatehouse-auth/gatehouse/storage/memory"
)

const (
	testPassword = "correct-horse-battery-staple"
	sessionName  = "better-auth.session_token"
	multiPrefix  = sessionName + "_multi-"
)

func newHarness(t *testing.T, p *multisession.Plugin, opts ...authcoretest.Option) *authcoretest.Harness {
	t.Helper()
	return authcoretest.New(t, append([]authcoretest.Option{authcoretest.WithPlugins(p)}, opts...)...)
}

// account is a user created through the API.
type account struct {
	email, id string
}

func newAccount(t *testing.T, h *authcoretest.Harness, name string) account {
	t.Helper()
	email := name + "@example.com"
	_, body := h.SignUp(name, email, testPassword)
	u, _ := body["user"].(map[string]any)
	id, _ := u["id"].(string)
	if id == "" {
		t.Fatalf("sign-up %s: no user id in %v", email, body)
	}
	return account{email: email, id: id}
}

// signIn signs c in as a and returns the response and the new session's bare token.
func signIn(t *testing.T, c *authcoretest.Client, a account) (*authcoretest.Response, string) {
	t.Helper()
	r := c.Post(authcore.PathSignInEmail, map[string]any{"email": a.email, "password": testPassword})
	if r.StatusCode != http.StatusOK {
		t.Fatalf("sign-in %s: %d %s", a.email, r.StatusCode, r.Body)
	}
	tok, _ := r.Object()["token"].(string)
	if tok == "" {
		t.Fatalf("sign-in %s: no token in %s", a.email, r.Body)
	}
	return r, tok
}

// multiCookies returns the client's multi-session cookies: name → raw value.
func multiCookies(h *authcoretest.Harness, c *authcoretest.Client) map[string]string {
	u, _ := url.Parse(h.Server.URL)
	out := map[string]string{}
	for _, ck := range c.Jar.Cookies(u) {
		if strings.HasPrefix(ck.Name, multiPrefix) {
			out[ck.Name] = ck.Value
		}
	}
	return out
}

func multiName(token string) string { return multiPrefix + strings.ToLower(token) }

// wantMulti checks that the client holds exactly the multi-session cookies of these tokens,
// each carrying its signed token.
func wantMulti(t *testing.T, h *authcoretest.Harness, c *authcoretest.Client, tokens ...string) {
	t.Helper()
	got := multiCookies(h, c)
	if len(got) != len(tokens) {
		t.Fatalf("multi-session cookies %v; want %d", got, len(tokens))
	}
	for _, tok := range tokens {
		raw, ok := got[multiName(tok)]
		if !ok {
			t.Fatalf("no multi-session cookie for %s in %v", tok, got)
		}
		v, _ := url.PathUnescape(raw)
		if dv, ok := h.Engine.Keys().Verify(v); !ok || dv != tok {
			t.Fatalf("multi-session cookie %s carries %q (verified %v); want signed %s", multiName(tok), v, ok, tok)
		}
	}
}

func setJarCookie(h *authcoretest.Harness, c *authcoretest.Client, name, value string) {
	u, _ := url.Parse(h.Server.URL)
	c.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

func sessionExists(t *testing.T, h *authcoretest.Harness, token string) bool {
	t.Helper()
	n, err := h.Engine.Store().Count(t.Context(), authcore.ModelSession, storage.Eq("token", authcore.HashToken(token)))
	if err != nil {
		t.Fatal(err)
	}
	return n == 1
}

func sessionCount(t *testing.T, h *authcoretest.Harness, userID string) int {
	t.Helper()
	n, err := h.Engine.Store().Count(t.Context(), authcore.ModelSession, storage.Eq("userId", userID))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// currentUser is the user id /get-session answers for c, or "".
func currentUser(t *testing.T, c *authcoretest.Client) string {
	t.Helper()
	r := c.Get(authcore.PathGetSession)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("get-session: %d %s", r.StatusCode, r.Body)
	}
	u, _ := r.Object()["user"].(map[string]any)
	id, _ := u["id"].(string)
	return id
}

// handleOf is the opaque handle listings show for a session token (D3).
func handleOf(t *testing.T, h *authcoretest.Harness, token string) string {
	t.Helper()
	s, err := h.Engine.SessionByToken(t.Context(), token)
	if err != nil || s == nil {
		t.Fatalf("no session for %s: %v", token, err)
	}
	return h.Engine.SessionHandle(s.ID())
}

func wantError(t *testing.T, r *authcoretest.Response, status int, code authcore.ErrorCode) {
	t.Helper()
	if r.StatusCode != status || r.Code() != code.Code || r.Object()["message"] != code.Message {
		t.Fatalf("got %d %s; want %d {code %s, message %q}", r.StatusCode, r.Body, status, code.Code, code.Message)
	}
}

// deviceSessions lists c's device sessions as (user id, session token) pairs.
func deviceSessions(t *testing.T, c *authcoretest.Client) [][2]string {
	t.Helper()
	r := c.Get(multisession.PathListDeviceSessions)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("list-device-sessions: %d %s", r.StatusCode, r.Body)
	}
	arr, ok := r.JSON().([]any)
	if !ok {
		t.Fatalf("list-device-sessions: not an array: %s", r.Body)
	}
	var out [][2]string
	for _, it := range arr {
		m, _ := it.(map[string]any)
		s, _ := m["session"].(map[string]any)
		u, _ := m["user"].(map[string]any)
		if s["userId"] != u["id"] || u["email"] == nil {
			t.Fatalf("list-device-sessions: entry %v", m)
		}
		out = append(out, [2]string{u["id"].(string), s["token"].(string)})
	}
	return out
}

func TestTwoAccountsOneBrowser(t *testing.T) {
	h := newHarness(t, &multisession.Plugin{})
	alice, bob := newAccount(t, h, "alice"), newAccount(t, h, "bob")
	c := h.Client()

	ra, ta := signIn(t, c, alice)
	line, ok := ra.SetCookie(multiName(ta))
	if !ok {
		t.Fatalf("sign-in set no multi-session cookie: %v", ra.Header.Values("Set-Cookie"))
	}
	// Same attributes as the session cookie, including its Max-Age.
	sess, _ := ra.SetCookie(sessionName)
	_, sessAttrs, _ := strings.Cut(sess, ";")
	_, multiAttrs, _ := strings.Cut(line, ";")
	if multiAttrs != sessAttrs || !strings.Contains(line, "Max-Age=604800") {
		t.Fatalf("multi cookie %q; session cookie %q", line, sess)
	}
	_, tb := signIn(t, c, bob)
	wantMulti(t, h, c, ta, tb)

	got := deviceSessions(t, c)
	want := map[string]string{alice.id: handleOf(t, h, ta), bob.id: handleOf(t, h, tb)}
	if len(got) != 2 || want[got[0][0]] != got[0][1] || want[got[1][0]] != got[1][1] || got[0][0] == got[1][0] {
		t.Fatalf("device sessions %v; want %v", got, want)
	}
	if r := c.Get(multisession.PathListDeviceSessions); strings.Contains(string(r.Body), ta) || strings.Contains(string(r.Body), tb) ||
		r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("the listing shows live tokens or is cacheable: %s", r.Body)
	}
	if currentUser(t, c) != bob.id {
		t.Fatal("the last sign-in is not the active session")
	}

	// set-active switches to alice and back.
	r := c.Post(multisession.PathSetActive, map[string]any{"sessionToken": ta})
	if r.StatusCode != http.StatusOK {
		t.Fatalf("set-active: %d %s", r.StatusCode, r.Body)
	}
	s, _ := r.Object()["session"].(map[string]any)
	u, _ := r.Object()["user"].(map[string]any)
	if s["token"] != ta || u["id"] != alice.id || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("set-active answered %s", r.Body)
	}
	if _, ok := r.SetCookie(sessionName); !ok {
		t.Fatal("set-active set no session cookie")
	}
	if currentUser(t, c) != alice.id {
		t.Fatal("set-active did not switch to alice")
	}
	// Switching is not signing in: no new session, no new multi cookie.
	wantMulti(t, h, c, ta, tb)
	if sessionCount(t, h, alice.id) != 2 { // sign-up's own session plus this browser's
		t.Fatalf("alice has %d sessions", sessionCount(t, h, alice.id))
	}
	// The token is matched case-insensitively in the cookie name, as Better Auth does.
	if r := c.Post(multisession.PathSetActive, map[string]any{"sessionToken": strings.ToUpper(tb)}); r.StatusCode != http.StatusOK {
		t.Fatalf("set-active (upper case): %d %s", r.StatusCode, r.Body)
	}
	if currentUser(t, c) != bob.id {
		t.Fatal("set-active did not switch back to bob")
	}
	// The handle from the listing works as well (what the official client sends back).
	r = c.Post(multisession.PathSetActive, map[string]any{"sessionToken": want[alice.id]})
	if u, _ := r.Object()["user"].(map[string]any); r.StatusCode != http.StatusOK || u["id"] != alice.id {
		t.Fatalf("set-active by handle: %d %s", r.StatusCode, r.Body)
	}
	if currentUser(t, c) != alice.id {
		t.Fatal("set-active by handle did not switch to alice")
	}

	// The gateway treats the multi cookies as its own (stripped from upstream traffic, D8).
	if !h.Engine.ReservedCookie(multiName(ta)) || !h.Engine.ReservedCookie("__Secure-"+multiName(ta)) {
		t.Fatal("multi-session cookies are not reserved gateway cookies")
	}
}

func TestListWithoutCookies(t *testing.T) {
	h := newHarness(t, &multisession.Plugin{})
	if r := h.Client().Get(multisession.PathListDeviceSessions); r.StatusCode != 200 || string(r.Body) != "[]" {
		t.Fatalf("list without cookies: %d %s", r.StatusCode, r.Body)
	}
}

func TestSetActiveRefusesForeignTokens(t *testing.T) {
	h := newHarness(t, &multisession.Plugin{})
	alice, bob, carol := newAccount(t, h, "alice"), newAccount(t, h, "bob"), newAccount(t, h, "carol")
	c := h.Client()
	_, ta := signIn(t, c, alice)
	other := h.Client()
	_, tc := signIn(t, other, carol)
	_, tb := signIn(t, other, bob)

	for _, tc := range []struct {
		name  string
		token string
		setup func()
	}{
		{"another browser's token", tc, nil},
		{"another browser's handle", handleOf(t, h, tc), nil},
		{"a forged handle", strings.SplitN(handleOf(t, h, ta), ".", 2)[0] + ".AAAAAAAAAAAAAAAAAAAAAAAA", nil},
		{"unknown token", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", nil},
		{"empty token", "", nil},
		{"unsigned cookie", tb, func() { setJarCookie(h, c, multiName(tb), tb) }},
		{"forged signature", tb, func() {
			setJarCookie(h, c, multiName(tb), url.QueryEscape(tb+".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="))
		}},
		// alice's validly signed token under carol's cookie name must not stand for carol's
		// session nor activate alice's through carol's name.
		{"signed value under another name", tc, func() { setJarCookie(h, c, multiName(tc), multiCookies(h, c)[multiName(ta)]) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup()
			}
			wantError(t, c.Post(multisession.PathSetActive, map[string]any{"sessionToken": tc.token}), http.StatusUnauthorized, multisession.CodeInvalidSessionToken)
			wantError(t, c.Post(multisession.PathRevoke, map[string]any{"sessionToken": tc.token}), http.StatusUnauthorized, multisession.CodeInvalidSessionToken)
			if currentUser(t, c) != alice.id {
				t.Fatal("the active session changed")
			}
		})
	}
	// None of the bad cookies shows up in the listing, and carol's and bob's sessions live on.
	if got := deviceSessions(t, c); len(got) != 1 || got[0][1] != handleOf(t, h, ta) {
		t.Fatalf("device sessions %v", got)
	}
	if !sessionExists(t, h, tb) || !sessionExists(t, h, tc) {
		t.Fatal("a foreign session was deleted")
	}
	// Cross-site requests never reach the handlers (CSRF-01).
	for _, path := range []string{multisession.PathSetActive, multisession.PathRevoke} {
		if r := c.Post(path, map[string]any{"sessionToken": ta}, "Origin", "https://evil.example"); r.StatusCode != http.StatusForbidden {
			t.Fatalf("%s cross-site: %d %s", path, r.StatusCode, r.Body)
		}
	}
	if !sessionExists(t, h, ta) || currentUser(t, c) != alice.id {
		t.Fatal("a cross-site request changed something")
	}
}

func TestSetActiveSessionGone(t *testing.T) {
	h := newHarness(t, &multisession.Plugin{})
	alice, bob := newAccount(t, h, "alice"), newAccount(t, h, "bob")
	c := h.Client()
	_, ta := signIn(t, c, alice)
	_, tb := signIn(t, c, bob)
	// alice's session is revoked elsewhere (another device, an admin).
	if _, err := h.Engine.Store().DeleteMany(t.Context(), authcore.ModelSession, storage.Eq("token", authcore.HashToken(ta))); err != nil {
		t.Fatal(err)
	}
	r := c.Post(multisession.PathSetActive, map[string]any{"sessionToken": ta})
	wantError(t, r, http.StatusUnauthorized, multisession.CodeInvalidSessionToken)
	if line, ok := r.SetCookie(multiName(ta)); !ok || !strings.Contains(line, "Max-Age=0") {
		t.Fatalf("stale multi cookie not expired: %q", line)
	}
	wantMulti(t, h, c, tb)
	if got := deviceSessions(t, c); len(got) != 1 || got[0][0] != bob.id {
		t.Fatalf("device sessions %v", got)
	}

	// An expired session is not listed either.
	h.Clock.Advance(8 * 24 * time.Hour)
	if got := deviceSessions(t, c); len(got) != 0 {
		t.Fatalf("device sessions after expiry %v", got)
	}
	wantError(t, c.Post(multisession.PathSetActive, map[string]any{"sessionToken": tb}), http.StatusUnauthorized, multisession.CodeInvalidSessionToken)
}

func TestRevoke(t *testing.T) {
	h := newHarness(t, &multisession.Plugin{})
	alice, bob, carol := newAccount(t, h, "alice"), newAccount(t, h, "bob"), newAccount(t, h, "carol")
	c := h.Client()
	_, ta := signIn(t, c, alice)
	_, tb := signIn(t, c, bob)
	_, tc := signIn(t, c, carol) // active

	// A session that is not the active one (named by its listed handle): deleted, its
	// cookie expired, carol stays.
	r := c.Post(multisession.PathRevoke, map[string]any{"sessionToken": handleOf(t, h, ta)})
	if r.StatusCode != http.StatusOK || string(r.Body) != `{"status":true}` {
		t.Fatalf("revoke: %d %s", r.StatusCode, r.Body)
	}
	if _, ok := r.SetCookie(sessionName); ok {
		t.Fatal("revoking another session touched the session cookie")
	}
	if sessionExists(t, h, ta) {
		t.Fatal("revoked session still stored")
	}
	wantMulti(t, h, c, tb, tc)
	if currentUser(t, c) != carol.id {
		t.Fatal("active session changed")
	}
	// Revoking it again: the cookie is gone.
	wantError(t, c.Post(multisession.PathRevoke, map[string]any{"sessionToken": ta}), http.StatusUnauthorized, multisession.CodeInvalidSessionToken)

	// The active one: switches to the other account.
	r = c.Post(multisession.PathRevoke, map[string]any{"sessionToken": tc})
	if r.StatusCode != http.StatusOK {
		t.Fatalf("revoke active: %d %s", r.StatusCode, r.Body)
	}
	if sessionExists(t, h, tc) {
		t.Fatal("revoked active session still stored")
	}
	wantMulti(t, h, c, tb)
	if currentUser(t, c) != bob.id {
		t.Fatal("revoking the active session did not switch to bob")
	}

	// The last one: the session cookies are cleared.
	r = c.Post(multisession.PathRevoke, map[string]any{"sessionToken": tb})
	if line, ok := r.SetCookie(sessionName); r.StatusCode != http.StatusOK || !ok || !strings.Contains(line, "Max-Age=0") {
		t.Fatalf("revoke last: %d %s %q", r.StatusCode, r.Body, line)
	}
	wantMulti(t, h, c)
	if currentUser(t, c) != "" || sessionExists(t, h, tb) {
		t.Fatal("still signed in after revoking the last session")
	}

	// Without a session: 401 UNAUTHORIZED.
	wantError(t, c.Post(multisession.PathRevoke, map[string]any{"sessionToken": tb}), http.StatusUnauthorized, authcore.CodeUnauthorized)
}

func TestRevokeActiveSkipsDeadSessions(t *testing.T) {
	h := newHarness(t, &multisession.Plugin{})
	alice, bob := newAccount(t, h, "alice"), newAccount(t, h, "bob")
	c := h.Client()
	_, ta := signIn(t, c, alice)
	_, tb := signIn(t, c, bob)
	if _, err := h.Engine.Store().DeleteMany(t.Context(), authcore.ModelSession, storage.Eq("token", authcore.HashToken(ta))); err != nil {
		t.Fatal(err)
	}
	r := c.Post(multisession.PathRevoke, map[string]any{"sessionToken": tb})
	if line, ok := r.SetCookie(sessionName); r.StatusCode != http.StatusOK || !ok || !strings.Contains(line, "Max-Age=0") {
		t.Fatalf("revoke with only a dead other session: %d %s %q", r.StatusCode, r.Body, line)
	}
	if currentUser(t, c) != "" {
		t.Fatal("switched to a dead session")
	}
}

func TestSameUserReplacesOlderCookie(t *testing.T) {
	h := newHarness(t, &multisession.Plugin{})
	alice, bob := newAccount(t, h, "alice"), newAccount(t, h, "bob")
	c := h.Client()
	_, ta1 := signIn(t, c, alice)
	_, tb := signIn(t, c, bob)
	r, ta2 := signIn(t, c, alice)
	if line, ok := r.SetCookie(multiName(ta1)); !ok || !strings.Contains(line, "Max-Age=0") {
		t.Fatalf("older multi cookie not expired: %q", line)
	}
	if sessionExists(t, h, ta1) || !sessionExists(t, h, ta2) || !sessionExists(t, h, tb) {
		t.Fatal("the older session of the same user was not (alone) deleted")
	}
	wantMulti(t, h, c, tb, ta2)
	if got := deviceSessions(t, c); len(got) != 2 {
		t.Fatalf("device sessions %v", got)
	}
	// Another browser's session of alice is untouched.
	other := h.Client()
	_, to := signIn(t, other, alice)
	if !sessionExists(t, h, ta2) || !sessionExists(t, h, to) {
		t.Fatal("a sign-in in another browser deleted this browser's session")
	}
}

func TestMaximumSessions(t *testing.T) {
	h := newHarness(t, &multisession.Plugin{MaximumSessions: 2})
	a, b, d := newAccount(t, h, "alice"), newAccount(t, h, "bob"), newAccount(t, h, "dave")
	c := h.Client()
	_, ta := signIn(t, c, a)
	_, tb := signIn(t, c, b)
	r, td := signIn(t, c, d)
	if _, ok := r.SetCookie(multiName(td)); ok {
		t.Fatal("a multi cookie beyond maximum_sessions")
	}
	if currentUser(t, c) != d.id {
		t.Fatal("the sign-in over the limit did not sign in")
	}
	wantMulti(t, h, c, ta, tb)
	// Replacing a same-user cookie frees its place: the limit counts accounts, not sign-ins.
	_, ta2 := signIn(t, c, a)
	wantMulti(t, h, c, tb, ta2)
	// A revoked account frees a place too.
	if r := c.Post(multisession.PathRevoke, map[string]any{"sessionToken": tb}); r.StatusCode != 200 {
		t.Fatalf("revoke: %d %s", r.StatusCode, r.Body)
	}
	_, td2 := signIn(t, c, d)
	wantMulti(t, h, c, ta2, td2)
}

func TestDefaultMaximumIsFive(t *testing.T) {
	h := newHarness(t, &multisession.Plugin{})
	c := h.Client()
	var toks []string
	for _, n := range []string{"u1", "u2", "u3", "u4", "u5", "u6"} {
		_, tok := signIn(t, c, newAccount(t, h, n))
		toks = append(toks, tok)
	}
	wantMulti(t, h, c, toks[:5]...)
}

func TestSignOutClearsEverything(t *testing.T) {
	h := newHarness(t, &multisession.Plugin{})
	alice, bob := newAccount(t, h, "alice"), newAccount(t, h, "bob")
	c := h.Client()
	_, ta := signIn(t, c, alice)
	_, tb := signIn(t, c, bob)
	other := h.Client()
	_, to := signIn(t, other, alice)

	r := c.Post(authcore.PathSignOut, nil)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("sign-out: %d %s", r.StatusCode, r.Body)
	}
	for _, tok := range []string{ta, tb} {
		if line, ok := r.SetCookie(multiName(tok)); !ok || !strings.Contains(line, "Max-Age=0") {
			t.Fatalf("multi cookie %s not expired: %q", tok, line)
		}
		if sessionExists(t, h, tok) {
			t.Fatal("sign-out left a multi session stored")
		}
	}
	wantMulti(t, h, c)
	if currentUser(t, c) != "" {
		t.Fatal("still signed in")
	}
	if !sessionExists(t, h, to) || currentUser(t, other) != alice.id {
		t.Fatal("sign-out in one browser signed another out")
	}
}

// A duplicated multi cookie with different values counts as absent (SES-04), whichever
// comes first.
func TestDuplicateCookieIgnored(t *testing.T) {
	h := newHarness(t, &multisession.Plugin{})
	alice, bob := newAccount(t, h, "alice"), newAccount(t, h, "bob")
	c := h.Client()
	_, ta := signIn(t, c, alice)
	_, tb := signIn(t, c, bob)
	jar := multiCookies(h, c)
	signedA, signedB := jar[multiName(ta)], jar[multiName(tb)]
	session := c.CookieValue(sessionName)
	send := func(path string, body string, cookies ...string) (*http.Response, []byte) {
		t.Helper()
		var rd *strings.Reader
		method := http.MethodGet
		if body != "" {
			method, rd = http.MethodPost, strings.NewReader(body)
		}
		var req *http.Request
		if rd != nil {
			req, _ = http.NewRequest(method, h.URL(path), rd)
			req.Header.Set("Content-Type", "application/json")
		} else {
			req, _ = http.NewRequest(method, h.URL(path), nil)
		}
		req.Header.Set("Origin", authcoretest.BaseURL)
		req.Header.Set("Cookie", strings.Join(append(cookies, sessionName+"="+session), "; "))
		resp, err := h.Server.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	body := `{"sessionToken":"` + ta + `"}`
	for _, cookies := range [][]string{
		{multiName(ta) + "=" + signedA, multiName(ta) + "=" + signedB},
		{multiName(ta) + "=" + signedB, multiName(ta) + "=" + signedA},
	} {
		if r, _ := send(multisession.PathSetActive, body, cookies...); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("set-active with %v: %d", cookies, r.StatusCode)
		}
		all := append(cookies, multiName(tb)+"="+signedB)
		if r, b := send(multisession.PathListDeviceSessions, "", all...); r.StatusCode != 200 || strings.Contains(string(b), alice.id) || !strings.Contains(string(b), bob.id) {
			t.Fatalf("list with %v: %d %s", all, r.StatusCode, b)
		}
	}
	// The same value twice is fine.
	if r, _ := send(multisession.PathSetActive, body, multiName(ta)+"="+signedA, multiName(ta)+"="+signedA); r.StatusCode != 200 {
		t.Fatalf("set-active with a repeated identical cookie: %d", r.StatusCode)
	}
}

// Two valid cookies of one user (copied from another browser) list once.
func TestListOnePerUser(t *testing.T) {
	h := newHarness(t, &multisession.Plugin{})
	alice, bob := newAccount(t, h, "alice"), newAccount(t, h, "bob")
	c, other := h.Client(), h.Client()
	_, ta := signIn(t, c, alice)
	_, tb := signIn(t, c, bob)
	_, to := signIn(t, other, alice)
	setJarCookie(h, c, multiName(to), multiCookies(h, other)[multiName(to)])
	got := deviceSessions(t, c)
	if len(got) != 2 || got[0][0] == got[1][0] {
		t.Fatalf("device sessions %v", got)
	}
	for _, g := range got {
		if g[1] != handleOf(t, h, ta) && g[1] != handleOf(t, h, tb) && g[1] != handleOf(t, h, to) {
			t.Fatalf("device sessions %v", got)
		}
	}
}

// interruptPlugin is a session gate standing in for two-factor: sign-ins of one email are
// answered with a challenge and create no session.
type interruptPlugin struct{ email string }

func (interruptPlugin) ID() string { return "test-interrupt" }
func (p interruptPlugin) Register(r *authcore.Registrar) error {
	r.SessionGate(func(_ *authcore.Call, u storage.Record, opt authcore.SignInOptions) error {
		if u.String("email") == p.email && !opt.MultiFactor {
			return &authcore.Interrupt{Response: map[string]any{"twoFactorRedirect": true}}
		}
		return nil
	})
	// A route that creates a session and then undoes its cookie (a later step failing
	// softly): the response does not sign in, so no multi cookie may be set either.
	return r.Endpoint(authcore.Endpoint{Method: http.MethodPost, Path: "/test/start-and-undo", Auth: authcore.AuthSession,
		BodyOptional: true, Handler: func(c *authcore.Call) (any, error) {
			s, _ := c.Session()
			if _, err := c.StartSession(s.User, false); err != nil {
				return nil, err
			}
			c.ClearSessionCookies()
			return map[string]any{"ok": true}, nil
		}})
}

func TestInterruptedSignInSetsNoCookie(t *testing.T) {
	h := authcoretest.New(t, authcoretest.WithPlugins(&multisession.Plugin{}, interruptPlugin{email: "zed@example.com"}))
	alice := newAccount(t, h, "alice")
	c := h.Client()
	_, ta := signIn(t, c, alice)
	// zed signs up (the gate interrupts the sign-up's sign-in too, if any).
	h.Client().Post(authcore.PathSignUpEmail, map[string]any{"name": "zed", "email": "zed@example.com", "password": testPassword})
	r := c.Post(authcore.PathSignInEmail, map[string]any{"email": "zed@example.com", "password": testPassword})
	if r.StatusCode != 200 || r.Object()["twoFactorRedirect"] != true {
		t.Fatalf("interrupted sign-in: %d %s", r.StatusCode, r.Body)
	}
	for _, line := range r.Header.Values("Set-Cookie") {
		if strings.HasPrefix(line, multiPrefix) || strings.HasPrefix(line, sessionName+"=") {
			t.Fatalf("interrupted sign-in set %q", line)
		}
	}
	wantMulti(t, h, c, ta)
	if currentUser(t, c) != alice.id {
		t.Fatal("interrupted sign-in changed the session")
	}
	r = c.Post("/test/start-and-undo", nil)
	if r.StatusCode != 200 {
		t.Fatalf("start-and-undo: %d %s", r.StatusCode, r.Body)
	}
	for _, line := range r.Header.Values("Set-Cookie") {
		if strings.HasPrefix(line, multiPrefix) {
			t.Fatalf("a session whose cookie was undone got a multi cookie: %q", line)
		}
	}
}

func TestHostileInput(t *testing.T) {
	h := newHarness(t, &multisession.Plugin{})
	c, _ := h.SignUp("alice", "alice@example.com", testPassword)
	for _, path := range []string{multisession.PathSetActive, multisession.PathRevoke} {
		for _, body := range []any{
			map[string]any{},
			map[string]any{"sessionToken": 42},
			map[string]any{"sessionToken": []any{"x"}},
			map[string]any{"sessionToken": nil},
			map[string]any{"sessionToken": strings.Repeat("a", 100000)},
			map[string]any{"sessionToken": "a\u0000b"},
			`{"sessionToken":"a","sessionToken":"b"}`,
			`[]`,
			`not json`,
		} {
			r := c.Post(path, body)
			if r.StatusCode < 400 || r.StatusCode >= 500 || r.Object()["message"] == nil {
				t.Fatalf("%s %v: %d %s", path, body, r.StatusCode, r.Body)
			}
		}
		// Odd but well-formed tokens are simply not held.
		for _, tok := range []string{"../../x", "a;b=c", "ÄÖÜ", strings.Repeat("z", 256)} {
			wantError(t, c.Post(path, map[string]any{"sessionToken": tok}), http.StatusUnauthorized, multisession.CodeInvalidSessionToken)
		}
	}
	// Junk multi cookies do not break the listing or sign-in.
	setJarCookie(h, c, multiPrefix+"x", "%ZZ")
	setJarCookie(h, c, multiPrefix, "")
	if got := deviceSessions(t, c); len(got) != 1 {
		t.Fatalf("device sessions %v", got)
	}
	if r := c.Post(authcore.PathSignInEmail, map[string]any{"email": "alice@example.com", "password": testPassword}); r.StatusCode != 200 {
		t.Fatalf("sign-in with junk cookies: %d %s", r.StatusCode, r.Body)
	}
}

func TestRegisterValidates(t *testing.T) {
	for _, n := range []int{-1, 101} {
		_, err := authcore.New(authcore.Config{BaseURL: authcoretest.BaseURL, Secret: authcoretest.Secret},
			authcore.WithStore(memory.NewStore()), authcore.WithPlugins(&multisession.Plugin{MaximumSessions: n}))
		if err == nil || !strings.Contains(err.Error(), "maximum_sessions") {
			t.Fatalf("maximum_sessions %d: %v", n, err)
		}
	}
}
