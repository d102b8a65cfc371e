package authcore

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
)

// Alphabets used for generated strings (spec §4.2).
const (
	alphaNum      = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	alphaNumDash  = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-_"
	lowerAlphaNum = "abcdefghijklmnopqrstuvwxyz0123456789"
	digits        = "0123456789"
	letters       = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)

// Random produces unbiased random strings from an injected source of randomness
// (crypto/rand.Reader in production).
type Random struct {
	src io.Reader
}

// String returns n characters drawn uniformly from alphabet (at most 256 characters) by
// rejection sampling, so no character is more likely than another.
func (r Random) String(n int, alphabet string) (string, error) {
	if len(alphabet) == 0 || len(alphabet) > 256 {
		return "", fmt.Errorf("random: alphabet of %d characters", len(alphabet))
	}
	// Largest multiple of len(alphabet) that fits in a byte: bytes at or above it are
	// rejected so every character keeps the same probability.
	limit := 256 - 256%len(alphabet)
	out := make([]byte, 0, n)
	buf := make([]byte, n+n/2+8)
	for len(out) < n {
		if _, err := io.ReadFull(r.src, buf); err != nil {
			return "", fmt.Errorf("random: reading entropy: %w", err)
		}
		for _, b := range buf {
			if int(b) >= limit {
				continue
			}
			out = append(out, alphabet[int(b)%len(alphabet)])
			if len(out) == n {
				break
			}
		}
	}
	return string(out), nil
}

// ID returns a 32-character [a-zA-Z0-9] identifier (≈190 bits), the format of Better Auth's
// generateId used for every entity id and session token.
func (r Random) ID() (string, error) { return r.String(32, alphaNum) }

// Digits returns an n-digit numeric code.
func (r Random) Digits(n int) (string, error) { return r.String(n, digits) }

// Bytes fills a new slice of n random bytes.
func (r Random) Bytes(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(r.src, b); err != nil {
		return nil, fmt.Errorf("random: reading entropy: %w", err)
	}
	return b, nil
}

// Reader exposes the underlying source (for libraries that take an io.Reader).
func (r Random) Reader() io.Reader { return r.src }

// HashToken is Better Auth's defaultKeyHasher (spec §4.2): base64url without padding of
// SHA-256 of the token. Session tokens, API keys and hashed one-time tokens are stored and
// looked up this way, never in clear (D3).
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
