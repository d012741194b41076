// Client sessions (seed 003) and the JWKS that verifies its JWTs, over REST,
// gRPC and Connect, against the real service and a real Redis.
import { randomBytes } from "node:crypto";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, type Client, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { createLocalJWKSet, decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify, type JSONWebKeySet } from "jose";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ClientSessionsService } from "../gen/sessionstorage/v1/client_sessions_service_pb.js";
import { JwksService } from "../gen/sessionstorage/v1/jwks_service_pb.js";
import { startTestApp, type TestApp, type TestClient } from "./support/test-app.js";

const ISSUER = "https://sessions.example.test";
const templates = {
  org: { lifetime_seconds: 120, claims: { email: "email", org: "org_id", plan: "plan" } },
  // Reserved claims (aud, sub, sid, iss, iat, exp) are refused at start-up (test/tenant-binding.test.ts).
  mailer: { lifetime_seconds: 30, claims: { mail: "email" } },
};

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ JWT_ISSUER: ISSUER, JWT_TEMPLATES: JSON.stringify(templates) });
});
afterAll(async () => t?.close());

// ---------- helpers ----------

interface Saved {
  id: string;
  token: string;
  userId: string;
}

const uid = (prefix = "usr") => `${prefix}_${randomBytes(5).toString("hex")}`;

