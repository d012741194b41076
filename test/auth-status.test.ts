// The "Auth status" document (seed 002) as tests: GET /auth/status over REST
// (fetch on a real socket) and the same call over gRPC, against a real Redis.
import { randomBytes } from "node:crypto";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { AuthStatusService } from "../gen/sessionstorage/v1/auth_status_service_pb.js";
import { createKeyedHash } from "../src/crypto/keyed-hash.js";
import { redisKeys } from "../src/store/redis-keys.js";
import { monitorDuring, type MonitorLine } from "./support/monitor-during.js";
import { onCluster } from "./support/shared-redis.js";
import { startTestApp, type TestApp, type TestClient } from "./support/test-app.js";

type Json = Record<string, unknown>;

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ms = (iso: unknown) => Date.parse(iso as string);

/** The profile of the document's example, as given at creation. */
const documentedUser = { id: 1, username: "admin", name: "Full Name", role: "administrators", power: 100 };

interface Saved {
  readonly id: string;
  readonly token: string;
  readonly createdAt: string;
}

/** Creates a session with a profile through the 000 face; the minted token is returned once. */
async function save(t: TestApp, client: TestClient, userId: string, extra: Json = {}): Promise<Saved> {
  const res = await fetch(`${t.baseUrl}/api/v1/session-storage`, {
    method: "POST",
    headers: { ...client.headers, "content-type": "application/json" },
    body: JSON.stringify({ user_id: userId, ...extra }),
  });
  const body = (await res.json()) as Json;
  expect(res.status, JSON.stringify(body)).toBe(200);
  expect(body.token).toBeTypeOf("string");
  return { id: body.id as string, token: body.token as string, createdAt: body.created_at as string };
}

async function status(t: TestApp, headers: Record<string, string> = {}): Promise<{ status: number; body: Json; requestId: string | null; res: Response }> {
  const res = await fetch(`${t.baseUrl}/auth/status`, { headers });
  const body = (await res.json()) as Json;
  return { status: res.status, body, requestId: res.headers.get("x-request-id"), res };
}
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** The 200 body: exactly success, valid, user, session, each documented field by name and type. */
function expectValid(r: { status: number; body: Json }, user: Json, idleSeconds: number) {
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  expect(Object.keys(r.body).sort()).toEqual(["session", "success", "user", "valid"]);
  expect(r.body.success).toBe(true);
  expect(r.body.valid).toBe(true);
  expect(r.body.user).toStrictEqual(user);
  const session = r.body.session as Json;
  expect(Object.keys(session).sort()).toEqual(["created_at", "expires_at", "last_accessed", "remaining_seconds", "timeout_minutes"]);
  for (const field of ["created_at", "last_accessed", "expires_at"]) {
    expect(session[field], field).toBeTypeOf("string");
    expect(session[field] as string, field).toMatch(RFC3339);
  }
  expect(session.timeout_minutes).toBeTypeOf("number");
  expect(session.timeout_minutes).toBe(Math.round(idleSeconds / 60));
  expect(session.remaining_seconds).toBeTypeOf("number");
  expect(Number.isInteger(session.remaining_seconds)).toBe(true);
  // remaining_seconds is what is left until expires_at.
  const left = (ms(session.expires_at) - Date.now()) / 1000;
  expect(Math.abs((session.remaining_seconds as number) - left)).toBeLessThanOrEqual(1.5);
  return session;
}

function expectInvalid(r: { status: number; body: Json; requestId: string | null }) {
  expect(r.status, JSON.stringify(r.body)).toBe(401);
  expect(r.requestId).toBeTypeOf("string");
  expect(r.requestId!.length).toBeGreaterThan(0);
  expect(r.body).toStrictEqual({
    success: true,
    valid: false,
    message: `Session expired or invalid [request_id: ${r.requestId}]`,
  });
}

function expectNoToken(r: { status: number; body: Json; requestId: string | null }) {
  expect(r.status, JSON.stringify(r.body)).toBe(401);
  expect(r.requestId).toBeTypeOf("string");
  expect(r.requestId!.length).toBeGreaterThan(0);
  expect(r.body).toStrictEqual({
    success: false,
    valid: false,
    error: `No authorization token provided [request_id: ${r.requestId}]`,
  });
}

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t.close());

