package portal

import (
	"net/http"
	"strings"
	"time"
)

// passkeyRoutes are the passkey sign-in page and the account's passkey list. The WebAuthn
// ceremonies run in assets/passkey.js, which calls the passkey plugin's JSON API directly
// (same-origin fetches; the engine's origin check applies); the list's delete and rename
// forms work without JavaScript.
func (p *Plugin) passkeyRoutes() []route {
	return []route{
		{"GET", "/sign-in/passkey", p.passkeySignInPage},
		{"GET", "/account/passkeys", p.accountPasskeysPage},
		{"POST", "/account/passkeys/delete", p.accountPasskeyDelete},
		{"POST", "/account/passkeys/rename", p.accountPasskeyRename},
	}
}

// passkeyButton is what passkey.js needs to run a sign-in ceremony, rendered as data-
// attributes of a button (the CSP forbids inline script).
type passkeyButton struct {
	ID, Label    string
	OptionsURL   string // GET <base>/passkey/generate-authenticate-options
	VerifyURL    string // POST <base>/passkey/verify-authentication
	Callback     string // validated callbackURL to go to on success
	TwoFactorURL string // the challenge page, when the sign-in needs a second factor
	TrustDevice  string // id of a "trust this device" checkbox sent as trustDevice, or ""
	Primary      bool   // the page's main action (accent button)
}

// AsPrimary makes the button the page's main action.
func (b passkeyButton) AsPrimary() passkeyButton { b.Primary = true; return b }

// apiPath is the absolute path of an API route ("/passkey/list-user-passkeys").
func (d pageData) apiPath(route string) string {
	if d.plugin == nil {
		return route
	}
	return d.plugin.basePath + route
}

// PasskeyButton builds a passkey sign-in button's data: {{template "passkey-button"
// (.PasskeyButton "passkey-sign-in" (t "passkey.sign_in") "")}}.
func (d pageData) PasskeyButton(id, label, trustDevice string) passkeyButton {
	b := passkeyButton{
		ID: id, Label: label, TrustDevice: trustDevice,
		OptionsURL: d.apiPath("/passkey/generate-authenticate-options"),
		VerifyURL:  d.apiPath("/passkey/verify-authentication"),
		Callback:   d.CallbackURL,
	}
	if d.plugin != nil {
		cb := d.CallbackURL
		if cb == d.plugin.DefaultCallback {
			cb = ""
		}
		b.TwoFactorURL = d.plugin.uiPath("/two-factor", "callbackURL", cb)
	}
	return b
}

// PasskeyAutofill is the button data of the sign-in page's conditional UI (the browser
// offers passkeys in the email field's autofill).
func (d pageData) PasskeyAutofill() passkeyButton {
	return d.PasskeyButton("passkey-autofill", "", "")
}

func (p *Plugin) passkeySignInPage(w http.ResponseWriter, r *http.Request) {
	d := p.page(w, r)
	if !d.EnabledMethods.Passkey {
		p.renderError(w, r, http.StatusNotFound, "NOT_FOUND")
		return
	}
	d.Scripts = []string{"passkey.js"}
	p.render(w, r, http.StatusOK, "passkey-sign-in", d)
}

// passkeyRow is one passkey of the account list.
type passkeyRow struct {
	ID, Name string
	Created  string // YYYY-MM-DD
	Datetime string // RFC 3339, for <time datetime>
}

// accountPasskeysData is the account passkey page's data.
type accountPasskeysData struct {
	pageData
	Passkeys    []passkeyRow
	listStatus  int    // the list call's status when it failed
	OptionsURL  string // GET <base>/passkey/generate-register-options
	VerifyURL   string // POST <base>/passkey/verify-registration
	ReloadURL   string // this page after a registration
	DefaultName string
}

var passkeyStatusFlash = map[string]string{
	"added":   "passkey.account.added_flash",
	"deleted": "passkey.account.deleted_flash",
	"renamed": "passkey.account.renamed_flash",
}

