package authcore

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/gatehouse-auth/gatehouse/authcore/ratelimit"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// signUpEmail is spec §6 #1.
func (e *Engine) signUpEmail(c *Call) (any, error) {
	cfg := e.cfg.EmailAndPassword
	if cfg.Disabled || cfg.DisableSignUp {
		return nil, CodeEmailPasswordSignUpDisabled.With(http.StatusBadRequest)
	}
	email := NormalizeEmail(c.Body.String("email"))
	if !ValidEmail(email) {
		return nil, CodeInvalidEmail.With(http.StatusBadRequest)
	}
	if !e.domainAllowed(email) {
		return nil, CodeEmailDomainNotAllowed.With(http.StatusBadRequest)
	}
	pw := c.Body.String("password")
	if err := e.CheckNewPassword(pw); err != nil {
		return nil, err
	}
	// Hash before looking at the email, so a taken address costs the same time (ENUM-02).
	hash, err := e.HashPassword(pw)
	if err != nil {
		return nil, err
	}
	user := storage.Record{"name": c.Body.String("name"), "email": email}
	if img := c.Body.String("image"); img != "" {
		user["image"] = img
	}
	for k, v := range c.Body {
		switch k {
		case "name", "email", "password", "image", "callbackURL", "rememberMe":
		default:
			user[k] = v // user-model fields the validator let through (plugin fields)
		}
	}
	quiet := cfg.RequireEmailVerification || cfg.DisableAutoSignIn
	created, err := e.CreateUser(c.Context(), user, hash)
	if cerr := e.UniqueConflictError(err); cerr != nil {
		return nil, cerr // a plugin field taken meanwhile (a username): not an email question
	}
	if errors.Is(err, storage.ErrDuplicate) {
		if !quiet {
			// With auto sign-in, Better Auth answers 422 here; the leak is accepted and
			// rate-limited (ENUM-02).
			return nil, CodeUserAlreadyExistsUseAnotherEmail.With(http.StatusUnprocessableEntity)
		}
		e.notifyExistingAccount(email)
		return e.syntheticSignUp(user)
	}
	if err != nil {
		return nil, CodeFailedToCreateUser.With(http.StatusUnprocessableEntity).Wrap(err)
	}
	c.AuditSubject(created.ID())
	if e.mailer != nil && (e.cfg.EmailVerification.SendOnSignUp || cfg.RequireEmailVerification) {
		if err := e.sendVerificationLink(c.Context(), created, c.Body.String("callbackURL")); err != nil {
			return nil, err
		}
	}
	if quiet {
		return map[string]any{"token": nil, "user": e.Public(ModelUser, created)}, nil
	}
	s, err := c.SignIn(created, SignInOptions{Method: "email", DontRemember: !c.Body.BoolOr("rememberMe", true)})
	if err != nil {
		return nil, err
	}
	return map[string]any{"token": s.Token, "user": e.Public(ModelUser, s.User)}, nil
}

// syntheticSignUp answers a sign-up of a taken email exactly like a fresh one when sign-up
// does not sign in (verification required or auto sign-in off): same status, same shape,
// a user that does not exist (ENUM-02).
func (e *Engine) syntheticSignUp(user storage.Record) (any, error) {
	id, err := e.NewID()
	if err != nil {
		return nil, err
	}
	now := e.clock.Now()
	u := user.Clone()
	u["id"], u["createdAt"], u["updatedAt"] = id, now, now
	rec, err := e.reg.schema.Normalize(ModelUser, u)
	if err != nil {
		return nil, Internal(err)
	}
	return map[string]any{"token": nil, "user": e.Public(ModelUser, rec)}, nil
}

// notifyExistingAccount tells the real owner that someone tried to sign up with their
// address, instead of telling the caller.
func (e *Engine) notifyExistingAccount(email string) {
	if e.mailer == nil {
		return
	}
	// No link: the message points at the app (its base URL), and a webhook receiver gets
	// no data it could mistake for a token.
	e.SendEmail(Message{Type: "account-exists", To: email})
}

func (e *Engine) domainAllowed(email string) bool {
	if len(e.cfg.EmailAndPassword.AllowedDomains) == 0 {
		return true
	}
	_, domain, _ := strings.Cut(email, "@")
	for _, d := range e.cfg.EmailAndPassword.AllowedDomains {
		if strings.EqualFold(domain, d) {
			return true
		}
	}
	return false
}

