package authcore_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/authcore/ratelimit"
)

// Origin/CSRF (spec §4.4, CSRF-01..04), CORS (D5), routing (spec §1.1, PATH-02, PATH-03) and
// rate limiting (spec §4.6, HDR-06).

const evilOrigin = "https://evil.example"

// rawExchange sends one request over a fresh TCP connection with the request target written
// exactly as given (no client-side cleaning) and returns the response and its body.
func rawExchange(t *testing.T, h *authcoretest.Harness, method, target, body string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(h.Server.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n", method, target, strings.TrimPrefix(h.Server.URL, "http://"))
	for i := 0; i+1 < len(hdr); i += 2 {
		fmt.Fprintf(&b, "%s: %s\r\n", hdr[i], hdr[i+1])
	}
	if body != "" {
		fmt.Fprintf(&b, "Content-Type: application/json\r\nContent-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n")
	b.WriteString(body)
	if _, err := io.WriteString(conn, b.String()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, data
}

func storedSessions(t *testing.T, h *authcoretest.Harness) int {
	t.Helper()
	return inpRowCounts(t, h)["session"]
}

func TestOriginCheckOnCookieRequests(t *testing.T) {
	h := authcoretest.New(t)
	c, _ := h.SignUp("Alice", "alice@example.com", inpPassword)
	cases := []struct {
		name string
		hdr  []string
		code string
	}{
		{"no Origin", []string{"Origin", ""}, "MISSING_OR_NULL_ORIGIN"},
		{"untrusted Origin", []string{"Origin", evilOrigin}, "INVALID_ORIGIN"},
		{"Origin null", []string{"Origin", "null"}, "MISSING_OR_NULL_ORIGIN"},
		{"Origin null cross-site", []string{"Origin", "null", "Sec-Fetch-Site", "cross-site"}, "MISSING_OR_NULL_ORIGIN"},
		{"untrusted Referer only", []string{"Origin", "", "Referer", evilOrigin + "/x"}, "INVALID_ORIGIN"},
		{"Referer null", []string{"Origin", "", "Referer", "null"}, "MISSING_OR_NULL_ORIGIN"},
		{"look-alike Origin", []string{"Origin", authcoretest.BaseURL + ".evil.example"}, "INVALID_ORIGIN"},
		{"other port", []string{"Origin", "http://localhost:3001"}, "INVALID_ORIGIN"},
		{"other scheme", []string{"Origin", "https://localhost:3000"}, "INVALID_ORIGIN"},
		{"cross-site fetch metadata", []string{"Origin", evilOrigin, "Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "cors"}, "INVALID_ORIGIN"},
	}
	msgs := map[string]string{"MISSING_OR_NULL_ORIGIN": "Missing or null Origin", "INVALID_ORIGIN": "Invalid origin"}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, path := range []string{authcore.PathUpdateUser, authcore.PathSignOut, authcore.PathRevokeSessions, authcore.PathChangePassword} {
				r := c.Post(path, map[string]any{"name": "Mallory", "currentPassword": inpPassword, "newPassword": "another horse battery"}, tc.hdr...)
				wantEnvelope(t, path, r, http.StatusForbidden, tc.code, msgs[tc.code])
				if len(r.Header.Values("Set-Cookie")) != 0 {
					t.Errorf("%s: refused request set cookies %v", path, r.Header.Values("Set-Cookie"))
				}
			}
			if u := inpStoredUser(t, h, "alice@example.com"); u.String("name") != "Alice" {
				t.Fatalf("user changed by a refused request: %v", u)
			}
			if _, obj := getSession(t, c, ""); obj == nil {
				t.Fatal("session ended by a refused request")
			}
		})
	}
	// A trusted Origin (or Referer) passes.
	if r := c.Post(authcore.PathUpdateUser, map[string]any{"name": "Alice A"}); r.StatusCode != 200 {
		t.Fatalf("trusted Origin: %d %s", r.StatusCode, r.Body)
	}
	if r := c.Post(authcore.PathUpdateUser, map[string]any{"name": "Alice B"}, "Origin", "", "Referer", authcoretest.BaseURL+"/settings"); r.StatusCode != 200 {
		t.Fatalf("trusted Referer: %d %s", r.StatusCode, r.Body)
	}
	if u := inpStoredUser(t, h, "alice@example.com"); u.String("name") != "Alice B" {
		t.Fatalf("name = %q", u.String("name"))
	}
	// GET is never checked, whatever the Origin.
	for _, o := range []string{"", evilOrigin, "null"} {
		r := c.Get(authcore.PathGetSession, "Origin", o)
		if r.StatusCode != 200 || r.Object() == nil {
			t.Fatalf("GET with Origin %q: %d %s", o, r.StatusCode, r.Body)
		}
	}
	// Cookie-less requests to ordinary endpoints carry no ambient credential: no check.
	anon := h.Client()
	anon.Origin = evilOrigin
	if r := anon.Post(authcore.PathSignOut, nil); r.StatusCode != 200 {
		t.Fatalf("cookie-less sign-out from another origin: %d %s", r.StatusCode, r.Body)
	}
}

func TestLoginCSRF(t *testing.T) {
	h := authcoretest.New(t)
	h.SignUp("Mallory", "mallory@example.com", inpPassword)
	signIn := map[string]any{"email": "mallory@example.com", "password": inpPassword}
	signUp := map[string]any{"name": "Victim", "email": "victim@example.com", "password": inpPassword}
	cases := []struct {
		name string
		hdr  []string
		code string
	}{
		{"untrusted Origin", []string{"Origin", evilOrigin}, "INVALID_ORIGIN"},
		{"Origin null", []string{"Origin", "null"}, "MISSING_OR_NULL_ORIGIN"},
		{"untrusted Referer", []string{"Origin", "", "Referer", evilOrigin + "/login"}, "INVALID_ORIGIN"},
		{"cross-site navigation", []string{"Origin", "", "Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "navigate", "Sec-Fetch-Dest", "document"}, "CROSS_SITE_NAVIGATION_LOGIN_BLOCKED"},
		{"cross-site navigation with trusted Origin", []string{"Sec-Fetch-Site", "Cross-Site", "Sec-Fetch-Mode", "NAVIGATE"}, "CROSS_SITE_NAVIGATION_LOGIN_BLOCKED"},
		{"fetch metadata without Origin", []string{"Origin", "", "Sec-Fetch-Site", "same-origin", "Sec-Fetch-Mode", "cors"}, "MISSING_OR_NULL_ORIGIN"},
		{"cross-site cors from untrusted Origin", []string{"Origin", evilOrigin, "Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "cors"}, "INVALID_ORIGIN"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for path, body := range map[string]any{authcore.PathSignInEmail: signIn, authcore.PathSignUpEmail: signUp} {
				before := inpRowCounts(t, h)
				r := h.Client().Post(path, body, tc.hdr...)
				wantEnvelope(t, path, r, http.StatusForbidden, tc.code, "")
				if len(r.Header.Values("Set-Cookie")) != 0 {
					t.Errorf("%s: login CSRF planted cookies %v", path, r.Header.Values("Set-Cookie"))
				}
				inpSameRows(t, h, before)
			}
		})
	}
	if r := h.Client().Post(authcore.PathSignInEmail, signIn, "Origin", evilOrigin, "Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "navigate"); r.Code() != "CROSS_SITE_NAVIGATION_LOGIN_BLOCKED" {
		t.Fatalf("cross-site navigation with an untrusted Origin: %d %s", r.StatusCode, r.Body)
	}
	// curl and server-to-server callers send neither Origin nor fetch metadata: they pass.
	curl := h.Client()
	curl.Origin = ""
	r := curl.Post(authcore.PathSignInEmail, signIn)
	if _, set := r.SetCookie(sessionCookie); r.StatusCode != 200 || !set {
		t.Fatalf("header-less sign-in: %d %s", r.StatusCode, r.Body)
	}
	// A browser on the trusted origin passes too.
	r = h.Client().Post(authcore.PathSignInEmail, signIn, "Sec-Fetch-Site", "same-origin", "Sec-Fetch-Mode", "cors")
	if r.StatusCode != 200 {
		t.Fatalf("same-origin sign-in: %d %s", r.StatusCode, r.Body)
	}
	// Same-origin form post whose Origin is "null" (privacy mode): spec §14.
	r = h.Client().Post(authcore.PathSignInEmail, signIn, "Origin", "null", "Sec-Fetch-Site", "same-origin", "Sec-Fetch-Mode", "navigate")
	if r.StatusCode != 200 {
		t.Fatalf("same-origin null-Origin sign-in: %d %s", r.StatusCode, r.Body)
	}
}

func TestTrustedOriginWildcard(t *testing.T) {
	h := authcoretest.New(t, authcoretest.WithConfig(func(c *authcore.Config) {
		c.TrustedOrigins = []string{"https://app.test", "https://*.tenant.test"}
	}))
	c, _ := h.SignUp("Alice", "alice@example.com", inpPassword)
	trusted := []string{"https://app.test", "https://a.tenant.test", "https://A.Tenant.Test", "https://x-1.tenant.test", "https://APP.TEST", "https://app.test:443"}
	untrusted := []string{
		"https://a.b.tenant.test", "https://tenant.test", "https://xtenant.test", "https://.tenant.test",
		"http://a.tenant.test", "https://a.tenant.test:8443", "https://app.test.evil.example", "https://evilapp.test",
		"https://app.test:444", "http://app.test", "https://app.test.", "https://a.tenant.test.", "https://xn--pple-43d.tenant.test",
		"https://user@app.test", "https://a.tenant.test/path", "null",
	}
	for _, o := range trusted {
		r := c.Post(authcore.PathUpdateUser, map[string]any{"name": "Alice"}, "Origin", o)
		if r.StatusCode != 200 {
			t.Errorf("trusted %s: %d %s", o, r.StatusCode, r.Body)
		}
		if got := r.Header.Get("Access-Control-Allow-Origin"); got != o {
			t.Errorf("trusted %s: ACAO %q, want the exact origin", o, got)
		}
	}
	for _, o := range untrusted {
		r := c.Post(authcore.PathUpdateUser, map[string]any{"name": "Mallory"}, "Origin", o)
		if r.StatusCode != http.StatusForbidden {
			t.Errorf("untrusted %s: %d %s", o, r.StatusCode, r.Body)
		}
		if got := r.Header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("untrusted %s: ACAO %q", o, got)
		}
	}
	if u := inpStoredUser(t, h, "alice@example.com"); u.String("name") != "Alice" {
		t.Fatalf("an untrusted origin changed the user: %q", u.String("name"))
	}
	// A wildcard that would trust everyone is refused at start-up.
	for _, bad := range []string{"*", "https://*", "https://*.test"} {
		if _, err := pluginEngineCfg(t, authcore.Config{TrustedOrigins: []string{bad}}); err == nil {
			t.Errorf("trusted origin %q accepted", bad)
		}
	}
}

func TestCORS(t *testing.T) {
	h := authcoretest.New(t, authcoretest.WithConfig(func(c *authcore.Config) {
		c.TrustedOrigins = []string{"https://app.test"}
	}))
	c, _ := h.SignUp("Alice", "alice@example.com", inpPassword)
	for _, o := range []string{authcoretest.BaseURL, "https://app.test"} {
		for _, r := range []*authcoretest.Response{
			c.Get(authcore.PathGetSession, "Origin", o),
			c.Post(authcore.PathUpdateUser, map[string]any{"name": "A"}, "Origin", o),
			h.Client().Get(authcore.PathListSessions, "Origin", o), // an error answer too
		} {
			if r.Header.Get("Access-Control-Allow-Origin") != o || r.Header.Get("Access-Control-Allow-Credentials") != "true" {
				t.Errorf("%s %s from %s: CORS headers %v", r.Request.Method, r.Request.URL.Path, o, r.Header)
			}
			if !headerHasToken(r.Header.Values("Vary"), "Origin") {
				t.Errorf("%s: no Vary: Origin", r.Request.URL.Path)
			}
			exposed := strings.ToLower(strings.Join(r.Header.Values("Access-Control-Expose-Headers"), ","))
			if !strings.Contains(exposed, "set-auth-token") || !strings.Contains(exposed, "set-auth-jwt") {
				t.Errorf("%s: exposed headers %q", r.Request.URL.Path, exposed)
			}
		}
	}
	for _, o := range []string{evilOrigin, "null", "https://app.test.evil.example"} {
		r := c.Get(authcore.PathGetSession, "Origin", o)
		for _, k := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Expose-Headers"} {
			if v := r.Header.Get(k); v != "" {
				t.Errorf("untrusted %s got %s: %s", o, k, v)
			}
		}
		if !headerHasToken(r.Header.Values("Vary"), "Origin") {
			t.Errorf("untrusted %s: no Vary: Origin (a shared cache could serve the trusted answer)", o)
		}
	}
	if r := c.Get(authcore.PathGetSession, "Origin", ""); r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Error("ACAO without an Origin")
	}

	// Preflight: 204, methods only for trusted origins, no body, no cookies, no session data.
	preflight := func(o string) *http.Response {
		req, _ := http.NewRequest(http.MethodOptions, h.URL(authcore.PathUpdateUser), nil)
		req.Header.Set("Origin", o)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type")
		req.Header.Set("Cookie", sessionCookie+"="+c.CookieValue(sessionCookie))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent || len(body) != 0 || len(resp.Header.Values("Set-Cookie")) != 0 {
			t.Fatalf("preflight from %s: %d %q %v", o, resp.StatusCode, body, resp.Header)
		}
		return resp
	}
	resp := preflight("https://app.test")
	if resp.Header.Get("Access-Control-Allow-Origin") != "https://app.test" || resp.Header.Get("Access-Control-Allow-Credentials") != "true" ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "POST") ||
		!strings.Contains(strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers")), "content-type") {
		t.Fatalf("trusted preflight headers: %v", resp.Header)
	}
	resp = preflight(evilOrigin)
	for _, k := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Access-Control-Allow-Credentials"} {
		if v := resp.Header.Get(k); v != "" {
			t.Errorf("untrusted preflight got %s: %s", k, v)
		}
	}
	if u := inpStoredUser(t, h, "alice@example.com"); u.String("name") != "A" {
		t.Fatalf("name %q", u.String("name"))
	}
}

