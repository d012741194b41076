import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { instrumentRedis } from "../src/observability/instrument-redis.js";
import { createMetrics, type Metrics } from "../src/observability/metrics.js";
import { createRedisClient, waitUntilReady } from "../src/store/redis-client.js";
import { defineRedisScripts, type RedisScripts } from "../src/store/redis-scripts.js";
import { startOwnRedis, type OwnRedis } from "./support/own-redis.js";

// The scripts on a redis-server of the test's own, on the service's kind of
// client with its Redis metrics: INFO commandstats counts what was sent.
let server: OwnRedis;
let client: Redis;
let admin: Redis;
let scripts: RedisScripts;
let metrics: Metrics;

beforeAll(async () => {
  server = await startOwnRedis();
  client = createRedisClient({ kind: "url", url: server.url }) as Redis;
  metrics = createMetrics();
  instrumentRedis(client, metrics);
  expect(await waitUntilReady(client, 5000)).toBe(true);
  scripts = defineRedisScripts(client);
  admin = new Redis(server.url);
  // Both reconnect after the restart below; the refused attempts meanwhile are expected.
  admin.on("error", () => undefined);
  client.on("error", () => undefined);
});
afterAll(async () => {
  client.disconnect();
  admin.disconnect();
  await server.stop();
});

/** EVALSHA and EVAL commands the server has received, failed ones (NOSCRIPT) included. */
async function sent(): Promise<{ evalsha: number; eval: number }> {
  const info = await admin.info("commandstats");
  const count = (name: string) => {
    const line = info.split("\r\n").find((l) => l.startsWith(`cmdstat_${name}:`));
    if (!line) return 0;
    const field = (f: string) => Number(new RegExp(`${f}=(\\d+)`).exec(line)?.[1] ?? 0);
    return field("calls") + field("rejected_calls");
  };
  return { evalsha: count("evalsha"), eval: count("eval") };
}

/** The Redis latency histogram's count and the error counter for a command. */
async function observed(command: string): Promise<{ timed: number; failed: number }> {
  const text = await metrics.registry.metrics();
  const value = (series: string) => Number(new RegExp(`^${series}\\{command="${command}"\\} (\\d+)`, "m").exec(text)?.[1] ?? 0);
  return { timed: value("sss_redis_command_duration_seconds_count"), failed: value("sss_redis_command_errors_total") };
}

const slide = (key: string) => scripts.ssSlideSession(key, String(Date.now()), "no-such-hash", "1");

describe("the store's scripts", () => {
  it("go in full (EVAL) on a connection's first call, by EVALSHA after; after SCRIPT FLUSH by EVAL once more, with the same answer", async () => {
    const first = await sent();
    expect(await slide("s:none:1")).toBeNull();
    expect(await sent()).toEqual({ evalsha: first.evalsha, eval: first.eval + 1 });
    const before = await sent();
    expect(await slide("s:none:1")).toBeNull();
    expect(await sent()).toEqual({ evalsha: before.evalsha + 1, eval: before.eval });

    const metricsBefore = { evalsha: await observed("evalsha"), eval: await observed("eval") };
    await admin.script("FLUSH");
    expect(await slide("s:none:1")).toBeNull();
    // The EVALSHA answered NOSCRIPT; the EVAL with the source ran it and loaded it.
    expect(await sent()).toEqual({ evalsha: before.evalsha + 2, eval: before.eval + 1 });
    // Each command sent is timed once: the refused EVALSHA as a failure, the EVAL as itself.
    expect(await observed("evalsha")).toEqual({ timed: metricsBefore.evalsha.timed + 1, failed: metricsBefore.evalsha.failed + 1 });
    expect(await observed("eval")).toEqual({ timed: metricsBefore.eval.timed + 1, failed: metricsBefore.eval.failed });
    expect(await slide("s:none:1")).toBeNull();
    expect(await sent()).toEqual({ evalsha: before.evalsha + 3, eval: before.eval + 1 });
  });

  it("reach a restarted server in full, with no NOSCRIPT round trip and in call order", async () => {
    await server.kill();
    for (let i = 0; i < 100 && client.status === "ready"; i++) await new Promise((r) => setTimeout(r, 20));
    await server.restart();
    expect(await waitUntilReady(client, 5000)).toBe(true);
    // A plain write and a script reading it, sent in one turn: the script sees the write.
    await admin.del("s:order");
    const [, reply] = await Promise.all([client.hset("s:order", "th", "x"), slide("s:order")]);
    expect(reply).toBeNull(); // a hash without the token's hash field: no session, but no error either
    // commandstats starts again with the server: one EVAL, no refused EVALSHA.
    expect(await sent()).toEqual({ evalsha: 0, eval: 1 });
  });

  it("answer every call sent together right after a flush", async () => {
    await admin.script("FLUSH");
    const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => slide(`s:none:${i}`)));
    expect(replies).toEqual(Array.from({ length: 20 }, () => null));
  });

  it("pass any other error on as it is, without sending the script again", async () => {
    await admin.set("s:wrong-type", "a string, not a session hash");
    const before = await sent();
    await expect(slide("s:wrong-type")).rejects.toThrow(/WRONGTYPE/);
    expect(await sent()).toEqual({ evalsha: before.evalsha + 1, eval: before.eval });
  });
});
