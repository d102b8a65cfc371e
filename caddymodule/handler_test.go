package caddymodule

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
)

const testPassword = "correct horse battery staple"

// testCtx is a Caddy context without a config, enough to load matcher modules.
func testCtx(t *testing.T) caddy.Context {
	t.Helper()
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	t.Cleanup(cancel)
	return ctx
}

// ---------------------------------------------------------------------------------------
// Route rules (rules.go)

func mustRules(t *testing.T, rules ...Rule) *ruleSet {
	t.Helper()
	rs, err := compileRules(testCtx(t), nil, rules)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func ruleName(r *Rule) string {
	if r == defaultRule {
		return "default"
	}
	if r.Kind == KindRole || r.Kind == KindPermission {
		return r.requirement()
	}
	return r.Kind
}

func TestRuleSpecificity(t *testing.T) {
	tests := []struct {
		name  string
		rules []Rule
		paths map[string]string // path → rule that must decide it
	}{
		{
			name: "paths no rule names need authentication",
			rules: []Rule{
				{Kind: KindPublic, Paths: []string{"/health"}},
			},
			paths: map[string]string{"/": "default", "/app": "default", "/healthz": "default", "/health/x": "default", "/health": "public"},
		},
		{
			name: "most specific wins",
			rules: []Rule{
				{Kind: KindPublic, Paths: []string{"/docs/*"}},
				{Kind: KindRole, Role: "admin", Paths: []string{"/docs/internal/*"}},
				{Kind: KindPublic, Paths: []string{"/docs/internal/faq"}},
			},
			paths: map[string]string{
				"/docs/intro": "public", "/docs/internal/x": "role admin", "/docs/internal/faq": "public",
				"/docs/internal/faq/more": "role admin", "/docs/internal": "role admin", "/docs": "public",
			},
		},
		{
			name: "a less specific wildcard does not override a more specific one whatever the order",
			rules: []Rule{
				{Kind: KindRole, Role: "admin", Paths: []string{"/admin/*"}},
				{Kind: KindPublic, Paths: []string{"/*"}},
			},
			paths: map[string]string{"/admin/users": "role admin", "/admin": "role admin", "/": "public", "/administrator": "public"},
		},
		{
			name: "an exact rule beats the wildcard that also covers it",
			rules: []Rule{
				{Kind: KindPublic, Paths: []string{"/docs"}},
				{Kind: KindAuthenticated, Paths: []string{"/docs/*"}},
				{Kind: KindPublic, Paths: []string{"/admin/*"}},
				{Kind: KindRole, Role: "admin", Paths: []string{"/admin"}},
			},
			paths: map[string]string{"/docs": "public", "/docs/": "authenticated", "/docs/a": "authenticated",
				"/admin": "role admin", "/admin/": "public", "/admin/x": "public"},
		},
		{
			name: "tie: the most restrictive wins, whatever the order",
			rules: []Rule{
				{Kind: KindPublic, Paths: []string{"/x/*"}},
				{Kind: KindRole, Role: "ops", Paths: []string{"/x/*"}},
				{Kind: KindAuthenticated, Paths: []string{"/x/*"}},
				{Kind: KindAnonymous, Paths: []string{"/y"}},
				{Kind: KindPublic, Paths: []string{"/y"}},
			},
			paths: map[string]string{"/x/a": "role ops", "/x": "role ops", "/y": "anonymous"},
		},
		{
			name:  "/x/* covers /x but not /xy; /x* covers /xy",
			rules: []Rule{{Kind: KindPublic, Paths: []string{"/x/*"}}, {Kind: KindAnonymous, Paths: []string{"/z*"}}},
			paths: map[string]string{"/x": "public", "/x/": "public", "/x/y/z": "public", "/xy": "default", "/x.y": "default",
				"/z": "anonymous", "/zebra": "anonymous", "/z/a": "anonymous"},
		},
		{
			name:  "/x/* beats /x* on the paths both cover",
			rules: []Rule{{Kind: KindPublic, Paths: []string{"/x*"}}, {Kind: KindAuthenticated, Paths: []string{"/x/*"}}},
			paths: map[string]string{"/x/a": "authenticated", "/x": "authenticated", "/xa": "public"},
		},
		{
			name:  "matching ignores case on both sides",
			rules: []Rule{{Kind: KindRole, Role: "admin", Paths: []string{"/Admin/*"}}, {Kind: KindPublic, Paths: []string{"/PUBLIC/*"}}},
			paths: map[string]string{"/admin/x": "role admin", "/ADMIN/x": "role admin", "/aDmIn": "role admin", "/public/a": "public", "/Public/A": "public"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Every permutation of the rule order must give the same answers.
			perms := [][]Rule{tt.rules, reversed(tt.rules)}
			for _, rules := range perms {
				rs := mustRules(t, slices.Clone(rules)...)
				for p, want := range tt.paths {
					got, err := rs.decide(httptest.NewRequest("GET", p, nil), p)
					if err != nil {
						t.Fatal(err)
					}
					if len(got) != 1 || ruleName(got[0]) != want {
						t.Errorf("%s: decided by %s, want %s", p, ruleName(got[0]), want)
					}
				}
			}
		})
	}
}

func reversed(r []Rule) []Rule {
	out := slices.Clone(r)
	slices.Reverse(out)
	return out
}

func TestJudge(t *testing.T) {
	user := &authcore.Principal{Method: "session", UserID: "u1", Roles: []string{"user"}}
	admin := &authcore.Principal{Method: "session", UserID: "u2", Roles: []string{"user", "admin"}}
	anon := &authcore.Principal{Method: "session", UserID: "u3", Anonymous: true}
	orgKey := &authcore.Principal{Method: "api-key", OrgID: "o1", KeyID: "k1", Roles: []string{"admin"}}
	public := &Rule{Kind: KindPublic}
	anonymous := &Rule{Kind: KindAnonymous}
	authn := &Rule{Kind: KindAuthenticated}
	role := &Rule{Kind: KindRole, Role: "admin"}
	tests := []struct {
		rule *Rule
		p    *authcore.Principal
		want verdict
	}{
		{public, nil, allowed}, {public, anon, allowed}, {public, user, allowed},
		{anonymous, nil, unauthenticated}, {anonymous, anon, allowed}, {anonymous, user, allowed},
		{authn, nil, unauthenticated}, {authn, anon, unauthenticated}, {authn, user, allowed}, {authn, orgKey, allowed},
		{role, nil, unauthenticated}, {role, anon, unauthenticated}, {role, user, forbidden}, {role, admin, allowed},
		// An organization-owned key has no user, so no user role: forbidden even if it
		// carries the role name.
		{role, orgKey, forbidden},
		{defaultRule, nil, unauthenticated}, {defaultRule, anon, unauthenticated}, {defaultRule, user, allowed},
	}
	for _, tt := range tests {
		if got := judgeStatic([]*Rule{tt.rule}, tt.p); got != tt.want {
			t.Errorf("judge(%s, %+v) = %d, want %d", ruleName(tt.rule), tt.p, got, tt.want)
		}
	}
	// Several rules: the worst verdict wins.
	if got := judgeStatic([]*Rule{public, role}, user); got != forbidden {
		t.Errorf("public + role for a user = %d, want forbidden", got)
	}
	if got := judgeStatic([]*Rule{role, authn}, nil); got != unauthenticated {
		t.Errorf("role + authenticated without credential = %d, want unauthenticated", got)
	}
}

// TestMatcherRulesAddRequirements: a rule naming a matcher (require role admin @writes) adds
// its requirement to whatever the path rules decide; it never relaxes them.
func TestMatcherRulesAddRequirements(t *testing.T) {
	rs := mustRules(t,
		Rule{Kind: KindPublic, Paths: []string{"/blog/*"}},
		Rule{Kind: KindRole, Role: "admin", Paths: []string{"/admin/*"}},
		Rule{Kind: KindRole, Role: "editor", MatchRaw: caddyhttp.RawMatcherSets{{"method": json.RawMessage(`["POST","DELETE"]`)}}},
		Rule{Kind: KindPublic, MatchRaw: caddyhttp.RawMatcherSets{{"method": json.RawMessage(`["OPTIONS"]`)}}},
	)
	user := &authcore.Principal{UserID: "u", Roles: []string{"user"}}
	editor := &authcore.Principal{UserID: "e", Roles: []string{"editor"}}
	tests := []struct {
		method, path string
		p            *authcore.Principal
		want         verdict
	}{
		{"GET", "/blog/post", nil, allowed},
		{"POST", "/blog/post", nil, unauthenticated},
		{"POST", "/blog/post", user, forbidden},
		{"POST", "/blog/post", editor, allowed},
		{"DELETE", "/app/x", editor, allowed},
		{"GET", "/app/x", nil, unauthenticated},
		// A public matcher rule does not open what the path rules close.
		{"OPTIONS", "/app/x", nil, unauthenticated},
		{"OPTIONS", "/admin/x", editor, forbidden},
		// Both requirements apply: admin path and editor method.
		{"POST", "/admin/x", editor, forbidden},
	}
	for _, tt := range tests {
		rules, err := rs.decide(httptest.NewRequest(tt.method, tt.path, nil), tt.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := judgeStatic(rules, tt.p); got != tt.want {
			t.Errorf("%s %s as %+v: %d, want %d", tt.method, tt.path, tt.p, got, tt.want)
		}
	}
}

func TestCompileRulesErrors(t *testing.T) {
	method := caddyhttp.RawMatcherSets{{"method": json.RawMessage(`["POST"]`)}}
	tests := []struct {
		rule Rule
		want string
	}{
		{Rule{Kind: "private", Paths: []string{"/x"}}, `unknown kind "private"`},
		{Rule{Kind: KindRole, Paths: []string{"/x"}}, "needs a role name"},
		{Rule{Kind: KindPublic}, "no paths"},
		{Rule{Kind: KindPublic, Paths: []string{"x"}}, "must start with /"},
		{Rule{Kind: KindRole, Role: "admin", Paths: []string{"/api/*/admin"}}, "'*' is only allowed at the end"},
		{Rule{Kind: KindPublic, Paths: []string{"/**"}}, "'*' is only allowed at the end"},
		{Rule{Kind: KindRole, Role: "a", Paths: []string{"/x"}, MatchRaw: method}, "paths or a matcher, not both"},
		{Rule{Kind: KindPublic, MatchRaw: caddyhttp.RawMatcherSets{{"no_such_matcher": json.RawMessage(`{}`)}}}, "loading matchers"},
	}
	for _, tt := range tests {
		_, err := compileRules(testCtx(t), nil, []Rule{tt.rule})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: err = %v, want %q", tt.rule, err, tt.want)
		}
	}
}

// ---------------------------------------------------------------------------------------
// Path canonicalisation (D2)

// TestCanonicalPath: the path the rules judge is the cleaned, decoded path; spellings that
// could make an upstream see another path than the one judged (encoded slash or backslash,
// NUL, path parameters) are refused.
func TestCanonicalPath(t *testing.T) {
	tests := []struct {
		target       string // raw request-target
		want         string // "" = refused
		allowEncoded string // result with allow_encoded_slashes ("" = refused)
	}{
		{"/app/x", "/app/x", "/app/x"},
		{"/public/../admin/x", "/admin/x", "/admin/x"},
		{"/public/%2e%2e/admin/x", "/admin/x", "/admin/x"},
		{"/public/%2E%2E/admin/x", "/admin/x", "/admin/x"},
		{"/public/.%2e/admin/x", "/admin/x", "/admin/x"},
		{"//admin//x", "/admin/x", "/admin/x"},
		{"/a/./b/", "/a/b/", "/a/b/"},
		{"/a/b/..", "/a", "/a"},
		{"/../../etc/passwd", "/etc/passwd", "/etc/passwd"},
		{"/%61dmin/x", "/admin/x", "/admin/x"},
		{"/public/..%2fadmin/x", "", "/admin/x"},
		{"/public/..%2Fadmin/x", "", "/admin/x"},
		{"/a%2fb", "", "/a/b"},
		{"/public/..%5cadmin", "", "/public/..\\admin"},
		{"/public/..%5Cadmin", "", "/public/..\\admin"},
		{"/a\\b", "", "/a\\b"},
		{"/admin%00.png", "", ""},
		{"/admin;x", "", "/admin;x"},
		{"/admin%3bx", "", "/admin;x"},
		{"/admin%3Bx/..", "", "/"},
	}
	for _, tt := range tests {
		for _, allow := range []bool{false, true} {
			want := tt.want
			if allow {
				want = tt.allowEncoded
			}
			r := httptest.NewRequest("GET", tt.target, nil)
			got, err := canonicalPath(r, allow)
			switch {
			case want == "" && err == nil:
				t.Errorf("%s (allow_encoded_slashes=%v): accepted as %q, want refused", tt.target, allow, got)
			case want != "" && err != nil:
				t.Errorf("%s (allow_encoded_slashes=%v): refused (%v), want %q", tt.target, allow, err, want)
			case want != "" && got != want:
				t.Errorf("%s (allow_encoded_slashes=%v): %q, want %q", tt.target, allow, got, want)
			}
		}
	}
}

// ---------------------------------------------------------------------------------------
// Identity headers (identity.go)

func newStripper(t *testing.T, prefix string, mapped map[string]string) *Handler {
	t.Helper()
	hn := authcoretest.New(t)
	h := &Handler{HeaderPrefix: prefix, Headers: mapped}
	if err := h.provision(testCtx(t), hn.Engine, zap.NewNop()); err != nil {
		t.Fatal(err)
	}
	return h
}

// TestStripIdentity is HDR-01/HDR-02 at unit level: every spelling of a reserved header a
// client could send — any case, '_' or '.' for '-', duplicates, new names under the prefix, mapped
// legacy names — is removed before the gateway sets its own, and so are Connection tokens
// naming them (a client listing X-Auth-User-Id in Connection would make the proxy drop the
// trusted header after it was set).
func TestStripIdentity(t *testing.T) {
	h := newStripper(t, "", map[string]string{"user_email": "X-WEBAUTH-USER"})
	r := httptest.NewRequest("GET", "/", nil)
	spoofed := []string{
		"X-Auth-User-Id", "x-auth-user-id", "X-AUTH-USER-ROLE", "X_Auth_User_Email", "x_auth_user_email_verified",
		"X-Auth_User-Name", "X.Auth.User.Id", "x-auth.user-method", "X-Auth-Session-Id", "X-Auth-Org-Id", "X-Auth-Impersonated-By", "X-Auth-Api-Key-Id",
		"X-Auth-Permissions", "X-Auth-Anything-New", "X-Webauth-User", "x_webauth_user", "X-WEBAUTH-USER", "x.webauth.user",
		"X-HTTP-Method-Override", "x-http-method", "X_Method_Override", "X-Original-URL", "x-rewrite-url",
	}
	for _, name := range spoofed {
		r.Header[name] = []string{"root", "root-again"}
	}
	kept := map[string]string{
		"Authorization": "Basic x", "Cookie": "a=1", "X-Forwarded-For": "1.2.3.4", "X-Authorization": "k",
		"X-Auth": "k", "X-Author": "k", "Accept": "text/html", "X-Webauth-Username": "k",
	}
	for k, v := range kept {
		r.Header[k] = []string{v}
	}
	r.Header["Connection"] = []string{"keep-alive, X-Auth-User-Id", "x_auth_user_role,X-WEBAUTH-USER , Upgrade", "X-HTTP-Method-Override"}
	h.stripIdentity(r)
	for _, name := range spoofed {
		if _, ok := r.Header[name]; ok {
			t.Errorf("%s survived", name)
		}
	}
	for k, v := range kept {
		if got := r.Header[k]; len(got) != 1 || got[0] != v {
			t.Errorf("%s = %q, want %q kept", k, got, v)
		}
	}
	if got := r.Header["Connection"]; !slices.Equal(got, []string{"keep-alive, Upgrade"}) {
		t.Errorf("Connection = %q, want only the non-reserved tokens", got)
	}

	// Connection naming only reserved headers disappears; one naming none is untouched.
	r = httptest.NewRequest("GET", "/", nil)
	r.Header["Connection"] = []string{"X-Auth-User-Id"}
	h.stripIdentity(r)
	if _, ok := r.Header["Connection"]; ok {
		t.Errorf("Connection = %q, want removed", r.Header["Connection"])
	}
	r = httptest.NewRequest("GET", "/", nil)
	r.Header["Connection"] = []string{"close,  Keep-Alive"}
	h.stripIdentity(r)
	if got := r.Header["Connection"]; !slices.Equal(got, []string{"close,  Keep-Alive"}) {
		t.Errorf("untouched Connection rewritten to %q", got)
	}

	// A custom prefix replaces X-Auth- (which is then an ordinary header).
	h = newStripper(t, "X-Gate-", nil)
	r = httptest.NewRequest("GET", "/", nil)
	r.Header["x_gate_user_id"] = []string{"root"}
	r.Header["X-Auth-User-Id"] = []string{"app's own"}
	h.stripIdentity(r)
	if _, ok := r.Header["x_gate_user_id"]; ok {
		t.Error("x_gate_user_id survived a custom prefix")
	}
	if r.Header.Get("X-Auth-User-Id") != "app's own" {
		t.Error("X-Auth-User-Id stripped although the prefix is X-Gate-")
	}
}

func TestHeaderValue(t *testing.T) {
	tests := map[string]string{
		"Ada Lovelace":  "Ada Lovelace",
		"Zoë":           "Zo%C3%AB",
		"100%":          "100%25",
		"%C3%AB":        "%25C3%25AB", // already-encoded text stays distinguishable
		"a\tb":          "a%09b",
		"line\r\nbreak": "line%0D%0Abreak",
		"del\x7f":       "del%7F",
		"日本":            "%E6%97%A5%E6%9C%AC",
		"admin,user":    "admin,user",
		"":              "",
	}
	for in, want := range tests {
		if got := headerValue(in); got != want {
			t.Errorf("headerValue(%q) = %q, want %q", in, got, want)
		}
	}
}

// ---------------------------------------------------------------------------------------
// Credentials that must not reach the upstream (D8, HDR-08)

func TestStripCredentials(t *testing.T) {
	hn := authcoretest.New(t, authcoretest.WithPlugins(fakeAuth{}))
	h := &Handler{}
	if err := h.provision(testCtx(t), hn.Engine, zap.NewNop()); err != nil {
		t.Fatal(err)
	}
	cookieTests := []struct {
		in   []string
		want []string // nil: no Cookie header
	}{
		{
			in: []string{"app=1; better-auth.session_token=tok.sig; theme=dark; __Secure-better-auth.session_data=x; " +
				"better-auth.dont_remember=y; __Host-better-auth.csrf=z; better-auth.two_factor=w; zz=last"},
			want: []string{"app=1; theme=dark; zz=last"},
		},
		// HTTP/2 sends one Cookie header per cookie; order is kept across them.
		{in: []string{"a=1", "better-auth.session_token=t", "b=2"}, want: []string{"a=1; b=2"}},
		{in: []string{"better-auth.session_token=t; better-auth.session_data=d"}, want: nil},
		// Look-alikes that are not the gateway's cookies stay.
		{in: []string{"better-auth-session_token=x; better-authX.y=1; my.better-auth.session_token=2"},
			want: []string{"better-auth-session_token=x; better-authX.y=1; my.better-auth.session_token=2"}},
		// No gateway cookie: the header is left byte for byte.
		{in: []string{"a=1;b=2 ;  c=3"}, want: []string{"a=1;b=2 ;  c=3"}},
	}
	for _, tt := range cookieTests {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header["Cookie"] = slices.Clone(tt.in)
		h.stripCredentials(r, nil)
		if got := r.Header["Cookie"]; !slices.Equal(got, tt.want) {
			t.Errorf("Cookie %q → %q, want %q", tt.in, got, tt.want)
		}
	}

	// Plugin credential headers go; Authorization goes only when it carried the credential.
	for _, tt := range []struct {
		method   string
		fromAuth bool // Engine.Authenticate: the Authorization header carried an accepted credential
		wantAuth bool
	}{{"session", false, true}, {"api-key", false, true}, {"bearer", true, false}, {"jwt", true, false},
		{"session", true, false}} { // a cookie and a bearer token of the same session (HDR-08)
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Bearer something")
		r.Header.Set("X-Fake-Key", "k")
		h.stripCredentials(r, &authcore.Principal{Method: tt.method, UserID: "u", FromAuthorization: tt.fromAuth})
		if _, ok := r.Header["Authorization"]; ok != tt.wantAuth {
			t.Errorf("principal %s: Authorization kept = %v, want %v", tt.method, ok, tt.wantAuth)
		}
		if r.Header.Get("X-Fake-Key") != "" {
			t.Errorf("principal %s: the plugin's credential header reached the upstream", tt.method)
		}
	}

	// pass_credentials forwards everything as sent.
	h.PassCredentials = true
	r := httptest.NewRequest("GET", "/", nil)
	r.Header["Cookie"] = []string{"better-auth.session_token=t; a=1"}
	r.Header.Set("Authorization", "Bearer t")
	r.Header.Set("X-Fake-Key", "k")
	h.stripCredentials(r, &authcore.Principal{Method: "bearer", UserID: "u"})
	if r.Header.Get("Cookie") != "better-auth.session_token=t; a=1" || r.Header.Get("Authorization") == "" || r.Header.Get("X-Fake-Key") == "" {
		t.Errorf("pass_credentials changed the request: %v", r.Header)
	}
}

// ---------------------------------------------------------------------------------------
// Upstream responses (guardWriter, D8)

// snapWriter records the header map as it stood at each status line, like a real
// connection would have sent it.
type snapWriter struct {
	hdr     http.Header
	sent    []http.Header
	codes   []int
	body    strings.Builder
	flushes int
}

func newSnapWriter() *snapWriter { return &snapWriter{hdr: http.Header{}} }

func (s *snapWriter) Header() http.Header { return s.hdr }
func (s *snapWriter) WriteHeader(code int) {
	s.codes = append(s.codes, code)
	s.sent = append(s.sent, s.hdr.Clone())
}

func (s *snapWriter) Write(b []byte) (int, error) {
	if len(s.codes) == 0 || s.codes[len(s.codes)-1] < 200 {
		s.WriteHeader(http.StatusOK)
	}
	return s.body.Write(b)
}

func (s *snapWriter) FlushError() error {
	if len(s.codes) == 0 {
		s.WriteHeader(http.StatusOK)
	}
	s.flushes++
	return nil
}

// finalCookies returns the Set-Cookie lines sent with the first final status.
func (s *snapWriter) finalCookies(t *testing.T) []string {
	t.Helper()
	for i, c := range s.codes {
		if c >= 200 || c == http.StatusSwitchingProtocols {
			return s.sent[i]["Set-Cookie"]
		}
	}
	t.Fatalf("no final status written (codes %v)", s.codes)
	return nil
}

// TestGuardWriter: an upstream cannot set (or overwrite) the gateway's own cookies, in any of
// the ways a response's header can leave — and the refreshed session cookie is added once.
func TestGuardWriter(t *testing.T) {
	hn := authcoretest.New(t)
	h := &Handler{}
	if err := h.provision(testCtx(t), hn.Engine, zap.NewNop()); err != nil {
		t.Fatal(err)
	}
	upstreamCookies := []string{
		"better-auth.session_token=evil; Path=/",
		"app=1; Path=/",
		"__Secure-better-auth.session_token=evil; Secure",
		"__Secure-better-auth.session_data=forged",
		"__Host-better-auth.state=x",
		" better-auth.dont_remember=x",
		"better-auth-other=kept",
		"theme=dark",
	}
	wantKept := []string{"app=1; Path=/", "better-auth-other=kept", "theme=dark"}
	const refresh = "better-auth.session_token=fresh.sig; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax"

	styles := map[string]func(w http.ResponseWriter){
		"WriteHeader": func(w http.ResponseWriter) { w.WriteHeader(http.StatusCreated); io.WriteString(w, "x") },
		"implicit 200 from Write": func(w http.ResponseWriter) {
			io.WriteString(w, "x")
		},
		"ReadFrom": func(w http.ResponseWriter) {
			rf, ok := w.(io.ReaderFrom)
			if !ok {
				t.Fatal("guardWriter does not implement io.ReaderFrom")
			}
			if _, err := rf.ReadFrom(strings.NewReader("streamed body")); err != nil {
				t.Fatal(err)
			}
		},
		"io.Copy": func(w http.ResponseWriter) {
			io.Copy(w, struct{ io.Reader }{strings.NewReader("copied")})
		},
		"flush before anything": func(w http.ResponseWriter) {
			if err := http.NewResponseController(w).Flush(); err != nil {
				t.Fatal(err)
			}
			io.WriteString(w, "x")
		},
		"103 early hints first": func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusEarlyHints)
			w.WriteHeader(http.StatusOK)
		},
		"101 switching protocols": func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusSwitchingProtocols)
		},
	}
	for name, write := range styles {
		for _, withRefresh := range []bool{false, true} {
			sw := newSnapWriter()
			gw := &guardWriter{ResponseWriterWrapper: &caddyhttp.ResponseWriterWrapper{ResponseWriter: sw}, h: h}
			if withRefresh {
				gw.setCookie = refresh
			}
			for _, c := range upstreamCookies {
				gw.Header().Add("Set-Cookie", c)
			}
			write(gw)
			want := slices.Clone(wantKept)
			if withRefresh {
				want = append(want, refresh)
			}
			if got := sw.finalCookies(t); !slices.Equal(got, want) {
				t.Errorf("%s (refresh %v): Set-Cookie sent %q, want %q", name, withRefresh, got, want)
			}
			for i, c := range sw.codes {
				for _, line := range sw.sent[i]["Set-Cookie"] {
					if strings.Contains(line, "evil") || strings.Contains(line, "forged") {
						t.Errorf("%s: status %d carried %q", name, c, line)
					}
				}
			}
			// Writing more after the header went out adds nothing.
			io.WriteString(gw, "more")
			if n := strings.Count(strings.Join(sw.hdr["Set-Cookie"], "\n"), "fresh.sig"); withRefresh && n != 1 {
				t.Errorf("%s: refresh cookie added %d times", name, n)
			}
		}
	}
}

