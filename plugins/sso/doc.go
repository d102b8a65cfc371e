// Package sso is Gatehouse's sso plugin (Better Auth's @better-auth/sso, plugin id "sso",
// Caddy module gatehouse.plugins.sso): the registry of enterprise identity providers —
// OIDC and SAML 2.0 — that users and organizations register, the DNS proof of the email
// domains they serve, and the organization provisioning of the users who sign in through
// them. The sign-in flows (/sign-in/sso, /sso/callback, the SAML ACS) build on it.
//
// # Model
//
// ssoProvider (schema.go): issuer, oidcConfig (JSON), samlConfig (JSON), userId (deleted
// with the user; a declared credential, so Engine.ClaimEmail removes the providers an
// unverified account registered before its owner proved the address), providerId (unique;
// the account rows' providerId), organizationId, domain (comma-separated, stored
// normalized: lower-case, IDNA ASCII), domainVerified. The configs are hidden fields.
//
// # Routes (all need a session; 401 UNAUTHORIZED without one)
//
//	POST /sso/register   {providerId, issuer, domain, oidcConfig | samlConfig, organizationId?, overrideUserInfo?}
//	    200 the provider with redirectURI (<base URL><base path>/sso/callback/<providerId>), domainVerified
//	    false and domainVerificationToken; oidcConfig without clientSecret, samlConfig without
//	    private keys. OIDC: issuer https (http only for loopback), discovery at
//	    <issuer>/.well-known/openid-configuration (or oidcConfig.discoveryEndpoint) unless
//	    skipDiscovery; the document's issuer must match (trailing slash aside), given
//	    endpoints win over discovered ones. SAML: entryPoint URL, idpMetadata.metadata or
//	    idpMetadata.singleSignOnService, and cert (or metadata) required; metadata ≤ 100 KiB.
//	    403 "SSO provider registration is disabled" (disable_registration),
//	    403 "You have reached the maximum number of SSO providers" (providers_limit),
//	    400 "You are not a member of the organization", 403 "You must be an organization
//	    owner or admin to register SSO providers", 422 "This providerId is reserved and cannot
//	    be used for an SSO provider", 422 "SSO provider with this providerId already exists",
//	    400 "clientSecret is required when using client_secret_basic or client_secret_post
//	    authentication", 400 private_key_jwt not supported, 400 "Exactly one of oidcConfig or
//	    samlConfig is required", 400 INVALID_DOMAIN, 400 VALIDATION_ERROR (providerId with
//	    whitespace, '/', '?', '#', '%', '.', '\'), discovery: 400 discovery_not_found,
//	    discovery_invalid_url, discovery_private_host (private, link-local or unspecified IP
//	    literal), discovery_invalid_json, discovery_incomplete, issuer_mismatch,
//	    unsupported_token_auth_method, oidc_endpoint_redirect; 502 discovery_timeout,
//	    discovery_unexpected_error.
//	GET  /sso/providers          200 {providers: [sanitized]} — own providers of no
//	    organization, and those of organizations where the caller is owner or admin.
//	GET  /sso/get-provider?providerId=
//	POST /sso/update-provider    {providerId, issuer?, domain?, oidcConfig?, samlConfig?}
//	    200 sanitized; 400 "No fields provided for update"; a changed domain resets
//	    domainVerified; 409 "Cannot change SSO provider identity fields while linked accounts
//	    exist" (issuer, client id, endpoints, SAML certs/entry point/metadata/audience).
//	POST /sso/delete-provider    {providerId} 200 {success: true}; deletes the accounts
//	    linked through the provider and its pending domain verification.
//	POST /sso/request-domain-verification {providerId} 201 {domainVerificationToken};
//	    409 DOMAIN_VERIFIED, 409 DOMAIN_ALREADY_CLAIMED, 400 INVALID_DOMAIN.
//	POST /sso/verify-domain {providerId} 204; 409 DOMAIN_VERIFIED, 400 IDENTIFIER_TOO_LONG,
//	    404 NO_PENDING_VERIFICATION, 400 INVALID_DOMAIN, 502 DOMAIN_VERIFICATION_FAILED,
//	    409 SSO_PROVIDER_CHANGED, 409 DOMAIN_ALREADY_CLAIMED.
//
// Every route after the session check answers 404 "Provider not found" for an unknown
// providerId and 403 "You don't have access to this provider" for one the caller does not
// manage: an organization's provider is managed by its owners and admins (by its
// registrant when the organization plugin is off), any other by its registrant.
// Sanitized providers (Better Auth's sanitizeProvider): providerId, type (oidc|saml),
// issuer, domain, organizationId, domainVerified, spMetadataUrl, oidcConfig {
// discoveryEndpoint, clientIdLastFour, pkce, endpoints, scopes, tokenEndpointAuthentication}
// or samlConfig {entryPoint, callbackUrl, …, certificate: [{fingerprintSha256, notBefore,
// notAfter, publicKeyAlgorithm}]}.
//
// # Domain verification
//
// The token (24 letters and digits) is a verification row with identifier
// _<token_prefix>-<providerId>, valid token_ttl (7 days); register issues one, and
// request-domain-verification returns the live one or a new one. verify-domain looks up TXT
// records at _<token_prefix>-<providerId>.<domain> for every domain of the provider and
// accepts a record equal to the token or to "_<token_prefix>-<providerId>=<token>". One
// domain (or a parent or subdomain of it) is verified for one party only: a provider of
// another organization (or, for providers of no organization, another user) cannot request
// or complete a verification of a domain already verified elsewhere (409
// DOMAIN_ALREADY_CLAIMED). Sign-in routing (providerForEmail) uses verified domains only.
//
// # Options (Caddyfile)
//
//	sso {
//	    providers_limit <n>            # providers per user; default 10
//	    disable_registration           # refuse /sso/register
//	    trust_idp_mfa                  # SSO sign-ins count as multi-factor; default off
//	    domain_verification {
//	        token_prefix <label>       # default better-auth-token
//	        token_ttl <duration>       # default 7d
//	    }
//	    organization_provisioning {
//	        default_role <role>        # default member
//	        disabled                   # do not add SSO users to the provider's organization
//	    }
//	}
package sso
