package admin

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// Route paths (relative to the base path).
const (
	PathSetRole            = "/admin/set-role"
	PathGetUser            = "/admin/get-user"
	PathCreateUser         = "/admin/create-user"
	PathUpdateUser         = "/admin/update-user"
	PathListUsers          = "/admin/list-users"
	PathListUserSessions   = "/admin/list-user-sessions"
	PathBanUser            = "/admin/ban-user"
	PathUnbanUser          = "/admin/unban-user"
	PathImpersonateUser    = "/admin/impersonate-user"
	PathStopImpersonating  = "/admin/stop-impersonating"
	PathRevokeUserSession  = "/admin/revoke-user-session"
	PathRevokeUserSessions = "/admin/revoke-user-sessions"
	PathRemoveUser         = "/admin/remove-user"
	PathSetUserPassword    = "/admin/set-user-password"
	PathHasPermission      = "/admin/has-permission"
	PathListAuditEvents    = "/admin/list-audit-events"
)

var tags = []string{"Admin"}

func (p *Plugin) endpoints() []authcore.Endpoint {
	forbidden := func(codes ...authcore.ErrorCode) []authcore.ErrorCode {
		return append([]authcore.ErrorCode{authcore.CodeUnauthorized}, codes...)
	}
	return []authcore.Endpoint{
		{Method: "POST", Path: PathSetRole, Audit: authcore.AuditAdminSetRole, Handler: p.setRole, Tags: tags, Summary: "Set the role of a user",
			Response: authcore.ObjectOf(map[string]any{"user": authcore.ModelRef(authcore.ModelUser)}, "user"),
			Body:     []authcore.Param{authcore.String("userId").Req(), authcore.StringOrArray("role").Req()},
			Errors:   forbidden(CodeNotAllowedToChangeUsersRole, CodeNotAllowedToSetNonExistentValue, CodeInvalidRoleType, authcore.CodeUserNotFound)},
		{Method: "GET", Path: PathGetUser, Handler: p.getUser, Tags: tags, Summary: "Get an existing user",
			Response: authcore.ModelRef(authcore.ModelUser),
			Query:    []authcore.Param{authcore.String("id").Req()},
			Errors:   forbidden(CodeNotAllowedToGetUser, authcore.CodeUserNotFound)},
		{Method: "POST", Path: PathCreateUser, Audit: authcore.AuditAdminCreateUser, Handler: p.createUser, Tags: tags, Summary: "Create a new user",
			Response: authcore.ObjectOf(map[string]any{"user": authcore.ModelRef(authcore.ModelUser)}, "user"),
			Body: []authcore.Param{authcore.String("email").Req(), authcore.String("name").Req(), authcore.String("password"),
				authcore.StringOrArray("role"), authcore.Object("data")},
			Errors: forbidden(CodeNotAllowedToCreateUsers, CodeNotAllowedToChangeUsersRole, CodeNotAllowedToBanUsers,
				CodeInvalidRoleType, CodeNotAllowedToSetNonExistentValue, authcore.CodeInvalidEmail,
				CodeUserAlreadyExistsUseAnotherEmail, CodeFailedToCreateUser)},
		{Method: "POST", Path: PathUpdateUser, Audit: authcore.AuditAdminUpdateUser, Handler: p.updateUser, Tags: tags, Summary: "Update a user",
			Response: authcore.ModelRef(authcore.ModelUser),
			Body:     []authcore.Param{authcore.String("userId").Req(), authcore.Object("data").Req()},
			Errors: forbidden(CodeNotAllowedToUpdateUsers, CodeNoDataToUpdate, CodePasswordCannotBeUpdatedViaUpdate,
				CodeNotAllowedToChangeUsersRole, CodeInvalidRoleType, CodeNotAllowedToSetNonExistentValue,
				CodeNotAllowedToBanUsers, CodeYouCannotBanYourself, CodeNotAllowedToSetUsersEmail, authcore.CodeInvalidEmail,
				CodeUserAlreadyExistsUseAnotherEmail, authcore.CodeUserNotFound)},
		{Method: "GET", Path: PathListUsers, Handler: p.listUsers, Tags: tags, Summary: "List users",
			Response: authcore.ObjectOf(map[string]any{"users": authcore.ArrayOf(authcore.ModelRef(authcore.ModelUser)), "total": "integer", "limit": "integer", "offset": "integer"}, "users", "total"),
			Query: []authcore.Param{authcore.String("searchValue"), authcore.String("searchField"), authcore.String("searchOperator"),
				authcore.String("limit"), authcore.String("offset"), authcore.String("sortBy"), authcore.String("sortDirection"),
				authcore.String("filterField"), authcore.Any("filterValue"), authcore.String("filterOperator")},
			Errors: forbidden(CodeNotAllowedToListUsers)},
		{Method: "POST", Path: PathListUserSessions, Handler: p.listUserSessions, Tags: tags, Summary: "List user sessions",
			Response: authcore.ObjectOf(map[string]any{"sessions": authcore.ArrayOf(authcore.ModelRef(authcore.ModelSession))}, "sessions"),
			Body:     []authcore.Param{authcore.String("userId").Req()}, NoStore: true,
			Errors: forbidden(CodeNotAllowedToListUsersSessions)},
		{Method: "POST", Path: PathBanUser, Audit: authcore.AuditAdminBanUser, Handler: p.banUser, Tags: tags, Summary: "Ban a user",
			Response: authcore.ObjectOf(map[string]any{"user": authcore.ModelRef(authcore.ModelUser)}, "user"),
			Body:     []authcore.Param{authcore.String("userId").Req(), authcore.String("banReason"), authcore.Number("banExpiresIn")},
			Errors:   forbidden(CodeNotAllowedToBanUsers, authcore.CodeUserNotFound, CodeYouCannotBanYourself)},
		{Method: "POST", Path: PathUnbanUser, Audit: authcore.AuditAdminUnbanUser, Handler: p.unbanUser, Tags: tags, Summary: "Unban a user",
			Response: authcore.ObjectOf(map[string]any{"user": authcore.ModelRef(authcore.ModelUser)}, "user"),
			Body:     []authcore.Param{authcore.String("userId").Req()},
			Errors:   forbidden(CodeNotAllowedToBanUsers, authcore.CodeUserNotFound)},
		{Method: "POST", Path: PathImpersonateUser, Audit: authcore.AuditAdminImpersonate, Handler: p.impersonateUser, Tags: tags, Summary: "Impersonate a user",
			Response: authcore.ObjectOf(map[string]any{"session": authcore.ModelRef(authcore.ModelSession), "user": authcore.ModelRef(authcore.ModelUser)}, "session", "user"),
			Body:     []authcore.Param{authcore.String("userId").Req()}, NoStore: true,
			Errors: forbidden(CodeNotAllowedToImpersonateUsers, authcore.CodeUserNotFound, CodeYouCannotImpersonateAdmins, CodeBannedUser)},
		{Method: "POST", Path: PathStopImpersonating, Audit: authcore.AuditAdminStopImpersonating, Handler: p.stopImpersonating, Tags: tags, Summary: "Stop impersonating a user",
			Response:     authcore.ObjectOf(map[string]any{"session": authcore.ModelRef(authcore.ModelSession), "user": authcore.ModelRef(authcore.ModelUser)}, "session", "user"),
			BodyOptional: true, NoStore: true, Errors: forbidden()},
		{Method: "POST", Path: PathRevokeUserSession, Audit: authcore.AuditAdminRevokeSession, Handler: p.revokeUserSession, Tags: tags, Summary: "Revoke a user session",
			Response: authcore.ObjectOf(map[string]any{"success": "boolean"}, "success"),
			Body:     []authcore.Param{authcore.String("sessionToken").Req()},
			Errors:   forbidden(CodeNotAllowedToRevokeUsersSessions)},
		{Method: "POST", Path: PathRevokeUserSessions, Audit: authcore.AuditAdminRevokeSessions, Handler: p.revokeUserSessions, Tags: tags, Summary: "Revoke all user sessions",
			Response: authcore.ObjectOf(map[string]any{"success": "boolean"}, "success"),
			Body:     []authcore.Param{authcore.String("userId").Req()},
			Errors:   forbidden(CodeNotAllowedToRevokeUsersSessions)},
		{Method: "POST", Path: PathRemoveUser, Audit: authcore.AuditAdminRemoveUser, Handler: p.removeUser, Tags: tags, Summary: "Remove a user",
			Response: authcore.ObjectOf(map[string]any{"success": "boolean"}, "success"),
			Body:     []authcore.Param{authcore.String("userId").Req()},
			Errors:   forbidden(CodeNotAllowedToDeleteUsers, CodeYouCannotRemoveYourself, authcore.CodeUserNotFound)},
		{Method: "POST", Path: PathSetUserPassword, Audit: authcore.AuditAdminSetPassword, Handler: p.setUserPassword, Tags: tags, Summary: "Set a user's password",
			Response: authcore.ObjectOf(map[string]any{"status": "boolean"}, "status"),
			Body:     []authcore.Param{authcore.String("newPassword").Req().Len(1, 0), authcore.String("userId").Req().Len(1, 0)},
			Errors: forbidden(CodeNotAllowedToSetUsersPassword, authcore.CodePasswordTooShort, authcore.CodePasswordTooLong,
				authcore.CodePasswordTooCommon, authcore.CodeUserNotFound)},
		p.listAuditEventsEndpoint(forbidden(CodeNotAllowedToListAuditEvents, CodeAuditEventsNotStored, authcore.CodeValidationError)),
		{Method: "POST", Path: PathHasPermission, Handler: p.hasPermission, Tags: tags, Summary: "Check if the user has permission",
			Response: authcore.ObjectOf(map[string]any{"error": "null", "success": "boolean"}, "error", "success"),
			Body:     []authcore.Param{authcore.String("userId"), authcore.String("role"), authcore.Object("permissions"), authcore.Object("permission")},
			Errors:   forbidden()},
	}
}

