package organization_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/plugins/organization"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// fix is a running engine with the organization plugin, and helpers that write
// organizations, members and teams straight into storage (the organization routes are
// another file's business).
type fix struct {
	t   *testing.T
	h   *authcoretest.Harness
	p   *organization.Plugin
	ids int
}

func newFix(t *testing.T, p *organization.Plugin, opts ...authcoretest.Option) *fix {
	t.Helper()
	h := authcoretest.New(t, append([]authcoretest.Option{authcoretest.WithPlugins(p)}, opts...)...)
	return &fix{t: t, h: h, p: p}
}

func (f *fix) store() storage.Adapter { return f.h.Engine.Store() }

func (f *fix) newID(prefix string) string { f.ids++; return fmt.Sprintf("%s-%d", prefix, f.ids) }

// user signs a user up and returns their client and id.
func (f *fix) user(name string) (*authcoretest.Client, string) {
	f.t.Helper()
	c, u := f.h.SignUp(name, strings.ToLower(name)+"@example.com", pw)
	id, _ := u["user"].(map[string]any)["id"].(string)
	if id == "" {
		f.t.Fatalf("sign-up %s: no user id in %v", name, u)
	}
	return c, id
}

func (f *fix) create(model string, rec storage.Record) storage.Record {
	f.t.Helper()
	out, err := f.store().Create(context.Background(), model, rec)
	if err != nil {
		f.t.Fatalf("create %s: %v", model, err)
	}
	return out
}

func (f *fix) now() time.Time { return f.h.Clock.Now() }

// org stores an organization and returns its id.
func (f *fix) org(slug string) string {
	id := f.newID("org")
	f.create(organization.ModelOrganization, storage.Record{"id": id, "name": slug, "slug": slug, "createdAt": f.now()})
	return id
}

// member stores a membership and returns its id.
func (f *fix) member(orgID, userID, role string) string {
	id := f.newID("mem")
	f.create(organization.ModelMember, storage.Record{"id": id, "organizationId": orgID, "userId": userID, "role": role, "createdAt": f.now()})
	return id
}

// team stores a team and returns its id.
func (f *fix) team(orgID, name string) string {
	id := f.newID("team")
	f.create(organization.ModelTeam, storage.Record{"id": id, "name": name, "organizationId": orgID, "createdAt": f.now(), "updatedAt": f.now()})
	return id
}

// join stores a team membership.
func (f *fix) join(teamID, userID string) {
	f.create(organization.ModelTeamMember, storage.Record{"id": f.newID("tm"), "teamId": teamID, "userId": userID, "createdAt": f.now()})
}

// activate sets the active organization and team of every session of userID.
func (f *fix) activate(userID, orgID, teamID string) {
	f.t.Helper()
	set := storage.Record{organization.FieldActiveOrganizationID: nilIf(orgID), organization.FieldActiveTeamID: nilIf(teamID)}
	if _, err := f.store().UpdateMany(context.Background(), authcore.ModelSession, storage.Eq("userId", userID), set); err != nil {
		f.t.Fatal(err)
	}
}

func nilIf(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (f *fix) count(model string, where storage.Where) int {
	f.t.Helper()
	n, err := f.store().Count(context.Background(), model, where)
	if err != nil {
		f.t.Fatal(err)
	}
	return n
}

func (f *fix) get(model, id string) storage.Record {
	f.t.Helper()
	rec, err := f.store().FindOne(context.Background(), model, storage.ByID(id))
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		f.t.Fatal(err)
	}
	return rec
}

func (f *fix) all(model string) []storage.Record {
	f.t.Helper()
	recs, err := f.store().FindMany(context.Background(), model, storage.Query{Sort: []storage.SortField{{Field: "id"}}})
	if err != nil {
		f.t.Fatal(err)
	}
	return recs
}

func (f *fix) sessionsOf(userID string) []storage.Record {
	f.t.Helper()
	recs, err := f.store().FindMany(context.Background(), authcore.ModelSession, storage.Query{Where: storage.Eq("userId", userID)})
	if err != nil {
		f.t.Fatal(err)
	}
	return recs
}

// wantErr asserts an error envelope with exactly this status and code.
func wantErr(t *testing.T, what string, r *authcoretest.Response, status int, code string) {
	t.Helper()
	if r.StatusCode != status || r.Code() != code {
		t.Fatalf("%s: got %d %s, want %d %s", what, r.StatusCode, r.Body, status, code)
	}
}

func wantOK(t *testing.T, what string, r *authcoretest.Response) {
	t.Helper()
	if r.StatusCode != http.StatusOK {
		t.Fatalf("%s: got %d %s", what, r.StatusCode, r.Body)
	}
}

// wantClientError asserts a 4xx JSON envelope (never a 500).
func wantClientError(t *testing.T, what string, r *authcoretest.Response) {
	t.Helper()
	if r.StatusCode < 400 || r.StatusCode >= 500 || r.Object() == nil {
		t.Fatalf("%s: got %d %.200s, want a 4xx envelope", what, r.StatusCode, r.Body)
	}
}

