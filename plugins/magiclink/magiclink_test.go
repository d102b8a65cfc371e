package magiclink_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/plugins/magiclink"
	"github.com/gatehouse-auth/gatehouse/storage"
	"github.com/gatehouse-auth/gatehouse/storage/memory"
)

const (
	testPW    = "correct horse battery staple"
	verifyURL = authcoretest.BaseURL + "/api/auth/magic-link/verify"
	okBody    = `{"status":true}`
)

func newHarness(t *testing.T, p *magiclink.Plugin, opts ...authcoretest.Option) *authcoretest.Harness {
	t.Helper()
	return authcoretest.New(t, append([]authcoretest.Option{authcoretest.WithPlugins(p)}, opts...)...)
}

// messages returns the captured magic-link emails to an address, after draining the queue.
func messages(t *testing.T, h *authcoretest.Harness, to string) []authcore.Message {
	t.Helper()
	return h.Sent("magic-link", to)
}

// requestLink asks for a link and returns the email it produced.
func requestLink(t *testing.T, h *authcoretest.Harness, body map[string]any) authcore.Message {
	t.Helper()
	email, _ := body["email"].(string)
	to := authcore.NormalizeEmail(email)
	before := len(messages(t, h, to))
	r := h.Client().Post("/sign-in/magic-link", body)
	if r.StatusCode != http.StatusOK || string(r.Body) != okBody {
		t.Fatalf("sign-in/magic-link: %d %s", r.StatusCode, r.Body)
	}
	msgs := messages(t, h, to)
	if len(msgs) != before+1 {
		t.Fatalf("%d magic-link emails to %s, want %d", len(msgs), to, before+1)
	}
	return msgs[len(msgs)-1]
}

// follow GETs an emailed link as a browser would: the link is built from the configured base
// URL, so its scheme and host are replaced by the test server's.
func follow(t *testing.T, h *authcoretest.Harness, c *authcoretest.Client, link string) *authcoretest.Response {
	t.Helper()
	return c.Get(serverURL(t, h, link))
}

func serverURL(t *testing.T, h *authcoretest.Harness, link string) string {
	t.Helper()
	rest, ok := strings.CutPrefix(link, authcoretest.BaseURL+"/")
	if !ok {
		t.Fatalf("link %q is not built from the base URL %s", link, authcoretest.BaseURL)
	}
	return h.Server.URL + "/" + rest
}

func sessionCookie(h *authcoretest.Harness) string {
	return h.Engine.CookieName(authcore.CookieSessionToken)
}

// hasSessionCookie reports whether the response set a live session cookie.
func hasSessionCookie(h *authcoretest.Harness, r *http.Response) bool {
	for _, line := range r.Header.Values("Set-Cookie") {
		if strings.HasPrefix(line, sessionCookie(h)+"=") && !strings.Contains(line, "Max-Age=0") {
			return true
		}
	}
	return false
}

