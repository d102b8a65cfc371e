package caddymodule

import (
	"context"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"go.uber.org/zap"
	"go.uber.org/zap/exp/zapslog"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/templates"
	"github.com/gatehouse-auth/gatehouse/caddymodule/caddyopts"
	"github.com/gatehouse-auth/gatehouse/delivery"
)

// Email and SMS transports are modules, so that third parties can add their own (D13):
//
//	gatehouse.mailers.<transport>   implements authcore.EmailSender
//	gatehouse.sms.<transport>       implements authcore.SMSSender
//
// The app loads the one configured under "mailer" / "sms" (inline key "transport"). A
// module that also implements caddyfile.Unmarshaler reads its own Caddyfile segment,
// starting at the transport's name: `mailer <transport> [args] [{ options }]`. Real
// transports are wrapped in delivery's retry policy; a [DevOnlyTransport] is not, and is
// refused unless base_url is a loopback address.
func init() {
	caddy.RegisterModule(LogMailer{})
	caddy.RegisterModule(SMTPMailer{})
	caddy.RegisterModule(WebhookMailer{})
	caddy.RegisterModule(LogSMS{})
	caddy.RegisterModule(WebhookSMS{})
	caddy.RegisterModule(TwilioSMS{})
}

// DevOnlyTransport marks a transport that writes links and codes where an operator can
// read them (the log): the app accepts it only when base_url is a loopback address (D13),
// and does not retry it.
type DevOnlyTransport interface {
	DevOnly()
}

// replace expands placeholders such as {env.SMTP_PASSWORD} in a transport option. A known
// placeholder that is empty is an error (a missing secret must not silently become an
// empty one); unknown ones stay as written.
func replace(repl *caddy.Replacer, option, value string) (string, error) {
	out, err := repl.ReplaceOrErr(value, true, false)
	if err != nil {
		return "", fmt.Errorf("%s: %w", option, err)
	}
	return out, nil
}

// hasPlaceholder reports whether a value can only be checked once placeholders are known.
func hasPlaceholder(s string) bool { return strings.Contains(s, "{") }

// noArgs consumes the transport name and refuses arguments and blocks.
func noArgs(d *caddyfile.Dispenser, what string) error {
	d.Next()
	if d.NextArg() {
		return d.Errf("%s: takes no arguments", what)
	}
	if d.NextBlock(d.Nesting()) {
		return d.Errf("%s: takes no options", what)
	}
	return nil
}

func moduleLogger(ctx caddy.Context) *slog.Logger {
	return slogFor(ctx.Logger())
}

// slogFor is l as a *slog.Logger that keeps l's name, so each line still says which logger
// wrote it (the log transports' lines, which hold working links and codes on purpose, are
// gatehouse.mailer.log / gatehouse.sms.log or the module's own name).
func slogFor(l *zap.Logger) *slog.Logger {
	return slog.New(zapslog.NewHandler(l.Core(), zapslog.WithName(l.Name())))
}

// LogMailer "sends" email by logging the type, recipient, subject and link or code
// (development only; D13). Caddyfile: `mailer log`.
type LogMailer struct {
	log *delivery.Log
}

// CaddyModule returns the Caddy module information.
func (LogMailer) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "gatehouse.mailers.log", New: func() caddy.Module { return new(LogMailer) }}
}

// Provision implements caddy.Provisioner.
func (m *LogMailer) Provision(ctx caddy.Context) error {
	m.log = delivery.NewLog(moduleLogger(ctx))
	return nil
}

// SendEmail implements authcore.EmailSender.
func (m *LogMailer) SendEmail(ctx context.Context, msg authcore.Message) error {
	return m.log.SendEmail(ctx, msg)
}

// DevOnly implements DevOnlyTransport.
func (*LogMailer) DevOnly() {}

// UnmarshalCaddyfile reads `log` (no options).
func (m *LogMailer) UnmarshalCaddyfile(d *caddyfile.Dispenser) error { return noArgs(d, "mailer log") }

