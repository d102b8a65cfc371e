package admin

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gatehouse-auth/gatehouse/authcore"
)

// Listing bounds of /admin/list-audit-events.
const (
	DefaultAuditLimit = 100
	MaxAuditLimit     = 1000
)

// auditEventSchema documents one listed event (authcore.AuditEvent's JSON).
var auditEventSchema = authcore.ObjectOf(map[string]any{
	"id": "string", "type": "string", "result": "string", "code": "string",
	"actorId": "string", "impersonatorId": "string", "subjectId": "string", "sessionId": "string",
	"ipAddress": "string", "userAgent": "string", "method": "string",
	"details":   map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"}},
	"createdAt": "date-time",
}, "id", "type", "result", "createdAt")

func (p *Plugin) listAuditEventsEndpoint(errs []authcore.ErrorCode) authcore.Endpoint {
	return authcore.Endpoint{Method: "GET", Path: PathListAuditEvents, Handler: p.listAuditEvents, Tags: tags,
		Summary: "List stored audit events",
		Description: "Newest first unless sortDirection=asc. userId matches the actor or the subject. " +
			"Answers 404 AUDIT_EVENTS_NOT_STORED unless audit storage is enabled.",
		Response: authcore.ObjectOf(map[string]any{"events": authcore.ArrayOf(auditEventSchema), "total": "integer",
			"limit": "integer", "offset": "integer"}, "events", "total", "limit", "offset"),
		Query: []authcore.Param{authcore.String("userId"), authcore.String("type"), authcore.String("limit"),
			authcore.String("offset"), authcore.String("sortDirection")},
		NoStore: true, Errors: errs}
}

// listAuditEvents is GET /admin/list-audit-events (needs audit:list): the stored audit
// events, filtered by user (actor or subject) and type, paginated.
func (p *Plugin) listAuditEvents(c *authcore.Call) (any, error) {
	if _, err := p.require(c, "audit", "list", CodeNotAllowedToListAuditEvents); err != nil {
		return nil, err
	}
	sortDir, err := oneOf(c, "sortDirection", []string{"asc", "desc"}, "desc")
	if err != nil {
		return nil, err
	}
	limit, err := queryInt(c, "limit", DefaultAuditLimit, 1, MaxAuditLimit)
	if err != nil {
		return nil, err
	}
	offset, err := queryInt(c, "offset", 0, 0, 1<<31-1)
	if err != nil {
		return nil, err
	}
	events, total, err := p.engine.ListAuditEvents(c.Context(), authcore.AuditQuery{
		UserID: c.Query.String("userId"), Type: c.Query.String("type"),
		Limit: limit, Offset: offset, Desc: sortDir == "desc",
	})
	if errors.Is(err, authcore.ErrAuditNotStored) {
		return nil, CodeAuditEventsNotStored.With(http.StatusNotFound)
	}
	if err != nil {
		return nil, authcore.Internal(err)
	}
	return map[string]any{"events": events, "total": total, "limit": limit, "offset": offset}, nil
}

// queryInt reads an optional whole-number query parameter within [lo, hi]; anything else is
// 400 VALIDATION_ERROR.
func queryInt(c *authcore.Call, name string, def, lo, hi int) (int, error) {
	if !c.Query.Has(name) {
		return def, nil
	}
	n, err := strconv.Atoi(c.Query.String(name))
	if err != nil || n < lo || n > hi {
		return 0, &authcore.Error{Status: http.StatusBadRequest, Code: authcore.CodeValidationError.Code,
			Message: fmt.Sprintf("[query.%s] Invalid input: expected a whole number from %d to %d", name, lo, hi)}
	}
	return n, nil
}
