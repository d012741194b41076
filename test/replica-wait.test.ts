import { Redis } from "ioredis";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startOwnRedis, type OwnRedis } from "./support/own-redis.js";
import { startRedisMonitor, type MonitoredCommand } from "./support/redis-monitor.js";
import { startTestApp, type TestApp } from "./support/test-app.js";

// REDIS_WAIT_REPLICAS on one Redis with one replica (real redis-server
// processes of this test's own): every write a call's success rests on is
// followed by WAIT on the connection that made it; the hot path never
// waits and never queues behind a WAIT; with the replica gone a write is
// answered 503 / UNAVAILABLE, saying why, and a create so answered is not
// kept. (The same setting under a Cluster failover: cluster-failover.test.ts.)

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let primary: OwnRedis;
let replica: OwnRedis;
let t: TestApp;

async function replicaInSync(): Promise<void> {
  for (const deadline = Date.now() + 10_000; ; ) {
    const info = await replicationOf(primary.port);
    if (/connected_slaves:1/.test(info) && /slave0:.*state=online/.test(info)) return;
    if (Date.now() > deadline) throw new Error("the replica never came online");
    await sleep(50);
  }
}

async function replicationOf(port: number): Promise<string> {
  const redis = new Redis(port, "127.0.0.1", { lazyConnect: true, maxRetriesPerRequest: 0 });
  try {
    await redis.connect();
    return await redis.info("replication");
  } finally {
    redis.disconnect();
  }
}

beforeAll(async () => {
  primary = await startOwnRedis();
  replica = await startOwnRedis(["--replicaof", "127.0.0.1", String(primary.port)]);
  t = await startTestApp({ REDIS_URL: primary.url, REDIS_WAIT_REPLICAS: "1", REDIS_WAIT_TIMEOUT_MS: "200" });
  await replicaInSync();
});
afterAll(async () => {
  await t?.close();
  await replica?.stop();
  await primary?.stop();
});

const json = { "content-type": "application/json" };
const create = (userId: string) =>
  fetch(`${t.baseUrl}/api/v1/session-storage`, { method: "POST", headers: { ...t.clientA.headers, ...json }, body: JSON.stringify({ user_id: userId }) });
const validate = (token: string) => fetch(`${t.baseUrl}/auth/status`, { headers: { authorization: `Bearer ${token}` } });

/** What the primary ran while `action` ran (top-level commands and script lines), by connection. */
async function monitor(action: () => Promise<void>): Promise<MonitoredCommand[]> {
  const seen: MonitoredCommand[] = [];
  const m = await startRedisMonitor("127.0.0.1", primary.port, (c) => seen.push(c));
  try {
    await action();
    await sleep(100);
  } finally {
    m.close();
  }
  return seen;
}

test("a create waits for the replica on the connection that wrote; a validation neither waits nor shares that connection", async () => {
  // Warm-up: each script reaches the server once in full (EVAL), then by SHA.
  const warm = await create("wait-user");
  expect(warm.status).toBe(200);
  expect((await validate(((await warm.json()) as { token: string }).token)).status).toBe(200);
  let token = "";
  const created = await monitor(async () => {
    const res = await create("wait-user");
    expect(res.status).toBe(200);
    token = ((await res.json()) as { token: string }).token;
  });
  const top = created.filter((c) => c.source !== "lua" && c.args[0]!.toLowerCase() !== "ping" && c.args[0]!.toLowerCase() !== "info");
  const waits = top.filter((c) => c.args[0]!.toLowerCase() === "wait");
  // The tenant index entry, then the session (with the per-user limit).
  expect(waits.map((c) => c.args.slice(1))).toEqual([["1", "200"], ["1", "200"]]);
  for (const w of waits) {
    // Right after a script on the same connection: WAIT covers that connection's writes.
    const sameConnection = top.filter((c) => c.source === w.source);
    const before = sameConnection[sameConnection.indexOf(w) - 1]!;
    expect(before.args[0]!.toLowerCase()).toBe("evalsha");
  }

  const validated = await monitor(async () => {
    expect((await validate(token)).status).toBe(200);
  });
  const slide = validated.filter((c) => c.source !== "lua" && ["evalsha", "eval"].includes(c.args[0]!.toLowerCase()));
  expect(slide).toHaveLength(1);
  expect(validated.some((c) => c.args[0]!.toLowerCase() === "wait")).toBe(false);
  // The hot path has its own connection: a WAIT blocks only the writes behind it.
  expect(slide[0]!.source).not.toBe(waits[0]!.source);
});

test("without the replica, writes are 503 / UNAVAILABLE saying why, validations go on at once, and a create answered 503 is not kept", async () => {
  const before = await create("kept-user");
  expect(before.status).toBe(200);
  const { token } = (await before.json()) as { token: string };
  await replica.kill();

  // Writes queue behind each other's WAIT on their connection while validations run on theirs.
  const started = performance.now();
  const creates = Array.from({ length: 6 }, () => create("refused-user"));
  const validation = await validate(token);
  const validationMs = performance.now() - started;
  expect(validation.status).toBe(200);
  expect(validationMs).toBeLessThan(1_000);
  for (const res of await Promise.all(creates)) {
    expect(res.status).toBe(503);
    const body = (await res.json()) as { code: string; message: string };
    expect(body.code).toBe("unavailable");
    expect(body.message).toMatch(/not confirmed by 1 Redis replica|session store unavailable/);
  }
  const one = await create("refused-user");
  expect(one.status).toBe(503);
  expect(((await one.json()) as { message: string }).message).toContain("write not confirmed by 1 Redis replica(s) within 200 ms (0 confirmed)");

  // Each refused create ran on the primary; once its deadline has passed it is undone.
  const listed = async () =>
    ((await (await fetch(`${t.baseUrl}/api/v1/session-storage?user_id=refused-user`, { headers: t.clientA.headers })).json()) as { pagination: { total: number } }).pagination.total;
  for (const deadline = Date.now() + 8_000; (await listed()) !== 0; await sleep(200)) {
    if (Date.now() > deadline) throw new Error(`refused creates still stored: ${await listed()}`);
  }

  await replica.restart();
  await replicaInSync();
  expect((await create("after-user")).status).toBe(200);
}, 30_000);
