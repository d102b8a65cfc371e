package passkey_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"
	"github.com/google/uuid"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/plugins/passkey"
	"github.com/gatehouse-auth/gatehouse/storage"
)

const testPW = "correct horse battery staple"

// rp is the relying party as the browser sees it in tests: RP ID localhost (D17) and the
// harness base URL as the origin.
var rp = virtualwebauthn.RelyingParty{ID: "localhost", Name: "Gatehouse", Origin: authcoretest.BaseURL}

// Authenticator data flags.
const (
	flagUP = 0x01
	flagUV = 0x04
	flagBE = 0x08
	flagBS = 0x10
)

func newHarness(t *testing.T, p *passkey.Plugin, opts ...authcoretest.Option) *authcoretest.Harness {
	t.Helper()
	if p == nil {
		p = &passkey.Plugin{}
	}
	return authcoretest.New(t, append([]authcoretest.Option{authcoretest.WithPlugins(p)}, opts...)...)
}

// device is a software authenticator holding one credential.
type device struct {
	auth   virtualwebauthn.Authenticator
	cred   virtualwebauthn.Credential
	handle []byte // the user handle the credential was created with
}

func challengeCookie(h *authcoretest.Harness) string {
	return h.Engine.CookieName(passkey.DefaultChallengeCookie)
}

func sessionCookie(h *authcoretest.Harness) string {
	return h.Engine.CookieName(authcore.CookieSessionToken)
}

// hasSessionCookie reports whether a response set a live session cookie.
func hasSessionCookie(h *authcoretest.Harness, r *authcoretest.Response) bool {
	line, ok := r.SetCookie(sessionCookie(h))
	return ok && !strings.Contains(line, "Max-Age=0")
}

func mustStatus(t *testing.T, r *authcoretest.Response, status int, code string) {
	t.Helper()
	if r.StatusCode != status || r.Code() != code {
		t.Fatalf("got %d %s, want %d %s", r.StatusCode, r.Body, status, code)
	}
}

// registerOptions fetches creation options and parses them as a browser would.
func registerOptions(t *testing.T, c *authcoretest.Client) (*virtualwebauthn.AttestationOptions, *authcoretest.Response) {
	t.Helper()
	r := c.Get(passkey.PathGenerateRegisterOptions)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("generate-register-options: %d %s", r.StatusCode, r.Body)
	}
	o, err := virtualwebauthn.ParseAttestationOptions(string(r.Body))
	if err != nil {
		t.Fatalf("parsing creation options %s: %v", r.Body, err)
	}
	return o, r
}

// attest creates a new credential answering creation options.
func attest(o *virtualwebauthn.AttestationOptions, rp virtualwebauthn.RelyingParty, ao virtualwebauthn.AuthenticatorOptions) (*device, string) {
	ao.UserHandle = []byte(o.UserID)
	d := &device{auth: virtualwebauthn.NewAuthenticatorWithOptions(ao), cred: newCredential(), handle: []byte(o.UserID)}
	resp := virtualwebauthn.CreateAttestationResponse(rp, d.auth, d.cred, *o)
	d.auth.AddCredential(d.cred)
	return d, resp
}

// newCredential returns a software P-256 credential. virtualwebauthn writes the key's
// coordinates with big.Int.Bytes, which drops leading zero bytes, so about one key in 64
// gets a short coordinate that go-webauthn rightly refuses; such keys are drawn again.
func newCredential() virtualwebauthn.Credential {
	for {
		cred := virtualwebauthn.NewCredential(virtualwebauthn.KeyTypeEC2)
		k, err := x509.ParsePKCS8PrivateKey(cred.Key.Data)
		if err != nil {
			panic(err)
		}
		if pk := k.(*ecdsa.PrivateKey); len(pk.X.Bytes()) == 32 && len(pk.Y.Bytes()) == 32 {
			return cred
		}
	}
}

// register adds a passkey for the client's user and returns the authenticator and the row.
func register(t *testing.T, c *authcoretest.Client, name string) (*device, map[string]any) {
	t.Helper()
	o, _ := registerOptions(t, c)
	d, resp := attest(o, rp, virtualwebauthn.AuthenticatorOptions{})
	r := c.Post(passkey.PathVerifyRegistration, map[string]any{"response": json.RawMessage(resp), "name": name})
	if r.StatusCode != http.StatusOK {
		t.Fatalf("verify-registration: %d %s", r.StatusCode, r.Body)
	}
	return d, r.Object()
}

// authOptions fetches request options and parses them as a browser would.
func authOptions(t *testing.T, c *authcoretest.Client) (*virtualwebauthn.AssertionOptions, *authcoretest.Response) {
	t.Helper()
	r := c.Get(passkey.PathGenerateAuthenticateOptions)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("generate-authenticate-options: %d %s", r.StatusCode, r.Body)
	}
	o, err := virtualwebauthn.ParseAssertionOptions(string(r.Body))
	if err != nil {
		t.Fatalf("parsing request options %s: %v", r.Body, err)
	}
	return o, r
}

// assertion is what the authenticator signs, every part of it chosen by the test.
type assertion struct {
	typ, challenge, origin string
	crossOrigin            bool
	topOrigin              string
	rpID                   string
	flags                  byte
	counter                uint32
	userHandle             []byte
	alterClientData        bool // change clientDataJSON after signing
	credID                 []byte
}

// defaultAssertion is the assertion a real browser and authenticator would send for o.
func (d *device) defaultAssertion(o *virtualwebauthn.AssertionOptions) assertion {
	return assertion{
		typ: "webauthn.get", challenge: base64.RawURLEncoding.EncodeToString(o.Challenge),
		origin: rp.Origin, rpID: rp.ID, flags: flagUP | flagUV, counter: d.cred.Counter,
		userHandle: d.handle, credID: d.cred.ID,
	}
}