// SMTPMailer sends email through an SMTP server (github.com/wneessen/go-mail). Caddyfile:
//
//	mailer smtp {
//	    host <host>              required
//	    port <port>              default: 587 (starttls), 465 (implicit), 25 (none)
//	    username <user>          with password: SMTP AUTH
//	    password <password>      e.g. {env.SMTP_PASSWORD}
//	    from <address>           required; "Name <address>" in quotes is fine
//	    tls starttls|implicit|none   default: starttls (mandatory; certificates verified)
//	    connect_timeout 10s  send_timeout 30s
//	    ca_file <pem>            trust these CAs instead of the system's (private relays)
//	}
type SMTPMailer struct {
	// Host of the mail server. Required.
	Host string `json:"host,omitempty"`
	// Port. Default: 587 for starttls, 465 for implicit, 25 for none.
	Port int `json:"port,omitempty"`
	// Username and Password for SMTP AUTH; both or neither. Placeholders such as
	// {env.SMTP_PASSWORD} are expanded at provision.
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	// From is the sender: "address" or "Name <address>". Required.
	From string `json:"from,omitempty"`
	// TLS is starttls, implicit or none (none only to a loopback host when a password is
	// set). Default: starttls.
	TLS string `json:"tls,omitempty"`
	// ConnectTimeout bounds connecting and each SMTP command. Default: 10s.
	ConnectTimeout caddy.Duration `json:"connect_timeout,omitempty"`
	// SendTimeout bounds the delivery of one message. Default: 30s.
	SendTimeout caddy.Duration `json:"send_timeout,omitempty"`
	// CAFile is a PEM file of CA certificates trusted for the server's certificate instead
	// of the system roots. Default: the system roots.
	CAFile string `json:"ca_file,omitempty"`

	smtp *delivery.SMTP
}

// CaddyModule returns the Caddy module information.
func (SMTPMailer) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "gatehouse.mailers.smtp", New: func() caddy.Module { return new(SMTPMailer) }}
}

// config expands placeholders (with repl; nil: values as written) and maps the options.
func (m *SMTPMailer) config(repl *caddy.Replacer) (delivery.SMTPConfig, error) {
	cfg := delivery.SMTPConfig{Port: m.Port, TLS: m.TLS,
		ConnectTimeout: time.Duration(m.ConnectTimeout), SendTimeout: time.Duration(m.SendTimeout)}
	fields := []struct {
		name string
		in   string
		out  *string
	}{{"host", m.Host, &cfg.Host}, {"username", m.Username, &cfg.Username}, {"password", m.Password, &cfg.Password}, {"from", m.From, &cfg.From}}
	for _, f := range fields {
		*f.out = f.in
		if repl != nil && f.in != "" {
			v, err := replace(repl, "smtp "+f.name, f.in)
			if err != nil {
				return cfg, err
			}
			*f.out = v
		}
	}
	return cfg, nil
}

// Provision implements caddy.Provisioner: placeholders are expanded and the transport is
// built, so a bad option stops start-up.
func (m *SMTPMailer) Provision(caddy.Context) error {
	repl := caddy.NewReplacer()
	cfg, err := m.config(repl)
	if err != nil {
		return fmt.Errorf("mailer %w", err)
	}
	if m.CAFile != "" {
		path, err := replace(repl, "smtp ca_file", m.CAFile)
		if err != nil {
			return fmt.Errorf("mailer %w", err)
		}
		pem, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("mailer smtp ca_file: %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return fmt.Errorf("mailer smtp ca_file %s: no PEM certificate in it", path)
		}
	}
	if m.smtp, err = delivery.NewSMTP(cfg); err != nil {
		return fmt.Errorf("mailer %w", err)
	}
	return nil
}

