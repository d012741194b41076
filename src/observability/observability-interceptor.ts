import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "pino";
import { acceptRequestId, requestIdKey } from "./request-id.js";
import { codeName } from "../rest/code-name.js";

/**
 * createObservabilityInterceptor gives every call a request id (kept from
 * x-request-id when sent, echoed back on success and error), logs one line
 * per call with procedure, code and duration, and turns unexpected errors
 * into UNAVAILABLE (the store is down) or INTERNAL without exposing them:
 * the original error is logged as the cause, never sent.
 */
export function createObservabilityInterceptor(
  logger: Logger,
  isStoreDown: () => boolean,
  options: { readonly logCalls: boolean } = { logCalls: true },
): Interceptor {
  // Behind the REST transcoder the access line already tells each call's
  // outcome; only server faults (with their cause) are logged here then.
  const info = options.logCalls ? (fields: object, msg: string) => logger.info(fields, msg) : () => undefined;
  function toConnectError(e: unknown): ConnectError {
    if (e instanceof ConnectError) return e;
    if (isStoreDown() || isConnectionError(e)) {
      return new ConnectError("session store unavailable, try again shortly", Code.Unavailable, undefined, undefined, e);
    }
    return new ConnectError("internal error", Code.Internal, undefined, undefined, e);
  }

  return (next) => async (req) => {
    const start = performance.now();
    const requestId = acceptRequestId(req.header.get("x-request-id"));
    req.contextValues.set(requestIdKey, requestId);
    const procedure = req.method.parent.typeName + "/" + req.method.name;
    const logged = (code: string) => ({ requestId, procedure, code, ms: round(performance.now() - start) });
    const failed = (e: unknown) => {
      const error = toConnectError(e);
      error.metadata.set("x-request-id", requestId);
      const fields = { ...logged(codeName(error.code)), message: error.rawMessage };
      if (error.code === Code.Internal || error.code === Code.Unavailable || error.code === Code.Unknown) {
        logger.error({ ...fields, cause: describe(error.cause) }, "call failed");
      } else {
        info(fields, "call");
      }
      return error;
    };
    try {
      const res = await next(req);
      res.header.set("x-request-id", requestId);
      if (!res.stream) {
        info(logged("ok"), "call");
        return res;
      }
      // A stream's outcome is known when it ends, not when its first message is ready.
      const messages = res.message;
      return {
        ...res,
        message: (async function* () {
          let outcome: "ok" | "failed" | undefined;
          try {
            yield* messages;
            outcome = "ok";
          } catch (e) {
            outcome = "failed";
            throw failed(e);
          } finally {
            // Stopped early (the client went away) or ended by the client's cancel: canceled.
            if (outcome !== "failed") info(logged(outcome === "ok" && !req.signal.aborted ? "ok" : codeName(Code.Canceled)), "call");
          }
        })(),
      };
    } catch (e) {
      throw failed(e);
    }
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
