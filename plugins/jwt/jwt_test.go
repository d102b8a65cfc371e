package jwtplugin

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/storage"
)

const origin = authcoretest.BaseURL // http://localhost:3000, no path: the issuer and audience

func setup(t *testing.T, p *Plugin, opts ...authcoretest.Option) (*authcoretest.Harness, *Plugin) {
	t.Helper()
	if p == nil {
		p = &Plugin{}
	}
	h := authcoretest.New(t, append([]authcoretest.Option{authcoretest.WithPlugins(p)}, opts...)...)
	api, ok := h.Engine.Plugin(ID)
	if !ok || api.(*Plugin) != p {
		t.Fatalf("Go API not published: %T", api)
	}
	return h, p
}

// fetchJWKS reads /jwks as an independent verifier would.
func fetchJWKS(t *testing.T, h *authcoretest.Harness, path string) (jose.JSONWebKeySet, []map[string]any) {
	t.Helper()
	r := h.Client().Get(path)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("%s: %d %s", path, r.StatusCode, r.Body)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(r.Body, &set); err != nil {
		t.Fatalf("JWKS does not parse: %v %s", err, r.Body)
	}
	var raw struct{ Keys []map[string]any }
	json.Unmarshal(r.Body, &raw)
	return set, raw.Keys
}

// independentVerify checks a token with golang-jwt against the JWK /jwks publishes for its
// kid, with Better Auth's checks, and returns the header and claims.
func independentVerify(t *testing.T, h *authcoretest.Harness, tok string) (map[string]any, jwt.MapClaims) {
	t.Helper()
	set, _ := fetchJWKS(t, h, "/jwks")
	claims := jwt.MapClaims{}
	parsed, err := jwt.NewParser(
		jwt.WithValidMethods([]string{"EdDSA", "ES256", "RS256"}),
		jwt.WithTimeFunc(h.Clock.Now), jwt.WithIssuer(origin), jwt.WithAudience(origin), jwt.WithExpirationRequired(),
	).ParseWithClaims(tok, claims, func(tk *jwt.Token) (any, error) {
		kid, _ := tk.Header["kid"].(string)
		keys := set.Key(kid)
		if len(keys) != 1 {
			return nil, errors.New("kid not in JWKS")
		}
		if keys[0].Algorithm != tk.Method.Alg() {
			return nil, errors.New("alg mismatch")
		}
		return keys[0].Key, nil
	})
	if err != nil {
		t.Fatalf("independent verification failed: %v", err)
	}
	return parsed.Header, claims
}

func signUp(t *testing.T, h *authcoretest.Harness) (*authcoretest.Client, map[string]any) {
	t.Helper()
	c, body := h.SignUp("Ada", "ada@example.com", "correct horse battery")
	return c, body["user"].(map[string]any)
}

func getToken(t *testing.T, c *authcoretest.Client) string {
	t.Helper()
	r := c.Get(PathToken)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("/token: %d %s", r.StatusCode, r.Body)
	}
	obj := r.Object()
	tok, _ := obj["token"].(string)
	if len(obj) != 1 || tok == "" {
		t.Fatalf("/token body %s", r.Body)
	}
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("/token Cache-Control %q", r.Header.Get("Cache-Control"))
	}
	return tok
}

