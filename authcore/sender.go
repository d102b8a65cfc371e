package authcore

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore/templates"
)

// Message is one email or SMS. Type is an open list ("verify-email", "reset-password",
// "change-email", "delete-account", "magic-link", "email-otp", ... — D13); Data carries the
// machine-readable parts so a webhook receiver can build its own message. Senders of
// messages fill Type, To, Data (and Vars); the engine renders Subject, Text and HTML from
// its templates when they are empty.
type Message struct {
	Type    string
	To      string
	Subject string
	Text    string
	HTML    string
	Data    MessageData
	// ExpiresIn is how long the link or code stays valid (templates say so when set).
	ExpiresIn time.Duration
	// Vars are extra values for the templates (e.g. "newEmail", "organization"); they are
	// not part of a webhook's data object.
	Vars map[string]string
}

// MessageData holds the link, token or code a message conveys (only those that apply).
type MessageData struct {
	URL   string `json:"url,omitempty"`
	Token string `json:"token,omitempty"`
	OTP   string `json:"otp,omitempty"`
}

// EmailSender delivers email. Transports (log, SMTP, webhook) live outside authcore.
type EmailSender interface {
	SendEmail(ctx context.Context, m Message) error
}

// SMSSender delivers SMS (m.To is a phone number; Subject and HTML are unused).
type SMSSender interface {
	SendSMS(ctx context.Context, m Message) error
}

// HasEmail reports whether an email transport is configured.
func (e *Engine) HasEmail() bool { return e.mailer != nil }

// HasSMS reports whether an SMS transport is configured.
func (e *Engine) HasSMS() bool { return e.sms != nil }

// Defer runs work after the response, on the engine's bounded background queue, so that the
// response time never depends on it (D13: whether an account exists must not show in
// timing). When the queue is full the job is dropped and logged.
func (e *Engine) Defer(name string, job func(ctx context.Context) error) {
	e.jobs.submit(name, job)
}

// SendEmail renders the message from its Type (see renderEmail) and queues it for delivery
// after the response.
func (e *Engine) SendEmail(m Message) {
	if e.mailer == nil {
		e.log.Warn("no mailer configured; message dropped", "type", m.Type)
		return
	}
	m = e.renderEmail(m)
	e.Defer("email "+m.Type, func(ctx context.Context) error { return e.mailer.SendEmail(ctx, m) })
}

// SendSMS renders the message's text from its Type when it has none and queues it for
// delivery after the response.
func (e *Engine) SendSMS(m Message) {
	if e.sms == nil {
		e.log.Warn("no SMS sender configured; message dropped", "type", m.Type)
		return
	}
	m = e.renderSMS(m)
	e.Defer("sms "+m.Type, func(ctx context.Context) error { return e.sms.SendSMS(ctx, m) })
}

// deliverEmail renders and sends an email now, for work that already runs on the background
// queue.
func (e *Engine) deliverEmail(ctx context.Context, m Message) error {
	if err := e.mailer.SendEmail(ctx, e.renderEmail(m)); err != nil {
		return fmt.Errorf("email %s: %w", m.Type, err) // the type, never the address
	}
	return nil
}

// templateData is what the templates see of a message.
func (e *Engine) templateData(m Message) templates.Data {
	return templates.Data{
		AppName: e.cfg.AppName, BaseURL: e.baseURL.String(), To: m.To,
		URL: m.Data.URL, Token: m.Data.Token, OTP: m.Data.OTP,
		ExpiresIn: templates.Human(m.ExpiresIn), Vars: m.Vars,
	}
}

// renderEmail fills an email's empty Subject, and its body when both Text and HTML are
// empty, from the templates of its Type (D13). A sender that wrote its own body keeps it.
// When the configured templates fail at run time, the failure is logged and the embedded
// defaults are used, so a message is never lost to a template.
func (e *Engine) renderEmail(m Message) Message {
	needBody := m.Text == "" && m.HTML == ""
	if m.Subject != "" && !needBody {
		return m
	}
	d := e.templateData(m)
	r, err := e.tmpl.Render(m.Type, d)
	if err != nil {
		e.log.Error("rendering email failed; using the default template", "type", m.Type, "error", err.Error())
		if r, err = templates.Default().Render(m.Type, d); err != nil {
			e.log.Error("rendering email with the default template failed", "type", m.Type, "error", err.Error())
		}
	}
	if m.Subject == "" {
		m.Subject = r.Subject
	}
	if needBody {
		m.Text, m.HTML = r.Text, r.HTML
	}
	return m
}

// renderSMS fills an SMS's empty Text from the templates of its Type; Subject and HTML
// stay empty.
func (e *Engine) renderSMS(m Message) Message {
	if m.Text != "" {
		return m
	}
	d := e.templateData(m)
	text, err := e.tmpl.RenderSMS(m.Type, d)
	if err != nil {
		e.log.Error("rendering SMS failed; using the default template", "type", m.Type, "error", err.Error())
		if text, err = templates.Default().RenderSMS(m.Type, d); err != nil {
			e.log.Error("rendering SMS with the default template failed", "type", m.Type, "error", err.Error())
		}
	}
	m.Text = text
	return m
}

// jobQueue is a bounded FIFO of background jobs run by one worker.
type jobQueue struct {
	log *slog.Logger
	ch  chan queuedJob
}

type queuedJob struct {
	name string
	fn   func(ctx context.Context) error
}

func newJobQueue(log *slog.Logger, size int) *jobQueue {
	return &jobQueue{log: log, ch: make(chan queuedJob, size)}
}

// submit queues a job; false (and logged) when the queue is full and the job was dropped.
func (q *jobQueue) submit(name string, fn func(ctx context.Context) error) bool {
	select {
	case q.ch <- queuedJob{name: name, fn: fn}:
		return true
	default:
		q.log.Error("background queue full; job dropped", "job", name)
		return false
	}
}

// run works until ctx is done, then drains what is queued with a short deadline each.
func (q *jobQueue) run(ctx context.Context) {
	for {
		select {
		case j := <-q.ch:
			q.do(ctx, j)
		case <-ctx.Done():
			for {
				select {
				case j := <-q.ch:
					dctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
					q.do(dctx, j)
					cancel()
				default:
					return
				}
			}
		}
	}
}

func (q *jobQueue) do(ctx context.Context, j queuedJob) {
	jctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			q.log.Error("background job panicked", "job", j.name, "panic", fmt.Sprint(p))
		}
	}()
	if err := j.fn(jctx); err != nil {
		q.log.Error("background job failed", "job", j.name, "error", err.Error())
	}
}
