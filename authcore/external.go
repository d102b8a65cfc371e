package authcore

import (
	"context"
	"errors"
	"strings"

	"github.com/gatehouse-auth/gatehouse/authcore/oauth"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// SocialConfig configures sign-in with outside identity providers (spec §6 #23–#28).
type SocialConfig struct {
	// Providers are the social providers, built with oauth.New.
	Providers []oauth.Provider
	// DisableImplicitLinking: an identity whose email belongs to an existing user is never
	// linked to that user at sign-in (only /link-social links). Better Auth's
	// accountLinking.enabled=false.
	DisableImplicitLinking bool
	// AllowDifferentEmails lets /link-social link an identity whose email is not the user's.
	AllowDifferentEmails bool
}

// ExternalSignIn is an identity vouched for by an outside identity provider, to be turned
// into a user, an account and a session by [Call.FinishExternalSignIn].
type ExternalSignIn struct {
	// ProviderID is stored as the account's providerId; Identity.Subject as its accountId.
	ProviderID string
	Identity   *oauth.Identity
	// Tokens are stored on the account, encrypted. May be nil.
	Tokens *oauth.Tokens
	// Method names the sign-in for the session gates ("social", "sso").
	Method string
	// State carries the redirect targets, link mode (LinkUserID) and requestSignUp.
	State OAuthState
	// DisableSignUp: no new users. DisableImplicitSignUp: new users only with
	// State.RequestSignUp.
	DisableSignUp, DisableImplicitSignUp bool
	// TrustEmail treats the identity's email as verified for linking.
	TrustEmail bool
	// TrustIDPMFA counts the sign-in as multi-factor (the two-factor step is skipped).
	TrustIDPMFA bool
	// OnNewUser runs after a user was created by this sign-in, before its session.
	OnNewUser func(ctx context.Context, user storage.Record) error
	// JSON answers like a password sign-in ({redirect:false, token, user}, errors as API
	// errors) instead of redirecting: sign-in with an ID token.
	JSON bool
}

// ExternalSignInFor fills the provider-dependent fields of an ExternalSignIn from p's
// configuration.
func ExternalSignInFor(p oauth.Provider, id *oauth.Identity, t *oauth.Tokens, st OAuthState) ExternalSignIn {
	cfg := p.Config()
	return ExternalSignIn{ProviderID: p.ID(), Identity: id, Tokens: t, Method: "social", State: st,
		DisableSignUp: cfg.DisableSignUp, DisableImplicitSignUp: cfg.DisableImplicitSignUp,
		TrustEmail: cfg.TrustEmail, TrustIDPMFA: cfg.TrustIDPMFA}
}

// FinishExternalSignIn is the one place where an identity from an outside provider becomes
// a session (or, in link mode, a linked account). Accounts are keyed by (providerId,
// accountId = subject). An unknown identity is linked to the user with its email only when
// the provider vouches for the email (email_verified true, or trust_email) AND that user's
// own email is verified — so neither an IdP that does not verify addresses nor someone who
// registered a victim's address without proving it can take an account over (SSO-01,
// Better Auth #9578); otherwise account_not_linked. Otherwise a new user is created unless
// sign-up is disabled. The session goes through [Call.SignIn] (two-factor applies unless
// TrustIDPMFA). The answer is a redirect to the callback (the new-user callback for a new
// user), or to the error callback with ?error=<code>.
func (c *Call) FinishExternalSignIn(in ExternalSignIn) (any, error) {
	res, err := c.finishExternal(in)
	var oe *OAuthError
	if errors.As(err, &oe) {
		if in.JSON {
			return nil, oauthAPIError(oe.Code)
		}
		return Redirect(c.OAuthErrorURL(in.State.ErrorCallbackURL, oe.Code)), nil
	}
	// A session gate's refusal (a banned user) reaches a browser flow as ?error=<CODE>, as
	// Better Auth forwards API errors from the callback; an interruption (two-factor) and
	// internal failures pass through.
	var ae *Error
	if !in.JSON && errors.As(err, &ae) && ae.Status < 500 && ae.Code != "" {
		return Redirect(c.OAuthErrorURL(in.State.ErrorCallbackURL, ae.Code)), nil
	}
	return res, err
}

// oauthAPIError maps a callback error code to the JSON error of an ID-token sign-in, as
// Better Auth answers it: 401 USER_EMAIL_NOT_FOUND without an email, else 401
// OAUTH_LINK_ERROR with the reason in words.
func oauthAPIError(code string) error {
	if code == OAuthErrEmailNotFound {
		return CodeUserEmailNotFound.With(401)
	}
	return ErrorCode{"OAUTH_LINK_ERROR", strings.ReplaceAll(code, "_", " ")}.With(401)
}

// OAuthErrorURL is where a failed external sign-in goes: the flow's errorCallbackURL, else
// <base>/error, with ?error=code.
func (c *Call) OAuthErrorURL(errorCallbackURL, code string) string {
	e := c.engine
	target := errorCallbackURL
	if target == "" {
		target = e.APIURL(PathError)
	}
	abs, ok := e.origins.Resolve(e.baseURL, target)
	if !ok {
		abs = e.APIURL(PathError)
	}
	return withQuery(abs, "error", code)
}

// callbackTarget resolves a stored redirect target ("/" by default).
func (c *Call) callbackTarget(target string) string {
	e := c.engine
	if target == "" {
		target = "/"
	}
	if abs, ok := e.origins.Resolve(e.baseURL, target); ok {
		return abs
	}
	abs, _ := e.origins.Resolve(e.baseURL, "/")
	return abs
}

func (c *Call) finishExternal(in ExternalSignIn) (any, error) {
	e, ctx := c.engine, c.Context()
	id := in.Identity
	if id == nil || id.Subject == "" {
		return nil, &OAuthError{OAuthErrUserInfo}
	}
	email := NormalizeEmail(strings.TrimSpace(id.Email))
	vouched := id.EmailVerified || in.TrustEmail
	acct, err := e.findOptional(ctx, ModelAccount, storage.And(
		storage.Eq("providerId", in.ProviderID), storage.Eq("accountId", id.Subject)))
	if err != nil {
		return nil, err
	}
	if in.State.LinkUserID != "" {
		return c.linkExternal(in, acct, email, vouched)
	}
	var user storage.Record
	isNew := false
	switch {
	case acct != nil:
		if user, err = e.UserByID(ctx, acct.String("userId")); err != nil {
			return nil, Internal(err)
		}
		if user == nil {
			return nil, &OAuthError{OAuthErrUnableToCreateSess}
		}
		if err := e.updateAccountTokens(ctx, acct, in.Tokens); err != nil {
			return nil, err
		}
	case email == "":
		return nil, &OAuthError{OAuthErrEmailNotFound}
	default:
		if user, err = e.UserByEmail(ctx, email); err != nil {
			return nil, Internal(err)
		}
		if user != nil {
			if e.cfg.Social.DisableImplicitLinking || !vouched || !user.Bool("emailVerified") {
				return nil, &OAuthError{OAuthErrAccountNotLinked}
			}
			if err := e.createExternalAccount(ctx, user.ID(), in); err != nil {
				return nil, err
			}
			break
		}
		if in.DisableSignUp || (in.DisableImplicitSignUp && !in.State.RequestSignUp) || !e.domainAllowed(email) {
			return nil, &OAuthError{OAuthErrSignUpDisabled}
		}
		name := id.Name
		if name == "" {
			name, _, _ = strings.Cut(email, "@")
		}
		rec := storage.Record{"name": name, "email": email, "emailVerified": id.EmailVerified}
		if id.Image != "" {
			rec["image"] = id.Image
		}
		if user, err = e.CreateUser(ctx, rec, ""); err != nil {
			if errors.Is(err, storage.ErrDuplicate) {
				return nil, &OAuthError{OAuthErrUnableToCreateUser}
			}
			return nil, Internal(err)
		}
		if err := e.createExternalAccount(ctx, user.ID(), in); err != nil {
			_ = e.DeleteUser(ctx, user.ID())
			return nil, err
		}
		if in.OnNewUser != nil {
			if err := in.OnNewUser(ctx, user); err != nil {
				_ = e.DeleteUser(ctx, user.ID()) // no half-provisioned user stays behind
				return nil, err
			}
		}
		isNew = true
	}
	cb := in.State.CallbackURL
	if isNew && in.State.NewUserCallbackURL != "" {
		cb = in.State.NewUserCallbackURL
	}
	method := in.Method
	if method == "" {
		method = "social"
	}
	s, err := c.SignIn(user, SignInOptions{Method: method, MultiFactor: in.TrustIDPMFA, CallbackURL: cb})
	if err != nil {
		return nil, err
	}
	if in.JSON {
		return map[string]any{"redirect": false, "token": s.Token, "url": nil, "user": e.Public(ModelUser, s.User)}, nil
	}
	return Redirect(c.callbackTarget(cb)), nil
}

// linkExternal is the link mode of FinishExternalSignIn (/link-social's callback).
func (c *Call) linkExternal(in ExternalSignIn, acct storage.Record, email string, vouched bool) (any, error) {
	e, ctx := c.engine, c.Context()
	if !vouched {
		return nil, &OAuthError{OAuthErrUnableToLink}
	}
	if !e.cfg.Social.AllowDifferentEmails && email != NormalizeEmail(in.State.LinkEmail) {
		return nil, &OAuthError{OAuthErrEmailDoesNotMatch}
	}
	if acct != nil {
		if acct.String("userId") != in.State.LinkUserID {
			return nil, &OAuthError{OAuthErrLinkedToOtherUser}
		}
		if err := e.updateAccountTokens(ctx, acct, in.Tokens); err != nil {
			return nil, err
		}
	} else if err := e.createExternalAccount(ctx, in.State.LinkUserID, in); err != nil {
		return nil, err
	}
	if in.JSON {
		return map[string]any{"url": "", "status": true, "redirect": false}, nil
	}
	return Redirect(c.callbackTarget(in.State.CallbackURL)), nil
}

// tokenFields are the account columns holding the provider's tokens, encrypted with the
// engine keyring (spec: encryptOAuthTokens, always on here).
func (e *Engine) tokenFields(t *oauth.Tokens) (storage.Record, error) {
	rec := storage.Record{}
	if t == nil {
		return rec, nil
	}
	for k, v := range map[string]string{"accessToken": t.AccessToken, "refreshToken": t.RefreshToken, "idToken": t.IDToken} {
		if v == "" {
			continue
		}
		enc, err := e.keys.Encrypt(e.rand.Reader(), []byte(v))
		if err != nil {
			return nil, Internal(err)
		}
		rec[k] = enc
	}
	// Expiry times by the engine's clock when the provider gave lifetimes.
	now := e.clock.Now()
	switch {
	case t.ExpiresIn > 0:
		rec["accessTokenExpiresAt"] = now.Add(t.ExpiresIn)
	case !t.AccessTokenExpiresAt.IsZero():
		rec["accessTokenExpiresAt"] = t.AccessTokenExpiresAt
	}
	switch {
	case t.RefreshTokenExpiresIn > 0:
		rec["refreshTokenExpiresAt"] = now.Add(t.RefreshTokenExpiresIn)
	case !t.RefreshTokenExpiresAt.IsZero():
		rec["refreshTokenExpiresAt"] = t.RefreshTokenExpiresAt
	}
	if len(t.Scopes) > 0 {
		rec["scope"] = strings.Join(t.Scopes, ",")
	}
	return rec, nil
}

// DecryptToken reads a token column of an account row ("" when empty or unreadable).
func (e *Engine) DecryptToken(stored string) string {
	if stored == "" {
		return ""
	}
	b, err := e.keys.Decrypt(stored)
	if err != nil {
		return ""
	}
	return string(b)
}

func (e *Engine) createExternalAccount(ctx context.Context, userID string, in ExternalSignIn) error {
	rec, err := e.tokenFields(in.Tokens)
	if err != nil {
		return err
	}
	aid, err := e.NewID()
	if err != nil {
		return err
	}
	now := e.clock.Now()
	rec["id"], rec["accountId"], rec["providerId"], rec["userId"] = aid, in.Identity.Subject, in.ProviderID, userID
	rec["createdAt"], rec["updatedAt"] = now, now
	if _, err := e.store.Create(ctx, ModelAccount, rec); err != nil {
		if errors.Is(err, storage.ErrDuplicate) {
			return &OAuthError{OAuthErrUnableToLink}
		}
		return Internal(err)
	}
	return nil
}

func (e *Engine) updateAccountTokens(ctx context.Context, acct storage.Record, t *oauth.Tokens) error {
	rec, err := e.tokenFields(t)
	if err != nil || len(rec) == 0 {
		return err
	}
	rec["updatedAt"] = e.clock.Now()
	if _, err := e.store.Update(ctx, ModelAccount, storage.ByID(acct.ID()), rec); err != nil {
		return Internal(err)
	}
	return nil
}

// socialProvider is the configured social provider with that id.
func (e *Engine) socialProvider(id string) oauth.Provider {
	for _, p := range e.cfg.Social.Providers {
		if p.ID() == id {
			return p
		}
	}
	return nil
}
