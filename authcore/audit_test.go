package authcore_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/storage"
	"github.com/gatehouse-auth/gatehouse/storage/memory"
	"github.com/gatehouse-auth/gatehouse/storage/postgres"
	"github.com/gatehouse-auth/gatehouse/storage/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const (
	auditPassword      = "Correct-Horse-Battery-41"
	auditWrongPassword = "Wrong-Staple-Guess-9917"
	auditNewPassword   = "Another-Secret-Phrase-77"
)

// assertNoSecrets fails when any secret appears in the captured audit log.
func assertNoSecrets(t *testing.T, log string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(log, s) {
			t.Errorf("the audit log contains the secret %q:\n%s", s, log)
		}
	}
}

func wantFields(t *testing.T, rec map[string]any, want map[string]any) {
	t.Helper()
	for k, v := range want {
		if v == nil {
			if got, ok := rec[k]; ok {
				t.Errorf("%s event: %s = %v, want absent (%v)", rec["type"], k, got, rec)
			}
			continue
		}
		if rec[k] != v {
			t.Errorf("%s event: %s = %v, want %v (%v)", rec["type"], k, rec[k], v, rec)
		}
	}
}

func TestAuditSignInFlow(t *testing.T) {
	h := authcoretest.New(t)
	c, body := h.SignUp("Ada", "ada@example.com", auditPassword)
	uid := body["user"].(map[string]any)["id"].(string)
	signUpToken := c.CookieValue(sessionCookie)
	wantFields(t, h.Audit.One(t, authcore.AuditSignUp), map[string]any{
		"msg": "audit", "level": "INFO", "result": "success", "subject": uid, "actor": nil, "ip": "127.0.0.1"})
	wantFields(t, h.Audit.One(t, authcore.AuditSignIn), map[string]any{
		"result": "success", "actor": uid, "method": "email"})

	h.Audit.Reset()
	fresh := h.Client()
	fresh.Header.Set("User-Agent", "AuditTest/1.0 "+strings.Repeat("x", 400))
	if r := fresh.Post("/sign-in/email", map[string]any{"email": "ada@example.com", "password": auditPassword}); r.StatusCode != 200 {
		t.Fatalf("sign-in: %d %s", r.StatusCode, r.Body)
	}
	in := h.Audit.One(t, authcore.AuditSignIn)
	wantFields(t, in, map[string]any{"result": "success", "actor": uid, "method": "email", "ip": "127.0.0.1", "code": nil})
	if s, _ := in["session"].(string); s == "" {
		t.Errorf("sign_in event without the new session's id: %v", in)
	}
	if ua, _ := in["user_agent"].(string); !strings.HasPrefix(ua, "AuditTest/1.0 ") || len(ua) > 256 {
		t.Errorf("user_agent %q: want the header truncated to 256 bytes", ua)
	}

	// A wrong password: one failure with the attempted address, never the password.
	if r := h.Client().Post("/sign-in/email", map[string]any{"email": "ada@example.com", "password": auditWrongPassword}); r.StatusCode != 401 {
		t.Fatalf("wrong password: %d", r.StatusCode)
	}
	wantFields(t, h.Audit.One(t, authcore.AuditSignInFailure), map[string]any{
		"result": "failure", "code": "INVALID_EMAIL_OR_PASSWORD", "method": "email", "actor": nil, "ip": "127.0.0.1"})
	fail := h.Audit.One(t, authcore.AuditSignInFailure)
	if d, _ := fail["details"].(map[string]any); d["email"] != "ada@example.com" {
		t.Errorf("sign_in.failure details = %v, want the attempted email", fail["details"])
	}
	// A password typed into the email field is not an address: it is not logged.
	h.Client().Post("/sign-in/email", map[string]any{"email": auditNewPassword, "password": "x"})
	if got := len(h.Audit.Of(authcore.AuditSignInFailure)); got != 2 {
		t.Fatalf("%d sign_in.failure events, want 2", got)
	}

	// Sign-out names the session it ended; a sign-out without a session records nothing.
	token := fresh.CookieValue(sessionCookie)
	if r := fresh.Post("/sign-out", nil); r.StatusCode != 200 {
		t.Fatalf("sign-out: %d", r.StatusCode)
	}
	out := h.Audit.One(t, authcore.AuditSignOut)
	wantFields(t, out, map[string]any{"result": "success", "actor": uid, "session": in["session"]})
	fresh.Post("/sign-out", nil)
	h.Audit.One(t, authcore.AuditSignOut)

	assertNoSecrets(t, h.Audit.Text(), auditPassword, auditWrongPassword, auditNewPassword, token, signUpToken)
	for _, rec := range h.Audit.Records() {
		if rec["msg"] != "audit" {
			t.Errorf("record %v: msg %q, want audit", rec, rec["msg"])
		}
	}
}

