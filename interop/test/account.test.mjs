// Core account flows through the official client: sign up, sign in, get session, update
// user, change password, sign out (spec §6 #1-4, #9, #11).
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  SESSION_COOKIE, TEST_TIMEOUT_MS, CookieJar, createClientWithJar, fails, newClient, ok,
  session, signInFresh, signUpFresh, uniqueEmail, uniquePassword,
} from "../lib/helpers.mjs";

const opts = { timeout: TEST_TIMEOUT_MS };

test("sign up returns the user and a token, and signs the client in", opts, async () => {
  const { client, jar } = newClient();
  const email = uniqueEmail("signup");
  const password = uniquePassword();
  const data = ok(await client.signUp.email({ name: "Ada Lovelace", email, password }), "sign-up");
  assert.equal(typeof data.token, "string");
  assert.ok(data.token.length >= 32, "token length");
  assert.equal(data.user.email, email);
  assert.equal(data.user.name, "Ada Lovelace");
  assert.equal(data.user.emailVerified, false);
  assert.equal(typeof data.user.id, "string");
  assert.ok(jar.get(SESSION_COOKIE), "session cookie set by sign-up");
  // §2.2: the cookie holds the signed token: <token>.<base64 HMAC>, percent-encoded.
  assert.ok(decodeURIComponent(jar.get(SESSION_COOKIE)).startsWith(`${data.token}.`), "signed cookie value");

  const s = await session(client);
  assert.ok(s, "get-session after sign-up");
  assert.equal(s.user.id, data.user.id);
  assert.equal(s.session.token, data.token);
});

test("sign up lower-cases the email", opts, async () => {
  const { client } = newClient();
  const email = uniqueEmail("case");
  const data = ok(await client.signUp.email({
    name: "Case", email: email.toUpperCase(), password: uniquePassword(),
  }), "sign-up");
  assert.equal(data.user.email, email);
});

test("sign in, then get-session shows the user and the sign-in token", opts, async () => {
  const u = await signUpFresh("signin");
  const { client, jar } = newClient();
  const data = ok(await client.signIn.email({ email: u.email, password: u.password }), "sign-in");
  assert.equal(data.redirect, false);
  assert.equal(typeof data.token, "string");
  assert.notEqual(data.token, u.token, "a new session per sign-in");
  assert.equal(data.user.email, u.email);
  assert.equal(data.user.id, u.user.id);
  assert.ok(jar.get(SESSION_COOKIE), "session cookie set by sign-in");

  const s = await session(client);
  assert.ok(s, "get-session returned null");
  assert.equal(s.user.email, u.email);
  assert.equal(s.user.id, u.user.id);
  assert.equal(s.session.token, data.token);
  assert.equal(s.session.userId, u.user.id);
  assert.ok(new Date(s.session.expiresAt).getTime() > Date.now(), "session expires in the future");
});

test("get-session without a cookie is null", opts, async () => {
  const { client } = newClient();
  const res = await client.getSession();
  assert.equal(res.error, null);
  assert.equal(res.data, null);
});

test("update user: the new name is visible in get-session", opts, async () => {
  const u = await signUpFresh("update", "Before Name");
  const data = ok(await u.client.updateUser({ name: "After Name" }), "update-user");
  assert.equal(data.status, true);
  const s = await session(u.client);
  assert.equal(s.user.name, "After Name");
  // Another session of the same user sees it too (no stale cache, D6).
  const other = await signInFresh(u.email, u.password);
  assert.equal((await session(other.client)).user.name, "After Name");
});

test("change password: the old one stops working, the new one works", opts, async () => {
  const u = await signUpFresh("chpw");
  const newPassword = uniquePassword();

  fails(await u.client.changePassword({ currentPassword: `${u.password}-wrong`, newPassword }),
    400, "INVALID_PASSWORD", "change-password with a wrong current password");

  const data = ok(await u.client.changePassword({ currentPassword: u.password, newPassword }), "change-password");
  assert.equal(data.user.id, u.user.id);
  assert.ok(await session(u.client), "the changing session stays signed in");

  const { client } = newClient();
  fails(await client.signIn.email({ email: u.email, password: u.password }),
    401, "INVALID_EMAIL_OR_PASSWORD", "sign-in with the old password");
  ok(await client.signIn.email({ email: u.email, password: newPassword }), "sign-in with the new password");
  assert.equal((await session(client)).user.id, u.user.id);
});

test("sign out: get-session becomes null and the old cookie is dead server-side", opts, async () => {
  const u = await signUpFresh("signout");
  const cookie = u.jar.get(SESSION_COOKIE);
  assert.ok(cookie);

  const data = ok(await u.client.signOut(), "sign-out");
  assert.equal(data.success, true);
  assert.equal(u.jar.get(SESSION_COOKIE), undefined, "sign-out expires the session cookie");
  assert.equal((await u.client.getSession()).data, null);

  // Replaying the cookie captured before sign-out must not work: the session is revoked,
  // not merely forgotten by the client.
  const replay = new CookieJar();
  replay.set(SESSION_COOKIE, cookie);
  const { client } = createClientWithJar(replay);
  const res = await client.getSession();
  assert.equal(res.error, null);
  assert.equal(res.data, null);
});
