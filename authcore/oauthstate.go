package authcore

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore/oauth"
)

// OAuthState is what a sign-in with an outside identity provider remembers between the
// redirect to the provider and its callback. It is stored server-side (a verification row)
// under the random state value sent through the provider; the browser holds the state in a
// signed cookie so that a callback is accepted only in the browser that started the flow.
// Redirect targets in it were checked against the trusted origins when the flow started
// (the pipeline checks callbackURL, newUserCallbackURL, errorCallbackURL of every request)
// and are not re-checked when they are used.
type OAuthState struct {
	ProviderID         string `json:"providerId"`
	CallbackURL        string `json:"callbackURL,omitempty"`
	NewUserCallbackURL string `json:"newUserCallbackURL,omitempty"`
	ErrorCallbackURL   string `json:"errorCallbackURL,omitempty"`
	// CodeVerifier is the PKCE verifier, Nonce the OIDC nonce; [Call.ExternalAuthURL] fills
	// both.
	CodeVerifier string `json:"codeVerifier,omitempty"`
	Nonce        string `json:"nonce,omitempty"`
	// LinkUserID is set for /link-social: the account is linked to this user, no session
	// is created.
	LinkUserID    string `json:"linkUserId,omitempty"`
	LinkEmail     string `json:"linkEmail,omitempty"`
	RequestSignUp bool   `json:"requestSignUp,omitempty"`
	// Data is free for the caller (the sso plugin keeps its provider's details here).
	Data map[string]string `json:"data,omitempty"`
}

// OAuthStateTTL is how long a started external sign-in may take.
const OAuthStateTTL = 10 * time.Minute

// CookieOAuthState is the suffix of the signed cookie binding a state to the browser.
const CookieOAuthState = "state"

// Callback error codes (the ?error= values of Better Auth's OAuth callback).
const (
	OAuthErrStateNotFound       = "state_not_found"
	OAuthErrStateMismatch       = "state_mismatch"
	OAuthErrRestart             = "please_restart_the_process"
	OAuthErrNoCode              = "no_code"
	OAuthErrProviderNotFound    = "oauth_provider_not_found"
	OAuthErrInvalidCode         = "invalid_code"
	OAuthErrUserInfo            = "unable_to_get_user_info"
	OAuthErrEmailNotFound       = "email_not_found"
	OAuthErrAccountNotLinked    = "account_not_linked"
	OAuthErrUnableToLink        = "unable_to_link_account"
	OAuthErrEmailDoesNotMatch   = "email_does_not_match"
	OAuthErrLinkedToOtherUser   = "account_already_linked_to_different_user"
	OAuthErrSignUpDisabled      = "signup_disabled"
	OAuthErrUnableToCreateUser  = "unable_to_create_user"
	OAuthErrUnableToCreateSess  = "unable_to_create_session"
	OAuthErrInvalidCallbackReq  = "invalid_callback_request"
	OAuthErrIssuerMismatch      = "issuer_mismatch"
	OAuthErrNonceBindingMissing = "nonce_binding_missing"
)

// OAuthError is a failure of an external sign-in that is answered as a redirect to the
// error callback with ?error=Code.
type OAuthError struct{ Code string }

func (e *OAuthError) Error() string { return "oauth: " + e.Code }

func oauthStateID(state string) string {
	sum := sha256.Sum256([]byte(state))
	return "oauth-state:" + base64.RawURLEncoding.EncodeToString(sum[:])
}

// NewOAuthState stores st under a new random state value (for OAuthStateTTL), binds it to
// this browser with a signed cookie, and returns the state to send to the provider.
func (c *Call) NewOAuthState(st OAuthState) (string, error) {
	e := c.engine
	state, err := e.rand.String(32, alphaNum)
	if err != nil {
		return "", Internal(err)
	}
	v, err := json.Marshal(st)
	if err != nil {
		return "", Internal(err)
	}
	if err := e.CreateVerification(c.Context(), oauthStateID(state), string(v), OAuthStateTTL); err != nil {
		return "", err
	}
	c.SetSignedCookie(CookieOAuthState, state, OAuthStateTTL)
	return state, nil
}

// TakeOAuthState redeems a state once: a replayed callback, an expired or unknown state
// fail with OAuthErrRestart; a browser whose state cookie is missing or different (a
// callback delivered to another browser: login CSRF) fails with OAuthErrStateMismatch and
// leaves the state unused. Errors are *OAuthError.
func (c *Call) TakeOAuthState(state string) (*OAuthState, error) {
	if state == "" {
		return nil, &OAuthError{OAuthErrStateNotFound}
	}
	cookie, ok := c.SignedCookie(CookieOAuthState)
	if !ok || subtle.ConstantTimeCompare([]byte(cookie), []byte(state)) != 1 {
		return nil, &OAuthError{OAuthErrStateMismatch}
	}
	rec, err := c.engine.ConsumeVerification(c.Context(), oauthStateID(state))
	if err != nil {
		return nil, err
	}
	c.ExpireCookie(CookieOAuthState)
	if rec == nil {
		return nil, &OAuthError{OAuthErrRestart}
	}
	var st OAuthState
	if err := json.Unmarshal([]byte(rec.String("value")), &st); err != nil {
		return nil, &OAuthError{OAuthErrRestart}
	}
	return &st, nil
}

// ExternalAuthURL starts a sign-in with p: it creates the PKCE verifier and nonce, stores
// st with them ([Call.NewOAuthState]) and returns the provider's authorization URL, whose
// redirect_uri is redirectURI. req carries the optional scopes, login hint and prompt.
func (c *Call) ExternalAuthURL(p oauth.Provider, st OAuthState, redirectURI string, req oauth.AuthRequest) (string, error) {
	var err error
	if st.CodeVerifier, err = c.engine.rand.String(64, alphaNumDash); err != nil {
		return "", Internal(err)
	}
	if st.Nonce, err = c.engine.rand.String(32, alphaNum); err != nil {
		return "", Internal(err)
	}
	st.ProviderID = p.ID()
	state, err := c.NewOAuthState(st)
	if err != nil {
		return "", err
	}
	req.State, req.Verifier, req.Nonce, req.RedirectURI = state, st.CodeVerifier, st.Nonce, redirectURI
	u, err := p.AuthCodeURL(req)
	if err != nil {
		c.engine.log.Error("oauth: authorization URL", "provider", p.ID(), "err", err)
		return "", Internal(err)
	}
	return u, nil
}