// ---------------------------------------------------------------------------------------
// The gateway path end to end, with a real engine (authcoretest) and a recording upstream

// fakeAuth registers a stand-in gateway authenticator (as the bearer, JWT and API-key
// plugins do) reading X-Fake-Key, so principals that no core credential produces —
// anonymous, bearer, organization keys, failures — can be driven through the handler.
type fakeAuth struct{}

func (fakeAuth) ID() string { return "fake-auth" }

func (fakeAuth) Register(r *authcore.Registrar) error {
	r.Authenticator(authcore.OrderBearer, fakeAuthenticator{})
	r.CredentialHeader("X-Fake-Key")
	return nil
}

type fakeAuthenticator struct{}

func (fakeAuthenticator) Authenticate(r *http.Request) (*authcore.Principal, bool, error) {
	v := r.Header.Get("X-Fake-Key")
	switch {
	case v == "":
		return nil, false, nil
	case v == "anonymous":
		return &authcore.Principal{Method: "session", UserID: "anon-1", Anonymous: true}, true, nil
	case strings.HasPrefix(v, "bearer:"):
		return &authcore.Principal{Method: "bearer", UserID: strings.TrimPrefix(v, "bearer:"), Roles: []string{"user"}}, true, nil
	case v == "admin-key":
		return &authcore.Principal{Method: "api-key", UserID: "admin-1", Roles: []string{"admin"}, KeyID: "key-1",
			Headers: map[string]string{"Permissions": "users:read,users:write"}}, true, nil
	case v == "files-key":
		return &authcore.Principal{Method: "api-key", UserID: "files-1", KeyID: "key-2",
			Permissions: map[string][]string{"files": {"read"}}}, true, nil
	case v == "org-key":
		return &authcore.Principal{Method: "api-key", OrgID: "org-1", KeyID: "key-org"}, true, nil
	case v == "limited":
		return nil, false, &authcore.Error{Status: http.StatusTooManyRequests, Code: "RATE_LIMITED", Message: "Too many requests",
			Header: http.Header{"Retry-After": {"7"}}}
	case v == "broken":
		return nil, false, errors.New("storage is on fire")
	}
	return nil, false, &authcore.Error{Status: http.StatusUnauthorized, Code: "INVALID_API_KEY", Message: "Invalid API key"}
}