// sign builds an AuthenticationResponseJSON signed by the device's key.
func (d *device) sign(a assertion) string {
	cd := map[string]any{"type": a.typ, "challenge": a.challenge, "origin": a.origin}
	if a.crossOrigin {
		cd["crossOrigin"] = true
	}
	if a.topOrigin != "" {
		cd["topOrigin"] = a.topOrigin
	}
	cdj, _ := json.Marshal(cd)
	rpHash := sha256.Sum256([]byte(a.rpID))
	authData := append(rpHash[:], a.flags)
	authData = binary.BigEndian.AppendUint32(authData, a.counter)
	cdHash := sha256.Sum256(cdj)
	digest := sha256.Sum256(append(append([]byte{}, authData...), cdHash[:]...))
	sig, err := d.cred.Key.Sign(digest[:])
	if err != nil {
		panic(err)
	}
	if a.alterClientData {
		cd["extra"] = "altered after signing"
		cdj, _ = json.Marshal(cd)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	resp := map[string]any{
		// As the official passkeyClient sends it: clientExtensionResults stripped.
		"id": b64(a.credID), "rawId": b64(a.credID), "type": "public-key", "authenticatorAttachment": "platform",
		"response": map[string]any{
			"clientDataJSON": b64(cdj), "authenticatorData": b64(authData), "signature": b64(sig),
			"userHandle": b64(a.userHandle),
		},
	}
	out, _ := json.Marshal(resp)
	return string(out)
}

// signIn runs a whole passkey sign-in with the device on client c.
func signIn(t *testing.T, c *authcoretest.Client, d *device, edit func(*assertion)) *authcoretest.Response {
	t.Helper()
	o, _ := authOptions(t, c)
	d.cred.Counter++
	a := d.defaultAssertion(o)
	if edit != nil {
		edit(&a)
	}
	return c.Post(passkey.PathVerifyAuthentication, map[string]any{"response": json.RawMessage(d.sign(a))})
}

func passkeys(t *testing.T, h *authcoretest.Harness, userID string) []storage.Record {
	t.Helper()
	rows, err := h.Engine.Store().FindMany(t.Context(), passkey.ModelPasskey, storage.Query{Where: storage.Eq("userId", userID)})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func sessionsOf(t *testing.T, h *authcoretest.Harness, userID string) int {
	t.Helper()
	n, err := h.Engine.Store().Count(t.Context(), authcore.ModelSession, storage.Eq("userId", userID))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func userID(u map[string]any) string {
	user, _ := u["user"].(map[string]any)
	id, _ := user["id"].(string)
	return id
}

// keysOf lists an object's keys, sorted.
func keysOf(m map[string]any) string {
	return strings.Join(slices.Sorted(maps.Keys(m)), ",")
}

func TestRegisterOptionsShape(t *testing.T) {
	h := newHarness(t, nil)
	c, u := h.SignUp("Alice", "alice@example.com", testPW)
	_, r := registerOptions(t, c)
	t.Logf("generate-register-options: %s", r.Body)
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("Cache-Control %q", cc)
	}
	o := r.Object()
	if got, want := keysOf(o), "attestation,authenticatorSelection,challenge,excludeCredentials,extensions,hints,pubKeyCredParams,rp,timeout,user"; got != want {
		t.Fatalf("keys %s, want %s", got, want)
	}
	rpObj, _ := json.Marshal(o["rp"])
	if string(rpObj) != `{"id":"localhost","name":"Gatehouse"}` {
		t.Fatalf("rp %s", rpObj)
	}
	user := o["user"].(map[string]any)
	handle, err := base64.RawURLEncoding.DecodeString(user["id"].(string))
	if err != nil || len(handle) != 32 || strings.Trim(string(handle), "abcdefghijklmnopqrstuvwxyz0123456789") != "" {
		t.Fatalf("user.id %q decodes to %q (%v): want 32 [a-z0-9]", user["id"], handle, err)
	}
	if string(handle) == userID(u) {
		t.Fatal("the user handle is the user id")
	}
	if user["name"] != "alice@example.com" || user["displayName"] != "alice@example.com" {
		t.Fatalf("user %v", user)
	}
	for field, want := range map[string]string{
		"pubKeyCredParams":       `[{"alg":-8,"type":"public-key"},{"alg":-7,"type":"public-key"},{"alg":-257,"type":"public-key"}]`,
		"timeout":                `60000`,
		"attestation":            `"none"`,
		"excludeCredentials":     `[]`,
		"authenticatorSelection": `{"requireResidentKey":false,"residentKey":"preferred","userVerification":"preferred"}`,
		"extensions":             `{"credProps":true}`,
		"hints":                  `[]`,
	} {
		if got, _ := json.Marshal(o[field]); string(got) != want {
			t.Errorf("%s = %s, want %s", field, got, want)
		}
	}
	ch, err := base64.RawURLEncoding.DecodeString(o["challenge"].(string))
	if err != nil || len(ch) != 32 {
		t.Fatalf("challenge %v: %d bytes, %v", o["challenge"], len(ch), err)
	}
	line, ok := r.SetCookie(challengeCookie(h))
	if !ok || !strings.Contains(line, "Max-Age=300;") || !strings.Contains(line, "HttpOnly") || !strings.Contains(line, "SameSite=Lax") {
		t.Fatalf("challenge cookie %q", line)
	}
	if challengeCookie(h) != "better-auth.better-auth-passkey" {
		t.Fatalf("cookie name %s", challengeCookie(h))
	}
	rows, err := h.Engine.Store().FindMany(t.Context(), authcore.ModelVerification, storage.Query{Where: storage.StartsWith("identifier", "passkey-challenge-")})
	if err != nil || len(rows) != 1 {
		t.Fatalf("%d challenge rows, %v", len(rows), err)
	}
	if exp := rows[0].Time("expiresAt").Sub(h.Clock.Now()); exp != 5*time.Minute {
		t.Fatalf("challenge lives %s", exp)
	}
	var v map[string]any
	json.Unmarshal([]byte(rows[0].String("value")), &v)
	if v["type"] != "registration" || v["expectedChallenge"] != o["challenge"] {
		t.Fatalf("challenge row %s", rows[0].String("value"))
	}
	if ud := v["userData"].(map[string]any); ud["id"] != userID(u) || ud["name"] != "alice@example.com" {
		t.Fatalf("userData %v", ud)
	}

	// Query parameters: attachment, name, context.
	r = c.Get(passkey.PathGenerateRegisterOptions + "?authenticatorAttachment=platform&name=Work%20laptop&context=invite-42")
	o = r.Object()
	if got, _ := json.Marshal(o["authenticatorSelection"]); string(got) != `{"authenticatorAttachment":"platform","requireResidentKey":false,"residentKey":"preferred","userVerification":"preferred"}` {
		t.Fatalf("authenticatorSelection %s", got)
	}
	if user := o["user"].(map[string]any); user["name"] != "Work laptop" || user["displayName"] != "alice@example.com" {
		t.Fatalf("user %v", user)
	}
	r = c.Get(passkey.PathGenerateRegisterOptions + "?authenticatorAttachment=usb")
	mustStatus(t, r, http.StatusBadRequest, "VALIDATION_ERROR")

	// Needs a session, and a fresh one.
	mustStatus(t, h.Client().Get(passkey.PathGenerateRegisterOptions), http.StatusUnauthorized, "UNAUTHORIZED")
	h.Clock.Advance(25 * time.Hour)
	mustStatus(t, c.Get(passkey.PathGenerateRegisterOptions), http.StatusForbidden, "SESSION_NOT_FRESH")
}

func TestRegister(t *testing.T) {
	h := newHarness(t, nil)
	c, u := h.SignUp("Alice", "alice@example.com", testPW)
	o, _ := registerOptions(t, c)
	d, resp := attest(o, rp, virtualwebauthn.AuthenticatorOptions{BackupEligible: true, BackupState: true})
	r := c.Post(passkey.PathVerifyRegistration, map[string]any{"response": json.RawMessage(resp), "name": "  Phone  "})
	if r.StatusCode != http.StatusOK {
		t.Fatalf("verify-registration: %d %s", r.StatusCode, r.Body)
	}
	row := r.Object()
	t.Logf("verify-registration: %s", r.Body)
	if got, want := keysOf(row), "aaguid,backedUp,counter,createdAt,credentialID,deviceType,id,name,publicKey,transports,userId"; got != want {
		t.Fatalf("passkey keys %s, want %s", got, want)
	}
	aaguid, _ := uuid.FromBytes(d.auth.Aaguid[:])
	for k, want := range map[string]any{
		"name": "Phone", "userId": userID(u), "credentialID": base64.RawURLEncoding.EncodeToString(d.cred.ID),
		"publicKey": base64.StdEncoding.EncodeToString(d.cred.Key.AttestationData()), "counter": float64(0),
		"deviceType": "multiDevice", "backedUp": true, "transports": "", "aaguid": aaguid.String(),
		"createdAt": "2026-01-01T00:00:00.000Z",
	} {
		if row[k] != want {
			t.Errorf("%s = %#v, want %#v", k, row[k], want)
		}
	}
	stored := passkeys(t, h, userID(u))
	if len(stored) != 1 || stored[0].String("userHandle") != string(d.handle) || stored[0].ID() != row["id"] {
		t.Fatalf("stored %v", stored)
	}
	if _, ok := r.SetCookie(sessionCookie(h)); ok {
		t.Fatal("registration without createSession set a session cookie")
	}

	// A second registration keeps the user handle and excludes the first credential.
	o2, r2 := registerOptions(t, c)
	if o2.UserID != string(d.handle) {
		t.Fatalf("user handle changed: %q then %q", d.handle, o2.UserID)
	}
	ex, _ := json.Marshal(r2.Object()["excludeCredentials"])
	if want := `[{"id":"` + base64.RawURLEncoding.EncodeToString(d.cred.ID) + `","type":"public-key"}]`; string(ex) != want {
		t.Fatalf("excludeCredentials %s, want %s", ex, want)
	}
	// Transports reported by the browser are stored comma-joined and offered back.
	_, resp = attest(o2, rp, virtualwebauthn.AuthenticatorOptions{})
	var withTransports map[string]any
	json.Unmarshal([]byte(resp), &withTransports)
	withTransports["response"].(map[string]any)["transports"] = []string{"internal", "hybrid"}
	withTransports["authenticatorAttachment"] = "platform"
	r = c.Post(passkey.PathVerifyRegistration, map[string]any{"response": withTransports})
	if r.StatusCode != http.StatusOK || r.Object()["transports"] != "internal,hybrid" {
		t.Fatalf("registration with transports: %d %s", r.StatusCode, r.Body)
	}
	_, ar := authOptions(t, c)
	allow, _ := json.Marshal(ar.Object()["allowCredentials"])
	if !strings.Contains(string(allow), `"transports":["internal","hybrid"],"type":"public-key"}`) {
		t.Fatalf("allowCredentials %s", allow)
	}
	if n := len(passkeys(t, h, userID(u))); n != 2 {
		t.Fatalf("%d passkeys", n)
	}
	o2, _ = registerOptions(t, c)

	// The same credential again: refused, whoever registers it.
	resp = virtualwebauthn.CreateAttestationResponse(rp, d.auth, d.cred, *o2)
	mustStatus(t, c.Post(passkey.PathVerifyRegistration, map[string]any{"response": json.RawMessage(resp)}), http.StatusBadRequest, "PREVIOUSLY_REGISTERED")
	bob, _ := h.SignUp("Bob", "bob@example.com", testPW)
	ob, _ := registerOptions(t, bob)
	if ob.UserID == string(d.handle) {
		t.Fatal("bob got alice's user handle")
	}
	resp = virtualwebauthn.CreateAttestationResponse(rp, d.auth, d.cred, *ob)
	mustStatus(t, bob.Post(passkey.PathVerifyRegistration, map[string]any{"response": json.RawMessage(resp)}), http.StatusBadRequest, "PREVIOUSLY_REGISTERED")
	if n := len(passkeys(t, h, userID(u))); n != 2 {
		t.Fatalf("%d passkeys", n)
	}

	// createSession: the answer carries a new session for the same user.
	o3, _ := registerOptions(t, c)
	_, resp = attest(o3, rp, virtualwebauthn.AuthenticatorOptions{})
	before := sessionsOf(t, h, userID(u))
	r = c.Post(passkey.PathVerifyRegistration, map[string]any{"response": json.RawMessage(resp), "createSession": true})
	if r.StatusCode != http.StatusOK || !hasSessionCookie(h, r) || userID(r.Object()) != userID(u) {
		t.Fatalf("createSession: %d %s", r.StatusCode, r.Body)
	}
	if s, _ := r.Object()["session"].(map[string]any); s["token"] == nil || r.Object()["credentialID"] == nil {
		t.Fatalf("createSession answer %s", r.Body)
	}
	if sessionsOf(t, h, userID(u)) != before+1 {
		t.Fatal("no new session stored")
	}
	if _, ok := r.Object()["name"]; ok {
		t.Fatal("a passkey registered without a name has one")
	}
}

// Every failed check of a registration is 400 FAILED_TO_VERIFY_REGISTRATION (Better Auth
// answers 500) and stores nothing (WA-03).
func TestRegistrationRejections(t *testing.T) {
	logs := &logBuffer{}
	h := newHarness(t, nil, authcoretest.WithEngineOptions(authcore.WithLogger(logs.logger())))
	c, u := h.SignUp("Alice", "alice@example.com", testPW)
	bob, _ := h.SignUp("Bob", "bob@example.com", testPW)
	post := func(cl *authcoretest.Client, resp string) *authcoretest.Response {
		return cl.Post(passkey.PathVerifyRegistration, map[string]any{"response": json.RawMessage(resp)})
	}
	for _, tc := range []struct {
		name  string
		rp    virtualwebauthn.RelyingParty
		ao    virtualwebauthn.AuthenticatorOptions
		cause string
	}{
		{"wrong origin", virtualwebauthn.RelyingParty{ID: "localhost", Origin: "https://evil.example"}, virtualwebauthn.AuthenticatorOptions{}, "untrusted origin"},
		{"origin with another port", virtualwebauthn.RelyingParty{ID: "localhost", Origin: "http://localhost:3001"}, virtualwebauthn.AuthenticatorOptions{}, "untrusted origin"},
		{"https instead of http", virtualwebauthn.RelyingParty{ID: "localhost", Origin: "https://localhost:3000"}, virtualwebauthn.AuthenticatorOptions{}, "untrusted origin"},
		{"wrong RP ID", virtualwebauthn.RelyingParty{ID: "evil.example", Origin: rp.Origin}, virtualwebauthn.AuthenticatorOptions{}, "RP Hash mismatch"},
		{"user not present", rp, virtualwebauthn.AuthenticatorOptions{UserNotPresent: true}, "User presence"},
		{"backup state without eligibility", rp, virtualwebauthn.AuthenticatorOptions{BackupState: true}, "Backup State Flag is true"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, _ := registerOptions(t, c)
			_, resp := attest(o, tc.rp, tc.ao)
			logs.reset()
			r := post(c, resp)
			mustStatus(t, r, http.StatusBadRequest, "FAILED_TO_VERIFY_REGISTRATION")
			if !strings.Contains(logs.String(), tc.cause) {
				t.Fatalf("refused for another reason: %s", logs.String())
			}
			if n := len(passkeys(t, h, userID(u))); n != 0 {
				t.Fatalf("%d passkeys stored", n)
			}
		})
	}
	t.Run("replayed challenge", func(t *testing.T) {
		o, _ := registerOptions(t, c)
		cookie := c.CookieValue(challengeCookie(h))
		_, bad := attest(o, virtualwebauthn.RelyingParty{ID: "localhost", Origin: "https://evil.example"}, virtualwebauthn.AuthenticatorOptions{})
		mustStatus(t, post(c, bad), http.StatusBadRequest, "FAILED_TO_VERIFY_REGISTRATION")
		// The first (failed) try consumed the challenge: a good answer to it is refused too.
		_, good := attest(o, rp, virtualwebauthn.AuthenticatorOptions{})
		r := withCookie(c, h, cookie).Post(passkey.PathVerifyRegistration, map[string]any{"response": json.RawMessage(good)})
		mustStatus(t, r, http.StatusBadRequest, "CHALLENGE_NOT_FOUND")
		if n := len(passkeys(t, h, userID(u))); n != 0 {
			t.Fatalf("%d passkeys stored", n)
		}
	})
	t.Run("missing challenge cookie", func(t *testing.T) {
		o, _ := registerOptions(t, c)
		_, resp := attest(o, rp, virtualwebauthn.AuthenticatorOptions{})
		mustStatus(t, withCookie(c, h, "").Post(passkey.PathVerifyRegistration, map[string]any{"response": json.RawMessage(resp)}), http.StatusBadRequest, "CHALLENGE_NOT_FOUND")
		mustStatus(t, withCookie(c, h, "forged").Post(passkey.PathVerifyRegistration, map[string]any{"response": json.RawMessage(resp)}), http.StatusBadRequest, "CHALLENGE_NOT_FOUND")
	})
	t.Run("expired challenge", func(t *testing.T) {
		o, _ := registerOptions(t, c)
		cookie := c.CookieValue(challengeCookie(h))
		_, resp := attest(o, rp, virtualwebauthn.AuthenticatorOptions{})
		h.Clock.Advance(5*time.Minute + time.Second)
		mustStatus(t, withCookie(c, h, cookie).Post(passkey.PathVerifyRegistration, map[string]any{"response": json.RawMessage(resp)}), http.StatusBadRequest, "CHALLENGE_NOT_FOUND")
	})
	t.Run("authentication challenge", func(t *testing.T) {
		o, _ := registerOptions(t, c)
		_, resp := attest(o, rp, virtualwebauthn.AuthenticatorOptions{})
		authOptions(t, c) // replaces the cookie with an authentication challenge
		mustStatus(t, post(c, resp), http.StatusBadRequest, "CHALLENGE_NOT_FOUND")
	})
	t.Run("another user's challenge", func(t *testing.T) {
		// Bob's challenge cookie on alice's session: the ceremony belongs to bob.
		o, _ := registerOptions(t, bob)
		_, resp := attest(o, rp, virtualwebauthn.AuthenticatorOptions{})
		mustStatus(t, withCookie(c, h, bob.CookieValue(challengeCookie(h))).Post(passkey.PathVerifyRegistration, map[string]any{"response": json.RawMessage(resp)}),
			http.StatusUnauthorized, "YOU_ARE_NOT_ALLOWED_TO_REGISTER_THIS_PASSKEY")
		if n := len(passkeys(t, h, userID(u))); n != 0 {
			t.Fatalf("%d passkeys stored", n)
		}
	})
	t.Run("not fresh", func(t *testing.T) {
		h := newHarness(t, nil)
		c, _ := h.SignUp("Carol", "carol@example.com", testPW)
		o, _ := registerOptions(t, c)
		_, resp := attest(o, rp, virtualwebauthn.AuthenticatorOptions{})
		h.Clock.Advance(25 * time.Hour)
		mustStatus(t, post(c, resp), http.StatusForbidden, "SESSION_NOT_FRESH")
		mustStatus(t, post(h.Client(), resp), http.StatusUnauthorized, "UNAUTHORIZED")
	})
}

// withCookie returns a client with c's cookies except the challenge cookie, which is set to
// value ("" for none).
func withCookie(c *authcoretest.Client, h *authcoretest.Harness, value string) *authcoretest.Client {
	n := h.Client()
	var parts []string
	for _, name := range []string{sessionCookie(h), "test-2fa-pending"} {
		if v := c.CookieValue(name); v != "" {
			parts = append(parts, name+"="+v)
		}
	}
	if value != "" {
		parts = append(parts, challengeCookie(h)+"="+value)
	}
	n.Header.Set("Cookie", strings.Join(parts, "; "))
	return n
}

func TestAuthenticateOptionsShape(t *testing.T) {
	h := newHarness(t, nil)
	c, _ := h.SignUp("Alice", "alice@example.com", testPW)
	d, _ := register(t, c, "Laptop")

	// Signed out: discoverable, nothing about any account.
	anon := h.Client()
	_, r := authOptions(t, anon)
	t.Logf("generate-authenticate-options (signed out): %s", r.Body)
	o := r.Object()
	if got, want := keysOf(o), "challenge,rpId,timeout,userVerification"; got != want {
		t.Fatalf("keys %s, want %s", got, want)
	}
	if o["rpId"] != "localhost" || o["timeout"] != float64(60000) || o["userVerification"] != "preferred" {
		t.Fatalf("options %s", r.Body)
	}
	if ch, err := base64.RawURLEncoding.DecodeString(o["challenge"].(string)); err != nil || len(ch) != 32 {
		t.Fatalf("challenge %v", o["challenge"])
	}
	if line, ok := r.SetCookie(challengeCookie(h)); !ok || !strings.Contains(line, "Max-Age=300;") {
		t.Fatalf("challenge cookie %q", line)
	}

	// Signed in: the user's passkeys as allowCredentials.
	_, r = authOptions(t, c)
	t.Logf("generate-authenticate-options (signed in): %s", r.Body)
	allow, _ := json.Marshal(r.Object()["allowCredentials"])
	if want := `[{"id":"` + base64.RawURLEncoding.EncodeToString(d.cred.ID) + `","type":"public-key"}]`; string(allow) != want {
		t.Fatalf("allowCredentials %s, want %s", allow, want)
	}
	// Signed in without passkeys: discoverable again.
	bob, _ := h.SignUp("Bob", "bob@example.com", testPW)
	_, r = authOptions(t, bob)
	if _, ok := r.Object()["allowCredentials"]; ok {
		t.Fatalf("options for a user without passkeys: %s", r.Body)
	}
}

func TestSignInUsernameless(t *testing.T) {
	h := newHarness(t, nil)
	c, u := h.SignUp("Alice", "alice@example.com", testPW)
	d, row := register(t, c, "Laptop")

	anon := h.Client()
	d.cred.Counter = 6
	r := signIn(t, anon, d, nil)
	if r.StatusCode != http.StatusOK || !hasSessionCookie(h, r) {
		t.Fatalf("verify-authentication: %d %s", r.StatusCode, r.Body)
	}
	t.Logf("verify-authentication: %s", r.Body)
	o := r.Object()
	if keysOf(o) != "session,user" || userID(o) != userID(u) {
		t.Fatalf("answer %s", r.Body)
	}
	s := o["session"].(map[string]any)
	if s["token"] == nil || s["userId"] != userID(u) {
		t.Fatalf("session %v", s)
	}
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("Cache-Control %q", cc)
	}
	if line, _ := r.SetCookie(challengeCookie(h)); !strings.Contains(line, "Max-Age=0") {
		t.Fatalf("challenge cookie not expired: %q", line)
	}
	// The new session works.
	if g := anon.Get("/get-session"); userID(g.Object()) != userID(u) {
		t.Fatalf("get-session: %s", g.Body)
	}
	// The counter moved forward.
	if got := passkeys(t, h, userID(u))[0]; got.Int("counter") != 7 || got.ID() != row["id"] {
		t.Fatalf("counter %d", got.Int("counter"))
	}
	// A credential whose counter is always zero is accepted (synced passkeys).
	z, _ := register(t, c, "Synced")
	for range 2 {
		r := signIn(t, h.Client(), z, func(a *assertion) { a.counter = 0 })
		if r.StatusCode != http.StatusOK {
			t.Fatalf("zero counter: %d %s", r.StatusCode, r.Body)
		}
	}
}

