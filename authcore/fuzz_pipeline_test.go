package authcore_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
)

// FuzzPipeline sends arbitrary method, path, headers and body through the whole request
// pipeline of an in-process engine (one user signed up, cookie cache on). Whatever arrives,
// the answer is never a 5xx and never a panic, and a JSON answer is valid JSON.
func FuzzPipeline(f *testing.F) {
	h := authcoretest.New(f, authcoretest.WithConfig(func(c *authcore.Config) { c.Session.CookieCache = 5 * time.Minute }))
	c, _ := h.SignUp("A", "fuzz@example.com", "correct horse battery staple")
	sess := c.CookieValue("better-auth.session_token")
	base, _ := url.Parse(h.URL("/"))
	for _, s := range []struct{ method, path, hdrs, body string }{
		{"POST", authcore.PathSignInEmail, "Content-Type: application/json\nOrigin: " + authcoretest.BaseURL, `{"email":"fuzz@example.com","password":"correct horse battery staple"}`},
		{"POST", authcore.PathSignUpEmail, "Content-Type: application/json", `{"email":1,"password":[],"name":{}}`},
		{"POST", authcore.PathSignInEmail, "Content-Type: application/x-www-form-urlencoded", `email=a%40b&password=x`},
		{"GET", authcore.PathGetSession, "Cookie: better-auth.session_token=" + sess, ``},
		{"GET", authcore.PathGetSession, "Cookie: better-auth.session_token=" + sess + "; better-auth.session_data=e30", ``},
		{"POST", authcore.PathUpdateUser, "Cookie: better-auth.session_token=" + sess + "\nContent-Type: application/json\nOrigin: " + authcoretest.BaseURL, `{"name":"x","name":"y"}`},
		{"GET", "/reset-password/%zz?callbackURL=//evil.example", "", ``},
		{"GET", "/callback/google?state=x&code=y", "", ``},
		{"POST", authcore.PathSignOut, "Origin: null\nCookie: better-auth.session_token=a.b", `{}`},
		{"PUT", "/../../etc/passwd", "Content-Length: 5", `{"a":`},
		{"POST", authcore.PathChangePassword, "Content-Type: application/json; charset=utf-16\nOrigin: " + authcoretest.BaseURL, "\xff\xfe{}"},
		{"OPTIONS", authcore.PathGetSession, "Origin: https://evil.example\nAccess-Control-Request-Method: POST", ``},
	} {
		f.Add(s.method, s.path, s.hdrs, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, method, path, hdrs string, body []byte) {
		u, err := base.Parse(strings.TrimPrefix(path, "/"))
		if err != nil || u.Host != base.Host {
			return
		}
		req, err := http.NewRequest(method, u.String(), strings.NewReader(string(body)))
		if err != nil {
			return
		}
		for line := range strings.SplitSeq(hdrs, "\n") {
			k, v, ok := strings.Cut(line, ":")
			if !ok || k == "" || strings.EqualFold(k, "Content-Length") || strings.EqualFold(k, "Host") {
				continue
			}
			req.Header.Add(k, strings.TrimSpace(v))
		}
		w := httptest.NewRecorder()
		h.Engine.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%s %s %q %q: %d %s", method, u, hdrs, body, w.Code, w.Body)
		}
		if strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") && w.Body.Len() > 0 && !json.Valid(w.Body.Bytes()) {
			t.Fatalf("%s %s: invalid JSON answer %q", method, u, w.Body)
		}
	})
}

// FuzzSessionCookies sends hostile session_token and session_data cookies to /get-session
// with the cookie cache on. A session is only ever answered for the real user, and only when
// the Cookie header carries the real token; a forged or altered cache cookie alone never
// yields one; nothing is a 5xx.
func FuzzSessionCookies(f *testing.F) {
	h := authcoretest.New(f, authcoretest.WithConfig(func(c *authcore.Config) { c.Session.CookieCache = 5 * time.Minute }))
	c, u := h.SignUp("A", "fuzz@example.com", "correct horse battery staple")
	uid, _ := u["user"].(map[string]any)["id"].(string)
	data := c.CookieValue("better-auth.session_data")
	sess := c.CookieValue("better-auth.session_token")
	raw, _, _ := strings.Cut(sess, ".")
	if data == "" || raw == "" {
		f.Fatalf("no cookies: %q %q", data, sess)
	}
	const real = "REAL" // a fuzz value of REAL stands for the real signed token
	for _, s := range [][2]string{
		{real, data}, {real, ""}, {real, data + "A"}, {real, strings.Repeat("e30", 1000)}, {"", data},
		{raw, data}, {raw + ".AAAA", data}, {real + "; better-auth.session_token=x", data},
		{real, `"` + data + `"`}, {"%zz", "%zz"}, {real, "eyJzZXNzaW9uIjpudWxsLCJleHBpcmVzQXQiOjAsInNpZ25hdHVyZSI6IiJ9"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, tok, cache string) {
		tok = strings.ReplaceAll(tok, real, sess)
		req := httptest.NewRequest(http.MethodGet, h.URL(authcore.PathGetSession), nil)
		req.Header.Set("Cookie", "better-auth.session_token="+tok+"; better-auth.session_data="+cache)
		w := httptest.NewRecorder()
		h.Engine.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%q %q: %d %s", tok, cache, w.Code, w.Body)
		}
		var got struct {
			User struct{ ID string } `json:"user"`
		}
		if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &got) != nil || got.User.ID == "" {
			return
		}
		dec, _ := url.PathUnescape(tok)
		if got.User.ID != uid || !strings.Contains(tok, raw) && !strings.Contains(dec, raw) {
			t.Fatalf("%q %q: session for %q without the real token", tok, cache, got.User.ID)
		}
	})
}

