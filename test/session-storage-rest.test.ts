/**
 * The Secure Session Storage document (seed 000) over plain JSON/HTTP/1.1:
 * every documented endpoint, field and status; tenancy; credentials; input
 * limits (and that rejected input stores nothing); expiry by real waiting;
 * request ids; unknown paths and methods. Real service, real Redis.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { redisKeys } from "../src/store/redis-keys.js";
import { scanAllKeys } from "./support/scan-all-keys.js";
import { startTestApp, type TestApp, type TestClient } from "./support/test-app.js";

const BASE = "/api/v1/session-storage";
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
// 256 random bits, the key id, then the session's location sealed (AES-GCM): base64url parts.
const MINTED_TOKEN = /^[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{1,32}\.[A-Za-z0-9_-]{64,}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const CLEARED_MESSAGE = "All session tokens cleared from secure storage";

type Json = Record<string, any>;

interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The parsed JSON body ({} when the body is empty). */
  readonly body: Json;
}

interface CallOptions {
  readonly headers?: Record<string, string>;
  /** Sent as JSON. */
  readonly json?: unknown;
  /** Sent verbatim. */
  readonly raw?: string;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const inSeconds = (s: number) => new Date(Date.now() + s * 1000).toISOString();
const preview = (token: string) => `${token.slice(0, 8)}...${token.slice(-4)}`;
/** A caller-supplied token that looks like a JWT and is unique per call. */
const jwtLike = () => `eyJhbGciOiJIUzI1NiJ9.${randomBytes(24).toString("base64url")}`;
const query = (params: Record<string, string | number>) => `?${new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)]))}`;

async function call(t: TestApp, method: string, path: string, options: CallOptions = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | undefined;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers["content-type"] = "application/json";
  } else if (options.raw !== undefined) {
    body = options.raw;
    headers["content-type"] = "application/json";
  }
  const res = await fetch(`${t.baseUrl}${path}`, { method, headers, body });
  const text = await res.text();
  let parsed: Json = {};
  if (text !== "") {
    try {
      parsed = JSON.parse(text) as Json;
    } catch {
      throw new Error(`${method} ${path} answered ${res.status} with a body that is not JSON: ${text}`);
    }
  }
  return { status: res.status, headers: res.headers, text, body: parsed };
}

/** Saves a session and insists on success. */
async function save(t: TestApp, client: TestClient, request: Json): Promise<Json> {
  const reply = await call(t, "POST", BASE, { headers: client.headers, json: request });
  expect(reply.status, reply.text).toBe(200);
  return reply.body;
}

async function list(t: TestApp, client: TestClient, params: Record<string, string | number> = {}): Promise<Json> {
  const reply = await call(t, "GET", `${BASE}${Object.keys(params).length ? query(params) : ""}`, { headers: client.headers });
  expect(reply.status, reply.text).toBe(200);
  return reply.body;
}

async function clearTenant(t: TestApp, client: TestClient) {
  const reply = await call(t, "DELETE", BASE, { headers: client.headers });
  expect(reply.status, reply.text).toBe(200);
}

/**
 * Every Redis key the service holds for a tenant's sessions (sessions, user
 * indexes, current pointers, tenant index). Its event streams are not
 * session state: they keep what happened for the events retention.
 */
async function tenantKeys(t: TestApp, tenantId: string): Promise<string[]> {
  const keys: string[] = [];
  for (const pattern of redisKeys.tenantPatterns(tenantId)) keys.push(...(await scanAllKeys(t.redis, pattern)));
  return keys.filter((k) => !k.endsWith("}:e")).sort();
}

/** Asserts a JSON error: the status, a JSON content type and a non-empty message. */
function expectError(reply: Reply, status: number, messagePattern?: RegExp) {
  expect(reply.status, reply.text).toBe(status);
  expect(reply.headers.get("content-type")).toMatch(/^application\/json/);
  expect(typeof reply.body.message).toBe("string");
  expect(reply.body.message.length).toBeGreaterThan(0);
  if (messagePattern) expect(reply.body.message).toMatch(messagePattern);
  // Never a stack trace.
  expect(reply.text).not.toMatch(/\bat .+\.(ts|js):\d+/);
}

function expectTimestamp(value: unknown) {
  expect(typeof value).toBe("string");
  expect(value).toMatch(RFC3339);
  expect(Number.isNaN(Date.parse(value as string))).toBe(false);
}

/** The fields the document shows for a session in a list (and in PUT's reply). */
function expectStoredSessionFields(s: Json) {
  expect(typeof s.id).toBe("string");
  expect(s.id.length).toBeGreaterThan(0);
  expect(typeof s.user_id).toBe("string");
  expect(typeof s.token_preview).toBe("string");
  expect(s.token_preview).toMatch(/^.{8}\.\.\..{4}$/);
  expectTimestamp(s.expires_at);
  expect(typeof s.is_valid).toBe("boolean");
  expectTimestamp(s.saved_at);
}

const sameInstant = (a: string, b: string) => expect(Date.parse(a)).toBe(Date.parse(b));

// ---------------------------------------------------------------------------

