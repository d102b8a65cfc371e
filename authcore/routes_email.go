package authcore

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/gatehouse-auth/gatehouse/storage"
)

// verificationLink builds <base>/verify-email?token=..&callbackURL=.. (spec §6 #1).
func (e *Engine) verificationLink(token, callbackURL string) string {
	if callbackURL == "" {
		callbackURL = "/"
	}
	return e.APIURL(PathVerifyEmail) + "?token=" + url.QueryEscape(token) + "&callbackURL=" + url.QueryEscape(callbackURL)
}

// sendVerificationLink queues a verification email for user's current address.
func (e *Engine) sendVerificationLink(ctx context.Context, user storage.Record, callbackURL string) error {
	if e.reg.verifyEmail != nil {
		return e.reg.verifyEmail(ctx, user, callbackURL)
	}
	email := user.String("email")
	tok, err := e.emailToken(email, "", "", user.ID())
	if err != nil {
		return err
	}
	link := e.verificationLink(tok, callbackURL)
	e.SendEmail(Message{Type: "verify-email", To: email, Data: MessageData{URL: link, Token: tok},
		ExpiresIn: e.cfg.EmailVerification.ExpiresIn})
	return nil
}

// sendVerificationEmail is spec §6 #19. Without a session the answer never depends on the
// address: the lookup runs on the background queue (ENUM-03).
func (e *Engine) sendVerificationEmail(c *Call) (any, error) {
	if e.mailer == nil {
		return nil, CodeVerificationEmailNotEnabled.With(http.StatusBadRequest)
	}
	email := NormalizeEmail(c.Body.String("email"))
	cb := c.Body.String("callbackURL")
	s, _ := c.Session()
	if s != nil {
		if s.User.String("email") != email {
			return nil, CodeEmailMismatch.With(http.StatusBadRequest)
		}
		if s.User.Bool("emailVerified") {
			return nil, CodeEmailAlreadyVerified.With(http.StatusBadRequest)
		}
		if err := e.sendVerificationLink(c.Context(), s.User, cb); err != nil {
			return nil, err
		}
		return map[string]any{"status": true}, nil
	}
	e.Defer("verification email", func(ctx context.Context) error {
		user, err := e.UserByEmail(ctx, email)
		if err != nil || user == nil || user.Bool("emailVerified") {
			return err
		}
		return e.sendVerificationLink(ctx, user, cb)
	})
	return map[string]any{"status": true}, nil
}

// verifyEmail is spec §6 #20, also completing change-email. Failures answer 401 JSON, or a
// redirect to callbackURL with ?error=CODE when one is given.
func (e *Engine) verifyEmail(c *Call) (any, error) {
	ctx := c.Context()
	cb := c.Query.String("callbackURL")
	fail := func(code ErrorCode) (any, error) {
		c.AuditFailed(code.Code)
		if cb != "" {
			if abs, ok := e.origins.Resolve(e.baseURL, cb); ok {
				return Redirect(withQuery(abs, "error", code.Code)), nil
			}
		}
		return nil, code.With(http.StatusUnauthorized)
	}
	claims, err := e.parseEmailToken(c.Query.String("token"))
	if errors.Is(err, errTokenExpired) {
		return fail(CodeTokenExpired)
	}
	if err != nil {
		return fail(CodeInvalidToken)
	}
	user, err := e.UserByEmail(ctx, claims.Email)
	if err != nil {
		return nil, err
	}
	if user == nil {
		return fail(CodeUserNotFound)
	}
	c.AuditSubject(user.ID())
	if claims.UserID != "" && claims.UserID != user.ID() {
		// The address now belongs to someone else: a token is bound to its user (OTT-01).
		return fail(CodeInvalidUser)
	}
	done := func(u storage.Record) (any, error) {
		if cb != "" {
			if abs, ok := e.origins.Resolve(e.baseURL, cb); ok {
				return Redirect(abs), nil
			}
		}
		return map[string]any{"status": true, "user": e.Public(ModelUser, u)}, nil
	}
	switch claims.RequestType {
	case changeEmailConfirmation:
		// The old address confirmed the change: now verify the new one.
		if err := e.sendChangeVerification(user, claims.UpdateTo, cb); err != nil {
			return nil, err
		}
		return done(user)
	case changeEmailVerification:
		c.AuditAs(AuditEmailChange)
		c.AuditDetail("step", "applied")
		s, _ := c.Session()
		if s != nil && s.UserID() != user.ID() {
			return fail(CodeInvalidUser)
		}
		updated, err := e.UpdateUser(ctx, user.ID(), storage.Record{"email": NormalizeEmail(claims.UpdateTo), "emailVerified": true})
		if errors.Is(err, storage.ErrDuplicate) {
			return fail(CodeUserAlreadyExists)
		}
		if err != nil {
			return nil, err
		}
		if s != nil {
			c.SetSessionCookies(&Session{Session: s.Session, User: updated, Token: s.Token}, c.dontRemember())
		}
		return done(updated)
	}
	if user.Bool("emailVerified") {
		if cb != "" {
			return done(user)
		}
		return map[string]any{"status": true, "user": nil}, nil
	}
	updated, err := e.UpdateUser(ctx, user.ID(), storage.Record{"emailVerified": true})
	if err != nil {
		return nil, err
	}
	if e.cfg.EmailVerification.AutoSignInAfterVerification {
		if _, err := c.SignIn(updated, SignInOptions{Method: "verify-email"}); err != nil {
			return nil, err
		}
	}
	return done(updated)
}

