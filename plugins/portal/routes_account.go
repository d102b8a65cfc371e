package portal

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// accountRoutes are the account page, its forms (each its own POST with its own CSRF form
// name, answering 303 back to /account?done=<key>) and the landing page of organization
// invitation emails.
func (p *Plugin) accountRoutes() []route {
	return []route{
		{"GET", "/account", p.accountPage},
		{"POST", "/account/profile", p.accountProfilePost},
		{"POST", "/account/password", p.accountPasswordPost},
		{"POST", "/account/email", p.accountEmailPost},
		// A handle of another user's session is ignored by the API.
		{"POST", "/account/sessions/revoke", p.accountIDPost("session-revoke", "session", "/revoke-session", "token", "session_revoked")},
		{"POST", "/account/sessions/revoke-others", p.accountRevokeOthersPost},
		{"POST", "/account/api-keys/create", p.accountAPIKeyCreatePost},
		// A foreign key id is KEY_NOT_FOUND.
		{"POST", "/account/api-keys/delete", p.accountIDPost("api-key-revoke", "keyId", "/api-key/delete", "keyId", "api_key_revoked")},
		// set-active re-issues the session cookie, which accountDone copies.
		{"POST", "/account/organizations/set-active", p.accountIDPost("org-switch", "organizationId", "/organization/set-active", "organizationId", "org_switched")},
		{"POST", "/account/invitations/accept", p.accountInvitationPost("invitation-accept", "/organization/accept-invitation", "invitation_accepted")},
		{"POST", "/account/invitations/reject", p.accountInvitationPost("invitation-reject", "/organization/reject-invitation", "invitation_rejected")},
		{"GET", "/accept-invitation", p.acceptInvitationPage},
	}
}

// doneMessages are the only ?done= values that render: each names a strings key, so the
// query can never put arbitrary text on the page.
var doneMessages = map[string]string{
	"profile":             "account.done.profile",
	"password":            "account.done.password",
	"email":               "account.done.email",
	"session_revoked":     "account.done.session_revoked",
	"sessions_revoked":    "account.done.sessions_revoked",
	"api_key_revoked":     "account.done.api_key_revoked",
	"org_switched":        "account.done.org_switched",
	"invitation_accepted": "account.done.invitation_accepted",
	"invitation_rejected": "account.done.invitation_rejected",
	"banned":              "admin.done.banned",
	"unbanned":            "admin.done.unbanned",
	"role_set":            "admin.done.role_set",
	"user_sessions":       "admin.done.user_sessions",
	"stopped":             "admin.done.stopped",
	"account_linked":      "social.done.linked",
	"account_unlinked":    "social.done.unlinked",
}

// doneFlash is the translated message of the request's ?done= key, "" for anything else.
func doneFlash(r *http.Request) string {
	if k, ok := doneMessages[r.URL.Query().Get("done")]; ok {
		return t(k)
	}
	return ""
}

// Plugin ids the account page looks for.
const (
	apiKeyPluginID = "api-key"
	orgPluginID    = "organization"
	adminPluginID  = "admin"
)

func (p *Plugin) pluginOn(id string) bool { return slices.Contains(p.engine.Plugins(), id) }

// signedIn returns the page data of a signed-in browser; a signed-out one is sent to sign in
// with callbackURL back to page (a portal path with its query) and false is returned.
func (p *Plugin) signedIn(w http.ResponseWriter, r *http.Request, page string, kv ...string) (pageData, bool) {
	d := p.page(w, r)
	if d.User == nil {
		p.redirectUI(w, r, "/sign-in", "callbackURL", p.uiPath(page, kv...))
		return d, false
	}
	return d, true
}

// accountData is the account page's data.
type accountData struct {
	pageData
	Sessions      []sessionRow
	SessionsError string // why the session list could not be shown (e.g. the session is not fresh)
	APIKeys       bool   // the api-key plugin is on
	Keys          []apiKeyRow
	NewKey        string // the plaintext of a key just created: shown once, on the create response only
	NewKeyName    string
	Orgs          bool // the organization plugin is on
	Organizations []orgRow
	Invitations   []invitationRow
	// Linked accounts (routes_social.go): the user's accounts, the configured social
	// providers not linked yet, and whether the list could be loaded.
	Linked       []linkedAccount
	Linkable     []socialButton
	LinkedLoaded bool
}

