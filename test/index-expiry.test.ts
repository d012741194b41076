// Indexes expire with their sessions: on a Redis of this file's own (so a
// scan of every key sees only what this test made), 2,000 sessions that
// expire after ~5 s leave no key and no index entry behind within a bound,
// without any request, while other sessions stay untouched.
import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, expect, test } from "vitest";
import { createKeyedHash } from "../src/crypto/keyed-hash.js";
import { indexSweeperConnectionName } from "../src/store/redis-client.js";
import { redisKeys, tenantBuckets } from "../src/store/redis-keys.js";
import { startAppOnOwnRedis, type AppOnOwnRedis } from "./support/app-on-own-redis.js";
import type { TestApp } from "./support/test-app.js";
import { startRedisMonitor } from "./support/redis-monitor.js";

let setup: AppOnOwnRedis | undefined;
let t: TestApp;
let inspector: Redis;
beforeAll(async () => {
  // Sliding sessions idle out after 5 s; the sweeper runs every 500 ms.
  setup = await startAppOnOwnRedis({ SESSION_IDLE_TIMEOUT_SECONDS: "5", MAX_SESSIONS_PER_USER: "1000", INDEX_SWEEP_INTERVAL_MS: "500" });
  ({ t, inspector } = setup);
});
afterAll(async () => setup?.close());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function allKeys(): Promise<string[]> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = await inspector.scan(cursor, "COUNT", 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== "0");
  return keys;
}

/** Members of every tenant index zset, by key. */
async function indexEntries(tenantId: string): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (let b = 0; b < tenantBuckets; b++) {
    for (const key of [redisKeys.tenantBucket(tenantId, b), redisKeys.inactiveBucket(tenantId, b)]) {
      out.set(key, await inspector.zrange(key, "0", "-1"));
    }
  }
  return out;
}