// errUnauthorized is Better Auth's APIError.fromStatus("UNAUTHORIZED"): 401, no body.
func errUnauthorized() *authcore.Error {
	return &authcore.Error{Status: http.StatusUnauthorized, Empty: true}
}

// session returns the caller's session read from storage (authoritative: a role downgrade
// or a ban counts at once), or 401 with an empty body.
func (p *Plugin) session(c *authcore.Call) (*authcore.Session, error) {
	s, err := c.Session()
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, errUnauthorized()
	}
	return s, nil
}

// can reports whether the session's user is an administrator holding perms.
func (p *Plugin) can(s *authcore.Session, perms Permissions) bool {
	return p.IsAdmin(s.User) && p.allows(s.UserID(), s.User.String("role"), perms)
}

// require returns the caller's session when it is an administrator holding the permission
// resource:action, 401 without a session and 403 code otherwise.
func (p *Plugin) require(c *authcore.Call, resource, action string, code authcore.ErrorCode) (*authcore.Session, error) {
	s, err := p.session(c)
	if err != nil {
		return nil, err
	}
	if !p.can(s, Permissions{resource: {action}}) {
		return nil, code.With(http.StatusForbidden)
	}
	return s, nil
}

func (p *Plugin) userJSON(u storage.Record) map[string]any {
	return p.engine.Public(authcore.ModelUser, u)
}

