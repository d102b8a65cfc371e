package caddymodule

import (
	"net/http"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/gatehouse-auth/gatehouse/authcore"
)

// The API-key routes of the admin API. They reach the api-key plugin only through its
// trusted-caller contract, authcore.APIKeyAdmin (Engine.Plugin(authcore.APIKeyID)): setting a
// key's owner, quota, refill, rate limit and permissions is what Better Auth allows only its
// in-process server caller, never an HTTP client (CVE-2025-61928).
//
//	POST   /gatehouse/api-keys              {"user"|"organizationId", "name", ...} → 201 key, with its plaintext "key" (shown once)
//	GET    /gatehouse/api-keys?user={user}  {"apiKeys": [...]} (every key without ?user=; never plaintext)
//	PATCH  /gatehouse/api-keys/{id}         {fields to change} → key
//	DELETE /gatehouse/api-keys/{id}         {"revoked": 1, "id": id}
//
// Body fields (all optional except an owner on create):
//
//	user                 owner: a user id or an email address (create only)
//	organizationId       organization-owned key (create only)
//	name, prefix         strings
//	expiresIn            duration ("30d", "12h"); "never" or "0" for no expiry
//	enabled              bool
//	remaining            quota: requests left (integer ≥ 0)
//	refillAmount         integer ≥ 0, with refillInterval (duration > 0)
//	rateLimitEnabled     bool, with rateLimitTimeWindow (duration > 0) and rateLimitMax (integer ≥ 0)
//	permissions          {"resource": ["action", ...]}
//	metadata             any JSON object
//
// Durations are strings in Caddy's syntax (Go's plus "d" for days), never bare numbers:
// Better Auth counts expiresIn in seconds and the other two in milliseconds, a mix the admin
// API does not repeat. On update an absent or null field keeps its value.

// apiKeysPath is the admin API collection of API keys, under AdminPrefix.
const apiKeysPath = "api-keys"

// apiKeyBody is the JSON body of the create and update routes.
type apiKeyBody struct {
	User                string              `json:"user"`
	OrganizationID      string              `json:"organizationId"`
	Name                string              `json:"name"`
	Prefix              string              `json:"prefix"`
	ExpiresIn           *string             `json:"expiresIn"`
	Enabled             *bool               `json:"enabled"`
	Remaining           *int64              `json:"remaining"`
	RefillAmount        *int64              `json:"refillAmount"`
	RefillInterval      *string             `json:"refillInterval"`
	RateLimitEnabled    *bool               `json:"rateLimitEnabled"`
	RateLimitTimeWindow *string             `json:"rateLimitTimeWindow"`
	RateLimitMax        *int64              `json:"rateLimitMax"`
	Permissions         map[string][]string `json:"permissions"`
	Metadata            map[string]any      `json:"metadata"`
}

// apiKeyAdmin returns the api-key plugin's trusted-caller API, or a 404 saying the plugin is
// not enabled.
func (q *adminRequest) apiKeyAdmin() (authcore.APIKeyAdmin, error) {
	v, ok := q.e.Plugin(authcore.APIKeyID)
	if a, isAdmin := v.(authcore.APIKeyAdmin); ok && isAdmin {
		return a, nil
	}
	return nil, apiErr(http.StatusNotFound, "the api-key plugin is not enabled: add api_key to the gatehouse global options")
}

// serveAPIKeys dispatches the API-key routes; parts is the path below AdminPrefix, starting
// with apiKeysPath.
func (q *adminRequest) serveAPIKeys(parts []string) error {
	switch len(parts) {
	case 1:
		switch q.r.Method {
		case http.MethodGet, http.MethodPost:
		default:
			return q.allow(http.MethodGet, http.MethodPost)
		}
	case 2:
		switch q.r.Method {
		case http.MethodPatch, http.MethodDelete:
		default:
			return q.allow(http.MethodPatch, http.MethodDelete)
		}
		if parts[1] == "" {
			return apiErr(http.StatusBadRequest, "no API key id given")
		}
	default:
		return apiErr(http.StatusNotFound, "unknown gatehouse admin endpoint %s", q.r.URL.Path)
	}
	ak, err := q.apiKeyAdmin()
	if err != nil {
		return err
	}
	switch {
	case len(parts) == 1 && q.r.Method == http.MethodGet:
		return q.listAPIKeys(ak)
	case len(parts) == 1:
		return q.createAPIKey(ak)
	case q.r.Method == http.MethodPatch:
		return q.updateAPIKey(ak, parts[1])
	default:
		return q.revokeAPIKey(ak, parts[1])
	}
}

func (q *adminRequest) createAPIKey(ak authcore.APIKeyAdmin) error {
	var in apiKeyBody
	if err := q.decode(&in); err != nil {
		return err
	}
	p, err := in.params()
	if err != nil {
		return err
	}
	if in.User == "" && in.OrganizationID == "" {
		return apiErr(http.StatusBadRequest, "an owner is required: user (an id or an email address) or organizationId")
	}
	if in.User != "" {
		u, err := q.findUser(in.User)
		if err != nil {
			return err
		}
		p.UserID = u.ID()
	}
	p.OrganizationID = in.OrganizationID
	key, err := ak.CreateAPIKey(q.ctx(), p)
	if err != nil {
		return engineError("creating API key", err)
	}
	id, _ := key["id"].(string)
	q.audit(authcore.AuditAdminAPIKeyCreate, p.UserID, "key_id", id, "organization_id", p.OrganizationID)
	q.w.Header().Set("Cache-Control", "no-store") // the answer carries the plaintext key
	return q.reply(http.StatusCreated, key)
}

