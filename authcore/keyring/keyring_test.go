package keyring

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/chacha20poly1305"
)

// The live vector of spec §2.2, and better-auth's test secret.
const (
	liveSecret = "test-secret-0123456789abcdef0123456789abcdef"
	liveToken  = "1ZFiKnZcxVa2nauZo1tOKF17tG30BE6T"
	liveSig    = "QcTbs/SrWDl4snOL5f2hKxhd4MamzHjRoD+tcL3brCE="

	newSecret = "new-secret-after-rotation-0123456789abcdef"
)

func mustNew(t testing.TB, current string, previous ...string) *Keyring {
	t.Helper()
	k, err := New(current, previous...)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSignLiveVector(t *testing.T) {
	k := mustNew(t, liveSecret)
	want := liveToken + "." + liveSig
	if got := k.Sign(liveToken); got != want {
		t.Fatalf("Sign = %q, want %q", got, want)
	}
	if v, ok := k.Verify(want); !ok || v != liveToken {
		t.Fatalf("Verify = %q, %v; want %q, true", v, ok, liveToken)
	}
}

func TestVerifyRefusesTampering(t *testing.T) {
	k := mustNew(t, liveSecret, "previous-secret")
	other := mustNew(t, newSecret)
	signed := liveToken + "." + liveSig

	// The last base64 digit of a 32-byte MAC carries 4 bits and 2 zero bits; changing a
	// zero bit gives another spelling that lenient decoders map to the same MAC.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	last := strings.IndexByte(alphabet, liveSig[42])
	nonCanonical := liveToken + "." + liveSig[:42] + string(alphabet[last^1]) + "="

	tests := []struct{ name, signed string }{
		{"empty", ""},
		{"only a dot", "."},
		{"no signature", liveToken},
		{"empty signature", liveToken + "."},
		{"signature without value", "." + liveSig},
		{"value changed", "2" + signed[1:]},
		{"value extended", liveToken + "x." + liveSig},
		{"signature 43 chars", liveToken + "." + liveSig[:43]},
		{"signature 45 chars", signed + "="},
		{"signature not ending in =", liveToken + "." + liveSig[:43] + "A"},
		{"signature not base64", liveToken + "." + strings.Repeat("!", 43) + "="},
		{"signature url-safe base64", liveToken + "." + strings.NewReplacer("+", "-", "/", "_").Replace(liveSig)},
		{"signature percent-encoded", liveToken + "." + strings.NewReplacer("/", "%2F", "+", "%2B", "=", "%3D").Replace(liveSig)},
		{"non-canonical base64", nonCanonical},
		{"signature of another secret", other.Sign(liveToken)},
		{"extra dot segment after", signed + ".x"},
		{"dot segment before: last dot rule", "x." + signed},
		{"signature in the middle", liveToken + "." + liveSig + "." + liveSig},
	}
	for i := range len(signed) {
		tests = append(tests, struct{ name, signed string }{
			fmt.Sprintf("bit flipped at %d", i),
			signed[:i] + string(signed[i]^1) + signed[i+1:],
		})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if v, ok := k.Verify(tt.signed); ok || v != "" {
				t.Fatalf("Verify(%q) = %q, %v; want refused", tt.signed, v, ok)
			}
		})
	}
}

func TestVerifyValuesWithDots(t *testing.T) {
	k := mustNew(t, liveSecret)
	for _, v := range []string{"a.b", "a.b.c", ".", "...", "", "x" + strings.Repeat(".", 100)} {
		if got, ok := k.Verify(k.Sign(v)); !ok || got != v {
			t.Errorf("Verify(Sign(%q)) = %q, %v", v, got, ok)
		}
	}
	// A signature of "a.b" does not vouch for "a": splitting happens at the last dot only.
	if v, ok := k.Verify(strings.Replace(k.Sign("a.b"), "a.b.", "a.", 1)); ok {
		t.Fatalf("Verify accepted %q", v)
	}
}

