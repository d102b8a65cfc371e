package delivery

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/mail"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/gatehouse-auth/gatehouse/authcore"
)

// TLS modes of an SMTP connection.
const (
	TLSStartTLS = "starttls" // plain connection upgraded with STARTTLS, which must succeed
	TLSImplicit = "implicit" // TLS from the first byte ("SMTPS", usually port 465)
	TLSNone     = "none"     // no encryption: only for a relay on the same machine
)

// SMTPConfig configures an [SMTP] transport.
type SMTPConfig struct {
	// Host of the mail server. Required.
	Host string
	// Port. Default: 587 for starttls, 465 for implicit, 25 for none.
	Port int
	// Username and Password for SMTP AUTH (SCRAM, PLAIN, LOGIN or CRAM-MD5, whichever the
	// server offers first in that order). Both or neither. The password is only ever sent
	// over TLS, or in the clear to a loopback host.
	Username string
	Password string
	// From is the sender, "Name <address>" or "address". Required.
	From string
	// TLS is starttls (default), implicit or none. Certificates are always verified.
	TLS string
	// ConnectTimeout bounds connecting and each command. Default: 10s.
	ConnectTimeout time.Duration
	// SendTimeout bounds the whole delivery of one message. Default: 30s.
	SendTimeout time.Duration
	// RootCAs verify the server's certificate. Default: the system roots. (The Caddyfile
	// sets it from ca_file, for a relay with a private CA, and tests from a generated CA.)
	RootCAs *x509.CertPool

	// Now dates messages. Default: time.Now.
	Now func() time.Time
	// Random makes Message-IDs. Default: crypto/rand.Reader.
	Random io.Reader
}

// SMTP sends email through a mail server, as multipart/alternative (text and HTML) when a
// message has both bodies. Header values are encoded by go-mail (RFC 2047), and recipients
// must be a single plain address, so a CR or LF in a subject or address can never add a
// header or a recipient.
type SMTP struct {
	cfg    SMTPConfig
	from   *mail.Address
	domain string
}

// NewSMTP validates cfg, applies defaults and returns the transport.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	cfg.Host = strings.TrimSpace(cfg.Host)
	if cfg.Host == "" || strings.ContainsAny(cfg.Host, "/:@ \t\r\n") && net.ParseIP(strings.Trim(cfg.Host, "[]")) == nil {
		return nil, fmt.Errorf("smtp: host %q is not a host name or IP address", cfg.Host)
	}
	cfg.Host = strings.Trim(cfg.Host, "[]")
	if cfg.TLS == "" {
		cfg.TLS = TLSStartTLS
	}
	switch cfg.TLS {
	case TLSStartTLS, TLSImplicit, TLSNone:
	default:
		return nil, fmt.Errorf("smtp: tls %q is not one of starttls, implicit, none", cfg.TLS)
	}
	if cfg.Port == 0 {
		cfg.Port = map[string]int{TLSStartTLS: 587, TLSImplicit: 465, TLSNone: 25}[cfg.TLS]
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		return nil, fmt.Errorf("smtp: port %d is out of range", cfg.Port)
	}
	if (cfg.Username == "") != (cfg.Password == "") {
		return nil, errors.New("smtp: username and password go together")
	}
	if cfg.TLS == TLSNone && cfg.Username != "" && !IsLoopbackHost(cfg.Host) {
		return nil, fmt.Errorf("smtp: tls none would send the password in the clear to %s; use starttls or implicit (none is for a relay on this machine)", cfg.Host)
	}
	if cfg.From == "" {
		return nil, errors.New("smtp: from is required")
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("smtp: from %q: %w", cfg.From, err)
	}
	_, domain, _ := strings.Cut(from.Address, "@")
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	if cfg.SendTimeout <= 0 {
		cfg.SendTimeout = 30 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Random == nil {
		cfg.Random = rand.Reader
	}
	return &SMTP{cfg: cfg, from: from, domain: domain}, nil
}

// SendEmail implements authcore.EmailSender: one connection per message.
func (s *SMTP) SendEmail(ctx context.Context, m authcore.Message) error {
	msg, err := s.build(m)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.SendTimeout)
	defer cancel()
	client, err := s.client(ctx)
	if err != nil {
		return Permanent(fmt.Errorf("smtp: %w", err))
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", err, ctx.Err())
		}
		return classifySMTP(redact(fmt.Errorf("smtp: %w", err), m.To))
	}
	return nil
}

