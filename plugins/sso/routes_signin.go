package sso

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/crewjam/saml"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/oauth"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// Better Auth's sign-in answers (messages without a code).
const (
	msgSignInNeedsTarget  = "email, organizationSlug, domain or providerId is required"
	msgNoProviderFound    = "No provider found for the issuer"
	msgDomainNotVerified  = "Provider domain has not been verified"
	msgOIDCNotConfigured  = "OIDC provider is not configured"
	msgSAMLNotConfigured  = "SAML provider is not configured"
	msgInvalidSSO         = "Invalid SSO provider"
	msgInvalidSAMLConfig  = "Invalid SAML configuration"
	msgNoProviderForID    = "No provider found for the given providerId"
	msgSAMLRedirectNeeded = "The SAML IdP offers no HTTP-Redirect SingleSignOnService"
)

// Callback error codes (?error=) of the SSO flows besides authcore's and the SAML ones.
const (
	errInvalidState    = "invalid_state"    // unknown state, or one started for another provider or before the provider changed
	errInvalidProvider = "invalid_provider" // the provider is gone, not of this kind, or its domain is no longer verified
	// SAMLCodeTransientNameID: the assertion's NameID is transient (a one-time value) and
	// mapping.id names no stable attribute, so nothing can key the account.
	SAMLCodeTransientNameID = "saml_transient_nameid"
)

// samlHandleTTL bounds the hop from the ACS POST to its GET.
const samlHandleTTL = 2 * time.Minute

func samlHandleID(handle string) string {
	sum := sha256.Sum256([]byte(handle))
	return "sso-saml-acs:" + hex.EncodeToString(sum[:])
}

var callbackQuery = []authcore.Param{authcore.String("code"), authcore.String("state"), authcore.String("error"),
	authcore.String("error_description"), authcore.String("iss")}

func (p *Plugin) signInEndpoints() []authcore.Endpoint {
	tags := []string{"SSO"}
	return []authcore.Endpoint{
		{Method: http.MethodPost, Path: "/sign-in/sso", Handler: p.signInSSO,
			Body: []authcore.Param{
				authcore.String("email").Len(0, 320), authcore.String("organizationSlug").Len(0, 256),
				authcore.String("providerId").Len(0, 128), authcore.String("domain").Len(0, 253),
				authcore.String("callbackURL").Req(), authcore.String("errorCallbackURL"), authcore.String("newUserCallbackURL"),
				authcore.Any("scopes"), authcore.String("loginHint").Len(0, 320), authcore.Bool("requestSignUp"),
				authcore.String("providerType"),
			},
			Summary: "Sign in with an OIDC or SAML identity provider", Tags: tags,
			Response: authcore.ObjectOf(map[string]any{"url": "string", "redirect": "boolean"}, "url", "redirect"),
			Errors: []authcore.ErrorCode{authcore.CodeInvalidCallbackURL, authcore.CodeInvalidNewUserCallbackURL,
				authcore.CodeInvalidErrorCallbackURL, authcore.CodeValidationError}},
		{Method: http.MethodGet, Path: "/sso/callback/:providerId", Handler: p.oidcCallback, Query: callbackQuery,
			Summary: "Callback of an OIDC SSO provider", Tags: tags, Response: authcore.RedirectOnly()},
		{Method: http.MethodGet, Path: "/sso/callback", Handler: p.oidcCallback, Query: callbackQuery,
			Summary: "Shared callback of the OIDC SSO providers (provider from the state)", Tags: tags, Response: authcore.RedirectOnly()},
		{Method: http.MethodPost, Path: "/sso/callback/:providerId", Handler: p.oidcFormPost, Query: callbackQuery, Body: callbackQuery,
			AllowForm: true, BodyOptional: true, CrossSitePost: true, Tags: tags, Response: authcore.RedirectOnly(),
			Summary: "Callback of an OIDC SSO provider (form_post), re-issued as a same-site GET"},
		{Method: http.MethodPost, Path: "/sso/callback", Handler: p.oidcFormPost, Query: callbackQuery, Body: callbackQuery,
			AllowForm: true, BodyOptional: true, CrossSitePost: true, Tags: tags, Response: authcore.RedirectOnly(),
			Summary: "Shared callback of the OIDC SSO providers (form_post), re-issued as a same-site GET"},
		{Method: http.MethodGet, Path: "/sso/saml2/sp/metadata", Handler: p.spMetadata,
			Query:    []authcore.Param{authcore.String("providerId").Req().Len(1, 128), authcore.String("format")},
			Response: authcore.Document("application/xml"),
			Summary:  "SAML service provider metadata of a provider (XML)", Tags: tags},
		{Method: http.MethodPost, Path: "/sso/saml2/sp/acs/:providerId", Handler: p.acsPost, AllowForm: true, CrossSitePost: true,
			Body:    []authcore.Param{authcore.String("SAMLResponse").Req().Len(1, samlMaxResponseB64), authcore.String("RelayState").Len(0, 256)},
			Summary: "SAML assertion consumer service (HTTP-POST); verifies and re-issues as a same-site GET", Tags: tags,
			Response: authcore.RedirectOnly()},
		{Method: http.MethodGet, Path: "/sso/saml2/sp/acs/:providerId", Handler: p.acsGet,
			Query:   []authcore.Param{authcore.String("handle").Len(0, 128), authcore.String("RelayState").Len(0, 256)},
			Summary: "SAML sign-in completion in the browser that started it", Tags: tags, Response: authcore.RedirectOnly()},
	}
}