func (p *Plugin) findUser(c *authcore.Call, id string) (storage.Record, error) {
	u, err := p.engine.UserByID(c.Context(), id)
	if err != nil {
		return nil, authcore.Internal(err)
	}
	if u == nil {
		return nil, authcore.CodeUserNotFound.With(http.StatusNotFound)
	}
	return u, nil
}

// parseRoles turns a role value (a string or an array of strings) into the stored comma
// list. Non-strings and empty roles answer 400 INVALID_ROLE_TYPE; with custom roles
// configured, unknown roles answer 400 YOU_ARE_NOT_ALLOWED_TO_SET_NON_EXISTENT_VALUE.
func (p *Plugin) parseRoles(v any) (string, error) {
	var in []any
	switch x := v.(type) {
	case string:
		in = []any{x}
	case []any:
		in = x
	default:
		return "", CodeInvalidRoleType.With(http.StatusBadRequest)
	}
	if len(in) == 0 {
		return "", CodeInvalidRoleType.With(http.StatusBadRequest)
	}
	parts := make([]string, 0, len(in))
	for _, r := range in {
		s, ok := r.(string)
		if !ok || len(authcore.SplitRoles(s)) == 0 || len(s) > 1024 || strings.ContainsRune(s, 0) {
			return "", CodeInvalidRoleType.With(http.StatusBadRequest)
		}
		if len(p.Roles) > 0 {
			for _, one := range authcore.SplitRoles(s) {
				if _, known := p.roles[one]; !known {
					return "", CodeNotAllowedToSetNonExistentValue.With(http.StatusBadRequest)
				}
			}
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ","), nil
}

// setRole is POST /admin/set-role.
func (p *Plugin) setRole(c *authcore.Call) (any, error) {
	c.AuditSubject(c.Body.String("userId"))
	if _, err := p.require(c, "user", "set-role", CodeNotAllowedToChangeUsersRole); err != nil {
		return nil, err
	}
	role, err := p.parseRoles(c.Body["role"])
	if err != nil {
		return nil, err
	}
	c.AuditDetail("role", role)
	id := c.Body.String("userId")
	if _, err := p.findUser(c, id); err != nil {
		return nil, err
	}
	u, err := p.engine.UpdateUser(c.Context(), id, storage.Record{"role": role})
	if err != nil {
		return nil, authcore.AsError(err)
	}
	return map[string]any{"user": p.userJSON(u)}, nil
}

// getUser is GET /admin/get-user.
func (p *Plugin) getUser(c *authcore.Call) (any, error) {
	if _, err := p.require(c, "user", "get", CodeNotAllowedToGetUser); err != nil {
		return nil, err
	}
	u, err := p.findUser(c, c.Query.String("id"))
	if err != nil {
		return nil, err
	}
	return p.userJSON(u), nil
}

var banFields = []string{FieldBanned, FieldBanReason, FieldBanExpires}

// userData converts the data object of create-user/update-user into user fields: only
// fields of the user model, each of its type; id and timestamps are never set; role is
// handled by the caller.
func (p *Plugin) userData(data authcore.Values) (storage.Record, error) {
	m, _ := p.engine.Schema().Model(authcore.ModelUser)
	out := storage.Record{}
	for k, v := range data {
		if k == "role" {
			continue
		}
		if k == "id" || k == "createdAt" || k == "updatedAt" {
			return nil, authcore.CodeFieldNotAllowed.With(http.StatusBadRequest)
		}
		f, ok := m.Field(k)
		if !ok {
			return nil, validation("data."+k, "Unknown field")
		}
		cv, problem := authcore.FieldValue(f, v)
		if problem != "" {
			return nil, validation("data."+k, problem)
		}
		out[k] = cv
	}
	return out, nil
}

func validation(field, msg string) *authcore.Error {
	return &authcore.Error{Status: http.StatusBadRequest, Code: authcore.CodeValidationError.Code, Message: fmt.Sprintf("[body.%s] %s", field, msg)}
}

// createUser is POST /admin/create-user. Over HTTP it always needs an administrator's
// session (Better Auth allows a session-less call only in process).
func (p *Plugin) createUser(c *authcore.Call) (any, error) {
	s, err := p.require(c, "user", "create", CodeNotAllowedToCreateUsers)
	if err != nil {
		return nil, err
	}
	data := c.Body.Object("data")
	roleVal, hasRole := c.Body["role"]
	if !hasRole || roleVal == nil {
		roleVal, hasRole = data["role"]
	}
	role := p.defaultRole
	if hasRole {
		if !p.can(s, Permissions{"user": {"set-role"}}) {
			return nil, CodeNotAllowedToChangeUsersRole.With(http.StatusForbidden)
		}
		if role, err = p.parseRoles(roleVal); err != nil {
			return nil, err
		}
	}
	if slices.ContainsFunc(banFields, data.Has) && !p.can(s, Permissions{"user": {"ban"}}) {
		return nil, CodeNotAllowedToBanUsers.With(http.StatusForbidden)
	}
	email := strings.ToLower(c.Body.String("email"))
	if !authcore.ValidEmail(email) {
		return nil, authcore.CodeInvalidEmail.With(http.StatusBadRequest)
	}
	rec, err := p.userData(data)
	if err != nil {
		return nil, err
	}
	delete(rec, "email")
	delete(rec, "name")
	hash := ""
	if pw := c.Body.String("password"); pw != "" {
		if err := p.engine.CheckNewPassword(pw); err != nil {
			return nil, err
		}
		if hash, err = p.engine.HashPassword(pw); err != nil {
			return nil, authcore.AsError(err)
		}
	}
	existing, err := p.engine.UserByEmail(c.Context(), email)
	if err != nil {
		return nil, authcore.Internal(err)
	}
	if existing != nil {
		return nil, CodeUserAlreadyExistsUseAnotherEmail.With(http.StatusBadRequest)
	}
	rec["email"], rec["name"], rec["role"] = email, c.Body.String("name"), role
	if _, ok := rec["emailVerified"]; !ok {
		rec["emailVerified"] = false
	}
	u, err := p.engine.CreateUser(c.Context(), rec, hash)
	if errors.Is(err, storage.ErrDuplicate) {
		return nil, CodeUserAlreadyExistsUseAnotherEmail.With(http.StatusBadRequest)
	}
	if err != nil {
		return nil, CodeFailedToCreateUser.With(http.StatusInternalServerError).Wrap(err)
	}
	c.AuditSubject(u.ID())
	c.AuditDetail("role", role)
	return map[string]any{"user": p.userJSON(u)}, nil
}

// updateUser is POST /admin/update-user: each kind of field needs its own permission.
func (p *Plugin) updateUser(c *authcore.Call) (any, error) {
	c.AuditSubject(c.Body.String("userId"))
	s, err := p.require(c, "user", "update", CodeNotAllowedToUpdateUsers)
	if err != nil {
		return nil, err
	}
	data := c.Body.Object("data")
	if len(data) == 0 {
		return nil, CodeNoDataToUpdate.With(http.StatusBadRequest)
	}
	if data.Has("password") {
		return nil, CodePasswordCannotBeUpdatedViaUpdate.With(http.StatusBadRequest)
	}
	id := c.Body.String("userId")
	set := storage.Record{}
	if data.Has("role") {
		if !p.can(s, Permissions{"user": {"set-role"}}) {
			return nil, CodeNotAllowedToChangeUsersRole.With(http.StatusForbidden)
		}
		role, err := p.parseRoles(data["role"])
		if err != nil {
			return nil, err
		}
		set["role"] = role
	}
	if slices.ContainsFunc(banFields, data.Has) {
		if !p.can(s, Permissions{"user": {"ban"}}) {
			return nil, CodeNotAllowedToBanUsers.With(http.StatusForbidden)
		}
		if b, _ := data[FieldBanned].(bool); b && id == s.UserID() {
			return nil, CodeYouCannotBanYourself.With(http.StatusBadRequest)
		}
	}
	if data.Has("email") || data.Has("emailVerified") {
		if !p.can(s, Permissions{"user": {"set-email"}}) {
			return nil, CodeNotAllowedToSetUsersEmail.With(http.StatusForbidden)
		}
	}
	rec, err := p.userData(data)
	if err != nil {
		return nil, err
	}
	if data.Has("email") {
		email := strings.ToLower(rec.String("email"))
		if !authcore.ValidEmail(email) {
			return nil, authcore.CodeInvalidEmail.With(http.StatusBadRequest)
		}
		other, err := p.engine.UserByEmail(c.Context(), email)
		if err != nil {
			return nil, authcore.Internal(err)
		}
		if other != nil && other.ID() != id {
			return nil, CodeUserAlreadyExistsUseAnotherEmail.With(http.StatusBadRequest)
		}
		rec["email"] = email
	}
	for k, v := range rec {
		set[k] = v
	}
	if _, err := p.findUser(c, id); err != nil {
		return nil, err
	}
	u, err := p.engine.UpdateUser(c.Context(), id, set)
	if errors.Is(err, storage.ErrDuplicate) {
		return nil, CodeUserAlreadyExistsUseAnotherEmail.With(http.StatusBadRequest)
	}
	if err != nil {
		return nil, authcore.AsError(err)
	}
	if u.Bool(FieldBanned) && data.Has(FieldBanned) {
		if _, err := p.engine.RevokeUserSessions(c.Context(), id, ""); err != nil {
			return nil, err
		}
	}
	return p.userJSON(u), nil
}

var (
	searchFields    = []string{"email", "name"}
	searchOperators = []string{"contains", "starts_with", "ends_with"}
	filterOperators = []string{"eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in", "contains", "starts_with", "ends_with"}
)

func oneOf(c *authcore.Call, name string, values []string, def string) (string, error) {
	v := c.Query.String(name)
	if v == "" && !c.Query.Has(name) {
		return def, nil
	}
	if !slices.Contains(values, v) {
		return "", &authcore.Error{Status: http.StatusBadRequest, Code: authcore.CodeValidationError.Code,
			Message: fmt.Sprintf("[query.%s] Invalid option: expected one of %s", name, strings.Join(values, "|"))}
	}
	return v, nil
}

// queryValue converts a query-string value into the type of field f (a list for in/not_in).
func queryValue(f *storage.Field, op string, v any) (any, bool) {
	one := func(x any) (any, bool) {
		s, ok := x.(string)
		if !ok {
			if b, ok := x.(bool); ok && f.Type == storage.TypeBoolean {
				return b, true
			}
			if n, ok := x.(json.Number); ok && f.Type == storage.TypeNumber {
				i, err := n.Int64()
				return i, err == nil
			}
			return nil, false
		}
		switch f.Type {
		case storage.TypeString:
			return s, true
		case storage.TypeBoolean:
			b, err := strconv.ParseBool(s)
			return b, err == nil
		case storage.TypeNumber:
			i, err := strconv.ParseInt(s, 10, 64)
			return i, err == nil
		case storage.TypeDate:
			t, err := time.Parse(time.RFC3339Nano, s)
			return t, err == nil
		}
		return nil, false
	}
	if op == "in" || op == "not_in" {
		var in []any
		switch x := v.(type) {
		case []any:
			in = x
		case string:
			for _, s := range strings.Split(x, ",") {
				in = append(in, s)
			}
		default:
			in = []any{x}
		}
		out := make([]any, 0, len(in))
		for _, x := range in {
			cv, ok := one(x)
			if !ok {
				return nil, false
			}
			out = append(out, cv)
		}
		return out, true
	}
	return one(v)
}

func positive(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0
	}
	return n
}

