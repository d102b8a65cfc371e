package apikey_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/plugins/apikey"
	"github.com/gatehouse-auth/gatehouse/storage"
	"github.com/gatehouse-auth/gatehouse/storage/bolt"
)

const pw = "correct horse battery staple"

func newHarness(t *testing.T, p *apikey.Plugin, opts ...authcoretest.Option) *authcoretest.Harness {
	t.Helper()
	if p == nil {
		p = &apikey.Plugin{}
	}
	return authcoretest.New(t, append([]authcoretest.Option{authcoretest.WithPlugins(p)}, opts...)...)
}

func admin(t *testing.T, h *authcoretest.Harness) authcore.APIKeyAdmin {
	t.Helper()
	a, ok := h.Engine.Plugin(authcore.APIKeyID)
	if !ok {
		t.Fatal("api-key admin not provided")
	}
	return a.(authcore.APIKeyAdmin)
}

func userID(u map[string]any) string {
	m, _ := u["user"].(map[string]any)
	s, _ := m["id"].(string)
	return s
}

func create(t *testing.T, c *authcoretest.Client, body map[string]any) map[string]any {
	t.Helper()
	r := c.Post(apikey.PathCreate, body)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("create: %d %s", r.StatusCode, r.Body)
	}
	return r.Object()
}

func gwReq(key string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "http://app.example/x", nil)
	if key != "" {
		r.Header.Set("X-Api-Key", key)
	}
	return r
}

func ptr[T any](v T) *T { return &v }

func TestCreateGetListUpdateDelete(t *testing.T) {
	h := newHarness(t, &apikey.Plugin{EnableMetadata: true, DefaultPrefix: "gh_"})
	c, u := h.SignUp("A", "a@example.com", pw)
	k := create(t, c, map[string]any{"name": "ci", "expiresIn": 86400 * 2, "metadata": map[string]any{"team": "x"}})
	key, _ := k["key"].(string)
	if !strings.HasPrefix(key, "gh_") || len(key) != 3+64 {
		t.Fatalf("key %q", key)
	}
	if k["start"] != key[:6] || k["referenceId"] != userID(u) || k["rateLimitEnabled"] != false || k["enabled"] != true {
		t.Fatalf("create response: %v", k)
	}
	if m, _ := k["metadata"].(map[string]any); m["team"] != "x" {
		t.Fatalf("metadata: %v", k["metadata"])
	}
	if k["permissions"] != nil || k["remaining"] != nil {
		t.Fatalf("nullable fields: %v", k)
	}
	id := k["id"].(string)
	// Plaintext is shown once; the digest is what is stored, and never returned.
	g := c.Get(apikey.PathGet + "?id=" + id)
	if g.StatusCode != http.StatusOK || g.Object()["key"] != nil || strings.Contains(string(g.Body), key[3:]) {
		t.Fatalf("get: %d %s", g.StatusCode, g.Body)
	}
	l := c.Get(apikey.PathList)
	if l.StatusCode != http.StatusOK || l.Object()["total"] != float64(1) || strings.Contains(string(l.Body), key[3:]) {
		t.Fatalf("list: %s", l.Body)
	}
	recs, _ := h.Engine.Store().FindMany(t.Context(), apikey.ModelAPIKey, storage.Query{})
	if len(recs) != 1 || recs[0].String("key") != apikey.HashKey(key) {
		t.Fatalf("stored: %v", recs)
	}
	for _, r := range recs {
		for f, v := range r {
			if s, ok := v.(string); ok && strings.Contains(s, key[3:]) {
				t.Fatalf("plaintext at rest in %s", f)
			}
		}
	}
	up := c.Post(apikey.PathUpdate, map[string]any{"keyId": id, "name": "ci2", "enabled": false})
	if up.StatusCode != http.StatusOK || up.Object()["name"] != "ci2" || up.Object()["enabled"] != false {
		t.Fatalf("update: %d %s", up.StatusCode, up.Body)
	}
	if r := c.Post(apikey.PathUpdate, map[string]any{"keyId": id}); r.Code() != "NO_VALUES_TO_UPDATE" {
		t.Fatalf("empty update: %s", r.Body)
	}
	// Another user sees 404 for this id everywhere.
	b, _ := h.SignUp("B", "b@example.com", pw)
	if r := b.Get(apikey.PathGet + "?id=" + id); r.StatusCode != 404 || r.Code() != "KEY_NOT_FOUND" {
		t.Fatalf("foreign get: %d %s", r.StatusCode, r.Body)
	}
	if r := b.Post(apikey.PathUpdate, map[string]any{"keyId": id, "name": "x"}); r.StatusCode != 404 {
		t.Fatalf("foreign update: %d", r.StatusCode)
	}
	if r := b.Post(apikey.PathDelete, map[string]any{"keyId": id}); r.StatusCode != 404 {
		t.Fatalf("foreign delete: %d", r.StatusCode)
	}
	if r := c.Post(apikey.PathDelete, map[string]any{"keyId": id}); r.StatusCode != 200 || r.Object()["success"] != true {
		t.Fatalf("delete: %d %s", r.StatusCode, r.Body)
	}
	if r := c.Get(apikey.PathGet + "?id=" + id); r.StatusCode != 404 {
		t.Fatalf("get after delete: %d", r.StatusCode)
	}
	// No session: 401.
	if r := h.Client().Post(apikey.PathCreate, map[string]any{"name": "x"}); r.StatusCode != 401 {
		t.Fatalf("create without session: %d %s", r.StatusCode, r.Body)
	}
}

