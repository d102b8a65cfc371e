package caddymodule

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/caddyserver/caddy/v2"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
)

func init() {
	caddy.RegisterModule(AdminAPI{})
}

// AdminPrefix is the path under Caddy's admin endpoint where the admin.api.gatehouse routes
// live.
const AdminPrefix = "/gatehouse/"

// Limits of the admin API.
const (
	adminMaxBody      = 64 << 10 // JSON bodies are a few fields
	adminDefaultLimit = 100
	adminMaxLimit     = 1000
)

// AdminAPI is the admin.api.gatehouse module: user, session and API-key management over Caddy's admin
// endpoint, used by the `gatehouse user|session` subcommands. The CLI never opens the bbolt
// file itself: bbolt locks it exclusively and the running server holds it (CONVENTIONS 14),
// so every change goes through the running engine and its Store(), which also invalidates
// the in-process session cache (D6).
//
// Whoever can reach Caddy's admin endpoint can already load any configuration, so these
// routes add no authentication of their own; bind the admin endpoint to a unix socket or
// loopback (D16).
//
// Routes (JSON in and out; errors are Caddy's {"error": "..."}):
//
//	GET    /gatehouse/users?search=&limit=&offset=   {"users": [...], "total": n}
//	POST   /gatehouse/users                          {"email","name","password","role"?,"emailVerified"?} → 201 user
//	GET    /gatehouse/users/{user}                   user
//	DELETE /gatehouse/users/{user}                   its sessions and accounts go with it
//	POST   /gatehouse/users/{user}/role              {"role"} → user
//	POST   /gatehouse/users/{user}/password          {"password"} → {"user", "revokedSessions"}
//	GET    /gatehouse/sessions?user={user}           {"sessions": [...]} (token = opaque handle, D3)
//	DELETE /gatehouse/sessions?user={user}           {"revoked": n}
//	DELETE /gatehouse/sessions/{handle-or-id}        {"revoked": 1}
//	POST   /gatehouse/api-keys                       {"user"|"organizationId", ...} → 201 key with its plaintext "key"
//	GET    /gatehouse/api-keys?user={user}           {"apiKeys": [...]}
//	PATCH  /gatehouse/api-keys/{id}                  {fields to change} → key
//	DELETE /gatehouse/api-keys/{id}                  {"revoked": 1, "id"}
//	POST   /gatehouse/secret/reencrypt               stored ciphertexts of previous_secrets → the current secret (admin_secret.go)
//	GET    /gatehouse/backup                         the bbolt file, consistent (admin_backup.go); 501 on PostgreSQL
//
// The api-key routes need the api-key plugin (404 otherwise); admin_apikeys.go describes them.
//
// {user} is a user id or an email address.
type AdminAPI struct {
	// engine finds the engine to act on; nil means the running config's gatehouse app.
	// Tests inject one.
	engine func() (*authcore.Engine, error)
	// storage finds the storage module for GET /gatehouse/backup; nil means the running
	// config's. Tests inject one.
	storage func() (StorageModule, error)
}

// CaddyModule returns the Caddy module information.
func (AdminAPI) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "admin.api.gatehouse", New: func() caddy.Module { return new(AdminAPI) }}
}

// Routes returns the one subtree route; serveHTTP dispatches inside it.
func (a *AdminAPI) Routes() []caddy.AdminRoute {
	return []caddy.AdminRoute{{Pattern: AdminPrefix, Handler: caddy.AdminHandlerFunc(a.serveHTTP)}}
}

// runningEngine returns the engine of the gatehouse app in the active configuration. The
// admin routes outlive configs (they are provisioned once with the admin server), so the app
// is looked up per request, the way Caddy's own handlers reach the active http app.
// AppIfConfigured (not App) so that a config without a gatehouse block does not make Caddy
// provision a fresh app here.
func runningEngine() (*authcore.Engine, error) {
	app, err := caddy.ActiveContext().AppIfConfigured("gatehouse")
	if err != nil {
		return nil, apiErr(http.StatusServiceUnavailable, "the gatehouse app is not running: the active config has no gatehouse block (%v)", err)
	}
	ga, ok := app.(*App)
	if !ok || ga.Engine() == nil {
		return nil, apiErr(http.StatusServiceUnavailable, "the gatehouse app is not running")
	}
	return ga.Engine(), nil
}