// upstream is the next handler: it records what reached it and counts calls.
type upstream struct {
	calls int
	got   *http.Request
	write func(w http.ResponseWriter)
}

func (u *upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) error {
	u.calls++
	u.got = r.Clone(r.Context())
	if u.write != nil {
		u.write(w)
		return nil
	}
	_, err := io.WriteString(w, "upstream")
	return err
}

type fixture struct {
	t  *testing.T
	hn *authcoretest.Harness
	h  *Handler
	up *upstream
}

func newFixture(t *testing.T, hd *Handler, opts ...authcoretest.Option) *fixture {
	t.Helper()
	hn := authcoretest.New(t, append([]authcoretest.Option{authcoretest.WithPlugins(fakeAuth{})}, opts...)...)
	if err := hd.provision(testCtx(t), hn.Engine, zap.NewNop()); err != nil {
		t.Fatalf("provision: %v", err)
	}
	return &fixture{t: t, hn: hn, h: hd, up: &upstream{}}
}

type account struct {
	client    *authcoretest.Client
	cookie    string // Cookie header value carrying the session
	userID    string
	sessionID string
}

// signUp creates a user through the engine's API, as a browser would.
func (f *fixture) signUp(name, email string) account {
	f.t.Helper()
	c, body := f.hn.SignUp(name, email, testPassword)
	user, _ := body["user"].(map[string]any)
	s := c.Get("/get-session").Object()
	sess, _ := s["session"].(map[string]any)
	a := account{client: c, cookie: "better-auth.session_token=" + c.CookieValue("better-auth.session_token")}
	a.userID, _ = user["id"].(string)
	a.sessionID, _ = sess["id"].(string)
	if a.userID == "" || a.sessionID == "" || c.CookieValue("better-auth.session_token") == "" {
		f.t.Fatalf("sign-up of %s: user %v, session %v", email, body, s)
	}
	return a
}

