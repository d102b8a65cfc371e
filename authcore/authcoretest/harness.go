package authcoretest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/password"
	"github.com/gatehouse-auth/gatehouse/storage"
	"github.com/gatehouse-auth/gatehouse/storage/bolt"
	"github.com/gatehouse-auth/gatehouse/storage/memory"
)

// BaseURL is the engine's configured base URL in tests; clients send it as Origin.
const BaseURL = "http://localhost:3000"

// Secret is the test secret.
const Secret = "test-secret-0123456789abcdef0123456789abcdef"

// Clock is an advanceable clock. It starts at a fixed instant so tests are reproducible.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock at 2026-01-01T00:00:00Z.
func NewClock() *Clock { return &Clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

// Now returns the current fake time.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// Sink captures messages instead of delivering them.
type Sink struct {
	mu     sync.Mutex
	msgs   []authcore.Message
	notify chan struct{}
}

// NewSink returns an empty sink.
func NewSink() *Sink { return &Sink{notify: make(chan struct{}, 1)} }

// SendEmail implements authcore.EmailSender.
func (s *Sink) SendEmail(_ context.Context, m authcore.Message) error { s.add(m); return nil }

// SendSMS implements authcore.SMSSender.
func (s *Sink) SendSMS(_ context.Context, m authcore.Message) error { s.add(m); return nil }

func (s *Sink) add(m authcore.Message) {
	s.mu.Lock()
	s.msgs = append(s.msgs, m)
	s.mu.Unlock()
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// Messages returns a copy of everything captured so far.
func (s *Sink) Messages() []authcore.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]authcore.Message(nil), s.msgs...)
}

// Wait returns the first captured message of that type to that address, waiting up to 5 s
// for the background queue to deliver it.
func (s *Sink) Wait(t testing.TB, typ, to string) authcore.Message {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		for _, m := range s.Messages() {
			if m.Type == typ && m.To == to {
				return m
			}
		}
		select {
		case <-s.notify:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			t.Fatalf("no %q message to %s arrived; got %d other messages", typ, to, len(s.Messages()))
		}
	}
}

// Harness is a running engine plus its fakes.
type Harness struct {
	T      testing.TB
	Engine *authcore.Engine
	Clock  *Clock
	Sink   *Sink
	Server *httptest.Server
	Config authcore.Config
	Hasher *CountingHasher
	Audit  *AuditLog // the engine's audit events
}

// Option adjusts the harness before the engine is built.
type Option func(*setup)

type setup struct {
	cfg     authcore.Config
	plugins []authcore.Plugin
	store   func(t testing.TB) storage.Store
	noMail  bool
	opts    []authcore.Option
}

// WithConfig edits the configuration (defaults: BaseURL, Secret, rate limiting off).
func WithConfig(f func(*authcore.Config)) Option { return func(s *setup) { f(&s.cfg) } }

// WithPlugins enables plugins.
func WithPlugins(ps ...authcore.Plugin) Option {
	return func(s *setup) { s.plugins = append(s.plugins, ps...) }
}

