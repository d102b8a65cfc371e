package sso

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"strings"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
)

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

// Better Auth's ADMIN_ROLES: the organization roles that manage its providers.
var adminRoles = []string{"owner", "admin"}

// reservedIDs are account provider ids a provider may not take (Better Auth's
// BUILT_IN_ACCOUNT_PROVIDER_IDS plus the social presets): its account rows would be
// confused with theirs.
var reservedIDs = map[string]bool{
	"credential": true, "email-otp": true, "magic-link": true, "phone-number": true, "anonymous": true,
	"siwe": true, "passkey": true, "google": true, "github": true, "microsoft": true, "apple": true,
	"discord": true, "gitlab": true, "facebook": true, "twitter": true, "linkedin": true, "oidc": true,
	"oauth2": true,
}

var providerBody = []authcore.Param{authcore.String("providerId").Req().Len(1, 128)}

func (p *Plugin) endpoints() []authcore.Endpoint {
	tags := []string{"SSO"}
	access := []authcore.ErrorCode{authcore.CodeUnauthorized}
	sanitized := authcore.ObjectOf(map[string]any{"providerId": "string", "type": "string", "issuer": "string",
		"domain": "string", "organizationId": authcore.Nullable("string"), "domainVerified": "boolean",
		"spMetadataUrl": "string", "oidcConfig": "any", "samlConfig": "any"},
		"providerId", "type", "issuer", "domain", "domainVerified", "spMetadataUrl")
	registered := authcore.ObjectOf(map[string]any{"id": "string", "providerId": "string", "issuer": "string",
		"domain": "string", "userId": "string", "organizationId": authcore.Nullable("string"), "domainVerified": "boolean",
		"domainVerificationToken": "string", "redirectURI": "string", "oidcConfig": "any", "samlConfig": "any"},
		"id", "providerId", "issuer", "domain", "userId", "domainVerified", "redirectURI")
	return []authcore.Endpoint{
		{Method: http.MethodPost, Path: "/sso/register", Auth: authcore.AuthSession, Handler: p.register, NoStore: true,
			Body: []authcore.Param{
				authcore.String("providerId").Req().Len(1, 128), authcore.String("issuer").Req().Len(1, 2048),
				authcore.String("domain").Req().Len(1, 1024), authcore.Object("oidcConfig"), authcore.Object("samlConfig"),
				authcore.String("organizationId").Len(0, 256), authcore.Bool("overrideUserInfo"),
			},
			Summary: "Register an OIDC or SAML identity provider", Tags: tags, Response: registered,
			Errors: append(access, CodeDiscoveryNotFound, CodeIssuerMismatch, CodeDiscoveryIncomplete, CodeDiscoveryInvalidURL, CodeDiscoveryPrivateHost,
				CodeDiscoveryInvalidJSON, CodeDiscoveryTimeout, CodeDiscoveryUnexpected, CodeUnsupportedTokenAuth, CodeEndpointRedirect, CodeInvalidDomain)},
		{Method: http.MethodGet, Path: "/sso/providers", Auth: authcore.AuthSession, Handler: p.list,
			Summary: "List the SSO providers the user manages", Tags: tags, Errors: access,
			Response: authcore.ObjectOf(map[string]any{"providers": authcore.ArrayOf(sanitized)}, "providers")},
		{Method: http.MethodGet, Path: "/sso/get-provider", Auth: authcore.AuthSession, Handler: p.get,
			Query: providerBody, Summary: "Get one SSO provider", Tags: tags, Errors: access, Response: sanitized},
		{Method: http.MethodPost, Path: "/sso/update-provider", Auth: authcore.AuthSession, Handler: p.update,
			Body: []authcore.Param{
				authcore.String("providerId").Req().Len(1, 128), authcore.String("issuer").Len(1, 2048),
				authcore.String("domain").Len(1, 1024), authcore.Object("oidcConfig"), authcore.Object("samlConfig"),
			},
			Summary: "Update an SSO provider", Tags: tags, Errors: append(access, CodeInvalidDomain, CodeDiscoveryInvalidURL), Response: sanitized},
		{Method: http.MethodPost, Path: "/sso/delete-provider", Auth: authcore.AuthSession, Handler: p.delete,
			Body: providerBody, Summary: "Delete an SSO provider and the accounts linked through it", Tags: tags, Errors: access,
			Response: authcore.ObjectOf(map[string]any{"success": "boolean"}, "success")},
		{Method: http.MethodPost, Path: "/sso/request-domain-verification", Auth: authcore.AuthSession, Handler: p.requestDomainVerification,
			Body: providerBody, NoStore: true, Summary: "Get the DNS TXT token that proves a provider's domain", Tags: tags,
			Errors:   append(access, CodeDomainVerified, CodeInvalidDomain, CodeDomainClaimed),
			Response: authcore.Created(authcore.ObjectOf(map[string]any{"domainVerificationToken": "string"}, "domainVerificationToken"))},
		{Method: http.MethodPost, Path: "/sso/verify-domain", Auth: authcore.AuthSession, Handler: p.verifyDomain,
			Body: providerBody, Summary: "Verify a provider's domain through its DNS TXT record", Tags: tags,
			Response: authcore.NoContent(),
			Errors: append(access, CodeDomainVerified, CodeIdentifierTooLong, CodeNoPendingVerification, CodeInvalidDomain,
				CodeDomainVerificationFailed, CodeProviderChanged, CodeDomainClaimed)},
	}
}

