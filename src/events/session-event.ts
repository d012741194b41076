import { impliedCause } from "../store/event-writes.js";

/** The event types, each a change of a session's state (touch and sliding are not events). */
export const sessionEventTypes = [
  "created",
  "token_rotated",
  "expiry_changed",
  "ended",
  "removed",
  "revoked",
  "deleted",
  "cleared",
  "evicted",
  "expired",
] as const;

export type SessionEventType = (typeof sessionEventTypes)[number];

/**
 * SessionEvent is one stored event as consumers get it. It never holds a
 * token or a token hash: the stream entries have none to give.
 */
export interface SessionEvent {
  /** The stream entry id, "<ms>-<seq>": unique within its stream. */
  readonly id: string;
  /** The tenant's stream (bucket) the event is in. */
  readonly stream: number;
  readonly type: string;
  readonly tenantId: string;
  readonly sessionId: string;
  readonly userId: string;
  readonly status: string;
  /** Epoch ms, from the entry id (Redis's clock when it was written). */
  readonly time: number;
  readonly cause: string;
  readonly reason: string;
  /** The opaque position just after this event, to resume from. */
  readonly cursor: string;
}

/** The session's status after an event: each type has one. */
const statusAfter: Record<string, string> = {
  created: "active",
  token_rotated: "active",
  expiry_changed: "active",
  ended: "ended",
  removed: "removed",
  revoked: "revoked",
  deleted: "deleted",
  cleared: "deleted",
  evicted: "evicted",
  expired: "expired",
};

// "<user>.<8hex>.<8hex>": the user is all but the last 18 characters (".<8hex>.<8hex>").
const sessionSuffixLength = 18;

/**
 * eventFromEntry reads a stream entry (fields t, s, c and r: events.lua's
 * emit). The user and the status are not stored: they follow from the
 * session id and the type; so does the cause, when the entry has none.
 */
export function eventFromEntry(tenantId: string, stream: number, id: string, flat: readonly string[], cursor: string): SessionEvent {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) f[flat[i]!] = flat[i + 1]!;
  const sessionId = f.s ?? "";
  return {
    id,
    stream,
    type: f.t ?? "",
    tenantId,
    sessionId,
    userId: sessionId.length > sessionSuffixLength ? sessionId.slice(0, -sessionSuffixLength) : "",
    status: statusAfter[f.t ?? ""] ?? "",
    time: Number(id.slice(0, id.indexOf("-"))),
    cause: f.c ?? impliedCause[f.t ?? ""] ?? "",
    reason: f.r ?? "",
    cursor,
  };
}
