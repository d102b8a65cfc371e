package portal

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
)

//go:embed all:templates
var templateFS embed.FS

// pageData is what every page template receives, embedded in the page's own data struct:
//
//	data := struct {
//		pageData
//		Email string
//	}{pageData: p.page(w, r), Email: email}
//	p.render(w, r, http.StatusOK, "sign-in", data)
type pageData struct {
	AppName     string
	LogoURL     string
	Accent      string // #rrggbb (the theme asset applies it; for reference only)
	Lang        string
	User        *pageUser // the signed-in user, nil when signed out
	Session     map[string]any
	Error       string // translated error message shown in [role=alert]#error
	ErrorCode   string
	Flash       string // translated success/info message
	CallbackURL string // validated; carried through every step in a hidden field
	// EnabledMethods says which sign-in methods the engine serves.
	EnabledMethods methods
	// IsAdmin shows the header's Admin link; Impersonating the stop-impersonating banner
	// (the session has impersonatedBy).
	IsAdmin, Impersonating bool
	// Scripts are extra asset names (e.g. "passkey.js") the layout loads after portal.js.
	Scripts []string

	browserID string
	plugin    *Plugin
}

// pageUser is the signed-in user as /get-session returns it.
type pageUser struct {
	ID, Name, Email, Image string
	EmailVerified          bool
	Raw                    map[string]any
}

// CSRF returns the token of the named form for this browser: {{.CSRF "sign-in"}}. The
// handler of that form's POST checks it with p.checkPost(w, r, "sign-in").
func (d pageData) CSRF(form string) string {
	if d.plugin == nil {
		return ""
	}
	return d.plugin.csrfToken(d.browserID, form)
}

// methods are the sign-in methods the engine serves (from its plugins and configuration).
type methods struct {
	EmailPassword bool // email+password sign-in
	SignUp        bool // email+password sign-up
	Username      bool // the username plugin: the email field also takes a username
	MagicLink     bool
	EmailOTP      bool
	Phone         bool
	Passkey       bool
	TwoFactor     bool
}

// Others reports whether any method besides email+password is on (the "other ways" list).
func (m methods) Others() bool { return m.MagicLink || m.EmailOTP || m.Phone || m.Passkey }

// enabled derives the methods from the engine's plugins and configuration (cheap; the
// plugin list is only complete once the engine is built, so it is read at request time).
func (p *Plugin) enabled() methods {
	cfg := p.engine.Config()
	m := methods{EmailPassword: !cfg.EmailAndPassword.Disabled}
	m.SignUp = m.EmailPassword && !cfg.EmailAndPassword.DisableSignUp
	for _, id := range p.engine.Plugins() {
		switch id {
		case "username":
			m.Username = m.EmailPassword
		case "magic-link":
			m.MagicLink = true
		case "email-otp":
			m.EmailOTP = true
		case "phone-number":
			m.Phone = true
		case "passkey":
			m.Passkey = true
		case "two-factor":
			m.TwoFactor = true
		}
	}
	return m
}

// page builds the common page data: branding, the CSRF browser id (setting its cookie on first
// visit), the signed-in user (an in-process /get-session; its Set-Cookie lines, such as a
// refreshed session, are copied to w) and the validated callbackURL of the request.
func (p *Plugin) page(w http.ResponseWriter, r *http.Request) pageData {
	d := pageData{
		AppName: p.AppName, LogoURL: p.LogoURL, Accent: p.accent, Lang: "en",
		EnabledMethods: p.enabled(), CallbackURL: p.callback(r),
		browserID: p.browserID(w, r), plugin: p,
	}
	if p.hasSessionCookie(r) {
		res := p.api(r, http.MethodGet, "/get-session", nil)
		res.CopyCookies(w)
		if res.OK() {
			if u, ok := res.Object()["user"].(map[string]any); ok {
				str := func(k string) string { s, _ := u[k].(string); return s }
				v, _ := u["emailVerified"].(bool)
				d.User = &pageUser{ID: str("id"), Name: str("name"), Email: str("email"), Image: str("image"), EmailVerified: v, Raw: u}
				d.Session, _ = res.Object()["session"].(map[string]any)
				d.IsAdmin = p.isAdminUser(u)
				by, _ := d.Session["impersonatedBy"].(string)
				d.Impersonating = by != ""
			}
		}
	}
	return d
}

// hasSessionCookie avoids a /get-session call for browsers that cannot be signed in.
func (p *Plugin) hasSessionCookie(r *http.Request) bool {
	_, err := r.Cookie(p.engine.CookieName("session_token"))
	return err == nil
}

