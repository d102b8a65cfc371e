package sso

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/crewjam/saml"
	"github.com/crewjam/saml/samlsp"
	dsig "github.com/russellhaering/goxmldsig"
)

// samlMaxConfigBytes bounds the stored samlConfig JSON (IdP metadata XML included).
const samlMaxConfigBytes = 1 << 20

// SAMLConfig is the JSON kept in the samlConfig column of an ssoProvider row, with Better
// Auth's field names. Fields Better Auth has that Gatehouse does not use (privateKey,
// encPrivateKey, ...: the SP key is generated per provider and stored by the plugin) are
// accepted and ignored.
type SAMLConfig struct {
	// Issuer is the SP entity ID Better Auth falls back to when spMetadata.entityID is unset.
	Issuer string `json:"issuer,omitempty"`
	// EntryPoint is the IdP single sign-on URL, used when idpMetadata.metadata is unset.
	EntryPoint string `json:"entryPoint,omitempty"`
	// Cert is the IdP signing certificate(s), PEM or bare base64 DER; a string or a list.
	Cert SAMLCertList `json:"cert,omitempty"`
	// CallbackURL is where the user lands after a SAML sign-in without a better target.
	CallbackURL string `json:"callbackUrl,omitempty"`
	// Audience is the audience the assertions must be restricted to (default: SP entity ID).
	Audience             string           `json:"audience,omitempty"`
	IdpMetadata          *SAMLIdPMetadata `json:"idpMetadata,omitempty"`
	SpMetadata           *SAMLSPMetadata  `json:"spMetadata,omitempty"`
	WantAssertionsSigned *bool            `json:"wantAssertionsSigned,omitempty"`
	AuthnRequestsSigned  *bool            `json:"authnRequestsSigned,omitempty"`
	SignatureAlgorithm   string           `json:"signatureAlgorithm,omitempty"`
	DigestAlgorithm      string           `json:"digestAlgorithm,omitempty"`
	IdentifierFormat     string           `json:"identifierFormat,omitempty"`
	Mapping              *SAMLMapping     `json:"mapping,omitempty"`

	// idp is the IdP's metadata: parsed from idpMetadata.metadata, or built from
	// entryPoint/entityID/cert. Filled by samlParseConfig.
	idp *saml.EntityDescriptor
	// signatureMethod is the XML-DSig URI AuthnRequests are signed with.
	signatureMethod string
}

// SAMLIdPMetadata is Better Auth's idpMetadata object.
type SAMLIdPMetadata struct {
	// Metadata is the IdP's SAML metadata XML; when set, entity ID, SSO URL and signing
	// certificates come from it.
	Metadata string `json:"metadata,omitempty"`
	EntityID string `json:"entityID,omitempty"`
	// EntryPoint is accepted as an alias of the top-level entryPoint (HTTP-Redirect).
	EntryPoint          string         `json:"entryPoint,omitempty"`
	Cert                SAMLCertList   `json:"cert,omitempty"`
	SingleSignOnService []SAMLEndpoint `json:"singleSignOnService,omitempty"`
	SingleLogoutService []SAMLEndpoint `json:"singleLogoutService,omitempty"`
}

// SAMLSPMetadata is Better Auth's spMetadata object (only entityID and binding are used).
type SAMLSPMetadata struct {
	Metadata string `json:"metadata,omitempty"`
	EntityID string `json:"entityID,omitempty"`
	Binding  string `json:"binding,omitempty"`
}

// SAMLEndpoint is one {Binding, Location} pair of Better Auth's idpMetadata.
type SAMLEndpoint struct {
	Binding  string `json:"Binding"`
	Location string `json:"Location"`
}

// SAMLMapping names the assertion attributes the user's fields are read from. Unset names
// fall back to Better Auth's defaults: email "email", firstName "givenName", lastName
// "surname", name "displayName"; the id is the NameID unless Id is set.
type SAMLMapping struct {
	ID            string            `json:"id,omitempty"`
	Email         string            `json:"email,omitempty"`
	EmailVerified string            `json:"emailVerified,omitempty"`
	Name          string            `json:"name,omitempty"`
	FirstName     string            `json:"firstName,omitempty"`
	LastName      string            `json:"lastName,omitempty"`
	ExtraFields   map[string]string `json:"extraFields,omitempty"`
}

// SAMLCertList is a certificate field that Better Auth allows as one string or a list.
type SAMLCertList []string

