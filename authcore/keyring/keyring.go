package keyring

import (
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"sync"
)

// MinSecretLen is the minimum length of the current secret, in bytes (D7). Previous secrets
// may be shorter: they were accepted once and must keep verifying until rotated out.
const MinSecretLen = 32

// Sentinel errors; functions wrap them with context, callers compare with errors.Is.
var (
	// ErrInvalidSecret: New was given a secret that breaks a rule (named in the message).
	ErrInvalidSecret = errors.New("keyring: invalid secret")
	// ErrDecrypt: Decrypt could not parse, or authenticate, its input with any secret.
	ErrDecrypt = errors.New("keyring: cannot decrypt")
)

// Keyring holds the current secret and the previous ones. Create it with [New]; it is
// immutable and safe for concurrent use.
type Keyring struct {
	keys []*key // current first
}

// key is one secret with everything derived from it, computed once in New.
type key struct {
	secret []byte
	kid    string      // first 8 hex chars of SHA-256(encryption key)
	aead   cipher.AEAD // XChaCha20-Poly1305 keyed with SHA-256(secret)

	// macs holds *macState values: HMAC-SHA256 states already keyed with secret. Reusing
	// them keeps Verify, on the gateway's hot path, free of allocations (hmac.New alone
	// costs five). The pool belongs to this key of this Keyring; nothing is shared across
	// keyrings.
	macs sync.Pool
}

type macState struct {
	h     hash.Hash
	chunk [64]byte // strings are copied through here: converting them would allocate
	sum   [sha256.Size]byte
}

// New returns a keyring whose current secret is current; previous secrets, newest first,
// still verify signatures and MACs and still decrypt. The current secret must be at least
// MinSecretLen bytes; no secret may be empty.
func New(current string, previous ...string) (*Keyring, error) {
	if len(current) < MinSecretLen {
		return nil, fmt.Errorf("%w: the current secret must be at least %d bytes long, got %d", ErrInvalidSecret, MinSecretLen, len(current))
	}
	k := &Keyring{keys: make([]*key, 0, 1+len(previous))}
	for i, s := range append([]string{current}, previous...) {
		if s == "" {
			return nil, fmt.Errorf("%w: previous secret %d is empty", ErrInvalidSecret, i)
		}
		kk, err := newKey(s)
		if err != nil {
			return nil, err
		}
		k.keys = append(k.keys, kk)
	}
	return k, nil
}

func newKey(secret string) (*key, error) {
	k := &key{secret: []byte(secret)}
	encKey := sha256.Sum256(k.secret) // spec §4.3: key = SHA-256(UTF-8 secret)
	aead, err := newAEAD(encKey[:])
	if err != nil {
		return nil, fmt.Errorf("keyring: creating cipher: %w", err)
	}
	k.aead = aead
	id := sha256.Sum256(encKey[:])
	k.kid = hex.EncodeToString(id[:kidLen/2])
	k.macs.New = func() any { return &macState{h: hmac.New(sha256.New, k.secret)} }
	return k, nil
}

// Secrets returns copies of the secrets, current first.
func (k *Keyring) Secrets() [][]byte {
	out := make([][]byte, len(k.keys))
	for i, kk := range k.keys {
		out[i] = append([]byte(nil), kk.secret...)
	}
	return out
}

// mac returns HMAC-SHA256(secret, prefix || [0x00 || data]) — the NUL and data only when
// withData — using a pooled state.
func (kk *key) mac(prefix string, withData bool, data []byte) [sha256.Size]byte {
	st := kk.macs.Get().(*macState)
	for s := prefix; s != ""; {
		n := copy(st.chunk[:], s)
		st.h.Write(st.chunk[:n])
		s = s[n:]
	}
	if withData {
		st.chunk[0] = 0
		st.h.Write(st.chunk[:1])
		st.h.Write(data)
	}
	st.h.Sum(st.sum[:0])
	out := st.sum
	// Leave nothing of this message in the pooled state.
	st.h.Reset()
	clear(st.chunk[:])
	clear(st.sum[:])
	kk.macs.Put(st)
	return out
}
