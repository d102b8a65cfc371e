// Package bench holds Gatehouse's gateway benchmark: bench/run.sh (plain reverse_proxy vs
// the protected proxy over real loopback connections, see README.md) and, here, an
// in-process benchmark of what the gatehouse handler adds to one request.
package bench

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	_ "github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/gatehouse-auth/gatehouse/caddymodule"
	_ "github.com/gatehouse-auth/gatehouse/plugins/all"
)

// inProcess is a Caddy config loaded into this process with sites that differ only by the
// gatehouse directive: two that answer with a static respond, two that reverse_proxy to a
// fifth (a static respond on loopback, in the same process). Requests are handed to the
// servers' ServeHTTP directly: no client connection, no client-side cost.
type inProcess struct {
	respondPlain, respondProtected http.Handler
	proxyPlain, proxyProtected     http.Handler
	proxyIdentity                  http.Handler // proxyProtected plus identity_jwt
	host                           string       // Host header sent (the protected respond site)
	cookie                         string       // a valid session cookie, "name=value"
}

var (
	setupOnce sync.Once
	setup     *inProcess
	setupErr  error
	setupDir  string
)

// TestMain stops the in-process Caddy and removes its files after the tests and benchmarks.
func TestMain(m *testing.M) {
	code := m.Run()
	if setup != nil {
		caddy.Stop()
	}
	if setupDir != "" {
		os.RemoveAll(setupDir)
	}
	os.Exit(code)
}

func loadInProcess(tb testing.TB) *inProcess {
	tb.Helper()
	setupOnce.Do(func() {
		if setupDir, setupErr = os.MkdirTemp("", "gatehouse-bench-"); setupErr == nil {
			setup, setupErr = newInProcess(setupDir)
		}
	})
	if setupErr != nil {
		tb.Fatal(setupErr)
	}
	return setup
}

