package caddymodule

import (
	"net/http"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/plugins/admin"
	"github.com/gatehouse-auth/gatehouse/plugins/organization"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// orgFixture: organizations "a" (owner alice, member mallory) and "b" (owner bob), a root
// administrator, and a site whose rules use every admin and organization form.
type orgFixture struct {
	*fixture
	root, alice, mallory, bob account
	orgA, orgB                string
}

func newOrgFixture(t *testing.T) *orgFixture {
	t.Helper()
	hd := &Handler{Rules: []Rule{
		{Kind: KindAdmin, Paths: []string{"/ops/*"}},
		{Kind: KindOrgMember, Paths: []string{"/app/*"}},
		{Kind: KindOrgRole, OrgRoles: []string{"owner", "admin"}, Paths: []string{"/settings/*"}},
		{Kind: KindOrgPermission, Resource: "member", Action: "delete", Paths: []string{"/members/*"}},
		{Kind: KindOrgMember, Paths: []string{"/orgs/*"}, OrgFrom: &OrgSource{From: OrgFromPath, Index: 2}},
		{Kind: KindOrgRole, OrgRoles: []string{"owner"}, Paths: []string{"/byid/*"}, OrgFrom: &OrgSource{From: OrgFromPath, Index: 2, By: "id"}},
		{Kind: KindOrgPermission, Resource: "organization", Action: "delete", Paths: []string{"/danger"}, OrgFrom: &OrgSource{From: OrgFromHost, Index: 1}},
	}}
	f := &orgFixture{fixture: newFixture(t, hd, authcoretest.WithPlugins(&admin.Plugin{}, &organization.Plugin{}))}
	f.root = f.signUp("Root", "root@example.com")
	f.alice = f.signUp("Alice", "alice@example.com")
	f.mallory = f.signUp("Mallory", "mallory@example.com")
	f.bob = f.signUp("Bob", "bob@example.com")
	if _, err := f.hn.Engine.UpdateUser(t.Context(), f.root.userID, storage.Record{"role": "admin"}); err != nil {
		t.Fatal(err)
	}
	f.orgA = f.createOrg(f.alice, "a")
	f.orgB = f.createOrg(f.bob, "b")
	f.addMember(f.orgA, f.mallory.userID, "member")
	return f
}

func (f *orgFixture) createOrg(owner account, slug string) string {
	f.t.Helper()
	res := owner.client.Post("/organization/create", map[string]any{"name": "Org " + slug, "slug": slug})
	id, _ := res.Object()["id"].(string)
	if res.StatusCode != http.StatusOK || id == "" {
		f.t.Fatalf("create %s: %d %s", slug, res.StatusCode, res.Body)
	}
	return id
}

// addMember stores a membership directly: the gateway's view of memberships is what is
// under test here, not the invitation routes (plugins/organization tests those).
func (f *orgFixture) addMember(orgID, userID, role string) {
	f.t.Helper()
	if _, err := f.hn.Engine.Store().Create(f.t.Context(), organization.ModelMember, storage.Record{
		"id": "m-" + userID + "-" + orgID, "organizationId": orgID, "userId": userID, "role": role, "createdAt": time.Now(),
	}); err != nil {
		f.t.Fatal(err)
	}
}

func (f *orgFixture) setActive(a account, orgID any) {
	f.t.Helper()
	if res := a.client.Post("/organization/set-active", map[string]any{"organizationId": orgID}); res.StatusCode != http.StatusOK {
		f.t.Fatalf("set-active %v: %d %s", orgID, res.StatusCode, res.Body)
	}
}

// get serves GET target for a (host "app.test" unless given as "host/path") and returns the
// status and, when the upstream was reached, the organization headers it received.
func (f *orgFixture) get(a account, target string, host ...string) (int, map[string]string) {
	f.t.Helper()
	before := f.up.calls
	hdr := []string{"Cookie", a.cookie}
	if len(host) > 0 {
		hdr = append(hdr, "Host", host[0])
	}
	s := f.serve("GET", target, nil, hdr...)
	if s.err != nil {
		f.t.Fatalf("GET %s: %v", target, s.err)
	}
	if f.up.calls == before {
		return s.rec.Code, nil
	}
	g := f.up.got.Header
	return s.rec.Code, map[string]string{"id": g.Get("X-Auth-Org-Id"), "slug": g.Get("X-Auth-Org-Slug"), "role": g.Get("X-Auth-Org-Role")}
}

func TestOrgRulesActiveOrganization(t *testing.T) {
	f := newOrgFixture(t)
	// Creating an organization made it active for its creator.
	if code, org := f.get(f.alice, "/app/x"); code != 200 || org["id"] != f.orgA || org["slug"] != "a" || org["role"] != "owner" {
		t.Fatalf("alice /app/x: %d %v", code, org)
	}
	// Mallory has no active organization yet: a member rule needs one.
	if code, _ := f.get(f.mallory, "/app/x"); code != 403 {
		t.Fatalf("mallory without an active org: %d, want 403", code)
	}
	f.setActive(f.mallory, f.orgA)
	if code, org := f.get(f.mallory, "/app/x"); code != 200 || org["id"] != f.orgA || org["role"] != "member" {
		t.Fatalf("mallory /app/x: %d %v", code, org)
	}
	for _, tt := range []struct {
		who    account
		target string
		want   int
	}{
		{f.alice, "/settings/x", 200}, {f.mallory, "/settings/x", 403},
		{f.alice, "/members/x", 200}, {f.mallory, "/members/x", 403},
		{f.mallory, "/ops/x", 403}, {f.alice, "/ops/x", 403}, {f.root, "/ops/x", 200},
	} {
		if code, _ := f.get(tt.who, tt.target); code != tt.want {
			t.Errorf("%s %s: %d, want %d", tt.who.userID, tt.target, code, tt.want)
		}
	}
	// ORG-02: mallory cannot make B active, and the headers keep naming A.
	if res := f.mallory.client.Post("/organization/set-active", map[string]any{"organizationId": f.orgB}); res.StatusCode < 400 {
		t.Fatalf("set-active B by a non-member: %d %s", res.StatusCode, res.Body)
	}
	if _, org := f.get(f.mallory, "/app/x"); org["id"] != f.orgA {
		t.Fatalf("after a refused set-active: %v", org)
	}
	// Removed from A (row deleted behind the plugin's back, as another node would): the
	// session still names A, but within the cache's TTL the gateway stops forwarding it.
	if _, err := f.hn.Engine.Store().DeleteMany(t.Context(), organization.ModelMember, storage.Eq("userId", f.mallory.userID)); err != nil {
		t.Fatal(err)
	}
	f.hn.Clock.Advance(10 * time.Second)
	code, org := f.get(f.mallory, "/app/x")
	if code != 403 || org != nil {
		t.Fatalf("removed member: %d %v, want 403 and nothing upstream", code, org)
	}
	// On an authenticated-only path the request passes without organization headers.
	if code, org := f.get(f.mallory, "/profile"); code != 200 || org["id"] != "" || org["role"] != "" {
		t.Fatalf("removed member on /profile: %d %v", code, org)
	}
}

// TestOrgRulesPerRequestTenant: the organization comes from the request; a member of A
// asking for B's path is refused before the upstream, whatever organization is active.
func TestOrgRulesPerRequestTenant(t *testing.T) {
	f := newOrgFixture(t)
	f.setActive(f.mallory, f.orgA)
	if code, org := f.get(f.mallory, "/orgs/a/projects"); code != 200 || org["id"] != f.orgA || org["slug"] != "a" || org["role"] != "member" {
		t.Fatalf("mallory /orgs/a: %d %v", code, org)
	}
	for _, target := range []string{"/orgs/b/projects", "/orgs/b", "/orgs/B/projects", "/orgs/" + f.orgB + "/x", "/orgs/nope/x", "/orgs/", "/orgs/a/../b/x"} {
		if code, org := f.get(f.mallory, target); code != 403 || org != nil {
			t.Errorf("mallory %s: %d %v, want 403 with nothing upstream", target, code, org)
		}
	}
	// Bob, whose active organization is B, reaches A's path? No: he is not a member of A.
	if code, _ := f.get(f.bob, "/orgs/a/x"); code != 403 {
		t.Fatalf("bob /orgs/a: %d, want 403", code)
	}
	if code, org := f.get(f.bob, "/orgs/b/x"); code != 200 || org["id"] != f.orgB || org["role"] != "owner" {
		t.Fatalf("bob /orgs/b: %d %v", code, org)
	}
	// Bob joins A as a member: on A's path the headers name A with his role there, even
	// though B stays his active organization. The row is written behind the plugin's back
	// (as by another node), so it counts once the cached "not a member" answer expires.
	f.addMember(f.orgA, f.bob.userID, "member")
	f.hn.Clock.Advance(10 * time.Second)
	if code, org := f.get(f.bob, "/orgs/a/x"); code != 200 || org["id"] != f.orgA || org["role"] != "member" {
		t.Fatalf("bob /orgs/a as a member: %d %v", code, org)
	}
	// By id: only the owner passes, and the slug is not accepted in place of the id.
	if code, _ := f.get(f.alice, "/byid/"+f.orgA+"/x"); code != 200 {
		t.Fatalf("alice /byid/<A id>: %d", code)
	}
	for _, tt := range []struct {
		who    account
		target string
	}{{f.alice, "/byid/a/x"}, {f.mallory, "/byid/" + f.orgA + "/x"}, {f.alice, "/byid/" + f.orgB + "/x"}} {
		if code, _ := f.get(tt.who, tt.target); code != 403 {
			t.Errorf("%s: %d, want 403", tt.target, code)
		}
	}
	// From the host: label 1, compared in lower case.
	if code, org := f.get(f.alice, "/danger", "A.app.test:8443"); code != 200 || org["id"] != f.orgA {
		t.Fatalf("alice on a.app.test: %d %v", code, org)
	}
	for _, host := range []string{"b.app.test", "app.test", "nope.app.test"} {
		if code, _ := f.get(f.alice, "/danger", host); code != 403 {
			t.Errorf("alice on %s: %d, want 403", host, code)
		}
	}
	if code, _ := f.get(f.mallory, "/danger", "a.app.test"); code != 403 {
		t.Fatalf("mallory (no organization:delete) on a.app.test: %d, want 403", code)
	}
	// No credential: 401, not 403.
	if s := f.serve("GET", "/orgs/a/x", nil); s.rec.Code != 401 {
		t.Fatalf("anonymous /orgs/a: %d, want 401", s.rec.Code)
	}
}

// BenchmarkOrgRules is the handler's own cost for a session request: an authenticated rule
// without the organization plugin, then with it and an active organization (membership
// confirmed from the plugin's cache), then a per-request tenant rule:
//
//	go test -run '^$' -bench OrgRules -benchmem ./caddymodule/
func BenchmarkOrgRules(b *testing.B) {
	for _, c := range []struct {
		name   string
		org    bool
		rule   Rule
		target string
	}{
		{"no-org-plugin", false, Rule{Kind: KindAuthenticated, Paths: []string{"/app/*"}}, "/app/x"},
		{"active-org", true, Rule{Kind: KindOrgMember, Paths: []string{"/app/*"}}, "/app/x"},
		{"org-permission", true, Rule{Kind: KindOrgPermission, Resource: "member", Action: "delete", Paths: []string{"/app/*"}}, "/app/x"},
		{"tenant-path", true, Rule{Kind: KindOrgMember, Paths: []string{"/orgs/*"}, OrgFrom: &OrgSource{From: OrgFromPath, Index: 2}}, "/orgs/bench/x"},
	} {
		b.Run(c.name, func(b *testing.B) {
			var opts []authcoretest.Option
			if c.org {
				opts = append(opts, authcoretest.WithPlugins(&organization.Plugin{}))
			}
			hn := authcoretest.New(b, opts...)
			h := &Handler{Rules: []Rule{c.rule}}
			ctx, cancel := caddy.NewContext(caddy.Context{Context: b.Context()})
			defer cancel()
			if err := h.provision(ctx, hn.Engine, zap.NewNop()); err != nil {
				b.Fatal(err)
			}
			cl, _ := hn.SignUp("Bench", "bench@example.com", testPassword)
			if c.org {
				if res := cl.Post("/organization/create", map[string]any{"name": "Bench", "slug": "bench"}); res.StatusCode != http.StatusOK {
					b.Fatalf("create: %d %s", res.StatusCode, res.Body)
				}
			}
			cookie := "better-auth.session_token=" + cl.CookieValue("better-auth.session_token")
			serve := func() {
				r, _ := http.NewRequest("GET", "http://app.example"+c.target, nil)
				r.Header.Set("Cookie", cookie)
				w := &discardWriter{h: http.Header{}, code: 200}
				if err := h.ServeHTTP(w, r, nopNext{}); err != nil || w.code != 200 {
					b.Fatalf("status %d, err %v", w.code, err)
				}
			}
			serve()
			b.ReportAllocs()
			for b.Loop() {
				serve()
			}
		})
	}
}

func TestNthField(t *testing.T) {
	for _, tt := range []struct {
		s    string
		n    int
		want string
	}{
		{"orgs/acme/x", 1, "orgs"}, {"orgs/acme/x", 2, "acme"}, {"orgs/acme/x", 3, "x"}, {"orgs/acme/x", 4, ""},
		{"orgs/", 2, ""}, {"", 1, ""}, {"acme", 1, "acme"}, {"a//b", 3, "b"}, {"a//b", 2, ""},
	} {
		if got := nthField(tt.s, '/', tt.n); got != tt.want {
			t.Errorf("nthField(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
	}
}
