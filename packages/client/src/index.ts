// @secure-session-storage/client: typed clients for Secure Session Storage.
export * from "./descriptors.js";
export { createSessionStorageClient, type SessionStorageClientOptions } from "./create-session-storage-client.js";
export { createSessionHolderClient, type SessionHolderClientOptions } from "./create-session-holder-client.js";
export { createServiceClients, type ServiceClients } from "./service-clients.js";
export { defaultTimeoutMs, type TransportOptions } from "./create-transport.js";
export * from "./interceptors.js";
