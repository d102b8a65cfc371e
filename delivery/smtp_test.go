package delivery

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/internal/smtpsink"
)

var fixedNow = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func testSMTP(t *testing.T, sink *smtpsink.Sink, edit func(*SMTPConfig)) *SMTP {
	t.Helper()
	cfg := SMTPConfig{
		Host: sink.Host, Port: sink.Port, From: "Acme <no-reply@acme.example>", TLS: TLSNone,
		Now: func() time.Time { return fixedNow }, Random: bytes.NewReader(bytes.Repeat([]byte{0xab}, 1024)),
		ConnectTimeout: 5 * time.Second, SendTimeout: 10 * time.Second,
	}
	if edit != nil {
		edit(&cfg)
	}
	s, err := NewSMTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func richMessage(to string) authcore.Message {
	return authcore.Message{
		Type: "reset-password", To: to, Subject: "Réinitialiser · your password",
		Text: "Open https://acme.example/reset?token=abc&x=1\n",
		HTML: `<p>Open <a href="https://acme.example/reset?token=abc&amp;x=1">this link</a></p>`,
		Data: authcore.MessageData{URL: "https://acme.example/reset?token=abc&x=1", Token: "abc"},
	}
}

// checkDelivered asserts the envelope, the headers and both MIME parts of what the sink
// received.
func checkDelivered(t *testing.T, got smtpsink.Message, m authcore.Message) {
	t.Helper()
	if got.From != "no-reply@acme.example" || len(got.To) != 1 || got.To[0] != m.To {
		t.Fatalf("envelope: from %q to %v", got.From, got.To)
	}
	p, err := got.Parse()
	if err != nil {
		t.Fatalf("parsing the delivered message: %v\n%s", err, got.Data)
	}
	if p.Subject != m.Subject {
		t.Errorf("Subject %q, want %q", p.Subject, m.Subject)
	}
	if from := p.Header.Get("From"); from != `"Acme" <no-reply@acme.example>` {
		t.Errorf("From header %q", from)
	}
	if to := p.Header.Get("To"); to != "<"+m.To+">" {
		t.Errorf("To header %q", to)
	}
	if p.MultipartT != "multipart/alternative" {
		t.Errorf("content type %q, want multipart/alternative", p.MultipartT)
	}
	if p.Parts["text/plain"] != m.Text {
		t.Errorf("text part %q, want %q", p.Parts["text/plain"], m.Text)
	}
	if p.Parts["text/html"] != m.HTML {
		t.Errorf("html part %q, want %q", p.Parts["text/html"], m.HTML)
	}
	if id := p.Header.Get("Message-Id"); id != "<"+strings.Repeat("ab", 16)+"@acme.example>" {
		t.Errorf("Message-ID %q (not from the injected randomness)", id)
	}
	if d, err := p.Header.Date(); err != nil || !d.Equal(fixedNow) {
		t.Errorf("Date %v, %v (not from the injected clock)", d, err)
	}
	if p.Header.Get("Auto-Submitted") != "auto-generated" {
		t.Errorf("Auto-Submitted %q", p.Header.Get("Auto-Submitted"))
	}
}

// TestSMTPNoTLSWithAuth: plain SMTP to a loopback relay, with AUTH PLAIN.
func TestSMTPNoTLSWithAuth(t *testing.T) {
	sink := smtpsink.Start(t, smtpsink.Options{Username: "mailer", Password: "s3cret pass"})
	s := testSMTP(t, sink, func(c *SMTPConfig) { c.Username, c.Password = "mailer", "s3cret pass" })
	m := richMessage("ada@example.com")
	if err := s.SendEmail(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	got := sink.Wait(t, "ada@example.com")
	checkDelivered(t, got, m)
	if got.Username != "mailer" || got.Password != "s3cret pass" || got.TLS {
		t.Errorf("auth %q/%q, tls %v", got.Username, got.Password, got.TLS)
	}
}

// TestSMTPTLS: STARTTLS and implicit TLS against a server with a certificate made for the
// test and trusted through RootCAs; the password travels only inside TLS (the sink offers
// AUTH only after STARTTLS).
func TestSMTPTLS(t *testing.T) {
	cert, pool, _ := smtpsink.SelfSigned(t)
	for _, tc := range []struct {
		mode smtpsink.Mode
		tls  string
	}{{smtpsink.StartTLS, TLSStartTLS}, {smtpsink.ImplicitTLS, TLSImplicit}} {
		t.Run(tc.tls, func(t *testing.T) {
			sink := smtpsink.Start(t, smtpsink.Options{Mode: tc.mode, Cert: cert, Username: "u", Password: "p"})
			s := testSMTP(t, sink, func(c *SMTPConfig) {
				c.TLS, c.RootCAs, c.Username, c.Password = tc.tls, pool, "u", "p"
			})
			m := richMessage("grace@example.com")
			if err := s.SendEmail(t.Context(), m); err != nil {
				t.Fatal(err)
			}
			got := sink.Wait(t, "grace@example.com")
			checkDelivered(t, got, m)
			if !got.TLS || got.Username != "u" || got.Password != "p" {
				t.Errorf("tls %v, auth %q/%q", got.TLS, got.Username, got.Password)
			}
		})
	}
}

// TestSMTPRefusesInsecure: the certificate is verified (an untrusted one fails), and
// starttls is mandatory: a server that does not offer STARTTLS gets nothing, not a
// plain-text fallback.
func TestSMTPRefusesInsecure(t *testing.T) {
	cert, _, _ := smtpsink.SelfSigned(t)
	t.Run("untrusted certificate", func(t *testing.T) {
		sink := smtpsink.Start(t, smtpsink.Options{Mode: smtpsink.StartTLS, Cert: cert})
		s := testSMTP(t, sink, func(c *SMTPConfig) { c.TLS = TLSStartTLS })
		err := s.SendEmail(t.Context(), richMessage("ada@example.com"))
		if err == nil || !strings.Contains(err.Error(), "certificate") || !IsPermanent(err) {
			t.Fatalf("err = %v, want a permanent certificate error", err)
		}
		if n := len(sink.Messages()); n != 0 {
			t.Fatalf("%d messages delivered", n)
		}
	})
	t.Run("no STARTTLS offered", func(t *testing.T) {
		sink := smtpsink.Start(t, smtpsink.Options{})
		s := testSMTP(t, sink, func(c *SMTPConfig) { c.TLS = TLSStartTLS })
		if err := s.SendEmail(t.Context(), richMessage("ada@example.com")); err == nil || !strings.Contains(err.Error(), "STARTTLS") {
			t.Fatalf("err = %v, want a STARTTLS error", err)
		}
		if n := len(sink.Messages()); n != 0 {
			t.Fatalf("%d messages delivered in the clear", n)
		}
	})
}

// TestSMTPTextOnly: a message without HTML is a single text/plain part.
func TestSMTPTextOnly(t *testing.T) {
	sink := smtpsink.Start(t, smtpsink.Options{})
	s := testSMTP(t, sink, nil)
	m := authcore.Message{Type: "x", To: "ada@example.com", Subject: "Hi", Text: "just text\n"}
	if err := s.SendEmail(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	p, err := sink.Wait(t, "ada@example.com").Parse()
	if err != nil {
		t.Fatal(err)
	}
	if p.MultipartT != "text/plain" || p.Parts["text/plain"] != "just text\n" {
		t.Errorf("%q %q", p.MultipartT, p.Parts)
	}
}

// TestSMTPHeaderInjection: CR/LF in the subject cannot add a header or a recipient (it is
// RFC 2047-encoded), and a recipient that is not exactly one plain address — CR/LF, a
// list, a display name — is refused before anything is sent, permanently, and without the
// address in the error.
func TestSMTPHeaderInjection(t *testing.T) {
	sink := smtpsink.Start(t, smtpsink.Options{})
	s := testSMTP(t, sink, nil)
	m := richMessage("ada@example.com")
	m.Subject = "Hello\r\nBcc: victim@evil.example\r\nX-Injected: yes"
	if err := s.SendEmail(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	got := sink.Wait(t, "ada@example.com")
	if len(got.To) != 1 {
		t.Fatalf("recipients %v", got.To)
	}
	p, err := got.Parse()
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"Bcc", "X-Injected"} {
		if v := p.Header.Get(h); v != "" {
			t.Errorf("injected header %s: %q", h, v)
		}
	}
	if !strings.HasPrefix(p.Subject, "Hello") {
		t.Errorf("subject %q", p.Subject)
	}

	for _, to := range []string{
		"ada@example.com\r\nBcc: victim@evil.example",
		"ada@example.com\nRCPT TO:<victim@evil.example>",
		"ada@example.com, victim@evil.example",
		"Eve <victim@evil.example>",
		"not an address",
		"",
	} {
		err := s.SendEmail(t.Context(), richMessage(to))
		if err == nil || !IsPermanent(err) {
			t.Errorf("To %q: err = %v, want a permanent error", to, err)
			continue
		}
		if strings.Contains(err.Error(), "victim") || (to != "" && strings.Contains(err.Error(), "ada@")) {
			t.Errorf("To %q: error %q quotes the address", to, err)
		}
	}
	if n := len(sink.Messages()); n != 1 {
		t.Fatalf("%d messages delivered, want only the first", n)
	}
}

// TestSMTPErrors: a 5xx refusal is permanent, a 4xx temporary, a bad password permanent;
// the error never carries the recipient even when the server quotes it.
func TestSMTPErrors(t *testing.T) {
	for _, tc := range []struct {
		name      string
		fail      *smtp.SMTPError
		user      string
		permanent bool
	}{
		{"550 unknown user", &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "<Bob@Example.com>: no such user"}, "", true},
		{"451 try later", &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "bob@example.com greylisted"}, "", false},
		{"535 bad password", nil, "wrong", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := smtpsink.Options{}
			if tc.fail != nil {
				opts.Fail = func(int) *smtp.SMTPError { return tc.fail }
			}
			if tc.user != "" {
				opts.Username, opts.Password = "right", "right"
			}
			sink := smtpsink.Start(t, opts)
			s := testSMTP(t, sink, func(c *SMTPConfig) {
				if tc.user != "" {
					c.Username, c.Password = tc.user, "wrong"
				}
			})
			err := s.SendEmail(t.Context(), richMessage("bob@example.com"))
			if err == nil {
				t.Fatal("no error")
			}
			if IsPermanent(err) != tc.permanent {
				t.Errorf("permanent = %v, want %v (%v)", IsPermanent(err), tc.permanent, err)
			}
			if strings.Contains(strings.ToLower(err.Error()), "bob@example.com") {
				t.Errorf("error %q names the recipient", err)
			}
		})
	}
}