type sessionRow struct {
	Handle, Device, IP, LastActive string
	Current, Impersonation         bool
}

type apiKeyRow struct{ ID, Name, Start, Created, Expires string }

type orgRow struct {
	ID, Name, Slug string
	Active         bool
}

type invitationRow struct{ ID, Organization, Role, Expires string }

// accountPage is GET /account.
func (p *Plugin) accountPage(w http.ResponseWriter, r *http.Request) {
	d, ok := p.signedIn(w, r, "/account")
	if !ok {
		return
	}
	d.Flash = doneFlash(r)
	p.renderAccount(w, r, http.StatusOK, accountData{pageData: d})
}

// renderAccount loads the lists of the account page (sessions, keys, organizations,
// invitations) through the API and renders it with status.
func (p *Plugin) renderAccount(w http.ResponseWriter, r *http.Request, status int, d accountData) {
	currentID, _ := d.Session["id"].(string)
	if res := p.api(r, http.MethodGet, "/list-sessions", nil); res.OK() {
		list, _ := res.Body.([]any)
		for _, v := range list {
			s, _ := v.(map[string]any)
			id := str(s, "id")
			d.Sessions = append(d.Sessions, sessionRow{
				Handle: str(s, "token"), Device: str(s, "deviceName"), IP: str(s, "ipAddress"),
				LastActive: fmtTime(s["updatedAt"]), Current: id != "" && id == currentID,
			})
		}
	} else {
		d.SessionsError = errorText(res.Code)
	}
	d.Linked, d.Linkable, d.LinkedLoaded = p.linkedAccounts(r)
	if d.APIKeys = p.pluginOn(apiKeyPluginID); d.APIKeys {
		if res := p.api(r, http.MethodGet, "/api-key/list", nil); res.OK() {
			list, _ := res.Object()["apiKeys"].([]any)
			for _, v := range list {
				k, _ := v.(map[string]any)
				row := apiKeyRow{ID: str(k, "id"), Name: str(k, "name"), Start: str(k, "start"), Created: fmtTime(k["createdAt"]), Expires: fmtTime(k["expiresAt"])}
				if row.Expires == "" {
					row.Expires = t("account.api_keys.never")
				}
				d.Keys = append(d.Keys, row)
			}
		}
	}
	if d.Orgs = p.pluginOn(orgPluginID); d.Orgs {
		active, _ := d.Session["activeOrganizationId"].(string)
		if res := p.api(r, http.MethodGet, "/organization/list", nil); res.OK() {
			list, _ := res.Body.([]any)
			for _, v := range list {
				o, _ := v.(map[string]any)
				d.Organizations = append(d.Organizations, orgRow{ID: str(o, "id"), Name: str(o, "name"), Slug: str(o, "slug"), Active: active != "" && str(o, "id") == active})
			}
		}
		if res := p.api(r, http.MethodGet, "/organization/list-user-invitations", nil); res.OK() {
			list, _ := res.Body.([]any)
			for _, v := range list {
				i, _ := v.(map[string]any)
				d.Invitations = append(d.Invitations, invitationRow{ID: str(i, "id"), Organization: str(i, "organizationName"), Role: roleText(i["role"]), Expires: fmtTime(i["expiresAt"])})
			}
		}
	}
	p.render(w, r, status, "account", d)
}

// accountFailed re-renders the account page with the API's error (its 4xx status kept).
func (p *Plugin) accountFailed(w http.ResponseWriter, r *http.Request, d pageData, res apiResult) {
	res.CopyCookies(w)
	d.Error, d.ErrorCode = errorText(res.Code), res.Code
	p.renderAccount(w, r, res.Status, accountData{pageData: d})
}

// accountInvalid re-renders the account page with a portal error code and status 400.
func (p *Plugin) accountInvalid(w http.ResponseWriter, r *http.Request, d pageData, code string) {
	d.Error, d.ErrorCode = errorText(code), code
	p.renderAccount(w, r, http.StatusBadRequest, accountData{pageData: d})
}

// accountPost runs the common start of every account form: CSRF, then a signed-in user
// (a signed-out browser goes to sign in and comes back to the account page).
func (p *Plugin) accountPost(w http.ResponseWriter, r *http.Request, form string) (pageData, bool) {
	if !p.checkPost(w, r, form) {
		return pageData{}, false
	}
	return p.signedIn(w, r, "/account")
}

