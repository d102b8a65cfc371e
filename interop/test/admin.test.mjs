// adminClient against the real binary. The Go driver creates an administrator with the CLI
// (GATEHOUSE_ADMIN_EMAIL / GATEHOUSE_ADMIN_PASSWORD): it lists users, bans one (whose
// sign-in is then refused), and impersonates another, which the gateway announces upstream.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createAuthClient } from "better-auth/client";
import { adminClient } from "better-auth/client/plugins";

import { BASE_URL, CookieJar, PROTECTED, TEST_TIMEOUT_MS, fails, jarFetch, ok, parseEcho, uniqueEmail, uniquePassword } from "../lib/helpers.mjs";

function client() {
  const jar = new CookieJar();
  const c = createAuthClient({ baseURL: BASE_URL, plugins: [adminClient()], fetchOptions: { customFetchImpl: jarFetch(jar) } });
  return { client: c, fetch: jarFetch(jar) };
}

test("admin: list, ban, impersonate", { timeout: TEST_TIMEOUT_MS }, async () => {
  const email = process.env.GATEHOUSE_ADMIN_EMAIL;
  const password = process.env.GATEHOUSE_ADMIN_PASSWORD;
  assert.ok(email && password, "GATEHOUSE_ADMIN_EMAIL / GATEHOUSE_ADMIN_PASSWORD not set");
  const root = client();
  const me = ok(await root.client.signIn.email({ email, password }), "admin sign-in");

  const victim = client();
  const vEmail = uniqueEmail("banned");
  const vPass = uniquePassword();
  const v = ok(await victim.client.signUp.email({ name: "Victim", email: vEmail, password: vPass }), "sign-up");

  // A non-admin is refused.
  fails(await victim.client.admin.listUsers({ query: { limit: 5 } }), 403, "YOU_ARE_NOT_ALLOWED_TO_LIST_USERS", "non-admin list");

  const listed = ok(await root.client.admin.listUsers({ query: { searchValue: vEmail, searchField: "email" } }), "list users");
  assert.equal(listed.users.length, 1);
  assert.equal(listed.users[0].id, v.user.id);

  ok(await root.client.admin.banUser({ userId: v.user.id, banReason: "interop" }), "ban");
  assert.equal((await victim.client.getSession()).data, null, "the ban ended the victim's session");
  fails(await client().client.signIn.email({ email: vEmail, password: vPass }), 403, "BANNED_USER", "banned sign-in");
  ok(await root.client.admin.unbanUser({ userId: v.user.id }), "unban");
  ok(await client().client.signIn.email({ email: vEmail, password: vPass }), "sign-in after unban");

  const imp = ok(await root.client.admin.impersonateUser({ userId: v.user.id }), "impersonate");
  assert.equal(imp.user.id, v.user.id);
  const res = await root.fetch(PROTECTED);
  const echo = parseEcho(await res.text());
  assert.equal(echo.id, v.user.id);
  assert.equal(echo.imp, me.user.id, "the upstream is told who is impersonating");
  ok(await root.client.admin.stopImpersonating(), "stop impersonating");
  const back = ok(await root.client.getSession(), "get-session after stop");
  assert.equal(back.user.id, me.user.id);
});
