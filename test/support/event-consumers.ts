// Consumers of the session event stream for tests: Server-Sent Events over
// fetch, and WatchSessionEvents over gRPC (HTTP/2) or Connect (HTTP/1.1).
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { SessionEventsService, type SessionEvent } from "../../gen/sessionstorage/v1/session_events_service_pb.js";
import { createConditionWaiters } from "./condition-waiters.js";

/** One SSE message as the wire carried it. */
export interface SseMessage {
  readonly id: string | undefined;
  readonly event: string | undefined;
  readonly data: string | undefined;
  readonly comments: readonly string[];
  /** The message's raw text. */
  readonly raw: string;
}

export interface SseStream {
  readonly status: number;
  readonly headers: Headers;
  /** The messages received so far (the first one is the starting position). */
  readonly messages: SseMessage[];
  /** Messages that carried an event, parsed. */
  events(): Record<string, any>[];
  /** The last `id:` received: what an EventSource sends as Last-Event-ID. */
  lastId(): string | undefined;
  /** Resolves once `predicate` holds for the messages, or rejects after `timeoutMs`. */
  until(predicate: (s: SseStream) => boolean, timeoutMs?: number): Promise<void>;
  close(): void;
  /** Resolves when the server ended the stream. */
  readonly ended: Promise<void>;
}

/** openSse GETs the events stream and parses messages as they arrive. */
export async function openSse(baseUrl: string, headers: Record<string, string>, query: Record<string, string> = {}): Promise<SseStream> {
  const controller = new AbortController();
  const qs = new URLSearchParams(query).toString();
  const res = await fetch(`${baseUrl}/session-storage/events${qs ? `?${qs}` : ""}`, { headers, signal: controller.signal });
  const messages: SseMessage[] = [];
  const waiters = createConditionWaiters();
  const notify = waiters.notify;
  let endedResolve!: () => void;
  const ended = new Promise<void>((resolve) => (endedResolve = resolve));
  const stream: SseStream = {
    status: res.status,
    headers: res.headers,
    messages,
    events: () => messages.filter((m) => m.data !== undefined).map((m) => JSON.parse(m.data!) as Record<string, any>),
    lastId: () => [...messages].reverse().find((m) => m.id !== undefined)?.id,
    until: (predicate, timeoutMs = 10_000) => waiters.until(() => predicate(stream), timeoutMs, "SSE", () => `${messages.length} messages`),
    close: () => controller.abort(),
    ended,
  };
  if (res.status !== 200 || !res.body) {
    endedResolve();
    return stream;
  }
  void (async () => {
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
          const raw = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          messages.push(parseMessage(raw));
        }
        notify();
      }
    } catch {
      // Aborted by close().
    }
    endedResolve();
  })();
  return stream;
}

function parseMessage(raw: string): SseMessage {
  let id: string | undefined;
  let event: string | undefined;
  let data: string | undefined;
  const comments: string[] = [];
  for (const line of raw.split("\n")) {
    if (line.startsWith(":")) comments.push(line.slice(1).trim());
    else if (line.startsWith("id: ")) id = line.slice(4);
    else if (line.startsWith("event: ")) event = line.slice(7);
    else if (line.startsWith("data: ")) data = (data === undefined ? "" : `${data}\n`) + line.slice(6);
  }
  return { id, event, data, comments, raw };
}

export type RpcProtocol = "grpc" | "connect";

export interface RpcWatch {
  readonly events: SessionEvent[];
  until(predicate: (events: SessionEvent[]) => boolean, timeoutMs?: number): Promise<void>;
  /** Cancels the call (client side). */
  cancel(): void;
  /** Settles when the call ends: with its error, or undefined when it ended OK. */
  readonly done: Promise<unknown>;
}

/** watchRpc calls WatchSessionEvents and collects what arrives. */
export function watchRpc(
  baseUrl: string,
  protocol: RpcProtocol,
  headers: Record<string, string>,
  request: { userId?: string; types?: string[]; resumeAfter?: string; fromBeginning?: boolean },
): RpcWatch {
  const transport = protocol === "grpc" ? createGrpcTransport({ baseUrl }) : createConnectTransport({ baseUrl, httpVersion: "1.1" });
  const client = createClient(SessionEventsService, transport);
  const controller = new AbortController();
  const events: SessionEvent[] = [];
  const waiters = createConditionWaiters();
  const done = (async () => {
    try {
      for await (const res of client.watchSessionEvents(request, { headers, signal: controller.signal })) {
        if (res.event) events.push(res.event);
        waiters.notify();
      }
      return undefined;
    } catch (e) {
      return e;
    }
  })();
  // A condition about a watch that has ended is checked once more then.
  void done.then(waiters.notify);
  return {
    events,
    until: (predicate, timeoutMs = 10_000) => waiters.until(() => predicate(events), timeoutMs, "RPC watch", () => `${events.length} events`),
    cancel: () => controller.abort(),
    done,
  };
}