// barrier is a hook that holds every caller until n of them have arrived, so that
// concurrent requests all pass their early checks before any of them writes: only the
// check inside the write can then keep a limit.
func barrier(n int) organization.Hook {
	var mu sync.Mutex
	arrived := 0
	gate := make(chan struct{})
	return func(ctx context.Context, _ *organization.HookEvent) error {
		mu.Lock()
		arrived++
		if arrived == n {
			close(gate)
		}
		mu.Unlock()
		select {
		case <-gate:
		case <-ctx.Done():
		case <-time.After(10 * time.Second): // a bug elsewhere must fail the test, not hang it
		}
		return nil
	}
}

// forStores runs a test on the memory store and on bbolt: limits rely on each store's
// transactions.
func forStores(t *testing.T, run func(t *testing.T, opts ...authcoretest.Option)) {
	t.Run("memory", func(t *testing.T) { run(t) })
	t.Run("bolt", func(t *testing.T) { run(t, authcoretest.WithBolt()) })
}

func teamsPlugin() *organization.Plugin {
	return &organization.Plugin{Teams: organization.Teams{Enabled: true}}
}

// teamEnv is an organization A with an owner, an admin and a plain member, a second
// organization B with its own owner, and one team in each.
type teamEnv struct {
	*fix
	orgA, orgB                       string
	owner, admin, plain, ownerB      *authcoretest.Client
	ownerID, adminID, plainID, bID   string
	teamA, teamB                     string
	outsider                         *authcoretest.Client
	outsiderID                       string
	ownerMem, adminMem, plainMem, bM string
}

func newTeamEnv(t *testing.T, p *organization.Plugin, opts ...authcoretest.Option) *teamEnv {
	t.Helper()
	e := &teamEnv{fix: newFix(t, p, opts...)}
	e.owner, e.ownerID = e.user("Owner")
	e.admin, e.adminID = e.user("Admin")
	e.plain, e.plainID = e.user("Plain")
	e.ownerB, e.bID = e.user("OwnerB")
	e.outsider, e.outsiderID = e.user("Outsider")
	e.orgA, e.orgB = e.org("org-a"), e.org("org-b")
	e.ownerMem = e.member(e.orgA, e.ownerID, "owner")
	e.adminMem = e.member(e.orgA, e.adminID, "admin")
	e.plainMem = e.member(e.orgA, e.plainID, "member")
	e.bM = e.member(e.orgB, e.bID, "owner")
	e.teamA, e.teamB = e.team(e.orgA, "alpha"), e.team(e.orgB, "beta")
	for _, id := range []string{e.ownerID, e.adminID, e.plainID} {
		e.activate(id, e.orgA, "")
	}
	e.activate(e.bID, e.orgB, "")
	return e
}

func TestTeamRoutesOnlyWhenEnabled(t *testing.T) {
	f := newFix(t, &organization.Plugin{})
	c, _ := f.user("Solo")
	for _, path := range []string{organization.PathCreateTeam, organization.PathRemoveTeam, organization.PathUpdateTeam,
		organization.PathSetActiveTeam, organization.PathAddTeamMember, organization.PathRemoveTeamMember} {
		if r := c.Post(path, map[string]any{}); r.StatusCode != http.StatusNotFound {
			t.Errorf("%s without teams: %d", path, r.StatusCode)
		}
	}
	for _, path := range []string{organization.PathListTeams, organization.PathListUserTeams, organization.PathListTeamMembers} {
		if r := c.Get(path); r.StatusCode != http.StatusNotFound {
			t.Errorf("%s without teams: %d", path, r.StatusCode)
		}
	}
}

