// Issue 5's client plugins against the real binary: twoFactorClient (TOTP enrolment, the
// sign-in interruption, verification by TOTP and by backup code) and passkeyClient (its
// option endpoints; a full ceremony needs a browser authenticator, which Go tests drive
// with a software one).
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { test } from "node:test";
import { createAuthClient } from "better-auth/client";
import { twoFactorClient } from "better-auth/client/plugins";
import { passkeyClient } from "@better-auth/passkey/client";

import { BASE_URL, CookieJar, TEST_TIMEOUT_MS, fails, jarFetch, ok, session, uniqueEmail, uniquePassword } from "../lib/helpers.mjs";

/** A client with twoFactorClient and passkeyClient, with its own cookie jar. */
function client() {
  const jar = new CookieJar();
  const redirects = [];
  const c = createAuthClient({
    baseURL: BASE_URL,
    plugins: [twoFactorClient({ onTwoFactorRedirect: () => redirects.push(true) }), passkeyClient()],
    fetchOptions: { customFetchImpl: jarFetch(jar) },
  });
  return { client: c, jar, redirects };
}

/** RFC 4648 base32 (no padding) to bytes. */
function base32(s) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of s.replace(/=+$/, "").toUpperCase()) {
    const i = alphabet.indexOf(ch);
    assert.ok(i >= 0, `bad base32 character ${ch}`);
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The RFC 6238 code (HMAC-SHA1, 6 digits, 30 s) of the time step `offset` steps from now. */
function totp(key, offset = 0) {
  const step = Math.floor(Date.now() / 1000 / 30) + offset;
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac("sha1", key).update(counter).digest();
  const o = mac[mac.length - 1] & 0x0f;
  const n = (mac.readUInt32BE(o) & 0x7fffffff) % 1_000_000;
  return String(n).padStart(6, "0");
}

test("two-factor: enrol TOTP, sign-in is interrupted, verifyTotp and a backup code finish it", { timeout: TEST_TIMEOUT_MS }, async () => {
  const a = client();
  const email = uniqueEmail("2fa");
  const password = uniquePassword();
  ok(await a.client.signUp.email({ name: "Two Factor", email, password }), "sign-up");

  const enabled = ok(await a.client.twoFactor.enable({ password }), "enable");
  const uri = new URL(enabled.totpURI);
  assert.equal(uri.protocol, "otpauth:");
  assert.equal(uri.searchParams.get("digits"), "6");
  assert.equal(uri.searchParams.get("period"), "30");
  assert.equal(enabled.backupCodes.length, 10);
  const key = base32(uri.searchParams.get("secret"));
  fails(await a.client.twoFactor.verifyTotp({ code: totp(key, 3) }), 401, "INVALID_CODE", "a code three steps ahead");
  ok(await a.client.twoFactor.verifyTotp({ code: totp(key) }), "verify-totp completes enrolment");
  assert.equal((await session(a.client)).user.twoFactorEnabled, true);

  // Sign-in on another "browser": interrupted, no session until the second factor.
  const b = client();
  const first = ok(await b.client.signIn.email({ email, password }), "sign-in");
  assert.equal(first.twoFactorRedirect, true);
  assert.ok(first.twoFactorMethods.includes("totp"), JSON.stringify(first));
  assert.equal(b.redirects.length, 1, "onTwoFactorRedirect called");
  assert.equal(b.jar.get("better-auth.session_token"), undefined, "no session cookie while pending");
  assert.equal((await b.client.getSession()).data, null);
  // The next step's code: the current one was spent on enrolment, and replays are refused.
  const done = ok(await b.client.twoFactor.verifyTotp({ code: totp(key, 1) }), "verify-totp");
  assert.equal(done.user.email, email);
  assert.equal((await session(b.client)).user.email, email);

  // A backup code works once.
  const c = client();
  assert.equal(ok(await c.client.signIn.email({ email, password }), "sign-in again").twoFactorRedirect, true);
  ok(await c.client.twoFactor.verifyBackupCode({ code: enabled.backupCodes[0] }), "backup code");
  assert.equal((await session(c.client)).user.email, email);
  const d = client();
  ok(await d.client.signIn.email({ email, password }), "sign-in once more");
  fails(await d.client.twoFactor.verifyBackupCode({ code: enabled.backupCodes[0] }), 401, "INVALID_BACKUP_CODE", "used backup code");
});

test("passkey: the option endpoints through passkeyClient", { timeout: TEST_TIMEOUT_MS }, async () => {
  const a = client();
  const email = uniqueEmail("passkey");
  ok(await a.client.signUp.email({ name: "Pass Key", email, password: uniquePassword() }), "sign-up");

  const reg = ok(await a.client.passkey.generateRegisterOptions(), "register options");
  assert.equal(typeof reg.challenge, "string");
  assert.equal(reg.rp.id, new URL(BASE_URL).hostname);
  assert.equal(reg.user.name, email);
  assert.ok(Array.isArray(reg.pubKeyCredParams) && reg.pubKeyCredParams.length > 0);

  const auth = ok(await a.client.passkey.generateAuthenticateOptions(), "authenticate options");
  assert.equal(typeof auth.challenge, "string");
  assert.notEqual(auth.challenge, reg.challenge);
  assert.deepEqual(ok(await a.client.passkey.listUserPasskeys(), "list"), []);

  // Signed out: discoverable sign-in options, no credentials named.
  const anon = client();
  const open = ok(await anon.client.passkey.generateAuthenticateOptions(), "anonymous authenticate options");
  assert.ok(!open.allowCredentials || open.allowCredentials.length === 0);
  fails(await anon.client.passkey.generateRegisterOptions(), 401, "UNAUTHORIZED", "register options without a session");
});