type served struct {
	rec  *httptest.ResponseRecorder
	err  error
	repl *caddy.Replacer
}

// serve runs one request through the handler the way Caddy would (replacer and vars in the
// context). hdr are raw header pairs, set without canonicalising the name.
func (f *fixture) serve(method, target string, vars map[string]any, hdr ...string) served {
	f.t.Helper()
	r := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "Host" {
			r.Host = hdr[i+1]
			continue
		}
		r.Header[hdr[i]] = append(r.Header[hdr[i]], hdr[i+1])
	}
	repl := caddy.NewReplacer()
	if vars == nil {
		vars = map[string]any{}
	}
	ctx := context.WithValue(r.Context(), caddy.ReplacerCtxKey, repl)
	ctx = context.WithValue(ctx, caddyhttp.VarsCtxKey, vars)
	rec := httptest.NewRecorder()
	err := f.h.ServeHTTP(rec, r.WithContext(ctx), f.up)
	return served{rec: rec, err: err, repl: repl}
}

func (s served) envelope(t *testing.T) map[string]string {
	t.Helper()
	var env map[string]string
	if err := json.Unmarshal(s.rec.Body.Bytes(), &env); err != nil {
		t.Fatalf("body %q is not a JSON envelope: %v", s.rec.Body, err)
	}
	return env
}

// identityHeaders returns every header under the prefix the upstream received, plus the
// given mapped names.
func identityHeaders(r *http.Request, extra ...string) map[string][]string {
	out := map[string][]string{}
	for k, v := range r.Header {
		if strings.HasPrefix(normHeader(k), "x-auth-") || slices.Contains(extra, k) {
			out[k] = v
		}
	}
	return out
}

// spoof is every spelling of forged identity a client might send.
var spoof = []string{
	"X-Auth-User-Id", "root", "x-auth-user-id", "root2", "X_AUTH_USER_ROLE", "admin", "X-Auth-User-Email", "root@app.test",
	"X-Auth-User-Email-Verified", "true", "X-Auth-Org-Id", "org-b", "X-Auth-Impersonated-By", "x", "X-Auth-Api-Key-Id", "k",
	"x_auth_user_name", "Mallory", "X-Auth-Method", "api-key", "X-Auth-Session-Id", "s-forged",
}

