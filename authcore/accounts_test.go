package authcore_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// flowLinkAccount stores a social account for a user, as an OAuth callback would, and
// returns its row id.
func flowLinkAccount(t *testing.T, h *authcoretest.Harness, uid, provider, scope string) string {
	t.Helper()
	id, _ := h.Engine.NewID()
	now := h.Clock.Now()
	rec := storage.Record{
		"id": id, "accountId": provider + "-" + uid, "providerId": provider, "userId": uid,
		"accessToken": "secret-access-token", "refreshToken": "secret-refresh-token",
		"createdAt": now, "updatedAt": now,
	}
	if scope != "" {
		rec["scope"] = scope
	}
	if _, err := h.Engine.Store().Create(t.Context(), authcore.ModelAccount, rec); err != nil {
		t.Fatal(err)
	}
	return id
}

// GET /list-accounts (spec §6 #21)

func TestListAccounts(t *testing.T) {
	h := authcoretest.New(t)
	c, up := h.SignUp("Alice", "alice@example.com", flowPW)
	uid := up["user"].(map[string]any)["id"].(string)
	h.SignUp("Bob", "bob@example.com", flowPW)

	r := c.Get("/list-accounts")
	list, ok := r.JSON().([]any)
	if r.StatusCode != http.StatusOK || !ok || len(list) != 1 {
		t.Fatalf("list-accounts: %d %s", r.StatusCode, r.Body)
	}
	acc := list[0].(map[string]any)
	if got := flowKeys(acc); !slices.Equal(got, []string{"accountId", "createdAt", "id", "providerId", "scopes", "updatedAt", "userId"}) {
		t.Fatalf("keys %v", got)
	}
	cred := flowCredential(t, h, uid)
	if acc["id"] != cred.ID() || acc["providerId"] != "credential" || acc["accountId"] != uid || acc["userId"] != uid ||
		acc["createdAt"] != "2026-01-01T00:00:00.000Z" {
		t.Fatalf("account %v", acc)
	}
	if scopes, ok := acc["scopes"].([]any); !ok || len(scopes) != 0 {
		t.Fatalf("scopes %v, want []", acc["scopes"])
	}

	h.Clock.Advance(time.Minute)
	flowLinkAccount(t, h, uid, "github", "read:user, user:email,,repo")
	r = c.Get("/list-accounts")
	list, _ = r.JSON().([]any)
	if len(list) != 2 {
		t.Fatalf("list-accounts: %s", r.Body)
	}
	gh := list[1].(map[string]any)
	if gh["providerId"] != "github" || !slices.Equal(toStrings(gh["scopes"]), []string{"read:user", "user:email", "repo"}) {
		t.Fatalf("github account %v", gh)
	}
	if strings.Contains(string(r.Body), "secret-") || strings.Contains(string(r.Body), "password") {
		t.Fatalf("hidden fields listed: %s", r.Body)
	}
	r = h.Client().Get("/list-accounts")
	flowErr(t, r, http.StatusUnauthorized, "UNAUTHORIZED", "Unauthorized")
}

