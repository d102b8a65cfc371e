package authcore_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/storage"
	"github.com/gatehouse-auth/gatehouse/storage/memory"
)

// The gateway path (Engine.Authenticate), the in-process session cache (D6, SES-02),
// session refresh, mixed credentials (D8, TOK-01), storage faults (DUR-02) and the sweeper
// (D10).

// countingStore wraps a store and counts every adapter call by operation and model; it can
// also be told to fail creates of one model or every read.
type countingStore struct {
	inner      storage.Store
	mu         sync.Mutex
	counts     map[string]int // "read:session", "update:session", ...
	failCreate atomic.Value   // string: model whose Create fails
	failReads  atomic.Bool
}

var errInjected = errors.New("injected storage failure")

func newCountingStore() *countingStore {
	s := &countingStore{inner: memory.NewStore(), counts: map[string]int{}}
	s.failCreate.Store("")
	return s
}

func (s *countingStore) Bind(ctx context.Context, schema *storage.Schema) (storage.Adapter, error) {
	a, err := s.inner.Bind(ctx, schema)
	if err != nil {
		return nil, err
	}
	return &countingAdapter{Adapter: a, s: s}, nil
}

func (s *countingStore) count(op, model string) {
	s.mu.Lock()
	s.counts[op+":"+model]++
	s.mu.Unlock()
}

// n returns the count of one "op:model" key, or of every key starting with prefix when it
// ends in ":".
func (s *countingStore) n(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if strings.HasSuffix(key, ":") {
		total := 0
		for k, v := range s.counts {
			if strings.HasPrefix(k, key) {
				total += v
			}
		}
		return total
	}
	return s.counts[key]
}

func (s *countingStore) reset() {
	s.mu.Lock()
	s.counts = map[string]int{}
	s.mu.Unlock()
}

type countingAdapter struct {
	storage.Adapter
	s *countingStore
}

func (a *countingAdapter) read(model string) error {
	a.s.count("read", model)
	if a.s.failReads.Load() {
		return errInjected
	}
	return nil
}

func (a *countingAdapter) FindOne(ctx context.Context, model string, where storage.Where) (storage.Record, error) {
	if err := a.read(model); err != nil {
		return nil, err
	}
	return a.Adapter.FindOne(ctx, model, where)
}

func (a *countingAdapter) FindMany(ctx context.Context, model string, q storage.Query) ([]storage.Record, error) {
	if err := a.read(model); err != nil {
		return nil, err
	}
	return a.Adapter.FindMany(ctx, model, q)
}

func (a *countingAdapter) Count(ctx context.Context, model string, where storage.Where) (int, error) {
	if err := a.read(model); err != nil {
		return 0, err
	}
	return a.Adapter.Count(ctx, model, where)
}

func (a *countingAdapter) Create(ctx context.Context, model string, rec storage.Record) (storage.Record, error) {
	a.s.count("create", model)
	if a.s.failCreate.Load().(string) == model {
		return nil, errInjected
	}
	return a.Adapter.Create(ctx, model, rec)
}

func (a *countingAdapter) Update(ctx context.Context, model string, where storage.Where, set storage.Record) (storage.Record, error) {
	a.s.count("update", model)
	return a.Adapter.Update(ctx, model, where, set)
}

func (a *countingAdapter) UpdateMany(ctx context.Context, model string, where storage.Where, set storage.Record) (int, error) {
	a.s.count("update", model)
	return a.Adapter.UpdateMany(ctx, model, where, set)
}

func (a *countingAdapter) Delete(ctx context.Context, model string, where storage.Where) error {
	a.s.count("delete", model)
	return a.Adapter.Delete(ctx, model, where)
}

func (a *countingAdapter) DeleteMany(ctx context.Context, model string, where storage.Where) (int, error) {
	a.s.count("delete", model)
	return a.Adapter.DeleteMany(ctx, model, where)
}

func (a *countingAdapter) ConsumeOne(ctx context.Context, model string, where storage.Where) (storage.Record, error) {
	a.s.count("consume", model)
	return a.Adapter.ConsumeOne(ctx, model, where)
}

