package integration

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/delivery"
)

// sinkSecret signs the gateway's webhooks in tests (Standard Webhooks "whsec_" form).
var sinkSecret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("integration-webhook-secret-0123456789"))

// sinkMessage is the webhook body the gateway posts (D13).
type sinkMessage struct {
	Type    string `json:"type"`
	To      string `json:"to"`
	Subject string `json:"subject,omitempty"`
	Text    string `json:"text,omitempty"`
	HTML    string `json:"html,omitempty"`
	Data    struct {
		URL   string `json:"url,omitempty"`
		Token string `json:"token,omitempty"`
		OTP   string `json:"otp,omitempty"`
	} `json:"data"`
}

// messageSink receives the gateway's email and SMS webhooks on loopback, refuses any whose
// Standard Webhooks signature does not verify, and hands each message out once: to Go tests
// with Take, to the interop tests with GET /take?to=..&type=.. (404 after a timeout).
type messageSink struct {
	t      testing.TB
	srv    *httptest.Server
	mu     sync.Mutex
	msgs   []sinkMessage
	arrive chan struct{} // closed and replaced whenever a message arrives
	bad    int           // webhooks refused for a bad signature
}

func newMessageSink(t testing.TB) *messageSink {
	s := &messageSink{t: t, arrive: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /hook", s.receive)
	mux.HandleFunc("GET /take", func(w http.ResponseWriter, r *http.Request) {
		m, ok := s.take(r.URL.Query().Get("to"), r.URL.Query().Get("type"), 10*time.Second)
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(m)
	})
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	return s
}

// HookURL is where the gateway posts.
func (s *messageSink) HookURL() string { return s.srv.URL + "/hook" }

func (s *messageSink) receive(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	var m sinkMessage
	if delivery.VerifyWebhook(sinkSecret, r.Header, body, time.Now(), 5*time.Minute) != nil || json.Unmarshal(body, &m) != nil {
		s.mu.Lock()
		s.bad++
		s.mu.Unlock()
		http.Error(w, "bad signature or body", http.StatusUnauthorized)
		return
	}
	runSecrets.addURL(m.Data.URL) // for the log-leak scan (leak_test.go)
	runSecrets.add(m.Data.Token)
	runSecrets.add(m.Data.OTP)
	s.mu.Lock()
	s.msgs = append(s.msgs, m)
	close(s.arrive)
	s.arrive = make(chan struct{})
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// take removes and returns the oldest message to that address of that type, waiting up to
// wait for one to arrive.
func (s *messageSink) take(to, typ string, wait time.Duration) (sinkMessage, bool) {
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		for i, m := range s.msgs {
			if m.To == to && m.Type == typ {
				s.msgs = append(s.msgs[:i], s.msgs[i+1:]...)
				s.mu.Unlock()
				return m, true
			}
		}
		arrive := s.arrive
		s.mu.Unlock()
		select {
		case <-arrive:
		case <-deadline.C:
			return sinkMessage{}, false
		}
	}
}

// Take is take for Go tests: it fails the test when no message arrives in time.
func (s *messageSink) Take(to, typ string) sinkMessage {
	s.t.Helper()
	m, ok := s.take(to, typ, 10*time.Second)
	if !ok {
		s.t.Fatalf("no %s message to %s arrived", typ, to)
	}
	return m
}

// Refused is how many webhooks failed signature verification.
func (s *messageSink) Refused() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bad
}
