package bearer

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse-auth/gatehouse/authcore"
)

// gatewayAuth resolves "Authorization: Bearer <session token>" on proxied requests
// (authcore.OrderBearer). Its principal has Method "bearer", so the gateway removes
// Authorization from the upstream request (D8).
type gatewayAuth struct{ p *Plugin }

// Authenticate accepts the tokens the auth API accepts (signed, percent-encoded signed, and
// bare unless require_signature), through the engine's session cache.
//
//   - another scheme, a JWT-shaped token, or a bare token that is not ours (with
//     require_signature, or naming no session: it may be the upstream's own credential) is
//     found=false and Authorization goes upstream untouched;
//   - a signed token that does not verify or names no live session is no credential, but
//     when the request also carries a session cookie it is 401: the gateway never falls back
//     to a cookie the client did not choose;
//   - a live token and a session cookie naming another live session is 401 (D8), even for
//     the same user; so are several Authorization headers of which one is a bearer one.
func (a gatewayAuth) Authenticate(r *http.Request) (*authcore.Principal, bool, error) {
	tok, ok, ambiguous := bearerToken(r.Header)
	if ambiguous {
		return nil, false, errConflict
	}
	if !ok || looksLikeJWT(tok) {
		return nil, false, nil
	}
	p := a.p
	e := p.engine
	signed, ok := p.signedValue(tok)
	if !ok {
		return nil, false, nil
	}
	s, err := e.VerifySigned(r.Context(), signed)
	if err != nil {
		return nil, false, err
	}
	cookies := cookieValues(r.Header, e.CookieName(authcore.CookieSessionToken))
	if s == nil {
		if strings.Contains(tok, ".") && len(cookies) > 0 { // a signed value: ours, refused
			return nil, false, errConflict
		}
		return nil, false, nil
	}
	for _, v := range cookies {
		d, err := url.PathUnescape(v)
		if err != nil {
			continue
		}
		t, ok := e.Keys().Verify(d)
		if !ok || t == s.Token {
			continue
		}
		cs, err := e.VerifySigned(r.Context(), d)
		if err != nil {
			return nil, false, err
		}
		if cs != nil && cs.ID() != s.ID() {
			return nil, false, errConflict
		}
	}
	pr := e.SessionPrincipal(s, "bearer")
	if pr.Refresh {
		// A bearer client has no cookie to re-issue, but its session slides like a
		// cookie session does (Better Auth refreshes it on the auth API the same way).
		if _, err := e.RefreshSession(r.Context(), s); err != nil {
			return nil, false, err
		}
		pr.Refresh = false
	}
	return pr, true, nil
}
