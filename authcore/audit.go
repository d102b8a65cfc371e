package authcore

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-auth/gatehouse/storage"
)

// Audit event types: every security event the engine and the bundled plugins record, in
// one list. A type names what was attempted; [AuditEvent.Result] says whether it worked.
const (
	AuditSignIn          = "sign_in"           // a sign-in created a session (Method: the first factor, or "two-factor")
	AuditSignInChallenge = "sign_in.challenge" // a first factor passed and a second factor was asked
	AuditSignInFailure   = "sign_in.failure"   // a sign-in failed (wrong password, unknown user, bad code, ban, 429, ...)
	AuditSignUp          = "sign_up"
	AuditSignOut         = "sign_out"

	AuditPasswordChange = "password.change"
	AuditPasswordReset  = "password.reset" // a reset token was used to set a new password
	AuditEmailChange    = "email.change"   // a change was requested, or applied when no confirmation is needed
	AuditEmailVerify    = "email.verify"
	AuditUserDelete     = "user.delete"

	AuditSessionRevoke       = "session.revoke"
	AuditSessionRevokeAll    = "session.revoke_all"
	AuditSessionRevokeOthers = "session.revoke_others"
	AuditSessionSwitch       = "session.switch" // multi-session: another signed-in account made active
	AuditAccountUnlink       = "account.unlink"

	AuditTwoFactorEnable      = "two_factor.enable"
	AuditTwoFactorDisable     = "two_factor.disable"
	AuditTwoFactorBackupCodes = "two_factor.backup_codes" // backup codes regenerated
	AuditPasskeyAdd           = "passkey.add"
	AuditPasskeyDelete        = "passkey.delete"
	AuditAPIKeyCreate         = "api_key.create"
	AuditAPIKeyUpdate         = "api_key.update"
	AuditAPIKeyDelete         = "api_key.delete"
	AuditPhoneNumberChange    = "phone_number.change"

	AuditAdminCreateUser          = "admin.create_user"
	AuditAdminUpdateUser          = "admin.update_user"
	AuditAdminSetRole             = "admin.set_role"
	AuditAdminBanUser             = "admin.ban_user"
	AuditAdminUnbanUser           = "admin.unban_user"
	AuditAdminSetPassword         = "admin.set_password"
	AuditAdminRemoveUser          = "admin.remove_user"
	AuditAdminRevokeSession       = "admin.revoke_session"
	AuditAdminRevokeSessions      = "admin.revoke_sessions"
	AuditAdminImpersonate         = "admin.impersonate"
	AuditAdminStopImpersonating   = "admin.stop_impersonating"
	AuditAdminAPIKeyCreate        = "admin.api_key_create" // the Caddy admin API (gatehouse apikey CLI)
	AuditAdminAPIKeyUpdate        = "admin.api_key_update"
	AuditAdminAPIKeyDelete        = "admin.api_key_delete"
	AuditAdminSecretReencrypt     = "admin.secret_reencrypt" // gatehouse secret reencrypt
	AuditOrganizationCreate       = "organization.create"
	AuditOrganizationDelete       = "organization.delete"
	AuditOrganizationMemberAdd    = "organization.member_add" // an invitation accepted, or a member added
	AuditOrganizationMemberRole   = "organization.member_role"
	AuditOrganizationMemberRemove = "organization.member_remove" // removed, or left
	AuditOrganizationInvite       = "organization.invite"
)

// Audit results.
const (
	AuditSuccess = "success"
	AuditFailure = "failure"
)

// AuditEvent is one security event. It never holds a secret: no password, token, code,
// key or cookie value — ids, the client address and small descriptive strings only.
type AuditEvent struct {
	ID     string `json:"id"`
	Type   string `json:"type"`
	Result string `json:"result"`
	// Code is the error code of a failure (BANNED_USER, INVALID_EMAIL_OR_PASSWORD, ...; the
	// HTTP status text, such as TOO_MANY_REQUESTS, when the answer has no code).
	Code string `json:"code,omitempty"`
	// ActorID is the user who acted: the caller's session user, or the user a sign-in
	// concerns.
	ActorID string `json:"actorId,omitempty"`
	// ImpersonatorID is the administrator behind an impersonation session that acted.
	ImpersonatorID string `json:"impersonatorId,omitempty"`
	// SubjectID is the user acted upon, when not the actor (admin actions, a reset).
	SubjectID string `json:"subjectId,omitempty"`
	// SessionID is the id of the acting session (of the new one for a sign-in) — never its
	// token.
	SessionID string `json:"sessionId,omitempty"`
	IPAddress string `json:"ipAddress,omitempty"`
	UserAgent string `json:"userAgent,omitempty"`
	// Method is the sign-in method ("email", "passkey", "two-factor", ...).
	Method  string            `json:"method,omitempty"`
	Details map[string]string `json:"details,omitempty"`
	Time    time.Time         `json:"createdAt"`
}

