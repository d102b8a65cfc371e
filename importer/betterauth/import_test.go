package betterauth

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/authcore/keyring"
	"github.com/gatehouse-auth/gatehouse/importer/betterauth/betterauthtest"
	"github.com/gatehouse-auth/gatehouse/plugins/apikey"
	"github.com/gatehouse-auth/gatehouse/plugins/organization"
	"github.com/gatehouse-auth/gatehouse/plugins/passkey"
	"github.com/gatehouse-auth/gatehouse/plugins/twofactor"
	"github.com/gatehouse-auth/gatehouse/storage"
	"github.com/gatehouse-auth/gatehouse/storage/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// gatehouse is an engine with the plugins the Better Auth fixture uses. Better Auth's secret
// is a previous secret, so cookies Better Auth signed still verify (see the package doc).
func gatehouse(t *testing.T, f betterauthtest.Fixture) (*authcoretest.Harness, *twofactor.Plugin) {
	t.Helper()
	tf := &twofactor.Plugin{}
	h := authcoretest.New(t,
		authcoretest.WithPlugins(tf, &apikey.Plugin{EnableSessionForAPIKeys: true}, &passkey.Plugin{},
			&organization.Plugin{Teams: organization.Teams{Enabled: true}}),
		authcoretest.WithConfig(func(c *authcore.Config) { c.PreviousSecrets = []string{f.Secret} }))
	return h, tf
}

