package authcore_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/storage"
)

const sessionCookie = "better-auth.session_token"

// signJS recomputes Better Auth's signed-cookie value independently of the engine (spec
// §2.2): token "." base64std(HMAC-SHA256(secret, token)), percent-encoded like
// encodeURIComponent.
func signJS(secret, token string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(token))
	sig := base64.StdEncoding.EncodeToString(m.Sum(nil))
	r := strings.NewReplacer("/", "%2F", "+", "%2B", "=", "%3D")
	return token + "." + r.Replace(sig)
}

func TestSessionCookieSignatureMatchesBetterAuth(t *testing.T) {
	h := authcoretest.New(t)
	c, body := h.SignUp("Alice", "Alice@Example.com", "correct horse battery")
	token, _ := body["token"].(string)
	if len(token) != 32 {
		t.Fatalf("token %q: want 32 characters", token)
	}
	want := signJS(authcoretest.Secret, token)
	if got := c.CookieValue(sessionCookie); got != want {
		t.Fatalf("session cookie = %q, want %q", got, want)
	}
	user := body["user"].(map[string]any)
	if user["email"] != "alice@example.com" || user["emailVerified"] != false || user["name"] != "Alice" {
		t.Fatalf("user = %v", user)
	}
	// The live vector from spec §2.2, through the engine's own keyring.
	if got := h.Engine.Keys().Sign("1ZFiKnZcxVa2nauZo1tOKF17tG30BE6T"); got != "1ZFiKnZcxVa2nauZo1tOKF17tG30BE6T.QcTbs/SrWDl4snOL5f2hKxhd4MamzHjRoD+tcL3brCE=" {
		t.Fatalf("spec vector: %s", got)
	}
}

func TestSetCookieAttributes(t *testing.T) {
	h := authcoretest.New(t)
	c := h.Client()
	r := c.Post("/sign-up/email", map[string]any{"name": "A", "email": "a@example.com", "password": "correct horse battery"})
	line, ok := r.SetCookie(sessionCookie)
	if !ok {
		t.Fatalf("no session cookie in %v", r.Header.Values("Set-Cookie"))
	}
	tok := r.Object()["token"].(string)
	want := sessionCookie + "=" + signJS(authcoretest.Secret, tok) + "; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax"
	if line != want {
		t.Fatalf("Set-Cookie\n got %s\nwant %s", line, want)
	}
}

func TestSecureCookiesOnHTTPS(t *testing.T) {
	h := authcoretest.New(t, authcoretest.WithConfig(func(c *authcore.Config) {
		c.BaseURL = "https://app.test"
	}))
	c := h.Client()
	c.Origin = "https://app.test"
	r := c.Post("/sign-up/email", map[string]any{"name": "A", "email": "a@example.com", "password": "correct horse battery"})
	line, ok := r.SetCookie("__Secure-better-auth.session_token")
	if !ok || !strings.HasSuffix(line, "; Path=/; HttpOnly; Secure; SameSite=Lax") {
		t.Fatalf("secure cookie: %q (all: %v)", line, r.Header.Values("Set-Cookie"))
	}
}

func getSession(t *testing.T, c *authcoretest.Client, query string) (*authcoretest.Response, map[string]any) {
	t.Helper()
	r := c.Get("/get-session" + query)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("get-session: %d %s", r.StatusCode, r.Body)
	}
	if r.Header.Get("Cache-Control") != "no-store" || r.Header.Get("Pragma") != "no-cache" {
		t.Fatalf("get-session cache headers: %v", r.Header)
	}
	obj, _ := r.JSON().(map[string]any)
	return r, obj
}