// UnmarshalJSON accepts a string or an array of strings.
func (c *SAMLCertList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		var l []string
		if err := json.Unmarshal(b, &l); err != nil {
			return err
		}
		*c = l
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New("cert must be a string or a list of strings")
	}
	if s == "" {
		*c = nil
	} else {
		*c = SAMLCertList{s}
	}
	return nil
}

// samlParseConfig decodes and validates a samlConfig column. Errors name the faulty field.
func samlParseConfig(raw []byte) (*SAMLConfig, error) {
	if len(raw) > samlMaxConfigBytes {
		return nil, fmt.Errorf("samlConfig: larger than %d bytes", samlMaxConfigBytes)
	}
	var cfg SAMLConfig
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, fmt.Errorf("samlConfig: not a JSON object of the expected shape: %w", err)
	}
	sm, err := samlSignatureMethod(cfg.SignatureAlgorithm)
	if err != nil {
		return nil, err
	}
	cfg.signatureMethod = sm
	switch strings.ToLower(cfg.DigestAlgorithm) {
	case "", "sha256", "sha384", "sha512",
		"http://www.w3.org/2001/04/xmlenc#sha256", "http://www.w3.org/2001/04/xmldsig-more#sha384",
		"http://www.w3.org/2001/04/xmlenc#sha512":
	default:
		return nil, fmt.Errorf("samlConfig.digestAlgorithm: %q is not supported (sha256, sha384 or sha512)", cfg.DigestAlgorithm)
	}
	if cfg.IdentifierFormat != "" && !strings.HasPrefix(cfg.IdentifierFormat, "urn:") {
		return nil, fmt.Errorf("samlConfig.identifierFormat: %q is not a NameID format URN", cfg.IdentifierFormat)
	}
	if cfg.CallbackURL != "" {
		if _, err := url.Parse(cfg.CallbackURL); err != nil {
			return nil, fmt.Errorf("samlConfig.callbackUrl: %w", err)
		}
	}
	idp := cfg.IdpMetadata
	if idp == nil {
		idp = &SAMLIdPMetadata{}
	}
	if strings.TrimSpace(idp.Metadata) != "" {
		ed, err := samlsp.ParseMetadata([]byte(idp.Metadata))
		if err != nil {
			return nil, fmt.Errorf("samlConfig.idpMetadata.metadata: not valid SAML metadata: %w", err)
		}
		if idp.EntityID != "" && idp.EntityID != ed.EntityID {
			return nil, fmt.Errorf("samlConfig.idpMetadata.entityID %q differs from the metadata's entityID %q", idp.EntityID, ed.EntityID)
		}
		if len(ed.IDPSSODescriptors) == 0 {
			return nil, errors.New("samlConfig.idpMetadata.metadata: no IDPSSODescriptor")
		}
		if n := samlSigningCertCount(ed); n == 0 {
			return nil, errors.New("samlConfig.idpMetadata.metadata: no signing certificate (KeyDescriptor use=\"signing\" with an X509Certificate)")
		}
		if samlSSOLocation(ed, saml.HTTPRedirectBinding) == "" && samlSSOLocation(ed, saml.HTTPPostBinding) == "" {
			return nil, errors.New("samlConfig.idpMetadata.metadata: no SingleSignOnService with the HTTP-Redirect or HTTP-POST binding")
		}
		cfg.idp = ed
	} else {
		if idp.EntityID == "" {
			return nil, errors.New("samlConfig.idpMetadata.entityID is required when idpMetadata.metadata is not given")
		}
		certs := idp.Cert
		if len(certs) == 0 {
			certs = cfg.Cert
		}
		if len(certs) == 0 {
			return nil, errors.New("samlConfig requires either a signing certificate (cert or idpMetadata.cert) or an idpMetadata.metadata XML document")
		}
		var keys []saml.KeyDescriptor
		for i, c := range certs {
			ders, err := samlParseCerts(c)
			if err != nil {
				return nil, fmt.Errorf("samlConfig cert #%d: %w", i+1, err)
			}
			for _, der := range ders {
				keys = append(keys, saml.KeyDescriptor{Use: "signing", KeyInfo: saml.KeyInfo{
					X509Data: saml.X509Data{X509Certificates: []saml.X509Certificate{{Data: base64.StdEncoding.EncodeToString(der)}}},
				}})
			}
		}
		var sso []saml.Endpoint
		for _, e := range idp.SingleSignOnService {
			if e.Binding != saml.HTTPRedirectBinding && e.Binding != saml.HTTPPostBinding {
				continue
			}
			if err := samlCheckHTTPURL(e.Location); err != nil {
				return nil, fmt.Errorf("samlConfig.idpMetadata.singleSignOnService: %w", err)
			}
			sso = append(sso, saml.Endpoint{Binding: e.Binding, Location: e.Location})
		}
		for _, ep := range []struct{ name, loc string }{{"idpMetadata.entryPoint", idp.EntryPoint}, {"entryPoint", cfg.EntryPoint}} {
			if ep.loc == "" {
				continue
			}
			if err := samlCheckHTTPURL(ep.loc); err != nil {
				return nil, fmt.Errorf("samlConfig.%s: %w", ep.name, err)
			}
			sso = append(sso, saml.Endpoint{Binding: saml.HTTPRedirectBinding, Location: ep.loc})
		}
		if len(sso) == 0 {
			return nil, errors.New("samlConfig.entryPoint is required when idpMetadata.metadata is not given")
		}
		cfg.idp = &saml.EntityDescriptor{
			EntityID: idp.EntityID,
			IDPSSODescriptors: []saml.IDPSSODescriptor{{
				SSODescriptor: saml.SSODescriptor{RoleDescriptor: saml.RoleDescriptor{
					ProtocolSupportEnumeration: "urn:oasis:names:tc:SAML:2.0:protocol",
					KeyDescriptors:             keys,
				}},
				SingleSignOnServices: sso,
			}},
		}
	}
	return &cfg, nil
}

