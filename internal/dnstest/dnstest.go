// Package dnstest runs a real DNS server on loopback for tests: UDP on 127.0.0.1, answering
// TXT queries from a table the test fills (the sso plugin's domain verification reads
// TXT records). Unknown names answer NXDOMAIN.
package dnstest

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// Server is the running server; Addr is its host:port.
type Server struct {
	Addr string
	mu   sync.Mutex
	txt  map[string][]string // lower-case FQDN with the trailing dot → records
}

// Start starts a server, stopped at the test's cleanup.
func Start(t testing.TB) *Server {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Addr: pc.LocalAddr().String(), txt: map[string][]string{}}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(s.answer)}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go func() { _ = srv.ActivateAndServe() }()
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("dnstest: the DNS server did not start")
	}
	t.Cleanup(func() { _ = srv.Shutdown() })
	return s
}

func (s *Server) answer(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	found := false
	for _, q := range req.Question {
		s.mu.Lock()
		recs, ok := s.txt[strings.ToLower(q.Name)]
		s.mu.Unlock()
		found = found || ok
		if q.Qtype == dns.TypeTXT {
			for _, r := range recs {
				m.Answer = append(m.Answer, &dns.TXT{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET}, Txt: []string{r}})
			}
		}
	}
	if !found {
		m.Rcode = dns.RcodeNameError
	}
	_ = w.WriteMsg(m)
}

// Set replaces the TXT records of name.
func (s *Server) Set(name string, records ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.txt[strings.ToLower(dns.Fqdn(name))] = records
}

// Resolver is a Go resolver that asks only this server.
func (s *Server) Resolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", s.Addr)
	}}
}