// SendEmail implements authcore.EmailSender.
func (m *SMTPMailer) SendEmail(ctx context.Context, msg authcore.Message) error {
	return m.smtp.SendEmail(ctx, msg)
}

// UnmarshalCaddyfile reads `smtp { ... }` (see the type's doc).
func (m *SMTPMailer) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // "smtp"
	if d.NextArg() {
		return d.Err("mailer smtp: takes no arguments; options go in its block")
	}
	var connect, send time.Duration
	err := caddyopts.Parse(d, "mailer smtp", map[string]caddyopts.Opt{
		"host": caddyopts.String(&m.Host), "port": caddyopts.Int(&m.Port),
		"username": caddyopts.String(&m.Username), "password": caddyopts.String(&m.Password),
		"from": caddyopts.String(&m.From), "tls": caddyopts.OneOf(&m.TLS, delivery.TLSStartTLS, delivery.TLSImplicit, delivery.TLSNone),
		"connect_timeout": caddyopts.Duration(&connect), "send_timeout": caddyopts.Duration(&send),
		"ca_file": caddyopts.String(&m.CAFile),
	})
	if err != nil {
		return err
	}
	m.ConnectTimeout, m.SendTimeout = caddy.Duration(connect), caddy.Duration(send)
	if m.Host == "" || m.From == "" {
		return d.Err("mailer smtp: host and from are required")
	}
	// Check now what can be checked without placeholders; Provision checks the rest.
	if cfg, _ := m.config(nil); !hasPlaceholder(m.Host + m.Username + m.Password + m.From) {
		if _, err := delivery.NewSMTP(cfg); err != nil {
			return d.Errf("mailer %v", err)
		}
	}
	return nil
}

// webhookOptions are the options of both webhook transports.
type webhookOptions struct {
	url, secret string
}

// parseWebhook reads `webhook <url> [{ secret <key> }]`.
func parseWebhook(d *caddyfile.Dispenser, what string) (webhookOptions, error) {
	var o webhookOptions
	d.Next() // "webhook"
	if !d.NextArg() {
		return o, d.Errf("%s: usage: webhook <url> [{ secret <key> }]", what)
	}
	o.url = d.Val()
	if d.NextArg() {
		return o, d.Errf("%s: one URL only; the secret goes in the block", what)
	}
	if err := caddyopts.Parse(d, what, map[string]caddyopts.Opt{"secret": caddyopts.String(&o.secret)}); err != nil {
		return o, err
	}
	if !hasPlaceholder(o.url) {
		secret := o.secret
		if hasPlaceholder(secret) {
			secret = ""
		}
		if _, err := delivery.NewWebhook(delivery.WebhookConfig{URL: o.url, Secret: secret}); err != nil {
			return o, d.Errf("%s: %v", what, err)
		}
	}
	return o, nil
}

// newWebhook expands placeholders and builds the transport.
func newWebhook(what, rawURL, rawSecret string) (*delivery.Webhook, error) {
	repl := caddy.NewReplacer()
	u, err := replace(repl, what+" url", rawURL)
	if err != nil {
		return nil, err
	}
	secret := rawSecret
	if secret != "" {
		if secret, err = replace(repl, what+" secret", rawSecret); err != nil {
			return nil, err
		}
	}
	w, err := delivery.NewWebhook(delivery.WebhookConfig{URL: u, Secret: secret})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return w, nil
}

// WebhookMailer POSTs each email as signed JSON to a URL. Caddyfile:
//
//	mailer webhook <url> [{
//	    secret <key>     whsec_<base64> or a raw string of 16+ bytes; e.g. {env.WEBHOOK_SECRET}
//	}]
type WebhookMailer struct {
	// URL receives the POSTs: https, or http to a loopback host. Required.
	URL string `json:"url,omitempty"`
	// Secret signs the requests (Standard Webhooks). Default: unsigned.
	Secret string `json:"secret,omitempty"`

	wh *delivery.Webhook
}

