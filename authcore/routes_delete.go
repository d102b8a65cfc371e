package authcore

import (
	"errors"
	"html"
	"net/http"
	"net/url"

	"github.com/gatehouse-auth/gatehouse/storage"
)

// deleteUser is spec §6 #14.
func (e *Engine) deleteUser(c *Call) (any, error) {
	cfg := e.cfg.User.DeleteUser
	if !cfg.Enabled {
		return nil, &Error{Status: http.StatusNotFound, Empty: true}
	}
	s, _ := c.Session()
	ctx := c.Context()
	pw := c.Body.String("password")
	if pw != "" {
		if err := e.confirmPassword(ctx, s.UserID(), pw); err != nil {
			return nil, err
		}
	}
	if tok := c.Body.String("token"); tok != "" {
		return e.completeDeletion(c, s, tok, "")
	}
	if cfg.SendDeleteAccountVerification {
		if e.mailer == nil {
			// Deletion was configured to need an emailed confirmation that cannot be sent:
			// refuse rather than delete without it.
			return nil, CodeVerificationEmailNotEnabled.With(http.StatusBadRequest)
		}
		tok, err := e.rand.String(32, lowerAlphaNum)
		if err != nil {
			return nil, Internal(err)
		}
		if err := e.CreateVerification(ctx, deleteIdentifier(tok), s.UserID(), cfg.DeleteTokenExpiresIn); err != nil {
			return nil, err
		}
		cb := c.Body.String("callbackURL")
		if cb == "" {
			cb = "/"
		}
		link := e.APIURL(PathDeleteUserCallback) + "?token=" + url.QueryEscape(tok) + "&callbackURL=" + url.QueryEscape(cb)
		c.AuditDetail("step", "verification_sent")
		e.SendEmail(Message{Type: "delete-account", To: s.User.String("email"),
			Data: MessageData{URL: link, Token: tok}, ExpiresIn: cfg.DeleteTokenExpiresIn})
		return map[string]any{"success": true, "message": "Verification email sent"}, nil
	}
	if pw == "" && !e.fresh(s) {
		return nil, CodeSessionExpired.With(http.StatusBadRequest)
	}
	if err := e.DeleteUser(ctx, s.UserID()); err != nil {
		return nil, err
	}
	c.ClearSessionCookies()
	return map[string]any{"success": true, "message": "User deleted"}, nil
}

func deleteIdentifier(token string) string { return "delete-account-" + HashToken(token) }

// deleteUserCallback is spec §6 #15.
func (e *Engine) deleteUserCallback(c *Call) (any, error) {
	if !e.cfg.User.DeleteUser.Enabled {
		return nil, &Error{Status: http.StatusNotFound, Empty: true}
	}
	s, err := c.Session()
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, CodeFailedToGetUserInfo.With(http.StatusNotFound)
	}
	return e.completeDeletion(c, s, c.Query.String("token"), c.Query.String("callbackURL"))
}

// completeDeletion consumes a deletion token that must belong to the session's user.
func (e *Engine) completeDeletion(c *Call, s *Session, tok, cb string) (any, error) {
	ctx := c.Context()
	// Consumed only together with its owner: another user's attempt leaves the token intact.
	rec, err := e.store.ConsumeOne(ctx, ModelVerification, storage.And(
		storage.Eq("identifier", deleteIdentifier(tok)), storage.Eq("value", s.UserID()),
		storage.Gt("expiresAt", e.clock.Now())))
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return nil, Internal(err)
	}
	if rec == nil {
		return nil, CodeInvalidToken.With(http.StatusNotFound)
	}
	if err := e.DeleteUser(ctx, s.UserID()); err != nil {
		return nil, err
	}
	c.ClearSessionCookies()
	if cb != "" {
		if abs, ok := e.origins.Resolve(e.baseURL, cb); ok {
			return Redirect(abs), nil
		}
	}
	return map[string]any{"success": true, "message": "User deleted"}, nil
}

// errorPage is spec §6 #30: a small self-contained HTML page naming the error code.
func (e *Engine) errorPage(c *Call) (any, error) {
	if res, ok := e.errorRedirect(c.Query.String("error"), c.Query.String("error_description")); ok {
		return res, nil
	}
	code := c.Query.String("error")
	if code == "" {
		code = "UNKNOWN"
	}
	desc := c.Query.String("error_description")
	body := "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">" +
		"<title>" + html.EscapeString(e.cfg.AppName) + " — error</title></head><body>" +
		"<main><h1>Something went wrong</h1><p>Error code: <code>" + html.EscapeString(code) + "</code></p>"
	if desc != "" {
		body += "<p>" + html.EscapeString(desc) + "</p>"
	}
	body += "<p><a href=\"" + html.EscapeString(e.baseURL.String()+"/") + "\">Back</a></p></main></body></html>"
	h := http.Header{}
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	return &RawResponse{Status: http.StatusOK, Header: h, Body: []byte(body)}, nil
}
