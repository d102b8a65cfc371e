package sso

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"github.com/gatehouse-auth/gatehouse/internal/dnstest"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/plugins/organization"
	"github.com/gatehouse-auth/gatehouse/storage"
)

const pw = "correct-horse-battery-staple"

// idp is an OpenID provider's discovery endpoint on loopback; doc edits the document.
type idp struct {
	*httptest.Server
	mu     sync.Mutex
	doc    func(issuer string) map[string]any
	status int
}

func startIdP(t *testing.T) *idp {
	t.Helper()
	i := &idp{}
	i.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i.mu.Lock()
		doc, status := i.doc, i.status
		i.mu.Unlock()
		if r.URL.Path != "/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		if status != 0 {
			if status == http.StatusFound {
				http.Redirect(w, r, "https://elsewhere.example/", http.StatusFound)
				return
			}
			w.WriteHeader(status)
			return
		}
		d := map[string]any{
			"issuer": i.URL, "authorization_endpoint": i.URL + "/authorize", "token_endpoint": i.URL + "/token",
			"userinfo_endpoint": i.URL + "/userinfo", "jwks_uri": i.URL + "/jwks",
			"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		}
		if doc != nil {
			d = doc(i.URL)
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(d)
	}))
	t.Cleanup(i.Close)
	return i
}

func (i *idp) set(status int, doc func(string) map[string]any) {
	i.mu.Lock()
	i.status, i.doc = status, doc
	i.mu.Unlock()
}

type env struct {
	t                     *testing.T
	h                     *authcoretest.Harness
	p                     *Plugin
	org                   *organization.Plugin
	dns                   *dnstest.Server
	idp                   *idp
	alice, bob, carol     *authcoretest.Client
	aliceID, bobID, carID string
}

func newEnv(t *testing.T, p *Plugin, withOrg bool) *env {
	t.Helper()
	var org *organization.Plugin
	if withOrg {
		org = &organization.Plugin{}
	}
	return newEnvWith(t, p, org)
}

// newEnvWith builds the environment with the given organization plugin (nil: none).
func newEnvWith(t *testing.T, p *Plugin, org *organization.Plugin) *env {
	t.Helper()
	return newEnvExtra(t, p, org)
}

// newEnvExtra is newEnvWith with more plugins (two-factor) after the sso plugin.
func newEnvExtra(t *testing.T, p *Plugin, org *organization.Plugin, extra ...authcore.Plugin) *env {
	t.Helper()
	if p == nil {
		p = &Plugin{}
	}
	e := &env{t: t, p: p, dns: dnstest.Start(t), idp: startIdP(t)}
	p.Resolver = e.dns.Resolver()
	p.HTTPClient = e.idp.Client()
	plugins := []authcore.Plugin{p}
	if org != nil {
		e.org = org
		plugins = append([]authcore.Plugin{e.org}, plugins...)
	}
	plugins = append(plugins, extra...)
	e.h = authcoretest.New(t, authcoretest.WithPlugins(plugins...))
	var u map[string]any
	e.alice, u = e.h.SignUp("Alice", "alice@example.com", pw)
	e.aliceID = uid(u)
	e.bob, u = e.h.SignUp("Bob", "bob@example.com", pw)
	e.bobID = uid(u)
	e.carol, u = e.h.SignUp("Carol", "carol@example.com", pw)
	e.carID = uid(u)
	return e
}

func uid(signUp map[string]any) string {
	u, _ := signUp["user"].(map[string]any)
	id, _ := u["id"].(string)
	return id
}

func (e *env) ctx() context.Context { return context.Background() }

// oidcBody is a valid OIDC registration against the test IdP.
func (e *env) oidcBody(providerID, domain string) map[string]any {
	return map[string]any{"providerId": providerID, "issuer": e.idp.URL, "domain": domain,
		"oidcConfig": map[string]any{"clientId": "client-123456", "clientSecret": "s3cr3t-value"}}
}

func (e *env) register(c *authcoretest.Client, body map[string]any) *authcoretest.Response {
	return c.Post("/sso/register", body)
}

func (e *env) mustRegister(c *authcoretest.Client, body map[string]any) map[string]any {
	e.t.Helper()
	r := e.register(c, body)
	if r.StatusCode != http.StatusOK {
		e.t.Fatalf("register %v: %d %s", body["providerId"], r.StatusCode, r.Body)
	}
	return r.Object()
}

func (e *env) provider(id string) storage.Record {
	e.t.Helper()
	rec, err := e.p.providerByID(e.ctx(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return rec
}

func (e *env) createOrg(c *authcoretest.Client, slug string) string {
	e.t.Helper()
	r := c.Post("/organization/create", map[string]any{"name": slug, "slug": slug})
	if r.StatusCode != http.StatusOK {
		e.t.Fatalf("create org: %d %s", r.StatusCode, r.Body)
	}
	id, _ := r.Object()["id"].(string)
	return id
}

func (e *env) addMember(orgID, userID, role string) {
	e.t.Helper()
	if _, err := e.org.AddMember(e.ctx(), orgID, userID, []string{role}); err != nil {
		e.t.Fatal(err)
	}
}

// verifyDNS publishes the right TXT record for a provider and verifies it through the API.
func (e *env) verifyDNS(c *authcoretest.Client, providerID, domain string) {
	e.t.Helper()
	r := c.Post("/sso/request-domain-verification", map[string]any{"providerId": providerID})
	if r.StatusCode != http.StatusCreated {
		e.t.Fatalf("request verification: %d %s", r.StatusCode, r.Body)
	}
	tok, _ := r.Object()["domainVerificationToken"].(string)
	e.dns.Set("_better-auth-token-"+providerID+"."+domain, tok)
	if r := c.Post("/sso/verify-domain", map[string]any{"providerId": providerID}); r.StatusCode != http.StatusNoContent {
		e.t.Fatalf("verify: %d %s", r.StatusCode, r.Body)
	}
}

func expect(t *testing.T, r *authcoretest.Response, status int, code, message string) {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", r.StatusCode, status, r.Body)
	}
	if code != "*" && r.Code() != code {
		t.Fatalf("code %q, want %q: %s", r.Code(), code, r.Body)
	}
	if message != "" {
		if m, _ := r.Object()["message"].(string); m != message {
			t.Fatalf("message %q, want %q", m, message)
		}
	}
}

// selfSigned returns a PEM certificate and its SHA-256 fingerprint in Node's form.
func selfSigned(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "idp"},
		NotBefore: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

type (
	authcoretestResponse = authcoretest.Response
	authcoretestClient   = authcoretest.Client
)

// secret is the client secret of a stored OIDC config: it must be stored encrypted (never
// the plain value, never empty) and decrypt with the engine keyring.
func (e *env) secret(c *OIDCConfig) string {
	e.t.Helper()
	if c == nil || c.ClientSecret == "" {
		e.t.Fatal("no stored client secret")
	}
	plain, err := e.h.Engine.Keys().Decrypt(c.ClientSecret)
	if err != nil {
		e.t.Fatalf("stored client secret %q is not keyring ciphertext: %v", c.ClientSecret, err)
	}
	if string(plain) == c.ClientSecret {
		e.t.Fatal("client secret stored in the clear")
	}
	return string(plain)
}