describe("GET /auth/status (REST)", () => {
  test("a live session: 200 with exactly the documented body, the profile as given (numbers stay numbers)", async () => {
    const s = await save(t, t.clientA, "admin", { user: documentedUser });
    const before = Date.now();
    const r = await status(t, bearer(s.token));
    expect(r.res.headers.get("content-type")).toMatch(/^application\/json/);
    const session = expectValid(r, documentedUser, 7200);
    const user = r.body.user as Json;
    expect(user.id).toBeTypeOf("number");
    expect(user.power).toBeTypeOf("number");
    // The default idle timeout is two hours: the document's 120 minutes.
    expect(session.timeout_minutes).toBe(120);
    expect(ms(session.created_at)).toBe(ms(s.createdAt));
    // This request is the last access; the session now expires an idle timeout later.
    expect(ms(session.last_accessed)).toBeGreaterThanOrEqual(before - 5);
    expect(ms(session.last_accessed)).toBeLessThanOrEqual(Date.now() + 5);
    expect(ms(session.expires_at)).toBe(ms(session.last_accessed) + 7200 * 1000);
    expect(session.remaining_seconds).toBeGreaterThanOrEqual(7198);
    expect(session.remaining_seconds).toBeLessThanOrEqual(7200);
    expect(r.requestId).toBeTypeOf("string");
  });

  test("the profile comes back as given, whatever its JSON types", async () => {
    const profile = {
      id: 42,
      ratio: 1.5,
      negative: -7,
      active: true,
      banned: false,
      nickname: null,
      tags: ["a", 2, false, null, { deep: [1] }],
      nested: { level: { deeper: "yes", count: 0 } },
      empty: {},
      unicode: "Grüße 👋",
    };
    const s = await save(t, t.clientA, "profiled", { user: profile });
    expectValid(await status(t, bearer(s.token)), profile, 7200);
  });

  test("a session saved without a profile has an empty user object", async () => {
    const s = await save(t, t.clientA, "no-profile");
    expectValid(await status(t, bearer(s.token)), {}, 7200);
  });

  test("the Bearer scheme is case-insensitive", async () => {
    const s = await save(t, t.clientA, "admin", { user: documentedUser });
    expectValid(await status(t, { authorization: `bearer ${s.token}` }), documentedUser, 7200);
  });

  test("an unknown token: 401 {success: true, valid: false, message} with the x-request-id in the message", async () => {
    for (const token of [randomBytes(32).toString("base64url"), "short", "x".repeat(5000)]) {
      expectInvalid(await status(t, bearer(token)));
    }
  });

  test("an expired token: 401 with the documented message", async () => {
    const s = await save(t, t.clientA, "admin", { user: documentedUser });
    expectValid(await status(t, bearer(s.token)), documentedUser, 7200);
    // The sessions face shortens its life to one second.
    const extend = await fetch(`${t.baseUrl}/session-storage/sessions/${s.id}?ttl_seconds=1`, { method: "POST", headers: t.clientA.headers });
    expect(extend.status).toBe(204);
    await sleep(1300);
    expectInvalid(await status(t, bearer(s.token)));
    // Checking it does not bring it back.
    expectInvalid(await status(t, bearer(s.token)));
    expect((await fetch(`${t.baseUrl}/session-storage/sessions/${s.id}`, { headers: t.clientA.headers })).status).toBe(404);
  });

  test("a deleted session's token: 401 with the documented message", async () => {
    const s = await save(t, t.clientA, "admin", { user: documentedUser });
    const del = await fetch(`${t.baseUrl}/session-storage/sessions/${s.id}`, { method: "DELETE", headers: t.clientA.headers });
    expect(del.status).toBe(204);
    expectInvalid(await status(t, bearer(s.token)));
  });

  test("the request's own x-request-id is kept and used in the message", async () => {
    const invalid = await status(t, { ...bearer(randomBytes(32).toString("base64url")), "x-request-id": "12345678" });
    expect(invalid.requestId).toBe("12345678");
    expectInvalid(invalid);
    expect(invalid.body.message).toBe("Session expired or invalid [request_id: 12345678]");

    const none = await status(t, { "x-request-id": "req-abc.42" });
    expect(none.requestId).toBe("req-abc.42");
    expectNoToken(none);
    expect(none.body.error).toBe("No authorization token provided [request_id: req-abc.42]");

    const s = await save(t, t.clientA, "admin", { user: documentedUser });
    const valid = await status(t, { ...bearer(s.token), "x-request-id": "valid-req-1" });
    expect(valid.requestId).toBe("valid-req-1");
    expectValid(valid, documentedUser, 7200);
  });

  test("an unusable x-request-id is replaced, and the message carries the id that is returned", async () => {
    const r = await status(t, { ...bearer(randomBytes(32).toString("base64url")), "x-request-id": "not a usable id!" });
    expect(r.requestId).not.toBe("not a usable id!");
    expectInvalid(r);
  });

  test("tokens never reach the logs", async () => {
    const s = await save(t, t.clientA, "admin", { user: documentedUser });
    const unknown = randomBytes(32).toString("base64url");
    expectValid(await status(t, bearer(s.token)), documentedUser, 7200);
    expectInvalid(await status(t, bearer(unknown)));
    const logs = t.logs.join("\n");
    expect(logs.length).toBeGreaterThan(0);
    expect(logs).not.toContain(s.token);
    expect(logs).not.toContain(unknown);
  });

  test("each request without its own id gets a fresh one", async () => {
    const a = await status(t);
    const b = await status(t);
    expectNoToken(a);
    expectNoToken(b);
    expect(a.requestId).not.toBe(b.requestId);
  });

  test("no token: 401 {success: false, valid: false, error} with the request id", async () => {
    expectNoToken(await status(t));
    expectNoToken(await status(t, { authorization: "Bearer " }));
    expectNoToken(await status(t, { authorization: "Basic dXNlcjpwYXNz" }));
  });

  test("a session with a fixed expiry is read but not slid", async () => {
    const fixed = new Date(Date.now() + 3600_000);
    fixed.setMilliseconds(0);
    const s = await save(t, t.clientA, "admin", { user: documentedUser, expires_at: fixed.toISOString() });
    const before = Date.now();
    const session = expectValid(await status(t, bearer(s.token)), documentedUser, 7200);
    expect(ms(session.expires_at)).toBe(fixed.getTime());
    expect(ms(session.last_accessed)).toBeGreaterThanOrEqual(before - 5);
  });
});

