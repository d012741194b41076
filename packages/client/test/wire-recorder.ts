import type { Interceptor } from "@connectrpc/connect";

/** One call as it left the client and came back. */
export interface RecordedCall {
  readonly procedure: string;
  readonly requestHeader: Headers;
  readonly responseHeader?: Headers;
}

/**
 * wireRecorder is an interceptor placed after the client's own, so it sees
 * the headers exactly as they are sent, and the headers the service returned.
 */
export function wireRecorder(): { interceptor: Interceptor; calls: RecordedCall[] } {
  const calls: RecordedCall[] = [];
  const interceptor: Interceptor = (next) => async (req) => {
    const call: { procedure: string; requestHeader: Headers; responseHeader?: Headers } = {
      procedure: req.method.name,
      requestHeader: new Headers(req.header),
    };
    calls.push(call);
    const res = await next(req);
    call.responseHeader = res.header;
    return res;
  };
  return { interceptor, calls };
}