// CaddyModule returns the Caddy module information.
func (WebhookMailer) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "gatehouse.mailers.webhook", New: func() caddy.Module { return new(WebhookMailer) }}
}

// Provision implements caddy.Provisioner.
func (m *WebhookMailer) Provision(caddy.Context) (err error) {
	m.wh, err = newWebhook("mailer webhook", m.URL, m.Secret)
	return err
}

// SendEmail implements authcore.EmailSender.
func (m *WebhookMailer) SendEmail(ctx context.Context, msg authcore.Message) error {
	return m.wh.SendEmail(ctx, msg)
}

// UnmarshalCaddyfile reads `webhook <url> [{ secret <key> }]`.
func (m *WebhookMailer) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	o, err := parseWebhook(d, "mailer webhook")
	m.URL, m.Secret = o.url, o.secret
	return err
}

// LogSMS "sends" SMS by logging them (development only; D13). Caddyfile: `sms log`.
type LogSMS struct {
	log *delivery.Log
}

// CaddyModule returns the Caddy module information.
func (LogSMS) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "gatehouse.sms.log", New: func() caddy.Module { return new(LogSMS) }}
}

// Provision implements caddy.Provisioner.
func (m *LogSMS) Provision(ctx caddy.Context) error {
	m.log = delivery.NewLog(moduleLogger(ctx))
	return nil
}

// SendSMS implements authcore.SMSSender.
func (m *LogSMS) SendSMS(ctx context.Context, msg authcore.Message) error {
	return m.log.SendSMS(ctx, msg)
}

// DevOnly implements DevOnlyTransport.
func (*LogSMS) DevOnly() {}

// UnmarshalCaddyfile reads `log` (no options).
func (m *LogSMS) UnmarshalCaddyfile(d *caddyfile.Dispenser) error { return noArgs(d, "sms log") }

// WebhookSMS POSTs each SMS as signed JSON to a URL. Caddyfile:
//
//	sms webhook <url> [{
//	    secret <key>
//	}]
type WebhookSMS struct {
	// URL receives the POSTs: https, or http to a loopback host. Required.
	URL string `json:"url,omitempty"`
	// Secret signs the requests (Standard Webhooks). Default: unsigned.
	Secret string `json:"secret,omitempty"`

	wh *delivery.Webhook
}

// CaddyModule returns the Caddy module information.
func (WebhookSMS) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "gatehouse.sms.webhook", New: func() caddy.Module { return new(WebhookSMS) }}
}

// Provision implements caddy.Provisioner.
func (m *WebhookSMS) Provision(caddy.Context) (err error) {
	m.wh, err = newWebhook("sms webhook", m.URL, m.Secret)
	return err
}

// SendSMS implements authcore.SMSSender.
func (m *WebhookSMS) SendSMS(ctx context.Context, msg authcore.Message) error {
	return m.wh.SendSMS(ctx, msg)
}

// UnmarshalCaddyfile reads `webhook <url> [{ secret <key> }]`.
func (m *WebhookSMS) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	o, err := parseWebhook(d, "sms webhook")
	m.URL, m.Secret = o.url, o.secret
	return err
}

// TwilioSMS sends SMS through Twilio's Messages API. Caddyfile:
//
//	sms twilio {
//	    account_sid <AC...>
//	    auth_token <token>     e.g. {env.TWILIO_AUTH_TOKEN}
//	    from <+number|MG...>   a number, sender ID, or Messaging Service SID
//	    api_url <url>          default: https://api.twilio.com (https, or http to loopback)
//	}
type TwilioSMS struct {
	// AccountSID and AuthToken authenticate. Required.
	AccountSID string `json:"account_sid,omitempty"`
	AuthToken  string `json:"auth_token,omitempty"`
	// From is the sending number, sender ID, or Messaging Service SID ("MG..."). Required.
	From string `json:"from,omitempty"`
	// APIURL replaces Twilio's API base. Default: https://api.twilio.com.
	APIURL string `json:"api_url,omitempty"`

	tw *delivery.Twilio
}

