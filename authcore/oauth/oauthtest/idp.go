// Package oauthtest is a controllable OpenID Connect identity provider for tests, served
// on loopback: discovery, JWKS, an authorization endpoint that redirects straight back with
// a code, and a token endpoint (authorization_code with PKCE, refresh_token) that mints ID
// tokens with go-jose. Tests tamper with the claims or the signature to play a hostile
// IdP (wrong iss/aud/nonce, expired, alg:none, another key).
package oauthtest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// User is who the IdP signs in next.
type User struct {
	Subject       string
	Email         string
	EmailVerified any // JSON value of email_verified (true, false, "false", nil = absent)
	Name          string
}

// IdP is the test identity provider.
type IdP struct {
	Server       *httptest.Server
	ClientID     string
	ClientSecret string
	Key          *rsa.PrivateKey

	mu    sync.Mutex
	user  User
	codes map[string]grant
	// Tamper edits the claims of the next ID tokens before signing.
	Tamper func(claims map[string]any)
	// SignNone serves unsigned ID tokens (alg:none).
	SignNone bool
	// SignWith signs with another key (not in the JWKS).
	SignWith *rsa.PrivateKey
	// IssuerValue replaces the issuer in discovery and minted tokens (default: the URL).
	IssuerValue string
	// DiscoveryHits counts discovery requests.
	DiscoveryHits int
	// Refreshes counts refresh_token grants; RefreshedAccess is the access token they issue.
	Refreshes int
	counter   int
}

type grant struct {
	nonce, challenge, redirect string
	user                       User
}

// New starts an IdP; it is closed when the test ends.
func New(t testing.TB) *IdP {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &IdP{ClientID: "client-" + t.Name(), ClientSecret: "secret", Key: key, codes: map[string]grant{},
		user: User{Subject: "sub-1", Email: "idp@example.com", EmailVerified: true, Name: "IdP User"}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /jwks", p.jwks)
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	mux.HandleFunc("GET /userinfo", p.userinfo)
	p.Server = httptest.NewServer(mux)
	t.Cleanup(p.Server.Close)
	return p
}

// Issuer is the IdP's issuer URL.
func (p *IdP) Issuer() string { return p.Server.URL }

// Hits is the number of discovery requests so far.
func (p *IdP) Hits() int { p.mu.Lock(); defer p.mu.Unlock(); return p.DiscoveryHits }

// Configure changes the IdP's behaviour (Tamper, SignNone, SignWith, IssuerValue) while it
// serves, under its lock.
func (p *IdP) Configure(f func(*IdP)) { p.mu.Lock(); f(p); p.mu.Unlock() }

// RefreshCount is the number of refresh_token grants served.
func (p *IdP) RefreshCount() int { p.mu.Lock(); defer p.mu.Unlock(); return p.Refreshes }

// SetUser sets who signs in next.
func (p *IdP) SetUser(u User) { p.mu.Lock(); p.user = u; p.mu.Unlock() }

func (p *IdP) discovery(w http.ResponseWriter, _ *http.Request) {
	b := p.Server.URL
	p.mu.Lock()
	p.DiscoveryHits++
	iss := p.issuer()
	p.mu.Unlock()
	writeJSON(w, map[string]any{"issuer": iss, "authorization_endpoint": b + "/authorize", "token_endpoint": b + "/token",
		"jwks_uri": b + "/jwks", "userinfo_endpoint": b + "/userinfo", "response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"}})
}

func (p *IdP) jwks(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &p.Key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
}

func (p *IdP) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != p.ClientID || q.Get("response_type") != "code" {
		http.Error(w, "bad request", 400)
		return
	}
	p.mu.Lock()
	p.counter++
	code := fmt.Sprintf("code-%d", p.counter)
	p.codes[code] = grant{nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri"), user: p.user}
	p.mu.Unlock()
	u, _ := url.Parse(q.Get("redirect_uri"))
	v := u.Query()
	v.Set("code", code)
	v.Set("state", q.Get("state"))
	u.RawQuery = v.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

func (p *IdP) token(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != p.ClientID || secret != p.ClientSecret {
		w.WriteHeader(401)
		writeJSON(w, map[string]string{"error": "invalid_client"})
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		g, ok := p.codes[r.PostForm.Get("code")]
		delete(p.codes, r.PostForm.Get("code"))
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		if !ok || g.redirect != r.PostForm.Get("redirect_uri") || (g.challenge != "" && base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge) {
			w.WriteHeader(400)
			writeJSON(w, map[string]string{"error": "invalid_grant"})
			return
		}
		writeJSON(w, map[string]any{"access_token": "access-" + g.user.Subject, "refresh_token": "refresh-" + g.user.Subject,
			"token_type": "Bearer", "expires_in": 3600, "scope": "openid email profile", "id_token": p.mint(g.user, g.nonce)})
	case "refresh_token":
		p.Refreshes++
		writeJSON(w, map[string]any{"access_token": fmt.Sprintf("refreshed-%d", p.Refreshes), "token_type": "Bearer",
			"expires_in": 3600, "refresh_token": fmt.Sprintf("refresh2-%d", p.Refreshes)})
	default:
		w.WriteHeader(400)
		writeJSON(w, map[string]string{"error": "unsupported_grant_type"})
	}
}

// userinfo answers for the access token "access-<sub>" of the current user.
func (p *IdP) userinfo(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	u := p.user
	p.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer access-"+u.Subject && !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer refreshed-") {
		w.WriteHeader(401)
		return
	}
	writeJSON(w, map[string]any{"sub": u.Subject, "email": u.Email, "email_verified": u.EmailVerified, "name": u.Name})
}

// IDToken mints an ID token for u with the current Tamper/SignNone/SignWith settings.
func (p *IdP) IDToken(u User, nonce string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mint(u, nonce)
}

func (p *IdP) mint(u User, nonce string) string {
	now := time.Now()
	c := map[string]any{"iss": p.issuer(), "aud": p.ClientID, "sub": u.Subject, "iat": now.Unix(),
		"exp": now.Add(time.Hour).Unix(), "name": u.Name}
	if nonce != "" {
		c["nonce"] = nonce
	}
	if u.Email != "" {
		c["email"] = u.Email
	}
	if u.EmailVerified != nil {
		c["email_verified"] = u.EmailVerified
	}
	if p.Tamper != nil {
		p.Tamper(c)
	}
	payload, _ := json.Marshal(c)
	if p.SignNone {
		h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT","kid":"k1"}`))
		return h + "." + base64.RawURLEncoding.EncodeToString(payload) + "."
	}
	key := p.Key
	if p.SignWith != nil {
		key = p.SignWith
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
	if err != nil {
		panic(err)
	}
	obj, err := s.Sign(payload)
	if err != nil {
		panic(err)
	}
	out, _ := obj.CompactSerialize()
	return out
}

func (p *IdP) issuer() string {
	if p.IssuerValue != "" {
		return p.IssuerValue
	}
	return p.Server.URL
}

func writeJSON(w http.ResponseWriter, v any) {
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	_ = json.NewEncoder(w).Encode(v)
}

// Follow is a helper for plain-HTTP tests: it GETs an authorization URL without following
// the redirect and returns the Location it answers.
func Follow(t testing.TB, authURL string) *url.URL {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(resp.Status, "302") {
		t.Fatalf("authorize: %s %v", resp.Status, err)
	}
	return loc
}