// Signed in, the ceremony is bound to the user's passkeys: another user's passkey cannot
// answer it (WA-01 "credential not in allowCredentials").
func TestSignInWithAllowCredentials(t *testing.T) {
	h := newHarness(t, nil)
	alice, u := h.SignUp("Alice", "alice@example.com", testPW)
	da, _ := register(t, alice, "A")
	bob, ub := h.SignUp("Bob", "bob@example.com", testPW)
	db, _ := register(t, bob, "B")

	r := signIn(t, alice, da, nil)
	if r.StatusCode != http.StatusOK || userID(r.Object()) != userID(u) {
		t.Fatalf("own passkey: %d %s", r.StatusCode, r.Body)
	}
	before := sessionsOf(t, h, userID(ub))
	r = signIn(t, alice, db, nil)
	mustStatus(t, r, http.StatusUnauthorized, "AUTHENTICATION_FAILED")
	if hasSessionCookie(h, r) || sessionsOf(t, h, userID(ub)) != before {
		t.Fatal("a session was created")
	}
}

// gate is a session gate standing in for the two-factor plugin: it interrupts every sign-in
// but the email/password one the tests use to set users up, and records the methods it saw.
type gate struct {
	mu      sync.Mutex
	methods []string
}

func (*gate) ID() string { return "test-gate" }

