package apikey

import (
	"context"
	"errors"
	"net/http"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
)

var _ authcore.APIKeyAdmin = (*Plugin)(nil)

// CreateAPIKey implements authcore.APIKeyAdmin: a key for p.UserID (which must exist: 404
// USER_NOT_FOUND) or, when OrganizationID is set, for that organization. Every field may be
// set; the same name, prefix, expiry-range, refill and remaining rules as over HTTP apply.
// ExpiresIn nil: the default expiry; 0: never. Remaining nil with a refill: starts at
// RefillAmount. Permissions nil: the configured default permissions.
func (p *Plugin) CreateAPIKey(ctx context.Context, in authcore.APIKeyParams) (map[string]any, error) {
	if in.UserID == "" && in.OrganizationID == "" {
		return nil, ErrUnauthorizedSession.With(http.StatusBadRequest)
	}
	return p.createKey(ctx, in, nil, true)
}

// UpdateAPIKey implements authcore.APIKeyAdmin: sets the fields given in in (nil pointers,
// empty strings and nil maps keep theirs); ExpiresIn 0 removes the expiry. Setting
// Remaining replaces the stored quota and drops this node's unused lease. Unknown id: 404
// KEY_NOT_FOUND; nothing to change: 400 NO_VALUES_TO_UPDATE.
func (p *Plugin) UpdateAPIKey(ctx context.Context, id string, in authcore.APIKeyParams) (map[string]any, error) {
	rec, err := p.byID(ctx, id)
	if err != nil {
		return nil, err
	}
	now := p.engine.Clock().Now()
	set := storage.Record{}
	if in.Name != "" {
		if err := p.checkName(in.Name); err != nil {
			return nil, err
		}
		set[FieldName] = in.Name
	}
	if in.Prefix != "" { // display only: the key itself does not change
		if err := checkPrefix(in.Prefix); err != nil {
			return nil, err
		}
		set[FieldPrefix] = in.Prefix
	}
	switch {
	case in.OrganizationID != "":
		set[FieldReferenceID], set[FieldReferenceType] = in.OrganizationID, refOrganization
	case in.UserID != "":
		u, err := p.engine.UserByID(ctx, in.UserID)
		if err != nil {
			return nil, authcore.Internal(err)
		}
		if u == nil {
			return nil, authcore.CodeUserNotFound.With(http.StatusNotFound)
		}
		set[FieldReferenceID], set[FieldReferenceType] = in.UserID, refUser
	}
	if in.ExpiresIn != nil {
		switch {
		case *in.ExpiresIn == 0:
			set[FieldExpiresAt] = nil
		default:
			if err := p.checkExpiresIn(*in.ExpiresIn); err != nil {
				return nil, err
			}
			set[FieldExpiresAt] = now.Add(*in.ExpiresIn)
		}
	}
	if err := applyTrusted(set, in, now); err != nil {
		return nil, err
	}
	if in.Metadata != nil {
		set[FieldMetadata] = in.Metadata
	}
	if len(set) == 0 {
		return nil, bad(ErrNoValuesToUpdate)
	}
	return p.write(ctx, rec, set, now)
}

// ListAPIKeys implements authcore.APIKeyAdmin: a user's keys, or every key (users' and
// organizations') when userID is empty; never the plaintext or the digest.
func (p *Plugin) ListAPIKeys(ctx context.Context, userID string) ([]map[string]any, error) {
	q := storage.Query{Sort: []storage.SortField{{Field: FieldCreatedAt}}}
	if userID != "" {
		q.Where = storage.And(storage.Eq(FieldReferenceID, userID), storage.Ne(FieldReferenceType, refOrganization))
	}
	recs, err := p.engine.Store().FindMany(ctx, ModelAPIKey, q)
	if err != nil {
		return nil, authcore.Internal(err)
	}
	out := make([]map[string]any, 0, len(recs))
	for _, r := range recs {
		out = append(out, p.keyJSON(r))
	}
	return out, nil
}

// DeleteAPIKey implements authcore.APIKeyAdmin: revokes a key at once on this node (other
// nodes within their 5 s cache); unknown id: 404 KEY_NOT_FOUND.
func (p *Plugin) DeleteAPIKey(ctx context.Context, id string) error {
	rec, err := p.byID(ctx, id)
	if err != nil {
		return err
	}
	return p.remove(ctx, rec)
}

func (p *Plugin) byID(ctx context.Context, id string) (storage.Record, error) {
	if id == "" {
		return nil, notFound()
	}
	rec, err := p.engine.Store().FindOne(ctx, ModelAPIKey, storage.ByID(id))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, notFound()
	}
	if err != nil {
		return nil, authcore.Internal(err)
	}
	return rec, nil
}

// VerifyResult is Better Auth's verifyApiKey answer.
type VerifyResult struct {
	Valid bool            `json:"valid"`
	Error *authcore.Error `json:"error"`
	Key   map[string]any  `json:"key"`
}

// VerifyAPIKey is Better Auth's server-only verifyApiKey: it checks a key (and, when
// permissions is non-empty, that the key holds every listed action), spending one unit of
// its quota and rate limit like a proxied request does.
func (p *Plugin) VerifyAPIKey(ctx context.Context, key string, permissions map[string][]string) VerifyResult {
	e, err := p.verify(ctx, key, permissions)
	if err != nil {
		return VerifyResult{Error: authcore.AsError(err)}
	}
	return VerifyResult{Valid: true, Key: p.keyJSON(e.rec)}
}
