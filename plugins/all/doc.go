// Package all links every Gatehouse plugin into a binary: import it for its side effects
// (each plugin registers itself as a Caddy module in the gatehouse.plugins namespace).
package all

import (
	// Issue 4: alternate identities and passwordless sign-in.
	_ "github.com/gatehouse-auth/gatehouse/plugins/anonymous"
	_ "github.com/gatehouse-auth/gatehouse/plugins/emailotp"
	_ "github.com/gatehouse-auth/gatehouse/plugins/magiclink"
	_ "github.com/gatehouse-auth/gatehouse/plugins/phonenumber"
	_ "github.com/gatehouse-auth/gatehouse/plugins/username"

	// Issue 5: second factors and passkeys.
	_ "github.com/gatehouse-auth/gatehouse/plugins/passkey"
	_ "github.com/gatehouse-auth/gatehouse/plugins/twofactor"

	// Issue 6: machine credentials.
	_ "github.com/gatehouse-auth/gatehouse/plugins/apikey"
	_ "github.com/gatehouse-auth/gatehouse/plugins/bearer"
	_ "github.com/gatehouse-auth/gatehouse/plugins/jwt"

	// Issue 7: several users.
	_ "github.com/gatehouse-auth/gatehouse/plugins/admin"
	_ "github.com/gatehouse-auth/gatehouse/plugins/multisession"
	_ "github.com/gatehouse-auth/gatehouse/plugins/organization"

	// Issue 8: the hosted login portal.
	_ "github.com/gatehouse-auth/gatehouse/plugins/portal"

	// Issue 9: the OpenAPI document and reference.
	_ "github.com/gatehouse-auth/gatehouse/plugins/openapi"

	// Issue 10: enterprise single sign-on (OIDC and SAML 2.0).
	_ "github.com/gatehouse-auth/gatehouse/plugins/sso"
)
