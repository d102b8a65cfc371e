package jwtplugin

import "github.com/gatehouse-auth/gatehouse/storage"

// Model and field names (Better Auth's, plugins/jwt/schema.ts).
const (
	ModelJWKS = "jwks"

	FieldPublicKey  = "publicKey"  // the public JWK, JSON
	FieldPrivateKey = "privateKey" // the private JWK, JSON, encrypted with the engine keyring
	FieldCreatedAt  = "createdAt"
	FieldExpiresAt  = "expiresAt" // set when rotation_interval is
	FieldAlg        = "alg"       // the key's algorithm; unset rows count as the configured one
	FieldCrv        = "crv"       // the curve, for EdDSA and ES256 keys
)

func jwksModel() storage.Model {
	return storage.Model{
		Name: ModelJWKS,
		Fields: []storage.Field{
			{Name: FieldPublicKey, Type: storage.TypeString, Required: true},
			{Name: FieldPrivateKey, Type: storage.TypeString, Required: true, Hidden: true, ServerOnly: true},
			{Name: FieldCreatedAt, Type: storage.TypeDate, Required: true},
			{Name: FieldExpiresAt, Type: storage.TypeDate},
			{Name: FieldAlg, Type: storage.TypeString},
			{Name: FieldCrv, Type: storage.TypeString},
		},
	}
}