// accountDone answers a successful form: the API's cookies, then 303 to /account?done=key.
func (p *Plugin) accountDone(w http.ResponseWriter, r *http.Request, res apiResult, key string) {
	res.CopyCookies(w)
	p.redirectUI(w, r, "/account", "done", key)
}

// accountProfilePost updates the name and image (/update-user). An empty image clears it.
func (p *Plugin) accountProfilePost(w http.ResponseWriter, r *http.Request) {
	d, ok := p.accountPost(w, r, "profile")
	if !ok {
		return
	}
	name, image := field(r, "name"), field(r, "image")
	if name == "" || len(name) > 256 {
		p.accountInvalid(w, r, d, "MISSING_FIELDS")
		return
	}
	body := map[string]any{"name": name, "image": nil}
	if image != "" {
		if u, err := url.Parse(image); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(image) > 2048 {
			p.accountInvalid(w, r, d, "INVALID_IMAGE_URL")
			return
		}
		body["image"] = image
	}
	res := p.api(r, http.MethodPost, "/update-user", body)
	if !res.OK() {
		p.accountFailed(w, r, d, res)
		return
	}
	p.accountDone(w, r, res, "profile")
}

// accountPasswordPost changes the password (/change-password), optionally revoking the
// other sessions (the API then re-issues this browser's session cookie).
func (p *Plugin) accountPasswordPost(w http.ResponseWriter, r *http.Request) {
	d, ok := p.accountPost(w, r, "change-password")
	if !ok {
		return
	}
	cur, pw, confirm := r.PostForm.Get("current-password"), r.PostForm.Get("new-password"), r.PostForm.Get("new-password-confirm")
	switch {
	case cur == "" || pw == "":
		p.accountInvalid(w, r, d, "MISSING_FIELDS")
		return
	case pw != confirm:
		p.accountInvalid(w, r, d, "PASSWORD_MISMATCH")
		return
	}
	res := p.api(r, http.MethodPost, "/change-password", map[string]any{
		"currentPassword": cur, "newPassword": pw, "revokeOtherSessions": r.PostForm.Get("revoke-other-sessions") != ""})
	if !res.OK() {
		p.accountFailed(w, r, d, res)
		return
	}
	p.accountDone(w, r, res, "password")
}

// accountEmailPost asks for an email change (/change-email); the confirmation link lands on
// /email-changed, which tells "changed" from "now confirm the new address".
func (p *Plugin) accountEmailPost(w http.ResponseWriter, r *http.Request) {
	d, ok := p.accountPost(w, r, "change-email")
	if !ok {
		return
	}
	email := field(r, "new-email")
	if email == "" {
		p.accountInvalid(w, r, d, "MISSING_FIELDS")
		return
	}
	res := p.api(r, http.MethodPost, "/change-email", map[string]any{"newEmail": email, "callbackURL": p.uiPath("/email-changed", "email", email)})
	if !res.OK() {
		p.accountFailed(w, r, d, res)
		return
	}
	p.accountDone(w, r, res, "email")
}

// accountRevokeOthersPost revokes every other session (/revoke-other-sessions).
func (p *Plugin) accountRevokeOthersPost(w http.ResponseWriter, r *http.Request) {
	d, ok := p.accountPost(w, r, "revoke-others")
	if !ok {
		return
	}
	res := p.api(r, http.MethodPost, "/revoke-other-sessions", map[string]any{})
	if !res.OK() {
		p.accountFailed(w, r, d, res)
		return
	}
	p.accountDone(w, r, res, "sessions_revoked")
}

// apiKeyExpiries are the choices of #api-key-expires, in days ("" = never).
var apiKeyExpiries = []string{"", "30", "90", "365"}