func (g *gate) Register(r *authcore.Registrar) error {
	r.SessionGate(func(c *authcore.Call, user storage.Record, opt authcore.SignInOptions) error {
		// A stand-in for the two-factor gate: it lets multi-factor sign-ins through.
		method := opt.Method
		if method == "email" {
			return nil
		}
		if opt.MultiFactor {
			method += " (multi-factor)"
		}
		g.mu.Lock()
		g.methods = append(g.methods, method)
		g.mu.Unlock()
		if opt.MultiFactor {
			return nil
		}
		return &authcore.Interrupt{Response: map[string]any{"twoFactorRedirect": true}}
	})
	return nil
}

func (g *gate) seen() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.methods...)
}

// D11: an assertion with user verification is two factors: the gates see a multi-factor
// sign-in (a second-factor gate lets it through, a ban would still apply); without it the
// gate applies with method "passkey".
func TestUserVerificationAndGates(t *testing.T) {
	g := &gate{}
	h := newHarness(t, nil, authcoretest.WithPlugins(g))
	c, u := h.SignUp("Alice", "alice@example.com", testPW)
	d, _ := register(t, c, "Key")

	r := signIn(t, h.Client(), d, nil)
	if r.StatusCode != http.StatusOK || !hasSessionCookie(h, r) || userID(r.Object()) != userID(u) {
		t.Fatalf("UV assertion: %d %s", r.StatusCode, r.Body)
	}
	if got := g.seen(); len(got) != 1 || got[0] != passkey.Method+" (multi-factor)" {
		t.Fatalf("gate saw %v for a UV assertion", got)
	}
	before := sessionsOf(t, h, userID(u))
	r = signIn(t, h.Client(), d, func(a *assertion) { a.flags = flagUP })
	if r.StatusCode != http.StatusOK || string(r.Body) != `{"twoFactorRedirect":true}` || hasSessionCookie(h, r) {
		t.Fatalf("non-UV assertion: %d %s", r.StatusCode, r.Body)
	}
	if got := g.seen(); len(got) != 2 || got[1] != passkey.Method {
		t.Fatalf("gate saw %v", got)
	}
	if sessionsOf(t, h, userID(u)) != before {
		t.Fatal("a session was created past the gate")
	}
}

