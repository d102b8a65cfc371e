package organization

import "github.com/gatehouse-auth/gatehouse/authcore"

// Route paths (relative to the base path).
const (
	PathCreate              = "/organization/create"
	PathCheckSlug           = "/organization/check-slug"
	PathUpdate              = "/organization/update"
	PathDelete              = "/organization/delete"
	PathSetActive           = "/organization/set-active"
	PathGetOrganization     = "/organization/get-organization"
	PathGetFullOrganization = "/organization/get-full-organization"
	PathList                = "/organization/list"
	PathInviteMember        = "/organization/invite-member"
	PathAcceptInvitation    = "/organization/accept-invitation"
	PathRejectInvitation    = "/organization/reject-invitation"
	PathCancelInvitation    = "/organization/cancel-invitation"
	PathGetInvitation       = "/organization/get-invitation"
	PathListInvitations     = "/organization/list-invitations"
	PathListUserInvitations = "/organization/list-user-invitations"
	PathRemoveMember        = "/organization/remove-member"
	PathUpdateMemberRole    = "/organization/update-member-role"
	PathGetActiveMember     = "/organization/get-active-member"
	PathGetActiveMemberRole = "/organization/get-active-member-role"
	PathLeave               = "/organization/leave"
	PathListMembers         = "/organization/list-members"
	PathHasPermission       = "/organization/has-permission"
)

var tags = []string{"Organization"}

// orgRef are the optional organizationId/organizationSlug parameters.
func orgRef() []authcore.Param {
	return []authcore.Param{authcore.String("organizationId"), authcore.String("organizationSlug")}
}

// organizationSchema is the one schema of an organization as orgJSON renders it: the model's
// public JSON with metadata parsed (stored as a string, answered as the JSON it holds), so
// not the model component. Every organization-shaped answer uses it.
func organizationSchema() map[string]any {
	return authcore.ObjectOf(map[string]any{"id": "string", "name": "string", "slug": "string",
		"logo": authcore.Nullable("string"), "metadata": "any", "createdAt": "date-time"}, "id", "name", "slug", "createdAt")
}

// memberWithUserSchema is a member as membersWithUsers and get-active-member answer it: the
// member's public JSON plus user{id, name, email, image}.
func memberWithUserSchema() map[string]any {
	user := authcore.ObjectOf(map[string]any{"id": "string", "name": "string", "email": "string",
		"image": authcore.Nullable("string")}, "id", "name", "email", "image")
	return authcore.Extend(authcore.ModelRef(ModelMember), map[string]any{"user": user}, "user")
}

// nullSchema documents a key that is always JSON null.
func nullSchema() map[string]any { return map[string]any{"type": "null"} }

