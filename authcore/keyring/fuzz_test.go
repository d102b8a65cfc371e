package keyring

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"testing"
)

// signWith is spec §2.2's signature computed independently of the package.
func signWith(secret []byte, value string) string {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(value))
	return value + "." + base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// FuzzVerify checks that Verify never panics and accepts exactly what one of the keyring's
// secrets signs.
func FuzzVerify(f *testing.F) {
	k := mustNew(f, liveSecret, "previous")
	for _, s := range []string{
		liveToken + "." + liveSig,
		k.Sign("a.b.c"),
		signWith([]byte("previous"), "x"),
		"", ".", "a.", "." + liveSig, liveToken + "." + liveSig[:43],
		"\xff\xfe." + liveSig,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, signed string) {
		value, ok := k.Verify(signed)
		if !ok {
			if value != "" {
				t.Fatalf("Verify(%q) = %q, false; want an empty value", signed, value)
			}
			return
		}
		for _, secret := range k.Secrets() {
			if signed == signWith(secret, value) {
				return
			}
		}
		t.Fatalf("Verify accepted %q, which no secret signs for %q", signed, value)
	})
}

// FuzzDecrypt checks that Decrypt and NeedsReencrypt never panic, that every failure is
// ErrDecrypt, and that whatever decrypts round-trips.
func FuzzDecrypt(f *testing.F) {
	k := mustNew(f, liveSecret, "previous")
	enc, err := k.Encrypt(nil, []byte("JBSWY3DPEHPK3PXP"))
	if err != nil {
		f.Fatal(err)
	}
	bare := betterAuthEncrypt(f, "previous", []byte("x"))
	for _, s := range []string{
		enc, bare, "$ba$1$" + bare, "$ba$", "$gh$", "$gh$00000000$", "$ba$1$", "00",
		enc[:len(enc)-1], "$gh$" + enc[4:12] + "$" + bare, "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		pt, err := k.Decrypt(s)
		reencrypt := k.NeedsReencrypt(s)
		if err != nil {
			if !errors.Is(err, ErrDecrypt) || pt != nil || !reencrypt {
				t.Fatalf("Decrypt(%q) = %q, %v (NeedsReencrypt %v); want nil, ErrDecrypt, true", s, pt, err, reencrypt)
			}
			return
		}
		again, err := k.Encrypt(nil, pt)
		if err != nil {
			t.Fatal(err)
		}
		if back, err := k.Decrypt(again); err != nil || !bytes.Equal(back, pt) {
			t.Fatalf("round trip of %q: %q, %v", pt, back, err)
		}
	})
}