func findUser(t *testing.T, h *authcoretest.Harness, email string) storage.Record {
	t.Helper()
	rec, err := h.Engine.Store().FindOne(t.Context(), authcore.ModelUser, storage.Eq("email", email))
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func count(t *testing.T, h *authcoretest.Harness, model string, where storage.Where) int {
	t.Helper()
	n, err := h.Engine.Store().Count(t.Context(), model, where)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func verifications(t *testing.T, h *authcoretest.Harness) []storage.Record {
	t.Helper()
	rows, err := h.Engine.Store().FindMany(t.Context(), authcore.ModelVerification, storage.Query{})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func expectErr(t *testing.T, r *authcoretest.Response, status int, code string) {
	t.Helper()
	if r.StatusCode != status || r.Code() != code {
		t.Fatalf("got %d %s, want %d %s", r.StatusCode, r.Body, status, code)
	}
	if r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("error content type %q", r.Header.Get("Content-Type"))
	}
}

func expectRedirect(t *testing.T, r *authcoretest.Response, location string) {
	t.Helper()
	if r.StatusCode != http.StatusFound || r.Header.Get("Location") != location {
		t.Fatalf("got %d Location %q (%s), want 302 %q", r.StatusCode, r.Header.Get("Location"), r.Body, location)
	}
}

func getSessionEmail(t *testing.T, c *authcoretest.Client) string {
	t.Helper()
	r := c.Get("/get-session")
	if r.StatusCode != http.StatusOK {
		t.Fatalf("get-session: %d %s", r.StatusCode, r.Body)
	}
	obj := r.Object()
	if obj == nil {
		return ""
	}
	u, _ := obj["user"].(map[string]any)
	s, _ := u["email"].(string)
	return s
}

// The whole flow for an existing, verified user: the email carries the link, following it
// redirects to the callback with a session cookie, and /get-session then knows the user.
func TestFlowExistingUser(t *testing.T) {
	h := newHarness(t, &magiclink.Plugin{})
	old, up := h.SignUp("Alice", "alice@example.com", testPW)
	uid := up["user"].(map[string]any)["id"].(string)
	if _, err := h.Engine.UpdateUser(t.Context(), uid, storage.Record{"emailVerified": true}); err != nil {
		t.Fatal(err)
	}

	m := requestLink(t, h, map[string]any{"email": "Alice@Example.com", "callbackURL": "/dashboard"})
	if m.To != "alice@example.com" || m.ExpiresIn != 5*time.Minute {
		t.Fatalf("message %+v", m)
	}
	if len(m.Data.Token) != 32 || strings.Trim(m.Data.Token, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		t.Fatalf("token %q is not 32 letters", m.Data.Token)
	}
	if want := verifyURL + "?token=" + m.Data.Token + "&callbackURL=%2Fdashboard"; m.Data.URL != want {
		t.Fatalf("link %q, want %q", m.Data.URL, want)
	}

	c := h.Client()
	r := follow(t, h, c, m.Data.URL)
	expectRedirect(t, r, authcoretest.BaseURL+"/dashboard")
	line, ok := r.SetCookie(sessionCookie(h))
	if !ok || !strings.Contains(line, "HttpOnly") || !strings.Contains(line, "SameSite=Lax") || strings.Contains(line, "Max-Age=0") {
		t.Fatalf("session cookie %q", line)
	}
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("Cache-Control %q", r.Header.Get("Cache-Control"))
	}
	if got := getSessionEmail(t, c); got != "alice@example.com" {
		t.Fatalf("get-session user %q", got)
	}
	// A verified account is not touched: its password and other session survive.
	if getSessionEmail(t, old) != "alice@example.com" || count(t, h, authcore.ModelAccount, storage.Eq("userId", uid)) != 1 {
		t.Fatal("a verified user's session or password was removed")
	}
	// Used once, the link is dead.
	r = follow(t, h, h.Client(), m.Data.URL)
	expectRedirect(t, r, authcoretest.BaseURL+"/dashboard?error=INVALID_TOKEN")
	if hasSessionCookie(h, r.Response) {
		t.Fatal("a used link set a session cookie")
	}
	if n := count(t, h, authcore.ModelSession, storage.Eq("userId", uid)); n != 2 {
		t.Fatalf("%d sessions, want 2", n)
	}
}

// Without callbackURL the verify endpoint answers JSON with the session, as Better Auth's
// client expects from authClient.magicLink.verify.
func TestVerifyJSONWithoutCallback(t *testing.T) {
	h := newHarness(t, &magiclink.Plugin{})
	m := requestLink(t, h, map[string]any{"email": "bob@example.com", "name": "Bob"})
	c := h.Client()
	r := c.Get("/magic-link/verify?token=" + m.Data.Token)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("verify: %d %s", r.StatusCode, r.Body)
	}
	obj := r.Object()
	user, _ := obj["user"].(map[string]any)
	sess, _ := obj["session"].(map[string]any)
	tok, _ := obj["token"].(string)
	if tok == "" || sess["token"] != tok || user["email"] != "bob@example.com" || user["name"] != "Bob" ||
		user["emailVerified"] != true || sess["userId"] != user["id"] {
		t.Fatalf("verify body %s", r.Body)
	}
	if !hasSessionCookie(h, r.Response) || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("headers %v", r.Header)
	}
	if getSessionEmail(t, c) != "bob@example.com" {
		t.Fatal("the cookie does not carry the session")
	}
	// The token in the body is a working session token.
	s, err := h.Engine.SessionByToken(t.Context(), tok)
	if err != nil || s == nil || s.UserID() != user["id"] {
		t.Fatalf("session by token: %v %v", s, err)
	}
}

// An unknown address gets an account (emailVerified, the requested name, no password) and
// the new-user callback; its second sign-in goes to the ordinary callback.
func TestNewUser(t *testing.T) {
	h := newHarness(t, &magiclink.Plugin{})
	m := requestLink(t, h, map[string]any{"email": "new@example.com", "name": "Newt",
		"callbackURL": "/home", "newUserCallbackURL": "/welcome", "errorCallbackURL": "/oops"})
	want := verifyURL + "?token=" + m.Data.Token + "&callbackURL=%2Fhome&newUserCallbackURL=%2Fwelcome&errorCallbackURL=%2Foops"
	if m.Data.URL != want {
		t.Fatalf("link %q, want %q", m.Data.URL, want)
	}
	if findUser(t, h, "new@example.com") != nil {
		t.Fatal("the account exists before the link is followed")
	}
	c := h.Client()
	r := follow(t, h, c, m.Data.URL)
	expectRedirect(t, r, authcoretest.BaseURL+"/welcome")
	u := findUser(t, h, "new@example.com")
	if u == nil || !u.Bool("emailVerified") || u.String("name") != "Newt" {
		t.Fatalf("created user %v", u)
	}
	if n := count(t, h, authcore.ModelAccount, storage.Eq("userId", u.ID())); n != 0 {
		t.Fatalf("%d accounts for a magic-link user", n)
	}
	if getSessionEmail(t, c) != "new@example.com" {
		t.Fatal("no session after sign-up")
	}

	m = requestLink(t, h, map[string]any{"email": "new@example.com", "callbackURL": "/home", "newUserCallbackURL": "/welcome"})
	expectRedirect(t, follow(t, h, h.Client(), m.Data.URL), authcoretest.BaseURL+"/home")
	if n := count(t, h, authcore.ModelUser, storage.Eq("email", "new@example.com")); n != 1 {
		t.Fatalf("%d users", n)
	}

	// Without a name the account gets "" (Better Auth's default).
	m = requestLink(t, h, map[string]any{"email": "anon@example.com"})
	expectRedirect(t, follow(t, h, h.Client(), m.Data.URL), authcoretest.BaseURL+"/")
	if u := findUser(t, h, "anon@example.com"); u == nil || u.String("name") != "" {
		t.Fatalf("user %v", u)
	}
}

