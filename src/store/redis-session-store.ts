import { Cluster } from "ioredis";
import { isLive, type Session } from "../core/session.js";
import { userIdOfSessionId } from "../core/session-id.js";
import type { RedisClient } from "./redis-client.js";
import { redisKeys } from "./redis-keys.js";
import { defineRedisScripts } from "./redis-scripts.js";
import { sessionFromReply, sessionToFields } from "./redis-session-codec.js";
import { LimitReachedError, TokenInUseError, type MutationResult, type SessionStore } from "./session-store.js";

// Longer than any create takes between writing its index entry and its session.
const creationGraceMs = 60_000;

interface IndexedSession {
  readonly id: string;
  readonly tokenHash: string;
  readonly key: string;
}

/**
 * createRedisSessionStore implements SessionStore over ioredis (one server,
 * Sentinel or Cluster). Per-user updates are single Lua scripts: atomic, on
 * one hash slot. The token pointer and the tenant index live in other slots,
 * so they are written before the script (rolled back when it refuses): a
 * session is never stored without them. An index entry whose session does
 * not exist is removed only once it is older than `creationGraceMs`, since a
 * younger one may belong to a create still in flight.
 */
export function createRedisSessionStore(redis: RedisClient): SessionStore {
  const scripts = defineRedisScripts(redis);
  const isCluster = redis instanceof Cluster;

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
    if (session && doSlide) await redis.pexpireat(pointer, session.expiresAt);
    return session;
  }

  /**
   * Claims a token for a session key: the pointer is the uniqueness check.
   * A pointer held by a session that can no longer authenticate (ended,
   * removed) may be taken over; one whose session does not exist yet may
   * belong to a create in flight, so it counts as held.
   */
  async function claimToken(tokenHash: string, key: string, expiresAt: number, now: number): Promise<boolean> {
    const pointer = redisKeys.tokenPointer(tokenHash);
    for (let attempt = 0; attempt < 3; attempt++) {
      if (await redis.set(pointer, key, "PXAT", String(expiresAt), "NX")) return true;
      const holderKey = await redis.get(pointer);
      if (holderKey === null) continue;
      // Already this session's: nothing was claimed, so nothing to give back.
      if (holderKey === key) return false;
      const holder = sessionFromReply(await redis.hgetall(holderKey));
      // A live holder keeps the claim even if its hash does not show the token
      // yet: that is a token change still in flight.
      if (!holder || isLive(holder, now)) {
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
        // The index lives as long as its longest-lived session: only ever later.
        redis.call("PEXPIREAT", tenantIndex, String(session.absoluteExpiresAt), "NX"),
        redis.call("PEXPIREAT", tenantIndex, String(session.absoluteExpiresAt), "GT"),
      ]).catch(async (e: unknown) => {
        await forget(tenantId, [{ id, tokenHash: session.tokenHash, key }]).catch(() => undefined);
        throw e;
      });
      let evicted: unknown[];
      try {
        evicted = (await scripts.ssCreate(
          key,
          redisKeys.userIndex(tenantId, userId),
          redisKeys.userRecency(tenantId, userId),
          String(now),
          String(limit),
          evictOldest ? "1" : "0",
          redisKeys.sessionPrefix(tenantId, userId),
          id,
          String(session.createdAt),
          String(session.expiresAt),
          String(session.absoluteExpiresAt),
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
        redisKeys.sessionPrefix(tenantId, userId),
      )) as unknown[];
      return reply.map(sessionFromReply).filter((s): s is Session => s !== undefined);
    },

    async listTenant(tenantId, now, page) {
      const index = redisKeys.tenantIndex(tenantId);
      const sessions: Session[] = [];
      const walkAll = page.countTotal === true;
      let skip = page.offset ?? 0;
      let total = 0;
      // The walk moves by position (creation time, then id), never by rank,
      // so entries removed meanwhile cannot shift it. Merely inactive sessions
      // stay indexed (clearTenant finds their users through it) but are
      // neither listed nor counted.
      let position = page.after;
      const batchSize = 500;
      for (;;) {
        const entries = await entriesAfter(index, position, batchSize);
        if (entries.length === 0) break;
        // Status and expiry for every entry; the whole session only for those on the page.
        const states = await Promise.all(entries.map(async (e) => {
          const loc = keyOf(tenantId, e.id);
          const [status, expiresAt] = loc ? await redis.hmget(loc.key, "st", "ea") : [null, null];
          const missing = expiresAt === null;
          const expired = !missing && Number(expiresAt) <= now;
          return {
            entry: e,
            key: loc?.key,
            dead: !loc || expired || (missing && e.score < now - creationGraceMs),
            active: !missing && !expired && status === "active",
          };
        }));
        const dead = states.filter((f) => f.dead).map((f) => f.entry.id);
        if (dead.length > 0) await redis.zrem(index, ...dead);
        // A cursor walk stops at the entry that fills the page, so the next
        // batch (or the next page) starts right after what was placed.
        const onPage: string[] = [];
        let consumed = states.length;
        for (let i = 0; i < states.length; i++) {
          const f = states[i]!;
          if (!f.active) continue;
          total++;
          if (skip > 0) {
            skip--;
            continue;
          }
          if (sessions.length + onPage.length < page.limit) {
            onPage.push(f.key!);
            if (!walkAll && sessions.length + onPage.length === page.limit) {
              consumed = i + 1;
              break;
            }
          }
        }
        const read = await Promise.all(onPage.map(async (key) => sessionFromReply(await redis.hgetall(key))));
        // A session may have ended between the two reads: it is left out and
        // the walk goes on to fill its place.
        for (const session of read) if (session && isLive(session, now)) sessions.push(session);
        const last = entries[consumed - 1]!;
        position = { createdAt: last.score, id: last.id };
        if (!walkAll && sessions.length >= page.limit) break;
        if (consumed === entries.length && entries.length < batchSize) break;
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
      let claimed = false;
      if (change.token) {
        const [expiresAt, tokenHash] = await redis.hmget(loc.key, "ea", "th");
        if (expiresAt === null) return { kind: "not-found" };
        previousTokenHash = tokenHash ?? null;
        claimed = await claimToken(change.token.hash, loc.key, Number(expiresAt), now);
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
        if (change.token && claimed) await scripts.ssDeleteIfEquals(redisKeys.tokenPointer(change.token.hash), loc.key);
        return session ? { kind: "inactive", session } : { kind: "not-found" };
      }
      // The pointer lives as long as its session; a replaced token's pointer goes.
      const expiryMoved = change.expiresAt !== undefined || change.slide === true || change.token !== undefined;
      await Promise.all([
        expiryMoved ? redis.pexpireat(redisKeys.tokenPointer(session.tokenHash), session.expiresAt) : undefined,
        previousTokenHash !== null && previousTokenHash !== session.tokenHash
          ? scripts.ssDeleteIfEquals(redisKeys.tokenPointer(previousTokenHash), loc.key)
          : undefined,
      ]);
      return { kind: "ok", session };
    },

    async delete(tenantId, sessionId, now, activeOnly = false) {
      const loc = keyOf(tenantId, sessionId);
      if (!loc) return false;
      const tokenHash = (await scripts.ssDelete(
        loc.key,
        redisKeys.userIndex(tenantId, loc.userId),
        redisKeys.userRecency(tenantId, loc.userId),
        String(now),
        sessionId,
        activeOnly ? "1" : "0",
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
      // Each clearUser drops the index entries of what it deleted; an entry of a
      // session created meanwhile stays, with its session.
      // A few users at a time: parallel enough for large tenants, bounded in memory.
      let count = 0;
      const queue = [...users];
      await Promise.all(Array.from({ length: Math.min(16, queue.length) }, async () => {
        for (let userId = queue.pop(); userId !== undefined; userId = queue.pop()) {
          const cleared = await clearUser(tenantId, userId);
          count += cleared;
        }
      }));
      return count;
    },

    async close() {
      // QUIT waits for Redis; a hung Redis must not hold shutdown.
      const timeout = new Promise<void>((resolve) => setTimeout(resolve, 2_000).unref());
      await Promise.race([redis.quit().catch(() => undefined), timeout]);
      redis.disconnect();
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