func (a *countingAdapter) IncrementOne(ctx context.Context, model string, where storage.Where, field string, delta int64, set storage.Record) (storage.Record, error) {
	a.s.count("increment", model)
	return a.Adapter.IncrementOne(ctx, model, where, field, delta, set)
}

func (a *countingAdapter) Tx(ctx context.Context, fn func(tx storage.Adapter) error) error {
	return a.Adapter.Tx(ctx, func(tx storage.Adapter) error { return fn(&countingAdapter{Adapter: tx, s: a.s}) })
}

// countingHarness is a harness over a counting store.
func countingHarness(t *testing.T, opts ...authcoretest.Option) (*authcoretest.Harness, *countingStore) {
	t.Helper()
	st := newCountingStore()
	opts = append(opts, authcoretest.WithEngineOptions(authcore.WithStore(st)))
	return authcoretest.New(t, opts...), st
}

// gatewayRequest is a proxied request carrying a session cookie value as the browser sends
// it (percent-encoded), among unrelated cookies.
func gatewayRequest(cookieValue string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "http://app.test/dashboard", nil)
	r.Header.Set("Cookie", "theme=dark; "+sessionCookie+"="+cookieValue+"; other=1")
	return r
}

// gwAuthenticate runs Engine.Authenticate and fails the test on an error.
func gwAuthenticate(t *testing.T, h *authcoretest.Harness, cookieValue string) *authcore.Principal {
	t.Helper()
	p, err := h.Engine.Authenticate(gatewayRequest(cookieValue))
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	return p
}

// cachedPrincipal authenticates twice and proves the second answer came from the cache.
func cachedPrincipal(t *testing.T, h *authcoretest.Harness, st *countingStore, cookieValue string) *authcore.Principal {
	t.Helper()
	if p := gwAuthenticate(t, h, cookieValue); p == nil {
		t.Fatal("valid cookie: no principal")
	}
	st.reset()
	p := gwAuthenticate(t, h, cookieValue)
	if p == nil {
		t.Fatal("valid cookie: no principal on the second call")
	}
	if n := st.n("read:"); n != 0 {
		t.Fatalf("second Authenticate read storage %d times; want a cache hit", n)
	}
	return p
}

func TestAuthenticateSessionCookie(t *testing.T) {
	h, st := countingHarness(t)
	c, body := h.SignUp("Alice", "alice@example.com", inpPassword)
	uid := body["user"].(map[string]any)["id"].(string)
	if _, err := h.Engine.UpdateUser(t.Context(), uid, storage.Record{"role": "admin, support,,"}); err != nil {
		t.Fatal(err)
	}
	st.reset()
	p := gwAuthenticate(t, h, c.CookieValue(sessionCookie))
	if p == nil {
		t.Fatal("no principal")
	}
	if st.n("read:") == 0 {
		t.Fatal("the first check did not read storage: the test store is not in use")
	}
	if p.Method != "session" || p.UserID != uid || p.User.String("email") != "alice@example.com" ||
		p.Session == nil || p.Session.String("userId") != uid || p.Anonymous || p.Refresh {
		t.Fatalf("principal %+v", p)
	}
	if strings.Join(p.Roles, "|") != "admin|support" {
		t.Fatalf("roles %q", p.Roles)
	}
	p2 := cachedPrincipal(t, h, st, c.CookieValue(sessionCookie))
	if p2.UserID != uid || strings.Join(p2.Roles, "|") != "admin|support" {
		t.Fatalf("cached principal %+v", p2)
	}
	// The default role is "user".
	d, _ := h.SignUp("Dan", "dan@example.com", inpPassword)
	if p := gwAuthenticate(t, h, d.CookieValue(sessionCookie)); strings.Join(p.Roles, ",") != "user" {
		t.Fatalf("default roles %q", p.Roles)
	}
	// No credential at all: nil, nil.
	p, err := h.Engine.Authenticate(httptest.NewRequest("GET", "http://app.test/", nil))
	if p != nil || err != nil {
		t.Fatalf("no credential: %v %v", p, err)
	}
}

