import { Cluster, type Redis } from "ioredis";

/**
 * The connections per-node commands (SCAN, KEYS, INFO, MONITOR, CONFIG,
 * FLUSHALL) must go to: every primary of a Cluster, or the one server.
 */
export async function primariesOf(redis: Redis | Cluster): Promise<Redis[]> {
  if (!(redis instanceof Cluster)) return [redis];
  // Slots are known once the Cluster client is ready.
  if (redis.status !== "ready") await new Promise((resolve) => redis.once("ready", resolve));
  return redis.nodes("master");
}
