// apiKeyClient (@better-auth/api-key) against the real binary: a signed-in user manages keys
// through the client; a key opens the gateway as its owner and never reaches the upstream;
// server-only fields are refused from clients (CVE-2025-61928).
import assert from "node:assert/strict";
import { test } from "node:test";
import { createAuthClient } from "better-auth/client";
import { apiKeyClient } from "@better-auth/api-key/client";

import {
  BASE_URL,
  CookieJar,
  PROTECTED,
  REQUEST_TIMEOUT_MS,
  TEST_TIMEOUT_MS,
  fails,
  jarFetch,
  ok,
  parseEcho,
  uniqueEmail,
  uniquePassword,
} from "../lib/helpers.mjs";

function client() {
  const jar = new CookieJar();
  return createAuthClient({ baseURL: BASE_URL, plugins: [apiKeyClient()], fetchOptions: { customFetchImpl: jarFetch(jar) } });
}

function withKey(key) {
  return fetch(PROTECTED, { headers: { "x-api-key": key }, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
}

test("api keys: create, list, use at the gateway, update, delete", { timeout: TEST_TIMEOUT_MS }, async () => {
  const c = client();
  const up = ok(await c.signUp.email({ name: "Key Owner", email: uniqueEmail("apikey"), password: uniquePassword() }), "sign-up");

  fails(await c.apiKey.create({ name: "greedy", remaining: 1000000 }), 400, "SERVER_ONLY_PROPERTY", "server-only field from a client");

  const created = ok(await c.apiKey.create({ name: "ci" }), "create");
  assert.equal(typeof created.key, "string");
  assert.equal(created.start, created.key.slice(0, 6));
  assert.equal(created.rateLimitEnabled, false, "no per-key rate limit by default (proxy traffic)");

  const listed = ok(await c.apiKey.list(), "list");
  assert.equal(listed.total, 1);
  assert.equal(listed.apiKeys[0].id, created.id);
  assert.equal(listed.apiKeys[0].key, undefined, "the plaintext is shown once");

  const res = await withKey(created.key);
  const body = await res.text();
  assert.equal(res.status, 200, body);
  const echo = parseEcho(body);
  assert.equal(echo.id, up.user.id);
  assert.equal(echo.method, "api-key");
  assert.equal(echo.keyid, created.id);
  assert.equal(echo.apikey, "", "the key reached the upstream");

  const renamed = ok(await c.apiKey.update({ keyId: created.id, name: "ci-2" }), "update");
  assert.equal(renamed.name, "ci-2");
  ok(await c.apiKey.delete({ keyId: created.id }), "delete");
  assert.equal((await withKey(created.key)).status, 401, "a deleted key is refused");
  assert.equal((await withKey("not-a-key")).status, 401);
});
