// Package smtpsink is a real SMTP server on loopback for tests (emersion/go-smtp): it
// accepts mail, optionally over STARTTLS or implicit TLS with a certificate made for the
// test, optionally requires AUTH PLAIN, can fail on demand, and keeps every message for the
// test to inspect. Only tests import it.
package smtpsink

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Mode is how the sink offers TLS.
type Mode int

// The TLS modes.
const (
	Plain       Mode = iota // no TLS at all
	StartTLS                // STARTTLS offered; AUTH only after it
	ImplicitTLS             // TLS from the first byte
)

// Options configure a sink.
type Options struct {
	Mode Mode
	// Cert is the server certificate for StartTLS and ImplicitTLS (see SelfSigned).
	Cert tls.Certificate
	// Username and Password, when set, are the only credentials AUTH PLAIN accepts, and
	// mail is refused without them.
	Username, Password string
	// Fail, when set, is asked at every RCPT TO (n counts them from 1); a non-nil error
	// is the server's answer, e.g. &smtp.SMTPError{Code: 451, Message: "try later"}.
	Fail func(n int) *smtp.SMTPError
}

// Message is one accepted message.
type Message struct {
	From     string
	To       []string
	Data     []byte
	Username string // the AUTH identity it was sent under ("" without AUTH)
	Password string
	TLS      bool // whether the session was encrypted when DATA ran
}

// Sink is a running server.
type Sink struct {
	Host string // "127.0.0.1"
	Port int

	srv    *smtp.Server
	opts   Options
	mu     sync.Mutex
	msgs   []Message
	rcpts  int
	notify chan struct{}
}

// Start runs a sink on a free loopback port until the test ends.
func Start(t testing.TB, opts Options) *Sink {
	t.Helper()
	s := &Sink{opts: opts, notify: make(chan struct{}, 1)}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{sink: s, conn: c}, nil
	}))
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.MaxMessageBytes = 10 << 20
	srv.AllowInsecureAuth = opts.Mode == Plain
	srv.ErrorLog = log.New(io.Discard, "", 0) // clients hanging up on purpose are not news
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if opts.Mode != Plain {
		cfg := &tls.Config{Certificates: []tls.Certificate{opts.Cert}, MinVersion: tls.VersionTLS12}
		if opts.Mode == StartTLS {
			srv.TLSConfig = cfg
		} else {
			l = tls.NewListener(l, cfg)
		}
	}
	s.srv = srv
	s.Host = "127.0.0.1"
	s.Port = l.Addr().(*net.TCPAddr).Port
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return s
}

// Addr is host:port.
func (s *Sink) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// Messages returns a copy of what was accepted so far.
func (s *Sink) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Wait returns the first accepted message to rcpt, waiting up to 10 s.
func (s *Sink) Wait(t testing.TB, rcpt string) Message {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		for _, m := range s.Messages() {
			for _, to := range m.To {
				if strings.EqualFold(to, rcpt) {
					return m
				}
			}
		}
		select {
		case <-s.notify:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			t.Fatalf("smtpsink: no message to %s arrived (%d others)", rcpt, len(s.Messages()))
		}
	}
}

type session struct {
	sink       *Sink
	conn       *smtp.Conn
	user, pass string
	from       string
	to         []string
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, username, password string) error {
		o := s.sink.opts
		if o.Username == "" || username != o.Username || password != o.Password {
			return smtp.ErrAuthFailed
		}
		s.user, s.pass = username, password
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.sink.opts.Username != "" && s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.sink.mu.Lock()
	s.sink.rcpts++
	n := s.sink.rcpts
	s.sink.mu.Unlock()
	if f := s.sink.opts.Fail; f != nil {
		if err := f(n); err != nil {
			return err
		}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, tlsOn := s.conn.TLSConnectionState()
	s.sink.mu.Lock()
	s.sink.msgs = append(s.sink.msgs, Message{From: s.from, To: s.to, Data: b, Username: s.user, Password: s.pass, TLS: tlsOn})
	s.sink.mu.Unlock()
	select {
	case s.sink.notify <- struct{}{}:
	default:
	}
	return nil
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

// Parsed is a message read back: its headers (the subject's encoded words decoded) and its
// parts by media type ("text/plain", "text/html"), transfer encoding undone and CRLF line
// ends turned into LF.
type Parsed struct {
	Header     mail.Header
	Subject    string
	Parts      map[string]string
	MultipartT string // the top-level media type, e.g. "multipart/alternative"
}

// Parse reads a message's MIME structure.
func (m Message) Parse() (*Parsed, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		return nil, err
	}
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		return nil, err
	}
	p := &Parsed{Header: msg.Header, Subject: subject, Parts: map[string]string{}}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		return nil, err
	}
	p.MultipartT = mt
	if !strings.HasPrefix(mt, "multipart/") {
		body, err := decodeBody(msg.Body, msg.Header.Get("Content-Transfer-Encoding"))
		if err != nil {
			return nil, err
		}
		p.Parts[mt] = body
		return p, nil
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextRawPart()
		if errors.Is(err, io.EOF) {
			return p, nil
		}
		if err != nil {
			return nil, err
		}
		pt, _, err := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if err != nil {
			return nil, err
		}
		body, err := decodeBody(part, part.Header.Get("Content-Transfer-Encoding"))
		if err != nil {
			return nil, err
		}
		p.Parts[pt] = body
	}
}

func decodeBody(r io.Reader, cte string) (string, error) {
	if strings.EqualFold(cte, "quoted-printable") {
		r = quotedprintable.NewReader(r)
	}
	b, err := io.ReadAll(r)
	return strings.ReplaceAll(string(b), "\r\n", "\n"), err // SMTP's line ends back to Go's
}

// SelfSigned makes a certificate for localhost and 127.0.0.1, valid for a day, and a pool
// trusting it; certPEM is the certificate in PEM, for a CA file.
func SelfSigned(t testing.TB) (cert tls.Certificate, pool *x509.CertPool, certPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "smtpsink test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1"), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(leaf)
	cert = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
	return cert, pool, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
