package sso

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crewjam/saml"
	"github.com/jonboulle/clockwork"
	dsig "github.com/russellhaering/goxmldsig"
)

// samlTestClock is the one clock the test IdP and SP read.
type samlTestClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *samlTestClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *samlTestClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// samlTestIdP is crewjam's IdentityProvider on a loopback httptest server, with its own key.
type samlTestIdP struct {
	idp     *saml.IdentityProvider
	srv     *httptest.Server
	key     *rsa.PrivateKey
	cert    *x509.Certificate
	certPEM string
	clock   *samlTestClock
	encrypt bool // leave the SP's encryption key in its metadata, so assertions are encrypted

	mu      sync.Mutex
	sps     map[string]*saml.EntityDescriptor
	session saml.Session
}

func samlNewTestIdP(t testing.TB, clock *samlTestClock) *samlTestIdP {
	t.Helper()
	ti := &samlTestIdP{clock: clock, sps: map[string]*saml.EntityDescriptor{}}
	ti.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/sso":
			ti.idp.ServeSSO(w, r)
		case "/metadata":
			ti.idp.ServeMetadata(w, r)
		case "/idp-initiated":
			ti.idp.ServeIDPInitiated(w, r, r.URL.Query().Get("sp"), "")
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(ti.srv.Close)
	ti.key, ti.cert, ti.certPEM = samlTestKeyPair(t, clock.Now(), ti.srv.URL+"/metadata")
	base, _ := url.Parse(ti.srv.URL)
	ti.idp = &saml.IdentityProvider{
		Key:                     ti.key,
		Certificate:             ti.cert,
		MetadataURL:             *base.JoinPath("metadata"),
		SSOURL:                  *base.JoinPath("sso"),
		ServiceProviderProvider: ti,
		SessionProvider:         ti,
		SignatureMethod:         dsig.RSASHA256SignatureMethod,
		Clock:                   dsig.NewFakeClock(samlClock{Clock: clockwork.NewRealClock(), now: clock.Now}),
		OnError: func(w http.ResponseWriter, _ *http.Request, status int, err error) {
			t.Logf("test IdP refused: %v", err)
			http.Error(w, "refused", status)
		},
	}
	ti.session = saml.Session{
		ID: "sess-1", Index: "idx-42", NameID: "Alice@Example.com",
		UserEmail: "alice@example.com", UserGivenName: "Alice", UserSurname: "Liddell",
		UserCommonName: "Alice L.", UserName: "alice",
		CustomAttributes: []saml.Attribute{
			samlTestAttr("email", "Alice@Example.com"),
			samlTestAttr("givenName", "Alice"),
			samlTestAttr("surname", "Liddell"),
			samlTestAttr("verified", "true"),
			samlTestAttr("department", "Wonderland"),
		},
	}
	return ti
}

func samlTestAttr(name, v string) saml.Attribute {
	return saml.Attribute{Name: name, NameFormat: "urn:oasis:names:tc:SAML:2.0:attrname-format:basic",
		Values: []saml.AttributeValue{{Type: "xs:string", Value: v}}}
}

func samlTestKeyPair(t testing.TB, now time.Time, cn string) (*rsa.PrivateKey, *x509.Certificate, string) {
	t.Helper()
	keyPEM, certPEM, err := samlNewSPKey(rand.Reader, now, cn)
	if err != nil {
		t.Fatal(err)
	}
	k, err := samlParseKey(string(keyPEM))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(certPEM)
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k.(*rsa.PrivateKey), c, string(certPEM)
}

