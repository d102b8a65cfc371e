package caddymodule

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
)

// fakeAPIKeys stands in for the api-key plugin: it publishes authcore.APIKeyAdmin under
// authcore.APIKeyID, as the real plugin does, and records every call.
type fakeAPIKeys struct {
	mu    sync.Mutex
	calls []apiKeyCall
	keys  map[string]map[string]any // id → public JSON
	fail  error                     // returned by the next call when set
}

type apiKeyCall struct {
	op     string
	id     string // update, delete
	userID string // list
	params authcore.APIKeyParams
}

func (*fakeAPIKeys) ID() string { return authcore.APIKeyID }

func (f *fakeAPIKeys) Register(r *authcore.Registrar) error {
	r.Provide(authcore.APIKeyAdmin(f))
	return nil
}

var errKeyNotFound = &authcore.Error{Status: http.StatusNotFound, Code: "KEY_NOT_FOUND", Message: "API Key not found"}

func (f *fakeAPIKeys) record(c apiKeyCall) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, c)
	err := f.fail
	f.fail = nil
	return err
}

func (f *fakeAPIKeys) last(t *testing.T) apiKeyCall {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) == 0 {
		t.Fatal("the plugin was not called")
	}
	return f.calls[len(f.calls)-1]
}

func (f *fakeAPIKeys) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

func (f *fakeAPIKeys) CreateAPIKey(_ context.Context, p authcore.APIKeyParams) (map[string]any, error) {
	if err := f.record(apiKeyCall{op: "create", params: p}); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	id := "key-" + string(rune('a'+len(f.keys)))
	f.keys[id] = map[string]any{"id": id, "name": p.Name, "userId": p.UserID, "start": p.Prefix + "abcd"}
	out := map[string]any{"key": p.Prefix + "abcdSECRET"}
	for k, v := range f.keys[id] {
		out[k] = v
	}
	return out, nil
}

func (f *fakeAPIKeys) UpdateAPIKey(_ context.Context, id string, p authcore.APIKeyParams) (map[string]any, error) {
	if err := f.record(apiKeyCall{op: "update", id: id, params: p}); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	k, ok := f.keys[id]
	if !ok {
		return nil, errKeyNotFound
	}
	if p.Name != "" {
		k["name"] = p.Name
	}
	return k, nil
}

func (f *fakeAPIKeys) ListAPIKeys(_ context.Context, userID string) ([]map[string]any, error) {
	if err := f.record(apiKeyCall{op: "list", userID: userID}); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []map[string]any
	for _, k := range f.keys {
		if userID == "" || k["userId"] == userID {
			out = append(out, k)
		}
	}
	return out, nil
}

func (f *fakeAPIKeys) DeleteAPIKey(_ context.Context, id string) error {
	if err := f.record(apiKeyCall{op: "delete", id: id}); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.keys[id]; !ok {
		return errKeyNotFound
	}
	delete(f.keys, id)
	return nil
}

func newAPIKeyHarness(t *testing.T) (*adminHarness, *fakeAPIKeys) {
	t.Helper()
	fk := &fakeAPIKeys{keys: map[string]map[string]any{}}
	h := authcoretest.New(t, authcoretest.WithPlugins(fk))
	return &adminHarness{t: t, h: h, api: &AdminAPI{engine: func() (*authcore.Engine, error) { return h.Engine, nil }}}, fk
}

func ptr[T any](v T) *T { return &v }

// Without the api-key plugin every API-key route says so with a 404; a wrong method is
// still a 405.
func TestAdminAPIKeysWithoutPlugin(t *testing.T) {
	a := newAdminHarness(t)
	for _, c := range []struct{ method, path string }{
		{"POST", "/gatehouse/api-keys"}, {"GET", "/gatehouse/api-keys"}, {"GET", "/gatehouse/api-keys?user=x@example.com"},
		{"PATCH", "/gatehouse/api-keys/k1"}, {"DELETE", "/gatehouse/api-keys/k1"},
	} {
		a.call(c.method, c.path, map[string]any{"user": "x@example.com"}).expect(t, http.StatusNotFound, "the api-key plugin is not enabled: add api_key")
	}
	r := a.call("PUT", "/gatehouse/api-keys", nil).expect(t, http.StatusMethodNotAllowed, "")
	if r.header.Get("Allow") != "GET, POST" {
		t.Errorf("Allow %q", r.header.Get("Allow"))
	}
	a.call("GET", "/gatehouse/api-keys/k1", nil).expect(t, http.StatusMethodNotAllowed, "")
	a.call("GET", "/gatehouse/api-keys/k1/extra", nil).expect(t, http.StatusNotFound, "unknown gatehouse admin endpoint")
}