// TestSMTPTimeouts: a server that accepts the connection and never answers is given up on
// when the send timeout passes, and when the caller's context is cancelled.
func TestSMTPTimeouts(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() }) // hold it open, silent
		}
	}()
	port := l.Addr().(*net.TCPAddr).Port
	mk := func(send time.Duration) *SMTP {
		s, err := NewSMTP(SMTPConfig{Host: "127.0.0.1", Port: port, From: "a@acme.example", TLS: TLSNone,
			ConnectTimeout: time.Minute, SendTimeout: send})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if err := mk(200*time.Millisecond).SendEmail(t.Context(), richMessage("ada@example.com")); err == nil || IsPermanent(err) {
		t.Fatalf("send timeout: err = %v, want a temporary error", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(100*time.Millisecond, cancel)
	err = mk(time.Minute).SendEmail(ctx, richMessage("ada@example.com"))
	if err == nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: err = %v", err)
	}
}

func TestNewSMTPValidation(t *testing.T) {
	ok := SMTPConfig{Host: "smtp.example.com", From: "no-reply@example.com"}
	for _, tc := range []struct {
		name string
		edit func(*SMTPConfig)
		want string
	}{
		{"no host", func(c *SMTPConfig) { c.Host = "" }, "host"},
		{"host with scheme", func(c *SMTPConfig) { c.Host = "smtp://mail.example.com" }, "host"},
		{"host with port", func(c *SMTPConfig) { c.Host = "mail.example.com:25" }, "host"},
		{"bad tls", func(c *SMTPConfig) { c.TLS = "ssl" }, "tls"},
		{"port out of range", func(c *SMTPConfig) { c.Port = 70000 }, "port"},
		{"username without password", func(c *SMTPConfig) { c.Username = "u" }, "username and password"},
		{"password in the clear to a remote host", func(c *SMTPConfig) { c.TLS, c.Username, c.Password = TLSNone, "u", "p" }, "in the clear"},
		{"no from", func(c *SMTPConfig) { c.From = "" }, "from is required"},
		{"bad from", func(c *SMTPConfig) { c.From = "not an address" }, "from"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.edit(&c)
			if _, err := NewSMTP(c); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
	for tlsMode, port := range map[string]int{"": 587, TLSStartTLS: 587, TLSImplicit: 465, TLSNone: 25} {
		c := ok
		c.TLS = tlsMode
		s, err := NewSMTP(c)
		if err != nil || s.cfg.Port != port {
			t.Errorf("tls %q: port %v, %v; want %d", tlsMode, s, err, port)
		}
	}
	for _, host := range []string{"127.0.0.1", "localhost", "::1", "[::1]"} {
		if _, err := NewSMTP(SMTPConfig{Host: host, From: "a@b.example", TLS: TLSNone, Username: "u", Password: "p"}); err != nil {
			t.Errorf("tls none with auth to loopback %s refused: %v", host, err)
		}
	}
	c := ok
	c.Username, c.Password = "mailer", "hunter2-secret"
	if s, err := NewSMTP(c); err != nil || s.String() != "smtp smtp.example.com:587 (starttls)" {
		t.Errorf("String() = %q, %v", s, err)
	}
}