// signInSSO answers POST /sign-in/sso: the provider by providerId, else by the
// organization's slug, else by the domain (domain, or the email's); only a provider whose
// domain is verified signs anyone in. {url, redirect: true} without Location, as Better Auth.
func (p *Plugin) signInSSO(c *authcore.Call) (any, error) {
	ctx, b := c.Context(), c.Body
	email, slug, pid := strings.TrimSpace(b.String("email")), b.String("organizationSlug"), b.String("providerId")
	domain := strings.TrimSpace(b.String("domain"))
	if sc, ok := b["scopes"]; ok && sc != nil {
		list, isList := sc.([]any)
		if !isList || len(list) > 50 {
			return nil, validation("scopes", "expected an array of strings")
		}
		for _, x := range list {
			if s, isStr := x.(string); !isStr || s == "" || len(s) > 256 || strings.ContainsAny(s, " \t\r\n") {
				return nil, validation("scopes", "expected an array of strings")
			}
		}
	}
	if email == "" && slug == "" && pid == "" && domain == "" {
		return nil, bad(msgSignInNeedsTarget)
	}
	if domain == "" {
		if at := strings.LastIndexByte(email, '@'); at >= 0 {
			domain = email[at+1:]
		}
	}
	var prov storage.Record
	var err error
	switch {
	case pid != "":
		prov, err = p.providerByID(ctx, pid)
	case slug != "":
		prov, err = p.providerForOrgSlug(ctx, slug)
	case domain != "":
		prov, err = p.providerForDomain(ctx, domain)
	default:
		return nil, bad("providerId, orgId or domain is required")
	}
	if err != nil {
		return nil, err
	}
	if prov == nil {
		return nil, authcore.NewError(http.StatusNotFound, msgNoProviderFound)
	}
	oc, sc := providerConfigs(prov)
	switch b.String("providerType") {
	case "oidc":
		if oc == nil {
			return nil, bad(msgOIDCNotConfigured)
		}
	case "saml":
		if sc == nil {
			return nil, bad(msgSAMLNotConfigured)
		}
	case "":
	default:
		return nil, validation("providerType", "expected oidc or saml")
	}
	if !prov.Bool("domainVerified") {
		return nil, authcore.NewError(http.StatusUnauthorized, msgDomainNotVerified)
	}
	st := authcore.OAuthState{CallbackURL: b.String("callbackURL"), NewUserCallbackURL: b.String("newUserCallbackURL"),
		ErrorCallbackURL: b.String("errorCallbackURL"), RequestSignUp: b.Bool("requestSignUp"),
		Data: map[string]string{"providerId": prov.String("providerId"), "ref": providerRef(prov)}}
	if oc != nil {
		op, err := p.oidcProvider(prov, oc)
		if err != nil {
			p.engine.Logger().Error("sso: OIDC provider", "provider", prov.String("providerId"), "err", err)
			return nil, bad(msgInvalidSSO)
		}
		hint := b.String("loginHint")
		if hint == "" {
			hint = email
		}
		u, err := c.ExternalAuthURL(op, st, p.redirectURI(prov.String("providerId")),
			oauth.AuthRequest{Scopes: b.Strings("scopes"), LoginHint: hint})
		if err != nil {
			return nil, err
		}
		return map[string]any{"url": u, "redirect": true}, nil
	}
	if sc == nil {
		return nil, bad(msgInvalidSSO)
	}
	sp, cfg, err := p.samlSP(prov)
	if err != nil {
		p.engine.Logger().Error("sso: SAML provider", "provider", prov.String("providerId"), "err", err)
		return nil, bad(msgInvalidSAMLConfig)
	}
	if st.CallbackURL == "" {
		st.CallbackURL = cfg.CallbackURL
	}
	// Better Auth sends AuthnRequests with the HTTP-Redirect binding only; an IdP without
	// one is refused here rather than answered with an auto-submitting form (inline script).
	loc := sp.GetSSOBindingLocation(saml.HTTPRedirectBinding)
	if loc == "" {
		return nil, bad(msgSAMLRedirectNeeded)
	}
	req, err := sp.MakeAuthenticationRequest(loc, saml.HTTPRedirectBinding, saml.HTTPPostBinding)
	if err != nil {
		return nil, authcore.Internal(err)
	}
	st.Data["requestId"] = req.ID
	relay, err := c.NewOAuthState(st)
	if err != nil {
		return nil, err
	}
	u, err := req.Redirect(relay, sp)
	if err != nil {
		return nil, authcore.Internal(err)
	}
	return map[string]any{"url": u.String(), "redirect": true}, nil
}

