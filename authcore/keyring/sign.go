package keyring

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"strings"
)

// sigLen is the length of a base64 (standard, padded) HMAC-SHA256: 43 characters and one '='.
const sigLen = 44

// Sign returns value + "." + base64std(HMAC-SHA256(current secret, value)): Better Auth's
// signed-cookie value (spec §2.2), not yet percent-encoded.
func (k *Keyring) Sign(value string) string {
	mac := k.keys[0].mac(value, false, nil)
	var sig [sigLen]byte
	base64.StdEncoding.Encode(sig[:], mac[:])
	var b strings.Builder
	b.Grow(len(value) + 1 + sigLen)
	b.WriteString(value)
	b.WriteByte('.')
	b.Write(sig[:])
	return b.String()
}

// Verify checks a signed value made by Sign with the current or a previous secret and returns
// the value. Like Better Auth it splits at the last '.', so the value may contain dots, and
// requires a 44-character signature ending in '='. It compares base64 text in constant time,
// so only the canonical spelling of a signature is accepted. It allocates nothing (HMAC states
// are pooled per secret).
func (k *Keyring) Verify(signed string) (value string, ok bool) {
	i := strings.LastIndexByte(signed, '.')
	if i < 0 {
		return "", false
	}
	value, sig := signed[:i], signed[i+1:]
	if len(sig) != sigLen || sig[sigLen-1] != '=' {
		return "", false
	}
	var got, want [sigLen]byte
	copy(got[:], sig)
	for _, kk := range k.keys {
		mac := kk.mac(value, false, nil)
		base64.StdEncoding.Encode(want[:], mac[:])
		if subtle.ConstantTimeCompare(want[:], got[:]) == 1 {
			return value, true
		}
	}
	return "", false
}

// MAC returns HMAC-SHA256(current secret, purpose || 0x00 || data), for values derived from
// the secret such as opaque session handles (D3). purpose names the use, so a MAC made for one
// use never verifies for another; it is a constant of the calling code and must not contain
// NUL (MAC panics if it does, as the encoding would then be ambiguous).
func (k *Keyring) MAC(purpose string, data []byte) []byte {
	checkPurpose(purpose)
	mac := k.keys[0].mac(purpose, true, data)
	return mac[:]
}

// VerifyMAC reports whether mac is MAC(purpose, data) under the current or a previous secret,
// comparing in constant time.
func (k *Keyring) VerifyMAC(purpose string, data, mac []byte) bool {
	checkPurpose(purpose)
	if len(mac) != sha256.Size {
		return false
	}
	for _, kk := range k.keys {
		want := kk.mac(purpose, true, data)
		if hmac.Equal(want[:], mac) {
			return true
		}
	}
	return false
}

func checkPurpose(purpose string) {
	if strings.IndexByte(purpose, 0) >= 0 {
		panic("keyring: MAC purpose contains a NUL byte")
	}
}