// listUsers is GET /admin/list-users.
func (p *Plugin) listUsers(c *authcore.Call) (any, error) {
	if _, err := p.require(c, "user", "list", CodeNotAllowedToListUsers); err != nil {
		return nil, err
	}
	searchField, err := oneOf(c, "searchField", searchFields, "email")
	if err != nil {
		return nil, err
	}
	searchOp, err := oneOf(c, "searchOperator", searchOperators, "contains")
	if err != nil {
		return nil, err
	}
	sortDir, err := oneOf(c, "sortDirection", []string{"asc", "desc"}, "asc")
	if err != nil {
		return nil, err
	}
	filterOp, err := oneOf(c, "filterOperator", filterOperators, "eq")
	if err != nil {
		return nil, err
	}
	empty := map[string]any{"users": []any{}, "total": 0}
	m, _ := p.engine.Schema().Model(authcore.ModelUser)
	var where []storage.Where
	if sv := c.Query.String("searchValue"); sv != "" {
		where = append(where, storage.Where{Field: searchField, Op: storage.Op(searchOp), Value: sv})
	}
	if fv, ok := c.Query["filterValue"]; ok && fv != nil {
		field := c.Query.String("filterField")
		if field == "" {
			field = "email"
		}
		f, ok := m.Field(field)
		if !ok || f.Hidden {
			return empty, nil
		}
		v, ok := queryValue(f, filterOp, fv)
		if !ok {
			return empty, nil
		}
		where = append(where, storage.Where{Field: field, Op: storage.Op(filterOp), Value: v})
	}
	q := storage.Query{Where: storage.And(where...)}
	limit, offset := positive(c.Query.String("limit")), positive(c.Query.String("offset"))
	q.Limit, q.Offset = limit, offset
	if sb := c.Query.String("sortBy"); sb != "" {
		if f, ok := m.Field(sb); !ok || f.Hidden {
			return empty, nil
		}
		q.Sort = []storage.SortField{{Field: sb, Desc: sortDir == "desc"}}
	} else {
		q.Sort = []storage.SortField{{Field: "createdAt"}}
	}
	recs, err := p.engine.Store().FindMany(c.Context(), authcore.ModelUser, q)
	if err != nil {
		return empty, nil
	}
	total, err := p.engine.Store().Count(c.Context(), authcore.ModelUser, q.Where)
	if err != nil {
		return empty, nil
	}
	users := make([]map[string]any, 0, len(recs))
	for _, u := range recs {
		users = append(users, p.userJSON(u))
	}
	out := map[string]any{"users": users, "total": total}
	if limit > 0 {
		out["limit"] = limit
	}
	if offset > 0 {
		out["offset"] = offset
	}
	return out, nil
}

