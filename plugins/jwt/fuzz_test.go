package jwtplugin

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
)

// FuzzVerifyJWT feeds hostile compact tokens to VerifyJWT and to the gateway (as a bearer
// credential). Neither may panic or fail internally; VerifyJWT refuses with
// ErrInvalidToken; and anything accepted must carry exactly the signed header and payload
// of the one token the plugin issued (the signature segment is the only part a base64
// decoder could read two ways) with its subject, so no forged or altered claims pass.
func FuzzVerifyJWT(f *testing.F) {
	p := &Plugin{}
	h := authcoretest.New(f, authcoretest.WithPlugins(p))
	c, body := h.SignUp("Ada", "ada@example.com", "correct horse battery")
	uid, _ := body["user"].(map[string]any)["id"].(string)
	r := c.Get(PathToken)
	tok, _ := r.Object()["token"].(string)
	if tok == "" || uid == "" {
		f.Fatalf("/token: %d %s", r.StatusCode, r.Body)
	}
	signedPart := tok[:strings.LastIndexByte(tok, '.')]
	parts := strings.Split(tok, ".")
	b64 := base64.RawURLEncoding.EncodeToString
	for _, s := range []string{
		tok, tok + "=", tok + "A", signedPart + ".", signedPart, parts[0] + "." + parts[1] + "." + parts[2][:len(parts[2])-1],
		b64([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + ".",
		b64([]byte(`{"alg":"HS256","kid":"x"}`)) + "." + parts[1] + "." + parts[2],
		b64([]byte(`{"alg":"EdDSA","kid":"../../x","crit":["b64"],"b64":false}`)) + "." + parts[1] + "." + parts[2],
		"a.b.c", "..", "", "e30.e30.e30", strings.Repeat("A", 9000) + ".e30.x",
		parts[0] + "." + b64([]byte(`{"sub":"`+uid+`","exp":1e300}`)) + "." + parts[2],
	} {
		f.Add(s)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, s string) {
		claims, err := p.VerifyJWT(ctx, s)
		if err != nil {
			if !errors.Is(err, ErrInvalidToken) {
				var e *authcore.Error
				if !errors.As(err, &e) || e.Status >= 500 {
					t.Fatalf("%q: unexpected error %v", s, err)
				}
			}
		} else {
			i := strings.LastIndexByte(s, '.')
			if i < 0 || s[:i] != signedPart || claims["sub"] != uid {
				t.Fatalf("accepted %q (claims %v), not the issued token", s, claims)
			}
		}
		req := httptest.NewRequest(http.MethodGet, "http://app.example/x", nil)
		req.Header.Set("Authorization", "Bearer "+s)
		pr, gerr := h.Engine.Authenticate(req)
		if gerr != nil {
			var e *authcore.Error
			if !errors.As(gerr, &e) || e.Status < 400 || e.Status >= 500 {
				t.Fatalf("gateway %q: not a 4xx refusal: %v", s, gerr)
			}
			return
		}
		if pr != nil && (pr.UserID != uid || err != nil) {
			t.Fatalf("gateway accepted %q as %q though VerifyJWT said %v", s, pr.UserID, err)
		}
	})
}
