package sso

import (
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/caddymodule/caddyopts"
)

func init() {
	caddy.RegisterModule(Plugin{})
}

// CaddyModule returns the Caddy module information.
func (Plugin) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "gatehouse.plugins.sso", New: func() caddy.Module { return new(Plugin) }}
}

// UnmarshalCaddyfile reads the plugin's block inside the global gatehouse block:
//
//	sso {
//	    providers_limit <n>
//	    disable_registration
//	    trust_idp_mfa
//	    trust_email_verified
//	    domain_verification {
//	        token_prefix <label>
//	        token_ttl <duration>
//	        resolver <host:port>
//	    }
//	    organization_provisioning {
//	        default_role <role>
//	        disabled
//	    }
//	}
func (p *Plugin) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the plugin name
	if d.NextArg() {
		return d.ArgErr()
	}
	return caddyopts.Parse(d, "sso", map[string]caddyopts.Opt{
		"providers_limit":      caddyopts.Int(&p.ProvidersLimit),
		"disable_registration": caddyopts.Flag(&p.DisableRegistration),
		"trust_idp_mfa":        caddyopts.Flag(&p.TrustIdPMFA),
		"trust_email_verified": caddyopts.Flag(&p.TrustEmailVerified),
		"domain_verification": caddyopts.Block(d, "domain_verification", map[string]caddyopts.Opt{
			"token_prefix": caddyopts.String(&p.DomainVerification.TokenPrefix),
			"token_ttl":    caddyopts.Duration((*time.Duration)(&p.DomainVerification.TokenTTL)),
			"resolver":     caddyopts.String(&p.DomainVerification.Resolver),
		}),
		"organization_provisioning": caddyopts.Block(d, "organization_provisioning", map[string]caddyopts.Opt{
			"default_role": caddyopts.String(&p.OrganizationProvisioning.DefaultRole),
			"disabled":     caddyopts.Flag(&p.OrganizationProvisioning.Disabled),
		}),
	})
}

// Interface guards.
var (
	_ caddy.Module          = (*Plugin)(nil)
	_ caddyfile.Unmarshaler = (*Plugin)(nil)
	_ authcore.Plugin       = (*Plugin)(nil)
)
