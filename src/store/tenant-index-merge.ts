import type { RedisClient } from "./redis-client.js";

/** IndexEntry is one tenant index entry: a session id, its creation ms and its bucket key. */
export interface IndexEntry {
  readonly id: string;
  readonly score: number;
  readonly bucket: string;
}

/** Position is a place in the tenant order: creation time, then id. */
export interface Position {
  readonly createdAt: number;
  readonly id: string;
}

/** TenantIndexMerge reads the tenant index buckets as one list, in order. */
export interface TenantIndexMerge {
  /** The next entries (at most `count`), in (creation time, id) order. */
  take(count: number): Promise<IndexEntry[]>;
  /** Gives back entries taken but not used: the next take returns them first. */
  putBack(entries: readonly IndexEntry[]): void;
}

const before = (a: IndexEntry, b: IndexEntry) => a.score < b.score || (a.score === b.score && a.id < b.id);

/**
 * createTenantIndexMerge is a k-way merge of the buckets, strictly after a
 * position. Each bucket is read `batch` entries at a time, and only when its
 * buffer runs dry, so a page costs at most buckets × batch entries read, not
 * the tenant's size. The walk moves by position, never by rank, so entries
 * removed meanwhile cannot shift it.
 */
export function createTenantIndexMerge(
  redis: RedisClient,
  bucketKeys: readonly string[],
  after: Position | undefined,
  batch: number,
): TenantIndexMerge {
  const buckets = bucketKeys.map((key) => ({ key, buffer: [] as IndexEntry[], position: after, done: false }));
  const returned: IndexEntry[] = [];

  async function refill(b: (typeof buckets)[number]) {
    const entries = await entriesAfter(b.key, b.position, batch);
    b.buffer = entries;
    b.done = entries.length < batch;
    const last = entries[entries.length - 1];
    if (last) b.position = { createdAt: last.score, id: last.id };
  }

  // Entries of one bucket strictly after a position, in order, at most `count`.
  async function entriesAfter(key: string, from: Position | undefined, count: number): Promise<IndexEntry[]> {
    const parse = (reply: string[]) => {
      const out: IndexEntry[] = [];
      for (let i = 0; i + 1 < reply.length; i += 2) out.push({ id: reply[i]!, score: Number(reply[i + 1]), bucket: key });
      return out;
    };
    if (!from) return parse(await redis.zrangebyscore(key, "-inf", "+inf", "WITHSCORES", "LIMIT", 0, count));
    // Ties on the creation time come first (ordered by id), then later times.
    const ties = parse(await redis.zrangebyscore(key, from.createdAt, from.createdAt, "WITHSCORES")).filter((e) => e.id > from.id);
    if (ties.length >= count) return ties.slice(0, count);
    const later = parse(await redis.zrangebyscore(key, `(${from.createdAt}`, "+inf", "WITHSCORES", "LIMIT", 0, count - ties.length));
    return [...ties, ...later];
  }

  return {
    async take(count) {
      const out = returned.splice(0, count);
      if (out.length === count) return out;
      await Promise.all(buckets.filter((b) => b.buffer.length === 0 && !b.done).map(refill));
      while (out.length < count) {
        let next: (typeof buckets)[number] | undefined;
        for (const b of buckets) if (b.buffer.length > 0 && (!next || before(b.buffer[0]!, next.buffer[0]!))) next = b;
        if (!next) break;
        out.push(next.buffer.shift()!);
        if (next.buffer.length === 0 && !next.done) await refill(next);
      }
      return out;
    },
    putBack(entries) {
      returned.unshift(...entries);
    },
  };
}
