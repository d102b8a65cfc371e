package authcore_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
)

// PeekOAuthState reads a state without the browser binding and without redeeming it: a
// later TakeOAuthState in the right browser still succeeds once, an unknown or expired
// state peeks as nil.
func TestPeekOAuthState(t *testing.T) {
	probe := &probePlugin{id: "peek", reg: func(r *authcore.Registrar) error {
		if err := r.Endpoint(authcore.Endpoint{Method: "POST", Path: "/peek/new", BodyOptional: true, Handler: func(c *authcore.Call) (any, error) {
			s, err := c.NewOAuthState(authcore.OAuthState{ProviderID: "p", Data: map[string]string{"req": "id-1"}})
			return map[string]any{"state": s}, err
		}}); err != nil {
			return err
		}
		if err := r.Endpoint(authcore.Endpoint{Method: "GET", Path: "/peek/look", Query: []authcore.Param{authcore.String("state")}, Handler: func(c *authcore.Call) (any, error) {
			st, err := c.PeekOAuthState(c.Query.String("state"))
			if err != nil || st == nil {
				return map[string]any{"found": false}, err
			}
			return map[string]any{"found": true, "req": st.Data["req"]}, nil
		}}); err != nil {
			return err
		}
		return r.Endpoint(authcore.Endpoint{Method: "GET", Path: "/peek/take", Query: []authcore.Param{authcore.String("state")}, Handler: func(c *authcore.Call) (any, error) {
			st, err := c.TakeOAuthState(c.Query.String("state"))
			if err != nil {
				return map[string]any{"ok": false, "err": err.Error()}, nil
			}
			return map[string]any{"ok": true, "provider": st.ProviderID}, nil
		}})
	}}
	h := authcoretest.New(t, authcoretest.WithPlugins(probe))
	owner, other := h.Client(), h.Client()
	state, _ := owner.Post("/peek/new", nil).Object()["state"].(string)
	if state == "" {
		t.Fatal("no state")
	}
	for i := 0; i < 2; i++ { // another browser may peek, repeatedly, without consuming it
		r := other.Get("/peek/look?state=" + state)
		if r.StatusCode != http.StatusOK || r.Object()["found"] != true || r.Object()["req"] != "id-1" {
			t.Fatalf("peek: %d %s", r.StatusCode, r.Body)
		}
	}
	if r := other.Get("/peek/look?state=nope"); r.Object()["found"] != false {
		t.Fatalf("unknown state peeked: %s", r.Body)
	}
	if r := other.Get("/peek/take?state=" + state); r.Object()["ok"] != false {
		t.Fatalf("another browser took the state: %s", r.Body)
	}
	if r := owner.Get("/peek/take?state=" + state); r.Object()["ok"] != true {
		t.Fatalf("owner take after peeks: %s", r.Body)
	}
	if r := owner.Get("/peek/look?state=" + state); r.Object()["found"] != false {
		t.Fatalf("consumed state still peeks: %s", r.Body)
	}
	state2, _ := owner.Post("/peek/new", nil).Object()["state"].(string)
	h.Clock.Advance(authcore.OAuthStateTTL + time.Second)
	if r := owner.Get("/peek/look?state=" + state2); r.Object()["found"] != false {
		t.Fatalf("expired state peeks: %s", r.Body)
	}
}