// listUserSessions is POST /admin/list-user-sessions: the user's live sessions, tokens
// replaced by handles (D3), impersonation sessions included (with impersonatedBy).
func (p *Plugin) listUserSessions(c *authcore.Call) (any, error) {
	if _, err := p.require(c, "session", "list", CodeNotAllowedToListUsersSessions); err != nil {
		return nil, err
	}
	recs, err := p.engine.Store().FindMany(c.Context(), authcore.ModelSession, storage.Query{
		Where: storage.And(storage.Eq("userId", c.Body.String("userId")), storage.Gt("expiresAt", p.engine.Clock().Now())),
		Sort:  []storage.SortField{{Field: "createdAt"}},
	})
	if err != nil {
		return nil, authcore.Internal(err)
	}
	out := make([]map[string]any, 0, len(recs))
	for _, r := range recs {
		s := p.engine.Public(authcore.ModelSession, r)
		s["token"] = p.engine.SessionHandle(r.ID())
		out = append(out, s)
	}
	return map[string]any{"sessions": out}, nil
}

// banUser is POST /admin/ban-user: stores the ban and ends every session of the user.
func (p *Plugin) banUser(c *authcore.Call) (any, error) {
	c.AuditSubject(c.Body.String("userId"))
	s, err := p.require(c, "user", "ban", CodeNotAllowedToBanUsers)
	if err != nil {
		return nil, err
	}
	id := c.Body.String("userId")
	if _, err := p.findUser(c, id); err != nil {
		return nil, err
	}
	if id == s.UserID() {
		return nil, CodeYouCannotBanYourself.With(http.StatusBadRequest)
	}
	reason := c.Body.String("banReason")
	if reason == "" {
		reason = p.banReason
	}
	var expires any
	now := p.engine.Clock().Now()
	if n, ok := c.Body.Int("banExpiresIn"); ok && n != 0 {
		if n < 0 || n > 100*365*24*3600 {
			return nil, validation("banExpiresIn", "Invalid input: expected a positive number of seconds")
		}
		expires = now.Add(time.Duration(n) * time.Second)
	} else if c.Body.Has("banExpiresIn") && !ok && c.Body["banExpiresIn"] != nil {
		return nil, validation("banExpiresIn", "Invalid input: expected a whole number of seconds")
	} else if d := p.DefaultBanExpiresIn.D(); d > 0 {
		expires = now.Add(d)
	}
	u, err := p.engine.UpdateUser(c.Context(), id, storage.Record{
		FieldBanned: true, FieldBanReason: reason, FieldBanExpires: expires,
	})
	if err != nil {
		return nil, authcore.AsError(err)
	}
	if _, err := p.engine.RevokeUserSessions(c.Context(), id, ""); err != nil {
		return nil, err
	}
	return map[string]any{"user": p.userJSON(u)}, nil
}

