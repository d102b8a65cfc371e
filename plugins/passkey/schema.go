package passkey

import (
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// ModelPasskey is the model holding registered passkeys.
const ModelPasskey = "passkey"

// passkeyModel is Better Auth's passkey table (spec §5), field for field, plus one hidden
// Gatehouse field:
//
//	name          string   optional   the label the user gave it
//	publicKey     string   required   standard base64 of the COSE public key
//	userId        string   required   owner; deleted with the user
//	credentialID  string   required   base64url (no padding) credential id; unique
//	counter       number   required   last signature counter seen
//	deviceType    string   required   "singleDevice" or "multiDevice" (backup eligible)
//	backedUp      boolean  required   backup state
//	transports    string   optional   comma-joined authenticator transports ("" for none)
//	createdAt     date     optional
//	aaguid        string   optional   authenticator model id, UUID form
//	userHandle    string   hidden     the WebAuthn user handle the credential was created
//	                                  with (Gatehouse; never returned by the API)
//
// credentialID is unique across all users (WebAuthn §7.1: a credential id is registered
// once), which Better Auth only indexes.
func passkeyModel() storage.Model {
	return storage.Model{Name: ModelPasskey, Fields: []storage.Field{
		{Name: "name", Type: storage.TypeString},
		{Name: "publicKey", Type: storage.TypeString, Required: true},
		{Name: "userId", Type: storage.TypeString, Required: true, Indexed: true,
			References: &storage.Reference{Model: authcore.ModelUser, OnDelete: storage.Cascade}},
		{Name: "credentialID", Type: storage.TypeString, Required: true, Unique: true},
		{Name: "counter", Type: storage.TypeNumber, Required: true},
		{Name: "deviceType", Type: storage.TypeString, Required: true},
		{Name: "backedUp", Type: storage.TypeBoolean, Required: true},
		{Name: "transports", Type: storage.TypeString},
		{Name: "createdAt", Type: storage.TypeDate},
		{Name: "aaguid", Type: storage.TypeString},
		{Name: "userHandle", Type: storage.TypeString, Hidden: true},
	}}
}

// Device types (SimpleWebAuthn's CredentialDeviceType).
const (
	deviceSingle = "singleDevice"
	deviceMulti  = "multiDevice"
)

// The user handle: Better Auth's generateRandomString(32, "a-z", "0-9"), sent as the
// base64url of its UTF-8 bytes. Gatehouse keeps it stable per user by storing it on each
// passkey row (see userHandle): a new registration reuses the handle of the user's existing
// passkeys and only a user without any gets a fresh one.
const (
	handleLength   = 32
	handleAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
)

// Challenges: the signed cookie holds a 32-character id; the verification row's identifier
// is that id behind a prefix of this plugin's own, so a signed value taken from another
// cookie can never name (and consume) another flow's row.
const (
	challengeIDLength   = 32
	challengeIDAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	challengePrefix     = "passkey-challenge-"
)

// Ceremony types stored in a challenge row.
const (
	ceremonyRegistration   = "registration"
	ceremonyAuthentication = "authentication"
)

// challengeValue is the JSON in a challenge row's value: Better Auth's
// {"type","expectedChallenge","userData","context"} (spec §4.8) plus go-webauthn's
// SessionData, which is what the finish step verifies against.
type challengeValue struct {
	Type              string               `json:"type"`
	ExpectedChallenge string               `json:"expectedChallenge"`
	UserData          challengeUser        `json:"userData"`
	Context           *string              `json:"context,omitempty"`
	Session           webauthn.SessionData `json:"sessionData"`
}

// challengeUser is the user a ceremony was started for: for registration the session user;
// for authentication the user whose passkeys were offered as allowCredentials ("" when the
// ceremony is discoverable and any user's passkey may answer).
type challengeUser struct {
	ID          string `json:"id"`
	Name        string `json:"name,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
}

// wellFormedID reports whether s could be a challenge id this plugin issued.
func wellFormedID(s string) bool {
	if len(s) != challengeIDLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}