describe("sliding expiry (SESSION_IDLE_TIMEOUT_SECONDS=3)", () => {
  let s3: TestApp;
  beforeAll(async () => {
    s3 = await startTestApp({ SESSION_IDLE_TIMEOUT_SECONDS: "3" });
  });
  afterAll(async () => s3.close());

  test("status every second for 6 s keeps the session alive and moves last_accessed and expires_at; after >3 s idle it is invalid", async () => {
    const s = await save(s3, s3.clientA, "slider", { user: documentedUser });
    let lastAccessed = 0;
    let expiresAt = 0;
    const started = Date.now();
    for (let i = 0; i < 7; i++) {
      const before = Date.now();
      const session = expectValid(await status(s3, bearer(s.token)), documentedUser, 3);
      expect(session.timeout_minutes).toBe(0); // 3 s is 0.05 minutes, rounded
      const la = ms(session.last_accessed);
      const ea = ms(session.expires_at);
      expect(la).toBeGreaterThanOrEqual(before - 5);
      expect(la).toBeGreaterThan(lastAccessed);
      expect(ea).toBeGreaterThan(expiresAt);
      expect(ea).toBe(la + 3000);
      expect(session.remaining_seconds).toBeGreaterThanOrEqual(2);
      expect(session.remaining_seconds).toBeLessThanOrEqual(3);
      lastAccessed = la;
      expiresAt = ea;
      if (i < 6) await sleep(1000);
    }
    // The session outlived its idle timeout twice over because it was used.
    expect(Date.now() - started).toBeGreaterThanOrEqual(6000);
    // The 000 face sees the slid expiry too.
    const got = await fetch(`${s3.baseUrl}/session-storage/sessions/${s.id}`, { headers: s3.clientA.headers });
    expect(ms(((await got.json()) as { data: Json }).data.expires_at)).toBe(expiresAt);

    await sleep(3300);
    expectInvalid(await status(s3, bearer(s.token)));
  }, 30_000);

  describe("with a 4 s absolute lifetime", () => {
    let s4: TestApp;
    beforeAll(async () => {
      s4 = await startTestApp({ SESSION_IDLE_TIMEOUT_SECONDS: "3", SESSION_MAX_LIFETIME_SECONDS: "4" });
    });
    afterAll(async () => s4.close());

    test("sliding never passes the absolute lifetime", async () => {
      const s = await save(s4, s4.clientA, "bounded", { user: documentedUser });
      const created = ms(s.createdAt);
      for (let i = 0; i < 3; i++) {
        await sleep(1000);
        const session = expectValid(await status(s4, bearer(s.token)), documentedUser, 3);
        expect(ms(session.expires_at)).toBe(Math.min(ms(session.last_accessed) + 3000, created + 4000));
      }
      await sleep(Math.max(0, created + 4000 - Date.now()) + 300);
      expectInvalid(await status(s4, bearer(s.token)));
    }, 30_000);
  });
});