func TestCreateTeam(t *testing.T) {
	var afterTeam storage.Record
	p := teamsPlugin()
	p.Teams.MaximumTeams = 3
	p.BeforeCreateTeam = func(_ context.Context, ev *organization.HookEvent) error {
		if ev.Team.String("name") == "forbidden" {
			return authcore.NewError(http.StatusTeapot, "no")
		}
		if ev.Organization == nil || ev.User == nil {
			return errors.New("hook event without organization or user")
		}
		return nil
	}
	p.AfterCreateTeam = func(_ context.Context, ev *organization.HookEvent) error { afterTeam = ev.Team; return nil }
	e := newTeamEnv(t, p)

	r := e.admin.Post(organization.PathCreateTeam, map[string]any{"name": "Design"})
	wantOK(t, "admin creates in the active org", r)
	got := r.Object()
	for _, k := range []string{"id", "name", "organizationId", "createdAt", "updatedAt"} {
		if got[k] == nil {
			t.Errorf("team JSON lacks %s: %v", k, got)
		}
	}
	if got["name"] != "Design" || got["organizationId"] != e.orgA {
		t.Fatalf("team: %v", got)
	}
	if rec := e.get(organization.ModelTeam, got["id"].(string)); rec == nil || rec.String("organizationId") != e.orgA {
		t.Fatalf("stored team: %v", rec)
	}
	if afterTeam == nil || afterTeam.ID() != got["id"] {
		t.Fatalf("after hook saw %v", afterTeam)
	}

	// Explicit organizationId.
	wantOK(t, "owner B in B", e.ownerB.Post(organization.PathCreateTeam, map[string]any{"name": "B2", "organizationId": e.orgB}))

	before := e.count(organization.ModelTeam, storage.Eq("organizationId", e.orgA))
	wantErr(t, "plain member", e.plain.Post(organization.PathCreateTeam, map[string]any{"name": "x"}),
		403, "YOU_ARE_NOT_ALLOWED_TO_CREATE_TEAMS_IN_THIS_ORGANIZATION")
	// Cross-tenant: B's owner names A.
	wantErr(t, "owner of B in A", e.ownerB.Post(organization.PathCreateTeam, map[string]any{"name": "x", "organizationId": e.orgA}),
		403, "YOU_ARE_NOT_ALLOWED_TO_INVITE_USERS_TO_THIS_ORGANIZATION")
	wantErr(t, "unknown org", e.owner.Post(organization.PathCreateTeam, map[string]any{"name": "x", "organizationId": "nope"}),
		403, "YOU_ARE_NOT_ALLOWED_TO_INVITE_USERS_TO_THIS_ORGANIZATION")
	wantErr(t, "no active org", e.outsider.Post(organization.PathCreateTeam, map[string]any{"name": "x"}),
		400, "NO_ACTIVE_ORGANIZATION")
	if r := e.h.Client().Post(organization.PathCreateTeam, map[string]any{"name": "x", "organizationId": e.orgA}); r.StatusCode != 401 {
		t.Fatalf("no session: %d", r.StatusCode)
	}
	if r := e.owner.Post(organization.PathCreateTeam, map[string]any{"name": "forbidden"}); r.StatusCode != http.StatusTeapot {
		t.Fatalf("before hook refusal: %d %s", r.StatusCode, r.Body)
	}
	if n := e.count(organization.ModelTeam, storage.Eq("organizationId", e.orgA)); n != before {
		t.Fatalf("refused creations stored teams: %d → %d", before, n)
	}

	// alpha + Design = 2; a third fits, a fourth does not.
	wantOK(t, "third team", e.owner.Post(organization.PathCreateTeam, map[string]any{"name": "third"}))
	wantErr(t, "fourth team", e.owner.Post(organization.PathCreateTeam, map[string]any{"name": "fourth"}),
		400, "YOU_HAVE_REACHED_THE_MAXIMUM_NUMBER_OF_TEAMS")
	if n := e.count(organization.ModelTeam, storage.Eq("organizationId", e.orgA)); n != 3 {
		t.Fatalf("teams in A: %d", n)
	}
}

// The team limit holds under concurrent creations.
func TestCreateTeamLimitConcurrent(t *testing.T) {
	forStores(t, func(t *testing.T, opts ...authcoretest.Option) {
		p := teamsPlugin()
		p.Teams.MaximumTeams = 3
		p.BeforeCreateTeam = barrier(20)
		e := newTeamEnv(t, p, opts...) // A already has one team
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok := 0
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := e.owner.Post(organization.PathCreateTeam, map[string]any{"name": fmt.Sprintf("t%d", i)})
				if r.StatusCode == 200 {
					mu.Lock()
					ok++
					mu.Unlock()
				} else if r.Code() != "YOU_HAVE_REACHED_THE_MAXIMUM_NUMBER_OF_TEAMS" {
					t.Errorf("concurrent create: %d %s", r.StatusCode, r.Body)
				}
			}()
		}
		wg.Wait()
		if n := e.count(organization.ModelTeam, storage.Eq("organizationId", e.orgA)); ok != 2 || n != 3 {
			t.Fatalf("%d creations succeeded, %d teams stored; want 2 and 3", ok, n)
		}
	})
}

