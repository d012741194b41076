import { Code, ConnectError } from "@connectrpc/connect";
import type { Logger } from "pino";
import { codeName } from "../rest/code-name.js";
import { StoreDeadlineError } from "../store/with-deadline.js";

/**
 * CallOutcome logs how a call ended and turns what it threw into the error
 * the caller sees. It is shared by the unary dispatcher and the interceptor
 * in front of connect-node, so every protocol logs and maps errors alike.
 */
export interface CallOutcome {
  /** Logs one "call" line for a call that succeeded (or ended as `code`). */
  ended(requestId: string, procedure: string, start: number, code?: Code): void;
  /**
   * Maps an error: a ConnectError stays; anything else becomes UNAVAILABLE
   * (the store is down or did not answer in time) or INTERNAL, its cause
   * logged, never sent. The reply carries the request id.
   */
  failed(e: unknown, requestId: string, procedure: string, start: number): ConnectError;
}

export interface CallOutcomeOptions {
  /** Behind the REST transcoder the access line tells each call's outcome; only server faults are logged here then. */
  readonly logCalls: boolean;
  /**
   * Told of every call answered UNAVAILABLE, with its cause: during an outage
   * every call fails alike, so they are summarized there, not logged one by one.
   */
  readonly onUnavailable?: (cause: unknown) => void;
}

export function createCallOutcome(logger: Logger, isStoreDown: () => boolean, options: CallOutcomeOptions): CallOutcome {
  const fields = (requestId: string, procedure: string, start: number, code: Code | undefined) => ({
    requestId,
    procedure,
    code: code === undefined ? "ok" : codeName(code),
    ms: round(performance.now() - start),
  });

  function toConnectError(e: unknown): ConnectError {
    if (e instanceof ConnectError) return e;
    if (e instanceof StoreDeadlineError || isStoreDown() || isConnectionError(e)) {
      return new ConnectError("session store unavailable, try again shortly", Code.Unavailable, undefined, undefined, e);
    }
    return new ConnectError("internal error", Code.Internal, undefined, undefined, e);
  }

  return {
    ended(requestId, procedure, start, code) {
      if (options.logCalls && logger.isLevelEnabled("info")) logger.info(fields(requestId, procedure, start, code), "call");
    },
    failed(e, requestId, procedure, start) {
      const error = toConnectError(e);
      error.metadata.set("x-request-id", requestId);
      const line = { ...fields(requestId, procedure, start, error.code), message: error.rawMessage };
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
  return /ECONNREFUSED|Command timed out|Connection is closed|Stream isn't writeable|max retries|ETIMEDOUT|ENOTFOUND/i.test(msg);
}

// Only the name and message of a cause are logged: tokens never travel in
// error messages we produce, and stacks add noise, not evidence.
function describe(cause: unknown): unknown {
  return cause instanceof Error ? { name: cause.name, message: cause.message } : cause;
}
