package password

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Argon2Params are argon2id cost parameters.
type Argon2Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes over memory
	Threads uint8  // lanes
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// OWASP returns the OWASP Password Storage Cheat Sheet's argon2id parameters: 19 MiB of
// memory, 2 passes, 1 lane, a 16-byte salt and a 32-byte key (PWD-02).
func OWASP() Argon2Params {
	return Argon2Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// Bounds on argon2id parameters. They apply to the hasher's own parameters and to every
// parameter read from a stored hash, so a corrupt or hostile hash cannot make Verify
// allocate gigabytes or compute for minutes.
const (
	maxMemoryKiB = 1 << 20 // 1 GiB
	maxTime      = 32
	// maxWork caps memory × passes (KiB·passes): 4 GiB·pass, e.g. 1 GiB × 4 or 128 MiB × 32.
	maxWork = 4 << 20
	// Salts we create are at least 16 bytes (PWD-02); stored salts down to RFC 9106's
	// minimum of 8 bytes are still verified (and then rehashed).
	minOwnSaltLen    = 16
	minStoredSaltLen = 8
	maxSaltLen       = 64
	minKeyLen        = 16
	maxKeyLen        = 64
)

const argon2idPrefix = "$argon2id$"

// Validate reports whether p can be used to create hashes. It checks sanity bounds only
// (memory ≤ 1 GiB, 1 ≤ time ≤ 32, threads ≥ 1, memory ≥ 8 KiB per thread, salt 16–64
// bytes, key 16–64 bytes); use [OWASP] for the cost.
func (p Argon2Params) Validate() error {
	if p.SaltLen < minOwnSaltLen || p.SaltLen > maxSaltLen {
		return fmt.Errorf("%w: salt length %d bytes, want %d to %d", ErrInvalidParams, p.SaltLen, minOwnSaltLen, maxSaltLen)
	}
	return checkCost(p.Memory, p.Time, p.Threads, p.KeyLen)
}

func checkCost(memory, time uint32, threads uint8, keyLen uint32) error {
	switch {
	case threads < 1:
		return fmt.Errorf("%w: threads must be at least 1", ErrInvalidParams)
	case memory < 8*uint32(threads):
		// argon2 needs 8 KiB per lane; x/crypto would silently raise m, and the PHC string
		// would then lie about the cost.
		return fmt.Errorf("%w: memory %d KiB, want at least 8 KiB per thread", ErrInvalidParams, memory)
	case memory > maxMemoryKiB:
		return fmt.Errorf("%w: memory %d KiB, want at most %d KiB", ErrInvalidParams, memory, maxMemoryKiB)
	case time < 1 || time > maxTime:
		return fmt.Errorf("%w: time %d, want 1 to %d", ErrInvalidParams, time, maxTime)
	case uint64(memory)*uint64(time) > maxWork:
		return fmt.Errorf("%w: memory×time %d KiB, want at most %d", ErrInvalidParams, uint64(memory)*uint64(time), maxWork)
	case keyLen < minKeyLen || keyLen > maxKeyLen:
		return fmt.Errorf("%w: key length %d bytes, want %d to %d", ErrInvalidParams, keyLen, minKeyLen, maxKeyLen)
	}
	return nil
}

// argon2idHash is a parsed PHC string.
type argon2idHash struct {
	params Argon2Params // SaltLen and KeyLen are those of salt and key
	salt   []byte
	key    []byte
}

// b64 returns the PHC string format's base64: standard alphabet, no padding. Strict refuses
// non-zero trailing bits, so each hash has exactly one spelling. (A function rather than a
// package variable: the package keeps no package-level variables but its common list.)
func b64() *base64.Encoding { return base64.RawStdEncoding.Strict() }

// encodeArgon2id renders $argon2id$v=19$m=<KiB>,t=<time>,p=<threads>$<salt>$<key>.
func encodeArgon2id(p Argon2Params, salt, key []byte) string {
	return fmt.Sprintf("%sv=%d$m=%d,t=%d,p=%d$%s$%s", argon2idPrefix, argon2.Version,
		p.Memory, p.Time, p.Threads, b64().EncodeToString(salt), b64().EncodeToString(key))
}

// parseArgon2id parses a PHC argon2id string strictly: version 19 only, parameters exactly
// m, t, p in that order (no keyid or data), and every parameter within bounds before
// anything is allocated for the computation.
func parseArgon2id(s string) (argon2idHash, error) {
	var h argon2idHash
	rest, ok := strings.CutPrefix(s, argon2idPrefix)
	if !ok {
		return h, ErrUnknownHash
	}
	parts := strings.Split(rest, "$")
	if len(parts) != 4 {
		return h, fmt.Errorf("%w: argon2id: want 5 $-separated fields, got %d", ErrMalformedHash, len(parts)+1)
	}
	v, ok := strings.CutPrefix(parts[0], "v=")
	if !ok {
		return h, fmt.Errorf("%w: argon2id: missing version", ErrMalformedHash)
	}
	version, err := strconv.ParseUint(v, 10, 32)
	if err != nil {
		return h, fmt.Errorf("%w: argon2id: bad version %q", ErrMalformedHash, v)
	}
	if version != argon2.Version {
		return h, fmt.Errorf("%w: argon2id: unsupported version %d (want %d)", ErrMalformedHash, version, argon2.Version)
	}

	fields := strings.Split(parts[1], ",")
	if len(fields) != 3 {
		return h, fmt.Errorf("%w: argon2id: want parameters m,t,p", ErrMalformedHash)
	}
	var nums [3]uint64
	for i, name := range [3]string{"m=", "t=", "p="} {
		val, ok := strings.CutPrefix(fields[i], name)
		if !ok {
			return h, fmt.Errorf("%w: argon2id: want parameter %q at position %d", ErrMalformedHash, name[:1], i+1)
		}
		bits := 32
		if i == 2 {
			bits = 8
		}
		n, err := strconv.ParseUint(val, 10, bits)
		if err != nil {
			return h, fmt.Errorf("%w: argon2id: bad parameter %s%q", ErrMalformedHash, name, val)
		}
		nums[i] = n
	}
	h.params.Memory, h.params.Time, h.params.Threads = uint32(nums[0]), uint32(nums[1]), uint8(nums[2])

	// Check lengths on the encoded text so an oversized field is refused before decoding.
	if n := b64().DecodedLen(len(parts[2])); n < minStoredSaltLen || n > maxSaltLen {
		return h, fmt.Errorf("%w: salt length %d bytes, want %d to %d", ErrInvalidParams, n, minStoredSaltLen, maxSaltLen)
	}
	if n := b64().DecodedLen(len(parts[3])); n < minKeyLen || n > maxKeyLen {
		return h, fmt.Errorf("%w: key length %d bytes, want %d to %d", ErrInvalidParams, n, minKeyLen, maxKeyLen)
	}
	if h.salt, err = b64().DecodeString(parts[2]); err != nil {
		return h, fmt.Errorf("%w: argon2id: salt is not base64: %v", ErrMalformedHash, err)
	}
	if h.key, err = b64().DecodeString(parts[3]); err != nil {
		return h, fmt.Errorf("%w: argon2id: key is not base64: %v", ErrMalformedHash, err)
	}
	h.params.SaltLen, h.params.KeyLen = uint32(len(h.salt)), uint32(len(h.key))
	if err := checkCost(h.params.Memory, h.params.Time, h.params.Threads, h.params.KeyLen); err != nil {
		return h, err
	}
	return h, nil
}