func TestRemoveTeam(t *testing.T) {
	var deleted []string
	p := teamsPlugin()
	p.AfterDeleteTeam = func(_ context.Context, ev *organization.HookEvent) error {
		deleted = append(deleted, ev.Team.ID())
		return nil
	}
	e := newTeamEnv(t, p)

	wantErr(t, "last team", e.owner.Post(organization.PathRemoveTeam, map[string]any{"teamId": e.teamA}),
		400, "UNABLE_TO_REMOVE_LAST_TEAM")
	second := e.team(e.orgA, "second")
	e.join(second, e.plainID)
	e.join(e.teamA, e.plainID)
	e.activate(e.plainID, e.orgA, second)
	// Pending invitations naming the team lose it; other teams stay.
	inv1 := e.create(organization.ModelInvitation, storage.Record{"id": "inv1", "organizationId": e.orgA, "email": "x@example.com",
		"role": "member", "teamId": second + "," + e.teamA, "status": "pending", "expiresAt": e.now().Add(time.Hour), "inviterId": e.ownerID, "createdAt": e.now()})
	inv2 := e.create(organization.ModelInvitation, storage.Record{"id": "inv2", "organizationId": e.orgA, "email": "y@example.com",
		"role": "member", "teamId": second, "status": "pending", "expiresAt": e.now().Add(time.Hour), "inviterId": e.ownerID, "createdAt": e.now()})

	wantErr(t, "plain member", e.plain.Post(organization.PathRemoveTeam, map[string]any{"teamId": e.teamA}),
		403, "YOU_ARE_NOT_ALLOWED_TO_DELETE_TEAMS_IN_THIS_ORGANIZATION")
	// Cross-tenant: B's team addressed from A, and A addressed by B's owner.
	wantErr(t, "B's team via A", e.owner.Post(organization.PathRemoveTeam, map[string]any{"teamId": e.teamB}),
		400, "TEAM_NOT_FOUND")
	wantErr(t, "B's team via B", e.owner.Post(organization.PathRemoveTeam, map[string]any{"teamId": e.teamB, "organizationId": e.orgB}),
		403, "YOU_ARE_NOT_ALLOWED_TO_DELETE_THIS_TEAM")
	wantErr(t, "unknown team", e.owner.Post(organization.PathRemoveTeam, map[string]any{"teamId": "nope"}),
		400, "TEAM_NOT_FOUND")
	wantErr(t, "no active org", e.outsider.Post(organization.PathRemoveTeam, map[string]any{"teamId": e.teamA}),
		400, "NO_ACTIVE_ORGANIZATION")
	if e.get(organization.ModelTeam, e.teamB) == nil {
		t.Fatal("B's team was removed")
	}
	// Better Auth refuses to remove the caller's active team.
	e.activate(e.ownerID, e.orgA, second)
	wantErr(t, "own active team", e.owner.Post(organization.PathRemoveTeam, map[string]any{"teamId": second}),
		403, "YOU_ARE_NOT_ALLOWED_TO_DELETE_THIS_TEAM")
	e.activate(e.ownerID, e.orgA, "")

	r := e.admin.Post(organization.PathRemoveTeam, map[string]any{"teamId": second})
	wantOK(t, "admin removes", r)
	if r.Object()["message"] != "Team removed successfully." {
		t.Fatalf("body: %s", r.Body)
	}
	if e.get(organization.ModelTeam, second) != nil || e.count(organization.ModelTeamMember, storage.Eq("teamId", second)) != 0 {
		t.Fatal("team or its members left behind")
	}
	for _, s := range e.sessionsOf(e.plainID) {
		if s.Has(organization.FieldActiveTeamID) {
			t.Fatalf("session still has the removed team active: %v", s)
		}
	}
	if got := e.get(organization.ModelInvitation, inv1.ID()).String("teamId"); got != e.teamA {
		t.Fatalf("invitation 1 teams: %q", got)
	}
	if got := e.get(organization.ModelInvitation, inv2.ID()); got.Has("teamId") {
		t.Fatalf("invitation 2 still names a team: %v", got)
	}
	if len(deleted) != 1 || deleted[0] != second {
		t.Fatalf("after hook: %v", deleted)
	}
	if e.count(organization.ModelTeamMember, storage.Eq("teamId", e.teamA)) != 1 {
		t.Fatal("other team's members touched")
	}
}

func TestRemoveLastTeamAllowed(t *testing.T) {
	p := teamsPlugin()
	p.Teams.AllowRemovingAllTeams = true
	e := newTeamEnv(t, p)
	wantOK(t, "last team", e.owner.Post(organization.PathRemoveTeam, map[string]any{"teamId": e.teamA}))
	if e.count(organization.ModelTeam, storage.Eq("organizationId", e.orgA)) != 0 {
		t.Fatal("team kept")
	}
}

// Two concurrent removals of the last two teams leave one.
func TestRemoveTeamLastConcurrent(t *testing.T) {
	forStores(t, func(t *testing.T, opts ...authcoretest.Option) {
		p := teamsPlugin()
		p.BeforeDeleteTeam = barrier(6)
		e := newTeamEnv(t, p, opts...)
		ids := []string{e.teamA}
		for i := range 5 {
			ids = append(ids, e.team(e.orgA, fmt.Sprint(i)))
		}
		var wg sync.WaitGroup
		for _, id := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := e.owner.Post(organization.PathRemoveTeam, map[string]any{"teamId": id})
				if r.StatusCode != 200 && r.Code() != "UNABLE_TO_REMOVE_LAST_TEAM" {
					t.Errorf("remove: %d %s", r.StatusCode, r.Body)
				}
			}()
		}
		wg.Wait()
		if n := e.count(organization.ModelTeam, storage.Eq("organizationId", e.orgA)); n != 1 {
			t.Fatalf("%d teams left, want 1", n)
		}
	})
}

func TestUpdateTeam(t *testing.T) {
	var seen storage.Record
	p := teamsPlugin()
	p.BeforeUpdateTeam = func(_ context.Context, ev *organization.HookEvent) error { seen = ev.Team; return nil }
	e := newTeamEnv(t, p)
	e.h.Clock.Advance(time.Minute)

	r := e.admin.Post(organization.PathUpdateTeam, map[string]any{"teamId": e.teamA, "data": map[string]any{"name": "Renamed"}})
	wantOK(t, "admin renames", r)
	if r.Object()["name"] != "Renamed" || r.Object()["id"] != e.teamA {
		t.Fatalf("body: %s", r.Body)
	}
	rec := e.get(organization.ModelTeam, e.teamA)
	if rec.String("name") != "Renamed" || !rec.Time("updatedAt").Equal(e.now()) {
		t.Fatalf("stored: %v", rec)
	}
	if seen.String("name") != "Renamed" {
		t.Fatalf("before hook saw %v", seen)
	}
	// data.organizationId picks the organization, as in Better Auth.
	wantOK(t, "via data.organizationId", e.ownerB.Post(organization.PathUpdateTeam,
		map[string]any{"teamId": e.teamB, "data": map[string]any{"name": "B!", "organizationId": e.orgB}}))

	wantErr(t, "plain member", e.plain.Post(organization.PathUpdateTeam, map[string]any{"teamId": e.teamA, "data": map[string]any{"name": "x"}}),
		403, "YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_TEAM")
	wantErr(t, "B's team via A", e.owner.Post(organization.PathUpdateTeam, map[string]any{"teamId": e.teamB, "data": map[string]any{"name": "pwned"}}),
		400, "TEAM_NOT_FOUND")
	wantErr(t, "B's team via B", e.owner.Post(organization.PathUpdateTeam,
		map[string]any{"teamId": e.teamB, "data": map[string]any{"name": "pwned", "organizationId": e.orgB}}),
		403, "YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_TEAM")
	wantErr(t, "no active org", e.outsider.Post(organization.PathUpdateTeam, map[string]any{"teamId": e.teamA, "data": map[string]any{}}),
		400, "NO_ACTIVE_ORGANIZATION")
	if got := e.get(organization.ModelTeam, e.teamB).String("name"); got != "B!" {
		t.Fatalf("B's team renamed to %q", got)
	}
	for _, body := range []map[string]any{
		{"teamId": e.teamA, "data": map[string]any{"name": 7}},
		{"teamId": e.teamA, "data": map[string]any{"name": strings.Repeat("n", 10240)}},
		{"teamId": e.teamA, "data": map[string]any{"name": ""}},
		{"teamId": e.teamA, "data": map[string]any{"organizationId": []any{1}}},
		{"teamId": e.teamA, "data": "x"},
		{"teamId": 5, "data": map[string]any{}},
	} {
		wantClientError(t, fmt.Sprint("hostile update ", body["data"]), e.owner.Post(organization.PathUpdateTeam, body))
	}
	if got := e.get(organization.ModelTeam, e.teamA).String("name"); got != "Renamed" {
		t.Fatalf("hostile updates changed the name to %q", got)
	}
}

