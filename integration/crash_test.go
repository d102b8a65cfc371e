package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/cmd/gatehouse/gatehousecmd"
	"github.com/gatehouse-auth/gatehouse/plugins/apikey"
	"github.com/gatehouse-auth/gatehouse/storage"
	"github.com/gatehouse-auth/gatehouse/storage/migrate"
)

// The crash test's bounds: it kills the binary crashKills times, or as many as fit in
// crashLoadFor of load (a -race binary takes a second or two to start on a loaded 2-core
// machine), and fails if fewer than crashMinKills fit, as the test would prove little.
const (
	crashKills    = 24
	crashMinKills = 5
	crashLoadFor  = 75 * time.Second
	crashWorkers  = 4
	// crashLeaseSize is the api-key plugin's lease_size: small against the quotas below, so
	// a key's quota is leased in several blocks across the lives of the process.
	crashLeaseSize = 4
	// At most this many users and keys are created (then sign-ups become sign-ins, key
	// creations gateway requests), so the final checks stay short: each user's sign-in
	// hashes a password.
	crashMaxUsers = 40
	crashMaxKeys  = 60
)

// TestCrashSafety: the real binary is killed with SIGKILL many times, at seeded-random
// moments, while clients sign up, sign in, create API keys with a quota (admin API) and
// spend those quotas through the gateway; it is restarted on the same bbolt file each
// time. Afterwards (one last kill under load, then a clean restart):
//   - every sign-up answered 2xx signs in with its password, every session token answered
//     2xx still authenticates, every API key answered 201 is still listed and authenticates;
//   - quotas are never over-served or refilled by a crash: per key, the upstream (the
//     test's own server, the ground truth) saw at most the quota, the stored remaining is
//     at most the quota minus the requests the upstream saw, and the key then serves
//     exactly that remaining before 429 USAGE_EXCEEDED;
//   - nothing is half-written: the file passes bbolt's consistency check, and read back
//     through storage/bolt with the binary's schema every record has its required fields,
//     every reference resolves (session, account and API key → user), every unique index
//     finds its record, and every user has its credential account.
//
// While the process is up a recorded write that is found missing (a recorded user's
// sign-in answered 401, a recorded key answered 401 at the gateway) or any 5xx fails the
// test too. GATEHOUSE_CRASH_SEED=<n> repeats a run's kill delays and client choices (the
// interleaving still depends on timing).
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts the binary a few dozen times")
	}
	seed := crashSeed(t)
	t.Logf("seed %d (GATEHOUSE_CRASH_SEED)", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	up := newQuotaUpstream()
	t.Cleanup(up.srv.Close)
	gw := freePorts(t, 1)[0]
	base := fmt.Sprintf("http://localhost:%d", gw)
	cf := fmt.Sprintf(`{
	admin {ADMIN}
	gatehouse {
		base_url %[1]s
		storage bbolt gatehouse.db
		rate_limit off
		api_key {
			lease_size %[3]d
		}
	}
}
%[1]s {
	gatehouse {
		public /health
	}
	reverse_proxy %[2]s
}
`, base, strings.TrimPrefix(up.srv.URL, "http://"), crashLeaseSize)
	s := StartServer(t, cf, base+"/health")

	w := &crashWorkload{
		base: base, admin: "http://" + s.Admin, led: newCrashLedger(),
		client: &http.Client{Timeout: 15 * time.Second, Transport: secretRecorder{base: &http.Transport{MaxIdleConnsPerHost: crashWorkers}}},
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	stopLoad := sync.OnceFunc(func() { close(stop); wg.Wait() })
	t.Cleanup(stopLoad)
	for i := range crashWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.run(rand.New(rand.NewPCG(seed, uint64(i)+2)), i, stop)
		}()
	}

	// The killer: once this life of the process has answered a sign-up or sign-in (the
	// slowest writes: a password hash; on a loaded machine a -race sign-up takes a second
	// or more, so a fixed period could kill every life before it answers one), 150–700 ms
	// more of load, SIGKILL, restart on the same files, and again. The last kill happens
	// under load too; then the clients stop and the server starts cleanly.
	started := time.Now()
	kills := 0
	for {
		w.led.waitAnswered(w.led.answered(opSignUp, opSignIn)+1, started.Add(crashLoadFor), opSignUp, opSignIn)
		time.Sleep(150*time.Millisecond + time.Duration(rng.Int64N(int64(550*time.Millisecond))))
		s.kill()
		kills++
		if kills >= crashKills || time.Since(started) > crashLoadFor {
			break
		}
		s = restartServer(t, s, base+"/health")
	}
	stopLoad()
	loadTime := time.Since(started)
	s = restartServer(t, s, base+"/health")

	led := w.led
	led.mu.Lock()
	defer led.mu.Unlock()
	t.Logf("seed %d: %d kills in %s of load; %s", seed, kills, loadTime.Round(time.Millisecond), led.summary())
	if kills < crashMinKills {
		t.Fatalf("only %d kills fit in %s (want at least %d): the machine is too slow for this test to mean much", kills, crashLoadFor, crashMinKills)
	}
	for _, kind := range []string{opSignUp, opSignIn, opKeyCreate, opGateway} {
		if led.ok[kind] == 0 {
			t.Fatalf("no %s was answered 2xx during the load: the test proved nothing (%s)", kind, led.summary())
		}
	}
	if len(led.violations) > 0 {
		t.Errorf("%d violations while the process was up, first ones:\n%s", len(led.violations), strings.Join(led.violations[:min(10, len(led.violations))], "\n"))
	}

	// After the crashes: every answered write is there.
	v := &crashVerifier{t: t, w: w}
	v.users()
	v.sessions()
	v.keys(up)
	s.Stop()
	for _, k := range led.keys {
		if hits := up.hits(k.id); hits > k.quota || k.served > hits {
			t.Errorf("key %s (quota %d): the upstream saw %d requests over the whole test, the clients were answered 200 %d times", k.id, k.quota, hits, k.served)
		}
	}

	// Nothing half-written.
	data := filepath.Join(s.Dir, "gatehouse.db")
	if users := checkBoltSnapshot(t, data); users < len(led.users) {
		t.Errorf("the file holds %d users, %d sign-ups were answered", users, len(led.users))
	}
	checkReferences(t, s, data)
}