// WA-01/WA-02: every check of an assertion, each refused with its status and code, and no
// session created.
func TestAuthenticationRejections(t *testing.T) {
	logs := &logBuffer{}
	h := newHarness(t, nil, authcoretest.WithEngineOptions(authcore.WithLogger(logs.logger())))
	c, u := h.SignUp("Alice", "alice@example.com", testPW)
	d, _ := register(t, c, "Key")
	_, ub := h.SignUp("Bob", "bob@example.com", testPW)
	stranger, _ := attest(&virtualwebauthn.AttestationOptions{UserID: "x"}, rp, virtualwebauthn.AuthenticatorOptions{})

	noSession := func(t *testing.T, r *authcoretest.Response, before int) {
		t.Helper()
		if hasSessionCookie(h, r) || sessionsOf(t, h, userID(u)) != before {
			t.Fatalf("a session was created: %s", r.Body)
		}
	}
	for _, tc := range []struct {
		name   string
		edit   func(a *assertion)
		dev    *device
		status int
		code   string
		cause  string // in the refusal's logged cause
	}{
		{"origin of another site", func(a *assertion) { a.origin = "https://evil.example" }, d, 400, "AUTHENTICATION_FAILED", "untrusted origin"},
		{"https instead of http", func(a *assertion) { a.origin = "https://localhost:3000" }, d, 400, "AUTHENTICATION_FAILED", "untrusted origin"},
		{"another port", func(a *assertion) { a.origin = "http://localhost:8443" }, d, 400, "AUTHENTICATION_FAILED", "untrusted origin"},
		{"sibling subdomain", func(a *assertion) { a.origin = "http://evil.localhost:3000" }, d, 400, "AUTHENTICATION_FAILED", "untrusted origin"},
		{"origin null", func(a *assertion) { a.origin = "null" }, d, 400, "AUTHENTICATION_FAILED", "untrusted origin"},
		{"RP ID of another site", func(a *assertion) { a.rpID = "evil.example" }, d, 400, "AUTHENTICATION_FAILED", "RP Hash mismatch"},
		{"creation type", func(a *assertion) { a.typ = "webauthn.create" }, d, 400, "AUTHENTICATION_FAILED", "Error validating ceremony type"},
		{"another challenge", func(a *assertion) { a.challenge = base64.RawURLEncoding.EncodeToString(make([]byte, 32)) }, d, 400, "AUTHENTICATION_FAILED", "Error validating challenge"},
		{"user not present", func(a *assertion) { a.flags = flagUV }, d, 400, "AUTHENTICATION_FAILED", "User presence"},
		{"backup state without eligibility", func(a *assertion) { a.flags |= flagBS }, d, 400, "AUTHENTICATION_FAILED", "Backup State Flag is true"},
		{"backup eligibility changed", func(a *assertion) { a.flags |= flagBE }, d, 400, "AUTHENTICATION_FAILED", "Backup Eligible flag inconsistency"},
		{"user handle of another user", func(a *assertion) { a.userHandle = []byte("abcdefghijklmnopqrstuvwxyz012345") }, d, 400, "AUTHENTICATION_FAILED", "User handle and User ID do not match"},
		{"cross origin", func(a *assertion) { a.crossOrigin = true }, d, 400, "AUTHENTICATION_FAILED", "cross origin flag"},
		{"top origin", func(a *assertion) { a.crossOrigin, a.topOrigin = true, "https://evil.example" }, d, 400, "AUTHENTICATION_FAILED", "cross origin flag"},
		{"signature over altered client data", func(a *assertion) { a.alterClientData = true }, d, 401, "AUTHENTICATION_FAILED", "assertion signature"},
		{"unknown credential", nil, stranger, 401, "PASSKEY_NOT_FOUND", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := sessionsOf(t, h, userID(u))
			logs.reset()
			r := signIn(t, h.Client(), tc.dev, tc.edit)
			mustStatus(t, r, tc.status, tc.code)
			noSession(t, r, before)
			if !strings.Contains(logs.String(), tc.cause) {
				t.Fatalf("refused for another reason: %s", logs.String())
			}
		})
	}

	t.Run("counter regression", func(t *testing.T) {
		d.cred.Counter = 4
		if r := signIn(t, h.Client(), d, nil); r.StatusCode != http.StatusOK { // counter 5
			t.Fatalf("counter 5: %d %s", r.StatusCode, r.Body)
		}
		for _, n := range []uint32{5, 3, 0} {
			before := sessionsOf(t, h, userID(u))
			r := signIn(t, h.Client(), d, func(a *assertion) { a.counter = n })
			mustStatus(t, r, http.StatusUnauthorized, "AUTHENTICATION_FAILED")
			noSession(t, r, before)
			if got := passkeys(t, h, userID(u))[0].Int("counter"); got != 5 {
				t.Fatalf("stored counter %d after %d", got, n)
			}
		}
		d.cred.Counter = 5
		if r := signIn(t, h.Client(), d, nil); r.StatusCode != http.StatusOK { // counter 6
			t.Fatalf("counter 6: %d %s", r.StatusCode, r.Body)
		}
	})
	t.Run("expired challenge", func(t *testing.T) {
		anon := h.Client()
		o, _ := authOptions(t, anon)
		d.cred.Counter++
		h.Clock.Advance(5*time.Minute + time.Second)
		before := sessionsOf(t, h, userID(u))
		r := anon.Post(passkey.PathVerifyAuthentication, map[string]any{"response": json.RawMessage(d.sign(d.defaultAssertion(o)))})
		mustStatus(t, r, http.StatusBadRequest, "CHALLENGE_NOT_FOUND")
		noSession(t, r, before)
	})
	t.Run("replayed assertion", func(t *testing.T) {
		anon := h.Client()
		o, _ := authOptions(t, anon)
		cookie := anon.CookieValue(challengeCookie(h))
		d.cred.Counter++
		body := map[string]any{"response": json.RawMessage(d.sign(d.defaultAssertion(o)))}
		if r := anon.Post(passkey.PathVerifyAuthentication, body); r.StatusCode != http.StatusOK {
			t.Fatalf("first: %d %s", r.StatusCode, r.Body)
		}
		before := sessionsOf(t, h, userID(u))
		r := withCookie(h.Client(), h, cookie).Post(passkey.PathVerifyAuthentication, body)
		mustStatus(t, r, http.StatusBadRequest, "CHALLENGE_NOT_FOUND")
		noSession(t, r, before)
	})
	t.Run("replay after a failed try", func(t *testing.T) {
		anon := h.Client()
		o, _ := authOptions(t, anon)
		cookie := anon.CookieValue(challengeCookie(h))
		d.cred.Counter++
		bad := d.defaultAssertion(o)
		bad.alterClientData = true
		mustStatus(t, anon.Post(passkey.PathVerifyAuthentication, map[string]any{"response": json.RawMessage(d.sign(bad))}), 401, "AUTHENTICATION_FAILED")
		before := sessionsOf(t, h, userID(u))
		r := withCookie(h.Client(), h, cookie).Post(passkey.PathVerifyAuthentication, map[string]any{"response": json.RawMessage(d.sign(d.defaultAssertion(o)))})
		mustStatus(t, r, http.StatusBadRequest, "CHALLENGE_NOT_FOUND")
		noSession(t, r, before)
	})
	t.Run("missing or forged challenge cookie", func(t *testing.T) {
		anon := h.Client()
		o, _ := authOptions(t, anon)
		cookie := anon.CookieValue(challengeCookie(h))
		d.cred.Counter++
		body := map[string]any{"response": json.RawMessage(d.sign(d.defaultAssertion(o)))}
		before := sessionsOf(t, h, userID(u))
		unsigned, _, _ := strings.Cut(cookie, ".")
		for _, v := range []string{"", unsigned, unsigned + ".AAAA", "x" + cookie} {
			r := withCookie(h.Client(), h, v).Post(passkey.PathVerifyAuthentication, body)
			mustStatus(t, r, http.StatusBadRequest, "CHALLENGE_NOT_FOUND")
			noSession(t, r, before)
		}
		// The untouched cookie still works: nothing above consumed the challenge.
		if r := withCookie(h.Client(), h, cookie).Post(passkey.PathVerifyAuthentication, body); r.StatusCode != http.StatusOK {
			t.Fatalf("genuine cookie: %d %s", r.StatusCode, r.Body)
		}
	})
	t.Run("registration challenge", func(t *testing.T) {
		o, _ := registerOptions(t, c)
		d.cred.Counter++
		a := d.defaultAssertion(&virtualwebauthn.AssertionOptions{Challenge: o.Challenge})
		before := sessionsOf(t, h, userID(u))
		r := c.Post(passkey.PathVerifyAuthentication, map[string]any{"response": json.RawMessage(d.sign(a))})
		mustStatus(t, r, http.StatusBadRequest, "CHALLENGE_NOT_FOUND")
		if sessionsOf(t, h, userID(u)) != before {
			t.Fatal("a session was created")
		}
	})
	if n := sessionsOf(t, h, userID(ub)); n != 1 {
		t.Fatalf("bob has %d sessions", n)
	}
}