// accountAPIKeyCreatePost creates a key (/api-key/create) and answers the account page with
// the plaintext in #api-key-value: the only time it is ever shown. It is never put in a
// cookie or URL, so a reload (GET) cannot show it again.
func (p *Plugin) accountAPIKeyCreatePost(w http.ResponseWriter, r *http.Request) {
	d, ok := p.accountPost(w, r, "api-key-create")
	if !ok {
		return
	}
	if !p.pluginOn(apiKeyPluginID) {
		p.renderError(w, r, http.StatusNotFound, "NOT_FOUND")
		return
	}
	name, exp := field(r, "name"), r.PostForm.Get("expires")
	if !slices.Contains(apiKeyExpiries, exp) {
		p.accountInvalid(w, r, d, "VALIDATION_ERROR")
		return
	}
	body := map[string]any{}
	if name != "" {
		body["name"] = name
	}
	if exp != "" {
		days, _ := strconv.Atoi(exp)
		body["expiresIn"] = days * 24 * 60 * 60
	}
	res := p.api(r, http.MethodPost, "/api-key/create", body)
	if !res.OK() {
		p.accountFailed(w, r, d, res)
		return
	}
	d.Flash = t("account.done.api_key_created")
	p.renderAccount(w, r, http.StatusOK, accountData{pageData: d, NewKey: res.String("key"), NewKeyName: res.String("name")})
}

// accountIDPost is an account form that sends one id to one API route: the form's field
// (required, at most 512 bytes) becomes the body's key; success goes back to the account page
// with done, a refusal re-renders it with the API's message.
func (p *Plugin) accountIDPost(form, fieldName, apiPath, key, done string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		d, ok := p.accountPost(w, r, form)
		if !ok {
			return
		}
		id := field(r, fieldName)
		if id == "" || len(id) > 512 {
			p.accountInvalid(w, r, d, "MISSING_FIELDS")
			return
		}
		res := p.api(r, http.MethodPost, apiPath, map[string]any{key: id})
		if !res.OK() {
			p.accountFailed(w, r, d, res)
			return
		}
		p.accountDone(w, r, res, done)
	}
}

// accountInvitationPost accepts or rejects an invitation addressed to the user (from the
// account page or the invitation landing page; both use the same form names).
func (p *Plugin) accountInvitationPost(form, apiPath, done string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		d, ok := p.accountPost(w, r, form)
		if !ok {
			return
		}
		id := field(r, "invitationId")
		if id == "" || len(id) > 256 {
			p.accountInvalid(w, r, d, "MISSING_FIELDS")
			return
		}
		res := p.api(r, http.MethodPost, apiPath, map[string]any{"invitationId": id})
		if !res.OK() {
			p.renderAPIError(w, r, res)
			return
		}
		p.accountDone(w, r, res, done)
	}
}

// invitationData is the invitation landing page's data.
type invitationData struct {
	pageData
	ID, Organization, Role, Inviter string
}

// acceptInvitationPage is GET /accept-invitation?id=: the invitation (/organization/
// get-invitation, which only its recipient may read) with accept and reject buttons.
func (p *Plugin) acceptInvitationPage(w http.ResponseWriter, r *http.Request) {
	if !p.pluginOn(orgPluginID) {
		p.renderError(w, r, http.StatusNotFound, "NOT_FOUND")
		return
	}
	id := r.URL.Query().Get("id")
	if id == "" || len(id) > 256 {
		p.renderError(w, r, http.StatusBadRequest, "MISSING_TOKEN")
		return
	}
	d, ok := p.signedIn(w, r, "/accept-invitation", "id", id)
	if !ok {
		return
	}
	res := p.api(r, http.MethodGet, "/organization/get-invitation?"+url.Values{"id": {id}}.Encode(), nil)
	if !res.OK() {
		p.renderAPIError(w, r, res)
		return
	}
	o := res.Object()
	p.render(w, r, http.StatusOK, "accept-invitation", invitationData{pageData: d, ID: str(o, "id"),
		Organization: str(o, "organizationName"), Role: roleText(o["role"]), Inviter: str(o, "inviterEmail")})
}

// str is a string field of a decoded JSON object.
func str(m map[string]any, k string) string { s, _ := m[k].(string); return s }

// roleText shows a role given as a string or a list of strings.
func roleText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return strings.Join(out, ", ")
	}
	return ""
}

// fmtTime shows an API timestamp (RFC 3339 string or epoch milliseconds) in UTC to the
// minute; "" when absent.
func fmtTime(v any) string {
	var tm time.Time
	switch x := v.(type) {
	case string:
		var err error
		if tm, err = time.Parse(time.RFC3339Nano, x); err != nil {
			return ""
		}
	case float64:
		tm = time.UnixMilli(int64(x))
	default:
		return ""
	}
	return tm.UTC().Format("2006-01-02 15:04 UTC")
}
