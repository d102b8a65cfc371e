package authcore_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// POST /update-user (spec §6 #9)

func TestUpdateUser(t *testing.T) {
	h := authcoretest.New(t)
	c, up := h.SignUp("Alice", "alice@example.com", flowPW)
	token := up["token"].(string)

	h.Clock.Advance(time.Minute)
	r := c.Post("/update-user", map[string]any{"name": "Alice Liddell", "image": "https://img.example/alice.png"})
	if r.StatusCode != http.StatusOK || string(r.Body) != `{"status":true}` {
		t.Fatalf("update-user: %d %s", r.StatusCode, r.Body)
	}
	// The session cookie is re-issued (same session).
	if line, ok := r.SetCookie(sessionCookie); !ok || !strings.HasPrefix(line, sessionCookie+"="+signJS(authcoretest.Secret, token)+";") {
		t.Fatalf("session cookie not re-issued: %q", line)
	}
	rec := flowUser(t, h, "alice@example.com")
	if rec.String("name") != "Alice Liddell" || rec.String("image") != "https://img.example/alice.png" || !rec.Time("updatedAt").Equal(h.Clock.Now()) {
		t.Fatalf("stored user %v", rec)
	}
	_, obj := getSession(t, c, "")
	if u := obj["user"].(map[string]any); u["name"] != "Alice Liddell" || u["image"] != "https://img.example/alice.png" {
		t.Fatalf("get-session user %v", u)
	}

	// image: null unsets it; the name stays.
	r = c.Post("/update-user", map[string]any{"image": nil})
	if r.StatusCode != http.StatusOK {
		t.Fatalf("unset image: %d %s", r.StatusCode, r.Body)
	}
	rec = flowUser(t, h, "alice@example.com")
	if rec.Has("image") || rec.String("name") != "Alice Liddell" {
		t.Fatalf("after image:null: %v", rec)
	}
	_, obj = getSession(t, c, "")
	if img, has := obj["user"].(map[string]any)["image"]; has && img != nil {
		t.Fatalf("image still returned: %v", img)
	}
}

func TestUpdateUserEmailRefused(t *testing.T) {
	h := authcoretest.New(t)
	c, _ := h.SignUp("Alice", "alice@example.com", flowPW)
	for _, body := range []map[string]any{
		{"email": "mallory@example.com"},
		{"name": "X", "email": "alice@example.com"},
	} {
		r := c.Post("/update-user", body)
		flowErr(t, r, http.StatusBadRequest, "EMAIL_CAN_NOT_BE_UPDATED", "Email can not be updated")
	}
	rec := flowUser(t, h, "alice@example.com")
	if rec == nil || rec.String("name") != "Alice" {
		t.Fatalf("user changed: %v", rec)
	}
}

func TestUpdateUserNoFields(t *testing.T) {
	h := authcoretest.New(t)
	c, _ := h.SignUp("Alice", "alice@example.com", flowPW)
	for _, body := range []any{
		map[string]any{},
		map[string]any{"unknownField": "x"},
		map[string]any{"id": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "createdAt": "2000-01-01T00:00:00.000Z"},
		map[string]any{"emailVerified": false}, // falsy server-only values are dropped
	} {
		r := c.Post("/update-user", body)
		flowErr(t, r, http.StatusBadRequest, "", "No fields to update")
		if string(r.Body) != `{"message":"No fields to update"}` {
			t.Fatalf("body %s", r.Body)
		}
	}
	if rec := flowUser(t, h, "alice@example.com"); rec.Time("updatedAt") != rec.Time("createdAt") {
		t.Fatal("user was written")
	}
}

func TestUpdateUserServerOnlyFields(t *testing.T) {
	h := authcoretest.New(t)
	c, _ := h.SignUp("Alice", "alice@example.com", flowPW)
	for field, value := range map[string]any{"role": "admin", "emailVerified": true} {
		r := c.Post("/update-user", map[string]any{"name": "Root", field: value})
		flowErr(t, r, http.StatusBadRequest, "FIELD_NOT_ALLOWED", field+" is not allowed to be set")
		flowNoSessionCookie(t, r)
	}
	rec := flowUser(t, h, "alice@example.com")
	if rec.String("name") != "Alice" || rec.String("role") != "user" || rec.Bool("emailVerified") {
		t.Fatalf("user changed: %v", rec)
	}
}

func TestUpdateUserValidation(t *testing.T) {
	h := authcoretest.New(t)
	c, _ := h.SignUp("Alice", "alice@example.com", flowPW)
	for _, body := range []map[string]any{{"name": ""}, {"name": 42}, {"image": true}} {
		r := c.Post("/update-user", body)
		flowErr(t, r, http.StatusBadRequest, "VALIDATION_ERROR", "")
	}
	r := c.Post("/update-user", `["name"]`)
	flowErr(t, r, http.StatusBadRequest, "BODY_MUST_BE_AN_OBJECT", "Body must be an object")
	if rec := flowUser(t, h, "alice@example.com"); rec.String("name") != "Alice" || rec.Has("image") {
		t.Fatalf("user changed: %v", rec)
	}
}

