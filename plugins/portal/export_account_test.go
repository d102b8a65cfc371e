package portal

// CSRFToken exposes the token of a form for a browser id (the portal_csrf cookie), so tests
// can post forms that a page shows only with data (a second session, a key, an invitation).
func (p *Plugin) CSRFToken(browserID, form string) string { return p.csrfToken(browserID, form) }
