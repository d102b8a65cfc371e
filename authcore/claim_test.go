package authcore_test

import (
	"context"
	"testing"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// TestClaimEmail: the proven owner of an unverified account's address gets it stripped of
// everything attached before the proof — password account, sessions, and the records of
// declared credential models — and verified; a verified account is left alone.
func TestClaimEmail(t *testing.T) {
	keys := &probePlugin{id: "keys", reg: func(r *authcore.Registrar) error {
		if err := r.Model(storage.Model{Name: "probeKey", Fields: []storage.Field{
			{Name: "userId", Type: storage.TypeString, Required: true, Indexed: true},
		}}); err != nil {
			return err
		}
		if err := r.Extend(authcore.ModelUser, storage.Field{Name: "probeKeyEnabled", Type: storage.TypeBoolean}); err != nil {
			return err
		}
		r.Credential("probeKey", "userId", "probeKeyEnabled")
		return nil
	}}
	h := authcoretest.New(t, authcoretest.WithPlugins(keys))
	ctx, e := context.Background(), h.Engine
	st := e.Store()
	count := func(model, userID string) int {
		n, err := st.Count(ctx, model, storage.Eq("userId", userID))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	userID := func(body map[string]any) string { return body["user"].(map[string]any)["id"].(string) }
	_, sq := h.SignUp("Squatter", "owner@example.com", "squatter-passphrase-1")
	_, kept := h.SignUp("Kept", "kept@example.com", "kept-passphrase-1")
	squatter, verified := userID(sq), userID(kept)
	for _, id := range []string{squatter, verified} {
		if _, err := st.Create(ctx, "probeKey", storage.Record{"id": "key-" + id, "userId": id}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.UpdateUser(ctx, verified, storage.Record{"emailVerified": true, "probeKeyEnabled": true}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.UpdateUser(ctx, squatter, storage.Record{"probeKeyEnabled": true}); err != nil {
		t.Fatal(err)
	}

	u, err := e.ClaimEmail(ctx, squatter)
	if err != nil || u == nil || !u.Bool("emailVerified") || u.Bool("probeKeyEnabled") {
		t.Fatalf("claim: %v %v", u, err)
	}
	for _, m := range []string{authcore.ModelAccount, authcore.ModelSession, "probeKey"} {
		if n := count(m, squatter); n != 0 {
			t.Errorf("%d %s records survived the claim", n, m)
		}
	}
	u, err = e.ClaimEmail(ctx, verified)
	if err != nil || u == nil || !u.Bool("probeKeyEnabled") {
		t.Fatalf("claim of a verified user: %v %v", u, err)
	}
	for _, m := range []string{authcore.ModelAccount, authcore.ModelSession, "probeKey"} {
		if n := count(m, verified); n != 1 {
			t.Errorf("verified user: %d %s records, want 1", n, m)
		}
	}
	if u, err := e.ClaimEmail(ctx, "no-such-user"); u != nil || err != nil {
		t.Fatalf("unknown user: %v %v", u, err)
	}
}