// providerForDomain is the verified provider serving domain; when none does but an
// unverified one claims it, Better Auth's 401 "Provider domain has not been verified".
func (p *Plugin) providerForDomain(ctx context.Context, domain string) (storage.Record, error) {
	prov, err := p.providerForEmail(ctx, "x@"+domain)
	if err != nil || prov != nil {
		return prov, err
	}
	host, ok := normalizeDomain(domain)
	if !ok {
		return nil, nil
	}
	all, err := p.engine.Store().FindMany(ctx, ModelSSOProvider, storage.Query{Where: storage.Eq("domainVerified", false)})
	if err != nil {
		return nil, authcore.Internal(err)
	}
	for _, rec := range all {
		domains, _ := parseDomains(rec.String("domain"))
		for _, d := range domains {
			if covers(d, host) {
				return nil, authcore.NewError(http.StatusUnauthorized, msgDomainNotVerified)
			}
		}
	}
	return nil, nil
}

// providerForOrgSlug is the organization's provider (a verified one first, then the
// smallest providerId), or nil.
func (p *Plugin) providerForOrgSlug(ctx context.Context, slug string) (storage.Record, error) {
	org, err := p.engine.Store().FindOne(ctx, "organization", storage.Eq("slug", slug))
	if err != nil { // no such organization, or no organization plugin
		return nil, nil
	}
	recs, err := p.engine.Store().FindMany(ctx, ModelSSOProvider, storage.Query{Where: storage.Eq("organizationId", org.ID()),
		Sort: []storage.SortField{{Field: "providerId"}}})
	if err != nil {
		return nil, authcore.Internal(err)
	}
	for _, r := range recs {
		if r.Bool("domainVerified") {
			return r, nil
		}
	}
	if len(recs) > 0 {
		return recs[0], nil
	}
	return nil, nil
}

func (p *Plugin) redirectURI(providerID string) string {
	return p.engine.APIURL("/sso/callback/" + url.PathEscape(providerID))
}