func (q *adminRequest) updateAPIKey(ak authcore.APIKeyAdmin, id string) error {
	var in apiKeyBody
	if err := q.decode(&in); err != nil {
		return err
	}
	if in.User != "" || in.OrganizationID != "" {
		return apiErr(http.StatusBadRequest, "the owner of an API key cannot be changed: create a new key for the new owner and revoke this one")
	}
	p, err := in.params()
	if err != nil {
		return err
	}
	if p.Name == "" && p.Prefix == "" && p.ExpiresIn == nil && p.Enabled == nil && p.Remaining == nil && p.RefillAmount == nil &&
		p.RefillInterval == nil && p.RateLimitEnabled == nil && p.RateLimitTimeWindow == nil && p.RateLimitMax == nil &&
		p.Permissions == nil && p.Metadata == nil {
		return apiErr(http.StatusBadRequest, "nothing to update: give at least one field")
	}
	key, err := ak.UpdateAPIKey(q.ctx(), id, p)
	if err != nil {
		return engineError("updating API key", err)
	}
	q.audit(authcore.AuditAdminAPIKeyUpdate, "", "key_id", id)
	return q.reply(http.StatusOK, key)
}

func (q *adminRequest) listAPIKeys(ak authcore.APIKeyAdmin) error {
	out := map[string]any{}
	userID := ""
	if ref := q.r.URL.Query().Get("user"); ref != "" {
		u, err := q.findUser(ref)
		if err != nil {
			return err
		}
		userID = u.ID()
		out["user"] = q.userJSON(u)
	}
	keys, err := ak.ListAPIKeys(q.ctx(), userID)
	if err != nil {
		return engineError("listing API keys", err)
	}
	if keys == nil {
		keys = []map[string]any{}
	}
	out["apiKeys"] = keys
	return q.reply(http.StatusOK, out)
}

func (q *adminRequest) revokeAPIKey(ak authcore.APIKeyAdmin, id string) error {
	if err := ak.DeleteAPIKey(q.ctx(), id); err != nil {
		return engineError("revoking API key", err)
	}
	q.audit(authcore.AuditAdminAPIKeyDelete, "", "key_id", id)
	return q.reply(http.StatusOK, map[string]any{"revoked": 1, "id": id})
}

// params checks the body's values and converts them to the plugin's parameters (owner
// excepted).
func (in *apiKeyBody) params() (authcore.APIKeyParams, error) {
	p := authcore.APIKeyParams{
		Name: in.Name, Prefix: in.Prefix, Enabled: in.Enabled, Remaining: in.Remaining,
		RefillAmount: in.RefillAmount, RateLimitEnabled: in.RateLimitEnabled, RateLimitMax: in.RateLimitMax,
		Permissions: in.Permissions, Metadata: in.Metadata,
	}
	var err error
	if p.ExpiresIn, err = parseAdminDuration("expiresIn", in.ExpiresIn, true); err != nil {
		return p, err
	}
	if p.RefillInterval, err = parseAdminDuration("refillInterval", in.RefillInterval, false); err != nil {
		return p, err
	}
	if p.RateLimitTimeWindow, err = parseAdminDuration("rateLimitTimeWindow", in.RateLimitTimeWindow, false); err != nil {
		return p, err
	}
	for name, v := range map[string]*int64{"remaining": in.Remaining, "refillAmount": in.RefillAmount, "rateLimitMax": in.RateLimitMax} {
		if v != nil && *v < 0 {
			return p, apiErr(http.StatusBadRequest, "%s: %d is negative", name, *v)
		}
	}
	if err := checkPermissions(in.Permissions); err != nil {
		return p, err
	}
	return p, nil
}

// parseAdminDuration reads an optional duration string; zero (or "never") is allowed only
// where it means "no expiry".
func parseAdminDuration(name string, s *string, zeroOK bool) (*time.Duration, error) {
	if s == nil {
		return nil, nil
	}
	v := strings.TrimSpace(*s)
	var d time.Duration
	if !(zeroOK && v == "never") {
		var err error
		d, err = caddy.ParseDuration(v)
		if err != nil {
			return nil, apiErr(http.StatusBadRequest, "%s: %q is not a duration (such as \"30d\", \"12h\", \"90s\")", name, *s)
		}
	}
	switch {
	case d < 0:
		return nil, apiErr(http.StatusBadRequest, "%s: %q is negative", name, *s)
	case d == 0 && !zeroOK:
		return nil, apiErr(http.StatusBadRequest, "%s: must be longer than zero", name)
	}
	return &d, nil
}

// checkPermissions refuses empty resource or action names, which no rule could name.
func checkPermissions(perms map[string][]string) error {
	for res, actions := range perms {
		if strings.TrimSpace(res) == "" {
			return apiErr(http.StatusBadRequest, "permissions: empty resource name")
		}
		for _, a := range actions {
			if strings.TrimSpace(a) == "" {
				return apiErr(http.StatusBadRequest, "permissions: empty action name under %q", res)
			}
		}
	}
	return nil
}