// validProviderID accepts ids that can sit in a URL path segment and a DNS label: no
// whitespace, control characters, '/', '?', '#', '%' or '.'.
func validProviderID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, c := range id {
		if c <= ' ' || c == 0x7f || strings.ContainsRune("/?#%.\\", c) {
			return false
		}
	}
	return true
}

// orgRole returns whether userID is a member of orgID and whether one of their roles is
// owner or admin. Without the organization plugin nobody is a member.
func (p *Plugin) orgRole(ctx context.Context, userID, orgID string) (member, admin bool, err error) {
	orgs := p.engine.Organizations()
	if orgs == nil {
		return false, false, nil
	}
	m, ok, err := orgs.Membership(ctx, userID, orgID, false)
	if err != nil || !ok {
		return false, false, err
	}
	for _, r := range m.Roles {
		for _, a := range adminRoles {
			if r == a {
				return true, true, nil
			}
		}
	}
	return true, false, nil
}

// canManage is Better Auth's access rule: an organization's provider is managed by that
// organization's owners and admins (by its registrant when the organization plugin is off);
// any other provider by the user who registered it.
func (p *Plugin) canManage(ctx context.Context, userID string, prov storage.Record) (bool, error) {
	if org := prov.String("organizationId"); org != "" && p.engine.Organizations() != nil {
		_, admin, err := p.orgRole(ctx, userID, org)
		return admin, err
	}
	return prov.String("userId") == userID, nil
}

// access is Better Auth's checkProviderAccess: 404 for an unknown provider, 403 for one the
// caller does not manage.
func (p *Plugin) access(c *authcore.Call, providerID string) (storage.Record, error) {
	s, err := c.RequireSession()
	if err != nil {
		return nil, err
	}
	prov, err := p.providerByID(c.Context(), providerID)
	if err != nil {
		return nil, err
	}
	if prov == nil {
		return nil, errNotFound()
	}
	ok, err := p.canManage(c.Context(), s.UserID(), prov)
	if err != nil {
		return nil, authcore.Internal(err)
	}
	if !ok {
		return nil, forbidden(msgForbidden)
	}
	return prov, nil
}

// checkIssuer: an OIDC issuer is an https URL (http for loopback) without query or fragment.
func checkIssuer(issuer string) error {
	if err := checkEndpoint(issuer); err != nil {
		return endpointError("issuer", err)
	}
	u, _ := url.Parse(issuer)
	if u.RawQuery != "" || u.Fragment != "" {
		return withDetail(CodeDiscoveryInvalidURL, http.StatusBadRequest, "issuer must not carry a query or fragment")
	}
	return nil
}