// disable_sign_up: unknown addresses get the same answer but no email; a link for an
// unknown address that exists anyway (the account was deleted after sending) redirects with
// new_user_signup_disabled; known users still sign in.
func TestDisableSignUp(t *testing.T) {
	h := newHarness(t, &magiclink.Plugin{DisableSignUp: true})
	_, up := h.SignUp("Alice", "alice@example.com", testPW)
	known := h.Client().Post("/sign-in/magic-link", map[string]any{"email": "alice@example.com"})
	unknown := h.Client().Post("/sign-in/magic-link", map[string]any{"email": "nobody@example.com"})
	sameAnswer(t, known, unknown)
	if n := len(messages(t, h, "nobody@example.com")); n != 0 {
		t.Fatalf("%d emails to an address that cannot sign up", n)
	}
	if n := len(verifications(t, h)); n != 1 {
		t.Fatalf("%d verification rows, want 1 (the known user's)", n)
	}
	m := messages(t, h, "alice@example.com")[0]
	if err := h.Engine.DeleteUser(t.Context(), up["user"].(map[string]any)["id"].(string)); err != nil {
		t.Fatal(err)
	}
	expectRedirect(t, follow(t, h, h.Client(), m.Data.URL), authcoretest.BaseURL+"/?error=new_user_signup_disabled")
	if findUser(t, h, "alice@example.com") != nil {
		t.Fatal("an account was created with sign-up disabled")
	}

	h.SignUp("Carol", "carol@example.com", testPW)
	m = requestLink(t, h, map[string]any{"email": "carol@example.com", "callbackURL": "/in"})
	expectRedirect(t, follow(t, h, h.Client(), m.Data.URL), authcoretest.BaseURL+"/in")
}

// email_and_password.allowed_domains applies to magic-link sign-up too.
func TestAllowedDomains(t *testing.T) {
	h := newHarness(t, &magiclink.Plugin{}, authcoretest.WithConfig(func(c *authcore.Config) {
		c.EmailAndPassword.AllowedDomains = []string{"corp.example"}
	}))
	r := h.Client().Post("/sign-in/magic-link", map[string]any{"email": "mallory@evil.example"})
	if r.StatusCode != http.StatusOK || string(r.Body) != okBody {
		t.Fatalf("%d %s", r.StatusCode, r.Body)
	}
	if n := len(messages(t, h, "mallory@evil.example")); n != 0 {
		t.Fatal("a link was sent outside the allowed domains")
	}
	m := requestLink(t, h, map[string]any{"email": "staff@CORP.example"})
	expectRedirect(t, follow(t, h, h.Client(), m.Data.URL), authcoretest.BaseURL+"/")
	if findUser(t, h, "staff@corp.example") == nil {
		t.Fatal("no account in an allowed domain")
	}
}

// Promotion (pre-hijack defence): mallory signs up with alice's address and a password she
// knows, and keeps a session. When alice proves the mailbox with a magic link, mallory's
// password account and session are gone and the address is verified.
func TestPromotionOfUnverifiedUser(t *testing.T) {
	h := newHarness(t, &magiclink.Plugin{})
	mallory, up := h.SignUp("Mallory", "alice@example.com", testPW)
	uid := up["user"].(map[string]any)["id"].(string)
	if getSessionEmail(t, mallory) != "alice@example.com" {
		t.Fatal("setup: mallory has no session")
	}
	if n := count(t, h, authcore.ModelAccount, storage.Eq("userId", uid)); n != 1 {
		t.Fatalf("setup: %d accounts", n)
	}

	m := requestLink(t, h, map[string]any{"email": "alice@example.com", "callbackURL": "/app", "newUserCallbackURL": "/welcome"})
	alice := h.Client()
	expectRedirect(t, follow(t, h, alice, m.Data.URL), authcoretest.BaseURL+"/app")

	if n := count(t, h, authcore.ModelAccount, storage.Eq("userId", uid)); n != 0 {
		t.Fatalf("%d accounts survived the promotion", n)
	}
	if n := count(t, h, authcore.ModelSession, storage.Eq("userId", uid)); n != 1 {
		t.Fatalf("%d sessions, want only alice's new one", n)
	}
	if u := findUser(t, h, "alice@example.com"); u == nil || u.ID() != uid || !u.Bool("emailVerified") {
		t.Fatalf("user after promotion %v", u)
	}
	if got := getSessionEmail(t, mallory); got != "" {
		t.Fatalf("mallory's old session still works (%s)", got)
	}
	if getSessionEmail(t, alice) != "alice@example.com" {
		t.Fatal("alice is not signed in")
	}
	r := h.Client().Post("/sign-in/email", map[string]any{"email": "alice@example.com", "password": testPW})
	expectErr(t, r, http.StatusUnauthorized, "INVALID_EMAIL_OR_PASSWORD")
}