// crashSeed is GATEHOUSE_CRASH_SEED when set (to repeat a run), else a fresh seed; it is
// logged either way.
func crashSeed(t *testing.T) uint64 {
	if v := os.Getenv("GATEHOUSE_CRASH_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("GATEHOUSE_CRASH_SEED=%q: %v", v, err)
		}
		return n
	}
	return uint64(time.Now().UnixNano())
}

// kill ends the process with SIGKILL (by its PID: only the process this test started) and
// waits until it has exited, so the next start finds the ports and the file lock free.
func (s *Server) kill() {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		s.t.Fatalf("SIGKILL: %v", err)
	}
	_ = s.cmd.Wait() // "signal: killed"
	s.stopped = true
}

// quotaUpstream is the app behind the gateway: it counts the requests that reach it per
// API key id (the gateway's X-Auth-Api-Key-Id header), the ground truth of quota use.
type quotaUpstream struct {
	srv   *httptest.Server
	mu    sync.Mutex
	byKey map[string]int64
}

func newQuotaUpstream() *quotaUpstream {
	u := &quotaUpstream{byKey: map[string]int64{}}
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id := r.Header.Get("X-Auth-Api-Key-Id"); id != "" {
			u.mu.Lock()
			u.byKey[id]++
			u.mu.Unlock()
		}
		io.WriteString(w, "upstream ok")
	}))
	return u
}

func (u *quotaUpstream) hits(id string) int64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.byKey[id]
}

// The kinds of operation the clients run.
const (
	opSignUp    = "sign-up"
	opSignIn    = "sign-in"
	opKeyCreate = "key-create"
	opGateway   = "gateway"
)

type crashUser struct{ email, password string }

type crashSession struct{ email, cookie string }

type crashKey struct {
	id, key string
	quota   int64
	served  int64 // gateway answers 200 the clients received
}

// crashLedger records what the server answered 2xx: the writes that must survive.
type crashLedger struct {
	mu         sync.Mutex
	users      []crashUser
	sessions   []crashSession
	keys       []*crashKey
	ok         map[string]int         // kind → 2xx answers
	down       map[string]int         // kind → failures while the process was down
	statuses   map[string]map[int]int // kind → other statuses
	violations []string
}

func newCrashLedger() *crashLedger {
	return &crashLedger{ok: map[string]int{}, down: map[string]int{}, statuses: map[string]map[int]int{}}
}

// answered is the number of 2xx answers of those kinds so far.
func (l *crashLedger) answered(kinds ...string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, k := range kinds {
		n += l.ok[k]
	}
	return n
}

