package bearer_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/plugins/bearer"
)

// FuzzBearerGateway sends hostile Authorization headers (one or two lines) to the gateway
// with only the bearer authenticator. It must never panic nor fail internally (a refusal
// is a 4xx *authcore.Error), and it may authenticate only the one real user, only from a
// single Authorization line that carries the real session token (TOK-01).
func FuzzBearerGateway(f *testing.F) {
	h := newHarness(f, &bearer.Plugin{})
	r := signUp(f, h, "fuzz@example.com")
	signed := r.Header.Get("set-auth-token")
	raw, _, _ := strings.Cut(signed, ".")
	uid, _ := r.Object()["user"].(map[string]any)["id"].(string)
	if raw == "" || uid == "" {
		f.Fatalf("no token: %s", r.Body)
	}
	for _, s := range [][2]string{
		{"Bearer " + signed, ""}, {"bearer " + raw, ""}, {"BEARER  " + url.PathEscape(signed) + " ", ""},
		{"Bearer " + signed, "Basic x"}, {"Bearer " + signed + "x", ""}, {"Bearer " + raw + ".AAAA=", ""},
		{"Bearer a.b.c", ""}, {"Bearer %zz.x", ""}, {"Bearer " + strings.Repeat("a", 5000), ""},
		{"Bearer", ""}, {"Bearer ", "Bearer " + signed}, {"Basic " + signed, ""},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		req := httptest.NewRequest(http.MethodGet, "http://app.example/x", nil)
		req.Header["Authorization"] = []string{a}
		if b != "" {
			req.Header["Authorization"] = append(req.Header["Authorization"], b)
		}
		p, err := h.Engine.Authenticate(req)
		if err != nil {
			var e *authcore.Error
			if !errors.As(err, &e) || e.Status < 400 || e.Status >= 500 {
				t.Fatalf("%q %q: not a 4xx refusal: %v", a, b, err)
			}
			return
		}
		if p == nil {
			return
		}
		if b != "" {
			t.Fatalf("authenticated from two Authorization lines %q %q", a, b)
		}
		dec, derr := url.PathUnescape(a)
		if p.UserID != uid || !strings.Contains(a, raw) && (derr != nil || !strings.Contains(dec, raw)) {
			t.Fatalf("%q authenticated as %q without the real token", a, p.UserID)
		}
	})
}