func TestListTeams(t *testing.T) {
	e := newTeamEnv(t, teamsPlugin())
	extra := e.team(e.orgA, "extra")
	r := e.plain.Get(organization.PathListTeams)
	wantOK(t, "member lists", r)
	list, _ := r.JSON().([]any)
	if len(list) != 2 || list[0].(map[string]any)["id"] != e.teamA || list[1].(map[string]any)["id"] != extra {
		t.Fatalf("list: %s", r.Body)
	}
	wantOK(t, "explicit org", e.ownerB.Get(organization.PathListTeams+"?organizationId="+e.orgB))
	wantErr(t, "cross-tenant", e.ownerB.Get(organization.PathListTeams+"?organizationId="+e.orgA),
		403, "YOU_ARE_NOT_ALLOWED_TO_ACCESS_THIS_ORGANIZATION")
	wantErr(t, "no active org", e.outsider.Get(organization.PathListTeams), 400, "NO_ACTIVE_ORGANIZATION")
}

func TestSetActiveTeam(t *testing.T) {
	e := newTeamEnv(t, teamsPlugin())
	other := e.team(e.orgA, "other")
	e.join(e.teamA, e.plainID)

	// Absent teamId without an active team: null, nothing changes.
	for _, body := range []any{map[string]any{}, map[string]any{"teamId": ""}} {
		r := e.plain.Post(organization.PathSetActiveTeam, body)
		wantOK(t, "no team", r)
		if string(r.Body) != "null" {
			t.Fatalf("body: %s", r.Body)
		}
	}
	r := e.plain.Post(organization.PathSetActiveTeam, map[string]any{"teamId": e.teamA})
	wantOK(t, "set", r)
	if r.Object()["id"] != e.teamA {
		t.Fatalf("body: %s", r.Body)
	}
	if _, ok := r.SetCookie("better-auth.session_token"); !ok {
		t.Fatal("session cookie not re-issued")
	}
	for _, s := range e.sessionsOf(e.plainID) {
		if s.String(organization.FieldActiveTeamID) != e.teamA || s.String(organization.FieldActiveOrganizationID) != e.orgA {
			t.Fatalf("session: %v", s)
		}
	}
	wantErr(t, "not in team", e.plain.Post(organization.PathSetActiveTeam, map[string]any{"teamId": other}),
		403, "USER_IS_NOT_A_MEMBER_OF_THE_TEAM")
	wantErr(t, "other org's team", e.plain.Post(organization.PathSetActiveTeam, map[string]any{"teamId": e.teamB}),
		400, "TEAM_NOT_FOUND")
	wantErr(t, "unknown", e.plain.Post(organization.PathSetActiveTeam, map[string]any{"teamId": "nope"}),
		400, "TEAM_NOT_FOUND")
	// A stray team membership without the organization membership does not count.
	e.join(e.teamB, e.ownerID)
	e.activate(e.ownerID, e.orgB, "")
	wantErr(t, "team member, not org member", e.owner.Post(organization.PathSetActiveTeam, map[string]any{"teamId": e.teamB}),
		403, "USER_IS_NOT_A_MEMBER_OF_THE_TEAM")
	for _, s := range e.sessionsOf(e.plainID) {
		if s.String(organization.FieldActiveTeamID) != e.teamA {
			t.Fatalf("refused calls changed the session: %v", s)
		}
	}
	// An absent teamId re-checks the active team: gone from the team, the call is refused.
	wantOK(t, "re-check", e.plain.Post(organization.PathSetActiveTeam, map[string]any{}))
	if _, err := e.store().DeleteMany(context.Background(), organization.ModelTeamMember, storage.Eq("userId", e.plainID)); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "re-check after leaving the team", e.plain.Post(organization.PathSetActiveTeam, map[string]any{}),
		403, "USER_IS_NOT_A_MEMBER_OF_THE_TEAM")
	// null unsets the team, keeps the organization.
	r = e.plain.Post(organization.PathSetActiveTeam, map[string]any{"teamId": nil})
	wantOK(t, "unset", r)
	if string(r.Body) != "null" {
		t.Fatalf("body: %s", r.Body)
	}
	for _, s := range e.sessionsOf(e.plainID) {
		if s.Has(organization.FieldActiveTeamID) || s.String(organization.FieldActiveOrganizationID) != e.orgA {
			t.Fatalf("session after unset: %v", s)
		}
	}
	e.activate(e.outsiderID, "", "")
	wantErr(t, "no active org", e.outsider.Post(organization.PathSetActiveTeam, map[string]any{"teamId": e.teamA}),
		400, "NO_ACTIVE_ORGANIZATION")
	wantClientError(t, "number", e.plain.Post(organization.PathSetActiveTeam, map[string]any{"teamId": 3}))
}

