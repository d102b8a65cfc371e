package auditlog

import (
	"context"
	"strings"

	"github.com/gatehouse-auth/gatehouse/authcore"
)

// registerHooks records the actions with after hooks: they run only when the endpoint
// succeeded, so a refused sign-in or a wrong current password records nothing.
//
// Every hook collects what it needs from the call (user id, IP, User-Agent, time) and hands
// the write to Record, which runs it on Engine.Defer — after the response. Two reasons:
//   - D18: with email verification required (or auto sign-in off), a sign-up of a taken
//     email answers with a synthetic user that does not exist. Writing its entry inline would
//     fail (or be skipped) at a cost a new account does not have, so the response time would
//     tell the two apart. On the queue, the difference happens after the response.
//   - an audit write is a storage commit (an fsync on bbolt); the sign-in should not wait for
//     it, and a failing audit store must never change an auth response.
//
// The price: entries appear a moment after the response, and when the engine's queue is
// full a job is dropped (and logged).
func (p *Plugin) registerHooks(r *authcore.Registrar) {
	r.After(authcore.MatchPath(authcore.PathSignUpEmail), func(c *authcore.Call) error {
		p.recordCall(c, ActionSignUp, signedUpUser(c))
		return nil
	})
	r.After(signInMatcher, func(c *authcore.Call) error {
		p.recordCall(c, ActionSignIn, c.NewSession.UserID())
		return nil
	})
	// The sign-out handler resolved the session before revoking it; c.Session returns that
	// resolved value (it does not read storage again).
	r.After(authcore.MatchPath(authcore.PathSignOut), func(c *authcore.Call) error {
		if s, _ := c.Session(); s != nil {
			p.recordCall(c, ActionSignOut, s.UserID())
		}
		return nil
	})
	r.After(authcore.MatchPath(authcore.PathChangePassword), func(c *authcore.Call) error {
		if s, _ := c.Session(); s != nil {
			p.recordCall(c, ActionChangePassword, s.UserID())
		}
		return nil
	})
	// /reset-password answers {status:true} and has no session: the user is known only from
	// the reset token, which the handler consumes. A before hook peeks at it and passes the
	// user id to the after hook in the request's context.
	r.Before(authcore.MatchPath(authcore.PathResetPassword), func(c *authcore.Call) (any, error) {
		if !p.record[ActionResetPassword] {
			return nil, nil
		}
		token := c.Body.String("token")
		if token == "" {
			token = c.Query.String("token")
		}
		if token == "" {
			return nil, nil
		}
		// The identifier format is the core's (spec §4.8: "reset-password:" + hashed token).
		v, err := c.Engine().FindVerification(c.Context(), "reset-password:"+authcore.HashToken(token))
		if err != nil || v == nil {
			return nil, nil // the handler answers INVALID_TOKEN itself
		}
		c.Request = c.Request.WithContext(context.WithValue(c.Context(), resetUserKey{}, v.String("value")))
		return nil, nil
	})
	r.After(authcore.MatchPath(authcore.PathResetPassword), func(c *authcore.Call) error {
		if id, _ := c.Context().Value(resetUserKey{}).(string); id != "" {
			p.recordCall(c, ActionResetPassword, id)
		}
		return nil
	})
}

type resetUserKey struct{}

// signInMatcher selects the calls that signed a user in: the core's /sign-in/email and every
// plugin sign-in under /sign-in/ (username, email-otp, phone-number, anonymous, passkey...),
// and only when a session was actually created — /sign-in/magic-link only sends an email,
// and a sign-in answered with a two-factor challenge creates no session yet.
func signInMatcher(c *authcore.Call) bool {
	if c.NewSession == nil {
		return false
	}
	return c.Route == authcore.PathSignInEmail || strings.HasPrefix(c.Route, "/sign-in/")
}

// signedUpUser is the id of the user a sign-up created: the new session's user, or, when
// sign-up does not sign in, the user object of the response.
func signedUpUser(c *authcore.Call) string {
	if c.NewSession != nil {
		return c.NewSession.UserID()
	}
	if m, ok := c.Returned.(map[string]any); ok {
		if u, ok := m["user"].(map[string]any); ok {
			id, _ := u["id"].(string)
			return id
		}
	}
	return ""
}

// recordCall records an action of the call's client.
func (p *Plugin) recordCall(c *authcore.Call, action, userID string) {
	p.Record(Entry{UserID: userID, Action: action, Route: c.Route, IP: c.ClientIP(),
		UserAgent: c.UserAgent(), At: c.Engine().Clock().Now()})
}