// WithBolt uses a bbolt file in a temporary directory instead of memory.
func WithBolt() Option {
	return func(s *setup) {
		s.store = func(t testing.TB) storage.Store {
			st, err := bolt.Open(filepath.Join(t.TempDir(), "gatehouse.db"), nil)
			if err != nil {
				t.Fatalf("opening bolt: %v", err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		}
	}
}

// WithoutMailer configures no email transport.
func WithoutMailer() Option { return func(s *setup) { s.noMail = true } }

// WithEngineOptions passes extra engine options.
func WithEngineOptions(o ...authcore.Option) Option {
	return func(s *setup) { s.opts = append(s.opts, o...) }
}

// CheapArgon2 is argon2id with tiny parameters: the real algorithm, fast enough for tests.
func CheapArgon2() password.Argon2Params {
	return password.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// New starts an engine for the test and stops it at cleanup.
func New(t testing.TB, opts ...Option) *Harness {
	t.Helper()
	s := setup{
		cfg: authcore.Config{BaseURL: BaseURL, Secret: Secret, RateLimit: authcore.RateLimitConfig{Disabled: true}},
		store: func(testing.TB) storage.Store {
			return memory.NewStore()
		},
	}
	for _, o := range opts {
		o(&s)
	}
	clock := NewClock()
	sink := NewSink()
	hasher := &CountingHasher{Hasher: password.NewArgon2id(CheapArgon2(), 0, rand.Reader)}
	audit := &AuditLog{}
	eopts := []authcore.Option{
		authcore.WithStore(s.store(t)), authcore.WithClock(clock),
		authcore.WithPasswordHasher(hasher), authcore.WithPlugins(s.plugins...),
		authcore.WithAuditLogger(audit.Logger()),
	}
	if !s.noMail {
		eopts = append(eopts, authcore.WithEmailSender(sink), authcore.WithSMSSender(sink))
	}
	eopts = append(eopts, s.opts...)
	e, err := authcore.New(s.cfg, eopts...)
	if err != nil {
		t.Fatalf("authcore.New: %v", err)
	}
	srv := httptest.NewServer(e)
	t.Cleanup(func() { srv.Close(); e.Close() })
	return &Harness{T: t, Engine: e, Clock: clock, Sink: sink, Server: srv, Config: e.Config(), Hasher: hasher, Audit: audit}
}

// Client is an HTTP client with its own cookie jar, talking to the harness server.
type Client struct {
	h      *Harness
	Jar    *cookiejar.Jar
	Origin string // sent as Origin on every request unless empty
	Header http.Header
}

// Client returns a new client (its own cookie jar, trusted Origin).
func (h *Harness) Client() *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{h: h, Jar: jar, Origin: BaseURL, Header: http.Header{}}
}

// Response is a completed request.
type Response struct {
	*http.Response
	Body []byte
}

// JSON decodes the body into a generic value.
func (r *Response) JSON() any {
	var v any
	json.Unmarshal(r.Body, &v)
	return v
}

// Object decodes the body as an object (nil if it is not one).
func (r *Response) Object() map[string]any { m, _ := r.JSON().(map[string]any); return m }

// Code returns the error envelope's code.
func (r *Response) Code() string { s, _ := r.Object()["code"].(string); return s }

// SetCookie returns the Set-Cookie line for a cookie name, if any.
func (r *Response) SetCookie(name string) (string, bool) {
	for _, line := range r.Header.Values("Set-Cookie") {
		if strings.HasPrefix(line, name+"=") {
			return line, true
		}
	}
	return "", false
}

// URL returns the absolute URL of an API path on the test server.
func (h *Harness) URL(path string) string {
	return h.Server.URL + h.Config.BasePath + path
}

// Do sends a request. body may be nil, a []byte/string (sent as is with the given
// content type in hdr, default JSON), or any value encoded as JSON.
func (c *Client) Do(method, path string, body any, hdr ...string) *Response {
	c.h.T.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case []byte:
		rd, ct = bytes.NewReader(b), "application/json"
	case string:
		rd, ct = strings.NewReader(b), "application/json"
	default:
		j, err := json.Marshal(b)
		if err != nil {
			c.h.T.Fatalf("encoding body: %v", err)
		}
		rd, ct = bytes.NewReader(j), "application/json"
	}
	target := path
	if !strings.HasPrefix(path, "http") {
		target = c.h.URL(path)
	}
	req, err := http.NewRequest(method, target, rd)
	if err != nil {
		c.h.T.Fatalf("building request: %v", err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if c.Origin != "" {
		req.Header.Set("Origin", c.Origin)
	}
	for k, vs := range c.Header {
		req.Header[k] = vs
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	u, _ := url.Parse(c.h.Server.URL)
	for _, ck := range c.Jar.Cookies(u) {
		req.AddCookie(ck)
	}
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Do(req)
	if err != nil {
		c.h.T.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	c.Jar.SetCookies(u, resp.Cookies())
	return &Response{Response: resp, Body: b}
}

// Post sends a JSON POST.
func (c *Client) Post(path string, body any, hdr ...string) *Response {
	c.h.T.Helper()
	return c.Do(http.MethodPost, path, body, hdr...)
}

// Get sends a GET.
func (c *Client) Get(path string, hdr ...string) *Response {
	c.h.T.Helper()
	return c.Do(http.MethodGet, path, nil, hdr...)
}

// CookieValue returns the raw (still percent-encoded) value of a cookie in the jar.
func (c *Client) CookieValue(name string) string {
	u, _ := url.Parse(c.h.Server.URL)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

// SignUp creates a user through the API and returns the client signed in as them.
func (h *Harness) SignUp(name, email, pw string) (*Client, map[string]any) {
	h.T.Helper()
	c := h.Client()
	r := c.Post("/sign-up/email", map[string]any{"name": name, "email": email, "password": pw})
	if r.StatusCode != http.StatusOK {
		h.T.Fatalf("sign-up %s: %d %s", email, r.StatusCode, r.Body)
	}
	return c, r.Object()
}

// CountingHasher wraps a hasher and counts the work done, so tests can assert equal work
// for existing and unknown accounts instead of timing (D17).
type CountingHasher struct {
	password.Hasher
	mu                      sync.Mutex
	Hashes, Verifies, Fakes int
}

// Hash counts and delegates.
func (h *CountingHasher) Hash(pw string) (string, error) {
	h.mu.Lock()
	h.Hashes++
	h.mu.Unlock()
	return h.Hasher.Hash(pw)
}

// Verify counts and delegates.
func (h *CountingHasher) Verify(pw, enc string) (bool, bool, error) {
	h.mu.Lock()
	h.Verifies++
	h.mu.Unlock()
	return h.Hasher.Verify(pw, enc)
}

// FakeVerify counts and delegates.
func (h *CountingHasher) FakeVerify(pw string) {
	h.mu.Lock()
	h.Fakes++
	h.mu.Unlock()
	h.Hasher.FakeVerify(pw)
}

// Work returns the number of hash computations of every kind.
func (h *CountingHasher) Work() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.Hashes + h.Verifies + h.Fakes
}

// Drain returns once every background job queued so far has run, including jobs those jobs
// queued (a deferred look-up that then queues its email): the queue is one FIFO worker, so a
// marker job is queued and awaited a few times.
func (h *Harness) Drain() {
	h.T.Helper()
	for range 4 {
		done := make(chan struct{})
		h.Engine.Defer("test drain", func(context.Context) error { close(done); return nil })
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			h.T.Fatal("background queue did not drain")
		}
	}
}

// Sent drains the background queue and returns the captured messages of a type to an
// address, oldest first.
func (h *Harness) Sent(typ, to string) []authcore.Message {
	h.T.Helper()
	h.Drain()
	var out []authcore.Message
	for _, m := range h.Sink.Messages() {
		if m.Type == typ && m.To == to {
			out = append(out, m)
		}
	}
	return out
}