// One assertion sent 20 times at once with one challenge cookie: exactly one session.
func TestConcurrentVerification(t *testing.T) {
	h := newHarness(t, nil)
	c, u := h.SignUp("Alice", "alice@example.com", testPW)
	d, _ := register(t, c, "Key")
	anon := h.Client()
	o, _ := authOptions(t, anon)
	cookie := anon.CookieValue(challengeCookie(h))
	d.cred.Counter++
	body := map[string]any{"response": json.RawMessage(d.sign(d.defaultAssertion(o)))}
	before := sessionsOf(t, h, userID(u))

	var wg sync.WaitGroup
	results := make([]*authcoretest.Response, 20)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = withCookie(h.Client(), h, cookie).Post(passkey.PathVerifyAuthentication, body)
		}()
	}
	wg.Wait()
	ok := 0
	for _, r := range results {
		switch {
		case r.StatusCode == http.StatusOK:
			ok++
		case r.StatusCode == http.StatusBadRequest && r.Code() == "CHALLENGE_NOT_FOUND":
		default:
			t.Errorf("unexpected answer %d %s", r.StatusCode, r.Body)
		}
	}
	if ok != 1 || sessionsOf(t, h, userID(u)) != before+1 {
		t.Fatalf("%d successes, %d new sessions; want exactly one", ok, sessionsOf(t, h, userID(u))-before)
	}
}

