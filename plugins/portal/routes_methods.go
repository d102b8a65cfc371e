package portal

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/gatehouse-auth/gatehouse/authcore"
)

// methodRoutes are the passwordless sign-in pages (magic link, email code, phone code), each
// served only while its plugin is on, and the landing page of a confirmed change of email.
func (p *Plugin) methodRoutes() []route {
	return []route{
		{"GET", "/sign-in/magic-link", p.magicLinkPage},
		{"POST", "/sign-in/magic-link", p.magicLinkPost},
		{"GET", "/sign-in/email-otp", p.codePage(emailOTPFlow)},
		{"POST", "/sign-in/email-otp", p.codePost(emailOTPFlow)},
		{"GET", "/sign-in/phone", p.codePage(phoneFlow)},
		{"POST", "/sign-in/phone", p.codePost(phoneFlow)},
		{"GET", "/email-changed", p.emailChangedPage},
	}
}

// methodOff answers the 404 page when a sign-in method's plugin is not enabled.
func (p *Plugin) methodOff(w http.ResponseWriter, r *http.Request, on bool) bool {
	if !on {
		p.renderError(w, r, http.StatusNotFound, "NOT_FOUND")
		return true
	}
	return false
}

// absCallback is the validated callbackURL as an absolute URL on a trusted origin: what an
// emailed link must carry, since it is opened outside the portal.
func (p *Plugin) absCallback(cb string) string {
	o := p.engine.Origins()
	if abs, ok := o.Resolve(p.engine.BaseURL(), cb); ok {
		return abs
	}
	abs, _ := o.Resolve(p.engine.BaseURL(), p.DefaultCallback)
	return abs
}

// finishSignIn finishes a sign-in API call: a two-factor user goes to /two-factor (the API set
// the two_factor cookie), anyone else to the callbackURL with the session cookies.
func (p *Plugin) finishSignIn(w http.ResponseWriter, r *http.Request, res apiResult, cb string) {
	if res.Bool("twoFactorRedirect") {
		p.redirectUI(w, r, "/two-factor", "callbackURL", p.callbackParam(r))
		return
	}
	p.redirect(w, r, cb)
}

// --- Magic link ---

// magicLinkData is the magic-link page's data: the form, or (Sent) the "check your email"
// answer.
type magicLinkData struct {
	pageData
	Email string
	Sent  bool
}

func (p *Plugin) magicLinkPage(w http.ResponseWriter, r *http.Request) {
	if p.methodOff(w, r, p.enabled().MagicLink) {
		return
	}
	p.render(w, r, http.StatusOK, "magic-link", magicLinkData{pageData: p.page(w, r)})
}

// magicLinkPost asks /sign-in/magic-link for a link whose callbackURL is the validated target
// (absolute: the link is opened from a mail client) and whose errorCallbackURL is the
// portal's error page. The API answers the same for every address and sends after the
// response, so the page does too (D18).
func (p *Plugin) magicLinkPost(w http.ResponseWriter, r *http.Request) {
	if p.methodOff(w, r, p.enabled().MagicLink) || !p.checkPost(w, r, "magic-link") {
		return
	}
	d := magicLinkData{pageData: p.page(w, r), Email: field(r, "email")}
	if d.Email == "" {
		d.Error, d.ErrorCode = errorText("MISSING_FIELDS"), "MISSING_FIELDS"
		p.render(w, r, http.StatusBadRequest, "magic-link", d)
		return
	}
	res := p.api(r, http.MethodPost, "/sign-in/magic-link", map[string]any{
		"email":            d.Email,
		"callbackURL":      p.absCallback(d.CallbackURL),
		"errorCallbackURL": p.uiURL("/error"),
	})
	res.CopyCookies(w)
	if !res.OK() {
		d.Error, d.ErrorCode = errorText(res.Code), res.Code
		p.render(w, r, res.Status, "magic-link", d)
		return
	}
	d.Sent = true
	p.render(w, r, http.StatusOK, "magic-link", d)
}

// --- Sign-in by code (email, SMS) ---

// codeData is the data of the two-step code pages (email code, phone code): step 1 asks
// for the address or number, step 2 (Verify) for the code.
type codeData struct {
	pageData
	Email  string
	Phone  string
	Verify bool
}

// codeFlow is one of the two-step sign-ins by code — email or SMS: step 1 (?step=send, the
// default) asks the API to send a code to the address, step 2 (?step=verify) signs in with
// it. The step is in the form's action so that the CSRF check knows the form before the
// body is read.
type codeFlow struct {
	page        string // template, and the prefix of the form names (<page>-send, <page>-verify)
	on          func(methods) bool
	addrField   string // the form field of the address, and of the code
	codeField   string
	sendPath    string
	sendBody    func(addr string) map[string]any
	verifyPath  string
	verifyBody  func(addr, code string) map[string]any
	sentMessage string // strings key, formatted with the address
	setAddr     func(d *codeData, addr string)
}

