// Social sign-in through the official client against a real OIDC IdP (mockoidc, started by
// integration/interop_test.go as social provider "acme"; it approves its default user at
// once): signIn.social → the IdP → the callback, with a manual cookie jar, then the session,
// listAccounts, accountInfo, getAccessToken; and an unknown provider's error (spec §6
// #23–#28).
import { test } from "node:test";
import assert from "node:assert/strict";
import { BASE_URL, SESSION_COOKIE, TEST_TIMEOUT_MS, fails, newClient, ok, session } from "../lib/helpers.mjs";

const opts = { timeout: TEST_TIMEOUT_MS };

const PROVIDER = process.env.GATEHOUSE_OIDC_PROVIDER;
const ISSUER = process.env.GATEHOUSE_OIDC_ISSUER;
const SUBJECT = process.env.GATEHOUSE_OIDC_SUBJECT;
const EMAIL = process.env.GATEHOUSE_OIDC_EMAIL;
assert.ok(PROVIDER && ISSUER && SUBJECT && EMAIL, "GATEHOUSE_OIDC_* are not set (run through go test ./integration -run Interop)");

/**
 * Runs one social sign-in on client c: signIn.social with disableRedirect, the IdP's
 * authorization URL fetched without the jar (another site), the callback fetched with it.
 * Returns the callback's Location.
 */
async function socialSignIn(c, callbackURL) {
  const data = ok(await c.client.signIn.social({ provider: PROVIDER, callbackURL, disableRedirect: true }), "signIn.social");
  assert.equal(data.redirect, false, "disableRedirect: redirect false");
  assert.equal(typeof data.url, "string");
  const auth = new URL(data.url);
  assert.ok(data.url.startsWith(ISSUER), `authorization URL ${data.url} is not at the IdP`);
  assert.equal(auth.searchParams.get("client_id") !== null, true);
  assert.equal(auth.searchParams.get("redirect_uri"), `${BASE_URL}/api/auth/callback/${PROVIDER}`);
  assert.ok(auth.searchParams.get("state"), "state");
  assert.equal(auth.searchParams.get("code_challenge_method"), "S256");
  assert.ok(c.jar.get("better-auth.state"), "the signed state cookie is set");

  const idp = await fetch(data.url, { redirect: "manual", signal: AbortSignal.timeout(15_000) });
  assert.equal(idp.status, 302, "the IdP approves at once");
  const back = idp.headers.get("location");
  assert.ok(back.startsWith(`${BASE_URL}/api/auth/callback/${PROVIDER}?`), `IdP sent us to ${back}`);

  const cb = await c.fetch(back);
  assert.equal(cb.status, 302, `callback answered ${cb.status}`);
  return cb.headers.get("location");
}

test("signIn.social → IdP → callback signs in as the IdP's user", opts, async () => {
  const c = newClient();
  const loc = await socialSignIn(c, "/app/whoami");
  assert.equal(loc, `${BASE_URL}/app/whoami`);
  assert.ok(c.jar.get(SESSION_COOKIE), "session cookie after the callback");
  const s = await session(c.client);
  assert.equal(s.user.email, EMAIL);
  assert.equal(s.user.emailVerified, true, "the IdP vouched for the email");

  const accounts = ok(await c.client.listAccounts(), "listAccounts");
  const acme = accounts.filter((a) => a.providerId === PROVIDER);
  assert.equal(acme.length, 1, JSON.stringify(accounts));
  assert.equal(acme[0].accountId, SUBJECT);
  assert.equal(acme[0].userId, s.user.id);
  assert.ok(Array.isArray(acme[0].scopes));
  assert.equal(accounts.some((a) => a.providerId === "credential"), false, "no password account for a social user");

  const info = ok(await c.client.accountInfo({ query: { accountId: acme[0].accountId } }), "accountInfo");
  assert.equal(info.user.id, SUBJECT);
  assert.equal(info.user.email, EMAIL);
  assert.equal(info.account.providerId, PROVIDER);
  assert.equal(info.account.accountId, SUBJECT);

  const at = ok(await c.client.getAccessToken({ providerId: PROVIDER }), "getAccessToken");
  assert.equal(typeof at.accessToken, "string");
  assert.ok(at.accessToken.length > 0);
  assert.ok(Array.isArray(at.scopes));

  // A second "browser" signing in with the same IdP identity is the same user.
  const c2 = newClient();
  await socialSignIn(c2, "/app/whoami");
  const s2 = await session(c2.client);
  assert.equal(s2.user.id, s.user.id);
  assert.equal(ok(await c2.client.listAccounts(), "listAccounts 2").filter((a) => a.providerId === PROVIDER).length, 1);
});

test("an unknown provider is the API's error, and the account routes need a session", opts, async () => {
  const c = newClient();
  fails(await c.client.signIn.social({ provider: "no-such-provider", disableRedirect: true }), 404, "PROVIDER_NOT_FOUND", "unknown provider");
  assert.equal(c.jar.get("better-auth.state"), undefined, "no state cookie for a refused start");
  fails(await c.client.getAccessToken({ providerId: PROVIDER }), 401, "UNAUTHORIZED", "getAccessToken signed out");
  fails(await c.client.linkSocial({ provider: PROVIDER, disableRedirect: true }), 401, "UNAUTHORIZED", "linkSocial signed out");
});

test("a callback without the state cookie ends on the error page, without a session", opts, async () => {
  const c = newClient();
  const data = ok(await c.client.signIn.social({ provider: PROVIDER, callbackURL: "/app/whoami", disableRedirect: true }), "signIn.social");
  const idp = await fetch(data.url, { redirect: "manual", signal: AbortSignal.timeout(15_000) });
  const other = newClient(); // another browser: no state cookie
  const cb = await other.fetch(idp.headers.get("location"));
  assert.equal(cb.status, 302);
  const loc = new URL(cb.headers.get("location"));
  assert.ok(["state_not_found", "state_mismatch"].includes(loc.searchParams.get("error")), loc.href);
  assert.equal(other.jar.get(SESSION_COOKIE), undefined);
  assert.equal(await session(other.client), null);
});