func TestGetSession(t *testing.T) {
	h := authcoretest.New(t)
	anon := h.Client()
	r, obj := getSession(t, anon, "")
	if string(r.Body) != "null" || obj != nil {
		t.Fatalf("anonymous get-session = %s, want null", r.Body)
	}
	c, body := h.SignUp("Alice", "alice@example.com", "correct horse battery")
	_, obj = getSession(t, c, "")
	sess := obj["session"].(map[string]any)
	if sess["token"] != body["token"] {
		t.Fatalf("session.token = %v, want the caller's own token %v", sess["token"], body["token"])
	}
	if obj["user"].(map[string]any)["email"] != "alice@example.com" {
		t.Fatalf("user = %v", obj["user"])
	}
	if _, leaked := obj["user"].(map[string]any)["password"]; leaked {
		t.Fatal("hidden fields must not be returned")
	}
	// The store holds only the hash of the token (D3).
	rec, err := h.Engine.Store().FindOne(t.Context(), "session", storage.ByID(sess["id"].(string)))
	if err != nil {
		t.Fatal(err)
	}
	if rec.String("token") != authcore.HashToken(body["token"].(string)) {
		t.Fatalf("stored token %q is not the hash of the token", rec.String("token"))
	}
}

func TestForgedAndTossedCookiesAreNoSession(t *testing.T) {
	h := authcoretest.New(t)
	alice, body := h.SignUp("Alice", "alice@example.com", "correct horse battery")
	mallory, _ := h.SignUp("Mallory", "mallory@example.com", "correct horse battery")
	good := alice.CookieValue(sessionCookie)
	tok := body["token"].(string)
	sig := strings.TrimPrefix(good, tok+".")
	cases := map[string]string{
		"flipped bit":       tok[:31] + string(tok[31]^1) + "." + sig,
		"no signature":      tok,
		"grafted signature": tok + "." + strings.SplitN(mallory.CookieValue(sessionCookie), ".", 2)[1],
		"short signature":   tok + "." + sig[:20],
		"not base64":        tok + ".!!!!" + sig[4:],
		"random token":      signJS("another-secret-0123456789abcdef0123456789", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
		"empty":             "",
	}
	for name, v := range cases {
		t.Run(name, func(t *testing.T) {
			c := h.Client()
			r := c.Get("/get-session", "Cookie", sessionCookie+"="+v)
			if r.StatusCode != 200 || string(r.Body) != "null" {
				t.Fatalf("got %d %s, want 200 null", r.StatusCode, r.Body)
			}
		})
	}
	t.Run("two different session cookies", func(t *testing.T) {
		// Cookie tossing (SES-04): never a chosen or mixed identity.
		c := h.Client()
		for _, order := range [][2]string{{good, mallory.CookieValue(sessionCookie)}, {mallory.CookieValue(sessionCookie), good}} {
			r := c.Get("/get-session", "Cookie", sessionCookie+"="+order[0]+"; "+sessionCookie+"="+order[1])
			if string(r.Body) != "null" {
				t.Fatalf("duplicate cookies gave %s", r.Body)
			}
		}
	})
	t.Run("deleted session", func(t *testing.T) {
		alice.Post("/sign-out", nil)
		r := h.Client().Get("/get-session", "Cookie", sessionCookie+"="+good)
		if string(r.Body) != "null" {
			t.Fatalf("signed-out session still valid: %s", r.Body)
		}
	})
}

func TestSessionRefreshAfterUpdateAge(t *testing.T) {
	h := authcoretest.New(t)
	c, _ := h.SignUp("Alice", "alice@example.com", "correct horse battery")
	_, obj := getSession(t, c, "")
	exp0 := obj["session"].(map[string]any)["expiresAt"].(string)

	h.Clock.Advance(23 * time.Hour)
	r, obj := getSession(t, c, "")
	if got := obj["session"].(map[string]any)["expiresAt"]; got != exp0 {
		t.Fatalf("refreshed before update_age: %v → %v", exp0, got)
	}
	if _, set := r.SetCookie(sessionCookie); set {
		t.Fatal("cookie re-issued before update_age")
	}

	h.Clock.Advance(2 * time.Hour)
	r, obj = getSession(t, c, "")
	want := h.Clock.Now().Add(7 * 24 * time.Hour).UTC().Format("2006-01-02T15:04:05.000Z")
	if got := obj["session"].(map[string]any)["expiresAt"]; got != want {
		t.Fatalf("after update_age expiresAt = %v, want %v", got, want)
	}
	if line, set := r.SetCookie(sessionCookie); !set || !strings.Contains(line, "Max-Age=604800") {
		t.Fatalf("refresh must re-issue the cookie: %q", line)
	}
	h.Clock.Advance(25 * time.Hour)
	_, obj = getSession(t, c, "?disableRefresh=true")
	if got := obj["session"].(map[string]any)["expiresAt"]; got != want {
		t.Fatalf("disableRefresh still refreshed: %v", got)
	}
}

func TestSessionExpiryAndAbsoluteMaxAge(t *testing.T) {
	t.Run("idle past expires_in", func(t *testing.T) {
		h := authcoretest.New(t)
		c, _ := h.SignUp("Alice", "alice@example.com", "correct horse battery")
		h.Clock.Advance(7*24*time.Hour + time.Second)
		r, obj := getSession(t, c, "")
		if obj != nil {
			t.Fatalf("expired session still returned: %s", r.Body)
		}
		for _, name := range []string{sessionCookie, "better-auth.session_data", "better-auth.dont_remember"} {
			if line, ok := r.SetCookie(name); !ok || !strings.Contains(line, "Max-Age=0") {
				t.Fatalf("cookie %s not expired: %q", name, line)
			}
		}
		n, _ := h.Engine.Store().Count(t.Context(), "session", storage.Where{})
		if n != 0 {
			t.Fatalf("expired session row kept (%d rows)", n)
		}
	})
	t.Run("active past max_age", func(t *testing.T) {
		h := authcoretest.New(t)
		c, _ := h.SignUp("Alice", "alice@example.com", "correct horse battery")
		for i := 0; i < 30; i++ { // used daily: refreshed, but never past 30 days
			h.Clock.Advance(24*time.Hour + time.Minute)
			_, obj := getSession(t, c, "")
			if obj == nil {
				if i < 28 {
					t.Fatalf("session ended early, on day %d", i+1)
				}
				return
			}
			exp, _ := time.Parse(time.RFC3339, obj["session"].(map[string]any)["expiresAt"].(string))
			if exp.After(authcoretest.NewClock().Now().Add(30*24*time.Hour + time.Second)) {
				t.Fatalf("expiry %v pushed past the absolute maximum", exp)
			}
		}
		t.Fatal("session outlived max_age")
	})
}

func TestRememberMeFalse(t *testing.T) {
	h := authcoretest.New(t)
	h.SignUp("Alice", "alice@example.com", "correct horse battery")
	c := h.Client()
	r := c.Post("/sign-in/email", map[string]any{"email": "alice@example.com", "password": "correct horse battery", "rememberMe": false})
	if r.StatusCode != 200 {
		t.Fatalf("sign-in: %d %s", r.StatusCode, r.Body)
	}
	line, _ := r.SetCookie(sessionCookie)
	if strings.Contains(line, "Max-Age") {
		t.Fatalf("rememberMe:false cookie must be a browser-session cookie: %q", line)
	}
	dr, ok := r.SetCookie("better-auth.dont_remember")
	if !ok || !strings.HasPrefix(dr, "better-auth.dont_remember="+signJS(authcoretest.Secret, "true")+";") {
		t.Fatalf("dont_remember cookie: %q", dr)
	}
	// Stored lifetime is one day, and get-session does not extend it.
	h.Clock.Advance(23 * time.Hour)
	_, obj := getSession(t, c, "")
	if obj == nil {
		t.Fatal("session gone before a day")
	}
	h.Clock.Advance(2 * time.Hour)
	if _, obj = getSession(t, c, ""); obj != nil {
		t.Fatal("dont-remember session outlived its day")
	}
}

func TestFreshnessAndSessionListing(t *testing.T) {
	h := authcoretest.New(t)
	c, _ := h.SignUp("Alice", "alice@example.com", "correct horse battery")
	other := h.Client()
	other.Post("/sign-in/email", map[string]any{"email": "alice@example.com", "password": "correct horse battery"})

	r := c.Get("/list-sessions")
	list, ok := r.JSON().([]any)
	if r.StatusCode != 200 || !ok || len(list) != 2 {
		t.Fatalf("list-sessions: %d %s", r.StatusCode, r.Body)
	}
	for _, s := range list {
		tok := s.(map[string]any)["token"].(string)
		if len(tok) == 32 || !strings.HasPrefix(tok, s.(map[string]any)["id"].(string)+".") {
			t.Fatalf("listing exposes %q, want an opaque handle (D3)", tok)
		}
	}
	h.Clock.Advance(24*time.Hour + time.Second)
	r = c.Get("/list-sessions")
	if r.StatusCode != http.StatusForbidden || r.Code() != "SESSION_NOT_FRESH" {
		t.Fatalf("stale session listing: %d %s", r.StatusCode, r.Body)
	}
	if r := h.Client().Get("/list-sessions"); r.StatusCode != 401 || r.Code() != "UNAUTHORIZED" {
		t.Fatalf("anonymous listing: %d %s", r.StatusCode, r.Body)
	}
}

func TestRevokeByHandleAndToken(t *testing.T) {
	h := authcoretest.New(t)
	c, _ := h.SignUp("Alice", "alice@example.com", "correct horse battery")
	second := h.Client()
	sb := second.Post("/sign-in/email", map[string]any{"email": "alice@example.com", "password": "correct horse battery"}).Object()
	third := h.Client()
	tb := third.Post("/sign-in/email", map[string]any{"email": "alice@example.com", "password": "correct horse battery"}).Object()
	mallory, mb := h.SignUp("Mallory", "mallory@example.com", "correct horse battery")

	// Mallory cannot revoke Alice's session, by token or by handle: silently ignored.
	handle := h.Engine.SessionHandle(sessionID(t, h, tb["token"].(string)))
	for _, tok := range []string{tb["token"].(string), handle} {
		if r := mallory.Post("/revoke-session", map[string]any{"token": tok}); r.StatusCode != 200 {
			t.Fatalf("revoke: %d %s", r.StatusCode, r.Body)
		}
	}
	if _, obj := getSession(t, third, ""); obj == nil {
		t.Fatal("another user's revoke took effect")
	}
	// Alice revokes the third by handle and the second by token.
	if r := c.Post("/revoke-session", map[string]any{"token": handle}); r.StatusCode != 200 || r.Object()["status"] != true {
		t.Fatalf("revoke by handle: %d %s", r.StatusCode, r.Body)
	}
	if _, obj := getSession(t, third, ""); obj != nil {
		t.Fatal("revoked-by-handle session still valid")
	}
	c.Post("/revoke-session", map[string]any{"token": sb["token"]})
	if _, obj := getSession(t, second, ""); obj != nil {
		t.Fatal("revoked-by-token session still valid")
	}
	if _, obj := getSession(t, c, ""); obj == nil {
		t.Fatal("the caller's own session must survive")
	}
	_ = mb
}

func sessionID(t *testing.T, h *authcoretest.Harness, token string) string {
	t.Helper()
	rec, err := h.Engine.Store().FindOne(t.Context(), "session", storage.Eq("token", authcore.HashToken(token)))
	if err != nil {
		t.Fatalf("session of token: %v", err)
	}
	return rec.ID()
}

func TestRevokeSessionsAndOthers(t *testing.T) {
	h := authcoretest.New(t)
	a, _ := h.SignUp("Alice", "alice@example.com", "correct horse battery")
	b := h.Client()
	b.Post("/sign-in/email", map[string]any{"email": "alice@example.com", "password": "correct horse battery"})
	if r := a.Post("/revoke-other-sessions", nil); r.StatusCode != 200 || r.Object()["status"] != true {
		t.Fatalf("revoke-other-sessions: %d %s", r.StatusCode, r.Body)
	}
	if _, obj := getSession(t, b, ""); obj != nil {
		t.Fatal("other session survived revoke-other-sessions")
	}
	if _, obj := getSession(t, a, ""); obj == nil {
		t.Fatal("current session must survive revoke-other-sessions")
	}
	r := a.Post("/revoke-sessions", nil)
	if r.StatusCode != 200 {
		t.Fatalf("revoke-sessions: %d %s", r.StatusCode, r.Body)
	}
	if line, _ := r.SetCookie(sessionCookie); !strings.Contains(line, "Max-Age=0") {
		t.Fatalf("revoke-sessions must expire the caller's cookie: %q", line)
	}
	n, _ := h.Engine.Store().Count(t.Context(), "session", storage.Where{})
	if n != 0 {
		t.Fatalf("%d sessions left", n)
	}
}

func TestSignOut(t *testing.T) {
	h := authcoretest.New(t)
	c, _ := h.SignUp("Alice", "alice@example.com", "correct horse battery")
	r := c.Post("/sign-out", nil)
	if r.StatusCode != 200 || r.Object()["success"] != true {
		t.Fatalf("sign-out: %d %s", r.StatusCode, r.Body)
	}
	for _, name := range []string{sessionCookie, "better-auth.session_data", "better-auth.dont_remember"} {
		if line, ok := r.SetCookie(name); !ok || !strings.Contains(line, "=; Max-Age=0;") {
			t.Fatalf("%s not expired: %q", name, line)
		}
	}
	if n, _ := h.Engine.Store().Count(t.Context(), "session", storage.Where{}); n != 0 {
		t.Fatal("session row survived sign-out")
	}
	// Without a session it still succeeds, with no body and no content type.
	req, _ := http.NewRequest("POST", h.URL("/sign-out"), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("bodiless sign-out: %v %v", err, resp)
	}
	resp.Body.Close()
}

func TestCookieCache(t *testing.T) {
	h := authcoretest.New(t, authcoretest.WithConfig(func(c *authcore.Config) { c.Session.CookieCache = 5 * time.Minute }))
	c, _ := h.SignUp("Alice", "alice@example.com", "correct horse battery")
	if c.CookieValue("better-auth.session_data") == "" {
		t.Fatal("cookie cache not set at sign-in")
	}
	_, obj := getSession(t, c, "")
	if obj == nil || obj["user"].(map[string]any)["email"] != "alice@example.com" {
		t.Fatalf("cached get-session: %v", obj)
	}
	// Tampering with the payload invalidates it.
	v := c.CookieValue("better-auth.session_data")
	raw, _ := base64.RawURLEncoding.DecodeString(v)
	forged := strings.Replace(string(raw), "alice@example.com", "admin@example.com", 1)
	u, _ := url.Parse(h.Server.URL)
	c.Jar.SetCookies(u, []*http.Cookie{{Name: "better-auth.session_data", Value: base64.RawURLEncoding.EncodeToString([]byte(forged))}})
	_, obj = getSession(t, c, "")
	if obj["user"].(map[string]any)["email"] != "alice@example.com" {
		t.Fatalf("forged cache accepted: %v", obj["user"])
	}
}

func TestEngineRejectsShortSecret(t *testing.T) {
	_, err := authcore.New(authcore.Config{BaseURL: "http://localhost", Secret: "short"})
	if err == nil || !strings.Contains(err.Error(), "32 bytes") {
		t.Fatalf("short secret: %v", err)
	}
}

// TestOwnOriginIsTrusted: a cookie-carrying POST whose Origin is the very origin the request
// was sent to (a second site serving the engine, not listed in trusted_origins) passes the
// origin check (D5); a foreign origin still gets 403.
func TestOwnOriginIsTrusted(t *testing.T) {
	h := authcoretest.New(t)
	c, _ := h.SignUp("Alice", "alice@example.com", "correct horse battery")
	c.Origin = h.Server.URL // http://127.0.0.1:<port>: not base_url, not configured
	if r := c.Post("/update-user", map[string]any{"name": "Alice B"}); r.StatusCode != 200 {
		t.Fatalf("same-origin update-user: %d %s", r.StatusCode, r.Body)
	}
	c.Origin = "http://127.0.0.2:1"
	if r := c.Post("/update-user", map[string]any{"name": "Mallory"}); r.StatusCode != 403 || r.Code() != "INVALID_ORIGIN" {
		t.Fatalf("foreign origin: %d %s", r.StatusCode, r.Body)
	}
}
