package admin

import (
	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// Field names the plugin adds (Better Auth's admin schema). The user's role is already a
// core field (server-only, default "user").
const (
	FieldBanned         = "banned"
	FieldBanReason      = "banReason"
	FieldBanExpires     = "banExpires"
	FieldImpersonatedBy = "impersonatedBy"
)

// registerSchema adds banned/banReason/banExpires to the user and impersonatedBy to the
// session. All are server-only (input:false): a client can never set them through
// sign-up or /update-user.
func registerSchema(r *authcore.Registrar) error {
	if err := r.Extend(authcore.ModelUser,
		storage.Field{Name: FieldBanned, Type: storage.TypeBoolean, Default: false, ServerOnly: true},
		storage.Field{Name: FieldBanReason, Type: storage.TypeString, ServerOnly: true},
		storage.Field{Name: FieldBanExpires, Type: storage.TypeDate, ServerOnly: true},
	); err != nil {
		return err
	}
	return r.Extend(authcore.ModelSession,
		storage.Field{Name: FieldImpersonatedBy, Type: storage.TypeString, ServerOnly: true},
	)
}