func ids(t *testing.T, r *authcoretest.Response) []string {
	t.Helper()
	list, ok := r.JSON().([]any)
	if !ok {
		t.Fatalf("not a list: %s", r.Body)
	}
	out := []string{}
	for _, x := range list {
		out = append(out, x.(map[string]any)["id"].(string))
	}
	return out
}

func TestListUserTeams(t *testing.T) {
	e := newTeamEnv(t, teamsPlugin())
	e.member(e.orgB, e.plainID, "member")
	orgC := e.org("org-c")
	teamC := e.team(orgC, "gamma")
	e.join(e.teamA, e.plainID)
	e.join(e.teamB, e.plainID)
	e.join(teamC, e.plainID) // stray: plain is not a member of C

	r := e.plain.Get(organization.PathListUserTeams)
	wantOK(t, "self", r)
	if got := ids(t, r); !reflect.DeepEqual(got, []string{e.teamA, e.teamB}) {
		t.Fatalf("self teams: %v", got)
	}
	r = e.plain.Get(organization.PathListUserTeams + "?organizationId=" + e.orgB)
	wantOK(t, "self in B", r)
	if got := ids(t, r); !reflect.DeepEqual(got, []string{e.teamB}) {
		t.Fatalf("self teams in B: %v", got)
	}
	wantErr(t, "self in C", e.plain.Get(organization.PathListUserTeams+"?organizationId="+orgC),
		403, "YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION")

	other := "?userId=" + e.plainID
	r = e.admin.Get(organization.PathListUserTeams + other)
	wantOK(t, "admin lists plain's teams in A", r)
	if got := ids(t, r); !reflect.DeepEqual(got, []string{e.teamA}) {
		t.Fatalf("plain's teams seen by admin: %v", got)
	}
	wantErr(t, "member lists admin's", e.plain.Get(organization.PathListUserTeams+"?userId="+e.adminID),
		403, "YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_MEMBER")
	wantErr(t, "B's owner lists plain's teams in A", e.ownerB.Get(organization.PathListUserTeams+other+"&organizationId="+e.orgA),
		403, "YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION")
	wantErr(t, "target outside org", e.admin.Get(organization.PathListUserTeams+"?userId="+e.bID),
		400, "USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION")
	wantErr(t, "no org", e.outsider.Get(organization.PathListUserTeams+other), 400, "NO_ACTIVE_ORGANIZATION")
}

func TestListTeamMembers(t *testing.T) {
	e := newTeamEnv(t, teamsPlugin())
	e.join(e.teamA, e.plainID)
	e.join(e.teamA, e.adminID)
	e.join(e.teamB, e.plainID) // stray row: plain is not in B

	wantErr(t, "no active team", e.plain.Get(organization.PathListTeamMembers), 400, "YOU_DO_NOT_HAVE_AN_ACTIVE_TEAM")
	r := e.plain.Get(organization.PathListTeamMembers + "?teamId=" + e.teamA)
	wantOK(t, "team member lists", r)
	list, _ := r.JSON().([]any)
	if len(list) != 2 {
		t.Fatalf("members: %s", r.Body)
	}
	for _, x := range list {
		m := x.(map[string]any)
		if m["teamId"] != e.teamA || m["userId"] == nil || m["id"] == nil || m["createdAt"] == nil {
			t.Fatalf("team member JSON: %v", m)
		}
	}
	e.activate(e.plainID, e.orgA, e.teamA)
	wantOK(t, "active team", e.plain.Get(organization.PathListTeamMembers))
	wantErr(t, "org member outside the team", e.owner.Get(organization.PathListTeamMembers+"?teamId="+e.teamA),
		400, "USER_IS_NOT_A_MEMBER_OF_THE_TEAM")
	wantErr(t, "stray row, not an org member", e.plain.Get(organization.PathListTeamMembers+"?teamId="+e.teamB),
		400, "USER_IS_NOT_A_MEMBER_OF_THE_TEAM")
	wantErr(t, "unknown", e.plain.Get(organization.PathListTeamMembers+"?teamId=nope"), 400, "TEAM_NOT_FOUND")
}