func TestAdminCreateAPIKey(t *testing.T) {
	a, fk := newAPIKeyHarness(t)
	u := a.createUser("ada@example.com", "")
	r := a.call("POST", "/gatehouse/api-keys", map[string]any{
		"user": "ADA@example.com", "name": "ci", "prefix": "gh_", "expiresIn": "30d",
		"remaining": 100, "refillAmount": 50, "refillInterval": "1d",
		"rateLimitEnabled": true, "rateLimitTimeWindow": "1m", "rateLimitMax": 10, "enabled": true,
		"permissions": map[string][]string{"files": {"read", "write"}, "reports": {"export"}},
		"metadata":    map[string]any{"team": "infra", "n": 2},
	}).expect(t, http.StatusCreated, "")
	if r.body["key"] != "gh_abcdSECRET" || r.body["id"] == "" {
		t.Errorf("answer %v lacks the plaintext key or id", r.body)
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("answer with a plaintext key is cacheable: %q", r.header.Get("Cache-Control"))
	}
	want := authcore.APIKeyParams{
		UserID: u["id"].(string), Name: "ci", Prefix: "gh_", ExpiresIn: ptr(30 * 24 * time.Hour), Enabled: ptr(true),
		Remaining: ptr[int64](100), RefillAmount: ptr[int64](50), RefillInterval: ptr(24 * time.Hour),
		RateLimitEnabled: ptr(true), RateLimitTimeWindow: ptr(time.Minute), RateLimitMax: ptr[int64](10),
		Permissions: map[string][]string{"files": {"read", "write"}, "reports": {"export"}},
		Metadata:    map[string]any{"team": "infra", "n": float64(2)},
	}
	if got := fk.last(t); got.op != "create" || !reflect.DeepEqual(got.params, want) {
		t.Errorf("plugin got %+v\nwant %+v", got.params, want)
	}

	// Minimal: a user id, nothing else set; "never" is an explicit no-expiry.
	a.call("POST", "/gatehouse/api-keys", map[string]any{"user": u["id"]}).expect(t, http.StatusCreated, "")
	if got := fk.last(t).params; !reflect.DeepEqual(got, authcore.APIKeyParams{UserID: u["id"].(string)}) {
		t.Errorf("minimal create passed %+v", got)
	}
	a.call("POST", "/gatehouse/api-keys", map[string]any{"user": u["id"], "expiresIn": "never"}).expect(t, http.StatusCreated, "")
	if got := fk.last(t).params.ExpiresIn; got == nil || *got != 0 {
		t.Errorf("expiresIn never passed %v", got)
	}
	// An organization-owned key needs no user.
	a.call("POST", "/gatehouse/api-keys", map[string]any{"organizationId": "org-1", "name": "deploy"}).expect(t, http.StatusCreated, "")
	if got := fk.last(t).params; got.OrganizationID != "org-1" || got.UserID != "" {
		t.Errorf("organization key passed %+v", got)
	}
}