// build makes the MIME message. Errors are permanent: the same message fails again.
func (s *SMTP) build(m authcore.Message) (*gomail.Msg, error) {
	to, err := mail.ParseAddress(m.To)
	if err != nil || to.Name != "" || to.Address != strings.TrimSpace(m.To) {
		// The address itself stays out of the error (and so out of the log).
		return nil, Permanent(fmt.Errorf("smtp: %s message: the recipient is not a single plain address", m.Type))
	}
	if m.Text == "" && m.HTML == "" {
		return nil, Permanent(fmt.Errorf("smtp: %s message has no body", m.Type))
	}
	msg := gomail.NewMsg()
	msg.FromMailAddress(s.from)
	msg.ToMailAddress(&mail.Address{Address: to.Address})
	msg.Subject(m.Subject)
	msg.SetDateWithValue(s.cfg.Now())
	id := make([]byte, 16)
	if _, err := io.ReadFull(s.cfg.Random, id); err != nil {
		return nil, fmt.Errorf("smtp: message id: %w", err)
	}
	msg.SetMessageIDWithValue(hex.EncodeToString(id) + "@" + s.domain)
	msg.SetUserAgent("Gatehouse")
	msg.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated") // RFC 3834: no auto-replies
	switch {
	case m.Text != "" && m.HTML != "":
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	case m.Text != "":
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	default:
		msg.SetBodyString(gomail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}

// client configures go-mail for one delivery. Dialling is ours (dial), so that the
// context's deadline and cancellation bound every read and write, not only the connect.
func (s *SMTP) client(ctx context.Context) (*gomail.Client, error) {
	tlsCfg := &tls.Config{ServerName: s.cfg.Host, RootCAs: s.cfg.RootCAs, MinVersion: tls.VersionTLS12}
	opts := []gomail.Option{
		gomail.WithPort(s.cfg.Port),
		gomail.WithTimeout(s.cfg.ConnectTimeout),
		gomail.WithTLSConfig(tlsCfg),
		gomail.WithDialContextFunc(s.dialer(ctx, tlsCfg)),
	}
	switch s.cfg.TLS {
	case TLSStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if s.cfg.Username != "" {
		// PLAIN and LOGIN refuse, inside go-mail, to send a password over a connection that
		// is neither TLS nor to localhost.
		opts = append(opts,
			gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthSCRAMSHA256, gomail.SMTPAuthSCRAMSHA1,
				gomail.SMTPAuthPlain, gomail.SMTPAuthLogin, gomail.SMTPAuthCramMD5),
			gomail.WithUsername(s.cfg.Username), gomail.WithPassword(s.cfg.Password))
	}
	return gomail.NewClient(s.cfg.Host, opts...)
}

// dialer connects, caps every deadline go-mail sets at the context's deadline, aborts the
// connection when the context is cancelled, and does the handshake itself for implicit TLS
// (go-mail leaves TLS to a custom dialer).
func (s *SMTP) dialer(ctx context.Context, tlsCfg *tls.Config) gomail.DialContextFunc {
	return func(dctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		raw, err := d.DialContext(dctx, network, addr)
		if err != nil {
			return nil, err
		}
		limit, _ := ctx.Deadline()
		conn := &deadlineConn{Conn: raw, limit: limit}
		stop := context.AfterFunc(ctx, func() { raw.SetDeadline(time.Unix(1, 0)) })
		conn.stop = stop
		if s.cfg.TLS != TLSImplicit {
			return conn, nil
		}
		tc := tls.Client(conn, tlsCfg)
		if err := tc.HandshakeContext(dctx); err != nil {
			raw.Close()
			return nil, err
		}
		return tc, nil
	}
}

// deadlineConn never lets a deadline run past limit.
type deadlineConn struct {
	net.Conn
	limit time.Time
	stop  func() bool
}

func (c *deadlineConn) clamp(t time.Time) time.Time {
	if !c.limit.IsZero() && (t.IsZero() || t.After(c.limit)) {
		return c.limit
	}
	return t
}

func (c *deadlineConn) SetDeadline(t time.Time) error     { return c.Conn.SetDeadline(c.clamp(t)) }
func (c *deadlineConn) SetReadDeadline(t time.Time) error { return c.Conn.SetReadDeadline(c.clamp(t)) }
func (c *deadlineConn) SetWriteDeadline(t time.Time) error {
	return c.Conn.SetWriteDeadline(c.clamp(t))
}

func (c *deadlineConn) Close() error {
	if c.stop != nil {
		c.stop()
	}
	return c.Conn.Close()
}

// classifySMTP marks a server's permanent (5xx) refusal and an untrusted certificate as
// permanent; 4xx and network failures stay temporary.
func classifySMTP(err error) error {
	var cv *tls.CertificateVerificationError
	if errors.As(err, &cv) {
		return Permanent(err)
	}
	var se *gomail.SendError
	if errors.As(err, &se) && se.ErrorCode() >= 500 && se.ErrorCode() < 600 {
		return Permanent(err)
	}
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 500 && te.Code < 600 {
		return Permanent(err)
	}
	return err
}

// String describes the transport without credentials.
func (s *SMTP) String() string {
	return "smtp " + net.JoinHostPort(s.cfg.Host, strconv.Itoa(s.cfg.Port)) + " (" + s.cfg.TLS + ")"
}

// Interface guards
var _ authcore.EmailSender = (*SMTP)(nil)
