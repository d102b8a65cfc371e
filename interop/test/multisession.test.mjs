// multiSessionClient against the real binary: two accounts in one browser, list them,
// switch the active one, revoke one.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createAuthClient } from "better-auth/client";
import { multiSessionClient } from "better-auth/client/plugins";

import { BASE_URL, CookieJar, TEST_TIMEOUT_MS, jarFetch, ok, session, uniqueEmail, uniquePassword } from "../lib/helpers.mjs";

test("multi-session: two accounts in one browser, switch, revoke", { timeout: TEST_TIMEOUT_MS }, async () => {
  const jar = new CookieJar();
  const client = createAuthClient({
    baseURL: BASE_URL,
    plugins: [multiSessionClient()],
    fetchOptions: { customFetchImpl: jarFetch(jar) },
  });
  const a = ok(await client.signUp.email({ name: "A", email: uniqueEmail("multi-a"), password: uniquePassword() }), "sign-up A");
  const b = ok(await client.signUp.email({ name: "B", email: uniqueEmail("multi-b"), password: uniquePassword() }), "sign-up B");
  assert.equal((await session(client)).user.id, b.user.id, "the last sign-in is active");

  const list = ok(await client.multiSession.listDeviceSessions(), "list");
  assert.deepEqual(list.map((s) => s.user.id).sort(), [a.user.id, b.user.id].sort());
  const entryA = list.find((s) => s.user.id === a.user.id);

  const switched = ok(await client.multiSession.setActive({ sessionToken: entryA.session.token }), "set-active");
  assert.equal(switched.user.id, a.user.id);
  assert.equal((await session(client)).user.id, a.user.id);

  ok(await client.multiSession.revoke({ sessionToken: entryA.session.token }), "revoke the active one");
  assert.equal((await session(client)).user.id, b.user.id, "switched to the remaining account");
  const after = ok(await client.multiSession.listDeviceSessions(), "list after revoke");
  assert.deepEqual(after.map((s) => s.user.id), [b.user.id]);
});
