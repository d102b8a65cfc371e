package authcore

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/storage"
)

// One-time codes (email OTP, phone OTP, two-factor OTP) share one mechanism: a verification
// row whose identifier names the purpose and recipient and whose value is
// "<stored code>:<failed attempts>" (spec §4.8). Every check runs in one storage transaction,
// so a code is redeemed at most once however many requests race for it, and every wrong guess
// is counted.

// OTPStorage says how a code is kept at rest.
type OTPStorage string

const (
	// OTPPlain stores the code as is (Better Auth's default; needed for resend "reuse").
	OTPPlain OTPStorage = "plain"
	// OTPHashed stores a keyed MAC of the code: a leaked database does not reveal live codes,
	// and six digits cannot be brute-forced offline without the secret.
	OTPHashed OTPStorage = "hashed"
	// OTPEncrypted stores the code encrypted with the secret's key.
	OTPEncrypted OTPStorage = "encrypted"
)

// OTPOptions configure one kind of code. The zero value means 6 digits, 5 minutes, 3 wrong
// attempts, stored plain, rotated on resend.
type OTPOptions struct {
	Length   int           // digits; default 6
	TTL      time.Duration // default 5m
	Attempts int           // wrong guesses allowed before the code is void; default 3
	Storage  OTPStorage    // default OTPPlain
	// Reuse resends the live code instead of issuing a new one (Better Auth's
	// resendStrategy "reuse"); it needs plain or encrypted storage.
	Reuse bool
}

func (o OTPOptions) withDefaults() OTPOptions {
	if o.Length <= 0 {
		o.Length = 6
	}
	if o.TTL <= 0 {
		o.TTL = 5 * time.Minute
	}
	if o.Attempts <= 0 {
		o.Attempts = 3
	}
	if o.Storage == "" {
		o.Storage = OTPPlain
	}
	return o
}

// The verdicts of [Engine.CheckOTP]. Each plugin maps them to its own codes and statuses
// (email-otp answers INVALID_OTP for a missing code, phone-number OTP_NOT_FOUND).
var (
	ErrOTPNotFound        = errors.New("otp: no code issued")
	ErrOTPExpired         = errors.New("otp: code expired")
	ErrOTPInvalid         = errors.New("otp: wrong code")
	ErrOTPTooManyAttempts = errors.New("otp: too many attempts")
)

// IssueOTP creates the code for identifier, replacing any earlier one (or, with Reuse,
// returning the live one with its lifetime restarted), and returns it in clear for delivery.
func (e *Engine) IssueOTP(ctx context.Context, identifier string, o OTPOptions) (string, error) {
	o = o.withDefaults()
	var code string
	err := e.store.Tx(ctx, func(tx storage.Adapter) error {
		now := e.clock.Now()
		prev, err := tx.FindOne(ctx, ModelVerification, storage.Eq("identifier", identifier))
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		if prev != nil {
			if o.Reuse && o.Storage != OTPHashed && prev.Time("expiresAt").After(now) {
				stored, attempts := splitOTPValue(prev.String("value"))
				if c, ok := e.revealOTP(stored, o.Storage); ok && attempts < o.Attempts {
					// A resend starts the lifetime again, as Better Auth's reuse does.
					code = c
					_, err := tx.Update(ctx, ModelVerification, storage.ByID(prev.ID()),
						storage.Record{"expiresAt": now.Add(o.TTL), "updatedAt": now})
					return err
				}
			}
			if _, err := tx.DeleteMany(ctx, ModelVerification, storage.Eq("identifier", identifier)); err != nil {
				return err
			}
		}
		if code, err = e.rand.Digits(o.Length); err != nil {
			return err
		}
		stored, err := e.storeOTP(identifier, code, o.Storage)
		if err != nil {
			return err
		}
		id, err := e.rand.ID()
		if err != nil {
			return err
		}
		_, err = tx.Create(ctx, ModelVerification, storage.Record{
			"id": id, "identifier": identifier, "value": stored + ":0",
			"expiresAt": now.Add(o.TTL), "createdAt": now, "updatedAt": now,
		})
		return err
	})
	if err != nil {
		return "", CodeFailedToCreateVerification.With(500).Wrap(err)
	}
	return code, nil
}

