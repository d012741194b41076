import { Cluster } from "ioredis";
import type { Session } from "../core/session.js";
import { userIdOfSessionId } from "../core/session-id.js";
import type { RedisClient } from "./redis-client.js";
import { redisKeys } from "./redis-keys.js";
import { defineRedisScripts } from "./redis-scripts.js";
import { sessionFromReply, sessionToFields } from "./redis-session-codec.js";
import { LimitReachedError, TokenInUseError, type MutationResult, type SessionStore } from "./session-store.js";

export interface RedisSessionStoreOptions {
  /** Sessions older than this are dead whatever they say; bounds every index. */
  readonly maxLifetimeMs: number;
}

interface IndexedSession {
  readonly id: string;
  readonly tokenHash: string;
  readonly key: string;
}

/**
 * createRedisSessionStore implements SessionStore over ioredis (one server,
 * Sentinel or Cluster). Per-user updates are single Lua scripts: atomic, on
 * one hash slot. The token pointer and the tenant index live in other slots,
 * so they are written around those scripts in an order that never leaves a
 * session unreachable: index entry and pointer first, rolled back when the
 * script refuses. A secondary entry whose session is gone is ignored and
 * removed when met.
 */
export function createRedisSessionStore(redis: RedisClient, options: RedisSessionStoreOptions): SessionStore {
  const scripts = defineRedisScripts(redis);
  const isCluster = redis instanceof Cluster;
  const cutoff = (now: number) => String(now - options.maxLifetimeMs);

  function keyOf(tenantId: string, sessionId: string): { userId: string; key: string } | undefined {
    const userId = userIdOfSessionId(sessionId);
    if (userId === undefined) return undefined;
    return { userId, key: redisKeys.session(tenantId, userId, sessionId) };
  }

  async function forget(tenantId: string, gone: readonly IndexedSession[]) {
    if (gone.length === 0) return;
    await Promise.all([
      redis.zrem(redisKeys.tenantIndex(tenantId), ...gone.map((g) => g.id)),
      ...gone.map((g) => scripts.ssDeleteIfEquals(redisKeys.tokenPointer(g.tokenHash), g.key)),
    ]);
  }

  async function slide(tokenHash: string, now: number, doSlide: boolean): Promise<Session | undefined> {
    const pointer = redisKeys.tokenPointer(tokenHash);
    const args = [String(now), tokenHash, doSlide ? "1" : "0"];
    if (!isCluster) {
      const reply = await scripts.ssFindByToken(pointer, ...args);
      return reply ? sessionFromReply(reply) : undefined;
    }
    // On Cluster the pointer and the session are in different slots: two round trips.
    const key = await redis.get(pointer);
    const session = key ? sessionFromReply(await scripts.ssSlideSession(key, ...args)) : undefined;
    if (session && doSlide) void redis.pexpireat(pointer, session.expiresAt).catch(() => undefined);
    return session;
  }

  /**
   * Claims a token for a session key: the pointer is the uniqueness check.
   * A pointer held by a session that can no longer authenticate (ended,
   * removed) may be taken over; one whose session does not exist yet may
   * belong to a create in flight, so it counts as held.
   */
  async function claimToken(tokenHash: string, key: string, expiresAt: number, now: number) {
    const pointer = redisKeys.tokenPointer(tokenHash);
    for (let attempt = 0; attempt < 3; attempt++) {
      if (await redis.set(pointer, key, "PXAT", String(expiresAt), "NX")) return;
      const holderKey = await redis.get(pointer);
      if (holderKey === null) continue;
      if (holderKey === key) return;
      const holder = sessionFromReply(await redis.hgetall(holderKey));
      if (!holder || (holder.status === "active" && holder.expiresAt > now && holder.tokenHash === tokenHash)) {
        throw new TokenInUseError();
      }
      await scripts.ssDeleteIfEquals(pointer, holderKey);
    }
    throw new TokenInUseError();
  }

  async function clearUser(tenantId: string, userId: string): Promise<number> {
    const reply = (await scripts.ssClearUser(
      redisKeys.userIndex(tenantId, userId),
      redisKeys.userRecency(tenantId, userId),
      redisKeys.sessionPrefix(tenantId, userId),
    )) as string[];
    const gone: IndexedSession[] = [];
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
      const tenantIndex = redisKeys.tenantIndex(tenantId);
      // The index entry goes first: a clear-all that runs meanwhile then
      // finds this user, and an entry without a session is skipped.
      await Promise.all([
        claimToken(session.tokenHash, key, session.expiresAt, now),
        redis.zadd(tenantIndex, session.createdAt, id),
        redis.pexpire(tenantIndex, options.maxLifetimeMs),
      ]).catch(async (e: unknown) => {
        await redis.zrem(tenantIndex, id);
        throw e;
      });
      let evicted: unknown[];
      try {
        evicted = (await scripts.ssCreate(
          key,
          redisKeys.userIndex(tenantId, userId),
          redisKeys.userRecency(tenantId, userId),
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
        await forget(tenantId, [{ id, tokenHash: session.tokenHash, key }]);
        const match = /LIMIT (\d+)/.exec((e as Error).message);
        if (match) throw new LimitReachedError(Number(match[1]));
        throw e;
      }
      await forget(
        tenantId,
        evicted
          .map(sessionFromReply)
          .filter((s): s is Session => s !== undefined)
          .map((s) => ({ id: s.id, tokenHash: s.tokenHash, key: redisKeys.session(tenantId, s.userId, s.id) })),
      );
    },

    findByToken: slide,

    async get(tenantId, sessionId, now) {
      const loc = keyOf(tenantId, sessionId);
      if (!loc) return undefined;
      const session = sessionFromReply(await redis.hgetall(loc.key));
      return session && session.expiresAt > now ? session : undefined;
    },

    async listUser(tenantId, userId, now) {
      const reply = (await scripts.ssListUser(
        redisKeys.userIndex(tenantId, userId),
        String(now),
        cutoff(now),
        redisKeys.sessionPrefix(tenantId, userId),
      )) as unknown[];
      return reply.map(sessionFromReply).filter((s): s is Session => s !== undefined);
    },

    async listTenant(tenantId, now, page) {
      const index = redisKeys.tenantIndex(tenantId);
      await redis.zremrangebyscore(index, "-inf", `(${cutoff(now)}`);
      const sessions: Session[] = [];
      const walkAll = page.countTotal === true;
      let skip = page.offset ?? 0;
      let total = 0;
      // The walk moves by position (creation time, then id), never by rank,
      // so entries removed meanwhile cannot shift it. Entries that may land
      // on the page are read in full, the others (counted only) by status
      // and expiry. Merely inactive sessions stay indexed (clearTenant finds
      // their users through it) but are neither listed nor counted.
      let position = page.after;
      const batchSize = 500;
      for (;;) {
        const entries = await entriesAfter(index, position, batchSize);
        if (entries.length === 0) break;
        const wantFull = sessions.length < page.limit;
        const found = await Promise.all(entries.map(async (e) => {
          const loc = keyOf(tenantId, e.id);
          if (!loc) return { entry: e, gone: true, active: false, session: undefined };
          if (wantFull) {
            const session = sessionFromReply(await redis.hgetall(loc.key));
            const gone = !session || session.expiresAt <= now;
            return { entry: e, gone, active: !gone && session.status === "active", session };
          }
          const [status, expiresAt] = await redis.hmget(loc.key, "st", "ea");
          const gone = expiresAt === null || Number(expiresAt) <= now;
          return { entry: e, gone, active: !gone && status === "active", session: undefined };
        }));
        const dead = found.filter((f) => f.gone).map((f) => f.entry.id);
        if (dead.length > 0) await redis.zrem(index, ...dead);
        for (const f of found) {
          if (!f.active) continue;
          total++;
          if (skip > 0) {
            skip--;
            continue;
          }
          if (sessions.length < page.limit && f.session) sessions.push(f.session);
        }
        const last = entries.at(-1)!;
        position = { createdAt: last.score, id: last.id };
        if (entries.length < batchSize || (!walkAll && sessions.length >= page.limit)) break;
      }
      return { sessions, total: walkAll ? total : undefined };
    },

    async current(tenantId, userId, now) {
      const reply = await scripts.ssCurrent(redisKeys.userRecency(tenantId, userId), String(now), redisKeys.sessionPrefix(tenantId, userId));
      return reply ? sessionFromReply(reply) : undefined;
    },

    async mutate(tenantId, sessionId, change, now): Promise<MutationResult> {
      const loc = keyOf(tenantId, sessionId);
      if (!loc) return { kind: "not-found" };
      let previousTokenHash: string | null = null;
      if (change.token) {
        const [expiresAt, tokenHash] = await redis.hmget(loc.key, "ea", "th");
        if (expiresAt === null) return { kind: "not-found" };
        previousTokenHash = tokenHash ?? null;
        await claimToken(change.token.hash, loc.key, Number(expiresAt), now);
      }
      const fields: string[] = ["ua", String(now)];
      if (change.token) fields.push("th", change.token.hash, "tk", change.token.sealed);
      if (change.sliding !== undefined) fields.push("sl", change.sliding ? "1" : "0");
      if (change.status !== undefined) fields.push("st", change.status);
      const reply = (await scripts.ssMutate(
        loc.key,
        redisKeys.userRecency(tenantId, loc.userId),
        String(now),
        change.expiresAt === undefined ? "" : String(change.expiresAt),
        change.makeCurrent ? "1" : "0",
        sessionId,
        change.slide ? "1" : "0",
        ...fields,
      )) as string[];
      const [kind, ...rest] = reply;
      const session = kind === "gone" ? undefined : sessionFromReply(rest);
      if (!session || kind === "inactive") {
        // The new token was claimed for nothing: give it back.
        if (change.token) await scripts.ssDeleteIfEquals(redisKeys.tokenPointer(change.token.hash), loc.key);
        return session ? { kind: "inactive", session } : { kind: "not-found" };
      }
      // The pointer lives as long as its session; a replaced token's pointer goes.
      await Promise.all([
        redis.pexpireat(redisKeys.tokenPointer(session.tokenHash), session.expiresAt),
        previousTokenHash !== null && previousTokenHash !== session.tokenHash
          ? scripts.ssDeleteIfEquals(redisKeys.tokenPointer(previousTokenHash), loc.key)
          : undefined,
      ]);
      return { kind: "ok", session };
    },

    async delete(tenantId, sessionId, now) {
      const loc = keyOf(tenantId, sessionId);
      if (!loc) return false;
      const tokenHash = (await scripts.ssDelete(
        loc.key,
        redisKeys.userIndex(tenantId, loc.userId),
        redisKeys.userRecency(tenantId, loc.userId),
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
      const ids = await redis.zrange(index, "0", "-1");
      const users = new Set<string>();
      for (const id of ids) {
        const userId = userIdOfSessionId(id);
        if (userId !== undefined) users.add(userId);
      }
      let count = 0;
      for (const userId of users) count += await clearUser(tenantId, userId);
      // Only the entries read: sessions created meanwhile keep theirs.
      if (ids.length > 0) await redis.zrem(index, ...ids);
      return count;
    },

    async ping() {
      await redis.ping();
    },

    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };

  // Index entries strictly after a position, in order, at most `count`.
  async function entriesAfter(index: string, after: { createdAt: number; id: string } | undefined, count: number) {
    const parse = (reply: string[]) => {
      const out: { id: string; score: number }[] = [];
      for (let i = 0; i + 1 < reply.length; i += 2) out.push({ id: reply[i]!, score: Number(reply[i + 1]) });
      return out;
    };
    if (!after) return parse(await redis.zrangebyscore(index, "-inf", "+inf", "WITHSCORES", "LIMIT", 0, count));
    // Ties on the creation time come first (ordered by id), then later times.
    const ties = parse(await redis.zrangebyscore(index, after.createdAt, after.createdAt, "WITHSCORES")).filter((e) => e.id > after.id);
    if (ties.length >= count) return ties.slice(0, count);
    const later = parse(await redis.zrangebyscore(index, `(${after.createdAt}`, "+inf", "WITHSCORES", "LIMIT", 0, count - ties.length));
    return [...ties, ...later];
  }
}
