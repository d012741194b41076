import { Cluster } from "ioredis";
import type { Session } from "../core/session.js";
import { userIdOfSessionId } from "../core/session-id.js";
import type { RedisClient } from "./redis-client.js";
import { redisKeys } from "./redis-keys.js";
import { defineRedisScripts } from "./redis-scripts.js";
import { sessionFromReply, sessionToFields } from "./redis-session-codec.js";
import { LimitReachedError, type MutationResult, type SessionStore } from "./session-store.js";

export interface RedisSessionStoreOptions {
  /** Sessions older than this are dead whatever they say; bounds every index. */
  readonly maxLifetimeMs: number;
}

/**
 * createRedisSessionStore implements SessionStore over one ioredis client.
 * Per-user updates are single Lua scripts (atomic, one slot); the token
 * pointer and the tenant index are written beside them and cleaned lazily.
 */
export function createRedisSessionStore(redis: RedisClient, options: RedisSessionStoreOptions): SessionStore {
  const scripts = defineRedisScripts(redis);
  const isCluster = redis instanceof Cluster;
  const cutoff = (now: number) => String(now - options.maxLifetimeMs);

  // Drops the secondary index entries of sessions that are gone.
  async function forget(tenantId: string, gone: ReadonlyArray<{ id: string; tokenHash: string; key: string }>) {
    if (gone.length === 0) return;
    await Promise.all([
      redis.zrem(redisKeys.tenantIndex(tenantId), ...gone.map((g) => g.id)),
      ...gone.map((g) => scripts.ssDeleteIfEquals(redisKeys.tokenPointer(g.tokenHash), g.key)),
    ]);
  }

  function keyOf(tenantId: string, sessionId: string): { userId: string; key: string } | undefined {
    const userId = userIdOfSessionId(sessionId);
    if (userId === undefined) return undefined;
    return { userId, key: redisKeys.session(tenantId, userId, sessionId) };
  }

  async function clearUser(tenantId: string, userId: string): Promise<number> {
    const reply = (await scripts.ssClearUser(
      redisKeys.userIndex(tenantId, userId),
      redisKeys.current(tenantId, userId),
      redisKeys.sessionPrefix(tenantId, userId),
    )) as string[];
    const gone: { id: string; tokenHash: string; key: string }[] = [];
    for (let i = 0; i + 1 < reply.length; i += 2) {
      const id = reply[i]!;
      gone.push({ id, tokenHash: reply[i + 1]!, key: redisKeys.session(tenantId, userId, id) });
    }
    await forget(tenantId, gone);
    return gone.length;
  }

  return {
    async create(session, { limit, evictOldest, now }) {
      const { tenantId, userId, id } = session;
      const key = redisKeys.session(tenantId, userId, id);
      let evictedReplies: unknown[];
      try {
        evictedReplies = (await scripts.ssCreate(
          key,
          redisKeys.userIndex(tenantId, userId),
          redisKeys.current(tenantId, userId),
          String(now),
          cutoff(now),
          String(limit),
          evictOldest ? "1" : "0",
          redisKeys.sessionPrefix(tenantId, userId),
          id,
          String(session.createdAt),
          String(session.expiresAt),
          String(options.maxLifetimeMs),
          ...sessionToFields(session),
        )) as unknown[];
      } catch (e) {
        const match = /^LIMIT (\d+)/.exec((e as Error).message);
        if (match) throw new LimitReachedError(Number(match[1]));
        throw e;
      }
      const evicted = evictedReplies.map(sessionFromReply).filter((s): s is Session => s !== undefined);
      await Promise.all([
        redis.set(redisKeys.tokenPointer(session.tokenHash), key, "PXAT", String(session.absoluteExpiresAt)),
        redis.zadd(redisKeys.tenantIndex(tenantId), session.createdAt, id),
        redis.pexpire(redisKeys.tenantIndex(tenantId), options.maxLifetimeMs),
      ]);
      await forget(tenantId, evicted.map((s) => ({ id: s.id, tokenHash: s.tokenHash, key: redisKeys.session(tenantId, s.userId, s.id) })));
      return evicted;
    },

    async findByToken(tokenHash, now, slide) {
      const args = [String(now), tokenHash, slide ? "1" : "0"];
      let reply: unknown;
      if (isCluster) {
        // The pointer and the session are in different slots: two round trips.
        const key = await redis.get(redisKeys.tokenPointer(tokenHash));
        reply = key ? await scripts.ssSlideSession(key, ...args) : null;
      } else {
        reply = await scripts.ssFindByToken(redisKeys.tokenPointer(tokenHash), ...args);
      }
      return reply ? sessionFromReply(reply) : undefined;
    },

    async get(tenantId, sessionId, now) {
      const loc = keyOf(tenantId, sessionId);
      if (!loc) return undefined;
      const session = sessionFromReply(await redis.hgetall(loc.key));
      return session && session.expiresAt > now ? session : undefined;
    },

    async listUser(tenantId, userId, now, includeInactive = false) {
      const reply = (await scripts.ssListUser(
        redisKeys.userIndex(tenantId, userId),
        String(now),
        cutoff(now),
        redisKeys.sessionPrefix(tenantId, userId),
        includeInactive ? "1" : "0",
      )) as unknown[];
      return reply.map(sessionFromReply).filter((s): s is Session => s !== undefined);
    },

    async listTenant(tenantId, now, page) {
      const index = redisKeys.tenantIndex(tenantId);
      await redis.zremrangebyscore(index, "-inf", `(${cutoff(now)}`);
      const sessions: Session[] = [];
      const after = page.after;
      let skip = page.offset ?? 0;
      // The total is the number of live sessions, so the whole index is
      // walked (in rank order: creation time, then id). Entries of sessions
      // that are gone are dropped as they are met; sessions that are merely
      // inactive stay indexed (clearTenant finds their users through it) but
      // are neither listed nor counted. Entries that may land on the page are
      // read in full, the others by status and expiry only.
      // A cursor page that needs no total starts at the cursor and stops once full.
      const batchSize = 500;
      const walkAll = page.countTotal === true;
      let total = 0;
      let start = !walkAll && after ? await redis.zcount(index, "-inf", `(${after.createdAt}`) : 0;
      for (;;) {
        const batch = await redis.zrange(index, String(start), String(start + batchSize - 1), "WITHSCORES");
        if (batch.length === 0) break;
        const entries: { id: string; score: number }[] = [];
        for (let i = 0; i + 1 < batch.length; i += 2) entries.push({ id: batch[i]!, score: Number(batch[i + 1]) });
        const wantFull = sessions.length < page.limit;
        const found = await Promise.all(entries.map(async (e) => {
          const loc = keyOf(tenantId, e.id);
          const afterCursor = !after || e.score > after.createdAt || (e.score === after.createdAt && e.id > after.id);
          if (!loc) return { entry: e, afterCursor, gone: true, active: false, session: undefined };
          if (wantFull && afterCursor) {
            const session = sessionFromReply(await redis.hgetall(loc.key));
            const gone = !session || session.expiresAt <= now;
            return { entry: e, afterCursor, gone, active: !gone && session.status === "active", session };
          }
          const [status, expiresAt] = await redis.hmget(loc.key, "st", "ea");
          const gone = expiresAt === null || Number(expiresAt) <= now;
          return { entry: e, afterCursor, gone, active: !gone && status === "active", session: undefined };
        }));
        const dead = found.filter((f) => f.gone).map((f) => f.entry.id);
        if (dead.length > 0) await redis.zrem(index, ...dead);
        for (const f of found) {
          if (!f.active) continue;
          total++;
          if (!f.afterCursor) continue;
          if (skip > 0) { skip--; continue; }
          if (sessions.length < page.limit && f.session) sessions.push(f.session);
        }
        if (entries.length < batchSize || (!walkAll && sessions.length >= page.limit)) break;
        // Removed entries shift the ranks after them down.
        start += entries.length - dead.length;
      }
      return { sessions, total: walkAll ? total : undefined };
    },

    async current(tenantId, userId, now) {
      const reply = await scripts.ssCurrent(
        redisKeys.current(tenantId, userId),
        redisKeys.userIndex(tenantId, userId),
        String(now),
        redisKeys.sessionPrefix(tenantId, userId),
      );
      return reply ? sessionFromReply(reply) : undefined;
    },

    async mutate(tenantId, sessionId, change, now): Promise<MutationResult> {
      const loc = keyOf(tenantId, sessionId);
      if (!loc) return { kind: "not-found" };
      const fields: string[] = [];
      if (change.tokenHash !== undefined) fields.push("th", change.tokenHash);
      if (change.sealedToken !== undefined) fields.push("tk", change.sealedToken);
      if (change.sliding !== undefined) fields.push("sl", change.sliding ? "1" : "0");
      if (change.status !== undefined) fields.push("st", change.status);
      fields.push("ua", String(now));
      const reply = (await scripts.ssMutate(
        loc.key,
        redisKeys.current(tenantId, loc.userId),
        String(now),
        change.requireActive ? "1" : "0",
        change.expiresAt === undefined ? "" : String(change.expiresAt),
        change.makeCurrent ? "1" : "0",
        sessionId,
        change.slide ? "1" : "0",
        ...fields,
      )) as string[];
      const [kind, previousTokenHash, ...rest] = reply;
      if (kind === "gone") return { kind: "not-found" };
      const session = sessionFromReply(rest);
      if (!session) return { kind: "not-found" };
      if (kind === "inactive") return { kind: "inactive", session };
      if (change.tokenHash !== undefined && previousTokenHash && previousTokenHash !== change.tokenHash) {
        await Promise.all([
          redis.set(redisKeys.tokenPointer(change.tokenHash), loc.key, "PXAT", String(session.absoluteExpiresAt)),
          scripts.ssDeleteIfEquals(redisKeys.tokenPointer(previousTokenHash), loc.key),
        ]);
      }
      return { kind: "ok", session, previousTokenHash: previousTokenHash ?? "" };
    },

    async delete(tenantId, sessionId, now) {
      const loc = keyOf(tenantId, sessionId);
      if (!loc) return false;
      const tokenHash = (await scripts.ssDelete(
        loc.key,
        redisKeys.userIndex(tenantId, loc.userId),
        redisKeys.current(tenantId, loc.userId),
        String(now),
        sessionId,
      )) as string | null;
      if (!tokenHash) return false;
      await forget(tenantId, [{ id: sessionId, tokenHash, key: loc.key }]);
      return true;
    },

    clearUser,

    async clearTenant(tenantId) {
      const index = redisKeys.tenantIndex(tenantId);
      const users = new Set<string>();
      for (const id of await redis.zrange(index, "0", "-1")) {
        const userId = userIdOfSessionId(id);
        if (userId !== undefined) users.add(userId);
      }
      let count = 0;
      for (const userId of users) count += await clearUser(tenantId, userId);
      await redis.del(index);
      return count;
    },

    async ping() {
      await redis.ping();
    },

    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
