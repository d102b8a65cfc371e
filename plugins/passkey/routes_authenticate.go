package passkey

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// authenticateOptions is GET /passkey/generate-authenticate-options. Signed in, the options
// list the user's passkeys as allowCredentials and the ceremony is bound to that user; with
// passkey_as_second_factor the same holds for the user of a pending two-factor challenge.
// Otherwise (or when that user has no passkeys) the ceremony is discoverable: any user's
// passkey may answer, and the options say nothing about any account.
func (p *Plugin) authenticateOptions(c *authcore.Call) (any, error) {
	e := p.engine
	ctx := c.Context()
	s, err := c.Session()
	if err != nil {
		return nil, err
	}
	var bound string
	var rows []storage.Record
	switch {
	case s != nil:
		bound = s.UserID()
	case p.tf != nil:
		pending, err := p.tf.PendingUser(c)
		if err != nil {
			return nil, err
		}
		if pending != nil {
			bound = pending.ID()
		}
	}
	if bound != "" {
		if rows, err = p.userPasskeys(ctx, bound); err != nil {
			return nil, err
		}
	}
	allow, allowJSON := descriptors(rows)
	if len(allow) == 0 {
		bound, allow, allowJSON = "", nil, nil
	}
	challenge, err := e.Random().Bytes(32)
	if err != nil {
		return nil, authcore.Internal(err)
	}
	assertion, sd, err := p.wa.BeginDiscoverableLogin(func(o *protocol.PublicKeyCredentialRequestOptions) error {
		o.Challenge = challenge
		o.Timeout = ceremonyTimeout
		o.UserVerification = p.uv
		o.AllowedCredentials = allow
		return nil
	})
	if err != nil {
		return nil, authcore.Internal(fmt.Errorf("passkey: beginning authentication: %w", err))
	}
	v := challengeValue{
		Type:              ceremonyAuthentication,
		ExpectedChallenge: sd.Challenge,
		UserData:          challengeUser{ID: bound},
		Session:           *sd,
	}
	if err := p.issueChallenge(c, v); err != nil {
		return nil, err
	}
	opts := assertion.Response
	return requestOptionsJSON{
		RPID:             opts.RelyingPartyID,
		Challenge:        opts.Challenge.String(),
		AllowCredentials: allowJSON,
		Timeout:          opts.Timeout,
		UserVerification: string(opts.UserVerification),
	}, nil
}

// verifyAuthentication is POST /passkey/verify-authentication: the assertion is verified by
// go-webauthn against the consumed challenge, the passkey found by its credential id, the
// origin checked against the relying party's origins, and the signature counter must move
// forward. Then the owner is signed in: an assertion with the user-verified flag is both
// factors and starts the session without the gates; one without it goes through
// Call.SignIn with method "passkey", so the two-factor gate applies (D11). With
// passkey_as_second_factor and a pending two-factor challenge of the passkey's owner, the
// challenge is completed instead.
func (p *Plugin) verifyAuthentication(c *authcore.Call) (any, error) {
	e := p.engine
	ctx := c.Context()
	v, err := p.takeChallenge(c, ceremonyAuthentication)
	if err != nil {
		return nil, err
	}
	failed := func(status int, cause error) error {
		return CodeAuthenticationFailed.With(status).Wrap(cause)
	}
	raw, err := rawResponse(c)
	if err != nil {
		return nil, failed(http.StatusBadRequest, err)
	}
	var parsed *protocol.ParsedCredentialAssertionData
	if err := safely(func() (err error) {
		parsed, err = protocol.ParseCredentialRequestResponseBytes(raw)
		return err
	}); err != nil {
		return nil, failed(http.StatusBadRequest, err)
	}
	credID := base64.RawURLEncoding.EncodeToString(parsed.RawID)
	row, err := e.Store().FindOne(ctx, ModelPasskey, storage.Eq("credentialID", credID))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, CodePasskeyNotFound.With(http.StatusUnauthorized)
	}
	if err != nil {
		return nil, authcore.Internal(err)
	}
	owner := row.String("userId")
	if v.UserData.ID != "" && owner != v.UserData.ID {
		return nil, failed(http.StatusUnauthorized, errors.New("the passkey is not one the ceremony offered"))
	}
	clientOrigin := parsed.Response.CollectedClientData.Origin
	if !p.trustedOrigin(clientOrigin) {
		return nil, failed(http.StatusBadRequest, fmt.Errorf("untrusted origin %q", clientOrigin))
	}
	user, err := e.UserByID(ctx, owner)
	if err != nil {
		return nil, err
	}
	if user == nil {
		return nil, authcore.CodeUserNotFound.With(http.StatusUnauthorized)
	}
	rows, err := p.userPasskeys(ctx, owner)
	if err != nil {
		return nil, err
	}
	creds := make([]webauthn.Credential, 0, len(rows))
	for _, r := range rows {
		if cr, ok := credential(r); ok {
			creds = append(creds, cr)
		}
	}
	// The user handle: the one the passkey was created with; a row written by Better Auth
	// has none stored (it never kept them), so the assertion's own handle is taken. The
	// handle is not signed by the authenticator: identity comes from the credential id.
	handle := []byte(row.String("userHandle"))
	if len(handle) == 0 {
		handle = parsed.Response.UserHandle
	}
	sd := v.Session
	sd.Origin = clientOrigin
	sd.UserID = handle
	var cred *webauthn.Credential
	if err := safely(func() (err error) {
		cred, err = p.wa.ValidateLogin(&waUser{handle: handle, creds: creds}, sd, parsed)
		return err
	}); err != nil {
		if isSignatureError(err) {
			return nil, failed(http.StatusUnauthorized, detailed(err))
		}
		return nil, failed(http.StatusBadRequest, detailed(err))
	}
	if cred.Authenticator.CloneWarning {
		// WA-02: a counter that does not move forward means a cloned authenticator or a
		// replayed assertion. The ceremony is refused and the stored counter kept.
		e.Logger().Warn("passkey: signature counter did not increase; assertion refused",
			"passkey", row.ID(), "stored", row.Int("counter"), "received", parsed.Response.AuthenticatorData.Counter)
		return nil, failed(http.StatusUnauthorized, errors.New("signature counter regression"))
	}
	// Compare-and-set on the counter: of two assertions racing with different challenges
	// only the first to write its counter wins.
	_, err = e.Store().Update(ctx, ModelPasskey,
		storage.And(storage.ByID(row.ID()), storage.Eq("counter", row.Int("counter"))),
		storage.Record{"counter": int64(cred.Authenticator.SignCount), "backedUp": cred.Flags.BackupState})
	if errors.Is(err, storage.ErrNotFound) {
		return nil, failed(http.StatusUnauthorized, errors.New("passkey changed or deleted during the ceremony"))
	}
	if err != nil {
		return nil, authcore.Internal(err)
	}

	if p.tf != nil {
		pending, err := p.tf.PendingUser(c)
		if err != nil {
			return nil, err
		}
		if pending != nil && pending.ID() == owner {
			s, err := p.tf.CompleteChallenge(c, c.Body.Bool("trustDevice"))
			if err != nil {
				return nil, err
			}
			return e.SessionJSON(s), nil
		}
	}
	// Possession of the key plus the user's verification on the authenticator are two
	// factors in one step (D11): the two-factor gate lets it through, other gates apply.
	s, err := c.SignIn(user, authcore.SignInOptions{Method: Method,
		MultiFactor: parsed.Response.AuthenticatorData.Flags.HasUserVerified()})
	if err != nil {
		return nil, err // a gate's answer (two-factor challenge, refusal) unchanged
	}
	return e.SessionJSON(s), nil
}
