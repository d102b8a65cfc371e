package authcore

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore/oauth"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// Error codes of the social account routes (Better Auth's account routes).
var (
	CodeFailedToGetAccessToken   = ErrorCode{"FAILED_TO_GET_ACCESS_TOKEN", "Failed to get a valid access token"}
	CodeFailedToRefreshToken     = ErrorCode{"FAILED_TO_REFRESH_ACCESS_TOKEN", "Failed to refresh access token"}
	CodeRefreshTokenNotFound     = ErrorCode{"REFRESH_TOKEN_NOT_FOUND", "Refresh token not found"}
	CodeProviderNotSupported     = ErrorCode{"PROVIDER_NOT_SUPPORTED", "Provider is not supported."}
	CodeOAuthLinkError           = ErrorCode{"OAUTH_LINK_ERROR", "account not linked"}
	socialErrorCodes             = []ErrorCode{CodeFailedToGetAccessToken, CodeFailedToRefreshToken, CodeRefreshTokenNotFound, CodeProviderNotSupported}
	errSocialNotConfiguredStatus = 404
)

// socialCallbackURL is the redirect_uri registered with a provider:
// <baseURL><basePath>/callback/<id>.
func (e *Engine) socialCallbackURL(id string) string {
	return e.APIURL("/callback/" + url.PathEscape(id))
}

// SocialCallbackURL is the redirect URI to register with the social provider id.
func (e *Engine) SocialCallbackURL(id string) string { return e.socialCallbackURL(id) }

// signInSocial is spec §6 #23.
func (e *Engine) signInSocial(c *Call) (any, error) {
	p := e.socialProvider(c.Body.String("provider"))
	if p == nil {
		return nil, CodeProviderNotFound.With(errSocialNotConfiguredStatus)
	}
	st := OAuthState{CallbackURL: c.Body.String("callbackURL"), NewUserCallbackURL: c.Body.String("newUserCallbackURL"),
		ErrorCallbackURL: c.Body.String("errorCallbackURL"), RequestSignUp: c.Body.Bool("requestSignUp")}
	if idt := c.Body.Object("idToken"); idt != nil {
		return e.idTokenSignIn(c, p, idt, st)
	}
	return e.startSocial(c, p, st)
}

// startSocial answers {url, redirect} (+ Location unless disableRedirect).
func (e *Engine) startSocial(c *Call, p oauth.Provider, st OAuthState) (any, error) {
	u, err := c.ExternalAuthURL(p, st, e.socialCallbackURL(p.ID()), oauth.AuthRequest{
		Scopes: c.Body.Strings("scopes"), LoginHint: c.Body.String("loginHint")})
	if err != nil {
		return nil, err
	}
	redirect := !c.Body.Bool("disableRedirect")
	if redirect {
		c.Header().Set("Location", u)
	}
	return map[string]any{"url": u, "redirect": redirect}, nil
}

// idTokenSignIn signs in (or links, with st.LinkUserID) with an ID token the client got
// from the provider itself.
func (e *Engine) idTokenSignIn(c *Call, p oauth.Provider, idt Values, st OAuthState) (any, error) {
	raw := idt.String("token")
	if raw == "" {
		return nil, &Error{Status: 400, Code: CodeValidationError.Code, Message: "Invalid idToken: token is required"}
	}
	id, err := p.VerifyIDToken(c.Context(), raw, idt.String("nonce"))
	if errors.Is(err, oauth.ErrIDTokenNotSupported) {
		return nil, CodeIDTokenNotSupported.With(404)
	}
	if err != nil {
		e.log.Info("social: ID token refused", "provider", p.ID(), "err", err)
		return nil, CodeInvalidToken.With(401)
	}
	t := &oauth.Tokens{IDToken: raw, AccessToken: idt.String("accessToken"), RefreshToken: idt.String("refreshToken")}
	if ms, ok := idt.Int("expiresAt"); ok && ms > 0 {
		t.AccessTokenExpiresAt = time.UnixMilli(ms)
	}
	in := ExternalSignInFor(p, id, t, st)
	in.JSON = true
	return c.FinishExternalSignIn(in)
}