describe("hot path: one Redis round trip", () => {
  /**
   * How the round trips are counted. The test Redis is shared by every test
   * file and vitest runs files in parallel, so server-wide counters (CONFIG
   * RESETSTAT + INFO commandstats) would count other files' commands too.
   * Instead a dedicated connection runs MONITOR, which reports every command
   * with the address of the connection that sent it ("lua" for commands run
   * inside a script). The service's own connection is found by the one
   * command that names this token's session key (a minted token names it) or
   * pointer key (s2:t:<hmac of a caller's token>, computed with the test
   * app's HMAC key), and then every top-level command
   * that connection sent between two ECHO markers is counted. The markers
   * are sent by the inspector connection before the request and after its
   * reply, so the window holds exactly what the service did for the call.
   * Nothing else runs on this app meanwhile (tests in a file run one by one).
   * A warm-up call comes first: ioredis runs scripts by EVALSHA and loads a
   * script once per server with EVAL on NOSCRIPT; the steady state is
   * measured. On a Cluster every primary is monitored (monitor-during.ts)
   * and the service's connection is the one to the node holding the key.
   */
  const lookupHash = (token: string) => createKeyedHash(t.config.tokenHmacKey, "token-lookup", 16).digest(token);

  /** The one top-level command the service sent that names `key`, and the commands its script ran. */
  function scriptNaming(window: MonitorLine[], key: string) {
    const naming = window.filter((l) => l.source !== "lua" && l.args.includes(key));
    expect(naming.length, JSON.stringify(window.map((l) => [l.source, l.args[0]]))).toBe(1);
    const fromService = window.filter((l) => l.source === naming[0]!.source);
    // A script runs atomically, so the commands it ran are the "lua" lines right after it.
    const at = window.indexOf(naming[0]!);
    const inScript: MonitorLine[] = [];
    for (let i = at + 1; i < window.length && window[i]!.source === "lua"; i++) inScript.push(window[i]!);
    // A slide that crosses one of the user index's 10 s expiry steps also
    // moves the index's expiry (at most once per step per session): not
    // part of what these tests count.
    return { fromService, inScript: inScript.filter((l) => !(l.args[0]!.toLowerCase() === "pexpireat" && /\}:i$/.test(l.args[1] ?? ""))) };
  }

  test("GET /auth/status with a minted token reads the session and slides it with exactly one command, naming the session", async () => {
    const s = await save(t, t.clientA, "hot-path", { user: documentedUser });
    const sessionKey = redisKeys.session(t.clientA.id, "hot-path", s.id.slice("hot-path.".length));
    expectValid(await status(t, bearer(s.token)), documentedUser, 7200); // warm-up (see above)

    let result: Awaited<ReturnType<typeof status>> | undefined;
    const window = await monitorDuring(t.redis, async () => {
      result = await status(t, bearer(s.token));
    });
    expectValid(result!, documentedUser, 7200);
    const { fromService, inScript } = scriptNaming(window, sessionKey);
    // One round trip: one top-level command, a script on the session key (a
    // declared key, so this holds on Redis Cluster too)...
    expect(fromService.map((l) => l.args[0]!.toLowerCase())).toEqual(["evalsha"]);
    expect(fromService[0]!.args.slice(2, 4)).toEqual(["1", sessionKey]);
    // ...that read the session and slid its expiry inside Redis, with no pointer key.
    expect(inScript.map((l) => l.args[0]!.toLowerCase())).toEqual(["hgetall", "hset", "pexpireat"]);
    expect(inScript.map((l) => l.args[1])).toEqual([sessionKey, sessionKey, sessionKey]);
  });

  /** Resolves once `pointer` expires at the same ms as `sessionKey` (PEXPIRETIME, Redis 7). */
  async function expiresTogether(pointer: string, sessionKey: string) {
    for (const deadline = Date.now() + 2_000; ; ) {
      const [a, b] = await Promise.all([t.redis.call("PEXPIRETIME", pointer), t.redis.call("PEXPIRETIME", sessionKey)]);
      if (a === b) return;
      if (Date.now() > deadline) throw new Error(`pointer expires at ${String(a)}, its session at ${String(b)}`);
      await sleep(5);
    }
  }

  test("GET /auth/status with a caller's token: one command that follows the token pointer", async () => {
    const token = `eyJhbGciOiJIUzI1NiJ9.${randomBytes(24).toString("base64url")}`;
    const res = await fetch(`${t.baseUrl}/api/v1/session-storage`, {
      method: "POST",
      headers: { ...t.clientA.headers, "content-type": "application/json" },
      body: JSON.stringify({ user_id: "hot-path-own", token, user: documentedUser }),
    });
    expect(res.status).toBe(200);
    const id = ((await res.json()) as { id: string }).id;
    const pointer = redisKeys.tokenPointer(lookupHash(token));
    expectValid(await status(t, bearer(token)), documentedUser, 7200); // warm-up

    const sessionKey = redisKeys.session(t.clientA.id, "hot-path-own", id.slice("hot-path-own.".length));
    let result: Awaited<ReturnType<typeof status>> | undefined;
    const watched = await monitorDuring(t.redis, async () => {
      result = await status(t, bearer(token));
      // On Cluster the pointer's expiry is moved after the answer, not
      // awaited by the call: wait for it here so the window holds it.
      if (onCluster()) await expiresTogether(pointer, sessionKey);
    });
    // (The waiting above is the inspector's, not the service's.)
    const window = watched.filter((l) => l.args[0]!.toLowerCase() !== "pexpiretime");
    expectValid(result!, documentedUser, 7200);
    if (onCluster()) {
      // The pointer and the session are in different slots (README
      // "Topologies"): GET the pointer, then the slide script on the
      // session's node: two round trips. The pointer's expiry follows the
      // session's with a PEXPIREAT … GT the call sends but does not wait for.
      const onPointer = window.filter((l) => l.source !== "lua" && l.args.includes(pointer));
      expect(onPointer.map((l) => [l.args[0]!.toLowerCase(), l.args[1]])).toEqual([["get", pointer], ["pexpireat", pointer]]);
      expect(onPointer[1]!.args[3]?.toUpperCase()).toBe("GT");
      const onSession = scriptNaming(window, sessionKey);
      // Both keys may be on one node: count what the service's connections sent, together.
      const service = new Set([onPointer[0]!.source, onSession.fromService[0]!.source]);
      const sent = window.filter((l) => service.has(l.source)).map((l) => l.args[0]!.toLowerCase());
      expect(sent.sort()).toEqual(["evalsha", "get", "pexpireat"]);
      expect(onSession.inScript.map((l) => [l.args[0]!.toLowerCase(), l.args[1]])).toEqual([["hgetall", sessionKey], ["hset", sessionKey], ["pexpireat", sessionKey]]);
      return;
    }
    const { fromService, inScript } = scriptNaming(window, pointer);
    expect(fromService.map((l) => l.args[0]!.toLowerCase())).toEqual(["evalsha"]);
    expect(fromService[0]!.args).toContain(pointer);
    expect(inScript.map((l) => l.args[0]!.toLowerCase())).toEqual(["get", "hgetall", "hset", "pexpireat", "pexpireat"]);
    expect(inScript[0]!.args[1]).toBe(pointer);
    // The last command keeps the pointer alive exactly as long as the session.
    expect(inScript.slice(1).map((l) => l.args[1])).toEqual([sessionKey, sessionKey, sessionKey, pointer]);
  });

  test("an unknown token also costs one command", async () => {
    const unknownToken = randomBytes(32).toString("base64url");
    const pointer = redisKeys.tokenPointer(lookupHash(unknownToken));
    expectInvalid(await status(t, bearer(unknownToken)));
    const window = await monitorDuring(t.redis, async () => {
      expectInvalid(await status(t, bearer(unknownToken)));
    });
    const naming = window.filter((l) => l.source !== "lua" && l.args.includes(pointer));
    expect(naming.length).toBe(1);
    // On Cluster the pointer is read with a plain GET (it is in its own slot).
    expect(window.filter((l) => l.source === naming[0]!.source).map((l) => l.args[0]!.toLowerCase())).toEqual([onCluster() ? "get" : "evalsha"]);
  });

  test("no token costs no Redis command at all", async () => {
    // Find the service's connection by a lookup that names a session key...
    const s = await save(t, t.clientA, "hot-path-2", { user: documentedUser });
    const sessionKey = redisKeys.session(t.clientA.id, "hot-path-2", s.id.slice("hot-path-2.".length));
    const lookup = await monitorDuring(t.redis, async () => {
      expectValid(await status(t, bearer(s.token)), documentedUser, 7200);
    });
    const service = lookup.find((l) => l.source !== "lua" && l.args.includes(sessionKey))?.source;
    expect(service).toBeTypeOf("string");
    // ...then a request without a token sends nothing on it.
    const window = await monitorDuring(t.redis, async () => {
      expectNoToken(await status(t));
    });
    expect(window.filter((l) => l.source === service)).toEqual([]);
  });
});

