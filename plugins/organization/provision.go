package organization

import (
	"context"

	"github.com/gatehouse-auth/gatehouse/authcore"
)

// Provisioner is what the organization plugin publishes for plugins that enrol users into an
// organization on their own authority — the sso plugin adds the users of an organization's
// identity provider. Reach it with authcore.PluginAPI[organization.Provisioner](e, "organization").
type Provisioner interface {
	ProvisionMember(ctx context.Context, orgID, userID, role string) (added bool, err error)
}

var _ Provisioner = (*Plugin)(nil)

// ProvisionMember makes userID a member of orgID with role (a comma list of known roles),
// through the same path as AddMember: role check, add-member hooks, and membership_limit
// counted inside the write (403 ORGANIZATION_MEMBERSHIP_LIMIT_REACHED). It is idempotent: a
// user who is already a member — before the call or by a concurrent one — is left as is
// (their role is not changed) and added is false.
func (p *Plugin) ProvisionMember(ctx context.Context, orgID, userID, role string) (added bool, err error) {
	existing, err := p.memberOf(ctx, orgID, userID)
	if err != nil {
		return false, err
	}
	if existing != nil {
		return false, nil
	}
	if _, err = p.AddMember(ctx, orgID, userID, authcore.SplitRoles(role)); err != nil {
		e := authcore.AsError(err)
		if e.Code == CodeUserIsAlreadyAMemberOfThisOrganization.Code {
			return false, nil
		}
		return false, e
	}
	return true, nil
}