func headerHasToken(values []string, token string) bool {
	for _, v := range values {
		for _, p := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(p), token) {
				return true
			}
		}
	}
	return false
}

func TestRoutingNotFound(t *testing.T) {
	h := authcoretest.New(t)
	okResp, okBody := rawExchange(t, h, "GET", "/api/auth/ok", "")
	if okResp.StatusCode != 200 || string(okBody) != `{"ok":true}` {
		t.Fatalf("control request: %d %s", okResp.StatusCode, okBody)
	}
	for _, tc := range []struct{ method, target string }{
		{"GET", "/api/auth/nope"},
		{"GET", "/api/auth"},
		{"GET", "/api/auth/"},
		{"GET", "/api/authok"},
		{"GET", "/ok"},
		{"POST", "/api/auth/ok"},
		{"PUT", "/api/auth/ok"},
		{"DELETE", "/api/auth/ok"},
		{"PATCH", "/api/auth/sign-in/email"},
		{"TRACE", "/api/auth/ok"},
		{"FOO", "/api/auth/ok"},
		{"GET", "/api/auth/sign-in/email"},
		{"GET", "/api/auth/sign-out"},
		{"GET", "//api/auth/ok"},
		{"GET", "/api/auth//ok"},
		{"GET", "/api//auth/ok"},
		{"GET", "/api/auth/ok/"},
		{"GET", "/api/auth/ok//"},
		{"GET", "/API/AUTH/ok"},
		{"GET", "/api/auth/OK"},
		{"GET", "/api/auth/./ok"},
		{"GET", "/api/auth/x/../ok"},
		{"GET", "/api/auth/ok;x"},
		{"GET", "/api/auth/reset-password/"},
		{"GET", "/api/auth/reset-password//"},
		{"GET", "/api/auth/reset-password/a/b"},
		{"POST", "//api/auth/sign-in/email"},
		{"POST", "/api/auth//sign-in/email"},
		{"POST", "/api/auth/sign-in/email/"},
		{"POST", "/API/AUTH/sign-in/email"},
		{"POST", "/api/auth/sign-in/./email"},
	} {
		body := ""
		if tc.method == "POST" {
			body = `{"email":"a@example.com","password":"x"}`
		}
		resp, data := rawExchange(t, h, tc.method, tc.target, body, "Origin", authcoretest.BaseURL)
		if resp.StatusCode != http.StatusNotFound || len(data) != 0 || resp.Header.Get("Content-Type") != "" {
			t.Errorf("%s %s: %d %q content-type %q, want 404 with an empty body", tc.method, tc.target, resp.StatusCode, data, resp.Header.Get("Content-Type"))
		}
	}
}