/** Saves a session through the Secure Session Storage face (000); its token is minted and returned once. */
async function save(client: TestClient, userId: string, user?: Record<string, unknown>, app: TestApp = t): Promise<Saved> {
  const res = await fetch(`${app.baseUrl}/api/v1/session-storage`, {
    method: "POST",
    headers: { ...client.headers, "content-type": "application/json" },
    body: JSON.stringify(user ? { user_id: userId, user } : { user_id: userId }),
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { id: string; token: string; user_id: string };
  expect(body.user_id).toBe(userId);
  expect(typeof body.token).toBe("string");
  return { id: body.id, token: body.token, userId };
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

type Json = Record<string, any>;

async function call(method: "GET" | "POST", path: string, headers: Record<string, string> = {}, app: TestApp = t) {
  const res = await fetch(`${app.baseUrl}${path}`, { method, headers });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (text === "" ? undefined : JSON.parse(text)) as Json };
}

const sessionPath = (id: string, action = "") => `/v1/client/sessions/${encodeURIComponent(id)}${action ? `/${action}` : ""}`;

const isoMs = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

/** Asserts the documented Session object: every field by name and type. */
function expectRestSession(s: Json, expected: { id: string; userId: string; status: string }) {
  expect(s).toEqual(expect.objectContaining({
    id: expected.id,
    user_id: expected.userId,
    status: expected.status,
    last_active_at: expect.stringMatching(isoMs),
    expire_at: expect.stringMatching(isoMs),
    created_at: expect.stringMatching(isoMs),
    updated_at: expect.stringMatching(isoMs),
  }));
  expect(Date.parse(s.created_at)).toBeLessThanOrEqual(Date.parse(s.updated_at));
  expect(Date.parse(s.created_at)).toBeLessThanOrEqual(Date.parse(s.last_active_at));
  expect(Date.parse(s.expire_at)).toBeGreaterThan(Date.parse(s.created_at));
}

/** Asserts the documented reply {response, client}. */
function expectRestReply(body: Json, expected: { id: string; userId: string; status: string }) {
  expect(Object.keys(body).sort()).toEqual(["client", "response"]);
  expectRestSession(body.response, expected);
  expect(Array.isArray(body.client.sessions)).toBe(true);
  expect(typeof body.client.last_active_session_id).toBe("string");
  for (const s of body.client.sessions as Json[]) expectRestSession(s, { id: s.id, userId: expected.userId, status: "active" });
}

async function currentToken(client: TestClient, userId: string) {
  const res = await call("GET", `/api/v1/session-storage/current?user_id=${encodeURIComponent(userId)}`, client.headers);
  expect(res.status).toBe(200);
  return res.body as { token: string; id: string };
}

async function jwks(app: TestApp = t): Promise<JSONWebKeySet> {
  const res = await call("GET", "/.well-known/jwks.json", {}, app);
  expect(res.status).toBe(200);
  return res.body as JSONWebKeySet;
}

async function verify(jwt: string, app: TestApp = t, issuer = ISSUER) {
  return jwtVerify(jwt, createLocalJWKSet(await jwks(app)), { issuer, algorithms: ["ES256"] });
}

const grpcTransport = () => createGrpcTransport({ baseUrl: t.baseUrl });
const connectTransport = () => createConnectTransport({ baseUrl: t.baseUrl, httpVersion: "1.1" });

async function expectCode(p: Promise<unknown>, code: Code) {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `expected ${Code[code]}`).toBeInstanceOf(ConnectError);
  expect(Code[(error as ConnectError).code]).toBe(Code[code]);
  return error as ConnectError;
}

// ---------- REST: get ----------

describe("GET /v1/client/sessions/{session_id}", () => {
  test("with the session's own Bearer token returns {response, client}", async () => {
    const userId = uid();
    const s = await save(t.clientA, userId);
    const res = await call("GET", sessionPath(s.id), bearer(s.token));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expectRestReply(res.body, { id: s.id, userId, status: "active" });
    expect(res.body.client.sessions.map((x: Json) => x.id)).toEqual([s.id]);
    expect(res.body.client.last_active_session_id).toBe(s.id);
  });

  test("with a Bearer token of the same user reaches that user's other sessions", async () => {
    const userId = uid();
    const first = await save(t.clientA, userId);
    const second = await save(t.clientA, userId);
    const res = await call("GET", sessionPath(first.id), bearer(second.token));
    expect(res.status).toBe(200);
    expectRestReply(res.body, { id: first.id, userId, status: "active" });
    // The user's sessions, oldest first; the last saved one is current.
    expect(res.body.client.sessions.map((x: Json) => x.id)).toEqual([first.id, second.id]);
    expect(res.body.client.last_active_session_id).toBe(second.id);
  });

  test("with API client credentials returns any session of that tenant", async () => {
    const userId = uid();
    const s = await save(t.clientA, userId, { email: "a@example.com" });
    const res = await call("GET", sessionPath(s.id), t.clientA.headers);
    expect(res.status).toBe(200);
    expectRestReply(res.body, { id: s.id, userId, status: "active" });
    expect(res.body.client.last_active_session_id).toBe(s.id);
  });

  test("another user's session is 404 for a Bearer caller", async () => {
    const mine = await save(t.clientA, uid());
    const theirs = await save(t.clientA, uid());
    const res = await call("GET", sessionPath(theirs.id), bearer(mine.token));
    expect(res.status).toBe(404);
    expect(res.body.code).toBe("not_found");
    expect(typeof res.body.message).toBe("string");
  });

  test("another tenant's session is 404, with API client credentials or a Bearer token", async () => {
    const userId = uid();
    const inA = await save(t.clientA, userId);
    // The same user id in tenant B is a different user.
    const inB = await save(t.clientB, userId);
    expect((await call("GET", sessionPath(inA.id), t.clientB.headers)).status).toBe(404);
    expect((await call("GET", sessionPath(inA.id), bearer(inB.token))).status).toBe(404);
    expect((await call("GET", sessionPath(inB.id), bearer(inA.token))).status).toBe(404);
    expect((await call("GET", sessionPath(inB.id), t.clientB.headers)).status).toBe(200);
  });

  test("an unknown or malformed session id is 404", async () => {
    const s = await save(t.clientA, uid());
    expect((await call("GET", sessionPath(`${s.userId}.00000000.00000000`), t.clientA.headers)).status).toBe(404);
    expect((await call("GET", sessionPath("no-such-session"), t.clientA.headers)).status).toBe(404);
    expect((await call("GET", sessionPath("no-such-session"), bearer(s.token))).status).toBe(404);
  });

  test("without credentials, with an unknown token or wrong client secret it is 401", async () => {
    const s = await save(t.clientA, uid());
    const none = await call("GET", sessionPath(s.id));
    expect(none.status).toBe(401);
    expect(none.body.code).toBe("unauthenticated");
    expect((await call("GET", sessionPath(s.id), bearer(randomBytes(32).toString("base64url")))).status).toBe(401);
    expect((await call("GET", sessionPath(s.id), { ClientID: t.clientA.id, ClientSecret: "wrong" })).status).toBe(401);
  });

  test("a Bearer call is activity: it moves last_active_at and slides expire_at", async () => {
    const s = await save(t.clientA, uid());
    const before = (await call("GET", sessionPath(s.id), t.clientA.headers)).body.response;
    await new Promise((r) => setTimeout(r, 30));
    const after = (await call("GET", sessionPath(s.id), bearer(s.token))).body.response;
    expect(Date.parse(after.last_active_at)).toBeGreaterThan(Date.parse(before.last_active_at));
    expect(Date.parse(after.expire_at)).toBeGreaterThan(Date.parse(before.expire_at));
    expect(after.created_at).toBe(before.created_at);
  });
});

// ---------- REST: touch ----------

describe("POST /v1/client/sessions/{session_id}/touch", () => {
  test("makes the session the user's current one (API client)", async () => {
    const userId = uid();
    const older = await save(t.clientA, userId);
    const newer = await save(t.clientA, userId);
    expect((await currentToken(t.clientA, userId)).token).toBe(newer.token);

    const before = (await call("GET", sessionPath(older.id), t.clientA.headers)).body.response;
    await new Promise((r) => setTimeout(r, 10));
    const res = await call("POST", sessionPath(older.id, "touch"), t.clientA.headers);
    expect(res.status).toBe(200);
    expectRestReply(res.body, { id: older.id, userId, status: "active" });
    expect(res.body.client.last_active_session_id).toBe(older.id);
    expect(res.body.client.sessions.map((x: Json) => x.id)).toEqual([older.id, newer.id]);
    expect(Date.parse(res.body.response.last_active_at)).toBeGreaterThan(Date.parse(before.last_active_at));

    const current = await currentToken(t.clientA, userId);
    expect(current.token).toBe(older.token);
    expect(current.id).toBe(older.id);
  });

  test("makes the session current with a Bearer token of the same user", async () => {
    const userId = uid();
    const older = await save(t.clientA, userId);
    const newer = await save(t.clientA, userId);
    const res = await call("POST", sessionPath(older.id, "touch"), bearer(newer.token));
    expect(res.status).toBe(200);
    expect(res.body.response.id).toBe(older.id);
    expect(res.body.client.last_active_session_id).toBe(older.id);
    expect((await currentToken(t.clientA, userId)).token).toBe(older.token);
    // Touching back moves it again.
    const back = await call("POST", sessionPath(newer.id, "touch"), bearer(newer.token));
    expect(back.body.client.last_active_session_id).toBe(newer.id);
    expect((await currentToken(t.clientA, userId)).token).toBe(newer.token);
  });

  test("touch is activity on the touched session: its idle expiry slides with last_active_at", async () => {
    const userId = uid();
    const touched = await save(t.clientA, userId);
    const other = await save(t.clientA, userId);
    const before = (await call("GET", sessionPath(touched.id), t.clientA.headers)).body.response;
    await new Promise((r) => setTimeout(r, 50));
    for (const headers of [t.clientA.headers, bearer(other.token)]) {
      const res = await call("POST", sessionPath(touched.id, "touch"), headers);
      expect(res.status).toBe(200);
      const s = res.body.response;
      // expires_at = last_accessed + idle timeout while sliding (DESIGN "Expiry").
      expect(Date.parse(s.expire_at)).toBe(Date.parse(s.last_active_at) + t.config.idleTimeoutSeconds * 1000);
      expect(Date.parse(s.expire_at)).toBeGreaterThan(Date.parse(before.expire_at));
    }
  });

  test("touch leaves a fixed expiry (000 expires_at) where it is", async () => {
    const userId = uid();
    const expiresAt = new Date(Date.now() + 3600_000).toISOString();
    const res = await fetch(`${t.baseUrl}/api/v1/session-storage`, {
      method: "POST",
      headers: { ...t.clientA.headers, "content-type": "application/json" },
      body: JSON.stringify({ user_id: userId, expires_at: expiresAt }),
    });
    expect(res.status).toBe(200);
    const { id } = (await res.json()) as { id: string };
    const touched = await call("POST", sessionPath(id, "touch"), t.clientA.headers);
    expect(touched.status).toBe(200);
    expect(Date.parse(touched.body.response.expire_at)).toBe(Date.parse(expiresAt));
  });

  test("another user's or tenant's session is 404; no credentials is 401", async () => {
    const userId = uid();
    const mine = await save(t.clientA, userId);
    const theirs = await save(t.clientA, uid());
    expect((await call("POST", sessionPath(theirs.id, "touch"), bearer(mine.token))).status).toBe(404);
    expect((await call("POST", sessionPath(mine.id, "touch"), t.clientB.headers)).status).toBe(404);
    expect((await call("POST", sessionPath(mine.id, "touch"))).status).toBe(401);
    // Nothing moved.
    expect((await currentToken(t.clientA, userId)).token).toBe(mine.token);
  });
});

// ---------- REST: end and remove ----------

describe.each([
  ["end", "ended"],
  ["remove", "removed"],
] as const)("POST /v1/client/sessions/{session_id}/%s", (action, status) => {
  test(`sets status "${status}" and the token stops authenticating everywhere (Bearer)`, async () => {
    const userId = uid();
    const other = await save(t.clientA, userId);
    const s = await save(t.clientA, userId);
    const res = await call("POST", sessionPath(s.id, action), bearer(s.token));
    expect(res.status).toBe(200);
    expectRestReply(res.body, { id: s.id, userId, status });
    // The client lists the user's live sessions; the dead one is no longer current.
    expect(res.body.client.sessions.map((x: Json) => x.id)).toEqual([other.id]);
    expect(res.body.client.last_active_session_id).not.toBe(s.id);

    // Auth status (002): 401, valid false.
    const status002 = await call("GET", "/auth/status", bearer(s.token));
    expect(status002.status).toBe(401);
    expect(status002.body).toEqual({ success: true, valid: false, message: expect.stringMatching(/^Session expired or invalid \[request_id: .+\]$/) });
    // Cookie sessions (004): the expired message.
    const validate = await fetch(`${t.baseUrl}/api/session/validateSession`, { method: "POST", headers: { Cookie: `sessionCookie=${s.token}` } });
    expect(validate.status).toBe(400);
    expect(await validate.json()).toEqual({ message: "Invalid request: session cookie is expired. Please create a new session." });
    // Client sessions (003) with the dead token: 401.
    expect((await call("GET", sessionPath(s.id), bearer(s.token))).status).toBe(401);
    expect((await call("POST", sessionPath(s.id, "touch"), bearer(s.token))).status).toBe(401);
    expect((await call("POST", sessionPath(s.id, "tokens"), bearer(s.token))).status).toBe(401);
    // 000 current no longer returns it.
    expect((await currentToken(t.clientA, userId)).token).toBe(other.token);

    // The other session of the user is untouched.
    expect((await call("GET", sessionPath(other.id), bearer(other.token))).status).toBe(200);
  });

  test(`keeps the ${status} session visible to its API client, and refuses to touch it (400)`, async () => {
    const userId = uid();
    const s = await save(t.clientA, userId);
    const res = await call("POST", sessionPath(s.id, action), t.clientA.headers);
    expect(res.status).toBe(200);
    expectRestReply(res.body, { id: s.id, userId, status });
    expect(res.body.client.sessions).toEqual([]);
    expect(res.body.client.last_active_session_id).toBe("");

    const got = await call("GET", sessionPath(s.id), t.clientA.headers);
    expect(got.status).toBe(200);
    expect(got.body.response.status).toBe(status);

    const touched = await call("POST", sessionPath(s.id, "touch"), t.clientA.headers);
    expect(touched.status).toBe(400);
    expect(touched.body.code).toBe("failed_precondition");
    expect(typeof touched.body.message).toBe("string");
    // Ending or removing again is refused the same way; no token is issued for it.
    expect((await call("POST", sessionPath(s.id, action), t.clientA.headers)).status).toBe(400);
    expect((await call("POST", sessionPath(s.id, "tokens"), t.clientA.headers)).status).toBe(404);
    // The session stays out of 000's current.
    expect((await call("GET", `/api/v1/session-storage/current?user_id=${userId}`, t.clientA.headers)).status).toBe(404);
  });

  test("another user's or tenant's session is 404; no credentials is 401", async () => {
    const mine = await save(t.clientA, uid());
    const theirs = await save(t.clientA, uid());
    expect((await call("POST", sessionPath(theirs.id, action), bearer(mine.token))).status).toBe(404);
    expect((await call("POST", sessionPath(mine.id, action), t.clientB.headers)).status).toBe(404);
    expect((await call("POST", sessionPath(mine.id, action))).status).toBe(401);
    expect((await call("GET", sessionPath(theirs.id), t.clientA.headers)).body.response.status).toBe("active");
    expect((await call("GET", sessionPath(mine.id), bearer(mine.token))).body.response.status).toBe("active");
  });
});

test("a session ended with one token can be ended by another token of the same user", async () => {
  const userId = uid();
  const a = await save(t.clientA, userId);
  const b = await save(t.clientA, userId);
  const res = await call("POST", sessionPath(a.id, "end"), bearer(b.token));
  expect(res.status).toBe(200);
  expect(res.body.response.status).toBe("ended");
  expect((await call("GET", "/auth/status", bearer(a.token))).status).toBe(401);
  expect((await call("GET", "/auth/status", bearer(b.token))).status).toBe(200);
});

// ---------- REST: tokens ----------

describe("POST /v1/client/sessions/{session_id}/tokens", () => {
  test("returns {jwt}: ES256, verifiable with the JWKS, sub/sid/iat/exp/iss, 60 s by default", async () => {
    const userId = uid();
    const s = await save(t.clientA, userId);
    const res = await call("POST", sessionPath(s.id, "tokens"), bearer(s.token));
    expect(res.status).toBe(200);
    expect(Object.keys(res.body)).toEqual(["jwt"]);
    expect(typeof res.body.jwt).toBe("string");

    const { payload, protectedHeader } = await verify(res.body.jwt);
    expect(protectedHeader.alg).toBe("ES256");
    expect(protectedHeader.kid).toBe(t.config.jwtSigningKeys[0]!.kid);
    expect(payload.sub).toBe(userId);
    expect(payload.sid).toBe(s.id);
    expect(payload.iss).toBe(ISSUER);
    expect(Number.isInteger(payload.iat)).toBe(true);
    expect(Math.abs(payload.iat! - Date.now() / 1000)).toBeLessThan(5);
    expect(payload.exp! - payload.iat!).toBe(60);
  });

  test("with API client credentials, for any session of the tenant", async () => {
    const userId = uid();
    const s = await save(t.clientA, userId);
    const res = await call("POST", sessionPath(s.id, "tokens"), t.clientA.headers);
    expect(res.status).toBe(200);
    const { payload } = await verify(res.body.jwt);
    expect(payload.sub).toBe(userId);
    expect(payload.sid).toBe(s.id);
  });

  test("a Bearer token of the same user gets a JWT for its other session", async () => {
    const userId = uid();
    const a = await save(t.clientA, userId);
    const b = await save(t.clientA, userId);
    const res = await call("POST", sessionPath(a.id, "tokens"), bearer(b.token));
    expect(res.status).toBe(200);
    expect((await verify(res.body.jwt)).payload.sid).toBe(a.id);
  });

  test("is 401 without credentials, 404 for another user's, another tenant's or an unknown session", async () => {
    const mine = await save(t.clientA, uid());
    const theirs = await save(t.clientA, uid());
    expect((await call("POST", sessionPath(mine.id, "tokens"))).status).toBe(401);
    expect((await call("POST", sessionPath(theirs.id, "tokens"), bearer(mine.token))).status).toBe(404);
    expect((await call("POST", sessionPath(mine.id, "tokens"), t.clientB.headers)).status).toBe(404);
    expect((await call("POST", sessionPath(`${mine.userId}.00000000.00000000`, "tokens"), t.clientA.headers)).status).toBe(404);
  });

  test("a JWT does not verify against another issuer or a tampered payload", async () => {
    const s = await save(t.clientA, uid());
    const { jwt } = (await call("POST", sessionPath(s.id, "tokens"), bearer(s.token))).body;
    await expect(jwtVerify(jwt, createLocalJWKSet(await jwks()), { issuer: "someone-else" })).rejects.toThrow();
    const [h, p, sig] = (jwt as string).split(".");
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, "base64url").toString()), sub: "admin" })).toString("base64url");
    await expect(verify(`${h}.${forged}.${sig}`)).rejects.toThrow();
  });
});

