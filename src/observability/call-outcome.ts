import { Code, ConnectError } from "@connectrpc/connect";
import type { Logger } from "pino";
import { codeName } from "../rest/code-name.js";
import { StoreDeadlineError } from "../store/with-deadline.js";
import { createCallTracer, type CallTrace, type CallTracer } from "./call-tracer.js";
import type { Metrics, Protocol } from "./metrics.js";

/** CallRecord is one call being observed, from its start to its outcome. */
export interface CallRecord {
  readonly requestId: string;
  /** "package.Service/Method". */
  readonly procedure: string;
  readonly protocol: Protocol;
  readonly start: number;
  /** The call's place in its caller's trace, when it has one. */
  readonly trace: CallTrace | undefined;
}

/**
 * CallOutcome observes calls: it starts each one's trace and in-flight count,
 * logs how it ended (with its trace and span ids), counts it in the metrics,
 * and turns what it threw into the error the caller sees. It is shared by the
 * unary dispatcher and the interceptor in front of connect-node, so every
 * protocol is observed alike.
 */
export interface CallOutcome {
  /** A call begins; `traceparent`/`tracestate` are the caller's, if sent. */
  begin(requestId: string, procedure: string, protocol: Protocol, traceparent: string | null, tracestate: string | null): CallRecord;
  /** Logs one "call" line for a call that succeeded (or ended as `code`). */
  ended(call: CallRecord, code?: Code): void;
  /**
   * Maps an error: a ConnectError stays; anything else becomes UNAVAILABLE
   * (the store is down or did not answer in time) or INTERNAL, its cause
   * logged, never sent. The reply carries the request id and trace context.
   */
  failed(e: unknown, call: CallRecord): ConnectError;
}

export interface CallOutcomeOptions {
  /** Behind the REST transcoder the access line tells each call's outcome; only server faults are logged here then. */
  readonly logCalls: boolean;
  /**
   * Told of every call answered UNAVAILABLE, with its cause: during an outage
   * every call fails alike, so they are summarized there, not logged one by one.
   */
  readonly onUnavailable?: (cause: unknown) => void;
  readonly metrics?: Metrics;
  /** W3C trace context without span export when not given. */
  readonly tracer?: CallTracer;
}

/** The headers that return a call's trace context to its caller. */
export function traceHeaders(trace: CallTrace): Record<string, string> {
  return trace.tracestate === undefined ? { traceparent: trace.traceparent } : { traceparent: trace.traceparent, tracestate: trace.tracestate };
}

export function createCallOutcome(logger: Logger, isStoreDown: () => boolean, options: CallOutcomeOptions): CallOutcome {
  const { metrics } = options;
  const tracer = options.tracer ?? createCallTracer({ serviceName: "secure-session-storage" });
  // Ends the call's span and metrics; returns its duration.
  const finish = (call: CallRecord, name: string) => {
    const ms = performance.now() - call.start;
    metrics?.callEnded(call.procedure, call.protocol, name, ms / 1000);
    call.trace?.end(name);
    return ms;
  };
  // A call's log line fields (made only when a line is written).
  const lineOf = (call: CallRecord, name: string, ms: number) => {
    const line: Record<string, unknown> = { requestId: call.requestId, procedure: call.procedure, code: name, ms: round(ms) };
    if (call.trace) {
      line.traceId = call.trace.traceId;
      line.spanId = call.trace.spanId;
    }
    return line;
  };

  function toConnectError(e: unknown): ConnectError {
    if (e instanceof ConnectError) return e;
    if (e instanceof StoreDeadlineError || isStoreDown() || isConnectionError(e)) {
      return new ConnectError("session store unavailable, try again shortly", Code.Unavailable, undefined, undefined, e);
    }
    return new ConnectError("internal error", Code.Internal, undefined, undefined, e);
  }

  return {
    begin(requestId, procedure, protocol, traceparent, tracestate) {
      metrics?.callStarted(protocol);
      return { requestId, procedure, protocol, start: performance.now(), trace: tracer.start(procedure, traceparent, tracestate) };
    },
    ended(call, code) {
      const name = code === undefined ? "ok" : codeName(code);
      const ms = finish(call, name);
      if (options.logCalls && logger.isLevelEnabled("info")) logger.info(lineOf(call, name, ms), "call");
    },
    failed(e, call) {
      const error = toConnectError(e);
      error.metadata.set("x-request-id", call.requestId);
      if (call.trace) for (const [name, value] of Object.entries(traceHeaders(call.trace))) error.metadata.set(name, value);
      const name = codeName(error.code);
      const line = { ...lineOf(call, name, finish(call, name)), message: error.rawMessage };
      if (error.code === Code.Internal || error.code === Code.Unknown) {
        logger.error({ ...line, cause: describe(error.cause) }, "call failed");
        return error;
      }
      if (error.code !== Code.Unavailable) {
        if (options.logCalls) logger.info(line, "call");
        return error;
      }
      options.onUnavailable?.(error.cause);
      if (options.logCalls) logger.info({ ...line, cause: describe(error.cause) }, "call");
      return error;
    },
  };
}

const round = (ms: number) => Math.round(ms * 100) / 100;

function isConnectionError(e: unknown): boolean {
  const msg = e instanceof Error ? e.message : "";
  return /ECONNREFUSED|Command timed out|Connection is closed|Stream isn't writeable|max retries|ETIMEDOUT|ENOTFOUND/i.test(msg) || isFailoverReply(e, msg);
}

// Redis replies while a primary fails over or a node restarts: a Cluster slot
// moving or unserved (ioredis follows MOVED and ASK and retries TRYAGAIN and
// CLUSTERDOWN itself; these are what it gave up on), a node still loading, a
// write sent to a primary just demoted. The command did not run; the caller
// may try again shortly.
function isFailoverReply(e: unknown, msg: string): boolean {
  return (
    (e instanceof Error && e.name === "ReplyError" && /^(MOVED|ASK|CLUSTERDOWN|TRYAGAIN|LOADING|READONLY|MASTERDOWN) /.test(msg)) ||
    /^(Too many Cluster redirections|Cluster isn't ready|None of startup nodes is available|Failed to refresh slots cache)/.test(msg)
  );
}

// Only the name and message of a cause are logged: tokens never travel in
// error messages we produce, and stacks add noise, not evidence.
function describe(cause: unknown): unknown {
  return cause instanceof Error ? { name: cause.name, message: cause.message } : cause;
}