func TestCacheInvalidation(t *testing.T) {
	type setup struct {
		h     *authcoretest.Harness
		st    *countingStore
		alice *authcoretest.Client // the session under test
		other *authcoretest.Client // a second session of the same user
		uid   string
	}
	newSetup := func(t *testing.T) setup {
		h, st := countingHarness(t, authcoretest.WithConfig(func(c *authcore.Config) {
			c.User.DeleteUser.Enabled = true
			c.Session.CacheTTL = time.Hour // only invalidation can end an entry early
		}))
		alice, body := h.SignUp("Alice", "alice@example.com", inpPassword)
		other := h.Client()
		if r := other.Post(authcore.PathSignInEmail, map[string]any{"email": "alice@example.com", "password": inpPassword}); r.StatusCode != 200 {
			t.Fatalf("second sign-in: %d", r.StatusCode)
		}
		return setup{h, st, alice, other, body["user"].(map[string]any)["id"].(string)}
	}
	gone := func(name string, act func(t *testing.T, s setup)) {
		t.Run(name, func(t *testing.T) {
			s := newSetup(t)
			cookie := s.alice.CookieValue(sessionCookie)
			cachedPrincipal(t, s.h, s.st, cookie)
			act(t, s)
			if p := gwAuthenticate(t, s.h, cookie); p != nil {
				t.Fatalf("after %s the cached session still authenticates: %+v", name, p)
			}
		})
	}
	gone("sign-out", func(t *testing.T, s setup) {
		if r := s.alice.Post(authcore.PathSignOut, nil); r.StatusCode != 200 {
			t.Fatal(r.StatusCode)
		}
	})
	gone("revoke-sessions from another session", func(t *testing.T, s setup) {
		if r := s.other.Post(authcore.PathRevokeSessions, nil); r.StatusCode != 200 {
			t.Fatal(r.StatusCode)
		}
	})
	gone("revoke-other-sessions", func(t *testing.T, s setup) {
		if r := s.other.Post(authcore.PathRevokeOtherSessions, nil); r.StatusCode != 200 {
			t.Fatal(r.StatusCode)
		}
	})
	gone("revoke-session by handle", func(t *testing.T, s setup) {
		list := s.other.Get(authcore.PathListSessions).JSON().([]any)
		p := gwAuthenticate(t, s.h, s.alice.CookieValue(sessionCookie))
		handle := s.h.Engine.SessionHandle(p.Session.ID())
		if len(list) != 2 {
			t.Fatalf("%d sessions listed", len(list))
		}
		if r := s.other.Post(authcore.PathRevokeSession, map[string]any{"token": handle}); r.StatusCode != 200 {
			t.Fatal(r.StatusCode)
		}
	})
	gone("password change revoking other sessions", func(t *testing.T, s setup) {
		r := s.other.Post(authcore.PathChangePassword, map[string]any{"currentPassword": inpPassword, "newPassword": "battery staple horse", "revokeOtherSessions": true})
		if r.StatusCode != 200 {
			t.Fatalf("%d %s", r.StatusCode, r.Body)
		}
	})
	gone("delete-user", func(t *testing.T, s setup) {
		if r := s.other.Post(authcore.PathDeleteUser, map[string]any{"password": inpPassword}); r.StatusCode != 200 {
			t.Fatalf("%d %s", r.StatusCode, r.Body)
		}
	})
	gone("Engine.DeleteUser", func(t *testing.T, s setup) {
		if err := s.h.Engine.DeleteUser(t.Context(), s.uid); err != nil {
			t.Fatal(err)
		}
	})
	gone("Engine.RevokeUserSessions", func(t *testing.T, s setup) {
		if _, err := s.h.Engine.RevokeUserSessions(t.Context(), s.uid, ""); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("role change", func(t *testing.T) {
		s := newSetup(t)
		cookie := s.alice.CookieValue(sessionCookie)
		if p := cachedPrincipal(t, s.h, s.st, cookie); strings.Join(p.Roles, ",") != "user" {
			t.Fatalf("roles %v", p.Roles)
		}
		if _, err := s.h.Engine.UpdateUser(t.Context(), s.uid, storage.Record{"role": "admin"}); err != nil {
			t.Fatal(err)
		}
		if p := gwAuthenticate(t, s.h, cookie); strings.Join(p.Roles, ",") != "admin" {
			t.Fatalf("after promotion roles %v", p.Roles)
		}
		cachedPrincipal(t, s.h, s.st, cookie)
		// A downgrade takes effect at once too (SES-02: never stale for admin routes).
		if _, err := s.h.Engine.UpdateUser(t.Context(), s.uid, storage.Record{"role": "user"}); err != nil {
			t.Fatal(err)
		}
		if p := gwAuthenticate(t, s.h, cookie); strings.Join(p.Roles, ",") != "user" {
			t.Fatalf("after downgrade roles %v", p.Roles)
		}
	})
	t.Run("profile update through the API", func(t *testing.T) {
		s := newSetup(t)
		cookie := s.alice.CookieValue(sessionCookie)
		cachedPrincipal(t, s.h, s.st, cookie)
		s.other.Post(authcore.PathUpdateUser, map[string]any{"name": "Alice Renamed"})
		if p := gwAuthenticate(t, s.h, cookie); p.User.String("name") != "Alice Renamed" {
			t.Fatalf("stale user in the cache: %q", p.User.String("name"))
		}
	})
	t.Run("another user's writes keep the entry", func(t *testing.T) {
		s := newSetup(t)
		cookie := s.alice.CookieValue(sessionCookie)
		invalidated := 0
		for i := range 5 {
			cachedPrincipal(t, s.h, s.st, cookie)
			s.h.SignUp("Bob", fmt.Sprintf("bob%d@example.com", i), inpPassword)
			s.st.reset()
			gwAuthenticate(t, s.h, cookie)
			if s.st.n("read:") != 0 {
				invalidated++
			}
		}
		// Generations are striped (4096 stripes), so an unrelated user may rarely share
		// alice's stripe; a write must not invalidate everyone.
		if invalidated > 1 {
			t.Fatalf("%d of 5 unrelated sign-ups invalidated alice's cached session", invalidated)
		}
	})
}

func TestCacheRefusesForgedCookies(t *testing.T) {
	h, st := countingHarness(t)
	alice, body := h.SignUp("Alice", "alice@example.com", inpPassword)
	mallory, _ := h.SignUp("Mallory", "mallory@example.com", inpPassword)
	good := alice.CookieValue(sessionCookie)
	cachedPrincipal(t, h, st, good) // alice's exact value is in the cache now
	tok := body["token"].(string)
	sig := strings.TrimPrefix(good, tok+".")
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	for name, v := range map[string]string{
		"flipped token":         flip(tok, 31) + "." + sig,
		"flipped signature":     tok + "." + flip(sig, 0),
		"no signature":          tok,
		"bare dot":              tok + ".",
		"grafted signature":     tok + "." + strings.SplitN(mallory.CookieValue(sessionCookie), ".", 2)[1],
		"signed by another key": signJS("another-secret-0123456789abcdef0123456789", tok),
		"truncated":             good[:len(good)-3],
		"appended":              good + "x",
		"double cookie value":   good + good,
		"garbage":               "%%%",
	} {
		t.Run(name, func(t *testing.T) {
			p, err := h.Engine.Authenticate(gatewayRequest(v))
			if p != nil || err != nil {
				t.Fatalf("forged cookie gave %+v, %v", p, err)
			}
		})
	}
	// The genuine value still works, from the cache.
	cachedPrincipal(t, h, st, good)
	// Two different session cookies (cookie tossing) are no credential at all.
	r := gatewayRequest(good)
	r.Header.Add("Cookie", sessionCookie+"="+mallory.CookieValue(sessionCookie))
	if p, err := h.Engine.Authenticate(r); p != nil || err != nil {
		t.Fatalf("two session cookies: %+v %v", p, err)
	}
}

// A cache shared across engines (config reloads, D15) never serves an entry verified
// under another secret.
func TestSharedCacheAcrossSecrets(t *testing.T) {
	cache := authcore.NewSessionCache(1000)
	shared := memory.NewStore()
	opts := func(secret string) []authcoretest.Option {
		return []authcoretest.Option{
			authcoretest.WithConfig(func(c *authcore.Config) { c.Secret = secret; c.Session.CacheTTL = time.Hour }),
			authcoretest.WithEngineOptions(authcore.WithSessionCache(cache), authcore.WithStore(shared)),
		}
	}
	h1 := authcoretest.New(t, opts(authcoretest.Secret)...)
	c, _ := h1.SignUp("Alice", "alice@example.com", inpPassword)
	cookie := c.CookieValue(sessionCookie)
	if gwAuthenticate(t, h1, cookie) == nil || cache.Len() == 0 {
		t.Fatalf("not cached (%d entries)", cache.Len())
	}
	h2 := authcoretest.New(t, opts("a-completely-different-secret-0123456789abcdef")...)
	if p := gwAuthenticate(t, h2, cookie); p != nil {
		t.Fatalf("an engine with another secret accepted a cookie it cannot verify: %+v", p)
	}
	// After a rotation that keeps the old secret as previous, the old cookie stays valid.
	h3 := authcoretest.New(t, append(opts("the-new-current-secret-0123456789abcdef"),
		authcoretest.WithConfig(func(c *authcore.Config) { c.PreviousSecrets = []string{authcoretest.Secret} }))...)
	if p := gwAuthenticate(t, h3, cookie); p == nil {
		t.Fatal("previous secret no longer verifies")
	}
}

// Entries that can never be served again — of a signed-out session, past their deadline —
// are dropped by the first put 10 s after the last sweep, not kept until the cache is full.
func TestCacheDropsDeadEntries(t *testing.T) {
	cache := authcore.NewSessionCache(100000)
	h := authcoretest.New(t,
		authcoretest.WithConfig(func(c *authcore.Config) { c.Session.CacheTTL = time.Hour }),
		authcoretest.WithEngineOptions(authcore.WithSessionCache(cache)))
	var clients []*authcoretest.Client
	cached := func(i int) {
		t.Helper()
		if gwAuthenticate(t, h, clients[i].CookieValue(sessionCookie)) == nil {
			t.Fatalf("session %d: no principal", i)
		}
	}
	signUp := func() {
		c, _ := h.SignUp("User", fmt.Sprintf("user%d@example.com", len(clients)), inpPassword)
		clients = append(clients, c)
		cached(len(clients) - 1)
	}
	for range 5 {
		signUp()
	}
	for _, c := range clients[:2] {
		if r := c.Post("/sign-out", nil); r.StatusCode != http.StatusOK {
			t.Fatalf("sign-out: %d %s", r.StatusCode, r.Body)
		}
	}
	signUp() // within 10 s of the first put's sweep: nothing dropped yet
	if n := cache.Len(); n != 6 {
		t.Fatalf("%d entries before a sweep is due, want 6", n)
	}
	h.Clock.Advance(11 * time.Second)
	signUp() // sweeps: the two signed-out sessions go
	if n := cache.Len(); n != 5 {
		t.Fatalf("%d entries after the sweep, want 5 (2 signed out of 7)", n)
	}
	cached(2) // the live ones are still served
	h.Clock.Advance(2 * time.Hour)
	signUp() // every earlier entry is past its deadline
	if n := cache.Len(); n != 1 {
		t.Fatalf("%d entries once all but the newest expired, want 1", n)
	}
}

func TestCachedSessionExpires(t *testing.T) {
	h, st := countingHarness(t, authcoretest.WithConfig(func(c *authcore.Config) {
		c.Session.ExpiresIn = time.Hour
		c.Session.UpdateAge = 30 * time.Minute
		c.Session.CacheTTL = 48 * time.Hour
	}))
	c, _ := h.SignUp("Alice", "alice@example.com", inpPassword)
	cookie := c.CookieValue(sessionCookie)
	cachedPrincipal(t, h, st, cookie)
	h.Clock.Advance(59 * time.Minute)
	cachedPrincipal(t, h, st, cookie)
	h.Clock.Advance(time.Minute)
	if p := gwAuthenticate(t, h, cookie); p != nil {
		t.Fatalf("expired session served (from the cache?): %+v", p)
	}
	t.Run("default TTL", func(t *testing.T) {
		h, st := countingHarness(t)
		c, _ := h.SignUp("Alice", "alice@example.com", inpPassword)
		cookie := c.CookieValue(sessionCookie)
		cachedPrincipal(t, h, st, cookie)
		h.Clock.Advance(10 * time.Second)
		st.reset()
		if gwAuthenticate(t, h, cookie) == nil || st.n("read:session") == 0 {
			t.Fatal("entry outlived the 10 s TTL")
		}
	})
	t.Run("cache disabled", func(t *testing.T) {
		h, st := countingHarness(t, authcoretest.WithConfig(func(c *authcore.Config) { c.Session.CacheTTL = -1 }))
		c, _ := h.SignUp("Alice", "alice@example.com", inpPassword)
		for i := 0; i < 2; i++ {
			st.reset()
			if gwAuthenticate(t, h, c.CookieValue(sessionCookie)) == nil || st.n("read:session") == 0 {
				t.Fatal("CacheTTL < 0 still caches")
			}
		}
	})
}

func TestRefreshAfterUpdateAge(t *testing.T) {
	h, st := countingHarness(t)
	c, _ := h.SignUp("Alice", "alice@example.com", inpPassword)
	cookie := c.CookieValue(sessionCookie)
	if p := gwAuthenticate(t, h, cookie); p.Refresh {
		t.Fatal("a new session needs no refresh")
	}
	h.Clock.Advance(23 * time.Hour)
	if p := gwAuthenticate(t, h, cookie); p.Refresh {
		t.Fatal("refresh before update_age")
	}
	h.Clock.Advance(time.Hour)
	p := gwAuthenticate(t, h, cookie)
	if !p.Refresh {
		t.Fatal("no refresh after update_age")
	}
	s := &authcore.Session{Session: p.Session, User: p.User}

	st.reset()
	const n = 20
	var wg sync.WaitGroup
	start := make(chan struct{})
	results := make([]time.Time, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			<-start
			results[i], errs[i] = h.Engine.RefreshSession(t.Context(), s)
		})
	}
	close(start)
	wg.Wait()
	want := h.Clock.Now().Add(7 * 24 * time.Hour)
	for i := range n {
		if errs[i] != nil || !results[i].Equal(want) {
			t.Fatalf("refresher %d: %v %v, want %v", i, results[i], errs[i], want)
		}
	}
	if got := st.n("update:session"); got != 1 {
		t.Fatalf("%d session writes for %d concurrent refreshes, want 1", got, n)
	}
	rec, err := h.Engine.Store().FindOne(t.Context(), "session", storage.ByID(s.ID()))
	if err != nil || !rec.Time("expiresAt").Equal(want) {
		t.Fatalf("stored expiry %v %v", rec.Time("expiresAt"), err)
	}
	// The cached principal sees the new expiry at once and needs no further refresh.
	if p := gwAuthenticate(t, h, cookie); p.Refresh || !p.Session.Time("expiresAt").Equal(want) {
		t.Fatalf("after refresh: Refresh %v expiresAt %v", p.Refresh, p.Session.Time("expiresAt"))
	}
	// Refreshing again is a no-op.
	st.reset()
	if _, err := h.Engine.RefreshSession(t.Context(), s); err != nil || st.n("update:") != 0 {
		t.Fatalf("second refresh wrote %d times (%v)", st.n("update:"), err)
	}
	// Refresh never pushes past the absolute lifetime: used every 6 days, the session is
	// extended until createdAt+max_age, and not a second longer.
	created := p.Session.Time("createdAt")
	limit := created.Add(30 * 24 * time.Hour)
	capped := false
	for range 10 {
		h.Clock.Advance(6 * 24 * time.Hour)
		p = gwAuthenticate(t, h, cookie)
		if p == nil {
			break
		}
		exp, err := h.Engine.RefreshSession(t.Context(), &authcore.Session{Session: p.Session, User: p.User})
		if err != nil || exp.After(limit) {
			t.Fatalf("refresh on %v: %v %v, past %v", h.Clock.Now(), exp, err, limit)
		}
		capped = capped || exp.Equal(limit)
	}
	if !capped || p != nil || h.Clock.Now().Before(limit) {
		t.Fatalf("capped %v, principal %+v at %v", capped, p, h.Clock.Now())
	}
}

