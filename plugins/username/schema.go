package username

import (
	"net/http"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// User fields the plugin adds (Better Auth plugins/username/schema.ts).
const (
	// FieldUsername holds the normalized username: unique, client-settable (through the
	// hooks, which validate and normalize it), returned.
	FieldUsername = "username"
	// FieldDisplayUsername keeps the username as the user typed it (or a display name of
	// their choosing); absent when display usernames are disabled.
	FieldDisplayUsername = "displayUsername"
)

// fields returns the user fields to add.
func (p *Plugin) fields() []storage.Field {
	out := []storage.Field{{Name: FieldUsername, Type: storage.TypeString, Unique: true}}
	if !p.DisableDisplayUsername {
		out = append(out, storage.Field{Name: FieldDisplayUsername, Type: storage.TypeString})
	}
	return out
}

// registerSchema extends the user model and declares the answer to a username taken in a
// race between the hooks' availability check and the write.
func (p *Plugin) registerSchema(r *authcore.Registrar) error {
	if err := r.Extend(authcore.ModelUser, p.fields()...); err != nil {
		return err
	}
	return r.UniqueConflict(authcore.ModelUser, FieldUsername, CodeUsernameIsAlreadyTaken.With(http.StatusBadRequest))
}
