package authcore

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/gatehouse-auth/gatehouse/storage"
)

// errConflictingCredentials: two credentials in one request that name different principals
// get 401, never an identity assembled from both (D8, TOK-01).
var errConflictingCredentials = &Error{Status: http.StatusUnauthorized, Code: CodeUnauthorized.Code, Message: "Conflicting credentials"}

// Authenticate resolves the credential of a gateway request through the registered
// authenticators in their fixed order (session cookie, bearer, JWT, API key; doc.go). It
// returns nil without error when the request carries no credential. Every authenticator runs,
// so credentials naming different principals are refused.
func (e *Engine) Authenticate(r *http.Request) (*Principal, error) {
	var found *Principal
	for _, a := range e.auths {
		p, ok, err := a.a.Authenticate(r)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		if found == nil {
			found = p
		} else if !samePrincipal(found, p) {
			return nil, errConflictingCredentials
		}
		if p.Method == "bearer" || p.Method == "jwt" {
			found.FromAuthorization = true
		}
	}
	if found != nil && found.UserID != "" && found.OrgID != "" {
		if err := e.confirmActiveOrg(r.Context(), found); err != nil {
			return nil, err
		}
	}
	return found, nil
}

// confirmActiveOrg checks a user principal's active organization against the organization
// plugin: a member keeps it, with its slug and the member's roles; anyone else — removed from
// the organization, or the organization deleted, since the session chose it — loses it, so
// that no identity header names an organization the user no longer belongs to (ORG-02).
func (e *Engine) confirmActiveOrg(ctx context.Context, p *Principal) error {
	orgs := e.Organizations()
	if orgs == nil {
		p.OrgID = ""
		return nil
	}
	m, ok, err := orgs.Membership(ctx, p.UserID, p.OrgID, false)
	if err != nil {
		return err
	}
	p.SetOrg(m, ok)
	return nil
}

// SetOrg makes m the principal's organization, or clears it when ok is false.
func (p *Principal) SetOrg(m OrgMembership, ok bool) {
	if !ok {
		p.OrgID, p.OrgSlug, p.OrgRoles = "", "", nil
		return
	}
	p.OrgID, p.OrgSlug, p.OrgRoles = m.OrgID, m.OrgSlug, m.Roles
}

// OrgMembership returns the principal's confirmed membership in its organization (ok false
// when it has none, including an organization-owned API key, which is no member).
func (p *Principal) OrgMembership() (OrgMembership, bool) {
	if p == nil || p.UserID == "" || p.OrgID == "" {
		return OrgMembership{}, false
	}
	return OrgMembership{OrgID: p.OrgID, OrgSlug: p.OrgSlug, Roles: p.OrgRoles}, true
}

// samePrincipal: the same user, or for organization-owned credentials the same organization.
func samePrincipal(a, b *Principal) bool {
	return a.UserID == b.UserID && (a.UserID != "" || a.OrgID == b.OrgID)
}

// cookieAuthenticator is the core session-cookie authenticator.
type cookieAuthenticator struct{ e *Engine }

func (a cookieAuthenticator) Authenticate(r *http.Request) (*Principal, bool, error) {
	raw, n := readCookieRaw(r.Header, a.e.cookies.Name(CookieSessionToken))
	if n == 0 || raw == "" {
		return nil, false, nil
	}
	s, err := a.e.verifyCached(r.Context(), raw, "")
	if err != nil {
		return nil, false, err
	}
	if s == nil {
		// A forged, stale or revoked cookie is no credential: the request is judged as
		// anonymous (it gets 401/302 on protected routes).
		return nil, false, nil
	}
	return a.e.SessionPrincipal(s, "session"), true, nil
}

