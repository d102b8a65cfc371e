package portal

import (
	"net/http"
	"strings"
)

// coreRoutes are the pages of the email+password flow, the landing pages of emailed links and
// the error page.
func (p *Plugin) coreRoutes() []route {
	return []route{
		{"GET", "/", p.index},
		{"GET", "/sign-in", p.signInPage},
		{"POST", "/sign-in", p.signInPost},
		{"POST", "/sign-out", p.signOutPost},
		{"GET", "/error", p.errorPage},
	}
}

// index sends a signed-in browser to its account page and anyone else to sign in, keeping
// the callbackURL.
func (p *Plugin) index(w http.ResponseWriter, r *http.Request) {
	d := p.page(w, r)
	if d.User != nil {
		p.redirectUI(w, r, "/account")
		return
	}
	p.redirectUI(w, r, "/sign-in", "callbackURL", p.callbackParam(r))
}

// callbackParam is the validated callbackURL to carry in a link, or "" when it is the
// default (keeps URLs short).
func (p *Plugin) callbackParam(r *http.Request) string {
	if cb := p.callback(r); cb != p.DefaultCallback {
		return cb
	}
	return ""
}

// signInData is the sign-in page's data.
type signInData struct {
	pageData
	Email    string
	Remember bool
}

func (p *Plugin) signInPage(w http.ResponseWriter, r *http.Request) {
	p.render(w, r, http.StatusOK, "sign-in", signInData{pageData: p.page(w, r), Remember: true})
}

// signInPost signs in with /sign-in/email, or /sign-in/username when the username plugin is
// on and the identifier has no "@". A 2FA user gets the two_factor cookie and goes to
// /two-factor; everyone else to the callbackURL with the session cookie.
func (p *Plugin) signInPost(w http.ResponseWriter, r *http.Request) {
	if !p.checkPost(w, r, "sign-in") {
		return
	}
	d := signInData{pageData: p.page(w, r), Email: field(r, "email"), Remember: r.PostForm.Get("remember") != ""}
	pw := r.PostForm.Get("password")
	if d.Email == "" || pw == "" {
		d.Error, d.ErrorCode = errorText("MISSING_FIELDS"), "MISSING_FIELDS"
		p.render(w, r, http.StatusBadRequest, "sign-in", d)
		return
	}
	var res apiResult
	if d.EnabledMethods.Username && !strings.Contains(d.Email, "@") {
		res = p.api(r, http.MethodPost, "/sign-in/username", map[string]any{"username": d.Email, "password": pw, "rememberMe": d.Remember})
	} else {
		res = p.api(r, http.MethodPost, "/sign-in/email", map[string]any{"email": d.Email, "password": pw, "rememberMe": d.Remember})
	}
	res.CopyCookies(w)
	switch {
	case !res.OK():
		d.Error, d.ErrorCode = errorText(res.Code), res.Code
		p.render(w, r, res.Status, "sign-in", d)
	case res.Bool("twoFactorRedirect"):
		p.redirectUI(w, r, "/two-factor", "callbackURL", p.callbackParam(r))
	default:
		p.redirect(w, r, d.CallbackURL)
	}
}

// signOutPost ends the session (/sign-out) and goes to the sign-in page.
func (p *Plugin) signOutPost(w http.ResponseWriter, r *http.Request) {
	if !p.checkPost(w, r, "sign-out") {
		return
	}
	res := p.api(r, http.MethodPost, "/sign-out", map[string]any{})
	res.CopyCookies(w)
	p.redirectUI(w, r, "/sign-in")
}

// errorPage shows ?error=CODE (Better Auth appends it on failed link flows) translated; the
// code only selects a message and is never echoed.
func (p *Plugin) errorPage(w http.ResponseWriter, r *http.Request) {
	code := r.URL.Query().Get("error")
	if code == "" || len(code) > 100 {
		code = "generic"
	}
	p.renderError(w, r, http.StatusBadRequest, code)
}

// field returns a trimmed form value, with control characters making it empty (they never
// belong in a name, email or username; the API would refuse them anyway).
func field(r *http.Request, name string) string {
	v := strings.TrimSpace(r.PostForm.Get(name))
	for _, c := range v {
		if c < 0x20 || c == 0x7f {
			return ""
		}
	}
	return v
}