// waitAnswered waits until n writes of those kinds have been answered 2xx, or until
// deadline.
func (l *crashLedger) waitAnswered(n int, deadline time.Time, kinds ...string) {
	for l.answered(kinds...) < n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
}

func (l *crashLedger) summary() string {
	var b strings.Builder
	for _, kind := range []string{opSignUp, opSignIn, opKeyCreate, opGateway} {
		fmt.Fprintf(&b, "%s: %d answered 2xx, %d failed while down", kind, l.ok[kind], l.down[kind])
		if len(l.statuses[kind]) > 0 {
			fmt.Fprintf(&b, ", other %v", l.statuses[kind])
		}
		b.WriteString("; ")
	}
	var quota, served int64
	for _, k := range l.keys {
		quota += k.quota
		served += k.served
	}
	fmt.Fprintf(&b, "%d users, %d sessions, %d keys (quota %d in all, %d served)", len(l.users), len(l.sessions), len(l.keys), quota, served)
	return b.String()
}

// crashWorkload is the clients' side: plain HTTP against the live binary.
type crashWorkload struct {
	base, admin string
	client      *http.Client
	led         *crashLedger
}

// run is one client: mixed writes until stop. A transport error (connection refused or
// reset, EOF: the process is down) is counted, not recorded, and followed by a short pause.
func (w *crashWorkload) run(rng *rand.Rand, worker int, stop <-chan struct{}) {
	for n := 0; ; n++ {
		select {
		case <-stop:
			return
		default:
		}
		// An operation that has nothing to work on yet (no user, no key) falls back to the
		// one that makes it, so no client spins without requests.
		var (
			ran bool
			err error
		)
		switch p := rng.IntN(100); {
		case p < 20:
			if w.led.answered(opSignUp) >= crashMaxUsers {
				ran, err = w.signIn(rng)
			}
		case p < 35:
			ran, err = w.signIn(rng)
		case p < 45:
			if ran, err = w.createKey(rng); !ran {
				ran, err = w.useKey(rng)
			}
		default:
			if ran, err = w.useKey(rng); !ran {
				ran, err = w.createKey(rng)
			}
		}
		if !ran {
			err = w.signUp(rng, fmt.Sprintf("c%d-%d@example.com", worker, n))
		}
		if err != nil {
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// do sends a request and returns the status and body; err is a transport error.
func (w *crashWorkload) do(method, url string, body any, header http.Header) (int, []byte, http.Header, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return 0, nil, nil, err
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, nil, err // cut off mid-answer: as good as no answer
	}
	return resp.StatusCode, b, resp.Header, nil
}

// note records the outcome of one operation that was not answered 2xx.
func (w *crashWorkload) note(kind string, status int, err error, violation string) error {
	l := w.led
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case err != nil:
		l.down[kind]++
		return err
	case status == http.StatusServiceUnavailable && kind == opKeyCreate:
		// Caddy's admin endpoint is up before the config is loaded: "the gatehouse app is
		// not running" (caddymodule.runningEngine) while the process starts.
	case status >= 500:
		violation = fmt.Sprintf("%s answered %d", kind, status)
	}
	if l.statuses[kind] == nil {
		l.statuses[kind] = map[int]int{}
	}
	l.statuses[kind][status]++
	if violation != "" {
		l.violations = append(l.violations, violation)
	}
	return nil
}

func (w *crashWorkload) authHeader() http.Header {
	return http.Header{"Origin": {w.base}}
}

func (w *crashWorkload) signUp(rng *rand.Rand, email string) error {
	pw := fmt.Sprintf("crash test passphrase %d", rng.Uint32())
	status, _, h, err := w.do("POST", w.base+"/api/auth/sign-up/email",
		map[string]string{"name": "Crash", "email": email, "password": pw}, w.authHeader())
	if err != nil || status != http.StatusOK {
		return w.note(opSignUp, status, err, "")
	}
	cookie := sessionCookie(h)
	l := w.led
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ok[opSignUp]++
	l.users = append(l.users, crashUser{email, pw})
	if cookie == "" {
		l.violations = append(l.violations, "sign-up of "+email+" answered 200 without a session cookie")
		return nil
	}
	l.sessions = append(l.sessions, crashSession{email, cookie})
	return nil
}

// pickUser returns a recorded user, or false when there is none yet.
func (w *crashWorkload) pickUser(rng *rand.Rand) (crashUser, bool) {
	l := w.led
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.users) == 0 {
		return crashUser{}, false
	}
	return l.users[rng.IntN(len(l.users))], true
}