// /token's JWT verifies against /jwks with an independent verifier, with exactly Better
// Auth's header and claims.
func TestTokenVerifiesAgainstJWKS(t *testing.T) {
	for _, alg := range []string{"", AlgES256, AlgRS256} {
		t.Run("alg="+alg, func(t *testing.T) {
			h, _ := setup(t, &Plugin{Algorithm: alg})
			c, user := signUp(t, h)
			h.Clock.Advance(90 * time.Second)
			tok := getToken(t, c)
			hdr, claims := independentVerify(t, h, tok)
			want := alg
			if want == "" {
				want = AlgEdDSA
			}
			_, keys := fetchJWKS(t, h, "/jwks")
			if len(keys) != 1 {
				t.Fatalf("JWKS %v", keys)
			}
			if !reflect.DeepEqual(hdr, map[string]any{"alg": want, "kid": keys[0]["kid"]}) {
				t.Fatalf("header %v", hdr)
			}
			var fields []string
			for k := range keys[0] {
				fields = append(fields, k)
			}
			sort.Strings(fields)
			wantFields := map[string]string{
				AlgEdDSA: "alg crv kid kty x", AlgES256: "alg crv kid kty x y", AlgRS256: "alg e kid kty n",
			}[want]
			if strings.Join(fields, " ") != wantFields || keys[0]["alg"] != want {
				t.Fatalf("JWK %v", keys[0])
			}
			if want == AlgEdDSA && (keys[0]["kty"] != "OKP" || keys[0]["crv"] != "Ed25519") {
				t.Fatalf("JWK %v", keys[0])
			}
			now := float64(h.Clock.Now().Unix())
			wantClaims := map[string]any{}
			for k, v := range user {
				wantClaims[k] = v
			}
			wantClaims["iat"], wantClaims["exp"] = now, now+900
			wantClaims["sub"], wantClaims["iss"], wantClaims["aud"] = user["id"], origin, origin
			if !reflect.DeepEqual(map[string]any(claims), wantClaims) {
				t.Fatalf("claims\n got %v\nwant %v", claims, wantClaims)
			}
		})
	}
}

func TestTokenNeedsSession(t *testing.T) {
	h, _ := setup(t, nil)
	r := h.Client().Get(PathToken)
	if r.StatusCode != http.StatusUnauthorized || r.Code() != "UNAUTHORIZED" {
		t.Fatalf("%d %s", r.StatusCode, r.Body)
	}
}

func TestGetSessionSetsJWTHeader(t *testing.T) {
	h, _ := setup(t, nil)
	c, user := signUp(t, h)
	// Without an Origin header, so the header is the hook's and not the CORS answer's.
	r := c.Get(authcore.PathGetSession, "Origin", "")
	tok := r.Header.Get(HeaderSetAuthJWT)
	if r.StatusCode != http.StatusOK || tok == "" {
		t.Fatalf("%d %v", r.StatusCode, r.Header)
	}
	if got := r.Header.Get("Access-Control-Expose-Headers"); got != "set-auth-jwt" {
		t.Fatalf("Access-Control-Expose-Headers %q", got)
	}
	_, claims := independentVerify(t, h, tok)
	if claims["sub"] != user["id"] || claims["email"] != "ada@example.com" {
		t.Fatalf("claims %v", claims)
	}
	// A trusted cross-origin caller gets it exposed too.
	r = c.Get(authcore.PathGetSession)
	if r.Header.Get(HeaderSetAuthJWT) == "" || !strings.Contains(r.Header.Get("Access-Control-Expose-Headers"), "set-auth-jwt") {
		t.Fatalf("CORS answer %v", r.Header)
	}
	// No session: null, no token.
	r = h.Client().Get(authcore.PathGetSession, "Origin", "")
	if r.StatusCode != http.StatusOK || string(r.Body) != "null" || r.Header.Get(HeaderSetAuthJWT) != "" {
		t.Fatalf("anonymous get-session: %d %s %v", r.StatusCode, r.Body, r.Header)
	}
}

func TestDisableSettingJWTHeader(t *testing.T) {
	h, _ := setup(t, &Plugin{DisableSettingJWTHeader: true})
	c, _ := signUp(t, h)
	r := c.Get(authcore.PathGetSession, "Origin", "")
	if r.StatusCode != http.StatusOK || r.Header.Get(HeaderSetAuthJWT) != "" || r.Header.Get("Access-Control-Expose-Headers") != "" {
		t.Fatalf("%d %v", r.StatusCode, r.Header)
	}
	getToken(t, c) // /token still works
}

func TestJWKSPathOption(t *testing.T) {
	h, _ := setup(t, &Plugin{JWKSPath: "/.well-known/jwks.json"})
	if r := h.Client().Get("/jwks"); r.StatusCode != http.StatusNotFound {
		t.Fatalf("/jwks still served: %d", r.StatusCode)
	}
	set, _ := fetchJWKS(t, h, "/.well-known/jwks.json")
	if len(set.Keys) != 1 {
		t.Fatalf("keys %v", set.Keys)
	}
}

