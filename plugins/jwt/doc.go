// Package jwtplugin is the jwt plugin (Better Auth's `jwt`, spec §7.2; Caddy module
// gatehouse.plugins.jwt). It lives in directory plugins/jwt but is named jwtplugin so it
// does not clash with github.com/golang-jwt/jwt/v5, which it uses for every signature.
//
// # Routes
//
//   - GET /jwks (option jwks_path): {"keys":[{alg,crv,x,kty,kid}, ...]} — every stored key
//     without expiresAt or within expiresAt + grace_period, as a public JWK (go-jose) with
//     kid = the jwks row id and alg; RSA keys carry n and e, P-256 keys x and y. No session
//     needed. A key is created first when there is none.
//   - GET /token (session required, else 401 UNAUTHORIZED): {"token": <JWT>}, no-store.
//
// # JWT
//
// Header {alg, kid}. Payload: the user object exactly as the API returns it
// (Engine.Public), plus iat = now, sub = user.id, exp = iat + expiration_time, iss = issuer
// and aud = audience (both default to the base URL's origin, scheme://host).
//
// # Hook
//
// After /get-session, when the answer holds a session: header set-auth-jwt: <JWT> and
// set-auth-jwt added to Access-Control-Expose-Headers (unless disable_setting_jwt_header).
//
// # Keys (model jwks: id, publicKey, privateKey, createdAt, expiresAt?, alg?, crv?)
//
// Ed25519 (alg EdDSA) by default; algorithm ES256 (P-256) or RS256 (RSA 2048) instead.
// Created lazily on first use: node-local mutex plus a storage transaction that looks again
// before it writes, so racing first requests create exactly one key. privateKey is the
// private JWK encrypted with the engine keyring (Engine.Keys().Encrypt, spec §4.3; the
// keyring's envelope, not Better Auth's JSON-quoted string) unless
// disable_private_key_encryption. With rotation_interval a new key gets expiresAt =
// createdAt + interval; past it the next signing creates a new key, and the old one is
// published and verifies until expiresAt + grace_period (default 30d). Retired rows are not
// deleted.
//
// # Go API (Engine.Plugin("jwt").(*jwtplugin.Plugin))
//
// SignJWT(ctx, claims) and VerifyJWT(ctx, token) — Better Auth's server-only signJWT and
// verifyJWT. VerifyJWT refuses with ErrInvalidToken.
//
// SignIdentityJWT(ctx, claims) signs the gateway's identity JWT for upstreams (the site
// option identity_jwt, DESIGN D12) with the same keys: header {alg, kid, typ:
// gatehouse-id+jwt}, the claims as given (exp required, no defaults). JWKSRoute() is the
// jwks path, for logs and docs.
//
// # Gateway
//
// An authenticator at authcore.OrderJWT takes `Authorization: Bearer <JWT>` where the value
// has the compact JWS shape (three base64url segments); anything else is left to the
// bearer and API-key authenticators. It accepts only a token that VerifyJWT accepts: the
// signature against the stored key named by kid (still published), alg one of EdDSA,
// ES256, RS256 and equal to that key's own alg ("none" and HMAC never, so a token MACed
// with the public key is refused), exp required, nbf, iss and aud as configured, time from
// the engine clock, non-empty sub, and typ not gatehouse-id+jwt (the identity JWT, DESIGN
// D12; also with an "application/" prefix, any case). The principal is
// {Method:"jwt", UserID: sub, User: the user record read from storage now}; a deleted user
// is refused. Every refusal is 401 UNAUTHORIZED.
//
// # Errors, rate limits
//
// No error codes of its own (as in Better Auth); no rate-limit rule (Better Auth has none).
//
// # Options and Caddyfile
//
//	jwt [{
//	    jwks_path <path>                 # default /jwks
//	    issuer <iss>                     # default the base URL's origin
//	    audience <aud>                   # default the base URL's origin
//	    expiration_time <duration>       # default 15m
//	    algorithm EdDSA|ES256|RS256      # default EdDSA
//	    rotation_interval <duration>     # default none (keys never expire)
//	    grace_period <duration>          # default 30d
//	    disable_setting_jwt_header
//	    disable_private_key_encryption
//	}]
//
// Not implemented: Better Auth's jwks.remoteUrl, custom jwt.sign, definePayload/getSubject
// callbacks, adapter overrides and sessionCookieCache.
package jwtplugin