describe("POST /v1/client/sessions/{session_id}/tokens/{template_name}", () => {
  test("a configured template adds claims from the profile and uses its lifetime", async () => {
    const userId = uid();
    const s = await save(t.clientA, userId, { email: "ada@example.com", org_id: "org_42", role: "admin" });
    const res = await call("POST", sessionPath(s.id, "tokens/org"), bearer(s.token));
    expect(res.status).toBe(200);
    expect(Object.keys(res.body)).toEqual(["jwt"]);
    const { payload, protectedHeader } = await verify(res.body.jwt);
    expect(protectedHeader.kid).toBe(t.config.jwtSigningKeys[0]!.kid);
    expect(payload).toEqual({
      sub: userId,
      sid: s.id,
      aud: t.clientA.id,
      iss: ISSUER,
      iat: expect.any(Number),
      exp: expect.any(Number),
      email: "ada@example.com",
      org: "org_42",
    });
    expect(payload.exp! - payload.iat!).toBe(120);
  });

  test("with API client credentials too; profile fields that are missing are left out", async () => {
    const userId = uid();
    const s = await save(t.clientA, userId, { email: "bob@example.com" });
    const res = await call("POST", sessionPath(s.id, "tokens/org"), t.clientA.headers);
    expect(res.status).toBe(200);
    const { payload } = await verify(res.body.jwt);
    expect(payload.email).toBe("bob@example.com");
    expect(payload).not.toHaveProperty("org");
    expect(payload).not.toHaveProperty("plan");
    expect(payload.sub).toBe(userId);
  });

  test("a template's claims come with sub, sid, aud, iss, iat and exp of the session, never instead of them", async () => {
    const userId = uid();
    const s = await save(t.clientA, userId, { email: "mallory@example.com", n: 9_999_999_999, sub: "admin", aud: "other" });
    const res = await call("POST", sessionPath(s.id, "tokens/mailer"), bearer(s.token));
    expect(res.status).toBe(200);
    const { payload } = await verify(res.body.jwt);
    expect(payload.sub).toBe(userId);
    expect(payload.sid).toBe(s.id);
    expect(payload.aud).toBe(t.clientA.id);
    expect(payload.iss).toBe(ISSUER);
    expect(payload.mail).toBe("mallory@example.com");
    expect(payload.exp! - payload.iat!).toBe(30);
    expect(Math.abs(payload.iat! - Date.now() / 1000)).toBeLessThan(5);
  });

  test("an unknown template is 404", async () => {
    const s = await save(t.clientA, uid());
    const res = await call("POST", sessionPath(s.id, "tokens/nope"), bearer(s.token));
    expect(res.status).toBe(404);
    expect(res.body.code).toBe("not_found");
    expect((await call("POST", sessionPath(s.id, "tokens/nope"), t.clientA.headers)).status).toBe(404);
    // Names inherited from Object.prototype are not templates either.
    expect((await call("POST", sessionPath(s.id, "tokens/constructor"), t.clientA.headers)).status).toBe(404);
  });

  test("credentials are checked before the template: no credentials is 401, another user's session 404", async () => {
    const mine = await save(t.clientA, uid());
    const theirs = await save(t.clientA, uid());
    expect((await call("POST", sessionPath(mine.id, "tokens/org"))).status).toBe(401);
    expect((await call("POST", sessionPath(mine.id, "tokens/nope"))).status).toBe(401);
    expect((await call("POST", sessionPath(mine.id, "tokens/org"), bearer(randomBytes(32).toString("base64url")))).status).toBe(401);
    expect((await call("POST", sessionPath(theirs.id, "tokens/org"), bearer(mine.token))).status).toBe(404);
    expect((await call("POST", sessionPath(mine.id, "tokens/org"), t.clientB.headers)).status).toBe(404);
  });
});

