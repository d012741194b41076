import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { SessionEventsService } from "../../gen/sessionstorage/v1/session_events_service_pb.js";
import { requireApiClient } from "../auth/caller.js";
import { decodeCursor } from "../events/event-cursor.js";
import { parseEventFilter } from "../events/event-filter.js";
import { eventsUnavailable, followSessionEvents } from "../events/follow-session-events.js";
import type { SessionEvent } from "../events/session-event.js";
import type { SessionEventLog } from "../events/session-event-log.js";
import { timestampOf } from "./timestamp.js";

/** toEventMessage maps an event to its proto shape (the SSE route sends the same JSON). */
export function toEventMessage(e: SessionEvent) {
  return {
    id: e.id,
    stream: e.stream,
    type: e.type,
    tenantId: e.tenantId,
    sessionId: e.sessionId,
    userId: e.userId,
    status: e.status,
    time: timestampOf(e.time),
    cause: e.cause,
    reason: e.reason,
    cursor: e.cursor,
  };
}

/**
 * createSessionEventsService implements WatchSessionEvents: an API client's
 * tenant's events, live, until the client cancels or the server shuts down.
 */
export function createSessionEventsService(log: SessionEventLog, options: { heartbeatMs: number; enabled: boolean }): ServiceImpl<typeof SessionEventsService> {
  return {
    async *watchSessionEvents(req, ctx) {
      const tenantId = requireApiClient(ctx);
      if (!options.enabled) throw eventsOff();
      const filter = parseEventFilter(req.userId, req.types);
      const from = req.resumeAfter !== ""
        ? decodeCursor(req.resumeAfter)
        : await log.start(tenantId, req.fromBeginning ? "beginning" : "now").catch((e: unknown) => {
          throw eventsUnavailable(e);
        });
      for await (const item of followSessionEvents(log, tenantId, from, filter, { heartbeatMs: options.heartbeatMs, signal: ctx.signal })) {
        if (item.kind === "event") yield { event: toEventMessage(item.event) };
      }
    },
  };
}

/** eventsOff: with EVENTS=false no event is written, so watching would wait forever. */
export function eventsOff(): ConnectError {
  return new ConnectError("session events are off on this service (EVENTS=false)", Code.FailedPrecondition);
}
