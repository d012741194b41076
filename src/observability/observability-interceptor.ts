import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "pino";
import { acceptRequestId, requestIdKey } from "./request-id.js";

/**
 * createObservabilityInterceptor gives every call a request id (kept from
 * x-request-id when sent, echoed back on success and error), logs one line
 * per call with procedure, code and duration, and turns unexpected errors
 * into UNAVAILABLE (the store is down) or INTERNAL without exposing them:
 * the original error is logged as the cause, never sent.
 */
export function createObservabilityInterceptor(logger: Logger, isStoreDown: () => boolean): Interceptor {
  return (next) => async (req) => {
    const start = performance.now();
    const requestId = acceptRequestId(req.header.get("x-request-id"));
    req.contextValues.set(requestIdKey, requestId);
    const procedure = req.method.parent.typeName + "/" + req.method.name;
    try {
      const res = await next(req);
      res.header.set("x-request-id", requestId);
      logger.info({ requestId, procedure, code: "ok", ms: round(performance.now() - start) }, "call");
      return res;
    } catch (e) {
      let error: ConnectError;
      if (e instanceof ConnectError) {
        error = e;
      } else if (isStoreDown() || isConnectionError(e)) {
        error = new ConnectError("session store unavailable, try again shortly", Code.Unavailable, undefined, undefined, e);
      } else {
        error = new ConnectError("internal error", Code.Internal, undefined, undefined, e);
      }
      error.metadata.set("x-request-id", requestId);
      const codeName = Code[error.code];
      const fields = { requestId, procedure, code: codeName, ms: round(performance.now() - start), message: error.rawMessage };
      if (error.code === Code.Internal || error.code === Code.Unavailable || error.code === Code.Unknown) {
        logger.error({ ...fields, cause: describe(error.cause) }, "call failed");
      } else {
        logger.info(fields, "call");
      }
      throw error;
    }
  };
}

const round = (ms: number) => Math.round(ms * 100) / 100;

function isConnectionError(e: unknown): boolean {
  const msg = e instanceof Error ? e.message : "";
  return /ECONNREFUSED|Connection is closed|Stream isn't writeable|max retries|ETIMEDOUT|ENOTFOUND/i.test(msg);
}

// Only the name and message of a cause are logged: tokens never travel in
// error messages we produce, and stacks add noise, not evidence.
function describe(cause: unknown): unknown {
  return cause instanceof Error ? { name: cause.name, message: cause.message } : cause;
}