func TestDisabledPaths(t *testing.T) {
	h := authcoretest.New(t, authcoretest.WithConfig(func(c *authcore.Config) {
		c.DisabledPaths = []string{authcore.PathSignUpEmail, "ok"}
	}))
	body := `{"name":"A","email":"a@example.com","password":"correct horse battery"}`
	for _, target := range []string{"/api/auth/sign-up/email", "/api/auth/%73ign-up/email", "/api/auth/sign-up/%65mail"} {
		resp, data := rawExchange(t, h, "POST", target, body, "Origin", authcoretest.BaseURL)
		if resp.StatusCode != 404 || string(data) != "Not Found" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
			t.Errorf("disabled %s: %d %q %q", target, resp.StatusCode, data, resp.Header.Get("Content-Type"))
		}
	}
	for _, target := range []string{"//api/auth/sign-up/email", "/api/auth//sign-up/email", "/api/auth/sign-up/email/", "/API/AUTH/sign-up/email"} {
		resp, data := rawExchange(t, h, "POST", target, body, "Origin", authcoretest.BaseURL)
		if resp.StatusCode != 404 || len(data) != 0 {
			t.Errorf("alias %s of a disabled path: %d %q", target, resp.StatusCode, data)
		}
	}
	if resp, data := rawExchange(t, h, "GET", "/api/auth/ok", ""); resp.StatusCode != 404 || string(data) != "Not Found" {
		t.Errorf("disabled /ok (configured without a slash): %d %q", resp.StatusCode, data)
	}
	if n := inpRowCounts(t, h)["user"]; n != 0 {
		t.Fatalf("a disabled sign-up created %d users", n)
	}
	// Other routes still work.
	if r := h.Client().Get(authcore.PathGetSession); r.StatusCode != 200 {
		t.Fatalf("get-session: %d", r.StatusCode)
	}
}

