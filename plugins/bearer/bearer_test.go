package bearer_test

import (
	"encoding/base32"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/plugins/bearer"
	"github.com/gatehouse-auth/gatehouse/plugins/twofactor"
	"github.com/gatehouse-auth/gatehouse/storage"
)

const (
	pw            = "correct horse battery staple"
	cookieSession = "better-auth.session_token"
)

func newHarness(t testing.TB, p *bearer.Plugin, more ...authcore.Plugin) *authcoretest.Harness {
	t.Helper()
	if p == nil {
		p = &bearer.Plugin{}
	}
	return authcoretest.New(t, authcoretest.WithPlugins(append([]authcore.Plugin{p}, more...)...))
}

// signUp signs a user up and returns the response (its set-auth-token is the credential).
func signUp(t testing.TB, h *authcoretest.Harness, email string) *authcoretest.Response {
	t.Helper()
	r := h.Client().Post(authcore.PathSignUpEmail, map[string]any{"name": "U", "email": email, "password": pw})
	if r.StatusCode != http.StatusOK {
		t.Fatalf("sign-up: %d %s", r.StatusCode, r.Body)
	}
	return r
}

func signIn(t *testing.T, h *authcoretest.Harness, email string) *authcoretest.Response {
	t.Helper()
	return h.Client().Post(authcore.PathSignInEmail, map[string]any{"email": email, "password": pw})
}

// bearerClient is a client without cookies that sends the token in Authorization.
func bearerClient(h *authcoretest.Harness, token string) *authcoretest.Client {
	c := h.Client()
	c.Header.Set("Authorization", "Bearer "+token)
	return c
}

// authToken returns set-auth-token and checks it is the session cookie's value, decoded.
func authToken(t *testing.T, r *authcoretest.Response) string {
	t.Helper()
	tok := r.Header.Get("set-auth-token")
	if tok == "" {
		t.Fatalf("no set-auth-token: %v", r.Header)
	}
	line, ok := r.SetCookie(cookieSession)
	if !ok {
		t.Fatalf("no session cookie")
	}
	v, _, _ := strings.Cut(strings.TrimPrefix(line, cookieSession+"="), ";")
	if dv, _ := url.PathUnescape(v); dv != tok {
		t.Fatalf("set-auth-token %q, cookie value %q", tok, dv)
	}
	return tok
}

func exposes(r *authcoretest.Response) bool {
	for _, v := range r.Header.Values("Access-Control-Expose-Headers") {
		for x := range strings.SplitSeq(v, ",") {
			if strings.TrimSpace(x) == "set-auth-token" {
				return true
			}
		}
	}
	return false
}

// sessionEmail is the email of /get-session's user, "" for null.
func sessionEmail(t *testing.T, c *authcoretest.Client) string {
	t.Helper()
	r := c.Get(authcore.PathGetSession)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("get-session: %d %s", r.StatusCode, r.Body)
	}
	if string(r.Body) == "null" {
		return ""
	}
	u, _ := r.Object()["user"].(map[string]any)
	e, _ := u["email"].(string)
	return e
}

func bodyToken(r *authcoretest.Response) string { s, _ := r.Object()["token"].(string); return s }

func encodeURIComponent(s string) string {
	return strings.NewReplacer("/", "%2F", "+", "%2B", "=", "%3D").Replace(s)
}

