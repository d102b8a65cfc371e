package anonymous

import (
	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// FieldIsAnonymous is the user field the plugin adds. The gateway reads it to tell anonymous
// sessions apart (authcore.Principal.Anonymous, D1).
const FieldIsAnonymous = "isAnonymous"

// isAnonymousField is Better Auth's `isAnonymous` (boolean, not required, default false,
// input:false). ServerOnly makes the core refuse a truthy client value on /sign-up/email and
// /update-user with 400 FIELD_NOT_ALLOWED and drop a false one, so no client can make itself
// anonymous — nor, more importantly, stop being anonymous without signing up (D10).
var isAnonymousField = storage.Field{
	Name:       FieldIsAnonymous,
	Type:       storage.TypeBoolean,
	Default:    false,
	ServerOnly: true,
}

func registerSchema(r *authcore.Registrar) error {
	return r.Extend(authcore.ModelUser, isAnonymousField)
}