// changeEmail is spec §6 #13.
func (e *Engine) changeEmail(c *Call) (any, error) {
	cfg := e.cfg.User.ChangeEmail
	if !cfg.Enabled {
		return nil, CodeChangeEmailDisabled.With(http.StatusBadRequest)
	}
	s, _ := c.Session()
	ctx := c.Context()
	newEmail := NormalizeEmail(c.Body.String("newEmail"))
	if !ValidEmail(newEmail) {
		return nil, CodeInvalidEmail.With(http.StatusBadRequest)
	}
	if newEmail == s.User.String("email") {
		return nil, NewError(http.StatusBadRequest, "Email is the same")
	}
	cb := c.Body.String("callbackURL")
	immediate := !s.User.Bool("emailVerified") && cfg.UpdateEmailWithoutVerification
	if !immediate && e.mailer == nil {
		// Refused before the target is looked up, so that the answer without a mailer does
		// not tell a taken address (200) from a free one (400) (ENUM-03).
		return nil, CodeVerificationEmailNotEnabled.With(http.StatusBadRequest)
	}
	taken, err := e.UserByEmail(ctx, newEmail)
	if err != nil {
		return nil, err
	}
	if taken != nil {
		// Same answer as success: the caller learns nothing about the other account.
		return map[string]any{"status": true}, nil
	}
	if immediate {
		updated, err := e.UpdateUser(ctx, s.UserID(), storage.Record{"email": newEmail, "emailVerified": false})
		if errors.Is(err, storage.ErrDuplicate) {
			return map[string]any{"status": true}, nil
		}
		if err != nil {
			return nil, err
		}
		c.SetSessionCookies(&Session{Session: s.Session, User: updated, Token: s.Token}, c.dontRemember())
		if e.mailer != nil {
			if err := e.sendVerificationLink(ctx, updated, cb); err != nil {
				return nil, err
			}
		}
		return map[string]any{"status": true}, nil
	}
	if s.User.Bool("emailVerified") && cfg.SendChangeEmailConfirmation {
		old := s.User.String("email")
		tok, err := e.emailToken(old, newEmail, changeEmailConfirmation, s.UserID())
		if err != nil {
			return nil, err
		}
		link := e.verificationLink(tok, cb)
		e.SendEmail(Message{Type: "change-email", To: old, Data: MessageData{URL: link, Token: tok},
			ExpiresIn: e.cfg.EmailVerification.ExpiresIn, Vars: map[string]string{"newEmail": newEmail}})
		return map[string]any{"status": true}, nil
	}
	if err := e.sendChangeVerification(s.User, newEmail, cb); err != nil {
		return nil, err
	}
	return map[string]any{"status": true}, nil
}

// sendChangeVerification sends the verification link for a new address.
func (e *Engine) sendChangeVerification(user storage.Record, newEmail, cb string) error {
	tok, err := e.emailToken(user.String("email"), newEmail, changeEmailVerification, user.ID())
	if err != nil {
		return err
	}
	link := e.verificationLink(tok, cb)
	e.SendEmail(Message{Type: "verify-email", To: newEmail, Data: MessageData{URL: link, Token: tok},
		ExpiresIn: e.cfg.EmailVerification.ExpiresIn})
	return nil
}
