package integration

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/gatehouse-auth/gatehouse/plugins/openapi/openapitest"
)

// Every auth-API answer the integration tests receive through a Server's Client or
// Transport is checked against the OpenAPI document that server's own binary prints for
// its config (`<bin> openapi --config <Caddyfile> --adapter caddyfile`, run offline on a
// throwaway store, so the open_api plugin need not be enabled). A response to a path under
// the document's base path (/api/auth by default) must belong to a documented operation,
// have a documented status, and carry the documented headers and body; a mismatch fails the
// test. Not checked: the portal's pages under <base>/ui/; <base>/verify, the forward-auth
// endpoint, which the Caddy handler serves itself in front of the engine and which the
// engine's document does not describe (its answers are an empty 200 with identity headers
// or the gateway's denial, checked by TestForwardAuth); answers whose documented response
// is not JSON (redirects, HTML); and everything outside the base path (the gateway's
// upstream answers, Caddy's admin API).
//
// Requests that stay unchecked on purpose: raw() in gateway_test.go writes deliberately
// malformed or non-canonical HTTP onto a socket (header names with spaces, dot-segments,
// encoded slashes) to test the gateway's refusal of them; none of those targets is an auth
// API call, and Go's client cannot send them. The portal browser tests drive Chromium,
// whose traffic does not pass through a Go RoundTripper (their Go-side set-up calls, api()
// in portal_browser_test.go, do). getWithKey in portal_account_browser_test.go only
// requests gateway paths and has no Server at hand. The CLI tests' `gatehouse` commands
// talk to Caddy's admin API, which is not part of the auth API document.

type specCache struct {
	once sync.Once
	doc  *openapi3.T
	base string // the path of the document's first server, e.g. /api/auth
	err  error
}

// Spec returns the server's OpenAPI document, printed by its binary once and cached.
func (s *Server) Spec(t testing.TB) (*openapi3.T, string, error) {
	s.spec.once.Do(func() {
		cmd := exec.Command(s.bin, "openapi", "--config", s.Config, "--adapter", "caddyfile")
		cmd.Dir, cmd.Env = s.Dir, s.Env()
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			s.spec.err = fmt.Errorf("%s openapi: %v\n%s", s.bin, err, stderr.String())
			return
		}
		doc, err := openapi3.NewLoader().LoadFromData(stdout.Bytes())
		if err == nil {
			err = doc.Validate(t.Context())
		}
		if err != nil {
			s.spec.err = fmt.Errorf("the OpenAPI document of %s is invalid: %v", s.Config, err)
			return
		}
		s.spec.doc, s.spec.base = doc, "/"
		if len(doc.Servers) > 0 {
			if u, err := url.Parse(doc.Servers[0].URL); err == nil && u.Path != "" {
				s.spec.base = strings.TrimSuffix(u.Path, "/")
			}
		}
	})
	return s.spec.doc, s.spec.base, s.spec.err
}

