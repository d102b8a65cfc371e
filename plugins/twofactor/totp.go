package twofactor

import (
	"bytes"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"image/png"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"

	"github.com/gatehouse-auth/gatehouse/authcore"
)

// TOTP follows RFC 6238 with Better Auth's choices (spec §7.3): the secret is
// generateRandomString(32) over [a-z0-9A-Z-_], and its UTF-8 bytes — not a decoding of it —
// are the HMAC-SHA1 key; authenticator apps get that key in base32 without padding. Codes
// are computed by github.com/pquerna/otp.

const (
	secretLength   = 32
	secretAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-_"
	// stepWindow is how many steps either side of the current one are accepted (clock
	// drift and typing time, RFC 6238 §5.2).
	stepWindow = 1
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// newSecret returns a fresh TOTP secret (32 characters, 192 bits).
func (p *Plugin) newSecret() (string, error) {
	s, err := p.engine.Random().String(secretLength, secretAlphabet)
	if err != nil {
		return "", authcore.Internal(err)
	}
	return s, nil
}

// totpURI is Better Auth's otpauth URI (spec §7.3), byte for byte:
//
//	otpauth://totp/<issuer>:<account>?secret=<base32>&issuer=<issuer>&digits=<n>&period=<s>
//
// with the label parts percent-encoded as encodeURIComponent does and the query values as
// URLSearchParams does (space as "+").
func (p *Plugin) totpURI(secret, issuer, account string) string {
	var b strings.Builder
	b.WriteString("otpauth://totp/")
	b.WriteString(encodeURIComponent(issuer))
	b.WriteByte(':')
	b.WriteString(encodeURIComponent(account))
	b.WriteString("?secret=")
	b.WriteString(b32.EncodeToString([]byte(secret)))
	b.WriteString("&issuer=")
	b.WriteString(formEncode(issuer))
	b.WriteString("&digits=")
	b.WriteString(strconv.Itoa(p.digits))
	b.WriteString("&period=")
	b.WriteString(strconv.FormatInt(int64(p.period/time.Second), 10))
	return b.String()
}

// hotpOpts are the code parameters.
func (p *Plugin) hotpOpts() hotp.ValidateOpts {
	return hotp.ValidateOpts{Digits: otp.Digits(p.digits), Algorithm: otp.AlgorithmSHA1}
}

// step returns the RFC 6238 time step of t.
func (p *Plugin) step(t time.Time) int64 { return t.Unix() / int64(p.period/time.Second) }

// matchStep returns the time step, within ±stepWindow of now, whose code is code. Every
// candidate is computed and compared in constant time, so the work does not depend on which
// (if any) matched; should two steps share a code, the later one is taken (it retires more).
func (p *Plugin) matchStep(secret, code string, now time.Time) (int64, bool) {
	if len(code) != p.digits {
		return 0, false
	}
	key := b32.EncodeToString([]byte(secret))
	cur := p.step(now)
	var matched int64
	found := 0
	for s := cur - stepWindow; s <= cur+stepWindow; s++ {
		if s < 0 {
			continue
		}
		want, err := hotp.GenerateCodeCustom(key, uint64(s), p.hotpOpts())
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			matched, found = s, 1
		}
	}
	return matched, found == 1
}

// GenerateTOTP returns the current code for a TOTP secret as stored after decryption (Better
// Auth's server-only generateTOTP): for tests, support tools and the portal's previews. It
// fails with 400 TOTP_NOT_CONFIGURED when TOTP is disabled.
func (p *Plugin) GenerateTOTP(secret string) (string, error) {
	if p.DisableTOTP {
		return "", errTOTPDisabled
	}
	if secret == "" {
		return "", authcore.NewError(http.StatusBadRequest, "secret is required")
	}
	return totp.GenerateCodeCustom(b32.EncodeToString([]byte(secret)), p.engine.Clock().Now(), totp.ValidateOpts{
		Period: uint(p.period / time.Second), Digits: otp.Digits(p.digits), Algorithm: otp.AlgorithmSHA1,
	})
}

// QRCodePNG renders an otpauth URI (the totpURI of /two-factor/enable or get-totp-uri) as a
// size×size PNG QR code for authenticator apps to scan (size 0 means 256). The portal shows
// it during enrolment; it contains the secret, so serve it only to the user it belongs to and
// with Cache-Control: no-store.
func QRCodePNG(uri string, size int) ([]byte, error) {
	if size == 0 {
		size = 256
	}
	if size < 64 || size > 2048 {
		return nil, fmt.Errorf("two-factor: QR code size %d is not within 64–2048", size)
	}
	// The errors never quote uri: it holds the TOTP secret, and callers log them.
	key, err := otp.NewKeyFromURL(uri)
	if err != nil {
		return nil, errors.New("two-factor: QR code: the otpauth URI does not parse")
	}
	if key.Type() != "totp" && key.Type() != "hotp" {
		return nil, errors.New("two-factor: QR code: not a totp or hotp otpauth URI")
	}
	img, err := key.Image(size, size)
	if err != nil {
		return nil, fmt.Errorf("two-factor: QR code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("two-factor: QR code: %w", err)
	}
	return buf.Bytes(), nil
}

// encodeURIComponent escapes everything but A–Z a–z 0–9 - _ . ! ~ * ' ( ), as JavaScript's
// encodeURIComponent does (UTF-8, upper-case hex).
func encodeURIComponent(s string) string {
	return escape(s, func(c byte) bool { return strings.IndexByte("-_.!~*'()", c) >= 0 }, false)
}

// formEncode is application/x-www-form-urlencoded as URLSearchParams writes it: A–Z a–z
// 0–9 * - . _ kept, space as "+", everything else percent-encoded.
func formEncode(s string) string {
	return escape(s, func(c byte) bool { return strings.IndexByte("*-._", c) >= 0 }, true)
}

func escape(s string, keep func(byte) bool, plusSpace bool) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', keep(c):
			b.WriteByte(c)
		case c == ' ' && plusSpace:
			b.WriteByte('+')
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}
