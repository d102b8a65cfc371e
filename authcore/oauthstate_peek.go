package authcore

import "encoding/json"

// PeekOAuthState reads the state stored under state without redeeming it and without the
// browser check of [Call.TakeOAuthState]: for a step that cannot see the state cookie — the
// cross-site POST of a SAML response to the ACS, which browsers send without SameSite=Lax
// cookies — and must look up what the flow expects (the AuthnRequest ID) before handing
// over to a same-site GET that takes the state for real. It returns nil, nil for an
// unknown or expired state. What it returns must not be treated as proof that this browser
// started the flow.
func (c *Call) PeekOAuthState(state string) (*OAuthState, error) {
	if state == "" {
		return nil, nil
	}
	rec, err := c.engine.FindVerification(c.Context(), oauthStateID(state))
	if err != nil || rec == nil {
		return nil, err
	}
	var st OAuthState
	if err := json.Unmarshal([]byte(rec.String("value")), &st); err != nil {
		return nil, nil
	}
	return &st, nil
}
