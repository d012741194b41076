import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { ApiClientVerifier } from "./api-client-verifier.js";
import { credentialsKey } from "./credentials.js";
import { parseBearer, parseSessionCookie } from "./parse-credentials.js";

/**
 * createAuthInterceptor parses the caller's credentials into the call's
 * context values. Wrong API client credentials end the call here; which
 * credential a method needs is the method's business (see caller.ts).
 * Header names are case-insensitive, so ClientID and clientid (gRPC metadata)
 * are the same.
 */
export function createAuthInterceptor(verifier: ApiClientVerifier): Interceptor {
  return (next) => async (req) => {
    const clientIdHeader = req.header.get("clientid");
    const clientSecretHeader = req.header.get("clientsecret");
    let clientId: string | undefined;
    if (clientIdHeader !== null || clientSecretHeader !== null) {
      if (!clientIdHeader || !clientSecretHeader) {
        throw new ConnectError("ClientID and ClientSecret must be sent together", Code.Unauthenticated);
      }
      clientId = verifier.verify(clientIdHeader, clientSecretHeader);
      if (clientId === undefined) {
        throw new ConnectError("invalid API client credentials", Code.Unauthenticated);
      }
    }
    req.contextValues.set(credentialsKey, {
      clientId,
      bearerToken: parseBearer(req.header.get("authorization")),
      sessionCookie: parseSessionCookie(req.header.get("cookie")),
    });
    return next(req);
  };
}
