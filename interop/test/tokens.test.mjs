// Cookie-less clients against the real binary: Better Auth's bearer mode (set-auth-token
// captured from responses, sent back as Authorization: Bearer) and jwtClient (a JWT from
// /token, verified here against /jwks with Node's own crypto), both on the auth API and
// through the gateway, which must not forward the credential upstream (D8).
import assert from "node:assert/strict";
import { createPublicKey, verify } from "node:crypto";
import { test } from "node:test";
import { createAuthClient } from "better-auth/client";
import { jwtClient } from "better-auth/client/plugins";

import {
  BASE_URL,
  ORIGIN,
  PROTECTED,
  REQUEST_TIMEOUT_MS,
  TEST_TIMEOUT_MS,
  ok,
  parseEcho,
  uniqueEmail,
  uniquePassword,
} from "../lib/helpers.mjs";

/** A client in Better Auth's documented bearer mode: no cookies, the token kept in memory. */
function bearerClient() {
  const state = { token: "" };
  const client = createAuthClient({
    baseURL: BASE_URL,
    plugins: [jwtClient()],
    fetchOptions: {
      headers: { origin: ORIGIN },
      auth: { type: "Bearer", token: () => state.token },
      onSuccess: (ctx) => {
        const t = ctx.response.headers.get("set-auth-token");
        if (t) state.token = t;
      },
    },
  });
  return { client, state };
}

/** Verifies a compact JWS against the gateway's JWKS with Node's crypto; returns the payload. */
async function verifyWithJWKS(jwt) {
  const [h, p, s] = jwt.split(".");
  const header = JSON.parse(Buffer.from(h, "base64url").toString());
  const res = await fetch(`${BASE_URL}/api/auth/jwks`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  assert.equal(res.status, 200);
  const { keys } = await res.json();
  const jwk = keys.find((k) => k.kid === header.kid);
  assert.ok(jwk, `no key ${header.kid} in /jwks`);
  assert.equal(header.alg, "EdDSA");
  const key = createPublicKey({ key: jwk, format: "jwk" });
  assert.ok(verify(null, Buffer.from(`${h}.${p}`), key, Buffer.from(s, "base64url")), "signature");
  return JSON.parse(Buffer.from(p, "base64url").toString());
}

test("bearer mode: sign up, use the API and the gateway without cookies", { timeout: TEST_TIMEOUT_MS }, async () => {
  const { client, state } = bearerClient();
  const email = uniqueEmail("bearer");
  const up = ok(await client.signUp.email({ name: "Bearer", email, password: uniquePassword() }), "sign-up");
  assert.ok(state.token.includes("."), "set-auth-token carries the signed token");

  const s = ok(await client.getSession(), "get-session with the bearer token");
  assert.equal(s.user.id, up.user.id);

  const res = await fetch(PROTECTED, {
    headers: { authorization: `Bearer ${state.token}` },
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const body = await res.text();
  assert.equal(res.status, 200, body);
  const echo = parseEcho(body);
  assert.equal(echo.id, up.user.id);
  assert.equal(echo.method, "bearer");
  assert.equal(echo.authz, "", "the bearer token reached the upstream");

  ok(await client.signOut(), "sign-out");
  const after = await fetch(PROTECTED, {
    headers: { authorization: `Bearer ${state.token}` },
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  assert.equal(after.status, 401, "the token died with the session");
});

test("jwt: /token gives a JWT that verifies against /jwks and opens the gateway", { timeout: TEST_TIMEOUT_MS }, async () => {
  const { client } = bearerClient();
  const email = uniqueEmail("jwt");
  const up = ok(await client.signUp.email({ name: "Jay", email, password: uniquePassword() }), "sign-up");

  const { token } = ok(await client.token(), "token");
  const claims = await verifyWithJWKS(token);
  assert.equal(claims.sub, up.user.id);
  assert.equal(claims.email, email);
  assert.equal(claims.iss, new URL(BASE_URL).origin);
  assert.ok(claims.exp > claims.iat && claims.exp - claims.iat <= 15 * 60);

  const res = await fetch(PROTECTED, {
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const body = await res.text();
  assert.equal(res.status, 200, body);
  const echo = parseEcho(body);
  assert.equal(echo.id, up.user.id);
  assert.equal(echo.method, "jwt");
  assert.equal(echo.authz, "", "the JWT reached the upstream");

  // A tampered JWT is refused at the gateway.
  const [h, , s] = token.split(".");
  const forged = Buffer.from(JSON.stringify({ ...claims, sub: "someone-else" })).toString("base64url");
  const bad = await fetch(PROTECTED, {
    headers: { authorization: `Bearer ${h}.${forged}.${s}` },
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  assert.equal(bad.status, 401);
});
