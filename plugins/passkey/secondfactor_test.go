package passkey_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/descope/virtualwebauthn"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/plugins/passkey"
	"github.com/gatehouse-auth/gatehouse/storage"
	"github.com/gatehouse-auth/gatehouse/storage/memory"
)

const pendingCookie = "test-2fa-pending"

// fakeTwoFactor stands in for the two-factor plugin (written elsewhere): it publishes
// authcore.TwoFactorChallenges with a pending challenge read from a plain test cookie that
// holds the user id, and records every completion.
type fakeTwoFactor struct {
	noProvide bool
	engine    *authcore.Engine

	mu        sync.Mutex
	methods   map[string]func(context.Context, storage.Record) (bool, error)
	completed []completion
}

type completion struct {
	user        string
	trustDevice bool
}

func (*fakeTwoFactor) ID() string { return authcore.TwoFactorID }

func (f *fakeTwoFactor) Register(r *authcore.Registrar) error {
	f.engine = r.Engine()
	f.methods = map[string]func(context.Context, storage.Record) (bool, error){}
	if !f.noProvide {
		r.Provide(authcore.TwoFactorChallenges(f))
	}
	return nil
}

func (f *fakeTwoFactor) PendingUser(c *authcore.Call) (storage.Record, error) {
	ck, err := c.Request.Cookie(pendingCookie)
	if err != nil || ck.Value == "" {
		return nil, nil
	}
	return f.engine.UserByID(c.Context(), ck.Value)
}

func (f *fakeTwoFactor) CompleteChallenge(c *authcore.Call, trustDevice bool) (*authcore.Session, error) {
	u, err := f.PendingUser(c)
	if err != nil || u == nil {
		return nil, authcore.CodeInvalidToken.With(http.StatusUnauthorized)
	}
	f.mu.Lock()
	f.completed = append(f.completed, completion{u.ID(), trustDevice})
	f.mu.Unlock()
	c.SetCookieNamed(pendingCookie, "", 0)
	return c.StartSession(u, false)
}

func (f *fakeTwoFactor) AddMethod(name string, applies func(context.Context, storage.Record) (bool, error)) {
	f.methods[name] = applies
}

func (f *fakeTwoFactor) completions() []completion {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]completion(nil), f.completed...)
}

// pending returns a new client whose sign-in is waiting for user's second factor.
func pending(h *authcoretest.Harness, user string) *authcoretest.Client {
	c := h.Client()
	c.Header.Set("Cookie", pendingCookie+"="+user)
	return c
}

func TestSecondFactorStartUp(t *testing.T) {
	build := func(ps ...authcore.Plugin) error {
		e, err := authcore.New(authcore.Config{BaseURL: authcoretest.BaseURL, Secret: authcoretest.Secret},
			authcore.WithStore(memory.NewStore()), authcore.WithPlugins(ps...))
		if err == nil {
			e.Close()
		}
		return err
	}
	err := build(&passkey.Plugin{PasskeyAsSecondFactor: true})
	if err == nil || !strings.Contains(err.Error(), `requires plugin "two-factor"`) {
		t.Fatalf("without two-factor: %v", err)
	}
	err = build(&passkey.Plugin{PasskeyAsSecondFactor: true}, &fakeTwoFactor{noProvide: true})
	if err == nil || !strings.Contains(err.Error(), "passkey_as_second_factor needs the two-factor plugin") {
		t.Fatalf("two-factor without challenges: %v", err)
	}
	if err := build(&passkey.Plugin{}); err != nil {
		t.Fatalf("without the option two-factor is not needed: %v", err)
	}
	if got := (&passkey.Plugin{}).DependsOn(); got != nil {
		t.Fatalf("DependsOn without the option: %v", got)
	}
	if got := (&passkey.Plugin{PasskeyAsSecondFactor: true}).DependsOn(); len(got) != 1 || got[0] != authcore.TwoFactorID {
		t.Fatalf("DependsOn: %v", got)
	}
}

