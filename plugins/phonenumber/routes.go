package phonenumber

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/password"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// Sign-in methods the plugin passes to Call.SignIn, so session gates (two-factor, bans) know
// the first factor (D11).
const (
	MethodPassword = "phone-number"     // /sign-in/phone-number
	MethodOTP      = "phone-number-otp" // /phone-number/verify
)

// signIn is POST /sign-in/phone-number: {phoneNumber, password, rememberMe?} →
// {"token", "user"} and the session cookies.
//
// Unlike Better Auth, the password is checked before require_verification: Better Auth
// answers PHONE_NUMBER_NOT_VERIFIED (and sends an SMS) to anyone who types the number of an
// unverified account, which reveals that the account exists and lets strangers trigger SMS.
// Here an unknown number, a wrong password and an unverified account without the right
// password all get the same 401 INVALID_PHONE_NUMBER_OR_PASSWORD after the same hashing work
// (D18); only the account's owner learns the number is unverified.
func (p *Plugin) signIn(c *authcore.Call) (any, error) {
	phone, err := p.phoneArg(c)
	if err != nil {
		return nil, err
	}
	pw := c.Body.String("password")
	if errors.Is(password.CheckLength(pw, 0, p.maxPassword), password.ErrTooLong) {
		// Refused before any lookup or hashing, as 1.7.25 does (PWD-04).
		return nil, authcore.CodePasswordTooLong.With(http.StatusBadRequest)
	}
	ctx := c.Context()
	user, err := p.userByPhone(ctx, phone)
	if err != nil {
		return nil, err
	}
	// CheckSignInPassword costs one hash for an unknown number too, and counts failures per
	// account whatever was typed (BF-01).
	ok, err := p.engine.CheckSignInPassword(ctx, user, pw)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, CodeInvalidPhoneNumberOrPassword.With(http.StatusUnauthorized)
	}
	if p.RequireVerification && !user.Bool(FieldPhoneNumberVerified) {
		if p.engine.HasSMS() && p.allowSend(phone) == nil {
			if err := p.issueAndSend(ctx, otpIdentifier(phone), phone, purposeVerification); err != nil {
				return nil, err
			}
		}
		return nil, CodePhoneNumberNotVerified.With(http.StatusUnauthorized)
	}
	s, err := c.SignIn(user, authcore.SignInOptions{Method: MethodPassword, DontRemember: !c.Body.BoolOr("rememberMe", true)})
	if err != nil {
		return nil, err
	}
	return map[string]any{"token": s.Token, "user": p.engine.Public(authcore.ModelUser, s.User)}, nil
}

// sendOTP is POST /phone-number/send-otp: {phoneNumber} → {"message": "code sent"}. It never
// looks the number up, so the answer is the same for every valid number (D18). Without an
// SMS transport it answers 501 SEND_OTP_NOT_IMPLEMENTED, as Better Auth does without sendOTP
// (D13).
func (p *Plugin) sendOTP(c *authcore.Call) (any, error) {
	if !p.engine.HasSMS() {
		return nil, CodeSendOTPNotImplemented.With(http.StatusNotImplemented)
	}
	phone, err := p.phoneArg(c)
	if err != nil {
		return nil, err
	}
	if err := p.allowSend(phone); err != nil {
		return nil, err
	}
	if err := p.issueAndSend(c.Context(), otpIdentifier(phone), phone, purposeVerification); err != nil {
		return nil, err
	}
	return map[string]any{"message": "code sent"}, nil
}

// verify is POST /phone-number/verify: {phoneNumber, code, disableSession?,
// updatePhoneNumber?, ...user fields} → {"status": true, "token", "user"}.
//
// The code is spent first. With updatePhoneNumber the number moves to the caller's account
// (a session is required: 401 USER_NOT_FOUND as Better Auth answers; 400 PHONE_NUMBER_EXIST
// when any account holds it). Otherwise the number's account is marked verified, or created
// with sign_up_on_verification, and signed in unless disableSession.
//
// An unknown number without sign_up_on_verification answers 400 PHONE_NUMBER_NOT_EXIST;
// Better Auth answers 500 FAILED_TO_UPDATE_USER there, and Gatehouse never answers 500 to
// input. The caller has just proved they hold the number, so this reveals nothing to a
// stranger.
func (p *Plugin) verify(c *authcore.Call) (any, error) {
	phone, err := p.phoneArg(c)
	if err != nil {
		return nil, err
	}
	ctx := c.Context()
	if err := p.checkCode(ctx, otpIdentifier(phone), c.Body.String("code"), true); err != nil {
		return nil, err
	}
	e := p.engine
	if c.Body.Bool("updatePhoneNumber") {
		return p.updatePhoneNumber(c, phone)
	}
	user, err := p.userByPhone(ctx, phone)
	if err != nil {
		return nil, err
	}
	switch {
	case user != nil:
		user, err = e.UpdateUser(ctx, user.ID(), storage.Record{FieldPhoneNumberVerified: true})
		if err != nil {
			return nil, authcore.AsError(err)
		}
	case p.SignUpOnVerification:
		if user, err = p.signUp(c, phone); err != nil {
			return nil, err
		}
	default:
		return nil, CodePhoneNumberNotExist.With(http.StatusBadRequest)
	}
	if c.Body.Bool("disableSession") {
		return map[string]any{"status": true, "token": nil, "user": e.Public(authcore.ModelUser, user)}, nil
	}
	s, err := c.SignIn(user, authcore.SignInOptions{Method: MethodOTP})
	if err != nil {
		return nil, err
	}
	return map[string]any{"status": true, "token": s.Token, "user": e.Public(authcore.ModelUser, s.User)}, nil
}

