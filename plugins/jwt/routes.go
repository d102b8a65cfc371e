package jwtplugin

import (
	"encoding/json"
	"net/http"

	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// PathToken is the route that hands the signed-in user a JWT.
const PathToken = "/token"

func (p *Plugin) endpoints() []authcore.Endpoint {
	return []authcore.Endpoint{
		{Method: http.MethodGet, Path: p.jwksPath, Handler: p.jwks,
			Summary: "Get the JSON Web Key Set", Tags: []string{"JWT"},
			Response: authcore.ObjectOf(map[string]any{"keys": authcore.ArrayOf("object")}, "keys")},
		{Method: http.MethodGet, Path: PathToken, Auth: authcore.AuthSession, Handler: p.token, NoStore: true,
			Summary: "Get a JWT for the signed-in user", Tags: []string{"JWT"},
			Response: authcore.ObjectOf(map[string]any{"token": "string"}, "token"),
			Errors:   []authcore.ErrorCode{authcore.CodeUnauthorized}},
	}
}

// jwks answers {"keys":[...]}: every stored key that has no expiresAt or is within
// expiresAt + grace_period, as a public JWK with alg and kid (the row id). A key is created
// first when there is none, as Better Auth does.
func (p *Plugin) jwks(c *authcore.Call) (any, error) {
	ctx := c.Context()
	if _, err := p.signer(ctx); err != nil {
		return nil, err
	}
	recs, err := p.engine.Store().FindMany(ctx, ModelJWKS, storage.Query{Sort: []storage.SortField{{Field: FieldCreatedAt}}})
	if err != nil {
		return nil, authcore.Internal(err)
	}
	now := p.engine.Clock().Now()
	keys := make([]json.RawMessage, 0, len(recs))
	for _, r := range recs {
		if !p.published(r, now) {
			continue
		}
		var jwk jose.JSONWebKey
		if err := jwk.UnmarshalJSON([]byte(r.String(FieldPublicKey))); err != nil || !jwk.IsPublic() {
			p.engine.Logger().Error("jwt: unreadable public key in jwks row", "id", r.ID())
			continue
		}
		jwk.KeyID, jwk.Algorithm = r.ID(), p.rowAlg(r)
		b, err := jwk.MarshalJSON()
		if err != nil {
			return nil, authcore.Internal(err)
		}
		keys = append(keys, b)
	}
	return map[string]any{"keys": keys}, nil
}

// token answers {"token": <JWT>} for the session's user.
func (p *Plugin) token(c *authcore.Call) (any, error) {
	s, err := c.RequireSession()
	if err != nil {
		return nil, err
	}
	tok, err := p.userToken(c.Context(), p.engine.Public(authcore.ModelUser, s.User))
	if err != nil {
		return nil, err
	}
	return map[string]string{"token": tok}, nil
}