// GetServiceProvider implements saml.ServiceProviderProvider.
func (ti *samlTestIdP) GetServiceProvider(_ *http.Request, id string) (*saml.EntityDescriptor, error) {
	ti.mu.Lock()
	defer ti.mu.Unlock()
	ed, ok := ti.sps[id]
	if !ok {
		return nil, os.ErrNotExist
	}
	if ti.encrypt {
		return ed, nil
	}
	cp := *ed
	cp.SPSSODescriptors = append([]saml.SPSSODescriptor(nil), ed.SPSSODescriptors...)
	for i := range cp.SPSSODescriptors {
		var kds []saml.KeyDescriptor
		for _, kd := range cp.SPSSODescriptors[i].KeyDescriptors {
			if kd.Use != "encryption" {
				kds = append(kds, kd)
			}
		}
		cp.SPSSODescriptors[i].KeyDescriptors = kds
	}
	return &cp, nil
}

// GetSession implements saml.SessionProvider: the user is always logged in at the IdP.
func (ti *samlTestIdP) GetSession(_ http.ResponseWriter, _ *http.Request, _ *saml.IdpAuthnRequest) *saml.Session {
	ti.mu.Lock()
	defer ti.mu.Unlock()
	s := ti.session
	s.CreateTime = ti.clock.Now()
	s.ExpireTime = s.CreateTime.Add(time.Hour)
	return &s
}