func tamper(tok string) string {
	b := []byte(tok)
	i := strings.LastIndexByte(tok, '.') + 3
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

func TestSignUpAndSignInReturnSetAuthToken(t *testing.T) {
	h := newHarness(t, nil)
	up := signUp(t, h, "a@example.com")
	tok := authToken(t, up)
	if got, ok := h.Engine.Keys().Verify(tok); !ok || got != bodyToken(up) {
		t.Fatalf("set-auth-token %q verifies to %q, %v; body token %q", tok, got, ok, bodyToken(up))
	}
	if !exposes(up) {
		t.Fatalf("Access-Control-Expose-Headers: %v", up.Header.Values("Access-Control-Expose-Headers"))
	}
	// Without an Origin (no CORS headers from the engine) the plugin's own header stays.
	c := h.Client()
	c.Origin = ""
	in := c.Post(authcore.PathSignInEmail, map[string]any{"email": "a@example.com", "password": pw})
	if in.StatusCode != http.StatusOK {
		t.Fatalf("sign-in: %d %s", in.StatusCode, in.Body)
	}
	authToken(t, in)
	if got := in.Header.Get("Access-Control-Expose-Headers"); got != "set-auth-token" {
		t.Fatalf("Access-Control-Expose-Headers = %q", got)
	}
	// Responses that set no session cookie carry no token.
	if r := bearerClient(h, authToken(t, in)).Get(authcore.PathListSessions); r.Header.Get("set-auth-token") != "" {
		t.Fatalf("list-sessions set a token: %v", r.Header)
	}
}

func TestBearerTokenAuthenticatesAuthAPI(t *testing.T) {
	h := newHarness(t, nil)
	up := signUp(t, h, "a@example.com")
	signed := authToken(t, up)
	for name, tok := range map[string]string{
		"signed":      signed,
		"raw":         bodyToken(up),
		"url-encoded": encodeURIComponent(signed),
	} {
		t.Run(name, func(t *testing.T) {
			c := bearerClient(h, tok)
			if got := sessionEmail(t, c); got != "a@example.com" {
				t.Fatalf("get-session as %q", got)
			}
			r := c.Get(authcore.PathListSessions)
			if r.StatusCode != http.StatusOK {
				t.Fatalf("list-sessions: %d %s", r.StatusCode, r.Body)
			}
			if arr, _ := r.JSON().([]any); len(arr) != 1 {
				t.Fatalf("list-sessions: %s", r.Body)
			}
		})
	}
	// The scheme is case-insensitive.
	c := h.Client()
	c.Header.Set("Authorization", "bEaReR   "+signed)
	if got := sessionEmail(t, c); got != "a@example.com" {
		t.Fatalf("mixed-case scheme: %q", got)
	}
	// Sign-out with the token ends that session, and says so with no token.
	out := bearerClient(h, signed).Post(authcore.PathSignOut, map[string]any{})
	if out.StatusCode != http.StatusOK || out.Header.Get("set-auth-token") != "" {
		t.Fatalf("sign-out: %d %v %s", out.StatusCode, out.Header, out.Body)
	}
	if got := sessionEmail(t, bearerClient(h, signed)); got != "" {
		t.Fatalf("signed-out token still works: %q", got)
	}
	if n, _ := h.Engine.Store().Count(t.Context(), authcore.ModelSession, storage.Eq("userId", userID(up))); n != 0 {
		t.Fatalf("%d sessions left", n)
	}
}

func userID(r *authcoretest.Response) string {
	u, _ := r.Object()["user"].(map[string]any)
	id, _ := u["id"].(string)
	return id
}

func TestRequireSignature(t *testing.T) {
	h := newHarness(t, &bearer.Plugin{RequireSignature: true})
	up := signUp(t, h, "a@example.com")
	if got := sessionEmail(t, bearerClient(h, bodyToken(up))); got != "" {
		t.Fatalf("raw token accepted with require_signature: %q", got)
	}
	if got := sessionEmail(t, bearerClient(h, authToken(t, up))); got != "a@example.com" {
		t.Fatalf("signed token refused: %q", got)
	}
	p, err := h.Engine.Authenticate(gatewayRequest("Bearer "+bodyToken(up), ""))
	if err != nil || p != nil {
		t.Fatalf("gateway raw token with require_signature: %v %v", p, err)
	}
}

func TestInvalidBearerIsNoCredential(t *testing.T) {
	h := newHarness(t, nil)
	up := signUp(t, h, "a@example.com")
	signed := authToken(t, up)
	for name, tok := range map[string]string{
		"tampered":       tamper(signed),
		"tampered-enc":   encodeURIComponent(tamper(signed)),
		"unknown raw":    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"bad escape":     "abc.%zz",
		"no signature":   bodyToken(up) + ".",
		"huge":           strings.Repeat("x", 100000),
		"huge signed":    strings.Repeat("x", 5000) + "." + strings.Repeat("A", 43) + "=",
		"odd characters": "a\"b;c=d, e.f",
		"trailing junk":  signed + "x",
		"trailing word":  signed + " x",
	} {
		t.Run(name, func(t *testing.T) {
			if got := sessionEmail(t, bearerClient(h, tok)); got != "" {
				t.Fatalf("accepted as %q", got)
			}
		})
	}
	// An invalid token never falls back to the session cookie sent alongside it.
	c := h.Client()
	if r := c.Post(authcore.PathSignInEmail, map[string]any{"email": "a@example.com", "password": pw}); r.StatusCode != http.StatusOK {
		t.Fatalf("sign-in: %d", r.StatusCode)
	}
	if got := sessionEmail(t, c); got != "a@example.com" {
		t.Fatalf("cookie session: %q", got)
	}
	c.Header.Set("Authorization", "Bearer "+tamper(signed))
	if got := sessionEmail(t, c); got != "" {
		t.Fatalf("fell back to the cookie session: %q", got)
	}
	// Two Authorization headers (two users' tokens) authenticate as neither.
	b := signUp(t, h, "b@example.com")
	two := h.Client()
	two.Header["Authorization"] = []string{"Bearer " + signed, "Bearer " + authToken(t, b)}
	if got := sessionEmail(t, two); got != "" {
		t.Fatalf("two Authorization headers: %q", got)
	}
	if _, err := h.Engine.Authenticate(gatewayRequest2([]string{"Bearer " + signed, "Basic eA=="})); authcore.AsError(err).Status != http.StatusUnauthorized {
		t.Fatalf("gateway, two Authorization headers: %v", err)
	}
	// Query tokens are never read.
	q := h.Client()
	if got := sessionEmail(t, q); got != "" {
		t.Fatal("no session expected")
	}
	if r := q.Get(authcore.PathGetSession + "?token=" + url.QueryEscape(signed) + "&access_token=" + url.QueryEscape(signed)); string(r.Body) != "null" {
		t.Fatalf("query token accepted: %s", r.Body)
	}
	// Other schemes are not the plugin's business: the cookie still counts.
	c.Header.Set("Authorization", "Basic dXNlcjpwYXNz")
	if got := sessionEmail(t, c); got != "a@example.com" {
		t.Fatalf("Basic auth hid the cookie: %q", got)
	}
}

func TestBearerAndCookieOfDifferentSessions(t *testing.T) {
	h := newHarness(t, nil)
	up := signUp(t, h, "a@example.com")
	signed := authToken(t, up)
	signUp(t, h, "b@example.com")
	for _, email := range []string{"b@example.com", "a@example.com"} { // another user; the same user's other session
		c := h.Client()
		if r := c.Post(authcore.PathSignInEmail, map[string]any{"email": email, "password": pw}); r.StatusCode != http.StatusOK {
			t.Fatalf("sign-in: %d", r.StatusCode)
		}
		c.Header.Set("Authorization", "Bearer "+signed)
		r := c.Get(authcore.PathGetSession)
		if r.StatusCode != http.StatusUnauthorized || r.Code() != "UNAUTHORIZED" {
			t.Fatalf("%s: bearer + other session cookie: %d %s", email, r.StatusCode, r.Body)
		}
		p, err := h.Engine.Authenticate(gatewayRequest("Bearer "+signed, c.CookieValue(cookieSession)))
		if ae := authcore.AsError(err); err == nil || ae.Status != http.StatusUnauthorized {
			t.Fatalf("%s: gateway: %v %v", email, p, err)
		}
	}
	// The same session in both is fine.
	c := h.Client()
	c.Header.Set("Authorization", "Bearer "+signed)
	c.Header.Set("Cookie", cookieSession+"="+encodeURIComponent(signed))
	if got := sessionEmail(t, c); got != "a@example.com" {
		t.Fatalf("same session: %q", got)
	}
	// A cookie whose session is gone does not conflict: the bearer wins.
	stale := signIn(t, h, "a@example.com")
	staleTok := authToken(t, stale)
	if r := bearerClient(h, staleTok).Post(authcore.PathSignOut, map[string]any{}); r.StatusCode != http.StatusOK {
		t.Fatalf("sign-out: %d", r.StatusCode)
	}
	c.Header.Set("Cookie", cookieSession+"="+encodeURIComponent(staleTok))
	if got := sessionEmail(t, c); got != "a@example.com" {
		t.Fatalf("stale cookie: %q", got)
	}
}

func TestTwoFactorInterruptionHasNoToken(t *testing.T) {
	h := newHarness(t, nil, &twofactor.Plugin{})
	up := signUp(t, h, "a@example.com")
	c := bearerClient(h, authToken(t, up))
	en := c.Post(twofactor.PathEnable, map[string]any{"password": pw})
	if en.StatusCode != http.StatusOK {
		t.Fatalf("enable: %d %s", en.StatusCode, en.Body)
	}
	uri, _ := en.Object()["totpURI"].(string)
	u, err := url.Parse(uri)
	if err != nil {
		t.Fatal(err)
	}
	h.Clock.Advance(30 * time.Second)
	code, err := totp.GenerateCodeCustom(u.Query().Get("secret"), h.Clock.Now(),
		totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(u.Query().Get("secret")); err != nil {
		t.Fatalf("secret: %v", err)
	}
	if r := c.Post(twofactor.PathVerifyTOTP, map[string]any{"code": code}); r.StatusCode != http.StatusOK {
		t.Fatalf("verify-totp: %d %s", r.StatusCode, r.Body)
	}
	before, _ := h.Engine.Store().Count(t.Context(), authcore.ModelSession, storage.Eq("userId", userID(up)))
	r := signIn(t, h, "a@example.com")
	if r.StatusCode != http.StatusOK || r.Object()["twoFactorRedirect"] != true {
		t.Fatalf("sign-in not interrupted: %d %s", r.StatusCode, r.Body)
	}
	if tok := r.Header.Get("set-auth-token"); tok != "" {
		t.Fatalf("set-auth-token on an interrupted sign-in: %q", tok)
	}
	if exposes(r) && r.Header.Get("Access-Control-Allow-Origin") == "" {
		t.Fatalf("plugin exposed set-auth-token without a token")
	}
	after, _ := h.Engine.Store().Count(t.Context(), authcore.ModelSession, storage.Eq("userId", userID(up)))
	if after != before {
		t.Fatalf("sessions %d → %d", before, after)
	}
}

func TestOriginRules(t *testing.T) {
	h := newHarness(t, nil)
	up := signUp(t, h, "a@example.com")
	signed := authToken(t, up)
	c := bearerClient(h, signed)
	c.Origin = ""
	// GETs need no Origin.
	if got := sessionEmail(t, c); got != "a@example.com" {
		t.Fatalf("get-session without Origin: %q", got)
	}
	// An ordinary POST carrying only the bearer token passes Better Auth's router-level
	// check, which sees no cookie (spec §4.4): no Origin needed, and a foreign one does not
	// matter either.
	for _, o := range []string{"", "https://evil.example"} {
		r := forget(c).Post(authcore.PathUpdateUser, map[string]any{"name": "V"}, "Origin", o)
		if r.StatusCode != http.StatusOK {
			t.Fatalf("update-user, Origin %q: %d %s", o, r.StatusCode, r.Body)
		}
	}
	// A request that also carries a cookie is a cookie request: Origin required.
	for o, code := range map[string]string{"": "MISSING_OR_NULL_ORIGIN", "https://evil.example": "INVALID_ORIGIN"} {
		r := forget(c).Post(authcore.PathUpdateUser, map[string]any{"name": "W"}, "Origin", o, "Cookie", "theme=dark")
		if r.StatusCode != http.StatusForbidden || r.Code() != code {
			t.Fatalf("update-user with a cookie, Origin %q: %d %s", o, r.StatusCode, r.Body)
		}
	}
	if r := forget(c).Post(authcore.PathUpdateUser, map[string]any{"name": "X"}, "Origin", authcoretest.BaseURL, "Cookie", "theme=dark"); r.StatusCode != http.StatusOK {
		t.Fatalf("update-user with a cookie and Origin: %d %s", r.StatusCode, r.Body)
	}
	// Form-CSRF endpoints see the token as the cookie it has become.
	body := map[string]any{"email": "a@example.com", "password": pw}
	r := forget(c).Post(authcore.PathSignInEmail, body)
	if r.StatusCode != http.StatusForbidden || r.Code() != "MISSING_OR_NULL_ORIGIN" {
		t.Fatalf("sign-in with a bearer token, no Origin: %d %s", r.StatusCode, r.Body)
	}
	r = forget(c).Post(authcore.PathSignInEmail, body, "Origin", "https://evil.example")
	if r.StatusCode != http.StatusForbidden || r.Code() != "INVALID_ORIGIN" {
		t.Fatalf("sign-in with a bearer token, foreign Origin: %d %s", r.StatusCode, r.Body)
	}
	if r := forget(c).Post(authcore.PathSignInEmail, body, "Origin", authcoretest.BaseURL); r.StatusCode != http.StatusOK {
		t.Fatalf("sign-in with a bearer token and Origin: %d %s", r.StatusCode, r.Body)
	}
	// Without the token the same sign-in needs no Origin (no cookie, no fetch metadata).
	plain := h.Client()
	plain.Origin = ""
	if r := plain.Post(authcore.PathSignInEmail, body); r.StatusCode != http.StatusOK {
		t.Fatalf("plain sign-in without Origin: %d %s", r.StatusCode, r.Body)
	}
	// An invalid bearer token adds no cookie and no session.
	bad := bearerClient(h, tamper(signed))
	bad.Origin = ""
	if r := bad.Post(authcore.PathUpdateUser, map[string]any{"name": "Z"}); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("update-user with a bad token: %d %s", r.StatusCode, r.Body)
	}
	u, err := h.Engine.Store().FindOne(t.Context(), authcore.ModelUser, storage.ByID(userID(up)))
	if err != nil || u.String("name") != "X" {
		t.Fatalf("name %q, %v", u.String("name"), err)
	}
}

// forget empties c's cookie jar: a bearer client keeps no cookies (responses that re-issue
// the session cookie would otherwise turn the next request into a cookie request).
func forget(c *authcoretest.Client) *authcoretest.Client {
	c.Jar, _ = cookiejar.New(nil)
	return c
}

// gatewayRequest is a proxied request with an Authorization header and a session cookie
// value (either may be empty).
func gatewayRequest(authz, cookieValue string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "http://app.test/dashboard", nil)
	if authz != "" {
		r.Header.Set("Authorization", authz)
	}
	if cookieValue != "" {
		r.Header.Set("Cookie", "theme=dark; "+cookieSession+"="+cookieValue)
	}
	return r
}

