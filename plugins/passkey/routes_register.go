package passkey

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/google/uuid"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// registerOptions is GET /passkey/generate-register-options (fresh session): creation
// options for a new passkey of the session user, with the user's passkeys as
// excludeCredentials, and a challenge kept server-side for ChallengeTTL.
func (p *Plugin) registerOptions(c *authcore.Call) (any, error) {
	e := p.engine
	ctx := c.Context()
	s, err := c.RequireSession()
	if err != nil {
		return nil, err
	}
	attachment := c.Query.String("authenticatorAttachment")
	switch attachment {
	case "":
		attachment = p.AuthenticatorAttachment
	case AttachmentPlatform, AttachmentCrossPlatform:
	default:
		return nil, &authcore.Error{Status: http.StatusBadRequest, Code: authcore.CodeValidationError.Code,
			Message: `[query.authenticatorAttachment] Invalid option: expected one of "platform"|"cross-platform"`}
	}
	rows, err := p.userPasskeys(ctx, s.UserID())
	if err != nil {
		return nil, err
	}
	handle := ""
	for _, r := range rows {
		if h := r.String("userHandle"); h != "" {
			handle = h
			break
		}
	}
	if handle == "" {
		if handle, err = e.Random().String(handleLength, handleAlphabet); err != nil {
			return nil, authcore.Internal(err)
		}
	}
	// Better Auth: name and display name are the email (or the id); the query's name
	// replaces the name.
	label := s.User.String("email")
	if label == "" {
		label = s.UserID()
	}
	name := c.Query.String("name")
	if name == "" {
		name = label
	}
	challenge, err := e.Random().Bytes(32)
	if err != nil {
		return nil, authcore.Internal(err)
	}
	exclude, excludeJSON := descriptors(rows)
	requireRK := p.rk == protocol.ResidentKeyRequirementRequired
	sel := protocol.AuthenticatorSelection{
		AuthenticatorAttachment: protocol.AuthenticatorAttachment(attachment),
		RequireResidentKey:      &requireRK,
		ResidentKey:             p.rk,
		UserVerification:        p.uv,
	}
	user := &waUser{handle: []byte(handle), name: name, displayName: label}
	creation, sd, err := p.wa.BeginRegistration(user, func(o *protocol.PublicKeyCredentialCreationOptions) error {
		o.Challenge = challenge
		o.Parameters = pubKeyCredParams
		o.Timeout = ceremonyTimeout
		o.AuthenticatorSelection = sel
		o.Attestation = protocol.PreferNoAttestation
		o.CredentialExcludeList = exclude
		o.Extensions.CredProps = true
		return nil
	})
	if err != nil {
		return nil, authcore.Internal(fmt.Errorf("passkey: beginning registration: %w", err))
	}
	v := challengeValue{
		Type:              ceremonyRegistration,
		ExpectedChallenge: sd.Challenge,
		UserData:          challengeUser{ID: s.UserID(), Name: name, DisplayName: label},
		Session:           *sd,
	}
	if c.Query.Has("context") {
		ctxVal := c.Query.String("context")
		v.Context = &ctxVal
	}
	if err := p.issueChallenge(c, v); err != nil {
		return nil, err
	}
	opts := creation.Response
	params := make([]paramJSON, 0, len(opts.Parameters))
	for _, prm := range opts.Parameters {
		params = append(params, paramJSON{Alg: int64(prm.Algorithm), Type: string(prm.Type)})
	}
	return creationOptionsJSON{
		Challenge:          opts.Challenge.String(),
		RP:                 rpJSON{Name: opts.RelyingParty.Name, ID: opts.RelyingParty.ID},
		User:               userJSON{ID: base64.RawURLEncoding.EncodeToString(user.handle), Name: name, DisplayName: label},
		PubKeyCredParams:   params,
		Timeout:            opts.Timeout,
		Attestation:        string(opts.Attestation),
		ExcludeCredentials: excludeJSON,
		AuthenticatorSelection: selectionJSON{
			ResidentKey:             string(sel.ResidentKey),
			UserVerification:        string(sel.UserVerification),
			AuthenticatorAttachment: attachment,
			RequireResidentKey:      requireRK,
		},
		Extensions: map[string]any{"credProps": true},
		Hints:      []string{},
	}, nil
}

