package password

import (
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/scrypt"
	"golang.org/x/text/unicode/norm"
)

// Hasher hashes and verifies passwords. Implementations must be safe for concurrent use.
type Hasher interface {
	// Hash returns an encoded hash of password, with a fresh random salt.
	Hash(password string) (string, error)
	// Verify reports whether password matches encoded. rehash reports that encoded uses an
	// outdated algorithm or parameters: the caller replaces it with Hash(password) after a
	// successful sign-in. err is only for technical failures or unparseable hashes.
	Verify(password, encoded string) (ok, rehash bool, err error)
	// FakeVerify does the same work as a Verify of a real hash, for unknown accounts, so
	// timing does not reveal whether an account exists.
	FakeVerify(password string)
}

// Argon2id is the default [Hasher]: it creates argon2id hashes and verifies argon2id and
// Better Auth scrypt hashes. Its zero value is not usable; create it with [NewArgon2id].
type Argon2id struct {
	params Argon2Params

	// sem holds one token per running hash computation (PWD-04).
	sem chan struct{}

	randMu sync.Mutex // serializes salt reads, so any io.Reader will do
	rand   io.Reader

	// fake returns the dummy hash FakeVerify checks against, computed on first use.
	fake func() string

	// Seams for tests in this package; production uses argon2.IDKey and scrypt.Key.
	argon2Key func(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte
	scryptKey func(password, salt []byte, N, r, p, keyLen int) ([]byte, error)
	onWait    func() // called when a computation has to wait for a slot
}

var _ Hasher = (*Argon2id)(nil)

// NewArgon2id returns an argon2id [Hasher] that hashes with p and runs at most
// maxConcurrent hash computations at once (2×GOMAXPROCS when maxConcurrent ≤ 0). Callers
// beyond the cap wait, in no particular order, until a computation ends; waiting cannot be
// cancelled, which is fine because every computation ends within its (bounded) cost.
//
// rand supplies salts (crypto/rand.Reader when nil); reads are serialized, so it need not be
// safe for concurrent use. NewArgon2id panics if p is invalid: configuration code calls
// [Argon2Params.Validate] first and reports the error.
func NewArgon2id(p Argon2Params, maxConcurrent int, rand io.Reader) *Argon2id {
	if err := p.Validate(); err != nil {
		panic(fmt.Sprintf("password.NewArgon2id: %v", err))
	}
	if maxConcurrent <= 0 {
		maxConcurrent = 2 * runtime.GOMAXPROCS(0)
	}
	h := &Argon2id{
		params:    p,
		sem:       make(chan struct{}, maxConcurrent),
		rand:      rand,
		argon2Key: argon2.IDKey,
		scryptKey: scrypt.Key,
	}
	h.fake = sync.OnceValue(h.dummyHash)
	return h
}

// Hash returns a PHC-format argon2id hash of the NFKC-normalized password.
func (h *Argon2id) Hash(password string) (string, error) {
	salt := make([]byte, h.params.SaltLen)
	if err := h.readSalt(salt); err != nil {
		return "", fmt.Errorf("password: reading salt: %w", err)
	}
	key := h.argon2id(password, salt, h.params)
	return encodeArgon2id(h.params, salt, key), nil
}

// Verify checks password against an argon2id PHC string or a Better Auth scrypt hash, in
// constant time. rehash is true only when ok is, so a hash is never replaced on a wrong
// password.
func (h *Argon2id) Verify(password, encoded string) (ok, rehash bool, err error) {
	switch {
	case strings.HasPrefix(encoded, argon2idPrefix):
		stored, err := parseArgon2id(encoded)
		if err != nil {
			return false, false, fmt.Errorf("password: verifying: %w", err)
		}
		key := h.argon2id(password, stored.salt, stored.params)
		ok = subtle.ConstantTimeCompare(key, stored.key) == 1
		return ok, ok && stored.params != h.params, nil

	case looksLikeScrypt(encoded):
		salt, want, err := parseScrypt(encoded)
		if err != nil {
			return false, false, fmt.Errorf("password: verifying: %w", err)
		}
		key, err := h.scrypt(password, salt)
		if err != nil {
			return false, false, fmt.Errorf("password: verifying scrypt hash: %w", err)
		}
		ok = subtle.ConstantTimeCompare(key, want) == 1
		// Better Auth's scrypt is always upgraded to argon2id.
		return ok, ok, nil
	}
	return false, false, fmt.Errorf("password: verifying: %w", ErrUnknownHash)
}

// FakeVerify verifies password against a dummy argon2id hash made with the hasher's own
// parameters, and discards the result, so a sign-in for an unknown account takes as long as
// one with a wrong password (D18). Accounts whose stored hash is still Better Auth's
// scrypt cost somewhat more than this until they are upgraded.
func (h *Argon2id) FakeVerify(password string) {
	_, _, _ = h.Verify(password, h.fake())
}

// dummyHash builds FakeVerify's hash. It uses a fixed salt and password, so building it
// cannot fail; the first FakeVerify pays for one extra computation.
func (h *Argon2id) dummyHash() string {
	salt := make([]byte, h.params.SaltLen)
	copy(salt, "gatehouse-fake-verify-salt")
	return encodeArgon2id(h.params, salt, h.argon2id("gatehouse fake password", salt, h.params))
}

// argon2id computes the key within the concurrency cap.
func (h *Argon2id) argon2id(password string, salt []byte, p Argon2Params) []byte {
	pw := []byte(norm.NFKC.String(password))
	h.acquire()
	defer h.release()
	return h.argon2Key(pw, salt, p.Time, p.Memory, p.Threads, p.KeyLen)
}

// scrypt computes Better Auth's scrypt key within the concurrency cap.
func (h *Argon2id) scrypt(password string, salt []byte) ([]byte, error) {
	pw := []byte(norm.NFKC.String(password))
	h.acquire()
	defer h.release()
	return h.scryptKey(pw, salt, scryptN, scryptR, scryptP, scryptKeyLen)
}

func (h *Argon2id) acquire() {
	select {
	case h.sem <- struct{}{}:
		return
	default:
	}
	if h.onWait != nil {
		h.onWait()
	}
	h.sem <- struct{}{}
}

func (h *Argon2id) release() { <-h.sem }

func (h *Argon2id) readSalt(salt []byte) error {
	h.randMu.Lock()
	defer h.randMu.Unlock()
	r := h.rand
	if r == nil {
		r = rand.Reader
	}
	_, err := io.ReadFull(r, salt)
	return err
}
