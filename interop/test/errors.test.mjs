// Error envelope through the official client: error.status from the status line,
// error.code/message from the JSON body (spec §1.2, §6).
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  BASE_URL, TEST_TIMEOUT_MS, fails, newClient, signUpFresh, uniqueEmail, uniquePassword,
} from "../lib/helpers.mjs";
import { createAuthClient } from "better-auth/client";

const opts = { timeout: TEST_TIMEOUT_MS };

test("wrong password: 401 INVALID_EMAIL_OR_PASSWORD", opts, async () => {
  const u = await signUpFresh("wrongpw");
  const { client, jar } = newClient();
  const res = await client.signIn.email({ email: u.email, password: `${u.password}x` });
  fails(res, 401, "INVALID_EMAIL_OR_PASSWORD", "sign-in with a wrong password");
  assert.equal(res.error.message, "Invalid email or password");
  assert.equal(jar.header(), "", "no cookie set on a failed sign-in");
});

test("unknown email: the same 401 INVALID_EMAIL_OR_PASSWORD", opts, async () => {
  const { client } = newClient();
  fails(await client.signIn.email({ email: uniqueEmail("nobody"), password: uniquePassword() }),
    401, "INVALID_EMAIL_OR_PASSWORD", "sign-in with an unknown email");
});

test("duplicate sign-up: 422 USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL", opts, async () => {
  const u = await signUpFresh("dup");
  const { client, jar } = newClient();
  const res = await client.signUp.email({ name: "Again", email: u.email, password: uniquePassword() });
  fails(res, 422, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL", "duplicate sign-up");
  assert.equal(res.error.message, "User already exists. Use another email.");
  assert.equal(jar.header(), "", "no cookie set on a refused sign-up");
  // The email is compared lower-cased.
  fails(await client.signUp.email({ name: "Again", email: u.email.toUpperCase(), password: uniquePassword() }),
    422, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL", "duplicate sign-up, upper-cased email");
});

test("too-short password: 400 PASSWORD_TOO_SHORT", opts, async () => {
  const { client } = newClient();
  const res = await client.signUp.email({ name: "Shorty", email: uniqueEmail("short"), password: "abc12" });
  fails(res, 400, "PASSWORD_TOO_SHORT", "sign-up with a short password");
  assert.equal(res.error.message, "Password too short");
});

test("session-only endpoints without a session: 401 UNAUTHORIZED", opts, async () => {
  const { client } = newClient();
  fails(await client.listSessions(), 401, "UNAUTHORIZED", "list-sessions without a session");
  fails(await client.updateUser({ name: "x" }), 401, "UNAUTHORIZED", "update-user without a session");
});

test("a request without Origin is refused: 403 MISSING_OR_NULL_ORIGIN (spec §8.2)", opts, async () => {
  const u = await signUpFresh("noorigin");
  const client = createAuthClient({
    baseURL: BASE_URL,
    fetchOptions: {
      // Node's own fetch (sends sec-fetch-mode: cors) with no Origin header.
      customFetchImpl: (input, init = {}) => fetch(input, { ...init, signal: AbortSignal.timeout(10_000) }),
    },
  });
  fails(await client.signIn.email({ email: u.email, password: u.password }),
    403, "MISSING_OR_NULL_ORIGIN", "sign-in without Origin");
});