// apiErr builds the error Caddy's admin server renders as {"error": message} with status.
func apiErr(status int, format string, args ...any) error {
	return caddy.APIError{HTTPStatus: status, Err: fmt.Errorf(format, args...)}
}

// engineError turns an engine error into an API error: client errors keep their status and
// public message; anything else is a 500 whose cause Caddy logs.
func engineError(what string, err error) error {
	var e *authcore.Error
	if errors.As(err, &e) && e.Status >= 400 && e.Status < 500 {
		msg := e.Message
		if e.Code != "" {
			msg += " (" + e.Code + ")"
		}
		return caddy.APIError{HTTPStatus: e.Status, Err: fmt.Errorf("%s: %s", what, msg)}
	}
	return caddy.APIError{HTTPStatus: http.StatusInternalServerError, Err: fmt.Errorf("%s: %w", what, err)}
}

// adminRequest is one admin call: the engine and the request.
type adminRequest struct {
	e *authcore.Engine
	w http.ResponseWriter
	r *http.Request
}

// ctx is the request's context.
func (q *adminRequest) ctx() context.Context { return q.r.Context() }

// audit records a change made through the admin API on the audit log. The operator has no
// user id: the event has no actor and says where it came from (details.source admin_api).
func (q *adminRequest) audit(typ, subject string, details ...string) {
	d := map[string]string{"source": "admin_api"}
	for i := 0; i+1 < len(details); i += 2 {
		if details[i+1] != "" {
			d[details[i]] = details[i+1]
		}
	}
	ip, _, err := net.SplitHostPort(q.r.RemoteAddr)
	if err != nil {
		ip = q.r.RemoteAddr
	}
	q.e.Audit(q.ctx(), authcore.AuditEvent{Type: typ, SubjectID: subject, IPAddress: ip, UserAgent: q.r.UserAgent(), Details: d})
}

// allow answers 405 unless the request uses one of methods.
func (q *adminRequest) allow(methods ...string) error {
	for _, m := range methods {
		if q.r.Method == m {
			return nil
		}
	}
	q.w.Header().Set("Allow", strings.Join(methods, ", "))
	return apiErr(http.StatusMethodNotAllowed, "method %s not allowed on %s (allowed: %s)", q.r.Method, q.r.URL.Path, strings.Join(methods, ", "))
}

// decode reads a JSON object into v, refusing unknown fields, trailing data and oversized
// bodies, so a typo never silently does something else.
func (q *adminRequest) decode(v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(q.w, q.r.Body, adminMaxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return apiErr(http.StatusBadRequest, "decoding request body: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return apiErr(http.StatusBadRequest, "decoding request body: unexpected data after the JSON object")
	}
	return nil
}

// reply writes v as JSON. It is encoded before the status is sent, so an encoding failure
// can still become an error answer.
func (q *adminRequest) reply(status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return apiErr(http.StatusInternalServerError, "encoding the answer: %v", err)
	}
	q.w.Header().Set("Content-Type", "application/json")
	q.w.WriteHeader(status)
	_, err = q.w.Write(append(b, '\n'))
	return err
}

