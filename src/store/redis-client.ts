import { Cluster, Redis } from "ioredis";
import type { RedisTarget } from "../config/config.js";

/** RedisClient is a connection to one server, a Sentinel group or a Cluster. */
export type RedisClient = Redis | Cluster;

/** createRedisClient connects with the settings the store relies on. */
export function createRedisClient(target: RedisTarget): RedisClient {
  const common = {
    // Commands issued in the same tick share one write: cheap batching.
    enableAutoPipelining: true,
    // Fail fast while Redis is down so callers get UNAVAILABLE, not a hang.
    maxRetriesPerRequest: 1,
  };
  switch (target.kind) {
    case "url":
      return new Redis(target.url, common);
    case "sentinel":
      return new Redis({
        ...common,
        sentinels: target.sentinels.map((s) => ({ host: s.host, port: s.port })),
        name: target.name,
        password: target.password,
      });
    case "cluster":
      return new Cluster(target.nodes.map((n) => ({ host: n.host, port: n.port })), {
        enableAutoPipelining: true,
        redisOptions: { maxRetriesPerRequest: 1, password: target.password },
      });
  }
}
