package caddymodule

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/plugins/apikey"
	"github.com/gatehouse-auth/gatehouse/plugins/bearer"
	"github.com/gatehouse-auth/gatehouse/storage/faultstore"
	"github.com/gatehouse-auth/gatehouse/storage/memory"
)

// lockedBuffer is a log destination the engine and the test share.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestGatewayStorageFaults is issue 12 through the real handler: while storage fails, a
// request carrying a session cookie, a bearer token or an API key is answered 503 with the
// envelope and Retry-After — on protected and public routes alike, and on /verify — and the
// upstream receives nothing: a credential that cannot be checked never becomes "anonymous".
// A request without a credential needs no storage and is judged as always. When only writes
// fail, an existing session still works while a quota'd API key (whose use is a write) is
// refused. The engine logs the outage once and its end once; the handler logs nothing per
// request. When the fault clears, the same credentials work again.
func TestGatewayStorageFaults(t *testing.T) {
	var faults faultstore.Faults
	var engineLog lockedBuffer
	keys := &apikey.Plugin{LeaseSize: 1} // every use of a quota'd key is a write
	hn := authcoretest.New(t,
		authcoretest.WithPlugins(&bearer.Plugin{}, keys),
		authcoretest.WithEngineOptions(
			authcore.WithStore(faults.Store(memory.NewStore())),
			authcore.WithLogger(slog.New(slog.NewTextHandler(&engineLog, nil)))))
	hd := &Handler{Rules: []Rule{{Kind: KindPublic, Paths: []string{"/public/*"}}}}
	core, handlerLog := observer.New(zapcore.DebugLevel)
	if err := hd.provision(testCtx(t), hn.Engine, zap.New(core)); err != nil {
		t.Fatalf("provision: %v", err)
	}
	f := &fixture{t: t, hn: hn, h: hd, up: &upstream{}}

	ada := f.signUp("Ada", "ada@example.com")
	signIn := hn.Client().Post("/sign-in/email", map[string]any{"email": "ada@example.com", "password": testPassword})
	token := signIn.Header.Get("set-auth-token")
	remaining := int64(100)
	created, err := keys.CreateAPIKey(t.Context(), authcore.APIKeyParams{UserID: ada.userID, Name: "k", Remaining: &remaining})
	key, _ := created["key"].(string)
	if token == "" || key == "" {
		t.Fatalf("bearer token %q, api key %v %v", token, created, err)
	}
	creds := []struct {
		name string
		hdr  []string
	}{
		{"session cookie", []string{"Cookie", ada.cookie}},
		{"bearer token", []string{"Authorization", "Bearer " + token}},
		{"api key", []string{"X-Api-Key", key}},
	}
	allowed := func(phase string) {
		t.Helper()
		for _, c := range creds {
			before := f.up.calls
			s := f.serve("GET", "/app", nil, c.hdr...)
			if s.rec.Code != http.StatusOK || f.up.calls != before+1 || f.up.got.Header.Get("X-Auth-User-Id") != ada.userID {
				t.Fatalf("%s, %s: %d %s, upstream calls %d→%d", phase, c.name, s.rec.Code, s.rec.Body, before, f.up.calls)
			}
		}
	}
	refused := func(phase, name, method, target string, hdr []string) {
		t.Helper()
		before := f.up.calls
		s := f.serve(method, target, nil, hdr...)
		if s.rec.Code != http.StatusServiceUnavailable || f.up.calls != before {
			t.Errorf("%s, %s on %s: %d %s, upstream calls %d→%d; want 503 and nothing upstream",
				phase, name, target, s.rec.Code, s.rec.Body, before, f.up.calls)
			return
		}
		if env := s.envelope(t); env["code"] != "SERVICE_UNAVAILABLE" || s.rec.Header().Get("Retry-After") != "5" ||
			strings.Contains(s.rec.Body.String(), "injected") {
			t.Errorf("%s, %s on %s: envelope %v, headers %v", phase, name, target, env, s.rec.Header())
		}
	}
	allowed("before the fault")

	// Past the session and API-key caches' lifetimes: every check must ask storage.
	hn.Clock.Advance(time.Minute)
	faults.Fail(faultstore.All, nil)
	for _, c := range creds {
		refused("storage down", c.name, "GET", "/app", c.hdr)
		refused("storage down", c.name, "GET", "/public/page", c.hdr)
		refused("storage down", c.name, "GET", "/api/auth/verify", append([]string{"X-Forwarded-Uri", "/app"}, c.hdr...))
	}
	// No credential: nothing to look up, judged as ever (401 protected, public served bare).
	if s := f.serve("GET", "/app", nil); s.rec.Code != http.StatusUnauthorized {
		t.Errorf("storage down, no credential, protected: %d", s.rec.Code)
	}
	before := f.up.calls
	if s := f.serve("GET", "/public/page", nil); s.rec.Code != http.StatusOK || f.up.calls != before+1 ||
		len(identityHeaders(f.up.got)) != 0 {
		t.Errorf("storage down, no credential, public: %d, identity %v", s.rec.Code, identityHeaders(f.up.got))
	}

	// Writes fail, reads work (a full disk): the session is valid and used; the API key's
	// quota cannot be taken, so the key is refused rather than served for free.
	faults.Fail(faultstore.Writes, nil)
	hn.Clock.Advance(time.Minute)
	if s := f.serve("GET", "/app", nil, creds[0].hdr...); s.rec.Code != http.StatusOK {
		t.Errorf("failing writes, session cookie: %d %s", s.rec.Code, s.rec.Body)
	}
	refused("failing writes", "api key with a quota", "GET", "/app", creds[2].hdr)

	if n := handlerLog.FilterMessage("gateway check failed").Len(); n != 0 {
		t.Errorf("the handler logged %d failures one by one", n)
	}

	faults.Clear()
	allowed("after the fault cleared")
	// Two outages as the engine saw them: reads failing (9 refusals: three credentials on
	// three paths) until the first successful read, then writes failing (the key's quota)
	// until the first successful write. One line each way, nothing per request.
	want := []string{
		"storage unavailable: faultstore: injected I/O error — refusing requests with 503",
		"storage recovered after 1m0s (9 requests refused)",
		"storage unavailable: faultstore: injected I/O error — refusing requests with 503",
		"storage recovered after 0s (1 requests refused)",
	}
	var got []string
	for _, l := range strings.Split(engineLog.String(), "\n") {
		if strings.Contains(l, "storage ") {
			got = append(got, l)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("storage log lines:\n%s\nwant %d", strings.Join(got, "\n"), len(want))
	}
	for i := range want {
		if !strings.Contains(got[i], want[i]) {
			t.Errorf("log line %d: %s\nwant %q", i, got[i], want[i])
		}
	}
}

// TestGatewayStorageFaultsSharedKeyLimit: on a shared store an API key's per-key rate
// limit is counted in the database; when that write fails, the key is refused with 503 —
// not let through, and not answered as over its limit (429).
func TestGatewayStorageFaultsSharedKeyLimit(t *testing.T) {
	var faults faultstore.Faults
	keys := &apikey.Plugin{}
	f := newFixture(t, &Handler{}, authcoretest.WithPlugins(keys),
		authcoretest.WithConfig(func(c *authcore.Config) { c.RateLimit.Storage = authcore.RateLimitDatabase }),
		authcoretest.WithEngineOptions(authcore.WithStore(faults.Store(memory.NewStore())), authcore.WithSharedStore()))
	ada := f.signUp("Ada", "ada@example.com")
	on, window, max := true, time.Minute, int64(100)
	created, err := keys.CreateAPIKey(t.Context(), authcore.APIKeyParams{UserID: ada.userID, Name: "k",
		RateLimitEnabled: &on, RateLimitTimeWindow: &window, RateLimitMax: &max})
	key, _ := created["key"].(string)
	if key == "" {
		t.Fatalf("api key %v %v", created, err)
	}
	if s := f.serve("GET", "/app", nil, "X-Api-Key", key); s.rec.Code != http.StatusOK || f.up.calls != 1 {
		t.Fatalf("before the fault: %d %s", s.rec.Code, s.rec.Body)
	}
	faults.Fail(faultstore.Writes, nil)
	s := f.serve("GET", "/app", nil, "X-Api-Key", key)
	if s.rec.Code != http.StatusServiceUnavailable || f.up.calls != 1 || s.envelope(t)["code"] != "SERVICE_UNAVAILABLE" {
		t.Errorf("per-key limit with failing writes: %d %s, upstream calls %d", s.rec.Code, s.rec.Body, f.up.calls)
	}
	faults.Clear()
	if s := f.serve("GET", "/app", nil, "X-Api-Key", key); s.rec.Code != http.StatusOK || f.up.calls != 2 {
		t.Errorf("after the fault cleared: %d %s", s.rec.Code, s.rec.Body)
	}
}
