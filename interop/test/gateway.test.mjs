// The gateway path: a session obtained through the official client opens a protected
// upstream path (PROTECTED and parseEcho in ../lib/helpers.mjs describe the echoing
// upstream).
import { test } from "node:test";
import assert from "node:assert/strict";
import { PROTECTED, TEST_TIMEOUT_MS, newClient, parseEcho, signUpFresh } from "../lib/helpers.mjs";

const opts = { timeout: TEST_TIMEOUT_MS };

test("protected path with the session cookie reaches the upstream as the user", opts, async () => {
  const u = await signUpFresh("gateway");
  const res = await u.fetch(PROTECTED, { headers: { "X-Auth-User-Id": "mallory" } });
  const body = await res.text();
  assert.equal(res.status, 200, `status ${res.status}: ${body}`);
  const echo = parseEcho(body);
  assert.equal(echo.id, u.user.id, "upstream sees the signed-in user's id, not a spoofed one");
  // D1: X-Auth-User-Email is forwarded only for a verified email; a fresh sign-up is not.
  assert.equal(echo.email, "", "unverified email is not forwarded");
  // D8: gateway cookies never reach the upstream.
  assert.ok(!echo.cookie.includes("better-auth."), `gateway cookie leaked upstream: ${echo.cookie}`);
});

test("protected path without a session: 401, the upstream is not reached", opts, async () => {
  const { fetch } = newClient();
  const res = await fetch(PROTECTED, { headers: { "X-Auth-User-Id": "mallory" } });
  const body = await res.text();
  assert.equal(res.status, 401, `status ${res.status}: ${body}`);
  assert.ok(!body.startsWith("upstream"), "the upstream answered");
  assert.equal(JSON.parse(body).code, "UNAUTHORIZED");
});

test("protected path after sign-out: 401", opts, async () => {
  const u = await signUpFresh("gateway-out");
  assert.equal((await u.fetch(PROTECTED)).status, 200);
  await u.client.signOut();
  assert.equal((await u.fetch(PROTECTED)).status, 401);
});
