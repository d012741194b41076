import type { RedisClient } from "./redis-client.js";
import type { Position } from "./tenant-index-merge.js";

/**
 * positionAtRank finds the entry at a rank (0-based) of the tenant order
 * (creation time, then id) across all buckets, without reading the entries
 * before it: a bisection on the creation time, each step one ZCOUNT per
 * bucket (O(log n) each in Redis). It costs buckets × log2(the tenant's
 * time span in ms) commands, about 32 rounds for a month, whatever the
 * tenant's size. Undefined when the rank is past the end.
 */
export async function positionAtRank(redis: RedisClient, bucketKeys: readonly string[], rank: number): Promise<Position | undefined> {
  const ends = await Promise.all(
    bucketKeys.map((key) => Promise.all([redis.zrange(key, "0", "0", "WITHSCORES"), redis.zrange(key, "-1", "-1", "WITHSCORES")])),
  );
  let lo = Infinity;
  let hi = -Infinity;
  for (const [first, last] of ends) {
    if (first!.length === 2) lo = Math.min(lo, Number(first![1]));
    if (last!.length === 2) hi = Math.max(hi, Number(last![1]));
  }
  if (lo > hi) return undefined;
  const countUpTo = async (score: number, inclusive: boolean) => {
    const max = inclusive ? String(score) : `(${score}`;
    const counts = await Promise.all(bucketKeys.map((key) => redis.zcount(key, "-inf", max)));
    return counts.reduce((a, b) => a + b, 0);
  };
  // The smallest creation time with more than `rank` entries at or before it.
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if ((await countUpTo(mid, true)) > rank) hi = mid;
    else lo = mid + 1;
  }
  const before = await countUpTo(lo, false);
  // Entries created in the same ms are ordered by id, as the merge orders them.
  const ties = (await Promise.all(bucketKeys.map((key) => redis.zrangebyscore(key, lo, lo)))).flat().sort();
  const id = ties[rank - before];
  return id === undefined ? undefined : { createdAt: lo, id };
}