// CaddyModule returns the Caddy module information.
func (TwilioSMS) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "gatehouse.sms.twilio", New: func() caddy.Module { return new(TwilioSMS) }}
}

func (m *TwilioSMS) config(repl *caddy.Replacer) (delivery.TwilioConfig, error) {
	cfg := delivery.TwilioConfig{AccountSID: m.AccountSID, AuthToken: m.AuthToken, From: m.From, APIURL: m.APIURL}
	if repl == nil {
		return cfg, nil
	}
	for name, p := range map[string]*string{"account_sid": &cfg.AccountSID, "auth_token": &cfg.AuthToken, "from": &cfg.From, "api_url": &cfg.APIURL} {
		if *p == "" {
			continue
		}
		v, err := replace(repl, "twilio "+name, *p)
		if err != nil {
			return cfg, err
		}
		*p = v
	}
	return cfg, nil
}

// Provision implements caddy.Provisioner.
func (m *TwilioSMS) Provision(caddy.Context) error {
	cfg, err := m.config(caddy.NewReplacer())
	if err != nil {
		return fmt.Errorf("sms %w", err)
	}
	if m.tw, err = delivery.NewTwilio(cfg); err != nil {
		return fmt.Errorf("sms %w", err)
	}
	return nil
}

// SendSMS implements authcore.SMSSender.
func (m *TwilioSMS) SendSMS(ctx context.Context, msg authcore.Message) error {
	return m.tw.SendSMS(ctx, msg)
}

// UnmarshalCaddyfile reads `twilio { ... }` (see the type's doc).
func (m *TwilioSMS) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // "twilio"
	if d.NextArg() {
		return d.Err("sms twilio: takes no arguments; options go in its block")
	}
	err := caddyopts.Parse(d, "sms twilio", map[string]caddyopts.Opt{
		"account_sid": caddyopts.String(&m.AccountSID), "auth_token": caddyopts.String(&m.AuthToken),
		"from": caddyopts.String(&m.From), "api_url": caddyopts.String(&m.APIURL),
	})
	if err != nil {
		return err
	}
	if m.AccountSID == "" || m.AuthToken == "" || m.From == "" {
		return d.Err("sms twilio: account_sid, auth_token and from are required")
	}
	if cfg, _ := m.config(nil); !hasPlaceholder(m.AccountSID + m.AuthToken + m.From + m.APIURL) {
		if _, err := delivery.NewTwilio(cfg); err != nil {
			return d.Errf("sms %v", err)
		}
	}
	return nil
}

// Interface guards
var (
	_ authcore.EmailSender  = (*LogMailer)(nil)
	_ authcore.EmailSender  = (*SMTPMailer)(nil)
	_ authcore.EmailSender  = (*WebhookMailer)(nil)
	_ authcore.SMSSender    = (*LogSMS)(nil)
	_ authcore.SMSSender    = (*WebhookSMS)(nil)
	_ authcore.SMSSender    = (*TwilioSMS)(nil)
	_ DevOnlyTransport      = (*LogMailer)(nil)
	_ DevOnlyTransport      = (*LogSMS)(nil)
	_ caddy.Provisioner     = (*LogMailer)(nil)
	_ caddy.Provisioner     = (*SMTPMailer)(nil)
	_ caddy.Provisioner     = (*WebhookMailer)(nil)
	_ caddy.Provisioner     = (*LogSMS)(nil)
	_ caddy.Provisioner     = (*WebhookSMS)(nil)
	_ caddy.Provisioner     = (*TwilioSMS)(nil)
	_ caddyfile.Unmarshaler = (*LogMailer)(nil)
	_ caddyfile.Unmarshaler = (*SMTPMailer)(nil)
	_ caddyfile.Unmarshaler = (*WebhookMailer)(nil)
	_ caddyfile.Unmarshaler = (*LogSMS)(nil)
	_ caddyfile.Unmarshaler = (*WebhookSMS)(nil)
	_ caddyfile.Unmarshaler = (*TwilioSMS)(nil)
)

