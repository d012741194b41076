import { Code, ConnectError } from "@connectrpc/connect";
import type { ApiClientVerifier } from "./api-client-verifier.js";
import type { Credentials } from "./credentials.js";
import { parseBearer, parseSessionCookie } from "./parse-credentials.js";

/**
 * readCredentials parses a call's credentials from its headers. Wrong API
 * client credentials end the call here; which credential a method needs is
 * the method's business (see caller.ts). Header names are case-insensitive,
 * so ClientID and clientid (gRPC metadata) are the same.
 */
export function readCredentials(header: Pick<Headers, "get">, verifier: ApiClientVerifier): Credentials {
  const clientIdHeader = header.get("clientid");
  const clientSecretHeader = header.get("clientsecret");
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
  return {
    clientId,
    bearerToken: parseBearer(header.get("authorization")),
    sessionCookie: parseSessionCookie(header.get("cookie")),
  };
}