// oidcProvider builds (or takes from the cache) the oauth.Provider of a stored OIDC config.
// The cache is keyed by providerId and checked against providerRef, and update/delete drop
// the entry.
func (p *Plugin) oidcProvider(prov storage.Record, oc *OIDCConfig) (oauth.Provider, error) {
	pid, ref := prov.String("providerId"), providerRef(prov)
	p.cache.mu.Lock()
	if e, ok := p.cache.m[pid]; ok && e.ref == ref {
		p.cache.mu.Unlock()
		return e.prov, nil
	}
	p.cache.mu.Unlock()
	secret, err := p.open(oc.ClientSecret)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(pid))
	pkce := oc.PKCE
	op, err := oauth.New(oauth.Config{ID: "sso-" + hex.EncodeToString(sum[:10]), Preset: oauth.PresetOIDC, Name: pid,
		ClientID: oc.ClientID, ClientSecret: secret, Issuer: oc.Issuer, AuthURL: oc.AuthorizationEndpoint,
		TokenURL: oc.TokenEndpoint, UserInfoURL: oc.UserInfoEndpoint, JWKSURL: oc.JWKSEndpoint,
		Scopes: oc.Scopes, PKCE: &pkce}, p.HTTPClient)
	if err != nil {
		return nil, err
	}
	p.cache.mu.Lock()
	p.cache.m[pid] = oidcEntry{ref: ref, prov: op}
	p.cache.mu.Unlock()
	return op, nil
}

// dropProvider forgets the cached OIDC provider of providerID (update, delete).
func (p *Plugin) dropProvider(providerID string) {
	p.cache.mu.Lock()
	delete(p.cache.m, providerID)
	p.cache.mu.Unlock()
}

// flowProvider loads the provider a state names and checks it is the one the flow started
// with; "" code when fine.
func (p *Plugin) flowProvider(ctx context.Context, st *authcore.OAuthState, routeID string) (storage.Record, string, error) {
	pid := st.Data["providerId"]
	if pid == "" || (routeID != "" && pid != routeID) {
		return nil, errInvalidState, nil
	}
	prov, err := p.providerByID(ctx, pid)
	if err != nil {
		return nil, "", err
	}
	if prov == nil || !prov.Bool("domainVerified") {
		return nil, errInvalidProvider, nil
	}
	if providerRef(prov) != st.Data["ref"] {
		return nil, errInvalidState, nil
	}
	return prov, "", nil
}

// oidcFormPost re-issues a form_post callback as a GET of the same path, so that the
// browser sends its SameSite=Lax state cookie; it changes nothing itself.
func (p *Plugin) oidcFormPost(c *authcore.Call) (any, error) {
	q := url.Values{}
	for _, src := range []authcore.Values{c.Query, c.Body} {
		for _, k := range []string{"code", "state", "error", "error_description", "iss"} {
			if v := src.String(k); v != "" {
				q.Set(k, v)
			}
		}
	}
	path := "/sso/callback"
	if id := c.Params["providerId"]; id != "" {
		path += "/" + url.PathEscape(id)
	}
	return authcore.Redirect(p.engine.APIURL(path) + "?" + q.Encode()), nil
}

// oidcCallback answers GET /sso/callback/:providerId and GET /sso/callback.
func (p *Plugin) oidcCallback(c *authcore.Call) (any, error) {
	q := c.Query
	st, err := c.TakeOAuthState(q.String("state"))
	var oe *authcore.OAuthError
	if errors.As(err, &oe) {
		return authcore.Redirect(c.OAuthErrorURL("", oe.Code)), nil
	}
	if err != nil {
		return nil, err
	}
	fail := func(code, desc string) (any, error) {
		u := c.OAuthErrorURL(st.ErrorCallbackURL, code)
		if desc != "" {
			v, _ := url.Parse(u)
			qq := v.Query()
			qq.Set("error_description", desc)
			v.RawQuery = qq.Encode()
			u = v.String()
		}
		return authcore.Redirect(u), nil
	}
	if e := q.String("error"); e != "" {
		return fail(e, q.String("error_description"))
	}
	prov, code, err := p.flowProvider(c.Context(), st, c.Params["providerId"])
	if err != nil {
		return nil, err
	}
	if code != "" {
		return fail(code, "")
	}
	oc := OIDC(prov)
	if oc == nil {
		return fail(errInvalidProvider, "")
	}
	if q.String("code") == "" {
		return fail(authcore.OAuthErrNoCode, "")
	}
	op, err := p.oidcProvider(prov, oc)
	if err != nil {
		p.engine.Logger().Error("sso: OIDC provider", "provider", prov.String("providerId"), "err", err)
		return fail(errInvalidProvider, "")
	}
	ctx := c.Context()
	tokens, err := op.Exchange(ctx, q.String("code"), st.CodeVerifier, p.redirectURI(prov.String("providerId")))
	if err != nil {
		p.engine.Logger().Info("sso: code exchange failed", "provider", prov.String("providerId"), "err", err)
		return fail(authcore.OAuthErrInvalidCode, "")
	}
	ident, err := op.Identity(ctx, tokens, st.Nonce)
	if err != nil {
		p.engine.Logger().Info("sso: identity refused", "provider", prov.String("providerId"), "err", err)
		return fail(authcore.OAuthErrUserInfo, "")
	}
	if ident = oidcMapped(ident, oc.Mapping); ident == nil {
		return fail(authcore.OAuthErrUserInfo, "")
	}
	return p.finish(c, prov, ident, tokens, *st)
}

