package sso

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
)

// Limits on what the ACS accepts before any XML work.
const (
	// samlMaxResponseB64 bounds the SAMLResponse form value (base64).
	samlMaxResponseB64 = 256 << 10
	// samlMaxIDLength bounds assertion IDs and NameIDs kept in storage.
	samlMaxIDLength = 256
)

// SAML error codes, usable as ?error=<code> on the error callback. They never carry XML.
const (
	SAMLCodeInvalidResponse  = "invalid_saml_response"  // malformed, wrong shape, bad signature, wrong issuer/destination/audience
	SAMLCodeExpired          = "saml_response_expired"  // outside its validity window
	SAMLCodeUnsolicited      = "saml_unsolicited"       // no or an unknown InResponseTo (IdP-initiated is refused)
	SAMLCodeReplay           = "saml_replay"            // assertion ID already used
	SAMLCodeIdPError         = "saml_idp_error"         // the IdP answered with a non-success status
	SAMLCodeMissingIdentity  = "saml_missing_user_info" // no usable id or email after mapping
	SAMLCodeInternal         = "saml_internal_error"    // storage or configuration failure
	samlCodeSignatureMissing = SAMLCodeInvalidResponse
)

// SAMLError is every error samlVerify and samlClaimAssertion return. Error() is only the
// code; Detail (also reachable with errors.Unwrap) is for logs, never for the client.
type SAMLError struct {
	Code   string
	Detail error
}

func (e *SAMLError) Error() string { return "saml: " + e.Code }

// Unwrap returns the detail, for logging and errors.Is.
func (e *SAMLError) Unwrap() error { return e.Detail }

func samlErr(code string, format string, args ...any) *SAMLError {
	return &SAMLError{Code: code, Detail: fmt.Errorf(format, args...)}
}

// SAMLIdentity is what a verified assertion says about the user, after Better Auth's
// attribute mapping.
type SAMLIdentity struct {
	// ID is the account id: the NameID, or the mapping.id attribute when configured.
	ID           string
	NameID       string
	NameIDFormat string
	SessionIndex string
	AssertionID  string
	// NotOnOrAfter is the end of the window in which crewjam accepts this assertion
	// (before clock-skew allowance): the earliest of Conditions/@NotOnOrAfter,
	// SubjectConfirmationData/@NotOnOrAfter and IssueInstant+saml.MaxIssueDelay.
	NotOnOrAfter time.Time
	// Attributes by Name, and also by FriendlyName when that does not clash.
	Attributes map[string][]string
	// Email is the mapped email attribute (default "email"), else the NameID, lower-cased.
	Email string
	// EmailVerified is true only when mapping.emailVerified names an attribute whose first
	// value is "true" or "1"; the caller must still decide whether it trusts the IdP.
	EmailVerified bool
	// Name is "firstName lastName" (defaults givenName, surname), else the name attribute
	// (default displayName), else the NameID.
	Name string
	// Extra holds mapping.extraFields: field name -> first attribute value.
	Extra map[string]string
	// AssertionSigned reports whether the assertion itself carried a valid signature (as
	// opposed to only the enclosing Response).
	AssertionSigned bool
}

// samlVerify checks a base64 SAMLResponse (the ACS form field) with sp, which must come from
// samlServiceProvider: signature by the IdP's key, exactly one assertion, issuer,
// destination, audience, time window, and InResponseTo among possibleRequestIDs (empty means
// nothing was issued, so it is refused). With cfg.wantAssertionsSigned the assertion itself
// must be signed. It does not record the assertion: call samlClaimAssertion next.
func samlVerify(sp *saml.ServiceProvider, cfg *SAMLConfig, samlResponseB64 string, possibleRequestIDs []string) (*SAMLIdentity, error) {
	if len(samlResponseB64) == 0 {
		return nil, samlErr(SAMLCodeInvalidResponse, "empty SAMLResponse")
	}
	if len(samlResponseB64) > samlMaxResponseB64 {
		return nil, samlErr(SAMLCodeInvalidResponse, "SAMLResponse of %d bytes exceeds %d", len(samlResponseB64), samlMaxResponseB64)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(samlResponseB64), ""))
	if err != nil {
		return nil, samlErr(SAMLCodeInvalidResponse, "SAMLResponse is not base64: %v", err)
	}
	if err := samlCheckShape(raw); err != nil {
		return nil, err
	}
	var ids []string
	for _, id := range possibleRequestIDs {
		if id != "" {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil, samlErr(SAMLCodeUnsolicited, "no AuthnRequest pending for this browser (IdP-initiated responses are refused)")
	}
	a, err := sp.ParseXMLResponse(raw, ids, sp.AcsURL)
	if err != nil {
		return nil, samlClassify(err)
	}
	return samlIdentityFrom(a, cfg)
}