// ---------- JWKS ----------

describe("GET /.well-known/jwks.json", () => {
  test("publishes the public signing key without credentials, and no private part", async () => {
    const res = await call("GET", "/.well-known/jwks.json");
    expect(res.status).toBe(200);
    const keys = res.body.keys as Json[];
    expect(keys).toHaveLength(1);
    const [key] = keys;
    expect(key).toEqual({
      kty: "EC",
      crv: "P-256",
      x: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      y: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      kid: t.config.jwtSigningKeys[0]!.kid,
      alg: "ES256",
      use: "sig",
    });
    expect(key).not.toHaveProperty("d");
    expect(JSON.stringify(res.body)).not.toContain(String(t.config.jwtSigningKeys[0]!.d));
    expect(key!.x).toBe(t.config.jwtSigningKeys[0]!.x);
    expect(key!.y).toBe(t.config.jwtSigningKeys[0]!.y);
  });

  test("with two configured keys both are published, the first signs; JWT_TTL_SECONDS sets the default lifetime", async () => {
    const make = async (kid: string) => ({ ...(await exportJWK((await generateKeyPair("ES256", { extractable: true })).privateKey)), kid });
    const active = await make(`active-${randomBytes(3).toString("hex")}`);
    const next = await make(`next-${randomBytes(3).toString("hex")}`);
    const app = await startTestApp({ JWT_SIGNING_KEYS: JSON.stringify([active, next]), JWT_TTL_SECONDS: "300" });
    try {
      const set = await jwks(app);
      expect(set.keys.map((k) => k.kid)).toEqual([active.kid, next.kid]);
      for (const k of set.keys) {
        expect(k).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256", use: "sig" });
        expect(k).not.toHaveProperty("d");
      }
      expect(set.keys[1]!.x).toBe(next.x);

      const userId = uid();
      const s = await save(app.clientA, userId, undefined, app);
      const res = await call("POST", sessionPath(s.id, "tokens"), bearer(s.token), app);
      expect(res.status).toBe(200);
      expect(decodeProtectedHeader(res.body.jwt).kid).toBe(active.kid);
      const { payload } = await verify(res.body.jwt, app, "secure-session-storage");
      expect(payload.sub).toBe(userId);
      expect(payload.exp! - payload.iat!).toBe(300);
    } finally {
      await app.close();
    }
  });
});

