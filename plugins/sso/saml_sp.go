package sso

import (
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/url"
	"time"

	"github.com/crewjam/saml"
	"github.com/jonboulle/clockwork"
	dsig "github.com/russellhaering/goxmldsig"
)

// samlSPKeyBits is the size of each provider's SP signing key.
const samlSPKeyBits = 2048

// samlSPCertLifetime is how long a generated SP certificate claims to be valid. IdPs treat
// metadata certificates as key containers, so this only has to be long.
const samlSPCertLifetime = 10 * 365 * 24 * time.Hour

// samlNewSPKey generates an RSA-2048 key and a self-signed certificate for it (subject CN =
// entityID, truncated), so every SAML provider signs its AuthnRequests with its own key.
// It returns both PEM-encoded (the key as PKCS#8).
func samlNewSPKey(rand io.Reader, clock time.Time, entityID string) (keyPEM, certPEM []byte, err error) {
	key, err := rsa.GenerateKey(rand, samlSPKeyBits)
	if err != nil {
		return nil, nil, fmt.Errorf("saml: generate SP key: %w", err)
	}
	serial, err := samlRandSerial(rand)
	if err != nil {
		return nil, nil, err
	}
	cn := entityID
	if len(cn) > 64 { // X.520 ub-common-name
		cn = cn[:64]
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             clock.Add(-time.Hour),
		NotAfter:              clock.Add(samlSPCertLifetime),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("saml: self-sign SP certificate: %w", err)
	}
	p8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("saml: encode SP key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

func samlRandSerial(rand io.Reader) (*big.Int, error) {
	b := make([]byte, 16)
	if _, err := io.ReadFull(rand, b); err != nil {
		return nil, fmt.Errorf("saml: serial number: %w", err)
	}
	b[0] &= 0x7f
	b[0] |= 0x01 // positive and non-zero
	return new(big.Int).SetBytes(b), nil
}

// samlServiceProvider builds the crewjam service provider of one ssoProvider: it signs
// AuthnRequests with spKey (PEM, PKCS#8 or PKCS#1 RSA), accepts only responses whose
// Response or Assertion is signed by a certificate of cfg's IdP, never IdP-initiated ones,
// refuses SHA-1 signatures, and reads the time from now.
func samlServiceProvider(cfg *SAMLConfig, spKey, spCert, entityID, acsURL, metadataURL string, now func() time.Time) (*saml.ServiceProvider, error) {
	if cfg == nil || cfg.idp == nil {
		return nil, errors.New("saml: config not parsed with samlParseConfig")
	}
	key, err := samlParseKey(spKey)
	if err != nil {
		return nil, err
	}
	cb, _ := pem.Decode([]byte(spCert))
	if cb == nil || cb.Type != "CERTIFICATE" {
		return nil, errors.New("saml: SP certificate is not a PEM CERTIFICATE")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("saml: SP certificate: %w", err)
	}
	if pub, ok := cert.PublicKey.(*rsa.PublicKey); !ok || !pub.Equal(key.Public()) {
		return nil, errors.New("saml: SP certificate does not match the SP key")
	}
	acs, err := url.Parse(acsURL)
	if err != nil || acs.Scheme == "" || acs.Host == "" {
		return nil, fmt.Errorf("saml: ACS URL %q is not absolute", acsURL)
	}
	md, err := url.Parse(metadataURL)
	if err != nil || md.Scheme == "" || md.Host == "" {
		return nil, fmt.Errorf("saml: metadata URL %q is not absolute", metadataURL)
	}
	if entityID == "" && cfg.SpMetadata != nil {
		entityID = cfg.SpMetadata.EntityID
	}
	if entityID == "" {
		entityID = cfg.Issuer
	}
	if entityID == "" {
		entityID = metadataURL
	}
	if now == nil {
		now = time.Now
	}
	nameIDFormat := saml.UnspecifiedNameIDFormat
	if cfg.IdentifierFormat != "" {
		nameIDFormat = saml.NameIDFormat(cfg.IdentifierFormat)
	}
	sp := &saml.ServiceProvider{
		EntityID:                         entityID,
		Key:                              key,
		Certificate:                      cert,
		MetadataURL:                      *md,
		AcsURL:                           *acs,
		IDPMetadata:                      cfg.idp,
		AuthnNameIDFormat:                nameIDFormat,
		SignatureMethod:                  cfg.signatureMethod,
		AllowIDPInitiated:                false,
		AssertionConsumerServiceBindings: []string{saml.HTTPPostBinding},
		RejectSHA1Signatures:             true,
		Clock:                            dsig.NewFakeClock(samlClock{Clock: clockwork.NewRealClock(), now: now}),
	}
	if cfg.Audience != "" && cfg.Audience != entityID {
		aud := cfg.Audience
		sp.ValidateAudienceRestriction = func(a *saml.Assertion) error {
			if a.Conditions == nil || len(a.Conditions.AudienceRestrictions) == 0 {
				return fmt.Errorf("%w: no AudienceRestriction", saml.ErrAudienceMismatch)
			}
			for _, r := range a.Conditions.AudienceRestrictions {
				found := false
				for _, au := range r.AllAudiences() {
					found = found || au.Value == aud
				}
				if !found {
					return fmt.Errorf("%w: audience %q not listed", saml.ErrAudienceMismatch, aud)
				}
			}
			return nil
		}
	}
	return sp, nil
}

func samlParseKey(s string) (crypto.Signer, error) {
	b, _ := pem.Decode([]byte(s))
	if b == nil {
		return nil, errors.New("saml: SP key is not PEM")
	}
	var k any
	var err error
	switch b.Type {
	case "PRIVATE KEY":
		k, err = x509.ParsePKCS8PrivateKey(b.Bytes)
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(b.Bytes)
	default:
		return nil, fmt.Errorf("saml: SP key PEM type %q", b.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("saml: SP key: %w", err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("saml: SP key is not RSA")
	}
	return rk, nil
}

// samlClock is the clockwork clock crewjam and goxmldsig read, over the injected now.
type samlClock struct {
	clockwork.Clock
	now func() time.Time
}

func (c samlClock) Now() time.Time                  { return c.now() }
func (c samlClock) Since(t time.Time) time.Duration { return c.now().Sub(t) }
func (c samlClock) Until(t time.Time) time.Duration { return t.Sub(c.now()) }

// samlMetadataXML is the SP metadata document served at GET /sso/saml2/sp/metadata.
func samlMetadataXML(sp *saml.ServiceProvider) ([]byte, error) {
	b, err := xml.MarshalIndent(sp.Metadata(), "", "  ")
	if err != nil {
		return nil, fmt.Errorf("saml: marshal SP metadata: %w", err)
	}
	return append([]byte(xml.Header), b...), nil
}

// SAMLAuthnStart is how to send the browser to the IdP: a redirect (HTTP-Redirect binding,
// query-string signature) or, when the IdP only offers HTTP-POST, an auto-submitting HTML
// form with an enveloped-signed AuthnRequest. RequestID must be remembered (bound to the
// browser) and passed to samlVerify as the only possible InResponseTo.
type SAMLAuthnStart struct {
	RedirectURL string
	PostForm    []byte
	RequestID   string
}

// samlAuthnStart picks the binding: HTTP-Redirect when the IdP offers it, else HTTP-POST.
func samlAuthnStart(sp *saml.ServiceProvider, relayState string) (*SAMLAuthnStart, error) {
	if sp.GetSSOBindingLocation(saml.HTTPRedirectBinding) != "" {
		u, id, err := samlAuthnRedirect(sp, relayState)
		if err != nil {
			return nil, err
		}
		return &SAMLAuthnStart{RedirectURL: u, RequestID: id}, nil
	}
	form, id, err := samlAuthnPost(sp, relayState)
	if err != nil {
		return nil, err
	}
	return &SAMLAuthnStart{PostForm: form, RequestID: id}, nil
}

// samlAuthnRedirect makes a signed AuthnRequest for the IdP's HTTP-Redirect endpoint and
// returns the URL to redirect to and the request's ID.
func samlAuthnRedirect(sp *saml.ServiceProvider, relayState string) (redirectURL string, requestID string, err error) {
	loc := sp.GetSSOBindingLocation(saml.HTTPRedirectBinding)
	if loc == "" {
		return "", "", errors.New("saml: the IdP has no HTTP-Redirect SingleSignOnService")
	}
	req, err := sp.MakeAuthenticationRequest(loc, saml.HTTPRedirectBinding, saml.HTTPPostBinding)
	if err != nil {
		return "", "", fmt.Errorf("saml: make AuthnRequest: %w", err)
	}
	u, err := req.Redirect(relayState, sp)
	if err != nil {
		return "", "", fmt.Errorf("saml: sign AuthnRequest: %w", err)
	}
	return u.String(), req.ID, nil
}

// samlAuthnPost makes an enveloped-signed AuthnRequest for the IdP's HTTP-POST endpoint and
// returns the auto-submitting HTML form (serve it as text/html) and the request's ID.
func samlAuthnPost(sp *saml.ServiceProvider, relayState string) (form []byte, requestID string, err error) {
	loc := sp.GetSSOBindingLocation(saml.HTTPPostBinding)
	if loc == "" {
		return nil, "", errors.New("saml: the IdP has no HTTP-POST SingleSignOnService")
	}
	req, err := sp.MakeAuthenticationRequest(loc, saml.HTTPPostBinding, saml.HTTPPostBinding)
	if err != nil {
		return nil, "", fmt.Errorf("saml: make AuthnRequest: %w", err)
	}
	return req.Post(relayState), req.ID, nil
}