// otherUserAuth is a bearer-position authenticator naming whichever user X-Probe-User says.
type otherUserAuth struct{}

func (otherUserAuth) Authenticate(r *http.Request) (*authcore.Principal, bool, error) {
	id := r.Header.Get("X-Probe-User")
	if id == "" {
		return nil, false, nil
	}
	return &authcore.Principal{Method: "bearer", UserID: id}, true, nil
}

func TestConflictingCredentials(t *testing.T) {
	p := &probePlugin{id: "probe-bearer", reg: func(r *authcore.Registrar) error {
		r.Authenticator(authcore.OrderBearer, otherUserAuth{})
		return nil
	}}
	h := authcoretest.New(t, authcoretest.WithPlugins(p))
	alice, ab := h.SignUp("Alice", "alice@example.com", inpPassword)
	_, bb := h.SignUp("Bob", "bob@example.com", inpPassword)
	aliceID := ab["user"].(map[string]any)["id"].(string)
	bobID := bb["user"].(map[string]any)["id"].(string)
	cookie := alice.CookieValue(sessionCookie)

	for _, cached := range []bool{false, true} {
		r := gatewayRequest(cookie)
		r.Header.Set("X-Probe-User", bobID)
		pr, err := h.Engine.Authenticate(r)
		if pr != nil || err == nil {
			t.Fatalf("cached=%v: alice's cookie + bob's bearer gave %+v, %v", cached, pr, err)
		}
		if e := authcore.AsError(err); e.Status != http.StatusUnauthorized || e.Code != "UNAUTHORIZED" {
			t.Fatalf("conflict error %+v", e)
		}
	}
	r := gatewayRequest(cookie)
	r.Header.Set("X-Probe-User", aliceID)
	if pr, err := h.Engine.Authenticate(r); err != nil || pr == nil || pr.UserID != aliceID || pr.Method != "session" {
		t.Fatalf("two credentials of one user: %+v %v", pr, err)
	}
	r = httptest.NewRequest("GET", "http://app.test/", nil)
	r.Header.Set("X-Probe-User", bobID)
	if pr, err := h.Engine.Authenticate(r); err != nil || pr == nil || pr.UserID != bobID || pr.Method != "bearer" {
		t.Fatalf("bearer alone: %+v %v", pr, err)
	}
	// A forged cookie next to a valid bearer is no credential, not a conflict.
	r = gatewayRequest("forged.value")
	r.Header.Set("X-Probe-User", bobID)
	if pr, err := h.Engine.Authenticate(r); err != nil || pr == nil || pr.UserID != bobID {
		t.Fatalf("forged cookie + bearer: %+v %v", pr, err)
	}
}

