import type { Session } from "../core/session.js";
import { splitSessionId } from "../core/session-id.js";
import type { RedisClient } from "./redis-client.js";
import { redisKeys } from "./redis-keys.js";
import type { RedisScripts } from "./redis-scripts.js";

/**
 * TenantIndex keeps a tenant's index buckets: per bucket, the active
 * sessions by creation time (what lists read and totals count), the same
 * sessions by expiry as last written (what finds the dead ones without a
 * walk), and the inactive sessions by expiry (what clear-all also needs).
 */
export interface TenantIndex {
  /** Adds a new session (before it is stored), unless the write's deadline has passed. */
  add(session: Session, deadline: number): Promise<unknown>;
  /** Records a session's new expiry, while it is still indexed as active. */
  rescore(session: Session): Promise<unknown>;
  /** Moves a session that is no longer active out of the active index. */
  deactivate(session: Session): Promise<unknown>;
  /** Removes sessions from every index of their buckets. */
  remove(tenantId: string, sessions: readonly { userId: string; sessionId: string }[]): Promise<unknown>;
  /**
   * Checks, in one bucket, up to `max` active entries whose recorded expiry
   * has passed: a dead one is removed, an inactive one moved, a live one
   * (slid since) re-scored to its expiry. Afterwards the bucket's active
   * index holds only live sessions (and creates in flight), unless more
   * than `max` were due. Resolves with how many entries were checked.
   */
  settle(tenantId: string, bucket: number, now: number, max: number): Promise<number>;
  /** Drops a bucket's inactive entries whose session has expired. */
  dropExpiredInactive(tenantId: string, bucket: number, now: number): Promise<number>;
}

// Entries checked per round trip.
const batch = 500;

export function createTenantIndex(redis: RedisClient, scripts: RedisScripts): TenantIndex {
  const keysOf = (tenantId: string, bucket: number) => ({
    active: redisKeys.tenantBucket(tenantId, bucket),
    expiry: redisKeys.expiryIndex(tenantId, bucket),
    inactive: redisKeys.inactiveBucket(tenantId, bucket),
  });
  const keysOfUser = (tenantId: string, userId: string) => keysOf(tenantId, redisKeys.bucketNumberOf(userId));

  const deactivateAt = (k: ReturnType<typeof keysOf>, id: string, expiresAt: string, absoluteEnd: string) =>
    scripts.ssIndexDeactivate(k.active, k.expiry, k.inactive, id, expiresAt, absoluteEnd);

  return {
    add(session, deadline) {
      const k = keysOfUser(session.tenantId, session.userId);
      return scripts.ssIndexAdd(
        k.active,
        k.expiry,
        String(session.createdAt),
        session.id,
        String(session.expiresAt),
        String(session.absoluteExpiresAt),
        String(deadline),
      );
    },

    rescore(session) {
      // XX: a session removed or deactivated meanwhile is not put back.
      return redis.zadd(keysOfUser(session.tenantId, session.userId).expiry, "XX", session.expiresAt, session.id);
    },

    deactivate(session) {
      return deactivateAt(keysOfUser(session.tenantId, session.userId), session.id, String(session.expiresAt), String(session.absoluteExpiresAt));
    },

    async remove(tenantId, sessions) {
      const byBucket = new Map<number, string[]>();
      for (const s of sessions) {
        const b = redisKeys.bucketNumberOf(s.userId);
        byBucket.set(b, [...(byBucket.get(b) ?? []), s.sessionId]);
      }
      await Promise.all([...byBucket].flatMap(([b, ids]) => Object.values(keysOf(tenantId, b)).map((key) => redis.zrem(key, ...ids))));
    },

    async settle(tenantId, bucket, now, max) {
      const k = keysOf(tenantId, bucket);
      let checked = 0;
      while (checked < max) {
        const count = Math.min(batch, max - checked);
        const flat = await redis.zrangebyscore(k.expiry, "-inf", now, "LIMIT", 0, count);
        if (flat.length === 0) break;
        const states = await Promise.all(flat.map((id) => {
          const parts = splitSessionId(id);
          return parts ? redis.hmget(redisKeys.session(tenantId, parts.userId, parts.suffix), "st", "ea", "ml") : Promise.resolve(null);
        }));
        const dead: string[] = [];
        const work: Promise<unknown>[] = [];
        flat.forEach((id, i) => {
          const [status, expiresAt, absoluteEnd] = states[i] ?? [null, null, null];
          if (status == null || expiresAt == null || Number(expiresAt) <= now) dead.push(id);
          else if (status !== "active") work.push(deactivateAt(k, id, expiresAt, absoluteEnd ?? expiresAt));
          // Slid since its expiry was recorded: due again at its new expiry.
          else work.push(redis.zadd(k.expiry, "XX", expiresAt, id));
        });
        if (dead.length > 0) work.push(redis.zrem(k.active, ...dead), redis.zrem(k.expiry, ...dead));
        await Promise.all(work);
        checked += flat.length;
        if (flat.length < count) break;
      }
      return checked;
    },

    dropExpiredInactive(tenantId, bucket, now) {
      // An inactive session's expiry no longer moves: its score is exact.
      return redis.zremrangebyscore(keysOf(tenantId, bucket).inactive, "-inf", now);
    },
  };
}