// signIn signs in a recorded user; ran is false when there is none yet.
func (w *crashWorkload) signIn(rng *rand.Rand) (ran bool, err error) {
	u, ok := w.pickUser(rng)
	if !ok {
		return false, nil
	}
	status, body, h, err := w.do("POST", w.base+"/api/auth/sign-in/email",
		map[string]string{"email": u.email, "password": u.password}, w.authHeader())
	if err != nil || status != http.StatusOK {
		violation := ""
		if status == http.StatusUnauthorized {
			violation = fmt.Sprintf("recorded user %s: sign-in answered 401 %s", u.email, body)
		}
		return true, w.note(opSignIn, status, err, violation)
	}
	cookie := sessionCookie(h)
	l := w.led
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ok[opSignIn]++
	if cookie == "" {
		l.violations = append(l.violations, "sign-in of "+u.email+" answered 200 without a session cookie")
		return true, nil
	}
	l.sessions = append(l.sessions, crashSession{u.email, cookie})
	return true, nil
}

// createKey creates a key with a quota for a recorded user through the admin API; ran is
// false when there is no user yet or crashMaxKeys were created.
func (w *crashWorkload) createKey(rng *rand.Rand) (ran bool, err error) {
	u, ok := w.pickUser(rng)
	if !ok || w.led.answered(opKeyCreate) >= crashMaxKeys {
		return false, nil
	}
	quota := 5 + rng.Int64N(26) // 5–30: several leases of crashLeaseSize
	status, body, _, err := w.do("POST", w.admin+"/gatehouse/api-keys",
		map[string]any{"user": u.email, "name": "crash", "remaining": quota}, nil)
	if err != nil || status != http.StatusCreated {
		violation := ""
		if status == http.StatusNotFound {
			violation = fmt.Sprintf("recorded user %s: key creation answered 404 %s", u.email, body)
		}
		return true, w.note(opKeyCreate, status, err, violation)
	}
	var k struct {
		ID        string `json:"id"`
		Key       string `json:"key"`
		Remaining *int64 `json:"remaining"`
	}
	l := w.led
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ok[opKeyCreate]++
	if json.Unmarshal(body, &k) != nil || k.ID == "" || k.Key == "" || k.Remaining == nil || *k.Remaining != quota {
		l.violations = append(l.violations, fmt.Sprintf("key creation answered 201 with %s", body))
		return true, nil
	}
	l.keys = append(l.keys, &crashKey{id: k.ID, key: k.Key, quota: quota})
	return true, nil
}

// useKey sends one gateway request with a recorded key; ran is false when there is none
// yet.
func (w *crashWorkload) useKey(rng *rand.Rand) (ran bool, err error) {
	l := w.led
	l.mu.Lock()
	if len(l.keys) == 0 {
		l.mu.Unlock()
		return false, nil
	}
	k := l.keys[rng.IntN(len(l.keys))]
	l.mu.Unlock()
	status, body, _, err := w.do("GET", w.base+"/work", nil, http.Header{"X-Api-Key": {k.key}})
	if err != nil || status != http.StatusOK {
		violation := ""
		if status == http.StatusUnauthorized {
			violation = fmt.Sprintf("recorded key %s: the gateway answered 401 %s", k.id, body)
		}
		return true, w.note(opGateway, status, err, violation)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ok[opGateway]++
	k.served++
	return true, nil
}

// sessionCookie is the "name=value" of the session cookie a response sets, or "".
func sessionCookie(h http.Header) string {
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if c.Name == "better-auth.session_token" && c.Value != "" {
			return c.Name + "=" + c.Value
		}
	}
	return ""
}

// crashVerifier checks the recorded writes against the restarted server.
type crashVerifier struct {
	t *testing.T
	w *crashWorkload
}

// parallel runs check(i) for i in [0, n) on a few goroutines and reports the failures.
func (v *crashVerifier) parallel(what string, n int, check func(i int) string) {
	v.t.Helper()
	var (
		mu    sync.Mutex
		fails []string
		wg    sync.WaitGroup
	)
	next := make(chan int)
	for range crashWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if f := check(i); f != "" {
					mu.Lock()
					fails = append(fails, f)
					mu.Unlock()
				}
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if len(fails) > 0 {
		slices.Sort(fails)
		v.t.Errorf("%s: %d of %d fail after the crashes, first ones:\n%s", what, len(fails), n, strings.Join(fails[:min(10, len(fails))], "\n"))
	}
}