func TestAdminCreateAPIKeyErrors(t *testing.T) {
	a, fk := newAPIKeyHarness(t)
	a.createUser("ada@example.com", "")
	tests := []struct {
		name   string
		body   any
		status int
		msg    string
	}{
		{"no owner", map[string]any{"name": "x"}, 400, "an owner is required"},
		{"unknown user", map[string]any{"user": "nobody@example.com"}, 404, `user "nobody@example.com" not found`},
		{"unknown field", map[string]any{"user": "ada@example.com", "expires_in": "1d"}, 400, `unknown field "expires_in"`},
		{"duration as a number", map[string]any{"user": "ada@example.com", "expiresIn": 86400}, 400, "decoding request body"},
		{"bad duration", map[string]any{"user": "ada@example.com", "expiresIn": "soon"}, 400, `expiresIn: "soon" is not a duration`},
		{"negative duration", map[string]any{"user": "ada@example.com", "expiresIn": "-1h"}, 400, "expiresIn: \"-1h\" is negative"},
		{"zero refill interval", map[string]any{"user": "ada@example.com", "refillInterval": "0s"}, 400, "refillInterval: must be longer than zero"},
		{"never is only for expiry", map[string]any{"user": "ada@example.com", "rateLimitTimeWindow": "never"}, 400, "rateLimitTimeWindow: \"never\" is not a duration"},
		{"negative remaining", map[string]any{"user": "ada@example.com", "remaining": -1}, 400, "remaining: -1 is negative"},
		{"fractional remaining", map[string]any{"user": "ada@example.com", "remaining": 1.5}, 400, "decoding request body"},
		{"permissions as a list", map[string]any{"user": "ada@example.com", "permissions": []string{"files:read"}}, 400, "decoding request body"},
		{"empty resource", map[string]any{"user": "ada@example.com", "permissions": map[string][]string{"": {"read"}}}, 400, "empty resource name"},
		{"empty action", map[string]any{"user": "ada@example.com", "permissions": map[string][]string{"files": {" "}}}, 400, `empty action name under "files"`},
		{"not JSON", "user=ada", 400, "decoding request body"},
		{"trailing data", `{"user":"ada@example.com"} {}`, 400, "unexpected data after the JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a.call("POST", "/gatehouse/api-keys", tt.body).expect(t, tt.status, tt.msg)
		})
	}
	if n := fk.count(); n != 0 {
		t.Fatalf("the plugin was called %d times for refused requests", n)
	}
	// The plugin's own refusals keep their status, message and code; its failures are 500.
	fk.fail = &authcore.Error{Status: http.StatusBadRequest, Code: "INVALID_PREFIX", Message: "Invalid prefix"}
	a.call("POST", "/gatehouse/api-keys", map[string]any{"user": "ada@example.com", "prefix": "!"}).expect(t, http.StatusBadRequest, "creating API key: Invalid prefix (INVALID_PREFIX)")
	fk.fail = errors.New("disk on fire")
	a.call("POST", "/gatehouse/api-keys", map[string]any{"user": "ada@example.com"}).expect(t, http.StatusInternalServerError, "")
}

func TestAdminUpdateAPIKey(t *testing.T) {
	a, fk := newAPIKeyHarness(t)
	a.createUser("ada@example.com", "")
	id := a.call("POST", "/gatehouse/api-keys", map[string]any{"user": "ada@example.com", "name": "old"}).expect(t, http.StatusCreated, "").body["id"].(string)

	r := a.call("PATCH", "/gatehouse/api-keys/"+id, map[string]any{
		"name": "new", "enabled": false, "remaining": 5, "refillInterval": "12h", "rateLimitEnabled": false,
		"permissions": map[string][]string{"files": {"read"}}, "remaining_typo": nil,
	})
	r.expect(t, http.StatusBadRequest, `unknown field "remaining_typo"`)
	r = a.call("PATCH", "/gatehouse/api-keys/"+id, map[string]any{
		"name": "new", "enabled": false, "remaining": 5, "refillInterval": "12h", "rateLimitEnabled": false,
		"permissions": map[string][]string{"files": {"read"}}, "rateLimitMax": nil,
	}).expect(t, http.StatusOK, "")
	if r.body["name"] != "new" || r.body["key"] != nil {
		t.Errorf("answer %v", r.body)
	}
	want := authcore.APIKeyParams{Name: "new", Enabled: ptr(false), Remaining: ptr[int64](5), RefillInterval: ptr(12 * time.Hour),
		RateLimitEnabled: ptr(false), Permissions: map[string][]string{"files": {"read"}}}
	if got := fk.last(t); got.op != "update" || got.id != id || !reflect.DeepEqual(got.params, want) {
		t.Errorf("plugin got %s %s %+v\nwant %+v", got.op, got.id, got.params, want)
	}
	// An empty permissions object is a change (no permissions left), not "unchanged".
	a.call("PATCH", "/gatehouse/api-keys/"+id, map[string]any{"permissions": map[string][]string{}}).expect(t, http.StatusOK, "")
	if got := fk.last(t).params.Permissions; got == nil || len(got) != 0 {
		t.Errorf("empty permissions passed as %#v", got)
	}

	calls := fk.count()
	a.call("PATCH", "/gatehouse/api-keys/"+id, map[string]any{}).expect(t, http.StatusBadRequest, "nothing to update")
	a.call("PATCH", "/gatehouse/api-keys/"+id, map[string]any{"user": "bob@example.com"}).expect(t, http.StatusBadRequest, "owner of an API key cannot be changed")
	a.call("PATCH", "/gatehouse/api-keys/"+id, map[string]any{"organizationId": "o"}).expect(t, http.StatusBadRequest, "owner of an API key cannot be changed")
	a.call("PATCH", "/gatehouse/api-keys/"+id, map[string]any{"rateLimitTimeWindow": "0"}).expect(t, http.StatusBadRequest, "must be longer than zero")
	if fk.count() != calls {
		t.Errorf("refused updates reached the plugin")
	}
	a.call("PATCH", "/gatehouse/api-keys/nope", map[string]any{"name": "x"}).expect(t, http.StatusNotFound, "updating API key: API Key not found (KEY_NOT_FOUND)")
}

