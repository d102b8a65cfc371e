package portal

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/gatehouse-auth/gatehouse/storage"
)

// adminRoutes are the user administration pages (admin plugin) and the stop-impersonating
// form of the layout's banner.
func (p *Plugin) adminRoutes() []route {
	return []route{
		{"GET", "/admin", p.adminUsersPage},
		{"GET", "/admin/user", p.adminUserPage},
		{"POST", "/admin/ban", p.adminAction("admin-ban", "/admin/ban-user", "banned", adminBanBody)},
		{"POST", "/admin/unban", p.adminAction("admin-unban", "/admin/unban-user", "unbanned", nil)},
		{"POST", "/admin/set-role", p.adminAction("admin-set-role", "/admin/set-role", "role_set", adminRoleBody)},
		{"POST", "/admin/revoke-sessions", p.adminAction("admin-revoke-sessions", "/admin/revoke-user-sessions", "user_sessions", nil)},
		{"POST", "/admin/impersonate", p.adminImpersonatePost},
		{"POST", "/admin/stop-impersonating", p.adminStopImpersonatingPost},
	}
}

// adminPageSize is the number of users per page of the list.
const adminPageSize = 20

// requireAdmin passes a signed-in administrator (admin plugin on, Admins().IsAdmin of the
// stored user — not a cached session — true). Signed-out browsers go to sign in with
// callbackURL back to page; anyone else gets the 403 error page (404 without the plugin).
func (p *Plugin) requireAdmin(w http.ResponseWriter, r *http.Request, page string, kv ...string) (pageData, bool) {
	admins := p.engine.Admins()
	if admins == nil {
		p.renderError(w, r, http.StatusNotFound, "NOT_FOUND")
		return pageData{}, false
	}
	d, ok := p.signedIn(w, r, page, kv...)
	if !ok {
		return d, false
	}
	u, err := p.engine.UserByID(r.Context(), d.User.ID)
	if err != nil || u == nil || !admins.IsAdmin(u) {
		p.renderError(w, r, http.StatusForbidden, "ADMIN_ONLY")
		return d, false
	}
	return d, true
}

// adminUser is one row of the users list.
type adminUser struct {
	ID, Email, Name, Role, BanReason, BanExpires, Created string
	Banned                                                bool
}

func adminUserRow(u map[string]any) adminUser {
	b, _ := u["banned"].(bool)
	return adminUser{ID: str(u, "id"), Email: str(u, "email"), Name: str(u, "name"), Role: roleText(u["role"]),
		Banned: b, BanReason: str(u, "banReason"), BanExpires: fmtTime(u["banExpires"]), Created: fmtTime(u["createdAt"])}
}

// adminUsersData is the users list's data.
type adminUsersData struct {
	pageData
	Query            string
	Users            []adminUser
	Total            int
	From, To         int
	PrevURL, NextURL string
}

// adminUsersPage is GET /admin?q=&offset=: /admin/list-users, searching email (contains).
func (p *Plugin) adminUsersPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d, ok := p.requireAdmin(w, r, "/admin", "q", q.Get("q"), "offset", q.Get("offset"))
	if !ok {
		return
	}
	search := q.Get("q")
	if len(search) > 256 {
		search = search[:256]
	}
	offset, err := strconv.Atoi(q.Get("offset"))
	if err != nil || offset < 0 || offset > 1_000_000 {
		offset = 0
	}
	v := url.Values{"limit": {strconv.Itoa(adminPageSize)}, "offset": {strconv.Itoa(offset)}, "sortBy": {"createdAt"}}
	if search != "" {
		v.Set("searchValue", search)
		v.Set("searchField", "email")
		v.Set("searchOperator", "contains")
	}
	res := p.api(r, http.MethodGet, "/admin/list-users?"+v.Encode(), nil)
	if !res.OK() {
		p.renderAPIError(w, r, res)
		return
	}
	data := adminUsersData{pageData: d, Query: search}
	data.Flash = doneFlash(r)
	users, _ := res.Object()["users"].([]any)
	for _, x := range users {
		u, _ := x.(map[string]any)
		data.Users = append(data.Users, adminUserRow(u))
	}
	total, _ := res.Object()["total"].(float64)
	data.Total = int(total)
	if len(data.Users) > 0 {
		data.From, data.To = offset+1, offset+len(data.Users)
	}
	offs := func(o int) string {
		if o == 0 {
			return ""
		}
		return strconv.Itoa(o)
	}
	if offset > 0 {
		data.PrevURL = p.uiPath("/admin", "q", search, "offset", offs(max(0, offset-adminPageSize)))
	}
	if offset+len(data.Users) < data.Total {
		data.NextURL = p.uiPath("/admin", "q", search, "offset", offs(offset+adminPageSize))
	}
	p.render(w, r, http.StatusOK, "admin", data)
}

// adminUserData is the user page's data.
type adminUserData struct {
	pageData
	Target   adminUser
	Sessions []sessionRow
}

// adminUserPage is GET /admin/user?id=: the user (/admin/get-user), their sessions
// (/admin/list-user-sessions) and the action forms.
func (p *Plugin) adminUserPage(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	d, ok := p.requireAdmin(w, r, "/admin/user", "id", id)
	if !ok {
		return
	}
	if id == "" || len(id) > 256 {
		p.renderError(w, r, http.StatusBadRequest, "USER_NOT_FOUND")
		return
	}
	p.renderAdminUser(w, r, http.StatusOK, d, id)
}