func TestPreviousSecretsVerify(t *testing.T) {
	old := mustNew(t, liveSecret)
	rotated := mustNew(t, newSecret, liveSecret, "an-even-older-short-secret")
	oldest := mustNew(t, "an-even-older-short-secret-padded-to-32-bytes")

	if v, ok := rotated.Verify(old.Sign("s1")); !ok || v != "s1" {
		t.Fatal("a signature by the previous secret does not verify after rotation")
	}
	// New signatures use the current secret only.
	if got, want := rotated.Sign("s1"), mustNew(t, newSecret).Sign("s1"); got != want {
		t.Fatalf("Sign after rotation = %q, want the current secret's %q", got, want)
	}
	if _, ok := old.Verify(rotated.Sign("s1")); ok {
		t.Fatal("the old keyring verifies the new secret's signature")
	}
	if _, ok := rotated.Verify(oldest.Sign("s1")); ok {
		t.Fatal("a secret that is not in the keyring verifies")
	}
}

func TestNewRefusesBadSecrets(t *testing.T) {
	s32 := strings.Repeat("x", 32)
	tests := []struct {
		name     string
		current  string
		previous []string
		wantErr  string // "" means accepted
	}{
		{"32 bytes", s32, nil, ""},
		{"31 bytes", s32[:31], nil, "at least 32 bytes"},
		{"empty current", "", nil, "at least 32 bytes"},
		{"31 bytes in 11 runes counts bytes", strings.Repeat("€", 10) + "x", nil, "at least 32 bytes"},
		{"33 bytes in 11 runes", strings.Repeat("€", 11), nil, ""},
		{"short previous", s32, []string{"short"}, ""},
		{"empty previous", s32, []string{"short", ""}, "previous secret 2 is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := New(tt.current, tt.previous...)
			if tt.wantErr == "" {
				if err != nil || k == nil {
					t.Fatalf("New = %v, %v; want a keyring", k, err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidSecret) || !strings.Contains(err.Error(), tt.wantErr) || k != nil {
				t.Fatalf("New = %v, %v; want ErrInvalidSecret naming %q", k, err, tt.wantErr)
			}
			if tt.current != "" && strings.Contains(err.Error(), tt.current) {
				t.Fatalf("error %q echoes the secret", err)
			}
		})
	}
}

func TestSecretsAreCopies(t *testing.T) {
	k := mustNew(t, liveSecret, "prev")
	s := k.Secrets()
	if len(s) != 2 || string(s[0]) != liveSecret || string(s[1]) != "prev" {
		t.Fatalf("Secrets = %q", s)
	}
	s[0][0] = 'X'
	if string(k.Secrets()[0]) != liveSecret || k.Sign(liveToken) != liveToken+"."+liveSig {
		t.Fatal("changing the result of Secrets changed the keyring")
	}
}

func TestMAC(t *testing.T) {
	k := mustNew(t, liveSecret)
	data := []byte("session-id-123")
	mac := k.MAC("session-handle", data)

	// Independent computation: HMAC-SHA256(secret, purpose || 0x00 || data).
	h := hmac.New(sha256.New, []byte(liveSecret))
	h.Write([]byte("session-handle\x00session-id-123"))
	if want := h.Sum(nil); !bytes.Equal(mac, want) {
		t.Fatalf("MAC = %x, want %x", mac, want)
	}

	rotated := mustNew(t, newSecret, liveSecret)
	tests := []struct {
		name    string
		k       *Keyring
		purpose string
		data    []byte
		mac     []byte
		want    bool
	}{
		{"same", k, "session-handle", data, mac, true},
		{"previous secret", rotated, "session-handle", data, mac, true},
		{"other purpose", k, "api-key", data, mac, false},
		{"other data", k, "session-handle", []byte("session-id-124"), mac, false},
		{"shifted boundary", k, "session-handl", []byte("e\x00session-id-123"), mac, false},
		{"truncated mac", k, "session-handle", data, mac[:31], false},
		{"empty mac", k, "session-handle", data, nil, false},
		{"secret not in keyring", mustNew(t, newSecret), "session-handle", data, mac, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.k.VerifyMAC(tt.purpose, tt.data, tt.mac); got != tt.want {
				t.Fatalf("VerifyMAC = %v, want %v", got, tt.want)
			}
		})
	}
	if bytes.Equal(k.MAC("ab", []byte("c")), k.MAC("a", []byte("bc"))) {
		t.Fatal("MAC does not separate purpose from data")
	}
	if !bytes.Equal(rotated.MAC("p", data), mustNew(t, newSecret).MAC("p", data)) {
		t.Fatal("MAC after rotation does not use the current secret")
	}
}

