package organization

import (
	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// Model names (Better Auth's).
const (
	ModelOrganization     = "organization"
	ModelMember           = "member"
	ModelInvitation       = "invitation"
	ModelTeam             = "team"
	ModelTeamMember       = "teamMember"
	ModelOrganizationRole = "organizationRole"
)

// Session fields the plugin adds.
const (
	FieldActiveOrganizationID = "activeOrganizationId"
	FieldActiveTeamID         = "activeTeamId"
)

// Invitation statuses.
const (
	StatusPending  = "pending"
	StatusAccepted = "accepted"
	StatusRejected = "rejected"
	StatusCanceled = "canceled"
)

// registerSchema declares Better Auth's organization tables and the session's active
// organization and team. Members, invitations, teams and stored roles go with their
// organization (cascade); members and team members go with their user. Session fields are
// server-only: only set-active (and create/accept) change them.
func registerSchema(r *authcore.Registrar) error {
	created := storage.Field{Name: "createdAt", Type: storage.TypeDate, Required: true}
	updated := storage.Field{Name: "updatedAt", Type: storage.TypeDate}
	orgRef := &storage.Reference{Model: ModelOrganization, OnDelete: storage.Cascade}
	userRef := &storage.Reference{Model: authcore.ModelUser, OnDelete: storage.Cascade}
	models := []storage.Model{
		{Name: ModelOrganization, Fields: []storage.Field{
			{Name: "name", Type: storage.TypeString, Required: true},
			{Name: "slug", Type: storage.TypeString, Required: true, Unique: true},
			{Name: "logo", Type: storage.TypeString},
			// metadata holds a JSON object as a string, as Better Auth stores it; responses
			// carry it parsed.
			{Name: "metadata", Type: storage.TypeString},
			created,
		}},
		{Name: ModelMember, Fields: []storage.Field{
			{Name: "organizationId", Type: storage.TypeString, Required: true, References: orgRef},
			{Name: "userId", Type: storage.TypeString, Required: true, References: userRef},
			{Name: "role", Type: storage.TypeString, Required: true, Default: "member"},
			created,
		}, Unique: [][]string{{"organizationId", "userId"}}},
		{Name: ModelInvitation, Fields: []storage.Field{
			{Name: "organizationId", Type: storage.TypeString, Required: true, References: orgRef},
			{Name: "email", Type: storage.TypeString, Required: true, Indexed: true},
			{Name: "role", Type: storage.TypeString},
			{Name: "teamId", Type: storage.TypeString},
			{Name: "status", Type: storage.TypeString, Required: true, Default: StatusPending},
			{Name: "expiresAt", Type: storage.TypeDate, Required: true},
			{Name: "inviterId", Type: storage.TypeString, Required: true, References: userRef},
			created,
		}},
		{Name: ModelTeam, Fields: []storage.Field{
			{Name: "name", Type: storage.TypeString, Required: true},
			{Name: "organizationId", Type: storage.TypeString, Required: true, References: orgRef},
			created, updated,
		}},
		{Name: ModelTeamMember, Fields: []storage.Field{
			{Name: "teamId", Type: storage.TypeString, Required: true, References: &storage.Reference{Model: ModelTeam, OnDelete: storage.Cascade}},
			{Name: "userId", Type: storage.TypeString, Required: true, References: userRef},
			created,
		}, Unique: [][]string{{"teamId", "userId"}}},
		{Name: ModelOrganizationRole, Fields: []storage.Field{
			{Name: "organizationId", Type: storage.TypeString, Required: true, References: orgRef},
			{Name: "role", Type: storage.TypeString, Required: true, Indexed: true},
			// permission holds the role's resource → actions map as a JSON string.
			{Name: "permission", Type: storage.TypeString, Required: true},
			created, updated,
		}, Unique: [][]string{{"organizationId", "role"}}},
	}
	for _, m := range models {
		if err := r.Model(m); err != nil {
			return err
		}
	}
	return r.Extend(authcore.ModelSession,
		storage.Field{Name: FieldActiveOrganizationID, Type: storage.TypeString, ServerOnly: true,
			References: &storage.Reference{Model: ModelOrganization, OnDelete: storage.SetNull}},
		storage.Field{Name: FieldActiveTeamID, Type: storage.TypeString, ServerOnly: true,
			References: &storage.Reference{Model: ModelTeam, OnDelete: storage.SetNull}},
	)
}
