package anonymous

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// Route paths of the plugin, relative to the base path.
const (
	PathSignInAnonymous     = "/sign-in/anonymous"
	PathDeleteAnonymousUser = "/delete-anonymous-user"
)

// Method is the sign-in method session gates see for anonymous sign-ins.
const Method = "anonymous"

func (p *Plugin) endpoints() []authcore.Endpoint {
	return []authcore.Endpoint{
		{Method: http.MethodPost, Path: PathSignInAnonymous, Handler: p.signInAnonymous,
			BodyOptional: true, NoStore: true,
			Summary: "Sign in anonymously", Tags: []string{"Anonymous"},
			Description: "Creates an anonymous user and signs it in. Refused for a caller whose session is already anonymous.",
			Response:    map[string]any{"type": "object", "properties": map[string]any{"token": map[string]any{"type": "string"}, "user": map[string]any{"$ref": "#/components/schemas/User"}}},
			Errors: []authcore.ErrorCode{CodeAnonymousUsersCannotSignInAgainAnonymously, CodeInvalidEmailFormat,
				CodeFailedToCreateUser, CodeCouldNotCreateSession}},
		{Method: http.MethodPost, Path: PathDeleteAnonymousUser, Handler: p.deleteAnonymousUser,
			Auth: authcore.AuthSensitive, BodyOptional: true,
			Summary: "Delete an anonymous user", Tags: []string{"Anonymous"},
			Description: "Deletes the caller's anonymous user and every session of it, and expires the session cookies.",
			Response:    map[string]any{"type": "object", "properties": map[string]any{"success": map[string]any{"type": "boolean"}}},
			Errors: []authcore.ErrorCode{authcore.CodeUnauthorized, CodeDeleteAnonymousUserDisabled, CodeUserIsNotAnonymous,
				CodeFailedToDeleteAnonymousUserSessions, CodeFailedToDeleteAnonymousUser}},
	}
}

// signInAnonymous is POST /sign-in/anonymous (spec §7.9): a new user with a placeholder
// email, emailVerified false and isAnonymous true, signed in through Call.SignIn (D11) with
// method "anonymous". {"token", "user"} plus the session cookies.
func (p *Plugin) signInAnonymous(c *authcore.Call) (any, error) {
	cur, err := c.Session()
	if err != nil {
		return nil, err
	}
	if cur != nil && cur.User.Bool(FieldIsAnonymous) {
		return nil, CodeAnonymousUsersCannotSignInAgainAnonymously.With(http.StatusBadRequest)
	}
	email, err := p.newEmail(c)
	if err != nil {
		return nil, err
	}
	name, err := p.newName(c)
	if err != nil {
		return nil, err
	}
	e := p.engine
	user, err := e.CreateUser(c.Context(), storage.Record{
		"name": name, "email": email, "emailVerified": false, FieldIsAnonymous: true,
	}, "")
	if err != nil {
		return nil, CodeFailedToCreateUser.With(http.StatusInternalServerError).Wrap(err)
	}
	s, err := c.SignIn(user, authcore.SignInOptions{Method: Method})
	if err != nil {
		var intr *authcore.Interrupt
		if !errors.As(err, &intr) {
			// Refused by a gate or not stored: leave no user nobody can sign in as.
			if derr := e.DeleteUser(c.Context(), user.ID()); derr != nil {
				e.Logger().Warn("anonymous: deleting the user of a failed anonymous sign-in", "error", derr.Error())
			}
		}
		if errors.Is(err, authcore.CodeFailedToCreateSession.With(0)) {
			return nil, CodeCouldNotCreateSession.With(http.StatusInternalServerError).Wrap(err)
		}
		return nil, err
	}
	return map[string]any{"token": s.Token, "user": e.Public(authcore.ModelUser, s.User)}, nil
}

// newEmail is the placeholder email of a new anonymous user: GenerateEmail's when it gives
// one, "temp-<id>@<email_domain_name>" when that is set, else "<id>@anonymous.placeholder.invalid"
// (the id lower-cased, as the store keeps emails).
func (p *Plugin) newEmail(c *authcore.Call) (string, error) {
	if p.GenerateEmail != nil {
		email, err := p.GenerateEmail(c.Context())
		if err != nil {
			return "", authcore.Internal(fmt.Errorf("anonymous: GenerateEmail: %w", err))
		}
		if email != "" {
			if !authcore.ValidEmail(email) {
				return "", CodeInvalidEmailFormat.With(http.StatusBadRequest)
			}
			return authcore.NormalizeEmail(email), nil
		}
	}
	id, err := p.engine.NewID()
	if err != nil {
		return "", err
	}
	if p.EmailDomainName != "" {
		return authcore.NormalizeEmail("temp-" + id + "@" + p.EmailDomainName), nil
	}
	return strings.ToLower(id) + "@" + PlaceholderDomain, nil
}

// newName is GenerateName's answer when it gives one, else the configured name.
func (p *Plugin) newName(c *authcore.Call) (string, error) {
	if p.GenerateName != nil {
		n, err := p.GenerateName(c.Context())
		if err != nil {
			return "", authcore.Internal(fmt.Errorf("anonymous: GenerateName: %w", err))
		}
		if n != "" {
			return n, nil
		}
	}
	return p.name, nil
}

// deleteAnonymousUser is POST /delete-anonymous-user (spec §7.9): on a sensitive session
// (re-read from storage), refused when disabled (400) or for a regular user (403), in
// Better Auth's order; then every session of the user goes, then the user, and the session
// cookies are expired.
func (p *Plugin) deleteAnonymousUser(c *authcore.Call) (any, error) {
	if p.DisableDeleteAnonymousUser {
		return nil, CodeDeleteAnonymousUserDisabled.With(http.StatusBadRequest)
	}
	s, err := c.RequireSession()
	if err != nil {
		return nil, err
	}
	if !s.User.Bool(FieldIsAnonymous) {
		return nil, CodeUserIsNotAnonymous.With(http.StatusForbidden)
	}
	ctx := c.Context()
	if _, err := p.engine.RevokeUserSessions(ctx, s.UserID(), ""); err != nil {
		return nil, CodeFailedToDeleteAnonymousUserSessions.With(http.StatusInternalServerError).Wrap(err)
	}
	if err := p.engine.DeleteUser(ctx, s.UserID()); err != nil {
		return nil, CodeFailedToDeleteAnonymousUser.With(http.StatusInternalServerError).Wrap(err)
	}
	c.ClearSessionCookies()
	return map[string]any{"success": true}, nil
}
