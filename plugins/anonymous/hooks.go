package anonymous

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// linkPrefixes are the route families after which the link hook looks for a guest being
// signed in over: Better Auth's list for its after hook (spec §7.9), matched as prefixes as
// Better Auth does. Only core routes have authcore constants; the others belong to plugins
// (social sign-in, magic-link, email-otp, one-tap, passkey, phone-number) and are matched
// whether or not those plugins are enabled.
var linkPrefixes = []string{
	"/sign-in",  // every /sign-in/<method>, PathSignInEmail among them
	"/sign-up",  // PathSignUpEmail and any other sign-up
	"/callback", // OAuth callbacks
	"/magic-link/verify",
	"/email-otp/verify-email",
	"/one-tap/callback",
	"/passkey/verify-authentication",
	"/phone-number/verify",
	authcore.PathVerifyEmail, // with auto sign-in after verification
}

// linkMatcher matches the calls of linkPrefixes.
func linkMatcher() authcore.Matcher {
	ms := make([]authcore.Matcher, len(linkPrefixes))
	for i, p := range linkPrefixes {
		ms[i] = authcore.MatchPrefix(p)
	}
	return func(c *authcore.Call) bool {
		for _, m := range ms {
			if m(c) {
				return true
			}
		}
		return false
	}
}

func (p *Plugin) registerHooks(r *authcore.Registrar) {
	r.After(linkMatcher(), p.link)
}

// link is the account-link hook. When the call created a session (c.NewSession) for a
// user other than the guest, and that user is not anonymous, while the request arrived with
// an anonymous session (Call.RequestSession, which still sees it after the sign-in replaced
// it): OnLinkAccount runs with both user records, then — unless
// disable_delete_anonymous_user — the anonymous user's sessions and the user itself are
// deleted (its accounts and other cascading records go with it). The new session's cookies
// already replace the guest's in the response.
//
// Nothing else is handed over by the plugin itself: core records (user, sessions, accounts)
// are never moved from the guest to the new user, and records other plugins keep for a user
// are not known generically; moving application data is OnLinkAccount's job.
//
// With deletion on, the guest session is claimed first (ConsumeOne): of several concurrent
// sign-ins carrying the same guest cookie exactly one links, so OnLinkAccount runs once per
// anonymous session. A storage failure while claiming or deleting is logged and does not
// fail the sign-in (as in Better Auth); the guest then stays.
func (p *Plugin) link(c *authcore.Call) error {
	ns := c.NewSession
	if ns == nil {
		return nil // no session created: a failed sign-in, a two-factor challenge, a sign-up without auto sign-in
	}
	guest, err := c.RequestSession()
	if err != nil {
		return err
	}
	if guest == nil || !guest.User.Bool(FieldIsAnonymous) {
		return nil
	}
	if ns.UserID() == guest.UserID() || ns.User.Bool(FieldIsAnonymous) {
		return nil // nothing to link to
	}
	ctx := c.Context()
	e := p.engine
	if p.DisableDeleteAnonymousUser {
		// The guest stays, and so does its session: every later sign-in over it links again.
		return p.onLink(c, guest, nil)
	}
	claimed, err := e.Store().ConsumeOne(ctx, authcore.ModelSession, storage.ByID(guest.ID()))
	if errors.Is(err, storage.ErrNotFound) {
		return nil // a concurrent sign-in over the same guest session linked it
	}
	if err != nil {
		e.Logger().Error("anonymous: claiming the session of a linked anonymous user", "user", guest.UserID(), "error", err.Error())
		return nil
	}
	if err := p.onLink(c, guest, claimed); err != nil {
		return err
	}
	if _, err := e.RevokeUserSessions(ctx, guest.UserID(), ""); err != nil {
		e.Logger().Error("anonymous: deleting the sessions of a linked anonymous user", "user", guest.UserID(), "error", err.Error())
		return nil
	}
	if err := e.DeleteUser(ctx, guest.UserID()); err != nil {
		e.Logger().Error("anonymous: deleting a linked anonymous user", "user", guest.UserID(), "error", err.Error())
	}
	return nil
}

// onLink runs OnLinkAccount, if set. On failure it puts the claimed guest session back (when
// one was claimed) and undoes the sign-in.
func (p *Plugin) onLink(c *authcore.Call, guest *authcore.Session, claimed storage.Record) error {
	if p.OnLinkAccount == nil {
		return nil
	}
	err := p.OnLinkAccount(c.Context(), guest.User.Clone(), c.NewSession.User.Clone())
	if err == nil {
		return nil
	}
	if claimed != nil {
		if _, cerr := p.engine.Store().Create(c.Context(), authcore.ModelSession, claimed); cerr != nil {
			p.engine.Logger().Error("anonymous: restoring the guest session after a failed account link", "user", guest.UserID(), "error", cerr.Error())
		}
	}
	return p.failLink(c, guest, err)
}

// failLink undoes the sign-in after OnLinkAccount failed: the new session is revoked and the
// caller keeps the guest session. A 5xx answer sets no cookies at all; for a 4xx the
// guest's cookies are issued again in place of the new session's.
func (p *Plugin) failLink(c *authcore.Call, guest *authcore.Session, cause error) error {
	e := p.engine
	if err := e.RevokeSession(c.Context(), c.NewSession.ID()); err != nil {
		e.Logger().Error("anonymous: revoking the session of a failed account link", "error", err.Error())
	}
	c.NewSession = nil
	var ae *authcore.Error
	if !errors.As(cause, &ae) {
		ae = authcore.Internal(fmt.Errorf("anonymous: OnLinkAccount: %w", cause))
	}
	if ae.Status >= http.StatusInternalServerError {
		return ae
	}
	_, dontRemember := c.SignedCookie(authcore.CookieDontRemember)
	if !dontRemember {
		c.ExpireCookie(authcore.CookieDontRemember)
	}
	c.SetSessionCookies(guest, dontRemember)
	return ae
}
