package caddymodule

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/gatehouse-auth/gatehouse/authcore"
)

// TestJudgePermission: `require permission files:read` passes only a principal whose
// permissions list that action under that resource — an API key — and compares names
// exactly, as Better Auth's permission check does.
func TestJudgePermission(t *testing.T) {
	read := &Rule{Kind: KindPermission, Resource: "files", Action: "read"}
	write := &Rule{Kind: KindPermission, Resource: "files", Action: "write"}
	key := &authcore.Principal{Method: "api-key", UserID: "u1", KeyID: "k1", Permissions: map[string][]string{"files": {"read"}}}
	orgKey := &authcore.Principal{Method: "api-key", OrgID: "o1", KeyID: "k2", Permissions: map[string][]string{"files": {"read", "write"}}}
	noPerms := &authcore.Principal{Method: "api-key", UserID: "u1", KeyID: "k3"}
	// A session never carries permissions, whatever its user's role.
	session := &authcore.Principal{Method: "session", UserID: "u2", Roles: []string{"admin"}}
	anon := &authcore.Principal{Method: "session", UserID: "u3", Anonymous: true}
	wildcards := &authcore.Principal{Method: "api-key", UserID: "u4", KeyID: "k4", Permissions: map[string][]string{"*": {"*"}, "files": {"*"}}}
	otherCase := &authcore.Principal{Method: "api-key", UserID: "u5", KeyID: "k5", Permissions: map[string][]string{"Files": {"read"}, "files": {"READ", " read"}}}
	tests := []struct {
		name string
		rule *Rule
		p    *authcore.Principal
		want verdict
	}{
		{"key with files:read, read rule", read, key, allowed},
		{"key with files:read, write rule", write, key, forbidden},
		{"organization key", write, orgKey, allowed},
		{"key without permissions", read, noPerms, forbidden},
		{"session", read, session, forbidden},
		{"anonymous session", read, anon, unauthenticated},
		{"no principal", read, nil, unauthenticated},
		{"'*' is not a wildcard", read, wildcards, forbidden},
		{"names compare exactly", read, otherCase, forbidden},
	}
	for _, tt := range tests {
		if got := judgeStatic([]*Rule{tt.rule}, tt.p); got != tt.want {
			t.Errorf("%s: judge(%s) = %d, want %d", tt.name, ruleName(tt.rule), got, tt.want)
		}
	}
	// A literal "*" permission grants the literal "*" action only.
	star := &Rule{Kind: KindPermission, Resource: "*", Action: "*"}
	if got := judgeStatic([]*Rule{star}, wildcards); got != allowed {
		t.Errorf("literal *:* = %d, want allowed", got)
	}
	// Matcher rules add up: a key needs both permissions.
	if got := judgeStatic([]*Rule{read, write}, key); got != forbidden {
		t.Errorf("read + write for a read key = %d, want forbidden", got)
	}
	if got := judgeStatic([]*Rule{read, write}, orgKey); got != allowed {
		t.Errorf("read + write for a read/write key = %d, want allowed", got)
	}
}

// TestPermissionRuleOrdering: a permission rule is the most restrictive kind on a tie, and
// a more specific rule still decides its own paths.
func TestPermissionRuleOrdering(t *testing.T) {
	for _, rules := range [][]Rule{
		{
			{Kind: KindPublic, Paths: []string{"/files/*"}},
			{Kind: KindPermission, Resource: "files", Action: "read", Paths: []string{"/files/*"}},
			{Kind: KindAuthenticated, Paths: []string{"/files/*"}},
			{Kind: KindPublic, Paths: []string{"/files/public/*"}},
		},
	} {
		for _, order := range [][]Rule{rules, reversed(rules)} {
			rs := mustRules(t, order...)
			for path, want := range map[string]string{
				"/files/a":        "permission files:read",
				"/files":          "permission files:read",
				"/files/public/x": "public",
				"/other":          "default",
			} {
				got, err := rs.decide(httptest.NewRequest("GET", path, nil), path)
				if err != nil {
					t.Fatal(err)
				}
				if ruleName(got[0]) != want {
					t.Errorf("%s decided by %s, want %s", path, ruleName(got[0]), want)
				}
			}
		}
	}
	// With a matcher, the permission is required in addition to the path rule.
	rs := mustRules(t,
		Rule{Kind: KindPublic, Paths: []string{"/files/*"}},
		Rule{Kind: KindPermission, Resource: "files", Action: "write", MatchRaw: caddyhttp.RawMatcherSets{{"method": json.RawMessage(`["PUT","DELETE"]`)}}},
	)
	key := &authcore.Principal{Method: "api-key", UserID: "u", KeyID: "k", Permissions: map[string][]string{"files": {"read"}}}
	for _, tt := range []struct {
		method string
		p      *authcore.Principal
		want   verdict
	}{
		{"GET", nil, allowed},
		{"PUT", nil, unauthenticated},
		{"PUT", key, forbidden},
		{"GET", key, allowed},
	} {
		rules, err := rs.decide(httptest.NewRequest(tt.method, "/files/a", nil), "/files/a")
		if err != nil {
			t.Fatal(err)
		}
		if got := judgeStatic(rules, tt.p); got != tt.want {
			t.Errorf("%s /files/a: %d, want %d", tt.method, got, tt.want)
		}
	}
}

