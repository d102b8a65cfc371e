// Package organization is Better Auth's organization plugin (spec §7.13): organizations,
// members with roles, invitations, the session's active organization, and the
// authcore.Organizations API the gateway judges organization rules through.
package organization