// TestGatewayIdentityHeaders is HDR-01/HDR-02 and D1 through the handler: with a session the
// upstream receives exactly the gateway's identity headers, one value each, and nothing the
// client sent under the prefix; the email and its verified flag appear only once the email
// is verified (through the engine's own verification flow); non-ASCII values are
// percent-encoded; Caddy's placeholders carry the same identity.
func TestGatewayIdentityHeaders(t *testing.T) {
	f := newFixture(t, &Handler{})
	ada := f.signUp("Zoë 100%", "zoe@example.com")

	check := func(verified bool) {
		t.Helper()
		s := f.serve("GET", "/app/page", nil, append([]string{"Cookie", ada.cookie}, spoof...)...)
		if s.err != nil || s.rec.Code != http.StatusOK || f.up.got == nil {
			t.Fatalf("status %d, err %v", s.rec.Code, s.err)
		}
		want := map[string][]string{
			"X-Auth-User-Id":    {ada.userID},
			"X-Auth-User-Name":  {"Zo%C3%AB 100%25"},
			"X-Auth-User-Role":  {"user"},
			"X-Auth-Session-Id": {ada.sessionID},
			"X-Auth-Method":     {"session"},
		}
		if verified {
			want["X-Auth-User-Email"] = []string{"zoe@example.com"}
			want["X-Auth-User-Email-Verified"] = []string{"true"}
		}
		got := identityHeaders(f.up.got)
		if len(got) != len(want) {
			t.Errorf("upstream identity headers %v, want %v", got, want)
		}
		for k, v := range want {
			if !slices.Equal(got[k], v) {
				t.Errorf("%s = %q, want %q", k, got[k], v)
			}
		}
		placeholders := map[string]string{"http.auth.user.id": ada.userID, "http.auth.user.name": "Zoë 100%",
			"http.auth.user.role": "user", "http.auth.user.session_id": ada.sessionID, "http.auth.user.method": "session"}
		if verified {
			placeholders["http.auth.user.email"] = "zoe@example.com"
		}
		for k, v := range placeholders {
			if got, _ := s.repl.GetString(k); got != v {
				t.Errorf("placeholder {%s} = %q, want %q", k, got, v)
			}
		}
		if got, ok := s.repl.GetString("http.auth.user.email"); !verified && ok && got != "" {
			t.Errorf("placeholder {http.auth.user.email} = %q for an unverified email", got)
		}
	}
	check(false)

	// Verify the email through the engine's flow: request the link, follow it.
	if r := ada.client.Post("/send-verification-email", map[string]any{"email": "zoe@example.com"}); r.StatusCode != http.StatusOK {
		t.Fatalf("send-verification-email: %d %s", r.StatusCode, r.Body)
	}
	msg := f.hn.Sink.Wait(t, "verify-email", "zoe@example.com")
	link, err := url.Parse(msg.Data.URL)
	if err != nil {
		t.Fatal(err)
	}
	if r := ada.client.Get(strings.TrimPrefix(link.Path, "/api/auth") + "?" + link.RawQuery); r.StatusCode >= 400 {
		t.Fatalf("verify-email: %d %s", r.StatusCode, r.Body)
	}
	check(true)
}

// TestGatewayNoCredential is HDR-01: spoofed identity without a credential never reaches the
// upstream on a protected path (401), and on a public path arrives stripped.
func TestGatewayNoCredential(t *testing.T) {
	f := newFixture(t, &Handler{Rules: []Rule{{Kind: KindPublic, Paths: []string{"/public/*"}}}})
	s := f.serve("GET", "/app/whoami", nil, spoof...)
	if s.rec.Code != http.StatusUnauthorized || f.up.calls != 0 {
		t.Fatalf("protected path without credential: %d, upstream calls %d", s.rec.Code, f.up.calls)
	}
	if env := s.envelope(t); env["code"] != "UNAUTHORIZED" || s.rec.Header().Get("Cache-Control") != "no-store" ||
		s.rec.Header().Get("Content-Type") != "application/json" {
		t.Errorf("401: %v %v", env, s.rec.Header())
	}
	s = f.serve("GET", "/public/echo", nil, spoof...)
	if s.rec.Code != http.StatusOK || f.up.calls != 1 {
		t.Fatalf("public path: %d, upstream calls %d", s.rec.Code, f.up.calls)
	}
	if got := identityHeaders(f.up.got); len(got) != 0 {
		t.Errorf("public path: upstream received %v", got)
	}
}

// TestGatewayMappedHeaders: a legacy header name replaces the prefixed one, and clients
// cannot send it either.
func TestGatewayMappedHeaders(t *testing.T) {
	f := newFixture(t, &Handler{Headers: map[string]string{"user_id": "X-WEBAUTH-USER", "user_name": "Remote-Name"}})
	ada := f.signUp("Ada", "ada@example.com")
	s := f.serve("GET", "/", nil, "Cookie", ada.cookie, "x_webauth_user", "root", "X-Webauth-User", "root", "remote_name", "Mallory")
	if s.rec.Code != http.StatusOK {
		t.Fatalf("status %d", s.rec.Code)
	}
	h := f.up.got.Header
	if got := h["X-Webauth-User"]; !slices.Equal(got, []string{ada.userID}) {
		t.Errorf("X-Webauth-User = %q, want the user id only", got)
	}
	if got := h["Remote-Name"]; !slices.Equal(got, []string{"Ada"}) {
		t.Errorf("Remote-Name = %q", got)
	}
	for _, k := range []string{"x_webauth_user", "remote_name", "X-Auth-User-Id", "X-Auth-User-Name"} {
		if _, ok := h[k]; ok {
			t.Errorf("%s reached the upstream", k)
		}
	}
	if h.Get("X-Auth-User-Role") != "user" {
		t.Errorf("unmapped fields keep the prefix: X-Auth-User-Role = %q", h.Get("X-Auth-User-Role"))
	}
}

// TestGatewayCredentialsNotForwarded is HDR-08: the session cookie and every other gateway
// cookie are removed, unrelated cookies pass in order.
func TestGatewayCredentialsNotForwarded(t *testing.T) {
	f := newFixture(t, &Handler{})
	ada := f.signUp("Ada", "ada@example.com")
	s := f.serve("GET", "/", nil, "Cookie", "app=1; "+ada.cookie+"; better-auth.session_data=x; theme=dark",
		"Authorization", "Basic YXBwOmFwcA==")
	if s.rec.Code != http.StatusOK {
		t.Fatalf("status %d", s.rec.Code)
	}
	if got := f.up.got.Header["Cookie"]; !slices.Equal(got, []string{"app=1; theme=dark"}) {
		t.Errorf("upstream Cookie = %q", got)
	}
	// A session (not a bearer credential) leaves the app's own Authorization alone.
	if f.up.got.Header.Get("Authorization") != "Basic YXBwOmFwcA==" {
		t.Errorf("Authorization removed although it did not carry the credential used")
	}
	// A bearer credential's Authorization is removed.
	f.serve("GET", "/", nil, "X-Fake-Key", "bearer:"+ada.userID, "Authorization", "Bearer tok")
	if _, ok := f.up.got.Header["Authorization"]; ok || f.up.got.Header.Get("X-Fake-Key") != "" {
		t.Errorf("bearer credential forwarded: %v", f.up.got.Header)
	}
}