// CheckOTP checks code against identifier's live code. A wrong code counts one attempt
// (ErrOTPInvalid); once the attempts are used up, or the code expired, the row is deleted
// and every later check fails. With consume, a right code deletes the row, so among
// concurrent callers exactly one succeeds. Non-verdict errors are technical failures.
func (e *Engine) CheckOTP(ctx context.Context, identifier, code string, o OTPOptions, consume bool) error {
	o = o.withDefaults()
	var verdict error
	err := e.store.Tx(ctx, func(tx storage.Adapter) error {
		rec, err := tx.FindOne(ctx, ModelVerification, storage.Eq("identifier", identifier))
		if errors.Is(err, storage.ErrNotFound) {
			verdict = ErrOTPNotFound
			return nil
		}
		if err != nil {
			return err
		}
		stored, attempts := splitOTPValue(rec.String("value"))
		switch {
		case !rec.Time("expiresAt").After(e.clock.Now()):
			verdict = ErrOTPExpired
		case attempts >= o.Attempts:
			verdict = ErrOTPTooManyAttempts
		case !e.matchOTP(identifier, stored, code, o.Storage):
			_, err := tx.Update(ctx, ModelVerification, storage.ByID(rec.ID()), storage.Record{
				"value": stored + ":" + strconv.Itoa(attempts+1), "updatedAt": e.clock.Now()})
			verdict = ErrOTPInvalid
			return err
		case !consume:
			return nil
		}
		return tx.Delete(ctx, ModelVerification, storage.ByID(rec.ID()))
	})
	if err != nil {
		return Internal(err)
	}
	return verdict
}

// DeleteOTP voids identifier's code, if any.
func (e *Engine) DeleteOTP(ctx context.Context, identifier string) error {
	if _, err := e.store.DeleteMany(ctx, ModelVerification, storage.Eq("identifier", identifier)); err != nil {
		return Internal(err)
	}
	return nil
}

// PeekOTP returns identifier's live code in clear, when its storage allows (Better Auth's
// server-only getVerificationOTP); ok=false when there is none or it is hashed.
func (e *Engine) PeekOTP(ctx context.Context, identifier string, o OTPOptions) (code string, ok bool, err error) {
	o = o.withDefaults()
	rec, err := e.FindVerification(ctx, identifier)
	if err != nil || rec == nil {
		return "", false, err
	}
	stored, _ := splitOTPValue(rec.String("value"))
	code, ok = e.revealOTP(stored, o.Storage)
	return code, ok, nil
}

// splitOTPValue splits "<stored>:<attempts>"; the stored part never contains ':' (digits,
// base64url or the keyring's envelope), but the split is from the right to be safe.
func splitOTPValue(v string) (stored string, attempts int) {
	i := strings.LastIndexByte(v, ':')
	if i < 0 {
		return v, 0
	}
	n, err := strconv.Atoi(v[i+1:])
	if err != nil || n < 0 {
		return v[:i], 1 << 30 // a malformed counter voids the code
	}
	return v[:i], n
}

func (e *Engine) storeOTP(identifier, code string, s OTPStorage) (string, error) {
	switch s {
	case OTPHashed:
		return base64.RawURLEncoding.EncodeToString(e.keys.MAC("otp", []byte(identifier+"\x00"+code))), nil
	case OTPEncrypted:
		return e.keys.Encrypt(e.rand.Reader(), []byte(code))
	default:
		return code, nil
	}
}

func (e *Engine) revealOTP(stored string, s OTPStorage) (string, bool) {
	switch s {
	case OTPHashed:
		return "", false
	case OTPEncrypted:
		b, err := e.keys.Decrypt(stored)
		return string(b), err == nil
	default:
		return stored, true
	}
}

func (e *Engine) matchOTP(identifier, stored, code string, s OTPStorage) bool {
	switch s {
	case OTPHashed:
		mac, err := base64.RawURLEncoding.DecodeString(stored)
		return err == nil && e.keys.VerifyMAC("otp", []byte(identifier+"\x00"+code), mac)
	default:
		want, ok := e.revealOTP(stored, s)
		return ok && want != "" && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1
	}
}
