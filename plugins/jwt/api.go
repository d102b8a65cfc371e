package jwtplugin

import (
	"context"
	"errors"
	"strings"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse-auth/gatehouse/authcore"
)

// ErrInvalidToken is what VerifyJWT answers for any token it does not accept: malformed,
// bad signature, unknown or retired kid, algorithm other than the key's, expired, not yet
// valid, wrong issuer or audience, no subject, or the identity-JWT type.
var ErrInvalidToken = errors.New("jwt: invalid token")

// allowedMethods are the only algorithms a token may name: the asymmetric ones keys are
// created for. "none" and every HMAC algorithm are refused before a key is looked at, and
// a token must also name exactly the algorithm of the key its kid selects (no confusion
// between key types).
var allowedMethods = []string{AlgEdDSA, AlgES256, AlgRS256}

func method(alg string) jwt.SigningMethod {
	switch alg {
	case AlgES256:
		return jwt.SigningMethodES256
	case AlgRS256:
		return jwt.SigningMethodRS256
	}
	return jwt.SigningMethodEdDSA
}

// SignJWT signs claims with the current key (created on first use), Better Auth's server-only
// signJWT: header {alg, kid}; exp defaults to (iat, else now) + expiration_time, iss and aud
// to the configured issuer and audience. iat is written only when given, as in Better Auth.
// The claims map is not modified.
func (p *Plugin) SignJWT(ctx context.Context, claims map[string]any) (string, error) {
	k, err := p.signer(ctx)
	if err != nil {
		return "", err
	}
	c := make(jwt.MapClaims, len(claims)+3)
	for name, v := range claims {
		c[name] = v
	}
	if _, ok := c["exp"]; !ok {
		base := p.engine.Clock().Now().Unix()
		if iat, ok := numeric(c["iat"]); ok {
			base = iat
		}
		c["exp"] = base + int64(p.expires.Seconds())
	}
	if _, ok := c["iss"]; !ok {
		c["iss"] = p.issuer
	}
	if _, ok := c["aud"]; !ok {
		c["aud"] = p.audience
	}
	t := jwt.NewWithClaims(method(k.alg), c)
	t.Header = map[string]any{"alg": k.alg, "kid": k.id}
	s, err := t.SignedString(k.key)
	if err != nil {
		return "", authcore.Internal(err)
	}
	return s, nil
}

// numeric reads a JSON number claim given as a Go integer or float.
func numeric(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case int:
		return int64(n), true
	case float64:
		return int64(n), true
	}
	return 0, false
}

// VerifyJWT checks a token signed by this plugin and returns its claims (Better Auth's
// server-only verifyJWT): the signature against the stored key named by kid (one still in
// the JWKS), the key's own algorithm, exp (required), nbf, iss and aud against the
// configured values, a non-empty sub, and a typ other than the identity JWT's. Any refusal
// is ErrInvalidToken; other errors are storage failures.
func (p *Plugin) VerifyJWT(ctx context.Context, token string) (map[string]any, error) {
	var internal error
	parser := jwt.NewParser(
		jwt.WithValidMethods(allowedMethods),
		jwt.WithTimeFunc(p.engine.Clock().Now),
		jwt.WithIssuer(p.issuer),
		jwt.WithAudience(p.audience),
		jwt.WithExpirationRequired(),
	)
	claims := jwt.MapClaims{}
	_, err := parser.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		if typ, _ := t.Header["typ"].(string); isIdentityType(typ) {
			return nil, ErrInvalidToken
		}
		kid, _ := t.Header["kid"].(string)
		k, err := p.publicKey(ctx, kid)
		if err != nil {
			if !errors.Is(err, errNoKey) {
				internal = err
			}
			return nil, ErrInvalidToken
		}
		if t.Method.Alg() != k.alg {
			return nil, ErrInvalidToken
		}
		return k.key, nil
	})
	if internal != nil {
		return nil, internal
	}
	if err != nil {
		return nil, ErrInvalidToken
	}
	if sub, _ := claims["sub"].(string); sub == "" {
		return nil, ErrInvalidToken
	}
	return claims, nil
}

// isIdentityType matches the identity JWT's typ, with or without the "application/"
// prefix RFC 7515 §4.1.9 lets a sender drop, in any case.
func isIdentityType(typ string) bool {
	typ = strings.ToLower(strings.TrimSpace(typ))
	typ = strings.TrimPrefix(typ, "application/")
	return typ == IdentityJWTType
}

// userToken signs the JWT for a user as /token and the get-session header do: the user
// object as the API returns it, plus iat = now and sub = the user's id.
func (p *Plugin) userToken(ctx context.Context, user map[string]any) (string, error) {
	claims := make(map[string]any, len(user)+2)
	for k, v := range user {
		claims[k] = v
	}
	claims["iat"] = p.engine.Clock().Now().Unix()
	claims["sub"], _ = user["id"].(string)
	return p.SignJWT(ctx, claims)
}