// AuditConfig: the audit log (audit.go). Events are always logged; storing them is optional.
type AuditConfig struct {
	// Store keeps every event in the store as well (model auditEvent), after the response
	// on the background queue, so administrators can list them (admin plugin,
	// /admin/list-audit-events). Default: logged only.
	Store bool
	// Retention: stored events older than this are deleted by the sweeper. Default: 90d.
	Retention time.Duration
}

// ModelAuditEvent is the model of stored audit events (when Audit.Store is on).
const ModelAuditEvent = "auditEvent"

// maxAuditUserAgent bounds the logged User-Agent: it is client-controlled.
const maxAuditUserAgent = 256

// WithAuditLogger sets where audit events are logged: one Info record "audit" per event.
// Default: the engine's logger (WithLogger). The Caddy layer passes the zap logger named
// gatehouse.audit, so operators can route the events on their own.
func WithAuditLogger(l *slog.Logger) Option { return func(o *options) { o.audit = l } }

// ErrAuditNotStored is returned by [Engine.ListAuditEvents] when Audit.Store is off.
var ErrAuditNotStored = errors.New("audit events are not stored (audit.store is off)")

func auditModel() storage.Model {
	str := func(name string, indexed bool) storage.Field {
		return storage.Field{Name: name, Type: storage.TypeString, Indexed: indexed}
	}
	// No references to the user model: an event outlives the users it names.
	return storage.Model{Name: ModelAuditEvent, Fields: []storage.Field{
		{Name: "type", Type: storage.TypeString, Required: true, Indexed: true},
		{Name: "result", Type: storage.TypeString, Required: true},
		str("code", false),
		str("actorId", true), str("impersonatorId", false), str("subjectId", true),
		str("sessionId", false), str("ipAddress", false), str("userAgent", false), str("method", false),
		{Name: "details", Type: storage.TypeJSON},
		{Name: "createdAt", Type: storage.TypeDate, Required: true, Indexed: true},
	}}
}

func (e *Engine) registerAuditModel(r *Registrar) error {
	if !e.cfg.Audit.Store {
		return nil
	}
	return r.Model(auditModel())
}

// Audit records an event: it fills the id and time when empty, logs it on the audit logger
// and, with Audit.Store on, stores it after the response. For events that happen outside
// the auth API's pipeline (the Caddy admin API); the pipeline records its own (see
// [Endpoint.Audit]).
func (e *Engine) Audit(ctx context.Context, ev AuditEvent) {
	if ev.ID == "" {
		ev.ID, _ = e.rand.ID()
	}
	if ev.Time.IsZero() {
		ev.Time = e.clock.Now()
	}
	if ev.Result == "" {
		ev.Result = AuditSuccess
	}
	ev.UserAgent = truncateUTF8(ev.UserAgent, maxAuditUserAgent)
	if h := e.auditLog.Handler(); h.Enabled(ctx, slog.LevelInfo) {
		// The record carries the event's time (the injected clock), as the stored row does.
		r := slog.NewRecord(ev.Time, slog.LevelInfo, "audit", 0)
		r.AddAttrs(auditAttrs(ev)...)
		if err := h.Handle(ctx, r); err != nil {
			e.log.Error("writing audit event failed", "type", ev.Type, "id", ev.ID, "error", err.Error())
		}
	}
	if !e.cfg.Audit.Store {
		return
	}
	store := func(ctx context.Context) error { return e.storeAuditEvent(ctx, ev) }
	// A full queue must not lose the event: it is then written now, at the request's cost.
	if !e.jobs.submit("audit "+ev.Type, store) {
		if err := store(context.WithoutCancel(ctx)); err != nil {
			e.log.Error("storing audit event failed", "type", ev.Type, "id", ev.ID, "error", err.Error())
		}
	}
}

// auditAttrs are the flat keys of the audit log record; empty ones are left out.
func auditAttrs(ev AuditEvent) []slog.Attr {
	attrs := []slog.Attr{slog.String("id", ev.ID), slog.String("type", ev.Type), slog.String("result", ev.Result)}
	add := func(k, v string) {
		if v != "" {
			attrs = append(attrs, slog.String(k, v))
		}
	}
	add("code", ev.Code)
	add("actor", ev.ActorID)
	add("impersonator", ev.ImpersonatorID)
	add("subject", ev.SubjectID)
	add("session", ev.SessionID)
	add("method", ev.Method)
	add("ip", ev.IPAddress)
	add("user_agent", ev.UserAgent)
	if len(ev.Details) > 0 {
		d := make([]any, 0, len(ev.Details))
		for k, v := range ev.Details {
			d = append(d, slog.String(k, v))
		}
		attrs = append(attrs, slog.Group("details", d...))
	}
	return attrs
}

