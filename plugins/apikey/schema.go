package apikey

import "github.com/gatehouse-auth/gatehouse/storage"

// Model and field names (Better Auth's apikey table, packages/api-key/src/schema.ts).
const (
	ModelAPIKey = "apikey"

	FieldConfigID            = "configId"
	FieldName                = "name"
	FieldStart               = "start"
	FieldReferenceID         = "referenceId"
	FieldPrefix              = "prefix"
	FieldKey                 = "key" // base64url-nopad SHA-256 of the full key; never returned
	FieldRefillInterval      = "refillInterval"
	FieldRefillAmount        = "refillAmount"
	FieldLastRefillAt        = "lastRefillAt"
	FieldEnabled             = "enabled"
	FieldRateLimitEnabled    = "rateLimitEnabled"
	FieldRateLimitTimeWindow = "rateLimitTimeWindow"
	FieldRateLimitMax        = "rateLimitMax"
	FieldRequestCount        = "requestCount"
	FieldRemaining           = "remaining"
	FieldLastRequest         = "lastRequest"
	FieldExpiresAt           = "expiresAt"
	FieldCreatedAt           = "createdAt"
	FieldUpdatedAt           = "updatedAt"
	FieldPermissions         = "permissions"
	FieldMetadata            = "metadata"
	// FieldReferenceType is Gatehouse's: "user" or "organization" (Better Auth keeps it in the
	// configuration instead). Not returned.
	FieldReferenceType = "referenceType"
)

func apiKeyModel() storage.Model {
	return storage.Model{
		Name: ModelAPIKey,
		Fields: []storage.Field{
			{Name: FieldConfigID, Type: storage.TypeString, Default: "default"},
			{Name: FieldName, Type: storage.TypeString},
			{Name: FieldStart, Type: storage.TypeString},
			{Name: FieldReferenceID, Type: storage.TypeString, Required: true, Indexed: true},
			{Name: FieldReferenceType, Type: storage.TypeString, Default: "user", Hidden: true, ServerOnly: true},
			{Name: FieldPrefix, Type: storage.TypeString},
			{Name: FieldKey, Type: storage.TypeString, Required: true, Unique: true, Hidden: true, ServerOnly: true},
			{Name: FieldRefillInterval, Type: storage.TypeNumber},
			{Name: FieldRefillAmount, Type: storage.TypeNumber},
			{Name: FieldLastRefillAt, Type: storage.TypeDate},
			{Name: FieldEnabled, Type: storage.TypeBoolean, Default: true},
			{Name: FieldRateLimitEnabled, Type: storage.TypeBoolean, Default: true},
			{Name: FieldRateLimitTimeWindow, Type: storage.TypeNumber},
			{Name: FieldRateLimitMax, Type: storage.TypeNumber},
			{Name: FieldRequestCount, Type: storage.TypeNumber, Default: int64(0)},
			{Name: FieldRemaining, Type: storage.TypeNumber},
			{Name: FieldLastRequest, Type: storage.TypeDate},
			{Name: FieldExpiresAt, Type: storage.TypeDate},
			{Name: FieldCreatedAt, Type: storage.TypeDate, Required: true},
			{Name: FieldUpdatedAt, Type: storage.TypeDate, Required: true},
			{Name: FieldPermissions, Type: storage.TypeJSON},
			{Name: FieldMetadata, Type: storage.TypeJSON},
		},
	}
}
