import { Code, type Interceptor } from "@connectrpc/connect";
import { traceHeaders, type CallOutcome } from "./call-outcome.js";
import type { Protocol } from "./metrics.js";
import { acceptRequestId, requestIdKey } from "./request-id.js";

/**
 * createObservabilityInterceptor gives every call that connect-node serves a
 * request id (kept from x-request-id when sent, echoed back on success and
 * error) and its trace context, and records its outcome; see CallOutcome.
 */
export function createObservabilityInterceptor(outcome: CallOutcome): Interceptor {
  return (next) => async (req) => {
    const requestId = acceptRequestId(req.header.get("x-request-id"));
    req.contextValues.set(requestIdKey, requestId);
    const procedure = req.method.parent.typeName + "/" + req.method.name;
    const call = outcome.begin(requestId, procedure, protocolOf(req.header.get("content-type")), req.header.get("traceparent"), req.header.get("tracestate"));
    try {
      const res = await next(req);
      res.header.set("x-request-id", requestId);
      if (call.trace) for (const [name, value] of Object.entries(traceHeaders(call.trace))) res.header.set(name, value);
      if (!res.stream) {
        outcome.ended(call);
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
            throw outcome.failed(e, call);
          } finally {
            // Stopped early (the client went away) or ended by the client's cancel: canceled.
            if (result !== "failed") outcome.ended(call, result === "ok" && !req.signal.aborted ? undefined : Code.Canceled);
          }
        })(),
      };
    } catch (e) {
      throw outcome.failed(e, call);
    }
  };
}

// connect-node serves gRPC, gRPC-Web and Connect; the content type tells which.
function protocolOf(contentType: string | null): Protocol {
  if (contentType?.startsWith("application/grpc-web")) return "grpc_web";
  if (contentType?.startsWith("application/grpc")) return "grpc";
  return "connect";
}