// register answers POST /sso/register.
func (p *Plugin) register(c *authcore.Call) (any, error) {
	ctx := c.Context()
	s, err := c.RequireSession()
	if err != nil {
		return nil, err
	}
	if p.DisableRegistration {
		return nil, forbidden(msgRegistrationDisabled)
	}
	userID := s.UserID()
	n, err := p.engine.Store().Count(ctx, ModelSSOProvider, storage.Eq("userId", userID))
	if err != nil {
		return nil, authcore.Internal(err)
	}
	if n >= p.limit {
		return nil, forbidden(msgLimitReached)
	}
	b := c.Body
	providerID, issuer := b.String("providerId"), strings.TrimSpace(b.String("issuer"))
	oidcIn, samlIn := b.Object("oidcConfig"), b.Object("samlConfig")
	if (oidcIn == nil) == (samlIn == nil) {
		return nil, bad(msgOneConfig)
	}
	if orgID := b.String("organizationId"); orgID != "" {
		member, admin, err := p.orgRole(ctx, userID, orgID)
		if err != nil {
			return nil, authcore.Internal(err)
		}
		if !member {
			return nil, bad(msgNotMember)
		}
		if !admin {
			return nil, forbidden(msgNotOrgAdmin)
		}
	}
	if !validProviderID(providerID) {
		return nil, validation("providerId", "must not contain whitespace, '/', '?', '#', '%', '.' or '\\'")
	}
	if reservedIDs[strings.ToLower(providerID)] {
		return nil, authcore.NewError(http.StatusUnprocessableEntity, msgReserved)
	}
	if existing, err := p.providerByID(ctx, providerID); err != nil {
		return nil, err
	} else if existing != nil {
		return nil, errProviderExists()
	}
	domains, ok := parseDomains(b.String("domain"))
	if !ok {
		return nil, CodeInvalidDomain.With(http.StatusBadRequest)
	}
	rec := storage.Record{"providerId": providerID, "issuer": issuer, "domain": strings.Join(domains, ","),
		"domainVerified": false, "userId": userID, "organizationId": nilIfEmpty(b.String("organizationId"))}
	var oc *OIDCConfig
	var sc map[string]any
	if oidcIn != nil {
		if oc, err = p.oidcForRegister(ctx, issuer, oidcIn, b.Bool("overrideUserInfo")); err != nil {
			return nil, err
		}
		stored := *oc
		if stored.ClientSecret, err = p.seal(oc.ClientSecret); err != nil {
			return nil, authcore.Internal(err)
		}
		js, _ := json.Marshal(stored)
		rec["oidcConfig"] = string(js)
	} else {
		if issuer == "" || len(issuer) > 2048 {
			return nil, validation("issuer", "invalid issuer")
		}
		if sc, err = samlFromInput(samlIn); err != nil {
			return nil, err
		}
		if err := checkSAML(sc); err != nil {
			return nil, err
		}
		sc["issuer"] = issuer
		stored := make(map[string]any, len(sc)+2)
		for k, v := range sc {
			stored[k] = v
		}
		if err := p.newSPKey(stored, providerID); err != nil {
			return nil, err
		}
		js, _ := json.Marshal(stored)
		rec["samlConfig"] = string(js)
	}
	id, err := p.engine.Random().ID()
	if err != nil {
		return nil, authcore.Internal(err)
	}
	rec["id"] = id
	created, err := p.engine.Store().Create(ctx, ModelSSOProvider, rec)
	if errors.Is(err, storage.ErrDuplicate) {
		return nil, errProviderExists()
	}
	if err != nil {
		return nil, authcore.Internal(err)
	}
	token, err := p.token(ctx, providerID)
	if err != nil {
		return nil, err
	}
	out := map[string]any{
		"id": created.ID(), "providerId": providerID, "issuer": issuer, "domain": created.String("domain"),
		"userId": userID, "organizationId": nilIfEmpty(created.String("organizationId")),
		"domainVerified": false, "domainVerificationToken": token,
		"redirectURI": p.engine.APIURL("/sso/callback/" + url.PathEscape(providerID)),
		"oidcConfig":  nil, "samlConfig": nil,
	}
	if oc != nil {
		shown := *oc
		shown.ClientSecret = ""
		out["oidcConfig"] = shown
	}
	if sc != nil {
		out["samlConfig"] = withoutSecrets(sc)
	}
	return out, nil
}

