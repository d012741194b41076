import { createTransport, type TransportOptions } from "./create-transport.js";
import { credentialsInterceptor } from "./credentials-interceptor.js";
import { createServiceClients, type ServiceClients } from "./service-clients.js";

export interface SessionStorageClientOptions extends TransportOptions {
  /** The API client (tenant) id, one of the service's API_CLIENTS. */
  readonly clientId: string;
  /** Its secret. Back ends only: it acts for the whole tenant. */
  readonly clientSecret: string;
}

/**
 * createSessionStorageClient is how a back end calls the service as an API
 * client: every call carries its credentials, a request id and a deadline.
 */
export function createSessionStorageClient(options: SessionStorageClientOptions): ServiceClients {
  if (!options.clientId || !options.clientSecret) throw new Error("clientId and clientSecret are required");
  return createServiceClients(createTransport(options, credentialsInterceptor(options.clientId, options.clientSecret)));
}
