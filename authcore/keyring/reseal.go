package keyring

import (
	"io"
	"strings"
)

// ResealResult counts what [Keyring.Reseal] did to one value.
type ResealResult struct {
	Resealed      int // ciphertexts made with a previous secret, now under the current one
	Undecryptable int // envelopes naming a previous secret that did not authenticate
}

// Reseal re-encrypts with the current secret every ciphertext in s that a previous secret
// made, so that secret can be dropped (`gatehouse secret reencrypt`). It finds them:
//   - anywhere inside s, for Gatehouse envelopes ("$gh$<kid>$<hex>"): values embedded in
//     a JSON document (the sso plugin's provider configs) are found too, and everything
//     around them is kept byte for byte. Only envelopes whose kid names a previous secret
//     are touched: one naming the current secret is already done, and one naming no
//     secret of this keyring is not ours to judge;
//   - as the whole of s, for Better Auth's "$ba$" and bare-hex values, when one of the
//     previous secrets opens them (they carry no kid, so only a successful open says they
//     are ciphertexts at all; anything else, such as a hex digest, is left alone).
//
// The plaintext never leaves this function. out == s when nothing changed.
func (k *Keyring) Reseal(rand io.Reader, s string) (out string, res ResealResult, err error) {
	if len(k.keys) < 2 {
		return s, res, nil
	}
	if !strings.Contains(s, ghPrefix) {
		return k.resealWhole(rand, s)
	}
	var b strings.Builder
	rest := s
	for {
		i := strings.Index(rest, ghPrefix)
		if i < 0 {
			break
		}
		end := i + len(ghPrefix)
		for end < len(rest) && (isLowerHexByte(rest[end]) || rest[end] == '$') {
			end++
		}
		env := rest[i:end]
		b.WriteString(rest[:i])
		rest = rest[end:]
		kid := ""
		if len(env) > len(ghPrefix)+kidLen {
			kid = env[len(ghPrefix) : len(ghPrefix)+kidLen]
		}
		if !k.isPreviousKid(kid) {
			b.WriteString(env)
			continue
		}
		pt, idx, oerr := k.open(env)
		if oerr != nil || idx == 0 {
			res.Undecryptable++
			b.WriteString(env)
			continue
		}
		fresh, eerr := k.Encrypt(rand, pt)
		clear(pt)
		if eerr != nil {
			return s, ResealResult{}, eerr
		}
		b.WriteString(fresh)
		res.Resealed++
	}
	b.WriteString(rest)
	if res.Resealed == 0 {
		return s, res, nil
	}
	return b.String(), res, nil
}

// resealWhole handles a value without a Gatehouse envelope: Better Auth's formats.
func (k *Keyring) resealWhole(rand io.Reader, s string) (string, ResealResult, error) {
	var res ResealResult
	if len(s) < 2*(nonceLen+tagLen) {
		return s, res, nil
	}
	if !strings.HasPrefix(s, baPrefix) && !isLowerHex(s) {
		return s, res, nil
	}
	pt, idx, err := k.open(s)
	if err != nil || idx == 0 {
		return s, res, nil // not a ciphertext of ours, or already current
	}
	fresh, err := k.Encrypt(rand, pt)
	clear(pt)
	if err != nil {
		return s, res, err
	}
	res.Resealed = 1
	return fresh, res, nil
}

// isPreviousKid reports whether kid names one of the previous secrets.
func (k *Keyring) isPreviousKid(kid string) bool {
	for _, kk := range k.keys[1:] {
		if kk.kid == kid {
			return true
		}
	}
	return false
}

func isLowerHexByte(c byte) bool { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') }
