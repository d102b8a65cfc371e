package authcore_test

import (
	"bytes"
	"context"
	"errors"
	"html"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/authcore/templates"
)

// flowRendered checks what every rendered core email carries: a subject, the app name and
// base URL in both parts, the link (when there is one) in both parts, and the expiry.
func flowRendered(t *testing.T, m authcore.Message, subject, expires string) {
	t.Helper()
	if m.Subject != subject {
		t.Errorf("%s: subject %q, want %q", m.Type, m.Subject, subject)
	}
	for part, body := range map[string]string{"text": m.Text, "html": m.HTML} {
		for _, want := range []string{"Acme", authcoretest.BaseURL} {
			if !strings.Contains(body, want) {
				t.Errorf("%s: %s part lacks %q:\n%s", m.Type, part, want, body)
			}
		}
	}
	if m.Data.URL != "" {
		if !strings.Contains(m.Text, m.Data.URL) {
			t.Errorf("%s: text lacks the link %q:\n%s", m.Type, m.Data.URL, m.Text)
		}
		if !strings.Contains(m.HTML, `href="`+html.EscapeString(m.Data.URL)+`"`) {
			t.Errorf("%s: HTML lacks the link:\n%s", m.Type, m.HTML)
		}
	}
	if expires != "" && !strings.Contains(m.Text, "expires in "+expires) {
		t.Errorf("%s: text does not say it expires in %s:\n%s", m.Type, expires, m.Text)
	}
}

func acme(c *authcore.Config) { c.AppName = "Acme" }

// TestCoreMessagesRendered: the core flows hand the engine only Type, To, Data, ExpiresIn
// and Vars; the engine renders subject, text and HTML from the templates before queueing.
func TestCoreMessagesRendered(t *testing.T) {
	t.Run("reset-password", func(t *testing.T) {
		h := authcoretest.New(t, authcoretest.WithConfig(acme))
		h.SignUp("Alice", "alice@example.com", flowPW)
		flowResetToken(t, h, "alice@example.com", "/reset")
		m := flowMessages(t, h, "reset-password", "alice@example.com")[0]
		if m.ExpiresIn != time.Hour || m.Data.Token == "" {
			t.Errorf("ExpiresIn %v, token %q", m.ExpiresIn, m.Data.Token)
		}
		flowRendered(t, m, "Reset your Acme password", "1 hour")
	})
	t.Run("verify-email", func(t *testing.T) {
		h := authcoretest.New(t, authcoretest.WithConfig(func(c *authcore.Config) {
			acme(c)
			c.EmailVerification.SendOnSignUp = true
			c.EmailVerification.ExpiresIn = 30 * time.Minute
		}))
		h.SignUp("Alice", "alice@example.com", flowPW)
		m := h.Sink.Wait(t, "verify-email", "alice@example.com")
		flowRendered(t, m, "Verify your email address for Acme", "30 minutes")
	})
	t.Run("change-email", func(t *testing.T) {
		h := authcoretest.New(t, authcoretest.WithConfig(acme),
			changeEmail(func(c *authcore.Config) { c.User.ChangeEmail.SendChangeEmailConfirmation = true }))
		c, _ := flowVerifiedUser(t, h, "Alice", "alice@example.com")
		c.Post("/change-email", map[string]any{"newEmail": "new@example.com"})
		m := h.Sink.Wait(t, "change-email", "alice@example.com")
		if m.Vars["newEmail"] != "new@example.com" {
			t.Errorf("Vars %v", m.Vars)
		}
		flowRendered(t, m, "Confirm the change of your Acme email address", "1 hour")
		if !strings.Contains(m.Text, "new@example.com") || !strings.Contains(m.HTML, "new@example.com") {
			t.Errorf("the new address is not named:\n%s", m.Text)
		}
	})
	t.Run("delete-account", func(t *testing.T) {
		h := authcoretest.New(t, authcoretest.WithConfig(acme),
			deleteEnabled(func(c *authcore.Config) { c.User.DeleteUser.SendDeleteAccountVerification = true }))
		alice, _ := h.SignUp("Alice", "alice@example.com", flowPW)
		alice.Post("/delete-user", map[string]any{})
		m := h.Sink.Wait(t, "delete-account", "alice@example.com")
		flowRendered(t, m, "Confirm the deletion of your Acme account", "1 day")
	})
	t.Run("account-exists", func(t *testing.T) {
		h := authcoretest.New(t, authcoretest.WithConfig(func(c *authcore.Config) {
			acme(c)
			c.EmailAndPassword.RequireEmailVerification = true
		}))
		h.Client().Post("/sign-up/email", map[string]any{"name": "A", "email": "alice@example.com", "password": flowPW})
		h.Client().Post("/sign-up/email", map[string]any{"name": "M", "email": "alice@example.com", "password": flowPW})
		m := h.Sink.Wait(t, "account-exists", "alice@example.com")
		if m.Data != (authcore.MessageData{}) {
			t.Errorf("account-exists carries data %+v; it has no link or token", m.Data)
		}
		flowRendered(t, m, "Sign-up attempt with your email address on Acme", "")
	})
}

