package sso

import (
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
)

// TestOptions: defaults applied; bad options fail start-up naming the option.
func TestOptions(t *testing.T) {
	p := &Plugin{}
	if err := p.setup(); err != nil {
		t.Fatal(err)
	}
	if p.limit != 10 || p.prefix != "better-auth-token" || p.tokenTTL != 7*24*time.Hour || p.role != "member" || p.Resolver == nil || p.HTTPClient == nil {
		t.Fatalf("defaults: %+v", p)
	}
	for want, p := range map[string]*Plugin{
		"providers_limit": {ProvidersLimit: -1},
		"token_prefix":    {DomainVerification: DomainVerification{TokenPrefix: "a.b"}},
		"token_ttl":       {DomainVerification: DomainVerification{TokenTTL: authcore.Duration(-time.Second)}},
		"default_role":    {OrganizationProvisioning: OrganizationProvisioning{DefaultRole: "a b"}},
	} {
		if err := p.setup(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", want, err)
		}
	}
}
