// Session events: a scripted sequence of changes produces each event exactly
// once, seen the same by WatchSessionEvents (gRPC and Connect) and by
// Server-Sent Events; consumers resume without a gap; no event carries a
// token; a tenant sees only its own; expired events come from the sweeper
// once, with two replicas; a stalled consumer does not hold producing calls.
import { randomBytes } from "node:crypto";
import http from "node:http";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { SessionEvent } from "../gen/sessionstorage/v1/session_events_service_pb.js";
import { createKeyedHash } from "../src/crypto/keyed-hash.js";
import { redisKeys, tenantBuckets } from "../src/store/redis-keys.js";
import { openSse, watchRpc, type SseStream } from "./support/event-consumers.js";
import { makeTestSecrets, startTestApp, type TestApp } from "./support/test-app.js";
import { jsonCall } from "./support/json-call.js";

type Json = Record<string, any>;

let t: TestApp;
/** Every token the tests handled: none may appear in any event. */
const tokens: string[] = [];

beforeAll(async () => {
  t = await startTestApp({
    INDEX_SWEEP_INTERVAL_MS: "200",
    EVENTS_HEARTBEAT_MS: "300",
    MAX_SESSIONS_PER_USER: "3",
    EVICT_OLDEST_AT_LIMIT: "true",
  });
});
afterAll(async () => t?.close());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const uid = (tag: string) => `ev-${tag}-${randomBytes(4).toString("hex")}`;
const callerToken = () => `eyJhbGciOiJFUzI1NiJ9.${randomBytes(24).toString("base64url")}`;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });


async function create(app: TestApp, userId: string, extra: Json = {}, headers = app.clientA.headers) {
  const res = await jsonCall(app, "POST", "/api/v1/session-storage", headers, { user_id: userId, ...extra });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  tokens.push(res.body.token as string);
  return { id: res.body.id as string, token: res.body.token as string };
}

/** When the sequence's last session was created, and when it expires. */
let createdAt = 0;
let expiredAt = 0;

/** [type, session id] of each expected event, in the order the sequence makes them. */
type Expected = [string, string][];

/**
 * The scripted sequence: every event type, through REST, with a touch and
 * validations in between (not events). Returns what it must produce.
 */
async function scriptedSequence(app: TestApp): Promise<Expected> {
  const expected: Expected = [];
  const h = app.clientA.headers;
  // created, token_rotated, expiry_changed, deleted
  const u1 = uid("u1");
  const s1 = await create(app, u1, { token: callerToken() });
  tokens.push(s1.token);
  expected.push(["created", s1.id]);
  const rotated = callerToken();
  tokens.push(rotated);
  expect((await jsonCall(app, "PUT", `/api/v1/session-storage/${s1.id}`, h, { token: rotated })).status).toBe(200);
  expected.push(["token_rotated", s1.id]);
  expect((await jsonCall(app, "GET", "/auth/status", bearer(rotated))).status).toBe(200); // a slide: no event
  expect((await jsonCall(app, "POST", `/session-storage/sessions/${s1.id}?ttl_seconds=3600`, h)).status).toBe(204);
  expected.push(["expiry_changed", s1.id]);
  expect((await jsonCall(app, "DELETE", `/session-storage/sessions/${s1.id}`, h)).status).toBe(204);
  expected.push(["deleted", s1.id]);
  // ended, removed (and a touch, which is not an event)
  const u2 = uid("u2");
  const s2 = await create(app, u2);
  const s3 = await create(app, u2);
  expected.push(["created", s2.id], ["created", s3.id]);
  expect((await jsonCall(app, "POST", `/v1/client/sessions/${s2.id}/touch`, bearer(s2.token))).status).toBe(200);
  expect((await jsonCall(app, "POST", `/v1/client/sessions/${s2.id}/end`, bearer(s2.token))).status).toBe(200);
  expected.push(["ended", s2.id]);
  expect((await jsonCall(app, "POST", `/v1/client/sessions/${s3.id}/remove`, h)).status).toBe(200);
  expected.push(["removed", s3.id]);
  // cleared: one event per session
  const u3 = uid("u3");
  const c1 = await create(app, u3);
  const c2 = await create(app, u3);
  expected.push(["created", c1.id], ["created", c2.id]);
  expect((await jsonCall(app, "DELETE", `/api/v1/session-storage?user_id=${u3}`, h)).status).toBe(200);
  expected.push(["cleared", c1.id], ["cleared", c2.id]);
  // evicted: the limit is 3 and the oldest goes
  const u4 = uid("u4");
  const e = [await create(app, u4), await create(app, u4), await create(app, u4)];
  expected.push(...e.map((s): [string, string] => ["created", s.id]));
  const e4 = await create(app, u4);
  expected.push(["evicted", e[0]!.id], ["created", e4.id]);
  // revoked: sign out everywhere, with a reason
  const u5 = uid("u5");
  const r1 = await create(app, u5);
  const r2 = await create(app, u5);
  expected.push(["created", r1.id], ["created", r2.id]);
  const revoked = await jsonCall(app, "POST", `/session-storage/users/${u5}/revoke`, h, { reason: "password changed" });
  expect(revoked.status).toBe(200);
  expect(revoked.body.revoked_count).toBe(2);
  expected.push(["revoked", r1.id], ["revoked", r2.id]);
  // expired: a fixed expiry 1 s ahead; the sweeper notices it
  const u6 = uid("u6");
  createdAt = Date.now();
  expiredAt = createdAt + 1_000;
  const x = await create(app, u6, { expires_at: new Date(expiredAt).toISOString() });
  expected.push(["created", x.id]);
  expected.push(["expired", x.id]);
  return expected;
}

