package apikey

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
)

const (
	refUser         = "user"
	refOrganization = "organization"
)

var tags = []string{"API Key"}

func (p *Plugin) endpoints() []authcore.Endpoint {
	return []authcore.Endpoint{
		{Method: http.MethodPost, Path: PathCreate, Audit: authcore.AuditAPIKeyCreate, Auth: authcore.AuthSensitive, Handler: p.create, NoStore: true,
			Body: []authcore.Param{
				authcore.String("name"), authcore.Number("expiresIn").Null(), authcore.String("prefix"),
				authcore.Any("metadata"), authcore.String("configId"), authcore.String("organizationId"),
				authcore.Any("remaining"),
			},
			Summary: "Create an API key for the signed-in user", Response: authcore.Extend(authcore.ModelRef(ModelAPIKey), map[string]any{"key": "string"}, "key"), Tags: tags,
			Errors: []authcore.ErrorCode{ErrServerOnlyProperty, ErrMetadataDisabled, ErrInvalidMetadataType,
				ErrKeyDisabledExpiration, ErrExpiresInTooSmall, ErrExpiresInTooLarge, ErrInvalidPrefixLength,
				ErrInvalidNameLength, ErrNameRequired, ErrOrganizationPluginRequired, ErrNoDefaultAPIKeyConfigurationFound}},
		{Method: http.MethodGet, Path: PathGet, Auth: authcore.AuthSession, Handler: p.get,
			Query:   []authcore.Param{authcore.String("id").Req(), authcore.String("configId")},
			Summary: "Get one of the user's API keys", Response: authcore.ModelRef(ModelAPIKey), Tags: tags, Errors: []authcore.ErrorCode{ErrKeyNotFound}},
		{Method: http.MethodPost, Path: PathUpdate, Audit: authcore.AuditAPIKeyUpdate, Auth: authcore.AuthSensitive, Handler: p.update,
			Body: []authcore.Param{
				authcore.String("keyId").Req(), authcore.String("name"), authcore.Bool("enabled"),
				authcore.Number("expiresIn").Null(), authcore.Any("metadata"), authcore.String("configId"),
			},
			Summary: "Update one of the user's API keys", Response: authcore.ModelRef(ModelAPIKey), Tags: tags,
			Errors: []authcore.ErrorCode{ErrServerOnlyProperty, ErrKeyNotFound, ErrNoValuesToUpdate,
				ErrKeyDisabledExpiration, ErrExpiresInTooSmall, ErrExpiresInTooLarge, ErrInvalidNameLength, ErrInvalidMetadataType}},
		{Method: http.MethodPost, Path: PathDelete, Audit: authcore.AuditAPIKeyDelete, Auth: authcore.AuthSensitive, Handler: p.delete,
			Body:    []authcore.Param{authcore.String("keyId").Req(), authcore.String("configId")},
			Summary: "Delete one of the user's API keys", Response: authcore.ObjectOf(map[string]any{"success": "boolean"}, "success"), Tags: tags, Errors: []authcore.ErrorCode{ErrKeyNotFound, ErrUserBanned}},
		{Method: http.MethodGet, Path: PathList, Auth: authcore.AuthSession, Handler: p.list,
			Query: []authcore.Param{authcore.String("configId"), authcore.String("organizationId"),
				authcore.Number("limit"), authcore.Number("offset"), authcore.String("sortBy"), authcore.String("sortDirection")},
			Summary: "List the user's API keys", Response: authcore.ObjectOf(map[string]any{"apiKeys": authcore.ArrayOf(authcore.ModelRef(ModelAPIKey)), "total": "integer", "limit": "integer", "offset": "integer"}, "apiKeys", "total"), Tags: tags, Errors: []authcore.ErrorCode{ErrOrganizationPluginRequired}},
	}
}

func bad(c authcore.ErrorCode) *authcore.Error { return c.With(http.StatusBadRequest) }

func notFound() *authcore.Error { return ErrKeyNotFound.With(http.StatusNotFound) }

func validationError(msg string) *authcore.Error {
	return &authcore.Error{Status: http.StatusBadRequest, Code: authcore.CodeValidationError.Code, Message: msg}
}

