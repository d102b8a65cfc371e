package emailotp

import (
	"context"
	"errors"
	"net/http"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// Route paths, relative to the base path (spec §7.5).
const (
	PathSendVerificationOTP  = "/email-otp/send-verification-otp"
	PathCheckVerificationOTP = "/email-otp/check-verification-otp"
	PathVerifyEmail          = "/email-otp/verify-email"
	PathSignIn               = "/sign-in/email-otp"
	PathRequestPasswordReset = "/email-otp/request-password-reset"
	PathForgetPassword       = "/forget-password/email-otp" // deprecated alias
	PathResetPassword        = "/email-otp/reset-password"
	PathRequestEmailChange   = "/email-otp/request-email-change"
	PathChangeEmail          = "/email-otp/change-email"
)

var tags = []string{"Email OTP"}

func (p *Plugin) endpoints() []authcore.Endpoint {
	email := authcore.String("email").Req()
	otp := authcore.String("otp").Req()
	otpErrors := []authcore.ErrorCode{CodeInvalidOTP, CodeOTPExpired, CodeTooManyAttempts}
	return []authcore.Endpoint{
		{Method: "POST", Path: PathSendVerificationOTP, Handler: p.sendVerificationOTP, FormCSRF: true,
			Body:    []authcore.Param{email.Doc("Email address to send the OTP"), authcore.String("type").Req().Doc("email-verification, sign-in or forget-password")},
			Summary: "Send a verification OTP to an email", Tags: tags, Response: authcore.ObjectOf(map[string]any{"success": "boolean"}, "success"),
			Description: "Answers the same whether or not the address has an account; the code is sent only to existing accounts, except for sign-in when sign-up is allowed.",
			Errors:      []authcore.ErrorCode{authcore.CodeInvalidEmail, authcore.CodeValidationError}},
		{Method: "POST", Path: PathCheckVerificationOTP, Handler: p.checkVerificationOTP,
			Body:    []authcore.Param{email, authcore.String("type").Req(), otp},
			Summary: "Check a verification OTP without using it up", Tags: tags, Response: authcore.ObjectOf(map[string]any{"success": "boolean"}, "success"),
			Errors: append([]authcore.ErrorCode{authcore.CodeInvalidEmail, authcore.CodeUserNotFound}, otpErrors...)},
		{Method: "POST", Path: PathVerifyEmail, Handler: p.verifyEmail, Auth: authcore.AuthOptional,
			Body:    []authcore.Param{email, otp},
			Summary: "Verify an email with an OTP", Tags: tags, Response: authcore.ObjectOf(map[string]any{"status": "boolean", "token": authcore.Nullable("string"), "user": authcore.ModelRef(authcore.ModelUser)}, "status", "token", "user"), NoStore: true,
			Errors: append([]authcore.ErrorCode{authcore.CodeInvalidEmail, authcore.CodeUserNotFound}, otpErrors...)},
		{Method: "POST", Path: PathSignIn, Handler: p.signIn, UserFields: true, NoStore: true,
			Body: []authcore.Param{email, otp,
				authcore.String("name").Doc("Only used when the user is created"), authcore.String("image").Doc("Only used when the user is created")},
			Summary: "Sign in with email and OTP", Tags: tags, Response: authcore.ObjectOf(map[string]any{"token": "string", "user": authcore.ModelRef(authcore.ModelUser)}, "token", "user"),
			Description: "Creates the user when the address is unknown, unless sign-up is disabled.",
			Errors:      append([]authcore.ErrorCode{authcore.CodeFailedToCreateUser}, otpErrors...)},
		{Method: "POST", Path: PathRequestPasswordReset, Handler: p.requestPasswordReset,
			Body:    []authcore.Param{email},
			Summary: "Send a password reset OTP", Tags: tags, Response: authcore.ObjectOf(map[string]any{"success": "boolean"}, "success")},
		{Method: "POST", Path: PathForgetPassword, Handler: p.requestPasswordReset,
			Body:    []authcore.Param{email},
			Summary: "Send a password reset OTP (deprecated: use " + PathRequestPasswordReset + ")", Tags: tags, Response: authcore.ObjectOf(map[string]any{"success": "boolean"}, "success")},
		{Method: "POST", Path: PathResetPassword, Handler: p.resetPassword,
			Body:    []authcore.Param{email, otp, authcore.String("password").Req()},
			Summary: "Reset the password with an OTP", Tags: tags, Response: authcore.ObjectOf(map[string]any{"success": "boolean"}, "success"),
			Errors: append([]authcore.ErrorCode{authcore.CodePasswordTooShort, authcore.CodePasswordTooLong, authcore.CodePasswordTooCommon, authcore.CodeUserNotFound}, otpErrors...)},
		{Method: "POST", Path: PathRequestEmailChange, Handler: p.requestEmailChange, Auth: authcore.AuthSensitive,
			Body:    []authcore.Param{authcore.String("newEmail").Req(), authcore.String("otp").Doc("Code sent to the current address; required with change_email.verify_current_email")},
			Summary: "Send an OTP to a new email address", Tags: tags, Response: authcore.ObjectOf(map[string]any{"success": "boolean"}, "success"),
			Errors: append([]authcore.ErrorCode{authcore.CodeInvalidEmail, authcore.CodeUnauthorized}, otpErrors...)},
		{Method: "POST", Path: PathChangeEmail, Handler: p.changeEmail, Auth: authcore.AuthSensitive,
			Body:    []authcore.Param{authcore.String("newEmail").Req(), otp},
			Summary: "Change the email address with the OTP sent to it", Tags: tags, Response: authcore.ObjectOf(map[string]any{"success": "boolean"}, "success"),
			Errors: append([]authcore.ErrorCode{authcore.CodeInvalidEmail, authcore.CodeUserNotFound, authcore.CodeUnauthorized}, otpErrors...)},
	}
}

var success = map[string]bool{"success": true}

// bodyType reads the body's "type" as Better Auth's schema does (an enum: anything else is a
// validation error).
func bodyType(c *authcore.Call) (OTPType, error) {
	t, ok := parseType(c.Body.String("type"))
	if !ok {
		return "", &authcore.Error{Status: http.StatusBadRequest, Code: authcore.CodeValidationError.Code, Message: msgTypeValidationText}
	}
	return t, nil
}

// bodyEmail reads and normalizes an address from the body: 400 INVALID_EMAIL unless valid.
func bodyEmail(c *authcore.Call, name string) (string, error) {
	email := authcore.NormalizeEmail(c.Body.String(name))
	if !authcore.ValidEmail(email) {
		return "", authcore.CodeInvalidEmail.With(http.StatusBadRequest)
	}
	return email, nil
}

// redeem checks code against identifier's live code, using it up on success.
func (p *Plugin) redeem(ctx context.Context, id, code string) error {
	return otpError(p.engine.CheckOTP(ctx, id, code, p.otp, true))
}

// sendVerificationOTP is POST /email-otp/send-verification-otp. The answer never depends on
// whether the address has an account: the look-up, the code and the email happen after the
// response, on the engine's queue (D18, ENUM-03).
func (p *Plugin) sendVerificationOTP(c *authcore.Call) (any, error) {
	t, err := bodyType(c)
	if err != nil {
		return nil, err
	}
	if !p.engine.HasEmail() {
		return nil, badRequest(msgNotImplemented)
	}
	email, err := bodyEmail(c, "email")
	if err != nil {
		return nil, err
	}
	if t == TypeChangeEmail {
		// Change-email codes come from /email-otp/request-email-change only.
		return nil, badRequest(msgInvalidOTPType)
	}
	if err := p.limitDestination(email); err != nil {
		return nil, err
	}
	p.engine.Defer("email-otp "+string(t), func(ctx context.Context) error {
		if t != TypeSignIn || !p.signUpAllowed(email) {
			user, err := p.engine.UserByEmail(ctx, email)
			if err != nil || user == nil {
				return err
			}
		}
		return p.issueAndSend(ctx, identifier(t, email), email, t)
	})
	return success, nil
}

// checkVerificationOTP is POST /email-otp/check-verification-otp: the code stays usable, but a
// wrong guess still counts.
func (p *Plugin) checkVerificationOTP(c *authcore.Call) (any, error) {
	t, err := bodyType(c)
	if err != nil {
		return nil, err
	}
	email, err := bodyEmail(c, "email")
	if err != nil {
		return nil, err
	}
	ctx := c.Context()
	if err := otpError(p.engine.CheckOTP(ctx, identifier(t, email), c.Body.String("otp"), p.otp, false)); err != nil {
		return nil, err
	}
	user, err := p.engine.UserByEmail(ctx, email)
	if err != nil {
		return nil, err
	}
	if user == nil {
		// The caller holds a valid code for the address, so this tells them nothing new.
		return nil, authcore.CodeUserNotFound.With(http.StatusBadRequest)
	}
	return success, nil
}

// verifyEmail is POST /email-otp/verify-email.
func (p *Plugin) verifyEmail(c *authcore.Call) (any, error) {
	email, err := bodyEmail(c, "email")
	if err != nil {
		return nil, err
	}
	ctx := c.Context()
	if err := p.redeem(ctx, identifier(TypeEmailVerification, email), c.Body.String("otp")); err != nil {
		return nil, err
	}
	user, err := p.engine.UserByEmail(ctx, email)
	if err != nil {
		return nil, err
	}
	if user == nil {
		return nil, authcore.CodeUserNotFound.With(http.StatusBadRequest)
	}
	updated, err := p.engine.UpdateUser(ctx, user.ID(), storage.Record{"email": email, "emailVerified": true})
	if err != nil {
		return nil, err
	}
	if p.cfg.EmailVerification.AutoSignInAfterVerification {
		s, err := c.SignIn(updated, authcore.SignInOptions{Method: "verify-email"})
		if err != nil {
			return nil, err
		}
		return map[string]any{"status": true, "token": s.Token, "user": p.engine.Public(authcore.ModelUser, s.User)}, nil
	}
	// A caller signed in as this user gets a cookie cache that says verified; another user's
	// session is left alone.
	if s, _ := c.Session(); s != nil && s.UserID() == updated.ID() && p.cfg.Session.CookieCache > 0 {
		c.SetSessionCookies(&authcore.Session{Session: s.Session, User: updated, Token: s.Token}, dontRemember(c))
	}
	return map[string]any{"status": true, "token": nil, "user": p.engine.Public(authcore.ModelUser, updated)}, nil
}

// signIn is POST /sign-in/email-otp.
func (p *Plugin) signIn(c *authcore.Call) (any, error) {
	ctx := c.Context()
	email := authcore.NormalizeEmail(c.Body.String("email"))
	if err := p.redeem(ctx, identifier(TypeSignIn, email), c.Body.String("otp")); err != nil {
		return nil, err
	}
	user, err := p.engine.UserByEmail(ctx, email)
	if err != nil {
		return nil, err
	}
	if user == nil {
		if !p.signUpAllowed(email) {
			return nil, CodeInvalidOTP.With(http.StatusBadRequest)
		}
		if user, err = p.createUser(c, email); err != nil {
			return nil, err
		}
	} else if !user.Bool("emailVerified") {
		if user, err = p.engine.ClaimEmail(ctx, user.ID()); err != nil {
			return nil, err
		}
		if user == nil {
			return nil, CodeInvalidOTP.With(http.StatusBadRequest) // deleted meanwhile
		}
	}
	s, err := c.SignIn(user, authcore.SignInOptions{Method: "email-otp"})
	if err != nil {
		return nil, err
	}
	return map[string]any{"token": s.Token, "user": p.engine.Public(authcore.ModelUser, s.User)}, nil
}

// createUser creates the user a sign-in code proved the address of: verified, with the
// body's name, image and other client-settable user fields.
func (p *Plugin) createUser(c *authcore.Call, email string) (storage.Record, error) {
	rec := storage.Record{}
	for k, v := range c.Body {
		switch k {
		case "email", "otp", "name", "image":
		default:
			rec[k] = v // user-model fields the validator let through (Endpoint.UserFields)
		}
	}
	rec["email"], rec["emailVerified"], rec["name"] = email, true, c.Body.String("name")
	if img := c.Body.String("image"); img != "" {
		rec["image"] = img
	}
	user, err := p.engine.CreateUser(c.Context(), rec, "")
	if errors.Is(err, storage.ErrDuplicate) {
		// Created meanwhile by a concurrent sign-up: the code proves this address all the same.
		if user, err = p.engine.UserByEmail(c.Context(), email); err == nil && user != nil {
			if !user.Bool("emailVerified") {
				user, err = p.engine.ClaimEmail(c.Context(), user.ID())
			}
			if err == nil && user != nil {
				return user, nil
			}
		}
	}
	if err != nil || user == nil {
		return nil, authcore.CodeFailedToCreateUser.With(http.StatusUnprocessableEntity).Wrap(err)
	}
	return user, nil
}

// requestPasswordReset is POST /email-otp/request-password-reset and its deprecated alias
// POST /forget-password/email-otp. Like sendVerificationOTP, it answers before it looks.
func (p *Plugin) requestPasswordReset(c *authcore.Call) (any, error) {
	if !p.engine.HasEmail() {
		return nil, badRequest(msgNotImplemented)
	}
	email := authcore.NormalizeEmail(c.Body.String("email"))
	if !authcore.ValidEmail(email) {
		// No account has such an address: Better Auth answers success and sends nothing.
		return success, nil
	}
	if err := p.limitDestination(email); err != nil {
		return nil, err
	}
	p.engine.Defer("email-otp "+string(TypeForgetPassword), func(ctx context.Context) error {
		user, err := p.engine.UserByEmail(ctx, email)
		if err != nil || user == nil {
			return err
		}
		return p.issueAndSend(ctx, identifier(TypeForgetPassword, email), email, TypeForgetPassword)
	})
	return success, nil
}

// resetPassword is POST /email-otp/reset-password. The password policy is checked first, so
// a refused password does not use up the code.
func (p *Plugin) resetPassword(c *authcore.Call) (any, error) {
	ctx := c.Context()
	email := authcore.NormalizeEmail(c.Body.String("email"))
	pw := c.Body.String("password")
	if err := p.engine.CheckNewPassword(pw); err != nil {
		return nil, err
	}
	if err := p.redeem(ctx, identifier(TypeForgetPassword, email), c.Body.String("otp")); err != nil {
		return nil, err
	}
	user, err := p.engine.UserByEmail(ctx, email)
	if err != nil {
		return nil, err
	}
	if user == nil {
		return nil, authcore.CodeUserNotFound.With(http.StatusBadRequest)
	}
	if err := p.engine.ResetPassword(ctx, user.ID(), pw); err != nil {
		return nil, err
	}
	if !user.Bool("emailVerified") {
		if _, err := p.engine.UpdateUser(ctx, user.ID(), storage.Record{"emailVerified": true}); err != nil {
			return nil, err
		}
	}
	return success, nil
}

// changeEmailCheck is the part both change-email endpoints share: the feature is on, and the
// new address is valid and not the current one.
func (p *Plugin) changeEmailCheck(c *authcore.Call) (s *authcore.Session, oldEmail, newEmail string, err error) {
	if !p.ChangeEmail.Enabled {
		return nil, "", "", badRequest(msgChangeEmailOff)
	}
	if s, err = c.RequireSession(); err != nil {
		return nil, "", "", err
	}
	if newEmail, err = bodyEmail(c, "newEmail"); err != nil {
		return nil, "", "", err
	}
	oldEmail = authcore.NormalizeEmail(s.User.String("email"))
	if newEmail == oldEmail {
		return nil, "", "", badRequest(msgEmailIsTheSame)
	}
	return s, oldEmail, newEmail, nil
}

// requestEmailChange is POST /email-otp/request-email-change. Whether the new address is
// taken is decided after the response: a taken address gets no code and the caller the
// same answer.
func (p *Plugin) requestEmailChange(c *authcore.Call) (any, error) {
	_, oldEmail, newEmail, err := p.changeEmailCheck(c)
	if err != nil {
		return nil, err
	}
	if !p.engine.HasEmail() {
		return nil, badRequest(msgNotImplemented)
	}
	if p.ChangeEmail.VerifyCurrentEmail {
		code := c.Body.String("otp")
		if code == "" {
			return nil, badRequest(msgOTPRequired)
		}
		if err := p.redeem(c.Context(), identifier(TypeEmailVerification, oldEmail), code); err != nil {
			return nil, err
		}
	}
	if err := p.limitDestination(newEmail); err != nil {
		return nil, err
	}
	id := changeEmailIdentifier(oldEmail, newEmail)
	p.engine.Defer("email-otp "+string(TypeChangeEmail), func(ctx context.Context) error {
		taken, err := p.engine.UserByEmail(ctx, newEmail)
		if err != nil {
			return err
		}
		if taken != nil {
			return p.engine.DeleteOTP(ctx, id)
		}
		return p.issueAndSend(ctx, id, newEmail, TypeChangeEmail)
	})
	return success, nil
}

// changeEmail is POST /email-otp/change-email.
func (p *Plugin) changeEmail(c *authcore.Call) (any, error) {
	s, oldEmail, newEmail, err := p.changeEmailCheck(c)
	if err != nil {
		return nil, err
	}
	ctx := c.Context()
	if err := p.redeem(ctx, changeEmailIdentifier(oldEmail, newEmail), c.Body.String("otp")); err != nil {
		return nil, err
	}
	taken, err := p.engine.UserByEmail(ctx, newEmail)
	if err != nil {
		return nil, err
	}
	if taken != nil {
		// Safe to say: the caller proved control of the new address with its code.
		return nil, badRequest(msgEmailAlreadyInUse)
	}
	updated, err := p.engine.UpdateUser(ctx, s.UserID(), storage.Record{"email": newEmail, "emailVerified": true})
	switch {
	case errors.Is(err, storage.ErrDuplicate):
		return nil, badRequest(msgEmailAlreadyInUse)
	case errors.Is(err, authcore.CodeUserNotFound.With(0)):
		return nil, authcore.CodeUserNotFound.With(http.StatusBadRequest)
	case err != nil:
		return nil, err
	}
	c.SetSessionCookies(&authcore.Session{Session: s.Session, User: updated, Token: s.Token}, dontRemember(c))
	return success, nil
}

// dontRemember reports whether the caller's session is a browser-session one.
func dontRemember(c *authcore.Call) bool {
	_, ok := c.SignedCookie(authcore.CookieDontRemember)
	return ok
}