func TestPasskeyAsSecondFactor(t *testing.T) {
	tf := &fakeTwoFactor{}
	g := &gate{}
	h := newHarness(t, &passkey.Plugin{PasskeyAsSecondFactor: true}, authcoretest.WithPlugins(tf, g))
	alice, ua := h.SignUp("Alice", "alice@example.com", testPW)
	da, _ := register(t, alice, "Alice's key")
	bob, ub := h.SignUp("Bob", "bob@example.com", testPW)
	db, _ := register(t, bob, "Bob's key")
	_, uc := h.SignUp("Carol", "carol@example.com", testPW)

	// The method is listed for users who have a passkey.
	applies := tf.methods[passkey.Method]
	if applies == nil {
		t.Fatal("AddMethod(passkey) was not called")
	}
	for id, want := range map[string]bool{userID(ua): true, userID(uc): false} {
		u, _ := h.Engine.UserByID(t.Context(), id)
		if got, err := applies(t.Context(), u); err != nil || got != want {
			t.Fatalf("applies(%s) = %v %v, want %v", id, got, err, want)
		}
	}

	t.Run("owner completes the challenge", func(t *testing.T) {
		c := pending(h, userID(ua))
		o, r := authOptions(t, c)
		if len(o.AllowCredentials) != 1 {
			t.Fatalf("options for the pending user: %s", r.Body)
		}
		da.cred.Counter++
		a := da.defaultAssertion(o)
		a.flags = flagUP // no user verification: a second factor needs none
		r = c.Post(passkey.PathVerifyAuthentication, map[string]any{"response": json.RawMessage(da.sign(a)), "trustDevice": true})
		if r.StatusCode != http.StatusOK || userID(r.Object()) != userID(ua) || !hasSessionCookie(h, r) {
			t.Fatalf("completion: %d %s", r.StatusCode, r.Body)
		}
		if got := tf.completions(); len(got) != 1 || got[0] != (completion{userID(ua), true}) {
			t.Fatalf("completions %v", got)
		}
		if len(g.seen()) != 0 {
			t.Fatalf("the gate ran: %v", g.seen())
		}
	})
	t.Run("another user's passkey on the bound ceremony", func(t *testing.T) {
		c := pending(h, userID(ua))
		before := sessionsOf(t, h, userID(ub))
		r := signIn(t, c, db, nil)
		mustStatus(t, r, http.StatusUnauthorized, "AUTHENTICATION_FAILED")
		if len(tf.completions()) != 1 || sessionsOf(t, h, userID(ub)) != before {
			t.Fatal("bob's passkey completed alice's challenge or signed bob in")
		}
	})
	t.Run("another user's passkey never completes the challenge", func(t *testing.T) {
		// Options fetched without the pending cookie (a discoverable ceremony), answered
		// with bob's passkey while alice's challenge is pending: bob signs in on his own
		// account, as any passkey sign-in; alice's challenge stays pending.
		c := h.Client()
		o, _ := authOptions(t, c)
		db.cred.Counter++
		p := h.Client()
		p.Header.Set("Cookie", pendingCookie+"="+userID(ua)+"; "+challengeCookie(h)+"="+c.CookieValue(challengeCookie(h)))
		resp := p.Post(passkey.PathVerifyAuthentication, map[string]any{"response": json.RawMessage(db.sign(db.defaultAssertion(o)))})
		if resp.StatusCode != http.StatusOK || userID(resp.Object()) != userID(ub) {
			t.Fatalf("bob's sign-in: %d %s", resp.StatusCode, resp.Body)
		}
		if len(tf.completions()) != 1 {
			t.Fatalf("completions %v", tf.completions())
		}
		if _, ok := resp.SetCookie(pendingCookie); ok {
			t.Fatal("alice's pending challenge was touched")
		}
	})
	t.Run("without a pending challenge the gate applies", func(t *testing.T) {
		r := signIn(t, h.Client(), da, func(a *assertion) { a.flags = flagUP })
		if string(r.Body) != `{"twoFactorRedirect":true}` || len(tf.completions()) != 1 {
			t.Fatalf("%d %s", r.StatusCode, r.Body)
		}
	})
}