test("2,000 sessions expiring after ~5 s leave no key of theirs within the bound, and nothing else is touched", async () => {
  const tenant = t.clientA.id;
  const core = t.app.core;
  const hash = createKeyedHash(t.config.tokenHmacKey, "token-lookup", 16);
  const lapseAt = Date.now() + 5_000;

  // 2,000 expiring sessions of 800 users: fixed expiries and sliding (idle) ones,
  // minted and caller tokens; some ended, some slid once on the hot path.
  const expiring: { id: string; userId: string; token: string; caller: boolean }[] = [];
  const specs = Array.from({ length: 2000 }, (_, i) => ({ i, userId: `lapse-${i % 800}`, caller: i % 4 === 0, fixed: i % 2 === 0 }));
  for (let from = 0; from < specs.length; from += 200) {
    expiring.push(...await Promise.all(specs.slice(from, from + 200).map(async ({ userId, caller, fixed }) => {
      const token = caller ? `lapse-${randomBytes(24).toString("hex")}` : undefined;
      const made = await core.create({ tenantId: tenant, userId, token, expiresAt: fixed ? lapseAt : undefined });
      return { id: made.session.id, userId, token: made.token, caller };
    })));
  }
  // Sessions that outlive the test: other users, and one more for a lapsing user.
  const kept = await Promise.all(Array.from({ length: 20 }, (_, i) =>
    core.create({
      tenantId: tenant,
      userId: i === 0 ? "lapse-1" : `keep-${i}`,
      token: i % 2 ? `keep-${randomBytes(24).toString("hex")}` : undefined,
      expiresAt: Date.now() + 3_600_000,
    })));
  for (const s of expiring.slice(0, 100)) await core.setStatus(tenant, s.id, "ended");
  const keptUsers = new Set(kept.map((k) => k.session.userId));
  const keepKeys = async () => {
    const keys = await allKeys();
    return kept.every((k) =>
      keys.includes(redisKeys.session(tenant, k.session.userId, k.session.id.slice(-17))) &&
      keys.includes(redisKeys.userIndex(tenant, k.session.userId)) &&
      (k.session.tokenKind === "minted" || keys.includes(redisKeys.tokenPointer(k.session.tokenHash))));
  };
  expect(await keepKeys()).toBe(true);

  // A sliding session used on the hot path lives on: its user index follows it.
  await sleep(Math.max(0, lapseAt - 2_000 - Date.now()));
  const slid = expiring[1999]!; // sliding, minted, created last
  expect(specs[1999]).toMatchObject({ caller: false, fixed: false });
  const slidSession = (await core.authenticate(slid.token, true))!;
  expect(slidSession.id).toBe(slid.id);
  const slidUntil = slidSession.expiresAt;
  expect(await inspector.pexpiretime(redisKeys.userIndex(tenant, slid.userId))).toBeGreaterThanOrEqual(slidUntil);
  await sleep(Math.max(0, lapseAt - Date.now()) + 500);
  expect((await core.listUser(tenant, slid.userId)).map((s) => s.id)).toContain(slid.id);

  // From here on, no request at all: count what is left of the expiring sessions.
  const expiringIds = new Set(expiring.map((s) => s.id));
  const expiringPointers = new Set(expiring.filter((s) => s.caller).map((s) => redisKeys.tokenPointer(hash.digest(s.token))));
  const leftovers = async () => {
    const keys = await allKeys();
    const sessionKeys = keys.filter((k) => {
      const place = redisKeys.parseSession(k);
      return place !== undefined && expiringIds.has(`${place.userId}.${place.suffix}`);
    });
    const userIndexes = keys.filter((k) => {
      const user = /^s2:\{[^:]+:(.+)\}:i$/.exec(k)?.[1];
      return user !== undefined && user.startsWith("lapse-") && !keptUsers.has(user);
    });
    const pointers = keys.filter((k) => expiringPointers.has(k));
    let entries = 0;
    for (const members of (await indexEntries(tenant)).values()) entries += members.filter((id) => expiringIds.has(id)).length;
    return { sessionKeys: sessionKeys.length, userIndexes: userIndexes.length, pointers: pointers.length, entries };
  };
  const boundMs = 20_000;
  const start = Date.now();
  let left = await leftovers();
  while (Object.values(left).some((n) => n > 0) && Date.now() - start < boundMs) {
    await sleep(500);
    left = await leftovers();
  }
  const clearedAfterMs = Math.max(0, Date.now() - Math.max(lapseAt, slidUntil));
  console.log(`index expiry: last session expired; everything of the 2,000 gone ${clearedAfterMs} ms later`, left);
  expect(left).toEqual({ sessionKeys: 0, userIndexes: 0, pointers: 0, entries: 0 });
  // The kept sessions, their index entries and pointers are all still there.
  expect(await keepKeys()).toBe(true);
  const page = await core.listTenant(tenant, { offset: 0, limit: 100, countTotal: true });
  expect(page.total).toBe(kept.length);
  expect(page.sessions.map((s) => s.id).sort()).toEqual(kept.map((k) => k.session.id).sort());
}, 60_000);

test("the sweeper reads on a connection of its own, named in CLIENT LIST: none of its reads queue on the calls' connection", async () => {
  const tenant = t.clientA.id;
  const tokens: string[] = [];
  for (let i = 0; i < 20; i++) tokens.push((await t.app.core.create({ tenantId: tenant, userId: `swept-${i}` })).token);
  const named = String(await inspector.client("LIST")).split("\n").filter((line) => line.includes(` name=${indexSweeperConnectionName} `));
  expect(named).toHaveLength(1);
  const sweeperAddr = /(?:^| )addr=(\S+)/.exec(named[0]!)![1];

  // The project's own MONITOR reader: ioredis's misreads a command that shares a packet with its "+OK".
  const reads: string[] = [];
  const monitor = await startRedisMonitor(inspector.options.host ?? "127.0.0.1", inspector.options.port ?? 6379, ({ args, source }) => {
    if (args[0]?.toLowerCase() === "hmget") reads.push(source);
  });
  // Two passes at least (one every 500 ms), with calls on the shared connection meanwhile.
  const until = Date.now() + 1_500;
  while (Date.now() < until) {
    expect(await t.app.core.authenticate(tokens[0]!, true)).toBeDefined();
    await sleep(50);
  }
  monitor.close();
  expect(reads.length).toBeGreaterThanOrEqual(20);
  expect(new Set(reads)).toEqual(new Set([sweeperAddr]));
});
