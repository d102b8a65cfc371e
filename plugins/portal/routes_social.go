package portal

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gatehouse-auth/gatehouse/authcore/oauth"
)

// socialRoutes are the "Continue with <Name>" buttons' target and the account page's linked
// accounts forms (link a provider, unlink an account).
func (p *Plugin) socialRoutes() []route {
	return []route{
		{"POST", "/sign-in/social", p.socialSignInPost},
		{"POST", "/account/link-social", p.socialLinkPost},
		{"POST", "/account/unlink-account", p.socialUnlinkPost},
	}
}

// socialButton is one configured social provider as the pages show it.
type socialButton struct{ ID, Name string }

// SocialProviders are the engine's social providers in configuration order (none when none
// is configured): {{range .SocialProviders}}.
func (d pageData) SocialProviders() []socialButton {
	if d.plugin == nil {
		return nil
	}
	return d.plugin.socialProviders()
}

func (p *Plugin) socialProviders() []socialButton {
	var out []socialButton
	for _, sp := range p.engine.Config().Social.Providers {
		name := sp.Name()
		if name == "" {
			name = sp.ID()
		}
		out = append(out, socialButton{ID: sp.ID(), Name: name})
	}
	return out
}

// socialProvider is the configured provider with the form's id (false for anything else:
// the id is only ever compared, never echoed).
func (p *Plugin) socialProvider(id string) (socialButton, bool) {
	for _, b := range p.socialProviders() {
		if b.ID == id {
			return b, true
		}
	}
	return socialButton{}, false
}

// socialStart answers the API's {url} of /sign-in/social or /link-social: its Set-Cookie (the
// signed state cookie binding the flow to this browser) and a 302 to the provider. A refusal
// renders the error page with the API's status.
func (p *Plugin) socialStart(w http.ResponseWriter, r *http.Request, res apiResult) {
	u := res.String("url")
	if !res.OK() || !(strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://")) {
		if res.OK() {
			res.Status, res.Code = http.StatusBadGateway, "INTERNAL_SERVER_ERROR"
		}
		p.renderAPIError(w, r, res)
		return
	}
	res.CopyCookies(w)
	if !slices.Contains(p.socialOrigins, urlOrigin(u)) {
		// The page's CSP form-action (which browsers apply to a form's redirects too) does
		// not name this origin: a link, which form-action does not govern, takes the user on.
		sp, _ := p.socialProvider(r.PostForm.Get("provider"))
		p.renderMessage(w, r, http.StatusOK, messageData{pageData: p.page(w, r), Title: tf("social.continue_with", sp.Name),
			Body: tf("social.interstitial", sp.Name), LinkURL: u, LinkText: tf("social.continue_with", sp.Name)})
		return
	}
	p.setSecurityHeaders(w.Header(), false)
	w.Header().Set("Location", u)
	w.WriteHeader(http.StatusFound)
}

// socialFormOrigins are the origins a social button's POST may redirect the browser to:
// each provider's authorization origin.
func socialFormOrigins(ps []oauth.Provider) []string {
	var out []string
	for _, sp := range ps {
		if o := sp.AuthorizationOrigin(); o != "" && !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	return out
}

// urlOrigin is scheme://host[:port] of an http(s) URL, "" for anything else.
func urlOrigin(s string) string {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return ""
	}
	return u.Scheme + "://" + strings.ToLower(u.Host)
}

// socialSignInPost is the "Continue with <Name>" form of the sign-in and sign-up pages: POST
// /sign-in/social in process with the validated callbackURL and the portal's error page as
// errorCallbackURL (the sign-up page's form asks for sign-up with requestSignUp).
func (p *Plugin) socialSignInPost(w http.ResponseWriter, r *http.Request) {
	if !p.checkPost(w, r, "social-sign-in") {
		return
	}
	sp, ok := p.socialProvider(r.PostForm.Get("provider"))
	if !ok {
		p.renderError(w, r, http.StatusBadRequest, "PROVIDER_NOT_FOUND")
		return
	}
	body := map[string]any{
		"provider":         sp.ID,
		"callbackURL":      p.callbackHref(p.callback(r)),
		"errorCallbackURL": p.uiURL("/error"),
		"disableRedirect":  true,
	}
	if r.PostForm.Get("signup") != "" {
		body["requestSignUp"] = true
	}
	p.socialStart(w, r, p.api(r, http.MethodPost, "/sign-in/social", body))
}

