/**
 * Every Redis key the service uses (layout 2, prefix "s2:"; keys of the
 * first layout, "ss:", are never read). All keys of one user share the hash
 * tag {<tenant>:<user>}, so per-user scripts touch one Redis Cluster slot.
 * The tenant index is spread over buckets, each in its own slot, so no one
 * key takes every create of a tenant. Caller tokens have a pointer in its own
 * slot; a minted token names its session itself (src/crypto/token-locator.ts)
 * and has none.
 *
 *   s2:{T:U}:s:<8hex>.<8hex>  hash    one session; id, tenant and user come from the
 *                                     key (fields: see redis-session-codec.ts);
 *                                     expires (PEXPIREAT) when the session does
 *   s2:{T:U}:i                zset    the user's session id suffixes, scored by creation ms
 *   s2:{T/<b>}:x              zset    bucket b (0..tenantBuckets-1) of the tenant index:
 *                                     active session ids of the users hashed to b, scored
 *                                     by creation ms. Tenant ids hold no ':' or '/', so
 *                                     this tag never equals a user's.
 *   s2:{T/<b>}:c              string  the rank where the sweeper's walk of bucket b goes on
 *   s2:{T/<b>}:n              zset    the same bucket's sessions that are no longer active
 *                                     (ended, removed, revoked), scored by their expiry
 *                                     (which no longer moves): only clear-all reads it
 *   s2:{T/<b>}:e              stream  session events of the users hashed to bucket b
 *                                     (src/events): entry id = event id; trimmed by
 *                                     MINID to the retention, expires after it when quiet
 *   s2:t:<hmac>               string  a caller token's pointer: "<session key> <deadline
 *                                     ms of the write that claimed it>"; expires with the
 *                                     session
 *   s2:sweep:<T>              string  held by the service instance sweeping the tenant's
 *                                     index this round (index-sweeper.ts)
 *   s2:{T/webhook}:lease      string  the instance delivering the tenant's webhook: its
 *                                     random owner id, with a TTL it renews (webhook-lease.ts)
 *   s2:{T/webhook}:cursor     string  the event cursor after the last event the webhook
 *                                     delivered or gave up (no TTL). Same slot as the
 *                                     lease: one script checks the one and moves the other
 */
const prefix = "s2:";

/** Tenant index buckets; changing it orphans existing tenant index entries. */
export const tenantBuckets = 16;

// FNV-1a over the user id: stable across processes and releases.
function bucketOf(userId: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(userId, "utf8")) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return h % tenantBuckets;
}

const sessionKeyPattern = /^s2:\{([^:{}]+):([^{}]+)\}:s:([0-9a-f]{8}\.[0-9a-f]{8})$/;

export const redisKeys = Object.freeze({
  sessionPrefix: (tenantId: string, userId: string) => `${prefix}{${tenantId}:${userId}}:s:`,
  /** The session hash, by the random suffix of its id. */
  session: (tenantId: string, userId: string, suffix: string) => `${prefix}{${tenantId}:${userId}}:s:${suffix}`,
  /** The tenant, user and id suffix a session key names; undefined for any other key. */
  parseSession(key: string): { tenantId: string; userId: string; suffix: string } | undefined {
    const match = sessionKeyPattern.exec(key);
    return match ? { tenantId: match[1]!, userId: match[2]!, suffix: match[3]! } : undefined;
  },
  /**
   * What every key of a tenant's users starts with. Tenant ids hold no ':',
   * so a key starting with it is this tenant's and no other's.
   */
  tenantUserPrefix: (tenantId: string) => `${prefix}{${tenantId}:`,
  userIndex: (tenantId: string, userId: string) => `${prefix}{${tenantId}:${userId}}:i`,
  tokenPointer: (tokenHash: string) => `${prefix}t:${tokenHash}`,
  tenantBucket: (tenantId: string, bucket: number) => `${prefix}{${tenantId}/${bucket}}:x`,
  /** The tenant index bucket holding a user's active sessions. */
  tenantBucketOf: (tenantId: string, userId: string) => `${prefix}{${tenantId}/${bucketOf(userId)}}:x`,
  /** Where the sweeper's walk of a bucket goes on (same slot as the bucket). */
  sweepCursor: (tenantId: string, bucket: number) => `${prefix}{${tenantId}/${bucket}}:c`,
  inactiveBucket: (tenantId: string, bucket: number) => `${prefix}{${tenantId}/${bucket}}:n`,
  /** Bucket b's event stream (same slot as the bucket: the sweeper's expired events are atomic there). */
  eventStream: (tenantId: string, bucket: number) => `${prefix}{${tenantId}/${bucket}}:e`,
  /** The event stream of a user's sessions: their bucket's. */
  eventStreamOf: (tenantId: string, userId: string) => `${prefix}{${tenantId}/${bucketOf(userId)}}:e`,
  /** The number of the tenant index bucket holding a user's sessions. */
  bucketNumberOf: (userId: string) => bucketOf(userId),
  /** Held by the instance delivering a tenant's webhook (renewed while it does). */
  webhookLease: (tenantId: string) => `${prefix}{${tenantId}/webhook}:lease`,
  /** Where a tenant's webhook delivery goes on from (an event cursor). */
  webhookCursor: (tenantId: string) => `${prefix}{${tenantId}/webhook}:cursor`,
  /** Held by the instance sweeping a tenant's index this round. */
  sweepLock: (tenantId: string) => `${prefix}sweep:${tenantId}`,
  /** SCAN patterns matching every key of a tenant except token pointers. */
  tenantPatterns: (tenantId: string) => [`${prefix}{${tenantId}:*`, `${prefix}{${tenantId}/*`],
});
