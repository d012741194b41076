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
 * authenticateToken resolves a session token (Bearer or cookie) for this
 * call, sliding it when asked. When the call also carries API client
 * credentials they scope the token to that tenant: another tenant's session
 * is then exactly an unknown token (undefined), and is never slid. This is
 * how a relying service asks "is this token a live session of mine?".
 */
export function authenticateToken(ctx: HandlerContext, core: SessionCore, token: string, slide: boolean): Promise<Session | undefined> {
  return core.authenticate(token, slide, ctx.values.get(credentialsKey).clientId);
}

/**
 * resolveCaller accepts a session token (Bearer) or API client credentials.
 * A Bearer token, when sent, says who is calling: its session's holder;
 * credentials sent with it only scope it to their tenant (a token of another
 * tenant is then unknown). Without a token, the API client acts for its
 * tenant. A token is resolved and slid in one round trip; a dead, unknown or
 * foreign token is UNAUTHENTICATED.
 */
export async function resolveCaller(ctx: HandlerContext, core: SessionCore): Promise<Caller> {
  const credentials = ctx.values.get(credentialsKey);
  if (credentials.bearerToken !== undefined) {
    const session = await authenticateToken(ctx, core, credentials.bearerToken, true);
    if (!session) throw new ConnectError("session token expired or invalid", Code.Unauthenticated);
    return { kind: "session", tenantId: session.tenantId, session };
  }
  if (credentials.clientId !== undefined) return { kind: "client", tenantId: credentials.clientId };
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
