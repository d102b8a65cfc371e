package jwtplugin

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// errBadJWT is the gateway's answer to a JWT it does not accept.
var errBadJWT = authcore.CodeUnauthorized.With(http.StatusUnauthorized)

// authenticator resolves `Authorization: Bearer <JWT>` on proxied requests (order
// authcore.OrderJWT). A bearer value that is not JWT-shaped is not its credential (found
// false), so the bearer and API-key authenticators can take it.
type authenticator struct{ p *Plugin }

func (a authenticator) Authenticate(r *http.Request) (*authcore.Principal, bool, error) {
	tok, ok := bearerJWT(r.Header)
	if !ok {
		return nil, false, nil
	}
	ctx := r.Context()
	claims, err := a.p.VerifyJWT(ctx, tok)
	if errors.Is(err, ErrInvalidToken) {
		return nil, true, errBadJWT
	}
	if err != nil {
		return nil, true, err
	}
	sub, _ := claims["sub"].(string)
	user, err := a.p.engine.Store().FindOne(ctx, authcore.ModelUser, storage.ByID(sub))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, true, errBadJWT
	}
	if err != nil {
		return nil, true, authcore.Internal(err)
	}
	return &authcore.Principal{
		Method:    "jwt",
		UserID:    user.ID(),
		User:      user,
		Anonymous: user.Bool("isAnonymous"),
		Roles:     authcore.SplitRoles(user.String("role")),
	}, true, nil
}

// bearerJWT returns the token of an `Authorization: Bearer` header when it has the compact
// JWS shape: three base64url segments, the first of which is not empty.
func bearerJWT(h http.Header) (string, bool) {
	v := h.Get("Authorization")
	if len(v) < 7 || !strings.EqualFold(v[:7], "bearer ") {
		return "", false
	}
	tok := strings.TrimSpace(v[7:])
	if strings.Count(tok, ".") != 2 || strings.HasPrefix(tok, ".") || len(tok) > 16<<10 {
		return "", false
	}
	for _, ch := range tok {
		if !(ch == '.' || ch == '-' || ch == '_' || ch >= '0' && ch <= '9' || ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z') {
			return "", false
		}
	}
	return tok, true
}
