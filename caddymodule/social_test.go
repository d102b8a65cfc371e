package caddymodule

import (
	"reflect"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/authcore/oauth"
)

// TestParseSocial covers every option of the social block, the preset defaulting to the
// id, placeholders in the credentials, and the mapping into the engine's providers.
func TestParseSocial(t *testing.T) {
	t.Setenv("GATEHOUSE_TEST_GH_SECRET", "gh-secret-from-env")
	app, err := parseGlobalText(t, `gatehouse {
		base_url https://app.example.com
		social github {
			client_id gh-id
			client_secret {env.GATEHOUSE_TEST_GH_SECRET}
			scopes repo read:org
			auth_url https://gh.test/authorize
			token_url https://gh.test/token
			userinfo_url https://gh.test/user
			disable_implicit_sign_up
		}
		social corp {
			preset oidc
			name "Corp SSO"
			issuer https://idp.corp.test
			jwks_url https://idp.corp.test/keys
			client_id corp-id
			client_secret corp-secret
			prompt select_account
			pkce off
			algorithms RS256 ES256
			disable_sign_up
			trust_idp_mfa
			trust_email
		}
		social microsoft {
			client_id ms  client_secret ms-s  tenant organizations
		}
	}`)
	if err != nil {
		t.Fatal(err)
	}
	off := false
	want := []oauth.Config{
		{ID: "github", ClientID: "gh-id", ClientSecret: "{env.GATEHOUSE_TEST_GH_SECRET}", Scopes: []string{"repo", "read:org"},
			AuthURL: "https://gh.test/authorize", TokenURL: "https://gh.test/token", UserInfoURL: "https://gh.test/user", DisableImplicitSignUp: true},
		{ID: "corp", Preset: "oidc", Name: "Corp SSO", Issuer: "https://idp.corp.test", JWKSURL: "https://idp.corp.test/keys",
			ClientID: "corp-id", ClientSecret: "corp-secret", Prompt: "select_account", PKCE: &off, Algorithms: []string{"RS256", "ES256"},
			DisableSignUp: true, TrustIDPMFA: true, TrustEmail: true},
		{ID: "microsoft", ClientID: "ms", ClientSecret: "ms-s", Tenant: "organizations"},
	}
	if !reflect.DeepEqual(app.Social, want) {
		t.Fatalf("social = %#v\nwant %#v", app.Social, want)
	}
	cfg, err := app.engineConfig("current-secret-current-secret-current")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Social.Providers) != 3 {
		t.Fatalf("%d providers", len(cfg.Social.Providers))
	}
	gh := cfg.Social.Providers[0].Config()
	if gh.Preset != "github" || gh.ClientSecret != "gh-secret-from-env" || gh.Name != "GitHub" || !gh.DisableImplicitSignUp {
		t.Fatalf("github provider %+v", gh)
	}
	corp := cfg.Social.Providers[1].Config()
	if corp.Preset != "oidc" || !corp.TrustIDPMFA || !corp.TrustEmail || corp.PKCE == nil || *corp.PKCE {
		t.Fatalf("corp provider %+v", corp)
	}
	if ms := cfg.Social.Providers[2].Config(); ms.Preset != "microsoft" || ms.Tenant != "organizations" {
		t.Fatalf("microsoft provider %+v", ms)
	}
}

func TestParseSocialErrors(t *testing.T) {
	for name, tc := range map[string]struct{ input, want string }{
		"unknown option":      {"social github {\n client_id a\n client_secret b\n colour red\n}", `social github: unknown option "colour"`},
		"no id":               {"social {\n client_id a\n}", "usage: social <provider-id>"},
		"two ids":             {"social a b {\n}", "usage: social <provider-id>"},
		"unknown preset name": {"social acme {\n client_id a\n client_secret b\n}", `preset "" is unknown`},
		"bad preset":          {"social acme {\n preset okta\n}", "preset"},
		"missing secret":      {"social google {\n client_id a\n}", "client_secret is required"},
		"oidc needs issuer":   {"social corp {\n preset oidc\n client_id a\n client_secret b\n}", "issuer is required"},
		"given twice":         {"social github {\n client_id a\n client_secret b\n}\n social github {\n client_id a\n client_secret b\n}", "social github: given twice"},
		"duplicate option":    {"social github {\n client_id a\n client_id b\n}", "client_id given twice"},
		"pkce value":          {"social github {\n pkce maybe\n}", "pkce"},
		"alg none":            {"social google {\n client_id a\n client_secret b\n algorithms none\n}", `algorithm "none" is not allowed`},
	} {
		_, err := parseGlobalText(t, "gatehouse {\n base_url https://x.test\n "+tc.input+"\n}")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", name, err, tc.want)
		}
	}
	// A placeholder that does not resolve fails at provision, naming the option.
	app, err := parseGlobalText(t, "gatehouse {\n base_url https://x.test\n social github {\n client_id a\n client_secret {env.GATEHOUSE_TEST_UNSET_VAR_X}\n}\n}")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.engineConfig("current-secret-current-secret-current"); err == nil || !strings.Contains(err.Error(), "client_secret") {
		t.Fatalf("unresolved placeholder: %v", err)
	}
}
