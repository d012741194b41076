import { Cluster, Redis } from "ioredis";
import { duplicateRedisClient, eventReaderConnectionName, type RedisClient } from "../store/redis-client.js";
import { redisKeys, tenantBuckets } from "../store/redis-keys.js";
import { compareIds, cursorAtStart, encodeCursor, type EventCursor } from "./event-cursor.js";
import { eventFromEntry, type SessionEvent } from "./session-event.js";

/** EventPage is what one read returns: events in order, and where the next read starts. */
export interface EventPage {
  readonly events: readonly SessionEvent[];
  readonly cursor: EventCursor;
  /** The log was closed (shutdown): stop reading. */
  readonly closed: boolean;
}

/**
 * SessionEventLog reads a tenant's session events, merged from its streams,
 * after a cursor: the one reader behind WatchSessionEvents, SSE and any
 * other consumer (webhooks). Delivery is at least once from a cursor the
 * consumer keeps; order is by entry id across streams, and exact per
 * session (all of a user's events are in one stream).
 */
export interface SessionEventLog {
  /** The position of "now" (after every event written so far), or before the oldest kept event. */
  start(tenantId: string, from: "now" | "beginning"): Promise<EventCursor>;
  /**
   * Up to `count` events after `cursor`. With `blockMs` > 0 and none yet,
   * waits up to that long for one (on a connection of its own, never the
   * shared command connection); `signal` ends the wait early.
   */
  read(tenantId: string, cursor: EventCursor, count: number, blockMs: number, signal?: AbortSignal): Promise<EventPage>;
  /** Ends every wait and refuses further reads (graceful shutdown). */
  close(): void;
}

type XReadReply = [string, [string, string[]][]][] | null;

// Blocking connections kept for the next wait; more are opened as needed.
const idleConnectionsKept = 8;
// Redis Cluster: one XREAD cannot wait on streams in different slots, so a
// wait there polls at this interval.
const clusterPollMs = 200;

export function createSessionEventLog(redis: RedisClient): SessionEventLog {
  const isCluster = redis instanceof Cluster;
  const idle: Redis[] = [];
  const busy = new Set<Redis>();
  let closed = false;
  // Reads that do not wait go through a connection of their own too (opened
  // on first use): a busy consumer never queues behind, or ahead of, the
  // calls that change sessions.
  let readerConnection: RedisClient | undefined;
  // With ioredis's command timeout: a read that does not wait must not hang on a hung Redis either.
  const reader = (): RedisClient => (readerConnection ??= duplicateRedisClient(redis, eventReaderConnectionName, { enableOfflineQueue: true }));

  const keysOf = (tenantId: string) => Array.from({ length: tenantBuckets }, (_, b) => redisKeys.eventStream(tenantId, b));

  function borrow(): Redis {
    const conn = idle.pop() ?? (redis as Redis).duplicate({
      // A wait lasts as long as it is asked to, and waits for a reconnect.
      commandTimeout: undefined,
      enableOfflineQueue: true,
      enableAutoPipelining: false,
      lazyConnect: false,
    });
    busy.add(conn);
    return conn;
  }

  function giveBack(conn: Redis, healthy: boolean) {
    busy.delete(conn);
    if (healthy && !closed && conn.status === "ready" && idle.length < idleConnectionsKept) idle.push(conn);
    else conn.disconnect();
  }

  /** Merges per-stream replies into one page of at most `count`, in entry id order. */
  function merge(tenantId: string, cursor: EventCursor, reply: XReadReply, count: number): EventPage {
    const entries: { stream: number; id: string; fields: string[] }[] = [];
    const streamOf = new Map(keysOf(tenantId).map((k, b) => [k, b]));
    for (const [key, list] of reply ?? []) {
      const stream = streamOf.get(key);
      if (stream === undefined) continue;
      for (const [id, fields] of list) entries.push({ stream, id, fields });
    }
    entries.sort((a, b) => compareIds(a.id, b.id) || a.stream - b.stream);
    // Each stream gave at most `count`, so the first `count` of the merged
    // order never pass an entry a stream held back. A prefix of the merged
    // order is a prefix of each stream: each stream's position moves to its
    // last event delivered.
    const position = [...cursor];
    const events = entries.slice(0, count).map((e) => {
      position[e.stream] = e.id;
      return eventFromEntry(tenantId, e.stream, e.id, e.fields, encodeCursor(position));
    });
    return { events, cursor: position, closed: false };
  }

  async function readNow(tenantId: string, cursor: EventCursor, count: number): Promise<XReadReply> {
    const keys = keysOf(tenantId);
    const conn = reader();
    if (!isCluster) return (await conn.xread("COUNT", count, "STREAMS", ...keys, ...cursor)) as XReadReply;
    const replies = await Promise.all(keys.map((k, b) => conn.xread("COUNT", count, "STREAMS", k, cursor[b]!)));
    return replies.flatMap((r) => (r ?? []) as [string, [string, string[]][]][]);
  }

  async function waitSingle(tenantId: string, cursor: EventCursor, count: number, blockMs: number, signal?: AbortSignal): Promise<XReadReply | "ended"> {
    const conn = borrow();
    const abort = () => conn.disconnect();
    signal?.addEventListener("abort", abort, { once: true });
    try {
      const keys = keysOf(tenantId);
      const reply = (await conn.xread("COUNT", count, "BLOCK", blockMs, "STREAMS", ...keys, ...cursor)) as XReadReply;
      // An abort disconnects the connection, possibly just after its reply
      // arrived: such a connection never reconnects, and a wait queued on it
      // would hang, so it is not kept.
      giveBack(conn, !signal?.aborted);
      return reply;
    } catch (e) {
      giveBack(conn, false);
      if (closed || signal?.aborted) return "ended";
      throw e;
    } finally {
      signal?.removeEventListener("abort", abort);
    }
  }

  async function waitCluster(tenantId: string, cursor: EventCursor, count: number, blockMs: number, signal?: AbortSignal): Promise<XReadReply | "ended"> {
    const until = Date.now() + blockMs;
    for (;;) {
      const reply = await readNow(tenantId, cursor, count);
      if ((reply?.length ?? 0) > 0 || Date.now() >= until) return reply;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.min(clusterPollMs, until - Date.now()));
        function done() {
          clearTimeout(timer);
          signal?.removeEventListener("abort", done);
          resolve();
        }
        signal?.addEventListener("abort", done, { once: true });
      });
      if (closed || signal?.aborted) return "ended";
    }
  }

  return {
    async start(tenantId, from) {
      if (from === "beginning") return cursorAtStart;
      const keys = keysOf(tenantId);
      const conn = reader();
      const last = await Promise.all(keys.map((k) => conn.xrevrange(k, "+", "-", "COUNT", 1)));
      return last.map((entries) => entries[0]?.[0] ?? "0-0");
    },

    async read(tenantId, cursor, count, blockMs, signal) {
      if (closed || signal?.aborted) return { events: [], cursor, closed };
      if (blockMs <= 0) return merge(tenantId, cursor, await readNow(tenantId, cursor, count), count);
      const reply = isCluster
        ? await waitCluster(tenantId, cursor, count, blockMs, signal)
        : await waitSingle(tenantId, cursor, count, blockMs, signal);
      if (reply === "ended") return { events: [], cursor, closed };
      return merge(tenantId, cursor, reply, count);
    },

    close() {
      closed = true;
      for (const conn of [...idle, ...busy]) conn.disconnect();
      idle.length = 0;
      readerConnection?.disconnect();
    },
  };
}
