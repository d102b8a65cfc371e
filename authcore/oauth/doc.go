// Package oauth is Gatehouse's provider layer for sign-in with an outside identity
// provider: generic OpenID Connect (discovery, ID-token verification with
// github.com/coreos/go-oidc/v3), plain OAuth 2.0 (golang.org/x/oauth2, PKCE S256), and
// presets for google, microsoft, gitlab and apple (OIDC) and github and discord (OAuth 2.0
// with their user APIs). It imports nothing of authcore or Caddy: authcore's external
// sign-in layer and the sso plugin build on its [Provider].
//
// A provider is configured from one [Config] (the JSON/Caddyfile shape) and built with [New].
// OIDC discovery happens on first use and is cached once it succeeds, so an identity
// provider that is down at start-up does not stop the server.
//
// Security rules kept here, in one place:
//   - ID tokens are verified by go-oidc: signature against the provider's JWKS with an
//     algorithm allow-list (never "none"), issuer, audience (client_id), expiry; the nonce
//     is compared when the caller expects one.
//   - Microsoft's multi-tenant endpoints (tenant common, organizations, consumers) publish
//     a templated issuer; the token's iss must equal that template filled with its own tid.
//   - email_verified counts only as the JSON value true; the strings "true"/"false" do not
//     (apple, whose tokens are documented to carry the string, is the one exception).
//   - Every endpoint URL is overridable by the config, so tests and self-hosted instances
//     point them elsewhere.
package oauth
