package keyring

import (
	"crypto/cipher"
	cryptorand "crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	"golang.org/x/crypto/chacha20poly1305"
)

// Envelope prefixes. "$gh$<kid>$<hex>" is Gatehouse's; "$ba$<version>$<hex>" is Better
// Auth's when it is configured with versioned secrets (its version numbers mean nothing
// here, so every secret is tried).
const (
	ghPrefix = "$gh$"
	baPrefix = "$ba$"
	kidLen   = 8 // hex chars

	nonceLen = chacha20poly1305.NonceSizeX // 24
	tagLen   = chacha20poly1305.Overhead   // 16
)

func newAEAD(k []byte) (cipher.AEAD, error) { return chacha20poly1305.NewX(k) }

// Encrypt encrypts plaintext with the current secret as Better Auth's symmetricEncrypt does
// (spec §4.3) and returns "$gh$<kid>$<hex of nonce ‖ ciphertext ‖ tag>". rand supplies the
// 24-byte nonce (crypto/rand.Reader when nil); XChaCha20's nonce is large enough to be
// random.
func (k *Keyring) Encrypt(rand io.Reader, plaintext []byte) (string, error) {
	if rand == nil {
		rand = cryptorand.Reader
	}
	kk := k.keys[0]
	sealed := make([]byte, nonceLen, nonceLen+len(plaintext)+tagLen)
	if _, err := io.ReadFull(rand, sealed); err != nil {
		return "", fmt.Errorf("keyring: encrypting: reading nonce: %w", err)
	}
	sealed = kk.aead.Seal(sealed, sealed[:nonceLen], plaintext, nil)

	out := make([]byte, 0, len(ghPrefix)+kidLen+1+hex.EncodedLen(len(sealed)))
	out = append(out, ghPrefix...)
	out = append(out, kk.kid...)
	out = append(out, '$')
	out = hex.AppendEncode(out, sealed)
	return string(out), nil
}

// Decrypt returns the plaintext of a value made by Encrypt with the current or a previous
// secret, or by Better Auth ("$ba$<version>$<hex>" or bare hex). Hex must be lower case, as
// both write it, so every ciphertext has one spelling. Every failure wraps ErrDecrypt and
// never echoes the input.
func (k *Keyring) Decrypt(s string) ([]byte, error) {
	pt, _, err := k.open(s)
	return pt, err
}

// NeedsReencrypt reports whether s does not decrypt with the current secret: it was made with
// a previous one, or is corrupt (then Decrypt reports why). `gatehouse secret reencrypt`
// re-encrypts such values before an old secret is dropped.
func (k *Keyring) NeedsReencrypt(s string) bool {
	_, i, err := k.open(s)
	return err != nil || i != 0
}

// open decrypts s and returns the index of the secret that did it.
func (k *Keyring) open(s string) ([]byte, int, error) {
	payload, kid, err := parseEnvelope(s)
	if err != nil {
		return nil, -1, err
	}
	if len(payload) < 2*(nonceLen+tagLen) || len(payload)%2 != 0 || !isLowerHex(payload) {
		return nil, -1, fmt.Errorf("%w: ciphertext is not lower-case hex of at least %d bytes", ErrDecrypt, nonceLen+tagLen)
	}
	raw, err := hex.DecodeString(payload)
	if err != nil { // unreachable after isLowerHex; kept so a change there cannot panic below
		return nil, -1, fmt.Errorf("%w: ciphertext is not hex", ErrDecrypt)
	}
	nonce, sealed := raw[:nonceLen], raw[nonceLen:]
	tried := false
	for i, kk := range k.keys {
		if kid != "" && kk.kid != kid {
			continue
		}
		tried = true
		// Open into a new slice: a failed in-place Open would wipe sealed before the next
		// secret is tried.
		if pt, err := kk.aead.Open(nil, nonce, sealed, nil); err == nil {
			return pt, i, nil
		}
	}
	if !tried {
		return nil, -1, fmt.Errorf("%w: no secret has key id %q", ErrDecrypt, kid)
	}
	return nil, -1, fmt.Errorf("%w: message authentication failed", ErrDecrypt)
}

// parseEnvelope returns the hex payload and, for Gatehouse's envelope, the key id.
func parseEnvelope(s string) (payload, kid string, err error) {
	if rest, ok := strings.CutPrefix(s, ghPrefix); ok {
		if len(rest) <= kidLen || rest[kidLen] != '$' || !isLowerHex(rest[:kidLen]) {
			return "", "", fmt.Errorf("%w: malformed $gh$ envelope", ErrDecrypt)
		}
		return rest[kidLen+1:], rest[:kidLen], nil
	}
	if rest, ok := strings.CutPrefix(s, baPrefix); ok {
		version, payload, ok := strings.Cut(rest, "$")
		if !ok || version == "" || len(version) > 10 || strings.Trim(version, "0123456789") != "" {
			return "", "", fmt.Errorf("%w: malformed $ba$ envelope", ErrDecrypt)
		}
		return payload, "", nil
	}
	return s, "", nil
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
