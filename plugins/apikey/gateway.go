package apikey

import (
	"net/http"
	"strings"

	"github.com/gatehouse-auth/gatehouse/authcore"
)

// errGatewayInvalid is the one answer the gateway gives every key it does not accept
// (unknown, malformed, disabled, expired, deleted, orphaned, banned owner), so a client
// learns nothing about which check failed.
func errGatewayInvalid() *authcore.Error { return ErrInvalidAPIKey.With(http.StatusUnauthorized) }

// presentedKey returns the key from the first configured header present. Several values of
// that header make the request ambiguous. Query strings are never read.
func (p *Plugin) presentedKey(h http.Header) (key string, found, ambiguous bool) {
	for _, name := range p.Headers {
		vs := h.Values(name)
		if len(vs) == 0 {
			continue
		}
		if len(vs) > 1 {
			return "", true, true
		}
		return strings.TrimSpace(vs[0]), true, false
	}
	return "", false, false
}

// gatewayAuth resolves a key header on proxied requests (authcore.OrderAPIKey).
type gatewayAuth struct{ p *Plugin }

// Authenticate: no key header → no credential; an unacceptable key → 401 INVALID_API_KEY;
// rate limit or quota exhausted → 429 with Retry-After; otherwise the key's user (or, for an
// organization-owned key, the organization) with the key's permissions.
func (a gatewayAuth) Authenticate(r *http.Request) (*authcore.Principal, bool, error) {
	p := a.p
	key, found, ambiguous := p.presentedKey(r.Header)
	if !found {
		return nil, false, nil
	}
	if ambiguous || key == "" {
		return nil, false, errGatewayInvalid()
	}
	e, err := p.verify(r.Context(), key, nil)
	if err != nil {
		ae := authcore.AsError(err)
		if ae.Status == http.StatusUnauthorized {
			return nil, false, errGatewayInvalid()
		}
		return nil, false, ae
	}
	pr := &authcore.Principal{Method: "api-key", KeyID: e.rec.ID(), Permissions: e.perms}
	if e.user == nil {
		pr.OrgID = e.rec.String(FieldReferenceID)
		return pr, true, nil
	}
	pr.UserID, pr.User = e.user.ID(), e.user
	pr.Roles = authcore.SplitRoles(e.user.String("role"))
	return pr, true, nil
}
