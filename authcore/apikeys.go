package authcore

import (
	"context"
	"time"
)

// APIKeyID is the api-key plugin's ID, under which it publishes its [APIKeyAdmin]
// (Engine.Plugin(APIKeyID)).
const APIKeyID = "api-key"

// APIKeyAdmin is the api-key plugin's trusted-caller API: what Better Auth lets only its
// in-process server instance do (set a key's owner, quota, refill, rate limit and
// permissions). Gatehouse has no in-process server caller, so the admin API and the
// `gatehouse apikey` CLI reach it through this contract; the HTTP routes never do
// (CVE-2025-61928).
type APIKeyAdmin interface {
	// CreateAPIKey creates a key and returns its public JSON, the only time it includes
	// the plaintext "key".
	CreateAPIKey(ctx context.Context, p APIKeyParams) (map[string]any, error)
	// UpdateAPIKey changes the fields set in p (nil pointers and empty values keep theirs).
	UpdateAPIKey(ctx context.Context, id string, p APIKeyParams) (map[string]any, error)
	// ListAPIKeys lists a user's keys (all keys when userID is empty), without plaintext.
	ListAPIKeys(ctx context.Context, userID string) ([]map[string]any, error)
	// DeleteAPIKey revokes a key; an unknown id is a 404 *Error.
	DeleteAPIKey(ctx context.Context, id string) error
}

// APIKeyParams are the fields a trusted caller may set on a key. For updates, nil pointers,
// empty strings and nil maps mean "unchanged".
type APIKeyParams struct {
	UserID              string // owner; required on create unless OrganizationID is set
	OrganizationID      string // organization-owned key (authenticates as the organization)
	Name                string
	Prefix              string
	ExpiresIn           *time.Duration // 0 means "never expires"
	Enabled             *bool
	Remaining           *int64 // quota; nil: unlimited
	RefillAmount        *int64
	RefillInterval      *time.Duration
	RateLimitEnabled    *bool
	RateLimitTimeWindow *time.Duration
	RateLimitMax        *int64
	Permissions         map[string][]string
	Metadata            map[string]any
}