// logBuffer captures the engine's log, where refusals record their private cause.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.buf.String() }

func (l *logBuffer) reset() { l.mu.Lock(); l.buf.Reset(); l.mu.Unlock() }

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// WA-03: list, rename and delete act on the session user's passkeys only; someone else's
// passkey answers exactly like one that does not exist.
func TestManagePasskeys(t *testing.T) {
	h := newHarness(t, nil)
	alice, u := h.SignUp("Alice", "alice@example.com", testPW)
	_, first := register(t, alice, "Laptop")
	h.Clock.Advance(time.Second)
	_, second := register(t, alice, "Phone")
	bob, ub := h.SignUp("Bob", "bob@example.com", testPW)
	_, bobs := register(t, bob, "Bob's key")

	r := alice.Get(passkey.PathListUserPasskeys)
	var list []map[string]any
	if err := json.Unmarshal(r.Body, &list); err != nil || r.StatusCode != http.StatusOK || len(list) != 2 {
		t.Fatalf("list: %d %s", r.StatusCode, r.Body)
	}
	if list[0]["id"] != first["id"] || list[1]["id"] != second["id"] || list[0]["name"] != "Laptop" {
		t.Fatalf("list order/content: %s", r.Body)
	}
	if fj, _ := json.Marshal(first); !strings.Contains(string(r.Body), string(fj)) {
		t.Fatalf("listed row %s differs from the registered one %s", r.Body, fj)
	}
	if strings.Contains(string(r.Body), "userHandle") {
		t.Fatal("the user handle is exposed")
	}
	mustStatus(t, h.Client().Get(passkey.PathListUserPasskeys), http.StatusUnauthorized, "UNAUTHORIZED")

	// Rename.
	r = alice.Post(passkey.PathUpdatePasskey, map[string]any{"id": first["id"], "name": "  Work laptop "})
	if r.StatusCode != http.StatusOK {
		t.Fatalf("update: %d %s", r.StatusCode, r.Body)
	}
	pk := r.Object()["passkey"].(map[string]any)
	if keysOf(r.Object()) != "passkey" || pk["name"] != "Work laptop" || pk["id"] != first["id"] || pk["credentialID"] != first["credentialID"] {
		t.Fatalf("update answer %s", r.Body)
	}
	for _, name := range []string{"", "   "} {
		mustStatus(t, alice.Post(passkey.PathUpdatePasskey, map[string]any{"id": first["id"], "name": name}), http.StatusBadRequest, "VALIDATION_ERROR")
	}
	mustStatus(t, alice.Post(passkey.PathUpdatePasskey, map[string]any{"id": first["id"]}), http.StatusBadRequest, "VALIDATION_ERROR")

	// Someone else's passkey and a missing one look the same.
	missing := alice.Post(passkey.PathUpdatePasskey, map[string]any{"id": "no-such-passkey", "name": "x"})
	mustStatus(t, missing, http.StatusNotFound, "PASSKEY_NOT_FOUND")
	other := alice.Post(passkey.PathUpdatePasskey, map[string]any{"id": bobs["id"], "name": "mine now"})
	mustStatus(t, other, http.StatusNotFound, "PASSKEY_NOT_FOUND")
	if string(other.Body) != string(missing.Body) {
		t.Fatalf("answers differ: %s vs %s", other.Body, missing.Body)
	}
	missing = alice.Post(passkey.PathDeletePasskey, map[string]any{"id": "no-such-passkey"})
	mustStatus(t, missing, http.StatusNotFound, "PASSKEY_NOT_FOUND")
	other = alice.Post(passkey.PathDeletePasskey, map[string]any{"id": bobs["id"]})
	mustStatus(t, other, http.StatusNotFound, "PASSKEY_NOT_FOUND")
	if string(other.Body) != string(missing.Body) {
		t.Fatalf("answers differ: %s vs %s", other.Body, missing.Body)
	}
	if rows := passkeys(t, h, userID(ub)); len(rows) != 1 || rows[0].String("name") != "Bob's key" {
		t.Fatalf("bob's passkey changed: %v", rows)
	}
	mustStatus(t, h.Client().Post(passkey.PathDeletePasskey, map[string]any{"id": first["id"]}), http.StatusUnauthorized, "UNAUTHORIZED")

	// Delete.
	r = alice.Post(passkey.PathDeletePasskey, map[string]any{"id": first["id"]})
	if r.StatusCode != http.StatusOK || string(r.Body) != `{"status":true}` {
		t.Fatalf("delete: %d %s", r.StatusCode, r.Body)
	}
	if rows := passkeys(t, h, userID(u)); len(rows) != 1 || rows[0].ID() != second["id"] {
		t.Fatalf("after delete: %v", rows)
	}
	mustStatus(t, alice.Post(passkey.PathDeletePasskey, map[string]any{"id": first["id"]}), http.StatusNotFound, "PASSKEY_NOT_FOUND")
}

// A deleted passkey no longer signs in; a deleted user's passkeys go with the user.
func TestDeletedPasskeyAndUser(t *testing.T) {
	h := newHarness(t, nil)
	c, u := h.SignUp("Alice", "alice@example.com", testPW)
	d, row := register(t, c, "Key")
	if r := c.Post(passkey.PathDeletePasskey, map[string]any{"id": row["id"]}); r.StatusCode != http.StatusOK {
		t.Fatalf("delete: %d %s", r.StatusCode, r.Body)
	}
	mustStatus(t, signIn(t, h.Client(), d, nil), http.StatusUnauthorized, "PASSKEY_NOT_FOUND")

	register(t, c, "Another")
	if err := h.Engine.DeleteUser(t.Context(), userID(u)); err != nil {
		t.Fatal(err)
	}
	if n := len(passkeys(t, h, userID(u))); n != 0 {
		t.Fatalf("%d passkeys outlived their user", n)
	}
}

// Account pre-hijacking: a passkey attached to an unverified account by whoever signed up
// with someone else's address is removed when the address's owner claims it.
func TestClaimEmailStripsPasskeys(t *testing.T) {
	h := newHarness(t, nil)
	squatter, u := h.SignUp("Mallory", "victim@example.com", testPW)
	d, _ := register(t, squatter, "Mallory's key")
	if n := len(passkeys(t, h, userID(u))); n != 1 {
		t.Fatalf("%d passkeys", n)
	}
	claimed, err := h.Engine.ClaimEmail(t.Context(), userID(u))
	if err != nil || claimed == nil || !claimed.Bool("emailVerified") {
		t.Fatalf("ClaimEmail: %v %v", claimed, err)
	}
	if n := len(passkeys(t, h, userID(u))); n != 0 {
		t.Fatalf("%d passkeys survived the claim", n)
	}
	mustStatus(t, signIn(t, h.Client(), d, nil), http.StatusUnauthorized, "PASSKEY_NOT_FOUND")
}

