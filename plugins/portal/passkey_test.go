package portal_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/plugins/passkey"
	"github.com/gatehouse-auth/gatehouse/plugins/twofactor"
	"github.com/gatehouse-auth/gatehouse/storage"
)

func newPasskeyPortal(t *testing.T, extra ...authcore.Plugin) *authcoretest.Harness {
	t.Helper()
	return newPortal(t, nil, authcoretest.WithPlugins(append([]authcore.Plugin{&passkey.Plugin{}}, extra...)...))
}

// registerPasskey adds a passkey for the client's (freshly signed-in) user through the API,
// with a software authenticator, and returns the stored row's id.
func registerPasskey(t *testing.T, c *authcoretest.Client, name string) string {
	t.Helper()
	r := c.Get(passkey.PathGenerateRegisterOptions)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("generate-register-options: %d %s", r.StatusCode, r.Body)
	}
	o, err := virtualwebauthn.ParseAttestationOptions(string(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	rp := virtualwebauthn.RelyingParty{ID: "localhost", Name: "Gatehouse", Origin: authcoretest.BaseURL}
	auth := virtualwebauthn.NewAuthenticatorWithOptions(virtualwebauthn.AuthenticatorOptions{UserHandle: []byte(o.UserID)})
	var cred virtualwebauthn.Credential
	for { // virtualwebauthn drops leading zero bytes of coordinates; draw again (see plugins/passkey)
		cred = virtualwebauthn.NewCredential(virtualwebauthn.KeyTypeEC2)
		k, err := x509.ParsePKCS8PrivateKey(cred.Key.Data)
		if err != nil {
			t.Fatal(err)
		}
		if pk := k.(*ecdsa.PrivateKey); len(pk.X.Bytes()) == 32 && len(pk.Y.Bytes()) == 32 {
			break
		}
	}
	resp := virtualwebauthn.CreateAttestationResponse(rp, auth, cred, *o)
	r = c.Post(passkey.PathVerifyRegistration, map[string]any{"response": json.RawMessage(resp), "name": name})
	if r.StatusCode != http.StatusOK {
		t.Fatalf("verify-registration: %d %s", r.StatusCode, r.Body)
	}
	id, _ := r.Object()["id"].(string)
	return id
}

func passkeyCount(t *testing.T, h *authcoretest.Harness, id string) int {
	t.Helper()
	n, err := h.Engine.Store().Count(context.Background(), "passkey", storage.Eq("id", id))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

var (
	buttonRe    = regexp.MustCompile(`<button\b[^>]*>`)
	attrRe      = regexp.MustCompile(`\s([a-z-]+)(?:="([^"]*)")?`)
	deleteRe    = regexp.MustCompile(`(?s)<form class="passkey-delete"[^>]*action="([^"]+)"[^>]*>(.*?)</form>`)
	hiddenIDRe  = regexp.MustCompile(`<input type="hidden" name="id" value="([^"]*)">`)
	passkeyJSRe = regexp.MustCompile(`<script src="(/api/auth/ui/assets/passkey\.[0-9a-f]+\.js)" defer></script>`)
)

// attrsOf returns the attributes of the first element matched by re whose id is id.
func attrsOf(t *testing.T, body string, re *regexp.Regexp, id string) map[string]string {
	t.Helper()
	for _, tag := range re.FindAllString(body, -1) {
		attrs := map[string]string{}
		for _, m := range attrRe.FindAllStringSubmatch(tag, -1) {
			attrs[m[1]] = html.UnescapeString(m[2])
		}
		if attrs["id"] == id {
			return attrs
		}
	}
	t.Fatalf("no element #%s in:\n%s", id, body)
	return nil
}

func TestPasskeySignInPage(t *testing.T) {
	h := newPasskeyPortal(t)
	b := newBrowser(h)
	res := b.get("/ui/sign-in/passkey?callbackURL=/app")
	wantStatus(t, res, 200)
	body := string(res.Body)
	if res.Header.Get("Content-Security-Policy") != wantCSP {
		t.Fatalf("CSP %q", res.Header.Get("Content-Security-Policy"))
	}
	a := attrsOf(t, body, buttonRe, "passkey-sign-in")
	want := map[string]string{
		"type":                "button",
		"data-options-url":    "/api/auth/passkey/generate-authenticate-options",
		"data-verify-url":     "/api/auth/passkey/verify-authentication",
		"data-callback":       "/app",
		"data-two-factor-url": "/api/auth/ui/two-factor?callbackURL=%2Fapp",
	}
	for k, v := range want {
		if a[k] != v {
			t.Errorf("%s = %q, want %q", k, a[k], v)
		}
	}
	if _, ok := a["data-passkey-sign-in"]; !ok || a["data-msg-failed"] == "" || a["data-msg-unsupported"] == "" {
		t.Errorf("button attributes %v", a)
	}
	if !has(body, `<div id="error" class="alert alert-error" role="alert" hidden></div>`) {
		t.Error("no empty #error region for the script")
	}
	if !has(body, "<noscript>") || !has(body, "Passkeys need JavaScript") {
		t.Error("no explanation without JavaScript")
	}
	// The script: passkey.js after portal.js, served as JavaScript; no inline script.
	m := passkeyJSRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no passkey.js:\n%s", body)
	}
	for _, s := range scriptRe.FindAllStringSubmatch(body, -1) {
		if strings.TrimSpace(s[2]) != "" {
			t.Fatalf("inline script %q", s[2])
		}
	}
	js := b.get(strings.TrimPrefix(m[1], "/api/auth"))
	wantStatus(t, js, 200)
	if ct := js.Header.Get("Content-Type"); ct != "text/javascript; charset=utf-8" || !strings.Contains(string(js.Body), "navigator.credentials.get") {
		t.Fatalf("passkey.js: %q", ct)
	}
	// An unsafe callbackURL is replaced by the default.
	a = attrsOf(t, string(b.get("/ui/sign-in/passkey?callbackURL=https://evil.example/").Body), buttonRe, "passkey-sign-in")
	if a["data-callback"] != "/" || a["data-two-factor-url"] != "/api/auth/ui/two-factor" {
		t.Fatalf("unsafe callback: %v", a)
	}
}

func TestPasskeyConditionalUIOnSignIn(t *testing.T) {
	h := newPasskeyPortal(t)
	body := string(newBrowser(h).get("/ui/sign-in?callbackURL=/app").Body)
	if !regexp.MustCompile(`<input id="email"[^>]*autocomplete="username webauthn"`).MatchString(body) {
		t.Fatalf("#email lacks autocomplete=\"username webauthn\":\n%s", body)
	}
	div := attrsOf(t, body, regexp.MustCompile(`<div\b[^>]*>`), "passkey-autofill")
	if _, ok := div["data-passkey-autofill"]; !ok || div["data-callback"] != "/app" || div["data-verify-url"] != "/api/auth/passkey/verify-authentication" {
		t.Fatalf("autofill data %v", div)
	}
	if passkeyJSRe.FindString(body) == "" {
		t.Fatal("no passkey.js on the sign-in page")
	}
	if !has(body, `href="/api/auth/ui/sign-in/passkey?callbackURL=%2Fapp"`) {
		t.Fatal("no link to the passkey page")
	}

	// Without the passkey plugin: no autofill, no script, no page.
	h2 := newPortal(t, nil)
	b2 := newBrowser(h2)
	body = string(b2.get("/ui/sign-in").Body)
	if has(body, "webauthn") || has(body, "passkey") {
		t.Fatal("passkey parts without the plugin")
	}
	wantStatus(t, b2.get("/ui/sign-in/passkey"), http.StatusNotFound)
	wantStatus(t, b2.get("/ui/account/passkeys"), http.StatusNotFound)
}

func TestPasskeyAccountPage(t *testing.T) {
	h := newPasskeyPortal(t)
	wantLocation(t, newBrowser(h).get("/ui/account/passkeys"),
		"/api/auth/ui/sign-in?callbackURL=%2Fapi%2Fauth%2Fui%2Faccount%2Fpasskeys")

	b, _ := signedInBrowser(t, h, "Ann", "ann@example.com")
	page := string(b.get("/ui/account/passkeys").Body)
	if !has(page, `id="no-passkeys"`) {
		t.Fatal("no empty state")
	}
	a := attrsOf(t, page, buttonRe, "passkey-register")
	if a["data-options-url"] != "/api/auth/passkey/generate-register-options" || a["data-verify-url"] != "/api/auth/passkey/verify-registration" ||
		a["data-reload-url"] != "/api/auth/ui/account/passkeys?status=added" || a["data-name-input"] != "passkey-name" {
		t.Fatalf("register button %v", a)
	}
	if !has(page, `<label for="passkey-name"`) || !has(page, `<input id="passkey-name"`) || passkeyJSRe.FindString(page) == "" {
		t.Fatal("no name input or script")
	}

	id1 := registerPasskey(t, b.c, "Laptop")
	h.Clock.Advance(time.Minute) // the list is oldest first
	id2 := registerPasskey(t, b.c, "Phone <key>")
	res := b.get("/ui/account/passkeys?status=added")
	wantStatus(t, res, 200)
	page = string(res.Body)
	if !has(page, "Laptop") || !has(page, "Phone &lt;key&gt;") || !has(page, `id="flash"`) || !has(page, "<time datetime=") {
		t.Fatalf("list:\n%s", page)
	}
	forms := deleteRe.FindAllStringSubmatch(page, -1)
	if len(forms) != 2 {
		t.Fatalf("%d delete forms", len(forms))
	}
	var tok string
	for i, f := range forms {
		if f[1] != "/api/auth/ui/account/passkeys/delete" {
			t.Fatalf("delete action %q", f[1])
		}
		if got := hiddenIDRe.FindStringSubmatch(f[2]); got == nil || got[1] != []string{id1, id2}[i] {
			t.Fatalf("delete form %d id %v", i, got)
		}
		tok = html.UnescapeString(csrfRe.FindStringSubmatch(f[2])[1])
	}

	// CSRF refusals: nothing deleted or renamed.
	renameTok := html.UnescapeString(csrfRe.FindStringSubmatch(regexp.MustCompile(`(?s)<form class="passkey-rename.*?</form>`).FindString(page))[1])
	for _, try := range []struct{ action, tok string }{
		{"/ui/account/passkeys/delete", ""}, {"/ui/account/passkeys/delete", renameTok},
		{"/ui/account/passkeys/rename", ""}, {"/ui/account/passkeys/rename", tok},
	} {
		res := b.post(try.action, url.Values{"csrf": {try.tok}, "id": {id1}, "name": {"Renamed"}})
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("%s with token %q: %d", try.action, try.tok, res.StatusCode)
		}
	}
	res = b.post("/ui/account/passkeys/delete", url.Values{"csrf": {tok}, "id": {id1}}, "Sec-Fetch-Site", "cross-site")
	wantStatus(t, res, http.StatusForbidden)
	if passkeyCount(t, h, id1) != 1 || has(string(b.get("/ui/account/passkeys").Body), "Renamed") {
		t.Fatal("a refused form changed a passkey")
	}

	// Someone else's passkey: error, nothing deleted.
	other, _ := signedInBrowser(t, h, "Ann", "bob@example.com")
	res = other.post("/ui/account/passkeys/delete", url.Values{"csrf": {csrfOf(t, string(other.get("/ui/sign-in").Body), "sign-out")}, "id": {id1}})
	wantStatus(t, res, http.StatusForbidden) // a token of another form
	otherTok := html.UnescapeString(regexp.MustCompile(`name="csrf" value="([^"]*)"`).FindStringSubmatch(
		tokenPage(t, other, h))[1])
	res = other.post("/ui/account/passkeys/delete", url.Values{"csrf": {otherTok}, "id": {id1}})
	wantStatus(t, res, http.StatusNotFound)
	if got := alertText(string(res.Body)); got != "This passkey was not found." {
		t.Fatalf("alert %q", got)
	}
	if passkeyCount(t, h, id1) != 1 {
		t.Fatal("another user's passkey was deleted")
	}

	// Rename, then delete, through the forms.
	res = b.post("/ui/account/passkeys/rename", url.Values{"csrf": {renameTok}, "id": {id2}, "name": {"  Work phone "}})
	wantLocation(t, res, "/api/auth/ui/account/passkeys?status=renamed")
	res = b.post("/ui/account/passkeys/rename", url.Values{"csrf": {renameTok}, "id": {id2}, "name": {"   "}})
	wantStatus(t, res, http.StatusBadRequest)
	res = b.post("/ui/account/passkeys/delete", url.Values{"csrf": {tok}, "id": {id1}})
	wantLocation(t, res, "/api/auth/ui/account/passkeys?status=deleted")
	if passkeyCount(t, h, id1) != 0 || passkeyCount(t, h, id2) != 1 {
		t.Fatal("delete did not remove exactly the chosen passkey")
	}
	page = string(b.get("/ui/account/passkeys?status=deleted").Body)
	if has(page, "Laptop") || !has(page, "Work phone") || !has(page, "Passkey deleted.") {
		t.Fatalf("list after delete:\n%s", page)
	}
	// Hostile ids: a 4xx page.
	for _, id := range []string{"", strings.Repeat("x", 5000), "\x00"} {
		res = b.post("/ui/account/passkeys/delete", url.Values{"csrf": {tok}, "id": {id}})
		if res.StatusCode < 400 || res.StatusCode >= 500 {
			t.Fatalf("id %q: %d", id[:min(len(id), 10)], res.StatusCode)
		}
	}
}