func (ti *samlTestIdP) metadataXML(t testing.TB) string {
	t.Helper()
	b, err := xml.Marshal(ti.idp.Metadata())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func (ti *samlTestIdP) register(sp *saml.ServiceProvider) {
	ti.mu.Lock()
	ti.sps[sp.EntityID] = sp.Metadata()
	ti.mu.Unlock()
}

const (
	samlTestEntity = "https://app.example/api/auth/sso/saml2/sp/metadata?providerId=acme"
	samlTestACS    = "https://app.example/api/auth/sso/saml2/sp/acs/acme"
	samlTestMDURL  = "https://app.example/api/auth/sso/saml2/sp/metadata?providerId=acme"
)

// samlTestSP parses cfgJSON (with %IDP_METADATA% replaced by the IdP's metadata as a JSON
// string) and builds and registers the SP.
func samlTestSP(t testing.TB, ti *samlTestIdP, cfgJSON, entityID, acs string) (*saml.ServiceProvider, *SAMLConfig) {
	t.Helper()
	md, _ := samlJSONString(ti.metadataXML(t))
	cfgJSON = strings.ReplaceAll(cfgJSON, "%IDP_METADATA%", md)
	certJSON, _ := samlJSONString(ti.certPEM)
	cfgJSON = strings.ReplaceAll(cfgJSON, "%IDP_CERT%", certJSON)
	cfg, err := samlParseConfig([]byte(cfgJSON))
	if err != nil {
		t.Fatalf("samlParseConfig: %v", err)
	}
	sp := samlTestBuildSP(t, ti, cfg, entityID, acs)
	ti.register(sp)
	return sp, cfg
}

// samlTestBuildSP builds an SP with a fresh key, without telling the IdP about it.
func samlTestBuildSP(t testing.TB, ti *samlTestIdP, cfg *SAMLConfig, entityID, acs string) *saml.ServiceProvider {
	t.Helper()
	keyPEM, certPEM, err := samlNewSPKey(rand.Reader, ti.clock.Now(), entityID)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := samlServiceProvider(cfg, string(keyPEM), string(certPEM), entityID, acs, samlTestMDURL, ti.clock.Now)
	if err != nil {
		t.Fatalf("samlServiceProvider: %v", err)
	}
	return sp
}

func samlJSONString(s string) (string, error) {
	b, err := json.Marshal(s)
	return string(b), err
}

var samlTestDefaultCfg = `{"idpMetadata":{"metadata":%IDP_METADATA%},"wantAssertionsSigned":true}`

var samlFormField = regexp.MustCompile(`name="(SAMLResponse|SAMLRequest|RelayState)" value="([^"]*)"`)

func samlFormValues(t *testing.T, body string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, m := range samlFormField.FindAllStringSubmatch(body, -1) {
		out[m[1]] = html.UnescapeString(m[2])
	}
	return out
}

// samlTestLogin runs the SP-initiated flow over HTTP: the SP's signed redirect, the IdP's
// SSO endpoint (which checks the AuthnRequest signature), and the auto-post form back.
func samlTestLogin(t *testing.T, sp *saml.ServiceProvider) (samlResponse, requestID string) {
	t.Helper()
	start, err := samlAuthnStart(sp, "relay-xyz")
	if err != nil {
		t.Fatal(err)
	}
	if start.RedirectURL == "" {
		t.Fatal("expected the HTTP-Redirect binding")
	}
	resp, err := http.Get(start.RedirectURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("IdP SSO answered %d: %s", resp.StatusCode, body)
	}
	f := samlFormValues(t, string(body))
	if f["SAMLResponse"] == "" || f["RelayState"] != "relay-xyz" {
		t.Fatalf("IdP form lacks SAMLResponse or RelayState: %v", f)
	}
	return f["SAMLResponse"], start.RequestID
}

func samlWantCode(t *testing.T, err error, code string) {
	t.Helper()
	var se *SAMLError
	if !errors.As(err, &se) {
		t.Fatalf("want SAMLError %q, got %v", code, err)
	}
	if se.Code != code {
		t.Fatalf("want code %q, got %q (detail: %v)", code, se.Code, se.Detail)
	}
	if strings.Contains(se.Error(), "<") {
		t.Fatalf("error text leaks XML: %q", se.Error())
	}
}

func samlNewTestClock() *samlTestClock {
	return &samlTestClock{t: time.Now().UTC().Truncate(time.Second)}
}

func TestSAMLHappyPathSPInitiated(t *testing.T) {
	for _, encrypt := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "encrypted"}[encrypt], func(t *testing.T) {
			clock := samlNewTestClock()
			ti := samlNewTestIdP(t, clock)
			ti.encrypt = encrypt
			sp, cfg := samlTestSP(t, ti, samlTestDefaultCfg, samlTestEntity, samlTestACS)
			b64, reqID := samlTestLogin(t, sp)
			raw, _ := base64.StdEncoding.DecodeString(b64)
			if got := strings.Contains(string(raw), "EncryptedAssertion"); got != encrypt {
				t.Fatalf("EncryptedAssertion present = %v, want %v", got, encrypt)
			}

			id, err := samlVerify(sp, cfg, b64, []string{"id-unrelated", reqID})
			if err != nil {
				t.Fatalf("samlVerify: %v (%v)", err, errors.Unwrap(err))
			}
			if id.NameID != "Alice@Example.com" || id.ID != "Alice@Example.com" {
				t.Errorf("NameID/ID = %q/%q", id.NameID, id.ID)
			}
			if id.Email != "alice@example.com" || id.Name != "Alice Liddell" {
				t.Errorf("Email/Name = %q/%q", id.Email, id.Name)
			}
			if id.EmailVerified {
				t.Error("EmailVerified without mapping.emailVerified")
			}
			if id.SessionIndex != "idx-42" || id.AssertionID == "" || !id.AssertionSigned {
				t.Errorf("SessionIndex=%q AssertionID=%q signed=%v", id.SessionIndex, id.AssertionID, id.AssertionSigned)
			}
			if got := id.Attributes["mail"]; len(got) != 1 || got[0] != "alice@example.com" {
				t.Errorf("FriendlyName attribute mail = %v", got)
			}
			if got := id.Attributes["department"]; len(got) != 1 || got[0] != "Wonderland" {
				t.Errorf("attribute department = %v", got)
			}
			if !id.NotOnOrAfter.After(clock.Now()) || id.NotOnOrAfter.After(clock.Now().Add(saml.MaxIssueDelay)) {
				t.Errorf("NotOnOrAfter %v not within (now, now+MaxIssueDelay]", id.NotOnOrAfter)
			}

			// InResponseTo must match: the same response with other pending IDs fails.
			_, err = samlVerify(sp, cfg, b64, []string{"id-other"})
			samlWantCode(t, err, SAMLCodeUnsolicited)
		})
	}
}

