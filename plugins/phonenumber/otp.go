package phonenumber

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// Verification identifiers of the two kinds of code. They follow npm 1.7.25
// (phone-number-otp-<number>, phone-number-reset-<number>) rather than the older snapshot's
// bare <number> and <number>-request-password-reset (spec §4.8): the prefix keeps the
// namespace of phone codes apart from every other verification row, and a "number" ending
// in -request-password-reset (possible with validation disabled) can no longer address the
// reset code of another number.
func otpIdentifier(phone string) string   { return "phone-number-otp-" + phone }
func resetIdentifier(phone string) string { return "phone-number-reset-" + phone }

// Message purposes (Vars["purpose"] of a phone-otp SMS).
const (
	purposeVerification  = "verification"
	purposePasswordReset = "password-reset"
)

// MessageType is the Type of every SMS the plugin sends.
const MessageType = "phone-otp"

// validPhone applies the configured pattern, and always the hard bounds: 1–64 bytes of
// printable UTF-8 (no control, format or bidirectional characters; ASCII space allowed).
func (p *Plugin) validPhone(s string) bool {
	if s == "" || len(s) > maxPhoneLen || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return p.pattern == nil || p.pattern.MatchString(s)
}

// phoneArg returns the request's phoneNumber when it is valid, or 400 INVALID_PHONE_NUMBER.
func (p *Plugin) phoneArg(c *authcore.Call) (string, error) {
	phone := c.Body.String("phoneNumber")
	if !p.validPhone(phone) {
		return "", CodeInvalidPhoneNumber.With(http.StatusBadRequest)
	}
	return phone, nil
}

// checkCode checks code against identifier's live code through the engine's one-time-code
// mechanism and maps its verdicts to the plugin's errors. With consume, a right code is
// spent: among concurrent callers exactly one succeeds.
func (p *Plugin) checkCode(ctx context.Context, identifier, code string, consume bool) error {
	err := p.engine.CheckOTP(ctx, identifier, code, p.otp, consume)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, authcore.ErrOTPNotFound):
		return CodeOTPNotFound.With(http.StatusBadRequest)
	case errors.Is(err, authcore.ErrOTPExpired):
		return CodeOTPExpired.With(http.StatusBadRequest)
	case errors.Is(err, authcore.ErrOTPInvalid):
		return CodeInvalidOTP.With(http.StatusBadRequest)
	case errors.Is(err, authcore.ErrOTPTooManyAttempts):
		return CodeTooManyAttempts.With(http.StatusForbidden)
	}
	return err
}

// allowSend counts one SMS to phone against the per-number cap: nil, or 429 with
// Retry-After. The cap applies to every number alike, known or not, so it reveals nothing.
func (p *Plugin) allowSend(phone string) error {
	if !p.limitSends {
		return nil
	}
	return p.engine.Limit("phone-number-send|"+phone, p.sendRule)
}

// issueAndSend creates a fresh code for identifier (replacing any earlier one) and queues
// the SMS; delivery happens after the response (D13).
func (p *Plugin) issueAndSend(ctx context.Context, identifier, phone, purpose string) error {
	code, err := p.engine.IssueOTP(ctx, identifier, p.otp)
	if err != nil {
		return err
	}
	p.engine.SendSMS(authcore.Message{
		Type:      MessageType,
		To:        phone,
		Data:      authcore.MessageData{OTP: code},
		ExpiresIn: p.otp.TTL,
		Vars:      map[string]string{"purpose": purpose},
	})
	return nil
}

// userByPhone returns the user with that phone number, or nil.
func (p *Plugin) userByPhone(ctx context.Context, phone string) (storage.Record, error) {
	rec, err := p.engine.Store().FindOne(ctx, authcore.ModelUser, storage.Eq(FieldPhoneNumber, phone))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, authcore.Internal(err)
	}
	return rec, nil
}

// placeholderEmail is the address of a user created by verifying a phone number:
// <digits>@<temp_email_domain>, a domain ending in .invalid (D1). A number written with
// anything besides a leading + and digits (possible with a custom pattern or validation
// off) gets a short hash of its exact spelling appended, so two spellings with the same
// digits never share an address.
func (p *Plugin) placeholderEmail(phone string) string {
	var b strings.Builder
	for _, r := range phone {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	digits := b.String()
	if digits != "" && (phone == digits || phone == "+"+digits) {
		return digits + "@" + p.emailDomain
	}
	sum := sha256.Sum256([]byte(phone))
	tag := hex.EncodeToString(sum[:5])
	if digits == "" {
		return tag + "@" + p.emailDomain
	}
	return digits + "-" + tag + "@" + p.emailDomain
}

// duplicateField reports whether err is the store refusing a write because another user
// already holds the same value of field (a unique constraint).
func duplicateField(err error, field string) bool {
	var ce *storage.ConstraintError
	if !errors.As(err, &ce) || !errors.Is(err, storage.ErrDuplicate) {
		return false
	}
	for _, f := range ce.Fields {
		if f == field {
			return true
		}
	}
	return false
}