// DUR-02: storage faults fail closed, answered 503 SERVICE_UNAVAILABLE (issue 12).
func TestStorageFaults(t *testing.T) {
	h, st := countingHarness(t)
	c, _ := h.SignUp("Alice", "alice@example.com", inpPassword)
	signIn := map[string]any{"email": "alice@example.com", "password": inpPassword}

	st.failCreate.Store("session")
	before := inpRowCounts(t, h)
	r := h.Client().Post(authcore.PathSignInEmail, signIn)
	wantEnvelope(t, "sign-in with a failing store", r, 503, "SERVICE_UNAVAILABLE", "Service temporarily unavailable")
	if cs := r.Header.Values("Set-Cookie"); len(cs) != 0 {
		t.Fatalf("failed sign-in set cookies %v", cs)
	}
	inpSameRows(t, h, before)
	r = h.Client().Post(authcore.PathSignUpEmail, map[string]any{"name": "Bob", "email": "bob@example.com", "password": inpPassword})
	if r.StatusCode != 503 || len(r.Header.Values("Set-Cookie")) != 0 {
		t.Fatalf("sign-up with a failing session store: %d %v", r.StatusCode, r.Header.Values("Set-Cookie"))
	}
	st.failCreate.Store("")
	if r := h.Client().Post(authcore.PathSignInEmail, signIn); r.StatusCode != 200 {
		t.Fatalf("after recovery: %d %s", r.StatusCode, r.Body)
	}

	// Failing reads: the API answers 503 and keeps the caller's cookie (no sign-out by
	// accident); the gateway gets an error, never an anonymous verdict or a stale identity.
	fresh := h.Client()
	fresh.Post(authcore.PathSignInEmail, signIn)
	st.failReads.Store(true)
	r = c.Get(authcore.PathGetSession)
	wantEnvelope(t, "get-session with failing reads", r, 503, "SERVICE_UNAVAILABLE", "Service temporarily unavailable")
	if cs := r.Header.Values("Set-Cookie"); len(cs) != 0 {
		t.Fatalf("storage failure cleared cookies: %v", cs)
	}
	p, err := h.Engine.Authenticate(gatewayRequest(fresh.CookieValue(sessionCookie)))
	if p != nil || err == nil {
		t.Fatalf("gateway with failing reads: %+v %v", p, err)
	}
	if e := authcore.AsError(err); e.Status < 500 {
		t.Fatalf("gateway storage failure status %d", e.Status)
	}
	st.failReads.Store(false)
	if gwAuthenticate(t, h, fresh.CookieValue(sessionCookie)) == nil {
		t.Fatal("after recovery: no principal")
	}
}