describe("Secure Session Storage over REST", () => {
  let t: TestApp;
  let A: TestClient;
  let B: TestClient;

  beforeAll(async () => {
    t = await startTestApp();
    A = t.clientA;
    B = t.clientB;
  });
  afterAll(async () => t.close());
  beforeEach(async () => {
    await clearTenant(t, A);
    await clearTenant(t, B);
  });

  describe("documented endpoints", () => {
    it("POST with user_id, token and expires_at stores the session and answers every documented field", async () => {
      const token = jwtLike();
      const expiresAt = inSeconds(3600);
      const before = Date.now();
      const reply = await call(t, "POST", BASE, { headers: A.headers, json: { user_id: "usr_9a2f31", token, expires_at: expiresAt } });
      const after = Date.now();
      expect(reply.status, reply.text).toBe(200);
      expect(reply.headers.get("content-type")).toMatch(/^application\/json/);
      const s = reply.body;
      expectStoredSessionFields(s);
      expect(s.user_id).toBe("usr_9a2f31");
      expect(s.token_preview).toBe(preview(token));
      sameInstant(s.expires_at, expiresAt);
      expect(s.is_valid).toBe(true);
      expectTimestamp(s.created_at);
      expect(s.saved_at).toBe(s.created_at);
      expect(Date.parse(s.created_at)).toBeGreaterThanOrEqual(before - 1000);
      expect(Date.parse(s.created_at)).toBeLessThanOrEqual(after + 1000);
      // A caller's own token is not echoed back in full.
      expect(s).not.toHaveProperty("token");

      // It is stored: one session hash for this tenant, holding no clear token.
      const keys = await tenantKeys(t, A.id);
      const sessionKeys = keys.filter((k) => k.includes(":s:"));
      expect(sessionKeys).toHaveLength(1);
      const stored = await t.redis.hgetall(sessionKeys[0]!);
      expect(Object.values(stored).some((v) => v.includes(token) || v.includes(token.slice(20)))).toBe(false);
    });

    it("POST without a token mints one, returns it once (base64url parts), and GET {id} returns the same", async () => {
      const s = await save(t, A, { user_id: "usr_mint" });
      expect(s.token).toMatch(MINTED_TOKEN);
      expect(s.token_preview).toBe(preview(s.token));
      expect(s.is_valid).toBe(true);
      expectStoredSessionFields(s);
      expectTimestamp(s.created_at);

      const got = await call(t, "GET", `${BASE}/${encodeURIComponent(s.id)}`, { headers: A.headers });
      expect(got.status, got.text).toBe(200);
      expect(got.body.token).toBe(s.token);
    });

    it("POST without expires_at expires after the idle timeout (default 7200 s)", async () => {
      const before = Date.now();
      const s = await save(t, A, { user_id: "usr_idle_default" });
      const after = Date.now();
      const expires = Date.parse(s.expires_at);
      expect(expires).toBeGreaterThanOrEqual(before + 7200_000 - 1000);
      expect(expires).toBeLessThanOrEqual(after + 7200_000 + 1000);
    });

    it("GET {id} returns id, user_id, the full token, expires_at, is_valid and saved_at", async () => {
      const token = jwtLike();
      const expiresAt = inSeconds(1800);
      const s = await save(t, A, { user_id: "usr_get", token, expires_at: expiresAt });
      const reply = await call(t, "GET", `${BASE}/${encodeURIComponent(s.id)}`, { headers: A.headers });
      expect(reply.status, reply.text).toBe(200);
      const g = reply.body;
      expect(g.id).toBe(s.id);
      expect(g.user_id).toBe("usr_get");
      expect(g.token).toBe(token);
      sameInstant(g.expires_at, expiresAt);
      expectTimestamp(g.expires_at);
      expect(g.is_valid).toBe(true);
      expectTimestamp(g.saved_at);
      expect(g.saved_at).toBe(s.saved_at);
    });

    it("GET list answers {data:[…], pagination:{page, limit, total}} with documented fields and no full tokens", async () => {
      const token = jwtLike();
      const s = await save(t, A, { user_id: "usr_list", token, expires_at: inSeconds(600) });
      const reply = await call(t, "GET", BASE, { headers: A.headers });
      expect(reply.status, reply.text).toBe(200);
      expect(Array.isArray(reply.body.data)).toBe(true);
      expect(reply.body.data).toHaveLength(1);
      const item = reply.body.data[0] as Json;
      expectStoredSessionFields(item);
      expect(item.id).toBe(s.id);
      expect(item.user_id).toBe("usr_list");
      expect(item.token_preview).toBe(preview(token));
      sameInstant(item.expires_at, s.expires_at);
      expect(item.is_valid).toBe(true);
      expect(item.saved_at).toBe(s.saved_at);
      expect(item).not.toHaveProperty("token");
      expect(reply.text).not.toContain(token);
      expect(reply.body.pagination).toEqual({ page: 1, limit: 20, total: 1 });
    });

    it("GET list of an empty tenant is an empty page", async () => {
      expect(await list(t, A)).toEqual({ data: [], pagination: { page: 1, limit: 20, total: 0 } });
    });

    it("GET current answers token, expires_at and is_valid of the user's most recently saved session", async () => {
      await save(t, A, { user_id: "usr_cur", token: jwtLike(), expires_at: inSeconds(900) });
      const token = jwtLike();
      const latest = await save(t, A, { user_id: "usr_cur", token, expires_at: inSeconds(1200) });
      await save(t, A, { user_id: "usr_other", token: jwtLike() });
      const reply = await call(t, "GET", `${BASE}/current${query({ user_id: "usr_cur" })}`, { headers: A.headers });
      expect(reply.status, reply.text).toBe(200);
      expect(typeof reply.body.token).toBe("string");
      expect(reply.body.token).toBe(token);
      expectTimestamp(reply.body.expires_at);
      sameInstant(reply.body.expires_at, latest.expires_at);
      expect(reply.body.is_valid).toBe(true);
    });

    it("GET validity answers is_valid, expires_at and seconds_remaining (a number)", async () => {
      const s = await save(t, A, { user_id: "usr_val", token: jwtLike(), expires_at: inSeconds(3540) });
      const reply = await call(t, "GET", `${BASE}/validity${query({ user_id: "usr_val" })}`, { headers: A.headers });
      expect(reply.status, reply.text).toBe(200);
      expect(reply.body.is_valid).toBe(true);
      expectTimestamp(reply.body.expires_at);
      sameInstant(reply.body.expires_at, s.expires_at);
      expect(typeof reply.body.seconds_remaining).toBe("number");
      expect(Number.isInteger(reply.body.seconds_remaining)).toBe(true);
      expect(reply.body.seconds_remaining).toBeGreaterThanOrEqual(3530);
      expect(reply.body.seconds_remaining).toBeLessThanOrEqual(3540);
    });

    it("GET validity for a user with no session is 200 {is_valid:false, expires_at:null, seconds_remaining:0}", async () => {
      const reply = await call(t, "GET", `${BASE}/validity${query({ user_id: "usr_nobody" })}`, { headers: A.headers });
      expect(reply.status, reply.text).toBe(200);
      // Every documented field is present: expires_at as null when there is no session.
      expect(reply.body).toEqual({ is_valid: false, expires_at: null, seconds_remaining: 0 });
    });

    it("GET current for a user with no session is 404", async () => {
      const reply = await call(t, "GET", `${BASE}/current${query({ user_id: "usr_nobody" })}`, { headers: A.headers });
      expectError(reply, 404);
    });

    it("PUT {id} with a new token and expires_at updates token_preview, expires_at and saved_at", async () => {
      const s = await save(t, A, { user_id: "usr_put", token: jwtLike(), expires_at: inSeconds(600) });
      await sleep(20);
      const newToken = `${jwtLike()}.refreshed`;
      const newExpiry = inSeconds(7200);
      const reply = await call(t, "PUT", `${BASE}/${encodeURIComponent(s.id)}`, { headers: A.headers, json: { token: newToken, expires_at: newExpiry } });
      expect(reply.status, reply.text).toBe(200);
      const u = reply.body;
      expectStoredSessionFields(u);
      expect(u.id).toBe(s.id);
      expect(u.user_id).toBe("usr_put");
      expect(u.token_preview).toBe(preview(newToken));
      expect(u.token_preview).not.toBe(s.token_preview);
      sameInstant(u.expires_at, newExpiry);
      expect(u.is_valid).toBe(true);
      expect(Date.parse(u.saved_at)).toBeGreaterThan(Date.parse(s.saved_at));
      expect(u).not.toHaveProperty("token");

      const got = await call(t, "GET", `${BASE}/${encodeURIComponent(s.id)}`, { headers: A.headers });
      expect(got.body.token).toBe(newToken);
      sameInstant(got.body.expires_at, newExpiry);
      expect(got.body.saved_at).toBe(u.saved_at);
    });

    it("PUT {id} with only expires_at keeps the token", async () => {
      const token = jwtLike();
      const s = await save(t, A, { user_id: "usr_put2", token, expires_at: inSeconds(600) });
      const newExpiry = inSeconds(60);
      const reply = await call(t, "PUT", `${BASE}/${encodeURIComponent(s.id)}`, { headers: A.headers, json: { expires_at: newExpiry } });
      expect(reply.status, reply.text).toBe(200);
      expect(reply.body.token_preview).toBe(preview(token));
      sameInstant(reply.body.expires_at, newExpiry);
      const got = await call(t, "GET", `${BASE}/${encodeURIComponent(s.id)}`, { headers: A.headers });
      expect(got.body.token).toBe(token);
    });

    it("PUT {id} with a new token retires the old token as a Bearer credential", async () => {
      const oldToken = jwtLike();
      const s = await save(t, A, { user_id: "usr_rotate", token: oldToken, expires_at: inSeconds(600) });
      const newToken = jwtLike();
      expect((await call(t, "PUT", `${BASE}/${encodeURIComponent(s.id)}`, { headers: A.headers, json: { token: newToken } })).status).toBe(200);
      const old = await call(t, "GET", `${BASE}/validity`, { headers: { authorization: `Bearer ${oldToken}` } });
      expect(old.status).toBe(200);
      expect(old.body.is_valid).toBe(false);
      const fresh = await call(t, "GET", `${BASE}/current`, { headers: { authorization: `Bearer ${newToken}` } });
      expect(fresh.status, fresh.text).toBe(200);
      expect(fresh.body.token).toBe(newToken);
    });

    it("PUT {id} makes the re-saved session the user's current one (current = most recently saved)", async () => {
      const first = await save(t, A, { user_id: "usr_resave", token: jwtLike(), expires_at: inSeconds(600) });
      await save(t, A, { user_id: "usr_resave", token: jwtLike(), expires_at: inSeconds(600) });
      const refreshed = jwtLike();
      const put = await call(t, "PUT", `${BASE}/${encodeURIComponent(first.id)}`, { headers: A.headers, json: { token: refreshed } });
      expect(put.status, put.text).toBe(200);
      const current = await call(t, "GET", `${BASE}/current${query({ user_id: "usr_resave" })}`, { headers: A.headers });
      expect(current.status, current.text).toBe(200);
      expect(current.body.token).toBe(refreshed);
    });

    it("DELETE {id} answers {deleted:true, id} and the session is gone", async () => {
      const s = await save(t, A, { user_id: "usr_del", token: jwtLike() });
      const keep = await save(t, A, { user_id: "usr_del", token: jwtLike() });
      const reply = await call(t, "DELETE", `${BASE}/${encodeURIComponent(s.id)}`, { headers: A.headers });
      expect(reply.status, reply.text).toBe(200);
      expect(reply.body).toEqual({ deleted: true, id: s.id });
      expectError(await call(t, "GET", `${BASE}/${encodeURIComponent(s.id)}`, { headers: A.headers }), 404);
      expectError(await call(t, "DELETE", `${BASE}/${encodeURIComponent(s.id)}`, { headers: A.headers }), 404);
      const after = await list(t, A);
      expect(after.data.map((d: Json) => d.id)).toEqual([keep.id]);
      expect(after.pagination.total).toBe(1);
      // The session key ends with the id's random suffix.
      expect((await tenantKeys(t, A.id)).filter((k) => k.endsWith(s.id.slice(-17)))).toEqual([]);
    });

    it("DELETE {id} of the current session makes the newest remaining one current", async () => {
      const older = await save(t, A, { user_id: "usr_delcur", token: jwtLike() });
      const newer = await save(t, A, { user_id: "usr_delcur", token: jwtLike() });
      expect((await call(t, "DELETE", `${BASE}/${encodeURIComponent(newer.id)}`, { headers: A.headers })).status).toBe(200);
      const current = await call(t, "GET", `${BASE}/current${query({ user_id: "usr_delcur" })}`, { headers: A.headers });
      expect(current.status, current.text).toBe(200);
      const olderFull = await call(t, "GET", `${BASE}/${encodeURIComponent(older.id)}`, { headers: A.headers });
      expect(current.body.token).toBe(olderFull.body.token);
    });

    it("DELETE all answers {cleared:true, message} and removes every session of the tenant", async () => {
      const token1 = jwtLike();
      const s1 = await save(t, A, { user_id: "usr_c1", token: token1 });
      await save(t, A, { user_id: "usr_c2", token: jwtLike() });
      const reply = await call(t, "DELETE", BASE, { headers: A.headers });
      expect(reply.status, reply.text).toBe(200);
      expect(reply.body.cleared).toBe(true);
      expect(reply.body.message).toBe(CLEARED_MESSAGE);
      expect(await list(t, A)).toEqual({ data: [], pagination: { page: 1, limit: 20, total: 0 } });
      expectError(await call(t, "GET", `${BASE}/${encodeURIComponent(s1.id)}`, { headers: A.headers }), 404);
      expectError(await call(t, "GET", `${BASE}/current${query({ user_id: "usr_c1" })}`, { headers: A.headers }), 404);
      const validity = await call(t, "GET", `${BASE}/validity${query({ user_id: "usr_c1" })}`, { headers: A.headers });
      expect(validity.body).toMatchObject({ is_valid: false, seconds_remaining: 0 });
      const bearer = await call(t, "GET", `${BASE}/validity`, { headers: { authorization: `Bearer ${token1}` } });
      expect(bearer.status, bearer.text).toBe(200);
      expect(bearer.body.is_valid).toBe(false);
      expect(await tenantKeys(t, A.id)).toEqual([]);
    });

    it("DELETE all of an empty tenant still answers cleared:true", async () => {
      const reply = await call(t, "DELETE", BASE, { headers: A.headers });
      expect(reply.status).toBe(200);
      expect(reply.body.cleared).toBe(true);
      expect(reply.body.message).toBe(CLEARED_MESSAGE);
    });

    it("DELETE all with user_id clears only that user's sessions", async () => {
      await save(t, A, { user_id: "usr_gone", token: jwtLike() });
      await save(t, A, { user_id: "usr_gone", token: jwtLike() });
      const stay = await save(t, A, { user_id: "usr_stay", token: jwtLike() });
      const reply = await call(t, "DELETE", `${BASE}${query({ user_id: "usr_gone" })}`, { headers: A.headers });
      expect(reply.status, reply.text).toBe(200);
      expect(reply.body.cleared).toBe(true);
      expect(reply.body.message).toBe(CLEARED_MESSAGE);
      const after = await list(t, A);
      expect(after.data.map((d: Json) => d.id)).toEqual([stay.id]);
      expect(after.pagination.total).toBe(1);
      expect(await tenantKeys(t, A.id).then((keys) => keys.filter((k) => k.includes(":usr_gone}")))).toEqual([]);
      expectError(await call(t, "GET", `${BASE}/current${query({ user_id: "usr_gone" })}`, { headers: A.headers }), 404);
    });

    it("token_preview is the first 8 and last 4 characters of the token everywhere it appears", async () => {
      const token = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.payload.sig-Q3Yk";
      const s = await save(t, A, { user_id: "usr_prev", token });
      expect(s.token_preview).toBe("eyJhbGci...Q3Yk");
      const l = await list(t, A, { user_id: "usr_prev" });
      expect(l.data[0].token_preview).toBe("eyJhbGci...Q3Yk");
    });
  });

  describe("Bearer tokens", () => {
    it("current with Authorization: Bearer returns the bearer's own session, not the user's latest", async () => {
      const own = jwtLike();
      const s = await save(t, A, { user_id: "usr_bearer", token: own, expires_at: inSeconds(900) });
      await save(t, A, { user_id: "usr_bearer", token: jwtLike(), expires_at: inSeconds(1800) });
      const reply = await call(t, "GET", `${BASE}/current`, { headers: { authorization: `Bearer ${own}` } });
      expect(reply.status, reply.text).toBe(200);
      expect(reply.body.token).toBe(own);
      expect(reply.body.is_valid).toBe(true);
      sameInstant(reply.body.expires_at, s.expires_at);
    });

    it("validity with Authorization: Bearer reports the bearer's own session (minted token, sliding)", async () => {
      const s = await save(t, A, { user_id: "usr_bearer2" });
      const reply = await call(t, "GET", `${BASE}/validity`, { headers: { authorization: `Bearer ${s.token}` } });
      expect(reply.status, reply.text).toBe(200);
      expect(reply.body.is_valid).toBe(true);
      expectTimestamp(reply.body.expires_at);
      expect(reply.body.seconds_remaining).toBeGreaterThanOrEqual(7190);
      expect(reply.body.seconds_remaining).toBeLessThanOrEqual(7200);
    });

    it("validity with an unknown Bearer token is 200 {is_valid:false, expires_at:null, seconds_remaining:0}", async () => {
      const reply = await call(t, "GET", `${BASE}/validity`, { headers: { authorization: `Bearer ${jwtLike()}` } });
      expect(reply.status, reply.text).toBe(200);
      expect(reply.body).toEqual({ is_valid: false, expires_at: null, seconds_remaining: 0 });
    });

    it("current with an unknown Bearer token is 401", async () => {
      // Choice: the credential is what is wrong, as for GET {id} with the same token.
      expectError(await call(t, "GET", `${BASE}/current`, { headers: { authorization: `Bearer ${jwtLike()}` } }), 401);
    });

    it("GET {id} with a Bearer token shows only the bearer's own session", async () => {
      const a = await save(t, A, { user_id: "usr_bid" });
      const b = await save(t, A, { user_id: "usr_bid" });
      const own = await call(t, "GET", `${BASE}/${encodeURIComponent(a.id)}`, { headers: { authorization: `Bearer ${a.token}` } });
      expect(own.status, own.text).toBe(200);
      expect(own.body.token).toBe(a.token);
      expectError(await call(t, "GET", `${BASE}/${encodeURIComponent(b.id)}`, { headers: { authorization: `Bearer ${a.token}` } }), 404);
    });

    it("a Bearer token cannot list, save, update, delete or clear (API client credentials required)", async () => {
      const s = await save(t, A, { user_id: "usr_bearer3" });
      const auth = { authorization: `Bearer ${s.token}` };
      expectError(await call(t, "GET", BASE, { headers: auth }), 401);
      expectError(await call(t, "POST", BASE, { headers: auth, json: { user_id: "usr_bearer3" } }), 401);
      expectError(await call(t, "PUT", `${BASE}/${encodeURIComponent(s.id)}`, { headers: auth, json: { token: jwtLike() } }), 401);
      expectError(await call(t, "DELETE", `${BASE}/${encodeURIComponent(s.id)}`, { headers: auth }), 401);
      expectError(await call(t, "DELETE", BASE, { headers: auth }), 401);
      const l = await list(t, A);
      expect(l.pagination.total).toBe(1);
      const got = await call(t, "GET", `${BASE}/${encodeURIComponent(s.id)}`, { headers: A.headers });
      expect(got.body.token).toBe(s.token);
    });
  });

  describe("pagination and filters", () => {
    async function saveSequence(users: string[]): Promise<Json[]> {
      const out: Json[] = [];
      for (const user of users) {
        out.push(await save(t, A, { user_id: user, token: jwtLike() }));
        // Distinct creation milliseconds, so "oldest first" has one answer.
        await sleep(3);
      }
      return out;
    }

    it("pages with page/limit over several sessions, oldest first, with the total", async () => {
      const saved = await saveSequence(["usr_p1", "usr_p2", "usr_p1", "usr_p3", "usr_p2"]);
      const ids = saved.map((s) => s.id);
      const all = await list(t, A);
      expect(all.data.map((d: Json) => d.id)).toEqual(ids);
      expect(all.pagination).toEqual({ page: 1, limit: 20, total: 5 });

      const p1 = await list(t, A, { page: 1, limit: 2 });
      expect(p1.data.map((d: Json) => d.id)).toEqual(ids.slice(0, 2));
      expect(p1.pagination).toEqual({ page: 1, limit: 2, total: 5 });
      const p2 = await list(t, A, { page: 2, limit: 2 });
      expect(p2.data.map((d: Json) => d.id)).toEqual(ids.slice(2, 4));
      expect(p2.pagination).toEqual({ page: 2, limit: 2, total: 5 });
      const p3 = await list(t, A, { page: 3, limit: 2 });
      expect(p3.data.map((d: Json) => d.id)).toEqual(ids.slice(4));
      expect(p3.pagination).toEqual({ page: 3, limit: 2, total: 5 });
      const p4 = await list(t, A, { page: 4, limit: 2 });
      expect(p4.data).toEqual([]);
      expect(p4.pagination).toEqual({ page: 4, limit: 2, total: 5 });
      const max = await list(t, A, { limit: 100 });
      expect(max.data).toHaveLength(5);
      expect(max.pagination.limit).toBe(100);
    });

    it("filters the list by user_id, oldest first, with that user's total, and pages the filtered list", async () => {
      const saved = await saveSequence(["usr_f1", "usr_f2", "usr_f1", "usr_f1", "usr_f2"]);
      const f1 = saved.filter((s) => s.user_id === "usr_f1").map((s) => s.id);
      const filtered = await list(t, A, { user_id: "usr_f1" });
      expect(filtered.data.map((d: Json) => d.id)).toEqual(f1);
      expect(filtered.data.every((d: Json) => d.user_id === "usr_f1")).toBe(true);
      expect(filtered.pagination).toEqual({ page: 1, limit: 20, total: 3 });
      const page2 = await list(t, A, { user_id: "usr_f1", page: 2, limit: 2 });
      expect(page2.data.map((d: Json) => d.id)).toEqual(f1.slice(2));
      expect(page2.pagination).toEqual({ page: 2, limit: 2, total: 3 });
      const none = await list(t, A, { user_id: "usr_nobody" });
      expect(none).toEqual({ data: [], pagination: { page: 1, limit: 20, total: 0 } });
    });
  });

  describe("tenant isolation", () => {
    it("client B cannot get, update, delete, list or clear client A's sessions", async () => {
      const token = jwtLike();
      const a = await save(t, A, { user_id: "usr_shared", token, expires_at: inSeconds(900) });
      const path = `${BASE}/${encodeURIComponent(a.id)}`;

      expectError(await call(t, "GET", path, { headers: B.headers }), 404);
      expectError(await call(t, "PUT", path, { headers: B.headers, json: { token: jwtLike(), expires_at: inSeconds(60) } }), 404);
      expectError(await call(t, "DELETE", path, { headers: B.headers }), 404);
      expect(await list(t, B)).toEqual({ data: [], pagination: { page: 1, limit: 20, total: 0 } });
      expect(await list(t, B, { user_id: "usr_shared" })).toEqual({ data: [], pagination: { page: 1, limit: 20, total: 0 } });
      expectError(await call(t, "GET", `${BASE}/current${query({ user_id: "usr_shared" })}`, { headers: B.headers }), 404);
      const validity = await call(t, "GET", `${BASE}/validity${query({ user_id: "usr_shared" })}`, { headers: B.headers });
      expect(validity.status).toBe(200);
      expect(validity.body).toMatchObject({ is_valid: false, seconds_remaining: 0 });
      expect((await call(t, "DELETE", BASE, { headers: B.headers })).status).toBe(200);
      expect((await call(t, "DELETE", `${BASE}${query({ user_id: "usr_shared" })}`, { headers: B.headers })).status).toBe(200);

      // A's session is untouched.
      const got = await call(t, "GET", path, { headers: A.headers });
      expect(got.status, got.text).toBe(200);
      expect(got.body.token).toBe(token);
      sameInstant(got.body.expires_at, a.expires_at);
      expect(got.body.saved_at).toBe(a.saved_at);
      expect((await list(t, A)).pagination.total).toBe(1);
    });

    it("the same user id in two tenants gives two independent sessions and current sessions", async () => {
      const tokenA = jwtLike();
      const tokenB = jwtLike();
      await save(t, A, { user_id: "usr_both", token: tokenA });
      await save(t, B, { user_id: "usr_both", token: tokenB });
      const curA = await call(t, "GET", `${BASE}/current${query({ user_id: "usr_both" })}`, { headers: A.headers });
      const curB = await call(t, "GET", `${BASE}/current${query({ user_id: "usr_both" })}`, { headers: B.headers });
      expect(curA.body.token).toBe(tokenA);
      expect(curB.body.token).toBe(tokenB);
      await clearTenant(t, B);
      const after = await call(t, "GET", `${BASE}/current${query({ user_id: "usr_both" })}`, { headers: A.headers });
      expect(after.body.token).toBe(tokenA);
      expect((await list(t, A)).pagination.total).toBe(1);
      expect((await list(t, B)).pagination.total).toBe(0);
    });
  });

  describe("credentials", () => {
    const variants: Array<[string, (c: TestClient) => Record<string, string>]> = [
      ["missing", () => ({})],
      ["unknown client id", (c) => ({ ClientID: `${c.id}-nope`, ClientSecret: c.secret })],
      ["wrong secret", (c) => ({ ClientID: c.id, ClientSecret: `${c.secret}x` })],
      ["only ClientID", (c) => ({ ClientID: c.id })],
      ["only ClientSecret", (c) => ({ ClientSecret: c.secret })],
      ["another client's secret", (c) => ({ ClientID: c.id, ClientSecret: (c === t.clientA ? t.clientB : t.clientA).secret })],
    ];

    for (const [name, headersOf] of variants) {
      it(`${name} → 401 with a message on all 8 endpoints, and nothing changes`, async () => {
        const token = jwtLike();
        const s = await save(t, A, { user_id: "usr_cred", token });
        const h = headersOf(A);
        const id = encodeURIComponent(s.id);
        const replies = [
          await call(t, "GET", BASE, { headers: h }),
          await call(t, "GET", `${BASE}/${id}`, { headers: h }),
          await call(t, "GET", `${BASE}/current${query({ user_id: "usr_cred" })}`, { headers: h }),
          await call(t, "GET", `${BASE}/validity${query({ user_id: "usr_cred" })}`, { headers: h }),
          await call(t, "POST", BASE, { headers: h, json: { user_id: "usr_cred", token: jwtLike() } }),
          await call(t, "PUT", `${BASE}/${id}`, { headers: h, json: { token: jwtLike() } }),
          await call(t, "DELETE", BASE, { headers: h }),
          await call(t, "DELETE", `${BASE}/${id}`, { headers: h }),
        ];
        for (const reply of replies) {
          expectError(reply, 401);
          expect(reply.text).not.toContain(A.secret);
          expect(reply.text).not.toContain(token);
        }
        const after = await list(t, A);
        expect(after.data.map((d: Json) => d.id)).toEqual([s.id]);
        expect((await call(t, "GET", `${BASE}/${id}`, { headers: A.headers })).body.token).toBe(token);
      });
    }

    it("header names are case-insensitive (clientid / clientsecret)", async () => {
      const reply = await call(t, "GET", BASE, { headers: { clientid: A.id, clientsecret: A.secret } });
      expect(reply.status).toBe(200);
    });

    it("secrets and tokens never reach the logs", async () => {
      const token = jwtLike();
      await save(t, A, { user_id: "usr_logs", token });
      await call(t, "GET", `${BASE}/current`, { headers: { authorization: `Bearer ${token}` } });
      await call(t, "GET", BASE, { headers: { ClientID: A.id, ClientSecret: "wrong-secret-value" } });
      const logs = t.logs.join("\n");
      expect(logs.length).toBeGreaterThan(0);
      expect(logs).not.toContain(A.secret);
      expect(logs).not.toContain(B.secret);
      expect(logs).not.toContain(token);
      expect(logs).not.toContain("wrong-secret-value");
    });
  });

  describe("bad input is refused and stores nothing", () => {
    async function expectNothingStored() {
      expect(await list(t, A)).toEqual({ data: [], pagination: { page: 1, limit: 20, total: 0 } });
      expect(await tenantKeys(t, A.id)).toEqual([]);
    }

    // Each case is a JSON body, or { raw } sent verbatim.
    const badSaves: Array<[string, Json, RegExp]> = [
      ["missing user_id", { token: "eyJhbGciOiJIUzI1NiJ9.abcdefghijklmnop" }, /user_id/],
      ["empty user_id", { user_id: "" }, /user_id/],
      ["expires_at in the past", { user_id: "usr_bad", expires_at: "2020-01-01T00:00:00Z" }, /expires_at/],
      ["expires_at beyond the max lifetime (30 days)", { user_id: "usr_bad", expires_at: new Date(Date.now() + 31 * 86400_000).toISOString() }, /expires_at/],
      ["expires_at not a timestamp", { user_id: "usr_bad", expires_at: "tomorrow" }, /expires_at|timestamp/i],
      ["user_id with a space", { user_id: "bad user" }, /user_id/],
      ["user_id with braces", { user_id: "usr{x}" }, /user_id/],
      ["user_id starting with a dot", { user_id: ".usr" }, /user_id/],
      ["user_id of 129 characters", { user_id: "u".repeat(129) }, /user_id/],
      ["user_id not a string", { user_id: 42 }, /user_id/],
      ["token too short (15 chars)", { user_id: "usr_bad", token: "abcdefghijklmno" }, /token/],
      ["empty token", { user_id: "usr_bad", token: "" }, /token/],
      ["token with a space", { user_id: "usr_bad", token: "abcdefgh ijklmnopqrstu" }, /token/],
      ["token too long (4097 chars)", { user_id: "usr_bad", token: "a".repeat(4097) }, /token/],
      ["unknown body field", { user_id: "usr_bad", colour: "blue" }, /colour/],
      ["malformed JSON", { raw: '{"user_id": "usr_bad",' }, /JSON/],
      ["body is an array", { raw: '[{"user_id": "usr_bad"}]' }, /object/],
      ["body is a string", { raw: '"usr_bad"' }, /object/],
      ["body is a number", { raw: "42" }, /object/],
      ["body is null", { raw: "null" }, /object/],
      ["metadata.user_agent over 512 characters", { user_id: "usr_bad", metadata: { user_agent: "a".repeat(513) } }, /metadata\.user_agent/],
      ["metadata.ip_address over 64 characters", { user_id: "usr_bad", metadata: { ip_address: "1".repeat(65) } }, /metadata\.ip_address/],
      ["metadata over 4096 bytes of JSON", { user_id: "usr_bad", metadata: { labels: { a: "x".repeat(4100) } } }, /metadata.*4096 bytes/],
    ];

    for (const [name, payload, pattern] of badSaves) {
      it(`POST with ${name} → 400`, async () => {
        const options: CallOptions = typeof payload.raw === "string"
          ? { headers: A.headers, raw: payload.raw }
          : { headers: A.headers, json: payload };
        expectError(await call(t, "POST", BASE, options), 400, pattern);
        await expectNothingStored();
      });
    }

    it("POST with a query parameter (fields belong in the body) → 400", async () => {
      expectError(await call(t, "POST", `${BASE}${query({ user_id: "usr_q" })}`, { headers: A.headers, json: { user_id: "usr_q" } }), 400, /user_id|query/);
      await expectNothingStored();
    });

    it("POST with a token that is already stored → 409, and only the first session exists", async () => {
      const token = jwtLike();
      const first = await save(t, A, { user_id: "usr_dup", token });
      expectError(await call(t, "POST", BASE, { headers: A.headers, json: { user_id: "usr_dup2", token } }), 409, /token/);
      const l = await list(t, A);
      expect(l.data.map((d: Json) => d.id)).toEqual([first.id]);
      expect(l.pagination.total).toBe(1);
    });

    it("an oversized body (over MAX_BODY_BYTES, default 64 KiB) → 413", async () => {
      const reply = await call(t, "POST", BASE, { headers: A.headers, json: { user_id: "usr_big", user: { blob: "x".repeat(70 * 1024) } } });
      expectError(reply, 413);
      await expectNothingStored();
    });

    it("unknown ids → 404 on GET, PUT and DELETE", async () => {
      for (const id of ["store_001", "usr_x.0000abcd.0000abcd", "..", "a%2Fb"]) {
        const path = `${BASE}/${id}`;
        expectError(await call(t, "GET", path, { headers: A.headers }), 404);
        expectError(await call(t, "PUT", path, { headers: A.headers, json: { token: jwtLike() } }), 404);
        expectError(await call(t, "DELETE", path, { headers: A.headers }), 404);
      }
      await expectNothingStored();
    });

    const badLists: Array<[string, Record<string, string | number>, RegExp]> = [
      ["negative page", { page: -1 }, /page/],
      ["negative limit", { limit: -5 }, /limit/],
      ["huge limit (1000)", { limit: 1000 }, /limit/],
      ["limit just over the maximum (101)", { limit: 101 }, /limit/],
      ["non-numeric page", { page: "abc" }, /page/],
      ["fractional limit", { limit: "2.5" }, /limit/],
      ["unknown query parameter", { colour: "blue" }, /colour/],
      ["invalid user_id filter", { user_id: "bad user" }, /user_id/],
    ];
    for (const [name, params, pattern] of badLists) {
      it(`GET list with ${name} → 400`, async () => {
        await save(t, A, { user_id: "usr_ok", token: jwtLike() });
        expectError(await call(t, "GET", `${BASE}${query(params)}`, { headers: A.headers }), 400, pattern);
      });
    }

    it("unknown query parameters → 400 on GET {id}, current, validity, PUT, DELETE {id} and DELETE all", async () => {
      const s = await save(t, A, { user_id: "usr_uq", token: jwtLike() });
      const id = encodeURIComponent(s.id);
      const q = query({ colour: "blue" });
      expectError(await call(t, "GET", `${BASE}/${id}${q}`, { headers: A.headers }), 400, /colour/);
      expectError(await call(t, "GET", `${BASE}/current${q}&user_id=usr_uq`, { headers: A.headers }), 400, /colour/);
      expectError(await call(t, "GET", `${BASE}/validity${q}&user_id=usr_uq`, { headers: A.headers }), 400, /colour/);
      expectError(await call(t, "PUT", `${BASE}/${id}${q}`, { headers: A.headers, json: { token: jwtLike() } }), 400, /colour|query/);
      expectError(await call(t, "DELETE", `${BASE}/${id}${q}`, { headers: A.headers }), 400, /colour/);
      expectError(await call(t, "DELETE", `${BASE}${q}`, { headers: A.headers }), 400, /colour/);
      // Nothing was changed or removed.
      const got = await call(t, "GET", `${BASE}/${id}`, { headers: A.headers });
      expect(got.status).toBe(200);
      expect(got.body.token_preview).toBe(s.token_preview);
      expect((await list(t, A)).pagination.total).toBe(1);
    });

    it("invalid or missing user_id on current, validity and DELETE all → 400, nothing removed", async () => {
      await save(t, A, { user_id: "usr_keep", token: jwtLike() });
      expectError(await call(t, "GET", `${BASE}/current`, { headers: A.headers }), 400, /user_id/);
      expectError(await call(t, "GET", `${BASE}/validity`, { headers: A.headers }), 400, /user_id/);
      expectError(await call(t, "GET", `${BASE}/current${query({ user_id: "usr{x}" })}`, { headers: A.headers }), 400, /user_id/);
      expectError(await call(t, "GET", `${BASE}/validity${query({ user_id: "bad user" })}`, { headers: A.headers }), 400, /user_id/);
      expectError(await call(t, "DELETE", `${BASE}${query({ user_id: "bad user" })}`, { headers: A.headers }), 400, /user_id/);
      expect((await list(t, A)).pagination.total).toBe(1);
    });

    const badUpdates: Array<[string, CallOptions, RegExp]> = [
      ["an empty body", { raw: "" }, /nothing to update/],
      ["an empty object", { json: {} }, /nothing to update/],
      ["expires_at in the past", { json: { expires_at: "2020-01-01T00:00:00Z" } }, /expires_at/],
      ["expires_at beyond the max lifetime", { json: { expires_at: new Date(Date.now() + 31 * 86400_000).toISOString() } }, /expires_at/],
      ["a token too short", { json: { token: "short" } }, /token/],
      ["an unknown field", { json: { user_id: "usr_other" } }, /user_id/],
      ["malformed JSON", { raw: "{token:" }, /JSON/],
      ["a body that is an array", { raw: "[]" }, /object/],
      ["an id in the body that differs from the path", { json: { id: "usr_other.00000000.00000000", token: jwtLike() } }, /id/],
    ];
    for (const [name, options, pattern] of badUpdates) {
      it(`PUT {id} with ${name} → 400, session unchanged`, async () => {
        const token = jwtLike();
        const s = await save(t, A, { user_id: "usr_upd", token, expires_at: inSeconds(600) });
        const reply = await call(t, "PUT", `${BASE}/${encodeURIComponent(s.id)}`, { headers: A.headers, ...options });
        expectError(reply, 400, pattern);
        const got = await call(t, "GET", `${BASE}/${encodeURIComponent(s.id)}`, { headers: A.headers });
        expect(got.status).toBe(200);
        expect(got.body.token).toBe(token);
        sameInstant(got.body.expires_at, s.expires_at);
        expect(got.body.saved_at).toBe(s.saved_at);
        const l = await list(t, A);
        expect(l.data.map((d: Json) => d.id)).toEqual([s.id]);
      });
    }

    it("PUT {id} with a token another session holds → 409, both unchanged", async () => {
      const t1 = jwtLike();
      const t2 = jwtLike();
      const s1 = await save(t, A, { user_id: "usr_upd", token: t1 });
      await save(t, A, { user_id: "usr_upd", token: t2 });
      expectError(await call(t, "PUT", `${BASE}/${encodeURIComponent(s1.id)}`, { headers: A.headers, json: { token: t2 } }), 409);
      expect((await call(t, "GET", `${BASE}/${encodeURIComponent(s1.id)}`, { headers: A.headers })).body.token).toBe(t1);
    });
  });

  describe("request ids", () => {
    it("echoes x-request-id when sent, on success and in the error body", async () => {
      const ok = await call(t, "GET", BASE, { headers: { ...A.headers, "x-request-id": "req-abc-123" } });
      expect(ok.status).toBe(200);
      expect(ok.headers.get("x-request-id")).toBe("req-abc-123");
      const errors = [
        await call(t, "GET", BASE, { headers: { "x-request-id": "req-401" } }),
        await call(t, "GET", `${BASE}/store_001`, { headers: { ...A.headers, "x-request-id": "req-404" } }),
        await call(t, "POST", BASE, { headers: { ...A.headers, "x-request-id": "req-400" }, raw: "{" }),
        await call(t, "GET", `${BASE}${query({ limit: 1000 })}`, { headers: { ...A.headers, "x-request-id": "req-400b" } }),
        await call(t, "GET", "/api/v1/nowhere", { headers: { "x-request-id": "req-nopath" } }),
        await call(t, "PATCH", BASE, { headers: { ...A.headers, "x-request-id": "req-405" } }),
      ];
      const expected = ["req-401", "req-404", "req-400", "req-400b", "req-nopath", "req-405"];
      errors.forEach((reply, i) => {
        expect(reply.status).toBeGreaterThanOrEqual(400);
        expect(reply.headers.get("x-request-id")).toBe(expected[i]);
      });
      expect(errors[0]!.body.request_id).toBe("req-401");
      expect(errors[1]!.body.request_id).toBe("req-404");
    });

    it("generates a unique x-request-id when none is sent, also on errors", async () => {
      const replies = [
        await call(t, "GET", BASE, { headers: A.headers }),
        await call(t, "GET", BASE, { headers: A.headers }),
        await call(t, "GET", BASE),
        await call(t, "GET", `${BASE}/store_001`, { headers: A.headers }),
        await call(t, "POST", BASE, { headers: A.headers, raw: "[]" }),
        await call(t, "GET", "/nowhere"),
        await call(t, "PATCH", BASE),
      ];
      const ids = replies.map((r) => r.headers.get("x-request-id"));
      for (const id of ids) expect(id).toMatch(UUID);
      expect(new Set(ids).size).toBe(ids.length);
      expect(replies[2]!.body.request_id).toBe(ids[2]);
    });

    it("replaces an unusable incoming x-request-id with a generated one", async () => {
      const reply = await call(t, "GET", BASE, { headers: { ...A.headers, "x-request-id": "has spaces and {braces}" } });
      expect(reply.status).toBe(200);
      expect(reply.headers.get("x-request-id")).toMatch(UUID);
    });
  });

  describe("unknown paths and methods", () => {
    it("an unknown path → 404 with a JSON message", async () => {
      for (const path of ["/api/v1/nowhere", "/api/v1/session-storage/a/b", "/api/v2/session-storage", "/"]) {
        const reply = await call(t, "GET", path, { headers: A.headers });
        expectError(reply, 404);
      }
    });

    it("every REST request writes one access line: request id, method, path without the query, status, duration", async () => {
      const requests: [string, string, string, number][] = [
        ["req-log-404", "GET", "/api/v1/nowhere?token=secret-in-query", 404],
        ["req-log-405", "PATCH", `${BASE}?user_id=usr_log`, 405],
        ["req-log-400", "POST", BASE, 400],
        ["req-log-200", "GET", `${BASE}?limit=5`, 200],
      ];
      for (const [id, method, path, status] of requests) {
        const reply = await call(t, method, path, { headers: { ...A.headers, "x-request-id": id }, ...(method === "POST" ? { raw: "{" } : {}) });
        expect(reply.status, reply.text).toBe(status);
      }
      await sleep(50); // the line is written when the response closes
      for (const [id, method, path, status] of requests) {
        const lines = t.logs.map((l) => JSON.parse(l) as Json).filter((l) => l.requestId === id && l.status !== undefined);
        expect(lines, id).toHaveLength(1);
        expect(lines[0]).toMatchObject({ method, path: path.split("?")[0], status });
        expect(typeof lines[0]!.ms).toBe("number");
      }
      expect(t.logs.join("\n")).not.toContain("secret-in-query");
    });

    it("a wrong method → 405 with an Allow header listing the methods of that path", async () => {
      const collection = await call(t, "PATCH", BASE, { headers: A.headers });
      expectError(collection, 405);
      expect(new Set(collection.headers.get("allow")!.split(/,\s*/))).toEqual(new Set(["GET", "POST", "DELETE"]));

      const item = await call(t, "POST", `${BASE}/usr_x.0000abcd.0000abcd`, { headers: A.headers, json: {} });
      expectError(item, 405);
      expect(new Set(item.headers.get("allow")!.split(/,\s*/))).toEqual(new Set(["GET", "PUT", "DELETE"]));

      const put = await call(t, "PUT", BASE, { headers: A.headers, json: { user_id: "usr_x" } });
      expectError(put, 405);
      expect(new Set(put.headers.get("allow")!.split(/,\s*/))).toEqual(new Set(["GET", "POST", "DELETE"]));
      expect(await tenantKeys(t, A.id)).toEqual([]);
    });
  });
});

