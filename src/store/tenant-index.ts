import type { Session } from "../core/session.js";
import { splitSessionId } from "../core/session-id.js";
import type { RedisClient } from "./redis-client.js";
import { redisKeys } from "./redis-keys.js";
import type { RedisScripts } from "./redis-scripts.js";
import { inFlightAtMostMs } from "./write-deadline.js";

/**
 * TenantIndex keeps a tenant's index buckets: per bucket, the active
 * sessions by creation time (what lists read and totals count) and the
 * inactive sessions by expiry (what clear-all also needs). A session that
 * expires leaves its active entry behind until a check meets it: the
 * sweeper walks each bucket from a cursor, a bounded batch per pass, and a
 * list checks a small bucket whole. There is no per-session expiry index:
 * at ~120 B of Redis memory per session it would cost a fifth of a session.
 */
export interface TenantIndex {
  /** Adds a new session (before it is stored), unless the write's deadline has passed. */
  add(session: Session, deadline: number): Promise<unknown>;
  /** Moves a session that is no longer active out of the active index. */
  deactivate(session: Session): Promise<unknown>;
  /** Removes sessions from every index of their buckets. */
  remove(tenantId: string, sessions: readonly { userId: string; sessionId: string }[]): Promise<unknown>;
  /**
   * Checks up to `max` active entries of a bucket, from where the last
   * sweep stopped (wrapping at the end): a dead one is removed, an inactive
   * one moved. Resolves with how many entries were checked.
   */
  sweep(tenantId: string, bucket: number, now: number, max: number): Promise<number>;
  /**
   * Checks every active entry of a bucket holding at most `max`, so that a
   * small tenant's total and ranks are exact; a larger bucket is left to the
   * sweeper (its total may count sessions that expired since its last pass).
   */
  settleSmall(tenantId: string, bucket: number, now: number, max: number): Promise<void>;
  /** Drops a bucket's inactive entries whose session has expired. */
  dropExpiredInactive(tenantId: string, bucket: number, now: number): Promise<number>;
  /**
   * Removes active entries whose session expired (or is gone), with one
   * 'expired' event per entry actually removed, atomically (index-expire.lua).
   */
  expire(tenantId: string, sessions: readonly { userId: string; sessionId: string }[]): Promise<unknown>;
}

/** `eventsRetentionMs`: expired events are written with this retention; none when undefined (events off). */
export function createTenantIndex(redis: RedisClient, scripts: RedisScripts, eventsRetentionMs?: number): TenantIndex {
  const retention = eventsRetentionMs === undefined ? "" : String(eventsRetentionMs);
  const expireIn = (tenantId: string, bucket: number, sessions: readonly { userId: string; sessionId: string }[]) =>
    sessions.length === 0
      ? Promise.resolve(0)
      : scripts.ssIndexExpire(redisKeys.tenantBucket(tenantId, bucket), redisKeys.eventStream(tenantId, bucket), retention, ...sessions.flatMap((s) => [s.sessionId, s.userId]));
  const keysOf = (tenantId: string, bucket: number) => ({
    bucket,
    active: redisKeys.tenantBucket(tenantId, bucket),
    inactive: redisKeys.inactiveBucket(tenantId, bucket),
  });
  const keysOfUser = (tenantId: string, userId: string) => keysOf(tenantId, redisKeys.bucketNumberOf(userId));

  const deactivateAt = (k: ReturnType<typeof keysOf>, id: string, expiresAt: string, absoluteEnd: string) =>
    scripts.ssIndexDeactivate(k.active, k.inactive, id, expiresAt, absoluteEnd);

  /**
   * Checks the given active entries (id, creation ms); resolves with how many
   * left the active index. An entry without its session is dead unless its
   * create may still be in flight: a create writes its index entry first.
   */
  async function check(tenantId: string, k: ReturnType<typeof keysOf>, entries: readonly [string, number][], now: number): Promise<number> {
    if (entries.length === 0) return 0;
    const states = await Promise.all(entries.map(([id]) => {
      const parts = splitSessionId(id);
      return parts ? redis.hmget(redisKeys.session(tenantId, parts.userId, parts.suffix), "st", "ea", "ml") : Promise.resolve(null);
    }));
    const dead: { userId: string; sessionId: string }[] = [];
    const work: Promise<unknown>[] = [];
    entries.forEach(([id, createdAt], i) => {
      const [status, expiresAt, absoluteEnd] = states[i] ?? [null, null, null];
      const entry = { sessionId: id, userId: splitSessionId(id)?.userId ?? "" };
      if (status == null || expiresAt == null) {
        if (createdAt < now - inFlightAtMostMs) dead.push(entry);
      } else if (Number(expiresAt) <= now) {
        // Only an active session's end by expiry is an 'expired' event.
        if (status === "active") dead.push(entry);
        else work.push(redis.zrem(k.active, id));
      }
      else if (status !== "active") work.push(deactivateAt(k, id, expiresAt, absoluteEnd ?? expiresAt));
    });
    if (dead.length > 0) await expireIn(tenantId, k.bucket, dead);
    await Promise.all(work);
    return dead.length + work.length;
  }

  return {
    add(session, deadline) {
      const k = keysOfUser(session.tenantId, session.userId);
      return scripts.ssIndexAdd(k.active, String(session.createdAt), session.id, String(session.absoluteExpiresAt), String(deadline));
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
      await Promise.all([...byBucket].flatMap(([b, ids]) => [keysOf(tenantId, b).active, keysOf(tenantId, b).inactive].map((key) => redis.zrem(key, ...ids))));
    },

    async sweep(tenantId, bucket, now, max) {
      const k = keysOf(tenantId, bucket);
      const cursorKey = redisKeys.sweepCursor(tenantId, bucket);
      // The cursor is a rank: entries removed meanwhile may make a pass skip a
      // few, which the next pass meets.
      let rank = Number((await redis.get(cursorKey)) ?? "0") || 0;
      const entries = withScores(await redis.zrange(k.active, String(rank), String(rank + max - 1), "WITHSCORES"));
      const removed = await check(tenantId, k, entries, now);
      rank = entries.length < max ? 0 : rank + entries.length - removed;
      // A walk that wrapped leaves no key behind; one under way is forgotten after an hour.
      if (rank === 0) await redis.del(cursorKey);
      else await redis.set(cursorKey, String(rank), "PX", 3_600_000);
      return entries.length;
    },

    async settleSmall(tenantId, bucket, now, max) {
      const k = keysOf(tenantId, bucket);
      if ((await redis.zcard(k.active)) > max) return;
      await check(tenantId, k, withScores(await redis.zrange(k.active, "0", "-1", "WITHSCORES")), now);
    },

    async expire(tenantId, sessions) {
      const byBucket = new Map<number, { userId: string; sessionId: string }[]>();
      for (const s of sessions) {
        const b = redisKeys.bucketNumberOf(s.userId);
        byBucket.set(b, [...(byBucket.get(b) ?? []), s]);
      }
      await Promise.all([...byBucket].map(([b, list]) => expireIn(tenantId, b, list)));
    },

    dropExpiredInactive(tenantId, bucket, now) {
      // An inactive session's expiry no longer moves: its score is exact.
      return redis.zremrangebyscore(keysOf(tenantId, bucket).inactive, "-inf", now);
    },
  };
}

function withScores(flat: readonly string[]): [string, number][] {
  const out: [string, number][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i]!, Number(flat[i + 1])]);
  return out;
}
