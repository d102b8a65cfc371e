// Package admin is Better Auth's admin plugin (ID "admin", Caddy module
// gatehouse.plugins.admin): roles with access-control statements, user management, bans and
// impersonation (spec §7.12).
//
// # Roles and permissions
//
// Statements: user: create, list, set-role, ban, impersonate, impersonate-admins, delete,
// set-password, set-email, get, update; session: list, revoke, delete; and Gatehouse's
// audit: list. Built-in roles: admin (everything except impersonate-admins) and user
// (nothing). Custom roles from the
// configuration are added (a custom role named admin or user replaces the built-in one); they
// may name other resources too, for /admin/has-permission. A user's role field is a comma
// list; a request is allowed when any one role grants every requested action. An empty role
// counts as default_role.
//
// Every admin route needs an administrator — a user listed in admin_user_ids (who holds every
// permission) or holding one of admin_roles — whose roles grant the route's permission
// (Gatehouse is stricter than Better Auth here: a custom role that is not in admin_roles
// never passes an admin route, even with the permission). The session is read from storage,
// so a role change or ban counts at once. No session: 401 with an empty body. Otherwise 403
// with the route's YOU_ARE_NOT_ALLOWED_TO_... code and no state change.
//
// # Routes
//
//	POST /admin/set-role            user:set-role      {userId, role: string|string[]} → {user}
//	GET  /admin/get-user?id=        user:get           → user
//	POST /admin/create-user         user:create        {email, name, password?, role?, data?} → {user}
//	                                (+set-role for role/data.role, +ban for data.banned/banReason/banExpires)
//	POST /admin/update-user         user:update        {userId, data} → user
//	                                (+set-role, +ban, +set-email for email/emailVerified)
//	GET  /admin/list-users          user:list          searchValue, searchField (email|name),
//	                                searchOperator (contains|starts_with|ends_with), limit, offset,
//	                                sortBy, sortDirection, filterField, filterValue, filterOperator
//	                                → {users, total, limit?, offset?}
//	POST /admin/list-user-sessions  session:list       {userId} → {sessions} (tokens are handles, D3)
//	POST /admin/ban-user            user:ban           {userId, banReason?, banExpiresIn? (s)} → {user}
//	POST /admin/unban-user          user:ban           {userId} → {user}
//	POST /admin/impersonate-user    user:impersonate   {userId} → {session, user}
//	POST /admin/stop-impersonating  an impersonation session → {session, user}
//	POST /admin/revoke-user-session session:revoke     {sessionToken (token or handle)} → {success}
//	POST /admin/revoke-user-sessions session:revoke    {userId} → {success}
//	POST /admin/remove-user         user:delete        {userId} → {success}
//	POST /admin/set-user-password   user:set-password  {userId, newPassword} → {status}
//	POST /admin/has-permission      a session          {permissions (or permission)} → {error: null, success}
//	GET  /admin/list-audit-events   audit:list         userId (actor or subject), type, limit (1–1000,
//	                                default 100), offset, sortDirection (desc|asc, default desc)
//	                                → {events, total, limit, offset}; 404 AUDIT_EVENTS_NOT_STORED
//	                                unless audit storage is on; bad values 400 VALIDATION_ERROR
//
// Every mutating route records an admin.* audit event (authcore's audit log) naming the
// administrator as actor and the target user as subject, refusals included.
//
// has-permission over HTTP judges the caller's own session (userId and role in the body are
// ignored, as in Better Auth when a session is present); Plugin.HasPermission (published
// with Registrar.Provide) judges any user or role in process.
//
// # Bans
//
// ban-user stores banned, banReason (default_ban_reason, "No reason") and banExpires
// (banExpiresIn seconds, else default_ban_expires_in, else never) and deletes every session of
// the user. A session gate refuses every sign-in of a banned user — whatever the method, and
// whether or not SignInOptions.MultiFactor is set — with 403 {"code":"BANNED_USER","message":
// banned_user_message} (Better Auth's message does not include the reason). A ban whose
// banExpires has passed is lifted at the next sign-in. Impersonating a banned user is refused
// the same way. update-user with data.banned=true also ends the user's sessions; banning
// yourself is 400 YOU_CANNOT_BAN_YOURSELF.
//
// # Impersonation
//
// impersonate-user creates a session for the target with impersonatedBy = the admin's id,
// lasting impersonation_session_duration (1h) and never extended by /get-session, as a
// "don't remember" browser-session cookie; the admin's own session token is kept in the
// signed cookie <prefix>.admin_session. Admin targets (a role in admin_roles, compared
// without regard to case and spaces in the role list, or an id in admin_user_ids) are
// refused with 403 YOU_CANNOT_IMPERSONATE_ADMINS unless allow_impersonating_admins or the
// caller's role grants user:impersonate-admins. An impersonation session never starts
// another (403 YOU_ARE_NOT_ALLOWED_TO_IMPERSONATE_USERS) and has only the target's rights.
// stop-impersonating deletes the impersonation session, checks that admin_session is
// validly signed and names a live session of the impersonating admin (else 403 "Failed to
// find admin session" — Better Auth answers 500), rotates the admin's session (the kept
// token is revoked and a new one issued) and expires admin_session. Without impersonation it
// is 400 "You are not impersonating anyone". /list-sessions hides impersonation sessions
// from the impersonated user.
//
// # Schema
//
// user: role (core, server-only), banned (boolean, default false), banReason (string),
// banExpires (date) — all server-only (input:false) and returned. session: impersonatedBy
// (string, server-only).
//
// # Errors
//
// FAILED_TO_CREATE_USER, USER_ALREADY_EXISTS, USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL,
// YOU_CANNOT_BAN_YOURSELF, YOU_ARE_NOT_ALLOWED_TO_{CHANGE_USERS_ROLE, CREATE_USERS,
// LIST_USERS, LIST_USERS_SESSIONS, BAN_USERS, IMPERSONATE_USERS, REVOKE_USERS_SESSIONS,
// DELETE_USERS, SET_USERS_PASSWORD, GET_USER, UPDATE_USERS, SET_NON_EXISTENT_VALUE,
// SET_USERS_EMAIL}, BANNED_USER, NO_DATA_TO_UPDATE, YOU_CANNOT_REMOVE_YOURSELF,
// YOU_CANNOT_IMPERSONATE_ADMINS, INVALID_ROLE_TYPE, PASSWORD_CANNOT_BE_UPDATED_VIA_UPDATE_USER
// (Better Auth's messages); plus USER_NOT_FOUND (404), INVALID_EMAIL, PASSWORD_TOO_SHORT /
// TOO_LONG / TOO_COMMON, FIELD_NOT_ALLOWED (data.id/createdAt/updatedAt) and VALIDATION_ERROR.
// Roles are checked against the known roles only when custom roles are configured (as
// Better Auth does). No rate-limit rules (Better Auth declares none for this plugin).
//
// # Options (Caddyfile)
//
//	admin {
//	    default_role user                       # role of users with an empty role
//	    admin_roles admin                       # roles that make a user an administrator
//	    admin_user_ids <id...>                  # administrators with every permission
//	    impersonation_session_duration 1h
//	    allow_impersonating_admins
//	    default_ban_reason "No reason"
//	    default_ban_expires_in <duration>       # default: bans never expire
//	    banned_user_message "<text>"
//	    roles {
//	        <role> [<resource> <action...>]     # one line per role and resource
//	    }
//	}
package admin