// SessionPrincipal describes a session as a gateway principal.
func (e *Engine) SessionPrincipal(s *Session, method string) *Principal {
	p := &Principal{
		Method:    method,
		UserID:    s.UserID(),
		User:      s.User,
		Session:   s.Session,
		Anonymous: s.User.Bool("isAnonymous"),
		OrgID:     s.Session.String("activeOrganizationId"),
		// An impersonation session (admin plugin) is never extended: it ends when its
		// time-limited lifetime does, whatever cookies the client keeps.
		Refresh: e.refreshDue(s.Session) && s.Session.String("impersonatedBy") == "",
		sess:    s,
	}
	if by := s.Session.String("impersonatedBy"); by != "" {
		p.Headers = map[string]string{"Impersonated-By": by}
	}
	if role := s.User.String("role"); role != "" && !strings.Contains(role, ",") && strings.TrimSpace(role) == role {
		p.roleBuf[0] = role
		p.Roles = p.roleBuf[:]
	} else {
		p.Roles = SplitRoles(role)
	}
	return p
}

// GatewayRefresh extends a proxied request's session once its update_age has passed (single
// flight, D6) and returns the Set-Cookie line that re-issues the session cookie with its full
// lifetime, for the gateway to add to the upstream's response. It returns "" when nothing is
// due: no session principal, refresh not due, or a rememberMe:false session (whose cookie
// must stay a browser-session cookie and whose lifetime Better Auth never extends).
func (e *Engine) GatewayRefresh(r *http.Request, p *Principal) (string, error) {
	if p == nil || !p.Refresh || p.sess == nil || p.Method != "session" {
		return "", nil
	}
	if v, n := readCookie(r.Header, e.cookies.Name(CookieDontRemember)); n > 0 {
		if _, ok := e.keys.Verify(v); ok {
			return "", nil
		}
	}
	if _, err := e.RefreshSession(r.Context(), p.sess); err != nil {
		return "", err
	}
	return e.cookies.serialize(e.cookies.Name(CookieSessionToken), e.keys.Sign(p.sess.Token), e.cfg.Session.ExpiresIn), nil
}

// SplitRoles splits a comma-separated role field into trimmed, non-empty roles.
func SplitRoles(role string) []string {
	if role == "" {
		return nil
	}
	parts := strings.Split(role, ",")
	out := parts[:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// VerifySigned validates a signed session token (a signed bearer token, or a cookie value
// already decoded) for the gateway path: from the in-process cache when possible (D6),
// otherwise from storage, caching the result. nil without error means "not a valid
// session".
func (e *Engine) VerifySigned(ctx context.Context, signed string) (*Session, error) {
	return e.verifyCached(ctx, signed, signed)
}

// verifyCached is VerifySigned keyed by key: the exact credential text the client sent. signed
// is its decoded form, or "" when key is a raw cookie value still to be percent-decoded — the
// decoding then happens only on a cache miss.
func (e *Engine) verifyCached(ctx context.Context, key, signed string) (*Session, error) {
	now := e.clock.Now()
	useCache := e.cfg.Session.CacheTTL > 0
	if useCache {
		if s, ok := e.cache.get(key, e.keyFP, now); ok {
			return s, nil
		}
	}
	if signed == "" {
		signed = decodeCookieValue(key)
	}
	token, ok := e.keys.Verify(signed)
	if !ok {
		return nil, nil
	}
	if !useCache {
		return e.SessionByToken(ctx, token)
	}
	return e.sessionForCache(ctx, key, token)
}

// sessionForCache reads a session for the cache. The user's generation must be read before
// the rows the entry is built from, so that any write committed after the read invalidates
// it; the user id is only known from the session row, hence the second read of that row.
func (e *Engine) sessionForCache(ctx context.Context, key, token string) (*Session, error) {
	first, err := e.SessionByToken(ctx, token)
	if err != nil || first == nil {
		return nil, err
	}
	gen := e.cache.generation(first.UserID())
	user, err := e.store.FindOne(ctx, ModelUser, storage.ByID(first.UserID()))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, Internal(err)
	}
	rec, err := e.store.FindOne(ctx, ModelSession, storage.ByID(first.ID()))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, Internal(err)
	}
	if !e.alive(rec) {
		return nil, nil
	}
	s := &Session{Session: rec, User: user, Token: token}
	now := e.clock.Now()
	until := now.Add(e.cfg.Session.CacheTTL)
	if exp := rec.Time("expiresAt"); exp.Before(until) {
		until = exp
	}
	e.cache.put(key, e.keyFP, s, gen, now, until)
	return s, nil
}
