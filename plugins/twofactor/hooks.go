package twofactor

import (
	"context"
	"net/http"
	"net/url"
	"slices"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// redirectBody is the interruption answer, in Better Auth's key order.
type redirectBody struct {
	TwoFactorRedirect bool     `json:"twoFactorRedirect"`
	TwoFactorMethods  []string `json:"twoFactorMethods"`
}

// gate is the sign-in interruption (spec §7.3 steps 1–2), run by the engine at the one step
// where any sign-in method is about to create a session (D11): email, username and phone
// number with a password, magic link, email code, phone code, verify-email with auto sign-in,
// and later social and SSO callbacks. For a user with two-factor on and no trusted device,
// no session is created, no session cookie is set (so no set-auth-token either, spec §11):
// the caller gets the two_factor cookie and {"twoFactorRedirect":true,"twoFactorMethods":[…]},
// or, for a sign-in by link (GET), a redirect to two_factor_page.
func (p *Plugin) gate(c *authcore.Call, user storage.Record, opt authcore.SignInOptions) error {
	if !twoFactorEnabled(user) || opt.MultiFactor {
		return nil
	}
	ok, err := p.trusted(c, user.ID())
	if err != nil {
		return err
	}
	if ok {
		return nil
	}
	// A session the browser already holds (another account, or this one) is dropped, as
	// Better Auth's sign-in-then-delete does: a half-finished sign-in must not leave the
	// browser acting as someone. dont_remember is kept, and set for rememberMe:false, so
	// that the session the second factor creates honours it.
	if _, had := c.Cookie(authcore.CookieSessionToken); had {
		c.ExpireCookie(authcore.CookieSessionToken)
		c.ExpireCookie(authcore.CookieSessionData)
	}
	if !c.Body.BoolOr("rememberMe", true) {
		c.SetSignedCookie(authcore.CookieDontRemember, "true", -1)
	}
	if err := p.createChallenge(c, user); err != nil {
		return err
	}
	if c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead {
		return &authcore.Interrupt{Response: authcore.Redirect(p.redirectTarget(c, opt))}
	}
	methods, err := p.methods(c.Context(), user)
	if err != nil {
		return err
	}
	return &authcore.Interrupt{Response: redirectBody{TwoFactorRedirect: true, TwoFactorMethods: methods}}
}

// redirectTarget is where a sign-in by link goes for its second factor: two_factor_page
// (default: the portal's page, see twoFactorPage) with ?callbackURL=<callback>, or else the flow's callbackURL (default "/") with
// twoFactorRedirect=true, the same signal the JSON answer carries. The pipeline has already
// checked callbackURL against the trusted origins. A sign-in that knows its callback
// otherwise (an OAuth/SSO callback carries it in its stored state, not its query) passes it
// as SignInOptions.CallbackURL, which wins.
func (p *Plugin) redirectTarget(c *authcore.Call, opt authcore.SignInOptions) string {
	e := p.engine
	cb := opt.CallbackURL
	if cb == "" {
		cb = c.Query.String("callbackURL")
	}
	if cb == "" {
		cb = "/"
	}
	abs := func(target string) string {
		if u, ok := e.Origins().Resolve(e.BaseURL(), target); ok {
			return u
		}
		u, _ := e.Origins().Resolve(e.BaseURL(), "/")
		return u
	}
	if page := p.twoFactorPage(); page != "" {
		return addQuery(abs(page), "callbackURL", cb)
	}
	return addQuery(abs(cb), "twoFactorRedirect", "true")
}

// PortalPage is two_factor_page's default when the portal plugin (id "portal") is on: its
// second-factor page, relative to the base path.
const PortalPage = "/ui/two-factor"

// twoFactorPage is two_factor_page, or, when it is not set and the engine runs the hosted
// portal, the portal's page <base_path>/ui/two-factor (which verifies the code and then
// follows callbackURL). Read at request time: the plugin list is complete only once the
// engine is built, whatever the order of the plugins.
func (p *Plugin) twoFactorPage() string {
	if p.TwoFactorPage != "" {
		return p.TwoFactorPage
	}
	if slices.Contains(p.engine.Plugins(), "portal") {
		return p.engine.Config().BasePath + PortalPage
	}
	return ""
}

// addQuery sets one query parameter on an absolute URL.
func addQuery(raw, key, value string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}

// methods lists the second factors the user can use now: "totp" with a verified
// authenticator (unless TOTP is disabled), "otp" when a code can reach them, then the methods
// other plugins added (a passkey).
func (p *Plugin) methods(ctx context.Context, user storage.Record) ([]string, error) {
	out := []string{}
	if !p.DisableTOTP {
		row, err := p.row(ctx, user.ID())
		if err != nil {
			return nil, err
		}
		if row != nil && verified(row) {
			out = append(out, MethodTOTP)
		}
	}
	if _, ok := p.otpRoute(user); ok {
		out = append(out, MethodOTP)
	}
	extra, err := p.extra.applying(ctx, user)
	if err != nil {
		return nil, authcore.Internal(err)
	}
	return append(out, extra...), nil
}

// registerHooks ends a user's trusted devices whenever their password changes: a device
// trusted by whoever knew the old password must not skip the second factor afterwards.
func (p *Plugin) registerHooks(r *authcore.Registrar) {
	r.After(authcore.MatchPath(authcore.PathChangePassword), func(c *authcore.Call) error {
		s, err := c.Session()
		if err != nil || s == nil {
			return err
		}
		return p.revokeTrustedDevices(c.Context(), s.UserID())
	})
	// /reset-password consumes its token before any after hook could read whose it was, so
	// the user is found in a before hook, once the new password has passed the policy (a
	// refused one changes nothing); the token's row is read, not consumed. This relies on
	// the core's identifier for reset tokens, "reset-password:" + HashToken(token).
	r.Before(authcore.MatchPath(authcore.PathResetPassword), func(c *authcore.Call) (any, error) {
		token := c.Body.String("token")
		if token == "" {
			token = c.Query.String("token")
		}
		if token == "" || p.engine.CheckNewPassword(c.Body.String("newPassword")) != nil {
			return nil, nil
		}
		rec, err := p.engine.FindVerification(c.Context(), "reset-password:"+authcore.HashToken(token))
		if err != nil || rec == nil {
			return nil, err
		}
		return nil, p.revokeTrustedDevices(c.Context(), rec.String("value"))
	})
}
