package twofactor

import (
	"context"
	"errors"
	"net/http"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// The verification routes work in two modes, as in Better Auth: with a session they confirm
// an enrolment or re-check a factor (no attempt caps beyond the rate limit, no session
// created); without one they complete the pending sign-in named by the two_factor cookie.

// verifier is who a verification is for.
type verifier struct {
	session *authcore.Session // session mode
	ch      *challenge        // sign-in mode
	user    storage.Record
}

func (v *verifier) signIn() bool { return v.ch != nil }

// otpIdentifier is the verification identifier of the user's emailed or texted code (spec
// §4.8): 2fa-otp-<challenge id> for a pending sign-in, 2fa-otp-<userId>!<sessionId> with a
// session.
func (v *verifier) otpIdentifier() string {
	if v.ch != nil {
		return otpPrefix + v.ch.id
	}
	return otpPrefix + v.session.UserID() + "!" + v.session.ID()
}

// resolve finds the caller: the session, else the pending sign-in, else 401
// INVALID_TWO_FACTOR_COOKIE.
func (p *Plugin) resolve(c *authcore.Call) (*verifier, error) {
	s, err := c.Session()
	if err != nil {
		return nil, err
	}
	if s != nil {
		return &verifier{session: s, user: s.User}, nil
	}
	ch, err := p.pending(c)
	if err != nil {
		return nil, err
	}
	if ch == nil {
		if _, ok := c.Cookie(CookieTwoFactor); ok {
			c.ExpireCookie(CookieTwoFactor)
		}
		return nil, errInvalidCookie
	}
	c.AuditSignInAttempt(MethodTwoFactor, ch.user.ID()) // a wrong code is a failed sign-in
	return &verifier{ch: ch, user: ch.user}, nil
}

// completeBody finishes a sign-in whose challenge is consumed and answers {"token","user"}.
func (p *Plugin) completeBody(c *authcore.Call, v *verifier) (any, error) {
	s, err := p.finishSignIn(c, v.ch, c.Body.Bool("trustDevice"))
	if err != nil {
		return nil, err
	}
	return p.signInBody(s), nil
}

// sessionBody is the session-mode answer: the caller's own token and user.
func (p *Plugin) sessionBody(v *verifier) any {
	return map[string]any{"token": v.session.Token, "user": p.engine.Public(authcore.ModelUser, v.session.User)}
}

// enrolled turns two-factor on for a session-mode verification and answers with the rotated
// session: its new token and the updated user. (Better Auth answers with the old token and
// the user as it was before — spec §7.3's quirk — while its cookie already holds the new
// session; Gatehouse returns what the cookie holds.)
func (p *Plugin) enrolled(c *authcore.Call, v *verifier, updated storage.Record) (any, error) {
	c.AuditAs(authcore.AuditTwoFactorEnable)
	c.AuditDetail("step", "verified")
	if updated == nil {
		var err error
		if updated, err = p.setEnabled(c, v.user.ID(), true); err != nil {
			return nil, err
		}
	}
	ns, err := p.rotate(c, v.session, updated)
	if err != nil {
		return nil, err
	}
	return p.signInBody(ns), nil
}

// verifyTOTP is POST /two-factor/verify-totp.
func (p *Plugin) verifyTOTP(c *authcore.Call) (any, error) {
	if p.DisableTOTP {
		return nil, errTOTPDisabled
	}
	v, err := p.resolve(c)
	if err != nil {
		return nil, err
	}
	ctx := c.Context()
	row, err := p.row(ctx, v.user.ID())
	if err != nil {
		return nil, err
	}
	// A pending sign-in cannot use an enrolment that was never confirmed.
	if row == nil || (v.signIn() && !verified(row)) {
		return nil, CodeTOTPNotEnabled.With(http.StatusBadRequest)
	}
	if v.signIn() {
		if err := p.beginAttempt(c, v.ch); err != nil {
			return nil, err
		}
	}
	secret, err := p.engine.Keys().Decrypt(row.String(FieldSecret))
	if err != nil {
		if v.signIn() {
			p.refund(ctx, v.ch)
		}
		return nil, authcore.Internal(err)
	}
	step, ok := p.matchStep(string(secret), c.Body.String("code"), p.engine.Clock().Now())
	if !ok {
		return nil, errInvalidCode
	}
	enrol := !verified(row)
	enableUser := enrol && !twoFactorEnabled(v.user)
	updated, err := p.acceptTOTP(ctx, row, step, v, enrol, enableUser)
	if err != nil {
		if errors.Is(err, errInvalidCookie) {
			c.ExpireCookie(CookieTwoFactor)
		}
		return nil, err
	}
	if v.signIn() {
		return p.completeBody(c, v)
	}
	if enableUser {
		return p.enrolled(c, v, updated)
	}
	return p.sessionBody(v), nil
}

// acceptTOTP records that step was used — it must be later than the last step used, so a
// code is accepted once however many requests race with it (spec §11) — and, in the same
// transaction, consumes the pending sign-in, or confirms an enrolment (verified, and with
// enableUser the user's twoFactorEnabled; the updated user is returned).
func (p *Plugin) acceptTOTP(ctx context.Context, row storage.Record, step int64, v *verifier, enrol, enableUser bool) (storage.Record, error) {
	var verdict error
	var updated storage.Record
	err := p.engine.Store().Tx(ctx, func(tx storage.Adapter) error {
		if v.signIn() {
			rec, err := p.consumeChallengeTx(ctx, tx, v.ch.id)
			if err != nil {
				return err
			}
			if rec == nil || rec.String("value") != v.user.ID() {
				verdict = errInvalidCookie
				return errRollback
			}
		}
		set := storage.Record{FieldLastTOTPStep: step}
		if enrol {
			set[FieldVerified] = true
		}
		_, err := tx.Update(ctx, ModelTwoFactor, storage.And(storage.ByID(row.ID()),
			storage.Or(storage.Eq(FieldLastTOTPStep, nil), storage.Lt(FieldLastTOTPStep, step))), set)
		if errors.Is(err, storage.ErrNotFound) {
			verdict = errInvalidCode // this step (or a later one) was used already: a replay
			return errRollback
		}
		if err != nil || !enableUser {
			return err
		}
		updated, err = tx.Update(ctx, authcore.ModelUser, storage.ByID(v.user.ID()),
			storage.Record{FieldTwoFactorEnabled: true, "updatedAt": p.engine.Clock().Now()})
		return err
	})
	if errors.Is(err, errRollback) {
		return nil, verdict
	}
	if err != nil {
		return nil, authcore.Internal(err)
	}
	if v.signIn() {
		if err := p.succeeded(ctx, v.user.ID()); err != nil {
			return nil, err
		}
	}
	return updated, nil
}

// otpDest is where a user's one-time codes go.
type otpDest struct {
	sms bool
	to  string
}

// otpRoute says where a code for user would go: with otp_channel sms and an SMS sender, to
// the user's verified phone number when there is one; otherwise by email when a mailer is
// configured. ok=false: the user cannot receive codes.
func (p *Plugin) otpRoute(user storage.Record) (otpDest, bool) {
	e := p.engine
	if p.OTPChannel == ChannelSMS && e.HasSMS() {
		if phone := user.String(fieldPhoneNumber); phone != "" && user.Bool(fieldPhoneNumberVerified) {
			return otpDest{sms: true, to: phone}, true
		}
	}
	if e.HasEmail() && user.String("email") != "" {
		return otpDest{to: user.String("email")}, true
	}
	return otpDest{}, false
}

// otpConfigured reports whether any transport for codes exists.
func (p *Plugin) otpConfigured() bool {
	return p.engine.HasEmail() || (p.OTPChannel == ChannelSMS && p.engine.HasSMS())
}

// sendOTP is POST /two-factor/send-otp. The code goes out after the response (D13).
func (p *Plugin) sendOTP(c *authcore.Call) (any, error) {
	if !p.otpConfigured() {
		return nil, errSendOTPNotConfigured
	}
	v, err := p.resolve(c)
	if err != nil {
		return nil, err
	}
	dest, ok := p.otpRoute(v.user)
	if !ok {
		return nil, errSendOTPNotConfigured
	}
	code, err := p.engine.IssueOTP(c.Context(), v.otpIdentifier(), p.otp)
	if err != nil {
		return nil, err
	}
	m := authcore.Message{To: dest.to, Data: authcore.MessageData{OTP: code}, ExpiresIn: p.otp.TTL}
	if dest.sms {
		m.Type, m.Vars = "phone-otp", map[string]string{"purpose": "two-factor"}
		p.engine.SendSMS(m)
	} else {
		m.Type = "two-factor-otp"
		p.engine.SendEmail(m)
	}
	return map[string]any{"status": true}, nil
}

// verifyOTP is POST /two-factor/verify-otp.
func (p *Plugin) verifyOTP(c *authcore.Call) (any, error) {
	v, err := p.resolve(c)
	if err != nil {
		return nil, err
	}
	ctx := c.Context()
	e := p.engine
	identifier := v.otpIdentifier()
	if v.signIn() {
		// No live code is not a guess: answered before an attempt is reserved.
		if rec, err := e.FindVerification(ctx, identifier); err != nil || rec == nil {
			if err != nil {
				return nil, err
			}
			return nil, errOTPExpired
		}
		if err := p.beginAttempt(c, v.ch); err != nil {
			return nil, err
		}
	}
	switch err := e.CheckOTP(ctx, identifier, c.Body.String("code"), p.otp, true); {
	case err == nil:
	case errors.Is(err, authcore.ErrOTPNotFound), errors.Is(err, authcore.ErrOTPExpired):
		if v.signIn() {
			p.refund(ctx, v.ch)
		}
		return nil, errOTPExpired
	case errors.Is(err, authcore.ErrOTPInvalid):
		return nil, errInvalidCode
	case errors.Is(err, authcore.ErrOTPTooManyAttempts):
		return nil, errTooMany
	default:
		return nil, err
	}
	if v.signIn() {
		rec, err := e.ConsumeVerification(ctx, v.ch.id)
		if err != nil {
			return nil, err
		}
		if rec == nil || rec.String("value") != v.user.ID() {
			c.ExpireCookie(CookieTwoFactor)
			return nil, errInvalidCookie
		}
		if err := p.succeeded(ctx, v.user.ID()); err != nil {
			return nil, err
		}
		return p.completeBody(c, v)
	}
	if !twoFactorEnabled(v.user) {
		return p.enrolled(c, v, nil)
	}
	return p.sessionBody(v), nil
}

// verifyBackupCode is POST /two-factor/verify-backup-code.
func (p *Plugin) verifyBackupCode(c *authcore.Call) (any, error) {
	v, err := p.resolve(c)
	if err != nil {
		return nil, err
	}
	ctx := c.Context()
	row, err := p.row(ctx, v.user.ID())
	if err != nil {
		return nil, err
	}
	if row == nil {
		return nil, CodeBackupCodesNotEnabled.With(http.StatusBadRequest)
	}
	disableSession := c.Body.Bool("disableSession")
	challengeID := ""
	if v.signIn() {
		if err := p.beginAttempt(c, v.ch); err != nil {
			return nil, err
		}
		if !disableSession {
			challengeID = v.ch.id
		}
	}
	if _, err := p.useBackupCode(ctx, v.user.ID(), c.Body.String("code"), challengeID); err != nil {
		if errors.Is(err, errInvalidCookie) {
			c.ExpireCookie(CookieTwoFactor)
		}
		return nil, err
	}
	if !v.signIn() {
		return p.sessionBody(v), nil
	}
	if err := p.succeeded(ctx, v.user.ID()); err != nil {
		return nil, err
	}
	if disableSession {
		// Better Auth spends the code and answers without a session or token (its
		// token is undefined there); the pending sign-in stays open.
		return map[string]any{"user": p.engine.Public(authcore.ModelUser, v.user)}, nil
	}
	return p.completeBody(c, v)
}