func toStrings(v any) []string {
	arr, _ := v.([]any)
	out := make([]string, 0, len(arr))
	for _, x := range arr {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// POST /unlink-account (spec §6 #22)

func TestUnlinkAccount(t *testing.T) {
	h := authcoretest.New(t)
	c, up := h.SignUp("Alice", "alice@example.com", flowPW)
	uid := up["user"].(map[string]any)["id"].(string)
	cred := flowCredential(t, h, uid).ID()

	r := c.Post("/unlink-account", map[string]any{"accountId": cred})
	flowErr(t, r, http.StatusBadRequest, "FAILED_TO_UNLINK_LAST_ACCOUNT", "You can't unlink your last account")
	if flowCredential(t, h, uid) == nil {
		t.Fatal("last account unlinked")
	}

	gh := flowLinkAccount(t, h, uid, "github", "")
	// accountId is the row id, not the provider's account id.
	r = c.Post("/unlink-account", map[string]any{"accountId": "github-" + uid})
	flowErr(t, r, http.StatusBadRequest, "ACCOUNT_NOT_FOUND", "Account not found")
	// A providerId that does not match the row is not found either.
	r = c.Post("/unlink-account", map[string]any{"accountId": gh, "providerId": "google"})
	flowErr(t, r, http.StatusBadRequest, "ACCOUNT_NOT_FOUND", "Account not found")

	r = c.Post("/unlink-account", map[string]any{"accountId": gh, "providerId": "github"})
	if r.StatusCode != http.StatusOK || string(r.Body) != `{"status":true}` {
		t.Fatalf("unlink: %d %s", r.StatusCode, r.Body)
	}
	if n := flowCount(t, h, authcore.ModelAccount, storage.ByID(gh)); n != 0 {
		t.Fatal("account not deleted")
	}
	// Now the credential account is the last one again.
	r = c.Post("/unlink-account", map[string]any{"accountId": cred})
	flowErr(t, r, http.StatusBadRequest, "FAILED_TO_UNLINK_LAST_ACCOUNT", "")
	r = c.Post("/unlink-account", map[string]any{})
	flowErr(t, r, http.StatusBadRequest, "VALIDATION_ERROR", "")
	r = h.Client().Post("/unlink-account", map[string]any{"accountId": cred})
	flowErr(t, r, http.StatusUnauthorized, "UNAUTHORIZED", "")
}

func TestUnlinkAccountOfAnotherUser(t *testing.T) {
	h := authcoretest.New(t)
	_, up := h.SignUp("Alice", "alice@example.com", flowPW)
	uid := up["user"].(map[string]any)["id"].(string)
	aliceGH := flowLinkAccount(t, h, uid, "github", "")
	mallory, mb := h.SignUp("Mallory", "mallory@example.com", flowPW)
	flowLinkAccount(t, h, mb["user"].(map[string]any)["id"].(string), "github", "")

	for _, id := range []string{aliceGH, flowCredential(t, h, uid).ID()} {
		r := mallory.Post("/unlink-account", map[string]any{"accountId": id})
		flowErr(t, r, http.StatusBadRequest, "ACCOUNT_NOT_FOUND", "Account not found")
	}
	if n := flowCount(t, h, authcore.ModelAccount, storage.Eq("userId", uid)); n != 2 {
		t.Fatalf("Alice has %d accounts, want 2", n)
	}
}

func TestUnlinkAccountAllowUnlinkingAll(t *testing.T) {
	h := authcoretest.New(t, authcoretest.WithConfig(func(c *authcore.Config) { c.Account.AllowUnlinkingAll = true }))
	c, up := h.SignUp("Alice", "alice@example.com", flowPW)
	uid := up["user"].(map[string]any)["id"].(string)
	r := c.Post("/unlink-account", map[string]any{"accountId": flowCredential(t, h, uid).ID()})
	if r.StatusCode != http.StatusOK {
		t.Fatalf("unlink last: %d %s", r.StatusCode, r.Body)
	}
	if n := flowCount(t, h, authcore.ModelAccount, storage.Eq("userId", uid)); n != 0 {
		t.Fatalf("%d accounts left", n)
	}
	if flowSignInStatus(h, "alice@example.com", flowPW) != http.StatusUnauthorized {
		t.Fatal("password sign-in works without a credential account")
	}
	if r := c.Get("/list-accounts"); string(r.Body) != "[]" {
		t.Fatalf("list-accounts: %s", r.Body)
	}
}

func TestUnlinkAccountNeedsFreshSession(t *testing.T) {
	h := authcoretest.New(t)
	c, up := h.SignUp("Alice", "alice@example.com", flowPW)
	uid := up["user"].(map[string]any)["id"].(string)
	gh := flowLinkAccount(t, h, uid, "github", "")
	h.Clock.Advance(24*time.Hour + time.Second)
	r := c.Post("/unlink-account", map[string]any{"accountId": gh})
	flowErr(t, r, http.StatusForbidden, "SESSION_NOT_FRESH", "Session is not fresh")
	if n := flowCount(t, h, authcore.ModelAccount, storage.ByID(gh)); n != 1 {
		t.Fatal("unlinked with a stale session")
	}
	// Signing in again makes it fresh.
	fresh, _ := flowSignIn(t, h, "alice@example.com", flowPW)
	if r := fresh.Post("/unlink-account", map[string]any{"accountId": gh}); r.StatusCode != http.StatusOK {
		t.Fatalf("unlink with a fresh session: %d %s", r.StatusCode, r.Body)
	}
}

// GET /ok and GET /error (spec §6 #29, #30)

func TestOK(t *testing.T) {
	h := authcoretest.New(t)
	r := h.Client().Get("/ok")
	if r.StatusCode != http.StatusOK || string(r.Body) != `{"ok":true}` || r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("/ok: %d %q %s", r.StatusCode, r.Header.Get("Content-Type"), r.Body)
	}
	if r := h.Client().Post("/ok", map[string]any{}); r.StatusCode != http.StatusNotFound || len(r.Body) != 0 {
		t.Fatalf("POST /ok: %d %s", r.StatusCode, r.Body)
	}
}

func TestErrorPage(t *testing.T) {
	h := authcoretest.New(t)
	r := h.Client().Get("/error?error=%3Cscript%3Ealert(1)%3C%2Fscript%3E&error_description=%22%3E%3Cimg+src%3Dx+onerror%3Dalert(2)%3E")
	if r.StatusCode != http.StatusOK {
		t.Fatalf("/error: %d %s", r.StatusCode, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Fatalf("content type %q", ct)
	}
	csp := r.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Fatalf("CSP %q", csp)
	}
	body := string(r.Body)
	if strings.Contains(body, "<script>") || strings.Contains(body, "<img") {
		t.Fatalf("unescaped input in the page: %s", body)
	}
	if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") || !strings.Contains(body, "&#34;&gt;&lt;img src=x onerror=alert(2)&gt;") {
		t.Fatalf("error value not shown escaped: %s", body)
	}
	if r.Header.Get("Cache-Control") != "no-store" || r.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("headers %v", r.Header)
	}
	// Without a code the page still renders.
	r = h.Client().Get("/error")
	if r.StatusCode != http.StatusOK || !strings.Contains(string(r.Body), "UNKNOWN") {
		t.Fatalf("/error without code: %d %s", r.StatusCode, r.Body)
	}
	// Oversized values are refused rather than echoed.
	r = h.Client().Get("/error?error=" + strings.Repeat("A", 201))
	flowErr(t, r, http.StatusBadRequest, "VALIDATION_ERROR", "")
}