// deliveryOptions loads the transports and templates as engine options.
func (a *App) deliveryOptions(ctx caddy.Context, baseURL string) ([]authcore.Option, error) {
	mailer, sms, set, err := a.provisionDelivery(ctx, baseURL)
	if err != nil {
		return nil, err
	}
	opts := []authcore.Option{authcore.WithTemplates(set)}
	if mailer != nil {
		opts = append(opts, authcore.WithEmailSender(mailer))
	}
	if sms != nil {
		opts = append(opts, authcore.WithSMSSender(sms))
	}
	return opts, nil
}

// provisionDelivery loads the mailer and SMS transports and the templates, applying D13:
// development-only transports need a loopback base_url; without a configured transport a
// loopback base_url gets the log one, and anything else gets none (nil; with a warning for
// email, which core features need). Real transports come wrapped in bounded retries.
func (a *App) provisionDelivery(ctx caddy.Context, baseURL string) (authcore.EmailSender, authcore.SMSSender, *templates.Set, error) {
	loopback := delivery.IsLoopbackURL(baseURL)
	load := func(field, option string) (any, error) {
		mod, err := ctx.LoadModule(a, field)
		if err != nil {
			return nil, fmt.Errorf("gatehouse %s: %w", option, err)
		}
		if _, dev := mod.(DevOnlyTransport); dev && !loopback {
			return nil, fmt.Errorf("gatehouse: `%s log` writes sign-in links and codes to the log and is allowed only when base_url is a loopback address, not %s (D13); configure a real transport", option, baseURL)
		}
		return mod, nil
	}
	var mailer authcore.EmailSender
	switch {
	case a.MailerRaw != nil:
		mod, err := load("MailerRaw", "mailer")
		if err != nil {
			return nil, nil, nil, err
		}
		es, ok := mod.(authcore.EmailSender)
		if !ok {
			return nil, nil, nil, fmt.Errorf("gatehouse mailer: module %T does not implement authcore.EmailSender", mod)
		}
		if _, dev := mod.(DevOnlyTransport); !dev {
			es = delivery.RetryEmail(es, delivery.RetryPolicy{})
		}
		mailer = es
	case loopback:
		a.logger.Info("no mailer configured and base_url is loopback: emails are written to the log (mailer log)")
		mailer = delivery.NewLog(slogFor(a.logger.Named("mailer.log")))
	default:
		a.logger.Warn("no mailer configured: password reset, email verification and the other email features answer as not enabled (D13); configure `mailer smtp` or `mailer webhook`")
	}
	var sms authcore.SMSSender
	switch {
	case a.SMSRaw != nil:
		mod, err := load("SMSRaw", "sms")
		if err != nil {
			return nil, nil, nil, err
		}
		ss, ok := mod.(authcore.SMSSender)
		if !ok {
			return nil, nil, nil, fmt.Errorf("gatehouse sms: module %T does not implement authcore.SMSSender", mod)
		}
		if _, dev := mod.(DevOnlyTransport); !dev {
			ss = delivery.RetrySMS(ss, delivery.RetryPolicy{})
		}
		sms = ss
	case loopback:
		sms = delivery.NewLog(slogFor(a.logger.Named("sms.log")))
	default:
		a.logger.Info("no SMS transport configured; SMS features are not enabled")
	}
	dir := a.Templates
	if dir != "" {
		var err error
		if dir, err = replace(caddy.NewReplacer(), "gatehouse templates", dir); err != nil {
			return nil, nil, nil, err
		}
	}
	set, err := templates.Load(dir)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("gatehouse templates: %w", err)
	}
	return mailer, sms, set, nil
}
