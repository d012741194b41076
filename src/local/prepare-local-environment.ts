import { mkdirSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { fillMissingSecrets } from "./fill-missing-secrets.js";
import { startRedisServer } from "./start-redis-server.js";

/** LocalEnvironment is what a local run adds: a Redis server and generated secrets. */
export interface LocalEnvironment {
  readonly env: Record<string, string | undefined>;
  readonly secretsFile: string;
  stop(): Promise<void>;
}

/**
 * prepareLocalEnvironment is for a run with no Redis configured: it starts a
 * local redis-server (append-only file on) with its data in `dataDir`, and
 * fills in missing API client credentials and keys from
 * `dataDir/secrets.json`, generating them the first time.
 */
export async function prepareLocalEnvironment(
  env: Record<string, string | undefined>,
  dataDir: string,
  log: (message: string) => void,
): Promise<LocalEnvironment> {
  const redisDir = path.resolve(dataDir, "redis");
  mkdirSync(redisDir, { recursive: true, mode: 0o700 });
  const secrets = fillMissingSecrets(env, path.join(dataDir, "secrets.json"), [
    "API_CLIENTS",
    "TOKEN_ENCRYPTION_KEYS",
    "TOKEN_HMAC_KEY",
    "JWT_SIGNING_KEYS",
  ]);
  if (secrets.fromFile.length > 0) log(`local run: ${secrets.fromFile.join(", ")} are in ${secrets.file}`);

  const port = Number(env.LOCAL_REDIS_PORT || (await freePort()));
  const redis = await startRedisServer(redisDir, port, true);
  log(`local run: redis-server on 127.0.0.1:${port}, data in ${redisDir}`);
  return {
    env: { ...secrets.env, REDIS_URL: `redis://127.0.0.1:${port}`, COOKIE_SECURE: env.COOKIE_SECURE || "false" },
    secretsFile: secrets.file,
    async stop() {
      if (redis.exitCode !== null || redis.signalCode !== null) return;
      const exited = new Promise((resolve) => redis.once("exit", resolve));
      redis.kill("SIGTERM");
      await exited;
    },
  };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
    probe.on("error", reject);
  });
}
