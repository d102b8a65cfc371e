package sso_test

import (
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/caddymodule/caddyopts/caddyoptstest"
	"github.com/gatehouse-auth/gatehouse/plugins/sso"
)

func TestUnmarshalCaddyfile(t *testing.T) {
	every := sso.Plugin{ProvidersLimit: 3, DisableRegistration: true, TrustIdPMFA: true, TrustEmailVerified: true,
		DomainVerification:       sso.DomainVerification{TokenPrefix: "gatehouse", TokenTTL: authcore.Duration(48 * time.Hour), Resolver: "127.0.0.1:5353"},
		OrganizationProvisioning: sso.OrganizationProvisioning{DefaultRole: "admin", Disabled: true}}
	caddyoptstest.Unmarshal(t, []caddyoptstest.Case[sso.Plugin]{
		{Name: "bare", Input: `sso`, Want: sso.Plugin{}},
		{Name: "empty block", Input: "sso {\n}", Want: sso.Plugin{}},
		{Name: "every option", Input: `sso {
			providers_limit 3
			disable_registration
			trust_idp_mfa
			trust_email_verified
			domain_verification {
				token_prefix gatehouse
				token_ttl 2d
				resolver 127.0.0.1:5353
			}
			organization_provisioning {
				default_role admin
				disabled
			}
		}`, Want: every},
		{Name: "unknown option", Input: "sso {\n trusted_domains a.com\n}", Err: `unknown option "trusted_domains"`},
		{Name: "unknown nested option", Input: "sso {\n domain_verification {\n enabled\n }\n}", Err: `unknown option "enabled"`},
		{Name: "bad limit", Input: "sso {\n providers_limit many\n}", Err: "providers_limit"},
		{Name: "argument after the name", Input: `sso on`, Err: "wrong argument count"},
	})
	caddyoptstest.RoundTrip(t, every, `{"providers_limit":3,"disable_registration":true,"trust_idp_mfa":true,"trust_email_verified":true,`+
		`"domain_verification":{"token_prefix":"gatehouse","token_ttl":"48h0m0s","resolver":"127.0.0.1:5353"},"organization_provisioning":{"disabled":true,"default_role":"admin"}}`)
}
