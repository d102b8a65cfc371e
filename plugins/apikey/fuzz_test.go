package apikey_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/plugins/apikey"
)

// FuzzAPIKeyGateway sends hostile x-api-key headers (one or two lines) to the gateway. It
// must never panic nor fail internally (a refusal is a 4xx *authcore.Error), two key lines
// are never accepted, and a principal comes back only for exactly the real key (surrounding
// whitespace aside), as its owner.
func FuzzAPIKeyGateway(f *testing.F) {
	h := authcoretest.New(f, authcoretest.WithPlugins(&apikey.Plugin{DefaultPrefix: "gh_"}))
	c, u := h.SignUp("A", "fuzz@example.com", pw)
	r := c.Post(apikey.PathCreate, map[string]any{"name": "ci"})
	key, _ := r.Object()["key"].(string)
	uid := userID(u)
	if key == "" || uid == "" {
		f.Fatalf("create: %d %s", r.StatusCode, r.Body)
	}
	for _, s := range [][2]string{
		{key, ""}, {" " + key + "\t", ""}, {key, key}, {key + "x", ""}, {key[:len(key)-1], ""},
		{strings.ToUpper(key), ""}, {"gh_", ""}, {"", ""}, {strings.Repeat("k", 10000), ""}, {"\x00", ""},
		{"Bearer " + key, ""},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		req := gwReq("")
		req.Header["X-Api-Key"] = []string{a}
		if b != "" {
			req.Header["X-Api-Key"] = append(req.Header["X-Api-Key"], b)
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
			if b == "" && strings.TrimSpace(a) == key {
				t.Fatalf("real key %q not accepted", a)
			}
			return
		}
		if b != "" || strings.TrimSpace(a) != key || p.UserID != uid {
			t.Fatalf("%q %q authenticated as %q (%s)", a, b, p.UserID, p.Method)
		}
		if p.Method != "api-key" {
			t.Fatalf("method %q", p.Method)
		}
	})
}