// users: every sign-up answered 200 signs in with its password.
func (v *crashVerifier) users() {
	users := v.w.led.users
	v.parallel("users", len(users), func(i int) string {
		u := users[i]
		status, body, h, err := v.w.do("POST", v.w.base+"/api/auth/sign-in/email",
			map[string]string{"email": u.email, "password": u.password}, v.w.authHeader())
		if err != nil || status != http.StatusOK || sessionCookie(h) == "" {
			return fmt.Sprintf("%s: sign-in %d %v %s", u.email, status, err, body)
		}
		return ""
	})
}

// sessions: every session cookie answered 200 still authenticates as its user (the test
// runs for minutes, sessions live 7 days: none has legitimately expired).
func (v *crashVerifier) sessions() {
	sessions := v.w.led.sessions
	v.parallel("sessions", len(sessions), func(i int) string {
		s := sessions[i]
		status, body, _, err := v.w.do("GET", v.w.base+"/api/auth/get-session", nil, http.Header{"Cookie": {s.cookie}})
		var got struct {
			Session *struct {
				ID string `json:"id"`
			} `json:"session"`
			User *struct {
				Email string `json:"email"`
			} `json:"user"`
		}
		if err != nil || status != http.StatusOK || json.Unmarshal(body, &got) != nil ||
			got.Session == nil || got.User == nil || got.User.Email != s.email {
			return fmt.Sprintf("session of %s: get-session %d %v %s", s.email, status, err, body)
		}
		return ""
	})
}