// checkConfigID accepts the one configuration Gatehouse has ("default").
func checkConfigID(v authcore.Values) error {
	if id := v.String("configId"); id != "" && id != "default" {
		return bad(ErrNoDefaultAPIKeyConfigurationFound)
	}
	return nil
}

func (p *Plugin) checkName(name string) error {
	if n := utf8.RuneCountInString(name); n < minNameLen || n > maxNameLen {
		return bad(ErrInvalidNameLength)
	}
	return nil
}

func checkPrefix(prefix string) error {
	if !prefixRE.MatchString(prefix) {
		return validationError("Invalid prefix format, must be alphanumeric and contain only underscores and hyphens.")
	}
	if len(prefix) < minPrefixLen || len(prefix) > maxPrefixLen {
		return bad(ErrInvalidPrefixLength)
	}
	return nil
}

// checkExpiresIn applies the configured range to an expiry.
func (p *Plugin) checkExpiresIn(d time.Duration) error {
	if d < p.KeyExpiration.MinExpiresIn.D() {
		return bad(ErrExpiresInTooSmall)
	}
	if d > p.KeyExpiration.MaxExpiresIn.D() {
		return bad(ErrExpiresInTooLarge)
	}
	return nil
}

// bodyExpiresIn reads a client's expiresIn (seconds, ≥ 1, null allowed).
func (p *Plugin) bodyExpiresIn(v authcore.Values) (d *time.Duration, set bool, err error) {
	raw, ok := v["expiresIn"]
	if !ok {
		return nil, false, nil
	}
	if p.KeyExpiration.DisableCustomExpiresTime && raw != nil {
		return nil, true, bad(ErrKeyDisabledExpiration)
	}
	if raw == nil {
		return nil, true, nil
	}
	num, _ := raw.(json.Number)
	secs, ferr := num.Float64()
	if ferr != nil || secs < 1 || secs > 1e12 {
		return nil, true, validationError("expiresIn must be a number of seconds, at least 1")
	}
	x := time.Duration(secs * float64(time.Second))
	if err := p.checkExpiresIn(x); err != nil {
		return nil, true, err
	}
	return &x, true, nil
}

func (p *Plugin) bodyMetadata(v authcore.Values) (json.RawMessage, bool, error) {
	raw, ok := v["metadata"]
	if !ok || raw == nil {
		return nil, false, nil
	}
	if !p.EnableMetadata {
		return nil, false, bad(ErrMetadataDisabled)
	}
	m, isObj := raw.(map[string]any)
	if !isObj {
		return nil, false, bad(ErrInvalidMetadataType)
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, false, bad(ErrInvalidMetadataType)
	}
	return b, true, nil
}

// create serves POST /api-key/create: a key for the session's user, always. Server-only
// fields were refused by refuseServerOnly.
func (p *Plugin) create(c *authcore.Call) (any, error) {
	s, err := c.RequireSession()
	if err != nil {
		return nil, ErrUnauthorizedSession.With(http.StatusUnauthorized)
	}
	b := c.Body
	if err := checkConfigID(b); err != nil {
		return nil, err
	}
	if b.String("organizationId") != "" {
		return nil, bad(ErrOrganizationPluginRequired)
	}
	meta, _, err := p.bodyMetadata(b)
	if err != nil {
		return nil, err
	}
	exp, expSet, err := p.bodyExpiresIn(b)
	if err != nil {
		return nil, err
	}
	params := authcore.APIKeyParams{UserID: s.UserID(), Name: b.String("name"), Prefix: b.String("prefix")}
	if expSet {
		zero := time.Duration(0)
		params.ExpiresIn = &zero
		if exp != nil {
			params.ExpiresIn = exp
		}
	}
	out, err := p.createKey(c.Context(), params, meta, false)
	if id, ok := out["id"].(string); ok {
		c.AuditDetail("key_id", id)
	}
	return out, err
}

