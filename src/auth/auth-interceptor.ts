import type { Interceptor } from "@connectrpc/connect";
import type { ApiClientVerifier } from "./api-client-verifier.js";
import { credentialsKey } from "./credentials.js";
import { readCredentials } from "./read-credentials.js";

/**
 * createAuthInterceptor puts the caller's credentials into the call's context
 * values, for calls that connect-node serves (streams, gRPC-Web, compressed
 * or GET requests); the unary dispatcher does the same with readCredentials.
 */
export function createAuthInterceptor(verifier: ApiClientVerifier): Interceptor {
  return (next) => async (req) => {
    req.contextValues.set(credentialsKey, readCredentials(req.header, verifier));
    return next(req);
  };
}