const key = (e: { type: string; sessionId?: string; session_id?: string }) => `${e.type} ${e.sessionId ?? e.session_id}`;
const sortedKeys = (list: Expected) => list.map(([type, id]) => `${type} ${id}`).sort();

/** Checks one delivered event (proto shape) field by field. */
function expectEventShape(e: SessionEvent, tenantId: string) {
  expect(e.id).toMatch(/^\d+-\d+$/);
  expect(Number.isInteger(e.stream) && e.stream >= 0 && e.stream < tenantBuckets).toBe(true);
  expect(typeof e.type).toBe("string");
  expect(e.tenantId).toBe(tenantId);
  expect(e.sessionId.startsWith(`${e.userId}.`)).toBe(true);
  expect(typeof e.status).toBe("string");
  expect(e.time).toBeDefined();
  expect(Math.abs(Number(e.time!.seconds) * 1000 - Date.now())).toBeLessThan(60_000);
  expect(typeof e.cause).toBe("string");
  expect(e.cause).not.toBe("");
  expect(e.cursor).toMatch(/^e1\./);
}

/** Checks one SSE event (proto JSON, snake_case) field by field. */
function expectJsonShape(e: Json, tenantId: string) {
  expect(Object.keys(e).sort()).toEqual(["cause", "cursor", "id", "reason", "session_id", "status", "stream", "tenant_id", "time", "type", "user_id"]);
  expect(e.id).toMatch(/^\d+-\d+$/);
  expect(Number.isInteger(e.stream) && e.stream >= 0 && e.stream < tenantBuckets).toBe(true);
  expect(typeof e.reason).toBe("string");
  expect(typeof e.type).toBe("string");
  expect(e.tenant_id).toBe(tenantId);
  expect(typeof e.session_id).toBe("string");
  expect(typeof e.user_id).toBe("string");
  expect(typeof e.status).toBe("string");
  expect(Number.isNaN(Date.parse(e.time))).toBe(false);
  expect(typeof e.cause).toBe("string");
  expect(e.cursor).toMatch(/^e1\./);
}

const unique = (events: { stream: number; id: string }[]) => new Set(events.map((e) => `${e.stream}/${e.id}`)).size;

