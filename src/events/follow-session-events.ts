import { Code, ConnectError } from "@connectrpc/connect";
import type { EventCursor } from "./event-cursor.js";
import type { EventFilter } from "./event-filter.js";
import type { SessionEvent } from "./session-event.js";
import type { SessionEventLog } from "./session-event-log.js";

/** What a follower yields: an event, or a heartbeat after `heartbeatMs` without one (with the position reached). */
export type FollowItem = { readonly kind: "event"; readonly event: SessionEvent } | { readonly kind: "heartbeat"; readonly cursor: EventCursor };

// Events read per round trip.
const pageSize = 100;

/**
 * followSessionEvents yields a tenant's events after `from` as they come,
 * until `signal` aborts or the log closes (shutdown): the live loop of
 * WatchSessionEvents and SSE. Events the filter drops still move the
 * position, which heartbeats carry.
 */
export async function* followSessionEvents(
  log: SessionEventLog,
  tenantId: string,
  from: EventCursor,
  filter: EventFilter,
  options: { heartbeatMs: number; signal: AbortSignal },
): AsyncGenerator<FollowItem> {
  let cursor = from;
  let quietSince = Date.now();
  while (!options.signal.aborted) {
    const wait = Math.max(1, options.heartbeatMs - (Date.now() - quietSince));
    const page = await log.read(tenantId, cursor, pageSize, wait, options.signal).catch((e: unknown) => {
      throw eventsUnavailable(e);
    });
    if (page.closed) return;
    cursor = page.cursor;
    for (const event of page.events) {
      if (!filter(event)) continue;
      quietSince = Date.now();
      yield { kind: "event", event };
    }
    if (Date.now() - quietSince >= options.heartbeatMs) {
      quietSince = Date.now();
      yield { kind: "heartbeat", cursor };
    }
  }
}

/** eventsUnavailable: a Redis failure while reading events, in the API's words (the consumer resumes from its cursor). */
export function eventsUnavailable(cause: unknown): ConnectError {
  if (cause instanceof ConnectError) return cause;
  return new ConnectError("session events are unavailable (Redis did not answer); resume from the last cursor", Code.Unavailable, undefined, undefined, cause);
}