// Hostile input is a 4xx envelope, never a 500, and no session.
func TestHostileInput(t *testing.T) {
	h := newHarness(t, nil)
	c, u := h.SignUp("Alice", "alice@example.com", testPW)
	d, _ := register(t, c, "Key")
	huge := strings.Repeat("A", 900<<10)
	valid := func() map[string]any {
		o, _ := authOptions(t, c)
		d.cred.Counter++
		var m map[string]any
		json.Unmarshal([]byte(d.sign(d.defaultAssertion(o))), &m)
		return m
	}
	for _, tc := range []struct {
		name string
		body func() any
		code string
	}{
		{"response missing", func() any { authOptions(t, c); return map[string]any{} }, "VALIDATION_ERROR"},
		{"response a string", func() any { authOptions(t, c); return map[string]any{"response": "garbage"} }, "VALIDATION_ERROR"},
		{"response an array", func() any { authOptions(t, c); return map[string]any{"response": []any{1, 2}} }, "VALIDATION_ERROR"},
		{"empty response", func() any { authOptions(t, c); return map[string]any{"response": map[string]any{}} }, "AUTHENTICATION_FAILED"},
		{"id a number", func() any { m := valid(); m["id"] = 5; return map[string]any{"response": m} }, "AUTHENTICATION_FAILED"},
		{"id not base64url", func() any { m := valid(); m["id"] = "!!!"; return map[string]any{"response": m} }, "AUTHENTICATION_FAILED"},
		{"rawId differs", func() any { m := valid(); m["rawId"] = "AAAA"; return map[string]any{"response": m} }, "AUTHENTICATION_FAILED"},
		{"clientDataJSON garbage", func() any {
			m := valid()
			m["response"].(map[string]any)["clientDataJSON"] = base64.RawURLEncoding.EncodeToString([]byte("{not json"))
			return map[string]any{"response": m}
		}, "AUTHENTICATION_FAILED"},
		{"authenticatorData short", func() any {
			m := valid()
			m["response"].(map[string]any)["authenticatorData"] = "AAAA"
			return map[string]any{"response": m}
		}, "AUTHENTICATION_FAILED"},
		{"signature huge", func() any {
			m := valid()
			m["response"].(map[string]any)["signature"] = huge
			return map[string]any{"response": m}
		}, "AUTHENTICATION_FAILED"},
		{"response nested deep", func() any {
			authOptions(t, c)
			var v any = "x"
			for range 200 {
				v = map[string]any{"a": v}
			}
			return map[string]any{"response": v}
		}, "BAD_REQUEST"}, // the engine's nesting limit
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := sessionsOf(t, h, userID(u))
			r := c.Post(passkey.PathVerifyAuthentication, tc.body())
			if r.StatusCode < 400 || r.StatusCode >= 500 || r.Code() != tc.code {
				t.Fatalf("got %d %s, want 4xx %s", r.StatusCode, r.Body, tc.code)
			}
			if sessionsOf(t, h, userID(u)) != before {
				t.Fatal("a session was created")
			}
		})
	}
	t.Run("registration", func(t *testing.T) {
		for _, body := range []any{
			map[string]any{"response": "x"},
			map[string]any{"response": map[string]any{}},
			map[string]any{"response": map[string]any{"id": "AAAA", "rawId": "AAAA", "type": "public-key",
				"response": map[string]any{"clientDataJSON": huge, "attestationObject": huge}}},
			map[string]any{"response": map[string]any{"id": "AAAA", "rawId": "AAAA", "type": "public-key",
				"response": map[string]any{"clientDataJSON": "AAAA", "attestationObject": base64.RawURLEncoding.EncodeToString([]byte{0xbf, 0xff, 0x00})}}},
			map[string]any{"response": map[string]any{}, "name": 7},
		} {
			registerOptions(t, c)
			r := c.Post(passkey.PathVerifyRegistration, body)
			if r.StatusCode < 400 || r.StatusCode >= 500 {
				t.Fatalf("%v: %d %s", body, r.StatusCode, r.Body)
			}
		}
		if n := len(passkeys(t, h, userID(u))); n != 1 {
			t.Fatalf("%d passkeys", n)
		}
	})
	t.Run("not JSON", func(t *testing.T) {
		mustStatus(t, c.Post(passkey.PathVerifyAuthentication, "{nope"), http.StatusBadRequest, "BAD_REQUEST")
		mustStatus(t, c.Post(passkey.PathUpdatePasskey, map[string]any{"id": 5, "name": "x"}), http.StatusBadRequest, "VALIDATION_ERROR")
		mustStatus(t, c.Post(passkey.PathDeletePasskey, map[string]any{"id": strings.Repeat("x", 10000)}), http.StatusBadRequest, "VALIDATION_ERROR")
		mustStatus(t, c.Get(passkey.PathGenerateRegisterOptions+"?name="+strings.Repeat("n", 5000)), http.StatusBadRequest, "VALIDATION_ERROR")
	})
}

// challenge_cookie renames the cookie (Better Auth's advanced.webAuthnChallengeCookie); the
// cookie prefix and __Secure- still apply.
func TestChallengeCookieOption(t *testing.T) {
	secure := true
	h := newHarness(t, &passkey.Plugin{ChallengeCookie: "pk-challenge"}, authcoretest.WithConfig(func(c *authcore.Config) {
		c.Cookies.Prefix = "app"
		c.Cookies.Secure = &secure
	}))
	r := h.Client().Get(passkey.PathGenerateAuthenticateOptions)
	line, ok := r.SetCookie("__Secure-app.pk-challenge")
	if !ok || !strings.Contains(line, "; Secure") {
		t.Fatalf("Set-Cookie %v", r.Header.Values("Set-Cookie"))
	}
}

// The whole flow on bbolt: the unique credential id, the compare-and-set counter update and
// the ordering hold there too.
func TestFlowOnBolt(t *testing.T) {
	h := newHarness(t, nil, authcoretest.WithBolt())
	c, u := h.SignUp("Alice", "alice@example.com", testPW)
	d, row := register(t, c, "Key")
	o, _ := registerOptions(t, c)
	resp := virtualwebauthn.CreateAttestationResponse(rp, d.auth, d.cred, *o)
	mustStatus(t, c.Post(passkey.PathVerifyRegistration, map[string]any{"response": json.RawMessage(resp)}), http.StatusBadRequest, "PREVIOUSLY_REGISTERED")
	d.cred.Counter = 9
	if r := signIn(t, h.Client(), d, nil); r.StatusCode != http.StatusOK {
		t.Fatalf("sign-in: %d %s", r.StatusCode, r.Body)
	}
	mustStatus(t, signIn(t, h.Client(), d, func(a *assertion) { a.counter = 10 }), http.StatusUnauthorized, "AUTHENTICATION_FAILED")
	if rows := passkeys(t, h, userID(u)); len(rows) != 1 || rows[0].Int("counter") != 10 || rows[0].ID() != row["id"] {
		t.Fatalf("rows %v", rows)
	}
}
