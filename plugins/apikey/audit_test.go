package apikey_test

import (
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/plugins/apikey"
)

// Creating, updating and deleting a key are one event each, naming the key's id, never
// the key.
func TestAuditAPIKeyEvents(t *testing.T) {
	h := newHarness(t, nil)
	c, u := h.SignUp("A", "a@example.com", pw)
	uid := userID(u)
	k := create(t, c, map[string]any{"name": "ci"})
	key, id := k["key"].(string), k["id"].(string)
	if r := c.Post(apikey.PathUpdate, map[string]any{"keyId": id, "name": "ci2"}); r.StatusCode != 200 {
		t.Fatalf("update: %d %s", r.StatusCode, r.Body)
	}
	if r := c.Post(apikey.PathDelete, map[string]any{"keyId": "nope"}); r.StatusCode != 404 {
		t.Fatalf("delete unknown: %d", r.StatusCode)
	}
	if r := c.Post(apikey.PathDelete, map[string]any{"keyId": id}); r.StatusCode != 200 {
		t.Fatalf("delete: %d", r.StatusCode)
	}
	for _, tc := range []struct {
		typ    string
		n      int
		result string
	}{{authcore.AuditAPIKeyCreate, 1, "success"}, {authcore.AuditAPIKeyUpdate, 1, "success"}, {authcore.AuditAPIKeyDelete, 2, "success"}} {
		recs := h.Audit.Of(tc.typ)
		if len(recs) != tc.n {
			t.Fatalf("%d %s events, want %d", len(recs), tc.typ, tc.n)
		}
		last := recs[len(recs)-1]
		d, _ := last["details"].(map[string]any)
		if last["actor"] != uid || last["result"] != tc.result || d["key_id"] != id {
			t.Errorf("%s event %v", tc.typ, last)
		}
	}
	if miss := h.Audit.Of(authcore.AuditAPIKeyDelete)[0]; miss["result"] != "failure" || miss["code"] != "KEY_NOT_FOUND" {
		t.Errorf("deleting an unknown key: %v", miss)
	}
	if log := h.Audit.Text(); strings.Contains(log, key) || strings.Contains(log, key[len(key)-20:]) || strings.Contains(log, pw) {
		t.Errorf("the audit log holds the key or the password:\n%s", log)
	}
}
