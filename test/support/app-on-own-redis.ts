import { Redis } from "ioredis";
import { startOwnRedis, type OwnRedis } from "./own-redis.js";
import { startTestApp, type TestApp } from "./test-app.js";

/** AppOnOwnRedis is a test app on a redis-server of its own, and a connection to look inside it. */
export interface AppOnOwnRedis {
  readonly own: OwnRedis;
  readonly t: TestApp;
  readonly inspector: Redis;
  /** Closes the app, the inspector and the server. */
  close(): Promise<void>;
}

/** startAppOnOwnRedis starts redis-server (with `redisArgs`), the app on it (with `env`) and an inspector. */
export async function startAppOnOwnRedis(env: Record<string, string>, redisArgs: readonly string[] = []): Promise<AppOnOwnRedis> {
  const own = await startOwnRedis(redisArgs);
  let t: TestApp;
  try {
    t = await startTestApp({ REDIS_URL: own.url, ...env });
  } catch (e) {
    await own.stop();
    throw e;
  }
  const inspector = new Redis(own.url);
  return {
    own,
    t,
    inspector,
    async close() {
      await t.close();
      inspector.disconnect();
      await own.stop();
    },
  };
}