// endpoints lists the base organization routes (teams and dynamic roles register their own).
func (p *Plugin) endpoints() []authcore.Endpoint {
	unauth := func(codes ...authcore.ErrorCode) []authcore.ErrorCode {
		return append([]authcore.ErrorCode{authcore.CodeUnauthorized}, codes...)
	}
	orgSchema := organizationSchema()
	member, invitation := authcore.ModelRef(ModelMember), authcore.ModelRef(ModelInvitation)
	return []authcore.Endpoint{
		{Method: "POST", Path: PathCreate, Audit: authcore.AuditOrganizationCreate, Auth: authcore.AuthSession, Handler: p.create, Tags: tags,
			Summary: "Create an organization", Response: authcore.Extend(orgSchema, map[string]any{"members": authcore.ArrayOf(member)}, "members"),
			Body: []authcore.Param{authcore.String("name").Req().Len(1, 0), authcore.String("slug").Req().Len(1, 255),
				authcore.String("logo").Null(), authcore.Object("metadata"), authcore.Bool("keepCurrentActiveOrganization"),
				authcore.Any("userId")},
			Errors: unauth(CodeYouAreNotAllowedToCreateANewOrganization, CodeYouHaveReachedTheMaximumNumberOfOrganizations,
				CodeOrganizationAlreadyExists, authcore.CodeFieldNotAllowed)},
		{Method: "POST", Path: PathCheckSlug, Auth: authcore.AuthSession, Handler: p.checkSlug, Tags: tags,
			Summary: "Check whether a slug is free", Response: authcore.ObjectOf(map[string]any{"status": "boolean"}, "status"),
			Body:   []authcore.Param{authcore.String("slug").Req().Len(1, 255)},
			Errors: unauth(CodeOrganizationSlugAlreadyTaken)},
		{Method: "POST", Path: PathUpdate, Auth: authcore.AuthSession, Handler: p.update, Tags: tags,
			Summary: "Update an organization", Response: orgSchema,
			Body: []authcore.Param{authcore.Object("data").Req(), authcore.String("organizationId")},
			Errors: unauth(CodeOrganizationNotFound, CodeUserIsNotAMemberOfTheOrganization,
				CodeYouAreNotAllowedToUpdateThisOrganization, CodeOrganizationSlugAlreadyTaken)},
		{Method: "POST", Path: PathDelete, Audit: authcore.AuditOrganizationDelete, Auth: authcore.AuthSession, Handler: p.delete, Tags: tags,
			Summary: "Delete an organization", Response: orgSchema,
			Body: []authcore.Param{authcore.String("organizationId").Req()},
			Errors: unauth(CodeOrganizationDeletionDisabled, CodeOrganizationNotFound, CodeUserIsNotAMemberOfTheOrganization,
				CodeYouAreNotAllowedToDeleteThisOrganization)},
		{Method: "POST", Path: PathSetActive, Auth: authcore.AuthSession, Handler: p.setActiveRoute, Tags: tags,
			Summary: "Set the session's active organization", Response: authcore.Nullable(orgSchema),
			Body:         []authcore.Param{authcore.String("organizationId").Null(), authcore.String("organizationSlug")},
			BodyOptional: true,
			Errors:       unauth(CodeOrganizationNotFound, CodeUserIsNotAMemberOfTheOrganization)},
		{Method: "GET", Path: PathGetOrganization, Auth: authcore.AuthSession, Handler: p.getOrganization, Tags: tags,
			Summary: "Get an organization", Response: authcore.Nullable(orgSchema), Query: orgRef(),
			Errors: unauth(CodeOrganizationNotFound, CodeUserIsNotAMemberOfTheOrganization)},
		{Method: "GET", Path: PathGetFullOrganization, Auth: authcore.AuthSession, Handler: p.getFullOrganization, Tags: tags,
			Summary: "Get an organization with its members and invitations", Response: authcore.Nullable(authcore.Extend(orgSchema, map[string]any{
				"members": authcore.ArrayOf(memberWithUserSchema()), "invitations": authcore.ArrayOf(invitation),
				// teams: only when teams are enabled.
				"teams": authcore.ArrayOf(authcore.ModelRef(ModelTeam))}, "members", "invitations")),
			Query:  append(orgRef(), authcore.String("membersLimit")),
			Errors: unauth(CodeOrganizationNotFound, CodeUserIsNotAMemberOfTheOrganization)},
		{Method: "GET", Path: PathList, Auth: authcore.AuthSession, Handler: p.list, Tags: tags,
			Summary: "List the caller's organizations", Response: authcore.ArrayOf(orgSchema), Errors: unauth()},
		{Method: "POST", Path: PathInviteMember, Audit: authcore.AuditOrganizationInvite, Auth: authcore.AuthSession, Handler: p.inviteMember, Tags: tags,
			Summary: "Invite a user to an organization", Response: invitation,
			Body: []authcore.Param{authcore.String("email").Req().IsEmail(), authcore.StringOrArray("role").Req(),
				authcore.String("organizationId"), authcore.Bool("resend"), authcore.StringOrArray("teamId")},
			Errors: unauth(CodeNoActiveOrganization, CodeUserIsNotAMemberOfTheOrganization, CodeYouAreNotAllowedToInviteUsersToThisOrganization,
				CodeYouAreNotAllowedToInviteUserWithThisRole, CodeRoleNotFound, CodeUserIsAlreadyAMemberOfThisOrganization,
				CodeUserIsAlreadyInvitedToThisOrganization, CodeInvitationLimitReached, CodeOrganizationNotFound, CodeTeamNotFound)},
		{Method: "POST", Path: PathAcceptInvitation, Audit: authcore.AuditOrganizationMemberAdd, Auth: authcore.AuthSession, Handler: p.acceptInvitation, Tags: tags,
			Summary: "Accept an invitation", Response: authcore.ObjectOf(map[string]any{"invitation": invitation, "member": member}, "invitation", "member"),
			Body: []authcore.Param{authcore.String("invitationId").Req()},
			Errors: unauth(CodeInvitationNotFound, CodeYouAreNotTheRecipientOfTheInvitation,
				CodeEmailVerificationRequiredBeforeAcceptingOrRejectingInvitation, CodeOrganizationMembershipLimitReached,
				CodeUserIsAlreadyAMemberOfThisOrganization)},
		{Method: "POST", Path: PathRejectInvitation, Auth: authcore.AuthSession, Handler: p.rejectInvitation, Tags: tags,
			Summary: "Reject an invitation", Response: authcore.ObjectOf(map[string]any{"invitation": invitation, "member": nullSchema()}, "invitation", "member"),
			Body: []authcore.Param{authcore.String("invitationId").Req()},
			Errors: unauth(CodeInvitationNotFound, CodeYouAreNotTheRecipientOfTheInvitation,
				CodeEmailVerificationRequiredBeforeAcceptingOrRejectingInvitation)},
		{Method: "POST", Path: PathCancelInvitation, Auth: authcore.AuthSession, Handler: p.cancelInvitation, Tags: tags,
			Summary: "Cancel an invitation", Response: invitation,
			Body:   []authcore.Param{authcore.String("invitationId").Req()},
			Errors: unauth(CodeInvitationNotFound, CodeYouAreNotAllowedToCancelThisInvitation)},
		{Method: "GET", Path: PathGetInvitation, Auth: authcore.AuthSession, Handler: p.getInvitation, Tags: tags,
			Summary: "Get an invitation addressed to the caller", Response: authcore.Extend(invitation, map[string]any{"organizationName": "string",
				"organizationSlug": "string", "inviterEmail": "string"}, "organizationName", "organizationSlug", "inviterEmail"),
			Query: []authcore.Param{authcore.String("id").Req()},
			Errors: unauth(CodeInvitationNotFound, CodeYouAreNotTheRecipientOfTheInvitation, CodeOrganizationNotFound,
				CodeInviterIsNoLongerAMemberOfTheOrganization, CodeEmailVerificationRequiredForInvitation)},
		{Method: "GET", Path: PathListInvitations, Auth: authcore.AuthSession, Handler: p.listInvitations, Tags: tags,
			Summary: "List an organization's invitations", Response: authcore.ArrayOf(invitation), Query: []authcore.Param{authcore.String("organizationId")},
			Errors: unauth(CodeNoActiveOrganization, CodeYouAreNotAMemberOfThisOrganization, CodeYouAreNotAllowedToListInvitations)},
		{Method: "GET", Path: PathListUserInvitations, Auth: authcore.AuthSession, Handler: p.listUserInvitations, Tags: tags,
			Summary:  "List the pending invitations addressed to the caller",
			Response: authcore.ArrayOf(authcore.Extend(invitation, map[string]any{"organizationName": "string"}, "organizationName")), Query: []authcore.Param{authcore.String("email")},
			Errors: unauth(CodeEmailVerificationRequiredForInvitation)},
		{Method: "POST", Path: PathRemoveMember, Audit: authcore.AuditOrganizationMemberRemove, Auth: authcore.AuthSession, Handler: p.removeMember, Tags: tags,
			Summary: "Remove a member", Response: authcore.ObjectOf(map[string]any{"member": member}, "member"),
			Body: []authcore.Param{authcore.String("memberIdOrEmail").Req(), authcore.String("organizationId")},
			Errors: unauth(CodeNoActiveOrganization, CodeMemberNotFound, CodeYouAreNotAllowedToDeleteThisMember,
				CodeYouCannotLeaveTheOrganizationAsTheOnlyOwner, CodeOrganizationNotFound)},
		{Method: "POST", Path: PathUpdateMemberRole, Audit: authcore.AuditOrganizationMemberRole, Auth: authcore.AuthSession, Handler: p.updateMemberRole, Tags: tags,
			Summary: "Update a member's role", Response: member,
			Body: []authcore.Param{authcore.StringOrArray("role").Req(), authcore.String("memberId").Req(), authcore.String("organizationId")},
			Errors: unauth(CodeNoActiveOrganization, CodeMemberNotFound, CodeYouAreNotAllowedToUpdateThisMember, CodeRoleNotFound,
				CodeYouCannotLeaveTheOrganizationWithoutAnOwner)},
		{Method: "GET", Path: PathGetActiveMember, Auth: authcore.AuthSession, Handler: p.getActiveMember, Tags: tags,
			Summary: "Get the caller's membership in the active organization", Response: memberWithUserSchema(),
			Errors: unauth(CodeNoActiveOrganization, CodeMemberNotFound)},
		{Method: "GET", Path: PathGetActiveMemberRole, Auth: authcore.AuthSession, Handler: p.getActiveMemberRole, Tags: tags,
			Summary: "Get a member's role in the active organization", Response: authcore.ObjectOf(map[string]any{"role": "string"}, "role"),
			Query:  append(orgRef(), authcore.String("userId")),
			Errors: unauth(CodeNoActiveOrganization, CodeOrganizationNotFound, CodeYouAreNotAMemberOfThisOrganization, CodeMemberNotFound)},
		{Method: "POST", Path: PathLeave, Audit: authcore.AuditOrganizationMemberRemove, Auth: authcore.AuthSession, Handler: p.leave, Tags: tags,
			Summary: "Leave an organization", Response: member,
			Body:   []authcore.Param{authcore.String("organizationId").Req()},
			Errors: unauth(CodeMemberNotFound, CodeYouCannotLeaveTheOrganizationAsTheOnlyOwner)},
		{Method: "GET", Path: PathListMembers, Auth: authcore.AuthSession, Handler: p.listMembers, Tags: tags,
			Summary: "List an organization's members", Response: authcore.ObjectOf(map[string]any{"members": authcore.ArrayOf(memberWithUserSchema()),
				"total": "integer"}, "members", "total"),
			Query: append(orgRef(), authcore.String("limit"), authcore.String("offset"), authcore.String("sortBy"),
				authcore.String("sortDirection"), authcore.String("filterField"), authcore.Any("filterValue"), authcore.String("filterOperator")),
			Errors: unauth(CodeNoActiveOrganization, CodeOrganizationNotFound, CodeYouAreNotAMemberOfThisOrganization)},
		{Method: "POST", Path: PathHasPermission, Auth: authcore.AuthSession, Handler: p.hasPermission, Tags: tags,
			Summary: "Check the caller's permissions in an organization", Response: authcore.ObjectOf(map[string]any{"error": nullSchema(), "success": "boolean"}, "error", "success"),
			Body:   []authcore.Param{authcore.Object("permissions"), authcore.Object("permission"), authcore.String("organizationId")},
			Errors: unauth(CodeNoActiveOrganization, CodeUserIsNotAMemberOfTheOrganization)},
	}
}

// withAuditIDs adds the organization, invitation and member ids of the request body to the
// call's audit event (the audited endpoints are annotated in endpoints()).
func withAuditIDs(h authcore.HandlerFunc) authcore.HandlerFunc {
	return func(c *authcore.Call) (any, error) {
		for _, k := range []string{"organizationId", "invitationId", "memberId"} {
			if v := c.Body.String(k); v != "" {
				c.AuditDetail(k, v)
			}
		}
		return h(c)
	}
}
