package sso

import (
	"context"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// provisioner is the organization plugin's published ProvisionMember (its
// organization.Provisioner), declared here so the plugins stay independent.
type provisioner interface {
	ProvisionMember(ctx context.Context, orgID, userID, role string) (added bool, err error)
}

// provision makes user a member of the organization a provider belongs to, with
// organization_provisioning's default_role, when the user signed in through it. It does
// nothing when provisioning is disabled, the provider belongs to no organization or the
// organization plugin is not enabled; an existing member keeps their role. Errors (an
// unknown organization or role, a full organization) are the organization plugin's.
func (p *Plugin) provision(ctx context.Context, provider, user storage.Record) error {
	if p.OrganizationProvisioning.Disabled || provider == nil || user == nil {
		return nil
	}
	orgID := provider.String("organizationId")
	if orgID == "" {
		return nil
	}
	api, ok := authcore.PluginAPI[provisioner](p.engine, authcore.OrganizationID)
	if !ok {
		return nil
	}
	_, err := api.ProvisionMember(ctx, orgID, user.ID(), p.role)
	return err
}