func TestCompilePermissionRuleErrors(t *testing.T) {
	tests := []struct {
		name  string
		rules []Rule
		want  string
	}{
		{"no resource", []Rule{{Kind: KindPermission, Action: "read", Paths: []string{"/x"}}}, "needs a resource and an action"},
		{"no action", []Rule{{Kind: KindPermission, Resource: "files", Paths: []string{"/x"}}}, "needs a resource and an action"},
		{"resource on a role rule", []Rule{{Kind: KindRole, Role: "a", Resource: "files", Paths: []string{"/x"}}}, "resource and action belong to permission rules"},
		{"two permissions on one path", []Rule{
			{Kind: KindPermission, Resource: "files", Action: "read", Paths: []string{"/files/*"}},
			{Kind: KindPermission, Resource: "files", Action: "write", Paths: []string{"/FILES/*"}},
		}, `path "/files/*" is named by two rules with different requirements (permission files:read and permission files:write)`},
		{"role and permission on one path", []Rule{
			{Kind: KindRole, Role: "admin", Paths: []string{"/x"}},
			{Kind: KindPermission, Resource: "files", Action: "read", Paths: []string{"/x", "/y"}},
		}, "(role admin and permission files:read)"},
		{"two roles on one path", []Rule{
			{Kind: KindRole, Role: "admin", Paths: []string{"/x/*"}},
			{Kind: KindRole, Role: "ops", Paths: []string{"/x/*"}},
		}, "use a @matcher rule to require both"},
	}
	for _, tt := range tests {
		_, err := compileRules(testCtx(t), nil, tt.rules)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
	// The same requirement twice on a path is harmless, and so is an exact path beside a
	// wildcard with the same literal.
	mustRules(t,
		Rule{Kind: KindPermission, Resource: "files", Action: "read", Paths: []string{"/x", "/x"}},
		Rule{Kind: KindPermission, Resource: "files", Action: "read", Paths: []string{"/x"}},
		Rule{Kind: KindPermission, Resource: "files", Action: "write", Paths: []string{"/x*"}},
	)
}

// TestGatewayPermission drives `require permission files:read /files/*` through the handler:
// an API key with {"files":["read"]} passes; without the permission or as a session, 403
// with the JSON envelope; without a credential, 401 or the login redirect as for any rule.
func TestGatewayPermission(t *testing.T) {
	f := newFixture(t, &Handler{LoginURL: "/login", Rules: []Rule{
		{Kind: KindPermission, Resource: "files", Action: "read", Paths: []string{"/files/*"}},
		{Kind: KindPermission, Resource: "files", Action: "write", Paths: []string{"/upload"}},
	}})
	s := f.serve("GET", "/files/report.pdf", nil, "X-Fake-Key", "files-key")
	if s.rec.Code != http.StatusOK || f.up.calls != 1 || f.up.got.Header.Get("X-Auth-Api-Key-Id") != "key-2" ||
		f.up.got.Header.Get("X-Auth-Permissions") != "files:read" {
		t.Fatalf("files:read key on /files/*: %d, upstream calls %d, headers %v", s.rec.Code, f.up.calls, f.up.got.Header)
	}
	calls := f.up.calls
	s = f.serve("POST", "/upload", nil, "X-Fake-Key", "files-key")
	if s.rec.Code != http.StatusForbidden || s.envelope(t)["code"] != "FORBIDDEN" || s.envelope(t)["message"] != "Forbidden" {
		t.Errorf("files:read key on a files:write path: %d %s", s.rec.Code, s.rec.Body)
	}
	// A session has no key permissions: 403, never a redirect, even for a browser.
	ada := f.signUp("Ada", "ada@example.com")
	s = f.serve("GET", "/files/report.pdf", nil, "Cookie", ada.cookie, "Accept", "text/html")
	if s.rec.Code != http.StatusForbidden || s.envelope(t)["code"] != "FORBIDDEN" {
		t.Errorf("session on a permission path: %d %s", s.rec.Code, s.rec.Body)
	}
	s = f.serve("GET", "/files/report.pdf", nil, "X-Fake-Key", "bearer:u9")
	if s.rec.Code != http.StatusForbidden {
		t.Errorf("bearer session on a permission path: %d", s.rec.Code)
	}
	s = f.serve("GET", "/files/report.pdf", nil, "Accept", "application/json")
	if s.rec.Code != http.StatusUnauthorized || s.envelope(t)["code"] != "UNAUTHORIZED" {
		t.Errorf("no credential: %d, want 401", s.rec.Code)
	}
	s = f.serve("GET", "/files/report.pdf", nil, "Accept", "text/html")
	if s.rec.Code != http.StatusFound || !strings.HasPrefix(s.rec.Header().Get("Location"), "/login?") {
		t.Errorf("no credential, browser: %d Location %q, want the login redirect", s.rec.Code, s.rec.Header().Get("Location"))
	}
	s = f.serve("GET", "/files/x", nil, "X-Fake-Key", "anonymous")
	if s.rec.Code != http.StatusUnauthorized {
		t.Errorf("anonymous session: %d, want 401", s.rec.Code)
	}
	if f.up.calls != calls {
		t.Errorf("upstream reached by a refused request (%d calls)", f.up.calls-calls)
	}
}