// serveHTTP routes a request under AdminPrefix to its endpoint.
func (a *AdminAPI) serveHTTP(w http.ResponseWriter, r *http.Request) error {
	if strings.Trim(strings.TrimPrefix(r.URL.Path, AdminPrefix), "/") == backupPath {
		return a.serveBackup(w, r) // needs the store, not the engine
	}
	get := a.engine
	if get == nil {
		get = runningEngine
	}
	e, err := get()
	if err != nil {
		return err
	}
	q := &adminRequest{e: e, w: w, r: r}
	rest := strings.Trim(strings.TrimPrefix(r.URL.Path, AdminPrefix), "/")
	parts := strings.Split(rest, "/")
	switch {
	case len(parts) == 1 && parts[0] == "users":
		switch r.Method {
		case http.MethodGet:
			return q.listUsers()
		case http.MethodPost:
			return q.createUser()
		}
		return q.allow(http.MethodGet, http.MethodPost)
	case len(parts) == 2 && parts[0] == "users":
		switch r.Method {
		case http.MethodGet:
			return q.showUser(parts[1])
		case http.MethodDelete:
			return q.deleteUser(parts[1])
		}
		return q.allow(http.MethodGet, http.MethodDelete)
	case len(parts) == 3 && parts[0] == "users" && parts[2] == "role":
		if err := q.allow(http.MethodPost); err != nil {
			return err
		}
		return q.setRole(parts[1])
	case len(parts) == 3 && parts[0] == "users" && parts[2] == "password":
		if err := q.allow(http.MethodPost); err != nil {
			return err
		}
		return q.setPassword(parts[1])
	case len(parts) == 1 && parts[0] == "sessions":
		switch r.Method {
		case http.MethodGet:
			return q.listSessions()
		case http.MethodDelete:
			return q.revokeUserSessions()
		}
		return q.allow(http.MethodGet, http.MethodDelete)
	case parts[0] == apiKeysPath:
		return q.serveAPIKeys(parts)
	case len(parts) == 2 && parts[0] == "sessions":
		if err := q.allow(http.MethodDelete); err != nil {
			return err
		}
		return q.revokeSession(parts[1])
	case len(parts) == 2 && parts[0] == "secret" && parts[1] == "reencrypt":
		if err := q.allow(http.MethodPost); err != nil {
			return err
		}
		return q.reencrypt()
	}
	return apiErr(http.StatusNotFound, "unknown gatehouse admin endpoint %s", r.URL.Path)
}

// findUser resolves a user reference: an email address (anything with an @) or an id.
func (q *adminRequest) findUser(ref string) (storage.Record, error) {
	if ref == "" {
		return nil, apiErr(http.StatusBadRequest, "no user given (an id or an email address)")
	}
	var (
		u   storage.Record
		err error
	)
	if strings.Contains(ref, "@") {
		u, err = q.e.UserByEmail(q.ctx(), ref)
	} else {
		u, err = q.e.UserByID(q.ctx(), ref)
	}
	if err != nil {
		return nil, engineError("looking up user", err)
	}
	if u == nil {
		return nil, apiErr(http.StatusNotFound, "user %q not found", ref)
	}
	return u, nil
}

// userJSON is the public form of a user (engine.Public: no hidden fields).
func (q *adminRequest) userJSON(u storage.Record) map[string]any {
	return q.e.Public(authcore.ModelUser, u)
}

// intParam reads a non-negative integer query parameter.
func intParam(v url.Values, name string, def, maxVal int) (int, error) {
	s := v.Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || (maxVal > 0 && n > maxVal) {
		if maxVal > 0 {
			return 0, apiErr(http.StatusBadRequest, "%s: %q is not an integer between 0 and %d", name, s, maxVal)
		}
		return 0, apiErr(http.StatusBadRequest, "%s: %q is not a non-negative integer", name, s)
	}
	return n, nil
}

func (q *adminRequest) listUsers() error {
	v := q.r.URL.Query()
	limit, err := intParam(v, "limit", adminDefaultLimit, adminMaxLimit)
	if err != nil {
		return err
	}
	if limit == 0 {
		limit = adminDefaultLimit
	}
	offset, err := intParam(v, "offset", 0, 0)
	if err != nil {
		return err
	}
	var where storage.Where
	if s := v.Get("search"); s != "" {
		// Emails are stored lower-cased; names as given.
		where = storage.Or(storage.Contains("email", authcore.NormalizeEmail(s)), storage.Contains("name", s))
	}
	st := q.e.Store()
	total, err := st.Count(q.ctx(), authcore.ModelUser, where)
	if err != nil {
		return engineError("counting users", err)
	}
	recs, err := st.FindMany(q.ctx(), authcore.ModelUser, storage.Query{
		Where: where, Sort: []storage.SortField{{Field: "createdAt"}}, Limit: limit, Offset: offset,
	})
	if err != nil {
		return engineError("listing users", err)
	}
	users := make([]map[string]any, 0, len(recs))
	for _, u := range recs {
		users = append(users, q.userJSON(u))
	}
	return q.reply(http.StatusOK, map[string]any{"users": users, "total": total, "limit": limit, "offset": offset})
}

