package username

import (
	"errors"
	"net/http"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/password"
)

// Route paths of the plugin, relative to the base path.
const (
	PathSignInUsername      = "/sign-in/username"
	PathIsUsernameAvailable = "/is-username-available"
)

func (p *Plugin) endpoints() []authcore.Endpoint {
	return []authcore.Endpoint{
		{Method: http.MethodPost, Path: PathSignInUsername, Handler: p.signInUsername, FormCSRF: true, AllowForm: true,
			Body: []authcore.Param{
				authcore.String("username").Req().Doc("The username of the user"),
				authcore.String("password").Req().Doc("The password of the user"),
				authcore.Bool("rememberMe").Doc("Remember the user session"),
				authcore.String("callbackURL").Doc("URL to redirect to after sign in"),
			},
			Summary: "Sign in with username", Tags: []string{"Username"},
			Response: authcore.ObjectOf(map[string]any{"redirect": "boolean", "token": "string", "url": "string",
				"user": authcore.ModelRef(authcore.ModelUser)}, "redirect", "token", "user"),
			Errors: []authcore.ErrorCode{authcore.CodeEmailPasswordDisabled, CodeInvalidUsernameOrPassword, CodeUsernameTooShort,
				CodeUsernameTooLong, CodeInvalidUsername, authcore.CodePasswordTooLong, CodeEmailNotVerified}},
		{Method: http.MethodPost, Path: PathIsUsernameAvailable, Handler: p.isUsernameAvailable,
			Body:    []authcore.Param{authcore.String("username").Req().Doc("The username to check")},
			Summary: "Check whether a username is available", Tags: []string{"Username"},
			Response: authcore.ObjectOf(map[string]any{"available": "boolean"}, "available"),
			Errors:   []authcore.ErrorCode{CodeUsernameTooShort, CodeUsernameTooLong, CodeInvalidUsername}},
	}
}

// signInUsername is POST /sign-in/username: the username's account and password, then one
// session through Call.SignIn (session gates — two-factor, bans — apply; method "username").
// An unknown username and a wrong password answer the same 401 after the same hashing work
// (CheckSignInPassword); failures count per account, shared with /sign-in/email (BF-01).
func (p *Plugin) signInUsername(c *authcore.Call) (any, error) {
	e := p.engine
	cfg := e.Config().EmailAndPassword
	if cfg.Disabled {
		// A password sign-in by another name: disabling email and password disables it too.
		return nil, authcore.CodeEmailPasswordDisabled.With(http.StatusBadRequest)
	}
	name, pw := c.Body.String("username"), c.Body.String("password")
	if name == "" || pw == "" {
		return nil, CodeInvalidUsernameOrPassword.With(http.StatusUnauthorized)
	}
	if code, ok := p.CheckUsername(name); !ok {
		return nil, code.With(http.StatusUnprocessableEntity)
	}
	if errors.Is(password.CheckLength(pw, 0, cfg.MaxPasswordLength), password.ErrTooLong) {
		return nil, authcore.CodePasswordTooLong.With(http.StatusBadRequest) // before any hashing (PWD-04)
	}
	user, err := p.UserByUsername(c.Context(), name)
	if err != nil {
		return nil, err
	}
	ok, err := e.CheckSignInPassword(c.Context(), user, pw) // nil user: one fake hash
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, CodeInvalidUsernameOrPassword.With(http.StatusUnauthorized)
	}
	if cfg.RequireEmailVerification && !user.Bool("emailVerified") {
		return nil, CodeEmailNotVerified.With(http.StatusForbidden)
	}
	s, err := c.SignIn(user, authcore.SignInOptions{Method: "username", DontRemember: !c.Body.BoolOr("rememberMe", true)})
	if err != nil {
		return nil, err
	}
	return p.signInResponse(c, s), nil
}

// signInResponse is the body of /sign-in/email: {"redirect", "token", "url", "user"}; a
// callbackURL (already checked against the trusted origins) is echoed as url and sent as
// Location on the 200.
func (p *Plugin) signInResponse(c *authcore.Call, s *authcore.Session) map[string]any {
	e := p.engine
	out := map[string]any{"redirect": false, "token": s.Token, "user": e.Public(authcore.ModelUser, s.User)}
	if cb := c.Body.String("callbackURL"); cb != "" {
		if abs, ok := e.Origins().Resolve(e.BaseURL(), cb); ok {
			out["redirect"], out["url"] = true, cb
			c.Header().Set("Location", abs)
		}
	}
	return out
}

// isUsernameAvailable is POST /is-username-available: {"available": bool} for a valid
// username (422 otherwise). It discloses whether a username is taken, by design; the
// general rate limit applies.
func (p *Plugin) isUsernameAvailable(c *authcore.Call) (any, error) {
	name := c.Body.String("username")
	if name == "" {
		return nil, CodeInvalidUsername.With(http.StatusUnprocessableEntity)
	}
	if code, ok := p.CheckUsername(name); !ok {
		return nil, code.With(http.StatusUnprocessableEntity)
	}
	user, err := p.UserByUsername(c.Context(), name)
	if err != nil {
		return nil, err
	}
	return map[string]any{"available": user == nil}, nil
}
