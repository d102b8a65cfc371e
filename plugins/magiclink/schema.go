package magiclink

import "github.com/gatehouse-auth/gatehouse/authcore"

// The plugin adds no models or fields. A pending link is one row of the core verification
// model (spec §4.8):
//
//	identifier  the token's hash (store_token hashed, the default) or the token itself
//	value       JSON {"email","name"}
//	expiresAt   now + expires_in
//
// Better Auth's allowedAttempts is deprecated there and ignored (every token is consumed on
// its first use), so no attempt counter is stored.

// Token shape: generateRandomString(32, a-z, A-Z).
const (
	tokenLength   = 32
	tokenAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)

// linkValue is the JSON stored in the verification row's value.
type linkValue struct {
	Email string `json:"email"`
	Name  string `json:"name,omitempty"`
}

// identifier is the verification identifier a token is stored under.
func (p *Plugin) identifier(token string) string {
	if p.hashed {
		return authcore.HashToken(token)
	}
	return token
}

// wellFormed reports whether s could be a token this plugin issued. Anything else is refused
// before storage is touched, so a crafted "token" can never name (and consume) another
// flow's verification row, whose identifiers all contain characters a token cannot.
func wellFormed(s string) bool {
	if len(s) != tokenLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}
