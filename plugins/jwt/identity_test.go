package jwtplugin

import (
	"context"
	"errors"
	"reflect"
	"testing"
)

// TestSignIdentityJWT: the identity JWT has typ gatehouse-id+jwt and the current key's kid,
// carries exactly the claims given (no defaults), verifies against /jwks with an independent
// verifier, and is refused by VerifyJWT (and so the gateway) even with this plugin's own
// issuer and audience. Without exp it is not signed.
func TestSignIdentityJWT(t *testing.T) {
	h, p := setup(t, nil)
	ctx := context.Background()
	now := h.Clock.Now().Unix()
	in := map[string]any{"sub": "u1", "iat": now, "exp": now + 60, "iss": origin, "aud": origin}
	tok, err := p.SignIdentityJWT(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if len(in) != 5 {
		t.Fatal("claims modified")
	}
	hdr, claims := independentVerify(t, h, tok)
	if hdr["typ"] != IdentityJWTType || hdr["kid"] == "" || hdr["alg"] != AlgEdDSA || len(hdr) != 3 {
		t.Errorf("header %v", hdr)
	}
	want := map[string]any{"sub": "u1", "iat": float64(now), "exp": float64(now + 60), "iss": origin, "aud": origin}
	if !reflect.DeepEqual(map[string]any(claims), want) {
		t.Errorf("claims %v, want %v", claims, want)
	}
	if _, err := p.VerifyJWT(ctx, tok); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("VerifyJWT accepted the identity JWT: %v", err)
	}
	if pr, err := gateway(h, "Bearer "+tok); err == nil || pr != nil {
		t.Errorf("gateway accepted the identity JWT: %v %v", pr, err)
	}
	if _, err := p.SignIdentityJWT(ctx, map[string]any{"sub": "u1"}); err == nil {
		t.Error("signed an identity JWT without exp")
	}
	if p.JWKSRoute() != DefaultJWKSPath {
		t.Errorf("JWKSRoute %q", p.JWKSRoute())
	}
}
