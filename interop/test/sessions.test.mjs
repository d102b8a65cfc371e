// Session management through the official client: list sessions (opaque handles, D3),
// revoke one session by handle or token, revoke the other sessions (spec §6 #5, #6, #8).
import { test } from "node:test";
import assert from "node:assert/strict";
import { TEST_TIMEOUT_MS, ok, session, signInFresh, signUpFresh } from "../lib/helpers.mjs";

const opts = { timeout: TEST_TIMEOUT_MS };

test("list sessions: one entry per session, tokens are opaque handles (D3)", opts, async () => {
  const a = await signUpFresh("list");
  const b = await signInFresh(a.email, a.password);
  const idA = (await session(a.client)).session.id;
  const idB = (await session(b.client)).session.id;
  assert.notEqual(idA, idB);

  const list = ok(await a.client.listSessions(), "list-sessions");
  assert.ok(Array.isArray(list), "list-sessions returns an array");
  assert.equal(list.length, 2, `two sessions, got ${JSON.stringify(list)}`);
  assert.deepEqual(new Set(list.map((s) => s.id)), new Set([idA, idB]));
  for (const s of list) {
    assert.equal(s.userId, a.user.id);
    assert.equal(typeof s.token, "string");
    assert.ok(s.token.length > 0, "handle is not empty");
    // D3: listings never reveal live tokens.
    assert.notEqual(s.token, a.token);
    assert.notEqual(s.token, b.token);
    assert.ok(!s.token.includes(a.token) && !s.token.includes(b.token), "handle embeds a token");
    assert.ok(new Date(s.expiresAt).getTime() > Date.now());
  }
  assert.notEqual(list[0].token, list[1].token, "handles are distinct");

  // The other session lists the same sessions.
  const listB = ok(await b.client.listSessions(), "list-sessions (b)");
  assert.deepEqual(new Set(listB.map((s) => s.id)), new Set([idA, idB]));
});

test("revoke a session by the handle from list-sessions", opts, async () => {
  const a = await signUpFresh("revoke");
  const b = await signInFresh(a.email, a.password);
  const idB = (await session(b.client)).session.id;

  const list = ok(await a.client.listSessions(), "list-sessions");
  const entry = list.find((s) => s.id === idB);
  assert.ok(entry, "b's session is listed");
  const data = ok(await a.client.revokeSession({ token: entry.token }), "revoke-session by handle");
  assert.equal(data.status, true);

  assert.equal((await b.client.getSession()).data, null, "revoked session is gone");
  assert.ok(await session(a.client), "the revoking session is still alive");
  const after = ok(await a.client.listSessions(), "list-sessions after revoke");
  assert.deepEqual(after.map((s) => s.id), [(await session(a.client)).session.id]);
});

test("revoke a session by its real token (Better Auth's form) still works", opts, async () => {
  const a = await signUpFresh("revoketok");
  const b = await signInFresh(a.email, a.password);
  ok(await a.client.revokeSession({ token: b.token }), "revoke-session by token");
  assert.equal((await b.client.getSession()).data, null);
  assert.ok(await session(a.client));
});

test("revoke-session silently ignores another user's session", opts, async () => {
  const a = await signUpFresh("revokeother-a");
  const m = await signUpFresh("revokeother-m");
  const handle = ok(await m.client.listSessions(), "list-sessions (m)")[0].token;
  const data = ok(await a.client.revokeSession({ token: handle }), "revoke foreign handle");
  assert.equal(data.status, true);
  ok(await a.client.revokeSession({ token: m.token }), "revoke foreign token");
  assert.ok(await session(m.client), "the other user's session survives");
});

test("revoke other sessions: the other jars are signed out, this one is not", opts, async () => {
  const a = await signUpFresh("others");
  const b = await signInFresh(a.email, a.password);
  const c = await signInFresh(a.email, a.password);
  assert.ok(await session(b.client));

  const data = ok(await a.client.revokeOtherSessions(), "revoke-other-sessions");
  assert.equal(data.status, true);
  assert.equal((await b.client.getSession()).data, null, "b signed out");
  assert.equal((await c.client.getSession()).data, null, "c signed out");
  const s = await session(a.client);
  assert.ok(s, "a still signed in");
  assert.equal(s.session.token, a.token);
  assert.equal(ok(await a.client.listSessions(), "list-sessions").length, 1);
});