// createKey creates a key from validated parameters. trusted callers skip nothing but the
// HTTP-only rules (they may set every field).
func (p *Plugin) createKey(ctx context.Context, in authcore.APIKeyParams, meta json.RawMessage, trusted bool) (map[string]any, error) {
	e := p.engine
	if in.Name != "" {
		if err := p.checkName(in.Name); err != nil {
			return nil, err
		}
	} else if p.RequireName {
		return nil, bad(ErrNameRequired)
	}
	prefix := in.Prefix
	if prefix != "" {
		if err := checkPrefix(prefix); err != nil {
			return nil, err
		}
	} else {
		prefix = p.DefaultPrefix
	}
	now := e.Clock().Now()
	rec := storage.Record{
		FieldConfigID: "default", FieldEnabled: true, FieldRequestCount: int64(0),
		FieldCreatedAt: now, FieldUpdatedAt: now,
		FieldRateLimitEnabled:    p.RateLimit.Enabled,
		FieldRateLimitTimeWindow: p.RateLimit.TimeWindow.D().Milliseconds(),
		FieldRateLimitMax:        int64(p.RateLimit.Max),
	}
	switch {
	case in.OrganizationID != "" && trusted:
		rec[FieldReferenceID], rec[FieldReferenceType] = in.OrganizationID, refOrganization
	case in.UserID != "":
		u, err := e.UserByID(ctx, in.UserID)
		if err != nil {
			return nil, authcore.Internal(err)
		}
		if u == nil {
			return nil, authcore.CodeUserNotFound.With(http.StatusNotFound)
		}
		rec[FieldReferenceID], rec[FieldReferenceType] = in.UserID, refUser
	default:
		return nil, ErrUnauthorizedSession.With(http.StatusUnauthorized)
	}
	if in.Name != "" {
		rec[FieldName] = in.Name
	}
	if prefix != "" {
		rec[FieldPrefix] = prefix
	}
	switch {
	case in.ExpiresIn == nil:
		if d := p.KeyExpiration.DefaultExpiresIn.D(); d > 0 {
			rec[FieldExpiresAt] = now.Add(d)
		}
	case *in.ExpiresIn < 0:
		return nil, bad(ErrExpiresInTooSmall)
	case *in.ExpiresIn > 0:
		if trusted {
			if err := p.checkExpiresIn(*in.ExpiresIn); err != nil {
				return nil, err
			}
		}
		rec[FieldExpiresAt] = now.Add(*in.ExpiresIn)
	}
	if err := applyTrusted(rec, in, now); err != nil {
		return nil, err
	}
	if in.Permissions == nil && len(p.Permissions.Default) > 0 {
		b, _ := json.Marshal(p.Permissions.Default)
		rec[FieldPermissions] = json.RawMessage(b)
	}
	if meta == nil && in.Metadata != nil {
		b, err := json.Marshal(in.Metadata)
		if err != nil {
			return nil, bad(ErrInvalidMetadataType)
		}
		meta = b
	}
	if meta != nil {
		rec[FieldMetadata] = meta
	}
	if in.Remaining == nil && in.RefillAmount != nil {
		rec[FieldRemaining] = *in.RefillAmount
	}
	rand, err := e.Random().String(p.DefaultKeyLength, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
	if err != nil {
		return nil, authcore.Internal(err)
	}
	key := prefix + rand
	rec[FieldKey] = HashKey(key)
	if n := p.StartingCharactersLength; n > 0 {
		rec[FieldStart] = key[:min(n, len(key))]
	}
	id, err := e.NewID()
	if err != nil {
		return nil, authcore.Internal(err)
	}
	rec["id"] = id
	p.DeleteExpired(ctx)
	stored, err := e.Store().Create(ctx, ModelAPIKey, rec)
	if err != nil {
		return nil, authcore.Internal(err)
	}
	out := p.keyJSON(stored)
	out["key"] = key
	return out, nil
}

// applyTrusted copies the server-only fields of in into set, validating them.
func applyTrusted(set storage.Record, in authcore.APIKeyParams, now time.Time) error {
	if in.Remaining != nil {
		if *in.Remaining < 0 {
			return bad(ErrInvalidRemaining)
		}
		set[FieldRemaining] = *in.Remaining
	}
	if (in.RefillAmount != nil) != (in.RefillInterval != nil) {
		if in.RefillAmount != nil {
			return bad(ErrRefillAmountAndIntervalRequired)
		}
		return bad(ErrRefillIntervalAndAmountRequired)
	}
	if in.RefillAmount != nil {
		if *in.RefillAmount < 1 || *in.RefillInterval <= 0 {
			return bad(ErrInvalidRemaining)
		}
		set[FieldRefillAmount] = *in.RefillAmount
		set[FieldRefillInterval] = in.RefillInterval.Milliseconds()
		set[FieldLastRefillAt] = now
	}
	if in.RateLimitEnabled != nil {
		set[FieldRateLimitEnabled] = *in.RateLimitEnabled
	}
	if in.RateLimitTimeWindow != nil {
		if *in.RateLimitTimeWindow <= 0 {
			return validationError("rateLimitTimeWindow must be positive")
		}
		set[FieldRateLimitTimeWindow] = in.RateLimitTimeWindow.Milliseconds()
	}
	if in.RateLimitMax != nil {
		if *in.RateLimitMax <= 0 {
			return validationError("rateLimitMax must be positive")
		}
		set[FieldRateLimitMax] = *in.RateLimitMax
	}
	if in.Enabled != nil {
		set[FieldEnabled] = *in.Enabled
	}
	if in.Permissions != nil {
		b, err := json.Marshal(in.Permissions)
		if err != nil {
			return validationError("invalid permissions")
		}
		set[FieldPermissions] = json.RawMessage(b)
	}
	return nil
}

// nullable fields answered as null when unset.
var nullable = []string{FieldName, FieldStart, FieldPrefix, FieldExpiresAt, FieldLastRefillAt, FieldLastRequest,
	FieldRemaining, FieldRefillAmount, FieldRefillInterval, FieldRateLimitMax, FieldRateLimitTimeWindow,
	FieldPermissions, FieldMetadata}

// keyJSON is a key as the API shows it: never the digest; remaining counts only usage
// actually served (this node's leased-but-unserved units are added back).
func (p *Plugin) keyJSON(rec storage.Record) map[string]any {
	out := p.engine.Public(ModelAPIKey, rec)
	for _, f := range nullable {
		if _, ok := out[f]; !ok {
			out[f] = nil
		}
	}
	if rec.Has(FieldRemaining) {
		out[FieldRemaining] = rec.Int(FieldRemaining) + p.unused(rec.ID())
	}
	return out
}

// owned loads a key the session's user owns, or 404 KEY_NOT_FOUND.
func (p *Plugin) owned(ctx context.Context, userID, id string) (storage.Record, error) {
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
	if rec.String(FieldReferenceType) == refOrganization || rec.String(FieldReferenceID) != userID {
		return nil, notFound()
	}
	return rec, nil
}

func (p *Plugin) get(c *authcore.Call) (any, error) {
	s, err := c.RequireSession()
	if err != nil {
		return nil, err
	}
	if c.Query.String("configId") != "" && c.Query.String("configId") != "default" {
		return nil, notFound()
	}
	rec, err := p.owned(c.Context(), s.UserID(), c.Query.String("id"))
	if err != nil {
		return nil, err
	}
	return p.keyJSON(rec), nil
}

func (p *Plugin) update(c *authcore.Call) (any, error) {
	s, err := c.RequireSession()
	if err != nil {
		return nil, ErrUnauthorizedSession.With(http.StatusUnauthorized)
	}
	b := c.Body
	if b.String("configId") != "" && b.String("configId") != "default" {
		return nil, notFound()
	}
	c.AuditDetail("key_id", b.String("keyId"))
	rec, err := p.owned(c.Context(), s.UserID(), b.String("keyId"))
	if err != nil {
		return nil, err
	}
	now := p.engine.Clock().Now()
	set := storage.Record{}
	if b.Has("name") {
		if err := p.checkName(b.String("name")); err != nil {
			return nil, err
		}
		set[FieldName] = b.String("name")
	}
	if v, ok := b["enabled"].(bool); ok {
		set[FieldEnabled] = v
	}
	exp, expSet, err := p.bodyExpiresIn(b)
	if err != nil {
		return nil, err
	}
	if expSet {
		if exp == nil {
			set[FieldExpiresAt] = nil
		} else {
			set[FieldExpiresAt] = now.Add(*exp)
		}
	}
	if b.Has("metadata") && b["metadata"] != nil {
		if !p.EnableMetadata {
			return nil, bad(ErrMetadataDisabled)
		}
		meta, _, err := p.bodyMetadata(b)
		if err != nil {
			return nil, err
		}
		set[FieldMetadata] = meta
	}
	if len(set) == 0 {
		return nil, bad(ErrNoValuesToUpdate)
	}
	return p.write(c.Context(), rec, set, now)
}

// write applies set to a key, invalidating this node's cached copy.
func (p *Plugin) write(ctx context.Context, rec storage.Record, set storage.Record, now time.Time) (map[string]any, error) {
	set[FieldUpdatedAt] = now
	p.invalidate(rec)
	out, err := p.engine.Store().Update(ctx, ModelAPIKey, storage.ByID(rec.ID()), set)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, notFound()
	}
	if err != nil {
		return nil, ErrFailedToUpdateAPIKey.With(http.StatusInternalServerError).Wrap(err)
	}
	p.invalidate(rec)
	if _, ok := set[FieldRemaining]; ok {
		p.dropQuota(rec.ID())
	}
	return p.keyJSON(out), nil
}