func TestAdminListAndRevokeAPIKeys(t *testing.T) {
	a, fk := newAPIKeyHarness(t)
	ada := a.createUser("ada@example.com", "")
	a.createUser("bob@example.com", "")

	r := a.call("GET", "/gatehouse/api-keys?user=ada@example.com", nil).expect(t, http.StatusOK, "")
	if keys, ok := r.body["apiKeys"].([]any); !ok || len(keys) != 0 {
		t.Errorf("no keys listed as %v, want []", r.body["apiKeys"])
	}
	if got := fk.last(t); got.op != "list" || got.userID != ada["id"] {
		t.Errorf("list passed %+v", got)
	}
	if u, _ := r.body["user"].(map[string]any); u["email"] != "ada@example.com" {
		t.Errorf("list answer user %v", r.body["user"])
	}
	id := a.call("POST", "/gatehouse/api-keys", map[string]any{"user": "ada@example.com"}).expect(t, http.StatusCreated, "").body["id"].(string)
	a.call("POST", "/gatehouse/api-keys", map[string]any{"user": "bob@example.com"}).expect(t, http.StatusCreated, "")
	r = a.call("GET", "/gatehouse/api-keys?user="+ada["id"].(string), nil).expect(t, http.StatusOK, "")
	if keys, _ := r.body["apiKeys"].([]any); len(keys) != 1 || keys[0].(map[string]any)["id"] != id || keys[0].(map[string]any)["key"] != nil {
		t.Errorf("ada's keys %v", r.body["apiKeys"])
	}
	// Without ?user= every key is listed.
	r = a.call("GET", "/gatehouse/api-keys", nil).expect(t, http.StatusOK, "")
	if keys, _ := r.body["apiKeys"].([]any); len(keys) != 2 || fk.last(t).userID != "" || r.body["user"] != nil {
		t.Errorf("all keys %v (user %q)", r.body, fk.last(t).userID)
	}
	a.call("GET", "/gatehouse/api-keys?user=nobody@example.com", nil).expect(t, http.StatusNotFound, "not found")

	r = a.call("DELETE", "/gatehouse/api-keys/"+id, nil).expect(t, http.StatusOK, "")
	if r.body["revoked"] != float64(1) || r.body["id"] != id {
		t.Errorf("revoke answer %v", r.body)
	}
	if got := fk.last(t); got.op != "delete" || got.id != id {
		t.Errorf("revoke passed %+v", got)
	}
	a.call("DELETE", "/gatehouse/api-keys/"+id, nil).expect(t, http.StatusNotFound, "revoking API key: API Key not found (KEY_NOT_FOUND)")
}
