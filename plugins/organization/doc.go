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
// (invitation_url with {id} replaced; default <base_url>/accept-invitation/{id}),
// ExpiresIn, Vars{inviter, inviterEmail, organization, role}}.
//
// # Schema
//
// organization (name, slug unique, logo, metadata — a JSON object stored as a string,
// answered parsed — createdAt); member (organizationId → organization cascade, userId →
// user cascade, role default member, createdAt; unique per organization and user); invitation
// (organizationId cascade, email indexed, role, teamId, status pending|accepted|rejected|
// canceled, expiresAt, inviterId → user cascade, createdAt); team (name, organizationId
// cascade, createdAt, updatedAt, memberCount — hidden seat counter); teamMember (teamId → team cascade, userId → user cascade,
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
//	    invitation_url <url with {id}>             # default <base_url>/accept-invitation/{id}
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
package organization
