import { createTransport, type TransportOptions } from "./create-transport.js";
import { bearerTokenInterceptor } from "./bearer-token-interceptor.js";
import { createServiceClients, type ServiceClients } from "./service-clients.js";

export interface SessionHolderClientOptions extends TransportOptions {
  /** The session token, sent as `Authorization: Bearer …`. */
  readonly token: string;
}

/**
 * createSessionHolderClient calls the service as the holder of one session
 * (auth status, the token's own current session, client sessions), with no
 * API client secret: for a service that received a user's token.
 */
export function createSessionHolderClient(options: SessionHolderClientOptions): ServiceClients {
  if (!options.token) throw new Error("token is required");
  return createServiceClients(createTransport(options, bearerTokenInterceptor(options.token)));
}
