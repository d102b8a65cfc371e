// Package organization is Better Auth's organization plugin (spec §7.13): organizations,
// members with roles, invitations, the session's active organization, and the
// authcore.Organizations API the gateway judges organization rules through.
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