// parseTemplates builds one template set per page: layout.html + partials (_*.html) + the
// page file. Page names are file names without ".html".
func (p *Plugin) parseTemplates() error {
	funcs := template.FuncMap{
		"t":     t,
		"tf":    tf,
		"path":  p.uiPath,
		"asset": p.assetURL,
		// metaRefresh and continueHref accept http(s) URLs only (routes_sso.go).
		"metaRefresh":  metaRefresh,
		"continueHref": continueHref,
	}
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return err
	}
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return err
	}
	for _, f := range files {
		if n := path.Base(f); strings.HasPrefix(n, "_") {
			if _, err := base.ParseFS(templateFS, f); err != nil {
				return err
			}
		}
	}
	p.pages = map[string]*template.Template{}
	for _, f := range files {
		n := path.Base(f)
		if n == "layout.html" || strings.HasPrefix(n, "_") {
			continue
		}
		tt, err := template.Must(base.Clone()).ParseFS(templateFS, f)
		if err != nil {
			return err
		}
		p.pages[strings.TrimSuffix(n, ".html")] = tt
	}
	return nil
}

// uiPath returns the absolute path of a portal page with an optional query given as
// key/value pairs (empty values are left out): {{path "/sign-in" "callbackURL" .CallbackURL}}.
func (p *Plugin) uiPath(page string, kv ...string) string {
	s := p.uiBase + page
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	if len(q) > 0 {
		s += "?" + q.Encode()
	}
	return s
}

// uiURL is uiPath as an absolute URL on the base URL (for links sent by email).
func (p *Plugin) uiURL(page string, kv ...string) string {
	b := p.engine.BaseURL()
	return b.Scheme + "://" + b.Host + p.uiPath(page, kv...)
}

// render writes a page with the given status. data is the page's struct embedding pageData
// (from p.page). The page is rendered to a buffer first, so a template failure is a clean
// 500 error page rather than half a page.
func (p *Plugin) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	tt, ok := p.pages[name]
	var buf bytes.Buffer
	if !ok {
		p.engine.Logger().Error("portal: unknown page template", "page", name)
	} else if err := tt.ExecuteTemplate(&buf, "layout.html", data); err != nil {
		p.engine.Logger().Error("portal: rendering page", "page", name, "err", err)
		ok = false
	}
	if !ok {
		if name == "error" { // the error page itself failed: plain text
			p.setSecurityHeaders(w.Header(), false)
			http.Error(w, t("error.generic"), http.StatusInternalServerError)
			return
		}
		p.renderError(w, r, http.StatusInternalServerError, "INTERNAL_SERVER_ERROR")
		return
	}
	h := w.Header()
	p.setSecurityHeaders(h, false)
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(buf.Bytes())
	}
}

// errorData is the error page's data.
type errorData struct {
	pageData
	Status int
	Title  string
}

// renderError renders the error page with a translated message for code (an API or portal
// error code; unknown codes get the generic message).
func (p *Plugin) renderError(w http.ResponseWriter, r *http.Request, status int, code string) {
	d := errorData{pageData: p.page(w, r), Status: status, Title: t("error.title")}
	if status == http.StatusNotFound {
		d.Title = t("error.not_found.title")
	}
	d.Error, d.ErrorCode = errorText(code), code
	p.render(w, r, status, "error", d)
}

// renderAPIError renders the error page for a failed API answer, keeping its status (never
// 500 for the user's input: the API's 4xx statuses pass through).
func (p *Plugin) renderAPIError(w http.ResponseWriter, r *http.Request, res apiResult) {
	res.CopyCookies(w)
	p.renderError(w, r, res.Status, res.Code)
}

// callback returns the request's callbackURL (query or form) when it is a safe redirect
// target (engine.Origins().SafeRedirect), else the configured default.
func (p *Plugin) callback(r *http.Request) string {
	v := r.URL.Query().Get("callbackURL")
	if r.PostForm != nil && r.PostForm.Has("callbackURL") {
		v = r.PostForm.Get("callbackURL")
	}
	if v == "" || len(v) > 2048 || !p.engine.Origins().SafeRedirect(v) {
		return p.DefaultCallback
	}
	return v
}

// callbackHref is a validated callbackURL as the absolute URL a link should carry (what
// SafeRedirect judged, on the base URL for a path).
func (p *Plugin) callbackHref(target string) string {
	abs, ok := p.engine.Origins().Resolve(p.engine.BaseURL(), target)
	if !ok {
		abs, _ = p.engine.Origins().Resolve(p.engine.BaseURL(), p.DefaultCallback)
	}
	return abs
}

// redirect answers 303 See Other to a callbackURL-like target, re-validated and resolved to
// an absolute URL on the base URL (an unsafe target goes to the default callback).
func (p *Plugin) redirect(w http.ResponseWriter, r *http.Request, target string) {
	p.seeOther(w, p.callbackHref(target))
}

// redirectUI answers 303 See Other to a portal page: redirectUI(w, r, "/two-factor",
// "callbackURL", cb).
func (p *Plugin) redirectUI(w http.ResponseWriter, r *http.Request, page string, kv ...string) {
	p.seeOther(w, p.uiPath(page, kv...))
}

func (p *Plugin) seeOther(w http.ResponseWriter, loc string) {
	p.setSecurityHeaders(w.Header(), false)
	w.Header().Set("Location", loc)
	w.WriteHeader(http.StatusSeeOther)
}
