package integration

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/storage/postgres/pgtest"
)

// clusterSecret is shared by both nodes: each must verify the other's signed cookies.
const clusterSecret = "cluster-test-secret-0123456789abcdef0123456789"

// clusterSignInMax is the sign-in rule both nodes enforce together.
const clusterSignInMax = 5

// clusterNode is one gatehouse process of the two-node cluster.
type clusterNode struct {
	name string
	srv  *Server
	base string
}

// TestClusterTwoNodesOnPostgres runs one real PostgreSQL server, two real gatehouse
// processes configured identically on the same DSN (as two nodes behind a load balancer),
// and one echo upstream, and shows that the state that matters is cluster-wide:
//
//   - a session signed in on node A is accepted by node B;
//   - a session revoked on node B is refused by node A within the session cache TTL (5 s
//     by default on a shared store), polled with a bound and no other timing assertion;
//   - an API key with remaining 10 used by 40 parallel requests spread over both nodes
//     reaches the upstream exactly 10 times (counted at the upstream);
//   - a sign-in rate limit holds across nodes: the allowed attempts on both nodes together
//     are exactly the rule's max.
func TestClusterTwoNodesOnPostgres(t *testing.T) {
	dsn := pgtest.DSN(t) // skips without PostgreSQL binaries, fails in CI (GATEHOUSE_REQUIRE_POSTGRES=1)
	echo := newEcho(t)
	ports := freePorts(t, 2)
	var nodes [2]*clusterNode
	for i, name := range []string{"A", "B"} {
		cf := fmt.Sprintf(`{
	admin {ADMIN}
	gatehouse {
		base_url http://127.0.0.1:%[1]d
		secret %[3]s
		storage postgres {env.GH_CLUSTER_DSN} {
			max_conns 8
		}
		rate_limit {
			rule /sign-in/email 10m %[5]d
		}
		api_key
	}
}
http://:%[2]d {
	bind 127.0.0.1
	gatehouse {
		public /health
	}
	reverse_proxy 127.0.0.1:%[4]d
}
`, ports[0], ports[i], clusterSecret, echo.port(), clusterSignInMax)
		t.Setenv("GH_CLUSTER_DSN", dsn) // inherited by the process through Env()
		base := fmt.Sprintf("http://127.0.0.1:%d", ports[i])
		nodes[i] = &clusterNode{name: name, srv: StartServer(t, cf, base+"/health"), base: base}
	}
	a, b := nodes[0], nodes[1]
	origin := a.base // base_url: the origin the load balancer would present
	client := &http.Client{Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(n *clusterNode, method, path, body string, hdr ...string) (int, string, http.Header) {
		t.Helper()
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, _ := http.NewRequest(method, n.base+path, rd)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Origin", origin)
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("node %s %s %s: %v", n.name, method, path, err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(out), resp.Header
	}
	sessionCookie := func(h http.Header) string {
		for _, line := range h.Values("Set-Cookie") {
			if v, ok := strings.CutPrefix(line, "better-auth.session_token="); ok {
				v, _, _ = strings.Cut(v, ";")
				if v != "" {
					return "better-auth.session_token=" + v
				}
			}
		}
		return ""
	}

	// 1. Sign up and sign in on A; B accepts the session (shared store, shared secret).
	const email = "ada@example.com"
	if s, body, _ := do(a, "POST", "/api/auth/sign-up/email", fmt.Sprintf(`{"name":"Ada","email":%q,"password":%q}`, email, gatewayPassword)); s != 200 {
		t.Fatalf("sign-up on A: %d %s", s, body)
	}
	s, body, h := do(a, "POST", "/api/auth/sign-in/email", fmt.Sprintf(`{"email":%q,"password":%q}`, email, gatewayPassword))
	cookie := sessionCookie(h)
	if s != 200 || cookie == "" {
		t.Fatalf("sign-in on A: %d %s", s, body)
	}
	signInsAllowed := 1
	for _, n := range nodes {
		if s, body, _ := do(n, "GET", "/app/page", "", "Cookie", cookie); s != 200 || body != "echo" {
			t.Fatalf("session from A on node %s: %d %q", n.name, s, body)
		}
	}
	if s, body, _ := do(b, "GET", "/api/auth/get-session", "", "Cookie", cookie); s != 200 || !strings.Contains(body, email) {
		t.Fatalf("get-session on B: %d %s", s, body)
	}

	// 2. Revoke on B (sign-out deletes the session row); A, which has the session in its
	// cache from the request above, refuses it within the cache TTL.
	if s, body, _ := do(b, "POST", "/api/auth/sign-out", "{}", "Cookie", cookie); s != 200 {
		t.Fatalf("sign-out on B: %d %s", s, body)
	}
	if s, _, _ := do(b, "GET", "/app/page", "", "Cookie", cookie); s != http.StatusUnauthorized {
		t.Fatalf("B still accepts the session it revoked: %d", s)
	}
	const ttl = 5 * time.Second // authcore.SharedCacheTTL, the default on a shared store
	revoked := time.Now()
	for {
		s, _, _ := do(a, "GET", "/app/page", "", "Cookie", cookie)
		if s == http.StatusUnauthorized {
			t.Logf("node A refused the revoked session after %v (bound %v)", time.Since(revoked).Round(time.Millisecond), ttl)
			break
		}
		if s != 200 {
			t.Fatalf("node A answered %d for a revoked session", s)
		}
		if time.Since(revoked) > ttl+2*time.Second { // slack for the request itself, not for the cache
			t.Fatalf("node A still accepts a session revoked on B %v later (cache TTL %v)", time.Since(revoked), ttl)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// 3. An API key with remaining 10: 40 parallel requests over both nodes reach the upstream
	// exactly 10 times.
	out, ok := runCLI(t, a.srv.Env(), a.srv.Dir, "", "apikey", "create", "--user", email, "--name", "cluster",
		"--remaining", "10", "--json", "--address", a.srv.Admin)
	var key struct {
		Key string `json:"key"`
	}
	if !ok || json.Unmarshal([]byte(out), &key) != nil || key.Key == "" {
		t.Fatalf("apikey create: %s", out)
	}
	before := echo.count()
	var served, refused, other atomic.Int64
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("GET", nodes[i%2].base+"/files/report", nil)
			req.Header.Set("X-Api-Key", key.Key)
			resp, err := client.Do(req)
			if err != nil {
				other.Add(1)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			switch {
			case resp.StatusCode == 200:
				served.Add(1)
			case resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") != "":
				refused.Add(1)
			default:
				other.Add(1)
			}
		}()
	}
	wg.Wait()
	if got := echo.count() - before; got != 10 || served.Load() != 10 || refused.Load() != 30 || other.Load() != 0 {
		t.Fatalf("remaining 10 over two nodes: upstream reached %d times; 200 %d, 429 %d, other %d; want exactly 10, 10, 30, 0",
			got, served.Load(), refused.Load(), other.Load())
	}

	// 4. The sign-in rule (5 per 10 minutes per client) holds across nodes: one sign-in is
	// spent above; of 12 more attempts alternating nodes, exactly 4 get through.
	for i := range 12 {
		s, body, h := do(nodes[i%2], "POST", "/api/auth/sign-in/email", fmt.Sprintf(`{"email":"nobody-%d@example.com","password":"wrong password"}`, i))
		switch s {
		case http.StatusUnauthorized:
			signInsAllowed++
		case http.StatusTooManyRequests:
			if h.Get("X-Retry-After") == "" {
				t.Fatalf("429 without X-Retry-After on node %s", nodes[i%2].name)
			}
		default:
			t.Fatalf("sign-in attempt %d on node %s: %d %s", i, nodes[i%2].name, s, body)
		}
	}
	if signInsAllowed != clusterSignInMax {
		t.Fatalf("%d sign-in attempts allowed across two nodes, want the rule's max %d", signInsAllowed, clusterSignInMax)
	}
}
