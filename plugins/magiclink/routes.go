package magiclink

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// linkTargets are the redirect parameters of a sign-in request, carried into the link. The
// pipeline has already checked each against the trusted origins (spec §4.4 step 3).
type linkTargets struct {
	callbackURL, newUserCallbackURL, errorCallbackURL string
}

// signIn is POST /sign-in/magic-link. The answer is {"status":true} for every valid request:
// whether the address has an account is decided on the background queue, after the
// response, so neither the body nor the timing tells (D18, ENUM-03).
func (p *Plugin) signIn(c *authcore.Call) (any, error) {
	e := p.engine
	if !e.HasEmail() {
		return nil, CodeMagicLinkNotEnabled.With(http.StatusBadRequest)
	}
	v := linkValue{Email: authcore.NormalizeEmail(c.Body.String("email")), Name: c.Body.String("name")}
	t := linkTargets{
		callbackURL:        c.Body.String("callbackURL"),
		newUserCallbackURL: c.Body.String("newUserCallbackURL"),
		errorCallbackURL:   c.Body.String("errorCallbackURL"),
	}
	// metadata is accepted (the client sends it) but not forwarded: message templates must
	// not carry text chosen by whoever asked for the link (content injection).
	e.Defer("magic link", func(ctx context.Context) error { return p.issue(ctx, v, t) })
	return map[string]any{"status": true}, nil
}

// issue stores a new token and emails its link. With sign-up closed for the address, an
// address without an account gets nothing (Better Auth would send a link that can only
// fail).
func (p *Plugin) issue(ctx context.Context, v linkValue, t linkTargets) error {
	e := p.engine
	if !p.maySignUp(v.Email) {
		user, err := e.UserByEmail(ctx, v.Email)
		if err != nil || user == nil {
			return err
		}
	}
	token, err := e.Random().String(tokenLength, tokenAlphabet)
	if err != nil {
		return err
	}
	value, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if err := e.CreateVerification(ctx, p.identifier(token), string(value), p.ttl); err != nil {
		return err
	}
	e.SendEmail(authcore.Message{
		Type:      "magic-link",
		To:        v.Email,
		Data:      authcore.MessageData{URL: p.link(token, t), Token: token},
		ExpiresIn: p.ttl,
	})
	return nil
}

// link builds <base URL><base path>/magic-link/verify?token=..&callbackURL=<cb or />
// [&newUserCallbackURL=..][&errorCallbackURL=..], always from the configured base URL, never
// from request headers (HDR-07).
func (p *Plugin) link(token string, t linkTargets) string {
	cb := t.callbackURL
	if cb == "" {
		cb = "/"
	}
	var b strings.Builder
	b.WriteString(p.engine.APIURL(PathMagicLinkVerify))
	b.WriteString("?token=")
	b.WriteString(url.QueryEscape(token))
	b.WriteString("&callbackURL=")
	b.WriteString(url.QueryEscape(cb))
	if t.newUserCallbackURL != "" {
		b.WriteString("&newUserCallbackURL=")
		b.WriteString(url.QueryEscape(t.newUserCallbackURL))
	}
	if t.errorCallbackURL != "" {
		b.WriteString("&errorCallbackURL=")
		b.WriteString(url.QueryEscape(t.errorCallbackURL))
	}
	return b.String()
}

// maySignUp reports whether following a link may create an account for email:
// disable_sign_up closes sign-up, and the core's email_and_password.allowed_domains list
// applies to this way of signing up too (D1).
func (p *Plugin) maySignUp(email string) bool {
	if p.DisableSignUp {
		return false
	}
	if len(p.domains) == 0 {
		return true
	}
	_, domain, _ := strings.Cut(email, "@")
	for _, d := range p.domains {
		if strings.EqualFold(domain, d) {
			return true
		}
	}
	return false
}

// verify is GET /magic-link/verify. The token is consumed atomically, so it signs in at most
// once however many requests race for it. Every failure redirects to errorCallbackURL
// (default callbackURL, default /) with ?error=<code>, as Better Auth does; only a storage
// failure is a 500. Without callbackURL a success answers JSON, with it a 302.
func (p *Plugin) verify(c *authcore.Call) (any, error) {
	e := p.engine
	ctx := c.Context()
	rawCallback := c.Query.String("callbackURL")
	callback := p.resolve(rawCallback, p.resolve("/", e.BaseURL().String()+"/"))
	errorURL := p.resolve(c.Query.String("errorCallbackURL"), callback)
	newUserURL := p.resolve(c.Query.String("newUserCallbackURL"), callback)
	fail := func(code string) (any, error) { return authcore.Redirect(withError(errorURL, code)), nil }

	if c.Request.Method == http.MethodHead {
		// HEAD is for link checkers: it must not burn the link.
		return nil, nil
	}
	token := c.Query.String("token")
	if !wellFormed(token) {
		return fail(RedirectInvalidToken)
	}
	rec, err := e.ConsumeVerification(ctx, p.identifier(token))
	if err != nil {
		return nil, err
	}
	var v linkValue
	if rec == nil || json.Unmarshal([]byte(rec.String("value")), &v) != nil || !authcore.ValidEmail(v.Email) {
		return fail(RedirectInvalidToken)
	}
	email := authcore.NormalizeEmail(v.Email)
	user, err := e.UserByEmail(ctx, email)
	if err != nil {
		return nil, err
	}
	isNew := false
	if user == nil {
		if !p.maySignUp(email) {
			return fail(RedirectNewUserSignUpDisabled)
		}
		user, err = e.CreateUser(ctx, storage.Record{"email": email, "emailVerified": true, "name": v.Name}, "")
		switch {
		case err == nil:
			isNew = true
		case errors.Is(err, storage.ErrDuplicate):
			// Another link for the same address created the account a moment ago.
			user, err = e.UserByEmail(ctx, email)
			if err != nil {
				return nil, err
			}
			if user == nil {
				return fail(RedirectFailedToCreateUser)
			}
		default:
			e.Logger().Error("magic-link: creating user failed", "error", err.Error())
			return fail(RedirectFailedToCreateUser)
		}
	}
	if !user.Bool("emailVerified") {
		if user, err = e.ClaimEmail(ctx, user.ID()); err != nil {
			return nil, err
		}
		if user == nil {
			return fail(RedirectUserNotFound)
		}
	}
	s, err := c.SignIn(user, authcore.SignInOptions{Method: "magic-link"})
	if err != nil {
		if errors.Is(err, authcore.CodeFailedToCreateSession.With(http.StatusInternalServerError)) {
			e.Logger().Error("magic-link: creating session failed", "error", err.Error())
			return fail(RedirectFailedToCreateSession)
		}
		return nil, err // a gate's answer (two-factor challenge, ban) unchanged (D11)
	}
	if rawCallback == "" {
		out := e.SessionJSON(s)
		out["token"] = s.Token
		return out, nil
	}
	if isNew {
		return authcore.Redirect(newUserURL), nil
	}
	return authcore.Redirect(callback), nil
}

// resolve turns a (pipeline-checked) redirect target into the absolute URL a browser would
// reach; def when the target is empty or not acceptable.
func (p *Plugin) resolve(target, def string) string {
	if target == "" {
		return def
	}
	if abs, ok := p.engine.Origins().Resolve(p.engine.BaseURL(), target); ok {
		return abs
	}
	return def
}

// withError sets ?error=code on an absolute URL, as URLSearchParams.set does.
func withError(raw, code string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	q := u.Query()
	q.Set("error", code)
	u.RawQuery = q.Encode()
	return u.String()
}