func TestAddTeamMember(t *testing.T) {
	var added []string
	p := teamsPlugin()
	p.Teams.MaximumMembersPerTeam = 2
	p.BeforeAddTeamMember = func(_ context.Context, ev *organization.HookEvent) error {
		if ev.Team == nil || ev.Organization == nil || ev.TeamMember.String("userId") != ev.User.ID() {
			return errors.New("bad hook event")
		}
		return nil
	}
	p.AfterAddTeamMember = func(_ context.Context, ev *organization.HookEvent) error {
		added = append(added, ev.TeamMember.String("userId"))
		return nil
	}
	e := newTeamEnv(t, p)

	r := e.admin.Post(organization.PathAddTeamMember, map[string]any{"teamId": e.teamA, "userId": e.plainID})
	wantOK(t, "admin adds", r)
	got := r.Object()
	if got["teamId"] != e.teamA || got["userId"] != e.plainID || got["id"] == nil || got["createdAt"] == nil {
		t.Fatalf("body: %s", r.Body)
	}
	// Again: the same membership, no second row.
	r = e.admin.Post(organization.PathAddTeamMember, map[string]any{"teamId": e.teamA, "userId": e.plainID})
	wantOK(t, "again", r)
	if r.Object()["id"] != got["id"] || e.count(organization.ModelTeamMember, storage.Eq("teamId", e.teamA)) != 1 {
		t.Fatalf("second add: %s", r.Body)
	}
	wantErr(t, "plain member", e.plain.Post(organization.PathAddTeamMember, map[string]any{"teamId": e.teamA, "userId": e.adminID}),
		403, "YOU_ARE_NOT_ALLOWED_TO_CREATE_A_NEW_TEAM_MEMBER")
	wantErr(t, "target outside org", e.owner.Post(organization.PathAddTeamMember, map[string]any{"teamId": e.teamA, "userId": e.outsiderID}),
		400, "USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION")
	wantErr(t, "B's team via A", e.owner.Post(organization.PathAddTeamMember, map[string]any{"teamId": e.teamB, "userId": e.plainID}),
		400, "TEAM_NOT_FOUND")
	wantErr(t, "A's team by B's owner", e.ownerB.Post(organization.PathAddTeamMember,
		map[string]any{"teamId": e.teamA, "userId": e.bID, "organizationId": e.orgA}),
		400, "USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION")
	wantErr(t, "no active org", e.outsider.Post(organization.PathAddTeamMember, map[string]any{"teamId": e.teamA, "userId": e.plainID}),
		400, "NO_ACTIVE_ORGANIZATION")
	if e.count(organization.ModelTeamMember, storage.Eq("teamId", e.teamB)) != 0 {
		t.Fatal("B's team gained members")
	}
	wantOK(t, "second member", e.owner.Post(organization.PathAddTeamMember, map[string]any{"teamId": e.teamA, "userId": e.adminID}))
	wantErr(t, "full team", e.owner.Post(organization.PathAddTeamMember, map[string]any{"teamId": e.teamA, "userId": e.ownerID}),
		403, "TEAM_MEMBER_LIMIT_REACHED")
	if n := e.count(organization.ModelTeamMember, storage.Eq("teamId", e.teamA)); n != 2 {
		t.Fatalf("team size %d", n)
	}
	if len(added) != 3 {
		t.Fatalf("after hooks: %v", added)
	}
	for _, body := range []map[string]any{
		{"teamId": e.teamA, "userId": 12},
		{"teamId": []any{e.teamA}, "userId": e.plainID},
		{"teamId": e.teamA, "userId": strings.Repeat("u", 10240)},
		{"teamId": e.teamA},
	} {
		wantClientError(t, fmt.Sprint("hostile add ", body), e.owner.Post(organization.PathAddTeamMember, body))
	}
}

// The team size limit holds under concurrent additions.
func TestAddTeamMemberLimitConcurrent(t *testing.T) {
	forStores(t, func(t *testing.T, opts ...authcoretest.Option) {
		p := teamsPlugin()
		p.Teams.MaximumMembersPerTeam = 3
		p.BeforeAddTeamMember = barrier(20)
		e := newTeamEnv(t, p, opts...)
		var users []string
		for i := range 20 {
			id := fmt.Sprintf("u%d", i)
			e.create(authcore.ModelUser, storage.Record{"id": id, "name": id, "email": id + "@example.com", "emailVerified": false,
				"createdAt": e.now(), "updatedAt": e.now()})
			e.member(e.orgA, id, "member")
			users = append(users, id)
		}
		var wg sync.WaitGroup
		for _, id := range users {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := e.owner.Post(organization.PathAddTeamMember, map[string]any{"teamId": e.teamA, "userId": id})
				if r.StatusCode != 200 && r.Code() != "TEAM_MEMBER_LIMIT_REACHED" {
					t.Errorf("add: %d %s", r.StatusCode, r.Body)
				}
			}()
		}
		wg.Wait()
		if n := e.count(organization.ModelTeamMember, storage.Eq("teamId", e.teamA)); n != 3 {
			t.Fatalf("team has %d members, want 3", n)
		}
	})
}

