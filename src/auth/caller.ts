import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import type { Session } from "../core/session.js";
import type { SessionCore } from "../core/session-core.js";
import { credentialsKey } from "./credentials.js";
import { sessionNotFound } from "../core/session-not-found.js";

/** Caller is who is calling: an API client (a tenant) or a session holder. */
export type Caller =
  | { readonly kind: "client"; readonly tenantId: string }
  | { readonly kind: "session"; readonly tenantId: string; readonly session: Session };

/** requireApiClient returns the calling tenant or fails UNAUTHENTICATED. */
export function requireApiClient(ctx: HandlerContext): string {
  const { clientId } = ctx.values.get(credentialsKey);
  if (clientId === undefined) {
    throw new ConnectError("API client credentials required: send the ClientID and ClientSecret headers", Code.Unauthenticated);
  }
  return clientId;
}

/**
 * resolveCaller accepts API client credentials or a session token (Bearer).
 * A token is resolved and slid in one round trip; a dead or unknown token is
 * UNAUTHENTICATED.
 */
export async function resolveCaller(ctx: HandlerContext, core: SessionCore): Promise<Caller> {
  const credentials = ctx.values.get(credentialsKey);
  if (credentials.clientId !== undefined) return { kind: "client", tenantId: credentials.clientId };
  if (credentials.bearerToken !== undefined) {
    const session = await core.authenticate(credentials.bearerToken, true);
    if (!session) throw new ConnectError("session token expired or invalid", Code.Unauthenticated);
    return { kind: "session", tenantId: session.tenantId, session };
  }
  throw new ConnectError(
    "credentials required: send Authorization: Bearer <session token>, or the ClientID and ClientSecret headers",
    Code.Unauthenticated,
  );
}

/**
 * sessionForCaller returns a session the caller may act on: any of its
 * tenant's for an API client, its own user's for a session holder. Anything
 * else is NOT_FOUND, so callers cannot probe for other users' sessions.
 */
export async function sessionForCaller(caller: Caller, core: SessionCore, sessionId: string): Promise<Session> {
  if (caller.kind === "session") {
    if (sessionId === caller.session.id) return caller.session;
    const session = await core.get(caller.tenantId, sessionId);
    if (session.userId !== caller.session.userId) throw sessionNotFound(sessionId);
    return session;
  }
  return core.get(caller.tenantId, sessionId);
}