// TestSendEmailKeepsCallerBody: a sender that wrote its own body keeps it; only an empty
// subject is filled. A message without any body gets the generic template of its type.
func TestSendEmailKeepsCallerBody(t *testing.T) {
	h := authcoretest.New(t, authcoretest.WithConfig(acme))
	h.Engine.SendEmail(authcore.Message{Type: "own", To: "a@example.com", Subject: "Mine", Text: "my text"})
	m := h.Sink.Wait(t, "own", "a@example.com")
	if m.Subject != "Mine" || m.Text != "my text" || m.HTML != "" {
		t.Errorf("caller's message changed: %+v", m)
	}
	h.Engine.SendEmail(authcore.Message{Type: "own", To: "b@example.com", HTML: "<p>mine</p>"})
	m = h.Sink.Wait(t, "own", "b@example.com")
	if m.Subject == "" || m.Text != "" || m.HTML != "<p>mine</p>" {
		t.Errorf("subject not filled or body replaced: %+v", m)
	}
	h.Engine.SendEmail(authcore.Message{Type: "third-party-type", To: "c@example.com",
		Data: authcore.MessageData{URL: authcoretest.BaseURL + "/x?y=1", OTP: "424242"}, ExpiresIn: 10 * time.Minute})
	m = h.Sink.Wait(t, "third-party-type", "c@example.com")
	if !strings.Contains(m.Text, authcoretest.BaseURL+"/x?y=1") || !strings.Contains(m.Text, "424242") ||
		!strings.Contains(m.Text, "10 minutes") || m.HTML == "" {
		t.Errorf("generic rendering: %+v", m)
	}
}

// TestSendSMSRendersText: an SMS gets its text from the SMS template, and nothing else.
func TestSendSMSRendersText(t *testing.T) {
	h := authcoretest.New(t, authcoretest.WithConfig(acme))
	h.Engine.SendSMS(authcore.Message{Type: "phone-otp", To: "+15555550100",
		Data: authcore.MessageData{OTP: "123456"}, ExpiresIn: 5 * time.Minute})
	m := h.Sink.Wait(t, "phone-otp", "+15555550100")
	if m.Text != "123456 is your Acme code. It expires in 5 minutes. Don't share it.\n\n@localhost #123456" {
		t.Errorf("SMS text %q", m.Text)
	}
	if m.Subject != "" || m.HTML != "" {
		t.Errorf("SMS has subject %q / HTML %q", m.Subject, m.HTML)
	}
	h.Engine.SendSMS(authcore.Message{Type: "phone-otp", To: "+15555550101", Text: "custom"})
	if m := h.Sink.Wait(t, "phone-otp", "+15555550101"); m.Text != "custom" {
		t.Errorf("caller's SMS text replaced: %q", m.Text)
	}
}

// TestWithTemplates: the engine renders from the configured set, overrides included.
func TestWithTemplates(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "reset-password.txt"), []byte("Reset at {{.URL}} ({{.ExpiresIn}})\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	set, err := templates.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	h := authcoretest.New(t, authcoretest.WithConfig(acme), authcoretest.WithEngineOptions(authcore.WithTemplates(set)))
	h.SignUp("Alice", "alice@example.com", flowPW)
	flowResetToken(t, h, "alice@example.com", "")
	m := flowMessages(t, h, "reset-password", "alice@example.com")[0]
	if !strings.HasPrefix(m.Text, "Reset at "+m.Data.URL+" (1 hour)\n") {
		t.Errorf("override not used: %q", m.Text)
	}
	if !strings.Contains(m.HTML, "Choose a new password") {
		t.Errorf("default HTML part expected:\n%s", m.HTML)
	}
}

