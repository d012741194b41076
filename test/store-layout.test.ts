// The Redis layout behind the store, on a redis-server of this file's own (so
// INFO commandstats counts only what this file did): keys and fields, the
// one-script hot path, current by cu, the bucketed tenant index.
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import type { ChildProcess } from "node:child_process";
import { Code, ConnectError } from "@connectrpc/connect";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSessionCore, type SessionCore } from "../src/core/session-core.js";
import type { Session } from "../src/core/session.js";
import { createKeyedHash } from "../src/crypto/keyed-hash.js";
import { createTokenLocator } from "../src/crypto/token-locator.js";
import { createTokenCipher } from "../src/crypto/token-cipher.js";
import { startRedisServer } from "../src/local/start-redis-server.js";
import { createRedisClient, waitUntilReady } from "../src/store/redis-client.js";
import { redisKeys, tenantBuckets } from "../src/store/redis-keys.js";
import { parseTokenPointer } from "../src/store/token-pointer-value.js";
import { sessionFromSlideReply } from "../src/store/redis-session-codec.js";
import { createRedisSessionStore } from "../src/store/redis-session-store.js";

let server: ChildProcess;
let dir: string;
let redis: Redis;
let inspector: Redis;
const tokenEncryptionKeys = [{ id: "k1", key: randomBytes(32) }];
const hmacKey = randomBytes(32);
let clockMs = Date.now();

function coreWith(clock?: () => number): SessionCore {
  return createSessionCore({
    store: createRedisSessionStore(redis),
    cipher: createTokenCipher(tokenEncryptionKeys),
    tokenHash: createKeyedHash(hmacKey, "token-lookup", 16),
    tokenLocator: createTokenLocator(tokenEncryptionKeys),
    config: { idleTimeoutSeconds: 3600, maxLifetimeSeconds: 86_400, maxSessionsPerUser: 100, evictOldestAtLimit: false },
    clock,
  });
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "sss-layout-"));
  const port = await new Promise<number>((resolve) => {
    const probe = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
  server = await startRedisServer(dir, port, false);
  // The service's own client: its write batching, its script runner.
  redis = createRedisClient({ kind: "url", url: `redis://127.0.0.1:${port}` }) as Redis;
  expect(await waitUntilReady(redis, 5000)).toBe(true);
  inspector = new Redis(port, "127.0.0.1");
});
afterAll(async () => {
  redis?.disconnect();
  inspector?.disconnect();
  server?.kill("SIGTERM");
  rmSync(dir, { recursive: true, force: true });
});

const tenant = () => `layout-${randomBytes(4).toString("hex")}`;
const keyOf = (s: Session) => redisKeys.session(s.tenantId, s.userId, s.id.slice(-17));

/** Calls per command since the last reset (INFO commandstats; commands run by scripts count too). */
async function commandCalls(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const match of (await inspector.info("commandstats")).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (match[1] !== "info" && match[1] !== "config|resetstat") out[match[1]!] = Number(match[2]);
  }
  return out;
}

describe("hot path", () => {
  it("a minted token is validated and slid by one script on its session key: no pointer key is read", async () => {
    const core = coreWith();
    const { session, token } = await core.create({ tenantId: tenant(), userId: "hot-user" });
    expect(await core.authenticate(token, true)).toMatchObject({ id: session.id }); // warm-up: the script loads once
    await inspector.config("RESETSTAT");
    for (let i = 0; i < 5; i++) expect((await core.authenticate(token, true))?.id).toBe(session.id);
    // Five round trips, each one EVALSHA; inside it, the session is read and slid.
    // (One PEXPIREAT more, on the user index, when a slide crosses one of its 10 s expiry steps.)
    const { pexpireat, ...calls } = await commandCalls();
    expect(calls).toEqual({ evalsha: 5, hgetall: 5, hset: 5 });
    expect(pexpireat).toBeGreaterThanOrEqual(5);
    expect(pexpireat).toBeLessThanOrEqual(6);
  });

  it("a caller's token costs one script too, which follows its pointer", async () => {
    const core = coreWith();
    const token = `eyJhbGciOiJIUzI1NiJ9.${randomBytes(24).toString("base64url")}`;
    const { session } = await core.create({ tenantId: tenant(), userId: "hot-user", token });
    expect((await core.authenticate(token, true))?.id).toBe(session.id);
    await inspector.config("RESETSTAT");
    for (let i = 0; i < 5; i++) expect((await core.authenticate(token, true))?.id).toBe(session.id);
    const { pexpireat, ...calls } = await commandCalls();
    expect(calls).toEqual({ evalsha: 5, get: 5, hgetall: 5, hset: 5 });
    expect(pexpireat).toBeGreaterThanOrEqual(10);
    expect(pexpireat).toBeLessThanOrEqual(11);
  });

  it("a caller's token's pointer expires with its session as the hot path slides it", async () => {
    let now = Date.now();
    const core = coreWith(() => now);
    const token = `eyJhbGciOiJIUzI1NiJ9.${randomBytes(24).toString("base64url")}`;
    const { session } = await core.create({ tenantId: tenant(), userId: "slide-user", token });
    const pointer = redisKeys.tokenPointer(session.tokenHash);
    const before = await inspector.pexpiretime(pointer);
    now += 60_000;
    const slid = await core.authenticate(token, true);
    expect(slid?.expiresAt).toBe(now + 3_600_000);
    expect(slid!.expiresAt).toBeGreaterThan(before);
    expect(await inspector.pexpiretime(keyOf(session))).toBe(slid!.expiresAt);
    expect(await inspector.pexpiretime(pointer)).toBe(slid!.expiresAt);
  });

  it("a minted token whose session changed to a caller's token no longer authenticates", async () => {
    const core = coreWith();
    const t = tenant();
    const { session, token } = await core.create({ tenantId: t, userId: "rotating-user" });
    const own = `own-${randomBytes(24).toString("hex")}`;
    await core.update(t, session.id, { token: own });
    expect(await core.authenticate(token, false)).toBeUndefined();
    expect((await core.authenticate(own, false))?.id).toBe(session.id);
    expect(core.revealToken(await core.get(t, session.id))).toBe(own);
  });
});