// samlCheckShape refuses, before crewjam looks at it, a document that is not one
// samlp:Response holding exactly one Assertion or EncryptedAssertion anywhere in it. crewjam
// returns the first valid assertion of a signed Response that holds several; an assertion
// hidden anywhere else (Extensions, ds:Object) is the raw material of signature wrapping.
func samlCheckShape(raw []byte) error {
	doc := etree.NewDocument()
	doc.ReadSettings.Permissive = false
	if err := doc.ReadFromBytes(raw); err != nil {
		return samlErr(SAMLCodeInvalidResponse, "not XML: %v", err)
	}
	root := doc.Root()
	if root == nil || root.Tag != "Response" || root.NamespaceURI() != "urn:oasis:names:tc:SAML:2.0:protocol" {
		return samlErr(SAMLCodeInvalidResponse, "root is not samlp:Response")
	}
	n, responses := 0, 0
	var walk func(e *etree.Element)
	walk = func(e *etree.Element) {
		switch e.Tag {
		case "Assertion", "EncryptedAssertion":
			n++
		case "Response":
			responses++
		}
		for _, c := range e.ChildElements() {
			walk(c)
		}
	}
	walk(root)
	if n != 1 {
		return samlErr(SAMLCodeInvalidResponse, "response holds %d assertions, want exactly 1", n)
	}
	if responses != 1 {
		return samlErr(SAMLCodeInvalidResponse, "document holds %d Response elements", responses)
	}
	return nil
}

// samlClassify turns a crewjam error into a SAMLError, keeping the private detail (never
// the response XML) for logs.
func samlClassify(err error) *SAMLError {
	detail := err
	var ire *saml.InvalidResponseError
	if errors.As(err, &ire) && ire.PrivateErr != nil {
		detail = ire.PrivateErr
	}
	var bad saml.ErrBadStatus
	switch {
	case errors.As(detail, &bad):
		return &SAMLError{Code: SAMLCodeIdPError, Detail: fmt.Errorf("IdP status %q", bad.Status)}
	case errors.Is(detail, saml.ErrRequestIDMismatch):
		return &SAMLError{Code: SAMLCodeUnsolicited, Detail: detail}
	case errors.Is(detail, saml.ErrExpired), errors.Is(detail, saml.ErrNotYetValid):
		return &SAMLError{Code: SAMLCodeExpired, Detail: detail}
	case errors.Is(detail, saml.ErrAssertionReplayed):
		return &SAMLError{Code: SAMLCodeReplay, Detail: detail}
	}
	return &SAMLError{Code: SAMLCodeInvalidResponse, Detail: detail}
}