func TestSAMLMappingAndManualConfig(t *testing.T) {
	clock := samlNewTestClock()
	ti := samlNewTestIdP(t, clock)
	// Manual config: entityID + entryPoint + cert, no metadata XML.
	cfgJSON := `{"entryPoint":"` + ti.srv.URL + `/sso","cert":%IDP_CERT%,
		"idpMetadata":{"entityID":"` + ti.srv.URL + `/metadata"},
		"mapping":{"id":"uid","email":"mail","name":"cn","firstName":"nope","lastName":"nope2",
		"emailVerified":"verified","extraFields":{"dept":"department","missing":"nothing"}}}`
	sp, cfg := samlTestSP(t, ti, cfgJSON, samlTestEntity, samlTestACS)
	b64, reqID := samlTestLogin(t, sp)
	id, err := samlVerify(sp, cfg, b64, []string{reqID})
	if err != nil {
		t.Fatalf("samlVerify: %v (%v)", err, errors.Unwrap(err))
	}
	if id.ID != "alice" || id.Email != "alice@example.com" || id.Name != "Alice L." || !id.EmailVerified {
		t.Errorf("mapped = id %q email %q name %q verified %v", id.ID, id.Email, id.Name, id.EmailVerified)
	}
	if id.Extra["dept"] != "Wonderland" || len(id.Extra) != 1 {
		t.Errorf("extra = %v", id.Extra)
	}
}

