import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Redis } from "ioredis";
import { afterEach, expect, test } from "vitest";
import { Health, HealthCheckResponse_ServingStatus } from "../gen/grpc/health/v1/health_pb.js";
import { AuthStatusService } from "../gen/sessionstorage/v1/auth_status_service_pb.js";
import { createMixedCalls, medianAndMax, type CallResult, type KnownSession } from "./support/mixed-calls.js";
import { startOwnRedis, type OwnRedis } from "./support/own-redis.js";
import { startTestApp, type TestApp } from "./support/test-app.js";

// Faults of the service's own Redis, on real processes: frozen (SIGSTOP),
// killed (kill -9) and restarted from its append-only file, emptied while
// serving. Each test starts its own redis-server and is bounded in time.

const { SERVING, NOT_SERVING } = HealthCheckResponse_ServingStatus;
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

async function setUp(redisArgs: readonly string[] = []): Promise<{ redis: OwnRedis; t: TestApp }> {
  const redis = await startOwnRedis(redisArgs);
  cleanups.push(() => redis.stop());
  const t = await startTestApp({ REDIS_URL: redis.url });
  cleanups.push(() => t.close());
  return { redis, t };
}

async function createKnown(t: TestApp): Promise<KnownSession> {
  const res = await fetch(`${t.baseUrl}/api/v1/session-storage`, {
    method: "POST",
    headers: { ...t.clientA.headers, "content-type": "application/json" },
    body: JSON.stringify({ user_id: "fault-known" }),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as KnownSession;
}

function healthOf(t: TestApp) {
  const health = createClient(Health, createGrpcTransport({ baseUrl: t.baseUrl }));
  return async () => (await health.check({ service: "" })).status;
}

/** Polls `check` every `everyMs` until it holds; the time it took, or an error after `withinMs`. */
async function until(check: () => Promise<boolean>, withinMs: number, everyMs = 20): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < withinMs) {
    if (await check()) return performance.now() - started;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`condition not reached within ${withinMs} ms`);
}

const failedCleanly = (r: CallResult) => r.outcome === "503" || r.outcome === "unavailable";
const succeeded = (r: CallResult) => r.outcome === "200" || r.outcome === "ok";
const levelAtLeastWarn = (line: string) => (JSON.parse(line) as { level: number }).level >= 40;

test("frozen Redis (SIGSTOP): 200 mixed REST and gRPC calls all answer UNAVAILABLE within the command timeout; health follows at once; few log lines", async () => {
  const { redis, t } = await setUp();
  const known = await createKnown(t);
  const calls = createMixedCalls(t.baseUrl, t.clientA, known);
  const status = healthOf(t);
  // Open the connections first (200 calls at once), so the timings below are
  // the service's, not connection set-up in this same process.
  expect((await Promise.all(Array.from({ length: 200 }, (_, i) => calls.call(i)))).filter((r) => !succeeded(r))).toEqual([]);
  const logsBefore = t.logs.length;

  redis.signal("SIGSTOP");
  const frozenAt = performance.now();
  const results = await Promise.all(Array.from({ length: 200 }, (_, i) => calls.call(i)));
  const { median, max } = medianAndMax(results.map((r) => r.ms));
  console.log(`frozen Redis, 200 concurrent calls: median ${median.toFixed(0)} ms, max ${max.toFixed(0)} ms`);
  for (const kind of new Set(results.map((r) => r.kind))) {
    const of = medianAndMax(results.filter((r) => r.kind === kind).map((r) => r.ms));
    console.log(`  ${kind}: median ${of.median.toFixed(0)} ms, max ${of.max.toFixed(0)} ms`);
  }
  expect(results.filter((r) => !failedCleanly(r))).toEqual([]);
  // The clients share this process (and its CPU) with the service: their
  // timings get a looser bound than the service's own below.
  expect(max).toBeLessThanOrEqual(3_500);
  // As the service measured them (its access and call lines).
  const served = medianAndMax(t.logs.slice(logsBefore).map((l) => JSON.parse(l) as { ms?: number }).filter((l) => l.ms !== undefined).map((l) => l.ms!));
  console.log(`  in the service's own lines: median ${served.median.toFixed(0)} ms, max ${served.max.toFixed(0)} ms`);
  expect(served.max).toBeLessThanOrEqual(2_500);

  // The failed calls made health probe Redis: NOT_SERVING within a command timeout or two.
  await until(async () => (await status()) === NOT_SERVING, 6_000);
  // Still frozen: more failing calls, a 5 s outage in all.
  while (performance.now() - frozenAt < 4_500) await Promise.all(Array.from({ length: 20 }, (_, i) => calls.call(i)));

  redis.signal("SIGCONT");
  const recoveryMs = await until(async () => (await status()) === SERVING, 5_000);
  console.log(`health SERVING ${recoveryMs.toFixed(0)} ms after SIGCONT`);
  expect(recoveryMs).toBeLessThan(1_500);
  expect(succeeded(await calls.restCreate())).toBe(true);
  expect(succeeded(await calls.grpcCreate())).toBe(true);

  // Outage logging: a warning as it starts, one as it ends, no line per failed call;
  // the per-call lines (REST access, RPC call) stay, at info.
  const outageLogs = t.logs.slice(logsBefore);
  const loud = outageLogs.filter(levelAtLeastWarn);
  console.log(`outage log lines at warn or above: ${loud.length}\n${loud.join("\n")}`);
  expect(loud.length).toBeLessThanOrEqual(4);
  expect(loud.some((l) => l.includes("redis unreachable"))).toBe(true);
  expect(loud.some((l) => l.includes("redis reachable again"))).toBe(true);
  expect(outageLogs.filter((l) => l.includes('"status":503')).length).toBeGreaterThanOrEqual(100);
  expect(outageLogs.filter((l) => l.includes('"code":"unavailable"')).length).toBeGreaterThanOrEqual(100);
}, 30_000);