// A link expires after expires_in (default 5 min), measured with the injected clock.
func TestExpiry(t *testing.T) {
	h := newHarness(t, &magiclink.Plugin{})
	m := requestLink(t, h, map[string]any{"email": "alice@example.com", "errorCallbackURL": "/oops"})
	rows := verifications(t, h)
	if len(rows) != 1 || !rows[0].Time("expiresAt").Equal(h.Clock.Now().Add(5*time.Minute)) {
		t.Fatalf("verification rows %v", rows)
	}
	h.Clock.Advance(5 * time.Minute)
	expectRedirect(t, follow(t, h, h.Client(), m.Data.URL), authcoretest.BaseURL+"/oops?error=INVALID_TOKEN")
	if findUser(t, h, "alice@example.com") != nil {
		t.Fatal("an expired link created an account")
	}

	// Just inside the lifetime it works; expires_in is configurable.
	h2 := newHarness(t, &magiclink.Plugin{ExpiresIn: authcore.Duration(10 * time.Minute)})
	m = requestLink(t, h2, map[string]any{"email": "alice@example.com"})
	if m.ExpiresIn != 10*time.Minute {
		t.Fatalf("message ExpiresIn %v", m.ExpiresIn)
	}
	h2.Clock.Advance(10*time.Minute - time.Second)
	expectRedirect(t, follow(t, h2, h2.Client(), m.Data.URL), authcoretest.BaseURL+"/")
}

// OTT-01: a token signs in at most once, even when 20 requests race for it.
func TestSingleUseUnderConcurrency(t *testing.T) {
	for _, store := range []struct {
		name string
		opts []authcoretest.Option
	}{{"memory", nil}, {"bolt", []authcoretest.Option{authcoretest.WithBolt()}}} {
		t.Run(store.name, func(t *testing.T) {
			h := newHarness(t, &magiclink.Plugin{}, store.opts...)
			m := requestLink(t, h, map[string]any{"email": "alice@example.com", "callbackURL": "/app"})
			target := serverURL(t, h, m.Data.URL)
			hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			type result struct {
				status   int
				location string
				cookie   bool
				err      error
			}
			results := make([]result, 20)
			var wg sync.WaitGroup
			for i := range results {
				wg.Add(1)
				go func() {
					defer wg.Done()
					resp, err := hc.Get(target)
					if err != nil {
						results[i].err = err
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					results[i] = result{resp.StatusCode, resp.Header.Get("Location"), hasSessionCookie(h, resp), nil}
				}()
			}
			wg.Wait()
			wins := 0
			for _, r := range results {
				switch {
				case r.err != nil:
					t.Fatalf("request: %v", r.err)
				case r.status == http.StatusFound && r.location == authcoretest.BaseURL+"/app" && r.cookie:
					wins++
				case r.status == http.StatusFound && r.location == authcoretest.BaseURL+"/app?error=INVALID_TOKEN" && !r.cookie:
				default:
					t.Fatalf("unexpected answer %+v", r)
				}
			}
			if wins != 1 {
				t.Fatalf("%d redemptions succeeded, want exactly 1", wins)
			}
			if n := count(t, h, authcore.ModelSession, storage.Where{}); n != 1 {
				t.Fatalf("%d sessions, want 1", n)
			}
			if n := count(t, h, authcore.ModelUser, storage.Where{}); n != 1 {
				t.Fatalf("%d users, want 1", n)
			}
		})
	}
}

// Two links for one new address followed at the same time: one account, both signed in.
func TestConcurrentNewUserLinks(t *testing.T) {
	h := newHarness(t, &magiclink.Plugin{})
	m1 := requestLink(t, h, map[string]any{"email": "new@example.com", "callbackURL": "/app"})
	m2 := requestLink(t, h, map[string]any{"email": "new@example.com", "callbackURL": "/app"})
	var wg sync.WaitGroup
	res := make([]*authcoretest.Response, 2)
	for i, link := range []string{m1.Data.URL, m2.Data.URL} {
		target := serverURL(t, h, link)
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i] = h.Client().Get(target)
		}()
	}
	wg.Wait()
	for _, r := range res {
		if r.StatusCode != http.StatusFound || !hasSessionCookie(h, r.Response) || strings.Contains(r.Header.Get("Location"), "error=") {
			t.Fatalf("got %d %q", r.StatusCode, r.Header.Get("Location"))
		}
	}
	if n := count(t, h, authcore.ModelUser, storage.Eq("email", "new@example.com")); n != 1 {
		t.Fatalf("%d users", n)
	}
}

