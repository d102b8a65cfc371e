package admin

import "github.com/gatehouse-auth/gatehouse/authcore"

// Better Auth's ADMIN_ERROR_CODES, with their exact messages.
var (
	CodeFailedToCreateUser               = authcore.CodeFailedToCreateUser
	CodeUserAlreadyExists                = authcore.CodeUserAlreadyExists
	CodeUserAlreadyExistsUseAnotherEmail = authcore.CodeUserAlreadyExistsUseAnotherEmail
	CodeYouCannotBanYourself             = authcore.ErrorCode{Code: "YOU_CANNOT_BAN_YOURSELF", Message: "You cannot ban yourself"}
	CodeNotAllowedToChangeUsersRole      = authcore.ErrorCode{Code: "YOU_ARE_NOT_ALLOWED_TO_CHANGE_USERS_ROLE", Message: "You are not allowed to change users role"}
	CodeNotAllowedToCreateUsers          = authcore.ErrorCode{Code: "YOU_ARE_NOT_ALLOWED_TO_CREATE_USERS", Message: "You are not allowed to create users"}
	CodeNotAllowedToListUsers            = authcore.ErrorCode{Code: "YOU_ARE_NOT_ALLOWED_TO_LIST_USERS", Message: "You are not allowed to list users"}
	CodeNotAllowedToListUsersSessions    = authcore.ErrorCode{Code: "YOU_ARE_NOT_ALLOWED_TO_LIST_USERS_SESSIONS", Message: "You are not allowed to list users sessions"}
	CodeNotAllowedToBanUsers             = authcore.ErrorCode{Code: "YOU_ARE_NOT_ALLOWED_TO_BAN_USERS", Message: "You are not allowed to ban users"}
	CodeNotAllowedToImpersonateUsers     = authcore.ErrorCode{Code: "YOU_ARE_NOT_ALLOWED_TO_IMPERSONATE_USERS", Message: "You are not allowed to impersonate users"}
	CodeNotAllowedToRevokeUsersSessions  = authcore.ErrorCode{Code: "YOU_ARE_NOT_ALLOWED_TO_REVOKE_USERS_SESSIONS", Message: "You are not allowed to revoke users sessions"}
	CodeNotAllowedToDeleteUsers          = authcore.ErrorCode{Code: "YOU_ARE_NOT_ALLOWED_TO_DELETE_USERS", Message: "You are not allowed to delete users"}
	CodeNotAllowedToSetUsersPassword     = authcore.ErrorCode{Code: "YOU_ARE_NOT_ALLOWED_TO_SET_USERS_PASSWORD", Message: "You are not allowed to set users password"}
	CodeBannedUser                       = authcore.ErrorCode{Code: "BANNED_USER", Message: "You have been banned from this application"}
	CodeNotAllowedToGetUser              = authcore.ErrorCode{Code: "YOU_ARE_NOT_ALLOWED_TO_GET_USER", Message: "You are not allowed to get user"}
	CodeNoDataToUpdate                   = authcore.ErrorCode{Code: "NO_DATA_TO_UPDATE", Message: "No data to update"}
	CodeNotAllowedToUpdateUsers          = authcore.ErrorCode{Code: "YOU_ARE_NOT_ALLOWED_TO_UPDATE_USERS", Message: "You are not allowed to update users"}
	CodeYouCannotRemoveYourself          = authcore.ErrorCode{Code: "YOU_CANNOT_REMOVE_YOURSELF", Message: "You cannot remove yourself"}
	CodeNotAllowedToSetNonExistentValue  = authcore.ErrorCode{Code: "YOU_ARE_NOT_ALLOWED_TO_SET_NON_EXISTENT_VALUE", Message: "You are not allowed to set a non-existent role value"}
	CodeYouCannotImpersonateAdmins       = authcore.ErrorCode{Code: "YOU_CANNOT_IMPERSONATE_ADMINS", Message: "You cannot impersonate admins"}
	CodeInvalidRoleType                  = authcore.ErrorCode{Code: "INVALID_ROLE_TYPE", Message: "Invalid role type"}
	CodeNotAllowedToSetUsersEmail        = authcore.ErrorCode{Code: "YOU_ARE_NOT_ALLOWED_TO_SET_USERS_EMAIL", Message: "You are not allowed to update users email"}
	CodePasswordCannotBeUpdatedViaUpdate = authcore.ErrorCode{Code: "PASSWORD_CANNOT_BE_UPDATED_VIA_UPDATE_USER", Message: "Password cannot be updated through update-user. Use the set-user-password endpoint instead"}
)

// Gatehouse's own codes (the audit-log listing has no Better Auth counterpart).
var (
	CodeNotAllowedToListAuditEvents = authcore.ErrorCode{Code: "YOU_ARE_NOT_ALLOWED_TO_LIST_AUDIT_EVENTS", Message: "You are not allowed to list audit events"}
	CodeAuditEventsNotStored        = authcore.ErrorCode{Code: "AUDIT_EVENTS_NOT_STORED", Message: "Audit events are not stored: enable audit { store } in the gatehouse configuration"}
)

// Bare-message errors (Better Auth answers them without a code).
const (
	MsgNotImpersonating     = "You are not impersonating anyone"
	MsgAdminSessionNotFound = "Failed to find admin session"
	MsgNoPermissions        = "invalid permission check. no permission(s) were passed."
)

var errorCodes = []authcore.ErrorCode{
	CodeFailedToCreateUser, CodeUserAlreadyExists, CodeUserAlreadyExistsUseAnotherEmail,
	CodeYouCannotBanYourself, CodeNotAllowedToChangeUsersRole, CodeNotAllowedToCreateUsers,
	CodeNotAllowedToListUsers, CodeNotAllowedToListUsersSessions, CodeNotAllowedToBanUsers,
	CodeNotAllowedToImpersonateUsers, CodeNotAllowedToRevokeUsersSessions, CodeNotAllowedToDeleteUsers,
	CodeNotAllowedToSetUsersPassword, CodeBannedUser, CodeNotAllowedToGetUser, CodeNoDataToUpdate,
	CodeNotAllowedToUpdateUsers, CodeYouCannotRemoveYourself, CodeNotAllowedToSetNonExistentValue,
	CodeYouCannotImpersonateAdmins, CodeInvalidRoleType, CodeNotAllowedToSetUsersEmail,
	CodePasswordCannotBeUpdatedViaUpdate, CodeNotAllowedToListAuditEvents, CodeAuditEventsNotStored,
}