// keys: every key answered 201 is listed, its stored remaining was never refilled
// (remaining ≤ quota − what the upstream saw), and it then serves exactly that remaining
// through the gateway before 429 USAGE_EXCEEDED.
func (v *crashVerifier) keys(up *quotaUpstream) {
	t := v.t
	status, body, _, err := v.w.do("GET", v.w.admin+"/gatehouse/api-keys", nil, nil)
	if err != nil || status != http.StatusOK {
		t.Fatalf("listing API keys: %d %v %s", status, err, body)
	}
	var list struct {
		APIKeys []struct {
			ID        string `json:"id"`
			Remaining *int64 `json:"remaining"`
		} `json:"apiKeys"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatalf("listing API keys: %v %s", err, body)
	}
	stored := map[string]int64{}
	for _, k := range list.APIKeys {
		if k.Remaining != nil {
			stored[k.ID] = *k.Remaining
		}
	}
	keys := v.w.led.keys
	var quota, hits, remaining int64
	for _, k := range keys {
		quota, hits, remaining = quota+k.quota, hits+up.hits(k.id), remaining+stored[k.id]
	}
	v.t.Logf("API keys after the crashes: quota %d in all, %d requests reached the upstream, %d remain, %d were leased and lost with a crash (under-served)",
		quota, hits, remaining, quota-hits-remaining)
	v.parallel("API keys", len(keys), func(i int) string {
		k := keys[i]
		rem, ok := stored[k.id]
		if !ok {
			return fmt.Sprintf("key %s (quota %d) is not listed with a remaining count", k.id, k.quota)
		}
		hits := up.hits(k.id)
		if rem < 0 || rem > k.quota-hits {
			return fmt.Sprintf("key %s: quota %d, the upstream saw %d requests, yet %d remain: refilled by a crash", k.id, k.quota, hits, rem)
		}
		for n := int64(0); n < rem; n++ {
			status, body, _, err := v.w.do("GET", v.w.base+"/work", nil, http.Header{"X-Api-Key": {k.key}})
			if err != nil || status != http.StatusOK {
				return fmt.Sprintf("key %s: request %d of the %d remaining: %d %v %s", k.id, n+1, rem, status, err, body)
			}
		}
		status, body, _, err := v.w.do("GET", v.w.base+"/work", nil, http.Header{"X-Api-Key": {k.key}})
		if err != nil || status != http.StatusTooManyRequests || !bytes.Contains(body, []byte(`"USAGE_EXCEEDED"`)) {
			return fmt.Sprintf("key %s: after its %d remaining requests: %d %v %s (want 429 USAGE_EXCEEDED)", k.id, rem, status, err, body)
		}
		if got := up.hits(k.id); got != hits+rem {
			return fmt.Sprintf("key %s: the upstream saw %d requests after the drain, want %d + %d", k.id, got, hits, rem)
		}
		return ""
	})
}

// checkReferences opens a copy of the stopped server's file through storage/bolt with the
// binary's own schema (assembled from the Caddyfile's gatehouse app) and checks that nothing
// is half-written: required fields set, references resolved, unique indexes finding their
// records, a credential account for every user, an existing owner for every API key.
func checkReferences(t *testing.T, s *Server, path string) {
	t.Helper()
	ctx := context.Background()
	schema := crashSchema(t, s)
	src, err := migrate.OpenBoltSource(path, t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	db, err := src.Bind(ctx, schema)
	if err != nil {
		t.Fatal(err)
	}
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	records := map[string][]storage.Record{}
	ids := map[string]map[string]bool{}
	for _, m := range schema.Models() {
		recs, err := db.FindMany(ctx, m.Name, storage.Query{})
		if err != nil {
			t.Fatalf("reading %s: %v", m.Name, err)
		}
		records[m.Name] = recs
		ids[m.Name] = map[string]bool{}
		for _, r := range recs {
			ids[m.Name][r.ID()] = true
		}
	}
	for _, m := range schema.Models() {
		for _, r := range records[m.Name] {
			for _, f := range m.Fields {
				switch {
				case f.Required && !r.Has(f.Name):
					bad("%s %s: required field %s is missing", m.Name, r.ID(), f.Name)
				case f.References != nil && r.Has(f.Name) && !ids[f.References.Model][r.String(f.Name)]:
					bad("%s %s: %s = %s names no %s", m.Name, r.ID(), f.Name, r.String(f.Name), f.References.Model)
				case f.Unique && r.Has(f.Name):
					got, err := db.FindOne(ctx, m.Name, storage.Eq(f.Name, r[f.Name]))
					if err != nil || got.ID() != r.ID() {
						bad("%s %s: its unique %s does not find it (%v)", m.Name, r.ID(), f.Name, err)
					}
				}
			}
		}
	}
	credential := map[string]bool{}
	for _, a := range records[authcore.ModelAccount] {
		if a.String("providerId") == authcore.ProviderCredential && a.String("password") != "" {
			credential[a.String("userId")] = true
		}
	}
	for _, u := range records[authcore.ModelUser] {
		if !credential[u.ID()] {
			bad("user %s (%s) has no credential account", u.ID(), u.String("email"))
		}
	}
	for _, k := range records[apikey.ModelAPIKey] {
		if !ids[authcore.ModelUser][k.String(apikey.FieldReferenceID)] {
			bad("API key %s: owner %s is not a user", k.ID(), k.String(apikey.FieldReferenceID))
		}
		if r := k.Int(apikey.FieldRemaining); !k.Has(apikey.FieldRemaining) || r < 0 {
			bad("API key %s: remaining %v", k.ID(), k[apikey.FieldRemaining])
		}
	}
	if len(problems) > 0 {
		t.Fatalf("%d half-written records, first ones:\n%s", len(problems), strings.Join(problems[:min(10, len(problems))], "\n"))
	}
	t.Logf("storage: %d users, %d accounts, %d sessions, %d API keys, all complete", len(records[authcore.ModelUser]),
		len(records[authcore.ModelAccount]), len(records[authcore.ModelSession]), len(records[apikey.ModelAPIKey]))
}

// crashSchema is the schema the binary assembles from s's Caddyfile: `gatehouse adapt` turns
// it into JSON, and the gatehouse app in it builds an engine (on a throwaway file).
func crashSchema(t *testing.T, s *Server) *storage.Schema {
	t.Helper()
	cmd := exec.Command(binary, "adapt", "--config", s.Config, "--adapter", "caddyfile")
	cmd.Dir, cmd.Env = s.Dir, s.Env()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("gatehouse adapt: %v", err)
	}
	var cfg struct {
		Apps struct {
			Gatehouse json.RawMessage `json:"gatehouse"`
		} `json:"apps"`
	}
	if err := json.Unmarshal(out, &cfg); err != nil || cfg.Apps.Gatehouse == nil {
		t.Fatalf("gatehouse adapt: %v\n%s", err, out)
	}
	e, cleanup, err := gatehousecmd.EngineFromAppConfig(cfg.Apps.Gatehouse)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cleanup)
	return e.Schema()
}