// MustSpec is Spec failing the test on error.
func (s *Server) MustSpec(t testing.TB) *openapi3.T {
	t.Helper()
	doc, _, err := s.Spec(t)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// Transport wraps base (http.DefaultTransport when nil) so that every auth-API response is
// validated against the server's document (see the comment at the top of this file). A
// mismatch is reported with t.Errorf (safe from any goroutine) and the response is still
// returned, with its body restored, so the test's own assertions run too. Credentials
// are recorded for the log-leak scan (leak_test.go) whatever base is.
func (s *Server) Transport(t testing.TB, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	if _, ok := base.(secretRecorder); !ok {
		base = secretRecorder{base: base}
	}
	return &validatingTransport{s: s, t: t, base: base}
}

// Client is an http.Client that does not follow redirects, with a 10 s timeout, over
// s.Transport(t, nil).
func (s *Server) Client(t testing.TB) *http.Client {
	return &http.Client{
		Transport:     s.Transport(t, nil),
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

type validatingTransport struct {
	s    *Server
	t    testing.TB
	base http.RoundTripper
}

func (v *validatingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := v.base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	doc, base, serr := v.s.Spec(v.t)
	if serr != nil {
		resp.Body.Close()
		v.t.Errorf("%v", serr)
		return nil, serr
	}
	if !underBase(req.URL.Path, base) || strings.HasPrefix(req.URL.Path, base+"/ui/") || req.URL.Path == base+"/ui" ||
		req.URL.Path == base+"/verify" {
		return resp, nil
	}
	body, rerr := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if rerr != nil {
		return resp, nil // the test sees the short body; nothing complete to validate
	}
	if !documentedAsJSON(doc, base, req, resp) {
		return resp, nil
	}
	if req.Method == http.MethodHead {
		return resp, nil
	}
	if verr := openapitest.ResponseError(doc, req, resp.StatusCode, resp.Header, body); verr != nil {
		v.t.Errorf("%s %s answered %d, which the OpenAPI document does not describe: %v\nbody: %s",
			req.Method, req.URL.Path, resp.StatusCode, verr, truncate(body, 2000))
	}
	return resp, nil
}

func underBase(path, base string) bool {
	return base == "/" || path == base || strings.HasPrefix(path, base+"/")
}

// documentedAsJSON reports whether the answer is one the document describes as JSON: the
// operation's response for the status (or its default) has an application/json body, or the
// response itself is JSON. When the operation or the status is unknown it answers true, so
// that ResponseError reports them.
func documentedAsJSON(doc *openapi3.T, base string, req *http.Request, resp *http.Response) bool {
	if ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); ct == "application/json" {
		return true
	}
	op := findOperation(doc, base, req)
	if op == nil || op.Responses == nil {
		return true
	}
	r := op.Responses.Status(resp.StatusCode)
	if r == nil {
		r = op.Responses.Default()
	}
	if r == nil || r.Value == nil {
		return true
	}
	if r.Value.Content == nil || len(r.Value.Content) == 0 {
		return false // documented with no body (a redirect, 204)
	}
	return r.Value.Content.Get("application/json") != nil
}

func findOperation(doc *openapi3.T, base string, req *http.Request) *openapi3.Operation {
	path := strings.TrimPrefix(req.URL.Path, strings.TrimSuffix(base, "/"))
	segs := strings.Split(path, "/")
	method := req.Method
	if method == http.MethodHead {
		method = http.MethodGet
	}
	for tmpl, item := range doc.Paths.Map() {
		tsegs := strings.Split(tmpl, "/")
		if len(tsegs) != len(segs) {
			continue
		}
		ok := true
		for i, ts := range tsegs {
			if !(strings.HasPrefix(ts, "{") && strings.HasSuffix(ts, "}")) && ts != segs[i] {
				ok = false
				break
			}
		}
		if ok {
			if op := item.GetOperation(method); op != nil {
				return op
			}
		}
	}
	return nil
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return append(b[:n:n], "…"...)
	}
	return b
}

// errRecorder is a testing.TB that records Errorf instead of failing the test.
type errRecorder struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *errRecorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *errRecorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.errs
	r.errs = nil
	return e
}

// TestValidatingTransportFails proves the check can fail: the document comes from the
// binary offline (no server is started, no open_api plugin), and a fake auth API answers
// with bodies and statuses that contradict it.
func TestValidatingTransportFails(t *testing.T) {
	dir := t.TempDir()
	s := &Server{t: t, Dir: dir, bin: binary, Config: dir + "/Caddyfile"}
	cf := "{\n\tgatehouse {\n\t\tbase_url http://localhost:8080\n\t\tstorage bbolt gatehouse.db\n\t}\n}\nhttp://localhost:8080 {\n\tgatehouse\n}\n"
	if err := os.WriteFile(s.Config, []byte(cf), 0o600); err != nil {
		t.Fatal(err)
	}
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/auth/ok":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"ok":true}`)
		case "/api/auth/get-session":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"user":5,"session":"x"}`)
		case "/api/auth/sign-out":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTeapot)
			io.WriteString(w, `{"success":true}`)
		default:
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"anything":"goes"}`)
		}
	}))
	defer fake.Close()
	rec := &errRecorder{TB: t}
	c := &http.Client{Transport: s.Transport(rec, nil)}
	for _, tc := range []struct {
		method, path string
		fails        bool
	}{
		{"GET", "/api/auth/ok", false},
		{"GET", "/api/auth/get-session", true},      // body contradicts the schema
		{"POST", "/api/auth/sign-out", true},        // undocumented status
		{"GET", "/api/auth/no-such-endpoint", true}, // unknown operation under the base path
		{"GET", "/app/anything", false},             // gateway path: not checked
		{"GET", "/api/auth/ui/sign-in", false},      // portal page: not checked
	} {
		req, _ := http.NewRequest(tc.method, fake.URL+tc.path, nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if len(b) == 0 {
			t.Errorf("%s %s: the body was not restored", tc.method, tc.path)
		}
		if errs := rec.take(); (len(errs) > 0) != tc.fails {
			t.Errorf("%s %s: validation errors %q, want failure=%v", tc.method, tc.path, errs, tc.fails)
		}
	}
}
