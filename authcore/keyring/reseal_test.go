package keyring

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

func TestReseal(t *testing.T) {
	const oldS, newS, otherS = "an-old-secret-that-is-32-bytes-long!", "a-new-secret-that-is-32-bytes-long!!", "somebody-elses-secret-32-bytes-long!"
	old, _ := New(oldS)
	other, _ := New(otherS)
	rotated, err := New(newS, oldS)
	if err != nil {
		t.Fatal(err)
	}
	current, _ := New(newS)
	oldEnv, _ := old.Encrypt(nil, []byte("JBSWY3DPEHPK3PXP"))
	newEnv, _ := rotated.Encrypt(nil, []byte("fresh"))
	otherEnv, _ := other.Encrypt(nil, []byte("not ours"))
	bare := betterAuthEncrypt(t, oldS, []byte("ba-secret"))
	digest := sha256.Sum256([]byte("x"))
	longHex := hex.EncodeToString(append(digest[:], digest[:]...)) // hex, long enough, not a ciphertext

	for _, tc := range []struct {
		name      string
		in        string
		resealed  int
		undecrypt int
		plain     []string // what the output's envelopes must open to, in order, with only the new secret
	}{
		{"whole envelope", oldEnv, 1, 0, []string{"JBSWY3DPEHPK3PXP"}},
		{"embedded twice in JSON", `{"a":"` + oldEnv + `","b":["` + oldEnv + `"]}`, 2, 0, []string{"JBSWY3DPEHPK3PXP", "JBSWY3DPEHPK3PXP"}},
		{"current envelope", newEnv, 0, 0, nil},
		{"mixed", oldEnv + " " + newEnv, 1, 0, []string{"JBSWY3DPEHPK3PXP", "fresh"}},
		{"foreign kid", otherEnv, 0, 0, nil},
		{"better-auth bare hex", bare, 1, 0, []string{"ba-secret"}},
		{"better-auth $ba$", "$ba$2$" + bare, 1, 0, []string{"ba-secret"}},
		{"hex digest", hex.EncodeToString(digest[:]), 0, 0, nil},
		{"long hex, not a ciphertext", longHex, 0, 0, nil},
		{"tampered old envelope", oldEnv[:len(oldEnv)-2] + "00", 0, 1, nil},
		{"prefix only", "$gh$", 0, 0, nil},
		{"plain text", "hello $gh$ world", 0, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, res, err := rotated.Reseal(nil, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if res.Resealed != tc.resealed || res.Undecryptable != tc.undecrypt {
				t.Fatalf("result %+v, want %d resealed, %d undecryptable", res, tc.resealed, tc.undecrypt)
			}
			if tc.resealed == 0 {
				if out != tc.in {
					t.Fatalf("changed without resealing: %q", out)
				}
				return
			}
			var got []string
			for _, part := range strings.Split(out, ghPrefix)[1:] {
				env := ghPrefix + part[:kidLen+1]
				for _, c := range part[kidLen+1:] {
					if !isLowerHexByte(byte(c)) {
						break
					}
					env += string(c)
				}
				pt, err := current.Decrypt(env)
				if err != nil {
					t.Fatalf("%q does not open with the new secret alone: %v", env, err)
				}
				got = append(got, string(pt))
			}
			if strings.Join(got, "|") != strings.Join(tc.plain, "|") {
				t.Fatalf("plaintexts %q, want %q", got, tc.plain)
			}
		})
	}
	// Without previous secrets there is nothing to move.
	if out, res, _ := current.Reseal(nil, oldEnv); out != oldEnv || res != (ResealResult{}) {
		t.Fatalf("single-secret keyring changed a value: %+v", res)
	}
}