func (p *Plugin) delete(c *authcore.Call) (any, error) {
	s, err := c.RequireSession()
	if err != nil {
		return nil, err
	}
	if bannedAt(s.User, p.engine.Clock().Now()) {
		return nil, ErrUserBanned.With(http.StatusUnauthorized)
	}
	if c.Body.String("configId") != "" && c.Body.String("configId") != "default" {
		return nil, notFound()
	}
	c.AuditDetail("key_id", c.Body.String("keyId"))
	rec, err := p.owned(c.Context(), s.UserID(), c.Body.String("keyId"))
	if err != nil {
		return nil, err
	}
	if err := p.remove(c.Context(), rec); err != nil {
		return nil, err
	}
	return map[string]any{"success": true}, nil
}

func (p *Plugin) remove(ctx context.Context, rec storage.Record) error {
	err := p.engine.Store().Delete(ctx, ModelAPIKey, storage.ByID(rec.ID()))
	p.invalidate(rec)
	p.dropQuota(rec.ID())
	if errors.Is(err, storage.ErrNotFound) {
		return notFound()
	}
	if err != nil {
		return authcore.Internal(err)
	}
	return nil
}

var sortable = []string{FieldCreatedAt, FieldUpdatedAt, FieldName, FieldExpiresAt, FieldLastRequest, FieldRemaining, FieldPrefix, FieldEnabled}

