import type { Interceptor } from "@connectrpc/connect";

/**
 * requestIdInterceptor gives every call its own x-request-id (a new UUID)
 * unless the caller passed one in the call's headers, e.g. to continue the
 * id of the request it is serving. The service logs it and sends it back.
 */
export function requestIdInterceptor(): Interceptor {
  return (next) => (req) => {
    if (!req.header.has("x-request-id")) req.header.set("x-request-id", crypto.randomUUID());
    return next(req);
  };
}
