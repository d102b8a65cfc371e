package auditlog

import (
	"context"
	"strings"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
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
		p.recordCall(c, ActionSignUp, signedUpUser(c), "")
		return nil
	})
	// A sign-in is any call in which Call.SignIn created a session — the core's email
	// sign-in, every plugin's /sign-in/... route, and the sign-ins that finish elsewhere
	// (/magic-link/verify, /two-factor/verify-*, /passkey/verify-authentication, verify-email
	// with auto sign-in). The session gate sees every Call.SignIn and only marks the call
	// (it never refuses); the after hook records it if a session was really created: a
	// two-factor challenge creates none, and a refusing gate (a ban) fails the call so no
	// after hook runs. Sessions started without SignIn (re-issued after a password change,
	// admin impersonation) are not sign-ins and are not marked.
	r.SessionGate(func(c *authcore.Call, _ storage.Record, opt authcore.SignInOptions) error {
		c.Request = c.Request.WithContext(context.WithValue(c.Context(), signInKey{}, opt.Method))
		return nil
	})
	r.After(signInMatcher, func(c *authcore.Call) error {
		method, _ := c.Context().Value(signInKey{}).(string)
		p.recordCall(c, ActionSignIn, c.NewSession.UserID(), method)
		return nil
	})
	// The sign-out handler resolved the session before revoking it; c.Session returns that
	// resolved value (it does not read storage again).
	r.After(authcore.MatchPath(authcore.PathSignOut), func(c *authcore.Call) error {
		if s, _ := c.Session(); s != nil {
			p.recordCall(c, ActionSignOut, s.UserID(), "")
		}
		return nil
	})
	r.After(authcore.MatchPath(authcore.PathChangePassword), func(c *authcore.Call) error {
		if s, _ := c.Session(); s != nil {
			p.recordCall(c, ActionChangePassword, s.UserID(), "")
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
			p.recordCall(c, ActionResetPassword, id, "")
		}
		return nil
	})
}

type resetUserKey struct{}

type signInKey struct{}

// signInMatcher selects the calls in which Call.SignIn created a session, except sign-up
// (recorded as such).
func signInMatcher(c *authcore.Call) bool {
	if c.NewSession == nil || c.Route == authcore.PathSignUpEmail || strings.HasPrefix(c.Route, "/sign-up/") {
		return false
	}
	_, signedIn := c.Context().Value(signInKey{}).(string)
	return signedIn
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
func (p *Plugin) recordCall(c *authcore.Call, action, userID, method string) {
	p.Record(Entry{UserID: userID, Action: action, Route: c.Route, Method: method, IP: c.ClientIP(),
		UserAgent: c.UserAgent(), At: c.Engine().Clock().Now()})
}
