import type { DescService } from "@bufbuild/protobuf";
import type { RedisClient } from "../store/redis-client.js";
import type { HealthService } from "./health-service.js";

/** StoreHealth says whether the store can serve, as health reports it. */
export interface StoreHealth {
  isReady(): boolean;
  stop(): void;
}

/**
 * followStoreHealth keeps health in step with Redis: a session service
 * without its store cannot serve. A connected Redis can still hang, so a
 * periodic PING (which times out) catches that too.
 */
export function followStoreHealth(redis: RedisClient, health: HealthService, services: readonly DescService[], pingEveryMs = 5_000): StoreHealth {
  let pingAnswered = true;
  const isReady = () => redis.status === "ready" && pingAnswered;
  const update = () => {
    const status = isReady() ? "SERVING" : "NOT_SERVING";
    health.setStatus("", status);
    for (const s of services) health.setStatus(s.typeName, status);
  };
  update();
  for (const event of ["ready", "close", "end", "reconnecting", "error"]) redis.on(event, update);
  const probe = setInterval(() => {
    redis.ping().then(
      () => (pingAnswered = true),
      () => (pingAnswered = false),
    ).finally(update);
  }, pingEveryMs).unref();
  return { isReady, stop: () => clearInterval(probe) };
}