// ---------------------------------------------------------------------------

describe("limits from configuration", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ SESSION_MAX_LIFETIME_SECONDS: "60", SESSION_IDLE_TIMEOUT_SECONDS: "30", MAX_BODY_BYTES: "1024" });
  });
  afterAll(async () => t.close());

  async function expectNothingStored() {
    expect(await list(t, t.clientA)).toEqual({ data: [], pagination: { page: 1, limit: 20, total: 0 } });
    expect(await tenantKeys(t, t.clientA.id)).toEqual([]);
  }

  it("expires_at beyond SESSION_MAX_LIFETIME_SECONDS → 400 naming the limit; within it → 200", async () => {
    const reply = await call(t, "POST", BASE, { headers: t.clientA.headers, json: { user_id: "usr_life", expires_at: inSeconds(120) } });
    expectError(reply, 400, /expires_at.*60 seconds/);
    await expectNothingStored();
    const ok = await save(t, t.clientA, { user_id: "usr_life", expires_at: inSeconds(50) });
    // PUT cannot push it past the absolute lifetime either.
    const put = await call(t, "PUT", `${BASE}/${encodeURIComponent(ok.id)}`, { headers: t.clientA.headers, json: { expires_at: inSeconds(90) } });
    expectError(put, 400, /expires_at/);
    const got = await call(t, "GET", `${BASE}/${encodeURIComponent(ok.id)}`, { headers: t.clientA.headers });
    sameInstant(got.body.expires_at, ok.expires_at);
    await clearTenant(t, t.clientA);
  });

  it("without expires_at a session expires after SESSION_IDLE_TIMEOUT_SECONDS", async () => {
    const before = Date.now();
    const s = await save(t, t.clientA, { user_id: "usr_idle30" });
    const after = Date.now();
    expect(Date.parse(s.expires_at)).toBeGreaterThanOrEqual(before + 30_000 - 1000);
    expect(Date.parse(s.expires_at)).toBeLessThanOrEqual(after + 30_000 + 1000);
    await clearTenant(t, t.clientA);
  });

  it("a body over MAX_BODY_BYTES → 413 with a message (declared length)", async () => {
    const reply = await call(t, "POST", BASE, { headers: t.clientA.headers, json: { user_id: "usr_big", user: { blob: "x".repeat(2000) } } });
    expectError(reply, 413, /1024/);
    await expectNothingStored();
  });

  it("a chunked body over MAX_BODY_BYTES → 413 with a message", async () => {
    const bytes = new TextEncoder().encode(JSON.stringify({ user_id: "usr_big", user: { blob: "x".repeat(2000) } }));
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes.subarray(0, 600));
        controller.enqueue(bytes.subarray(600));
        controller.close();
      },
    });
    const res = await fetch(`${t.baseUrl}${BASE}`, {
      method: "POST",
      headers: { ...t.clientA.headers, "content-type": "application/json" },
      body,
      duplex: "half",
    } as RequestInit);
    const text = await res.text();
    expect(res.status, text).toBe(413);
    expect((JSON.parse(text) as Json).message).toMatch(/1024/);
    await expectNothingStored();
  });

  it("a body just under MAX_BODY_BYTES is accepted", async () => {
    const s = await save(t, t.clientA, { user_id: "usr_small", user: { blob: "x".repeat(800) } });
    expect(s.user_id).toBe("usr_small");
    await clearTenant(t, t.clientA);
  });
});