func gatewayRequest2(authz []string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "http://app.test/dashboard", nil)
	r.Header["Authorization"] = authz
	return r
}

func TestGatewayAuthenticate(t *testing.T) {
	h := newHarness(t, nil)
	up := signUp(t, h, "a@example.com")
	signed := authToken(t, up)
	for name, authz := range map[string]string{
		"signed":      "Bearer " + signed,
		"raw":         "Bearer " + bodyToken(up),
		"url-encoded": "bearer " + encodeURIComponent(signed),
	} {
		p, err := h.Engine.Authenticate(gatewayRequest(authz, ""))
		if err != nil || p == nil || p.Method != "bearer" || p.UserID != userID(up) || p.Session == nil || !p.FromAuthorization {
			t.Fatalf("%s: %+v %v", name, p, err)
		}
	}
	// The same session as cookie and bearer: the cookie's principal, but the Authorization
	// header carried a live token too, so the gateway must strip it (HDR-08).
	p, err := h.Engine.Authenticate(gatewayRequest("Bearer "+signed, encodeURIComponent(signed)))
	if err != nil || p == nil || p.Method != "session" || !p.FromAuthorization {
		t.Fatalf("same session as cookie and bearer: %+v %v", p, err)
	}
	if p, _ := h.Engine.Authenticate(gatewayRequest("", encodeURIComponent(signed))); p == nil || p.FromAuthorization {
		t.Fatalf("cookie alone: %+v", p)
	}
	// Not ours: nothing found, no error.
	for name, authz := range map[string]string{
		"jwt":         "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl",
		"basic":       "Basic dXNlcjpwYXNz",
		"unknown raw": "Bearer some-upstream-token",
		"tampered":    "Bearer " + tamper(signed),
		"empty":       "Bearer ",
	} {
		p, err := h.Engine.Authenticate(gatewayRequest(authz, ""))
		if err != nil || p != nil {
			t.Fatalf("%s: %+v %v", name, p, err)
		}
	}
	// A JWT-shaped bearer beside a cookie leaves the cookie's principal alone.
	p, err = h.Engine.Authenticate(gatewayRequest("Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", encodeURIComponent(signed)))
	if err != nil || p == nil || p.Method != "session" || p.FromAuthorization {
		t.Fatalf("jwt + cookie: %+v %v", p, err)
	}
	// A bad signed bearer beside a cookie is refused rather than falling back.
	_, err = h.Engine.Authenticate(gatewayRequest("Bearer "+tamper(signed), encodeURIComponent(signed)))
	if ae := authcore.AsError(err); err == nil || ae.Status != http.StatusUnauthorized {
		t.Fatalf("tampered bearer + cookie: %v", err)
	}
}