func TestRemoveTeamMember(t *testing.T) {
	var removed storage.Record
	p := teamsPlugin()
	p.BeforeRemoveTeamMember = func(_ context.Context, ev *organization.HookEvent) error {
		if ev.User.ID() == ev.TeamMember.String("userId") && ev.User.String("name") == "Owner" {
			return organization.CodeYouAreNotAllowedToRemoveATeamMember.With(http.StatusForbidden)
		}
		return nil
	}
	p.AfterRemoveTeamMember = func(_ context.Context, ev *organization.HookEvent) error { removed = ev.TeamMember; return nil }
	e := newTeamEnv(t, p)
	e.join(e.teamA, e.plainID)
	e.join(e.teamA, e.ownerID)
	e.activate(e.plainID, e.orgA, e.teamA)
	e.member(e.orgB, e.plainID, "member")
	e.join(e.teamB, e.plainID)

	wantErr(t, "plain member", e.plain.Post(organization.PathRemoveTeamMember, map[string]any{"teamId": e.teamA, "userId": e.ownerID}),
		403, "YOU_ARE_NOT_ALLOWED_TO_REMOVE_A_TEAM_MEMBER")
	wantErr(t, "not in team", e.owner.Post(organization.PathRemoveTeamMember, map[string]any{"teamId": e.teamA, "userId": e.adminID}),
		400, "USER_IS_NOT_A_MEMBER_OF_THE_TEAM")
	wantErr(t, "target outside org", e.owner.Post(organization.PathRemoveTeamMember, map[string]any{"teamId": e.teamA, "userId": e.outsiderID}),
		400, "USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION")
	wantErr(t, "B's team via A", e.owner.Post(organization.PathRemoveTeamMember, map[string]any{"teamId": e.teamB, "userId": e.plainID}),
		400, "TEAM_NOT_FOUND")
	wantErr(t, "caller outside org", e.outsider.Post(organization.PathRemoveTeamMember,
		map[string]any{"teamId": e.teamA, "userId": e.plainID, "organizationId": e.orgA}),
		400, "USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION")
	wantErr(t, "no active org", e.outsider.Post(organization.PathRemoveTeamMember, map[string]any{"teamId": e.teamA, "userId": e.plainID}),
		400, "NO_ACTIVE_ORGANIZATION")
	if e.count(organization.ModelTeamMember, storage.Eq("teamId", e.teamB)) != 1 {
		t.Fatal("B's team lost a member")
	}
	wantErr(t, "refused by hook", e.admin.Post(organization.PathRemoveTeamMember, map[string]any{"teamId": e.teamA, "userId": e.ownerID}),
		403, "YOU_ARE_NOT_ALLOWED_TO_REMOVE_A_TEAM_MEMBER")
	if e.count(organization.ModelTeamMember, storage.Eq("teamId", e.teamA)) != 2 {
		t.Fatal("hook refusal removed a member")
	}

	r := e.admin.Post(organization.PathRemoveTeamMember, map[string]any{"teamId": e.teamA, "userId": e.plainID})
	wantOK(t, "admin removes", r)
	if r.Object()["message"] != "Team member removed successfully." {
		t.Fatalf("body: %s", r.Body)
	}
	if e.count(organization.ModelTeamMember, storage.And(storage.Eq("teamId", e.teamA), storage.Eq("userId", e.plainID))) != 0 {
		t.Fatal("team membership kept")
	}
	for _, s := range e.sessionsOf(e.plainID) {
		if s.Has(organization.FieldActiveTeamID) {
			t.Fatalf("removed member's session keeps the team active: %v", s)
		}
	}
	if removed == nil || removed.String("userId") != e.plainID {
		t.Fatalf("after hook: %v", removed)
	}
}

// Hostile bodies on every team route are a 4xx envelope, never a 500.
func TestTeamRoutesHostileInput(t *testing.T) {
	e := newTeamEnv(t, teamsPlugin())
	big := strings.Repeat("x", 10240)
	posts := map[string][]any{
		organization.PathCreateTeam:       {map[string]any{"name": big}, map[string]any{"name": 1}, map[string]any{"name": []any{"a"}}, map[string]any{}, "[]", "{", map[string]any{"name": "ok", "organizationId": map[string]any{}}},
		organization.PathRemoveTeam:       {map[string]any{"teamId": big}, map[string]any{"teamId": true}, map[string]any{}, "null"},
		organization.PathUpdateTeam:       {map[string]any{"teamId": e.teamA}, map[string]any{"teamId": e.teamA, "data": 1}, map[string]any{"teamId": e.teamA, "data": map[string]any{"name": map[string]any{}}}},
		organization.PathSetActiveTeam:    {map[string]any{"teamId": big}, map[string]any{"teamId": map[string]any{}}},
		organization.PathAddTeamMember:    {map[string]any{"teamId": e.teamA, "userId": nil}, map[string]any{"teamId": e.teamA, "userId": big}},
		organization.PathRemoveTeamMember: {map[string]any{"teamId": e.teamA, "userId": false}, map[string]any{}},
	}
	for path, bodies := range posts {
		for _, b := range bodies {
			wantClientError(t, fmt.Sprintf("%s %v", path, b), e.owner.Post(path, b))
		}
	}
	q := url.QueryEscape(big)
	for _, path := range []string{
		organization.PathListTeams + "?organizationId=" + q,
		organization.PathListUserTeams + "?userId=" + q,
		organization.PathListTeamMembers + "?teamId=" + q,
		organization.PathListTeamMembers + "?teamId=a&teamId=b",
	} {
		wantClientError(t, path[:40], e.owner.Get(path))
	}
	if n := e.count(organization.ModelTeam, storage.Where{}); n != 2 {
		t.Fatalf("hostile input changed teams: %d", n)
	}
}
