package organization

import "github.com/gatehouse-auth/gatehouse/authcore"

// Better Auth's ORGANIZATION_ERROR_CODES (1.7.25, with YOU_ARE_NOT_ALLOWED_TO_LIST_INVITATIONS),
// with their exact messages, plus the ad-hoc ORGANIZATION_DELETION_DISABLED that
// /organization/delete answers with.
var (
	CodeYouAreNotAllowedToCreateANewOrganization                      = authcore.ErrorCode{Code: "YOU_ARE_NOT_ALLOWED_TO_CREATE_A_NEW_ORGANIZATION", Message: "You are not allowed to create a new organization"}
	CodeYouHaveReachedTheMaximumNumberOfOrganizations                 = authcore.ErrorCode{Code: "YOU_HAVE_REACHED_THE_MAXIMUM_NUMBER_OF_ORGANIZATIONS", Message: "You have reached the maximum number of organizations"}
	CodeOrganizationAlreadyExists                                     = authcore.ErrorCode{Code: "ORGANIZATION_ALREADY_EXISTS", Message: "Organization already exists"}
	CodeOrganizationSlugAlreadyTaken                                  = authcore.ErrorCode{Code: "ORGANIZATION_SLUG_ALREADY_TAKEN", Message: "Organization slug already taken"}
	CodeOrganizationNotFound                                          = authcore.ErrorCode{Code: "ORGANIZATION_NOT_FOUND", Message: "Organization not found"}
	CodeUserIsNotAMemberOfTheOrganization                             = authcore.ErrorCode{Code: "USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION", Message: "User is not a member of the organization"}
	CodeYouAreNotAllowedToUpdateThisOrganization                      = authcore.ErrorCode{Code: "YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_ORGANIZATION", Message: "You are not allowed to update this organization"}
	CodeYouAreNotAllowedToDeleteThisOrganization                      = authcore.ErrorCode{Code: "YOU_ARE_NOT_ALLOWED_TO_DELETE_THIS_ORGANIZATION", Message: "You are not allowed to delete this organization"}
	CodeNoActiveOrganization                                          = authcore.ErrorCode{Code: "NO_ACTIVE_ORGANIZATION", Message: "No active organization"}
	CodeUserIsAlreadyAMemberOfThisOrganization                        = authcore.ErrorCode{Code: "USER_IS_ALREADY_A_MEMBER_OF_THIS_ORGANIZATION", Message: "User is already a member of this organization"}
	CodeMemberNotFound                                                = authcore.ErrorCode{Code: "MEMBER_NOT_FOUND", Message: "Member not found"}
	CodeRoleNotFound                                                  = authcore.ErrorCode{Code: "ROLE_NOT_FOUND", Message: "Role not found"}
	CodeYouAreNotAllowedToCreateANewTeam                              = authcore.ErrorCode{Code: "YOU_ARE_NOT_ALLOWED_TO_CREATE_A_NEW_TEAM", Message: "You are not allowed to create a new team"}
	CodeTeamAlreadyExists                                             = authcore.ErrorCode{Code: "TEAM_ALREADY_EXISTS", Message: "Team already exists"}
	CodeTeamNotFound                                                  = authcore.ErrorCode{Code: "TEAM_NOT_FOUND", Message: "Team not found"}
	CodeYouCannotLeaveTheOrganizationAsTheOnlyOwner                   = authcore.ErrorCode{Code: "YOU_CANNOT_LEAVE_THE_ORGANIZATION_AS_THE_ONLY_OWNER", Message: "You cannot leave the organization as the only owner"}
	CodeYouCannotLeaveTheOrganizationWithoutAnOwner                   = authcore.ErrorCode{Code: "YOU_CANNOT_LEAVE_THE_ORGANIZATION_WITHOUT_AN_OWNER", Message: "You cannot leave the organization without an owner"}
	CodeYouAreNotAllowedToDeleteThisMember                            = authcore.ErrorCode{Code: "YOU_ARE_NOT_ALLOWED_TO_DELETE_THIS_MEMBER", Message: "You are not allowed to delete this member"}
	CodeYouAreNotAllowedToInviteUsersToThisOrganization               = authcore.ErrorCode{Code: "YOU_ARE_NOT_ALLOWED_TO_INVITE_USERS_TO_THIS_ORGANIZATION", Message: "You are not allowed to invite users to this organization"}
	CodeUserIsAlreadyInvitedToThisOrganization                        = authcore.ErrorCode{Code: "USER_IS_ALREADY_INVITED_TO_THIS_ORGANIZATION", Message: "User is already invited to this organization"}
	CodeInvitationNotFound                                            = authcore.ErrorCode{Code: "INVITATION_NOT_FOUND", Message: "Invitation not found"}
	CodeYouAreNotTheRecipientOfTheInvitation                          = authcore.ErrorCode{Code: "YOU_ARE_NOT_THE_RECIPIENT_OF_THE_INVITATION", Message: "You are not the recipient of the invitation"}
	CodeEmailVerificationRequiredBeforeAcceptingOrRejectingInvitation = authcore.ErrorCode{Code: "EMAIL_VERIFICATION_REQUIRED_BEFORE_ACCEPTING_OR_REJECTING_INVITATION", Message: "Email verification required before accepting or rejecting invitation"}
	CodeEmailVerificationRequiredForInvitation                        = authcore.ErrorCode{Code: "EMAIL_VERIFICATION_REQUIRED_FOR_INVITATION", Message: "Email verification required to view or list invitations for the session email"}
	CodeYouAreNotAllowedToCancelThisInvitation                        = authcore.ErrorCode{Code: "YOU_ARE_NOT_ALLOWED_TO_CANCEL_THIS_INVITATION", Message: "You are not allowed to cancel this invitation"}
	CodeInviterIsNoLongerAMemberOfTheOrganization                     = authcore.ErrorCode{Code: "INVITER_IS_NO_LONGER_A_MEMBER_OF_THE_ORGANIZATION", Message: "Inviter is no longer a member of the organization"}
	CodeYouAreNotAllowedToInviteUserWithThisRole                      = authcore.ErrorCode{Code: "YOU_ARE_NOT_ALLOWED_TO_INVITE_USER_WITH_THIS_ROLE", Message: "You are not allowed to invite a user with this role"}
	CodeFailedToRetrieveInvitation                                    = authcore.ErrorCode{Code: "FAILED_TO_RETRIEVE_INVITATION", Message: "Failed to retrieve invitation"}
	CodeYouHaveReachedTheMaximumNumberOfTeams                         = authcore.ErrorCode{Code: "YOU_HAVE_REACHED_THE_MAXIMUM_NUMBER_OF_TEAMS", Message: "You have reached the maximum number of teams"}
	CodeUnableToRemoveLastTeam                                        = authcore.ErrorCode{Code: "UNABLE_TO_REMOVE_LAST_TEAM", Message: "Unable to remove last team"}
	CodeYouAreNotAllowedToUpdateThisMember                            = authcore.ErrorCode{Code: "YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_MEMBER", Message: "You are not allowed to update this member"}
	CodeOrganizationMembershipLimitReached                            = authcore.ErrorCode{Code: "ORGANIZATION_MEMBERSHIP_LIMIT_REACHED", Message: "Organization membership limit reached"}
	CodeYouAreNotAllowedToCreateTeamsInThisOrganization               = authcore.ErrorCode{Code: "YOU_ARE_NOT_ALLOWED_TO_CREATE_TEAMS_IN_THIS_ORGANIZATION", Message: "You are not allowed to create teams in this organization"}
	CodeYouAreNotAllowedToDeleteTeamsInThisOrganization               = authcore.ErrorCode{Code: "YOU_ARE_NOT_ALLOWED_TO_DELETE_TEAMS_IN_THIS_ORGANIZATION", Message: "You are not allowed to delete teams in this organization"}
	CodeYouAreNotAllowedToUpdateThisTeam                              = authcore.ErrorCode{Code: "YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_TEAM", Message: "You are not allowed to update this team"}
	CodeYouAreNotAllowedToDeleteThisTeam                              = authcore.ErrorCode{Code: "YOU_ARE_NOT_ALLOWED_TO_DELETE_THIS_TEAM", Message: "You are not allowed to delete this team"}
	CodeInvitationLimitReached                                        = authcore.ErrorCode{Code: "INVITATION_LIMIT_REACHED", Message: "Invitation limit reached"}
	CodeTeamMemberLimitReached                                        = authcore.ErrorCode{Code: "TEAM_MEMBER_LIMIT_REACHED", Message: "Team member limit reached"}
	CodeUserIsNotAMemberOfTheTeam                                     = authcore.ErrorCode{Code: "USER_IS_NOT_A_MEMBER_OF_THE_TEAM", Message: "User is not a member of the team"}
	CodeYouCanNotAccessTheMembersOfThisTeam                           = authcore.ErrorCode{Code: "YOU_CAN_NOT_ACCESS_THE_MEMBERS_OF_THIS_TEAM", Message: "You are not allowed to list the members of this team"}
	CodeYouDoNotHaveAnActiveTeam                                      = authcore.ErrorCode{Code: "YOU_DO_NOT_HAVE_AN_ACTIVE_TEAM", Message: "You do not have an active team"}
	CodeYouAreNotAllowedToCreateANewTeamMember                        = authcore.ErrorCode{Code: "YOU_ARE_NOT_ALLOWED_TO_CREATE_A_NEW_TEAM_MEMBER", Message: "You are not allowed to create a new member"}
	CodeYouAreNotAllowedToRemoveATeamMember                           = authcore.ErrorCode{Code: "YOU_ARE_NOT_ALLOWED_TO_REMOVE_A_TEAM_MEMBER", Message: "You are not allowed to remove a team member"}
	CodeYouAreNotAllowedToAccessThisOrganization                      = authcore.ErrorCode{Code: "YOU_ARE_NOT_ALLOWED_TO_ACCESS_THIS_ORGANIZATION", Message: "You are not allowed to access this organization as an owner"}
	CodeYouAreNotAMemberOfThisOrganization                            = authcore.ErrorCode{Code: "YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION", Message: "You are not a member of this organization"}
	CodeMissingAcInstance                                             = authcore.ErrorCode{Code: "MISSING_AC_INSTANCE", Message: "Dynamic Access Control requires a pre-defined ac instance on the server auth plugin. Read server logs for more information"}
	CodeYouMustBeInAnOrganizationToCreateARole                        = authcore.ErrorCode{Code: "YOU_MUST_BE_IN_AN_ORGANIZATION_TO_CREATE_A_ROLE", Message: "You must be in an organization to create a role"}
	CodeYouAreNotAllowedToCreateARole                                 = authcore.ErrorCode{Code: "YOU_ARE_NOT_ALLOWED_TO_CREATE_A_ROLE", Message: "You are not allowed to create a role"}
	CodeYouAreNotAllowedToUpdateARole                                 = authcore.ErrorCode{Code: "YOU_ARE_NOT_ALLOWED_TO_UPDATE_A_ROLE", Message: "You are not allowed to update a role"}
	CodeYouAreNotAllowedToDeleteARole                                 = authcore.ErrorCode{Code: "YOU_ARE_NOT_ALLOWED_TO_DELETE_A_ROLE", Message: "You are not allowed to delete a role"}
	CodeYouAreNotAllowedToReadARole                                   = authcore.ErrorCode{Code: "YOU_ARE_NOT_ALLOWED_TO_READ_A_ROLE", Message: "You are not allowed to read a role"}
	CodeYouAreNotAllowedToListARole                                   = authcore.ErrorCode{Code: "YOU_ARE_NOT_ALLOWED_TO_LIST_A_ROLE", Message: "You are not allowed to list a role"}
	CodeYouAreNotAllowedToGetARole                                    = authcore.ErrorCode{Code: "YOU_ARE_NOT_ALLOWED_TO_GET_A_ROLE", Message: "You are not allowed to get a role"}
	CodeTooManyRoles                                                  = authcore.ErrorCode{Code: "TOO_MANY_ROLES", Message: "This organization has too many roles"}
	CodeInvalidResource                                               = authcore.ErrorCode{Code: "INVALID_RESOURCE", Message: "The provided permission includes an invalid resource"}
	CodeRoleNameIsAlreadyTaken                                        = authcore.ErrorCode{Code: "ROLE_NAME_IS_ALREADY_TAKEN", Message: "That role name is already taken"}
	CodeCannotDeleteAPreDefinedRole                                   = authcore.ErrorCode{Code: "CANNOT_DELETE_A_PRE_DEFINED_ROLE", Message: "Cannot delete a pre-defined role"}
	CodeRoleIsAssignedToMembers                                       = authcore.ErrorCode{Code: "ROLE_IS_ASSIGNED_TO_MEMBERS", Message: "Cannot delete a role that is assigned to members. Please reassign the members to a different role first"}
	CodeInvalidTeamId                                                 = authcore.ErrorCode{Code: "INVALID_TEAM_ID", Message: "Team id contains a reserved character"}
	CodeYouAreNotAllowedToListInvitations                             = authcore.ErrorCode{Code: "YOU_ARE_NOT_ALLOWED_TO_LIST_INVITATIONS", Message: "You are not allowed to list invitations for this organization"}
	CodeOrganizationDeletionDisabled                                  = authcore.ErrorCode{Code: "ORGANIZATION_DELETION_DISABLED", Message: "Organization deletion is disabled"}
)