// socialLinkPost is the account page's "Link <Name>" form: POST /link-social, coming back to
// the account page (failures to the error page, which explains the ?error= code).
func (p *Plugin) socialLinkPost(w http.ResponseWriter, r *http.Request) {
	d, ok := p.accountPost(w, r, "link-social")
	if !ok {
		return
	}
	sp, found := p.socialProvider(r.PostForm.Get("provider"))
	if !found {
		p.accountInvalid(w, r, d, "PROVIDER_NOT_FOUND")
		return
	}
	p.socialStart(w, r, p.api(r, http.MethodPost, "/link-social", map[string]any{
		"provider":         sp.ID,
		"callbackURL":      p.uiURL("/account", "done", "account_linked"),
		"errorCallbackURL": p.uiURL("/error"),
		"disableRedirect":  true,
	}))
}

// socialUnlinkPost is a linked account's "Unlink" form: POST /unlink-account with the account
// row's id and provider id. The API refuses to unlink the last account (the page shows why).
func (p *Plugin) socialUnlinkPost(w http.ResponseWriter, r *http.Request) {
	d, ok := p.accountPost(w, r, "account-unlink")
	if !ok {
		return
	}
	id, provider := field(r, "accountId"), field(r, "providerId")
	if id == "" || len(id) > 512 || len(provider) > 512 {
		p.accountInvalid(w, r, d, "MISSING_FIELDS")
		return
	}
	body := map[string]any{"accountId": id}
	if provider != "" {
		body["providerId"] = provider
	}
	res := p.api(r, http.MethodPost, "/unlink-account", body)
	if !res.OK() {
		p.accountFailed(w, r, d, res)
		return
	}
	p.accountDone(w, r, res, "account_unlinked")
}

// linkedAccount is one row of the account page's "Linked accounts" list.
type linkedAccount struct {
	ID, ProviderID, Name string
}

// linkedAccounts lists the user's accounts (/list-accounts) with display names, and the
// configured providers not linked yet.
func (p *Plugin) linkedAccounts(r *http.Request) (rows []linkedAccount, linkable []socialButton, ok bool) {
	res := p.api(r, http.MethodGet, "/list-accounts", nil)
	if !res.OK() {
		return nil, nil, false
	}
	list, _ := res.Body.([]any)
	linked := map[string]bool{}
	for _, v := range list {
		a, _ := v.(map[string]any)
		pid := str(a, "providerId")
		row := linkedAccount{ID: str(a, "id"), ProviderID: pid, Name: pid}
		if pid == "credential" {
			row.Name = t("social.account.password")
		} else if sp, ok := p.socialProvider(pid); ok {
			row.Name = sp.Name
		}
		linked[pid] = true
		rows = append(rows, row)
	}
	for _, sp := range p.socialProviders() {
		if !linked[sp.ID] {
			linkable = append(linkable, sp)
		}
	}
	return rows, linkable, true
}

// socialForm is the data of the "social-buttons" partial.
type socialForm struct {
	Providers         []socialButton
	CSRF, CallbackURL string
	SignUp            bool
}

// SocialForm is the "social-buttons" partial's data for this page: {{template
// "social-buttons" (.SocialForm false)}} (true on the sign-up page: requestSignUp).
func (d pageData) SocialForm(signUp bool) socialForm {
	return socialForm{Providers: d.SocialProviders(), CSRF: d.CSRF("social-sign-in"), CallbackURL: d.CallbackURL, SignUp: signUp}
}