// user_verification required: options ask for it and assertions or attestations without it
// are refused.
func TestUserVerificationRequired(t *testing.T) {
	h := newHarness(t, &passkey.Plugin{UserVerification: passkey.Required, ResidentKey: passkey.Required, AuthenticatorAttachment: passkey.AttachmentCrossPlatform})
	c, u := h.SignUp("Alice", "alice@example.com", testPW)
	o, r := registerOptions(t, c)
	if sel, _ := json.Marshal(r.Object()["authenticatorSelection"]); string(sel) != `{"authenticatorAttachment":"cross-platform","requireResidentKey":true,"residentKey":"required","userVerification":"required"}` {
		t.Fatalf("authenticatorSelection %s", sel)
	}
	_, resp := attest(o, rp, virtualwebauthn.AuthenticatorOptions{UserNotVerified: true})
	mustStatus(t, c.Post(passkey.PathVerifyRegistration, map[string]any{"response": json.RawMessage(resp)}), http.StatusBadRequest, "FAILED_TO_VERIFY_REGISTRATION")
	d, _ := register(t, c, "Key")
	if _, r := authOptions(t, h.Client()); r.Object()["userVerification"] != "required" {
		t.Fatalf("options %s", r.Body)
	}
	before := sessionsOf(t, h, userID(u))
	mustStatus(t, signIn(t, h.Client(), d, func(a *assertion) { a.flags = flagUP }), http.StatusBadRequest, "AUTHENTICATION_FAILED")
	if sessionsOf(t, h, userID(u)) != before {
		t.Fatal("a session was created")
	}
	if r := signIn(t, h.Client(), d, nil); r.StatusCode != http.StatusOK {
		t.Fatalf("UV assertion: %d %s", r.StatusCode, r.Body)
	}
}

// D11: the passkey origins are base_url's and the trusted origins (patterns included), or
// the origins option; never the request's Origin header.
func TestOrigins(t *testing.T) {
	try := func(t *testing.T, h *authcoretest.Harness, d *device, origin string) *authcoretest.Response {
		t.Helper()
		return signIn(t, h.Client(), d, func(a *assertion) { a.origin = origin })
	}
	t.Run("trusted origins", func(t *testing.T) {
		h := newHarness(t, nil, authcoretest.WithConfig(func(c *authcore.Config) {
			c.TrustedOrigins = []string{"http://app.localhost:3000", "http://*.tenant.localhost:3000"}
		}))
		c, _ := h.SignUp("Alice", "alice@example.com", testPW)
		d, _ := register(t, c, "Key")
		for _, o := range []string{authcoretest.BaseURL, "http://app.localhost:3000", "http://acme.tenant.localhost:3000"} {
			if r := try(t, h, d, o); r.StatusCode != http.StatusOK {
				t.Fatalf("%s: %d %s", o, r.StatusCode, r.Body)
			}
		}
		for _, o := range []string{"http://evil.localhost:3000", "http://a.b.tenant.localhost:3000", "https://app.localhost:3000"} {
			mustStatus(t, try(t, h, d, o), http.StatusBadRequest, "AUTHENTICATION_FAILED")
		}
	})
	t.Run("origins option", func(t *testing.T) {
		h := newHarness(t, &passkey.Plugin{Origins: []string{"https://login.example.com", "android:apk-key-hash:abc123"}})
		c, _ := h.SignUp("Alice", "alice@example.com", testPW)
		o, _ := registerOptions(t, c)
		_, resp := attest(o, rp, virtualwebauthn.AuthenticatorOptions{})
		// The request's Origin header is the base URL's (the harness client sends it), yet a
		// ceremony from that origin is refused: the option replaced it.
		mustStatus(t, c.Post(passkey.PathVerifyRegistration, map[string]any{"response": json.RawMessage(resp)}),
			http.StatusBadRequest, "FAILED_TO_VERIFY_REGISTRATION")
		o, _ = registerOptions(t, c)
		d, resp := attest(o, virtualwebauthn.RelyingParty{ID: "localhost", Origin: "https://login.example.com"}, virtualwebauthn.AuthenticatorOptions{})
		if r := c.Post(passkey.PathVerifyRegistration, map[string]any{"response": json.RawMessage(resp)}); r.StatusCode != http.StatusOK {
			t.Fatalf("registration from the configured origin: %d %s", r.StatusCode, r.Body)
		}
		for _, o := range []string{"https://login.example.com", "android:apk-key-hash:abc123"} {
			if r := try(t, h, d, o); r.StatusCode != http.StatusOK {
				t.Fatalf("%s: %d %s", o, r.StatusCode, r.Body)
			}
		}
		for _, o := range []string{authcoretest.BaseURL, "android:apk-key-hash:other", "https://evil.login.example.com"} {
			mustStatus(t, try(t, h, d, o), http.StatusBadRequest, "AUTHENTICATION_FAILED")
		}
	})
}
