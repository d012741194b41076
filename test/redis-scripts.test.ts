import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisClient, waitUntilReady } from "../src/store/redis-client.js";
import { defineRedisScripts, type RedisScripts } from "../src/store/redis-scripts.js";
import { startOwnRedis, type OwnRedis } from "./support/own-redis.js";

// The scripts on a redis-server of the test's own: INFO commandstats counts what was sent.
let server: OwnRedis;
let client: Redis;
let admin: Redis;
let scripts: RedisScripts;

beforeAll(async () => {
  server = await startOwnRedis();
  client = createRedisClient({ kind: "url", url: server.url }) as Redis;
  expect(await waitUntilReady(client, 5000)).toBe(true);
  scripts = defineRedisScripts(client);
  admin = new Redis(server.url);
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

const slide = (key: string) => scripts.ssSlideSession(key, String(Date.now()), "no-such-hash", "1");

describe("the store's scripts", () => {
  it("run by EVALSHA; after SCRIPT FLUSH by EVAL once, with the same answer, then by EVALSHA again", async () => {
    expect(await slide("s:none:1")).toBeNull();
    const before = await sent();
    expect(await slide("s:none:1")).toBeNull();
    expect(await sent()).toEqual({ evalsha: before.evalsha + 1, eval: before.eval });

    await admin.script("FLUSH");
    expect(await slide("s:none:1")).toBeNull();
    // The EVALSHA answered NOSCRIPT; the EVAL with the source ran it and loaded it.
    expect(await sent()).toEqual({ evalsha: before.evalsha + 2, eval: before.eval + 1 });
    expect(await slide("s:none:1")).toBeNull();
    expect(await sent()).toEqual({ evalsha: before.evalsha + 3, eval: before.eval + 1 });
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
