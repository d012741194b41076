import { Cluster } from "ioredis";
import type { RedisClient } from "./redis-client.js";
import { redisKeys } from "./redis-keys.js";

/** EventCause says why sessions changed: the operation, and a caller's reason when given. */
export interface EventCause {
  readonly cause: string;
  readonly reason?: string;
}

/**
 * The cause each of these event types has unless told otherwise: a stream
 * entry leaves it out (events.lua mirrors this table), so the most common
 * entries stay about 10 bytes smaller; the reader puts it back.
 */
export const impliedCause: Readonly<Record<string, string>> = { created: "create", deleted: "delete", expired: "expiry" };

/** A session event a change produced, before it is written. */
export interface PlannedEvent {
  readonly type: string;
  /** The session id's random suffix (the user is the change's). */
  readonly suffix: string;
}

/**
 * EventWrites gives the session scripts their event stream and arguments
 * (prelude.lua: the script writes the events with the change), and on Redis
 * Cluster, where a user's stream is in another slot than the user's keys,
 * appends the events right after the change instead.
 */
export interface EventWrites {
  /** The stream key and the 4 event arguments of a script changing `userId`'s sessions. */
  script(tenantId: string, userId: string, sameSlotKey: string, why: EventCause): { key: string; args: string[] };
  /** Appends the change's events on Cluster; nothing to do elsewhere (the script did). */
  after(tenantId: string, userId: string, events: readonly PlannedEvent[], why: EventCause): Promise<unknown>;
}

/** `retentionMs` undefined: events are off, none is written. */
export function createEventWrites(redis: RedisClient, retentionMs: number | undefined): EventWrites {
  const inScript = retentionMs !== undefined && !(redis instanceof Cluster);
  const onCluster = retentionMs !== undefined && redis instanceof Cluster;
  return {
    script(tenantId, userId, sameSlotKey, why) {
      // On Cluster a key of another slot may not be declared: the script gets
      // a key of its own slot and no retention, so it writes no event.
      return inScript
        ? { key: redisKeys.eventStreamOf(tenantId, userId), args: [String(retentionMs), userId, why.cause, why.reason ?? ""] }
        : { key: sameSlotKey, args: ["", userId, why.cause, why.reason ?? ""] };
    },
    async after(tenantId, userId, events, why) {
      if (!onCluster || events.length === 0) return;
      const key = redisKeys.eventStreamOf(tenantId, userId);
      const minId = String(Date.now() - retentionMs!);
      // One transaction on the stream's slot, in the changes' order: one round
      // trip however many sessions changed, and all of them or none.
      const tx = redis.multi();
      for (const e of events) {
        // The same fields as events.lua's emit.
        const fields = ["t", e.type, "s", `${userId}.${e.suffix}`];
        if (impliedCause[e.type] !== why.cause) fields.push("c", why.cause);
        if (why.reason) fields.push("r", why.reason);
        tx.xadd(key, "MINID", "~", minId, "*", ...fields);
      }
      tx.pexpire(key, retentionMs!);
      const replies = await tx.exec();
      const failed = replies?.find(([e]) => e !== null)?.[0];
      if (!replies || failed) throw failed ?? new Error("event append transaction aborted");
    },
  };
}