// OTT-03: by default the store holds only the token's digest; plain keeps Better Auth's
// format. The value is {"email","name"} either way.
func TestStoredToken(t *testing.T) {
	for _, tc := range []struct {
		store  string
		hashed bool
	}{{"", true}, {"hashed", true}, {"plain", false}} {
		t.Run("store_token="+tc.store, func(t *testing.T) {
			h := newHarness(t, &magiclink.Plugin{StoreToken: tc.store})
			m := requestLink(t, h, map[string]any{"email": "alice@example.com", "name": "Alice"})
			rows := verifications(t, h)
			if len(rows) != 1 {
				t.Fatalf("%d rows", len(rows))
			}
			id := rows[0].String("identifier")
			if tc.hashed {
				if id != authcore.HashToken(m.Data.Token) {
					t.Fatalf("identifier %q is not the token's hash", id)
				}
				for k, v := range rows[0] {
					if s, ok := v.(string); ok && strings.Contains(s, m.Data.Token) {
						t.Fatalf("%s holds the raw token: %q", k, s)
					}
				}
			} else if id != m.Data.Token {
				t.Fatalf("plain identifier %q, want the token", id)
			}
			var v map[string]any
			if err := json.Unmarshal([]byte(rows[0].String("value")), &v); err != nil || v["email"] != "alice@example.com" || v["name"] != "Alice" || len(v) != 2 {
				t.Fatalf("value %q", rows[0].String("value"))
			}
			expectRedirect(t, follow(t, h, h.Client(), m.Data.URL), authcoretest.BaseURL+"/")
			if n := len(verifications(t, h)); n != 0 {
				t.Fatalf("%d rows left after use", n)
			}
		})
	}
}

func sameAnswer(t *testing.T, a, b *authcoretest.Response) {
	t.Helper()
	if a.StatusCode != b.StatusCode || !bytes.Equal(a.Body, b.Body) {
		t.Fatalf("answers differ: %d %s vs %d %s", a.StatusCode, a.Body, b.StatusCode, b.Body)
	}
	if a.StatusCode != http.StatusOK || string(a.Body) != okBody {
		t.Fatalf("answer %d %s", a.StatusCode, a.Body)
	}
	for _, r := range []*authcoretest.Response{a, b} {
		if len(r.Header.Values("Set-Cookie")) != 0 {
			t.Fatalf("Set-Cookie on sign-in/magic-link: %v", r.Header.Values("Set-Cookie"))
		}
	}
}

// ENUM-03: known and unknown addresses get byte-identical answers; only the background job
// differs.
func TestNoEnumeration(t *testing.T) {
	h := newHarness(t, &magiclink.Plugin{})
	h.SignUp("Alice", "alice@example.com", testPW)
	known := h.Client().Post("/sign-in/magic-link", map[string]any{"email": "alice@example.com", "callbackURL": "/x"})
	unknown := h.Client().Post("/sign-in/magic-link", map[string]any{"email": "nobody@example.com", "callbackURL": "/x"})
	sameAnswer(t, known, unknown)
	if len(messages(t, h, "alice@example.com")) != 1 || len(messages(t, h, "nobody@example.com")) != 1 {
		t.Fatal("with sign-up open both addresses get a link (Better Auth's behaviour)")
	}
}

// RDR-02: untrusted redirect targets are refused before anything is stored or sent, and a
// trusted link whose callback was edited is refused at click time without burning it.
func TestUntrustedCallbacks(t *testing.T) {
	h := newHarness(t, &magiclink.Plugin{}, authcoretest.WithConfig(func(c *authcore.Config) {
		c.TrustedOrigins = []string{"https://app.example"}
	}))
	for field, code := range map[string]string{
		"callbackURL":        "INVALID_CALLBACK_URL",
		"newUserCallbackURL": "INVALID_NEW_USER_CALLBACK_URL",
		"errorCallbackURL":   "INVALID_ERROR_CALLBACK_URL",
	} {
		for _, bad := range []string{"https://evil.example/", "//evil.example", "/\\evil.example", "javascript:alert(1)", "https://app.example.evil.example/"} {
			r := h.Client().Post("/sign-in/magic-link", map[string]any{"email": "alice@example.com", field: bad})
			expectErr(t, r, http.StatusForbidden, code)
		}
		r := h.Client().Post("/sign-in/magic-link", map[string]any{"email": "alice@example.com", field: 42})
		expectErr(t, r, http.StatusBadRequest, "VALIDATION_ERROR")
	}
	if n := len(messages(t, h, "alice@example.com")); n != 0 || len(verifications(t, h)) != 0 {
		t.Fatalf("%d emails sent for refused requests", n)
	}

	// A trusted absolute callback is fine, in the link and in the redirect.
	m := requestLink(t, h, map[string]any{"email": "alice@example.com", "callbackURL": "https://app.example/in"})
	for field, code := range map[string]string{
		"callbackURL":        "INVALID_CALLBACK_URL",
		"newUserCallbackURL": "INVALID_NEW_USER_CALLBACK_URL",
		"errorCallbackURL":   "INVALID_ERROR_CALLBACK_URL",
	} {
		r := h.Client().Get("/magic-link/verify?token=" + m.Data.Token + "&" + field + "=" + url.QueryEscape("https://evil.example/"))
		expectErr(t, r, http.StatusForbidden, code)
	}
	expectRedirect(t, follow(t, h, h.Client(), m.Data.URL), "https://app.example/in")
}