// oauthCallback is spec §6 #24. A POST (Apple's form_post) is re-issued as a GET to the same
// path with the same parameters, so that the browser sends its SameSite=Lax cookies.
func (e *Engine) oauthCallback(c *Call) (any, error) {
	id := c.Params["id"]
	if c.Request.Method == "POST" {
		q := url.Values{}
		for _, src := range []Values{c.Body, c.Query} {
			for k, v := range src {
				if s, ok := v.(string); ok && s != "" {
					q.Set(k, s)
				}
			}
		}
		return Redirect(e.socialCallbackURL(id) + "?" + q.Encode()), nil
	}
	q := c.Query
	st, err := c.TakeOAuthState(q.String("state"))
	var oe *OAuthError
	if errors.As(err, &oe) {
		return Redirect(c.OAuthErrorURL("", oe.Code)), nil
	}
	if err != nil {
		return nil, err
	}
	fail := func(code, desc string) (any, error) {
		u := c.OAuthErrorURL(st.ErrorCallbackURL, code)
		if desc != "" {
			u = withQuery(u, "error_description", desc)
		}
		return Redirect(u), nil
	}
	if errParam := q.String("error"); errParam != "" {
		return fail(errParam, q.String("error_description"))
	}
	code := q.String("code")
	if code == "" {
		return fail(OAuthErrNoCode, "")
	}
	p := e.socialProvider(id)
	if p == nil || st.ProviderID != id {
		return fail(OAuthErrProviderNotFound, "")
	}
	ctx := c.Context()
	tokens, err := p.Exchange(ctx, code, st.CodeVerifier, e.socialCallbackURL(id))
	if err != nil {
		e.log.Info("social: code exchange failed", "provider", id, "err", err)
		return fail(OAuthErrInvalidCode, "")
	}
	ident, err := p.Identity(ctx, tokens, st.Nonce)
	if err != nil {
		e.log.Info("social: identity refused", "provider", id, "err", err)
		return fail(OAuthErrUserInfo, "")
	}
	return c.FinishExternalSignIn(ExternalSignInFor(p, ident, tokens, *st))
}

// linkSocial is spec §6 #25.
func (e *Engine) linkSocial(c *Call) (any, error) {
	s, _ := c.Session()
	p := e.socialProvider(c.Body.String("provider"))
	if p == nil {
		return nil, CodeProviderNotFound.With(errSocialNotConfiguredStatus)
	}
	st := OAuthState{CallbackURL: c.Body.String("callbackURL"), ErrorCallbackURL: c.Body.String("errorCallbackURL"),
		LinkUserID: s.UserID(), LinkEmail: s.User.String("email")}
	if idt := c.Body.Object("idToken"); idt != nil {
		return e.idTokenSignIn(c, p, idt, st)
	}
	return e.startSocial(c, p, st)
}

// sessionAccount finds the session user's account named by accountId (the row id or the
// provider's account id) and/or providerId.
func (e *Engine) sessionAccount(c *Call, v Values) (storage.Record, oauth.Provider, error) {
	s, _ := c.Session()
	if uid := v.String("userId"); uid != "" && uid != s.UserID() {
		return nil, nil, CodeAccountNotFound.With(400)
	}
	where := []storage.Where{storage.Eq("userId", s.UserID()), storage.Ne("providerId", ProviderCredential)}
	if pid := v.String("providerId"); pid != "" {
		where = append(where, storage.Eq("providerId", pid))
	}
	recs, err := e.store.FindMany(c.Context(), ModelAccount, storage.Query{Where: storage.And(where...), Sort: []storage.SortField{{Field: "createdAt"}}})
	if err != nil {
		return nil, nil, Internal(err)
	}
	aid := v.String("accountId")
	for _, r := range recs {
		if aid == "" || r.ID() == aid || r.String("accountId") == aid {
			p := e.socialProvider(r.String("providerId"))
			if p == nil {
				return nil, nil, ErrorCode{CodeProviderNotSupported.Code, "Provider " + r.String("providerId") + " is not supported."}.With(400)
			}
			return r, p, nil
		}
	}
	return nil, nil, CodeAccountNotFound.With(400)
}

// refreshAccount uses the account's refresh token and stores the new tokens.
func (e *Engine) refreshAccount(ctx context.Context, acct storage.Record, p oauth.Provider) (storage.Record, error) {
	rt := e.DecryptToken(acct.String("refreshToken"))
	if rt == "" {
		return nil, CodeRefreshTokenNotFound.With(400)
	}
	t, err := p.Refresh(ctx, rt)
	if err != nil {
		e.log.Info("social: refresh failed", "provider", p.ID(), "err", err)
		return nil, CodeFailedToRefreshToken.With(400)
	}
	rec, err := e.tokenFields(t)
	if err != nil {
		return nil, err
	}
	rec["updatedAt"] = e.clock.Now()
	out, err := e.store.Update(ctx, ModelAccount, storage.ByID(acct.ID()), rec)
	if err != nil {
		return nil, Internal(err)
	}
	return out, nil
}

