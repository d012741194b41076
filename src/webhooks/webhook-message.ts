import { create, toJsonString } from "@bufbuild/protobuf";
import { SessionEventSchema } from "../../gen/sessionstorage/v1/session_events_service_pb.js";
import type { SessionEvent } from "../events/session-event.js";
import { toEventMessage } from "../services/session-events-service.js";

/** WebhookMessage is what one event is sent as, the same on every attempt. */
export interface WebhookMessage {
  /** The `webhook-id`: unique per tenant, stable across retries (receivers deduplicate by it). */
  readonly id: string;
  /** The JSON body (the exact bytes signed). */
  readonly body: string;
}

/**
 * webhookMessage builds the Standard Webhooks body of an event:
 * {"type":"session.<type>","timestamp":<event time>,"data":<the event as SSE
 * and WatchSessionEvents' JSON give it>}. Events hold no token, so no body does.
 */
export function webhookMessage(event: SessionEvent): WebhookMessage {
  const data = toJsonString(SessionEventSchema, create(SessionEventSchema, toEventMessage(event)), { useProtoFieldName: true });
  const envelope = JSON.stringify({ type: `session.${event.type}`, timestamp: new Date(event.time).toISOString() });
  // Entry ids are unique within their stream only: the stream number makes the id the tenant's.
  return { id: `evt_${event.stream}_${event.id}`, body: `${envelope.slice(0, -1)},"data":${data}}` };
}