// unbanUser is POST /admin/unban-user.
func (p *Plugin) unbanUser(c *authcore.Call) (any, error) {
	c.AuditSubject(c.Body.String("userId"))
	if _, err := p.require(c, "user", "ban", CodeNotAllowedToBanUsers); err != nil {
		return nil, err
	}
	id := c.Body.String("userId")
	if _, err := p.findUser(c, id); err != nil {
		return nil, err
	}
	u, err := p.engine.UpdateUser(c.Context(), id, storage.Record{
		FieldBanned: false, FieldBanReason: nil, FieldBanExpires: nil,
	})
	if err != nil {
		return nil, authcore.AsError(err)
	}
	return map[string]any{"user": p.userJSON(u)}, nil
}

// impersonateUser is POST /admin/impersonate-user.
func (p *Plugin) impersonateUser(c *authcore.Call) (any, error) {
	c.AuditSubject(c.Body.String("userId"))
	s, err := p.require(c, "user", "impersonate", CodeNotAllowedToImpersonateUsers)
	if err != nil {
		return nil, err
	}
	// No nesting: an impersonation session never starts another (ADM-02).
	if s.Session.String(FieldImpersonatedBy) != "" {
		return nil, CodeNotAllowedToImpersonateUsers.With(http.StatusForbidden)
	}
	target, err := p.findUser(c, c.Body.String("userId"))
	if err != nil {
		return nil, err
	}
	if p.IsAdmin(target) && !p.AllowImpersonatingAdmins && !p.can(s, Permissions{"user": {"impersonate-admins"}}) {
		return nil, CodeYouCannotImpersonateAdmins.With(http.StatusForbidden)
	}
	if target.ID() == s.UserID() {
		return nil, CodeNotAllowedToImpersonateUsers.With(http.StatusForbidden)
	}
	if err := p.checkBan(c, target.ID()); err != nil {
		return nil, err
	}
	_, dontRemember := c.SignedCookie(authcore.CookieDontRemember)
	adminCookieAge := p.engine.Config().Session.ExpiresIn
	flag := ""
	if dontRemember {
		adminCookieAge, flag = -1, "true"
	}
	imp, err := c.StartSession(target, true)
	if err != nil {
		return nil, err
	}
	rec, err := p.engine.Store().Update(c.Context(), authcore.ModelSession, storage.ByID(imp.ID()), storage.Record{
		FieldImpersonatedBy: s.UserID(),
		"expiresAt":         p.engine.Clock().Now().Add(p.impDur),
	})
	if err != nil {
		_ = p.engine.RevokeSession(c.Context(), imp.ID())
		return nil, authcore.Internal(err)
	}
	imp = &authcore.Session{Session: rec, User: target, Token: imp.Token}
	c.AuditDetail("impersonation_session_id", imp.ID())
	c.SetSessionCookies(imp, true)
	c.NewSession = imp
	c.SetSession(imp)
	c.SetSignedCookie(CookieAdminSession, s.Token+":"+flag, adminCookieAge)
	return p.engine.SessionJSON(imp), nil
}

