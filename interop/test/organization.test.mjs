// organizationClient against the real binary: create an organization, invite a member who
// accepts, change roles, check permissions, teams — and what the gateway tells the upstream
// about the organization (X-Auth-Org-*), including the per-request tenant rule on
// /orgs/<slug>/* (integration/interop_test.go configures it).
import assert from "node:assert/strict";
import { test } from "node:test";
import { createAuthClient } from "better-auth/client";
import { organizationClient } from "better-auth/client/plugins";

import { BASE_URL, CookieJar, PROTECTED, TEST_TIMEOUT_MS, fails, jarFetch, message, ok, parseEcho, uniqueEmail, uniquePassword } from "../lib/helpers.mjs";

async function member(label) {
  const jar = new CookieJar();
  const fetch = jarFetch(jar);
  const client = createAuthClient({
    baseURL: BASE_URL,
    plugins: [organizationClient({ teams: { enabled: true } })],
    fetchOptions: { customFetchImpl: fetch },
  });
  const email = uniqueEmail(label);
  const res = ok(await client.signUp.email({ name: label, email, password: uniquePassword() }), `sign-up ${label}`);
  return { client, fetch, email, id: res.user.id };
}

async function echo(who, url = PROTECTED) {
  const res = await who.fetch(url);
  return { status: res.status, echo: res.status === 200 ? parseEcho(await res.text()) : null };
}

test("organization: create, invite, accept, roles, permissions, teams, gateway headers", { timeout: TEST_TIMEOUT_MS }, async () => {
  const alice = await member("org-alice");
  const bob = await member("org-bob");
  const carol = await member("org-carol");
  const slug = `acme-${Date.now().toString(36)}`;

  assert.deepEqual(ok(await alice.client.organization.checkSlug({ slug }), "check-slug"), { status: true });
  const org = ok(await alice.client.organization.create({ name: "Acme", slug }), "create");
  assert.equal(org.slug, slug);
  assert.equal(org.members.length, 1);
  assert.equal(org.members[0].role, "owner");
  fails(await alice.client.organization.checkSlug({ slug }), 400, "ORGANIZATION_SLUG_ALREADY_TAKEN", "slug taken");

  // The new organization is active: the upstream is told which one, and alice's role in it.
  let { echo: e } = await echo(alice);
  assert.deepEqual([e.org, e.orgslug, e.orgrole], [org.id, slug, "owner"]);

  const inv = ok(await alice.client.organization.inviteMember({ email: bob.email, role: "member" }), "invite");
  assert.equal(inv.status, "pending");
  // Only the invited address may accept.
  fails(await carol.client.organization.acceptInvitation({ invitationId: inv.id }), 403, "YOU_ARE_NOT_THE_RECIPIENT_OF_THE_INVITATION", "carol accepts bob's invitation");
  // The invitation email links to the invitation; bob verifies his address (listing his
  // invitations needs a verified email) and finds it.
  const mail = await message(bob.email, "organization-invitation");
  assert.ok(mail.data.url.includes(inv.id), `invitation link ${mail.data.url}`);
  ok(await bob.client.sendVerificationEmail({ email: bob.email }), "send verification email");
  const verify = await message(bob.email, "verify-email");
  const v = await bob.fetch(verify.data.url, { redirect: "manual" });
  assert.ok(v.status < 400, `verify-email answered ${v.status}`);
  const mine = ok(await bob.client.organization.listUserInvitations(), "list-user-invitations");
  assert.ok(mine.some((i) => i.id === inv.id), "bob sees his invitation");
  const accepted = ok(await bob.client.organization.acceptInvitation({ invitationId: inv.id }), "accept");
  assert.equal(accepted.member.role, "member");

  ({ echo: e } = await echo(bob));
  assert.deepEqual([e.org, e.orgslug, e.orgrole], [org.id, slug, "member"], "accepting made the organization active");

  // The tenant rule: members reach /orgs/<slug>/*, others get 403 before the upstream.
  assert.equal((await echo(bob, `${BASE_URL}/orgs/${slug}/projects`)).status, 200);
  assert.equal((await echo(carol, `${BASE_URL}/orgs/${slug}/projects`)).status, 403);

  const full = ok(await alice.client.organization.getFullOrganization(), "get-full-organization");
  assert.deepEqual(full.members.map((m) => m.user.email).sort(), [alice.email, bob.email].sort());

  // Permissions: a member cannot remove members; the owner can.
  assert.equal(ok(await bob.client.organization.hasPermission({ permissions: { member: ["delete"] } }), "bob has-permission").success, false);
  assert.equal(ok(await alice.client.organization.hasPermission({ permissions: { member: ["delete"] } }), "alice has-permission").success, true);
  const bobMember = full.members.find((m) => m.user.email === bob.email);
  const aliceMember = full.members.find((m) => m.user.email === alice.email);
  fails(await bob.client.organization.updateMemberRole({ memberId: bobMember.id, role: "owner" }), 403, "YOU_ARE_NOT_ALLOWED_TO_UPDATE_THIS_MEMBER", "bob promotes himself");
  // Better Auth answers 401 to a member lacking member:delete.
  fails(await bob.client.organization.removeMember({ memberIdOrEmail: aliceMember.id }), 401, "YOU_ARE_NOT_ALLOWED_TO_DELETE_THIS_MEMBER", "bob removes the owner");

  const promoted = ok(await alice.client.organization.updateMemberRole({ memberId: bobMember.id, role: "admin" }), "promote bob");
  assert.equal(promoted.role, "admin");
  ({ echo: e } = await echo(bob));
  assert.equal(e.orgrole, "admin", "the new role reaches the upstream at once");

  // Teams.
  const team = ok(await bob.client.organization.createTeam({ name: "Platform" }), "create-team");
  const teams = ok(await alice.client.organization.listTeams(), "list-teams");
  assert.ok(teams.some((t) => t.id === team.id));

  // Removing bob: he loses the organization at the gateway at once.
  ok(await alice.client.organization.removeMember({ memberIdOrEmail: bob.email }), "remove bob");
  ({ echo: e } = await echo(bob));
  assert.deepEqual([e.org, e.orgslug, e.orgrole], ["", "", ""], "no organization headers after removal");
  assert.equal((await echo(bob, `${BASE_URL}/orgs/${slug}/projects`)).status, 403);
  // The last owner cannot leave.
  fails(await alice.client.organization.leave({ organizationId: org.id }), 400, "YOU_CANNOT_LEAVE_THE_ORGANIZATION_AS_THE_ONLY_OWNER", "last owner leaves");
});