// signInEmail is spec §6 #2.
func (e *Engine) signInEmail(c *Call) (any, error) {
	if e.cfg.EmailAndPassword.Disabled {
		return nil, CodeEmailPasswordDisabled.With(http.StatusBadRequest)
	}
	email := NormalizeEmail(c.Body.String("email"))
	if !ValidEmail(email) {
		return nil, CodeInvalidEmail.With(http.StatusBadRequest)
	}
	pw := c.Body.String("password")
	if e.tooLong(pw) {
		return nil, CodePasswordTooLong.With(http.StatusBadRequest) // before any hashing (PWD-04)
	}
	user, err := e.UserByEmail(c.Context(), email)
	if err != nil {
		return nil, err
	}
	ok, err := e.CheckSignInPassword(c.Context(), user, pw)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, CodeInvalidEmailOrPassword.With(http.StatusUnauthorized)
	}
	if e.cfg.EmailAndPassword.RequireEmailVerification && !user.Bool("emailVerified") {
		return nil, CodeEmailNotVerified.With(http.StatusForbidden)
	}
	s, err := c.SignIn(user, SignInOptions{Method: "email", DontRemember: !c.Body.BoolOr("rememberMe", true)})
	if err != nil {
		return nil, err
	}
	return e.signInResponse(c, s), nil
}

// signInResponse is the body of password sign-ins: {"redirect", "token", "url", "user"};
// with a callbackURL the 200 also carries Location (spec §6 #2).
func (e *Engine) signInResponse(c *Call, s *Session) map[string]any {
	out := map[string]any{"redirect": false, "token": s.Token, "user": e.Public(ModelUser, s.User)}
	if cb := c.Body.String("callbackURL"); cb != "" {
		if abs, ok := e.origins.Resolve(e.baseURL, cb); ok {
			out["redirect"], out["url"] = true, cb
			c.Header().Set("Location", abs)
		}
	}
	return out
}

// CheckSignInPassword is the password step of every password sign-in (email, username,
// phone number): user may be nil (unknown identifier), which still costs one hash. Failures
// are counted per account, whatever identifier was typed, and after
// rate_limit.account_failures of them the account's password sign-in is locked for
// account_window — during which even the right password gets the same generic failure
// (BF-01). ok=false is always answered with the method's generic 401.
func (e *Engine) CheckSignInPassword(ctx context.Context, user storage.Record, pw string) (bool, error) {
	if user == nil {
		e.hasher.FakeVerify(pw)
		return false, nil
	}
	key := "signin-failures|" + user.ID()
	rule := e.failureRule()
	now := e.clock.Now()
	if ok, _ := e.failures.Peek(key, rule, now); !ok {
		e.hasher.FakeVerify(pw)
		return false, nil
	}
	ok, _, err := e.CheckUserPassword(ctx, user.ID(), pw)
	if err != nil {
		return false, err
	}
	if !ok {
		e.failures.Allow(key, rule, now)
		return false, nil
	}
	e.failures.Reset(key)
	return true, nil
}

func (e *Engine) failureRule() ratelimit.Rule {
	return ratelimit.Rule{Window: e.cfg.RateLimit.AccountWindow, Max: e.cfg.RateLimit.AccountFailures}
}

// getSession is spec §6 #3 and §3's algorithm.
func (e *Engine) getSession(c *Call) (any, error) {
	if _, n := readCookie(c.Request.Header, e.cookies.Name(CookieSessionToken)); n == 0 {
		return nil, nil
	}
	if e.cfg.Session.CookieCache > 0 && !c.Query.Bool("disableCookieCache") {
		if cached := c.sessionFromData(); cached != nil {
			return cached, nil
		}
	}
	s, err := c.Session()
	if err != nil {
		return nil, err
	}
	if s == nil {
		c.ClearSessionCookies()
		return nil, nil
	}
	_, dontRemember := c.SignedCookie(CookieDontRemember)
	if !dontRemember && !c.Query.Bool("disableRefresh") && e.refreshDue(s.Session) {
		rec, err := e.extend(c.Context(), s.Session)
		if err != nil {
			return nil, err
		}
		s = &Session{Session: rec, User: s.User, Token: s.Token}
		c.SetSessionCookies(s, false)
	} else if e.cfg.Session.CookieCache > 0 {
		c.setSessionData(s)
	}
	return e.SessionJSON(s), nil
}

// signOut is spec §6 #4.
func (e *Engine) signOut(c *Call) (any, error) {
	s, err := c.Session()
	if err != nil {
		return nil, err
	}
	if s != nil {
		if err := e.RevokeSession(c.Context(), s.ID()); err != nil {
			return nil, err
		}
	}
	c.ClearSessionCookies()
	return map[string]any{"success": true}, nil
}

// dontRemember reports whether the caller's session is a browser-session one.
func (c *Call) dontRemember() bool {
	_, ok := c.SignedCookie(CookieDontRemember)
	return ok
}
