package sso

import (
	"context"
	"errors"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// ModelSSOProvider is the model holding registered identity providers.
const ModelSSOProvider = "ssoProvider"

// ssoProviderModel is Better Auth's ssoProvider table (packages/sso/src/index.ts), field for
// field:
//
//	issuer          string   required   OIDC issuer URL or SAML IdP entity id
//	oidcConfig      string   optional   JSON of the OIDC configuration (holds clientSecret)
//	samlConfig      string   optional   JSON of the SAML configuration (may hold SP keys)
//	userId          string   optional   who registered it; deleted with that user
//	providerId      string   required   unique; the account rows' providerId
//	organizationId  string   optional   the organization it serves
//	domain          string   required   email domain(s), comma-separated
//	domainVerified  boolean  optional   DNS TXT proof done for domain
//
// The configs are hidden: the API answers with sanitized views (see sanitize), never the
// stored JSON.
func ssoProviderModel() storage.Model {
	return storage.Model{Name: ModelSSOProvider, Fields: []storage.Field{
		{Name: "issuer", Type: storage.TypeString, Required: true},
		{Name: "oidcConfig", Type: storage.TypeString, Hidden: true},
		{Name: "samlConfig", Type: storage.TypeString, Hidden: true},
		{Name: "userId", Type: storage.TypeString, Indexed: true,
			References: &storage.Reference{Model: authcore.ModelUser, OnDelete: storage.Cascade}},
		{Name: "providerId", Type: storage.TypeString, Required: true, Unique: true},
		{Name: "organizationId", Type: storage.TypeString, Indexed: true},
		{Name: "domain", Type: storage.TypeString, Required: true},
		{Name: "domainVerified", Type: storage.TypeBoolean, Default: false, Indexed: true},
	}}
}

// registerSchema declares the model. Providers are declared credentials of the user who
// registered them: an unverified account claimed by the proven owner of its address
// (Engine.ClaimEmail) loses the providers whoever held it before registered, because a
// provider decides who may sign in (and, once its domain is verified, whose accounts the
// IdP vouches for).
func (p *Plugin) registerSchema(r *authcore.Registrar) error {
	if err := r.Model(ssoProviderModel()); err != nil {
		return err
	}
	r.Credential(ModelSSOProvider, "userId")
	return nil
}

// providerByID returns the provider with that providerId, or nil.
func (p *Plugin) providerByID(ctx context.Context, providerID string) (storage.Record, error) {
	rec, err := p.engine.Store().FindOne(ctx, ModelSSOProvider, storage.Eq("providerId", providerID))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, authcore.Internal(err)
	}
	return rec, nil
}