// rolePattern: one role or a comma-separated list, as the role field stores them.
var rolePattern = regexp.MustCompile(`^[A-Za-z0-9_.:-]+(,[A-Za-z0-9_.:-]+)*$`)

// checkRole refuses a role the role field could not hold as written.
func checkRole(role string) error {
	if len(role) > 256 || !rolePattern.MatchString(role) {
		return apiErr(http.StatusBadRequest, "invalid role %q: use letters, digits, '_', '.', ':' or '-', several roles separated by commas", role)
	}
	return nil
}

func (q *adminRequest) createUser() error {
	var in struct {
		Email         string `json:"email"`
		Name          string `json:"name"`
		Password      string `json:"password"`
		Role          string `json:"role"`
		EmailVerified bool   `json:"emailVerified"`
	}
	if err := q.decode(&in); err != nil {
		return err
	}
	email := authcore.NormalizeEmail(strings.TrimSpace(in.Email))
	if !authcore.ValidEmail(email) {
		return apiErr(http.StatusBadRequest, "invalid email %q", in.Email)
	}
	name := strings.TrimSpace(in.Name)
	if name == "" {
		return apiErr(http.StatusBadRequest, "a name is required")
	}
	if in.Password == "" {
		return apiErr(http.StatusBadRequest, "a password is required")
	}
	if in.Role != "" {
		if err := checkRole(in.Role); err != nil {
			return err
		}
	}
	// The same policy as sign-up (length, common passwords, D18). The allowed_domains list
	// is not applied: it limits self-service sign-up, and an operator is not signing up.
	if err := q.e.CheckNewPassword(in.Password); err != nil {
		return engineError("password refused", err)
	}
	hash, err := q.e.HashPassword(in.Password)
	if err != nil {
		return engineError("hashing password", err)
	}
	rec := storage.Record{"name": name, "email": email, "emailVerified": in.EmailVerified}
	if in.Role != "" {
		rec["role"] = in.Role
	}
	u, err := q.e.CreateUser(q.ctx(), rec, hash)
	if errors.Is(err, storage.ErrDuplicate) {
		return apiErr(http.StatusConflict, "a user with email %q already exists", email)
	}
	if err != nil {
		return engineError("creating user", err)
	}
	q.audit(authcore.AuditAdminCreateUser, u.ID(), "role", u.String("role"))
	return q.reply(http.StatusCreated, q.userJSON(u))
}

func (q *adminRequest) showUser(ref string) error {
	u, err := q.findUser(ref)
	if err != nil {
		return err
	}
	return q.reply(http.StatusOK, q.userJSON(u))
}

func (q *adminRequest) deleteUser(ref string) error {
	u, err := q.findUser(ref)
	if err != nil {
		return err
	}
	// Cascades to the user's sessions and accounts (schema on-delete), and bumps the user's
	// cache generation, so a cached session stops working at once (D6).
	if err := q.e.DeleteUser(q.ctx(), u.ID()); err != nil {
		return engineError("deleting user", err)
	}
	q.audit(authcore.AuditAdminRemoveUser, u.ID())
	return q.reply(http.StatusOK, map[string]any{"deleted": true, "user": q.userJSON(u)})
}

func (q *adminRequest) setRole(ref string) error {
	var in struct {
		Role string `json:"role"`
	}
	if err := q.decode(&in); err != nil {
		return err
	}
	if err := checkRole(in.Role); err != nil {
		return err
	}
	u, err := q.findUser(ref)
	if err != nil {
		return err
	}
	u, err = q.e.UpdateUser(q.ctx(), u.ID(), storage.Record{"role": in.Role})
	if err != nil {
		return engineError("setting role", err)
	}
	q.audit(authcore.AuditAdminSetRole, u.ID(), "role", in.Role)
	return q.reply(http.StatusOK, q.userJSON(u))
}