// TestGatewayDenials covers D9 and D14: 302 to login_url only for browser navigations, with a
// callbackURL back to exactly the path and query asked for; 401 JSON otherwise and without
// login_url; 403 for a missing role.
func TestGatewayDenials(t *testing.T) {
	rules := []Rule{{Kind: KindRole, Role: "admin", Paths: []string{"/admin/*"}}}
	f := newFixture(t, &Handler{Rules: rules, LoginURL: "/login"})
	html := "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

	s := f.serve("GET", "/app/x?tab=2&q=a%20b", nil, "Accept", html)
	loc, _ := url.Parse(s.rec.Header().Get("Location"))
	if s.rec.Code != http.StatusFound || loc == nil || loc.Path != "/login" || loc.Query().Get("callbackURL") != "/app/x?tab=2&q=a%20b" {
		t.Errorf("browser GET: %d Location %q", s.rec.Code, s.rec.Header().Get("Location"))
	}
	if s.rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("302 without Cache-Control: no-store")
	}
	// An encoded '?' stays part of the path, never a new query: the callback is either the
	// escaped form or left out (the redirect check refuses '%' in paths).
	s = f.serve("GET", "/app/a%3Fb?x=1", nil, "Accept", html)
	loc, _ = url.Parse(s.rec.Header().Get("Location"))
	if cb := loc.Query().Get("callbackURL"); s.rec.Code != http.StatusFound || (cb != "" && cb != "/app/a%3Fb?x=1") {
		t.Errorf("encoded '?': %d Location %q", s.rec.Code, s.rec.Header().Get("Location"))
	}
	// The callback is the canonical path that was judged.
	s = f.serve("GET", "//app/./y/../z", nil, "Accept", html)
	loc, _ = url.Parse(s.rec.Header().Get("Location"))
	if loc == nil || loc.Query().Get("callbackURL") != "/app/z" {
		t.Errorf("non-canonical path: Location %q", s.rec.Header().Get("Location"))
	}
	// Host and X-Forwarded-Host never shape the redirect.
	s = f.serve("GET", "/app/x", nil, "Accept", html, "Host", "evil.example", "X-Forwarded-Host", "evil.example")
	if strings.Contains(s.rec.Header().Get("Location"), "evil") {
		t.Errorf("Location %q reflects a forwarded host", s.rec.Header().Get("Location"))
	}
	for _, tt := range []struct{ method, accept string }{
		{"GET", "application/json"}, {"GET", ""}, {"POST", html}, {"DELETE", html},
	} {
		s = f.serve(tt.method, "/app/x", nil, "Accept", tt.accept)
		if s.rec.Code != http.StatusUnauthorized || s.envelope(t)["code"] != "UNAUTHORIZED" {
			t.Errorf("%s Accept %q: %d, want 401 JSON", tt.method, tt.accept, s.rec.Code)
		}
	}
	if f.up.calls != 0 {
		t.Fatalf("upstream called %d times for unauthenticated requests", f.up.calls)
	}

	// A login_url with its own query gets the callback appended with '&'. On another
	// origin than the app's, the callback names the app's origin, and only a trusted one.
	g := newFixture(t, &Handler{LoginURL: "https://portal.example.com/sign-in?app=demo"})
	s = g.serve("GET", "/x", nil, "Accept", html, "Host", "localhost:3000")
	if got := s.rec.Header().Get("Location"); got != "https://portal.example.com/sign-in?app=demo&callbackURL=http%3A%2F%2Flocalhost%3A3000%2Fx" {
		t.Errorf("login_url with a query: Location %q", got)
	}
	s = g.serve("GET", "/x", nil, "Accept", html, "Host", "untrusted.example")
	if got := s.rec.Header().Get("Location"); got != "https://portal.example.com/sign-in?app=demo" {
		t.Errorf("login_url, untrusted app origin: Location %q, want no callback", got)
	}
	// A login_url on the app's own origin keeps the callback a path.
	g = newFixture(t, &Handler{LoginURL: "http://localhost:3000/api/auth/ui/sign-in"})
	s = g.serve("GET", "/x?y=1", nil, "Accept", html, "Host", "localhost:3000")
	if got := s.rec.Header().Get("Location"); got != "http://localhost:3000/api/auth/ui/sign-in?callbackURL=%2Fx%3Fy%3D1" {
		t.Errorf("same-origin absolute login_url: Location %q", got)
	}

	// Without login_url browsers get 401 too (D14).
	g = newFixture(t, &Handler{})
	if s = g.serve("GET", "/x", nil, "Accept", html); s.rec.Code != http.StatusUnauthorized {
		t.Errorf("no login_url, browser: %d, want 401", s.rec.Code)
	}

	// Insufficient rights: 403 JSON, never a redirect.
	ada := f.signUp("Ada", "ada@example.com")
	s = f.serve("GET", "/admin/users", nil, "Cookie", ada.cookie, "Accept", html)
	if s.rec.Code != http.StatusForbidden || s.envelope(t)["code"] != "FORBIDDEN" || f.up.calls != 0 {
		t.Errorf("user on admin path: %d, upstream calls %d", s.rec.Code, f.up.calls)
	}
	s = f.serve("GET", "/admin/users", nil, "X-Fake-Key", "admin-key")
	if s.rec.Code != http.StatusOK || f.up.got.Header.Get("X-Auth-Api-Key-Id") != "key-1" ||
		f.up.got.Header.Get("X-Auth-Permissions") != "users:read,users:write" {
		t.Errorf("admin key on admin path: %d, headers %v", s.rec.Code, identityHeaders(f.up.got))
	}
}

// TestGatewayAnonymous: D1 — an anonymous session passes only `allow anonymous` rules.
func TestGatewayAnonymous(t *testing.T) {
	f := newFixture(t, &Handler{Rules: []Rule{{Kind: KindAnonymous, Paths: []string{"/try/*"}}}})
	ada := f.signUp("Ada", "ada@example.com")
	tests := []struct {
		path string
		hdr  []string
		want int
	}{
		{"/try/it", []string{"X-Fake-Key", "anonymous"}, http.StatusOK},
		{"/try/it", []string{"Cookie", ada.cookie}, http.StatusOK},
		{"/try/it", nil, http.StatusUnauthorized},
		{"/app/x", []string{"X-Fake-Key", "anonymous"}, http.StatusUnauthorized},
		{"/app/x", []string{"Cookie", ada.cookie}, http.StatusOK},
	}
	for _, tt := range tests {
		if s := f.serve("GET", tt.path, nil, tt.hdr...); s.rec.Code != tt.want {
			t.Errorf("%s %v: %d, want %d", tt.path, tt.hdr, s.rec.Code, tt.want)
		}
	}
}

// TestGatewayCredentialErrors: TOK-01 (credentials naming different principals → 401, never
// a mixed identity), 429 with both Retry-After headers, a technical failure → 503 without
// reaching the upstream (fail closed), and use_handle_errors returning Caddy errors.
func TestGatewayCredentialErrors(t *testing.T) {
	f := newFixture(t, &Handler{Rules: []Rule{{Kind: KindPublic, Paths: []string{"/public/*"}}}})
	ada := f.signUp("Ada", "ada@example.com")
	bob := f.signUp("Bob", "bob@example.com")

	s := f.serve("GET", "/app", nil, "Cookie", ada.cookie, "X-Fake-Key", "bearer:"+bob.userID)
	if s.rec.Code != http.StatusUnauthorized || f.up.calls != 0 {
		t.Fatalf("alice's cookie + bob's bearer: %d, upstream calls %d", s.rec.Code, f.up.calls)
	}
	// The same person twice is fine.
	if s = f.serve("GET", "/app", nil, "Cookie", ada.cookie, "X-Fake-Key", "bearer:"+ada.userID); s.rec.Code != http.StatusOK {
		t.Errorf("alice's cookie + alice's bearer: %d", s.rec.Code)
	}
	// Two session cookies for different users (cookie tossing): no credential at all.
	f.up.calls = 0
	if s = f.serve("GET", "/app", nil, "Cookie", ada.cookie+"; "+bob.cookie); s.rec.Code != http.StatusUnauthorized || f.up.calls != 0 {
		t.Errorf("two session cookies: %d", s.rec.Code)
	}
	// A forged cookie is no credential (401 on a protected path, anonymous on a public one).
	if s = f.serve("GET", "/app", nil, "Cookie", "better-auth.session_token=forged.sig"); s.rec.Code != http.StatusUnauthorized {
		t.Errorf("forged cookie: %d", s.rec.Code)
	}
	// A token in the query string is not a credential.
	raw := strings.TrimPrefix(ada.cookie, "better-auth.session_token=")
	if s = f.serve("GET", "/app?token="+raw+"&session_token="+raw, nil); s.rec.Code != http.StatusUnauthorized {
		t.Errorf("token in the query: %d", s.rec.Code)
	}

	s = f.serve("GET", "/public/x", nil, "X-Fake-Key", "limited")
	if s.rec.Code != http.StatusTooManyRequests || s.rec.Header().Get("Retry-After") != "7" || s.rec.Header().Get("X-Retry-After") != "7" {
		t.Errorf("rate limited: %d %v", s.rec.Code, s.rec.Header())
	}
	s = f.serve("GET", "/public/x", nil, "X-Fake-Key", "broken")
	if s.rec.Code != http.StatusServiceUnavailable || strings.Contains(s.rec.Body.String(), "fire") {
		t.Errorf("technical failure: %d %q", s.rec.Code, s.rec.Body)
	}
	if f.up.calls != 0 {
		t.Errorf("upstream reached %d times by refused credentials", f.up.calls)
	}

	// use_handle_errors: the denial is returned for handle_errors, headers already set.
	f.h.UseHandleErrors = true
	for _, tt := range []struct {
		hdr  []string
		want int
	}{{nil, 401}, {[]string{"X-Fake-Key", "limited"}, 429}, {[]string{"X-Fake-Key", "broken"}, 503}} {
		s = f.serve("GET", "/app", nil, tt.hdr...)
		var he caddyhttp.HandlerError
		if !errors.As(s.err, &he) || he.StatusCode != tt.want {
			t.Errorf("use_handle_errors %v: err %v, want a %d handler error", tt.hdr, s.err, tt.want)
		}
		if s.rec.Body.Len() != 0 || s.rec.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("use_handle_errors %v: wrote %q, headers %v", tt.hdr, s.rec.Body, s.rec.Header())
		}
		if tt.want == 429 && (s.rec.Header().Get("Retry-After") != "7" || s.rec.Header().Get("X-Retry-After") != "7") {
			t.Errorf("use_handle_errors 429 without Retry-After: %v", s.rec.Header())
		}
	}
}

