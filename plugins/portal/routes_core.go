package portal

import (
	"net/http"
	"net/url"
	"strings"
)

// coreRoutes are the pages of the email+password flow, the landing pages of emailed links and
// the error page.
func (p *Plugin) coreRoutes() []route {
	return []route{
		{"GET", "/", p.index},
		{"GET", "/sign-in", p.signInPage},
		{"POST", "/sign-in", p.signInPost},
		{"GET", "/sign-up", p.signUpPage},
		{"POST", "/sign-up", p.signUpPost},
		{"POST", "/sign-out", p.signOutPost},
		{"GET", "/forgot-password", p.forgotPage},
		{"POST", "/forgot-password", p.forgotPost},
		{"GET", "/reset-password", p.resetPage},
		{"POST", "/reset-password", p.resetPost},
		{"GET", "/verify-email", p.verifyEmail},
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
	if code == "" {
		code = "generic"
	}
	p.renderError(w, r, http.StatusBadRequest, linkErrorCode(code))
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

// messageData is the data of the generic message page (message.html): a heading, a
// paragraph and an optional link.
type messageData struct {
	pageData
	Title, Body       string
	LinkURL, LinkText string
}

// renderMessage renders message.html.
func (p *Plugin) renderMessage(w http.ResponseWriter, r *http.Request, status int, d messageData) {
	p.render(w, r, status, "message", d)
}

// signUpData is the sign-up page's data.
type signUpData struct {
	pageData
	Name, Email string
	MinPassword int
}

func (p *Plugin) newSignUpData(w http.ResponseWriter, r *http.Request) signUpData {
	return signUpData{pageData: p.page(w, r), MinPassword: p.engine.Config().EmailAndPassword.MinPasswordLength}
}

func (p *Plugin) signUpPage(w http.ResponseWriter, r *http.Request) {
	if !p.enabled().SignUp {
		p.renderError(w, r, http.StatusNotFound, "NOT_FOUND")
		return
	}
	p.render(w, r, http.StatusOK, "sign-up", p.newSignUpData(w, r))
}

// signUpPost creates the account with /sign-up/email. Signed in → callbackURL; email
// verification required → "check your email"; auto sign-in off → the sign-in page.
func (p *Plugin) signUpPost(w http.ResponseWriter, r *http.Request) {
	if !p.enabled().SignUp {
		p.renderError(w, r, http.StatusNotFound, "NOT_FOUND")
		return
	}
	if !p.checkPost(w, r, "sign-up") {
		return
	}
	d := p.newSignUpData(w, r)
	d.Name, d.Email = field(r, "name"), field(r, "email")
	pw, confirm := r.PostForm.Get("password"), r.PostForm.Get("password-confirm")
	fail := func(status int, code string) {
		d.Error, d.ErrorCode = errorText(code), code
		p.render(w, r, status, "sign-up", d)
	}
	if d.Name == "" || d.Email == "" || pw == "" {
		fail(http.StatusBadRequest, "MISSING_FIELDS")
		return
	}
	if pw != confirm {
		fail(http.StatusBadRequest, "PASSWORD_MISMATCH")
		return
	}
	res := p.api(r, http.MethodPost, "/sign-up/email", map[string]any{
		"name": d.Name, "email": d.Email, "password": pw, "rememberMe": true, "callbackURL": d.CallbackURL})
	res.CopyCookies(w)
	switch {
	case !res.OK():
		fail(res.Status, res.Code)
	case p.engine.Config().EmailAndPassword.RequireEmailVerification:
		p.renderMessage(w, r, http.StatusOK, messageData{pageData: d.pageData,
			Title: t("signup.check_email.title"), Body: tf("signup.check_email.body", d.Email)})
	case res.String("token") == "":
		p.redirectUI(w, r, "/sign-in", "callbackURL", p.callbackParam(r))
	default:
		p.redirect(w, r, d.CallbackURL)
	}
}

// forgotData is the forgot-password page's data.
type forgotData struct {
	pageData
	Email string
}

func (p *Plugin) forgotPage(w http.ResponseWriter, r *http.Request) {
	p.render(w, r, http.StatusOK, "forgot-password", forgotData{pageData: p.page(w, r)})
}

// forgotPost asks /request-password-reset for a link to /ui/reset-password and answers the
// same page whether or not the account exists (the API does too, D18).
func (p *Plugin) forgotPost(w http.ResponseWriter, r *http.Request) {
	if !p.checkPost(w, r, "forgot-password") {
		return
	}
	d := forgotData{pageData: p.page(w, r), Email: field(r, "email")}
	if d.Email == "" {
		d.Error, d.ErrorCode = errorText("MISSING_FIELDS"), "MISSING_FIELDS"
		p.render(w, r, http.StatusBadRequest, "forgot-password", d)
		return
	}
	res := p.api(r, http.MethodPost, "/request-password-reset", map[string]any{
		"email": d.Email, "redirectTo": p.uiURL("/reset-password", "callbackURL", p.callbackParam(r))})
	res.CopyCookies(w)
	if !res.OK() {
		d.Error, d.ErrorCode = errorText(res.Code), res.Code
		p.render(w, r, res.Status, "forgot-password", d)
		return
	}
	p.renderMessage(w, r, http.StatusOK, messageData{pageData: d.pageData,
		Title: t("forgot.sent.title"), Body: tf("forgot.sent.body", d.Email),
		LinkURL: p.uiPath("/sign-in", "callbackURL", p.callbackParam(r)), LinkText: t("common.back_to_sign_in")})
}

// resetData is the reset-password page's data.
type resetData struct {
	pageData
	Token       string
	MinPassword int
}

// resetPage is where the emailed link lands (through the API's /reset-password/:token, which
// adds ?token= or ?error=INVALID_TOKEN).
func (p *Plugin) resetPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if code := q.Get("error"); code != "" {
		p.renderError(w, r, http.StatusBadRequest, linkErrorCode(code))
		return
	}
	tok := q.Get("token")
	if !validToken(tok) {
		p.renderError(w, r, http.StatusBadRequest, "MISSING_TOKEN")
		return
	}
	p.render(w, r, http.StatusOK, "reset-password", resetData{pageData: p.page(w, r), Token: tok,
		MinPassword: p.engine.Config().EmailAndPassword.MinPasswordLength})
}

// resetPost sets the new password with /reset-password.
func (p *Plugin) resetPost(w http.ResponseWriter, r *http.Request) {
	if !p.checkPost(w, r, "reset-password") {
		return
	}
	d := resetData{pageData: p.page(w, r), Token: r.PostForm.Get("token"),
		MinPassword: p.engine.Config().EmailAndPassword.MinPasswordLength}
	if !validToken(d.Token) {
		p.renderError(w, r, http.StatusBadRequest, "MISSING_TOKEN")
		return
	}
	pw, confirm := r.PostForm.Get("password"), r.PostForm.Get("password-confirm")
	fail := func(status int, code string) {
		d.Error, d.ErrorCode = errorText(code), code
		p.render(w, r, status, "reset-password", d)
	}
	if pw == "" {
		fail(http.StatusBadRequest, "MISSING_FIELDS")
		return
	}
	if pw != confirm {
		fail(http.StatusBadRequest, "PASSWORD_MISMATCH")
		return
	}
	res := p.api(r, http.MethodPost, "/reset-password", map[string]any{"newPassword": pw, "token": d.Token})
	res.CopyCookies(w)
	switch {
	case res.OK():
		p.renderMessage(w, r, http.StatusOK, messageData{pageData: d.pageData,
			Title: t("reset.done.title"), Body: t("reset.done.body"),
			LinkURL: p.uiPath("/sign-in", "callbackURL", p.callbackParam(r)), LinkText: t("reset.sign_in")})
	case res.Code == "INVALID_TOKEN" || res.Code == "TOKEN_EXPIRED" || res.Code == "USER_NOT_FOUND":
		p.renderAPIError(w, r, res)
	default:
		fail(res.Status, res.Code)
	}
}

// verifyEmail is the landing page of a verification link: it calls GET /verify-email
// in-process (which may sign the user in: its cookies are copied) and shows success, the
// error page, or goes to /two-factor when the sign-in needs a second factor.
func (p *Plugin) verifyEmail(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if code := q.Get("error"); code != "" {
		p.renderError(w, r, http.StatusBadRequest, linkErrorCode(code))
		return
	}
	tok := q.Get("token")
	if !validToken(tok) {
		p.renderError(w, r, http.StatusBadRequest, "MISSING_TOKEN")
		return
	}
	res := p.api(r, http.MethodGet, "/verify-email?token="+url.QueryEscape(tok), nil)
	res.CopyCookies(w)
	if res.Status >= 300 && res.Status < 400 { // a link sign-in interrupted for the second factor
		p.redirectUI(w, r, "/two-factor", "callbackURL", p.callbackParam(r))
		return
	}
	if !res.OK() {
		p.renderAPIError(w, r, res)
		return
	}
	// The session cookie may have been set just now: read the user with it.
	if len(res.SetCookies) > 0 {
		r = r.Clone(r.Context())
		r.Header.Set("Cookie", withCookies(r.Header.Get("Cookie"), res))
	}
	d := p.page(w, r)
	p.renderMessage(w, r, http.StatusOK, messageData{pageData: d,
		Title: t("verify.title"), Body: t("verify.body"), LinkURL: p.callbackHref(d.CallbackURL), LinkText: t("verify.continue")})
}

// linkErrorCode keeps an ?error= code only if it looks like one (it selects a message; it is
// never echoed). Lower-case codes are the OAuth callback's (state_mismatch, …).
func linkErrorCode(code string) string {
	if len(code) > 100 {
		return "generic"
	}
	for _, c := range code {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return "generic"
		}
	}
	return code
}

// validToken bounds a token from a link before it is sent to the API.
func validToken(s string) bool {
	if s == "" || len(s) > 4096 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}