test("Redis kill -9 and restart under write load (appendfsync always): no acknowledged create lost, 503 meanwhile, recovery without a restart", async () => {
  const { redis, t } = await setUp(["--appendonly", "yes", "--appendfsync", "always"]);
  const known = await createKnown(t);
  const calls = createMixedCalls(t.baseUrl, t.clientA, known);
  const status = healthOf(t);
  const results: (CallResult & { at: number })[] = [];
  let phase: "before" | "down" | "after" = "before";
  let running = true;
  const workers = Array.from({ length: 16 }, async (_, w) => {
    for (let i = 0; running; i++) {
      const started = phase;
      const r = await (i % 2 === w % 2 ? calls.restCreate() : calls.grpcCreate());
      results.push({ ...r, at: started === "before" ? 0 : started === "down" ? 1 : 2 });
      // While Redis is down calls fail at once: do not spin.
      if (!succeeded(r)) await new Promise((resolve) => setTimeout(resolve, 10));
    }
  });

  // Under way: creates acknowledged, others in flight.
  await until(async () => results.filter(succeeded).length >= 20, 5_000);
  await new Promise((r) => setTimeout(r, 200));
  await redis.kill();
  phase = "down";
  await new Promise((r) => setTimeout(r, 1_000));
  await redis.restart();
  const restartedAt = performance.now();
  phase = "after";
  const recoveryMs = await until(async () => (await status()) === SERVING, 5_000);
  console.log(`health SERVING ${recoveryMs.toFixed(0)} ms after Redis restarted`);
  expect(recoveryMs).toBeLessThan(1_500);
  await until(async () => results.some((r) => r.at === 2 && succeeded(r)), 5_000);
  await new Promise((r) => setTimeout(r, 300));
  running = false;
  await Promise.all(workers);
  expect(performance.now() - restartedAt).toBeLessThan(10_000);

  // Every answer was a success or a clean UNAVAILABLE: never 500 / INTERNAL.
  expect(results.filter((r) => !succeeded(r) && !failedCleanly(r))).toEqual([]);
  expect(results.filter((r) => r.at === 1 && failedCleanly(r)).length).toBeGreaterThan(0);
  const acknowledged = results.filter((r) => succeeded(r) && r.createdId);
  expect(acknowledged.filter((r) => r.at === 0).length).toBeGreaterThanOrEqual(20);

  // Every acknowledged create is there after the restart.
  const lost: string[] = [];
  for (const r of acknowledged) {
    const res = await fetch(`${t.baseUrl}/api/v1/session-storage/${encodeURIComponent(r.createdId!)}`, { headers: t.clientA.headers });
    if (res.status !== 200) lost.push(`${r.createdId} (${res.status})`);
  }
  console.log(`kill -9 under write load: ${acknowledged.length} creates acknowledged, ${lost.length} lost, ${results.filter(failedCleanly).length} answered 503 / UNAVAILABLE`);
  expect(lost).toEqual([]);
}, 30_000);

test("an emptied Redis (FLUSHALL, SCRIPT FLUSH) while serving: unknown sessions answer 401 / 404, never 500, and creates work at once", async () => {
  const { redis, t } = await setUp();
  const known = await createKnown(t);
  const calls = createMixedCalls(t.baseUrl, t.clientA, known);
  for (let i = 0; i < 6; i++) expect(succeeded(await calls.call(i))).toBe(true);

  const admin = new Redis(redis.url);
  cleanups.push(async () => admin.disconnect());
  await admin.flushall();
  await admin.call("SCRIPT", "FLUSH");

  // Reads of what is gone: as for any unknown session.
  const results = await Promise.all(Array.from({ length: 4 }, (_, i) => calls.call(2 + i)));
  expect(results.map((r) => r.outcome)).toEqual(["401", "ok", "404", "not_found"]);
  const grpcStatus = await createClient(AuthStatusService, createGrpcTransport({ baseUrl: t.baseUrl }))
    .getAuthStatus({}, { headers: { authorization: `Bearer ${known.token}` } });
  expect(grpcStatus.valid).toBe(false);
  const list = await fetch(`${t.baseUrl}/api/v1/session-storage?page=1&limit=10`, { headers: t.clientA.headers });
  expect(list.status).toBe(200);

  // Writes work on the first try: the scripts are loaded again.
  const created = [await calls.restCreate(), await calls.grpcCreate()];
  expect(created.map((r) => r.outcome)).toEqual(["200", "ok"]);
  const res = await fetch(`${t.baseUrl}/api/v1/session-storage/${encodeURIComponent(created[0]!.createdId!)}`, { headers: t.clientA.headers });
  expect(res.status).toBe(200);
  const { token } = (await res.json()) as { token: string };
  expect((await fetch(`${t.baseUrl}/auth/status`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
  expect(t.logs.filter((l) => l.includes('"status":500') || l.includes('"code":"internal"'))).toEqual([]);
}, 30_000);