func TestCreateErrorCodes(t *testing.T) {
	h := newHarness(t, &apikey.Plugin{RequireName: true})
	c, _ := h.SignUp("A", "a@example.com", pw)
	for name, tc := range map[string]struct {
		body   map[string]any
		status int
		code   string
	}{
		"name required":    {map[string]any{}, 400, "NAME_REQUIRED"},
		"name too long":    {map[string]any{"name": strings.Repeat("n", 33)}, 400, "INVALID_NAME_LENGTH"},
		"prefix too long":  {map[string]any{"name": "n", "prefix": strings.Repeat("p", 33)}, 400, "INVALID_PREFIX_LENGTH"},
		"prefix format":    {map[string]any{"name": "n", "prefix": "a b"}, 400, "VALIDATION_ERROR"},
		"expires small":    {map[string]any{"name": "n", "expiresIn": 3600}, 400, "EXPIRES_IN_IS_TOO_SMALL"},
		"expires large":    {map[string]any{"name": "n", "expiresIn": 86400 * 400}, 400, "EXPIRES_IN_IS_TOO_LARGE"},
		"metadata off":     {map[string]any{"name": "n", "metadata": map[string]any{"a": 1}}, 400, "METADATA_DISABLED"},
		"org":              {map[string]any{"name": "n", "organizationId": "org1"}, 400, "ORGANIZATION_PLUGIN_REQUIRED"},
		"config":           {map[string]any{"name": "n", "configId": "other"}, 400, "NO_DEFAULT_API_KEY_CONFIGURATION_FOUND"},
		"wrong type":       {map[string]any{"name": 5}, 400, "VALIDATION_ERROR"},
		"huge name":        {map[string]any{"name": strings.Repeat("x", 100000)}, 0, ""},
		"expires negative": {map[string]any{"name": "n", "expiresIn": -5}, 400, "VALIDATION_ERROR"},
	} {
		t.Run(name, func(t *testing.T) {
			r := c.Post(apikey.PathCreate, tc.body)
			if tc.status == 0 {
				if r.StatusCode < 400 || r.StatusCode >= 500 {
					t.Fatalf("%d %s", r.StatusCode, r.Body)
				}
				return
			}
			if r.StatusCode != tc.status || r.Code() != tc.code {
				t.Fatalf("%d %s", r.StatusCode, r.Body)
			}
		})
	}
	h2 := newHarness(t, &apikey.Plugin{EnableMetadata: true, KeyExpiration: apikey.KeyExpiration{DisableCustomExpiresTime: true}})
	c2, _ := h2.SignUp("A", "a@example.com", pw)
	if r := c2.Post(apikey.PathCreate, map[string]any{"expiresIn": 86400 * 3}); r.Code() != "KEY_DISABLED_EXPIRATION" {
		t.Fatalf("custom expiry disabled: %s", r.Body)
	}
	if r := c2.Post(apikey.PathCreate, map[string]any{"metadata": "str"}); r.Code() != "INVALID_METADATA_TYPE" {
		t.Fatalf("metadata type: %s", r.Body)
	}
}