describe("minted tokens are never a caller's token", () => {
  it("saving or changing to a token that decodes as minted is refused as in use (ALREADY_EXISTS), even the session's own", async () => {
    const core = coreWith();
    const t = tenant();
    const a = await core.create({ tenantId: t, userId: "minted-a" });
    const b = await core.create({ tenantId: t, userId: "minted-b" });
    const refused = (p: Promise<unknown>) => expect(p).rejects.toSatisfy((e) => e instanceof ConnectError && e.code === Code.AlreadyExists);
    await refused(core.create({ tenantId: t, userId: "minted-c", token: a.token }));
    await refused(core.create({ tenantId: tenant(), userId: "minted-c", token: a.token }));
    await refused(core.update(t, b.session.id, { token: a.token }));
    await refused(core.update(t, a.session.id, { token: a.token }));
    // Nothing changed: both tokens still reach their own sessions.
    expect((await core.authenticate(a.token, false))?.id).toBe(a.session.id);
    expect((await core.authenticate(b.token, false))?.id).toBe(b.session.id);
    // A deleted session's minted token stays refused: it is still that session's by construction.
    await core.delete(t, a.session.id);
    await refused(core.create({ tenantId: t, userId: "minted-c", token: a.token }));
  });
});

describe("keys and fields", () => {
  it("a session is a listpack hash named by tenant, user and id suffix; minted tokens have no pointer", async () => {
    const core = coreWith();
    const t = tenant();
    const minted = await core.create({ tenantId: t, userId: "user@example.com", profile: { name: "Bench User", power: 100 } });
    const key = keyOf(minted.session);
    expect(key).toBe(`s2:{${t}:user@example.com}:s:${minted.session.id.slice(-17)}`);
    expect(await inspector.object("ENCODING", key)).toBe("listpack");
    const fields = await inspector.hgetall(key);
    // No id, tenant or user fields: the key says them.
    expect(Object.keys(fields).sort()).toEqual(["ca", "cu", "ea", "it", "la", "ml", "pf", "sl", "st", "th", "tk", "ua"]);
    expect(fields.th).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(await inspector.zrange(redisKeys.userIndex(t, "user@example.com"), "0", "-1")).toEqual([minted.session.id.slice(-17)]);
    expect(await inspector.zrange(redisKeys.tenantBucketOf(t, "user@example.com"), "0", "-1")).toEqual([minted.session.id]);
    expect(await inspector.exists(redisKeys.tokenPointer(minted.session.tokenHash))).toBe(0);

    const own = `own-${randomBytes(24).toString("hex")}`;
    const caller = await core.create({ tenantId: t, userId: "user@example.com", token: own });
    // The pointer names the session key, then the deadline of the write that claimed it.
    const pointer = (await inspector.get(redisKeys.tokenPointer(caller.session.tokenHash)))!;
    expect(parseTokenPointer(pointer).key).toBe(keyOf(caller.session));
    expect(parseTokenPointer(pointer).deadline).toBeGreaterThan(Date.now() - 5_000);
    expect(await inspector.hget(keyOf(caller.session), "tp")).toBe("1");
    // The user index expires with its latest session's expiry (not its
    // absolute end), rounded up to a 10 s step; a tenant bucket is swept,
    // its own expiry being a backstop at the absolute end.
    const latest = Math.max(minted.session.expiresAt, caller.session.expiresAt);
    expect(await inspector.pexpiretime(redisKeys.userIndex(t, "user@example.com"))).toBe(Math.ceil(latest / 10_000) * 10_000);
    expect(await inspector.pexpiretime(redisKeys.tenantBucketOf(t, "user@example.com"))).toBe(caller.session.absoluteExpiresAt);
  });

  it("a long profile is stored in chunks of at most 64 bytes (cut between UTF-8 characters) and the hash stays listpack", async () => {
    const core = coreWith();
    const t = tenant();
    const profile002 = { id: 1, username: "admin", name: "Full Name", role: "administrators", power: 100 };
    const a = await core.create({ tenantId: t, userId: "admin", profile: profile002 });
    expect(await inspector.object("ENCODING", keyOf(a.session))).toBe("listpack");
    expect(await inspector.hget(keyOf(a.session), "pf1")).not.toBeNull();
    expect((await core.get(t, a.session.id)).profile).toEqual(profile002);

    const multibyte = { name: "Zoë Ŝmith 🦊".repeat(20), emoji: "😀".repeat(40) };
    const b = await core.create({ tenantId: t, userId: "admin", profile: multibyte });
    const fields = await inspector.hgetall(keyOf(b.session));
    for (const [name, value] of Object.entries(fields)) expect(Buffer.byteLength(value), name).toBeLessThanOrEqual(64);
    expect(await inspector.object("ENCODING", keyOf(b.session))).toBe("listpack");
    expect((await core.get(t, b.session.id)).profile).toEqual(multibyte);
    expect((await core.authenticate(b.token, false))?.profile).toEqual(multibyte);
  });

  it("the hot path's one-string reply reads back every field a full read does, but the token", async () => {
    const core = coreWith();
    const t = tenant();
    const metadata = { userAgent: "Mozilla/5.0 ".repeat(10), ipAddress: "203.0.113.7", labels: { device: "laptop" } };
    const profile = { name: "Ada", roles: ["a", "b"], long: "y".repeat(150) };
    // The reply separates its values with NUL: values holding NUL and other control characters come back whole.
    const controls = { name: "a\u0000b\u0000", nested: { "k\u0000": ["\u0000", "\n\t\u0001"] } };
    for (const input of [
      { tenantId: t, userId: "hot", profile, metadata },
      { tenantId: t, userId: "hot", profile: controls, metadata: { userAgent: "ua\u0000x", labels: { "l\u0000": "v\u0000" } } },
      { tenantId: t, userId: "hot", token: `caller-${randomBytes(16).toString("hex")}`, expiresAt: Date.now() + 60_000 },
      { tenantId: t, userId: "hot" },
    ]) {
      const { session, token } = await core.create(input);
      const found = await core.authenticate(token, false);
      const full = await core.get(t, session.id);
      expect(found).toEqual({ ...full, tokenHash: "", sealedToken: "" });
      expect(found?.tokenKind).toBe(input.token ? "caller" : "minted");
      expect(found?.sliding).toBe(input.expiresAt === undefined);
    }
  });

  it("the hot path's reply: null is no session; a reply of any other shape is a fault, not an unknown token", () => {
    const place = { tenantId: "t", userId: "u", suffix: "0123abcd.4567ef01" };
    expect(sessionFromSlideReply(place, null)).toBeUndefined();
    const fields = ["active", "1", "2", "3", "4", "5", "6", "1", "0", '{"a":"\\u0000"}', ""];
    expect(sessionFromSlideReply(place, fields.join("\0"))).toMatchObject({ status: "active", expiresAt: 4, sliding: true, tokenKind: "minted", profile: { a: "\0" } });
    for (const bad of [fields.slice(1).join("\0"), [...fields, ""].join("\0"), fields, 0]) {
      expect(() => sessionFromSlideReply(place, bad)).toThrow(/unexpected reply/);
    }
  });

  it("a token change to a shorter value leaves no stale chunk behind", async () => {
    const core = coreWith();
    const t = tenant();
    const { session } = await core.create({ tenantId: t, userId: "chunky" });
    const long = `long-${"x".repeat(300)}`;
    await core.update(t, session.id, { token: long });
    expect(await inspector.hexists(keyOf(session), "tk4")).toBe(1);
    const short = `short-${randomBytes(16).toString("hex")}`;
    await core.update(t, session.id, { token: short });
    expect(await inspector.hexists(keyOf(session), "tk4")).toBe(0);
    expect(core.revealToken(await core.get(t, session.id))).toBe(short);
    expect(await core.authenticate(long, false)).toBeUndefined();
  });
});