// oidcMapped applies Better Auth's oidcConfig.mapping (id, email, emailVerified, name,
// image: claim names) to a verified identity, reading the verified claims. A mapped id or
// email that is missing or not a string yields nil (unable_to_get_user_info).
func oidcMapped(id *oauth.Identity, mapping map[string]any) *oauth.Identity {
	if len(mapping) == 0 {
		return id
	}
	out := *id
	str := func(key string, dst *string) bool {
		name, ok := mapping[key].(string)
		if !ok || name == "" {
			return true
		}
		v, _ := id.Claims[name].(string)
		if v == "" || len(v) > 1024 {
			return key != "id" && key != "email"
		}
		*dst = v
		return true
	}
	if !str("id", &out.Subject) || !str("email", &out.Email) || !str("name", &out.Name) || !str("image", &out.Image) {
		return nil
	}
	if name, ok := mapping["emailVerified"].(string); ok && name != "" {
		v, _ := id.Claims[name].(bool)
		out.EmailVerified = v
	}
	return &out
}

// trustsEmail is the linking rule of SSO identities: the provider's domain is verified and
// the identity's email is in it (or a subdomain of it).
func trustsEmail(prov storage.Record, email string) bool {
	if !prov.Bool("domainVerified") {
		return false
	}
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return false
	}
	host, ok := normalizeDomain(email[at+1:])
	if !ok {
		return false
	}
	domains, ok := parseDomains(prov.String("domain"))
	if !ok {
		return false
	}
	for _, d := range domains {
		if covers(d, host) {
			return true
		}
	}
	return false
}

// finish hands a verified identity to authcore, provisioning the user into the provider's
// organization (new users before their session; returning ones too, idempotently).
func (p *Plugin) finish(c *authcore.Call, prov storage.Record, ident *oauth.Identity, tokens *oauth.Tokens, st authcore.OAuthState) (any, error) {
	ctx, pid := c.Context(), prov.String("providerId")
	if ident != nil && ident.Subject != "" {
		if acct, err := p.engine.Store().FindOne(ctx, authcore.ModelAccount, storage.And(
			storage.Eq("providerId", pid), storage.Eq("accountId", ident.Subject))); err == nil {
			if user, err := p.engine.UserByID(ctx, acct.String("userId")); err == nil && user != nil {
				if err := p.provision(ctx, prov, user); err != nil {
					p.engine.Logger().Warn("sso: provisioning a returning user", "provider", pid, "err", err)
				}
			}
		}
	}
	// Whether the email is vouched for: the provider's verified domain covers it, or — only
	// with trust_email_verified — the IdP says so. Anyone may register an IdP and prove a
	// domain of their own, so by default its email_verified claim counts for nothing
	// (Better Auth's trustEmailVerified, default off): otherwise such an IdP could assert a
	// victim's address and be linked to the victim's account.
	trusted := false
	if ident != nil {
		trusted = trustsEmail(prov, ident.Email)
		vouched := *ident
		vouched.EmailVerified = trusted || (p.TrustEmailVerified && ident.EmailVerified)
		ident = &vouched
	}
	in := authcore.ExternalSignIn{ProviderID: pid, Identity: ident, Tokens: tokens, Method: "sso", State: st,
		TrustEmail: trusted, TrustIDPMFA: p.TrustIdPMFA,
		OnNewUser: func(ctx context.Context, user storage.Record) error { return p.provision(ctx, prov, user) }}
	return c.FinishExternalSignIn(in)
}