func TestUpdateUserNeedsSession(t *testing.T) {
	h := authcoretest.New(t)
	r := h.Client().Post("/update-user", map[string]any{"name": "X"})
	flowErr(t, r, http.StatusUnauthorized, "UNAUTHORIZED", "Unauthorized")
}

// POST /update-session (spec §6 #10): core has no client-settable session fields.

func TestUpdateSession(t *testing.T) {
	h := authcoretest.New(t)
	c, up := h.SignUp("Alice", "alice@example.com", flowPW)
	sid := sessionID(t, h, up["token"].(string))
	stored := func() storage.Record {
		rec, err := h.Engine.Store().FindOne(t.Context(), authcore.ModelSession, storage.ByID(sid))
		if err != nil {
			t.Fatal(err)
		}
		return rec
	}
	before := stored()
	for _, body := range []map[string]any{{}, {"somePluginField": "x"}, {"id": "x", "createdAt": "2000-01-01T00:00:00.000Z"}} {
		r := c.Post("/update-session", body)
		flowErr(t, r, http.StatusBadRequest, "", "No fields to update")
	}
	// Fields the engine owns cannot be set by the client: not the expiry (that would make
	// a session immortal), not the stored token hash, not the user.
	for field, value := range map[string]any{
		"expiresAt": "2099-01-01T00:00:00.000Z",
		"token":     authcore.HashToken("chosen-by-the-client"),
		"userId":    "someone-else",
		"ipAddress": "10.0.0.1",
	} {
		r := c.Post("/update-session", map[string]any{field: value})
		flowErr(t, r, http.StatusBadRequest, "FIELD_NOT_ALLOWED", field+" is not allowed to be set")
	}
	after := stored()
	for _, f := range []string{"expiresAt", "token", "userId", "ipAddress", "updatedAt"} {
		if after[f] != before[f] {
			t.Fatalf("session %s changed: %v → %v", f, before[f], after[f])
		}
	}
	if _, obj := getSession(t, c, ""); obj == nil {
		t.Fatal("session lost")
	}
	r := h.Client().Post("/update-session", map[string]any{})
	flowErr(t, r, http.StatusUnauthorized, "UNAUTHORIZED", "Unauthorized")
}

// POST /delete-user and GET /delete-user/callback (spec §6 #14, #15)

func deleteEnabled(edit ...func(*authcore.Config)) authcoretest.Option {
	return authcoretest.WithConfig(func(c *authcore.Config) {
		c.User.DeleteUser.Enabled = true
		for _, e := range edit {
			e(c)
		}
	})
}

// flowAssertGone asserts that a user and everything hanging off it is deleted.
func flowAssertGone(t *testing.T, h *authcoretest.Harness, uid string) {
	t.Helper()
	if n := flowCount(t, h, authcore.ModelUser, storage.ByID(uid)); n != 0 {
		t.Fatal("user not deleted")
	}
	for _, model := range []string{authcore.ModelSession, authcore.ModelAccount} {
		if n := flowCount(t, h, model, storage.Eq("userId", uid)); n != 0 {
			t.Fatalf("%d %s rows left (no cascade)", n, model)
		}
	}
}

func TestDeleteUserDisabled(t *testing.T) {
	h := authcoretest.New(t)
	c, _ := h.SignUp("Alice", "alice@example.com", flowPW)
	for _, r := range []*authcoretest.Response{
		c.Post("/delete-user", map[string]any{}),
		c.Post("/delete-user", map[string]any{"password": flowPW}),
		c.Get("/delete-user/callback?token=abc"),
	} {
		if r.StatusCode != http.StatusNotFound || len(r.Body) != 0 {
			t.Fatalf("disabled delete-user: %d %q", r.StatusCode, r.Body)
		}
	}
	if flowUser(t, h, "alice@example.com") == nil {
		t.Fatal("user deleted although deletion is disabled")
	}
}

func TestDeleteUserFreshSession(t *testing.T) {
	h := authcoretest.New(t, deleteEnabled())
	c, up := h.SignUp("Alice", "alice@example.com", flowPW)
	other, _ := flowSignIn(t, h, "alice@example.com", flowPW)
	bob, _ := h.SignUp("Bob", "bob@example.com", flowPW)
	uid := up["user"].(map[string]any)["id"].(string)

	r := c.Post("/delete-user", nil)
	if r.StatusCode != http.StatusOK || r.Object()["success"] != true || r.Object()["message"] != "User deleted" {
		t.Fatalf("delete-user: %d %s", r.StatusCode, r.Body)
	}
	flowExpiredCookies(t, r)
	flowAssertGone(t, h, uid)
	if _, obj := getSession(t, other, ""); obj != nil {
		t.Fatal("another session of the deleted user still works")
	}
	if _, obj := getSession(t, bob, ""); obj == nil {
		t.Fatal("another user's session was affected")
	}
	if flowSignInStatus(h, "alice@example.com", flowPW) != http.StatusUnauthorized {
		t.Fatal("deleted user can still sign in")
	}
	// The address is free again.
	h.SignUp("Alice 2", "alice@example.com", flowPW)
}

