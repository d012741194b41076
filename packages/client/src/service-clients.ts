import { createClient, type Client, type Transport } from "@connectrpc/connect";
import {
  AuthStatusService,
  ClientSessionsService,
  CookieSessionService,
  JwksService,
  SessionEventsService,
  SessionStorageService,
  SessionsService,
  SignOutService,
} from "./descriptors.js";

/** ServiceClients are typed clients for the five documented APIs, JWKS, sign-out and session events, over one transport. */
export interface ServiceClients {
  /** Secure Session Storage (`/api/v1/session-storage`). */
  readonly sessionStorage: Client<typeof SessionStorageService>;
  /** Sessions management (`/session-storage/sessions`). */
  readonly sessions: Client<typeof SessionsService>;
  /** Auth status (`/auth/status`): needs a Bearer token. */
  readonly authStatus: Client<typeof AuthStatusService>;
  /** Client sessions (`/v1/client/sessions/{id}/…`). */
  readonly clientSessions: Client<typeof ClientSessionsService>;
  /** Cookie sessions (`/api/session/…`). */
  readonly cookieSessions: Client<typeof CookieSessionService>;
  /** The keys that verify the service's JWTs. */
  readonly jwks: Client<typeof JwksService>;
  /** Sign out everywhere: an API client revokes a user's sessions; a holder ends its user's others. */
  readonly signOut: Client<typeof SignOutService>;
  /** The tenant's session events, as a resumable stream (API client). */
  readonly sessionEvents: Client<typeof SessionEventsService>;
}

export function createServiceClients(transport: Transport): ServiceClients {
  return {
    sessionStorage: createClient(SessionStorageService, transport),
    sessions: createClient(SessionsService, transport),
    authStatus: createClient(AuthStatusService, transport),
    clientSessions: createClient(ClientSessionsService, transport),
    cookieSessions: createClient(CookieSessionService, transport),
    jwks: createClient(JwksService, transport),
    signOut: createClient(SignOutService, transport),
    sessionEvents: createClient(SessionEventsService, transport),
  };
}