func TestMACPanicsOnNULPurpose(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("MAC with a NUL in purpose did not panic")
		}
	}()
	mustNew(t, liveSecret).MAC("a\x00b", nil)
}

// betterAuthEncrypt is spec §4.3 built directly on x/crypto: XChaCha20-Poly1305 keyed with
// SHA-256(secret), hex(nonce ‖ ciphertext ‖ tag).
func betterAuthEncrypt(t testing.TB, secret string, plaintext []byte) string {
	t.Helper()
	key := sha256.Sum256([]byte(secret))
	aead, err := chacha20poly1305.NewX(key[:])
	if err != nil {
		t.Fatal(err)
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(aead.Seal(nonce, nonce, plaintext, nil))
}

func TestEncryptRoundTrip(t *testing.T) {
	k := mustNew(t, liveSecret)
	key := sha256.Sum256([]byte(liveSecret))
	kidSum := sha256.Sum256(key[:])
	kid := hex.EncodeToString(kidSum[:])[:8]
	format := regexp.MustCompile(`^\$gh\$` + kid + `\$[0-9a-f]+$`)

	for _, pt := range [][]byte{nil, {0}, []byte("JBSWY3DPEHPK3PXP"), bytes.Repeat([]byte{0xff}, 10_000)} {
		enc, err := k.Encrypt(nil, pt)
		if err != nil {
			t.Fatal(err)
		}
		if !format.MatchString(enc) || len(enc) != len("$gh$12345678$")+2*(24+len(pt)+16) {
			t.Fatalf("Encrypt(%d bytes) = %.60q…, want $gh$%s$<hex of nonce ‖ ciphertext ‖ tag>", len(pt), enc, kid)
		}
		got, err := k.Decrypt(enc)
		if err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("Decrypt = %.40q, %v; want the plaintext", got, err)
		}
		if k.NeedsReencrypt(enc) {
			t.Fatal("NeedsReencrypt = true for the current secret's ciphertext")
		}
		// Without the envelope it is exactly Better Auth's bare hex under this secret.
		if got, err := k.Decrypt(enc[len("$gh$12345678$"):]); err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("Decrypt(bare payload) = %v", err)
		}
	}
}

func TestEncryptUsesRandForNonces(t *testing.T) {
	k := mustNew(t, liveSecret)
	nonce := bytes.Repeat([]byte{7}, 24)
	enc, err := k.Encrypt(bytes.NewReader(nonce), []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc[len("$gh$12345678$"):], hex.EncodeToString(nonce)) {
		t.Fatalf("Encrypt did not take its nonce from rand: %q", enc)
	}
	if _, err := k.Encrypt(bytes.NewReader(nonce[:23]), []byte("x")); err == nil {
		t.Fatal("Encrypt with a short rand succeeded")
	}
	a, _ := k.Encrypt(nil, []byte("x"))
	b, _ := k.Encrypt(nil, []byte("x"))
	if a == b {
		t.Fatal("two encryptions of one plaintext are equal")
	}
}

func TestDecryptRefusesTampering(t *testing.T) {
	k := mustNew(t, liveSecret, "previous")
	enc, err := k.Encrypt(nil, []byte("JBSWY3DPEHPK3PXP"))
	if err != nil {
		t.Fatal(err)
	}
	bare := betterAuthEncrypt(t, liveSecret, []byte("JBSWY3DPEHPK3PXP"))
	for _, s := range []string{enc, bare, "$ba$1$" + bare} {
		for i := range len(s) {
			if i == len("$ba$") && strings.HasPrefix(s, "$ba$") {
				// Better Auth's version number names one of its secrets; Gatehouse has no versions
				// and tries every secret. It is not authenticated, in Better Auth either.
				continue
			}
			for _, mask := range []byte{0x01, 0x20, 0x80} {
				tampered := s[:i] + string([]byte{s[i] ^ mask}) + s[i+1:]
				if pt, err := k.Decrypt(tampered); !errors.Is(err, ErrDecrypt) {
					t.Fatalf("Decrypt(%q with byte %d ^ %#x) = %q, %v; want ErrDecrypt", s[:16], i, mask, pt, err)
				}
			}
		}
		for _, cut := range []int{1, 2, 32, len(s) / 2, len(s) - 1} {
			if _, err := k.Decrypt(s[:len(s)-cut]); !errors.Is(err, ErrDecrypt) {
				t.Fatalf("Decrypt(truncated by %d) = %v; want ErrDecrypt", cut, err)
			}
		}
		if _, err := k.Decrypt(s + "00"); !errors.Is(err, ErrDecrypt) {
			t.Fatalf("Decrypt(extended) = %v; want ErrDecrypt", err)
		}
	}
}

