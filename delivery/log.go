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

// NewLog returns a Log transport writing to logger (nil: discard).
func NewLog(logger *slog.Logger) *Log {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Log{logger: logger}
}

// SendEmail implements authcore.EmailSender.
func (l *Log) SendEmail(ctx context.Context, m authcore.Message) error {
	l.logger.InfoContext(ctx, "email not sent (log transport, development only)",
		"type", m.Type, "to", m.To, "subject", m.Subject, "url", m.Data.URL, "otp", m.Data.OTP)
	return nil
}

// SendSMS implements authcore.SMSSender.
func (l *Log) SendSMS(ctx context.Context, m authcore.Message) error {
	l.logger.InfoContext(ctx, "SMS not sent (log transport, development only)",
		"type", m.Type, "to", m.To, "url", m.Data.URL, "otp", m.Data.OTP)
	return nil
}

// Interface guards
var (
	_ authcore.EmailSender = (*Log)(nil)
	_ authcore.SMSSender   = (*Log)(nil)
)