// D10: the sweeper removes expired sessions (sliding and absolute) and verification rows,
// and nothing live.
func TestSweep(t *testing.T) {
	for _, store := range []string{"memory", "bolt"} {
		t.Run(store, func(t *testing.T) {
			var opts []authcoretest.Option
			if store == "bolt" {
				opts = append(opts, authcoretest.WithBolt())
			}
			h := authcoretest.New(t, opts...)
			ctx := t.Context()
			t0 := h.Clock.Now()
			_, ab := h.SignUp("Alice", "alice@example.com", inpPassword) // expires t0+7d
			aliceID := ab["user"].(map[string]any)["id"].(string)
			aliceSession := sessionID(t, h, ab["token"].(string))
			if err := h.Engine.CreateVerification(ctx, "v-short", "x", time.Hour); err != nil {
				t.Fatal(err)
			}
			if err := h.Engine.CreateVerification(ctx, "v-long", "x", 30*24*time.Hour); err != nil {
				t.Fatal(err)
			}
			// Rows as an import or an older configuration may have left them: alive by
			// sliding expiry, one of them past the absolute max_age.
			row := func(id string, created, expires time.Time) {
				_, err := h.Engine.Store().Create(ctx, "session", storage.Record{
					"id": id, "token": authcore.HashToken(id), "userId": aliceID,
					"createdAt": created, "updatedAt": created, "expiresAt": expires,
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			row("past-max-age", t0.Add(-30*24*time.Hour-time.Second), t0.Add(24*time.Hour))
			row("old-but-young-enough", t0.Add(-29*24*time.Hour), t0.Add(24*time.Hour))

			ids := func(model string) []string {
				recs, err := h.Engine.Store().FindMany(ctx, model, storage.Query{Sort: []storage.SortField{{Field: "createdAt"}}})
				if err != nil {
					t.Fatal(err)
				}
				var out []string
				for _, r := range recs {
					if model == "verification" {
						out = append(out, r.String("identifier"))
					} else {
						out = append(out, r.ID())
					}
				}
				return out
			}
			sweep := func(want int) {
				t.Helper()
				n, err := h.Engine.Sweep(ctx)
				if err != nil || n != want {
					t.Fatalf("Sweep = %d, %v; want %d", n, err, want)
				}
			}
			has := func(model string, want ...string) {
				t.Helper()
				got := ids(model)
				slices.Sort(got)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Fatalf("%s rows %v, want %v", model, got, want)
				}
			}

			sweep(1)
			has("session", "old-but-young-enough", aliceSession)
			has("verification", "v-short", "v-long")

			h.Clock.Advance(2 * time.Hour)
			_, bb := h.SignUp("Bob", "bob@example.com", inpPassword) // expires t0+7d+2h
			bobSession := sessionID(t, h, bb["token"].(string))
			sweep(1)
			has("verification", "v-long")
			has("session", "old-but-young-enough", aliceSession, bobSession)

			h.Clock.Advance(7*24*time.Hour - 2*time.Hour) // exactly alice's expiry
			sweep(2)                                      // alice (sliding) and the imported row
			has("session", bobSession)
			has("verification", "v-long")
			sweep(0)
			if n, _ := h.Engine.Store().Count(ctx, "user", storage.Where{}); n != 2 {
				t.Fatalf("the sweeper removed users (%d left)", n)
			}
		})
	}
}
