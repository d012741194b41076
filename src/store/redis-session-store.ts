import { Cluster } from "ioredis";
import { isLive, type Session } from "../core/session.js";
import { splitSessionId } from "../core/session-id.js";
import type { RedisClient } from "./redis-client.js";
import { redisKeys, tenantBuckets } from "./redis-keys.js";
import { defineRedisScripts } from "./redis-scripts.js";
import { sessionFromReply, sessionToFields, tokenFields, type SessionPlace } from "./redis-session-codec.js";
import { LimitReachedError, TokenInUseError, type MutationResult, type SessionStore, type TokenLookup } from "./session-store.js";
import { createTenantIndexMerge } from "./tenant-index-merge.js";

// Longer than any create takes between writing its index entry and its session.
const creationGraceMs = 60_000;
// Tenant index entries read per bucket at a time by a full walk (total counts, clear-all).
const walkBatch = 500;

interface Located extends SessionPlace {
  readonly sessionId: string;
  readonly key: string;
}

/** A deleted session, as its secondary indexes know it. */
interface Gone {
  readonly userId: string;
  readonly sessionId: string;
  readonly key: string;
  readonly tokenHash: string;
  /** Whether its token has a pointer (a caller's token). */
  readonly pointer: boolean;
}

/**
 * createRedisSessionStore implements SessionStore over ioredis (one server,
 * Sentinel or Cluster). Per-user updates are single Lua scripts: atomic, on
 * one hash slot. A caller token's pointer and the tenant index buckets live
 * in other slots, so they are written before the script (rolled back when
 * it refuses): a session is never stored without them. An index entry whose
 * session does not exist is removed only once it is older than
 * `creationGraceMs`, since a younger one may belong to a create in flight.
 */
