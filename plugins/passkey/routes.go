package passkey

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// maxResponseBytes bounds the WebAuthn response a client may send (re-encoded JSON). Real
// responses, attestation certificate chains included, are a few kilobytes.
const maxResponseBytes = 64 << 10

var (
	passkeySchema = map[string]any{"$ref": "#/components/schemas/Passkey"}
	sessionSchema = map[string]any{"type": "object", "properties": map[string]any{
		"session": map[string]any{"$ref": "#/components/schemas/Session"},
		"user":    map[string]any{"$ref": "#/components/schemas/User"},
	}}
	tags = []string{"Passkey"}
)

func (p *Plugin) endpoints() []authcore.Endpoint {
	return []authcore.Endpoint{
		{
			Method: http.MethodGet, Path: PathGenerateRegisterOptions, Auth: authcore.AuthFresh,
			Handler: p.registerOptions, NoStore: true,
			Query: []authcore.Param{
				authcore.String("authenticatorAttachment").Doc(`"platform" or "cross-platform"`),
				authcore.String("name").Len(0, 256).Doc("User name the authenticator shows (default: the email address)"),
				authcore.String("context").Len(0, 1024).Doc("Kept with the challenge (Better Auth's passkey-first context)"),
			},
			Summary:     "Generate passkey registration options",
			Description: "WebAuthn creation options for a new passkey of the session user; sets the challenge cookie.",
			Tags:        tags,
			Response:    map[string]any{"type": "object", "description": "PublicKeyCredentialCreationOptionsJSON"},
			Errors:      []authcore.ErrorCode{authcore.CodeUnauthorized, authcore.CodeSessionNotFresh, authcore.CodeValidationError},
		},
		{
			Method: http.MethodGet, Path: PathGenerateAuthenticateOptions, Auth: authcore.AuthOptional,
			Handler: p.authenticateOptions, NoStore: true,
			Summary:     "Generate passkey authentication options",
			Description: "WebAuthn request options; allowCredentials lists the session user's passkeys, otherwise any discoverable passkey may answer. Sets the challenge cookie.",
			Tags:        tags,
			Response:    map[string]any{"type": "object", "description": "PublicKeyCredentialRequestOptionsJSON"},
		},
		{
			Method: http.MethodPost, Path: PathVerifyRegistration, Audit: authcore.AuditPasskeyAdd, Auth: authcore.AuthFresh,
			Handler: p.verifyRegistration, NoStore: true,
			Body: []authcore.Param{
				authcore.Object("response").Req().Doc("RegistrationResponseJSON from the browser"),
				authcore.String("name").Len(0, 256).Doc("Label of the passkey"),
				authcore.Bool("createSession").Doc("Also start a new session (answer carries session and user)"),
			},
			Summary:     "Verify passkey registration",
			Description: "Verifies the attestation against the challenge and stores the passkey.",
			Tags:        tags,
			Response:    passkeySchema,
			Errors: []authcore.ErrorCode{CodeChallengeNotFound, CodeNotAllowedToRegister, CodeFailedToVerifyRegistration,
				CodePreviouslyRegistered, authcore.CodeUnauthorized, authcore.CodeSessionNotFresh},
		},
		{
			Method: http.MethodPost, Path: PathVerifyAuthentication, Handler: p.verifyAuthentication, NoStore: true,
			Body: []authcore.Param{
				authcore.Object("response").Req().Doc("AuthenticationResponseJSON from the browser"),
				authcore.Bool("trustDevice").Doc("With passkey_as_second_factor, trust this device when the passkey completes a two-factor challenge"),
			},
			Summary:     "Sign in with a passkey",
			Description: "Verifies the assertion against the challenge and signs its owner in.",
			Tags:        tags,
			Response:    sessionSchema,
			Errors: []authcore.ErrorCode{CodeChallengeNotFound, CodePasskeyNotFound, CodeAuthenticationFailed,
				authcore.CodeUserNotFound},
		},
		{
			Method: http.MethodGet, Path: PathListUserPasskeys, Auth: authcore.AuthSession, Handler: p.list,
			Summary: "List passkeys", Description: "The session user's passkeys.", Tags: tags,
			Response: map[string]any{"type": "array", "items": passkeySchema},
			Errors:   []authcore.ErrorCode{authcore.CodeUnauthorized},
		},
		{
			Method: http.MethodPost, Path: PathDeletePasskey, Audit: authcore.AuditPasskeyDelete, Auth: authcore.AuthSession, Handler: p.delete,
			Body:    []authcore.Param{authcore.String("id").Req().Len(1, 256).Doc("Passkey id")},
			Summary: "Delete a passkey", Description: "Deletes one of the session user's passkeys.", Tags: tags,
			Response: map[string]any{"type": "object", "properties": map[string]any{"status": map[string]any{"type": "boolean"}}},
			Errors:   []authcore.ErrorCode{CodePasskeyNotFound, authcore.CodeUnauthorized},
		},
		{
			Method: http.MethodPost, Path: PathUpdatePasskey, Auth: authcore.AuthSession, Handler: p.update,
			Body: []authcore.Param{
				authcore.String("id").Req().Len(1, 256).Doc("Passkey id"),
				authcore.String("name").Req().Len(1, 256).Doc("New label (not blank)"),
			},
			Summary: "Rename a passkey", Description: "Renames one of the session user's passkeys.", Tags: tags,
			Response: map[string]any{"type": "object", "properties": map[string]any{"passkey": passkeySchema}},
			Errors:   []authcore.ErrorCode{CodePasskeyNotFound, authcore.CodeValidationError, authcore.CodeUnauthorized},
		},
	}
}

