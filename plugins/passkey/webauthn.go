package passkey

import (
	"encoding/base64"
	"strings"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/google/uuid"

	"github.com/gatehouse-auth/gatehouse/storage"
)

// waUser adapts a Gatehouse user to go-webauthn's User for one ceremony.
type waUser struct {
	handle      []byte
	name        string
	displayName string
	creds       []webauthn.Credential
}

func (u *waUser) WebAuthnID() []byte                         { return u.handle }
func (u *waUser) WebAuthnName() string                       { return u.name }
func (u *waUser) WebAuthnDisplayName() string                { return u.displayName }
func (u *waUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

// credential rebuilds go-webauthn's credential record from a passkey row. Rows written by
// Better Auth carry the same data: the COSE key (standard base64), the credential id
// (base64url), the counter, and the backup flags as deviceType/backedUp. ok is false for a
// row whose encodings are broken.
func credential(row storage.Record) (webauthn.Credential, bool) {
	id, err := decodeB64URL(row.String("credentialID"))
	if err != nil || len(id) == 0 {
		return webauthn.Credential{}, false
	}
	pk, err := decodeB64Std(row.String("publicKey"))
	if err != nil || len(pk) == 0 {
		return webauthn.Credential{}, false
	}
	c := webauthn.Credential{
		ID:        id,
		PublicKey: pk,
		Transport: transports(row.String("transports")),
		Flags: webauthn.CredentialFlags{
			UserPresent:    true,
			BackupEligible: row.String("deviceType") == deviceMulti,
			BackupState:    row.Bool("backedUp"),
		},
		Authenticator: webauthn.Authenticator{SignCount: uint32(row.Int("counter"))},
	}
	if a, err := uuid.Parse(row.String("aaguid")); err == nil {
		c.Authenticator.AAGUID = a[:]
	}
	return c, true
}

// protocolDescriptor is a passkey row as go-webauthn's descriptor.
func protocolDescriptor(row storage.Record) (protocol.CredentialDescriptor, bool) {
	id, err := decodeB64URL(row.String("credentialID"))
	if err != nil || len(id) == 0 {
		return protocol.CredentialDescriptor{}, false
	}
	return protocol.CredentialDescriptor{
		Type:         protocol.PublicKeyCredentialType,
		CredentialID: id,
		Transport:    transports(row.String("transports")),
	}, true
}

func splitTransports(s string) []string {
	var out []string
	for _, t := range strings.Split(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

func transports(s string) []protocol.AuthenticatorTransport {
	var out []protocol.AuthenticatorTransport
	for _, t := range splitTransports(s) {
		out = append(out, protocol.AuthenticatorTransport(t))
	}
	return out
}

func joinTransports(ts []protocol.AuthenticatorTransport) string {
	parts := make([]string, 0, len(ts))
	for _, t := range ts {
		parts = append(parts, string(t))
	}
	return strings.Join(parts, ",")
}

// decodeB64URL accepts base64url with or without padding.
func decodeB64URL(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

// decodeB64Std accepts standard base64 with or without padding.
func decodeB64Std(s string) ([]byte, error) {
	return base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
}

// Options JSON, field for field (and in the order) @simplewebauthn/server produces it, so
// the official passkeyClient hands it to the browser unchanged.

// credentialJSON is an excludeCredentials/allowCredentials entry.
type credentialJSON struct {
	ID         string   `json:"id"`
	Transports []string `json:"transports,omitempty"`
	Type       string   `json:"type"`
}

type rpJSON struct {
	Name string `json:"name"`
	ID   string `json:"id"`
}

type userJSON struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
}

type paramJSON struct {
	Alg  int64  `json:"alg"`
	Type string `json:"type"`
}

type selectionJSON struct {
	ResidentKey             string `json:"residentKey"`
	UserVerification        string `json:"userVerification"`
	AuthenticatorAttachment string `json:"authenticatorAttachment,omitempty"`
	RequireResidentKey      bool   `json:"requireResidentKey"`
}

// creationOptionsJSON is PublicKeyCredentialCreationOptionsJSON.
type creationOptionsJSON struct {
	Challenge              string           `json:"challenge"`
	RP                     rpJSON           `json:"rp"`
	User                   userJSON         `json:"user"`
	PubKeyCredParams       []paramJSON      `json:"pubKeyCredParams"`
	Timeout                int              `json:"timeout"`
	Attestation            string           `json:"attestation"`
	ExcludeCredentials     []credentialJSON `json:"excludeCredentials"`
	AuthenticatorSelection selectionJSON    `json:"authenticatorSelection"`
	Extensions             map[string]any   `json:"extensions"`
	Hints                  []string         `json:"hints"`
}

// requestOptionsJSON is PublicKeyCredentialRequestOptionsJSON.
type requestOptionsJSON struct {
	RPID             string           `json:"rpId"`
	Challenge        string           `json:"challenge"`
	AllowCredentials []credentialJSON `json:"allowCredentials,omitempty"`
	Timeout          int              `json:"timeout"`
	UserVerification string           `json:"userVerification"`
}

// pubKeyCredParams are SimpleWebAuthn's default algorithms: EdDSA, ES256, RS256.
var pubKeyCredParams = []protocol.CredentialParameter{
	{Type: protocol.PublicKeyCredentialType, Algorithm: -8},
	{Type: protocol.PublicKeyCredentialType, Algorithm: -7},
	{Type: protocol.PublicKeyCredentialType, Algorithm: -257},
}