func (q *adminRequest) setPassword(ref string) error {
	var in struct {
		Password string `json:"password"`
	}
	if err := q.decode(&in); err != nil {
		return err
	}
	if in.Password == "" {
		return apiErr(http.StatusBadRequest, "a password is required")
	}
	u, err := q.findUser(ref)
	if err != nil {
		return err
	}
	if err := q.e.CheckNewPassword(in.Password); err != nil {
		return engineError("password refused", err)
	}
	if err := q.e.SetUserPassword(q.ctx(), u.ID(), in.Password); err != nil {
		return engineError("setting password", err)
	}
	// A password set by an operator is usually a reset after a compromise: every existing
	// session goes.
	n, err := q.e.RevokeUserSessions(q.ctx(), u.ID(), "")
	if err != nil {
		return engineError("revoking sessions", err)
	}
	q.audit(authcore.AuditAdminSetPassword, u.ID(), "revoked_sessions", strconv.Itoa(n))
	return q.reply(http.StatusOK, map[string]any{"user": q.userJSON(u), "revokedSessions": n})
}

// userParam resolves the required ?user= of the session routes.
func (q *adminRequest) userParam() (storage.Record, error) {
	ref := q.r.URL.Query().Get("user")
	if ref == "" {
		return nil, apiErr(http.StatusBadRequest, "the user query parameter is required (an id or an email address)")
	}
	return q.findUser(ref)
}

// listSessions lists a user's live sessions. Tokens are never shown (D3): session.token
// carries the opaque handle that revoke accepts, as /list-sessions does.
func (q *adminRequest) listSessions() error {
	u, err := q.userParam()
	if err != nil {
		return err
	}
	now := q.e.Clock().Now()
	recs, err := q.e.Store().FindMany(q.ctx(), authcore.ModelSession, storage.Query{
		Where: storage.And(storage.Eq("userId", u.ID()), storage.Gt("expiresAt", now)),
		Sort:  []storage.SortField{{Field: "createdAt"}},
	})
	if err != nil {
		return engineError("listing sessions", err)
	}
	maxAge := q.e.Config().Session.MaxAge
	out := make([]map[string]any, 0, len(recs))
	for _, rec := range recs {
		if maxAge > 0 && !rec.Time("createdAt").Add(maxAge).After(now) {
			continue // past its absolute lifetime: dead, the sweeper removes it
		}
		s := q.e.Public(authcore.ModelSession, rec)
		s["token"] = q.e.SessionHandle(rec.ID())
		out = append(out, s)
	}
	return q.reply(http.StatusOK, map[string]any{"user": q.userJSON(u), "sessions": out})
}

func (q *adminRequest) revokeUserSessions() error {
	u, err := q.userParam()
	if err != nil {
		return err
	}
	n, err := q.e.RevokeUserSessions(q.ctx(), u.ID(), "")
	if err != nil {
		return engineError("revoking sessions", err)
	}
	q.audit(authcore.AuditAdminRevokeSessions, u.ID(), "revoked_sessions", strconv.Itoa(n))
	return q.reply(http.StatusOK, map[string]any{"revoked": n})
}

// sessionID accepts a listing handle (id.mac, checked) or a bare session id.
func (q *adminRequest) sessionID(ref string) (string, error) {
	id, _, isHandle := strings.Cut(ref, ".")
	if id == "" {
		return "", apiErr(http.StatusBadRequest, "invalid session handle")
	}
	if isHandle && subtle.ConstantTimeCompare([]byte(q.e.SessionHandle(id)), []byte(ref)) != 1 {
		return "", apiErr(http.StatusBadRequest, "invalid session handle (made with another secret?)")
	}
	return id, nil
}

func (q *adminRequest) revokeSession(ref string) error {
	if q.r.URL.Query().Has("user") {
		return apiErr(http.StatusBadRequest, "give either a session handle or ?user=, not both")
	}
	id, err := q.sessionID(ref)
	if err != nil {
		return err
	}
	sess, err := q.e.Store().FindOne(q.ctx(), authcore.ModelSession, storage.ByID(id))
	if errors.Is(err, storage.ErrNotFound) {
		return apiErr(http.StatusNotFound, "session not found")
	}
	if err != nil {
		return engineError("looking up session", err)
	}
	if err := q.e.RevokeSession(q.ctx(), id); err != nil {
		return engineError("revoking session", err)
	}
	q.audit(authcore.AuditAdminRevokeSession, sess.String("userId"), "session_id", id)
	return q.reply(http.StatusOK, map[string]any{"revoked": 1})
}

// Interface guards
var _ caddy.AdminRouter = (*AdminAPI)(nil)