// issueChallenge stores a ceremony's state under a fresh id for ChallengeTTL and sets the
// signed challenge cookie holding the id.
func (p *Plugin) issueChallenge(c *authcore.Call, v challengeValue) error {
	e := p.engine
	id, err := e.Random().String(challengeIDLength, challengeIDAlphabet)
	if err != nil {
		return authcore.Internal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return authcore.Internal(err)
	}
	if err := e.CreateVerification(c.Context(), challengePrefix+id, string(b), ChallengeTTL); err != nil {
		return err
	}
	c.SetSignedCookie(p.cookie, id, ChallengeTTL)
	return nil
}

// takeChallenge consumes the challenge the call's cookie names. It is taken atomically, so
// a ceremony is finished at most once however many requests race (and a replay after a
// failed first try finds nothing); the cookie is expired. A missing, forged, used or expired
// challenge, or one of the other ceremony, is 400 CHALLENGE_NOT_FOUND.
func (p *Plugin) takeChallenge(c *authcore.Call, ceremony string) (*challengeValue, error) {
	notFound := CodeChallengeNotFound.With(http.StatusBadRequest)
	id, ok := c.SignedCookie(p.cookie)
	if !ok || !wellFormedID(id) {
		return nil, notFound
	}
	c.ExpireCookie(p.cookie)
	rec, err := p.engine.ConsumeVerification(c.Context(), challengePrefix+id)
	if err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, notFound
	}
	var v challengeValue
	if err := json.Unmarshal([]byte(rec.String("value")), &v); err != nil || v.Type != ceremony {
		return nil, notFound
	}
	return &v, nil
}

// rawResponse re-encodes the body's response object for go-webauthn's parser.
func rawResponse(c *authcore.Call) ([]byte, error) {
	raw, err := json.Marshal(c.Body["response"])
	if err != nil {
		return nil, err
	}
	if len(raw) > maxResponseBytes {
		return nil, fmt.Errorf("response of %d bytes", len(raw))
	}
	return raw, nil
}

// userPasskeys returns a user's passkeys, oldest first.
func (p *Plugin) userPasskeys(ctx context.Context, userID string) ([]storage.Record, error) {
	rows, err := p.engine.Store().FindMany(ctx, ModelPasskey, storage.Query{
		Where: storage.Eq("userId", userID),
		Sort:  []storage.SortField{{Field: "createdAt"}},
	})
	if err != nil {
		return nil, authcore.Internal(err)
	}
	return rows, nil
}

// descriptors turns passkey rows into allow/exclude lists for go-webauthn and for the
// options JSON; rows with broken encodings are left out.
func descriptors(rows []storage.Record) ([]protocol.CredentialDescriptor, []credentialJSON) {
	ds := []protocol.CredentialDescriptor{}
	js := []credentialJSON{}
	for _, r := range rows {
		d, ok := protocolDescriptor(r)
		if !ok {
			continue
		}
		ds = append(ds, d)
		js = append(js, credentialJSON{ID: d.CredentialID.String(), Transports: splitTransports(r.String("transports")), Type: "public-key"})
	}
	return ds, js
}

// safely runs a go-webauthn step, turning a panic on hostile input into an error: a
// malformed response must be a 4xx, never a 500.
func safely(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("webauthn: panic: %v", r)
		}
	}()
	return f()
}

// detailed keeps go-webauthn's developer information (which check failed, what was
// expected) in the private cause that is logged with a refusal; the client sees only the
// code.
func detailed(err error) error {
	var pe *protocol.Error
	if errors.As(err, &pe) && pe.DevInfo != "" {
		return fmt.Errorf("%w (%s)", err, pe.DevInfo)
	}
	return err
}

// isSignatureError reports whether go-webauthn refused the assertion's signature.
func isSignatureError(err error) bool {
	var pe *protocol.Error
	return errors.As(err, &pe) && pe.Type == protocol.ErrAssertionSignature.Type
}

// ensure the adapter satisfies go-webauthn's interface.
var _ webauthn.User = (*waUser)(nil)