func (p *Plugin) list(c *authcore.Call) (any, error) {
	s, err := c.RequireSession()
	if err != nil {
		return nil, err
	}
	q := c.Query
	if q.String("organizationId") != "" {
		return nil, bad(ErrOrganizationPluginRequired)
	}
	if q.String("configId") != "" && q.String("configId") != "default" {
		return map[string]any{"apiKeys": []any{}, "total": 0}, nil
	}
	query := storage.Query{Where: storage.And(storage.Eq(FieldReferenceID, s.UserID()), storage.Ne(FieldReferenceType, refOrganization))}
	if by := q.String("sortBy"); by != "" {
		if !slices.Contains(sortable, by) {
			return nil, validationError("sortBy: unknown field")
		}
		query.Sort = []storage.SortField{{Field: by, Desc: q.String("sortDirection") == "desc"}}
	}
	recs, err := p.engine.Store().FindMany(c.Context(), ModelAPIKey, query)
	if err != nil {
		return nil, authcore.Internal(err)
	}
	limit, hasLimit := q.Int("limit")
	offset, hasOffset := q.Int("offset")
	if limit < 0 || offset < 0 {
		return nil, validationError("limit and offset must not be negative")
	}
	total := len(recs)
	recs = storage.Window(recs, int(offset), int(limit))
	keys := make([]map[string]any, 0, len(recs))
	for _, r := range recs {
		keys = append(keys, p.keyJSON(r))
	}
	out := map[string]any{"apiKeys": keys, "total": total}
	if hasLimit {
		out["limit"] = limit
	}
	if hasOffset {
		out["offset"] = offset
	}
	return out, nil
}

// DeleteExpired removes every expired key (Better Auth's deleteAllExpiredApiKeys). It runs
// before each create; failures are logged, not returned.
func (p *Plugin) DeleteExpired(ctx context.Context) int {
	n, err := p.engine.Store().DeleteMany(ctx, ModelAPIKey, storage.Lt(FieldExpiresAt, p.engine.Clock().Now()))
	if err != nil {
		p.engine.Logger().Error("api-key: deleting expired keys", "err", err)
	}
	return n
}