// tokenPage returns a page holding a passkey-delete token for b's browser: the account page
// after b registers a passkey of its own.
func tokenPage(t *testing.T, b *browser, h *authcoretest.Harness) string {
	t.Helper()
	registerPasskey(t, b.c, "Bob's key")
	m := deleteRe.FindString(string(b.get("/ui/account/passkeys").Body))
	if m == "" {
		t.Fatal("no delete form")
	}
	return m
}

func TestPasskeyOnTwoFactorChallenge(t *testing.T) {
	h := newPortal(t, nil, authcoretest.WithPlugins(&twofactor.Plugin{}, &passkey.Plugin{PasskeyAsSecondFactor: true}))
	u := enrolAPI(t, h, "ann@example.com")
	// Without a passkey the challenge offers none.
	b := pendingBrowser(t, h, u.email)
	if has(string(b.get("/ui/two-factor").Body), `id="passkey-two-factor"`) {
		t.Fatal("passkey offered to a user without one")
	}
	// With one, "use a passkey" completes the challenge, sending trustDevice from the checkbox.
	registerPasskey(t, pendingSession(t, h, u), "Laptop")
	b = pendingBrowser(t, h, u.email)
	body := string(b.get("/ui/two-factor?callbackURL=/app").Body)
	a := attrsOf(t, body, buttonRe, "passkey-two-factor")
	if a["data-trust-device"] != "trust-device" || a["data-callback"] != "/app" || a["data-verify-url"] != "/api/auth/passkey/verify-authentication" {
		t.Fatalf("passkey button %v", a)
	}
	if passkeyJSRe.FindString(body) == "" {
		t.Fatal("no passkey.js on the challenge page")
	}
}

// pendingSession completes a TOTP challenge through the API and returns the signed-in client.
func pendingSession(t *testing.T, h *authcoretest.Harness, u tfUser) *authcoretest.Client {
	t.Helper()
	c := h.Client()
	if r := c.Post(authcore.PathSignInEmail, map[string]any{"email": u.email, "password": testPW}); r.StatusCode != 200 {
		t.Fatalf("sign-in: %d", r.StatusCode)
	}
	if r := c.Post(twofactor.PathVerifyTOTP, map[string]any{"code": nextTOTP(t, h, u.secret)}); r.StatusCode != 200 {
		t.Fatalf("verify-totp: %d %s", r.StatusCode, r.Body)
	}
	return c
}
