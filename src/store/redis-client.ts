import { Cluster, Redis } from "ioredis";
import type { RedisTarget } from "../config/config.js";
import { batchWritesPerTurn } from "./batch-writes.js";

/** RedisClient is a connection to one server, a Sentinel group or a Cluster. */
export type RedisClient = Redis | Cluster;

/**
 * How long one command may take; the service answers UNAVAILABLE after it.
 * The store's calls are bounded by it as a whole (withDeadline), the health
 * PING and the webhook leases by their own timers, and the other connections
 * (duplicateRedisClient) per command by ioredis.
 */
export const redisCommandTimeoutMs = 2_000;

// Reconnect soon after Redis is back: ioredis's default backoff grows to
// 2 s, which is how long calls would keep failing after a restart.
const reconnectAfterMs = (attempt: number) => Math.min(attempt * 50, 250);

/** createRedisClient connects with the settings the store relies on. */
export function createRedisClient(target: RedisTarget): RedisClient {
  const client = connect(target);
  batchWritesPerTurn(client);
  return client;
}

function connect(target: RedisTarget): RedisClient {
  const common = {
    // Commands of one event-loop turn share one write through batchWritesPerTurn,
    // which costs less per command than ioredis's auto-pipelining.
    enableAutoPipelining: false,
    // Fail fast while Redis is down, so callers get UNAVAILABLE at once
    // instead of waiting in a queue for a reconnect.
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    // No commandTimeout on this connection: every call through it has a
    // bound of its own (see redisCommandTimeoutMs), and ioredis's would arm
    // and clear a second timer per command on the hot path.
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
        enableAutoPipelining: false,
        enableOfflineQueue: false,
        clusterRetryStrategy: reconnectAfterMs,
        redisOptions: { maxRetriesPerRequest: 1, password: target.password },
      });
  }
}

/**
 * duplicateRedisClient opens another connection (or Cluster client) with the
 * same settings, named `connectionName` (CLIENT SETNAME: what operators see
 * in CLIENT LIST). Its commands time out after redisCommandTimeoutMs: what
 * runs there (background passes) has no other bound, and shutdown waits for it.
 */
export function duplicateRedisClient(client: RedisClient, connectionName: string, options: { readonly enableOfflineQueue?: boolean } = {}): RedisClient {
  const commandTimeout = redisCommandTimeoutMs;
  const copy = client instanceof Cluster
    ? client.duplicate(undefined, { ...options, redisOptions: { connectionName, commandTimeout } })
    : client.duplicate({ ...options, connectionName, commandTimeout });
  batchWritesPerTurn(copy);
  return copy;
}

/** The name of the index sweeper's connection (CLIENT LIST). */
export const indexSweeperConnectionName = "secure-session-storage:index-sweeper";

/** The name of the connection event reads go through (CLIENT LIST). */
export const eventReaderConnectionName = "secure-session-storage:event-reader";

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