// HDR-07: links are built from the configured base URL whatever Host or X-Forwarded-* says.
func TestLinkIgnoresRequestHost(t *testing.T) {
	h := newHarness(t, &magiclink.Plugin{})
	req, err := http.NewRequest(http.MethodPost, h.URL("/sign-in/magic-link"), strings.NewReader(`{"email":"alice@example.com"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "evil.example"
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-Host", "evil.example")
	req.Header.Set("X-Forwarded-Proto", "javascript")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	msgs := messages(t, h, "alice@example.com")
	if len(msgs) != 1 || !strings.HasPrefix(msgs[0].Data.URL, verifyURL+"?token=") {
		t.Fatalf("messages %+v", msgs)
	}
}

// D13: without a mailer the route answers "not enabled", the same for every address, and
// stores nothing.
func TestNoMailer(t *testing.T) {
	h := newHarness(t, &magiclink.Plugin{}, authcoretest.WithoutMailer())
	h.SignUp("Alice", "alice@example.com", testPW)
	for _, email := range []string{"alice@example.com", "nobody@example.com"} {
		r := h.Client().Post("/sign-in/magic-link", map[string]any{"email": email})
		expectErr(t, r, http.StatusBadRequest, "MAGIC_LINK_NOT_ENABLED")
		if r.Object()["message"] != "Magic link isn't enabled" {
			t.Fatalf("message %s", r.Body)
		}
	}
	h.Drain()
	if n := len(verifications(t, h)); n != 0 {
		t.Fatalf("%d verification rows", n)
	}
}

// Hostile input is a 4xx envelope (or the INVALID_TOKEN redirect), never a 500, and touches
// nothing.
func TestHostileInput(t *testing.T) {
	h := newHarness(t, &magiclink.Plugin{StoreToken: "plain"})
	big := strings.Repeat("a", 9000)
	for name, tc := range map[string]struct {
		body   string
		ct     string
		status int
		code   string
	}{
		"no email":          {`{}`, "", 400, "VALIDATION_ERROR"},
		"email number":      {`{"email":5}`, "", 400, "VALIDATION_ERROR"},
		"email null":        {`{"email":null}`, "", 400, "VALIDATION_ERROR"},
		"email invalid":     {`{"email":"not-an-email"}`, "", 400, "VALIDATION_ERROR"},
		"email huge":        {`{"email":"` + big + `@example.com"}`, "", 400, "VALIDATION_ERROR"},
		"email header inj":  {`{"email":"a@example.com\r\nBcc: x@evil.example"}`, "", 400, "VALIDATION_ERROR"},
		"email NUL":         {`{"email":"a\u0000@example.com"}`, "", 400, "VALIDATION_ERROR"},
		"name number":       {`{"email":"a@example.com","name":1}`, "", 400, "VALIDATION_ERROR"},
		"name huge":         {`{"email":"a@example.com","name":"` + big + `"}`, "", 400, "VALIDATION_ERROR"},
		"metadata string":   {`{"email":"a@example.com","metadata":"x"}`, "", 400, "VALIDATION_ERROR"},
		"metadata array":    {`{"email":"a@example.com","metadata":[1]}`, "", 400, "VALIDATION_ERROR"},
		"callback object":   {`{"email":"a@example.com","callbackURL":{"a":1}}`, "", 400, "VALIDATION_ERROR"},
		"body array":        {`[{"email":"a@example.com"}]`, "", 400, "BODY_MUST_BE_AN_OBJECT"},
		"duplicate keys":    {`{"email":"a@example.com","email":"b@example.com"}`, "", 400, "BAD_REQUEST"},
		"broken JSON":       {`{"email":`, "", 400, "BAD_REQUEST"},
		"form body":         {`email=a%40example.com`, "application/x-www-form-urlencoded", 415, "UNSUPPORTED_MEDIA_TYPE"},
		"text body":         {`a@example.com`, "text/plain", 415, "UNSUPPORTED_MEDIA_TYPE"},
		"too large":         {`{"email":"a@example.com","name":"` + strings.Repeat("x", 2<<20) + `"}`, "", 413, "PAYLOAD_TOO_LARGE"},
		"deep metadata":     {`{"email":"a@example.com","metadata":` + strings.Repeat(`{"a":`, 200) + `1` + strings.Repeat(`}`, 200) + `}`, "", 400, "BAD_REQUEST"},
		"no body":           {``, "", 400, "VALIDATION_ERROR"},
		"wrong types mixed": {`{"email":["a@example.com"]}`, "", 400, "VALIDATION_ERROR"},
	} {
		t.Run(name, func(t *testing.T) {
			ct := tc.ct
			if ct == "" {
				ct = "application/json"
			}
			r := h.Client().Do(http.MethodPost, "/sign-in/magic-link", []byte(tc.body), "Content-Type", ct)
			expectErr(t, r, tc.status, tc.code)
		})
	}

	// A verification row of another flow, whose identifier is known to the attacker.
	otherID := "sign-in-otp-alice@example.com"
	if err := h.Engine.CreateVerification(t.Context(), otherID, `{"email":"alice@example.com"}`, time.Hour); err != nil {
		t.Fatal(err)
	}
	for name, q := range map[string]string{
		"no token":       "",
		"token array":    "token=" + strings.Repeat("a", 32) + "&token=" + strings.Repeat("b", 32),
		"token huge":     "token=" + big,
		"callback array": "token=x&callbackURL=/a&callbackURL=/b",
		"token NUL":      "token=" + strings.Repeat("a", 31) + "%00",
	} {
		t.Run("verify "+name, func(t *testing.T) {
			r := h.Client().Get("/magic-link/verify?" + q)
			expectErr(t, r, http.StatusBadRequest, "VALIDATION_ERROR")
		})
	}
	for name, tok := range map[string]string{
		"short":          "abc",
		"digits":         strings.Repeat("1", 32),
		"other flow":     otherID,
		"unicode":        strings.Repeat("é", 16),
		"unknown":        strings.Repeat("Z", 32),
		"letters and +":  strings.Repeat("a", 31) + "+",
		"33 letters":     strings.Repeat("a", 33),
		"percent escape": "%41%41",
	} {
		t.Run("verify token "+name, func(t *testing.T) {
			r := h.Client().Get("/magic-link/verify?token=" + url.QueryEscape(tok))
			expectRedirect(t, r, authcoretest.BaseURL+"/?error=INVALID_TOKEN")
		})
	}
	rows := verifications(t, h)
	if len(rows) != 1 || rows[0].String("identifier") != otherID {
		t.Fatalf("another flow's row was consumed: %v", rows)
	}
	if n := count(t, h, authcore.ModelUser, storage.Where{}); n != 0 {
		t.Fatalf("%d users created by hostile input", n)
	}
	// A 32-letter row that is not a magic link: consumed, but refused.
	junk := strings.Repeat("Q", 32)
	if err := h.Engine.CreateVerification(t.Context(), junk, "not json", time.Hour); err != nil {
		t.Fatal(err)
	}
	expectRedirect(t, h.Client().Get("/magic-link/verify?token="+junk), authcoretest.BaseURL+"/?error=INVALID_TOKEN")
}

// HEAD (mail scanners, link previews) must not burn the link.
func TestHeadDoesNotConsume(t *testing.T) {
	h := newHarness(t, &magiclink.Plugin{})
	m := requestLink(t, h, map[string]any{"email": "alice@example.com", "callbackURL": "/app"})
	r := h.Client().Do(http.MethodHead, serverURL(t, h, m.Data.URL), nil)
	if r.StatusCode != http.StatusOK || hasSessionCookie(h, r.Response) {
		t.Fatalf("HEAD: %d %v", r.StatusCode, r.Header)
	}
	expectRedirect(t, follow(t, h, h.Client(), m.Data.URL), authcoretest.BaseURL+"/app")
}

// Better Auth's rule: 5 requests per 60 s on each route, ahead of the core's /sign-in/*
// rule (3 per 10 s); rate_limit changes it.
func TestRateLimit(t *testing.T) {
	enable := authcoretest.WithConfig(func(c *authcore.Config) { c.RateLimit.Disabled = false })
	h := newHarness(t, &magiclink.Plugin{}, enable)
	for i := range 5 {
		if r := h.Client().Post("/sign-in/magic-link", map[string]any{"email": "a@example.com"}); r.StatusCode != http.StatusOK {
			t.Fatalf("request %d: %d %s", i+1, r.StatusCode, r.Body)
		}
	}
	r := h.Client().Post("/sign-in/magic-link", map[string]any{"email": "a@example.com"})
	if r.StatusCode != http.StatusTooManyRequests || r.Header.Get("X-Retry-After") == "" {
		t.Fatalf("6th request: %d %v", r.StatusCode, r.Header)
	}
	for i := range 5 {
		if r := h.Client().Get("/magic-link/verify?token=x"); r.StatusCode != http.StatusFound {
			t.Fatalf("verify %d: %d", i+1, r.StatusCode)
		}
	}
	if r := h.Client().Get("/magic-link/verify?token=x"); r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("6th verify: %d", r.StatusCode)
	}
	h.Clock.Advance(60 * time.Second)
	if r := h.Client().Post("/sign-in/magic-link", map[string]any{"email": "a@example.com"}); r.StatusCode != http.StatusOK {
		t.Fatalf("after the window: %d", r.StatusCode)
	}

	h = newHarness(t, &magiclink.Plugin{RateLimitWindow: authcore.Duration(time.Minute), RateLimitMax: 2}, enable)
	for range 2 {
		h.Client().Post("/sign-in/magic-link", map[string]any{"email": "a@example.com"})
	}
	if r := h.Client().Post("/sign-in/magic-link", map[string]any{"email": "a@example.com"}); r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("3rd request with max 2: %d", r.StatusCode)
	}
}

// Login CSRF (spec §4.4 step 2): a cross-site navigation cannot request a link.
func TestFormCSRF(t *testing.T) {
	h := newHarness(t, &magiclink.Plugin{})
	c := h.Client()
	c.Origin = ""
	r := c.Post("/sign-in/magic-link", map[string]any{"email": "a@example.com"},
		"Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "navigate", "Sec-Fetch-Dest", "document")
	expectErr(t, r, http.StatusForbidden, "CROSS_SITE_NAVIGATION_LOGIN_BLOCKED")
	r = c.Post("/sign-in/magic-link", map[string]any{"email": "a@example.com"}, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "cors")
	expectErr(t, r, http.StatusForbidden, "INVALID_ORIGIN")
	if len(messages(t, h, "a@example.com")) != 0 {
		t.Fatal("a refused request sent a link")
	}
}

func TestRegisterRefusesBadOptions(t *testing.T) {
	for name, p := range map[string]*magiclink.Plugin{
		"store_token":       {StoreToken: "encrypted"},
		"expires_in":        {ExpiresIn: authcore.Duration(-time.Second)},
		"rate_limit_window": {RateLimitWindow: authcore.Duration(-time.Second)},
		"rate_limit_max":    {RateLimitMax: -1},
	} {
		t.Run(name, func(t *testing.T) {
			e, err := authcore.New(authcore.Config{BaseURL: authcoretest.BaseURL, Secret: authcoretest.Secret},
				authcore.WithStore(memory.NewStore()), authcore.WithPlugins(p))
			if err == nil {
				e.Close()
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), name) {
				t.Fatalf("error %q does not name %s", err, name)
			}
			if p.Validate() == nil || !strings.Contains(p.Validate().Error(), name) {
				t.Fatalf("Validate: %v", p.Validate())
			}
		})
	}
}

func TestErrorCodesDeclared(t *testing.T) {
	h := newHarness(t, &magiclink.Plugin{})
	codes := h.Engine.ErrorCodes()["magic-link"]
	if len(codes) != 1 || codes[0] != magiclink.CodeMagicLinkNotEnabled {
		t.Fatalf("declared codes %v", codes)
	}
	var paths []string
	for _, ep := range h.Engine.Endpoints() {
		if ep.Owner() == "magic-link" {
			paths = append(paths, ep.Method+" "+ep.Path)
		}
	}
	if strings.Join(paths, ",") != "POST /sign-in/magic-link,GET /magic-link/verify" {
		t.Fatalf("endpoints %v", paths)
	}
}

// gatePlugin stands in for two-factor and bans: it records the sign-in method and
// interrupts or refuses chosen users.
type gatePlugin struct {
	mu      sync.Mutex
	methods []string
}

func (*gatePlugin) ID() string { return "test-gate" }

func (g *gatePlugin) Register(r *authcore.Registrar) error {
	r.SessionGate(func(c *authcore.Call, user storage.Record, opt authcore.SignInOptions) error {
		method := opt.Method
		g.mu.Lock()
		g.methods = append(g.methods, method)
		g.mu.Unlock()
		switch user.String("email") {
		case "twofactor@example.com":
			return &authcore.Interrupt{Response: authcore.Redirect("/two-factor")}
		case "banned@example.com":
			return authcore.ErrorCode{Code: "BANNED_USER", Message: "You have been banned from this application"}.With(http.StatusForbidden)
		}
		return nil
	})
	return nil
}

// D11: the session is created through Call.SignIn, so gates see method "magic-link" and
// may interrupt (no session, their answer) or refuse.
func TestSessionGates(t *testing.T) {
	g := &gatePlugin{}
	h := newHarness(t, &magiclink.Plugin{}, authcoretest.WithPlugins(g))
	m := requestLink(t, h, map[string]any{"email": "twofactor@example.com", "callbackURL": "/app"})
	r := follow(t, h, h.Client(), m.Data.URL)
	expectRedirect(t, r, "/two-factor")
	if hasSessionCookie(h, r.Response) || count(t, h, authcore.ModelSession, storage.Where{}) != 0 {
		t.Fatal("an interrupted sign-in created a session")
	}
	m = requestLink(t, h, map[string]any{"email": "banned@example.com", "callbackURL": "/app"})
	r = follow(t, h, h.Client(), m.Data.URL)
	expectErr(t, r, http.StatusForbidden, "BANNED_USER")
	if count(t, h, authcore.ModelSession, storage.Where{}) != 0 {
		t.Fatal("a refused sign-in created a session")
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if strings.Join(g.methods, ",") != "magic-link,magic-link" {
		t.Fatalf("gate saw methods %v", g.methods)
	}
}

// OTT-01: following alice's link while signed in as mallory yields alice's session (the
// cookie is replaced), never mallory's.
func TestLinkReplacesExistingSession(t *testing.T) {
	h := newHarness(t, &magiclink.Plugin{})
	c, _ := h.SignUp("Mallory", "mallory@example.com", testPW)
	m := requestLink(t, h, map[string]any{"email": "alice@example.com", "callbackURL": "/app"})
	expectRedirect(t, follow(t, h, c, m.Data.URL), authcoretest.BaseURL+"/app")
	if got := getSessionEmail(t, c); got != "alice@example.com" {
		t.Fatalf("signed in as %q", got)
	}
}
