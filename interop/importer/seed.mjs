// Builds a Better Auth database with Better Auth itself, for importer/betterauth's tests.
//
//   DATABASE_URL=postgres://... BETTER_AUTH_SECRET=... node seed.mjs
//
// Creates Better Auth's tables with its own migration API (getMigrations), then goes through
// auth.api as an application would: sign-ups, a sign-in, two-factor (TOTP) enabled and
// verified, an API key, an organization with a member, a team and an invitation. Passkeys
// need a WebAuthn ceremony, so the passkey row is written through Better Auth's own adapter.
// Prints one JSON object on stdout with what the Go test needs to check the import.
import pg from "pg";
import { betterAuth } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { twoFactor, organization } from "better-auth/plugins";
import { apiKey } from "@better-auth/api-key";
import { passkey } from "@better-auth/passkey";
import { createOTP } from "@better-auth/utils/otp";

const url = process.env.DATABASE_URL;
const secret = process.env.BETTER_AUTH_SECRET;
if (!url || !secret) {
  console.error("DATABASE_URL and BETTER_AUTH_SECRET are required");
  process.exit(2);
}
const pool = new pg.Pool({ connectionString: url });
const options = {
  database: pool,
  secret,
  baseURL: "http://localhost:3000",
  emailAndPassword: { enabled: true },
  plugins: [
    twoFactor(),
    organization({ teams: { enabled: true } }),
    apiKey(),
    passkey(),
  ],
  logger: { disabled: true },
  telemetry: { enabled: false },
};

const { runMigrations } = await getMigrations(options);
await runMigrations();
const auth = betterAuth(options);

function base32Decode(s) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0, value = 0;
  const out = [];
  for (const c of s.replace(/=+$/, "").toUpperCase()) {
    value = (value << 5) | alphabet.indexOf(c);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return Buffer.from(out).toString("latin1");
}

const password = "correct horse battery staple 7";
const headersOf = (res) => {
  const h = new Headers();
  const set = res.headers.get("set-cookie") ?? "";
  const m = set.match(/better-auth\.session_token=([^;]+)/);
  if (m) h.set("cookie", `better-auth.session_token=${m[1]}`);
  return h;
};

const alice = await auth.api.signUpEmail({
  body: { email: "alice@example.com", password, name: "Alice" },
  returnHeaders: true,
});
const aliceHeaders = headersOf(alice);
const aliceUser = alice.response.user;
const bob = await auth.api.signUpEmail({
  body: { email: "Bob@Example.com", password: "bob's own password 9", name: "Bob" },
});

const enabled = await auth.api.enableTwoFactor({ body: { password }, headers: aliceHeaders });
// The URI carries the base32 of the secret; the HMAC key is the secret's text itself.
const totpSecret = base32Decode(new URL(enabled.totpURI).searchParams.get("secret"));
const code = await createOTP(totpSecret).totp();
const verified = await auth.api.verifyTOTP({ body: { code }, headers: aliceHeaders, returnHeaders: true });
const afterTOTP = headersOf(verified);

const key = await auth.api.createApiKey({ body: { name: "ci", userId: aliceUser.id } });

const org = await auth.api.createOrganization({
  body: { name: "Acme", slug: "acme" },
  headers: afterTOTP.get("cookie") ? afterTOTP : aliceHeaders,
});
const orgHeaders = afterTOTP.get("cookie") ? afterTOTP : aliceHeaders;
await auth.api.addMember({ body: { userId: bob.user.id, role: "admin", organizationId: org.id } });
const team = await auth.api.createTeam({ body: { name: "Core", organizationId: org.id }, headers: orgHeaders });
const invitation = await auth.api.createInvitation({
  body: { email: "carol@example.com", role: "member", organizationId: org.id },
  headers: orgHeaders,
});

const ctx = await auth.$context;
const now = new Date();
await ctx.adapter.create({
  model: "passkey",
  data: {
    name: "laptop",
    publicKey: "pQECAyYgASFYIBvK2Ayf2DOtt1Fv9Sh9wQc8Zlr5TV8Ocu3SSJkTl7vzIlggsD6O4WMIoDfvKdOZQj6fDdxzRTKErIf7oXWljw9ZYwk",
    userId: aliceUser.id,
    credentialID: "cred-alice-1",
    counter: 3,
    deviceType: "multiDevice",
    backedUp: true,
    transports: "internal,hybrid",
    createdAt: now,
    aaguid: "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4",
  },
});

const sessions = await pool.query('select token from "session" where "userId" = $1', [aliceUser.id]);
console.log(JSON.stringify({
  password,
  alice: aliceUser.id,
  bob: bob.user.id,
  totpSecret,
  backupCodes: enabled.backupCodes,
  apiKey: key.key,
  apiKeyId: key.id,
  organizationId: org.id,
  teamId: team.id,
  invitationId: invitation.id,
  sessionTokens: sessions.rows.map((r) => r.token),
}));
await pool.end();
