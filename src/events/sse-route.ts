import { create, toJsonString } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Logger } from "pino";
import { SessionEventSchema } from "../../gen/sessionstorage/v1/session_events_service_pb.js";
import type { ApiClientVerifier } from "../auth/api-client-verifier.js";
import { readCredentials } from "../auth/read-credentials.js";
import { acceptRequestId } from "../observability/request-id.js";
import { codeName } from "../rest/code-name.js";
import { httpStatusOfCode } from "../rest/http-status.js";
import { eventsOff, toEventMessage } from "../services/session-events-service.js";
import type { NodeServerRequest, NodeServerResponse } from "../transport/node-http-types.js";
import { decodeCursor, encodeCursor, type EventCursor } from "./event-cursor.js";
import { parseEventFilter } from "./event-filter.js";
import { eventsUnavailable, followSessionEvents } from "./follow-session-events.js";
import type { SessionEventLog } from "./session-event-log.js";

/** The path of the Server-Sent Events stream, under the sessions management prefix. */
export const sessionEventsPath = "/session-storage/events";

export interface SseRouteDeps {
  readonly log: SessionEventLog;
  readonly verifier: ApiClientVerifier;
  readonly logger: Logger;
  readonly heartbeatMs: number;
  /** EVENTS: when off, the stream is refused (nothing would ever come). */
  readonly enabled: boolean;
}

/**
 * createSseRoute serves GET /session-storage/events as text/event-stream:
 * the caller's tenant's events (API client credentials), filtered by
 * user_id and types (comma-separated or repeated), from now, from the
 * oldest kept (from_beginning=true), or after a cursor: the Last-Event-ID
 * header (a reconnecting EventSource sends it) or resume_after. Each event's
 * `id:` is its cursor; a comment line is sent as a heartbeat, with an `id:`
 * when filtered-out events moved the position. Answers true when it
 * handled the request.
 */
export function createSseRoute(deps: SseRouteDeps): (req: NodeServerRequest, res: NodeServerResponse) => boolean {
  return (req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname !== sessionEventsPath || req.method !== "GET") return false;
    const requestId = acceptRequestId(header(req, "x-request-id"));
    res.setHeader("x-request-id", requestId);
    const started = Date.now();
    void serve(req, res, url, requestId).then(
      () => deps.logger.info({ route: `GET ${sessionEventsPath}`, status: res.statusCode, ms: Date.now() - started, requestId }, "event stream ended"),
      (e: unknown) => {
        const error = ConnectError.from(e);
        if (!res.headersSent) {
          const body = JSON.stringify({ code: codeName(error.code), message: error.rawMessage, request_id: requestId });
          res.writeHead(httpStatusOfCode(error.code), { "content-type": "application/json; charset=utf-8" });
          res.end(body);
        } else res.end();
        deps.logger.info({ route: `GET ${sessionEventsPath}`, status: res.statusCode, code: codeName(error.code), requestId }, "event stream refused");
      },
    );
    return true;
  };

  async function serve(req: NodeServerRequest, res: NodeServerResponse, url: URL, requestId: string) {
    const credentials = readCredentials({ get: (name) => header(req, name) ?? null }, deps.verifier);
    const tenantId = credentials.clientId;
    if (tenantId === undefined) {
      throw new ConnectError("API client credentials required: send the ClientID and ClientSecret headers", Code.Unauthenticated);
    }
    if (!deps.enabled) throw eventsOff();
    const types = url.searchParams.getAll("types").flatMap((t) => t.split(",")).map((t) => t.trim()).filter(Boolean);
    const filter = parseEventFilter(url.searchParams.get("user_id") ?? "", types);
    const lastEventId = header(req, "last-event-id");
    const resume = lastEventId || url.searchParams.get("resume_after") || "";
    let from: EventCursor = resume !== ""
      ? decodeCursor(resume, lastEventId ? "Last-Event-ID" : "resume_after")
      : await deps.log.start(tenantId, url.searchParams.get("from_beginning") === "true" ? "beginning" : "now").catch((e: unknown) => {
        throw eventsUnavailable(e);
      });

    const done = new AbortController();
    res.once("close", () => done.abort());
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      "x-accel-buffering": "no",
    });
    // The starting position first: a client that resumes from it misses nothing.
    await write(res, `id: ${encodeCursor(from)}\nretry: 1000\n: ${requestId}\n\n`);
    for await (const item of followSessionEvents(deps.log, tenantId, from, filter, { heartbeatMs: deps.heartbeatMs, signal: done.signal })) {
      if (item.kind === "event") {
        // Every field, defaults included (stream 0, an empty reason): one shape for every event.
        const data = toJsonString(SessionEventSchema, create(SessionEventSchema, toEventMessage(item.event)), { useProtoFieldName: true, alwaysEmitImplicit: true });
        from = decodeCursor(item.event.cursor);
        await write(res, `id: ${item.event.cursor}\nevent: ${item.event.type}\ndata: ${data}\n\n`);
      } else {
        const moved = encodeCursor(item.cursor) !== encodeCursor(from);
        from = item.cursor;
        await write(res, moved ? `id: ${encodeCursor(from)}\n: heartbeat\n\n` : ": heartbeat\n\n");
      }
    }
    res.end();
  }
}

function header(req: NodeServerRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

// A slow reader holds the loop here (no more reads while the socket's buffer
// is full): it costs only its own connection, never the calls producing events.
function write(res: NodeServerResponse, text: string): Promise<void> {
  const out = res as unknown as NodeJS.WritableStream & { destroyed?: boolean };
  if (out.write(text) || out.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      out.off("drain", done);
      out.off("close", done);
      resolve();
    };
    out.once("drain", done);
    out.once("close", done);
  });
}
