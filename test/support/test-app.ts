import { randomBytes } from "node:crypto";
import type net from "node:net";
import { Writable } from "node:stream";
import { exportJWK, generateKeyPair } from "jose";
import type { Cluster, Redis } from "ioredis";
import { parseConfig, type Config } from "../../src/config/config.js";
import { createLogger } from "../../src/observability/logger.js";
import { createApp, type App } from "../../src/server.js";
import { createRedisClient, waitUntilReady } from "../../src/store/redis-client.js";
import { connectSharedRedis, sharedRedisEnv } from "./shared-redis.js";

export interface TestClient {
  readonly id: string;
  readonly secret: string;
  /** The headers that authenticate this API client. */
  readonly headers: Record<string, string>;
}

export interface TestApp {
  readonly app: App;
  readonly config: Config;
  readonly port: number;
  readonly baseUrl: string;
  /** Two tenants, unique to this app, so test files never see each other's data. */
  readonly clientA: TestClient;
  readonly clientB: TestClient;
  /** Every log line the service wrote. */
  readonly logs: string[];
  /**
   * A separate connection for inspecting what the service stored: an ioredis
   * Cluster when the run's Redis is one (per-node commands: primaries-of.ts).
   */
  readonly redis: Redis | Cluster;
  close(): Promise<void>;
}

/** The tenants and keys of an app; apps given the same ones are replicas of one service. */
export interface TestSecrets {
  readonly clientA: TestClient;
  readonly clientB: TestClient;
  readonly env: { API_CLIENTS: string; TOKEN_ENCRYPTION_KEYS: string; TOKEN_HMAC_KEY: string; JWT_SIGNING_KEYS: string };
}

/** makeTestSecrets generates two fresh tenants and fresh keys. */
export async function makeTestSecrets(): Promise<TestSecrets> {
  const suffix = randomBytes(4).toString("hex");
  const clientA = makeClient(`tenant-a-${suffix}`);
  const clientB = makeClient(`tenant-b-${suffix}`);
  const { privateKey } = await generateKeyPair("ES256", { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: `test-${suffix}`, alg: "ES256", use: "sig" };
  return {
    clientA,
    clientB,
    env: {
      API_CLIENTS: `${clientA.id}:${clientA.secret},${clientB.id}:${clientB.secret}`,
      TOKEN_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString("base64")}`,
      TOKEN_HMAC_KEY: randomBytes(32).toString("base64"),
      JWT_SIGNING_KEYS: JSON.stringify([jwk]),
    },
  };
}

/**
 * startTestApp builds the real service against the test run's real Redis and
 * listens on port 0. Pass the same `secrets` to several apps to run replicas.
 */
export async function startTestApp(env: Record<string, string | undefined> = {}, secrets?: TestSecrets): Promise<TestApp> {
  const { clientA, clientB, env: secretsEnv } = secrets ?? (await makeTestSecrets());
  // The run's shared Redis, unless the test brings its own Redis, Sentinel group or Cluster.
  const topology = env.REDIS_URL || env.REDIS_SENTINELS || env.REDIS_CLUSTER_NODES;
  const config = parseConfig({
    ...(topology ? {} : sharedRedisEnv()),
    PORT: "0",
    HOST: "127.0.0.1",
    ...secretsEnv,
    LOG_LEVEL: "info",
    SHUTDOWN_GRACE_MS: "2000",
    ...env,
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logs.push(...chunk.toString().split("\n").filter(Boolean));
      callback();
    },
  });
  const redis = createRedisClient(config.redis);
  const app = createApp(config, { redis, logger: createLogger(config.logLevel, sink) });
  await waitUntilReady(redis, 10_000);
  await new Promise<void>((resolve) => app.server.listen(0, "127.0.0.1", resolve));
  const port = (app.server.address() as net.AddressInfo).port;
  const inspector = connectSharedRedis();
  return {
    app,
    config,
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    clientA,
    clientB,
    logs,
    redis: inspector,
    async close() {
      await app.close();
      inspector.disconnect();
    },
  };
}

function makeClient(id: string): TestClient {
  const secret = randomBytes(24).toString("base64url");
  return { id, secret, headers: { ClientID: id, ClientSecret: secret } };
}