// TestGatewayPreflight: D5 — a CORS preflight reaches the upstream without identity or
// gateway credentials, or is refused with refuse_preflight.
func TestGatewayPreflight(t *testing.T) {
	f := newFixture(t, &Handler{Rules: []Rule{{Kind: KindRole, Role: "admin", Paths: []string{"/admin/*"}}}})
	ada := f.signUp("Ada", "ada@example.com")
	pre := append([]string{"Origin", "https://app.example.com", "Access-Control-Request-Method", "POST",
		"Cookie", ada.cookie + "; app=1", "X-Fake-Key", "admin-key"}, spoof...)
	s := f.serve("OPTIONS", "/admin/users", nil, pre...)
	if s.rec.Code != http.StatusOK || f.up.calls != 1 {
		t.Fatalf("preflight: %d, upstream calls %d", s.rec.Code, f.up.calls)
	}
	if got := identityHeaders(f.up.got); len(got) != 0 {
		t.Errorf("preflight carried identity %v", got)
	}
	if f.up.got.Header.Get("Cookie") != "app=1" || f.up.got.Header.Get("X-Fake-Key") != "" {
		t.Errorf("preflight carried credentials: %v", f.up.got.Header)
	}
	if id, ok := s.repl.GetString("http.auth.user.id"); ok && id != "" {
		t.Errorf("preflight set {http.auth.user.id} = %q", id)
	}
	// An OPTIONS that is not a preflight is judged like any request.
	if s = f.serve("OPTIONS", "/admin/users", nil); s.rec.Code != http.StatusUnauthorized {
		t.Errorf("plain OPTIONS: %d, want 401", s.rec.Code)
	}

	g := newFixture(t, &Handler{RefusePreflight: true})
	s = g.serve("OPTIONS", "/app", nil, "Origin", "https://app.example.com", "Access-Control-Request-Method", "PUT")
	if s.rec.Code != http.StatusForbidden || g.up.calls != 0 {
		t.Errorf("refuse_preflight: %d, upstream calls %d", s.rec.Code, g.up.calls)
	}
}

// TestGatewayPaths is D2 and PATH-02/03 at the handler: refused spellings get 400 without
// reaching the upstream; otherwise the upstream receives exactly the canonical path that was
// judged; spellings of the auth API that only clean up to it are 404, never forwarded; method
// and path override headers do not reach the upstream.
func TestGatewayPaths(t *testing.T) {
	f := newFixture(t, &Handler{Rules: []Rule{
		{Kind: KindPublic, Paths: []string{"/public/*"}},
		{Kind: KindRole, Role: "admin", Paths: []string{"/admin/*"}},
	}})
	ada := f.signUp("Ada", "ada@example.com")
	for _, target := range []string{"/public/..%2fadmin/x", "/public/..%5cadmin/x", "/admin;x", "/public/%3b/../admin", "/public/a%00"} {
		if s := f.serve("GET", target, nil, "Cookie", ada.cookie); s.rec.Code != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", target, s.rec.Code)
		}
	}
	for _, target := range []string{"/public/../admin/x", "/public/%2e%2e/admin/x", "//admin/x", "/ADMIN/x", "/%61dmin/x", "/public/./../Admin"} {
		if s := f.serve("GET", target, nil, "Cookie", ada.cookie); s.rec.Code != http.StatusForbidden {
			t.Errorf("%s as a user: %d, want 403", target, s.rec.Code)
		}
	}
	if f.up.calls != 0 {
		t.Fatalf("upstream reached %d times", f.up.calls)
	}
	for target, want := range map[string]string{
		"/public//a/./b/../c": "/public/a/c",
		"/public/%61bc":       "/public/abc",
		"/public/a%20b":       "/public/a%20b",
		"/public/x/":          "/public/x/",
		"/PUBLIC/X":           "/PUBLIC/X",
		"/app/%2e%2e/public":  "/public",
	} {
		if s := f.serve("GET", target+"?q=1", nil); s.rec.Code != http.StatusOK {
			t.Errorf("%s: %d", target, s.rec.Code)
			continue
		}
		if got := f.up.got.URL.EscapedPath(); got != want || f.up.got.URL.RawQuery != "q=1" {
			t.Errorf("%s reached the upstream as %q?%s, want %q?q=1", target, got, f.up.got.URL.RawQuery, want)
		}
	}

	// allow_encoded_slashes: an encoded slash reaches the upstream still encoded, and the
	// rules judged the decoded path.
	g := newFixture(t, &Handler{AllowEncodedSlashes: true, Rules: []Rule{{Kind: KindPublic, Paths: []string{"/repos/*"}}}})
	if s := g.serve("GET", "/repos/group%2Fproject", nil); s.rec.Code != http.StatusOK || g.up.got.URL.EscapedPath() != "/repos/group%2Fproject" {
		t.Errorf("allow_encoded_slashes: %d, upstream path %q", s.rec.Code, g.up.got.URL.EscapedPath())
	}
	if s := g.serve("GET", "/repos/..%2Fsecret", nil); s.rec.Code != http.StatusUnauthorized {
		t.Errorf("allow_encoded_slashes still judges the decoded path: %d", s.rec.Code)
	}

	// PATH-02: aliases of the auth API are not forwarded.
	f.up.calls = 0
	for _, target := range []string{"//api/auth/get-session", "/API/AUTH/get-session", "/api/../api/auth/sign-in/email", "/Api/Auth"} {
		s := f.serve("GET", target, nil, "Cookie", ada.cookie)
		if s.rec.Code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", target, s.rec.Code)
		}
	}
	for _, target := range []string{"/api/auth/./get-session", "/api/auth//get-session", "/api/auth/get-session/"} {
		if s := f.serve("GET", target, nil, "Cookie", ada.cookie); s.rec.Code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404 from the engine", target, s.rec.Code)
		}
	}
	if f.up.calls != 0 {
		t.Errorf("auth API aliases reached the upstream %d times", f.up.calls)
	}
	// /api/authority is not the auth API.
	if s := f.serve("GET", "/api/authority", nil, "Cookie", ada.cookie); s.rec.Code != http.StatusOK {
		t.Errorf("/api/authority: %d", s.rec.Code)
	}

	// PATH-03: override headers do not reach the upstream.
	f.serve("GET", "/public/x", nil, "X-HTTP-Method-Override", "DELETE", "X-Original-URL", "/admin/x", "x_rewrite_url", "/admin")
	for k := range f.up.got.Header {
		if n := normHeader(k); strings.Contains(n, "override") || strings.Contains(n, "original") || strings.Contains(n, "rewrite") {
			t.Errorf("%s reached the upstream", k)
		}
	}
}

// TestGatewayServesAuthAPI: requests under the base path go to the engine, never upstream,
// and the engine ignores spoofed identity headers (HDR-01).
func TestGatewayServesAuthAPI(t *testing.T) {
	f := newFixture(t, &Handler{})
	s := f.serve("GET", "/api/auth/get-session", nil, spoof...)
	if s.rec.Code != http.StatusOK || strings.TrimSpace(s.rec.Body.String()) != "null" || f.up.calls != 0 {
		t.Errorf("get-session with spoofed headers: %d %q, upstream calls %d", s.rec.Code, s.rec.Body, f.up.calls)
	}
	if s = f.serve("GET", "/api/auth/ok", nil); s.rec.Code != http.StatusOK || f.up.calls != 0 {
		t.Errorf("/ok: %d, upstream calls %d", s.rec.Code, f.up.calls)
	}
}