func TestAuditPasswordAndSessionEvents(t *testing.T) {
	h := authcoretest.New(t)
	c, body := h.SignUp("Ada", "ada@example.com", auditPassword)
	uid := body["user"].(map[string]any)["id"].(string)
	h.Audit.Reset()

	r := c.Post("/change-password", map[string]any{"currentPassword": auditWrongPassword, "newPassword": auditNewPassword})
	if r.StatusCode != 400 {
		t.Fatalf("change-password with a wrong current password: %d %s", r.StatusCode, r.Body)
	}
	wantFields(t, h.Audit.One(t, authcore.AuditPasswordChange), map[string]any{"result": "failure", "code": "INVALID_PASSWORD", "actor": uid})
	h.Audit.Reset()
	r = c.Post("/change-password", map[string]any{"currentPassword": auditPassword, "newPassword": auditNewPassword, "revokeOtherSessions": true})
	if r.StatusCode != 200 {
		t.Fatalf("change-password: %d %s", r.StatusCode, r.Body)
	}
	wantFields(t, h.Audit.One(t, authcore.AuditPasswordChange), map[string]any{"result": "success", "actor": uid})
	if n := len(h.Audit.Of(authcore.AuditSignIn)); n != 0 {
		t.Errorf("re-issuing the session after a password change logged %d sign_in events, want 0", n)
	}

	// Requests without a session are noise, not events.
	h.Audit.Reset()
	if r := h.Client().Post("/change-password", map[string]any{"currentPassword": "a", "newPassword": "b"}); r.StatusCode != 401 {
		t.Fatalf("change-password without a session: %d", r.StatusCode)
	}
	if recs := h.Audit.Records(); len(recs) != 0 {
		t.Errorf("401 without a session logged %v", recs)
	}

	// A reset by token names the user as the subject; there is no actor.
	tok, _ := flowResetToken(t, h, "ada@example.com", "")
	h.Audit.Reset()
	if r := h.Client().Post("/reset-password", map[string]any{"token": tok, "newPassword": auditPassword}); r.StatusCode != 200 {
		t.Fatalf("reset-password: %d %s", r.StatusCode, r.Body)
	}
	wantFields(t, h.Audit.One(t, authcore.AuditPasswordReset), map[string]any{"result": "success", "subject": uid, "actor": nil})
	if r := h.Client().Post("/reset-password", map[string]any{"token": tok, "newPassword": auditPassword}); r.StatusCode != 400 {
		t.Fatalf("reset-password with a spent token: %d %s", r.StatusCode, r.Body)
	}
	if fs := h.Audit.Of(authcore.AuditPasswordReset); len(fs) != 2 || fs[1]["result"] != "failure" || fs[1]["code"] != "INVALID_TOKEN" {
		t.Errorf("spent reset token: events %v, want a second, failed one with INVALID_TOKEN", fs)
	}

	// revoke-sessions ends every session of the user.
	c2 := h.Client()
	c2.Post("/sign-in/email", map[string]any{"email": "ada@example.com", "password": auditPassword})
	h.Audit.Reset()
	if r := c2.Post("/revoke-sessions", nil); r.StatusCode != 200 {
		t.Fatalf("revoke-sessions: %d", r.StatusCode)
	}
	wantFields(t, h.Audit.One(t, authcore.AuditSessionRevokeAll), map[string]any{"result": "success", "actor": uid})
	assertNoSecrets(t, h.Audit.Text(), auditPassword, auditWrongPassword, auditNewPassword, tok)
}

