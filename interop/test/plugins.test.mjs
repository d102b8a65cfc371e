// The official client plugins of issue 4 against the real binary: username, anonymous,
// magic link, email OTP and phone number. Links and codes are read from the gateway's signed
// webhooks, which the Go driver receives (integration/interop_test.go) and serves back at
// GATEHOUSE_MESSAGES_URL.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createAuthClient } from "better-auth/client";
import {
  anonymousClient,
  emailOTPClient,
  magicLinkClient,
  phoneNumberClient,
  usernameClient,
} from "better-auth/client/plugins";

import {
  BASE_URL,
  CookieJar,
  TEST_TIMEOUT_MS,
  fails,
  jarFetch,
  ok,
  session,
  uniqueEmail,
  message,
  uniquePassword,
} from "../lib/helpers.mjs";

/** A client with every issue-4 plugin, whose cookies live in its own jar. */
function pluginClient() {
  const jar = new CookieJar();
  const client = createAuthClient({
    baseURL: BASE_URL,
    plugins: [usernameClient(), anonymousClient(), magicLinkClient(), emailOTPClient(), phoneNumberClient()],
    fetchOptions: { customFetchImpl: jarFetch(jar) },
  });
  return { client, jar, fetch: jarFetch(jar) };
}

let phoneSeq = 0;
function uniquePhone() {
  phoneSeq += 1;
  const n = String(Date.now() % 1e7).padStart(7, "0") + String(phoneSeq).padStart(3, "0");
  return `+1555${n}`;
}

test("username: sign up with a username, check availability, sign in by username", { timeout: TEST_TIMEOUT_MS }, async () => {
  const a = pluginClient();
  const username = `Interop_${Date.now().toString(36)}${phoneSeq++}`;
  const password = uniquePassword();
  assert.deepEqual(ok(await a.client.isUsernameAvailable({ username }), "available before"), { available: true });
  const up = ok(
    await a.client.signUp.email({ name: "U", email: uniqueEmail("username"), password, username }),
    "sign-up with username",
  );
  assert.equal(up.user.username, username.toLowerCase());
  assert.equal(up.user.displayUsername, username);
  assert.deepEqual(ok(await a.client.isUsernameAvailable({ username: username.toUpperCase() }), "available after"), {
    available: false,
  });

  const b = pluginClient();
  const signedIn = ok(await b.client.signIn.username({ username: username.toUpperCase(), password }), "sign-in");
  assert.equal(signedIn.user.id, up.user.id);
  assert.equal((await session(b.client)).user.id, up.user.id);

  const c = pluginClient();
  fails(await c.client.signIn.username({ username, password: "wrong-password-1" }), 401, "INVALID_USERNAME_OR_PASSWORD", "wrong password");
  fails(await c.client.signIn.username({ username: "nobody_" + Date.now(), password }), 401, "INVALID_USERNAME_OR_PASSWORD", "unknown user");
});

test("anonymous: a guest session, then sign-up links and deletes the guest", { timeout: TEST_TIMEOUT_MS }, async () => {
  const g = pluginClient();
  const guest = ok(await g.client.signIn.anonymous(), "anonymous sign-in");
  assert.equal(guest.user.isAnonymous, true);
  assert.match(guest.user.email, /\.invalid$/);
  fails(await g.client.signIn.anonymous(), 400, "ANONYMOUS_USERS_CANNOT_SIGN_IN_AGAIN_ANONYMOUSLY", "second anonymous sign-in");

  const email = uniqueEmail("anon-link");
  const up = ok(await g.client.signUp.email({ name: "Linked", email, password: uniquePassword() }), "sign-up as guest");
  assert.notEqual(up.user.id, guest.user.id);
  const s = await session(g.client);
  assert.equal(s.user.email, email);
  assert.equal(s.user.isAnonymous, false);

  // The guest's session died with the guest.
  const old = pluginClient();
  old.jar.set("better-auth.session_token", guest.token);
  assert.equal((await old.client.getSession()).data, null);

  const d = pluginClient();
  ok(await d.client.signIn.anonymous(), "second guest");
  assert.deepEqual(ok(await d.client.deleteAnonymousUser(), "delete guest"), { success: true });
  assert.equal((await d.client.getSession()).data, null);
});

