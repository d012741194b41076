import { Cluster } from "ioredis";
import { isLive, type Session } from "../core/session.js";
import { splitSessionId } from "../core/session-id.js";
import { redisCommandTimeoutMs, type RedisClient } from "./redis-client.js";
import { redisKeys, tenantBuckets } from "./redis-keys.js";
import { defineRedisScripts } from "./redis-scripts.js";
import { withReplicaWait, type ReplicaWaitOptions } from "./replica-wait.js";
import { createEventWrites, type EventCause, type PlannedEvent } from "./event-writes.js";
import { sessionFromReply, sessionFromSlideReply, sessionToFields, tokenFields, type SessionPlace } from "./redis-session-codec.js";
import { createRepairQueue } from "./repair-queue.js";
import { LimitReachedError, TokenInUseError, type MutationResult, type SessionStore, type TokenLookup } from "./session-store.js";
import { createTenantIndex } from "./tenant-index.js";
import { createTenantIndexMerge } from "./tenant-index-merge.js";
import { positionAtRank } from "./tenant-index-rank.js";
import { parseTokenPointer } from "./token-pointer-value.js";
import { StoreDeadlineError } from "./with-deadline.js";
import { asUnavailable, clockSkewMs, creationGraceMs, isDefiniteRefusal, startWrite, type WriteClock } from "./write-deadline.js";

// Entries with a passed expiry checked per bucket by one list call; the
// sweeper handles the rest, so only a mass expiry since the last sweep can
// leave some for the next call (until then the total may count them).
const settlePerList = 64;

interface Located extends SessionPlace {
  readonly sessionId: string;
  readonly key: string;
}

/** A deleted session, as its secondary indexes know it. */
interface Gone {
  readonly userId: string;
  readonly sessionId: string;
  readonly key: string;
  /** Its token hash; empty when unknown (then its pointer, if any, is left to expire). */
  readonly tokenHash: string;
  /** Whether its token has a pointer (a caller's token). */
  readonly pointer: boolean;
}

/**
 * createRedisSessionStore implements SessionStore over ioredis (one server,
 * Sentinel or Cluster). Per-user updates are single Lua scripts: atomic, on
 * one hash slot. A caller token's pointer and the tenant index buckets live
 * in other slots, so they are written before the script: a session is never
 * stored without them.
 *
 * All or nothing: every write of a call carries the call's deadline and
 * refuses after it (write-deadline.ts). Secondary entries are rolled back
 * only on a definite refusal; when the outcome is unknown (a timeout), a
 * repair runs once the deadline has passed and makes the result match the
 * answer: a create answered as failed is undone, pointers and index entries
 * left behind are freed. An index entry whose session does not exist is
 * ignored, and removed (by lists and the index sweeper) once older than
 * `creationGraceMs`.
 */
