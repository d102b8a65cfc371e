package sso

import (
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/crewjam/saml"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/plugins/organization"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// samlEnv: organization "company" whose admin registered the SAML provider "acme" (crewjam's
// IdentityProvider on loopback, told about the SP through GET /sso/saml2/sp/metadata) for
// company.com, domain verified.
type samlEnv struct {
	*env
	ti    *samlTestIdP
	orgID string
}

const samlEntity = authcoretest.BaseURL + "/api/auth/sso/saml2/sp/metadata?providerId=acme"

func newSAMLEnv(t *testing.T, p *Plugin, mapping map[string]any) *samlEnv {
	t.Helper()
	e := newEnvExtra(t, p, &organization.Plugin{})
	s := &samlEnv{env: e, ti: samlNewTestIdP(t, &samlTestClock{t: e.h.Clock.Now()})}
	s.orgID = e.createOrg(e.alice, "company")
	cfg := map[string]any{"idpMetadata": map[string]any{"metadata": s.ti.metadataXML(t)}, "wantAssertionsSigned": true}
	if mapping != nil {
		cfg["mapping"] = mapping
	}
	e.mustRegister(e.alice, map[string]any{"providerId": "acme", "issuer": samlEntity, "domain": "company.com",
		"organizationId": s.orgID, "samlConfig": cfg})
	e.verifyDNS(e.alice, "acme", "company.com")
	// The IdP learns the SP from its metadata endpoint.
	r := e.h.Client().Get("/sso/saml2/sp/metadata?providerId=acme")
	if r.StatusCode != http.StatusOK || r.Header.Get("Content-Type") != "application/xml" {
		t.Fatalf("SP metadata: %d %s", r.StatusCode, r.Body)
	}
	var ed saml.EntityDescriptor
	if err := xml.Unmarshal(r.Body, &ed); err != nil {
		t.Fatal(err)
	}
	if ed.EntityID != samlEntity || len(ed.SPSSODescriptors) != 1 ||
		ed.SPSSODescriptors[0].AssertionConsumerServices[0].Location != authcoretest.BaseURL+"/api/auth/sso/saml2/sp/acs/acme" {
		t.Fatalf("SP metadata: %s", r.Body)
	}
	s.ti.mu.Lock()
	s.ti.sps[ed.EntityID] = &ed
	s.ti.session.NameIDFormat = string(saml.PersistentNameIDFormat)
	s.ti.session.NameID = "alice-at-idp"
	s.ti.session.CustomAttributes = []saml.Attribute{samlTestAttr("email", "alice@company.com"),
		samlTestAttr("givenName", "Alice"), samlTestAttr("surname", "Corp")}
	s.ti.mu.Unlock()
	return s
}

// idpPost starts the flow in browser c and returns the IdP's auto-post form fields.
func (s *samlEnv) idpPost(c *authcoretest.Client, body map[string]any) url.Values {
	s.t.Helper()
	u := s.startSSO(c, body)
	if !strings.HasPrefix(u, s.ti.srv.URL+"/sso?") {
		s.t.Fatalf("SAML sign-in URL %s", u)
	}
	resp, err := http.Get(u)
	if err != nil {
		s.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		s.t.Fatalf("IdP: %d %s", resp.StatusCode, b)
	}
	f := samlFormValues(s.t, string(b))
	if f["SAMLResponse"] == "" || f["RelayState"] == "" {
		s.t.Fatalf("IdP form %s", b)
	}
	return url.Values{"SAMLResponse": {f["SAMLResponse"]}, "RelayState": {f["RelayState"]}}
}

// acs posts the form as the IdP's page does: cross-site, so without the browser's
// SameSite=Lax cookies (a fresh client).
func (s *samlEnv) acs(form url.Values) *authcoretest.Response {
	s.t.Helper()
	return s.h.Client().Do(http.MethodPost, "/sso/saml2/sp/acs/acme", form.Encode(),
		"Content-Type", "application/x-www-form-urlencoded", "Origin", s.ti.srv.URL)
}

// The SAML scenario end to end: /sign-in/sso → IdP (signed AuthnRequest, Redirect binding)
// → cross-site POST to the ACS (verified without the state cookie) → same-site GET (state
// taken in the starting browser) → session, user, membership. A replayed SAMLResponse is
// refused before and after the GET, and no second session appears.
func TestSSOSignInSAML(t *testing.T) {
	s := newSAMLEnv(t, nil, nil)
	c := s.h.Client()
	form := s.idpPost(c, map[string]any{"email": "alice@company.com", "callbackURL": "/dashboard"})
	r := s.acs(form)
	next := location(t, r)
	if !strings.HasPrefix(next, authcoretest.BaseURL+"/api/auth/sso/saml2/sp/acs/acme?") {
		t.Fatalf("ACS POST → %s", next)
	}
	// The same response posted again before the browser arrived: the assertion is spent.
	if code := redirectErr(t, s.acs(form)); code != SAMLCodeReplay {
		t.Fatalf("replay before GET: %q", code)
	}
	before := s.sessions()
	nu, _ := url.Parse(next)
	if l := location(t, c.Get(s.toApp(nu))); l != authcoretest.BaseURL+"/dashboard" {
		t.Fatalf("ACS GET → %s", l)
	}
	su := sessionUser(c)
	if su["email"] != "alice@company.com" || su["name"] != "Alice Corp" {
		t.Fatalf("session user %v", su)
	}
	uid, _ := su["id"].(string)
	if m := s.membership(s.orgID, uid); m == nil || m.String("role") != "member" {
		t.Fatalf("membership %v", m)
	}
	accts, _ := s.h.Engine.Store().FindMany(s.ctx(), authcore.ModelAccount, storage.Query{Where: storage.Eq("providerId", "acme")})
	if len(accts) != 1 || accts[0].String("accountId") != "alice-at-idp" {
		t.Fatalf("accounts %v", accts)
	}
	// Replays after the sign-in, and a second GET of the handle URL: nothing new.
	if code := redirectErr(t, s.acs(form)); code == "" {
		t.Fatal("replay after GET accepted")
	}
	if code := redirectErr(t, c.Get(s.toApp(nu))); code == "" {
		t.Fatal("second GET accepted")
	}
	if s.sessions() != before+1 {
		t.Fatalf("%d sessions, want %d", s.sessions(), before+1)
	}
	// The SP key never leaves the server.
	for _, path := range []string{"/sso/get-provider?providerId=acme", "/sso/providers"} {
		if b := string(s.alice.Get(path).Body); strings.Contains(b, samlKeySPKey) || strings.Contains(b, "PRIVATE KEY") {
			t.Fatalf("%s leaks the SP key", path)
		}
	}
	raw := s.provider("acme").String("samlConfig")
	if strings.Contains(raw, "PRIVATE KEY") || !strings.Contains(raw, samlKeySPKey) {
		t.Fatal("SP key not stored encrypted")
	}
}

// Browser binding at the SAML GET: an attacker's own completed ACS POST, opened in the
// victim's browser, is refused (state_mismatch) and signs nobody in; a handle of another
// flow does not fit a state.
func TestSSOSAMLBrowserBinding(t *testing.T) {
	s := newSAMLEnv(t, nil, nil)
	attacker, victim := s.h.Client(), s.h.Client()
	form := s.idpPost(attacker, map[string]any{"providerId": "acme", "callbackURL": "/"})
	nu, _ := url.Parse(location(t, s.acs(form)))
	if code := redirectErr(t, victim.Get(s.toApp(nu))); code != authcore.OAuthErrStateMismatch {
		t.Fatalf("victim: %q", code)
	}
	if sessionUser(victim) != nil {
		t.Fatal("victim signed in")
	}
	// Two flows of one browser: the handle of flow 1 with the state of flow 2 fails.
	c := s.h.Client()
	f1 := s.idpPost(c, map[string]any{"providerId": "acme", "callbackURL": "/"})
	u1, _ := url.Parse(location(t, s.acs(f1)))
	f2 := s.idpPost(c, map[string]any{"providerId": "acme", "callbackURL": "/"})
	q := u1.Query()
	q.Set("RelayState", f2.Get("RelayState"))
	u1.RawQuery = q.Encode()
	if code := redirectErr(t, c.Get(s.toApp(u1))); code != errInvalidState {
		t.Fatalf("mixed handle/state: %q", code)
	}
	// An ACS POST with an unknown RelayState is unsolicited.
	form.Set("RelayState", "nope")
	if code := redirectErr(t, s.acs(form)); code != SAMLCodeUnsolicited {
		t.Fatalf("unknown relay: %q", code)
	}
}

// A transient NameID cannot key an account: refused unless mapping.id names an attribute.
func TestSSOSAMLTransientNameID(t *testing.T) {
	for _, mapped := range []bool{false, true} {
		var mapping map[string]any
		if mapped {
			mapping = map[string]any{"id": "uid"}
		}
		s := newSAMLEnv(t, nil, mapping)
		s.ti.mu.Lock()
		s.ti.session.NameIDFormat = string(saml.TransientNameIDFormat)
		s.ti.session.NameID = "_one-time-123"
		s.ti.session.CustomAttributes = append(s.ti.session.CustomAttributes, samlTestAttr("uid", "emp-7"))
		s.ti.mu.Unlock()
		c := s.h.Client()
		r := s.acs(s.idpPost(c, map[string]any{"providerId": "acme", "callbackURL": "/"}))
		if !mapped {
			if code := redirectErr(t, r); code != SAMLCodeTransientNameID {
				t.Fatalf("transient NameID: %q", code)
			}
			continue
		}
		nu, _ := url.Parse(location(t, r))
		if l := location(t, c.Get(s.toApp(nu))); l != authcoretest.BaseURL+"/" {
			t.Fatalf("mapped id: %s", l)
		}
		accts, _ := s.h.Engine.Store().FindMany(s.ctx(), authcore.ModelAccount, storage.Query{Where: storage.Eq("providerId", "acme")})
		if len(accts) != 1 || accts[0].String("accountId") != "emp-7" {
			t.Fatalf("accounts %v", accts)
		}
	}
}

// Hostile ACS input: garbage, huge and wrongly typed responses are refused with a redirect
// to the error page or a 4xx, never a 500, and create no session.
func TestSSOSAMLHostile(t *testing.T) {
	s := newSAMLEnv(t, nil, nil)
	c := s.h.Client()
	form := s.idpPost(c, map[string]any{"providerId": "acme", "callbackURL": "/"})
	before := s.sessions()
	for i, v := range []string{"", "!!!", "PHhtbD48L3htbD4=", strings.Repeat("A", 300<<10), "PD94bWwgdmVyc2lvbj0iMS4wIj8+PCFET0NUWVBFIHg+"} {
		f := url.Values{"SAMLResponse": {v}, "RelayState": form["RelayState"]}
		r := s.acs(f)
		if r.StatusCode >= 500 || (r.StatusCode != http.StatusFound && r.StatusCode < 400) {
			t.Errorf("#%d: %d %.200s", i, r.StatusCode, r.Body)
		}
	}
	if r := s.h.Client().Post("/sso/saml2/sp/acs/acme", map[string]any{"SAMLResponse": 5}); r.StatusCode < 400 || r.StatusCode >= 500 {
		t.Errorf("typed: %d", r.StatusCode)
	}
	if s.sessions() != before {
		t.Fatal("a session was created")
	}
}

// One SAMLResponse posted 20 times at once yields exactly one handle (the assertion is
// claimed once), and the browser finishes with one session.
func TestSSOSAMLConcurrentReplay(t *testing.T) {
	s := newSAMLEnv(t, nil, nil)
	c := s.h.Client()
	form := s.idpPost(c, map[string]any{"providerId": "acme", "callbackURL": "/"})
	var mu sync.Mutex
	var handles []string
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := s.acs(form)
			if u, err := url.Parse(r.Header.Get("Location")); err == nil && u.Query().Get("handle") != "" {
				mu.Lock()
				handles = append(handles, u.String())
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(handles) != 1 {
		t.Fatalf("%d handles issued, want 1", len(handles))
	}
	before := s.sessions()
	u, _ := url.Parse(handles[0])
	if l := location(t, c.Get(s.toApp(u))); l != authcoretest.BaseURL+"/" || s.sessions() != before+1 {
		t.Fatalf("finish: %s", l)
	}
}