func (p *Plugin) renderAdminUser(w http.ResponseWriter, r *http.Request, status int, d pageData, id string) {
	res := p.api(r, http.MethodGet, "/admin/get-user?"+url.Values{"id": {id}}.Encode(), nil)
	if !res.OK() {
		p.renderAPIError(w, r, res)
		return
	}
	data := adminUserData{pageData: d, Target: adminUserRow(res.Object())}
	if data.Flash == "" {
		data.Flash = doneFlash(r)
	}
	if sres := p.api(r, http.MethodPost, "/admin/list-user-sessions", map[string]any{"userId": id}); sres.OK() {
		list, _ := sres.Object()["sessions"].([]any)
		for _, v := range list {
			s, _ := v.(map[string]any)
			data.Sessions = append(data.Sessions, sessionRow{Device: str(s, "deviceName"), IP: str(s, "ipAddress"), LastActive: fmtTime(s["updatedAt"]),
				Impersonation: str(s, "impersonatedBy") != ""})
		}
	}
	p.render(w, r, status, "admin-user", data)
}

// adminBanBody adds banReason and banExpiresIn (from #ban-expires days) to a ban.
func adminBanBody(r *http.Request, body map[string]any) string {
	if reason := field(r, "banReason"); reason != "" {
		if len(reason) > 500 {
			return "VALIDATION_ERROR"
		}
		body["banReason"] = reason
	}
	if days := field(r, "banExpires"); days != "" {
		n, err := strconv.Atoi(days)
		if err != nil || n < 1 || n > 36500 {
			return "VALIDATION_ERROR"
		}
		body["banExpiresIn"] = n * 24 * 60 * 60
	}
	return ""
}

// adminRoleBody adds the role of a set-role.
func adminRoleBody(r *http.Request, body map[string]any) string {
	role := field(r, "role")
	if role == "" || len(role) > 256 {
		return "MISSING_FIELDS"
	}
	body["role"] = role
	return ""
}

// adminAction is one action form of the user page: CSRF, an administrator, {userId} plus
// what extra adds, the API call, then 303 back to the user page with ?done=. A refusal of
// the API (or bad input) re-renders the user page with the error and the API's status.
func (p *Plugin) adminAction(form, apiPath, done string, extra func(*http.Request, map[string]any) string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !p.checkPost(w, r, form) {
			return
		}
		id := field(r, "userId")
		d, ok := p.requireAdmin(w, r, "/admin/user", "id", id)
		if !ok {
			return
		}
		if id == "" || len(id) > 256 {
			p.renderError(w, r, http.StatusBadRequest, "USER_NOT_FOUND")
			return
		}
		body := map[string]any{"userId": id}
		if extra != nil {
			if code := extra(r, body); code != "" {
				d.Error, d.ErrorCode = errorText(code), code
				p.renderAdminUser(w, r, http.StatusBadRequest, d, id)
				return
			}
		}
		res := p.api(r, http.MethodPost, apiPath, body)
		res.CopyCookies(w)
		if !res.OK() {
			d.Error, d.ErrorCode = errorText(res.Code), res.Code
			p.renderAdminUser(w, r, res.Status, d, id)
			return
		}
		p.redirectUI(w, r, "/admin/user", "id", id, "done", done)
	}
}

// adminImpersonatePost starts an impersonation (/admin/impersonate-user sets the session
// cookie of the user and keeps the admin's) and sends the admin to the default callback to
// browse as the user.
func (p *Plugin) adminImpersonatePost(w http.ResponseWriter, r *http.Request) {
	if !p.checkPost(w, r, "admin-impersonate") {
		return
	}
	id := field(r, "userId")
	d, ok := p.requireAdmin(w, r, "/admin/user", "id", id)
	if !ok {
		return
	}
	res := p.api(r, http.MethodPost, "/admin/impersonate-user", map[string]any{"userId": id})
	res.CopyCookies(w)
	if !res.OK() {
		d.Error, d.ErrorCode = errorText(res.Code), res.Code
		p.renderAdminUser(w, r, res.Status, d, id)
		return
	}
	p.redirect(w, r, p.DefaultCallback)
}

// adminStopImpersonatingPost is the layout banner's form: /admin/stop-impersonating (the
// API checks that this is an impersonation session) restores the admin's session; then the
// admin list.
func (p *Plugin) adminStopImpersonatingPost(w http.ResponseWriter, r *http.Request) {
	if !p.checkPost(w, r, "stop-impersonating") {
		return
	}
	res := p.api(r, http.MethodPost, "/admin/stop-impersonating", map[string]any{})
	if !res.OK() {
		p.renderAPIError(w, r, res)
		return
	}
	res.CopyCookies(w)
	p.redirectUI(w, r, "/admin", "done", "stopped")
}

// isAdminUser reports whether a user (as /get-session answers it) is an administrator, for
// the layout's Admin link; the admin pages re-check against storage.
func (p *Plugin) isAdminUser(u map[string]any) bool {
	a := p.engine.Admins()
	return a != nil && u != nil && a.IsAdmin(storage.Record(u))
}