func TestHeadOfGetRoutes(t *testing.T) {
	h := authcoretest.New(t)
	c, _ := h.SignUp("Alice", "alice@example.com", inpPassword)
	for _, tc := range []struct {
		path   string
		cookie bool
		status int
	}{
		{authcore.PathOK, false, 200},
		{authcore.PathGetSession, true, 200},
		{authcore.PathGetSession, false, 200},
		{authcore.PathError + "?error=X", false, 200},
		{authcore.PathListSessions, false, 401},
		{authcore.PathListSessions, true, 200},
	} {
		// In process, so a body written for HEAD would show.
		req := httptest.NewRequest(http.MethodHead, h.URL(tc.path), nil)
		if tc.cookie {
			req.Header.Set("Cookie", sessionCookie+"="+c.CookieValue(sessionCookie))
		}
		rec := httptest.NewRecorder()
		h.Engine.ServeHTTP(rec, req)
		if rec.Code != tc.status || rec.Body.Len() != 0 {
			t.Errorf("HEAD %s (cookie %v): %d %q, want %d and no body", tc.path, tc.cookie, rec.Code, rec.Body.String(), tc.status)
		}
		// Over the wire too.
		hdr := []string{}
		if tc.cookie {
			hdr = []string{"Cookie", sessionCookie + "=" + c.CookieValue(sessionCookie)}
		}
		resp, data := rawExchange(t, h, "HEAD", h.Config.BasePath+tc.path, "", hdr...)
		if resp.StatusCode != tc.status || len(data) != 0 {
			t.Errorf("HEAD %s over HTTP: %d %q", tc.path, resp.StatusCode, data)
		}
	}
	// HEAD never mutates: a HEAD of a POST route is 404.
	resp, _ := rawExchange(t, h, "HEAD", "/api/auth/sign-out", "", "Cookie", sessionCookie+"="+c.CookieValue(sessionCookie))
	if resp.StatusCode != 404 {
		t.Fatalf("HEAD /sign-out: %d", resp.StatusCode)
	}
	if storedSessions(t, h) != 1 {
		t.Fatal("HEAD /sign-out ended the session")
	}
}

