package authcore

import (
	"context"
	"net/http"
	"net/url"
)

// resetMessage is the public answer of request-password-reset, the same for every address.
const resetMessage = "If this email exists in our system, check your email for the reset link"

// changePassword is spec §6 #11.
func (e *Engine) changePassword(c *Call) (any, error) {
	s, _ := c.Session()
	ctx := c.Context()
	if err := e.CheckNewPassword(c.Body.String("newPassword")); err != nil {
		return nil, err
	}
	cur := c.Body.String("currentPassword")
	if e.tooLong(cur) {
		return nil, CodePasswordTooLong.With(http.StatusBadRequest)
	}
	if err := e.confirmPassword(ctx, s.UserID(), cur); err != nil {
		return nil, err
	}
	if err := e.SetUserPassword(ctx, s.UserID(), c.Body.String("newPassword")); err != nil {
		return nil, err
	}
	var token any
	if c.Body.Bool("revokeOtherSessions") {
		// Every session ends, this one included, and a fresh one replaces it: a stolen
		// token dies with the old password (SES-07).
		if _, err := e.RevokeUserSessions(ctx, s.UserID(), ""); err != nil {
			return nil, err
		}
		ns, err := c.StartSession(s.User, c.dontRemember())
		if err != nil {
			return nil, err
		}
		token = ns.Token
	}
	return map[string]any{"token": token, "user": e.Public(ModelUser, s.User)}, nil
}

// confirmPassword is the re-authentication step of sensitive endpoints: 400
// CREDENTIAL_ACCOUNT_NOT_FOUND without a password account, 400 INVALID_PASSWORD for a wrong
// one.
func (e *Engine) confirmPassword(ctx context.Context, userID, pw string) error {
	ok, hasAccount, err := e.CheckUserPassword(ctx, userID, pw)
	switch {
	case err != nil:
		return err
	case !hasAccount:
		return CodeCredentialAccountNotFound.With(http.StatusBadRequest)
	case !ok:
		return CodeInvalidPassword.With(http.StatusBadRequest)
	}
	return nil
}

// verifyPassword is spec §6 #12.
func (e *Engine) verifyPassword(c *Call) (any, error) {
	s, _ := c.Session()
	ok, _, err := e.CheckUserPassword(c.Context(), s.UserID(), c.Body.String("password"))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, CodeInvalidPassword.With(http.StatusBadRequest)
	}
	return map[string]any{"status": true}, nil
}

// requestPasswordReset is spec §6 #16. The answer is the same for every address and is
// sent before any lookup happens: the lookup, the token and the email run on the background
// queue, so neither body nor timing tells whether the account exists (ENUM-03, D13).
func (e *Engine) requestPasswordReset(c *Call) (any, error) {
	if e.mailer == nil {
		return nil, CodeResetPasswordDisabled.With(http.StatusBadRequest)
	}
	email := NormalizeEmail(c.Body.String("email"))
	redirectTo := c.Body.String("redirectTo")
	e.Defer("password reset", func(ctx context.Context) error {
		user, err := e.UserByEmail(ctx, email)
		if err != nil || user == nil {
			return err
		}
		token, err := e.rand.String(24, alphaNum)
		if err != nil {
			return err
		}
		if err := e.CreateVerification(ctx, resetIdentifier(token), user.ID(), e.cfg.EmailAndPassword.ResetPasswordTokenExpiresIn); err != nil {
			return err
		}
		cb := redirectTo
		if cb == "" {
			cb = "/" // the link must still land somewhere trusted
		}
		link := e.APIURL(PathResetPassword+"/"+token) + "?callbackURL=" + url.QueryEscape(cb)
		return e.deliverEmail(ctx, Message{Type: "reset-password", To: email,
			Data:      MessageData{URL: link, Token: token},
			ExpiresIn: e.cfg.EmailAndPassword.ResetPasswordTokenExpiresIn})
	})
	return map[string]any{"status": true, "message": resetMessage}, nil
}

// resetIdentifier is the verification identifier of a reset token: the token's hash, so the
// store never holds a usable token (OTT-03).
func resetIdentifier(token string) string { return "reset-password:" + HashToken(token) }

// resetPasswordCallback is spec §6 #17: the emailed link lands here and is redirected to the
// app's page with the token, or with ?error=INVALID_TOKEN.
func (e *Engine) resetPasswordCallback(c *Call) (any, error) {
	token := c.Params["token"]
	cb, ok := e.origins.Resolve(e.baseURL, c.Query.String("callbackURL"))
	if !ok {
		return nil, CodeInvalidCallbackURL.With(http.StatusForbidden)
	}
	rec, err := e.FindVerification(c.Context(), resetIdentifier(token))
	if err != nil {
		return nil, err
	}
	if rec == nil {
		return Redirect(withQuery(cb, "error", CodeInvalidToken.Code)), nil
	}
	return Redirect(withQuery(cb, "token", token)), nil
}

// resetPassword is spec §6 #18. The token is consumed atomically, and only after the new
// password passed the policy, so a refused password does not burn the link. It never signs
// the user in (a two-factor user still needs the second factor, PWD-03).
func (e *Engine) resetPassword(c *Call) (any, error) {
	token := c.Body.String("token")
	if token == "" {
		token = c.Query.String("token")
	}
	if token == "" {
		return nil, CodeInvalidToken.With(http.StatusBadRequest)
	}
	pw := c.Body.String("newPassword")
	if err := e.CheckNewPassword(pw); err != nil {
		return nil, err
	}
	ctx := c.Context()
	rec, err := e.ConsumeVerification(ctx, resetIdentifier(token))
	if err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, CodeInvalidToken.With(http.StatusBadRequest)
	}
	user, err := e.UserByID(ctx, rec.String("value"))
	if err != nil {
		return nil, err
	}
	if user == nil {
		return nil, CodeUserNotFound.With(http.StatusBadRequest)
	}
	c.AuditSubject(user.ID())
	if err := e.ResetPassword(ctx, user.ID(), pw); err != nil {
		return nil, err
	}
	return map[string]any{"status": true}, nil
}

// withQuery adds one query parameter to an absolute URL.
func withQuery(raw, key, value string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}