func (e *Engine) storeAuditEvent(ctx context.Context, ev AuditEvent) error {
	rec := storage.Record{"id": ev.ID, "type": ev.Type, "result": ev.Result, "createdAt": ev.Time}
	for k, v := range map[string]string{"code": ev.Code, "actorId": ev.ActorID, "impersonatorId": ev.ImpersonatorID,
		"subjectId": ev.SubjectID, "sessionId": ev.SessionID, "ipAddress": ev.IPAddress, "userAgent": ev.UserAgent,
		"method": ev.Method} {
		if v != "" {
			rec[k] = v
		}
	}
	if len(ev.Details) > 0 {
		rec["details"] = ev.Details // stored as a JSON object
	}
	_, err := e.store.Create(ctx, ModelAuditEvent, rec)
	return err
}

// AuditQuery selects stored audit events for [Engine.ListAuditEvents].
type AuditQuery struct {
	UserID string // events whose actor or subject is this user
	Type   string
	Limit  int // 0: all
	Offset int
	Desc   bool // newest first
}

// ListAuditEvents returns the stored events matching q, oldest first unless q.Desc, and how
// many match in all. [ErrAuditNotStored] when Audit.Store is off.
func (e *Engine) ListAuditEvents(ctx context.Context, q AuditQuery) ([]AuditEvent, int, error) {
	if !e.cfg.Audit.Store {
		return nil, 0, ErrAuditNotStored
	}
	var where []storage.Where
	if q.UserID != "" {
		where = append(where, storage.Or(storage.Eq("actorId", q.UserID), storage.Eq("subjectId", q.UserID)))
	}
	if q.Type != "" {
		where = append(where, storage.Eq("type", q.Type))
	}
	sq := storage.Query{Where: storage.And(where...), Limit: q.Limit, Offset: q.Offset,
		Sort: []storage.SortField{{Field: "createdAt", Desc: q.Desc}, {Field: "id", Desc: q.Desc}}}
	recs, err := e.store.FindMany(ctx, ModelAuditEvent, sq)
	if err != nil {
		return nil, 0, err
	}
	total, err := e.store.Count(ctx, ModelAuditEvent, sq.Where)
	if err != nil {
		return nil, 0, err
	}
	out := make([]AuditEvent, 0, len(recs))
	for _, r := range recs {
		ev := AuditEvent{ID: r.ID(), Type: r.String("type"), Result: r.String("result"), Code: r.String("code"),
			ActorID: r.String("actorId"), ImpersonatorID: r.String("impersonatorId"), SubjectID: r.String("subjectId"),
			SessionID: r.String("sessionId"), IPAddress: r.String("ipAddress"), UserAgent: r.String("userAgent"),
			Method: r.String("method"), Time: r.Time("createdAt")}
		if raw, ok := r["details"].(json.RawMessage); ok && len(raw) > 0 {
			if err := json.Unmarshal(raw, &ev.Details); err != nil {
				e.log.Warn("stored audit event has unreadable details", "id", ev.ID, "error", err.Error())
			}
		}
		out = append(out, ev)
	}
	return out, total, nil
}

// sweepAuditEvents deletes stored events older than the retention.
func (e *Engine) sweepAuditEvents(ctx context.Context, now time.Time) (int, error) {
	if !e.cfg.Audit.Store {
		return 0, nil
	}
	return e.store.DeleteMany(ctx, ModelAuditEvent, storage.Lt("createdAt", now.Add(-e.cfg.Audit.Retention)))
}

// callAudit is what the pipeline gathers about a call for its audit event.
type callAudit struct {
	typ     string   // set by AuditAs; else the endpoint's Audit
	actor   *Session // the session the request arrived with, resolved before the handler
	subject string   // AuditSubject
	failed  string   // AuditFailed: the code of a failure answered as a redirect
	details map[string]string
	signIn  *signInRecord // Call.SignIn ran
	attempt *signInRecord // AuditSignInAttempt: a sign-in step outside /sign-in/*
}

// signInRecord is the outcome of Call.SignIn, for the metrics and the audit log.
type signInRecord struct {
	method string
	userID string
	err    error
}

// AuditAs sets the type of the call's audit event, replacing the endpoint's [Endpoint.Audit]
// (for an endpoint whose event depends on what it did: a verification that completes an
// enrolment). Call it before the handler replaces the session: the actor is the call's
// session at that moment.
func (c *Call) AuditAs(typ string) {
	c.audit.typ = typ
	if c.audit.actor == nil {
		c.audit.actor, _ = c.Session()
	}
}

// AuditSubject names the user the call's audit event acted upon, when not the caller (an
// admin action's target, the user whose password a reset token set).
func (c *Call) AuditSubject(userID string) { c.audit.subject = userID }