func TestSAMLAuthnRequestSignedAndCheckedByIdP(t *testing.T) {
	clock := samlNewTestClock()
	ti := samlNewTestIdP(t, clock)
	sp, _ := samlTestSP(t, ti, samlTestDefaultCfg, samlTestEntity, samlTestACS)
	u, id, err := samlAuthnRedirect(sp, "r")
	if err != nil {
		t.Fatal(err)
	}
	pu, _ := url.Parse(u)
	q := pu.Query()
	if q.Get("SigAlg") != dsig.RSASHA256SignatureMethod || q.Get("Signature") == "" || !strings.HasPrefix(id, "id-") {
		t.Fatalf("redirect not signed with RSA-SHA256: %v", q)
	}
	get := func(raw string) int {
		resp, err := http.Get(raw)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if c := get(u); c != 200 {
		t.Fatalf("genuine request refused: %d", c)
	}
	// A tampered signature, and a stripped one, are refused by the IdP (the SP metadata
	// says AuthnRequestsSigned).
	sig, _ := base64.StdEncoding.DecodeString(q.Get("Signature"))
	sig[10] ^= 1
	u2 := strings.Replace(u, url.QueryEscape(q.Get("Signature")), url.QueryEscape(base64.StdEncoding.EncodeToString(sig)), 1)
	if c := get(u2); c != 400 {
		t.Fatalf("tampered signature answered %d", c)
	}
	q.Del("Signature")
	q.Del("SigAlg")
	pu.RawQuery = q.Encode()
	if c := get(pu.String()); c != 400 {
		t.Fatalf("unsigned request answered %d", c)
	}
}

func TestSAMLPostBindingOnly(t *testing.T) {
	clock := samlNewTestClock()
	ti := samlNewTestIdP(t, clock)
	cfgJSON := `{"cert":%IDP_CERT%,"idpMetadata":{"entityID":"` + ti.srv.URL + `/metadata",
		"singleSignOnService":[{"Binding":"` + saml.HTTPPostBinding + `","Location":"` + ti.srv.URL + `/sso"}]}}`
	sp, cfg := samlTestSP(t, ti, cfgJSON, samlTestEntity, samlTestACS)
	start, err := samlAuthnStart(sp, "relay-post")
	if err != nil {
		t.Fatal(err)
	}
	if start.RedirectURL != "" || len(start.PostForm) == 0 {
		t.Fatalf("want a POST form, got %+v", start)
	}
	f := samlFormValues(t, string(start.PostForm))
	reqXML, _ := base64.StdEncoding.DecodeString(f["SAMLRequest"])
	if !strings.Contains(string(reqXML), "SignatureValue") {
		t.Fatal("POST AuthnRequest is not XML-signed")
	}
	resp, err := http.PostForm(ti.srv.URL+"/sso", url.Values{"SAMLRequest": {f["SAMLRequest"]}, "RelayState": {f["RelayState"]}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("IdP answered %d: %s", resp.StatusCode, body)
	}
	out := samlFormValues(t, string(body))
	id, err := samlVerify(sp, cfg, out["SAMLResponse"], []string{start.RequestID})
	if err != nil {
		t.Fatalf("samlVerify: %v (%v)", err, errors.Unwrap(err))
	}
	if id.Email != "alice@example.com" {
		t.Errorf("email %q", id.Email)
	}
}

func TestSAMLMetadataXML(t *testing.T) {
	clock := samlNewTestClock()
	ti := samlNewTestIdP(t, clock)
	sp, _ := samlTestSP(t, ti, samlTestDefaultCfg, samlTestEntity, samlTestACS)
	b, err := samlMetadataXML(sp)
	if err != nil {
		t.Fatal(err)
	}
	var ed saml.EntityDescriptor
	if err := xml.Unmarshal(b, &ed); err != nil {
		t.Fatalf("metadata does not parse back: %v", err)
	}
	if ed.EntityID != samlTestEntity || len(ed.SPSSODescriptors) != 1 {
		t.Fatalf("entityID %q, %d SPSSODescriptors", ed.EntityID, len(ed.SPSSODescriptors))
	}
	d := ed.SPSSODescriptors[0]
	if d.AuthnRequestsSigned == nil || !*d.AuthnRequestsSigned || d.WantAssertionsSigned == nil || !*d.WantAssertionsSigned {
		t.Error("metadata does not say AuthnRequestsSigned and WantAssertionsSigned")
	}
	if len(d.AssertionConsumerServices) != 1 || d.AssertionConsumerServices[0].Location != samlTestACS ||
		d.AssertionConsumerServices[0].Binding != saml.HTTPPostBinding {
		t.Errorf("ACS = %+v", d.AssertionConsumerServices)
	}
	found := false
	for _, kd := range d.KeyDescriptors {
		for _, c := range kd.KeyInfo.X509Data.X509Certificates {
			der, _ := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(c.Data), ""))
			if kd.Use == "signing" && string(der) == string(sp.Certificate.Raw) {
				found = true
			}
		}
	}
	if !found {
		t.Error("SP signing certificate not in metadata")
	}
}

func TestSAMLNewSPKey(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	k1, c1, err := samlNewSPKey(rand.Reader, at, "https://sp.example/metadata")
	if err != nil {
		t.Fatal(err)
	}
	k2, _, err := samlNewSPKey(rand.Reader, at, "x")
	if err != nil {
		t.Fatal(err)
	}
	if string(k1) == string(k2) {
		t.Fatal("two providers got the same key")
	}
	key, err := samlParseKey(string(k1))
	if err != nil {
		t.Fatal(err)
	}
	if key.(*rsa.PrivateKey).N.BitLen() != 2048 {
		t.Errorf("key bits %d", key.(*rsa.PrivateKey).N.BitLen())
	}
	b, _ := pem.Decode(c1)
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if cert.Subject.CommonName != "https://sp.example/metadata" || cert.NotBefore.After(at) || cert.NotAfter.Before(at.Add(365*24*time.Hour)) {
		t.Errorf("cert CN %q valid %v..%v", cert.Subject.CommonName, cert.NotBefore, cert.NotAfter)
	}
	if err := cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature); err != nil {
		t.Errorf("not self-signed: %v", err)
	}
	if _, _, err := samlNewSPKey(strings.NewReader("short"), at, "x"); err == nil {
		t.Error("a failing random source must be an error")
	}
}