// ---------- gRPC and Connect ----------

describe.each([
  ["gRPC", grpcTransport],
  ["Connect", connectTransport],
] as const)("ClientSessionsService over %s", (_name, makeTransport) => {
  let transport: Transport;
  let sessions: Client<typeof ClientSessionsService>;
  let keys: Client<typeof JwksService>;
  beforeAll(() => {
    transport = makeTransport();
    sessions = createClient(ClientSessionsService, transport);
    keys = createClient(JwksService, transport);
  });

  const apiA = () => ({ headers: { clientid: t.clientA.id, clientsecret: t.clientA.secret } });
  const apiB = () => ({ headers: { clientid: t.clientB.id, clientsecret: t.clientB.secret } });
  const auth = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

  test("GetClientSession with a Bearer token and with API client credentials", async () => {
    const userId = uid();
    const older = await save(t.clientA, userId);
    const s = await save(t.clientA, userId);
    for (const options of [auth(s.token), auth(older.token), apiA()]) {
      const reply = await sessions.getClientSession({ sessionId: s.id }, options);
      expect(reply.response).toBeDefined();
      const r = reply.response!;
      expect(r.id).toBe(s.id);
      expect(r.userId).toBe(userId);
      expect(r.status).toBe("active");
      for (const ts of [r.lastActiveAt, r.expireAt, r.createdAt, r.updatedAt]) {
        expect(ts).toBeDefined();
        expect(Math.abs(timestampMs(ts!) - Date.now())).toBeLessThan(3 * 3600_000);
      }
      expect(timestampMs(r.expireAt!)).toBeGreaterThan(Date.now());
      expect(reply.client!.sessions.map((x) => x.id)).toEqual([older.id, s.id]);
      expect(reply.client!.lastActiveSessionId).toBe(s.id);
    }
  });

  test("errors: UNAUTHENTICATED without credentials, NOT_FOUND across users and tenants", async () => {
    const mine = await save(t.clientA, uid());
    const theirs = await save(t.clientA, uid());
    await expectCode(sessions.getClientSession({ sessionId: mine.id }), Code.Unauthenticated);
    await expectCode(sessions.getClientSession({ sessionId: mine.id }, auth(randomBytes(32).toString("base64url"))), Code.Unauthenticated);
    await expectCode(sessions.getClientSession({ sessionId: theirs.id }, auth(mine.token)), Code.NotFound);
    await expectCode(sessions.getClientSession({ sessionId: mine.id }, apiB()), Code.NotFound);
    await expectCode(sessions.touchClientSession({ sessionId: theirs.id }, auth(mine.token)), Code.NotFound);
    await expectCode(sessions.endClientSession({ sessionId: mine.id }, apiB()), Code.NotFound);
    await expectCode(sessions.removeClientSession({ sessionId: mine.id }), Code.Unauthenticated);
    await expectCode(sessions.createSessionToken({ sessionId: mine.id }), Code.Unauthenticated);
    await expectCode(sessions.createSessionTokenFromTemplate({ sessionId: mine.id, templateName: "org" }), Code.Unauthenticated);
  });

  test("TouchClientSession makes the session current; 000 current then returns its token", async () => {
    const userId = uid();
    const older = await save(t.clientA, userId);
    const newer = await save(t.clientA, userId);
    const reply = await sessions.touchClientSession({ sessionId: older.id }, auth(newer.token));
    expect(reply.response!.id).toBe(older.id);
    expect(reply.client!.lastActiveSessionId).toBe(older.id);
    expect((await currentToken(t.clientA, userId)).token).toBe(older.token);
    const again = await sessions.touchClientSession({ sessionId: newer.id }, apiA());
    expect(again.client!.lastActiveSessionId).toBe(newer.id);
    expect((await currentToken(t.clientA, userId)).token).toBe(newer.token);
  });

  test("EndClientSession and RemoveClientSession set the status; the token dies; touching is FAILED_PRECONDITION", async () => {
    const userId = uid();
    const ended = await save(t.clientA, userId);
    const removed = await save(t.clientA, userId);
    const e = await sessions.endClientSession({ sessionId: ended.id }, auth(ended.token));
    expect(e.response!.status).toBe("ended");
    const r = await sessions.removeClientSession({ sessionId: removed.id }, apiA());
    expect(r.response!.status).toBe("removed");
    expect(r.client!.sessions).toEqual([]);
    expect(r.client!.lastActiveSessionId).toBe("");
    for (const s of [ended, removed]) {
      await expectCode(sessions.getClientSession({ sessionId: s.id }, auth(s.token)), Code.Unauthenticated);
      await expectCode(sessions.touchClientSession({ sessionId: s.id }, apiA()), Code.FailedPrecondition);
      expect((await call("GET", "/auth/status", bearer(s.token))).status).toBe(401);
    }
    expect((await sessions.getClientSession({ sessionId: ended.id }, apiA())).response!.status).toBe("ended");
    expect((await sessions.getClientSession({ sessionId: removed.id }, apiA())).response!.status).toBe("removed");
  });

  test("CreateSessionToken and CreateSessionTokenFromTemplate issue verifiable JWTs; unknown template is NOT_FOUND", async () => {
    const userId = uid();
    const s = await save(t.clientA, userId, { email: "grace@example.com", org_id: "org_7" });
    const plain = await sessions.createSessionToken({ sessionId: s.id }, auth(s.token));
    const p = (await verify(plain.jwt)).payload;
    expect([p.sub, p.sid, p.iss, p.exp! - p.iat!]).toEqual([userId, s.id, ISSUER, 60]);

    const templated = await sessions.createSessionTokenFromTemplate({ sessionId: s.id, templateName: "org" }, apiA());
    const q = (await verify(templated.jwt)).payload;
    expect([q.sub, q.sid, q.email, q.org, q.exp! - q.iat!]).toEqual([userId, s.id, "grace@example.com", "org_7", 120]);

    await expectCode(sessions.createSessionTokenFromTemplate({ sessionId: s.id, templateName: "nope" }, auth(s.token)), Code.NotFound);
  });

  test("JwksService.GetJwks returns the same keys as /.well-known/jwks.json", async () => {
    const reply = await keys.getJwks({});
    expect(reply.keys.map((k) => ({ kty: k.kty, crv: k.crv, x: k.x, y: k.y, kid: k.kid, alg: k.alg, use: k.use }))).toEqual((await jwks()).keys);
  });
});
