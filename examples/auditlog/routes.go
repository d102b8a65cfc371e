package auditlog

import (
	"encoding/json"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// Routes, relative to the base path.
const (
	PathList  = "/audit-log/list"
	PathClear = "/audit-log/clear"

	pathPrefix = "/audit-log/"
)

// HeaderAuditLog is the header the response interceptor adds to every auth-API response.
const HeaderAuditLog = "X-Audit-Log"

var tags = []string{"Audit log"}

// entrySchema documents one entry of the list (plain JSON schema until authcore's schema
// helpers land).
var entrySchema = map[string]any{
	"type":     "object",
	"required": []string{"id", "action", "createdAt"},
	"properties": map[string]any{
		"id":        map[string]any{"type": "string"},
		"action":    map[string]any{"type": "string", "enum": AllActions},
		"route":     map[string]any{"type": "string"},
		"method":    map[string]any{"type": "string"},
		"ip":        map[string]any{"type": "string"},
		"userAgent": map[string]any{"type": "string"},
		"createdAt": map[string]any{"type": "string", "format": "date-time"},
	},
}

func (p *Plugin) endpoints() []authcore.Endpoint {
	return []authcore.Endpoint{
		{Method: http.MethodGet, Path: PathList, Auth: authcore.AuthSession, Handler: p.list,
			Query: []authcore.Param{
				authcore.Number("limit").Doc("entries per page, 1 to 100 (default 20)"),
				authcore.Number("offset").Doc("entries to skip, newest first (default 0)"),
			},
			Summary:     "List the current user's audit entries",
			Description: "Newest first. total counts every entry of the user, whatever the window.",
			Tags:        tags,
			Response: map[string]any{
				"type":     "object",
				"required": []string{"entries", "total"},
				"properties": map[string]any{
					"entries": map[string]any{"type": "array", "items": entrySchema},
					"total":   map[string]any{"type": "integer", "minimum": 0},
				},
			},
			Errors: []authcore.ErrorCode{CodeLimitTooLarge, CodeInvalidPagination, CodeNotAcceptable, authcore.CodeUnauthorized}},
		{Method: http.MethodPost, Path: PathClear, Auth: authcore.AuthFresh, Handler: p.clear, BodyOptional: true,
			Summary: "Delete the current user's audit entries",
			Tags:    tags,
			Response: map[string]any{
				"type":       "object",
				"required":   []string{"deleted"},
				"properties": map[string]any{"deleted": map[string]any{"type": "integer", "minimum": 0}},
			},
			Errors: []authcore.ErrorCode{CodeNotAcceptable, authcore.CodeUnauthorized, authcore.CodeSessionNotFresh}},
	}
}

// list is GET /audit-log/list.
func (p *Plugin) list(c *authcore.Call) (any, error) {
	s, err := c.RequireSession()
	if err != nil {
		return nil, err
	}
	limit, err := intParam(c.Query, "limit", DefaultLimit)
	if err != nil {
		return nil, err
	}
	offset, err := intParam(c.Query, "offset", 0)
	if err != nil {
		return nil, err
	}
	switch {
	case limit > MaxLimit:
		return nil, CodeLimitTooLarge.With(http.StatusBadRequest)
	case limit < 1 || offset < 0:
		return nil, CodeInvalidPagination.With(http.StatusBadRequest)
	}
	ctx := c.Context()
	mine := storage.Eq("userId", s.UserID())
	var recs []storage.Record
	var total int
	// One read transaction: the page and the total agree.
	err = p.engine.Store().View(ctx, func(tx storage.Adapter) error {
		var err error
		if total, err = tx.Count(ctx, ModelAuditEntry, mine); err != nil {
			return err
		}
		recs, err = tx.FindMany(ctx, ModelAuditEntry, storage.Query{Where: mine,
			Sort: []storage.SortField{{Field: "createdAt", Desc: true}}, Limit: int(limit), Offset: int(offset)})
		return err
	})
	if err != nil {
		return nil, authcore.Internal(err)
	}
	entries := make([]map[string]any, 0, len(recs))
	for _, r := range recs {
		e := p.engine.Public(ModelAuditEntry, r)
		delete(e, "userId") // always the caller
		entries = append(entries, e)
	}
	return map[string]any{"entries": entries, "total": total}, nil
}

// intParam reads an integral query number; absent means def. Values beyond the int range are
// clamped to it (a huge limit is then "too large", a huge offset an empty page); NaN and
// fractions are refused.
func intParam(q authcore.Values, name string, def int64) (int64, error) {
	if !q.Has(name) {
		return def, nil
	}
	n, _ := q[name].(json.Number) // the declared Number parameter guarantees it
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || f != math.Trunc(f) {
		return 0, CodeInvalidPagination.With(http.StatusBadRequest)
	}
	return int64(max(min(f, 1<<31), -1<<31)), nil
}

// clear is POST /audit-log/clear: it deletes the caller's entries (a fresh session only).
func (p *Plugin) clear(c *authcore.Call) (any, error) {
	s, err := c.RequireSession()
	if err != nil {
		return nil, err
	}
	n, err := p.engine.Store().DeleteMany(c.Context(), ModelAuditEntry, storage.Eq("userId", s.UserID()))
	if err != nil {
		return nil, authcore.Internal(err)
	}
	return map[string]any{"deleted": n}, nil
}

// jsonOnly is the path middleware of /audit-log/*: the entries name IPs and devices, so no
// cache (browser or shared) may keep them, and a request whose Accept header rules out JSON
// (a browser navigating to the URL, a misconfigured client) is refused with 406 instead of
// being answered with something it said it cannot read.
func jsonOnly(c *authcore.Call) error {
	h := c.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	if !acceptsJSON(c.Request.Header.Values("Accept")) {
		return CodeNotAcceptable.With(http.StatusNotAcceptable)
	}
	return nil
}

// acceptsJSON reports whether the Accept header values admit application/json with a
// non-zero quality. No Accept header admits everything (RFC 9110 §12.5.1).
func acceptsJSON(values []string) bool {
	if len(values) == 0 {
		return true
	}
	seen := false
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			seen = true
			mt, params, err := mime.ParseMediaType(part)
			if err != nil {
				continue
			}
			if q, ok := params["q"]; ok {
				if f, err := strconv.ParseFloat(q, 64); err != nil || f <= 0 {
					continue
				}
			}
			switch mt {
			case "*/*", "application/*", "application/json":
				return true
			}
		}
	}
	return !seen // "Accept:" with an empty value is as good as none
}