// Rate limiting.

func withRateLimit(edit func(*authcore.RateLimitConfig)) authcoretest.Option {
	return authcoretest.WithConfig(func(c *authcore.Config) {
		c.RateLimit.Disabled = false
		if edit != nil {
			edit(&c.RateLimit)
		}
	})
}

var wrongSignIn = map[string]any{"email": "alice@example.com", "password": "wrong horse battery"}

func want429(t *testing.T, label string, r *authcoretest.Response, retry string) {
	t.Helper()
	if r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("%s: %d %s, want 429", label, r.StatusCode, r.Body)
	}
	if string(r.Body) != `{"message":"Too many requests. Please try again later."}` {
		t.Fatalf("%s: body %s", label, r.Body)
	}
	if r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("%s: content type %q", label, r.Header.Get("Content-Type"))
	}
	if r.Header.Get("Retry-After") != retry || r.Header.Get("X-Retry-After") != retry {
		t.Fatalf("%s: Retry-After %q X-Retry-After %q, want %s", label, r.Header.Get("Retry-After"), r.Header.Get("X-Retry-After"), retry)
	}
}

func TestRateLimitSignIn(t *testing.T) {
	h := authcoretest.New(t, withRateLimit(nil))
	c := h.Client()
	for i := 0; i < 3; i++ {
		if r := c.Post(authcore.PathSignInEmail, wrongSignIn); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d %s", i+1, r.StatusCode, r.Body)
		}
		h.Clock.Advance(time.Second)
	}
	// Window: 10 s from the last allowed attempt (at +2 s); now is +3 s.
	want429(t, "4th attempt", c.Post(authcore.PathSignInEmail, wrongSignIn), "9")
	h.Clock.Advance(2500 * time.Millisecond)
	r := c.Post(authcore.PathSignInEmail, map[string]any{"email": "alice@example.com", "password": inpPassword})
	want429(t, "fractional wait rounds up", r, "7")
	if len(r.Header.Values("Set-Cookie")) != 0 {
		t.Fatal("a rate-limited request set cookies")
	}
	// Refused requests do not extend the window.
	h.Clock.Advance(6500 * time.Millisecond)
	if r := c.Post(authcore.PathSignInEmail, wrongSignIn); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("after the window: %d %s", r.StatusCode, r.Body)
	}
	// Sign-up has its own bucket; the default rule still applies to other routes.
	if r := c.Post(authcore.PathSignUpEmail, map[string]any{"name": "A", "email": "alice@example.com", "password": inpPassword}); r.StatusCode != 200 {
		t.Fatalf("sign-up: %d %s", r.StatusCode, r.Body)
	}
	for i := 0; i < 20; i++ {
		if r := c.Get(authcore.PathGetSession); r.StatusCode != 200 {
			t.Fatalf("get-session %d: %d", i, r.StatusCode)
		}
	}
}

