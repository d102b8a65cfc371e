package jwtplugin

import (
	"context"
	"errors"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse-auth/gatehouse/authcore"
)

// SignIdentityJWT signs the gateway's identity JWT for upstream applications (DESIGN D12)
// with the plugin's current key: header {alg, kid, typ: gatehouse-id+jwt}, the claims
// exactly as given (no defaults — the caller sets iat, exp, iss and aud; exp is required).
// VerifyJWT, and so the gateway authenticator, refuse tokens of this type, so an upstream
// cannot replay one to the gateway. The claims map is not modified.
func (p *Plugin) SignIdentityJWT(ctx context.Context, claims map[string]any) (string, error) {
	if _, ok := claims["exp"]; !ok {
		return "", authcore.Internal(errors.New("jwt: identity JWT without exp"))
	}
	k, err := p.signer(ctx)
	if err != nil {
		return "", err
	}
	c := make(jwt.MapClaims, len(claims))
	for name, v := range claims {
		c[name] = v
	}
	t := jwt.NewWithClaims(method(k.alg), c)
	t.Header = map[string]any{"alg": k.alg, "kid": k.id, "typ": IdentityJWTType}
	s, err := t.SignedString(k.key)
	if err != nil {
		return "", authcore.Internal(err)
	}
	return s, nil
}

// JWKSRoute is the path the public keys are served at (jwks_path), relative to the engine's base path.
func (p *Plugin) JWKSRoute() string { return p.jwksPath }