describe("current", () => {
  it("is the live session with the highest cu (last save or touch); on a tie the newest", async () => {
    const core = coreWith();
    const t = tenant();
    const sessions: Session[] = [];
    for (let i = 0; i < 3; i++) {
      sessions.push((await core.create({ tenantId: t, userId: "cu-user" })).session);
      await new Promise((r) => setTimeout(r, 3));
    }
    const [s0, s1, s2] = sessions as [Session, Session, Session];
    expect((await core.current(t, "cu-user"))?.id).toBe(s2.id);
    await new Promise((r) => setTimeout(r, 3));
    await core.touch(t, s0.id);
    expect((await core.current(t, "cu-user"))?.id).toBe(s0.id);
    // Sliding by token is no save: it does not make a session current.
    await core.authenticate((await core.create({ tenantId: t, userId: "cu-other" })).token, true);
    await core.extend(t, s1.id, 600);
    expect((await core.current(t, "cu-user"))?.id).toBe(s0.id);
    // Equal cu: the newest wins.
    for (const s of sessions) await inspector.hset(keyOf(s), "cu", "1000");
    expect((await core.current(t, "cu-user"))?.id).toBe(s2.id);
    // A session that is not live is never current.
    await core.setStatus(t, s2.id, "ended");
    expect((await core.current(t, "cu-user"))?.id).toBe(s1.id);
  });
});