test("magic link: the emailed link signs in and redirects", { timeout: TEST_TIMEOUT_MS }, async () => {
  const c = pluginClient();
  const email = uniqueEmail("magic");
  assert.deepEqual(ok(await c.client.signIn.magicLink({ email, callbackURL: "/welcome" }), "send link"), { status: true });
  const m = await message(email, "magic-link");
  assert.ok(m.data.url.startsWith(`${BASE_URL}/api/auth/magic-link/verify?token=`), m.data.url);
  assert.ok(m.text.includes(m.data.url), "the text carries the link");

  const res = await c.fetch(m.data.url);
  assert.equal(res.status, 302);
  assert.equal(new URL(res.headers.get("location"), BASE_URL).pathname, "/welcome");
  const s = await session(c.client);
  assert.equal(s.user.email, email);
  assert.equal(s.user.emailVerified, true);

  // Single use.
  const again = await pluginClient().fetch(m.data.url);
  assert.equal(again.status, 302);
  assert.match(again.headers.get("location"), /error=INVALID_TOKEN/);
});

test("email OTP: sign in by code, then reset the password by code", { timeout: TEST_TIMEOUT_MS }, async () => {
  const c = pluginClient();
  const email = uniqueEmail("otp");
  assert.deepEqual(ok(await c.client.emailOtp.sendVerificationOtp({ email, type: "sign-in" }), "send code"), { success: true });
  const m = await message(email, "email-otp");
  assert.match(m.data.otp, /^\d{6}$/);
  fails(await c.client.signIn.emailOtp({ email, otp: m.data.otp === "000000" ? "111111" : "000000" }), 400, "INVALID_OTP", "wrong code");
  const signedIn = ok(await c.client.signIn.emailOtp({ email, otp: m.data.otp }), "sign in by code");
  assert.equal(signedIn.user.email, email);
  assert.equal((await session(c.client)).user.email, email);

  const password = uniquePassword();
  ok(await c.client.emailOtp.requestPasswordReset({ email }), "request reset");
  const r = await message(email, "email-otp");
  assert.notEqual(r.data.otp, undefined);
  ok(await c.client.emailOtp.resetPassword({ email, otp: r.data.otp, password }), "reset by code");
  const again = pluginClient();
  ok(await again.client.signIn.email({ email, password }), "sign in with the new password");
});

test("phone number: verify by SMS code signs up, then password sign-in by phone", { timeout: TEST_TIMEOUT_MS }, async () => {
  const c = pluginClient();
  const phoneNumber = uniquePhone();
  ok(await c.client.phoneNumber.sendOtp({ phoneNumber }), "send code");
  const m = await message(phoneNumber, "phone-otp");
  assert.match(m.data.otp, /^\d{6}$/);
  const v = ok(await c.client.phoneNumber.verify({ phoneNumber, code: m.data.otp }), "verify");
  assert.equal(v.status, true);
  assert.equal(v.user.phoneNumber, phoneNumber);
  assert.equal(v.user.phoneNumberVerified, true);
  assert.equal((await session(c.client)).user.phoneNumber, phoneNumber);

  // Set a password by the reset flow, then sign in with it.
  const password = uniquePassword();
  ok(await c.client.phoneNumber.requestPasswordReset({ phoneNumber }), "request reset");
  const r = await message(phoneNumber, "phone-otp");
  ok(await c.client.phoneNumber.resetPassword({ phoneNumber, otp: r.data.otp, newPassword: password }), "reset");
  const b = pluginClient();
  const s = ok(await b.client.signIn.phoneNumber({ phoneNumber, password }), "sign in by phone");
  assert.equal(s.user.id, v.user.id);
  fails(await pluginClient().client.signIn.phoneNumber({ phoneNumber, password: "wrong-password-1" }), 401, "INVALID_PHONE_NUMBER_OR_PASSWORD", "wrong password");
});