// ---------------------------------------------------------------------------

describe("expiry (real waiting)", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t.close());

  it("a session whose expires_at passes disappears from get, list, current and validity", async () => {
    const A = t.clientA;
    const keep = await save(t, A, { user_id: "usr_keep", token: jwtLike(), expires_at: inSeconds(600) });
    const keepSameUser = await save(t, A, { user_id: "usr_fallback", token: jwtLike(), expires_at: inSeconds(600) });
    const token = jwtLike();
    const s = await save(t, A, { user_id: "usr_short", token, expires_at: inSeconds(2) });
    const sameUser = await save(t, A, { user_id: "usr_fallback", token: jwtLike(), expires_at: inSeconds(2) });
    const id = encodeURIComponent(s.id);

    // Alive now.
    expect((await call(t, "GET", `${BASE}/${id}`, { headers: A.headers })).status).toBe(200);
    const before = await call(t, "GET", `${BASE}/validity${query({ user_id: "usr_short" })}`, { headers: A.headers });
    expect(before.body.is_valid).toBe(true);
    expect(before.body.seconds_remaining).toBeGreaterThanOrEqual(0);
    expect(before.body.seconds_remaining).toBeLessThanOrEqual(2);
    expect((await list(t, A)).pagination.total).toBe(4);

    await sleep(Math.max(0, Date.parse(s.expires_at) - Date.now()) + 400);

    expectError(await call(t, "GET", `${BASE}/${id}`, { headers: A.headers }), 404);
    const l = await list(t, A);
    expect(l.data.map((d: Json) => d.id)).toEqual([keep.id, keepSameUser.id]);
    expect(l.pagination.total).toBe(2);
    expect((await list(t, A, { user_id: "usr_short" })).pagination.total).toBe(0);
    expectError(await call(t, "GET", `${BASE}/current${query({ user_id: "usr_short" })}`, { headers: A.headers }), 404);
    const validity = await call(t, "GET", `${BASE}/validity${query({ user_id: "usr_short" })}`, { headers: A.headers });
    expect(validity.status).toBe(200);
    expect(validity.body).toMatchObject({ is_valid: false, seconds_remaining: 0 });
    const bearerValidity = await call(t, "GET", `${BASE}/validity`, { headers: { authorization: `Bearer ${token}` } });
    expect(bearerValidity.body).toMatchObject({ is_valid: false, seconds_remaining: 0 });
    expectError(await call(t, "GET", `${BASE}/current`, { headers: { authorization: `Bearer ${token}` } }), 401);
    expectError(await call(t, "PUT", `${BASE}/${id}`, { headers: A.headers, json: { expires_at: inSeconds(600) } }), 404);
    expectError(await call(t, "DELETE", `${BASE}/${id}`, { headers: A.headers }), 404);

    // The expired current session does not hide the user's other live one.
    const current = await call(t, "GET", `${BASE}/current${query({ user_id: "usr_fallback" })}`, { headers: A.headers });
    expect(current.status, current.text).toBe(200);
    expect(current.body.token).not.toBe(undefined);
    const keptFull = await call(t, "GET", `${BASE}/${encodeURIComponent(keepSameUser.id)}`, { headers: A.headers });
    expect(current.body.token).toBe(keptFull.body.token);
    expectError(await call(t, "GET", `${BASE}/${encodeURIComponent(sameUser.id)}`, { headers: A.headers }), 404);

    // Redis has dropped the session hash itself.
    const keys = await tenantKeys(t, A.id);
    expect(keys.some((k) => k.endsWith(s.id))).toBe(false);
  });

  it("with SESSION_IDLE_TIMEOUT_SECONDS=2 an idle session expires, and Bearer activity slides it", async () => {
    const idle = await startTestApp({ SESSION_IDLE_TIMEOUT_SECONDS: "2" });
    try {
      const A = idle.clientA;
      const quiet = await save(idle, A, { user_id: "usr_quiet" });
      const busy = await save(idle, A, { user_id: "usr_busy" });
      const start = Date.parse(quiet.created_at);
      expect(Date.parse(quiet.expires_at) - start).toBe(2000);

      await sleep(Math.max(0, start + 1000 - Date.now()));
      // An API client's read does not count as the session's activity; the bearer's does.
      expect((await call(idle, "GET", `${BASE}/${encodeURIComponent(quiet.id)}`, { headers: A.headers })).status).toBe(200);
      const slid = await call(idle, "GET", `${BASE}/validity`, { headers: { authorization: `Bearer ${busy.token}` } });
      expect(slid.body.is_valid).toBe(true);
      expect(Date.parse(slid.body.expires_at)).toBeGreaterThan(Date.parse(busy.expires_at));

      await sleep(Math.max(0, start + 2500 - Date.now()));
      expectError(await call(idle, "GET", `${BASE}/${encodeURIComponent(quiet.id)}`, { headers: A.headers }), 404);
      expectError(await call(idle, "GET", `${BASE}/current${query({ user_id: "usr_quiet" })}`, { headers: A.headers }), 404);
      const quietValidity = await call(idle, "GET", `${BASE}/validity${query({ user_id: "usr_quiet" })}`, { headers: A.headers });
      expect(quietValidity.body).toMatchObject({ is_valid: false, seconds_remaining: 0 });
      const l = await list(idle, A);
      expect(l.data.map((d: Json) => d.id)).toEqual([busy.id]);
      expect(l.pagination.total).toBe(1);

      // The slid session expires too once it is left alone.
      await sleep(Math.max(0, Date.parse(slid.body.expires_at) + 400 - Date.now()));
      expectError(await call(idle, "GET", `${BASE}/${encodeURIComponent(busy.id)}`, { headers: A.headers }), 404);
      const busyValidity = await call(idle, "GET", `${BASE}/validity`, { headers: { authorization: `Bearer ${busy.token}` } });
      expect(busyValidity.body).toMatchObject({ is_valid: false, seconds_remaining: 0 });
      expect(await list(idle, A)).toEqual({ data: [], pagination: { page: 1, limit: 20, total: 0 } });
    } finally {
      await idle.close();
    }
  });
});