// failingAuditStore fails every write of audit events.
type failingAuditStore struct{ storage.Store }

func (s failingAuditStore) Bind(ctx context.Context, sc *storage.Schema) (storage.Adapter, error) {
	a, err := s.Store.Bind(ctx, sc)
	return failingAuditAdapter{a}, err
}

type failingAuditAdapter struct{ storage.Adapter }

func (a failingAuditAdapter) Create(ctx context.Context, model string, rec storage.Record) (storage.Record, error) {
	if model == authcore.ModelAuditEvent {
		return nil, errors.New("disk on fire")
	}
	return a.Adapter.Create(ctx, model, rec)
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

func storedAudit(f func(*authcore.Config)) authcoretest.Option {
	return authcoretest.WithConfig(func(c *authcore.Config) {
		c.Audit.Store = true
		if f != nil {
			f(c)
		}
	})
}

func TestAuditStoredListAndRetention(t *testing.T) {
	t.Run("bolt", func(t *testing.T) { testAuditStoredListAndRetention(t, authcoretest.WithBolt()) })
	t.Run("postgres", func(t *testing.T) {
		st, err := postgres.Open(context.Background(), pgtest.DSN(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(st.Close)
		testAuditStoredListAndRetention(t, authcoretest.WithEngineOptions(authcore.WithStore(st)))
	})
}

func testAuditStoredListAndRetention(t *testing.T, store authcoretest.Option) {
	h := authcoretest.New(t, store, storedAudit(func(c *authcore.Config) { c.Audit.Retention = 48 * time.Hour }))
	_, body := h.SignUp("Ada", "ada@example.com", auditPassword)
	ada := body["user"].(map[string]any)["id"].(string)
	h.Clock.Advance(time.Hour)
	_, body = h.SignUp("Bob", "bob@example.com", auditPassword)
	bob := body["user"].(map[string]any)["id"].(string)
	h.Clock.Advance(time.Hour)
	h.Client().Post("/sign-in/email", map[string]any{"email": "bob@example.com", "password": auditWrongPassword})
	h.Drain()
	ctx := context.Background()

	all, total, err := h.Engine.ListAuditEvents(ctx, authcore.AuditQuery{})
	if err != nil || total != 5 || len(all) != 5 {
		t.Fatalf("all events: %d of %d, %v; want 5 (2 sign-ups, 2 sign-ins, 1 failure)", len(all), total, err)
	}
	if all[0].Type != authcore.AuditSignUp && all[0].Type != authcore.AuditSignIn || all[4].Type != authcore.AuditSignInFailure {
		t.Errorf("order: first %s, last %s; want oldest first", all[0].Type, all[4].Type)
	}
	if all[4].Result != authcore.AuditFailure || all[4].Code != "INVALID_EMAIL_OR_PASSWORD" || all[4].IPAddress != "127.0.0.1" ||
		all[4].Details["email"] != "bob@example.com" || !all[4].Time.Equal(h.Clock.Now()) {
		t.Errorf("stored failure = %+v", all[4])
	}
	mine, total, _ := h.Engine.ListAuditEvents(ctx, authcore.AuditQuery{UserID: ada})
	if total != 2 || len(mine) != 2 {
		t.Errorf("ada's events: %d of %d, want 2 (sign_up as subject, sign_in as actor)", len(mine), total)
	}
	for _, ev := range mine {
		if ev.ActorID != ada && ev.SubjectID != ada {
			t.Errorf("ada's listing holds %+v", ev)
		}
	}
	ins, total, _ := h.Engine.ListAuditEvents(ctx, authcore.AuditQuery{Type: authcore.AuditSignIn, Desc: true, Limit: 1})
	if total != 2 || len(ins) != 1 || ins[0].ActorID != bob {
		t.Errorf("newest sign_in: %+v of %d, want bob's", ins, total)
	}
	page, _, _ := h.Engine.ListAuditEvents(ctx, authcore.AuditQuery{Limit: 2, Offset: 4})
	if len(page) != 1 || page[0].ID != all[4].ID {
		t.Errorf("offset 4: %+v, want the last event", page)
	}

	// Retention 48h: after 47h more, ada's sign-up (49h old) is gone, the rest stays.
	h.Clock.Advance(47 * time.Hour)
	if _, err := h.Engine.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	left, total, _ := h.Engine.ListAuditEvents(ctx, authcore.AuditQuery{})
	if total != 3 || len(left) != 3 {
		t.Fatalf("after the sweep: %d events, want 3 (ada's two are past retention)", total)
	}
	for _, ev := range left {
		if ev.ActorID == ada || ev.SubjectID == ada {
			t.Errorf("an event past retention survived: %+v", ev)
		}
	}
}

func TestAuditNotStoredByDefault(t *testing.T) {
	h := authcoretest.New(t)
	h.SignUp("Ada", "ada@example.com", auditPassword)
	if _, ok := h.Engine.Schema().Model(authcore.ModelAuditEvent); ok {
		t.Error("the auditEvent model exists with storage off")
	}
	if _, _, err := h.Engine.ListAuditEvents(context.Background(), authcore.AuditQuery{}); !errors.Is(err, authcore.ErrAuditNotStored) {
		t.Errorf("listing with storage off: %v, want ErrAuditNotStored", err)
	}
	if n := len(h.Audit.Of(authcore.AuditSignIn)); n != 1 {
		t.Errorf("%d sign_in lines: events are logged even when not stored", n)
	}
}

// A store that cannot write audit events must not fail the user's request; the failure is
// logged.
func TestAuditStoreFailureDoesNotFailTheRequest(t *testing.T) {
	var logs lockedBuffer
	h := authcoretest.New(t, storedAudit(nil), authcoretest.WithEngineOptions(
		authcore.WithStore(failingAuditStore{memory.NewStore()}),
		authcore.WithLogger(slog.New(slog.NewTextHandler(&logs, nil)))))
	c, _ := h.SignUp("Ada", "ada@example.com", auditPassword)
	if r := c.Get("/get-session"); r.StatusCode != 200 || r.Object()["user"] == nil {
		t.Fatalf("the sign-up did not stand: %d %s", r.StatusCode, r.Body)
	}
	h.Drain()
	if !strings.Contains(logs.String(), "disk on fire") || !strings.Contains(logs.String(), "audit sign_in") {
		t.Errorf("the failed audit write was not logged:\n%s", logs.String())
	}
	h.Audit.One(t, authcore.AuditSignIn) // still logged on the audit logger
}

func TestAuditEngineAudit(t *testing.T) {
	h := authcoretest.New(t, storedAudit(nil))
	h.Engine.Audit(context.Background(), authcore.AuditEvent{Type: authcore.AuditAdminAPIKeyCreate, SubjectID: "u1",
		UserAgent: strings.Repeat("é", 200), Details: map[string]string{"key_id": "k1"}})
	h.Drain()
	rec := h.Audit.One(t, authcore.AuditAdminAPIKeyCreate)
	wantFields(t, rec, map[string]any{"result": "success", "subject": "u1"})
	if d, _ := rec["details"].(map[string]any); d["key_id"] != "k1" {
		t.Errorf("details = %v", rec["details"])
	}
	evs, _, _ := h.Engine.ListAuditEvents(context.Background(), authcore.AuditQuery{UserID: "u1"})
	if len(evs) != 1 || evs[0].ID == "" || evs[0].ID != rec["id"] || !evs[0].Time.Equal(h.Clock.Now()) || len(evs[0].UserAgent) > 256 {
		t.Errorf("stored = %+v, logged id %v", evs, rec["id"])
	}
	if ua := evs[0].UserAgent; !strings.HasPrefix(ua, "é") || strings.ContainsRune(ua, '\uFFFD') {
		t.Errorf("truncated user agent %q is not valid UTF-8 at the cut", ua)
	}
}