// syncBuffer is a log destination safe for the engine's worker and the test to share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestRenderFailureFallsBack: a template that passed the load-time trial but fails on
// real data is logged (with the type) and the default template is used instead; the
// message is still delivered.
func TestRenderFailureFallsBack(t *testing.T) {
	dir := t.TempDir()
	broken := `{{if eq .Vars.mode "boom"}}{{index .Vars.missing 3}}{{end}}Custom {{.URL}}` + "\n"
	if err := os.WriteFile(filepath.Join(dir, "magic-link.txt"), []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	set, err := templates.Load(dir)
	if err != nil {
		t.Fatalf("the template should pass its trial run: %v", err)
	}
	var logs syncBuffer
	h := authcoretest.New(t, authcoretest.WithConfig(acme), authcoretest.WithEngineOptions(
		authcore.WithTemplates(set), authcore.WithLogger(slog.New(slog.NewTextHandler(&logs, nil)))))
	h.Engine.SendEmail(authcore.Message{Type: "magic-link", To: "ok@example.com", Data: authcore.MessageData{URL: "https://x/1"}})
	if m := h.Sink.Wait(t, "magic-link", "ok@example.com"); !strings.HasPrefix(m.Text, "Custom https://x/1") {
		t.Fatalf("override not used on good data: %q", m.Text)
	}
	h.Engine.SendEmail(authcore.Message{Type: "magic-link", To: "boom@example.com", Data: authcore.MessageData{URL: "https://x/2"},
		Vars: map[string]string{"mode": "boom"}})
	m := h.Sink.Wait(t, "magic-link", "boom@example.com")
	if !strings.Contains(m.Text, "Open this link to sign in") || !strings.Contains(m.Text, "https://x/2") {
		t.Fatalf("default template not used after the failure: %q", m.Text)
	}
	out := logs.String()
	if !strings.Contains(out, "rendering email failed") || !strings.Contains(out, "type=magic-link") {
		t.Errorf("failure not logged with its type:\n%s", out)
	}
	if strings.Contains(out, "boom@example.com") {
		t.Errorf("the address was logged:\n%s", out)
	}
}

// failingMailer fails every delivery the way a transport does: the error names no address.
type failingMailer struct {
	mu    sync.Mutex
	calls int
}

func (f *failingMailer) SendEmail(context.Context, authcore.Message) error {
	f.mu.Lock()
	f.calls++
	f.mu.Unlock()
	return errors.New("smtp: 451 4.3.0 try again later")
}

func (f *failingMailer) n() int { f.mu.Lock(); defer f.mu.Unlock(); return f.calls }

// TestFailedDeliveryKeepsTheAnswer is D13 / ENUM-03 with a broken transport: the answer to
// every mail-sending request is what it would have been had the mail gone out (the
// delivery runs after the response), and the failure is logged by type, never with the
// recipient's address.
func TestFailedDeliveryKeepsTheAnswer(t *testing.T) {
	var logs syncBuffer
	mailer := &failingMailer{}
	h := authcoretest.New(t, authcoretest.WithConfig(func(c *authcore.Config) {
		c.EmailVerification.SendOnSignUp = true
	}), authcoretest.WithEngineOptions(authcore.WithEmailSender(mailer),
		authcore.WithLogger(slog.New(slog.NewTextHandler(&logs, nil)))))

	// Sign-up sends a verification email: the user is still created and signed in.
	c := h.Client()
	r := c.Post("/sign-up/email", map[string]any{"name": "Alice", "email": "alice@example.com", "password": flowPW})
	if r.StatusCode != http.StatusOK || r.Object()["token"] == nil {
		t.Fatalf("sign-up with a failing mailer: %d %s", r.StatusCode, r.Body)
	}
	// Reset for a known and an unknown address: the same 200 body.
	known := h.Client().Post("/request-password-reset", map[string]any{"email": "alice@example.com"})
	unknown := h.Client().Post("/request-password-reset", map[string]any{"email": "nobody@example.com"})
	if known.StatusCode != http.StatusOK || string(known.Body) != resetBody || string(unknown.Body) != string(known.Body) {
		t.Fatalf("reset answers differ: %d %s / %d %s", known.StatusCode, known.Body, unknown.StatusCode, unknown.Body)
	}
	// Resending verification while signed in.
	r = c.Post("/send-verification-email", map[string]any{"email": "alice@example.com"})
	if r.StatusCode != http.StatusOK || string(r.Body) != `{"status":true}` {
		t.Fatalf("send-verification-email: %d %s", r.StatusCode, r.Body)
	}
	flowDrain(t, h)
	if n := mailer.n(); n != 3 {
		t.Fatalf("%d delivery attempts, want 3 (sign-up, reset, resend)", n)
	}
	out := logs.String()
	for _, want := range []string{"email verify-email", "email reset-password", "451 4.3.0"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "alice@example.com") || strings.Contains(out, "nobody@example.com") {
		t.Errorf("an address was logged:\n%s", out)
	}
}
