package oauth

// preset is what a preset name fixes: the protocol, endpoints, default scopes and the
// profile mapping of plain OAuth 2.0 providers. Wire facts as documented by each provider
// (and used by Better Auth's social providers).
type preset struct {
	name   string
	oidc   bool
	issuer string // OIDC; for microsoft a template with {tenant}
	// plain OAuth 2.0 endpoints
	authURL, tokenURL, userInfoURL string
	scopes                         []string
	// authParams are sent with every authorization request (apple: response_mode=form_post).
	authParams map[string]string
	prompt     string // default prompt
	profile    profileFunc
	// stringVerified accepts email_verified:"true" (apple documents the string).
	stringVerified bool
}

var presets = map[string]preset{
	PresetGoogle: {name: "Google", oidc: true, issuer: "https://accounts.google.com",
		scopes: []string{"email", "profile", "openid"}},
	PresetMicrosoft: {name: "Microsoft", oidc: true, issuer: "https://login.microsoftonline.com/{tenant}/v2.0",
		scopes: []string{"openid", "profile", "email", "User.Read", "offline_access"}},
	PresetGitLab: {name: "GitLab", oidc: true, issuer: "https://gitlab.com",
		scopes: []string{"openid", "profile", "email"}},
	PresetApple: {name: "Apple", oidc: true, issuer: "https://appleid.apple.com",
		scopes: []string{"email", "name"}, authParams: map[string]string{"response_mode": "form_post"}, stringVerified: true},
	PresetOIDC: {oidc: true, scopes: []string{"openid", "email", "profile"}},
	PresetGitHub: {name: "GitHub", authURL: "https://github.com/login/oauth/authorize",
		tokenURL: "https://github.com/login/oauth/access_token", userInfoURL: "https://api.github.com/user",
		scopes: []string{"read:user", "user:email"}, profile: githubProfile},
	PresetDiscord: {name: "Discord", authURL: "https://discord.com/api/oauth2/authorize",
		tokenURL: "https://discord.com/api/oauth2/token", userInfoURL: "https://discord.com/api/users/@me",
		scopes: []string{"identify", "email"}, prompt: "none", profile: discordProfile},
	PresetOAuth2: {profile: standardProfile},
}

// multiTenantMicrosoft are the tenants whose discovery document publishes the issuer
// template https://login.microsoftonline.com/{tenantid}/v2.0 instead of one issuer.
var multiTenantMicrosoft = map[string]bool{"common": true, "organizations": true, "consumers": true}