// emailOTPFlow: /email-otp/send-verification-otp (type sign-in; the same answer for every
// address), then /sign-in/email-otp.
var emailOTPFlow = codeFlow{
	page: "email-otp", on: func(m methods) bool { return m.EmailOTP },
	addrField: "email", codeField: "otp",
	sendPath:    "/email-otp/send-verification-otp",
	sendBody:    func(a string) map[string]any { return map[string]any{"email": a, "type": "sign-in"} },
	verifyPath:  "/sign-in/email-otp",
	verifyBody:  func(a, c string) map[string]any { return map[string]any{"email": a, "otp": c} },
	sentMessage: "methods.email_otp.sent",
	setAddr:     func(d *codeData, a string) { d.Email = a },
}

// phoneFlow: /phone-number/send-otp (which never looks the number up), then
// /phone-number/verify, which verifies the number and signs in — the phone-number plugin's
// only sign-in by code.
var phoneFlow = codeFlow{
	page: "phone", on: func(m methods) bool { return m.Phone },
	addrField: "phone", codeField: "code",
	sendPath:    "/phone-number/send-otp",
	sendBody:    func(a string) map[string]any { return map[string]any{"phoneNumber": a} },
	verifyPath:  "/phone-number/verify",
	verifyBody:  func(a, c string) map[string]any { return map[string]any{"phoneNumber": a, "code": c} },
	sentMessage: "methods.phone.sent",
	setAddr:     func(d *codeData, a string) { d.Phone = a },
}

// codePage is a flow's first step.
func (p *Plugin) codePage(f codeFlow) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if p.methodOff(w, r, f.on(p.enabled())) {
			return
		}
		p.render(w, r, http.StatusOK, f.page, codeData{pageData: p.page(w, r)})
	}
}

// codePost sends the code (step 1) or signs in with it (step 2).
func (p *Plugin) codePost(f codeFlow) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if p.methodOff(w, r, f.on(p.enabled())) {
			return
		}
		verify := r.URL.Query().Get("step") == "verify"
		form := f.page + "-send"
		if verify {
			form = f.page + "-verify"
		}
		if !p.checkPost(w, r, form) {
			return
		}
		addr := field(r, f.addrField)
		d := codeData{pageData: p.page(w, r), Verify: verify && addr != ""}
		f.setAddr(&d, addr)
		fail := func(status int, code string) {
			d.Error, d.ErrorCode = errorText(code), code
			p.render(w, r, status, f.page, d)
		}
		if addr == "" {
			fail(http.StatusBadRequest, "MISSING_FIELDS")
			return
		}
		if !verify {
			res := p.api(r, http.MethodPost, f.sendPath, f.sendBody(addr))
			res.CopyCookies(w)
			if !res.OK() {
				fail(res.Status, res.Code)
				return
			}
			d.Verify = true
			d.Flash = fmt.Sprintf(t(f.sentMessage), addr)
			p.render(w, r, http.StatusOK, f.page, d)
			return
		}
		code := field(r, f.codeField)
		if code == "" {
			fail(http.StatusBadRequest, "MISSING_FIELDS")
			return
		}
		res := p.api(r, http.MethodPost, f.verifyPath, f.verifyBody(addr, code))
		res.CopyCookies(w)
		if !res.OK() {
			fail(res.Status, res.Code)
			return
		}
		p.finishSignIn(w, r, res, d.CallbackURL)
	}
}

// --- Change of email ---

// Email-changed page states.
const (
	emailChangeDone    = "done"    // the signed-in user's address is the new one
	emailChangePending = "pending" // the old address confirmed; the new one must confirm next
	emailChangeUnknown = "unknown" // signed out: the page cannot tell which step this was
)

// emailChangedData is the email-changed page's data.
type emailChangedData struct {
	pageData
	State string
}

// emailChangedPage is the callbackURL the account page gives /change-email:
// <base_path>/ui/email-changed?email=<new address>. The core's GET /verify-email redirects
// here after each confirmation link (with ?error=CODE when the link failed). With
// send_change_email_confirmation the first link (to the old address) lands here before the
// change is made, so the page compares the signed-in user's address with ?email= to tell
// "changed" from "now confirm the new address". ?email= is only compared, never shown.
func (p *Plugin) emailChangedPage(w http.ResponseWriter, r *http.Request) {
	if p.methodOff(w, r, p.engine.Config().User.ChangeEmail.Enabled) {
		return
	}
	q := r.URL.Query()
	if code := q.Get("error"); code != "" {
		if len(code) > 100 {
			code = "generic"
		}
		p.renderError(w, r, http.StatusBadRequest, code)
		return
	}
	d := emailChangedData{pageData: p.page(w, r), State: emailChangeUnknown}
	want := authcore.NormalizeEmail(strings.TrimSpace(q.Get("email")))
	if d.User != nil {
		switch {
		case want == "" || authcore.NormalizeEmail(d.User.Email) == want:
			d.State = emailChangeDone
		default:
			d.State = emailChangePending
		}
	}
	p.render(w, r, http.StatusOK, "email-changed", d)
}