// KEY-02: server-only fields are refused from clients, in any case; the key always belongs
// to the session user.
func TestServerOnlyFieldsRefused(t *testing.T) {
	h := newHarness(t, nil)
	alice, au := h.SignUp("A", "a@example.com", pw)
	mallory, _ := h.SignUp("M", "m@example.com", pw)
	k := create(t, alice, map[string]any{"name": "a"})
	id := k["id"].(string)
	bodies := []string{
		`{"userId":"` + userID(au) + `","name":"x"}`,
		`{"UserId":"` + userID(au) + `"}`,
		`{"USERID":"` + userID(au) + `"}`,
		`{"remaining":1000000000}`,
		`{"rateLimitEnabled":false}`,
		`{"permissions":{"*":["*"]}}`,
		`{"refillAmount":1000000,"refillInterval":1000}`,
		`{"rateLimitMax":5}`, `{"rateLimitTimeWindow":5}`, `{"Remaining":5}`, `{"PERMISSIONS":{}}`,
	}
	for _, b := range bodies {
		r := mallory.Post(apikey.PathCreate, b)
		if r.StatusCode != 400 || r.Code() != "SERVER_ONLY_PROPERTY" {
			t.Fatalf("create %s: %d %s", b, r.StatusCode, r.Body)
		}
		ub := `{"keyId":"` + id + `",` + b[1:]
		r = alice.Post(apikey.PathUpdate, ub)
		if r.StatusCode != 400 || r.Code() != "SERVER_ONLY_PROPERTY" {
			t.Fatalf("update %s: %d %s", ub, r.StatusCode, r.Body)
		}
	}
	if r := mallory.Post(apikey.PathCreate, `{"name":"a","name":"b"}`); r.StatusCode != 400 {
		t.Fatalf("duplicate keys: %d %s", r.StatusCode, r.Body)
	}
	if r := h.Client().Post(apikey.PathCreate, `{"userId":"`+userID(au)+`","name":"x"}`); r.StatusCode != 400 && r.StatusCode != 401 {
		t.Fatalf("no session: %d", r.StatusCode)
	}
	// remaining:null is the create default and passes; the key is mallory's.
	r := mallory.Post(apikey.PathCreate, `{"remaining":null,"name":"m"}`)
	if r.StatusCode != 200 {
		t.Fatalf("remaining null: %d %s", r.StatusCode, r.Body)
	}
	if n, _ := h.Engine.Store().Count(t.Context(), apikey.ModelAPIKey, storage.Eq("referenceId", userID(au))); n != 1 {
		t.Fatalf("alice has %d keys", n)
	}
}

func TestGatewayKeyStates(t *testing.T) {
	h := newHarness(t, nil)
	c, u := h.SignUp("A", "a@example.com", pw)
	k := create(t, c, map[string]any{"name": "a", "expiresIn": 86400})
	key, id := k["key"].(string), k["id"].(string)
	p, err := h.Engine.Authenticate(gwReq(key))
	if err != nil || p == nil || p.Method != "api-key" || p.UserID != userID(u) || p.KeyID != id || p.User == nil {
		t.Fatalf("valid key: %+v %v", p, err)
	}
	if p, err := h.Engine.Authenticate(gwReq("")); p != nil || err != nil {
		t.Fatalf("no key: %v %v", p, err)
	}
	// Query keys are ignored.
	q := httptest.NewRequest("GET", "http://app.example/x?api_key="+key+"&x-api-key="+key, nil)
	if p, err := h.Engine.Authenticate(q); p != nil || err != nil {
		t.Fatalf("query key: %v %v", p, err)
	}
	want := authcore.AsError(func() error { _, err := h.Engine.Authenticate(gwReq("nope")); return err }())
	if want.Status != 401 || want.Code != "INVALID_API_KEY" {
		t.Fatalf("bad key: %v", want)
	}
	same := func(name, k string) {
		t.Helper()
		_, err := h.Engine.Authenticate(gwReq(k))
		e := authcore.AsError(err)
		if e.Status != want.Status || e.Code != want.Code || e.Message != want.Message {
			t.Fatalf("%s: %v", name, err)
		}
	}
	same("random", strings.Repeat("A", 64))
	same("huge", strings.Repeat("A", 100000))
	same("prefix of key", key[:60])
	two := gwReq(key)
	two.Header.Add("X-Api-Key", key)
	if _, err := h.Engine.Authenticate(two); authcore.AsError(err).Status != 401 {
		t.Fatalf("two headers: %v", err)
	}
	// disabled
	if r := c.Post(apikey.PathUpdate, map[string]any{"keyId": id, "enabled": false}); r.StatusCode != 200 {
		t.Fatal(r.StatusCode)
	}
	same("disabled", key)
	c.Post(apikey.PathUpdate, map[string]any{"keyId": id, "enabled": true})
	if _, err := h.Engine.Authenticate(gwReq(key)); err != nil {
		t.Fatalf("re-enabled: %v", err)
	}
	// expired
	h.Clock.Advance(86401 * time.Second)
	same("expired", key)
	// deleted (on this node: immediate)
	k2 := create(t, c, map[string]any{"name": "b"})
	if _, err := h.Engine.Authenticate(gwReq(k2["key"].(string))); err != nil {
		t.Fatal(err)
	}
	if err := admin(t, h).DeleteAPIKey(t.Context(), k2["id"].(string)); err != nil {
		t.Fatal(err)
	}
	same("deleted", k2["key"].(string))
	if err := admin(t, h).DeleteAPIKey(t.Context(), k2["id"].(string)); authcore.AsError(err).Status != 404 {
		t.Fatalf("delete unknown: %v", err)
	}
	// orphaned: the user is deleted (after the in-process cache's 5 s)
	k3 := create(t, c, map[string]any{"name": "c"})
	if _, err := h.Engine.Authenticate(gwReq(k3["key"].(string))); err != nil {
		t.Fatal(err)
	}
	if err := h.Engine.DeleteUser(t.Context(), userID(u)); err != nil {
		t.Fatal(err)
	}
	h.Clock.Advance(6 * time.Second)
	same("orphaned", k3["key"].(string))
}

