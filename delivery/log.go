package delivery

import (
	"context"
	"log/slog"

	"github.com/gatehouse-auth/gatehouse/authcore"
)

// Log "delivers" by logging the message type, recipient, subject and the link or code. It
// is for development: the log then holds working sign-in links and codes, so the Caddy
// layer allows it only when base_url is a loopback address (D13).
type Log struct {
	logger *slog.Logger
}

// LogEmailMessage and LogSMSMessage are the messages of the Log transport's lines: the one
// place Gatehouse logs working links and codes on purpose, so a log scanner (the
// integration tests' leak check) can set exactly these lines aside.
const (
	LogEmailMessage = "email not sent (log transport, development only)"
	LogSMSMessage   = "SMS not sent (log transport, development only)"
)

// NewLog returns a Log transport writing to logger (nil: discard).
func NewLog(logger *slog.Logger) *Log {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Log{logger: logger}
}

// SendEmail implements authcore.EmailSender.
func (l *Log) SendEmail(ctx context.Context, m authcore.Message) error {
	l.logger.InfoContext(ctx, LogEmailMessage,
		append([]any{"type", m.Type, "to", m.To, "subject", m.Subject}, secretAttrs(m)...)...)
	return nil
}

// SendSMS implements authcore.SMSSender.
func (l *Log) SendSMS(ctx context.Context, m authcore.Message) error {
	l.logger.InfoContext(ctx, LogSMSMessage,
		append([]any{"type", m.Type, "to", m.To}, secretAttrs(m)...)...)
	return nil
}

// secretAttrs are the link and code a developer needs to go on, only those the message has.
func secretAttrs(m authcore.Message) []any {
	var out []any
	if m.Data.URL != "" {
		out = append(out, "url", m.Data.URL)
	}
	if m.Data.OTP != "" {
		out = append(out, "otp", m.Data.OTP)
	}
	return out
}

// Interface guards
var (
	_ authcore.EmailSender = (*Log)(nil)
	_ authcore.SMSSender   = (*Log)(nil)
)