// verifyRegistration is POST /passkey/verify-registration (fresh session). Every failed
// check of the attestation (challenge, origin, RP ID, type, signature, flags, parse) is 400
// FAILED_TO_VERIFY_REGISTRATION; Better Auth answers 500 there, a bug (spec §7.6).
func (p *Plugin) verifyRegistration(c *authcore.Call) (any, error) {
	e := p.engine
	ctx := c.Context()
	s, err := c.RequireSession()
	if err != nil {
		return nil, err
	}
	v, err := p.takeChallenge(c, ceremonyRegistration)
	if err != nil {
		return nil, err
	}
	if v.UserData.ID != s.UserID() {
		return nil, CodeNotAllowedToRegister.With(http.StatusUnauthorized)
	}
	failed := CodeFailedToVerifyRegistration.With(http.StatusBadRequest)
	raw, err := rawResponse(c)
	if err != nil {
		return nil, failed.Wrap(err)
	}
	var parsed *protocol.ParsedCredentialCreationData
	if err := safely(func() (err error) {
		parsed, err = protocol.ParseCredentialCreationResponseBytes(raw)
		return err
	}); err != nil {
		return nil, failed.Wrap(err)
	}
	clientOrigin := parsed.Response.CollectedClientData.Origin
	if !p.trustedOrigin(clientOrigin) {
		return nil, failed.Wrap(fmt.Errorf("untrusted origin %q", clientOrigin))
	}
	sd := v.Session
	sd.Origin = clientOrigin
	user := &waUser{handle: sd.UserID, name: v.UserData.Name, displayName: v.UserData.DisplayName}
	var cred *webauthn.Credential
	if err := safely(func() (err error) {
		cred, err = p.wa.CreateCredential(user, sd, parsed)
		return err
	}); err != nil {
		return nil, failed.Wrap(detailed(err))
	}
	id, err := e.NewID()
	if err != nil {
		return nil, err
	}
	deviceType := deviceSingle
	if cred.Flags.BackupEligible {
		deviceType = deviceMulti
	}
	row := storage.Record{
		"id":           id,
		"publicKey":    base64.StdEncoding.EncodeToString(cred.PublicKey),
		"userId":       s.UserID(),
		"credentialID": base64.RawURLEncoding.EncodeToString(cred.ID),
		"counter":      int64(cred.Authenticator.SignCount),
		"deviceType":   deviceType,
		"backedUp":     cred.Flags.BackupState,
		"transports":   joinTransports(parsed.Response.Transports),
		"createdAt":    e.Clock().Now(),
		"userHandle":   string(sd.UserID),
	}
	if name := strings.TrimSpace(c.Body.String("name")); name != "" {
		row["name"] = name
	}
	if a, err := uuid.FromBytes(cred.Authenticator.AAGUID); err == nil {
		row["aaguid"] = a.String()
	}
	rec, err := e.Store().Create(ctx, ModelPasskey, row)
	if errors.Is(err, storage.ErrDuplicate) {
		return nil, CodePreviouslyRegistered.With(http.StatusBadRequest)
	}
	if err != nil {
		return nil, authcore.Internal(err)
	}
	c.AuditDetail("passkey_id", rec.ID())
	out := e.Public(ModelPasskey, rec)
	if c.Body.Bool("createSession") {
		// The caller holds a fresh session already: this is a re-issue, not a sign-in.
		ns, err := c.StartSession(s.User, false)
		if err != nil {
			return nil, err
		}
		js := e.SessionJSON(ns)
		out["session"], out["user"] = js["session"], js["user"]
	}
	return out, nil
}
