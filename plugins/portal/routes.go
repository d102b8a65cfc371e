package portal

import (
	"net/http"
	"strings"
)

// route is one portal page: method ("GET" also answers HEAD) and path relative to
// <base_path>/ui ("/sign-in").
type route struct {
	method  string
	path    string
	handler http.HandlerFunc
}

// routes is the portal's route table. Each area of the portal contributes its routes from
// its own file; add ONE line here for a new area.
func (p *Plugin) routes() []route {
	var routes []route
	routes = append(routes, p.coreRoutes()...)      // routes_core.go: index, sign-in/up/out, password reset, verify-email, error
	routes = append(routes, p.methodRoutes()...)    // routes_methods.go: magic link, email code, phone code, /email-changed
	routes = append(routes, p.twoFactorRoutes()...) // routes_twofactor.go: /two-factor challenge, /account/two-factor
	routes = append(routes, p.passkeyRoutes()...)   // routes_passkey.go: /sign-in/passkey, /account/passkeys
	routes = append(routes, p.accountRoutes()...)   // routes_account.go: /account and its forms, /accept-invitation
	routes = append(routes, p.adminRoutes()...)     // routes_admin.go: /admin, /admin/user and their forms
	routes = append(routes, p.socialRoutes()...)    // routes_social.go: social sign-in buttons, linked accounts
	routes = append(routes, p.ssoRoutes()...)       // routes_sso.go: enterprise single sign-on (sso plugin)
	return routes
}

// ServeHTTP serves everything under <base_path>/ui/: hashed assets, then the route table;
// anything else is the 404 error page. Panics become the 500 error page.
func (p *Plugin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rel, ok := strings.CutPrefix(r.URL.Path, p.uiBase)
	if !ok || rel == "" {
		p.renderError(w, r, http.StatusNotFound, "NOT_FOUND")
		return
	}
	if name, ok := strings.CutPrefix(rel, "/assets/"); ok {
		p.serveAsset(w, r, name)
		return
	}
	method := r.Method
	if method == http.MethodHead {
		method = http.MethodGet
	}
	var allowed []string
	for _, rt := range p.routeTable {
		if rt.path != rel {
			continue
		}
		if rt.method == method {
			rt.handler(w, r)
			return
		}
		allowed = append(allowed, rt.method)
	}
	if len(allowed) > 0 {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		p.renderError(w, r, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED")
		return
	}
	p.renderError(w, r, http.StatusNotFound, "NOT_FOUND")
}
