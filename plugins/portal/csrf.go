package portal

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
)

// CSRF (D14): every form carries a hidden "csrf" field, MAC(secret, browser id || form name),
// where the browser id is a random value in the <prefix>.portal_csrf cookie (HttpOnly,
// SameSite=Lax, Secure like the engine's own cookies) set on the first page. A POST is
// refused with the 403 error page, before anything is read or changed, when Sec-Fetch-Site
// says cross-site, when Origin is present and not trusted (or "null"), or when the token does
// not match the cookie and the form.
const (
	csrfCookieSuffix = "portal_csrf"
	csrfField        = "csrf"
	csrfPurpose      = "gatehouse.portal.csrf"
)

// csrfCookieName is the full cookie name, e.g. "better-auth.portal_csrf".
func (p *Plugin) csrfCookieName() string { return p.engine.CookieName(csrfCookieSuffix) }

// browserID returns the browser's CSRF id, setting the cookie on w when the browser has none
// (or a malformed one).
func (p *Plugin) browserID(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(p.csrfCookieName()); err == nil && validBrowserID(c.Value) {
		return c.Value
	}
	id, err := p.engine.Random().ID()
	if err != nil { // no randomness: no token can verify, so forms answer 403
		p.engine.Logger().Error("portal: csrf id", "err", err)
		return ""
	}
	http.SetCookie(w, &http.Cookie{
		Name: p.csrfCookieName(), Value: id, Path: "/",
		HttpOnly: true, Secure: p.secure, SameSite: http.SameSiteLaxMode,
	})
	// Later reads in this request (a page rendered after a POST) see the new id.
	r.AddCookie(&http.Cookie{Name: p.csrfCookieName(), Value: id})
	return id
}

func validBrowserID(s string) bool {
	if len(s) < 16 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// csrfToken is the token of one form for one browser.
func (p *Plugin) csrfToken(browserID, form string) string {
	return base64.RawURLEncoding.EncodeToString(p.engine.Keys().MAC(csrfPurpose, []byte(browserID+"\x00"+form)))
}

// checkPost guards every state-changing request: it must be a POST whose Fetch Metadata and
// Origin are acceptable and whose csrf field matches the browser's cookie and the form name.
// It parses the form (bounded to maxFormBytes). On failure it renders the error page (403,
// or 405/413/400) and returns false; the handler must then return without acting.
func (p *Plugin) checkPost(w http.ResponseWriter, r *http.Request, form string) bool {
	if r.Method != http.MethodPost {
		p.renderError(w, r, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED")
		return false
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site == "cross-site" {
		p.renderError(w, r, http.StatusForbidden, "CSRF")
		return false
	}
	if o, ok := r.Header["Origin"]; ok {
		if len(o) != 1 || o[0] == "null" || !p.engine.Origins().TrustedOrigin(o[0]) {
			p.renderError(w, r, http.StatusForbidden, "CSRF")
			return false
		}
	}
	if !p.parseForm(w, r) {
		return false
	}
	c, err := r.Cookie(p.csrfCookieName())
	tok := r.PostForm.Get(csrfField)
	mac, derr := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || !validBrowserID(c.Value) || tok == "" || derr != nil ||
		!p.engine.Keys().VerifyMAC(csrfPurpose, []byte(c.Value+"\x00"+form), mac) {
		p.renderError(w, r, http.StatusForbidden, "CSRF")
		return false
	}
	return true
}

// maxFormBytes bounds a form body: far above any real form, far below memory trouble.
const maxFormBytes = 64 << 10

// parseForm reads an urlencoded or multipart-less form body, answering 413/400/415 pages on
// failure.
func (p *Plugin) parseForm(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodPost {
		ct := r.Header.Get("Content-Type")
		if ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/x-www-form-urlencoded") {
			p.renderError(w, r, http.StatusUnsupportedMediaType, "BAD_FORM")
			return false
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	}
	if err := r.ParseForm(); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			p.renderError(w, r, http.StatusRequestEntityTooLarge, "FORM_TOO_LARGE")
		} else {
			p.renderError(w, r, http.StatusBadRequest, "BAD_FORM")
		}
		return false
	}
	return true
}