// TestGatewaySessionRefresh: D6 — once update_age has passed, a proxied request extends the
// session and the refreshed cookie is added to the upstream's response, while an upstream
// attempt to set the session cookie is dropped.
func TestGatewaySessionRefresh(t *testing.T) {
	f := newFixture(t, &Handler{})
	ada := f.signUp("Ada", "ada@example.com")
	f.up.write = func(w http.ResponseWriter) {
		w.Header().Add("Set-Cookie", "better-auth.session_token=evil; Path=/")
		w.Header().Add("Set-Cookie", "app=1")
		w.WriteHeader(http.StatusOK)
	}
	s := f.serve("GET", "/app", nil, "Cookie", ada.cookie)
	if got := s.rec.Result().Header["Set-Cookie"]; !slices.Equal(got, []string{"app=1"}) {
		t.Errorf("fresh session: Set-Cookie %q, want only the app's", got)
	}
	f.hn.Clock.Advance(25 * time.Hour)
	s = f.serve("GET", "/app", nil, "Cookie", ada.cookie)
	got := s.rec.Result().Header["Set-Cookie"]
	if len(got) != 2 || got[0] != "app=1" || !strings.HasPrefix(got[1], "better-auth.session_token=") ||
		strings.Contains(got[1], "evil") || !strings.Contains(got[1], "Max-Age=604800") {
		t.Errorf("due session: Set-Cookie %q, want the app's and a refreshed session cookie", got)
	}
	// Refreshed once: the next request has nothing to refresh.
	s = f.serve("GET", "/app", nil, "Cookie", ada.cookie)
	if got := s.rec.Result().Header["Set-Cookie"]; !slices.Equal(got, []string{"app=1"}) {
		t.Errorf("after the refresh: Set-Cookie %q", got)
	}
}

// ---------------------------------------------------------------------------------------
// forward_auth verify endpoint (D4)

func TestVerify(t *testing.T) {
	f := newFixture(t, &Handler{
		LoginURL: "/login",
		Rules: []Rule{
			{Kind: KindPublic, Paths: []string{"/public/*"}},
			{Kind: KindRole, Role: "admin", Paths: []string{"/admin/*"}},
			{Kind: KindRole, Role: "editor", MatchRaw: caddyhttp.RawMatcherSets{{"method": json.RawMessage(`["DELETE"]`)}}},
		},
	})
	ada := f.signUp("Ada", "ada@example.com")
	trusted := func() map[string]any { return map[string]any{caddyhttp.TrustedProxyVarKey: true} }
	tests := []struct {
		name    string
		vars    func() map[string]any
		query   string
		hdr     []string
		want    int
		identty bool
	}{
		{"trusted, public uri, no session", trusted, "", []string{"X-Forwarded-Uri", "/public/x"}, 200, false},
		{"trusted, protected uri, no session", trusted, "", []string{"X-Forwarded-Uri", "/app/x"}, 401, false},
		{"trusted, protected uri, session", trusted, "", []string{"X-Forwarded-Uri", "/app/x", "Cookie", ada.cookie}, 200, true},
		{"trusted, admin uri, user", trusted, "", []string{"X-Forwarded-Uri", "/admin/x", "Cookie", ada.cookie}, 403, false},
		{"trusted, encoded traversal", trusted, "", []string{"X-Forwarded-Uri", "/public/..%2fadmin/x", "Cookie", ada.cookie}, 400, false},
		{"trusted, dot traversal", trusted, "", []string{"X-Forwarded-Uri", "/public/../admin/x", "Cookie", ada.cookie}, 403, false},
		{"trusted, method rule", trusted, "", []string{"X-Forwarded-Uri", "/app/x", "X-Forwarded-Method", "delete", "Cookie", ada.cookie}, 403, false},
		{"trusted, bad uri", trusted, "", []string{"X-Forwarded-Uri", "::nope", "Cookie", ada.cookie}, 400, false},
		{"trusted, redirect", trusted, "?redirect=1", []string{"X-Forwarded-Uri", "/app/x?y=1"}, 302, false},
		// From an untrusted caller the forwarded description is ignored: the check is GET /.
		{"untrusted, public uri ignored", nil, "", []string{"X-Forwarded-Uri", "/public/x"}, 401, false},
		{"untrusted, admin uri ignored", nil, "", []string{"X-Forwarded-Uri", "/admin/x", "Cookie", ada.cookie}, 200, true},
		{"untrusted, method ignored", nil, "", []string{"X-Forwarded-Method", "DELETE", "Cookie", ada.cookie}, 200, true},
		{"spoofed identity on the verify call", trusted, "", append([]string{"X-Forwarded-Uri", "/public/x"}, spoof...), 200, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var vars map[string]any
			if tt.vars != nil {
				vars = tt.vars()
			}
			s := f.serve("GET", "/api/auth/verify"+tt.query, vars, tt.hdr...)
			if s.rec.Code != tt.want {
				t.Fatalf("status %d, want %d (%s)", s.rec.Code, tt.want, s.rec.Body)
			}
			if s.rec.Header().Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control %q", s.rec.Header().Get("Cache-Control"))
			}
			id := s.rec.Header().Get("X-Auth-User-Id")
			if tt.identty && (id != ada.userID || s.rec.Header().Get("X-Auth-User-Role") != "user") {
				t.Errorf("identity headers %v", s.rec.Header())
			}
			if !tt.identty && id != "" {
				t.Errorf("identity %q on a %d answer", id, s.rec.Code)
			}
			if tt.want == 302 {
				loc, _ := url.Parse(s.rec.Header().Get("Location"))
				if loc == nil || loc.Path != "/login" || loc.Query().Get("callbackURL") != "/app/x?y=1" {
					t.Errorf("Location %q", s.rec.Header().Get("Location"))
				}
			}
		})
	}
	if f.up.calls != 0 {
		t.Errorf("verify reached the upstream %d times", f.up.calls)
	}
	if s := f.serve("POST", "/api/auth/verify", nil); s.rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST verify: %d", s.rec.Code)
	}

	// A verify {} block replaces the site's rules for the endpoint only.
	g := newFixture(t, &Handler{Verify: &VerifyConfig{Rules: []Rule{{Kind: KindPublic, Paths: []string{"/*"}}}}})
	if s := g.serve("GET", "/api/auth/verify", nil); s.rec.Code != http.StatusOK {
		t.Errorf("verify block: %d, want 200", s.rec.Code)
	}
	if s := g.serve("GET", "/app", nil); s.rec.Code != http.StatusUnauthorized {
		t.Errorf("site rules with a verify block: %d, want 401", s.rec.Code)
	}
}

func TestProvisionErrors(t *testing.T) {
	hn := authcoretest.New(t)
	tests := []struct {
		h    *Handler
		want string
	}{
		{&Handler{Headers: map[string]string{"nickname": "X-Nick"}}, "unknown identity field"},
		{&Handler{Headers: map[string]string{"user_id": "X User"}}, "not a valid header name"},
		{&Handler{Headers: map[string]string{"user_id": ""}}, "not a valid header name"},
		{&Handler{LoginURL: "login"}, "login_url"},
		{&Handler{Rules: []Rule{{Kind: "private", Paths: []string{"/x"}}}}, "unknown kind"},
		{&Handler{Verify: &VerifyConfig{Rules: []Rule{{Kind: KindRole, Paths: []string{"/x"}}}}}, "verify: rule 0"},
	}
	for _, tt := range tests {
		err := tt.h.provision(testCtx(t), hn.Engine, zap.NewNop())
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: err = %v, want %q", tt.h, err, tt.want)
		}
	}
}

// judgeStatic judges rules that need no plugin (everything but admin and org_* rules).
func judgeStatic(rules []*Rule, p *authcore.Principal) verdict {
	v, err := judge(httptest.NewRequest(http.MethodGet, "/", nil), nil, "/", rules, p)
	if err != nil {
		panic(err)
	}
	return v
}