func samlIdentityFrom(a *saml.Assertion, cfg *SAMLConfig) (*SAMLIdentity, error) {
	if cfg != nil && cfg.WantAssertionsSigned != nil && *cfg.WantAssertionsSigned && a.Signature == nil {
		return nil, samlErr(samlCodeSignatureMissing, "wantAssertionsSigned: the assertion itself is not signed")
	}
	if a.ID == "" || len(a.ID) > samlMaxIDLength {
		return nil, samlErr(SAMLCodeInvalidResponse, "assertion ID missing or longer than %d", samlMaxIDLength)
	}
	if a.Subject == nil || a.Subject.NameID == nil || samlTrimmed(a.Subject.NameID.Value) == "" {
		return nil, samlErr(SAMLCodeMissingIdentity, "assertion has no NameID")
	}
	nameID := samlTrimmed(a.Subject.NameID.Value)
	if len(nameID) > samlMaxIDLength {
		return nil, samlErr(SAMLCodeInvalidResponse, "NameID longer than %d", samlMaxIDLength)
	}
	id := &SAMLIdentity{
		NameID:          nameID,
		NameIDFormat:    a.Subject.NameID.Format,
		AssertionID:     a.ID,
		Attributes:      map[string][]string{},
		AssertionSigned: a.Signature != nil,
	}
	// The acceptance window: crewjam refuses the assertion after the earliest of these.
	end := a.IssueInstant.Add(saml.MaxIssueDelay)
	if a.Conditions != nil && !a.Conditions.NotOnOrAfter.IsZero() && a.Conditions.NotOnOrAfter.Before(end) {
		end = a.Conditions.NotOnOrAfter
	}
	for _, sc := range a.Subject.SubjectConfirmations {
		if d := sc.SubjectConfirmationData; d != nil && !d.NotOnOrAfter.IsZero() && d.NotOnOrAfter.Before(end) {
			end = d.NotOnOrAfter
		}
	}
	id.NotOnOrAfter = end
	for _, st := range a.AuthnStatements {
		if st.SessionIndex != "" {
			id.SessionIndex = st.SessionIndex
			break
		}
	}
	friendly := map[string][]string{}
	for _, st := range a.AttributeStatements {
		for _, at := range st.Attributes {
			var vals []string
			for _, v := range at.Values {
				vals = append(vals, v.Value)
			}
			if at.Name != "" {
				id.Attributes[at.Name] = append(id.Attributes[at.Name], vals...)
			}
			if at.FriendlyName != "" && at.FriendlyName != at.Name {
				friendly[at.FriendlyName] = append(friendly[at.FriendlyName], vals...)
			}
		}
	}
	for k, v := range friendly {
		if _, clash := id.Attributes[k]; !clash {
			id.Attributes[k] = v
		}
	}
	m := SAMLMapping{}
	if cfg != nil && cfg.Mapping != nil {
		m = *cfg.Mapping
	}
	attr := func(name, def string) string {
		if name == "" {
			name = def
		}
		if v := id.Attributes[name]; len(v) > 0 {
			return samlTrimmed(v[0])
		}
		return ""
	}
	id.ID = nameID
	if m.ID != "" {
		id.ID = attr(m.ID, "")
	}
	id.Email = attr(m.Email, "email")
	if id.Email == "" {
		id.Email = nameID
	}
	id.Email = strings.ToLower(id.Email)
	first, last := attr(m.FirstName, "givenName"), attr(m.LastName, "surname")
	id.Name = samlTrimmed(first + " " + last)
	if id.Name == "" {
		id.Name = attr(m.Name, "displayName")
	}
	if id.Name == "" {
		id.Name = nameID
	}
	if m.EmailVerified != "" {
		v := strings.ToLower(attr(m.EmailVerified, ""))
		id.EmailVerified = v == "true" || v == "1"
	}
	if len(m.ExtraFields) > 0 {
		id.Extra = map[string]string{}
		for field, name := range m.ExtraFields {
			if v := attr(name, ""); v != "" {
				id.Extra[field] = v
			}
		}
	}
	if id.ID == "" || len(id.ID) > samlMaxIDLength {
		return nil, samlErr(SAMLCodeMissingIdentity, "mapped id is empty or too long")
	}
	if id.Email == "" || !strings.Contains(id.Email, "@") {
		return nil, samlErr(SAMLCodeMissingIdentity, "no email attribute and the NameID is not an email")
	}
	return id, nil
}

func samlTrimmed(s string) string { return strings.TrimSpace(s) }