// connect-node's gRPC transport always speaks HTTP/2 (it has no httpVersion option).
describe("over gRPC and Connect", () => {
  test("a live session: OK with valid true, the profile and the session", async () => {
    const client = createClient(AuthStatusService, createGrpcTransport({ baseUrl: t.baseUrl }));
    const s = await save(t, t.clientA, "admin", { user: documentedUser });
    const reply = await client.getAuthStatus({}, { headers: bearer(s.token) });
    expect(reply.success).toBe(true);
    expect(reply.valid).toBe(true);
    expect(reply.user).toStrictEqual(documentedUser);
    expect(reply.message).toBeUndefined();
    expect(reply.session?.timeoutMinutes).toBe(120);
    expect(reply.session?.remainingSeconds).toBeGreaterThanOrEqual(7198);
    expect(timestampDate(reply.session!.createdAt!).getTime()).toBe(ms(s.createdAt));
    expect(timestampDate(reply.session!.expiresAt!).getTime()).toBe(timestampDate(reply.session!.lastAccessed!).getTime() + 7200_000);
  });

  test("an expired or unknown token: OK with valid false and the message with the call's request id", async () => {
    const client = createClient(AuthStatusService, createGrpcTransport({ baseUrl: t.baseUrl }));
    const s = await save(t, t.clientA, "admin", { user: documentedUser });
    const extend = await fetch(`${t.baseUrl}/session-storage/sessions/${s.id}?ttl_seconds=1`, { method: "POST", headers: t.clientA.headers });
    expect(extend.status).toBe(204);
    await sleep(1300);
    for (const token of [s.token, randomBytes(32).toString("base64url")]) {
      let requestId: string | null = null;
      const reply = await client.getAuthStatus({}, { headers: bearer(token), onHeader: (h) => (requestId = h.get("x-request-id")) });
      expect(reply.success).toBe(true);
      expect(reply.valid).toBe(false);
      expect(reply.user).toBeUndefined();
      expect(reply.session).toBeUndefined();
      expect(requestId).toBeTypeOf("string");
      expect(reply.message).toBe(`Session expired or invalid [request_id: ${requestId}]`);
    }
    const own = await client.getAuthStatus({}, { headers: { ...bearer(s.token), "x-request-id": "grpc-req-7" } });
    expect(own.message).toBe("Session expired or invalid [request_id: grpc-req-7]");
  });

  test("no token: UNAUTHENTICATED", async () => {
    for (const transport of [
      createGrpcTransport({ baseUrl: t.baseUrl }),
      createConnectTransport({ baseUrl: t.baseUrl, httpVersion: "1.1" }),
    ]) {
      const client = createClient(AuthStatusService, transport);
      const err = await client.getAuthStatus({}).then(() => undefined, (e: unknown) => ConnectError.from(e));
      expect(err?.code).toBe(Code.Unauthenticated);
      expect(err?.rawMessage).toBe("No authorization token provided");
    }
  });

  test("Connect JSON: a live session is valid with the profile as given", async () => {
    const client = createClient(AuthStatusService, createConnectTransport({ baseUrl: t.baseUrl, httpVersion: "1.1" }));
    const s = await save(t, t.clientA, "admin", { user: documentedUser });
    const reply = await client.getAuthStatus({}, { headers: bearer(s.token) });
    expect(reply.valid).toBe(true);
    expect(reply.user).toStrictEqual(documentedUser);
  });
});