// samlSignatureMethod maps Better Auth's signatureAlgorithm (short name or URI) to the
// XML-DSig URI. SHA-1 is refused.
func samlSignatureMethod(s string) (string, error) {
	switch strings.ToLower(s) {
	case "", "sha256", "rsa-sha256", dsig.RSASHA256SignatureMethod:
		return dsig.RSASHA256SignatureMethod, nil
	case "sha384", "rsa-sha384", dsig.RSASHA384SignatureMethod:
		return dsig.RSASHA384SignatureMethod, nil
	case "sha512", "rsa-sha512", dsig.RSASHA512SignatureMethod:
		return dsig.RSASHA512SignatureMethod, nil
	}
	return "", fmt.Errorf("samlConfig.signatureAlgorithm: %q is not supported (sha256, sha384 or sha512; SHA-1 is refused)", s)
}

// samlParseCerts reads one cert field: one or more PEM CERTIFICATE blocks, or bare base64 DER
// (whitespace allowed). Each must parse as X.509.
func samlParseCerts(s string) ([][]byte, error) {
	s = strings.TrimSpace(s)
	var ders [][]byte
	if strings.Contains(s, "-----BEGIN") {
		rest := []byte(s)
		for {
			var b *pem.Block
			b, rest = pem.Decode(rest)
			if b == nil {
				break
			}
			if b.Type != "CERTIFICATE" {
				return nil, fmt.Errorf("PEM block %q is not a CERTIFICATE", b.Type)
			}
			ders = append(ders, b.Bytes)
		}
		if len(ders) == 0 {
			return nil, errors.New("no PEM CERTIFICATE block")
		}
	} else {
		der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
		if err != nil {
			return nil, errors.New("neither PEM nor base64 DER")
		}
		ders = append(ders, der)
	}
	for _, der := range ders {
		if _, err := x509.ParseCertificate(der); err != nil {
			return nil, fmt.Errorf("not an X.509 certificate: %w", err)
		}
	}
	return ders, nil
}

func samlSigningCertCount(ed *saml.EntityDescriptor) int {
	n := 0
	for _, d := range ed.IDPSSODescriptors {
		for _, k := range d.KeyDescriptors {
			if k.Use != "" && k.Use != "signing" {
				continue
			}
			for _, c := range k.KeyInfo.X509Data.X509Certificates {
				der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(c.Data), ""))
				if err != nil {
					continue
				}
				if _, err := x509.ParseCertificate(der); err == nil {
					n++
				}
			}
		}
	}
	return n
}

func samlSSOLocation(ed *saml.EntityDescriptor, binding string) string {
	for _, d := range ed.IDPSSODescriptors {
		for _, s := range d.SingleSignOnServices {
			if s.Binding == binding && s.Location != "" {
				return s.Location
			}
		}
	}
	return ""
}

func samlCheckHTTPURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) URL", s)
	}
	return nil
}
