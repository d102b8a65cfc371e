package organization

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// ID is the plugin's Better Auth id.
const ID = authcore.OrganizationID

// Defaults (Better Auth's).
const (
	DefaultCreatorRole         = "owner"
	DefaultMembershipLimit     = 100
	DefaultInvitationLimit     = 100
	DefaultInvitationExpiresIn = 48 * time.Hour
)

// Plugin is the organization plugin and its configuration (Caddy module
// gatehouse.plugins.organization). The zero value is ready to use. A Plugin value serves one
// engine.
type Plugin struct {
	// DisallowUserToCreateOrganization refuses /organization/create to users (Better Auth's
	// allowUserToCreateOrganization: false). Organizations can still be created through the
	// Go API.
	DisallowUserToCreateOrganization bool `json:"disallow_user_to_create_organization,omitempty"`

	// OrganizationLimit is how many organizations one user may belong to before
	// /organization/create refuses. 0 means unlimited.
	OrganizationLimit int `json:"organization_limit,omitempty"`

	// CreatorRole is the role the creator of an organization gets, and the role treated as
	// the organization's owner in the owner rules. Default "owner".
	CreatorRole string `json:"creator_role,omitempty"`

	// MembershipLimit is the maximum number of members of one organization. Default 100.
	MembershipLimit int `json:"membership_limit,omitempty"`

	// InvitationLimit is the maximum number of pending invitations of one organization.
	// Default 100.
	InvitationLimit int `json:"invitation_limit,omitempty"`

	// InvitationExpiresIn is how long an invitation stays valid. Default 48h.
	InvitationExpiresIn authcore.Duration `json:"invitation_expires_in,omitempty"`

	// InvitationURL is the link sent in invitation emails; "{id}" is replaced with the
	// invitation id. Default "<base_url>/accept-invitation/{id}", or, when the portal plugin is
	// enabled, its landing page "<base_url><base_path>/ui/accept-invitation?id={id}".
	InvitationURL string `json:"invitation_url,omitempty"`

	// RequireEmailVerificationOnInvitation makes accepting, rejecting and listing one's
	// invitations require a verified email address.
	RequireEmailVerificationOnInvitation bool `json:"require_email_verification_on_invitation,omitempty"`

	// CancelPendingInvitationsOnReInvite cancels the pending invitations of an address when
	// it is invited again (instead of refusing USER_IS_ALREADY_INVITED_TO_THIS_ORGANIZATION).
	CancelPendingInvitationsOnReInvite bool `json:"cancel_pending_invitations_on_re_invite,omitempty"`

	// DisableOrganizationDeletion makes /organization/delete answer 404
	// ORGANIZATION_DELETION_DISABLED.
	DisableOrganizationDeletion bool `json:"disable_organization_deletion,omitempty"`

	// Roles are custom roles: role → resource → actions. They are added to the built-in
	// owner, admin and member roles; a custom admin or member replaces the built-in one. The
	// creator role cannot be redefined: it always holds every default statement.
	Roles map[string]map[string][]string `json:"roles,omitempty"`

	// Teams configures the teams feature.
	Teams Teams `json:"teams,omitzero"`

	// DynamicAccessControl configures per-organization roles stored in organizationRole.
	DynamicAccessControl DynamicAccessControl `json:"dynamic_access_control,omitzero"`

	// Organization hooks (Go API only; Better Auth's organizationHooks). A before hook that
	// returns an error refuses the request with nothing changed: an *authcore.Error reaches
	// the client as is, any other error as a 500. After hooks run once the change is stored;
	// their errors are logged.
	BeforeCreateOrganization Hook `json:"-"`
	AfterCreateOrganization  Hook `json:"-"`
	BeforeUpdateOrganization Hook `json:"-"`
	AfterUpdateOrganization  Hook `json:"-"`
	BeforeDeleteOrganization Hook `json:"-"`
	AfterDeleteOrganization  Hook `json:"-"`
	BeforeAddMember          Hook `json:"-"`
	AfterAddMember           Hook `json:"-"`
	BeforeRemoveMember       Hook `json:"-"`
	AfterRemoveMember        Hook `json:"-"`
	BeforeUpdateMemberRole   Hook `json:"-"`
	AfterUpdateMemberRole    Hook `json:"-"`
	BeforeCreateInvitation   Hook `json:"-"`
	AfterCreateInvitation    Hook `json:"-"`
	BeforeAcceptInvitation   Hook `json:"-"`
	AfterAcceptInvitation    Hook `json:"-"`
	BeforeRejectInvitation   Hook `json:"-"`
	AfterRejectInvitation    Hook `json:"-"`
	BeforeCancelInvitation   Hook `json:"-"`
	AfterCancelInvitation    Hook `json:"-"`
	BeforeCreateTeam         Hook `json:"-"`
	AfterCreateTeam          Hook `json:"-"`
	BeforeUpdateTeam         Hook `json:"-"`
	AfterUpdateTeam          Hook `json:"-"`
	BeforeDeleteTeam         Hook `json:"-"`
	AfterDeleteTeam          Hook `json:"-"`
	BeforeAddTeamMember      Hook `json:"-"`
	AfterAddTeamMember       Hook `json:"-"`
	BeforeRemoveTeamMember   Hook `json:"-"`
	AfterRemoveTeamMember    Hook `json:"-"`

	engine        *authcore.Engine
	creatorRole   string
	membershipMax int
	invitationMax int
	invitationTTL time.Duration
	roles         map[string]Permissions
	cache         *ttlCache[membershipKey, membership]
	rolesCache    *ttlCache[string, map[string]Permissions] // an organization's stored roles
}