func TestDecryptAfterRotation(t *testing.T) {
	old := mustNew(t, liveSecret)
	enc, err := old.Encrypt(nil, []byte("totp secret"))
	if err != nil {
		t.Fatal(err)
	}
	rotated := mustNew(t, newSecret, liveSecret)
	got, err := rotated.Decrypt(enc)
	if err != nil || string(got) != "totp secret" {
		t.Fatalf("Decrypt with the previous secret = %q, %v", got, err)
	}
	if !rotated.NeedsReencrypt(enc) {
		t.Fatal("NeedsReencrypt = false for a previous secret's ciphertext")
	}
	again, err := rotated.Encrypt(nil, got)
	if err != nil {
		t.Fatal(err)
	}
	if rotated.NeedsReencrypt(again) {
		t.Fatal("NeedsReencrypt = true after re-encryption")
	}
	// Once the old secret is dropped, its kid is unknown.
	if _, err := mustNew(t, newSecret).Decrypt(enc); !errors.Is(err, ErrDecrypt) || !strings.Contains(err.Error(), "key id") {
		t.Fatalf("Decrypt without the old secret = %v; want ErrDecrypt naming the key id", err)
	}
}

func TestDecryptBetterAuth(t *testing.T) {
	const (
		// Made by better-auth 1.7.25: symmetricEncrypt({key: liveSecret, data: "JBSWY3DPEHPK3PXP"}).
		baBare = "40e9b6d93bb785de057b04e54df69af0e38d6185e140983be4e7b69a2696ea085a52a9be33a78b126683d570ca8338cf7f2f6df8367f422f"
		// Made by better-auth 1.7.25 with secrets {2: baV2Secret, 1: liveSecret}, current 2:
		// symmetricEncrypt({key: config, data: "rotated"}).
		baEnvelope = "$ba$2$7da4dea8245c8cf426bbfc0d4f25bb418dab7ed62c195ae758859ff7086e4c3851a95edbe533aa7de8c7c61443a56f"
		baV2Secret = "second-secret-0123456789abcdef0123456789"
	)
	built := betterAuthEncrypt(t, liveSecret, []byte("built per §4.3"))
	current := mustNew(t, liveSecret)
	rotated := mustNew(t, newSecret, "unrelated-old-secret", liveSecret)
	v2 := mustNew(t, baV2Secret, liveSecret)

	tests := []struct {
		name, in, want string
		k              *Keyring
		reencrypt      bool
	}{
		{"built bare hex, current secret", built, "built per §4.3", current, false},
		{"built bare hex, previous secret", built, "built per §4.3", rotated, true},
		{"built, in a $ba$ envelope", "$ba$1$" + built, "built per §4.3", rotated, true},
		{"better-auth bare hex", baBare, "JBSWY3DPEHPK3PXP", current, false},
		{"better-auth bare hex, previous secret", baBare, "JBSWY3DPEHPK3PXP", rotated, true},
		{"better-auth $ba$2$ envelope", baEnvelope, "rotated", v2, false},
		{"better-auth $ba$2$ envelope, previous secret", baEnvelope, "rotated", mustNew(t, newSecret, baV2Secret), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.k.Decrypt(tt.in)
			if err != nil || string(got) != tt.want {
				t.Fatalf("Decrypt = %q, %v; want %q", got, err, tt.want)
			}
			if r := tt.k.NeedsReencrypt(tt.in); r != tt.reencrypt {
				t.Fatalf("NeedsReencrypt = %v, want %v", r, tt.reencrypt)
			}
		})
	}
	if _, err := current.Decrypt(baEnvelope); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("Decrypt with the wrong secret = %v; want ErrDecrypt", err)
	}
}