// samlSP builds the crewjam service provider of a stored SAML provider.
func (p *Plugin) samlSP(prov storage.Record) (*saml.ServiceProvider, *SAMLConfig, error) {
	raw := prov.String("samlConfig")
	cfg, err := samlParseConfig([]byte(raw))
	if err != nil {
		return nil, nil, err
	}
	var keys map[string]any
	if err := json.Unmarshal([]byte(raw), &keys); err != nil {
		return nil, nil, err
	}
	encKey, _ := keys[samlKeySPKey].(string)
	cert, _ := keys[samlKeySPCert].(string)
	key, err := p.open(encKey)
	if err != nil {
		return nil, nil, err
	}
	pid := prov.String("providerId")
	sp, err := samlServiceProvider(cfg, key, cert, "", p.engine.APIURL("/sso/saml2/sp/acs/"+url.PathEscape(pid)),
		p.engine.APIURL("/sso/saml2/sp/metadata")+"?providerId="+url.QueryEscape(pid), p.engine.Clock().Now)
	if err != nil {
		return nil, nil, err
	}
	return sp, cfg, nil
}

// newSPKey generates a provider's SP key pair into a samlConfig about to be stored, the key
// encrypted with the engine keyring.
func (p *Plugin) newSPKey(cfg map[string]any, providerID string) error {
	entity := p.engine.APIURL("/sso/saml2/sp/metadata") + "?providerId=" + url.QueryEscape(providerID)
	if s, ok := cfg["issuer"].(string); ok && s != "" {
		entity = s
	}
	keyPEM, certPEM, err := samlNewSPKey(p.engine.Random().Reader(), p.engine.Clock().Now(), entity)
	if err != nil {
		return authcore.Internal(err)
	}
	enc, err := p.seal(string(keyPEM))
	if err != nil {
		return authcore.Internal(err)
	}
	cfg[samlKeySPKey], cfg[samlKeySPCert] = enc, string(certPEM)
	return nil
}

// spMetadata answers GET /sso/saml2/sp/metadata?providerId=.
func (p *Plugin) spMetadata(c *authcore.Call) (any, error) {
	prov, err := p.providerByID(c.Context(), c.Query.String("providerId"))
	if err != nil {
		return nil, err
	}
	if prov == nil || prov.String("samlConfig") == "" {
		if prov == nil {
			return nil, authcore.NewError(http.StatusNotFound, msgNoProviderForID)
		}
		return nil, bad(msgInvalidSAMLConfig)
	}
	sp, _, err := p.samlSP(prov)
	if err != nil {
		p.engine.Logger().Error("sso: SAML provider", "provider", prov.String("providerId"), "err", err)
		return nil, bad(msgInvalidSAMLConfig)
	}
	b, err := samlMetadataXML(sp)
	if err != nil {
		return nil, authcore.Internal(err)
	}
	return &authcore.RawResponse{Status: http.StatusOK, Header: http.Header{"Content-Type": {"application/xml"}}, Body: b}, nil
}

// samlHandoff is the verified identity kept between the ACS POST and its GET.
type samlHandoff struct {
	ProviderID    string `json:"providerId"`
	Relay         string `json:"relay"`
	Subject       string `json:"subject"`
	Email         string `json:"email"`
	EmailVerified bool   `json:"emailVerified"`
	Name          string `json:"name"`
}