func countKeys(t *testing.T, h *authcoretest.Harness) int {
	t.Helper()
	n, err := h.Engine.Store().Count(context.Background(), ModelJWKS, storage.Where{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Twenty first requests racing on an empty key table create exactly one key, on two engines
// sharing nothing but storage as well as within one.
func TestLazyKeyCreationRace(t *testing.T) {
	for _, bolt := range []bool{false, true} {
		t.Run(map[bool]string{false: "memory", true: "bolt"}[bolt], func(t *testing.T) {
			var opts []authcoretest.Option
			if bolt {
				opts = append(opts, authcoretest.WithBolt())
			}
			h, p := setup(t, nil, opts...)
			c, _ := signUp(t, h)
			if n := countKeys(t, h); n != 0 {
				t.Fatalf("%d keys before first use", n)
			}
			// Besides 20 requests through the engine, 20 more plugin instances on the same
			// storage stand for other nodes' caches: only the storage transaction keeps them
			// from each creating a key. All start together.
			start := make(chan struct{})
			var wg sync.WaitGroup
			kids := make(chan string, 40)
			for i := 0; i < 20; i++ {
				wg.Add(2)
				go func() {
					defer wg.Done()
					<-start
					r := c.Get(PathToken)
					if r.StatusCode != http.StatusOK {
						t.Errorf("/token %d %s", r.StatusCode, r.Body)
						return
					}
					tok, _ := r.Object()["token"].(string)
					parsed, _, err := jwt.NewParser().ParseUnverified(tok, jwt.MapClaims{})
					if err != nil {
						t.Error(err)
						return
					}
					kids <- parsed.Header["kid"].(string)
				}()
				other := &Plugin{engine: p.engine}
				other.applyDefaults()
				go func() {
					defer wg.Done()
					<-start
					k, err := other.signer(context.Background())
					if err != nil {
						t.Error(err)
						return
					}
					kids <- k.id
				}()
			}
			close(start)
			wg.Wait()
			close(kids)
			seen := map[string]bool{}
			for k := range kids {
				seen[k] = true
			}
			if n := countKeys(t, h); n != 1 || len(seen) != 1 {
				t.Fatalf("%d keys stored, %d kids used", n, len(seen))
			}
		})
	}
}

func TestPrivateKeyEncryptedAtRest(t *testing.T) {
	for _, plain := range []bool{false, true} {
		h, _ := setup(t, &Plugin{DisablePrivateKeyEncryption: plain})
		fetchJWKS(t, h, "/jwks")
		rec, err := h.Engine.Store().FindOne(context.Background(), ModelJWKS, storage.Where{})
		if err != nil {
			t.Fatal(err)
		}
		stored := rec.String(FieldPrivateKey)
		var jwk jose.JSONWebKey
		if plain {
			if err := jwk.UnmarshalJSON([]byte(stored)); err != nil || jwk.IsPublic() {
				t.Fatalf("plain private key %q: %v", stored, err)
			}
			continue
		}
		if strings.Contains(stored, `"d"`) || strings.Contains(stored, "{") || json.Valid([]byte(stored)) {
			t.Fatalf("private key stored in clear: %q", stored)
		}
		dec, err := h.Engine.Keys().Decrypt(stored)
		if err != nil {
			t.Fatal(err)
		}
		if err := jwk.UnmarshalJSON(dec); err != nil || jwk.IsPublic() {
			t.Fatalf("decrypted private key: %v", err)
		}
		priv := jwk.Key.(ed25519.PrivateKey)
		d := base64.RawURLEncoding.EncodeToString(priv.Seed())
		if strings.Contains(stored, d) {
			t.Fatal("seed visible in storage")
		}
		// Not in the public key either, nor in the JWKS answer.
		if strings.Contains(rec.String(FieldPublicKey), d) || strings.Contains(string(h.Client().Get("/jwks").Body), d) {
			t.Fatal("seed published")
		}
	}
}

// gateway runs the engine's gateway authentication with an Authorization header.
func gateway(h *authcoretest.Harness, auth string) (*authcore.Principal, error) {
	r := httptest.NewRequest(http.MethodGet, "http://app.test/dashboard", nil)
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	return h.Engine.Authenticate(r)
}

func wantRefused(t *testing.T, h *authcoretest.Harness, name, tok string) {
	t.Helper()
	p, err := gateway(h, "Bearer "+tok)
	var ae *authcore.Error
	if p != nil || !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized || ae.Code != "UNAUTHORIZED" {
		t.Fatalf("%s: principal %v, error %v; want 401", name, p, err)
	}
}

// signRaw signs claims with the plugin's current private key and a chosen header.
func signRaw(t *testing.T, p *Plugin, header map[string]any, claims jwt.MapClaims) string {
	t.Helper()
	k, err := p.signer(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	tk := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	tk.Header = map[string]any{"alg": "EdDSA", "kid": k.id}
	for n, v := range header {
		tk.Header[n] = v
	}
	s, err := tk.SignedString(k.key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestGatewayAuthenticator(t *testing.T) {
	h, p := setup(t, nil)
	c, user := signUp(t, h)
	tok := getToken(t, c)
	now := h.Clock.Now().Unix()
	uid := user["id"].(string)

	pr, err := gateway(h, "Bearer "+tok)
	if err != nil || pr == nil || pr.Method != "jwt" || pr.UserID != uid || pr.User.String("email") != "ada@example.com" || pr.Session != nil {
		t.Fatalf("valid token: %+v %v", pr, err)
	}
	// Not JWT-shaped: not this authenticator's credential (the bearer plugin's to take).
	for _, v := range []string{"Bearer abc.def", "Bearer opaque-api-key", "Basic " + tok, "Bearer a.b.c.d", "Bearer a.b+c.d"} {
		if pr, err := gateway(h, v); pr != nil || err != nil {
			t.Fatalf("%q: %+v %v", v, pr, err)
		}
	}

	good := jwt.MapClaims{"sub": uid, "iss": origin, "aud": origin, "iat": now, "exp": now + 600}
	with := func(k string, v any) jwt.MapClaims {
		c := jwt.MapClaims{}
		for n, x := range good {
			c[n] = x
		}
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	// The raw signer itself is accepted, so each refusal below is for its one difference.
	if pr, err := gateway(h, "Bearer "+signRaw(t, p, nil, good)); err != nil || pr.UserID != uid {
		t.Fatalf("control token refused: %v", err)
	}
	k, _ := p.signer(context.Background())
	pubJSON, _ := h.Engine.Store().FindOne(context.Background(), ModelJWKS, storage.ByID(k.id))

	none := jwt.NewWithClaims(jwt.SigningMethodNone, good)
	none.Header["kid"] = k.id
	noneTok, _ := none.SignedString(jwt.UnsafeAllowNoneSignatureType)
	wantRefused(t, h, "alg none", noneTok)

	for name, secret := range map[string][]byte{
		"HS256 with raw public key": []byte(k.key.Public().(ed25519.PublicKey)),
		"HS256 with public JWK":     []byte(pubJSON.String(FieldPublicKey)),
	} {
		hs := jwt.NewWithClaims(jwt.SigningMethodHS256, good)
		hs.Header["kid"] = k.id
		hsTok, _ := hs.SignedString(secret)
		wantRefused(t, h, name, hsTok)
	}
	wantRefused(t, h, "not yet valid", signRaw(t, p, nil, with("nbf", now+60)))
	wantRefused(t, h, "wrong audience", signRaw(t, p, nil, with("aud", "https://other.example")))
	wantRefused(t, h, "wrong issuer", signRaw(t, p, nil, with("iss", "https://evil.example")))
	wantRefused(t, h, "no exp", signRaw(t, p, nil, with("exp", nil)))
	wantRefused(t, h, "no sub", signRaw(t, p, nil, with("sub", nil)))
	wantRefused(t, h, "unknown kid", signRaw(t, p, map[string]any{"kid": "nope"}, good))
	wantRefused(t, h, "no kid", signRaw(t, p, map[string]any{"kid": nil}, good))
	for _, typ := range []string{"gatehouse-id+jwt", "application/gatehouse-id+jwt", "Gatehouse-ID+JWT"} {
		wantRefused(t, h, "typ "+typ, signRaw(t, p, map[string]any{"typ": typ}, good))
	}
	// Signed by another Ed25519 key under the real kid.
	_, otherKey, _ := ed25519.GenerateKey(nil)
	forged := jwt.NewWithClaims(jwt.SigningMethodEdDSA, good)
	forged.Header["kid"] = k.id
	forgedTok, _ := forged.SignedString(otherKey)
	wantRefused(t, h, "foreign key", forgedTok)
	// Tampered payload: another user's id, original signature.
	parts := strings.Split(tok, ".")
	var claims map[string]any
	b, _ := base64.RawURLEncoding.DecodeString(parts[1])
	json.Unmarshal(b, &claims)
	claims["sub"], claims["role"] = "someone-else", "admin"
	b, _ = json.Marshal(claims)
	wantRefused(t, h, "tampered payload", parts[0]+"."+base64.RawURLEncoding.EncodeToString(b)+"."+parts[2])
	wantRefused(t, h, "garbage", "eyJhbGciOiJFZERTQSJ9.e30.AAAA")

	// nbf passes once its time comes.
	nbfTok := signRaw(t, p, nil, with("nbf", now+60))
	h.Clock.Advance(61 * time.Second)
	if pr, err := gateway(h, "Bearer "+nbfTok); err != nil || pr == nil {
		t.Fatalf("nbf reached: %v", err)
	}
	// Expiry: /token's JWT dies 15 minutes after iat.
	h.Clock.Advance(15*time.Minute - 62*time.Second)
	if pr, err := gateway(h, "Bearer "+tok); err != nil || pr == nil {
		t.Fatalf("refused before exp: %v", err)
	}
	h.Clock.Advance(2 * time.Second)
	wantRefused(t, h, "expired", tok)
}

// A valid JWT of a user deleted since is refused: the principal is the stored user, read
// at each request.
func TestGatewayDeletedUser(t *testing.T) {
	h, _ := setup(t, nil)
	c, user := signUp(t, h)
	tok := getToken(t, c)
	if err := h.Engine.Store().Delete(context.Background(), authcore.ModelUser, storage.ByID(user["id"].(string))); err != nil {
		t.Fatal(err)
	}
	wantRefused(t, h, "deleted user", tok)
}

func TestRotation(t *testing.T) {
	h, p := setup(t, &Plugin{RotationInterval: authcore.Duration(time.Hour), GracePeriod: authcore.Duration(24 * time.Hour),
		ExpirationTime: authcore.Duration(72 * time.Hour)})
	c, _ := signUp(t, h)
	old := getToken(t, c)
	oldKid := kidOf(t, old)
	rec, _ := h.Engine.Store().FindOne(context.Background(), ModelJWKS, storage.ByID(oldKid))
	if !rec.Time(FieldExpiresAt).Equal(h.Clock.Now().Add(time.Hour)) {
		t.Fatalf("expiresAt %v", rec.Time(FieldExpiresAt))
	}

	// Past the rotation interval: a new key signs, the old one still verifies.
	h.Clock.Advance(time.Hour + time.Second)
	fresh := getToken(t, c)
	if kidOf(t, fresh) == oldKid {
		t.Fatal("no rotation")
	}
	set, _ := fetchJWKS(t, h, "/jwks")
	if len(set.Keys) != 2 || len(set.Key(oldKid)) != 1 {
		t.Fatalf("JWKS during grace: %v", set.Keys)
	}
	for _, tk := range []string{old, fresh} {
		if pr, err := gateway(h, "Bearer "+tk); err != nil || pr == nil {
			t.Fatalf("refused during grace: %v", err)
		}
		if _, err := p.VerifyJWT(context.Background(), tk); err != nil {
			t.Fatal(err)
		}
	}

	// Past expiresAt + grace: the old key is gone from the JWKS and verifies nothing, though
	// the token itself has not expired.
	h.Clock.Advance(24 * time.Hour)
	wantRefused(t, h, "retired key", old)
	if _, err := p.VerifyJWT(context.Background(), old); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("VerifyJWT: %v", err)
	}
	set, _ = fetchJWKS(t, h, "/jwks")
	if len(set.Key(oldKid)) != 0 {
		t.Fatalf("retired key still published: %v", set.Keys)
	}
	if pr, err := gateway(h, "Bearer "+fresh); err != nil || pr == nil {
		t.Fatalf("second key, in its grace: %v", err)
	}
}

func kidOf(t *testing.T, tok string) string {
	t.Helper()
	parsed, _, err := jwt.NewParser().ParseUnverified(tok, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	return parsed.Header["kid"].(string)
}

// The server-only Go API: SignJWT fills exp, iss and aud; VerifyJWT returns the claims.
func TestGoAPI(t *testing.T) {
	h, _ := setup(t, &Plugin{Issuer: "https://issuer.example", Audience: "api://gatehouse", ExpirationTime: authcore.Duration(time.Minute)})
	api, _ := h.Engine.Plugin(ID)
	p := api.(*Plugin)
	ctx := context.Background()
	in := map[string]any{"sub": "u1", "scope": "read"}
	tok, err := p.SignJWT(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if len(in) != 2 {
		t.Fatal("claims modified")
	}
	claims, err := p.VerifyJWT(ctx, tok)
	now := float64(h.Clock.Now().Unix())
	want := map[string]any{"sub": "u1", "scope": "read", "exp": now + 60, "iss": "https://issuer.example", "aud": "api://gatehouse"}
	if err != nil || !reflect.DeepEqual(claims, want) {
		t.Fatalf("%v %v", claims, err)
	}
	// The configured issuer and audience are the ones required.
	other, _ := p.SignJWT(ctx, map[string]any{"sub": "u1", "aud": origin})
	if _, err := p.VerifyJWT(ctx, other); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("default audience accepted: %v", err)
	}
	// /token uses them too.
	c, _ := signUp(t, h)
	tc, err := p.VerifyJWT(ctx, getToken(t, c))
	if err != nil || tc["iss"] != "https://issuer.example" || tc["aud"] != "api://gatehouse" {
		t.Fatalf("%v %v", tc, err)
	}
	h.Clock.Advance(2 * time.Minute)
	if _, err := p.VerifyJWT(ctx, tok); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("expired: %v", err)
	}
}

func TestRegisterRefusesBadOptions(t *testing.T) {
	for _, p := range []*Plugin{
		{Algorithm: "HS256"}, {Algorithm: "none"}, {JWKSPath: "jwks"}, {JWKSPath: "/a/../b"},
		{ExpirationTime: authcore.Duration(time.Millisecond)}, {GracePeriod: -1}, {Issuer: "a\nb"},
	} {
		if err := p.validate(); err == nil {
			t.Fatalf("%+v accepted", p)
		}
	}
}

// With the session cookie cache on, /get-session answered from session_data still carries
// a JWT for the same user.
func TestGetSessionHeaderFromCookieCache(t *testing.T) {
	h, _ := setup(t, nil, authcoretest.WithConfig(func(c *authcore.Config) { c.Session.CookieCache = 5 * time.Minute }))
	c, user := signUp(t, h)
	c.Get(authcore.PathGetSession) // sets session_data
	for i := 0; i < 2; i++ {
		r := c.Get(authcore.PathGetSession, "Origin", "")
		tok := r.Header.Get(HeaderSetAuthJWT)
		if r.StatusCode != http.StatusOK || tok == "" {
			t.Fatalf("%d %v", r.StatusCode, r.Header)
		}
		if _, claims := independentVerify(t, h, tok); claims["sub"] != user["id"] || claims["email"] != user["email"] {
			t.Fatalf("claims %v", claims)
		}
	}
}

// Hostile bearer values never reach a 500 and never authenticate.
func TestGatewayHostileInput(t *testing.T) {
	h, _ := setup(t, nil)
	signUp(t, h)
	for _, v := range []string{
		"Bearer a.b.c", "Bearer e30.e30.e30", "Bearer eyJhbGciOiJub25lIn0.e30.",
		"Bearer " + strings.Repeat("A", 5000) + ".e30.AA", "Bearer " + strings.Repeat("A", 20000) + ".B.C",
		"Bearer eyJhbGciOiJFZERTQSIsImtpZCI6MX0.e30.AA", // kid of the wrong type
	} {
		p, err := gateway(h, v)
		if p != nil {
			t.Fatalf("%.40q authenticated", v)
		}
		if err != nil && authcore.AsError(err).Status != http.StatusUnauthorized {
			t.Fatalf("%.40q: %v", v, err)
		}
	}
}