func newInProcess(dir string) (*inProcess, error) {
	var ports []int
	var ls []net.Listener
	for range 6 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close() // free again for Caddy to bind
	}
	cf := fmt.Sprintf(`{
	admin off
	persist_config off
	log {
		level ERROR
	}
	gatehouse {
		base_url http://127.0.0.1:%[2]d
		storage bbolt %[6]s/gatehouse.db
		secret bench-secret-0123456789abcdef0123456789abcdef
		jwt
	}
}
http://:%[1]d {
	bind 127.0.0.1
	respond "hello from the upstream" 200
}
http://:%[2]d {
	bind 127.0.0.1
	gatehouse
	respond "hello from the upstream" 200
}
http://:%[3]d {
	bind 127.0.0.1
	reverse_proxy 127.0.0.1:%[5]d {
		transport http {
			keepalive_idle_conns_per_host 128
		}
	}
}
http://:%[4]d {
	bind 127.0.0.1
	gatehouse
	reverse_proxy 127.0.0.1:%[5]d {
		transport http {
			keepalive_idle_conns_per_host 128
		}
	}
}
http://:%[5]d {
	bind 127.0.0.1
	respond "hello from the upstream" 200
}
http://:%[7]d {
	bind 127.0.0.1
	gatehouse {
		identity_jwt X-Identity
	}
	reverse_proxy 127.0.0.1:%[5]d {
		transport http {
			keepalive_idle_conns_per_host 128
		}
	}
}
`, ports[0], ports[1], ports[2], ports[3], ports[4], dir, ports[5])
	cfgJSON, warnings, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(cf), map[string]any{"filename": "Caddyfile"})
	if err != nil {
		return nil, fmt.Errorf("adapting: %w (warnings %v)", err, warnings)
	}
	if err := caddy.Load(cfgJSON, true); err != nil {
		return nil, fmt.Errorf("loading config: %w", err)
	}
	app, err := caddy.ActiveContext().App("http")
	if err != nil {
		return nil, err
	}
	byPort := map[int]http.Handler{}
	for _, srv := range app.(*caddyhttp.App).Servers {
		for _, port := range ports {
			if slices.ContainsFunc(srv.Listen, func(s string) bool { return strings.HasSuffix(s, fmt.Sprintf(":%d", port)) }) {
				byPort[port] = srv
			}
		}
	}
	ip := &inProcess{
		respondPlain: byPort[ports[0]], respondProtected: byPort[ports[1]],
		proxyPlain: byPort[ports[2]], proxyProtected: byPort[ports[3]], proxyIdentity: byPort[ports[5]],
		host: fmt.Sprintf("127.0.0.1:%d", ports[1]),
	}
	if ip.respondPlain == nil || ip.respondProtected == nil || ip.proxyPlain == nil || ip.proxyProtected == nil || ip.proxyIdentity == nil {
		return nil, fmt.Errorf("servers not found in %v", app.(*caddyhttp.App).Servers)
	}
	// One user, signed up through the auth API of the protected site.
	base := "http://" + ip.host
	req := httptest.NewRequest("POST", base+"/api/auth/sign-up/email",
		strings.NewReader(`{"name":"Bench","email":"bench@example.com","password":"bench correct horse battery staple"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", base)
	rec := httptest.NewRecorder()
	ip.respondProtected.ServeHTTP(rec, req)
	if rec.Code != 200 {
		return nil, fmt.Errorf("sign-up: %d %s", rec.Code, rec.Body)
	}
	for _, c := range rec.Result().Cookies() {
		if c.Name == "better-auth.session_token" {
			ip.cookie = c.Name + "=" + c.Value
		}
	}
	if ip.cookie == "" {
		return nil, fmt.Errorf("sign-up set no session cookie")
	}
	return ip, nil
}

// discard is a minimal ResponseWriter, so the benchmark measures the server, not a recorder.
type discard struct {
	h    http.Header
	code int
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(code int)        { d.code = code }

// serveOne sends one GET / like bench/load does (same headers) and returns the status.
func serveOne(h http.Handler, host, cookie string) int {
	req, _ := http.NewRequest("GET", "http://"+host+"/", nil)
	req.RemoteAddr = "127.0.0.1:40000"
	req.Header.Set("User-Agent", "gatehouse-bench")
	req.Header.Set("Accept", "*/*")
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	w := &discard{h: http.Header{}, code: 200}
	h.ServeHTTP(w, req)
	return w.code
}

// TestInProcessSetup keeps the benchmark's setup honest in ordinary test runs: the plain
// sites answer 200, the protected ones 200 with the session and 401 without.
func TestInProcessSetup(t *testing.T) {
	ip := loadInProcess(t)
	for name, h := range map[string]http.Handler{"respond": ip.respondPlain, "proxy": ip.proxyPlain} {
		if code := serveOne(h, ip.host, ip.cookie); code != 200 {
			t.Errorf("%s, plain: %d", name, code)
		}
	}
	for name, h := range map[string]http.Handler{"respond": ip.respondProtected, "proxy": ip.proxyProtected, "proxy identity_jwt": ip.proxyIdentity} {
		if code := serveOne(h, ip.host, ip.cookie); code != 200 {
			t.Errorf("%s, protected with session: %d", name, code)
		}
		if code := serveOne(h, ip.host, ""); code != 401 {
			t.Errorf("%s, protected without session: %d", name, code)
		}
	}
}

// BenchmarkGateway measures one request through Caddy's server, with and without the
// gatehouse directive in front (valid session, served from the in-process session cache
// after the first request), ending in a static respond ("respond") or in a reverse_proxy to
// a static respond on loopback ("proxy", the upstream's work included). Both sides get the
// same request, session cookie included. plain→protected differences are the directive's
// cost; allocs/op counts every goroutine, so the proxy pair includes what the upstream
// spends on the identity headers. "proxy/identity_jwt" is "proxy/protected" with
// `identity_jwt X-Identity` (the cached token: one signature per session per 30 s):
//
//	go test -run '^$' -bench Gateway -benchmem -count 6 ./bench/
func BenchmarkGateway(b *testing.B) {
	ip := loadInProcess(b)
	for _, c := range []struct {
		name string
		h    http.Handler
	}{
		{"respond/plain", ip.respondPlain},
		{"respond/protected", ip.respondProtected},
		{"proxy/plain", ip.proxyPlain},
		{"proxy/protected", ip.proxyProtected},
		{"proxy/identity_jwt", ip.proxyIdentity},
	} {
		b.Run(c.name, func(b *testing.B) {
			if code := serveOne(c.h, ip.host, ip.cookie); code != 200 {
				b.Fatalf("status %d", code)
			}
			b.ReportAllocs()
			for b.Loop() {
				serveOne(c.h, ip.host, ip.cookie)
			}
		})
	}
}
