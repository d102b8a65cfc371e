package portal

import (
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// ssoRoutes are the enterprise single sign-on page (the sso plugin): an email form whose
// domain picks the organization's identity provider.
func (p *Plugin) ssoRoutes() []route {
	return []route{
		{"GET", "/sign-in/sso", p.ssoPage},
		{"POST", "/sign-in/sso", p.ssoPost},
	}
}

// SSO reports whether the sso plugin is on (the sign-in page's "Sign in with SSO" link).
func (d pageData) SSO() bool { return d.plugin != nil && d.plugin.ssoOn() }

func (p *Plugin) ssoOn() bool { return slices.Contains(p.engine.Plugins(), "sso") }

// ssoData is the SSO page's data: the email form, or (ContinueURL) the interstitial that
// takes the browser on to the identity provider.
type ssoData struct {
	pageData
	Email       string
	ContinueURL string
}

func (p *Plugin) ssoPage(w http.ResponseWriter, r *http.Request) {
	if p.methodOff(w, r, p.ssoOn()) {
		return
	}
	p.render(w, r, http.StatusOK, "sso", ssoData{pageData: p.page(w, r)})
}

// ssoPost asks POST /sign-in/sso for the identity provider that serves the email's domain
// (verified domains only) with the validated callbackURL and the portal's error page as
// errorCallbackURL, copies the API's signed state cookie and answers the interstitial: the
// IdP's origin is registered at run time, so the page's CSP form-action cannot name it and
// a 302 from this form would be blocked; a meta refresh and a link are not governed by
// form-action.
func (p *Plugin) ssoPost(w http.ResponseWriter, r *http.Request) {
	if p.methodOff(w, r, p.ssoOn()) || !p.checkPost(w, r, "sso") {
		return
	}
	d := ssoData{pageData: p.page(w, r), Email: field(r, "email")}
	if len(d.Email) > 254 {
		d.Email = ""
	}
	fail := func(status int, code string) {
		d.Error, d.ErrorCode = errorText(code), code
		p.render(w, r, status, "sso", d)
	}
	if d.Email == "" {
		fail(http.StatusBadRequest, "MISSING_FIELDS")
		return
	}
	if at := strings.LastIndexByte(d.Email, '@'); at <= 0 || at == len(d.Email)-1 {
		fail(http.StatusBadRequest, "INVALID_EMAIL")
		return
	}
	res := p.api(r, http.MethodPost, "/sign-in/sso", map[string]any{
		"email":            d.Email,
		"callbackURL":      p.callbackHref(d.CallbackURL),
		"errorCallbackURL": p.uiURL("/error"),
	})
	res.CopyCookies(w)
	u := res.String("url")
	if !res.OK() || safeRefreshURL(u) == "" {
		if res.OK() {
			res.Status = http.StatusBadGateway
		}
		fail(res.Status, ssoErrorCode(res))
		return
	}
	d.ContinueURL = u
	p.render(w, r, http.StatusOK, "sso", d)
}

// ssoErrorCode is the portal error code of a refused /sign-in/sso. Better Auth answers most
// of them with a message and no code, so the known messages are mapped here; the page shows
// the translation, never the API's message.
func ssoErrorCode(res apiResult) string {
	if c := res.String("code"); c != "" {
		return c
	}
	switch res.Message {
	case "No provider found for the issuer":
		return "SSO_NO_PROVIDER"
	case "Provider domain has not been verified":
		return "SSO_DOMAIN_NOT_VERIFIED"
	case "email, organizationSlug, domain or providerId is required":
		return "MISSING_FIELDS"
	}
	switch {
	case res.Status == http.StatusTooManyRequests:
		return "TOO_MANY_REQUESTS"
	case res.Status >= 400 && res.Status < 500:
		return "SSO_PROVIDER_UNAVAILABLE"
	}
	return "INTERNAL_SERVER_ERROR"
}

// safeRefreshURL returns s when it is an absolute http(s) URL without credentials (what an
// identity provider's authorization URL is), else "". It guards the refresh func below.
func safeRefreshURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
		strings.ContainsAny(s, "\x00\r\n\t \"'<>`") {
		return ""
	}
	return s
}

// metaRefresh is the content attribute of <meta http-equiv="refresh"> for an http(s) URL:
// {{metaRefresh .ContinueURL}}. Anything else (javascript:, data:, relative, odd characters)
// gives "" (no navigation). The template still HTML-escapes the attribute.
func metaRefresh(s string) string {
	if safeRefreshURL(s) == "" {
		return ""
	}
	return "0;url=" + s
}

// continueHref is the interstitial link's href: only an http(s) URL (else "#").
func continueHref(s string) template.URL {
	if safeRefreshURL(s) == "" {
		return "#"
	}
	return template.URL(s)
}
