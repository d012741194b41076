import type { DescMethod, JsonObject } from "@bufbuild/protobuf";
import { sessionCookieName } from "../../../src/auth/credentials.js";

/** The credentials the service reads (src/auth/read-credentials.ts). */
export const securitySchemes: JsonObject = {
  ClientID: { type: "apiKey", in: "header", name: "ClientID", description: "An API client's id; sent with ClientSecret. Each API client is a tenant." },
  ClientSecret: { type: "apiKey", in: "header", name: "ClientSecret", description: "The API client's secret; sent with ClientID." },
  bearerAuth: { type: "http", scheme: "bearer", description: "A session token (the token a session was saved or created with)." },
  sessionCookie: { type: "apiKey", in: "cookie", name: sessionCookieName, description: "The session cookie set by createSession." },
};

type Requirement = JsonObject;
const apiClient: Requirement = { ClientID: [], ClientSecret: [] };
const bearer: Requirement = { bearerAuth: [] };
const cookie: Requirement = { sessionCookie: [] };

/**
 * Who may call each method. The proto does not say it in a form a generator
 * can read (the services decide, src/auth/caller.ts), so it is declared here,
 * per service with per-method exceptions. A service missing from this table
 * fails generation: a new API must say who may call it.
 */
const callers: Record<string, { service: Requirement[]; methods?: Record<string, Requirement[]> }> = {
  "sessionstorage.v1.SessionStorageService": {
    service: [apiClient],
    // A session's own token shows that session (resolveCaller, currentFor).
    methods: {
      GetStoredSession: [apiClient, bearer],
      GetCurrentSession: [apiClient, bearer],
      GetSessionValidity: [apiClient, bearer],
    },
  },
  "sessionstorage.v1.SessionsService": { service: [apiClient] },
  "sessionstorage.v1.AuthStatusService": { service: [bearer] },
  "sessionstorage.v1.ClientSessionsService": { service: [bearer, apiClient] },
  "sessionstorage.v1.CookieSessionService": {
    service: [apiClient],
    methods: { ValidateCookieSession: [cookie], DeleteCookieSession: [cookie] },
  },
  "sessionstorage.v1.JwksService": { service: [] },
  // Sign out everywhere: a tenant revokes a user's sessions; a holder (or the API client) ends the others.
  "sessionstorage.v1.SignOutService": { service: [apiClient], methods: { EndOtherSessions: [bearer, apiClient] } },
  "sessionstorage.v1.SessionEventsService": { service: [apiClient] },
};

/** securityOf is an operation's security requirements: any one of them suffices; [] means public. */
export function securityOf(method: DescMethod): Requirement[] {
  const entry = callers[method.parent.typeName];
  if (!entry) throw new Error(`${method.parent.typeName} is not in tools/protoc-gen-openapi/src/security.ts: declare who may call it`);
  for (const name of Object.keys(entry.methods ?? {})) {
    if (!method.parent.methods.some((m) => m.name === name)) throw new Error(`security.ts names ${method.parent.typeName}/${name}, which does not exist`);
  }
  return entry.methods?.[method.name] ?? entry.service;
}
