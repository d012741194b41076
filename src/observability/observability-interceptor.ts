import { Code, type Interceptor } from "@connectrpc/connect";
import type { CallOutcome } from "./call-outcome.js";
import { acceptRequestId, requestIdKey } from "./request-id.js";

/**
 * createObservabilityInterceptor gives every call that connect-node serves a
 * request id (kept from x-request-id when sent, echoed back on success and
 * error) and logs its outcome; see CallOutcome for the error mapping.
 */
export function createObservabilityInterceptor(outcome: CallOutcome): Interceptor {
  return (next) => async (req) => {
    const start = performance.now();
    const requestId = acceptRequestId(req.header.get("x-request-id"));
    req.contextValues.set(requestIdKey, requestId);
    const procedure = req.method.parent.typeName + "/" + req.method.name;
    try {
      const res = await next(req);
      res.header.set("x-request-id", requestId);
      if (!res.stream) {
        outcome.ended(requestId, procedure, start);
        return res;
      }
      // A stream's outcome is known when it ends, not when its first message is ready.
      const messages = res.message;
      return {
        ...res,
        message: (async function* () {
          let result: "ok" | "failed" | undefined;
          try {
            yield* messages;
            result = "ok";
          } catch (e) {
            result = "failed";
            throw outcome.failed(e, requestId, procedure, start);
          } finally {
            // Stopped early (the client went away) or ended by the client's cancel: canceled.
            if (result !== "failed") outcome.ended(requestId, procedure, start, result === "ok" && !req.signal.aborted ? undefined : Code.Canceled);
          }
        })(),
      };
    } catch (e) {
      throw outcome.failed(e, requestId, procedure, start);
    }
  };
}