describe("tenant index buckets", () => {
  it("the tenant list merges the buckets in (creation time, id) order, by cursor and by offset", async () => {
    const t = tenant();
    const base = Date.now();
    const core = coreWith(() => clockMs);
    const made: Session[] = [];
    // 60 sessions of 30 users; every second pair shares a creation time (ties cross buckets).
    for (let i = 0; i < 60; i++) {
      clockMs = base + (i % 4 === 1 ? i - 1 : i);
      made.push((await core.create({ tenantId: t, userId: `bucket-user-${i % 30}` })).session);
    }
    clockMs = base + 100;
    const expected = [...made].sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map((s) => s.id);
    expect(new Set(made.map((s) => s.createdAt)).size).toBeLessThan(60);
    let used = 0;
    for (let b = 0; b < tenantBuckets; b++) if ((await inspector.zcard(redisKeys.tenantBucket(t, b))) > 0) used++;
    expect(used).toBeGreaterThan(4);

    // Cursor pages of 7.
    const walked: string[] = [];
    let after: { createdAt: number; id: string } | undefined;
    for (;;) {
      const page = await core.listTenant(t, { after, limit: 7 });
      expect(page.total).toBeUndefined();
      walked.push(...page.sessions.map((s) => s.id));
      const last = page.sessions.at(-1);
      if (!last || page.sessions.length < 7) break;
      after = { createdAt: last.createdAt, id: last.id };
    }
    expect(walked).toEqual(expected);

    // Offset pages with a total.
    const byOffset: string[] = [];
    for (let offset = 0; offset < 60; offset += 25) {
      const page = await core.listTenant(t, { offset, limit: 25, countTotal: true });
      expect(page.total).toBe(60);
      byOffset.push(...page.sessions.map((s) => s.id));
    }
    expect(byOffset).toEqual(expected);

    // Inactive and deleted sessions are skipped; the walk fills their places.
    await core.setStatus(t, expected[1]!, "ended");
    await core.delete(t, expected[2]!);
    const first = await core.listTenant(t, { limit: 5, countTotal: true });
    expect(first.sessions.map((s) => s.id)).toEqual([expected[0], ...expected.slice(3, 7)]);
    expect(first.total).toBe(58);
    expect(await core.clear(t)).toBe(59);
    for (let b = 0; b < tenantBuckets; b++) expect(await inspector.exists(redisKeys.tenantBucket(t, b))).toBe(0);
  });

  it("a cursor page reads at most buckets × page size index entries", async () => {
    const t = tenant();
    const core = coreWith();
    for (let i = 0; i < 200; i++) await core.create({ tenantId: t, userId: `wide-user-${i}` });
    await inspector.config("RESETSTAT");
    const page = await core.listTenant(t, { limit: 5 });
    expect(page.sessions).toHaveLength(5);
    const calls = await commandCalls();
    // One ranged read per bucket and a read per session on the page.
    expect(calls.zrangebyscore).toBeLessThanOrEqual(tenantBuckets);
    expect(calls.hgetall).toBe(5);
  });
});