// acsPost answers POST /sso/saml2/sp/acs/:providerId. The IdP's auto-posted form arrives
// cross-site without the SameSite=Lax state cookie, so it verifies the response against the
// request ID of the flow named by RelayState (read, not redeemed), claims the assertion,
// parks the identity under a single-use handle and sends the browser on to the GET, which
// redeems the state in the browser that started the flow.
func (p *Plugin) acsPost(c *authcore.Call) (any, error) {
	ctx, pid := c.Context(), c.Params["providerId"]
	relay := c.Body.String("RelayState")
	st, err := c.PeekOAuthState(relay)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return authcore.Redirect(c.OAuthErrorURL("", SAMLCodeUnsolicited)), nil
	}
	fail := func(code string) (any, error) {
		return authcore.Redirect(c.OAuthErrorURL(st.ErrorCallbackURL, code)), nil
	}
	prov, code, err := p.flowProvider(ctx, st, pid)
	if err != nil {
		return nil, err
	}
	if code != "" {
		return fail(code)
	}
	sp, cfg, err := p.samlSP(prov)
	if err != nil {
		p.engine.Logger().Error("sso: SAML provider", "provider", pid, "err", err)
		return fail(errInvalidProvider)
	}
	id, err := samlVerify(sp, cfg, c.Body.String("SAMLResponse"), []string{st.Data["requestId"]})
	var se *SAMLError
	if errors.As(err, &se) {
		p.engine.Logger().Info("sso: SAML response refused", "provider", pid, "code", se.Code, "err", se.Detail)
		return fail(se.Code)
	}
	if err != nil {
		return nil, authcore.Internal(err)
	}
	if id.NameIDFormat == string(saml.TransientNameIDFormat) && (cfg.Mapping == nil || cfg.Mapping.ID == "") {
		return fail(SAMLCodeTransientNameID)
	}
	if err := samlClaimAssertion(ctx, p.engine.Store(), pid, id.AssertionID, id.NotOnOrAfter, p.engine.Clock().Now()); err != nil {
		if errors.As(err, &se) {
			p.engine.Logger().Info("sso: SAML assertion refused", "provider", pid, "code", se.Code)
			return fail(se.Code)
		}
		return nil, authcore.Internal(err)
	}
	handle, err := p.engine.Random().String(32, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
	if err != nil {
		return nil, authcore.Internal(err)
	}
	v, _ := json.Marshal(samlHandoff{ProviderID: pid, Relay: relay, Subject: id.ID, Email: id.Email,
		EmailVerified: id.EmailVerified, Name: id.Name})
	if err := p.engine.CreateVerification(ctx, samlHandleID(handle), string(v), samlHandleTTL); err != nil {
		return nil, err
	}
	q := url.Values{"handle": {handle}, "RelayState": {relay}}
	return authcore.Redirect(p.engine.APIURL("/sso/saml2/sp/acs/"+url.PathEscape(pid)) + "?" + q.Encode()), nil
}

// acsGet answers GET /sso/saml2/sp/acs/:providerId?handle=&RelayState=: the state is taken
// (this browser, once), the handle consumed (once), and both must name this provider.
func (p *Plugin) acsGet(c *authcore.Call) (any, error) {
	ctx, pid := c.Context(), c.Params["providerId"]
	relay := c.Query.String("RelayState")
	st, err := c.TakeOAuthState(relay)
	var oe *authcore.OAuthError
	if errors.As(err, &oe) {
		return authcore.Redirect(c.OAuthErrorURL("", oe.Code)), nil
	}
	if err != nil {
		return nil, err
	}
	fail := func(code string) (any, error) {
		return authcore.Redirect(c.OAuthErrorURL(st.ErrorCallbackURL, code)), nil
	}
	var h samlHandoff
	if handle := c.Query.String("handle"); handle != "" {
		rec, err := p.engine.ConsumeVerification(ctx, samlHandleID(handle))
		if err != nil {
			return nil, err
		}
		if rec != nil {
			_ = json.Unmarshal([]byte(rec.String("value")), &h)
		}
	}
	if h.ProviderID == "" || h.ProviderID != pid || h.Relay != relay {
		return fail(errInvalidState)
	}
	prov, code, err := p.flowProvider(ctx, st, pid)
	if err != nil {
		return nil, err
	}
	if code != "" {
		return fail(code)
	}
	return p.finish(c, prov, &oauth.Identity{Subject: h.Subject, Email: h.Email, EmailVerified: h.EmailVerified, Name: h.Name}, nil, *st)
}