func TestDeleteUserStaleSession(t *testing.T) {
	h := authcoretest.New(t, deleteEnabled())
	c, up := h.SignUp("Alice", "alice@example.com", flowPW)
	uid := up["user"].(map[string]any)["id"].(string)
	h.Clock.Advance(24*time.Hour + time.Minute)

	r := c.Post("/delete-user", map[string]any{})
	flowErr(t, r, http.StatusBadRequest, "SESSION_EXPIRED", "Session expired. Re-authenticate to perform this action.")
	if flowUser(t, h, "alice@example.com") == nil {
		t.Fatal("user deleted with a stale session")
	}
	// A wrong password is refused…
	r = c.Post("/delete-user", map[string]any{"password": "not my password"})
	flowErr(t, r, http.StatusBadRequest, "INVALID_PASSWORD", "Invalid password")
	if flowUser(t, h, "alice@example.com") == nil {
		t.Fatal("user deleted with a wrong password")
	}
	// …the right one re-authenticates a stale session.
	r = c.Post("/delete-user", map[string]any{"password": flowPW})
	if r.StatusCode != http.StatusOK || r.Object()["message"] != "User deleted" {
		t.Fatalf("delete with password: %d %s", r.StatusCode, r.Body)
	}
	flowAssertGone(t, h, uid)
}

func TestDeleteUserPasswordWithoutCredentialAccount(t *testing.T) {
	h := authcoretest.New(t, deleteEnabled())
	uid, c := flowPasswordlessUser(t, h, "Olive", "olive@example.com")
	r := c.Post("/delete-user", map[string]any{"password": "any password at all"})
	flowErr(t, r, http.StatusBadRequest, "CREDENTIAL_ACCOUNT_NOT_FOUND", "Credential account not found")
	if n := flowCount(t, h, authcore.ModelUser, storage.ByID(uid)); n != 1 {
		t.Fatal("user deleted")
	}
}

func TestDeleteUserNeedsSession(t *testing.T) {
	h := authcoretest.New(t, deleteEnabled())
	h.SignUp("Alice", "alice@example.com", flowPW)
	r := h.Client().Post("/delete-user", map[string]any{})
	flowErr(t, r, http.StatusUnauthorized, "UNAUTHORIZED", "Unauthorized")
	if n := flowCount(t, h, authcore.ModelUser, storage.Where{}); n != 1 {
		t.Fatal("user deleted without a session")
	}
}

