package authcore

import "github.com/gatehouse-auth/gatehouse/storage"

// Core model names.
const (
	ModelUser         = "user"
	ModelSession      = "session"
	ModelAccount      = "account"
	ModelVerification = "verification"
)

// ProviderCredential is the providerId of email/password accounts.
const ProviderCredential = "credential"

// coreModels are Better Auth's core tables (spec §5) with Gatehouse's deliberate
// differences: session.token holds the SHA-256 hash of the token, never the token (D3); the
// user's role belongs to the core schema, defaults to "user" and is server-only (D10);
// verification identifiers that embed a secret hold its hash.
func coreModels() []storage.Model {
	created := storage.Field{Name: "createdAt", Type: storage.TypeDate, Required: true}
	updated := storage.Field{Name: "updatedAt", Type: storage.TypeDate, Required: true}
	userRef := &storage.Reference{Model: ModelUser, OnDelete: storage.Cascade}
	return []storage.Model{
		{Name: ModelUser, Fields: []storage.Field{
			{Name: "name", Type: storage.TypeString, Required: true},
			{Name: "email", Type: storage.TypeString, Required: true, Unique: true},
			{Name: "emailVerified", Type: storage.TypeBoolean, Required: true, Default: false, ServerOnly: true},
			{Name: "image", Type: storage.TypeString},
			created, updated,
			{Name: "role", Type: storage.TypeString, Default: "user", ServerOnly: true},
		}},
		{Name: ModelSession, Fields: []storage.Field{
			// expiresAt and token are the engine's: /update-session must not let a client
			// make its session immortal or rewrite the stored token hash (D10).
			{Name: "expiresAt", Type: storage.TypeDate, Required: true, Indexed: true, ServerOnly: true},
			{Name: "token", Type: storage.TypeString, Required: true, Unique: true, ServerOnly: true},
			created, updated,
			{Name: "ipAddress", Type: storage.TypeString, ServerOnly: true},
			{Name: "userAgent", Type: storage.TypeString, ServerOnly: true},
			{Name: "userId", Type: storage.TypeString, Required: true, References: userRef, ServerOnly: true},
		}},
		{Name: ModelAccount, Fields: []storage.Field{
			{Name: "accountId", Type: storage.TypeString, Required: true},
			{Name: "providerId", Type: storage.TypeString, Required: true},
			{Name: "userId", Type: storage.TypeString, Required: true, References: userRef},
			{Name: "accessToken", Type: storage.TypeString, Hidden: true},
			{Name: "refreshToken", Type: storage.TypeString, Hidden: true},
			{Name: "idToken", Type: storage.TypeString, Hidden: true},
			{Name: "accessTokenExpiresAt", Type: storage.TypeDate, Hidden: true},
			{Name: "refreshTokenExpiresAt", Type: storage.TypeDate, Hidden: true},
			{Name: "scope", Type: storage.TypeString},
			{Name: "password", Type: storage.TypeString, Hidden: true},
			created, updated,
		}, Unique: [][]string{{"providerId", "accountId"}}},
		{Name: ModelVerification, Fields: []storage.Field{
			{Name: "identifier", Type: storage.TypeString, Required: true, Indexed: true},
			{Name: "value", Type: storage.TypeString, Required: true},
			{Name: "expiresAt", Type: storage.TypeDate, Required: true, Indexed: true},
			created, updated,
		}},
	}
}