// stopImpersonating is POST /admin/stop-impersonating: ends the impersonation session and
// gives the admin a fresh session (their previous one, kept in admin_session, is rotated).
func (p *Plugin) stopImpersonating(c *authcore.Call) (any, error) {
	s, err := p.session(c)
	if err != nil {
		return nil, err
	}
	by := s.Session.String(FieldImpersonatedBy)
	if by == "" {
		return nil, authcore.NewError(http.StatusBadRequest, MsgNotImpersonating)
	}
	notFound := authcore.NewError(http.StatusForbidden, MsgAdminSessionNotFound)
	v, ok := c.SignedCookie(CookieAdminSession)
	if !ok {
		return nil, notFound
	}
	tok, flag, _ := strings.Cut(v, ":")
	admin, err := p.engine.SessionByToken(c.Context(), tok)
	if err != nil {
		return nil, err
	}
	if admin == nil || admin.UserID() != by {
		return nil, notFound
	}
	// Consuming the impersonation session makes stop single-use under concurrent calls:
	// exactly one caller restores the admin's session.
	if _, err := p.engine.Store().ConsumeOne(c.Context(), authcore.ModelSession, storage.ByID(s.ID())); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return nil, errUnauthorized()
		}
		return nil, authcore.Internal(err)
	}
	ns, err := c.StartSession(admin.User, flag != "")
	if err != nil {
		return nil, err
	}
	if flag == "" {
		c.ExpireCookie(authcore.CookieDontRemember)
	}
	if err := p.engine.RevokeSession(c.Context(), admin.ID()); err != nil {
		return nil, err
	}
	c.ExpireCookie(CookieAdminSession)
	return p.engine.SessionJSON(ns), nil
}

