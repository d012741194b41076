import type { AddressInfo, Server } from "node:net";
import path from "node:path";
import { ConfigError, parseConfig } from "./config/config.js";
import { configWarnings } from "./config/config-warnings.js";
import { fillMissingSecrets } from "./local/fill-missing-secrets.js";
import { prepareLocalEnvironment, type LocalEnvironment } from "./local/prepare-local-environment.js";
import { createLogger } from "./observability/logger.js";
import { createApp } from "./server.js";
import { createRedisClient, waitUntilReady } from "./store/redis-client.js";

type Note = { level: "info" | "warn"; message: string };

// Set once the service is up; until then a signal stops the local Redis and exits.
let stop: ((signal: string) => Promise<void>) | undefined;
let local: LocalEnvironment | undefined;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    if (stop) return void stop(signal);
    void (local?.stop() ?? Promise.resolve()).finally(() => process.exit(0));
  });
}

async function main(notes: Note[]) {
  const dataDir = process.env.DATA_DIR || ".data";
  let env: Record<string, string | undefined> = process.env;
  try {
    if (!env.REDIS_URL && !env.REDIS_SENTINELS && !env.REDIS_CLUSTER_NODES) {
      local = await prepareLocalEnvironment(env, dataDir, (message) => notes.push({ level: "info", message }));
      env = local.env;
      stopLocalOnUncaughtError(local);
    } else {
      // Keys, unlike API clients, may be generated here: then one instance works
      // out of the box, and several must be given the same keys explicitly.
      const secrets = fillMissingSecrets(env, path.join(dataDir, "secrets.json"), ["TOKEN_ENCRYPTION_KEYS", "TOKEN_HMAC_KEY", "JWT_SIGNING_KEYS"]);
      if (secrets.fromFile.length > 0) {
        notes.push({
          level: "warn",
          message: `${secrets.fromFile.join(", ")} not configured: using generated keys kept in ${secrets.file}. ` +
            "Configure them explicitly when running more than one instance: every instance needs the same keys.",
        });
      }
      env = secrets.env;
    }
    const config = parseConfig(env);
    for (const message of configWarnings(config)) notes.push({ level: "warn", message });
    const logger = createLogger(config.logLevel);
    for (const note of notes.splice(0)) logger[note.level](note.message);
    const redis = createRedisClient(config.redis);
    // Redis errors are not logged one by one: the app logs an outage as it starts and ends.
    const app = createApp(config, { redis, logger });
    // Calls fail fast while Redis is unreachable, so give it a moment to
    // connect before taking traffic; health reports NOT_SERVING until it does.
    if (!(await waitUntilReady(redis, 10_000))) logger.warn("redis is not reachable yet; serving UNAVAILABLE until it is");
    await listen(app.server, config.port, config.host);
    const { port } = app.server.address() as AddressInfo;
    logger.info({ port, host: config.host }, "secure session storage listening (gRPC, Connect, gRPC-Web, REST)");
    if (app.metricsServer && config.metrics.kind === "port") {
      await listen(app.metricsServer, config.metrics.port, config.host);
      logger.info({ port: config.metrics.port, host: config.host }, "metrics at /metrics");
    }

    stop = async (signal: string) => {
      logger.info({ signal }, "shutting down");
      await app.close();
      await local?.stop();
      logger.info("stopped");
      logger.flush(() => process.exit(0));
    };
  } catch (e) {
    // A failed start must not leave its local redis-server running.
    await local?.stop();
    throw e;
  }
}

/**
 * An uncaught error still ends the service (code 1), but its local Redis first
 * shuts down gracefully (AOF flushed) and the data directory is given up only
 * then; a second error meanwhile exits at once (Redis still gets SIGTERM at exit).
 */
function stopLocalOnUncaughtError(environment: LocalEnvironment) {
  for (const event of ["uncaughtException", "unhandledRejection"] as const) {
    process.once(event, (e: unknown) => {
      console.error(e);
      void environment.stop().finally(() => process.exit(1));
    });
  }
}

const notes: Note[] = [];
main(notes).catch((e: unknown) => {
  for (const note of notes) console.error(note.message);
  // Start-up problems (configuration, port in use, no redis-server) need their message, not a stack.
  const expected = e instanceof ConfigError || (e instanceof Error && (e.constructor === Error || "code" in e));
  console.error(expected ? (e as Error).message : e);
  process.exit(1);
});

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}