func TestRateLimitPathAliasesShareOneBucket(t *testing.T) {
	h := authcoretest.New(t, withRateLimit(nil))
	body := `{"email":"alice@example.com","password":"wrong horse battery"}`
	spellings := []string{"/api/auth/sign-in/email", "/api/auth/%73ign-in/email", "/api/auth/sign-in/%65mail"}
	for _, target := range spellings {
		resp, data := rawExchange(t, h, "POST", target, body)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("%s: %d %s", target, resp.StatusCode, data)
		}
	}
	for _, target := range spellings {
		resp, data := rawExchange(t, h, "POST", target, body)
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("X-Retry-After") != "10" {
			t.Errorf("%s after 3 attempts: %d %s", target, resp.StatusCode, data)
		}
	}
	for _, target := range []string{"//api/auth/sign-in/email", "/api/auth//sign-in/email", "/API/AUTH/sign-in/email",
		"/api/auth/sign-in/email/", "/api/auth/sign-in/./email", "/api/auth/sign-in//email"} {
		resp, data := rawExchange(t, h, "POST", target, body)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("alias %s: %d %s, want 404 (never a fresh bucket)", target, resp.StatusCode, data)
		}
	}
}

func TestRateLimitPerClientIP(t *testing.T) {
	const ipHeader = "X-Test-Client-IP"
	h := authcoretest.New(t, withRateLimit(nil), authcoretest.WithEngineOptions(
		authcore.WithClientIP(func(r *http.Request) string { return r.Header.Get(ipHeader) })))
	c := h.Client()
	attempt := func(ip string) int {
		return c.Post(authcore.PathSignInEmail, wrongSignIn, ipHeader, ip).StatusCode
	}
	for i := 0; i < 3; i++ {
		if s := attempt("203.0.113.7"); s != 401 {
			t.Fatalf("attempt %d: %d", i, s)
		}
	}
	for _, same := range []string{"203.0.113.7", "::ffff:203.0.113.7"} {
		if s := attempt(same); s != 429 {
			t.Errorf("%s: %d, want 429", same, s)
		}
	}
	if s := attempt("198.51.100.9"); s != 401 {
		t.Fatalf("another client IP shares the bucket: %d", s)
	}
	// IPv6 clients are keyed by /64: rotating inside it buys nothing (HDR-06).
	for i, ip := range []string{"2001:db8:1:2::1", "2001:DB8:1:2::2", "2001:db8:1:2:ffff::3"} {
		if s := attempt(ip); s != 401 {
			t.Fatalf("v6 attempt %d: %d", i, s)
		}
	}
	if s := attempt("2001:db8:1:2:0:0:0:99"); s != 429 {
		t.Fatalf("another address in the same /64: %d", s)
	}
	if s := attempt("2001:db8:1:3::1"); s != 401 {
		t.Fatalf("another /64: %d", s)
	}
	// Unknown client IPs share one bucket instead of escaping the limiter.
	for i := 0; i < 3; i++ {
		attempt("")
	}
	if s := attempt("garbage"); s != 429 {
		t.Fatalf("unparsable client IP: %d", s)
	}
}