// The quota is exact under concurrency on the real gateway path, and storage is written
// once per lease, not per request.
func TestQuotaExactUnderConcurrency(t *testing.T) {
	h := newHarness(t, &apikey.Plugin{LeaseSize: 4})
	_, u := h.SignUp("A", "a@example.com", pw)
	k, err := admin(t, h).CreateAPIKey(t.Context(), authcore.APIKeyParams{UserID: userID(u), Remaining: ptr(int64(10))})
	if err != nil {
		t.Fatal(err)
	}
	key := k["key"].(string)
	var ok, limited, other atomic.Int64
	var wg sync.WaitGroup
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := h.Engine.Authenticate(gwReq(key))
			switch e := authcore.AsError(err); {
			case err == nil:
				ok.Add(1)
			case e.Status == 429 && e.Code == "USAGE_EXCEEDED" && e.Header.Get("Retry-After") != "":
				limited.Add(1)
			default:
				other.Add(1)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 10 || limited.Load() != 90 || other.Load() != 0 {
		t.Fatalf("ok %d, 429 %d, other %d", ok.Load(), limited.Load(), other.Load())
	}
	list, _ := admin(t, h).ListAPIKeys(t.Context(), userID(u))
	if list[0]["remaining"] != int64(0) {
		t.Fatalf("remaining: %v", list[0]["remaining"])
	}
}

// countingStore counts writes through every adapter it binds.
type countingStore struct {
	storage.Store
	writes *atomic.Int64
}

func (s countingStore) Bind(ctx context.Context, sc *storage.Schema) (storage.Adapter, error) {
	a, err := s.Store.Bind(ctx, sc)
	return countingAdapter{a, s.writes}, err
}

type countingAdapter struct {
	storage.Adapter
	writes *atomic.Int64
}

func (a countingAdapter) Update(ctx context.Context, m string, w storage.Where, set storage.Record) (storage.Record, error) {
	a.writes.Add(1)
	return a.Adapter.Update(ctx, m, w, set)
}
func (a countingAdapter) IncrementOne(ctx context.Context, m string, w storage.Where, f string, d int64, set storage.Record) (storage.Record, error) {
	a.writes.Add(1)
	return a.Adapter.IncrementOne(ctx, m, w, f, d, set)
}
func (a countingAdapter) Tx(ctx context.Context, fn func(storage.Adapter) error) error {
	a.writes.Add(1)
	return a.Adapter.Tx(ctx, func(tx storage.Adapter) error { return fn(countingAdapter{tx, a.writes}) })
}
func (a countingAdapter) Create(ctx context.Context, m string, r storage.Record) (storage.Record, error) {
	a.writes.Add(1)
	return a.Adapter.Create(ctx, m, r)
}

func TestNoStorageWritePerRequest(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "g.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var writes atomic.Int64
	h := newHarness(t, &apikey.Plugin{}, authcoretest.WithEngineOptions(authcore.WithStore(countingStore{st, &writes})))
	_, u := h.SignUp("A", "a@example.com", pw)
	k, err := admin(t, h).CreateAPIKey(t.Context(), authcore.APIKeyParams{UserID: userID(u), Remaining: ptr(int64(5000))})
	if err != nil {
		t.Fatal(err)
	}
	unlimited, _ := admin(t, h).CreateAPIKey(t.Context(), authcore.APIKeyParams{UserID: userID(u)})
	before := writes.Load()
	for range 1000 {
		if _, err := h.Engine.Authenticate(gwReq(k["key"].(string))); err != nil {
			t.Fatal(err)
		}
		if _, err := h.Engine.Authenticate(gwReq(unlimited["key"].(string))); err != nil {
			t.Fatal(err)
		}
	}
	// A Tx counts once and its Update inside once: 2 per lease of 100.
	if n := writes.Load() - before; n > 2*1000/100 {
		t.Fatalf("%d writes for 2000 requests", n)
	}
	list, _ := admin(t, h).ListAPIKeys(t.Context(), userID(u))
	for _, k := range list {
		if k["id"] == unlimited["id"] {
			continue
		}
		if k["remaining"] != int64(4000) {
			t.Fatalf("remaining reported %v, want 4000 (served only)", k["remaining"])
		}
	}
}

// A crash (engine dropped without Close) loses the lease: remaining never goes up; Close
// returns unused units.
func TestCrashNeverRefills(t *testing.T) {
	path := filepath.Join(t.TempDir(), "g.db")
	clock := authcoretest.NewClock()
	cfg := authcore.Config{BaseURL: authcoretest.BaseURL, Secret: authcoretest.Secret}
	open := func() (*authcore.Engine, *apikey.Plugin, storage.Store) {
		st, err := bolt.Open(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		p := &apikey.Plugin{LeaseSize: 10}
		e, err := authcore.New(cfg, authcore.WithStore(st), authcore.WithClock(clock), authcore.WithPlugins(p))
		if err != nil {
			t.Fatal(err)
		}
		return e, p, st
	}
	e1, p1, st1 := open()
	u, err := e1.CreateUser(t.Context(), storage.Record{"email": "a@example.com", "name": "A", "emailVerified": true}, "")
	if err != nil {
		t.Fatal(err)
	}
	k, err := p1.CreateAPIKey(t.Context(), authcore.APIKeyParams{UserID: u.ID(), Remaining: ptr(int64(25))})
	if err != nil {
		t.Fatal(err)
	}
	key, id := k["key"].(string), k["id"].(string)
	for range 3 {
		if _, err := e1.Authenticate(gwReq(key)); err != nil {
			t.Fatal(err)
		}
	}
	stored := func(st storage.Store, e *authcore.Engine) int64 {
		r, err := e.Store().FindOne(t.Context(), apikey.ModelAPIKey, storage.ByID(id))
		if err != nil {
			t.Fatal(err)
		}
		return r.Int("remaining")
	}
	if got := stored(st1, e1); got != 15 { // one lease of 10 taken
		t.Fatalf("stored remaining %d", got)
	}
	// Crash: no Close, no lease return.
	e1.Close()
	st1.(interface{ Close() error }).Close()
	e2, p2, st2 := open()
	defer st2.(interface{ Close() error }).Close()
	defer e2.Close()
	if got := stored(st2, e2); got != 15 {
		t.Fatalf("after crash: %d", got)
	}
	served := 0
	for range 30 {
		if _, err := e2.Authenticate(gwReq(key)); err == nil {
			served++
		}
	}
	if served != 15 { // 3 + 15 = 18 ≤ 25: under-serve, never over-serve
		t.Fatalf("served %d after crash", served)
	}
	// Close returns an unused lease.
	k2, _ := p2.CreateAPIKey(t.Context(), authcore.APIKeyParams{UserID: u.ID(), Remaining: ptr(int64(25))})
	if _, err := e2.Authenticate(gwReq(k2["key"].(string))); err != nil {
		t.Fatal(err)
	}
	if err := p2.Close(); err != nil {
		t.Fatal(err)
	}
	r, _ := e2.Store().FindOne(t.Context(), apikey.ModelAPIKey, storage.ByID(k2["id"].(string)))
	if r.Int("remaining") != 24 {
		t.Fatalf("after Close: %d", r.Int("remaining"))
	}
}

func TestRefill(t *testing.T) {
	h := newHarness(t, nil)
	_, u := h.SignUp("A", "a@example.com", pw)
	k, err := admin(t, h).CreateAPIKey(t.Context(), authcore.APIKeyParams{UserID: userID(u), Remaining: ptr(int64(2)),
		RefillAmount: ptr(int64(3)), RefillInterval: ptr(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	key := k["key"].(string)
	count := func() (n int, last error) {
		for range 10 {
			if _, err := h.Engine.Authenticate(gwReq(key)); err == nil {
				n++
			} else {
				last = err
			}
		}
		return
	}
	n, last := count()
	if e := authcore.AsError(last); n != 2 || e.Status != 429 || e.Header.Get("Retry-After") != "3600" {
		t.Fatalf("first window: %d %v %v", n, last, e.Header)
	}
	h.Clock.Advance(time.Hour)
	if n, _ := count(); n != 3 {
		t.Fatalf("after refill: %d", n)
	}
	h.Clock.Advance(30 * time.Minute)
	if n, _ := count(); n != 0 {
		t.Fatalf("before the next refill: %d", n)
	}
	// Errors of the trusted API.
	a := admin(t, h)
	if _, err := a.CreateAPIKey(t.Context(), authcore.APIKeyParams{UserID: userID(u), RefillAmount: ptr(int64(3))}); authcore.AsError(err).Code != "REFILL_AMOUNT_AND_INTERVAL_REQUIRED" {
		t.Fatal(err)
	}
	if _, err := a.CreateAPIKey(t.Context(), authcore.APIKeyParams{UserID: userID(u), RefillInterval: ptr(time.Hour)}); authcore.AsError(err).Code != "REFILL_INTERVAL_AND_AMOUNT_REQUIRED" {
		t.Fatal(err)
	}
	if _, err := a.CreateAPIKey(t.Context(), authcore.APIKeyParams{UserID: userID(u), Remaining: ptr(int64(-1))}); authcore.AsError(err).Code != "INVALID_REMAINING" {
		t.Fatal(err)
	}
	if _, err := a.UpdateAPIKey(t.Context(), "nope", authcore.APIKeyParams{Name: "x"}); authcore.AsError(err).Code != "KEY_NOT_FOUND" {
		t.Fatal(err)
	}
	if _, err := a.UpdateAPIKey(t.Context(), k["id"].(string), authcore.APIKeyParams{}); authcore.AsError(err).Code != "NO_VALUES_TO_UPDATE" {
		t.Fatal(err)
	}
	// Raising remaining through the admin API takes effect at once.
	if _, err := a.UpdateAPIKey(t.Context(), k["id"].(string), authcore.APIKeyParams{Remaining: ptr(int64(4))}); err != nil {
		t.Fatal(err)
	}
	if n, _ := count(); n != 4 {
		t.Fatalf("after admin update: %d", n)
	}
}

func TestRateLimitWindow(t *testing.T) {
	h := newHarness(t, &apikey.Plugin{RateLimit: apikey.RateLimit{Enabled: true, TimeWindow: authcore.Duration(time.Minute), Max: 3}})
	c, _ := h.SignUp("A", "a@example.com", pw)
	k := create(t, c, map[string]any{"name": "a"})
	if k["rateLimitEnabled"] != true || k["rateLimitMax"] != float64(3) || k["rateLimitTimeWindow"] != float64(60000) {
		t.Fatalf("stored rate limit: %v", k)
	}
	key := k["key"].(string)
	for i := range 3 {
		if _, err := h.Engine.Authenticate(gwReq(key)); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	_, err := h.Engine.Authenticate(gwReq(key))
	e := authcore.AsError(err)
	if e.Status != 429 || e.Code != "RATE_LIMITED" || e.Message != "Rate limit exceeded." || e.Header.Get("Retry-After") != "60" {
		t.Fatalf("4th: %v %v", err, e.Header)
	}
	h.Clock.Advance(time.Minute + time.Second)
	if _, err := h.Engine.Authenticate(gwReq(key)); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}

func TestPermissionsAndOrgKeys(t *testing.T) {
	p := &apikey.Plugin{Permissions: apikey.Permissions{Default: map[string][]string{"files": {"read"}}}}
	h := newHarness(t, p)
	c, _ := h.SignUp("A", "a@example.com", pw)
	k := create(t, c, map[string]any{"name": "a"})
	if perms, _ := k["permissions"].(map[string]any); perms == nil {
		t.Fatalf("default permissions: %v", k)
	}
	key := k["key"].(string)
	if r := p.VerifyAPIKey(t.Context(), key, map[string][]string{"files": {"read"}}); !r.Valid {
		t.Fatalf("read: %+v", r)
	}
	if r := p.VerifyAPIKey(t.Context(), key, map[string][]string{"files": {"write"}}); r.Valid || r.Error.Code != "KEY_NOT_FOUND" {
		t.Fatalf("write: %+v", r)
	}
	pr, err := h.Engine.Authenticate(gwReq(key))
	if err != nil || len(pr.Permissions["files"]) != 1 {
		t.Fatalf("principal permissions: %+v %v", pr, err)
	}
	// Organization-owned keys (trusted callers only) authenticate as the organization.
	ok, err := admin(t, h).CreateAPIKey(t.Context(), authcore.APIKeyParams{OrganizationID: "org_1", Permissions: map[string][]string{"x": {"y"}}})
	if err != nil {
		t.Fatal(err)
	}
	pr, err = h.Engine.Authenticate(gwReq(ok["key"].(string)))
	if err != nil || pr.UserID != "" || pr.OrgID != "org_1" || pr.KeyID != ok["id"] || pr.Method != "api-key" {
		t.Fatalf("org principal: %+v %v", pr, err)
	}
	if all, _ := admin(t, h).ListAPIKeys(t.Context(), ""); len(all) != 2 {
		t.Fatalf("list all: %d", len(all))
	}
	if r := c.Get(apikey.PathList + "?organizationId=org_1"); r.Code() != "ORGANIZATION_PLUGIN_REQUIRED" {
		t.Fatalf("list org: %s", r.Body)
	}
}

func TestKeyAsSession(t *testing.T) {
	h := newHarness(t, &apikey.Plugin{EnableSessionForAPIKeys: true})
	c, u := h.SignUp("A", "a@example.com", pw)
	k := create(t, c, map[string]any{"name": "a"})
	key := k["key"].(string)
	kc := h.Client()
	kc.Header.Set("x-api-key", key)
	r := kc.Get(authcore.PathGetSession)
	s, _ := r.Object()["session"].(map[string]any)
	if r.StatusCode != 200 || s["id"] != k["id"] || s["userId"] != userID(u) || s["token"] != key || r.Header.Get("Set-Cookie") != "" {
		t.Fatalf("get-session: %d %s", r.StatusCode, r.Body)
	}
	if usr, _ := r.Object()["user"].(map[string]any); usr["email"] != "a@example.com" {
		t.Fatalf("user: %s", r.Body)
	}
	if r := kc.Post(authcore.PathUpdateUser, map[string]any{"name": "Z"}); r.StatusCode != 200 {
		t.Fatalf("update-user with key session: %d %s", r.StatusCode, r.Body)
	}
	// Keys can't mint, renew or manage keys.
	if r := kc.Post(apikey.PathCreate, map[string]any{"name": "b"}); r.StatusCode != 401 || r.Code() != "UNAUTHORIZED_SESSION" {
		t.Fatalf("key minting a key: %d %s", r.StatusCode, r.Body)
	}
	if r := kc.Post(apikey.PathUpdate, map[string]any{"keyId": k["id"], "expiresIn": 86400 * 300}); r.StatusCode != 401 {
		t.Fatalf("key renewing itself: %d %s", r.StatusCode, r.Body)
	}
	if r := kc.Get(apikey.PathList); r.StatusCode != 401 {
		t.Fatalf("key listing keys: %d", r.StatusCode)
	}
	short := h.Client()
	short.Header.Set("x-api-key", "short")
	if r := short.Get(authcore.PathGetSession); r.StatusCode != 403 || r.Code() != "INVALID_API_KEY" {
		t.Fatalf("short key: %d %s", r.StatusCode, r.Body)
	}
	bad := h.Client()
	bad.Header.Set("x-api-key", strings.Repeat("a", 64))
	if r := bad.Get(authcore.PathGetSession); r.StatusCode != 401 || r.Code() != "INVALID_API_KEY" {
		t.Fatalf("unknown key: %d %s", r.StatusCode, r.Body)
	}
	// Without the option, the header is not a session.
	h2 := newHarness(t, nil)
	c2, _ := h2.SignUp("A", "a@example.com", pw)
	k2 := create(t, c2, map[string]any{"name": "a"})
	kc2 := h2.Client()
	kc2.Header.Set("x-api-key", k2["key"].(string))
	if r := kc2.Get(authcore.PathGetSession); string(r.Body) != "null" {
		t.Fatalf("session without the option: %s", r.Body)
	}
}

func TestRegisterRefusesBadOptions(t *testing.T) {
	for name, p := range map[string]*apikey.Plugin{
		"hashing off": {DisableKeyHashing: true},
		"short keys":  {DefaultKeyLength: 8},
		"bad prefix":  {DefaultPrefix: "a b"},
		"start":       {StartingCharactersLength: 10},
	} {
		t.Run(name, func(t *testing.T) {
			if err := p.Validate(); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	h := newHarness(t, nil)
	found := false
	for _, n := range h.Engine.CredentialHeaders() {
		found = found || n == "X-Api-Key"
	}
	if !found {
		t.Fatalf("credential headers: %v", h.Engine.CredentialHeaders())
	}
}

func TestCaddyfile(t *testing.T) {
	d := caddyfile.NewTestDispenser(`api_key {
		headers x-api-key X-Other
		default_key_length 48  default_prefix gh_
		starting_characters_length 4
		require_name
		enable_metadata
		key_expiration {
			default_expires_in 30d
			min_expires_in 1h
			max_expires_in 90d
			disable_custom_expires_time
		}
		rate_limit {
			enabled
			time_window 1m
			max 100
		}
		permissions {
			default files read write
			default repo read
		}
		enable_session_for_api_keys
		lease_size 50
	}`)
	var p apikey.Plugin
	if err := p.UnmarshalCaddyfile(d); err != nil {
		t.Fatal(err)
	}
	if len(p.Headers) != 2 || p.Headers[1] != "x-other" || p.DefaultKeyLength != 48 || p.DefaultPrefix != "gh_" ||
		p.StartingCharactersLength != 4 || !p.RequireName || !p.EnableMetadata ||
		p.KeyExpiration.DefaultExpiresIn.D() != 30*24*time.Hour || p.KeyExpiration.MinExpiresIn.D() != time.Hour ||
		p.KeyExpiration.MaxExpiresIn.D() != 90*24*time.Hour || !p.KeyExpiration.DisableCustomExpiresTime ||
		!p.RateLimit.Enabled || p.RateLimit.TimeWindow.D() != time.Minute || p.RateLimit.Max != 100 ||
		len(p.Permissions.Default["files"]) != 2 || p.Permissions.Default["repo"][0] != "read" ||
		!p.EnableSessionForAPIKeys || p.LeaseSize != 50 {
		t.Fatalf("%+v", p)
	}
	for _, bad := range []string{
		`api_key { nope }`,
		`api_key x`,
		`api_key { disable_key_hashing }`,
		`api_key { rate_limit { nope } }`,
	} {
		var p apikey.Plugin
		if err := p.UnmarshalCaddyfile(caddyfile.NewTestDispenser(bad)); err == nil {
			t.Fatalf("accepted %q", bad)
		}
	}
}

// TOK-01: bob's API key with alice's session cookie authenticates as neither.
func TestKeyAndCookieOfDifferentUsers(t *testing.T) {
	h := newHarness(t, nil)
	alice, _ := h.SignUp("A", "a@example.com", pw)
	bob, _ := h.SignUp("B", "b@example.com", pw)
	bk := create(t, bob, map[string]any{"name": "b"})
	ak := create(t, alice, map[string]any{"name": "a"})
	r := gwReq(bk["key"].(string))
	r.Header.Set("Cookie", "better-auth.session_token="+alice.CookieValue("better-auth.session_token"))
	if p, err := h.Engine.Authenticate(r); err == nil || authcore.AsError(err).Status != 401 {
		t.Fatalf("bob key + alice cookie: %+v %v", p, err)
	}
	r = gwReq(ak["key"].(string))
	r.Header.Set("Cookie", "better-auth.session_token="+alice.CookieValue("better-auth.session_token"))
	if p, err := h.Engine.Authenticate(r); err != nil || p == nil {
		t.Fatalf("alice key + alice cookie: %+v %v", p, err)
	}
}