// accountPasskeysData loads the signed-in user's passkeys, or redirects to sign-in
// (ok=false).
func (p *Plugin) accountPasskeysData(w http.ResponseWriter, r *http.Request) (accountPasskeysData, bool) {
	d := accountPasskeysData{pageData: p.page(w, r)}
	if !d.EnabledMethods.Passkey {
		p.renderError(w, r, http.StatusNotFound, "NOT_FOUND")
		return d, false
	}
	if d.User == nil {
		p.redirectUI(w, r, "/sign-in", "callbackURL", p.uiPath("/account/passkeys"))
		return d, false
	}
	d.Scripts = []string{"passkey.js"}
	d.OptionsURL = p.basePath + "/passkey/generate-register-options"
	d.VerifyURL = p.basePath + "/passkey/verify-registration"
	d.ReloadURL = p.uiPath("/account/passkeys", "status", "added")
	res := p.api(r, http.MethodGet, "/passkey/list-user-passkeys", nil)
	res.CopyCookies(w)
	if !res.OK() {
		d.Error, d.ErrorCode, d.listStatus = errorText(res.Code), res.Code, res.Status
		return d, true
	}
	list, _ := res.Body.([]any)
	for _, x := range list {
		m, _ := x.(map[string]any)
		id, _ := m["id"].(string)
		if id == "" {
			continue
		}
		row := passkeyRow{ID: id}
		row.Name, _ = m["name"].(string)
		if s, _ := m["createdAt"].(string); s != "" {
			if tm, err := time.Parse(time.RFC3339Nano, s); err == nil {
				row.Created, row.Datetime = tm.UTC().Format("2006-01-02"), tm.UTC().Format(time.RFC3339)
			}
		}
		d.Passkeys = append(d.Passkeys, row)
	}
	return d, true
}

func (p *Plugin) accountPasskeysPage(w http.ResponseWriter, r *http.Request) {
	d, ok := p.accountPasskeysData(w, r)
	if !ok {
		return
	}
	if key, ok := passkeyStatusFlash[r.URL.Query().Get("status")]; ok && d.Error == "" {
		d.Flash = t(key)
	}
	status := http.StatusOK
	if d.listStatus != 0 {
		status = d.listStatus
	}
	p.render(w, r, status, "account-passkeys", d)
}

// passkeyAction runs a delete or rename form: CSRF, signed in, the API call; success goes
// back to the list with a flash, failure re-renders it with the API's error and status.
func (p *Plugin) passkeyAction(w http.ResponseWriter, r *http.Request, form, apiPath, status string, body func(id string) (map[string]any, bool)) {
	if !p.checkPost(w, r, form) {
		return
	}
	if !p.enabled().Passkey {
		p.renderError(w, r, http.StatusNotFound, "NOT_FOUND")
		return
	}
	if !p.hasSessionCookie(r) {
		p.redirectUI(w, r, "/sign-in", "callbackURL", p.uiPath("/account/passkeys"))
		return
	}
	id := strings.TrimSpace(r.PostForm.Get("id"))
	var res apiResult
	if b, ok := body(id); id == "" || len(id) > 200 || !ok {
		res = apiResult{Status: http.StatusBadRequest, Code: "MISSING_FIELDS"}
	} else {
		res = p.api(r, http.MethodPost, apiPath, b)
	}
	res.CopyCookies(w)
	if res.OK() {
		p.redirectUI(w, r, "/account/passkeys", "status", status)
		return
	}
	if res.Status == http.StatusUnauthorized {
		p.redirectUI(w, r, "/sign-in", "callbackURL", p.uiPath("/account/passkeys"))
		return
	}
	d, ok := p.accountPasskeysData(w, r)
	if !ok {
		return
	}
	d.Error, d.ErrorCode = errorText(res.Code), res.Code
	p.render(w, r, res.Status, "account-passkeys", d)
}

func (p *Plugin) accountPasskeyDelete(w http.ResponseWriter, r *http.Request) {
	p.passkeyAction(w, r, "passkey-delete", "/passkey/delete-passkey", "deleted", func(id string) (map[string]any, bool) {
		return map[string]any{"id": id}, true
	})
}

func (p *Plugin) accountPasskeyRename(w http.ResponseWriter, r *http.Request) {
	p.passkeyAction(w, r, "passkey-rename", "/passkey/update-passkey", "renamed", func(id string) (map[string]any, bool) {
		name := field(r, "name")
		return map[string]any{"id": id, "name": name}, name != "" && len(name) <= 200
	})
}