func TestRateLimitIgnoresForwardedHeaders(t *testing.T) {
	h := authcoretest.New(t, withRateLimit(nil))
	c := h.Client()
	spoof := [][]string{
		{"X-Forwarded-For", "1.2.3.4"}, {"X-Real-IP", "1.2.3.5"}, {"Forwarded", "for=1.2.3.6"},
		{"CF-Connecting-IP", "1.2.3.7"}, {"True-Client-IP", "1.2.3.8"}, {"X-Forwarded-For", "9.9.9.9, 8.8.8.8"},
	}
	for i := 0; i < 3; i++ {
		c.Post(authcore.PathSignInEmail, wrongSignIn, spoof[i]...)
	}
	for _, hdr := range spoof {
		if r := c.Post(authcore.PathSignInEmail, wrongSignIn, hdr...); r.StatusCode != http.StatusTooManyRequests {
			t.Errorf("%s: %d, want 429 (the socket peer is the client)", hdr[0], r.StatusCode)
		}
	}
}

func TestRateLimitRules(t *testing.T) {
	t.Run("config overrides built-in", func(t *testing.T) {
		h := authcoretest.New(t, withRateLimit(func(rl *authcore.RateLimitConfig) {
			rl.Rules = []authcore.RateLimitRule{{Path: "/sign-in/*", Rule: ratelimit.Rule{Window: time.Minute, Max: 1}}}
		}))
		c := h.Client()
		c.Post(authcore.PathSignInEmail, wrongSignIn)
		want429(t, "2nd sign-in", c.Post(authcore.PathSignInEmail, wrongSignIn), "60")
	})
	t.Run("config default window and max", func(t *testing.T) {
		h := authcoretest.New(t, withRateLimit(func(rl *authcore.RateLimitConfig) {
			rl.Window, rl.Max = 30*time.Second, 2
		}))
		c := h.Client()
		c.Get(authcore.PathOK)
		c.Get(authcore.PathOK)
		want429(t, "3rd /ok", c.Get(authcore.PathOK), "30")
		// The special sign-in rule stays (3 per 10 s) and has its own bucket.
		for i := 0; i < 3; i++ {
			if r := c.Post(authcore.PathSignInEmail, wrongSignIn); r.StatusCode != 401 {
				t.Fatalf("sign-in %d: %d", i, r.StatusCode)
			}
		}
	})
	t.Run("plugin rule, and config over plugin", func(t *testing.T) {
		limited := &probePlugin{id: "limiter", reg: func(r *authcore.Registrar) error {
			if err := r.RateLimit(authcore.PathRateRule{Path: "/get-session", Rule: ratelimit.Rule{Window: 20 * time.Second, Max: 2}}); err != nil {
				return err
			}
			return r.RateLimit(authcore.PathRateRule{Path: "/sign-in/*", Rule: ratelimit.Rule{Window: 10 * time.Second, Max: 1}})
		}}
		h := authcoretest.New(t, withRateLimit(func(rl *authcore.RateLimitConfig) {
			rl.Rules = []authcore.RateLimitRule{{Path: "/sign-in/email", Rule: ratelimit.Rule{Window: 10 * time.Second, Max: 5}}}
		}), authcoretest.WithPlugins(limited))
		c := h.Client()
		c.Get(authcore.PathGetSession)
		c.Get(authcore.PathGetSession)
		want429(t, "3rd get-session", c.Get(authcore.PathGetSession), "20")
		for i := 0; i < 5; i++ {
			if r := c.Post(authcore.PathSignInEmail, wrongSignIn); r.StatusCode != 401 {
				t.Fatalf("sign-in %d under the config rule: %d", i, r.StatusCode)
			}
		}
		want429(t, "6th sign-in", c.Post(authcore.PathSignInEmail, wrongSignIn), "10")
	})
	t.Run("invalid plugin rule", func(t *testing.T) {
		p := &probePlugin{id: "bad-limit", reg: func(r *authcore.Registrar) error {
			return r.RateLimit(authcore.PathRateRule{Path: "/x", Rule: ratelimit.Rule{Window: 0, Max: 1}})
		}}
		if _, err := pluginEngine(t, p); err == nil || !strings.Contains(err.Error(), "bad-limit") {
			t.Fatalf("zero-window plugin rule: %v", err)
		}
	})
}
