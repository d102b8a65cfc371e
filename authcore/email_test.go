package authcore_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/storage"
	"github.com/gatehouse-auth/gatehouse/storage/memory"
)

// flowEmailJWT signs an email-verification token the way spec §4.8 describes it (HS256 over
// email, userId, iat, exp), independently of the engine.
func flowEmailJWT(t *testing.T, secret string, method jwt.SigningMethod, claims jwt.MapClaims) string {
	t.Helper()
	var key any = []byte(secret)
	if method == jwt.SigningMethodNone {
		key = jwt.UnsafeAllowNoneSignatureType
	}
	tok, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func flowClaims(h *authcoretest.Harness, email, userID string) jwt.MapClaims {
	now := h.Clock.Now()
	return jwt.MapClaims{"email": email, "userId": userID, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
}

// POST /send-verification-email (spec §6 #19)

func TestSendVerificationEmailWithSession(t *testing.T) {
	h := authcoretest.New(t)
	c, _ := h.SignUp("Alice", "alice@example.com", flowPW)
	r := c.Post("/send-verification-email", map[string]any{"email": "bob@example.com"})
	flowErr(t, r, http.StatusBadRequest, "EMAIL_MISMATCH", "Email mismatch")

	r = c.Post("/send-verification-email", map[string]any{"email": "Alice@Example.com", "callbackURL": "/verified"})
	if r.StatusCode != http.StatusOK || string(r.Body) != `{"status":true}` {
		t.Fatalf("send-verification-email: %d %s", r.StatusCode, r.Body)
	}
	m := h.Sink.Wait(t, "verify-email", "alice@example.com")
	if !strings.HasPrefix(m.Data.URL, authcoretest.BaseURL+"/api/auth/verify-email?token=") || !strings.HasSuffix(m.Data.URL, "&callbackURL=%2Fverified") {
		t.Fatalf("link %q", m.Data.URL)
	}
	if n := len(flowMessages(t, h, "verify-email", "bob@example.com")); n != 0 {
		t.Fatal("mismatched address got an email")
	}
	// Untrusted callbackURL: refused before anything is sent (RDR-02).
	r = c.Post("/send-verification-email", map[string]any{"email": "alice@example.com", "callbackURL": "https://evil.example/"})
	flowErr(t, r, http.StatusForbidden, "INVALID_CALLBACK_URL", "")

	if resp := flowFollow(t, h, h.Client(), m.Data.URL); resp.StatusCode != http.StatusFound {
		t.Fatalf("verify: %d %s", resp.StatusCode, resp.Body)
	}
	r = c.Post("/send-verification-email", map[string]any{"email": "alice@example.com"})
	flowErr(t, r, http.StatusBadRequest, "EMAIL_ALREADY_VERIFIED", "Email is already verified")
	if n := len(flowMessages(t, h, "verify-email", "alice@example.com")); n != 1 {
		t.Fatalf("%d verification emails, want 1", n)
	}
}

// Without a session the answer never depends on the address (ENUM-03).
func TestSendVerificationEmailWithoutSession(t *testing.T) {
	h := authcoretest.New(t)
	h.SignUp("Alice", "alice@example.com", flowPW)
	h.SignUp("Vera", "vera@example.com", flowPW)
	vera := flowUser(t, h, "vera@example.com")
	if _, err := h.Engine.Store().Update(t.Context(), authcore.ModelUser, storage.ByID(vera.ID()), storage.Record{"emailVerified": true}); err != nil {
		t.Fatal(err)
	}
	var bodies []string
	for _, email := range []string{"ALICE@example.com", "nobody@example.com", "vera@example.com"} {
		r := h.Client().Post("/send-verification-email", map[string]any{"email": email})
		if r.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", email, r.StatusCode, r.Body)
		}
		bodies = append(bodies, string(r.Body))
	}
	for _, b := range bodies {
		if b != `{"status":true}` {
			t.Fatalf("bodies %q", bodies)
		}
	}
	if n := len(flowMessages(t, h, "verify-email", "alice@example.com")); n != 1 {
		t.Fatalf("%d emails to the unverified account, want 1", n)
	}
	if n := len(h.Sink.Messages()); n != 1 {
		t.Fatalf("%d emails in total; unknown and verified addresses get none", n)
	}
}

func TestSendVerificationEmailWithoutMailer(t *testing.T) {
	h := authcoretest.New(t, authcoretest.WithoutMailer())
	c, _ := h.SignUp("Alice", "alice@example.com", flowPW)
	for _, cl := range []*authcoretest.Client{c, h.Client()} {
		r := cl.Post("/send-verification-email", map[string]any{"email": "alice@example.com"})
		flowErr(t, r, http.StatusBadRequest, "VERIFICATION_EMAIL_NOT_ENABLED", "Verification email isn't enabled")
	}
}

// GET /verify-email (spec §6 #20)

func TestVerifyEmail(t *testing.T) {
	h := authcoretest.New(t, authcoretest.WithConfig(func(c *authcore.Config) { c.EmailVerification.SendOnSignUp = true }))
	c, up := h.SignUp("Alice", "alice@example.com", flowPW)
	uid := up["user"].(map[string]any)["id"].(string)
	tok := h.Sink.Wait(t, "verify-email", "alice@example.com").Data.Token

	h.Clock.Advance(time.Minute)
	r := h.Client().Get("/verify-email?token=" + url.QueryEscape(tok))
	if r.StatusCode != http.StatusOK {
		t.Fatalf("verify-email: %d %s", r.StatusCode, r.Body)
	}
	body := r.Object()
	user, _ := body["user"].(map[string]any)
	if body["status"] != true || user == nil || user["id"] != uid || user["emailVerified"] != true {
		t.Fatalf("body %s", r.Body)
	}
	// Without AutoSignInAfterVerification no session is created.
	if len(r.Header.Values("Set-Cookie")) != 0 {
		t.Fatalf("cookies: %v", r.Header.Values("Set-Cookie"))
	}
	rec := flowUser(t, h, "alice@example.com")
	if !rec.Bool("emailVerified") || !rec.Time("updatedAt").Equal(h.Clock.Now()) {
		t.Fatalf("stored user %v", rec)
	}
	// The signed-in client sees it.
	if _, obj := getSession(t, c, ""); obj["user"].(map[string]any)["emailVerified"] != true {
		t.Fatalf("session user %v", obj["user"])
	}
	// Already verified: status true, user null.
	r = h.Client().Get("/verify-email?token=" + url.QueryEscape(tok))
	if r.StatusCode != http.StatusOK || string(r.Body) != `{"status":true,"user":null}` {
		t.Fatalf("second verify: %d %s", r.StatusCode, r.Body)
	}
}

func TestVerifyEmailCallbackURL(t *testing.T) {
	h := authcoretest.New(t, authcoretest.WithConfig(func(c *authcore.Config) { c.EmailVerification.SendOnSignUp = true }))
	h.SignUp("Alice", "alice@example.com", flowPW)
	tok := url.QueryEscape(h.Sink.Wait(t, "verify-email", "alice@example.com").Data.Token)

	// Untrusted callbackURL: refused, the email stays unverified.
	r := h.Client().Get("/verify-email?token=" + tok + "&callbackURL=" + url.QueryEscape("https://evil.example/"))
	flowErr(t, r, http.StatusForbidden, "INVALID_CALLBACK_URL", "")
	if flowUser(t, h, "alice@example.com").Bool("emailVerified") {
		t.Fatal("verified by a refused request")
	}
	// Errors redirect with ?error= (or &error= when the callback has a query).
	r = h.Client().Get("/verify-email?token=garbage&callbackURL=" + url.QueryEscape("/done?from=mail"))
	if r.StatusCode != http.StatusFound || r.Header.Get("Location") != authcoretest.BaseURL+"/done?error=INVALID_TOKEN&from=mail" {
		t.Fatalf("error redirect: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	// Success redirects to the callback.
	r = h.Client().Get("/verify-email?token=" + tok + "&callbackURL=/done")
	if r.StatusCode != http.StatusFound || r.Header.Get("Location") != authcoretest.BaseURL+"/done" {
		t.Fatalf("success redirect: %d %q %s", r.StatusCode, r.Header.Get("Location"), r.Body)
	}
	if !flowUser(t, h, "alice@example.com").Bool("emailVerified") {
		t.Fatal("not verified")
	}
}

func TestVerifyEmailExpired(t *testing.T) {
	h := authcoretest.New(t, authcoretest.WithConfig(func(c *authcore.Config) { c.EmailVerification.SendOnSignUp = true }))
	h.SignUp("Alice", "alice@example.com", flowPW)
	tok := url.QueryEscape(h.Sink.Wait(t, "verify-email", "alice@example.com").Data.Token)
	h.Clock.Advance(time.Hour + time.Second)

	r := h.Client().Get("/verify-email?token=" + tok)
	flowErr(t, r, http.StatusUnauthorized, "TOKEN_EXPIRED", "Token expired")
	r = h.Client().Get("/verify-email?token=" + tok + "&callbackURL=/done")
	if r.StatusCode != http.StatusFound || r.Header.Get("Location") != authcoretest.BaseURL+"/done?error=TOKEN_EXPIRED" {
		t.Fatalf("expired with callback: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	if flowUser(t, h, "alice@example.com").Bool("emailVerified") {
		t.Fatal("verified with an expired token")
	}
}

func TestVerifyEmailInvalidTokens(t *testing.T) {
	h := authcoretest.New(t, authcoretest.WithConfig(func(c *authcore.Config) { c.EmailVerification.SendOnSignUp = true }))
	_, up := h.SignUp("Alice", "alice@example.com", flowPW)
	uid := up["user"].(map[string]any)["id"].(string)
	good := h.Sink.Wait(t, "verify-email", "alice@example.com").Data.Token
	parts := strings.Split(good, ".")
	claims := flowClaims(h, "alice@example.com", uid)
	noExp := flowClaims(h, "alice@example.com", uid)
	delete(noExp, "exp")
	noEmail := flowClaims(h, "", uid)
	future := flowClaims(h, "alice@example.com", uid)
	future["iat"] = h.Clock.Now().Add(time.Hour).Unix()

	cases := map[string]string{
		"garbage":             "garbage",
		"tampered payload":    parts[0] + "." + parts[1] + "x." + parts[2],
		"other secret":        flowEmailJWT(t, "another-secret-0123456789abcdef0123456789", jwt.SigningMethodHS256, claims),
		"alg none":            flowEmailJWT(t, "", jwt.SigningMethodNone, claims),
		"alg none, no sig":    "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + parts[1] + ".", // {"alg":"none","typ":"JWT"}
		"HS512, same secret":  flowEmailJWT(t, authcoretest.Secret, jwt.SigningMethodHS512, claims),
		"no expiry":           flowEmailJWT(t, authcoretest.Secret, jwt.SigningMethodHS256, noExp),
		"no email":            flowEmailJWT(t, authcoretest.Secret, jwt.SigningMethodHS256, noEmail),
		"issued in future":    flowEmailJWT(t, authcoretest.Secret, jwt.SigningMethodHS256, future),
		"signature stripped":  parts[0] + "." + parts[1] + ".",
		"signature of other":  parts[0] + "." + parts[1] + "." + strings.Split(flowEmailJWT(t, authcoretest.Secret, jwt.SigningMethodHS256, noEmail), ".")[2],
		"empty string":        "",
		"reset token as link": strings.Repeat("x", 24),
	}
	for name, tok := range cases {
		r := h.Client().Get("/verify-email?token=" + url.QueryEscape(tok))
		if name == "empty string" {
			// An empty token passes the schema (it is present) and fails as a token.
			flowErr(t, r, http.StatusUnauthorized, "INVALID_TOKEN", "")
			continue
		}
		if r.StatusCode != http.StatusUnauthorized || r.Code() != "INVALID_TOKEN" || r.Object()["message"] != "Invalid token" {
			t.Errorf("%s: %d %s", name, r.StatusCode, r.Body)
		}
	}
	if flowUser(t, h, "alice@example.com").Bool("emailVerified") {
		t.Fatal("verified by a forged token")
	}
	// A well-signed token (the test knows the secret) does verify: the cases above fail
	// for the reason they name, not because the test builds tokens wrongly.
	r := h.Client().Get("/verify-email?token=" + url.QueryEscape(flowEmailJWT(t, authcoretest.Secret, jwt.SigningMethodHS256, claims)))
	if r.StatusCode != http.StatusOK || r.Object()["status"] != true {
		t.Fatalf("well-formed token: %d %s", r.StatusCode, r.Body)
	}
	r = h.Client().Get("/verify-email")
	flowErr(t, r, http.StatusBadRequest, "VALIDATION_ERROR", "")
}

func TestVerifyEmailUnknownOrOtherUser(t *testing.T) {
	h := authcoretest.New(t)
	_, up := h.SignUp("Alice", "alice@example.com", flowPW)
	uid := up["user"].(map[string]any)["id"].(string)
	// No user with that address.
	tok := flowEmailJWT(t, authcoretest.Secret, jwt.SigningMethodHS256, flowClaims(h, "ghost@example.com", uid))
	r := h.Client().Get("/verify-email?token=" + url.QueryEscape(tok))
	flowErr(t, r, http.StatusUnauthorized, "USER_NOT_FOUND", "User not found")
	r = h.Client().Get("/verify-email?token=" + url.QueryEscape(tok) + "&callbackURL=/done")
	if r.Header.Get("Location") != authcoretest.BaseURL+"/done?error=USER_NOT_FOUND" {
		t.Fatalf("redirect %q", r.Header.Get("Location"))
	}
	// The address belongs to another user than the token was issued to (OTT-01).
	tok = flowEmailJWT(t, authcoretest.Secret, jwt.SigningMethodHS256, flowClaims(h, "alice@example.com", "some-other-user-id"))
	r = h.Client().Get("/verify-email?token=" + url.QueryEscape(tok))
	flowErr(t, r, http.StatusUnauthorized, "INVALID_USER", "Invalid user")
	if flowUser(t, h, "alice@example.com").Bool("emailVerified") {
		t.Fatal("verified through another user's token")
	}
}

// A link issued before the user was deleted and the address re-registered does not verify
// the new account.
func TestVerifyEmailAfterAddressReused(t *testing.T) {
	h := authcoretest.New(t, authcoretest.WithConfig(func(c *authcore.Config) {
		c.EmailVerification.SendOnSignUp = true
		c.User.DeleteUser.Enabled = true
	}))
	c, _ := h.SignUp("Alice", "alice@example.com", flowPW)
	tok := h.Sink.Wait(t, "verify-email", "alice@example.com").Data.Token
	if r := c.Post("/delete-user", nil); r.StatusCode != 200 {
		t.Fatalf("delete: %d %s", r.StatusCode, r.Body)
	}
	h.SignUp("Alice 2", "alice@example.com", flowPW)
	r := h.Client().Get("/verify-email?token=" + url.QueryEscape(tok))
	flowErr(t, r, http.StatusUnauthorized, "INVALID_USER", "")
	if flowUser(t, h, "alice@example.com").Bool("emailVerified") {
		t.Fatal("new account verified by the old account's link")
	}
}

func TestVerifyEmailAutoSignIn(t *testing.T) {
	h := authcoretest.New(t, authcoretest.WithConfig(func(c *authcore.Config) {
		c.EmailAndPassword.RequireEmailVerification = true
		c.EmailVerification.AutoSignInAfterVerification = true
	}))
	h.Client().Post("/sign-up/email", map[string]any{"name": "A", "email": "a@example.com", "password": flowPW})
	m := h.Sink.Wait(t, "verify-email", "a@example.com")
	c := h.Client()
	r := c.Get("/verify-email?token=" + url.QueryEscape(m.Data.Token))
	if r.StatusCode != http.StatusOK {
		t.Fatalf("verify: %d %s", r.StatusCode, r.Body)
	}
	line, ok := r.SetCookie(sessionCookie)
	if !ok || strings.Contains(line, "Max-Age=0") {
		t.Fatalf("no session cookie: %v", r.Header.Values("Set-Cookie"))
	}
	_, obj := getSession(t, c, "")
	if obj == nil || obj["user"].(map[string]any)["email"] != "a@example.com" || obj["user"].(map[string]any)["emailVerified"] != true {
		t.Fatalf("session after verification: %v", obj)
	}
	// Following the emailed link (callbackURL "/") redirects and signs in too.
	h.Client().Post("/sign-up/email", map[string]any{"name": "B", "email": "b@example.com", "password": flowPW})
	link := h.Sink.Wait(t, "verify-email", "b@example.com").Data.URL
	b := h.Client()
	r = flowFollow(t, h, b, link)
	if r.StatusCode != http.StatusFound || r.Header.Get("Location") != authcoretest.BaseURL+"/" {
		t.Fatalf("follow: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	if _, obj := getSession(t, b, ""); obj == nil {
		t.Fatal("no session after following the link")
	}
}

// D7: a link issued under the previous secret still verifies after a rotation, and only
// while that secret is listed.
func TestVerifyEmailAfterSecretRotation(t *testing.T) {
	const newSecret = "rotated-secret-0123456789abcdef0123456789"
	st := memory.NewStore()
	shared := authcoretest.WithEngineOptions(authcore.WithStore(st))
	old := authcoretest.New(t, shared, authcoretest.WithConfig(func(c *authcore.Config) { c.EmailVerification.SendOnSignUp = true }))
	old.SignUp("Alice", "alice@example.com", flowPW)
	old.SignUp("Bob", "bob@example.com", flowPW)
	aliceTok := url.QueryEscape(old.Sink.Wait(t, "verify-email", "alice@example.com").Data.Token)
	bobTok := url.QueryEscape(old.Sink.Wait(t, "verify-email", "bob@example.com").Data.Token)

	dropped := authcoretest.New(t, shared, authcoretest.WithConfig(func(c *authcore.Config) { c.Secret = newSecret }))
	r := dropped.Client().Get("/verify-email?token=" + bobTok)
	flowErr(t, r, http.StatusUnauthorized, "INVALID_TOKEN", "")

	rotated := authcoretest.New(t, shared, authcoretest.WithConfig(func(c *authcore.Config) {
		c.Secret = newSecret
		c.PreviousSecrets = []string{authcoretest.Secret}
	}))
	r = rotated.Client().Get("/verify-email?token=" + aliceTok)
	if r.StatusCode != http.StatusOK || r.Object()["status"] != true {
		t.Fatalf("old-secret token after rotation: %d %s", r.StatusCode, r.Body)
	}
	if !flowUser(t, rotated, "alice@example.com").Bool("emailVerified") || flowUser(t, rotated, "bob@example.com").Bool("emailVerified") {
		t.Fatal("wrong verification state")
	}
	// New links are signed with the new secret.
	c, _ := flowSignIn(t, rotated, "bob@example.com", flowPW)
	c.Post("/send-verification-email", map[string]any{"email": "bob@example.com"})
	newTok := rotated.Sink.Wait(t, "verify-email", "bob@example.com").Data.Token
	if _, err := jwt.Parse(newTok, func(*jwt.Token) (any, error) { return []byte(newSecret), nil },
		jwt.WithTimeFunc(rotated.Clock.Now), jwt.WithValidMethods([]string{"HS256"})); err != nil {
		t.Fatalf("new link not signed with the current secret: %v", err)
	}
}

// POST /change-email (spec §6 #13), completed through /verify-email.

func changeEmail(edit ...func(*authcore.Config)) authcoretest.Option {
	return authcoretest.WithConfig(func(c *authcore.Config) {
		c.User.ChangeEmail.Enabled = true
		for _, e := range edit {
			e(c)
		}
	})
}

// flowVerifiedUser signs up a user and marks the email verified.
func flowVerifiedUser(t *testing.T, h *authcoretest.Harness, name, email string) (*authcoretest.Client, string) {
	t.Helper()
	c, up := h.SignUp(name, email, flowPW)
	uid := up["user"].(map[string]any)["id"].(string)
	if _, err := h.Engine.Store().Update(t.Context(), authcore.ModelUser, storage.ByID(uid), storage.Record{"emailVerified": true}); err != nil {
		t.Fatal(err)
	}
	return c, uid
}

func TestChangeEmailDisabled(t *testing.T) {
	h := authcoretest.New(t)
	c, _ := h.SignUp("Alice", "alice@example.com", flowPW)
	r := c.Post("/change-email", map[string]any{"newEmail": "new@example.com"})
	flowErr(t, r, http.StatusBadRequest, "CHANGE_EMAIL_DISABLED", "Change email is disabled")
	if flowUser(t, h, "alice@example.com") == nil || len(flowMessages(t, h, "verify-email", "new@example.com")) != 0 {
		t.Fatal("something happened")
	}
}

func TestChangeEmailErrors(t *testing.T) {
	h := authcoretest.New(t, changeEmail())
	c, _ := h.SignUp("Alice", "alice@example.com", flowPW)
	r := c.Post("/change-email", map[string]any{"newEmail": "ALICE@example.com"})
	flowErr(t, r, http.StatusBadRequest, "", "Email is the same")
	r = c.Post("/change-email", map[string]any{"newEmail": "not-an-email"})
	flowErr(t, r, http.StatusBadRequest, "VALIDATION_ERROR", "")
	r = c.Post("/change-email", map[string]any{"newEmail": "new@example.com", "callbackURL": "https://evil.example/"})
	flowErr(t, r, http.StatusForbidden, "INVALID_CALLBACK_URL", "")
	r = h.Client().Post("/change-email", map[string]any{"newEmail": "new@example.com"})
	flowErr(t, r, http.StatusUnauthorized, "UNAUTHORIZED", "")
	flowDrain(t, h)
	if n := len(h.Sink.Messages()); n != 0 {
		t.Fatalf("%d emails sent by refused requests", n)
	}
}

func TestChangeEmailWithoutVerification(t *testing.T) {
	h := authcoretest.New(t, changeEmail(func(c *authcore.Config) { c.User.ChangeEmail.UpdateEmailWithoutVerification = true }))
	c, up := h.SignUp("Alice", "alice@example.com", flowPW)
	token := up["token"].(string)
	r := c.Post("/change-email", map[string]any{"newEmail": "New@Example.com"})
	if r.StatusCode != http.StatusOK || string(r.Body) != `{"status":true}` {
		t.Fatalf("change-email: %d %s", r.StatusCode, r.Body)
	}
	if flowUser(t, h, "alice@example.com") != nil {
		t.Fatal("old address still stored")
	}
	rec := flowUser(t, h, "new@example.com")
	if rec == nil || rec.Bool("emailVerified") {
		t.Fatalf("user %v", rec)
	}
	if line, ok := r.SetCookie(sessionCookie); !ok || !strings.Contains(line, signJS(authcoretest.Secret, token)) {
		t.Fatalf("session cookie not re-issued: %q", line)
	}
	if _, obj := getSession(t, c, ""); obj["user"].(map[string]any)["email"] != "new@example.com" {
		t.Fatalf("session user %v", obj["user"])
	}
	// The new address gets a verification link.
	m := h.Sink.Wait(t, "verify-email", "new@example.com")
	if r := h.Client().Get("/verify-email?token=" + url.QueryEscape(m.Data.Token)); r.StatusCode != 200 {
		t.Fatalf("verify: %d %s", r.StatusCode, r.Body)
	}
	if !flowUser(t, h, "new@example.com").Bool("emailVerified") {
		t.Fatal("new address not verified")
	}
	flowSignIn(t, h, "new@example.com", flowPW)

	// A verified user does not take this shortcut: the address changes only after the
	// new one is verified.
	v, _ := flowVerifiedUser(t, h, "Vera", "vera@example.com")
	if r := v.Post("/change-email", map[string]any{"newEmail": "vera2@example.com"}); r.StatusCode != 200 {
		t.Fatalf("change-email: %d %s", r.StatusCode, r.Body)
	}
	if flowUser(t, h, "vera@example.com") == nil || flowUser(t, h, "vera2@example.com") != nil {
		t.Fatal("verified user's address changed before verification")
	}
	h.Sink.Wait(t, "verify-email", "vera2@example.com")
}

func TestChangeEmailConfirmationFlow(t *testing.T) {
	h := authcoretest.New(t, changeEmail(func(c *authcore.Config) { c.User.ChangeEmail.SendChangeEmailConfirmation = true }))
	c, uid := flowVerifiedUser(t, h, "Alice", "alice@example.com")
	r := c.Post("/change-email", map[string]any{"newEmail": "new@example.com", "callbackURL": "/settings"})
	if r.StatusCode != http.StatusOK || string(r.Body) != `{"status":true}` {
		t.Fatalf("change-email: %d %s", r.StatusCode, r.Body)
	}
	// Step 1: the OLD address confirms.
	conf := h.Sink.Wait(t, "change-email", "alice@example.com")
	if n := len(flowMessages(t, h, "verify-email", "new@example.com")); n != 0 {
		t.Fatal("new address mailed before the old one confirmed")
	}
	if !strings.HasSuffix(conf.Data.URL, "&callbackURL=%2Fsettings") {
		t.Fatalf("confirmation link %q", conf.Data.URL)
	}
	r = flowFollow(t, h, h.Client(), conf.Data.URL)
	if r.StatusCode != http.StatusFound || r.Header.Get("Location") != authcoretest.BaseURL+"/settings" {
		t.Fatalf("confirm: %d %q %s", r.StatusCode, r.Header.Get("Location"), r.Body)
	}
	if flowUser(t, h, "alice@example.com") == nil {
		t.Fatal("address changed at confirmation")
	}
	// Step 2: the NEW address is verified, which completes the change.
	ver := h.Sink.Wait(t, "verify-email", "new@example.com")
	r = flowFollow(t, h, c, ver.Data.URL)
	if r.StatusCode != http.StatusFound || r.Header.Get("Location") != authcoretest.BaseURL+"/settings" {
		t.Fatalf("verify: %d %q %s", r.StatusCode, r.Header.Get("Location"), r.Body)
	}
	rec := flowUser(t, h, "new@example.com")
	if rec == nil || rec.ID() != uid || !rec.Bool("emailVerified") || flowUser(t, h, "alice@example.com") != nil {
		t.Fatalf("after change: %v", rec)
	}
	if _, obj := getSession(t, c, ""); obj["user"].(map[string]any)["email"] != "new@example.com" {
		t.Fatalf("session user %v", obj["user"])
	}
	flowSignIn(t, h, "new@example.com", flowPW)
	if flowSignInStatus(h, "alice@example.com", flowPW) != http.StatusUnauthorized {
		t.Fatal("old address still signs in")
	}
}

func TestChangeEmailDefaultBranch(t *testing.T) {
	h := authcoretest.New(t, changeEmail())
	for _, verified := range []bool{false, true} {
		email, newEmail := "unverified@example.com", "unverified.new@example.com"
		var c *authcoretest.Client
		var uid string
		if verified {
			email, newEmail = "verified@example.com", "verified.new@example.com"
			c, uid = flowVerifiedUser(t, h, "V", email)
		} else {
			var up map[string]any
			c, up = h.SignUp("U", email, flowPW)
			uid = up["user"].(map[string]any)["id"].(string)
		}
		r := c.Post("/change-email", map[string]any{"newEmail": newEmail})
		if r.StatusCode != http.StatusOK || string(r.Body) != `{"status":true}` {
			t.Fatalf("change-email: %d %s", r.StatusCode, r.Body)
		}
		if flowUser(t, h, email) == nil {
			t.Fatal("address changed before verification")
		}
		m := h.Sink.Wait(t, "verify-email", newEmail)
		if n := len(flowMessages(t, h, "change-email", email)); n != 0 {
			t.Fatal("confirmation sent without send_change_email_confirmation")
		}
		// Another signed-in user cannot complete someone else's change.
		mallory, _ := h.SignUp("Mallory", "mallory"+uid[:4]+"@example.com", flowPW)
		r = mallory.Get("/verify-email?token=" + url.QueryEscape(m.Data.Token))
		flowErr(t, r, http.StatusUnauthorized, "INVALID_USER", "")
		if flowUser(t, h, newEmail) != nil {
			t.Fatal("changed through another user's session")
		}
		r = h.Client().Get("/verify-email?token=" + url.QueryEscape(m.Data.Token))
		if r.StatusCode != http.StatusOK || r.Object()["user"].(map[string]any)["email"] != newEmail {
			t.Fatalf("verify: %d %s", r.StatusCode, r.Body)
		}
		rec := flowUser(t, h, newEmail)
		if rec == nil || rec.ID() != uid || !rec.Bool("emailVerified") {
			t.Fatalf("after change: %v", rec)
		}
	}
}

// A taken target answers like success and sends nothing (the other account stays secret).
func TestChangeEmailTakenTarget(t *testing.T) {
	for name, opt := range map[string]authcoretest.Option{
		"default":                     changeEmail(),
		"without verification":        changeEmail(func(c *authcore.Config) { c.User.ChangeEmail.UpdateEmailWithoutVerification = true }),
		"with confirmation, verified": changeEmail(func(c *authcore.Config) { c.User.ChangeEmail.SendChangeEmailConfirmation = true }),
	} {
		t.Run(name, func(t *testing.T) {
			h := authcoretest.New(t, opt)
			h.SignUp("Bob", "bob@example.com", flowPW)
			c, _ := flowVerifiedUser(t, h, "Alice", "alice@example.com")
			if name == "without verification" {
				c, _ = h.SignUp("Una", "una@example.com", flowPW)
			}
			r := c.Post("/change-email", map[string]any{"newEmail": "BOB@example.com"})
			if r.StatusCode != http.StatusOK || string(r.Body) != `{"status":true}` {
				t.Fatalf("change-email: %d %s", r.StatusCode, r.Body)
			}
			flowDrain(t, h)
			if n := len(h.Sink.Messages()); n != 0 {
				t.Fatalf("%d emails sent for a taken target", n)
			}
			if n := flowCount(t, h, authcore.ModelUser, storage.Eq("email", "bob@example.com")); n != 1 {
				t.Fatal("bob's row changed")
			}
			if flowUser(t, h, "alice@example.com") == nil {
				t.Fatal("caller's address changed")
			}
			if name == "without verification" && flowUser(t, h, "una@example.com") == nil {
				t.Fatal("caller's address changed")
			}
		})
	}
}

func TestChangeEmailWithoutMailer(t *testing.T) {
	h := authcoretest.New(t, authcoretest.WithoutMailer(), changeEmail())
	h.SignUp("Bob", "bob@example.com", flowPW)
	c, _ := h.SignUp("Alice", "alice@example.com", flowPW)
	// The refusal does not depend on whether the target is taken (no enumeration).
	for _, target := range []string{"new@example.com", "bob@example.com"} {
		r := c.Post("/change-email", map[string]any{"newEmail": target})
		flowErr(t, r, http.StatusBadRequest, "VERIFICATION_EMAIL_NOT_ENABLED", "Verification email isn't enabled")
	}
	if flowUser(t, h, "alice@example.com") == nil {
		t.Fatal("address changed")
	}
	// Without verification needed, no mailer is needed either.
	h2 := authcoretest.New(t, authcoretest.WithoutMailer(), changeEmail(func(c *authcore.Config) { c.User.ChangeEmail.UpdateEmailWithoutVerification = true }))
	c2, _ := h2.SignUp("Alice", "alice@example.com", flowPW)
	if r := c2.Post("/change-email", map[string]any{"newEmail": "new@example.com"}); r.StatusCode != 200 {
		t.Fatalf("change-email: %d %s", r.StatusCode, r.Body)
	}
	if flowUser(t, h2, "new@example.com") == nil {
		t.Fatal("address not changed")
	}
}

// If the target is taken between the request and the click, the change fails cleanly.
func TestChangeEmailTargetTakenBeforeVerification(t *testing.T) {
	h := authcoretest.New(t, changeEmail())
	c, uid := flowVerifiedUser(t, h, "Alice", "alice@example.com")
	c.Post("/change-email", map[string]any{"newEmail": "new@example.com"})
	m := h.Sink.Wait(t, "verify-email", "new@example.com")
	h.SignUp("Squatter", "new@example.com", flowPW)
	r := h.Client().Get("/verify-email?token=" + url.QueryEscape(m.Data.Token))
	if r.StatusCode < 400 || r.StatusCode >= 500 {
		t.Fatalf("verify with a taken target: %d %s", r.StatusCode, r.Body)
	}
	rec := flowUser(t, h, "alice@example.com")
	if rec == nil || rec.ID() != uid {
		t.Fatal("Alice's address changed")
	}
}