func TestSAMLParseConfigErrors(t *testing.T) {
	clock := samlNewTestClock()
	ti := samlNewTestIdP(t, clock)
	md, _ := samlJSONString(ti.metadataXML(t))
	certPEM, _ := samlJSONString(ti.certPEM)
	bare := base64.StdEncoding.EncodeToString(ti.cert.Raw)
	bareWrapped, _ := samlJSONString(bare[:40] + "\n" + bare[40:])
	ok := []string{
		`{"idpMetadata":{"metadata":` + md + `}}`,
		`{"entryPoint":"https://idp.example/sso","cert":` + certPEM + `,"idpMetadata":{"entityID":"urn:idp"}}`,
		`{"entryPoint":"https://idp.example/sso","idpMetadata":{"entityID":"urn:idp","cert":[` + bareWrapped + `,` + certPEM + `]}}`,
		`{"entryPoint":"https://idp.example/sso","cert":"` + bare + `","idpMetadata":{"entityID":"urn:idp"},"signatureAlgorithm":"sha512","digestAlgorithm":"sha256"}`,
		`{"cert":"` + bare + `","idpMetadata":{"entityID":"urn:idp","entryPoint":"https://idp.example/sso"}}`,
	}
	for i, c := range ok {
		if _, err := samlParseConfig([]byte(c)); err != nil {
			t.Errorf("ok[%d]: %v", i, err)
		}
	}
	noKeyMD := strings.Replace(ti.metadataXML(t), "<KeyDescriptor", "<Foo", -1)
	noKeyMD = strings.Replace(noKeyMD, "</KeyDescriptor>", "</Foo>", -1)
	noKeyMDJSON, _ := samlJSONString(noKeyMD)
	bad := map[string]string{
		`{"entryPoint":"https://idp.example/sso","idpMetadata":{"entityID":"urn:idp"}}`:                           "either a signing certificate",
		`{"entryPoint":"https://idp.example/sso"}`:                                                                "entityID is required",
		`{"cert":` + certPEM + `,"idpMetadata":{"entityID":"urn:idp"}}`:                                           "entryPoint is required",
		`{"entryPoint":"javascript:alert(1)","cert":` + certPEM + `,"idpMetadata":{"entityID":"urn:idp"}}`:        "entryPoint",
		`{"entryPoint":"https://idp.example/sso","cert":"bm90IGEgY2VydA==","idpMetadata":{"entityID":"urn:idp"}}`: "not an X.509",
		`{"entryPoint":"https://idp.example/sso","cert":"%%%","idpMetadata":{"entityID":"urn:idp"}}`:              "neither PEM nor base64",
		`{"idpMetadata":{"metadata":"<not-xml"}}`:                                                                 "not valid SAML metadata",
		`{"idpMetadata":{"metadata":` + noKeyMDJSON + `}}`:                                                        "no signing certificate",
		`{"idpMetadata":{"metadata":` + md + `,"entityID":"urn:other"}}`:                                          "differs",
		`{"idpMetadata":{"metadata":` + md + `},"signatureAlgorithm":"sha1"}`:                                     "SHA-1 is refused",
		`{"idpMetadata":{"metadata":` + md + `},"digestAlgorithm":"md5"}`:                                         "digestAlgorithm",
		`{"idpMetadata":{"metadata":` + md + `},"cert":42}`:                                                       "cert must be",
		`[1,2]`: "not a JSON object",
		`{"idpMetadata":{"metadata":` + md + `},"identifierFormat":"email"}`: "identifierFormat",
	}
	for c, want := range bad {
		_, err := samlParseConfig([]byte(c))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%.80s: got %v, want an error containing %q", c, err, want)
		}
	}
	if _, err := samlParseConfig(make([]byte, samlMaxConfigBytes+1)); err == nil {
		t.Error("oversized config accepted")
	}
}