// Teams is the teams block (Better Auth's teams option).
type Teams struct {
	// Enabled turns on the team model's routes and activeTeamId.
	Enabled bool `json:"enabled,omitempty"`
	// MaximumTeams is the maximum number of teams per organization; 0 means unlimited.
	MaximumTeams int `json:"maximum_teams,omitempty"`
	// MaximumMembersPerTeam is the maximum number of members of one team; 0 means unlimited.
	MaximumMembersPerTeam int `json:"maximum_members_per_team,omitempty"`
	// AllowRemovingAllTeams lets the last team of an organization be removed.
	AllowRemovingAllTeams bool `json:"allow_removing_all_teams,omitempty"`
}

// DynamicAccessControl is the dynamic_access_control block (Better Auth's
// dynamicAccessControl option).
type DynamicAccessControl struct {
	// Enabled turns on the organizationRole routes and stored roles in permission checks.
	Enabled bool `json:"enabled,omitempty"`
	// MaximumRolesPerOrganization bounds the stored roles of one organization; 0 means
	// unlimited.
	MaximumRolesPerOrganization int `json:"maximum_roles_per_organization,omitempty"`
}

// HookEvent is what an organization hook sees. Only the records that apply to the event are
// set (see doc.go for each hook).
type HookEvent struct {
	// Organization is the organization concerned (for before-create and before-update: the
	// fields about to be stored or changed).
	Organization storage.Record
	// Member is the membership concerned (before add: the one about to be stored).
	Member storage.Record
	// Invitation is the invitation concerned.
	Invitation storage.Record
	// Team and TeamMember are set by team hooks.
	Team       storage.Record
	TeamMember storage.Record
	// User is the user the event is about: the creator, the member's user, the invitee who
	// accepts or rejects, or the user acting (update, delete, cancel: the canceller).
	User storage.Record
	// Inviter is the user who creates an invitation.
	Inviter storage.Record
	// NewRole and PreviousRole are set by the update-member-role hooks.
	NewRole      string
	PreviousRole string
}

// Hook is one organization hook.
type Hook func(ctx context.Context, ev *HookEvent) error

// ID returns "organization".
func (*Plugin) ID() string { return ID }

