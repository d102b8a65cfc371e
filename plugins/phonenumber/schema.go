package phonenumber

import (
	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// Field names the plugin adds to the user model (Better Auth's names).
const (
	FieldPhoneNumber         = "phoneNumber"
	FieldPhoneNumberVerified = "phoneNumberVerified"
)

// userFields are Better Auth's phone-number schema additions. phoneNumber is unique (Better
// Auth also marks it sortable; a unique field is indexed by every adapter) and stays
// client-visible so /update-user can answer PHONE_NUMBER_CANNOT_BE_UPDATED and accept null;
// the hooks make verification the only way to set it. phoneNumberVerified is server-only
// (input:false) and defaults to false.
func userFields() []storage.Field {
	return []storage.Field{
		{Name: FieldPhoneNumber, Type: storage.TypeString, Unique: true},
		{Name: FieldPhoneNumberVerified, Type: storage.TypeBoolean, Default: false, ServerOnly: true},
	}
}

func registerSchema(r *authcore.Registrar) error {
	return r.Extend(authcore.ModelUser, userFields()...)
}
