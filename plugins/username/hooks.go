package username

import (
	"net/http"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// registerHooks adds the before hooks on the core routes that accept user fields. They run
// after the core has checked types (a non-string username is already a 400
// VALIDATION_ERROR) and before the core writes the user.
func (p *Plugin) registerHooks(r *authcore.Registrar) {
	r.Before(authcore.MatchPath(authcore.PathSignUpEmail), p.beforeSignUp)
	r.Before(authcore.MatchPath(authcore.PathUpdateUser), p.beforeUpdateUser)
}

// beforeSignUp validates and normalizes username and displayUsername on /sign-up/email, as
// Better Auth's three sign-up hooks and its user-create hook do together:
//   - no username but a displayUsername that is a valid username: it becomes the username;
//   - username: length, pattern (400), then taken (400 USERNAME_IS_ALREADY_TAKEN), then
//     stored normalized;
//   - displayUsername: pattern (400 INVALID_DISPLAY_USERNAME); when absent or empty it is
//     the username as typed; stored with the display normalization.
func (p *Plugin) beforeSignUp(c *authcore.Call) (any, error) {
	if !p.DisableDisplayUsername && !c.Body.Has(FieldUsername) {
		if d, ok := c.Body[FieldDisplayUsername].(string); ok {
			if _, valid := p.CheckUsername(d); valid {
				c.Body[FieldUsername] = d
			}
		}
	}
	typed, _ := c.Body[FieldUsername].(string)
	if err := p.prepare(c, nil); err != nil {
		return nil, err
	}
	if !p.DisableDisplayUsername && typed != "" {
		if d, _ := c.Body[FieldDisplayUsername].(string); d == "" {
			c.Body[FieldDisplayUsername] = p.normalizeDisplay(typed)
		}
	}
	return nil, nil
}

// beforeUpdateUser does the same checks on /update-user for the signed-in user, whose own
// username does not count as taken; with immutable_username a set username cannot change
// (400 USERNAME_IS_IMMUTABLE). The display username is not derived here: an update leaves
// it as it was unless given. Without a session the endpoint answers 401 itself.
func (p *Plugin) beforeUpdateUser(c *authcore.Call) (any, error) {
	if !c.Body.Has(FieldUsername) && !c.Body.Has(FieldDisplayUsername) {
		return nil, nil
	}
	s, err := c.Session()
	if err != nil || s == nil {
		return nil, err
	}
	return nil, p.prepare(c, s.User)
}

// prepare checks and normalizes the username and displayUsername of the body in place.
// self is the user being updated, nil on sign-up.
func (p *Plugin) prepare(c *authcore.Call, self storage.Record) error {
	bad := func(code authcore.ErrorCode) error { return code.With(http.StatusBadRequest) }
	switch v := c.Body[FieldUsername].(type) {
	case string:
		if code, ok := p.CheckUsername(v); !ok {
			return bad(code)
		}
		stored := p.NormalizeUsername(v)
		if self != nil && p.ImmutableUsername {
			if cur := self.String(FieldUsername); cur != "" && cur != stored {
				return bad(CodeUsernameIsImmutable)
			}
		}
		taken, err := p.userByStored(c.Context(), stored)
		if err != nil {
			return err
		}
		if taken != nil && (self == nil || taken.ID() != self.ID()) {
			return bad(CodeUsernameIsAlreadyTaken)
		}
		c.Body[FieldUsername] = stored
	case nil:
		// An explicit null: nothing to store on sign-up; on update it removes the username,
		// which an immutable username does not allow.
		if self == nil {
			delete(c.Body, FieldUsername)
		} else if p.ImmutableUsername && c.Body.Has(FieldUsername) && self.String(FieldUsername) != "" {
			return bad(CodeUsernameIsImmutable)
		}
	}
	if p.DisableDisplayUsername {
		return nil
	}
	if d, ok := c.Body[FieldDisplayUsername].(string); ok {
		if !p.checkDisplay(d) {
			return bad(CodeInvalidDisplayUsername)
		}
		c.Body[FieldDisplayUsername] = p.normalizeDisplay(d)
	}
	return nil
}