func TestGatewayBearerSessionSlides(t *testing.T) {
	h := newHarness(t, nil)
	up := signUp(t, h, "a@example.com")
	signed := authToken(t, up)
	where := storage.Eq("userId", userID(up))
	rec, err := h.Engine.Store().FindOne(t.Context(), authcore.ModelSession, where)
	if err != nil {
		t.Fatal(err)
	}
	exp := rec.Time("expiresAt")
	h.Clock.Advance(25 * time.Hour)
	p, err := h.Engine.Authenticate(gatewayRequest("Bearer "+signed, ""))
	if err != nil || p == nil {
		t.Fatalf("%v %v", p, err)
	}
	rec, err = h.Engine.Store().FindOne(t.Context(), authcore.ModelSession, where)
	if err != nil {
		t.Fatal(err)
	}
	if want := h.Clock.Now().Add(h.Config.Session.ExpiresIn); !rec.Time("expiresAt").Equal(want) || !rec.Time("expiresAt").After(exp) {
		t.Fatalf("expiresAt %v, want %v", rec.Time("expiresAt"), want)
	}
	// After expiry the token is no credential.
	h.Clock.Advance(8 * 24 * time.Hour)
	if p, err := h.Engine.Authenticate(gatewayRequest("Bearer "+signed, "")); err != nil || p != nil {
		t.Fatalf("expired: %+v %v", p, err)
	}
}