// AuditFailed marks the call's audit event failed with code, for a handler that answers a
// failure as a success-shaped response (a redirect carrying ?error=CODE).
func (c *Call) AuditFailed(code string) { c.audit.failed = code }

// AuditSignInAttempt declares the call a step of userID's sign-in by method outside
// /sign-in/* (a second factor completing a pending sign-in): when it fails without reaching
// Call.SignIn, a sign_in.failure naming the user is recorded.
func (c *Call) AuditSignInAttempt(method, userID string) {
	c.audit.attempt = &signInRecord{method: method, userID: userID}
}

// AuditDetail adds a non-secret detail to the call's audit event (an API key's id, a
// provider, an organization id). Never a password, token, code or key.
func (c *Call) AuditDetail(key, value string) {
	if c.audit.details == nil {
		c.audit.details = map[string]string{}
	}
	c.audit.details[key] = value
}

// resolveAuditActor remembers the session the request arrived with, before the handler
// may end it (sign-out) or replace it (impersonation), for calls that record an event.
func (e *Engine) resolveAuditActor(c *Call) {
	if c.Endpoint.Audit == "" {
		return
	}
	s, _ := c.Session() // a storage failure shows in the handler's own answer
	c.audit.actor = s
}

// recordCallAudit records the call's events when the answer is decided: the sign-in that
// Call.SignIn attempted, a failed /sign-in/* request that did not reach it, and the
// endpoint's declared (or AuditAs) event. A declared event that concerns nobody — no
// session, no subject — is not recorded when it succeeded or answered 401 (a sign-out
// without a session, a request without credentials).
func (e *Engine) recordCallAudit(c *Call, err error) {
	var intr *Interrupt
	if errors.As(err, &intr) {
		err = nil
	}
	// Built only for calls that record something: most calls record nothing.
	base := func() AuditEvent {
		return AuditEvent{IPAddress: c.ClientIP(), UserAgent: c.UserAgent(), Details: c.audit.details}
	}
	result := func(ev AuditEvent, err error) AuditEvent {
		ev.Result = AuditSuccess
		if err != nil {
			ev.Result, ev.Code = AuditFailure, auditCode(err)
		}
		return ev
	}
	ctx := c.Context()
	if si := c.audit.signIn; si != nil {
		ev := base()
		ev.Type, ev.Method, ev.ActorID = AuditSignIn, si.method, si.userID
		switch {
		case errors.As(si.err, &intr):
			ev.Type = AuditSignInChallenge
			ev = result(ev, err)
		case si.err != nil:
			ev.Type = AuditSignInFailure
			ev = result(ev, si.err)
		default:
			if c.NewSession != nil {
				ev.SessionID = c.NewSession.ID()
			}
			ev = result(ev, err)
		}
		e.Audit(ctx, ev)
	} else if at := c.audit.attempt; at != nil && err != nil {
		ev := base()
		ev.Type, ev.Method, ev.ActorID = AuditSignInFailure, at.method, at.userID
		e.Audit(ctx, result(ev, err))
	} else if method, ok := signInFailureMethod(c, err); ok {
		ev := base()
		ev.Type, ev.Method = AuditSignInFailure, method
		if email := strings.ToLower(c.Body.String("email")); email != "" && ValidEmail(email) {
			// The attempted address, only when it is one: a password typed into the wrong
			// field must not reach the log.
			ev.Details = map[string]string{"email": truncateUTF8(email, 254)}
		}
		e.Audit(ctx, result(ev, err))
	}
	typ := c.audit.typ
	if typ == "" {
		typ = c.Endpoint.Audit
	}
	if typ == "" {
		return
	}
	ev := base()
	ev.Type, ev.SubjectID = typ, c.audit.subject
	if s := c.audit.actor; s != nil {
		ev.ActorID, ev.SessionID = s.UserID(), s.ID()
		ev.ImpersonatorID = s.Session.String("impersonatedBy")
	}
	if ev.SubjectID == ev.ActorID {
		ev.SubjectID = ""
	}
	if ev.ActorID == "" && ev.SubjectID == "" && (err == nil && c.audit.failed == "" || err != nil && AsError(err).Status == http.StatusUnauthorized) {
		return
	}
	ev = result(ev, err)
	if err == nil && c.audit.failed != "" {
		ev.Result, ev.Code = AuditFailure, c.audit.failed
	}
	e.Audit(ctx, ev)
}

// auditCode is a failure's error code, or its status text (TOO_MANY_REQUESTS) without one.
func auditCode(err error) string {
	ae := AsError(err)
	if ae.Code != "" {
		return ae.Code
	}
	return strings.ToUpper(strings.ReplaceAll(http.StatusText(ae.Status), " ", "_"))
}

func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