// getAccessToken is spec §6 #26: the stored access token, refreshed first when it expires
// within 5 seconds.
func (e *Engine) getAccessToken(c *Call) (any, error) {
	acct, p, err := e.sessionAccount(c, c.Body)
	if err != nil {
		return nil, err
	}
	if exp := acct.Time("accessTokenExpiresAt"); !exp.IsZero() && exp.Before(e.clock.Now().Add(5*time.Second)) && acct.String("refreshToken") != "" {
		if acct, err = e.refreshAccount(c.Context(), acct, p); err != nil {
			return nil, CodeFailedToGetAccessToken.With(400)
		}
	}
	at := e.DecryptToken(acct.String("accessToken"))
	if at == "" {
		return nil, CodeFailedToGetAccessToken.With(400)
	}
	out := map[string]any{"accessToken": at, "scopes": splitScopes(acct.String("scope"))}
	if exp := acct.Time("accessTokenExpiresAt"); !exp.IsZero() {
		out["accessTokenExpiresAt"] = jsTime(exp)
	}
	if it := e.DecryptToken(acct.String("idToken")); it != "" {
		out["idToken"] = it
	}
	return out, nil
}

// refreshToken is spec §6 #27.
func (e *Engine) refreshToken(c *Call) (any, error) {
	acct, p, err := e.sessionAccount(c, c.Body)
	if err != nil {
		return nil, err
	}
	if acct, err = e.refreshAccount(c.Context(), acct, p); err != nil {
		return nil, err
	}
	opt := func(k string) any {
		if t := acct.Time(k); !t.IsZero() {
			return jsTime(t)
		}
		return nil
	}
	nul := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	return map[string]any{"accessToken": e.DecryptToken(acct.String("accessToken")), "refreshToken": e.DecryptToken(acct.String("refreshToken")),
		"accessTokenExpiresAt": opt("accessTokenExpiresAt"), "refreshTokenExpiresAt": opt("refreshTokenExpiresAt"),
		"scope": nul(acct.String("scope")), "idToken": nul(e.DecryptToken(acct.String("idToken"))),
		"providerId": acct.String("providerId"), "accountId": acct.String("accountId")}, nil
}

// accountInfo is spec §6 #28: the provider's view of the user, read with the (refreshed if
// needed) access token.
func (e *Engine) accountInfo(c *Call) (any, error) {
	acct, p, err := e.sessionAccount(c, c.Query)
	if err != nil {
		return nil, err
	}
	if exp := acct.Time("accessTokenExpiresAt"); !exp.IsZero() && exp.Before(e.clock.Now().Add(5*time.Second)) && acct.String("refreshToken") != "" {
		if acct, err = e.refreshAccount(c.Context(), acct, p); err != nil {
			return nil, CodeFailedToGetAccessToken.With(400)
		}
	}
	t := &oauth.Tokens{AccessToken: e.DecryptToken(acct.String("accessToken"))}
	if t.AccessToken == "" {
		return nil, CodeFailedToGetAccessToken.With(400)
	}
	id, err := p.UserInfo(c.Context(), t)
	if err != nil {
		e.log.Info("social: account info", "provider", p.ID(), "err", err)
		return nil, CodeFailedToGetUserInfo.With(400)
	}
	data := id.Claims
	if data == nil {
		data = map[string]any{}
	}
	return map[string]any{
		"user": map[string]any{"id": id.Subject, "name": id.Name, "email": nilIfEmpty(id.Email), "image": nilIfEmpty(id.Image), "emailVerified": id.EmailVerified},
		"data": data, "account": map[string]any{"id": acct.ID(), "providerId": acct.String("providerId"), "accountId": acct.String("accountId")},
	}, nil
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// splitScopes reads the account's comma-separated scope column.
func splitScopes(s string) []string {
	out := []string{}
	for _, sc := range strings.Split(s, ",") {
		if sc = strings.TrimSpace(sc); sc != "" {
			out = append(out, sc)
		}
	}
	return out
}