export function createRedisSessionStore(redis: RedisClient, options: { eventsRetentionMs?: number; replicaWait?: ReplicaWaitOptions } = {}): SessionStore {
  // With REDIS_WAIT_REPLICAS, the writes a call's success rests on wait for replicas (replica-wait.ts).
  const scripts = withReplicaWait(defineRedisScripts(redis), redis, options.replicaWait);
  const isCluster = redis instanceof Cluster;
  const repairs = createRepairQueue();
  const index = createTenantIndex(redis, scripts, options.eventsRetentionMs);
  // Session events go with the change, in its script (src/events).
  const events = createEventWrites(redis, options.eventsRetentionMs);

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

  const releasePointer = (tokenHash: string, key: string) => scripts.ssDeleteIfEquals(redisKeys.tokenPointer(tokenHash), key);

  /** Removes deleted sessions from the tenant index and frees their pointers (idempotent). */
  async function forget(tenantId: string, gone: readonly Gone[]) {
    if (gone.length === 0) return;
    await Promise.all([
      index.remove(tenantId, gone),
      ...gone.filter((g) => g.pointer && g.tokenHash !== "").map((g) => releasePointer(g.tokenHash, g.key)),
    ]);
  }

  /** Runs follow-up writes now; what fails is retried by the repair queue. */
  function soon(work: () => Promise<unknown>): Promise<void> {
    return work().then(
      () => undefined,
      () => repairs.add(Date.now(), async () => void (await work())),
    );
  }

  /**
   * Follow-up writes after a stored change (freeing pointers, index
   * entries): awaited while the call is within its deadline, so other
   * connections see them once it answers, but never longer: a change
   * already stored must not turn into a failure answer. Past that they go
   * on in the background (the next command on the same connection still
   * runs after them), retried by the repair queue if they fail.
   */
  async function followUp(clock: WriteClock, work: () => Promise<unknown>) {
    const done = soon(work);
    const wait = clock.deadline - Date.now();
    if (wait <= 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([done, new Promise<void>((resolve) => (timer = setTimeout(resolve, wait)))]);
    clearTimeout(timer);
  }

  async function findByToken(token: TokenLookup, now: number, doSlide: boolean): Promise<Session | undefined> {
    const args = [String(now), token.hash, doSlide ? "1" : "0"];
    const foreign = (tenantId: string) => token.tenantId !== undefined && tenantId !== token.tenantId;
    if (token.at) {
      // A minted token names its session: one script on its key, on every topology.
      if (foreign(token.at.tenantId)) return undefined;
      const at = locate(token.at.tenantId, token.at.sessionId);
      return at ? sessionFromSlideReply(at, await scripts.ssSlideSession(at.key, ...args)) : undefined;
    }
    const pointer = redisKeys.tokenPointer(token.hash);
    if (!isCluster) {
      // The script checks the pointed key's tenant before it slides anything.
      const expected = token.tenantId === undefined ? "" : redisKeys.tenantUserPrefix(token.tenantId);
      const reply = (await scripts.ssFindByToken(pointer, ...args, expected)) as [string, string] | null;
      const place = reply ? redisKeys.parseSession(reply[0]) : undefined;
      return place ? sessionFromSlideReply(place, reply![1]) : undefined;
    }
    // On Cluster the pointer and the session are in different slots: two round trips.
    const value = await redis.get(pointer);
    const key = value === null ? undefined : parseTokenPointer(value).key;
    const place = key ? redisKeys.parseSession(key) : undefined;
    if (!place || foreign(place.tenantId)) return undefined;
    const session = sessionFromSlideReply(place, await scripts.ssSlideSession(key!, ...args));
    // The pointer's expiry follows the slide without a third round trip:
    // sent now, not awaited. A failure is retried by the repair queue; GT
    // (a slide only moves expiry later) keeps a late retry from undoing a
    // newer slide's expiry.
    if (session && doSlide) void soon(() => redis.pexpireat(pointer, session.expiresAt, "GT"));
    return session;
  }

  /**
   * Claims a caller's token for a session key: the pointer is the uniqueness
   * check. The holder keeps it while its session holds the token and is
   * live; a session of another tenant holds it, live or not, while its
   * record exists (otherwise a tenant could revive another's dead token as
   * its own session). A holder whose session does not exist or does not
   * show the token is a create or token change in flight until the
   * deadline written in the pointer, and stale after it: then, like an
   * ended or removed holder of the same tenant, it is taken over.
   */
  async function claimToken(tokenHash: string, key: string, expiresAt: number, now: number, clock: WriteClock): Promise<boolean> {
    const pointer = redisKeys.tokenPointer(tokenHash);
    const claimant = redisKeys.parseSession(key);
    let replace = "";
    for (let attempt = 0; attempt < 3; attempt++) {
      const reply = String(await scripts.ssClaimPointer(pointer, key, String(expiresAt), String(clock.deadline), replace));
      if (reply === "ok") return true;
      // Already this session's: nothing was claimed, so nothing to give back.
      if (reply === "mine") return false;
      replace = reply;
      const holder = parseTokenPointer(reply);
      const place = redisKeys.parseSession(holder.key);
      // A pointer naming no session key is not from this layout: taken over.
      if (!place) continue;
      const [th, status, expires] = await redis.hmget(holder.key, "th", "st", "ea");
      if (th !== tokenHash) {
        if (Date.now() <= holder.deadline + clockSkewMs) throw new TokenInUseError();
        continue;
      }
      if (place.tenantId !== claimant?.tenantId) throw new TokenInUseError();
      if (status === "active" && Number(expires) > now) throw new TokenInUseError();
    }
    throw new TokenInUseError();
  }

  /** After a create answered as failed: the session must not exist, nor anything naming it. */
  function undoCreateLater(clock: WriteClock, tenantId: string, at: Located, self: Gone) {
    repairs.add(clock.settledAt, async () => {
      const why = { cause: "create_undone" };
      const ev = events.script(tenantId, at.userId, at.key, why);
      const deleted = await scripts.ssUndoCreate(at.key, redisKeys.userIndex(tenantId, at.userId), ev.key, String(clock.deadline), at.suffix, redisKeys.sessionPrefix(tenantId, at.userId), ...ev.args);
      if (deleted === 1) await events.after(tenantId, at.userId, [{ type: "deleted", suffix: at.suffix }], why);
      await forget(tenantId, [self]);
    });
  }

  async function clearUser(tenantId: string, userId: string, why: EventCause = { cause: "clear_user" }): Promise<number> {
    const clock = startWrite();
    const userIndex = redisKeys.userIndex(tenantId, userId);
    const ev = events.script(tenantId, userId, userIndex, why);
    const reply = (await scripts
      .ssClearUser(userIndex, ev.key, redisKeys.sessionPrefix(tenantId, userId), String(clock.deadline), ...ev.args)
      .catch((e: unknown) => {
        // Unknown outcome: index entries left are swept, pointers expire with their sessions.
        throw asUnavailable(e);
      })) as string[];
    const gone = goneFrom(tenantId, userId, reply);
    const planned = gone.map((g) => ({ type: "cleared", suffix: g.sessionId.slice(userId.length + 1) }));
    await followUp(clock, () => Promise.all([forget(tenantId, gone), events.after(tenantId, userId, planned, why)]));
    return gone.length;
  }

  /**
   * After a change whose outcome is unknown: pointers and index entries made
   * to match what the session now holds.
   */
  function settleChangeLater(
    clock: WriteClock,
    at: Located,
    claimed: string | undefined,
    previous: { hash: string; pointer: boolean } | undefined,
  ) {
    repairs.add(clock.settledAt, async () => {
      const [th = null, tp, ea, status = null] = await redis.hmget(at.key, "th", "tp", "ea", "st");
      const work: Promise<unknown>[] = [];
      if (claimed !== undefined && th !== claimed) work.push(releasePointer(claimed, at.key));
      if (previous?.pointer && previous.hash !== th) work.push(releasePointer(previous.hash, at.key));
      if (th !== null && tp === "1" && ea != null) work.push(redis.pexpireat(redisKeys.tokenPointer(th), Number(ea)));
      const session = status === null ? undefined : sessionFromReply(at, await redis.hgetall(at.key));
      if (session && session.status !== "active") work.push(index.deactivate(session));
      await Promise.all(work);
    });
  }

  return {
    async create(session, { limit, evictOldest, now }) {
      const clock = startWrite();
      const { tenantId, userId, id } = session;
      const at = locate(tenantId, id);
      if (!at) throw new Error(`malformed session id for a new session`);
      const pointer = session.tokenKind === "caller";
      const self: Gone = { userId, sessionId: id, key: at.key, tokenHash: session.tokenHash, pointer };
      // The index entry goes first: a clear-all that runs meanwhile then
      // finds this user, and an entry without a session is skipped.
      const secondary = await Promise.allSettled([
        pointer ? claimToken(session.tokenHash, at.key, session.expiresAt, now, clock) : undefined,
        index.add(session, clock.deadline),
      ]);
      const failures = secondary.flatMap((r) => (r.status === "rejected" ? [r.reason as unknown] : []));
      if (failures.length > 0) {
        if (failures.every((e) => e instanceof TokenInUseError || isDefiniteRefusal(e))) await soon(() => forget(tenantId, [self]));
        else undoCreateLater(clock, tenantId, at, self);
        throw asUnavailable(failures.find((e) => e instanceof TokenInUseError) ?? failures[0]);
      }
      let evicted: string[];
      const why = { cause: "create" };
      const ev = events.script(tenantId, userId, at.key, why);
      try {
        evicted = (await scripts.ssCreate(
          at.key,
          redisKeys.userIndex(tenantId, userId),
          ev.key,
          String(now),
          String(limit),
          evictOldest ? "1" : "0",
          redisKeys.sessionPrefix(tenantId, userId),
          at.suffix,
          String(session.createdAt),
          String(session.expiresAt),
          String(clock.deadline),
          ...ev.args,
          ...sessionToFields(session),
        )) as string[];
      } catch (e) {
        if (!isDefiniteRefusal(e)) {
          undoCreateLater(clock, tenantId, at, self);
          throw e;
        }
        await soon(() => forget(tenantId, [self]));
        const match = /LIMIT (\d+)/.exec((e as Error).message);
        if (match) throw new LimitReachedError(Number(match[1]));
        throw asUnavailable(e);
      }
      const pushedOut = goneFrom(tenantId, userId, evicted);
      const planned: PlannedEvent[] = [
        ...pushedOut.map((g) => ({ type: "evicted", suffix: g.sessionId.slice(userId.length + 1) })),
        { type: "created", suffix: at.suffix },
      ];
      await followUp(clock, () => Promise.all([forget(tenantId, pushedOut), events.after(tenantId, userId, planned, why)]));
      if (!clock.inTime()) {
        // Stored, but the reply came too late: the caller is told it failed, so it is undone.
        undoCreateLater(clock, tenantId, at, self);
        throw new StoreDeadlineError(redisCommandTimeoutMs);
      }
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
      const buckets = bucketKeys(tenantId);
      const byRank = page.after === undefined && page.offset !== undefined;
      // A small tenant's buckets are checked whole first (at most
      // settlePerList entries each), so its ranks and total are exactly those
      // of live sessions; a larger one's count the sessions that expired since
      // the sweeper's last pass too. Either way the total is a count, not a
      // walk. A cursor page without a total needs neither: it skips what is
      // dead and fills its place.
      if (byRank || page.countTotal) await Promise.all(buckets.map((_, b) => index.settleSmall(tenantId, b, now, settlePerList)));
      const total = page.countTotal
        ? (await Promise.all(buckets.map((bucket) => redis.zcard(bucket)))).reduce((a, b) => a + b, 0)
        : undefined;
      const withTotal = ({ sessions, dropped }: { sessions: Session[]; dropped: number }) => ({
        sessions,
        total: total === undefined ? undefined : total - dropped,
      });
      if (byRank) {
        // An offset page starts at its rank, found without reading what comes
        // before; its rank range is fixed, so an entry found dead on it (a
        // create in flight) leaves its place empty rather than repeating one
        // of the next page.
        const offset = page.offset!;
        if (total !== undefined && offset >= total) return { sessions: [], total };
        const start = offset === 0 ? undefined : await positionAtRank(redis, buckets, offset - 1);
        if (offset > 0 && !start) return { sessions: [], total };
        return withTotal(await readPage(tenantId, now, createTenantIndexMerge(redis, buckets, start, page.limit), page.limit, false));
      }
      return withTotal(await readPage(tenantId, now, createTenantIndexMerge(redis, buckets, page.after, Math.max(1, page.limit)), page.limit, true));
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
      const clock = startWrite();
      let previous: { hash: string; pointer: boolean } | undefined;
      let claimed = false;
      if (change.token) {
        const [expiresAt, tokenHash, pointer] = await redis.hmget(at.key, "ea", "th", "tp");
        if (expiresAt === null) return { kind: "not-found" };
        previous = { hash: tokenHash ?? "", pointer: pointer === "1" };
        claimed = await claimToken(change.token.hash, at.key, Number(expiresAt), now, clock).catch((e: unknown) => {
          // Unknown outcome of the claim: freed once its deadline has passed, unless the session took it.
          if (!(e instanceof TokenInUseError) && !isDefiniteRefusal(e)) settleChangeLater(clock, at, change.token!.hash, undefined);
          throw asUnavailable(e);
        });
      }
      const giveBack = () => (change.token && claimed ? soon(() => releasePointer(change.token!.hash, at.key)) : Promise.resolve());
      // A changed token is always a caller's: a minted one is never stored by a change.
      const fields: string[] = ["ua", String(now)];
      if (change.token) fields.push(...tokenFields(change.token.hash, change.token.sealed, "caller"));
      if (change.sliding !== undefined) fields.push("sl", change.sliding ? "1" : "0");
      if (change.status !== undefined) fields.push("st", change.status);
      let reply: string[];
      const why = change.why ?? { cause: "update" };
      const ev = events.script(tenantId, at.userId, at.key, why);
      try {
        reply = (await scripts.ssMutate(
          at.key,
          redisKeys.userIndex(tenantId, at.userId),
          ev.key,
          String(now),
          change.expiresAt === undefined ? "" : String(change.expiresAt),
          change.makeCurrent ? "1" : "0",
          change.slide ? "1" : "0",
          change.token ? "tk" : "",
          String(clock.deadline),
          redisKeys.sessionPrefix(tenantId, at.userId),
          at.suffix,
          ...ev.args,
          ...fields,
        )) as string[];
      } catch (e) {
        if (isDefiniteRefusal(e)) await giveBack();
        else settleChangeLater(clock, at, claimed ? change.token!.hash : undefined, previous);
        throw asUnavailable(e);
      }
      const [kind, ...rest] = reply;
      if (kind !== "ok") {
        // The new token was claimed for nothing: give it back.
        await giveBack();
        const session = kind === "gone" ? undefined : sessionFromReply(at, rest);
        return session ? { kind: "inactive", session } : { kind: "not-found" };
      }
      // The token this change replaced, read in the script: concurrent
      // changes each free exactly the pointer they replaced.
      const [replacedHash, replacedPointer, ...stored] = rest as [string, string, ...string[]];
      const session = sessionFromReply(at, stored)!;
      const expiryMoved = change.expiresAt !== undefined || change.slide === true || change.token !== undefined;
      // The same events mutate.lua writes, for Cluster.
      const planned: PlannedEvent[] = [];
      if (replacedHash !== session.tokenHash) planned.push({ type: "token_rotated", suffix: at.suffix });
      if (change.expiresAt !== undefined) planned.push({ type: "expiry_changed", suffix: at.suffix });
      if (session.status !== "active") planned.push({ type: session.status, suffix: at.suffix });
      await followUp(clock, () =>
        Promise.all([
          events.after(tenantId, at.userId, planned, why),
          expiryMoved && session.tokenKind === "caller" ? redis.pexpireat(redisKeys.tokenPointer(session.tokenHash), session.expiresAt) : undefined,
          replacedPointer === "1" && replacedHash !== session.tokenHash ? releasePointer(replacedHash, at.key) : undefined,
          session.status !== "active" ? index.deactivate(session) : undefined,
        ]),
      );
      return { kind: "ok", session };
    },

    async delete(tenantId, sessionId, now, activeOnly = false, why: EventCause = { cause: "delete" }) {
      const at = locate(tenantId, sessionId);
      if (!at) return false;
      const clock = startWrite();
      // What a repair needs to free the pointer if the script's reply is
      // lost, read first (a round trip, but deletes are not the hot path).
      const [th, tp] = await redis.hmget(at.key, "th", "tp");
      if (th === null) return false;
      let reply: [string, string] | null;
      const ev = events.script(tenantId, at.userId, at.key, why);
      try {
        reply = (await scripts.ssDelete(
          at.key,
          redisKeys.userIndex(tenantId, at.userId),
          ev.key,
          String(now),
          at.suffix,
          activeOnly ? "1" : "0",
          String(clock.deadline),
          redisKeys.sessionPrefix(tenantId, at.userId),
          ...ev.args,
        )) as [string, string] | null;
      } catch (e) {
        if (!isDefiniteRefusal(e)) {
          repairs.add(clock.settledAt, async () => {
            if ((await redis.exists(at.key)) === 1) return;
            await forget(tenantId, [{ userId: at.userId, sessionId, key: at.key, tokenHash: th ?? "", pointer: tp === "1" }]);
          });
        }
        throw asUnavailable(e);
      }
      if (!reply) return false;
      await followUp(clock, () => Promise.all([
        forget(tenantId, [{ userId: at.userId, sessionId, key: at.key, tokenHash: reply[0], pointer: reply[1] === "1" }]),
        events.after(tenantId, at.userId, [{ type: "deleted", suffix: at.suffix }], why),
      ]));
      return true;
    },

    clearUser,

    async setUserStatus(tenantId, userId, status, { keep, why }, now) {
      const clock = startWrite();
      const userIndex = redisKeys.userIndex(tenantId, userId);
      const ev = events.script(tenantId, userId, userIndex, why);
      const keepSuffix = keep === undefined ? "" : (locate(tenantId, keep)?.suffix ?? "");
      // Unknown outcome: the tenant index entries left active are moved by the sweeper and lists.
      const reply = (await scripts
        .ssSetUserStatus(userIndex, ev.key, String(now), String(clock.deadline), redisKeys.sessionPrefix(tenantId, userId), status, keepSuffix, ...ev.args)
        .catch((e: unknown) => {
          throw asUnavailable(e);
        })) as string[];
      const changed: { suffix: string; expiresAt: string; absoluteEnd: string }[] = [];
      for (let i = 0; i + 2 < reply.length; i += 3) changed.push({ suffix: reply[i]!, expiresAt: reply[i + 1]!, absoluteEnd: reply[i + 2]! });
      const ids = changed.map((c) => `${userId}.${c.suffix}`);
      await followUp(clock, () => Promise.all([
        events.after(tenantId, userId, changed.map((c) => ({ type: status, suffix: c.suffix })), why),
        ...changed.map((c, i) => scripts.ssIndexDeactivate(
          redisKeys.tenantBucketOf(tenantId, userId), redisKeys.inactiveBucket(tenantId, redisKeys.bucketNumberOf(userId)), ids[i]!, c.expiresAt, c.absoluteEnd)),
      ]));
      return ids;
    },

    async clearTenant(tenantId) {
      const keys = [...bucketKeys(tenantId), ...Array.from({ length: tenantBuckets }, (_, b) => redisKeys.inactiveBucket(tenantId, b))];
      // (The expiry indexes hold the same sessions as the active buckets.)
      const ids = (await Promise.all(keys.map((bucket) => redis.zrange(bucket, "0", "-1")))).flat();
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
          const cleared = await clearUser(tenantId, userId, { cause: "clear_tenant" });
          count += cleared;
        }
      }));
      return count;
    },

    async close() {
      repairs.stop();
      // QUIT waits for Redis; a hung Redis must not hold shutdown.
      const timeout = new Promise<void>((resolve) => setTimeout(resolve, 2_000).unref());
      await Promise.race([redis.quit().catch(() => undefined), timeout]);
      redis.disconnect();
    },
  };

  /**
   * Reads up to `limit` live sessions from the merged index. Entries whose
   * session is gone (past the creation grace) or expired are removed on the
   * way, and inactive ones moved out; a cursor walk fills their places, an
   * offset page (whose rank range is fixed) leaves them empty. `dropped`
   * counts the entries that turned out not to be live.
   */
  async function readPage(
    tenantId: string,
    now: number,
    merge: ReturnType<typeof createTenantIndexMerge>,
    limit: number,
    fill: boolean,
  ): Promise<{ sessions: Session[]; dropped: number }> {
    const sessions: Session[] = [];
    let dropped = 0;
    while (sessions.length < limit) {
      const entries = await merge.take(limit - sessions.length);
      if (entries.length === 0) break;
      const read = await Promise.all(entries.map(async (e) => {
        const at = locate(tenantId, e.id);
        return { entry: e, session: at ? sessionFromReply(at, await redis.hgetall(at.key)) : undefined };
      }));
      const dead: string[] = [];
      const inactive: string[] = [];
      const moves: Promise<unknown>[] = [];
      for (const { entry, session } of read) {
        if (session && isLive(session, now)) {
          sessions.push(session);
          continue;
        }
        dropped++;
        if (session && session.expiresAt > now) moves.push(index.deactivate(session));
        else if (session && session.status !== "active") inactive.push(entry.id);
        else if (session || entry.score < Date.now() - creationGraceMs) dead.push(entry.id);
      }
      const parts = dead.map((id) => ({ sessionId: id, userId: splitSessionId(id)?.userId ?? "" }));
      // Active entries that expired: removed with their 'expired' event.
      const toParts = (ids: string[]) => ids.map((id) => ({ sessionId: id, userId: splitSessionId(id)?.userId ?? "" }));
      await Promise.all([...moves, index.expire(tenantId, parts), index.remove(tenantId, toParts(inactive))]);
      if (!fill) break;
    }
    return { sessions, dropped };
  }
}

function bucketKeys(tenantId: string): string[] {
  return Array.from({ length: tenantBuckets }, (_, b) => redisKeys.tenantBucket(tenantId, b));
}
