// Package organization is Better Auth's organization plugin (spec §7.13): organizations,
// members with roles, invitations, the session's active organization, and the
// authcore.Organizations API through which the gateway and other plugins judge memberships
// and permissions. Plugin ID "organization"; Caddy module gatehouse.plugins.organization.
// Wire shapes follow better-auth 1.7.25's organizationClient.
//
// # Routes
//
// All require a session (401 UNAUTHORIZED otherwise). "Target organization" means the
// organizationId (or, where accepted, organizationSlug) of the request, else the session's
// activeOrganizationId.
//
//	POST /organization/create               {name, slug, logo?, metadata?, keepCurrentActiveOrganization?}
//	    → Organization + members:[Member]; the creator gets creator_role; the new
//	    organization becomes active (session cookie re-issued) unless keepCurrentActiveOrganization.
//	    userId (Better Auth's server-only creator override) is refused: 400 FIELD_NOT_ALLOWED.
//	POST /organization/check-slug           {slug} → {"status":true} | 400 ORGANIZATION_SLUG_ALREADY_TAKEN
//	POST /organization/update               {data{name?,slug?,logo?,metadata?}, organizationId?} (organization:update)
//	POST /organization/delete               {organizationId} (organization:delete) → the deleted Organization;
//	    members, invitations, teams and stored roles go with it; no session keeps it active.
//	POST /organization/set-active           {organizationId? (null unsets), organizationSlug?} → Organization | null;
//	    only among the caller's memberships; re-issues the session cookie (and cookie cache).
//	GET  /organization/get-organization     ?organizationId|organizationSlug → Organization | null
//	GET  /organization/get-full-organization ?organizationId|organizationSlug&membersLimit
//	    → Organization + members (each with user{id,name,email,image}) + invitations (+ teams) | null;
//	    invitations are those list-invitations would show the caller ([] otherwise)
//	GET  /organization/list                 → the caller's organizations
//	POST /organization/invite-member        {email, role, organizationId?, resend?, teamId?} (invitation:create) → Invitation
//	POST /organization/accept-invitation    {invitationId} → {invitation, member}; sets the organization active
//	POST /organization/reject-invitation    {invitationId} → {invitation, member:null}
//	POST /organization/cancel-invitation    {invitationId} (invitation:cancel) → Invitation (status canceled)
//	GET  /organization/get-invitation       ?id → Invitation + organizationName, organizationSlug, inviterEmail
//	GET  /organization/list-invitations     ?organizationId → the organization's invitations (invitation:create,
//	    else 403 YOU_ARE_NOT_ALLOWED_TO_LIST_INVITATIONS; invitations granting owner only to owners)
//	GET  /organization/list-user-invitations → pending invitations to the caller's verified email
//	POST /organization/remove-member        {memberIdOrEmail, organizationId?} (member:delete) → {member}
//	POST /organization/update-member-role   {memberId, role, organizationId?} (member:update) → Member
//	POST /organization/leave                {organizationId} → Member
//	GET  /organization/get-active-member    → Member + user
//	GET  /organization/get-active-member-role ?userId&organizationId|organizationSlug → {role}
//	GET  /organization/list-members         ?limit&offset&sortBy&sortDirection&filterField&filterValue&filterOperator
//	    &organizationId|organizationSlug → {members (each with user), total}
//	POST /organization/has-permission       {permissions|permission, organizationId?} → {error:null, success}
//
// Teams (teams.enabled) and dynamic access control (dynamic_access_control.enabled) add
// their routes from routes_teams.go and routes_roles.go.
//
// # Roles and permissions
//
// Statements: organization [update delete], member [create update delete], invitation
// [create cancel], team [create update delete], ac [create read update delete]. Built-in
// roles: owner (the creator role) holds all of them; admin all but organization:delete;
// member only ac:read. roles in the configuration add roles or replace admin/member; the
// owner role cannot be redefined. A member's role is a comma list; a check passes when any
// one of the roles grants every requested action. Role names are exact: a role given by a
// client must be exactly a configured (or, with dynamic access control, stored) role —
// "OWNER", " owner", "owner\x00", unknown names and empty list entries are 400
// ROLE_NOT_FOUND.
//
// Owner rules (ORG-01): only an owner grants the owner role, changes an owner's role or
// removes an owner; nobody invites with, or assigns (to others or themselves), a role whose
// permissions they do not all hold themselves (403 YOU_ARE_NOT_ALLOWED_TO_INVITE_USER_WITH_THIS_ROLE /
// YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_MEMBER / YOU_ARE_NOT_ALLOWED_TO_DELETE_THIS_MEMBER); the
// last owner can neither leave nor be removed (400
// YOU_CANNOT_LEAVE_THE_ORGANIZATION_AS_THE_ONLY_OWNER) nor demoted (400
// YOU_CANNOT_LEAVE_THE_ORGANIZATION_WITHOUT_AN_OWNER) — checked in the same transaction
// as the write.
//
// Cross-tenant (ORG-02): a caller who is not a member of the target organization is refused
// with 403 USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION (update, delete, invite, set-active,
// get-organization, get-full-organization) or 403 YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION
// (list-members, list-invitations, get-active-member-role); has-permission answers 401,
// remove-member / update-member-role / cancel-invitation 400 MEMBER_NOT_FOUND, as Better
// Auth does. (Better Auth answers 400 on update, delete and invite; Gatehouse answers 403
// there, as security case ORG-02 asks.)
//
// Invitations are bound to their recipient: only a session whose email equals the
// invitation's (without regard to case) may get, accept or reject it, and with
// require_email_verification_on_invitation that email must be verified. Expired, canceled,
// accepted and rejected invitations answer 400 INVITATION_NOT_FOUND. Acceptance marks the
// invitation and creates the member in one transaction, guarded by the invitation still
// being pending and a unique (organizationId, userId) member: concurrent accepts make one
// member. The invitation email is Message{Type: "organization-invitation", To, Data.URL
// (invitation_url with {id} replaced; default <base_url>/accept-invitation/{id}, or
// <base_url><base_path>/ui/accept-invitation?id={id} — the hosted portal's landing page —
// when the portal plugin is enabled),
// ExpiresIn, Vars{inviter, inviterEmail, organization, role}}.
//
// # Schema
//
// organization (name, slug unique, logo, metadata — a JSON object stored as a string,
// answered parsed — createdAt); member (organizationId → organization cascade, userId →
// user cascade, role default member, createdAt; unique per organization and user); invitation
// (organizationId cascade, email indexed, role, teamId, status pending|accepted|rejected|
// canceled, expiresAt, inviterId → user cascade, createdAt); team (name, organizationId
// cascade, createdAt, updatedAt); teamMember (teamId → team cascade, userId → user cascade,
// createdAt; unique per team and user); organizationRole (organizationId cascade, role,
// permission — JSON string, createdAt, updatedAt; unique per organization and role).
// session gains activeOrganizationId and activeTeamId (server-only; set null when their
// organization or team is deleted).
//
// # Go API
//
// (*Plugin) implements authcore.Organizations (Engine.Organizations()): Membership answers
// from a cache of at most 4096 entries kept at most 5 s and emptied by every write of this
// plugin that touches members, roles, slugs or organizations; Allows judges built-in,
// configured and stored roles. CreateOrganization and AddMember are the server-side forms
// of create (no creation switch or limit) and Better Auth's addMember (membership_limit
// applies). Organization hooks are func fields (json:"-"): Before/After CreateOrganization,
// UpdateOrganization, DeleteOrganization, AddMember (also on create and accept),
// RemoveMember, UpdateMemberRole, CreateInvitation, AcceptInvitation, RejectInvitation,
// CancelInvitation, and the team hooks the teams routes run. A before hook's error refuses
// the request with nothing stored (an *authcore.Error reaches the client as is; any other
// error is a 500); after hooks' errors are logged.
//
// # Options (Caddyfile)
//
//	organization {
//	    disallow_user_to_create_organization       # default: users may create organizations
//	    organization_limit <n>                     # organizations per user; default 0 = unlimited
//	    creator_role <role>                        # default owner
//	    membership_limit <n>                       # members per organization; default 100
//	    invitation_limit <n>                       # pending invitations per organization; default 100
//	    invitation_expires_in <duration>           # default 48h
//	    invitation_url <url with {id}>             # default <base_url>/accept-invitation/{id};
//	                                               # with portal: <base_url><base_path>/ui/accept-invitation?id={id}
//	    require_email_verification_on_invitation   # default off
//	    cancel_pending_invitations_on_re_invite    # default off (re-invite is 400 USER_IS_ALREADY_INVITED…)
//	    disable_organization_deletion              # delete answers 404 ORGANIZATION_DELETION_DISABLED
//	    roles {
//	        <role> [<resource>:<action>...]        # repeatable per role
//	    }
//	    teams {
//	        enabled
//	        maximum_teams <n>                      # default 0 = unlimited
//	        maximum_members_per_team <n>           # default 0 = unlimited
//	        allow_removing_all_teams
//	    }
//	    dynamic_access_control {
//	        enabled
//	        maximum_roles_per_organization <n>     # default 0 = unlimited
//	    }
//	}
//
// # Errors
//
// Every ORGANIZATION_ERROR_CODES entry of Better Auth (errors.go, exact messages) plus
// ORGANIZATION_DELETION_DISABLED. No rate-limit rules of its own (Better Auth declares
// none).
//
// # Teams
//
// With teams.enabled (Caddyfile: a teams block with enabled, maximum_teams,
// maximum_members_per_team, allow_removing_all_teams) nine routes are added, each needing a
// session; the organization is organizationId, else the session's active organization
// (400 NO_ACTIVE_ORGANIZATION without either):
//
//   - POST /organization/create-team {name, organizationId?} → Team. Caller must be a
//     member (403 YOU_ARE_NOT_ALLOWED_TO_INVITE_USERS_TO_THIS_ORGANIZATION, Better Auth's
//     code) holding team:create (403 YOU_ARE_NOT_ALLOWED_TO_CREATE_TEAMS_IN_THIS_ORGANIZATION);
//     maximum_teams (0 = unlimited) → 400 YOU_HAVE_REACHED_THE_MAXIMUM_NUMBER_OF_TEAMS.
//     Names are 1–256 characters.
//   - POST /organization/remove-team {teamId, organizationId?} → {"message": "Team removed
//     successfully."}. Not a member, or the team is the caller's active team: 403
//     YOU_ARE_NOT_ALLOWED_TO_DELETE_THIS_TEAM; team:delete (403
//     YOU_ARE_NOT_ALLOWED_TO_DELETE_TEAMS_IN_THIS_ORGANIZATION); a team of another
//     organization is 400 TEAM_NOT_FOUND; the last team is 400 UNABLE_TO_REMOVE_LAST_TEAM
//     unless allow_removing_all_teams. Its team members go with it, sessions having it active
//     lose it, and pending invitations drop it from their team lists.
//   - POST /organization/update-team {teamId, data{name?, organizationId?}} → Team; the
//     organization is data.organizationId (as Better Auth reads it), then organizationId, then
//     the active one; member with team:update, else 403 YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_TEAM.
//   - GET /organization/list-teams ?organizationId → Team[]; non-members get 403
//     YOU_ARE_NOT_ALLOWED_TO_ACCESS_THIS_ORGANIZATION.
//   - POST /organization/set-active-team {teamId: string|null} → Team or null. null unsets
//     the team (the organization stays); an absent teamId re-checks the current one. The team
//     must be in the active organization (400 TEAM_NOT_FOUND) and the caller a member of both
//     team and organization (403 USER_IS_NOT_A_MEMBER_OF_THE_TEAM). Re-issues the session
//     cookie.
//   - GET /organization/list-user-teams ?userId&organizationId → Team[]: the caller's teams in
//     every organization they still belong to; organizationId scopes it (403
//     YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION); another userId needs member:update (403
//     YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_MEMBER) and a target in the organization (400
//     USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION).
//   - GET /organization/list-team-members ?teamId (default: the active team, else 400
//     YOU_DO_NOT_HAVE_AN_ACTIVE_TEAM) → TeamMember[]; only members of the team who belong to its
//     organization (400 USER_IS_NOT_A_MEMBER_OF_THE_TEAM); unknown team 400 TEAM_NOT_FOUND.
//   - POST /organization/add-team-member {teamId, userId, organizationId?} → TeamMember (the
//     existing one when already there). Caller a member (400
//     USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION) with member:update (403
//     YOU_ARE_NOT_ALLOWED_TO_CREATE_A_NEW_TEAM_MEMBER); target a member of the organization
//     (400 USER_IS_NOT_A_MEMBER_OF_THE_ORGANIZATION); team in it (400 TEAM_NOT_FOUND);
//     maximum_members_per_team (0 = unlimited) → 403 TEAM_MEMBER_LIMIT_REACHED.
//   - POST /organization/remove-team-member {teamId, userId, organizationId?} →
//     {"message": "Team member removed successfully."}; member:delete (403
//     YOU_ARE_NOT_ALLOWED_TO_REMOVE_A_TEAM_MEMBER); not in the team 400
//     USER_IS_NOT_A_MEMBER_OF_THE_TEAM. The removed user's sessions lose that active team.
//
// Limits (teams per organization, members per team, the last team) are checked again inside
// the storage transaction that writes, so concurrent requests cannot pass them. Hooks:
// Before/AfterCreateTeam (Team: name and organizationId before, the stored team after; User:
// the caller; Organization), Before/AfterUpdateTeam (Team: the team with the changes
// applied, then as stored), Before/AfterDeleteTeam (Team), Before/AfterAddTeamMember and
// Before/AfterRemoveTeamMember (TeamMember, Team, User: the user added or removed,
// Organization). When a member is removed or leaves, their team memberships in that
// organization go too; an invitation's teamId list adds the accepting user to those teams
// (all or nothing, same limits); get-full-organization lists the teams.
//
// # Dynamic access control
//
// With dynamic_access_control.enabled (Caddyfile: a dynamic_access_control block with enabled,
// maximum_roles_per_organization) roles can be stored per organization in organizationRole
// and count in every permission check (has-permission, the routes, the gateway's
// Organizations.Allows) from the moment they are written. Five routes, each needing a session;
// the organization is organizationId, else the active one:
//
//   - POST /organization/create-role {role, permission{resource: [actions]}, organizationId?}
//     → {"success": true, "roleData", "statements"}. No organization: 400
//     YOU_MUST_BE_IN_AN_ORGANIZATION_TO_CREATE_A_ROLE. The name is lower-cased; a built-in or
//     configured role's name, or a stored one's, is 400 ROLE_NAME_IS_ALREADY_TAKEN; commas and
//     whitespace are refused (400 VALIDATION_ERROR). Non-members get 403
//     YOU_ARE_NOT_A_MEMBER_OF_THIS_ORGANIZATION; ac:create is needed (403
//     YOU_ARE_NOT_ALLOWED_TO_CREATE_A_ROLE); maximum_roles_per_organization (0 = unlimited) →
//     400 TOO_MANY_ROLES; a resource or action outside the known statements (the defaults
//     plus whatever configured roles use) → 400 INVALID_RESOURCE; and the caller must hold
//     every granted action themselves (403 YOU_ARE_NOT_ALLOWED_TO_CREATE_A_ROLE).
//   - POST /organization/delete-role {roleName | roleId, organizationId?} → {"success": true};
//     ac:delete (403 YOU_ARE_NOT_ALLOWED_TO_DELETE_A_ROLE); built-in or configured name 400
//     CANNOT_DELETE_A_PRE_DEFINED_ROLE; unknown 400 ROLE_NOT_FOUND; still held by a member 400
//     ROLE_IS_ASSIGNED_TO_MEMBERS.
//   - GET /organization/list-roles ?organizationId → role[] (permission parsed); ac:read (403
//     YOU_ARE_NOT_ALLOWED_TO_LIST_A_ROLE).
//   - GET /organization/get-role ?roleName|roleId&organizationId → role; ac:read (403
//     YOU_ARE_NOT_ALLOWED_TO_READ_A_ROLE); unknown 400 ROLE_NOT_FOUND.
//   - POST /organization/update-role {roleName | roleId, data{permission?, roleName?},
//     organizationId?} → {"success": true, "roleData"}; ac:update (403
//     YOU_ARE_NOT_ALLOWED_TO_UPDATE_A_ROLE); new permissions are checked as on create; a new
//     name as on create. A rename also renames the role in the organization's member and
//     pending invitation role lists.
//
// A role of another organization is never found (400 ROLE_NOT_FOUND), and every write drops
// the membership cache.
package organization
