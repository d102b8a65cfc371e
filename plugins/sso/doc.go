// Package sso is Gatehouse's sso plugin (Better Auth's @better-auth/sso, plugin id "sso",
// Caddy module gatehouse.plugins.sso): the registry of enterprise identity providers —
// OIDC and SAML 2.0 — that users and organizations register, the DNS proof of the email
// domains they serve, and the organization provisioning of the users who sign in through
// them, and the sign-in flows through them (/sign-in/sso, /sso/callback, the SAML ACS).
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
// # Sign-in routes (no session needed)
//
//	POST /sign-in/sso {email?, organizationSlug?, providerId?, domain?, callbackURL,
//	    errorCallbackURL?, newUserCallbackURL?, scopes?, loginHint?, requestSignUp?,
//	    providerType? (oidc|saml)}
//	    200 {url, redirect: true} (no Location header, as Better Auth: the client navigates).
//	    The provider: by providerId; else the organization's (organizationSlug; a verified
//	    provider first); else by domain (domain, or the email's) among VERIFIED domains only
//	    (providerForEmail). Only a provider whose domain is verified signs anyone in:
//	    400 "email, organizationSlug, domain or providerId is required",
//	    404 "No provider found for the issuer", 401 "Provider domain has not been verified"
//	    (also for an email whose domain only an unverified provider claims),
//	    400 "OIDC provider is not configured" / "SAML provider is not configured"
//	    (providerType), 400 VALIDATION_ERROR (scopes not a list of strings, providerType),
//	    400 "Invalid SSO provider" / "Invalid SAML configuration", 400 "The SAML IdP offers
//	    no HTTP-Redirect SingleSignOnService", 403 INVALID_CALLBACK_URL & co (untrusted
//	    targets). OIDC: the authorization URL of an oauth.Provider built from the stored
//	    config (preset oidc; issuer, endpoints, client id, decrypted secret, scopes, pkce;
//	    cached per provider, rebuilt when its config changes, dropped on update/delete),
//	    redirect_uri <base>/sso/callback/<providerId>, login_hint = loginHint or email, the
//	    state in an authcore OAuth state (browser-bound cookie) with the providerId and a
//	    fingerprint of the provider's config. SAML: a signed AuthnRequest for the IdP's
//	    HTTP-Redirect endpoint; RelayState = a new OAuth state holding the AuthnRequest ID.
//	    Better Auth sends AuthnRequests with the Redirect binding only; an IdP offering only
//	    HTTP-POST is refused (400) rather than answered with an auto-submitting form, whose
//	    inline script a strict CSP blocks.
//	GET  /sso/callback/:providerId  and  GET /sso/callback (provider from the state)
//	    ?code&state[&error&error_description]. POST of either (form_post) answers 302 to the
//	    GET with the same parameters. Always a 302: to the callbackURL (newUserCallbackURL
//	    for a new user), or to errorCallbackURL (default <base>/error) with ?error=:
//	    state_not_found, state_mismatch (another browser), please_restart_the_process
//	    (replayed or expired), invalid_state (state of another provider, or the provider
//	    changed since the flow started), invalid_provider (provider gone, domain no longer
//	    verified), no_code, invalid_code, unable_to_get_user_info, the IdP's own error, and
//	    authcore's account_not_linked, signup_disabled, ... The ID token is verified by
//	    authcore/oauth (signature, iss, aud, exp, nonce), PKCE always on unless pkce false.
//	    oidcConfig.mapping {id, email, emailVerified, name, image} names the verified claims
//	    those come from (a mapped id or email that is absent: unable_to_get_user_info).
//	GET  /sso/saml2/sp/metadata?providerId=   200 application/xml, the provider's SP
//	    metadata (entity ID = spMetadata.entityID, else the issuer given at registration;
//	    ACS <base>/sso/saml2/sp/acs/<providerId>, HTTP-POST; the SP signing certificate).
//	    404 "No provider found for the given providerId", 400 "Invalid SAML configuration".
//	POST /sso/saml2/sp/acs/:providerId  {SAMLResponse, RelayState} (form), cross-site from
//	    the IdP, so WITHOUT the SameSite=Lax state cookie: the flow is looked up by
//	    RelayState without redeeming it (authcore Call.PeekOAuthState), the response
//	    verified (samlVerify: IdP signature, issuer, destination, audience, window,
//	    InResponseTo = that flow's AuthnRequest ID), a transient NameID refused unless
//	    mapping.id is set, the assertion ID claimed (single use), and the identity parked
//	    for 2 minutes under a random single-use handle: 302 to
//	    GET /sso/saml2/sp/acs/:providerId?handle=…&RelayState=…, which, in the browser that
//	    started the flow, takes the state (cookie check, single use), consumes the handle,
//	    checks both name this provider and the same RelayState, and signs in. Errors are
//	    302s with ?error=: invalid_saml_response, saml_response_expired, saml_unsolicited
//	    (unknown RelayState or InResponseTo), saml_replay, saml_idp_error,
//	    saml_missing_user_info, saml_transient_nameid (a transient NameID is a one-time
//	    value and cannot key an account; set samlConfig.mapping.id to a stable attribute),
//	    plus the callback codes above. Single logout (/sso/saml2/sp/slo/:providerId,
//	    /sso/saml2/logout/:providerId) is not offered: those routes are not registered.
//
// Every SSO sign-in goes through authcore's FinishExternalSignIn with method "sso" and
// account (providerId = the sso providerId, accountId = OIDC sub, or SAML NameID /
// mapping.id): the session gates run (two-factor applies unless trust_idp_mfa), the user is
// provisioned into the provider's organization (new users before their session; returning
// users again on every sign-in, which keeps an existing membership and role).
//
// Linking rule (SSO-01): an identity whose email belongs to an existing user is linked to
// that user only when the user's own email is verified AND the email is vouched for: the
// provider's domain is verified and the email's domain is that domain or a subdomain of it
// (authcore's TrustEmail). That is what a verified domain proves: its owner runs the IdP
// that issues those addresses. The IdP's own email_verified claim (SAML:
// mapping.emailVerified) counts only with trust_email_verified (Better Auth's
// trustEmailVerified, default off): any signed-in user may register an IdP and prove a
// domain of their own, and such an IdP must not be able to assert a victim's address
// outside that domain and take over the victim's account (account_not_linked). New users
// get emailVerified by the same rule.
//
// Secrets at rest: the OIDC clientSecret and each SAML provider's SP private key (an
// RSA-2048 key and self-signed certificate generated at registration) are stored encrypted
// with the engine keyring and never answered.
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
//	    trust_email_verified           # believe the IdP's email_verified for linking; default off
//	    domain_verification {
//	        token_prefix <label>       # default better-auth-token
//	        token_ttl <duration>       # default 7d
//	        resolver <host:port>       # DNS server for the TXT lookups (UDP); default: the system's
//	    }
//	    organization_provisioning {
//	        default_role <role>        # default member
//	        disabled                   # do not add SSO users to the provider's organization
//	    }
//	}
package sso
