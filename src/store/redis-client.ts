import { Cluster, Redis } from "ioredis";
import type { RedisTarget } from "../config/config.js";

/** RedisClient is a connection to one server, a Sentinel group or a Cluster. */
export type RedisClient = Redis | Cluster;

/**
 * How long one command may take; the service answers UNAVAILABLE after it
 * (withDeadline bounds each whole store call by it too).
 */
export const redisCommandTimeoutMs = 2_000;

// Reconnect soon after Redis is back: ioredis's default backoff grows to
// 2 s, which is how long calls would keep failing after a restart.
const reconnectAfterMs = (attempt: number) => Math.min(attempt * 50, 250);

/** createRedisClient connects with the settings the store relies on. */
export function createRedisClient(target: RedisTarget): RedisClient {
  const common = {
    // Commands issued in the same tick share one write: cheap batching.
    enableAutoPipelining: true,
    // Fail fast while Redis is down, so callers get UNAVAILABLE at once
    // instead of waiting in a queue for a reconnect.
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    // A hung or partitioned Redis must not hang calls (or shutdown) forever.
    commandTimeout: redisCommandTimeoutMs,
    retryStrategy: reconnectAfterMs,
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
        enableOfflineQueue: false,
        clusterRetryStrategy: reconnectAfterMs,
        redisOptions: { maxRetriesPerRequest: 1, commandTimeout: redisCommandTimeoutMs, password: target.password },
      });
  }
}

/**
 * duplicateRedisClient opens another connection (or Cluster client) with the
 * same settings, named `connectionName` (CLIENT SETNAME: what operators see
 * in CLIENT LIST).
 */
export function duplicateRedisClient(client: RedisClient, connectionName: string): RedisClient {
  return client instanceof Cluster
    ? client.duplicate(undefined, { redisOptions: { connectionName } })
    : client.duplicate({ connectionName });
}

/** The name of the index sweeper's connection (CLIENT LIST). */
export const indexSweeperConnectionName = "secure-session-storage:index-sweeper";

/** waitUntilReady resolves once the client can take commands, or after `timeoutMs` (false then). */
export async function waitUntilReady(client: RedisClient, timeoutMs: number): Promise<boolean> {
  if (client.status === "ready") return true;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      client.off("ready", onReady);
      resolve(false);
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve(true);
    };
    client.once("ready", onReady);
  });
}