export function createRedisSessionStore(redis: RedisClient): SessionStore {
  const scripts = defineRedisScripts(redis);
  const isCluster = redis instanceof Cluster;

  function locate(tenantId: string, sessionId: string): Located | undefined {
    const parts = splitSessionId(sessionId);
    if (!parts) return undefined;
    return { tenantId, ...parts, sessionId, key: redisKeys.session(tenantId, parts.userId, parts.suffix) };
  }

  function goneFrom(tenantId: string, userId: string, flat: readonly string[]): Gone[] {
    const gone: Gone[] = [];
    for (let i = 0; i + 2 < flat.length; i += 3) {
      const suffix = flat[i]!;
      gone.push({
        userId,
        sessionId: `${userId}.${suffix}`,
        key: redisKeys.session(tenantId, userId, suffix),
        tokenHash: flat[i + 1]!,
        pointer: flat[i + 2] === "1",
      });
    }
    return gone;
  }

  async function forget(tenantId: string, gone: readonly Gone[]) {
    if (gone.length === 0) return;
    const byBucket = new Map<string, string[]>();
    for (const g of gone) {
      const bucket = redisKeys.tenantBucketOf(tenantId, g.userId);
      byBucket.set(bucket, [...(byBucket.get(bucket) ?? []), g.sessionId]);
    }
    await Promise.all([
      ...[...byBucket].map(([bucket, ids]) => redis.zrem(bucket, ...ids)),
      ...gone.filter((g) => g.pointer).map((g) => scripts.ssDeleteIfEquals(redisKeys.tokenPointer(g.tokenHash), g.key)),
    ]);
  }

  async function findByToken(token: TokenLookup, now: number, doSlide: boolean): Promise<Session | undefined> {
    const args = [String(now), token.hash, doSlide ? "1" : "0"];
    const foreign = (tenantId: string) => token.tenantId !== undefined && tenantId !== token.tenantId;
    if (token.at) {
      // A minted token names its session: one script on its key, on every topology.
      if (foreign(token.at.tenantId)) return undefined;
      const at = locate(token.at.tenantId, token.at.sessionId);
      return at ? sessionFromReply(at, await scripts.ssSlideSession(at.key, ...args)) : undefined;
    }
    const pointer = redisKeys.tokenPointer(token.hash);
    if (!isCluster) {
      // The script checks the pointed key's tenant before it slides anything.
      const expected = token.tenantId === undefined ? "" : redisKeys.tenantUserPrefix(token.tenantId);
      const reply = (await scripts.ssFindByToken(pointer, ...args, expected)) as [string, string[]] | null;
      const place = reply ? redisKeys.parseSession(reply[0]) : undefined;
      return place ? sessionFromReply(place, reply![1]) : undefined;
    }
    // On Cluster the pointer and the session are in different slots: two round trips.
    const key = await redis.get(pointer);
    const place = key ? redisKeys.parseSession(key) : undefined;
    if (!place || foreign(place.tenantId)) return undefined;
    const session = sessionFromReply(place, await scripts.ssSlideSession(key!, ...args));
    if (session && doSlide) await redis.pexpireat(pointer, session.expiresAt);
    return session;
  }

  /**
   * Claims a caller's token for a session key: the pointer is the uniqueness
   * check. A pointer held by a session of the same tenant that can no longer
   * authenticate (ended, removed) may be taken over; one whose session does
   * not exist yet may belong to a create in flight, so it counts as held. A
   * session of another tenant holds its token, live or not, for as long as
   * its record exists: otherwise a tenant could revive another's dead token
   * as its own session.
   */
  async function claimToken(tokenHash: string, key: string, expiresAt: number, now: number): Promise<boolean> {
    const pointer = redisKeys.tokenPointer(tokenHash);
    for (let attempt = 0; attempt < 3; attempt++) {
      if (await redis.set(pointer, key, "PXAT", String(expiresAt), "NX")) return true;
      const holderKey = await redis.get(pointer);
      if (holderKey === null) continue;
      // Already this session's: nothing was claimed, so nothing to give back.
      if (holderKey === key) return false;
      const place = redisKeys.parseSession(holderKey);
      const claimant = redisKeys.parseSession(key);
      if (place && claimant && place.tenantId !== claimant.tenantId) throw new TokenInUseError();
      const holder = place ? sessionFromReply(place, await redis.hgetall(holderKey)) : undefined;
      // A live holder keeps the claim even if its hash does not show the token
      // yet: that is a token change still in flight. (A pointer naming no
      // session key at all is not from this layout: taken over.)
      if (place && (!holder || isLive(holder, now))) {
        throw new TokenInUseError();
      }
      await scripts.ssDeleteIfEquals(pointer, holderKey);
    }
    throw new TokenInUseError();
  }

  async function clearUser(tenantId: string, userId: string): Promise<number> {
    const reply = (await scripts.ssClearUser(
      redisKeys.userIndex(tenantId, userId),
      redisKeys.sessionPrefix(tenantId, userId),
    )) as string[];
    const gone = goneFrom(tenantId, userId, reply);
    await forget(tenantId, gone);
    return gone.length;
  }

  return {
    async create(session, { limit, evictOldest, now }) {
      const { tenantId, userId, id } = session;
      const at = locate(tenantId, id);
      if (!at) throw new Error(`malformed session id for a new session`);
      const bucket = redisKeys.tenantBucketOf(tenantId, userId);
      const pointer = session.tokenKind === "caller";
      const self: Gone = { userId, sessionId: id, key: at.key, tokenHash: session.tokenHash, pointer };
      // The index entry goes first: a clear-all that runs meanwhile then
      // finds this user, and an entry without a session is skipped.
      await Promise.all([
        pointer ? claimToken(session.tokenHash, at.key, session.expiresAt, now) : undefined,
        redis.zadd(bucket, session.createdAt, id),
        // The index lives as long as its longest-lived session: only ever later.
        redis.call("PEXPIREAT", bucket, String(session.absoluteExpiresAt), "NX"),
        redis.call("PEXPIREAT", bucket, String(session.absoluteExpiresAt), "GT"),
      ]).catch(async (e: unknown) => {
        await forget(tenantId, [self]).catch(() => undefined);
        throw e;
      });
      let evicted: string[];
      try {
        evicted = (await scripts.ssCreate(
          at.key,
          redisKeys.userIndex(tenantId, userId),
          String(now),
          String(limit),
          evictOldest ? "1" : "0",
          redisKeys.sessionPrefix(tenantId, userId),
          at.suffix,
          String(session.createdAt),
          String(session.expiresAt),
          String(session.absoluteExpiresAt),
          ...sessionToFields(session),
        )) as string[];
      } catch (e) {
        await forget(tenantId, [self]);
        const match = /LIMIT (\d+)/.exec((e as Error).message);
        if (match) throw new LimitReachedError(Number(match[1]));
        throw e;
      }
      await forget(tenantId, goneFrom(tenantId, userId, evicted));
    },

    findByToken,

    async get(tenantId, sessionId, now) {
      const at = locate(tenantId, sessionId);
      if (!at) return undefined;
      const session = sessionFromReply(at, await redis.hgetall(at.key));
      return session && session.expiresAt > now ? session : undefined;
    },

    async listUser(tenantId, userId, now) {
      const reply = (await scripts.ssListUser(
        redisKeys.userIndex(tenantId, userId),
        String(now),
        redisKeys.sessionPrefix(tenantId, userId),
      )) as [string, string[]][];
      return reply
        .map(([suffix, fields]) => sessionFromReply({ tenantId, userId, suffix }, fields))
        .filter((s): s is Session => s !== undefined);
    },

    async listTenant(tenantId, now, page) {
      const sessions: Session[] = [];
      const walkAll = page.countTotal === true;
      // A cursor page reads at most `limit` entries per bucket at a time.
      const round = walkAll ? walkBatch : Math.max(1, page.limit);
      const index = createTenantIndexMerge(redis, bucketKeys(tenantId), page.after, round);
      let skip = page.offset ?? 0;
      let total = 0;
      // Merely inactive sessions stay indexed (clearTenant finds their users
      // through it) but are neither listed nor counted.
      for (;;) {
        const entries = await index.take(round);
        if (entries.length === 0) break;
        // Status and expiry for every entry; the whole session only for those on the page.
        const states = await Promise.all(entries.map(async (e) => {
          const at = locate(tenantId, e.id);
          const [status, expiresAt] = at ? await redis.hmget(at.key, "st", "ea") : [null, null];
          const missing = expiresAt === null;
          const expired = !missing && Number(expiresAt) <= now;
          return {
            entry: e,
            at,
            dead: !at || expired || (missing && e.score < now - creationGraceMs),
            active: !missing && !expired && status === "active",
          };
        }));
        const dead = new Map<string, string[]>();
        for (const f of states) if (f.dead) dead.set(f.entry.bucket, [...(dead.get(f.entry.bucket) ?? []), f.entry.id]);
        await Promise.all([...dead].map(([bucket, ids]) => redis.zrem(bucket, ...ids)));
        // A cursor walk stops at the entry that fills the page; the rest goes
        // back, so the walk (or the next page) resumes right after what was placed.
        const onPage: Located[] = [];
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
            onPage.push(f.at!);
            if (!walkAll && sessions.length + onPage.length === page.limit) {
              consumed = i + 1;
              break;
            }
          }
        }
        index.putBack(entries.slice(consumed));
        const read = await Promise.all(onPage.map(async (at) => sessionFromReply(at, await redis.hgetall(at.key))));
        // A session may have ended between the two reads: it is left out and
        // the walk goes on to fill its place.
        for (const session of read) if (session && isLive(session, now)) sessions.push(session);
        if (!walkAll && sessions.length >= page.limit) break;
      }
      return { sessions, total: walkAll ? total : undefined };
    },

    async current(tenantId, userId, now) {
      const reply = (await scripts.ssCurrent(
        redisKeys.userIndex(tenantId, userId),
        String(now),
        redisKeys.sessionPrefix(tenantId, userId),
      )) as [string, string[]] | null;
      return reply ? sessionFromReply({ tenantId, userId, suffix: reply[0] }, reply[1]) : undefined;
    },

    async mutate(tenantId, sessionId, change, now): Promise<MutationResult> {
      const at = locate(tenantId, sessionId);
      if (!at) return { kind: "not-found" };
      let previous: { hash: string; pointer: boolean } | undefined;
      let claimed = false;
      if (change.token) {
        const [expiresAt, tokenHash, pointer] = await redis.hmget(at.key, "ea", "th", "tp");
        if (expiresAt === null) return { kind: "not-found" };
        previous = { hash: tokenHash ?? "", pointer: pointer === "1" };
        claimed = await claimToken(change.token.hash, at.key, Number(expiresAt), now);
      }
      // A changed token is always a caller's: a minted one is never stored by a change.
      const fields: string[] = ["ua", String(now)];
      if (change.token) fields.push(...tokenFields(change.token.hash, change.token.sealed, "caller"));
      if (change.sliding !== undefined) fields.push("sl", change.sliding ? "1" : "0");
      if (change.status !== undefined) fields.push("st", change.status);
      const reply = (await scripts.ssMutate(
        at.key,
        String(now),
        change.expiresAt === undefined ? "" : String(change.expiresAt),
        change.makeCurrent ? "1" : "0",
        change.slide ? "1" : "0",
        change.token ? "tk" : "",
        ...fields,
      )) as string[];
      const [kind, ...rest] = reply;
      const session = kind === "gone" ? undefined : sessionFromReply(at, rest);
      if (!session || kind === "inactive") {
        // The new token was claimed for nothing: give it back.
        if (change.token && claimed) await scripts.ssDeleteIfEquals(redisKeys.tokenPointer(change.token.hash), at.key);
        return session ? { kind: "inactive", session } : { kind: "not-found" };
      }
      const expiryMoved = change.expiresAt !== undefined || change.slide === true || change.token !== undefined;
      await Promise.all([
        expiryMoved && session.tokenKind === "caller"
          ? redis.pexpireat(redisKeys.tokenPointer(session.tokenHash), session.expiresAt)
          : undefined,
        previous?.pointer && previous.hash !== session.tokenHash
          ? scripts.ssDeleteIfEquals(redisKeys.tokenPointer(previous.hash), at.key)
          : undefined,
      ]);
      return { kind: "ok", session };
    },

    async delete(tenantId, sessionId, now, activeOnly = false) {
      const at = locate(tenantId, sessionId);
      if (!at) return false;
      const reply = (await scripts.ssDelete(
        at.key,
        redisKeys.userIndex(tenantId, at.userId),
        String(now),
        at.suffix,
        activeOnly ? "1" : "0",
      )) as [string, string] | null;
      if (!reply) return false;
      await forget(tenantId, [{ userId: at.userId, sessionId, key: at.key, tokenHash: reply[0], pointer: reply[1] === "1" }]);
      return true;
    },

    clearUser,

    async clearTenant(tenantId) {
      const ids = (await Promise.all(bucketKeys(tenantId).map((bucket) => redis.zrange(bucket, "0", "-1")))).flat();
      const users = new Set<string>();
      for (const id of ids) {
        const parts = splitSessionId(id);
        if (parts) users.add(parts.userId);
      }
      // Each clearUser drops the index entries of what it deleted; an entry of a
      // session created meanwhile stays, with its session.
      // A few users at a time: parallel enough for large tenants, bounded in memory.
      let count = 0;
      const queue = [...users];
      await Promise.all(Array.from({ length: Math.min(16, queue.length) }, async () => {
        for (let userId = queue.pop(); userId !== undefined; userId = queue.pop()) {
          // Awaited first: `count += await ...` would add to a stale count.
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
}

function bucketKeys(tenantId: string): string[] {
  return Array.from({ length: tenantBuckets }, (_, b) => redisKeys.tenantBucket(tenantId, b));
}
