package password

import (
	"encoding/hex"
	"fmt"
)

// Better Auth's password hash (spec §4.1): scrypt N=16384, r=16, p=1, dkLen=64 over the
// NFKC-normalized password, stored as "<salt hex>:<key hex>", where the salt given to scrypt
// is the ASCII text of the 32 hex characters, not the 16 bytes they spell.
const (
	scryptN      = 16384
	scryptR      = 16
	scryptP      = 1
	scryptKeyLen = 64

	scryptSaltHexLen = 32
	scryptKeyHexLen  = 2 * scryptKeyLen
	scryptHashLen    = scryptSaltHexLen + 1 + scryptKeyHexLen
)

// looksLikeScrypt reports whether s has the shape of a Better Auth scrypt hash: the right
// length with a ':' at the right place. Content errors are then reported as malformed.
func looksLikeScrypt(s string) bool {
	return len(s) == scryptHashLen && s[scryptSaltHexLen] == ':'
}

// parseScrypt returns the scrypt salt (the hex text's bytes) and the expected key. Hex of
// either case is accepted: Better Auth writes lower case but checks nothing when reading.
func parseScrypt(s string) (salt, key []byte, err error) {
	if !looksLikeScrypt(s) {
		return nil, nil, ErrUnknownHash
	}
	saltHex := s[:scryptSaltHexLen]
	for i := 0; i < len(saltHex); i++ {
		if !isHex(saltHex[i]) {
			return nil, nil, fmt.Errorf("%w: scrypt: salt is not hex", ErrMalformedHash)
		}
	}
	key, err = hex.DecodeString(s[scryptSaltHexLen+1:])
	if err != nil {
		return nil, nil, fmt.Errorf("%w: scrypt: key is not hex", ErrMalformedHash)
	}
	return []byte(saltHex), key, nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