// sessionWhere finds a session from a bare token or a listing handle.
func (p *Plugin) sessionWhere(tok string) storage.Where {
	if id, _, ok := strings.Cut(tok, "."); ok && id != "" {
		if subtle.ConstantTimeCompare([]byte(p.engine.SessionHandle(id)), []byte(tok)) == 1 {
			return storage.ByID(id)
		}
	}
	return storage.Eq("token", authcore.HashToken(tok))
}

// revokeUserSession is POST /admin/revoke-user-session.
func (p *Plugin) revokeUserSession(c *authcore.Call) (any, error) {
	if _, err := p.require(c, "session", "revoke", CodeNotAllowedToRevokeUsersSessions); err != nil {
		return nil, err
	}
	err := p.engine.Store().Delete(c.Context(), authcore.ModelSession, p.sessionWhere(c.Body.String("sessionToken")))
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return nil, authcore.Internal(err)
	}
	return map[string]any{"success": true}, nil
}

// revokeUserSessions is POST /admin/revoke-user-sessions.
func (p *Plugin) revokeUserSessions(c *authcore.Call) (any, error) {
	c.AuditSubject(c.Body.String("userId"))
	if _, err := p.require(c, "session", "revoke", CodeNotAllowedToRevokeUsersSessions); err != nil {
		return nil, err
	}
	if _, err := p.engine.RevokeUserSessions(c.Context(), c.Body.String("userId"), ""); err != nil {
		return nil, err
	}
	return map[string]any{"success": true}, nil
}

// removeUser is POST /admin/remove-user.
func (p *Plugin) removeUser(c *authcore.Call) (any, error) {
	c.AuditSubject(c.Body.String("userId"))
	s, err := p.require(c, "user", "delete", CodeNotAllowedToDeleteUsers)
	if err != nil {
		return nil, err
	}
	id := c.Body.String("userId")
	if id == s.UserID() {
		return nil, CodeYouCannotRemoveYourself.With(http.StatusBadRequest)
	}
	if _, err := p.findUser(c, id); err != nil {
		return nil, err
	}
	if _, err := p.engine.RevokeUserSessions(c.Context(), id, ""); err != nil {
		return nil, err
	}
	if err := p.engine.DeleteUser(c.Context(), id); err != nil {
		return nil, err
	}
	return map[string]any{"success": true}, nil
}

// setUserPassword is POST /admin/set-user-password.
func (p *Plugin) setUserPassword(c *authcore.Call) (any, error) {
	c.AuditSubject(c.Body.String("userId"))
	if _, err := p.require(c, "user", "set-password", CodeNotAllowedToSetUsersPassword); err != nil {
		return nil, err
	}
	pw, id := c.Body.String("newPassword"), c.Body.String("userId")
	if err := p.engine.CheckNewPassword(pw); err != nil {
		return nil, err
	}
	if _, err := p.findUser(c, id); err != nil {
		return nil, err
	}
	if err := p.engine.SetUserPassword(c.Context(), id, pw); err != nil {
		return nil, authcore.AsError(err)
	}
	return map[string]any{"status": true}, nil
}

// permissionsOf reads a {resource: [actions]} object; ok=false when it is not one.
func permissionsOf(v authcore.Values) (Permissions, bool) {
	out := Permissions{}
	for res, acts := range v {
		list, ok := acts.([]any)
		if !ok {
			return nil, false
		}
		for _, a := range list {
			s, ok := a.(string)
			if !ok {
				return nil, false
			}
			out[res] = append(out[res], s)
		}
		if out[res] == nil {
			out[res] = []string{}
		}
	}
	return out, true
}

// hasPermission is POST /admin/has-permission. Over HTTP it judges the caller's own
// session (Better Auth ignores userId and role when a session is present, and a request
// without one is 401); use Plugin.HasPermission in process for other users or roles.
func (p *Plugin) hasPermission(c *authcore.Call) (any, error) {
	raw := c.Body.Object("permissions")
	if raw == nil {
		raw = c.Body.Object("permission")
	}
	if raw == nil {
		return nil, authcore.NewError(http.StatusBadRequest, MsgNoPermissions)
	}
	perms, ok := permissionsOf(raw)
	if !ok {
		return nil, validation("permissions", "Invalid input: expected record of string arrays")
	}
	s, err := p.session(c)
	if err != nil {
		return nil, err
	}
	return map[string]any{"error": nil, "success": p.allows(s.UserID(), s.User.String("role"), perms)}, nil
}