// Register validates the options and declares the schema, routes, error codes and the
// Organizations API.
func (p *Plugin) Register(r *authcore.Registrar) error {
	if err := p.validate(); err != nil {
		return err
	}
	p.engine = r.Engine()
	p.cache = newTTLCache[membershipKey, membership](membershipCacheSize, membershipCacheTTL)
	p.rolesCache = newTTLCache[string, map[string]Permissions](membershipCacheSize, membershipCacheTTL)
	if err := registerSchema(r); err != nil {
		return err
	}
	if err := r.Errors(errorCodes...); err != nil {
		return err
	}
	for _, ep := range p.endpoints() {
		if ep.Audit != "" {
			ep.Handler = withAuditIDs(ep.Handler)
		}
		if err := r.Endpoint(ep); err != nil {
			return err
		}
	}
	if p.Teams.Enabled {
		for _, ep := range p.teamEndpoints() {
			if err := r.Endpoint(ep); err != nil {
				return err
			}
		}
	}
	if p.DynamicAccessControl.Enabled {
		for _, ep := range p.roleEndpoints() {
			if err := r.Endpoint(ep); err != nil {
				return err
			}
		}
	}
	r.Provide(p)
	return nil
}

func validName(s string) bool {
	return s != "" && !strings.ContainsAny(s, ", \t\r\n\x00") && len(s) <= 128
}

// validate checks the options and computes the effective settings.
func (p *Plugin) validate() error {
	p.creatorRole = p.CreatorRole
	if p.creatorRole == "" {
		p.creatorRole = DefaultCreatorRole
	}
	if !validName(p.creatorRole) {
		return fmt.Errorf("organization: creator_role %q is not a role name (no commas or spaces)", p.creatorRole)
	}
	if p.OrganizationLimit < 0 || p.MembershipLimit < 0 || p.InvitationLimit < 0 {
		return fmt.Errorf("organization: organization_limit, membership_limit and invitation_limit must not be negative")
	}
	if p.Teams.MaximumTeams < 0 || p.Teams.MaximumMembersPerTeam < 0 || p.DynamicAccessControl.MaximumRolesPerOrganization < 0 {
		return fmt.Errorf("organization: team and role limits must not be negative")
	}
	p.membershipMax = p.MembershipLimit
	if p.membershipMax == 0 {
		p.membershipMax = DefaultMembershipLimit
	}
	p.invitationMax = p.InvitationLimit
	if p.invitationMax == 0 {
		p.invitationMax = DefaultInvitationLimit
	}
	p.invitationTTL = p.InvitationExpiresIn.D()
	if p.invitationTTL == 0 {
		p.invitationTTL = DefaultInvitationExpiresIn
	}
	if p.invitationTTL < time.Minute {
		return fmt.Errorf("organization: invitation_expires_in must be at least 1m")
	}
	if p.InvitationURL != "" && !strings.Contains(p.InvitationURL, "{id}") {
		return fmt.Errorf("organization: invitation_url %q must contain {id}", p.InvitationURL)
	}
	p.roles = DefaultRoles()
	if p.creatorRole != DefaultCreatorRole {
		// The creator role is all-powerful whatever its name.
		p.roles[p.creatorRole] = p.roles[DefaultCreatorRole]
	}
	for _, name := range slices.Sorted(maps.Keys(p.Roles)) {
		if !validName(name) {
			return fmt.Errorf("organization: roles: %q is not a role name (no commas or spaces)", name)
		}
		if name == p.creatorRole || name == DefaultCreatorRole {
			return fmt.Errorf("organization: roles: %q cannot be redefined: the owner role always holds every permission", name)
		}
		perms := Permissions{}
		for res, actions := range p.Roles[name] {
			if !validName(res) {
				return fmt.Errorf("organization: roles %s: %q is not a resource name", name, res)
			}
			for _, a := range actions {
				if !validName(a) {
					return fmt.Errorf("organization: roles %s %s: %q is not an action name", name, res, a)
				}
			}
			perms[res] = slices.Clone(actions)
		}
		p.roles[name] = perms
	}
	return nil
}
