import type { Interceptor } from "@connectrpc/connect";

/** bearerTokenInterceptor authenticates every call as the holder of a session token. */
export function bearerTokenInterceptor(token: string): Interceptor {
  return (next) => (req) => {
    req.header.set("authorization", `Bearer ${token}`);
    return next(req);
  };
}
