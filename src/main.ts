import type { AddressInfo } from "node:net";
import { ConfigError, parseConfig } from "./config/config.js";
import { prepareLocalEnvironment, type LocalEnvironment } from "./config/local-environment.js";
import { createLogger } from "./observability/logger.js";
import { createApp } from "./server.js";
import { createRedisClient } from "./store/redis-client.js";

async function main() {
  let local: LocalEnvironment | undefined;
  let env: Record<string, string | undefined> = process.env;
  if (!env.REDIS_URL) {
    local = await prepareLocalEnvironment(env, env.DATA_DIR ?? ".data", (m) => console.error(m));
    env = local.env;
  }
  const config = parseConfig(env);
  const logger = createLogger(config.logLevel);
  const redis = createRedisClient(config.redis);
  redis.on("error", (e: Error) => logger.warn({ err: e.message }, "redis connection problem"));
  const app = createApp(config, { redis, logger });
  app.server.listen(config.port, config.host, () => {
    const { port } = app.server.address() as AddressInfo;
    logger.info({ port, host: config.host }, "secure session storage listening (gRPC, Connect, gRPC-Web, REST)");
  });

  const stop = async (signal: string) => {
    logger.info({ signal }, "shutting down");
    await app.close();
    await local?.stop();
    logger.info("stopped");
    process.exit(0);
  };
  process.once("SIGTERM", () => void stop("SIGTERM"));
  process.once("SIGINT", () => void stop("SIGINT"));
}

main().catch((e: unknown) => {
  console.error(e instanceof ConfigError ? e.message : e);
  process.exit(1);
});