func importFixture(t *testing.T, f betterauthtest.Fixture, h *authcoretest.Harness, opts Options) (Report, error) {
	t.Helper()
	src, err := OpenPostgres(context.Background(), f.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	return Import(context.Background(), src, h.Engine, opts)
}

// TestImportBetterAuthDatabase imports a database Better Auth 1.7.25 built itself and uses
// it through Gatehouse: the same password signs in (and its scrypt hash is replaced by
// argon2id), the TOTP secret and backup codes decrypt, the API key authenticates, a cookie
// Better Auth signed is a session, and the organization, team and invitation are there.
func TestImportBetterAuthDatabase(t *testing.T) {
	f := betterauthtest.Database(t)
	h, tf := gatehouse(t, f)
	ctx := context.Background()
	store := h.Engine.Store()

	if _, err := importFixture(t, f, h, Options{}); !errors.Is(err, ErrNeedSecret) {
		t.Fatalf("without the secret: %v", err)
	}
	if _, err := importFixture(t, f, h, Options{Secret: "not-the-secret-of-better-auth-at-all"}); !errors.Is(err, ErrNeedSecret) {
		t.Fatalf("with a wrong secret: %v", err)
	}
	if n, _ := store.Count(ctx, authcore.ModelUser, storage.Where{}); n != 0 {
		t.Fatalf("%d users written by a refused import", n)
	}

	rep, err := importFixture(t, f, h, Options{Secret: f.Secret})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	rep.Print(&out)
	t.Log("\n" + out.String())
	want := map[string]int{"user": 2, "account": 2, "session": 2, "twoFactor": 1, "passkey": 1, "apikey": 1,
		"organization": 1, "team": 2, "member": 2, "teamMember": 1, "invitation": 1}
	for _, tr := range rep.Tables {
		if tr.Imported != want[tr.Table] || tr.Read != tr.Imported {
			t.Errorf("%s: read %d, imported %d, want %d", tr.Table, tr.Read, tr.Imported, want[tr.Table])
		}
		delete(want, tr.Table)
	}
	if len(want) != 0 {
		t.Errorf("tables not reported: %v", want)
	}
	if !strings.Contains(out.String(), "memberCount") || !strings.Contains(out.String(), "not imported: verification") {
		t.Errorf("report lacks the dropped column or the ignored table:\n%s", out.String())
	}

	hashOf := func(userID string) string {
		acc, err := store.FindOne(ctx, authcore.ModelAccount, storage.And(storage.Eq("userId", userID), storage.Eq("providerId", "credential")))
		if err != nil {
			t.Fatal(err)
		}
		return acc.String("password")
	}
	if hb := hashOf(f.Alice); len(hb) != 161 || hb[32] != ':' {
		t.Fatalf("alice's hash is not Better Auth's scrypt: %q", hb)
	}

	// Alice: password, then the TOTP code from the imported secret.
	alice := h.Client()
	r := alice.Post("/sign-in/email", map[string]any{"email": "alice@example.com", "password": f.Password})
	if r.StatusCode != 200 || !strings.Contains(string(r.Body), `"twoFactorRedirect":true`) {
		t.Fatalf("alice sign-in: %d %s", r.StatusCode, r.Body)
	}
	if hb := hashOf(f.Alice); !strings.HasPrefix(hb, "$argon2id$") {
		t.Errorf("alice's hash was not upgraded after a successful password check: %q", hb)
	}
	code, err := tf.GenerateTOTP(f.TOTPSecret)
	if err != nil {
		t.Fatal(err)
	}
	if r := alice.Post("/two-factor/verify-totp", map[string]any{"code": code}); r.StatusCode != 200 {
		t.Fatalf("verify-totp with the imported secret: %d %s", r.StatusCode, r.Body)
	}
	if r := alice.Get("/get-session"); r.StatusCode != 200 || !strings.Contains(string(r.Body), f.Alice) {
		t.Fatalf("alice's session: %d %s", r.StatusCode, r.Body)
	}
	// A backup code Better Auth generated (encrypted list, re-encrypted by the import).
	again := h.Client()
	again.Post("/sign-in/email", map[string]any{"email": "alice@example.com", "password": f.Password})
	if r := again.Post("/two-factor/verify-backup-code", map[string]any{"code": f.BackupCodes[0]}); r.StatusCode != 200 {
		t.Fatalf("imported backup code: %d %s", r.StatusCode, r.Body)
	}

	// Bob: no second factor; signs in with his password, the email as Better Auth stored it.
	bob := h.Client()
	if r := bob.Post("/sign-in/email", map[string]any{"email": "bob@example.com", "password": "bob's own password 9"}); r.StatusCode != 200 {
		t.Fatalf("bob sign-in: %d %s", r.StatusCode, r.Body)
	}
	if r := bob.Post("/sign-in/email", map[string]any{"email": "bob@example.com", "password": "wrong password 123"}); r.StatusCode != 401 {
		t.Fatalf("bob with a wrong password: %d %s", r.StatusCode, r.Body)
	}
	if r := bob.Get("/organization/list"); r.StatusCode != 200 || !strings.Contains(string(r.Body), `"slug":"acme"`) {
		t.Fatalf("bob's organizations: %d %s", r.StatusCode, r.Body)
	}
	m, err := store.FindOne(ctx, "member", storage.And(storage.Eq("userId", f.Bob), storage.Eq("organizationId", f.OrgID)))
	if err != nil || m.String("role") != "admin" {
		t.Fatalf("bob's membership: %v %v", m, err)
	}
	if inv, err := store.FindOne(ctx, "invitation", storage.ByID(f.InvitationID)); err != nil || inv.String("email") != "carol@example.com" {
		t.Fatalf("invitation: %v %v", inv, err)
	}
	if _, err := store.FindOne(ctx, "team", storage.ByID(f.TeamID)); err != nil {
		t.Fatalf("team: %v", err)
	}
	if pk, err := store.FindOne(ctx, "passkey", storage.Eq("credentialID", "cred-alice-1")); err != nil || pk.String("userId") != f.Alice || pk.Int("counter") != 3 {
		t.Fatalf("passkey: %v %v", pk, err)
	}

	// The API key Better Auth created (stored hashed) authenticates as alice.
	anon := h.Client()
	if r := anon.Get("/get-session", "x-api-key", f.APIKey); r.StatusCode != 200 || !strings.Contains(string(r.Body), f.Alice) {
		t.Fatalf("api key: %d %s", r.StatusCode, r.Body)
	}
	if r := anon.Get("/get-session", "x-api-key", f.APIKey+"x"); strings.Contains(string(r.Body), f.Alice) {
		t.Fatalf("a wrong api key authenticated: %d %s", r.StatusCode, r.Body)
	}

	// A session cookie Better Auth issued: the token is stored hashed, the signature is
	// Better Auth's secret, which the engine keeps as a previous secret.
	baKeys, err := keyring.New(f.Secret)
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range f.SessionTokens {
		c := h.Client()
		r := c.Get("/get-session", "Cookie", "better-auth.session_token="+baKeys.Sign(tok))
		if r.StatusCode != 200 || !strings.Contains(string(r.Body), f.Alice) {
			t.Fatalf("Better Auth's session cookie: %d %s", r.StatusCode, r.Body)
		}
		if _, err := store.FindOne(ctx, authcore.ModelSession, storage.Eq("token", tok)); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("a session token is stored in clear: %v", err)
		}
	}

	// Run again: refused; merged: everything is already there.
	if _, err := importFixture(t, f, h, Options{Secret: f.Secret}); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("second import: %v", err)
	}
	rep, err = importFixture(t, f, h, Options{Secret: f.Secret, Merge: true, Skip: []string{"session"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range rep.Tables {
		if tr.Imported != 0 || tr.Skipped != tr.Read {
			t.Errorf("merge again: %+v", tr)
		}
		if tr.Table == "session" {
			t.Error("session imported despite Skip")
		}
	}
}

// TestImportRefusals: a table whose plugin the config lacks, and (merging) an email that
// belongs to another Gatehouse user, stop the import before anything is written.
func TestImportRefusals(t *testing.T) {
	f := betterauthtest.Database(t)
	h := authcoretest.New(t, authcoretest.WithPlugins(&twofactor.Plugin{}))
	if _, err := importFixture(t, f, h, Options{Secret: f.Secret}); !errors.Is(err, ErrPluginMissing) || !strings.Contains(err.Error(), "passkey") {
		t.Fatalf("missing plugin: %v", err)
	}
	if n, _ := h.Engine.Store().Count(context.Background(), authcore.ModelUser, storage.Where{}); n != 0 {
		t.Fatalf("%d users written by a refused import", n)
	}
	h2, _ := gatehouse(t, f)
	h2.SignUp("Other Bob", "bob@example.com", "another password 42")
	if _, err := importFixture(t, f, h2, Options{Secret: f.Secret}); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("non-empty: %v", err)
	}
	if _, err := importFixture(t, f, h2, Options{Secret: f.Secret, Merge: true}); err == nil || !strings.Contains(err.Error(), "bob@example.com is already a Gatehouse user") {
		t.Fatalf("merge with an email clash: %v", err)
	}
}
