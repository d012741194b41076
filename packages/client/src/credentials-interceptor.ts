import type { Interceptor } from "@connectrpc/connect";

/**
 * credentialsInterceptor authenticates every call as an API client (the
 * tenant): the service reads `clientid`/`clientsecret` metadata on gRPC and
 * Connect alike.
 */
export function credentialsInterceptor(clientId: string, clientSecret: string): Interceptor {
  return (next) => (req) => {
    req.header.set("clientid", clientId);
    req.header.set("clientsecret", clientSecret);
    return next(req);
  };
}