describe("a scripted sequence", () => {
  let expected: Expected;
  let grpc: ReturnType<typeof watchRpc>;
  let connect: ReturnType<typeof watchRpc>;
  let sse: SseStream;
  let bTenant: ReturnType<typeof watchRpc>;

  beforeAll(async () => {
    // Every consumer starts before the sequence, at "now" (a fresh tenant: nothing earlier).
    grpc = watchRpc(t.baseUrl, "grpc", t.clientA.headers, { fromBeginning: true });
    connect = watchRpc(t.baseUrl, "connect", t.clientA.headers, { fromBeginning: true });
    bTenant = watchRpc(t.baseUrl, "grpc", t.clientB.headers, { fromBeginning: true });
    sse = await openSse(t.baseUrl, t.clientA.headers, { from_beginning: "true" });
    expect(sse.status).toBe(200);
    expect(sse.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expected = await scriptedSequence(t);
    // Tenant B does something of its own.
    await create(t, uid("b"), {}, t.clientB.headers);
    const all = (n: number) => (events: unknown[]) => events.length >= n;
    await Promise.all([
      grpc.until(all(expected.length)),
      connect.until(all(expected.length)),
      sse.until((s) => s.events().length >= expected.length),
      bTenant.until(all(1)),
    ]);
    // Anything extra (a duplicate) would arrive meanwhile.
    await sleep(1_000);
  });
  afterAll(() => {
    grpc?.cancel();
    connect?.cancel();
    bTenant?.cancel();
    sse?.close();
  });

  test("over gRPC: every event exactly once, with every field", () => {
    expect(grpc.events.map(key).sort()).toEqual(sortedKeys(expected));
    expect(unique(grpc.events)).toBe(grpc.events.length);
    for (const e of grpc.events) expectEventShape(e, t.clientA.id);
  });

  test("over Connect: the same events in the same order", () => {
    expect(connect.events.map((e) => `${e.stream}/${e.id}`)).toEqual(grpc.events.map((e) => `${e.stream}/${e.id}`));
  });

  test("over SSE: the same events, each with its cursor as id: and its type as event:", () => {
    const events = sse.events();
    expect(events.map((e) => key(e as { type: string; session_id: string })).sort()).toEqual(sortedKeys(expected));
    expect(events.map((e) => `${e.stream}/${e.id}`)).toEqual(grpc.events.map((e) => `${e.stream}/${e.id}`));
    for (const m of sse.messages.filter((m) => m.data !== undefined)) {
      const e = JSON.parse(m.data!) as Json;
      expectJsonShape(e, t.clientA.id);
      expect(m.id).toBe(e.cursor);
      expect(m.event).toBe(e.type);
    }
    // The first message is the starting position; heartbeats are comments.
    expect(sse.messages[0]!.id).toMatch(/^e1\./);
    expect(sse.messages.some((m) => m.comments.includes("heartbeat"))).toBe(true);
  });

  test("order per session is the order of its changes; statuses and causes say what happened", () => {
    const bySession = new Map<string, string[]>();
    for (const e of grpc.events) bySession.set(e.sessionId, [...(bySession.get(e.sessionId) ?? []), e.type]);
    const want = new Map<string, string[]>();
    for (const [type, id] of expected) want.set(id, [...(want.get(id) ?? []), type]);
    expect(Object.fromEntries(bySession)).toEqual(Object.fromEntries(want));
    const one = (type: string) => grpc.events.find((e) => e.type === type)!;
    expect([one("created").status, one("created").cause]).toEqual(["active", "create"]);
    expect([one("token_rotated").status, one("token_rotated").cause]).toEqual(["active", "update"]);
    expect([one("expiry_changed").status, one("expiry_changed").cause]).toEqual(["active", "extend"]);
    expect([one("ended").status, one("ended").cause]).toEqual(["ended", "end"]);
    expect([one("removed").status, one("removed").cause]).toEqual(["removed", "remove"]);
    expect([one("deleted").status, one("deleted").cause]).toEqual(["deleted", "delete"]);
    expect([one("cleared").status, one("cleared").cause]).toEqual(["deleted", "clear_user"]);
    expect([one("evicted").status, one("evicted").cause]).toEqual(["evicted", "create"]);
    expect([one("revoked").status, one("revoked").cause, one("revoked").reason]).toEqual(["revoked", "revoke_all", "password changed"]);
    expect([one("expired").status, one("expired").cause]).toEqual(["expired", "expiry"]);
    // The bound: a sweep pass (200 ms here; one batch covers this small tenant) after the expiry,
    // or after the 2.5 s a create may be in flight once Redis has reclaimed the session's key.
    const at = Number(one("expired").time!.seconds) * 1000 + one("expired").time!.nanos / 1e6;
    expect(at).toBeGreaterThanOrEqual(expiredAt);
    expect(at - Math.max(expiredAt, createdAt + 2_500)).toBeLessThan(200 + 1_000);
  });

  test("filters: one user's events, or some types only", async () => {
    const user = grpc.events.find((e) => e.type === "revoked")!.userId;
    const byUser = watchRpc(t.baseUrl, "grpc", t.clientA.headers, { fromBeginning: true, userId: user });
    const byType = await openSse(t.baseUrl, t.clientA.headers, { from_beginning: "true", types: "revoked,evicted" });
    try {
      await byUser.until((e) => e.length >= 4);
      await byType.until((s) => s.events().length >= 3);
      await sleep(400);
      expect(byUser.events.map((e) => e.type)).toEqual(["created", "created", "revoked", "revoked"]);
      expect(byType.events().map((e) => e.type).sort()).toEqual(["evicted", "revoked", "revoked"]);
    } finally {
      byUser.cancel();
      byType.close();
    }
  });

  test("a tenant never sees another tenant's events", () => {
    expect(bTenant.events.length).toBe(1);
    expect(bTenant.events[0]!.tenantId).toBe(t.clientB.id);
    const aSessions = new Set(grpc.events.map((e) => e.sessionId));
    expect(bTenant.events.some((e) => aSessions.has(e.sessionId))).toBe(false);
    expect(grpc.events.every((e) => e.tenantId === t.clientA.id)).toBe(true);
  });

  test("no event carries a token or a token hash: raw stream entries and every delivery", async () => {
    const hash = createKeyedHash(t.config.tokenHmacKey, "token-lookup", 16);
    const secrets = tokens.filter(Boolean).flatMap((token) => [token, hash.digest(token)]);
    expect(secrets.length).toBeGreaterThan(20);
    const raw: string[] = [];
    for (let b = 0; b < tenantBuckets; b++) {
      for (const [id, fields] of await t.redis.xrange(redisKeys.eventStream(t.clientA.id, b), "-", "+")) raw.push(id, ...fields);
    }
    expect(raw.length).toBeGreaterThan(expected.length * 2);
    const deliveries = [JSON.stringify(grpc.events.map((e) => ({ ...e, time: String(e.time?.seconds) }))), ...sse.messages.map((m) => m.raw)];
    for (const secret of secrets) {
      for (const text of [...raw, ...deliveries]) expect(text.includes(secret), "a token in an event").toBe(false);
    }
  });

  test("a stream entry leaves out the cause its type implies; the delivery has it all the same", async () => {
    const stored = new Map<string, Record<string, string>>();
    for (let b = 0; b < tenantBuckets; b++) {
      for (const [id, fields] of await t.redis.xrange(redisKeys.eventStream(t.clientA.id, b), "-", "+")) {
        const entry: Record<string, string> = {};
        for (let i = 0; i < fields.length; i += 2) entry[fields[i]!] = fields[i + 1]!;
        stored.set(`${b}/${id}`, entry);
      }
    }
    const causes = new Map<string, string | undefined>();
    for (const e of grpc.events) {
      const entry = stored.get(`${e.stream}/${e.id}`)!;
      expect(entry.t).toBe(e.type);
      causes.set(e.type, entry.c);
    }
    // Implied: created by a create, deleted by a delete, expired by expiry.
    expect(causes.get("created")).toBeUndefined();
    expect(causes.get("deleted")).toBeUndefined();
    expect(causes.get("expired")).toBeUndefined();
    // Not implied: stored as given (an eviction is caused by a create, a clear is no delete).
    expect(causes.get("evicted")).toBe("create");
    expect(causes.get("cleared")).toBe("clear_user");
    expect(causes.get("ended")).toBe("end");
  });
});

describe("resuming", () => {
  test("an SSE consumer that disconnects and resumes with Last-Event-ID misses nothing and repeats nothing", async () => {
    const first = await openSse(t.baseUrl, t.clientA.headers);
    await first.until((s) => s.messages.length >= 1);
    const user = uid("resume");
    const made: string[] = [];
    for (let i = 0; i < 3; i++) made.push((await create(t, user)).id);
    await first.until((s) => s.events().filter((e) => e.user_id === user).length >= 3);
    first.close();
    // Changes while nobody listens.
    for (let i = 0; i < 2; i++) made.push((await create(t, user)).id);
    const resumed = await openSse(t.baseUrl, { ...t.clientA.headers, "Last-Event-ID": first.lastId()! });
    try {
      await resumed.until((s) => s.events().filter((e) => e.user_id === user).length >= 2);
      await sleep(400);
      const seen = [...first.events(), ...resumed.events()].filter((e) => e.user_id === user);
      // (The limit of 3 evicted the oldest two meanwhile: their events come too.)
      const created = seen.filter((e) => e.type === "created").map((e) => e.session_id);
      expect(created).toEqual(made);
      expect(new Set(seen.map((e) => `${e.stream}/${e.id}`)).size).toBe(seen.length);
      expect(seen.filter((e) => e.type === "evicted").map((e) => e.session_id)).toEqual(made.slice(0, 2));
    } finally {
      resumed.close();
    }
  });

  test("an RPC consumer resumes after the cursor of the last event it saw", async () => {
    const user = uid("rpc-resume");
    const first = watchRpc(t.baseUrl, "grpc", t.clientA.headers, { userId: user });
    await sleep(300); // the watch has started at "now"
    const a = await create(t, user);
    await first.until((e) => e.length >= 1);
    first.cancel();
    expect(await first.done).toBeInstanceOf(ConnectError);
    const b = await create(t, user);
    const c = await create(t, user);
    const second = watchRpc(t.baseUrl, "connect", t.clientA.headers, { userId: user, resumeAfter: first.events[0]!.cursor });
    try {
      await second.until((e) => e.length >= 2);
      await sleep(300);
      expect([...first.events, ...second.events].map((e) => e.sessionId)).toEqual([a.id, b.id, c.id]);
    } finally {
      second.cancel();
    }
  });

  test("a replay merges the tenant's streams in entry id order, over several pages (100 each)", async () => {
    const busy = uid("busy");
    for (let i = 0; i < 60; i++) await create(t, busy); // 60 created + 57 evicted in one stream
    const last = await create(t, uid("late")); // most likely another stream, written after all of them
    const replay = watchRpc(t.baseUrl, "grpc", t.clientA.headers, { fromBeginning: true });
    try {
      await replay.until((e) => e.some((x) => x.sessionId === last.id), 15_000);
      const ids = replay.events.map((e) => e.id.split("-").map(Number) as [number, number]);
      for (let i = 1; i < ids.length; i++) {
        const [a, b] = [ids[i - 1]!, ids[i]!];
        expect(a[0] < b[0] || (a[0] === b[0] && a[1] <= b[1]), `event ${i} out of order`).toBe(true);
      }
      expect(replay.events.filter((e) => e.userId === busy).length).toBe(60 + 57);
    } finally {
      replay.cancel();
    }
  });

  test("a cursor that is not one is INVALID_ARGUMENT over RPC and 400 over SSE", async () => {
    const rpc = watchRpc(t.baseUrl, "grpc", t.clientA.headers, { resumeAfter: "e1.not-a-cursor" });
    const err = (await rpc.done) as ConnectError;
    expect(err).toBeInstanceOf(ConnectError);
    expect(err.code).toBe(Code.InvalidArgument);
    const sse = await openSse(t.baseUrl, { ...t.clientA.headers, "Last-Event-ID": "garbage" });
    expect(sse.status).toBe(400);
  });
});

describe("credentials", () => {
  test("events need API client credentials: none, wrong ones or a Bearer token are refused", async () => {
    const s = await create(t, uid("auth"));
    for (const headers of [{}, bearer(s.token)]) {
      const rpc = (await watchRpc(t.baseUrl, "grpc", headers, {}).done) as ConnectError;
      expect(rpc.code).toBe(Code.Unauthenticated);
      const sse = await openSse(t.baseUrl, headers);
      expect(sse.status).toBe(401);
      expect(sse.headers.get("content-type")).toMatch(/^application\/json/);
    }
    const wrong = await openSse(t.baseUrl, { ClientID: t.clientA.id, ClientSecret: "x".repeat(40) });
    expect(wrong.status).toBe(401);
    const badType = await openSse(t.baseUrl, t.clientA.headers, { types: "touched" });
    expect(badType.status).toBe(400);
  });
});

describe("settings", () => {
  test("retention: a stream lives EVENTS_RETENTION_SECONDS past its last event (older entries are trimmed by MINID)", async () => {
    const app = await startTestApp({ EVENTS_RETENTION_SECONDS: "120" });
    try {
      const userId = uid("ret");
      await create(app, userId);
      const key = redisKeys.eventStreamOf(app.clientA.id, userId);
      expect(await app.redis.type(key)).toBe("stream");
      const ttl = await app.redis.pttl(key);
      expect(ttl).toBeGreaterThan(110_000);
      expect(ttl).toBeLessThanOrEqual(120_000);
    } finally {
      await app.close();
    }
  });

  test("EVENTS=false: changes write no event, and watching is refused", async () => {
    const app = await startTestApp({ EVENTS: "false" });
    try {
      const userId = uid("off");
      const s = await create(app, userId);
      expect((await jsonCall(app, "DELETE", `/session-storage/sessions/${s.id}`, app.clientA.headers)).status).toBe(204);
      for (let b = 0; b < tenantBuckets; b++) expect(await app.redis.exists(redisKeys.eventStream(app.clientA.id, b))).toBe(0);
      const rpc = (await watchRpc(app.baseUrl, "grpc", app.clientA.headers, {}).done) as ConnectError;
      expect(rpc.code).toBe(Code.FailedPrecondition);
      const sse = await openSse(app.baseUrl, app.clientA.headers);
      expect(sse.status).toBe(400);
    } finally {
      await app.close();
    }
  });
});

describe("shutdown and slow consumers", () => {
  test("a stalled consumer does not hold the calls that produce events", async () => {
    const user = uid("slow");
    const burst = (tag: string) =>
      Promise.all(Array.from({ length: 200 }, (_, i) =>
        jsonCall(t, "POST", "/api/v1/session-storage", t.clientA.headers, { user_id: `${user}-${tag}${i % 40}` }).then((r) => ({ status: r.status }))));
    await burst("warm"); // connections opened, scripts loaded
    // Consumers that never read: their sockets fill and their loops wait on them.
    const stalled: http.IncomingMessage[] = [];
    const requests: http.ClientRequest[] = [];
    for (let i = 0; i < 10; i++) {
      const req = http.get(`${t.baseUrl}/session-storage/events?from_beginning=true`, { headers: t.clientA.headers }, (res) => {
        res.pause();
        stalled.push(res);
      });
      req.on("error", () => undefined);
      requests.push(req);
    }
    // And consumers that keep up, from now.
    const rpcs = Array.from({ length: 5 }, () => watchRpc(t.baseUrl, "grpc", t.clientA.headers, {}));
    try {
      for (let i = 0; i < 50 && stalled.length < 10; i++) await sleep(100);
      expect(stalled.length).toBe(10);
      const results = await burst("hot");
      expect(results.every((r) => r.status === 200)).toBe(true);
      // Had a call waited for a consumer that never reads, it would not have come back at all
      // (the test would time out): no timing is asserted, only that every call was answered.
      // The stalled consumers really are: their sockets hold what they were sent, unread.
      expect(stalled.every((res) => res.readableLength > 0 || res.socket.readableLength > 0)).toBe(true);
    } finally {
      for (const req of requests) req.destroy();
      for (const rpc of rpcs) rpc.cancel();
    }
  });
});

describe("two replicas", () => {
  test("each expired event is written once, by whichever replica's sweep or list finds it", async () => {
    const secrets = await makeTestSecrets();
    const env = { INDEX_SWEEP_INTERVAL_MS: "100", INDEX_SWEEP_BATCH: "10" };
    const [one, two] = await Promise.all([startTestApp(env, secrets), startTestApp(env, secrets)]);
    try {
      const sessions: string[] = [];
      for (let i = 0; i < 30; i++) {
        const app = i % 2 === 0 ? one : two;
        sessions.push((await create(app, uid(`x${i % 5}`), { expires_at: new Date(Date.now() + 1_000 + (i % 3) * 200).toISOString() })).id);
      }
      const sse = await openSse(one.baseUrl, one.clientA.headers, { from_beginning: "true", types: "expired" });
      try {
        // Lists on both replicas race the sweepers for the same entries.
        const lists = (async () => {
          for (let i = 0; i < 20; i++) {
            await Promise.all([one, two].map((app) => jsonCall(app, "GET", "/session-storage/sessions?page_size=100", app.clientA.headers)));
            await sleep(100);
          }
        })();
        await sse.until((s) => s.events().length >= sessions.length, 15_000);
        await lists;
        await sleep(500);
        const expired = sse.events().map((e) => e.session_id as string);
        expect(expired.sort()).toEqual([...sessions].sort());
      } finally {
        sse.close();
      }
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });

  test("shutdown ends open event streams cleanly and does not wait for them", async () => {
    const app = await startTestApp({ SHUTDOWN_GRACE_MS: "10000" });
    const rpc = watchRpc(app.baseUrl, "grpc", app.clientA.headers, {});
    const sse = await openSse(app.baseUrl, app.clientA.headers);
    await sse.until((s) => s.messages.length >= 1);
    await sleep(200);
    const started = Date.now();
    await app.close();
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(await rpc.done).toBeUndefined(); // ended with OK: resume from the last cursor
    await sse.ended;
  });
});
