import type { Cluster, Redis } from "ioredis";
import { primariesOf } from "./primaries-of.js";

/** scanAllKeys lists every key matching `pattern` with SCAN (never KEYS) on every primary. */
export async function scanAllKeys(redis: Redis | Cluster, pattern = "*"): Promise<string[]> {
  const keys: string[] = [];
  for (const node of await primariesOf(redis)) {
    let cursor = "0";
    do {
      const [next, batch] = await node.scan(cursor, "MATCH", pattern, "COUNT", 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== "0");
  }
  return keys;
}
