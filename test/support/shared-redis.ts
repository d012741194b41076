import { Cluster, Redis, type RedisOptions } from "ioredis";
import { inject } from "vitest";
import type { RedisTarget } from "../../src/config/config.js";
import { createRedisClient, waitUntilReady, type RedisClient } from "../../src/store/redis-client.js";

// The run's shared Redis is one redis-server, or a 3-primary Cluster when the
// run was started with TEST_REDIS=cluster (see global-setup.ts).

/** True when this run's shared Redis is a Cluster. */
export function onCluster(): boolean {
  return inject("redisClusterNodes") !== "";
}

/** The environment that points the service at the run's shared Redis. */
export function sharedRedisEnv(): { REDIS_URL?: string; REDIS_CLUSTER_NODES?: string } {
  return onCluster() ? { REDIS_CLUSTER_NODES: inject("redisClusterNodes") } : { REDIS_URL: inject("redisUrl") };
}

/** The run's shared Redis as the service's configuration names it. */
export function sharedRedisTarget(): RedisTarget {
  if (!onCluster()) return { kind: "url", url: inject("redisUrl") };
  return { kind: "cluster", nodes: clusterNodes() };
}

/** connectServiceRedis opens the service's own kind of client (createRedisClient) to the shared Redis, once ready. */
export async function connectServiceRedis(): Promise<RedisClient> {
  const client = createRedisClient(sharedRedisTarget());
  if (!(await waitUntilReady(client, 5000))) throw new Error("the shared Redis did not get ready within 5 s");
  return client;
}

function clusterNodes() {
  return inject("redisClusterNodes").split(",").map((n) => {
    const [host, port] = n.split(":");
    return { host: host!, port: Number(port) };
  });
}

/**
 * connectSharedRedis opens a plain connection to the run's shared Redis for
 * tests to inspect or prepare it: an ioredis Cluster on a Cluster, so keyed
 * commands reach the right primary (per-node commands: see primaries-of.ts).
 */
export function connectSharedRedis(options: RedisOptions = {}): Redis | Cluster {
  if (!onCluster()) return new Redis(inject("redisUrl"), options);
  return new Cluster(clusterNodes(), { enableAutoPipelining: options.enableAutoPipelining, redisOptions: options });
}