// oidcForRegister validates an oidcConfig input and builds the stored configuration, with
// discovery unless skipDiscovery.
func (p *Plugin) oidcForRegister(ctx context.Context, issuer string, v authcore.Values, override bool) (*OIDCConfig, error) {
	if err := checkIssuer(issuer); err != nil {
		return nil, err
	}
	var in oidcInput
	if err := decodeInput("oidcConfig", v, &in); err != nil {
		return nil, err
	}
	if in.ClientID == nil || *in.ClientID == "" {
		return nil, validation("oidcConfig.clientId", "Invalid input: expected string, received undefined")
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	var cfg *OIDCConfig
	if in.SkipDiscovery {
		cfg = &OIDCConfig{Issuer: issuer, AuthorizationEndpoint: deref(in.AuthorizationEndpoint),
			TokenEndpoint: deref(in.TokenEndpoint), UserInfoEndpoint: deref(in.UserInfoEndpoint),
			JWKSEndpoint: deref(in.JWKSEndpoint), DiscoveryEndpoint: deref(in.DiscoveryEndpoint),
			TokenEndpointAuthentication: deref(in.TokenEndpointAuthentication)}
		if cfg.DiscoveryEndpoint == "" {
			cfg.DiscoveryEndpoint = strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
		}
		if cfg.TokenEndpointAuthentication == "" {
			cfg.TokenEndpointAuthentication = authBasic
		}
	} else {
		var err error
		if cfg, err = p.discover(ctx, issuer, &in); err != nil {
			return nil, err
		}
	}
	cfg.ClientID = *in.ClientID
	cfg.ClientSecret = deref(in.ClientSecret)
	cfg.PKCE = in.PKCE == nil || *in.PKCE
	cfg.Scopes = in.Scopes
	cfg.Mapping = in.Mapping
	cfg.OverrideUserInfo = override
	return cfg, checkOIDCAuth(cfg)
}

func checkOIDCAuth(cfg *OIDCConfig) error {
	if cfg.TokenEndpointAuthentication == authPrivateKey {
		return bad(msgPrivateKeyJWT)
	}
	if cfg.ClientSecret == "" {
		return bad(msgClientSecret)
	}
	return nil
}

// list answers GET /sso/providers: the caller's own providers of no organization, and the
// providers of the organizations where the caller is an owner or admin (the caller's own
// organization providers when the organization plugin is off).
func (p *Plugin) list(c *authcore.Call) (any, error) {
	ctx := c.Context()
	s, err := c.RequireSession()
	if err != nil {
		return nil, err
	}
	all, err := p.engine.Store().FindMany(ctx, ModelSSOProvider, storage.Query{})
	if err != nil {
		return nil, authcore.Internal(err)
	}
	admin := map[string]bool{}
	out := []any{}
	for _, rec := range all {
		ok := false
		if org := rec.String("organizationId"); org != "" && p.engine.Organizations() != nil {
			a, seen := admin[org]
			if !seen {
				_, a, err = p.orgRole(ctx, s.UserID(), org)
				if err != nil {
					return nil, authcore.Internal(err)
				}
				admin[org] = a
			}
			ok = a
		} else {
			ok = rec.String("userId") == s.UserID()
		}
		if ok {
			out = append(out, p.sanitize(rec))
		}
	}
	return map[string]any{"providers": out}, nil
}

// get answers GET /sso/get-provider.
func (p *Plugin) get(c *authcore.Call) (any, error) {
	prov, err := p.access(c, c.Query.String("providerId"))
	if err != nil {
		return nil, err
	}
	return p.sanitize(prov), nil
}

// oidcBoundary and samlBoundary are the config keys whose change alters whose identities
// the provider vouches for (Better Auth's *_IDENTITY_BOUNDARY_FIELDS, the SAML side taken
// whole: trust anchors and endpoints).
var samlBoundary = []string{"audience", "callbackUrl", "entryPoint", "cert", "idpMetadata", "spMetadata"}

func oidcBoundaryChanged(a, b *OIDCConfig) bool {
	return a.AuthorizationEndpoint != b.AuthorizationEndpoint || a.ClientID != b.ClientID ||
		a.DiscoveryEndpoint != b.DiscoveryEndpoint || a.JWKSEndpoint != b.JWKSEndpoint ||
		a.TokenEndpoint != b.TokenEndpoint || a.UserInfoEndpoint != b.UserInfoEndpoint
}

// update answers POST /sso/update-provider: partial update; a changed domain must be proved
// again (domainVerified false); changing the issuer or the identity-bearing parts of a
// config is refused while accounts are linked through the provider.
func (p *Plugin) update(c *authcore.Call) (any, error) {
	ctx := c.Context()
	b := c.Body
	if !b.Has("issuer") && !b.Has("domain") && b.Object("samlConfig") == nil && b.Object("oidcConfig") == nil {
		return nil, bad(msgNoFields)
	}
	prov, err := p.access(c, b.String("providerId"))
	if err != nil {
		return nil, err
	}
	set := storage.Record{}
	boundary := false
	issuer := prov.String("issuer")
	if b.Has("issuer") {
		newIssuer := strings.TrimSpace(b.String("issuer"))
		if newIssuer == "" {
			return nil, validation("issuer", "must not be empty")
		}
		if newIssuer != issuer {
			boundary = true
		}
		issuer = newIssuer
		set["issuer"] = issuer
	}
	curOIDC, curSAML := providerConfigs(prov)
	if curOIDC != nil && b.Has("issuer") {
		if err := checkIssuer(issuer); err != nil {
			return nil, err
		}
	}
	if b.Has("domain") {
		domains, ok := parseDomains(b.String("domain"))
		if !ok {
			return nil, CodeInvalidDomain.With(http.StatusBadRequest)
		}
		d := strings.Join(domains, ",")
		set["domain"] = d
		if d != prov.String("domain") {
			set["domainVerified"] = false
		}
	}
	if v := b.Object("oidcConfig"); v != nil {
		if curOIDC == nil {
			return nil, bad("Cannot update OIDC config for a provider that doesn't have OIDC configured")
		}
		var in oidcInput
		if err := decodeInput("oidcConfig", v, &in); err != nil {
			return nil, err
		}
		if err := in.check(); err != nil {
			return nil, err
		}
		next := *curOIDC
		next.Issuer = issuer
		setIf := func(dst *string, src *string) {
			if src != nil {
				*dst = *src
			}
		}
		setIf(&next.ClientID, in.ClientID)
		if in.ClientSecret != nil { // stored encrypted; an unchanged secret stays as stored
			if *in.ClientSecret == "" {
				return nil, bad(msgClientSecret)
			}
			if next.ClientSecret, err = p.seal(*in.ClientSecret); err != nil {
				return nil, authcore.Internal(err)
			}
		}
		setIf(&next.AuthorizationEndpoint, in.AuthorizationEndpoint)
		setIf(&next.TokenEndpoint, in.TokenEndpoint)
		setIf(&next.UserInfoEndpoint, in.UserInfoEndpoint)
		setIf(&next.JWKSEndpoint, in.JWKSEndpoint)
		setIf(&next.DiscoveryEndpoint, in.DiscoveryEndpoint)
		setIf(&next.TokenEndpointAuthentication, in.TokenEndpointAuthentication)
		if in.PKCE != nil {
			next.PKCE = *in.PKCE
		}
		if in.Scopes != nil {
			next.Scopes = in.Scopes
		}
		if in.Mapping != nil {
			next.Mapping = in.Mapping
		}
		if next.ClientID == "" {
			return nil, validation("oidcConfig.clientId", "must not be empty")
		}
		if err := checkOIDCAuth(&next); err != nil {
			return nil, err
		}
		if oidcBoundaryChanged(curOIDC, &next) {
			boundary = true
		}
		js, _ := json.Marshal(next)
		set["oidcConfig"] = string(js)
	} else if curOIDC != nil && b.Has("issuer") {
		next := *curOIDC
		next.Issuer = issuer
		js, _ := json.Marshal(next)
		set["oidcConfig"] = string(js)
	}
	if v := b.Object("samlConfig"); v != nil {
		if curSAML == nil {
			return nil, bad("Cannot update SAML config for a provider that doesn't have SAML configured")
		}
		upd, err := samlFromInput(v)
		if err != nil {
			return nil, err
		}
		next := map[string]any{}
		for k, x := range curSAML {
			next[k] = x
		}
		for k, x := range upd {
			if cur, ok := next[k].(map[string]any); ok && (k == "idpMetadata" || k == "spMetadata") {
				merged := map[string]any{}
				for kk, xx := range cur {
					merged[kk] = xx
				}
				for kk, xx := range x.(map[string]any) {
					merged[kk] = xx
				}
				x = merged
			}
			next[k] = x
		}
		next["issuer"] = issuer
		if err := checkSAML(next); err != nil {
			return nil, err
		}
		for _, k := range samlBoundary {
			if !reflect.DeepEqual(curSAML[k], next[k]) {
				boundary = true
			}
		}
		js, _ := json.Marshal(next)
		set["samlConfig"] = string(js)
	} else if curSAML != nil && b.Has("issuer") {
		next := map[string]any{}
		for k, x := range curSAML {
			next[k] = x
		}
		next["issuer"] = issuer
		js, _ := json.Marshal(next)
		set["samlConfig"] = string(js)
	}
	var out storage.Record
	err = p.engine.Store().Tx(ctx, func(tx storage.Adapter) error {
		if boundary {
			n, err := tx.Count(ctx, authcore.ModelAccount, storage.Eq("providerId", prov.String("providerId")))
			if err != nil {
				return err
			}
			if n > 0 {
				return authcore.NewError(http.StatusConflict, msgIdentityChange)
			}
		}
		var err error
		out, err = tx.Update(ctx, ModelSSOProvider, storage.ByID(prov.ID()), set)
		if errors.Is(err, storage.ErrNotFound) {
			return errNotFound()
		}
		return err
	})
	if err != nil {
		return nil, authcore.AsError(err)
	}
	p.dropProvider(prov.String("providerId"))
	return p.sanitize(out), nil
}

// delete answers POST /sso/delete-provider: the provider, the accounts linked through it and
// its pending domain verification go in one transaction.
func (p *Plugin) delete(c *authcore.Call) (any, error) {
	ctx := c.Context()
	prov, err := p.access(c, c.Body.String("providerId"))
	if err != nil {
		return nil, err
	}
	pid := prov.String("providerId")
	err = p.engine.Store().Tx(ctx, func(tx storage.Adapter) error {
		if _, err := tx.DeleteMany(ctx, authcore.ModelAccount, storage.Eq("providerId", pid)); err != nil {
			return err
		}
		if _, err := tx.DeleteMany(ctx, authcore.ModelVerification, storage.Eq("identifier", p.identifier(pid))); err != nil {
			return err
		}
		err := tx.Delete(ctx, ModelSSOProvider, storage.ByID(prov.ID()))
		if errors.Is(err, storage.ErrNotFound) {
			return errNotFound()
		}
		return err
	})
	if err != nil {
		return nil, authcore.AsError(err)
	}
	p.dropProvider(pid)
	return map[string]any{"success": true}, nil
}