// errorCodes is every code above, declared with Registrar.Errors.
var errorCodes = []authcore.ErrorCode{
	CodeYouAreNotAllowedToCreateANewOrganization,
	CodeYouHaveReachedTheMaximumNumberOfOrganizations,
	CodeOrganizationAlreadyExists,
	CodeOrganizationSlugAlreadyTaken,
	CodeOrganizationNotFound,
	CodeUserIsNotAMemberOfTheOrganization,
	CodeYouAreNotAllowedToUpdateThisOrganization,
	CodeYouAreNotAllowedToDeleteThisOrganization,
	CodeNoActiveOrganization,
	CodeUserIsAlreadyAMemberOfThisOrganization,
	CodeMemberNotFound,
	CodeRoleNotFound,
	CodeYouAreNotAllowedToCreateANewTeam,
	CodeTeamAlreadyExists,
	CodeTeamNotFound,
	CodeYouCannotLeaveTheOrganizationAsTheOnlyOwner,
	CodeYouCannotLeaveTheOrganizationWithoutAnOwner,
	CodeYouAreNotAllowedToDeleteThisMember,
	CodeYouAreNotAllowedToInviteUsersToThisOrganization,
	CodeUserIsAlreadyInvitedToThisOrganization,
	CodeInvitationNotFound,
	CodeYouAreNotTheRecipientOfTheInvitation,
	CodeEmailVerificationRequiredBeforeAcceptingOrRejectingInvitation,
	CodeEmailVerificationRequiredForInvitation,
	CodeYouAreNotAllowedToCancelThisInvitation,
	CodeInviterIsNoLongerAMemberOfTheOrganization,
	CodeYouAreNotAllowedToInviteUserWithThisRole,
	CodeFailedToRetrieveInvitation,
	CodeYouHaveReachedTheMaximumNumberOfTeams,
	CodeUnableToRemoveLastTeam,
	CodeYouAreNotAllowedToUpdateThisMember,
	CodeOrganizationMembershipLimitReached,
	CodeYouAreNotAllowedToCreateTeamsInThisOrganization,
	CodeYouAreNotAllowedToDeleteTeamsInThisOrganization,
	CodeYouAreNotAllowedToUpdateThisTeam,
	CodeYouAreNotAllowedToDeleteThisTeam,
	CodeInvitationLimitReached,
	CodeTeamMemberLimitReached,
	CodeUserIsNotAMemberOfTheTeam,
	CodeYouCanNotAccessTheMembersOfThisTeam,
	CodeYouDoNotHaveAnActiveTeam,
	CodeYouAreNotAllowedToCreateANewTeamMember,
	CodeYouAreNotAllowedToRemoveATeamMember,
	CodeYouAreNotAllowedToAccessThisOrganization,
	CodeYouAreNotAMemberOfThisOrganization,
	CodeMissingAcInstance,
	CodeYouMustBeInAnOrganizationToCreateARole,
	CodeYouAreNotAllowedToCreateARole,
	CodeYouAreNotAllowedToUpdateARole,
	CodeYouAreNotAllowedToDeleteARole,
	CodeYouAreNotAllowedToReadARole,
	CodeYouAreNotAllowedToListARole,
	CodeYouAreNotAllowedToGetARole,
	CodeTooManyRoles,
	CodeInvalidResource,
	CodeRoleNameIsAlreadyTaken,
	CodeCannotDeleteAPreDefinedRole,
	CodeRoleIsAssignedToMembers,
	CodeInvalidTeamId,
	CodeYouAreNotAllowedToListInvitations,
	CodeOrganizationDeletionDisabled,
}
