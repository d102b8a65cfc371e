package password

import "errors"

// Sentinel errors. Functions wrap them with context; callers compare with errors.Is.
var (
	// ErrTooShort: the password has fewer UTF-16 code units than the minimum.
	ErrTooShort = errors.New("password: too short")
	// ErrTooLong: the password has more UTF-16 code units than the maximum.
	ErrTooLong = errors.New("password: too long")
	// ErrUnknownHash: a stored hash is in none of the formats Verify accepts.
	ErrUnknownHash = errors.New("password: unrecognized hash format")
	// ErrMalformedHash: a stored hash is in a known format but cannot be parsed.
	ErrMalformedHash = errors.New("password: malformed hash")
	// ErrInvalidParams: argon2id parameters (configured, or read from a stored hash) are
	// outside the accepted range.
	ErrInvalidParams = errors.New("password: argon2id parameters out of range")
)
