import { mkdirSync } from "node:fs";
import path from "node:path";
import { fillMissingSecrets } from "./fill-missing-secrets.js";
import { lockDataDirectory } from "./lock-data-directory.js";
import { startLocalRedis } from "./start-local-redis.js";

/** LocalEnvironment is what a local run adds: a Redis server and generated secrets. */
export interface LocalEnvironment {
  readonly env: Record<string, string | undefined>;
  readonly secretsFile: string;
  /** Shuts the local Redis down gracefully, then gives up the data directory; a no-op the second time. */
  stop(): Promise<void>;
}

/**
 * prepareLocalEnvironment is for a run with no Redis configured: it takes
 * `dataDir` for itself (one local run per directory), gives it its
 * redis-server (append-only file on, data in `dataDir/redis`, the same port
 * every start; one an earlier, killed run left behind is adopted), and fills
 * in missing API client credentials and keys from `dataDir/secrets.json`,
 * generating them the first time.
 */
export async function prepareLocalEnvironment(
  env: Record<string, string | undefined>,
  dataDir: string,
  log: (message: string) => void,
): Promise<LocalEnvironment> {
  const root = path.resolve(dataDir);
  const redisDir = path.join(root, "redis");
  mkdirSync(redisDir, { recursive: true, mode: 0o700 });
  // Before anything else, so that two first starts cannot generate two sets of secrets.
  const lock = lockDataDirectory(root);
  try {
    const secrets = fillMissingSecrets(env, path.join(root, "secrets.json"), [
      "API_CLIENTS",
      "TOKEN_ENCRYPTION_KEYS",
      "TOKEN_HMAC_KEY",
      "JWT_SIGNING_KEYS",
    ]);
    if (secrets.fromFile.length > 0) log(`local run: ${secrets.fromFile.join(", ")} are in ${secrets.file}`);
    const redis = await startLocalRedis(redisDir, requestedPort(env.LOCAL_REDIS_PORT), log);
    let stopped: Promise<void> | undefined;
    return {
      env: { ...secrets.env, REDIS_URL: `redis://127.0.0.1:${redis.port}`, COOKIE_SECURE: env.COOKIE_SECURE || "false" },
      secretsFile: secrets.file,
      stop() {
        // The lock is given up only once Redis is gone, so the next start never meets it half shut down.
        stopped ??= redis.stop().finally(() => lock.release());
        return stopped;
      },
    };
  } catch (e) {
    lock.release();
    throw e;
  }
}

function requestedPort(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`LOCAL_REDIS_PORT must be a port number (1-65535), not ${JSON.stringify(value)}`);
  return port;
}