// FuzzTakeOAuthState redeems arbitrary state strings, from the browser that started the
// flow or from another one with an arbitrary oauth_state cookie. Only the real state, in the
// owner's browser, succeeds, and only once; every failure is an *OAuthError or a 4xx.
func FuzzTakeOAuthState(f *testing.F) {
	probe := &probePlugin{id: "fz", reg: func(r *authcore.Registrar) error {
		if err := r.Endpoint(authcore.Endpoint{Method: "POST", Path: "/fz/new", BodyOptional: true, Handler: func(c *authcore.Call) (any, error) {
			s, err := c.NewOAuthState(authcore.OAuthState{ProviderID: "p"})
			return map[string]any{"state": s}, err
		}}); err != nil {
			return err
		}
		return r.Endpoint(authcore.Endpoint{Method: "GET", Path: "/fz/take", Query: []authcore.Param{authcore.String("state")}, Handler: func(c *authcore.Call) (any, error) {
			st, err := c.TakeOAuthState(c.Query.String("state"))
			if err != nil {
				var oe *authcore.OAuthError
				if !errors.As(err, &oe) {
					return nil, err
				}
				return map[string]any{"ok": false, "err": oe.Code}, nil
			}
			return map[string]any{"ok": st.ProviderID == "p"}, nil
		}})
	}}
	h := authcoretest.New(f, authcoretest.WithPlugins(probe))
	const real = "REAL" // stands for the state just issued
	for _, s := range []struct {
		state, cookie string
		owner         bool
	}{
		{real, "", true}, {real, "", false}, {"", "", true}, {real + "x", "", true}, {"x", "x", false},
		{real, real, false}, {strings.Repeat("s", 5000), "", true}, {"%00", "a.b", false},
	} {
		f.Add(s.state, s.cookie, s.owner)
	}
	serve := func(method, path, cookie string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, h.URL(path), nil)
		req.Header.Set("Origin", authcoretest.BaseURL)
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		w := httptest.NewRecorder()
		h.Engine.ServeHTTP(w, req)
		return w
	}
	f.Fuzz(func(t *testing.T, state, cookie string, owner bool) {
		w := serve("POST", "/fz/new", "")
		var issued struct{ State string }
		json.Unmarshal(w.Body.Bytes(), &issued)
		st := issued.State
		var own string
		for _, sc := range w.Result().Cookies() {
			if sc.Name == h.Engine.CookieName(authcore.CookieOAuthState) {
				own = sc.Name + "=" + sc.Value
			}
		}
		if st == "" || own == "" {
			t.Fatalf("no state: %d %s", w.Code, w.Body)
		}
		state = strings.ReplaceAll(state, real, st)
		jar := own
		if !owner {
			jar = h.Engine.CookieName(authcore.CookieOAuthState) + "=" + strings.ReplaceAll(cookie, real, st)
		}
		want := owner && state == st
		for i := 0; i < 2; i++ {
			w := serve("GET", "/fz/take?state="+url.QueryEscape(state), jar)
			if w.Code != http.StatusOK {
				if w.Code >= 500 || w.Code < 400 {
					t.Fatalf("%q: %d %s", state, w.Code, w.Body)
				}
				continue
			}
			var got struct{ OK bool }
			json.Unmarshal(w.Body.Bytes(), &got)
			if got.OK != (want && i == 0) {
				t.Fatalf("state %q cookie %q owner %v try %d: %s", state, cookie, owner, i, w.Body)
			}
		}
	})
}
