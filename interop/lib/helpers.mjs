// Shared helpers for the interop tests: a cookie jar carried by a custom fetch (the way
// spec §8.2 says the official client is used from Node), a client factory, and unique
// test identities.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createAuthClient } from "better-auth/client";

const raw = process.env.GATEHOUSE_URL;
if (!raw) {
  throw new Error("GATEHOUSE_URL is not set (run these tests through `go test ./integration -run Interop`)");
}
/** The gateway's base URL, e.g. http://localhost:1234 (the client appends /api/auth). */
export const BASE_URL = raw.replace(/\/+$/, "");
/** The Origin every request carries (§8.2: Node's fetch triggers the strict CSRF path). */
export const ORIGIN = new URL(BASE_URL).origin;

if (!["localhost", "127.0.0.1", "[::1]"].includes(new URL(BASE_URL).hostname)) {
  throw new Error(`GATEHOUSE_URL must be a loopback URL, got ${BASE_URL}`);
}

/**
 * A protected path. The Go harness (integration/interop_test.go) proxies every non-public
 * path to a Caddy `respond` upstream that echoes what it received:
 *   upstream id=[X-Auth-User-Id] email=[X-Auth-User-Email] cookie=[Cookie] authz=[Authorization]
 *            method=[X-Auth-Method] apikey=[X-Api-Key] keyid=[X-Auth-Api-Key-Id] imp=[X-Auth-Impersonated-By]
 *            org=[X-Auth-Org-Id] orgslug=[X-Auth-Org-Slug] orgrole=[X-Auth-Org-Role]
 */
export const PROTECTED = `${BASE_URL}/app/whoami`;

/** Parses the echoing upstream's answer. */
export function parseEcho(body) {
  const m = /^upstream id=\[(.*)\] email=\[(.*)\] cookie=\[(.*)\] authz=\[(.*)\] method=\[(.*)\] apikey=\[(.*)\] keyid=\[(.*)\] imp=\[(.*)\] org=\[(.*)\] orgslug=\[(.*)\] orgrole=\[(.*)\]$/s.exec(body);
  assert.ok(m, `unexpected upstream answer ${JSON.stringify(body)}`);
  return {
    id: m[1], email: m[2], cookie: m[3], authz: m[4], method: m[5], apikey: m[6], keyid: m[7], imp: m[8],
    org: m[9], orgslug: m[10], orgrole: m[11],
  };
}

/** Upper bound for one HTTP request; a test has its own, larger bound. */
export const REQUEST_TIMEOUT_MS = 20_000;
/** Per-test bound, used as `test(name, { timeout: TEST_TIMEOUT_MS }, fn)`. */
export const TEST_TIMEOUT_MS = 45_000;

/** The session cookie's name (no __Secure- prefix: the test gateway is plain http). */
export const SESSION_COOKIE = "better-auth.session_token";

const RUN_ID = `${Date.now().toString(36)}-${randomBytes(4).toString("hex")}`;
let seq = 0;

/** A unique email per call and per test run. */
export function uniqueEmail(label = "user") {
  seq += 1;
  return `interop-${label}-${RUN_ID}-${seq}@example.com`;
}

/** A password that is long enough and not on any common-password list (D18). */
export function uniquePassword() {
  return `pw-${randomBytes(12).toString("base64url")}`;
}

/**
 * A minimal cookie jar: name -> value for one host. Set-Cookie with Max-Age<=0, an expiry
 * in the past or an empty value deletes the cookie, as a browser would.
 */
export class CookieJar {
  constructor() {
    this.cookies = new Map();
  }

  absorb(setCookies) {
    for (const line of setCookies) {
      const [pair, ...attrs] = line.split(";");
      const eq = pair.indexOf("=");
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let expired = value === "";
      for (const attr of attrs) {
        const [k, v = ""] = attr.split("=");
        const key = k.trim().toLowerCase();
        if (key === "max-age" && Number(v.trim()) <= 0) expired = true;
        if (key === "expires" && Date.parse(v.trim()) <= Date.now()) expired = true;
      }
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  get(name) {
    return this.cookies.get(name);
  }

  set(name, value) {
    this.cookies.set(name, value);
  }

  header() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }
}

/**
 * fetch with the jar's cookies, the trusted Origin, and a timeout; records Set-Cookie.
 * Usable directly for gateway (non-API) requests too.
 */
export function jarFetch(jar) {
  return async (input, init = {}) => {
    const headers = new Headers(init.headers);
    headers.set("origin", ORIGIN);
    const cookie = jar.header();
    if (cookie) headers.set("cookie", cookie);
    else headers.delete("cookie");
    const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
    const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    const res = await fetch(input, { ...init, headers, signal, redirect: "manual" });
    jar.absorb(res.headers.getSetCookie());
    return res;
  };
}

/** A better-auth client whose cookies live in jar. */
export function createClientWithJar(jar) {
  const client = createAuthClient({
    baseURL: BASE_URL,
    fetchOptions: { customFetchImpl: jarFetch(jar) },
  });
  return { client, jar, fetch: jarFetch(jar) };
}

/** A better-auth client with its own, empty cookie jar: one "browser". */
export function newClient() {
  return createClientWithJar(new CookieJar());
}

/** Asserts a client result is a success and returns its data. */
export function ok(result, what) {
  assert.equal(result.error, null, `${what}: unexpected error ${JSON.stringify(result.error)}`);
  assert.ok(result.data !== undefined, `${what}: no data`);
  return result.data;
}

/** Asserts a client result is an error with the given HTTP status and code. */
export function fails(result, status, code, what) {
  assert.equal(result.data, null, `${what}: expected an error, got data ${JSON.stringify(result.data)}`);
  assert.ok(result.error, `${what}: no error`);
  assert.equal(result.error.status, status, `${what}: status (error ${JSON.stringify(result.error)})`);
  assert.equal(result.error.code, code, `${what}: code (error ${JSON.stringify(result.error)})`);
  assert.equal(typeof result.error.message, "string", `${what}: message`);
}

/** Signs up a fresh user on a new client; returns the client, jar, credentials and token. */
export async function signUpFresh(label = "user", name = "Interop User") {
  const c = newClient();
  const email = uniqueEmail(label);
  const password = uniquePassword();
  const data = ok(await c.client.signUp.email({ name, email, password }), "sign-up");
  return { ...c, email, password, name, token: data.token, user: data.user };
}

/** Signs the given user in on a new client (a second "browser"). */
export async function signInFresh(email, password) {
  const c = newClient();
  const data = ok(await c.client.signIn.email({ email, password }), "sign-in");
  return { ...c, token: data.token, user: data.user };
}

/** The current session as the given client sees it (null when signed out). */
export async function session(client) {
  return ok(await client.getSession(), "get-session");
}

/**
 * Takes the oldest message of a type sent to an address (email or phone number) that no
 * earlier call took, waiting for it to arrive. The Go driver's signed-webhook sink
 * (integration/messages_test.go) serves them at GATEHOUSE_MESSAGES_URL.
 */
export async function message(to, type) {
  const base = process.env.GATEHOUSE_MESSAGES_URL;
  assert.ok(base, "GATEHOUSE_MESSAGES_URL is not set");
  const url = `${base}/take?to=${encodeURIComponent(to)}&type=${encodeURIComponent(type)}`;
  const res = await fetch(url, { signal: AbortSignal.timeout(15_000) });
  assert.equal(res.status, 200, `no ${type} message for ${to}`);
  const m = await res.json();
  assert.equal(m.type, type);
  assert.equal(m.to, to);
  return m;
}
