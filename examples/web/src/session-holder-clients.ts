import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { AuthStatusService, ClientSessionsService, SessionStorageService } from "@secure-session-storage/client/descriptors";
import { bearerTokenInterceptor, requestIdInterceptor } from "@secure-session-storage/client/interceptors";

export interface SessionHolderClients {
  readonly authStatus: Client<typeof AuthStatusService>;
  readonly clientSessions: Client<typeof ClientSessionsService>;
  readonly sessionStorage: Client<typeof SessionStorageService>;
}

/**
 * createSessionHolderClients calls the service as the holder of `token`
 * (Authorization: Bearer), over the Connect protocol with JSON. A page never
 * sends API client credentials: a ClientSecret acts for the whole tenant, and
 * the service's CORS policy does not let browsers send it.
 */
export function createSessionHolderClients(serviceUrl: string, token: string): SessionHolderClients {
  const transport = createConnectTransport({
    baseUrl: serviceUrl,
    interceptors: [requestIdInterceptor(), bearerTokenInterceptor(token)],
    defaultTimeoutMs: 10_000,
  });
  return {
    authStatus: createClient(AuthStatusService, transport),
    clientSessions: createClient(ClientSessionsService, transport),
    sessionStorage: createClient(SessionStorageService, transport),
  };
}
