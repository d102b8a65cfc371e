package authcore

import (
	"fmt"
	"net/url"
)

// ErrorPage makes GET <base_path>/error redirect to path (relative to the base path, or an
// absolute URL of a trusted origin) with the same query, as Better Auth's
// onAPIError.errorURL does: flows that can only send a browser to the API's error page (an
// OAuth callback whose state is lost, so its own error URL is unknown) then land on a page
// that explains the code. The hosted portal claims it; one plugin at most.
func (r *Registrar) ErrorPage(path string) error {
	if r.reg.errorPageOwner != "" {
		return fmt.Errorf("plugin %q: the error page is already plugin %q's", r.owner, r.reg.errorPageOwner)
	}
	r.reg.errorPage, r.reg.errorPageOwner = path, r.owner
	return nil
}

// errorRedirect is where /error sends the browser when a plugin claimed the error page:
// that page, with the error and error_description it was given.
func (e *Engine) errorRedirect(code, desc string) (any, bool) {
	if e.reg.errorPage == "" {
		return nil, false
	}
	target := e.reg.errorPage
	if u, err := url.Parse(target); err == nil && !u.IsAbs() {
		target = e.APIURL(target)
	}
	abs, ok := e.origins.Resolve(e.baseURL, target)
	if !ok {
		return nil, false
	}
	if code != "" {
		abs = withQuery(abs, "error", code)
	}
	if desc != "" {
		abs = withQuery(abs, "error_description", desc)
	}
	return Redirect(abs), true
}