func TestCaddyfile(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    bearer.Plugin
		wantErr bool
	}{
		{in: "bearer", want: bearer.Plugin{}},
		{in: "bearer {\n}", want: bearer.Plugin{}},
		{in: "bearer {\n require_signature\n}", want: bearer.Plugin{RequireSignature: true}},
		{in: "bearer {\n require_sig\n}", wantErr: true},
		{in: "bearer {\n require_signature yes\n}", wantErr: true},
		{in: "bearer extra", wantErr: true},
	} {
		var p bearer.Plugin
		err := p.UnmarshalCaddyfile(caddyfile.NewTestDispenser(tc.in))
		if (err != nil) != tc.wantErr {
			t.Fatalf("%q: err %v", tc.in, err)
		}
		if !tc.wantErr && p.RequireSignature != tc.want.RequireSignature {
			t.Fatalf("%q: %+v", tc.in, p)
		}
	}
	if id := (bearer.Plugin{}).CaddyModule().ID; id != "gatehouse.plugins.bearer" {
		t.Fatalf("module id %q", id)
	}
}

// failing sets a live session cookie and then fails, as a handler whose sign-in breaks half
// way would.
type failing struct{ status int }

func (failing) ID() string { return "failing" }

func (f failing) Register(r *authcore.Registrar) error {
	return r.Endpoint(authcore.Endpoint{Method: http.MethodGet, Path: "/test/fail", Handler: func(c *authcore.Call) (any, error) {
		c.SetSignedCookie(authcore.CookieSessionToken, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", time.Hour)
		if f.status >= 500 {
			return nil, authcore.Internal(http.ErrAbortHandler)
		}
		return nil, authcore.CodeBadRequest.With(f.status)
	}})
}

func TestNoTokenOnServerErrors(t *testing.T) {
	h := newHarness(t, nil, failing{status: http.StatusInternalServerError})
	r := h.Client().Get("/test/fail")
	if r.StatusCode != http.StatusInternalServerError || r.Header.Get("set-auth-token") != "" || len(r.Header.Values("Set-Cookie")) != 0 {
		t.Fatalf("5xx: %d %v", r.StatusCode, r.Header)
	}
	// A 4xx keeps the cookie the handler set, and the token matches it.
	h = newHarness(t, nil, failing{status: http.StatusBadRequest})
	r = h.Client().Get("/test/fail")
	if r.StatusCode != http.StatusBadRequest {
		t.Fatalf("4xx: %d", r.StatusCode)
	}
	authToken(t, r)
}