// updatePhoneNumber moves a verified number to the signed-in caller's account. The session is
// read from storage, never from a cookie cache.
func (p *Plugin) updatePhoneNumber(c *authcore.Call, phone string) (any, error) {
	c.AuditAs(authcore.AuditPhoneNumberChange)
	e := p.engine
	ctx := c.Context()
	s, err := c.Session()
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, authcore.CodeUserNotFound.With(http.StatusUnauthorized)
	}
	taken, err := p.userByPhone(ctx, phone)
	if err != nil {
		return nil, err
	}
	if taken != nil {
		return nil, CodePhoneNumberExist.With(http.StatusBadRequest)
	}
	user, err := e.UpdateUser(ctx, s.UserID(), storage.Record{FieldPhoneNumber: phone, FieldPhoneNumberVerified: true})
	if duplicateField(err, FieldPhoneNumber) {
		return nil, CodePhoneNumberExist.With(http.StatusBadRequest) // claimed concurrently
	}
	if err != nil {
		return nil, authcore.AsError(err)
	}
	_, dontRemember := c.SignedCookie(authcore.CookieDontRemember)
	c.SetSessionCookies(&authcore.Session{Session: s.Session, User: user, Token: s.Token}, dontRemember)
	return map[string]any{"status": true, "token": s.Token, "user": e.Public(authcore.ModelUser, user)}, nil
}

// signUp creates the user of a newly verified number: the client-settable user fields of
// the body (the validator already refused server-only ones), name = the body's name or else
// the number, a placeholder email ending in .invalid (D1), the number marked verified.
func (p *Plugin) signUp(c *authcore.Call, phone string) (storage.Record, error) {
	u := storage.Record{}
	for k, v := range c.Body {
		switch k {
		case "phoneNumber", "code", "disableSession", "updatePhoneNumber", "email":
		default:
			u[k] = v
		}
	}
	if name, _ := u["name"].(string); name == "" {
		u["name"] = phone
	}
	u["email"] = p.placeholderEmail(phone)
	u["emailVerified"] = false
	u[FieldPhoneNumber] = phone
	u[FieldPhoneNumberVerified] = true
	created, err := p.engine.CreateUser(c.Context(), u, "")
	if duplicateField(err, "email") {
		// An earlier account kept this placeholder after giving the number up (update-user
		// with phoneNumber null): the new owner gets a distinct one.
		tag, rerr := p.engine.Random().String(10, "abcdefghijklmnopqrstuvwxyz0123456789")
		if rerr != nil {
			return nil, authcore.Internal(rerr)
		}
		local, domain, _ := strings.Cut(u.String("email"), "@")
		u["email"] = local + "-" + tag + "@" + domain
		created, err = p.engine.CreateUser(c.Context(), u, "")
	}
	switch {
	case duplicateField(err, FieldPhoneNumber):
		return nil, CodePhoneNumberExist.With(http.StatusBadRequest) // claimed concurrently
	case err != nil:
		return nil, authcore.CodeFailedToCreateUser.With(http.StatusUnprocessableEntity).Wrap(err)
	}
	return created, nil
}

// requestPasswordReset is POST /phone-number/request-password-reset: {phoneNumber} →
// {"status": true} for every valid number. The lookup, the code and the SMS happen on the
// engine's background queue after the response, so neither the answer nor its timing says
// whether the number has an account (D18); an unknown number gets no code and no SMS.
// Better Auth answers the same without a reset sender; so does Gatehouse without SMS.
func (p *Plugin) requestPasswordReset(c *authcore.Call) (any, error) {
	phone, err := p.phoneArg(c)
	if err != nil {
		return nil, err
	}
	if err := p.allowSend(phone); err != nil {
		return nil, err
	}
	if p.engine.HasSMS() {
		p.engine.Defer("phone-number password reset", func(ctx context.Context) error {
			user, err := p.userByPhone(ctx, phone)
			if err != nil || user == nil {
				return err
			}
			if p.RequireVerification && !user.Bool(FieldPhoneNumberVerified) {
				return nil // 1.7.25: no reset code for a number nobody has proved
			}
			return p.issueAndSend(ctx, resetIdentifier(phone), phone, purposePasswordReset)
		})
	}
	return map[string]any{"status": true}, nil
}

// resetPassword is POST /phone-number/reset-password: {otp, phoneNumber, newPassword} →
// {"status": true}. The password policy runs before the code is looked at, so a rejected
// password does not cost an attempt (1.7.25); the code is checked, the account found, and
// only then spent — exactly one of concurrent resets with the same code wins. Sessions are
// revoked when email_and_password.revoke_sessions_on_password_reset is on.
func (p *Plugin) resetPassword(c *authcore.Call) (any, error) {
	phone, err := p.phoneArg(c)
	if err != nil {
		return nil, err
	}
	e := p.engine
	pw := c.Body.String("newPassword")
	if err := e.CheckNewPassword(pw); err != nil {
		return nil, err
	}
	ctx := c.Context()
	id := resetIdentifier(phone)
	if err := p.checkCode(ctx, id, c.Body.String("otp"), false); err != nil {
		return nil, err
	}
	user, err := p.userByPhone(ctx, phone)
	if err != nil {
		return nil, err
	}
	if user == nil {
		return nil, CodeUnexpectedError.With(http.StatusBadRequest)
	}
	if p.RequireVerification && !user.Bool(FieldPhoneNumberVerified) {
		return nil, CodePhoneNumberPendingVerification.With(http.StatusBadRequest)
	}
	if err := p.checkCode(ctx, id, c.Body.String("otp"), true); err != nil {
		return nil, err
	}
	c.AuditSubject(user.ID())
	if err := e.ResetPassword(ctx, user.ID(), pw); err != nil {
		return nil, err
	}
	return map[string]any{"status": true}, nil
}
