package sso

import (
	"net/http"

	"github.com/gatehouse-auth/gatehouse/authcore"
)

// Better Auth's sso error codes (routes/domain-verification.ts, routes/providers.ts,
// oidc/errors.ts), with their exact codes. The discovery codes are lower-case in Better
// Auth and stay so.
var (
	CodeDomainVerified           = authcore.ErrorCode{Code: "DOMAIN_VERIFIED", Message: "Domain has already been verified"}
	CodeNoPendingVerification    = authcore.ErrorCode{Code: "NO_PENDING_VERIFICATION", Message: "No pending domain verification exists"}
	CodeIdentifierTooLong        = authcore.ErrorCode{Code: "IDENTIFIER_TOO_LONG", Message: "Verification identifier exceeds the DNS label limit of 63 characters"}
	CodeInvalidDomain            = authcore.ErrorCode{Code: "INVALID_DOMAIN", Message: "Invalid domain"}
	CodeDomainVerificationFailed = authcore.ErrorCode{Code: "DOMAIN_VERIFICATION_FAILED", Message: "Unable to verify domain ownership. Try again later"}
	CodeProviderChanged          = authcore.ErrorCode{Code: "SSO_PROVIDER_CHANGED", Message: "SSO provider changed while domain verification was in progress. Reload the provider and try again"}
	// CodeDomainClaimed is Gatehouse's: the domain (or a parent or subdomain of it) is
	// already verified for a provider of another organization or user.
	CodeDomainClaimed = authcore.ErrorCode{Code: "DOMAIN_ALREADY_CLAIMED", Message: "Domain is already verified for another organization"}

	CodeDiscoveryTimeout     = authcore.ErrorCode{Code: "discovery_timeout", Message: "OIDC discovery timed out"}
	CodeDiscoveryUnexpected  = authcore.ErrorCode{Code: "discovery_unexpected_error", Message: "OIDC discovery failed"}
	CodeDiscoveryNotFound    = authcore.ErrorCode{Code: "discovery_not_found", Message: "OIDC discovery endpoint not found. The issuer may not support OIDC discovery, or the URL is incorrect."}
	CodeDiscoveryInvalidURL  = authcore.ErrorCode{Code: "discovery_invalid_url", Message: "Invalid OIDC endpoint URL"}
	CodeDiscoveryPrivateHost = authcore.ErrorCode{Code: "discovery_private_host", Message: "OIDC endpoint host is not publicly routable"}
	CodeDiscoveryInvalidJSON = authcore.ErrorCode{Code: "discovery_invalid_json", Message: "OIDC discovery returned invalid data"}
	CodeDiscoveryIncomplete  = authcore.ErrorCode{Code: "discovery_incomplete", Message: "OIDC discovery document is missing required fields"}
	CodeIssuerMismatch       = authcore.ErrorCode{Code: "issuer_mismatch", Message: "OIDC issuer mismatch"}
	CodeUnsupportedTokenAuth = authcore.ErrorCode{Code: "unsupported_token_auth_method", Message: "Incompatible OIDC provider"}
	CodeEndpointRedirect     = authcore.ErrorCode{Code: "oidc_endpoint_redirect", Message: "OIDC discovery endpoint answered with a redirect"}
)

// errorCodes is the plugin's vocabulary, declared with Registrar.Errors.
var errorCodes = []authcore.ErrorCode{
	CodeDomainVerified, CodeNoPendingVerification, CodeIdentifierTooLong, CodeInvalidDomain,
	CodeDomainVerificationFailed, CodeProviderChanged, CodeDomainClaimed,
	CodeDiscoveryTimeout, CodeDiscoveryUnexpected, CodeDiscoveryNotFound, CodeDiscoveryInvalidURL, CodeDiscoveryPrivateHost,
	CodeDiscoveryInvalidJSON, CodeDiscoveryIncomplete, CodeIssuerMismatch, CodeUnsupportedTokenAuth,
	CodeEndpointRedirect,
}

// Better Auth answers these with a message and no code (spec §1.2).
const (
	msgRegistrationDisabled = "SSO provider registration is disabled"
	msgLimitReached         = "You have reached the maximum number of SSO providers"
	msgNotMember            = "You are not a member of the organization"
	msgNotOrgAdmin          = "You must be an organization owner or admin to register SSO providers"
	msgReserved             = "This providerId is reserved and cannot be used for an SSO provider"
	msgExists               = "SSO provider with this providerId already exists"
	msgNotFound             = "Provider not found"
	msgForbidden            = "You don't have access to this provider"
	msgNoFields             = "No fields provided for update"
	msgClientSecret         = "clientSecret is required when using client_secret_basic or client_secret_post authentication"
	msgPrivateKeyJWT        = "private_key_jwt authentication requires either a resolvePrivateKey callback or a privateKey in defaultSSO"
	msgSAMLEntry            = "SAML configuration requires either idpMetadata.metadata (IdP metadata XML), idpMetadata.singleSignOnService, or a valid entryPoint URL"
	msgSAMLCert             = "SAML configuration requires a signing certificate: cert or idpMetadata.metadata"
	msgIdentityChange       = "Cannot change SSO provider identity fields while linked accounts exist"
	msgOneConfig            = "Exactly one of oidcConfig or samlConfig is required"
)

func bad(msg string) *authcore.Error       { return authcore.NewError(http.StatusBadRequest, msg) }
func forbidden(msg string) *authcore.Error { return authcore.NewError(http.StatusForbidden, msg) }
func errProviderExists() *authcore.Error {
	return authcore.NewError(http.StatusUnprocessableEntity, msgExists)
}
func errNotFound() *authcore.Error { return authcore.NewError(http.StatusNotFound, msgNotFound) }

// withDetail answers code with its message followed by a detail (Better Auth's discovery and
// DNS errors name what failed).
func withDetail(c authcore.ErrorCode, status int, detail string) *authcore.Error {
	e := c.With(status)
	if detail != "" {
		e.Message += ": " + detail
	}
	return e
}