func TestDecryptMalformed(t *testing.T) {
	k := mustNew(t, liveSecret)
	bare := betterAuthEncrypt(t, liveSecret, []byte("x"))
	enc, _ := k.Encrypt(nil, []byte("x"))
	payload := enc[len("$gh$12345678$"):]
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"upper-case hex", strings.ToUpper(bare)},
		{"odd length", bare[:len(bare)-1]},
		{"shorter than nonce and tag", bare[:78]},
		{"not hex", "zz" + bare[2:]},
		{"$gh$ without kid", "$gh$" + payload},
		{"$gh$ short kid", "$gh$1234567$" + payload},
		{"$gh$ upper-case kid", strings.ToUpper(enc[:12]) + enc[12:]},
		{"$gh$ unknown kid", "$gh$00000000$" + payload},
		{"$gh$ only", "$gh$"},
		{"$ba$ only", "$ba$"},
		{"$ba$ without version", "$ba$$" + bare},
		{"$ba$ non-numeric version", "$ba$v1$" + bare},
		{"$ba$ negative version", "$ba$-1$" + bare},
		{"$ba$ without payload separator", "$ba$1" + bare},
		{"$ba$ huge version", "$ba$12345678901$" + bare},
		{"other envelope", "$xx$1$" + bare},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pt, err := k.Decrypt(tt.in)
			if !errors.Is(err, ErrDecrypt) || pt != nil {
				t.Fatalf("Decrypt = %q, %v; want ErrDecrypt", pt, err)
			}
			if len(tt.in) > 20 && strings.Contains(err.Error(), tt.in[len(tt.in)-20:]) {
				t.Fatalf("error %q echoes the ciphertext", err)
			}
			if !k.NeedsReencrypt(tt.in) {
				t.Fatal("NeedsReencrypt = false for an undecryptable value")
			}
		})
	}
}

// TestConcurrentUse exercises the pooled HMAC states from many goroutines; run with -race.
func TestConcurrentUse(t *testing.T) {
	k := mustNew(t, liveSecret, "previous-secret")
	var wg sync.WaitGroup
	errs := make(chan string, 100)
	for i := range 100 {
		wg.Go(func() {
			v := fmt.Sprintf("value-%d.%s", i, strings.Repeat("x", i*7))
			s := k.Sign(v)
			if got, ok := k.Verify(s); !ok || got != v {
				errs <- "Verify(Sign(v)) failed for " + v
			}
			swap := "A="
			if s[len(s)-2] == 'A' {
				swap = "E="
			}
			if _, ok := k.Verify(s[:len(s)-2] + swap); ok {
				errs <- "tampered signature verified"
			}
			if !k.VerifyMAC("p", []byte(v), k.MAC("p", []byte(v))) {
				errs <- "VerifyMAC(MAC) failed"
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestVerifyDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	k := mustNew(t, liveSecret, "previous-secret")
	signed := liveToken + "." + liveSig
	if n := testing.AllocsPerRun(1000, func() { k.Verify(signed) }); n != 0 {
		t.Fatalf("Verify: %v allocations per call, want 0", n)
	}
	if n := testing.AllocsPerRun(1000, func() { k.Sign(liveToken) }); n != 1 {
		t.Fatalf("Sign: %v allocations per call, want 1 (the result)", n)
	}
}

func BenchmarkSign(b *testing.B) {
	k := mustNew(b, liveSecret, "previous-secret")
	b.ReportAllocs()
	for b.Loop() {
		k.Sign(liveToken)
	}
}

func BenchmarkVerify(b *testing.B) {
	k := mustNew(b, liveSecret, "previous-secret")
	signed := liveToken + "." + liveSig
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := k.Verify(signed); !ok {
			b.Fatal("not verified")
		}
	}
}

// BenchmarkVerifyPrevious is the cost during a rotation: the current secret fails first.
func BenchmarkVerifyPrevious(b *testing.B) {
	k := mustNew(b, newSecret, liveSecret)
	signed := liveToken + "." + liveSig
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := k.Verify(signed); !ok {
			b.Fatal("not verified")
		}
	}
}

func BenchmarkVerifyMAC(b *testing.B) {
	k := mustNew(b, liveSecret)
	data := []byte("session-id-0123456789")
	mac := k.MAC("session-handle", data)
	b.ReportAllocs()
	for b.Loop() {
		if !k.VerifyMAC("session-handle", data, mac) {
			b.Fatal("not verified")
		}
	}
}

func BenchmarkDecrypt(b *testing.B) {
	k := mustNew(b, liveSecret)
	enc, err := k.Encrypt(nil, []byte("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Decrypt(enc); err != nil {
			b.Fatal(err)
		}
	}
}