func TestDeleteUserEmailVerification(t *testing.T) {
	h := authcoretest.New(t, deleteEnabled(func(c *authcore.Config) { c.User.DeleteUser.SendDeleteAccountVerification = true }))
	alice, up := h.SignUp("Alice", "alice@example.com", flowPW)
	uid := up["user"].(map[string]any)["id"].(string)
	mallory, mb := h.SignUp("Mallory", "mallory@example.com", flowPW)
	mid := mb["user"].(map[string]any)["id"].(string)

	r := alice.Post("/delete-user", map[string]any{"callbackURL": "/goodbye"})
	if r.StatusCode != http.StatusOK || r.Object()["success"] != true || r.Object()["message"] != "Verification email sent" {
		t.Fatalf("delete-user: %d %s", r.StatusCode, r.Body)
	}
	if flowUser(t, h, "alice@example.com") == nil {
		t.Fatal("deleted before the link was followed")
	}
	m := h.Sink.Wait(t, "delete-account", "alice@example.com")
	tok := m.Data.Token
	wantLink := authcoretest.BaseURL + "/api/auth/delete-user/callback?token=" + tok + "&callbackURL=%2Fgoodbye"
	if m.Data.URL != wantLink || len(tok) != 32 {
		t.Fatalf("link %q, want %q", m.Data.URL, wantLink)
	}
	// The stored row holds a digest, never the token (OTT-03).
	rows, _ := h.Engine.Store().FindMany(t.Context(), authcore.ModelVerification, storage.Query{})
	for _, row := range rows {
		for k, v := range row {
			if s, ok := v.(string); ok && strings.Contains(s, tok) {
				t.Fatalf("verification %s holds the token in clear: %q", k, s)
			}
		}
	}

	// Following the link needs a session…
	r = flowFollow(t, h, h.Client(), m.Data.URL)
	flowErr(t, r, http.StatusNotFound, "FAILED_TO_GET_USER_INFO", "Failed to get user info")
	// …of the token's own user: Mallory cannot use Alice's link.
	r = flowFollow(t, h, mallory, m.Data.URL)
	flowErr(t, r, http.StatusNotFound, "INVALID_TOKEN", "Invalid token")
	if n := flowCount(t, h, authcore.ModelUser, storage.ByID(mid)); n != 1 {
		t.Fatal("Mallory deleted with Alice's token")
	}
	if flowUser(t, h, "alice@example.com") == nil {
		t.Fatal("Alice deleted by Mallory's request")
	}
	// A wrong token is refused.
	r = alice.Get("/delete-user/callback?token=" + strings.Repeat("a", 32))
	flowErr(t, r, http.StatusNotFound, "INVALID_TOKEN", "Invalid token")
	// An untrusted callbackURL is refused (RDR-02).
	r = alice.Get("/delete-user/callback?token=" + tok + "&callbackURL=https://evil.example/")
	flowErr(t, r, http.StatusForbidden, "INVALID_CALLBACK_URL", "")
	if flowUser(t, h, "alice@example.com") == nil {
		t.Fatal("deleted by a refused request")
	}

	// Alice asks again (Mallory's attempt burnt the first token) and follows the link.
	alice.Post("/delete-user", map[string]any{"callbackURL": "/goodbye"})
	flowDrain(t, h)
	msgs := flowMessages(t, h, "delete-account", "alice@example.com")
	link := msgs[len(msgs)-1].Data.URL
	r = flowFollow(t, h, alice, link)
	if r.StatusCode != http.StatusFound || r.Header.Get("Location") != authcoretest.BaseURL+"/goodbye" {
		t.Fatalf("callback: %d %q %s", r.StatusCode, r.Header.Get("Location"), r.Body)
	}
	flowExpiredCookies(t, r)
	flowAssertGone(t, h, uid)
	if n := flowCount(t, h, authcore.ModelUser, storage.ByID(mid)); n != 1 {
		t.Fatal("Mallory deleted")
	}
}

func TestDeleteUserCallbackJSONAndBodyToken(t *testing.T) {
	h := authcoretest.New(t, deleteEnabled(func(c *authcore.Config) { c.User.DeleteUser.SendDeleteAccountVerification = true }))
	// Without callbackURL the callback answers JSON.
	alice, up := h.SignUp("Alice", "alice@example.com", flowPW)
	alice.Post("/delete-user", map[string]any{})
	m := h.Sink.Wait(t, "delete-account", "alice@example.com")
	r := alice.Get("/delete-user/callback?token=" + m.Data.Token)
	if r.StatusCode != http.StatusOK || r.Object()["success"] != true || r.Object()["message"] != "User deleted" {
		t.Fatalf("callback: %d %s", r.StatusCode, r.Body)
	}
	flowAssertGone(t, h, up["user"].(map[string]any)["id"].(string))
	// The same token is single use.
	bob, bb := h.SignUp("Bob", "bob@example.com", flowPW)
	r = bob.Get("/delete-user/callback?token=" + m.Data.Token)
	flowErr(t, r, http.StatusNotFound, "INVALID_TOKEN", "")

	// The token may also be posted to /delete-user.
	bob.Post("/delete-user", map[string]any{})
	tok := h.Sink.Wait(t, "delete-account", "bob@example.com").Data.Token
	r = bob.Post("/delete-user", map[string]any{"token": "wrong"})
	flowErr(t, r, http.StatusNotFound, "INVALID_TOKEN", "Invalid token")
	r = bob.Post("/delete-user", map[string]any{"token": tok})
	if r.StatusCode != http.StatusOK || r.Object()["message"] != "User deleted" {
		t.Fatalf("delete with token: %d %s", r.StatusCode, r.Body)
	}
	flowAssertGone(t, h, bb["user"].(map[string]any)["id"].(string))
}

func TestDeleteUserTokenExpires(t *testing.T) {
	h := authcoretest.New(t, deleteEnabled(func(c *authcore.Config) {
		c.User.DeleteUser.SendDeleteAccountVerification = true
		c.Session.FreshAge = -1
	}))
	alice, _ := h.SignUp("Alice", "alice@example.com", flowPW)
	alice.Post("/delete-user", map[string]any{})
	tok := h.Sink.Wait(t, "delete-account", "alice@example.com").Data.Token
	h.Clock.Advance(24*time.Hour + time.Second)
	alice.Get("/get-session") // keep the session alive (it is refreshed)
	r := alice.Get("/delete-user/callback?token=" + tok)
	flowErr(t, r, http.StatusNotFound, "INVALID_TOKEN", "")
	if flowUser(t, h, "alice@example.com") == nil {
		t.Fatal("deleted with an expired token")
	}
}
