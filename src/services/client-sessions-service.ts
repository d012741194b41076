import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { ClientSessionsService } from "../../gen/sessionstorage/v1/client_sessions_service_pb.js";
import { resolveCaller, sessionForCaller } from "../auth/caller.js";
import type { JwtTemplate } from "../config/config.js";
import { visibleStatus, type Session } from "../core/session.js";
import type { SessionCore } from "../core/session-core.js";
import type { JwtIssuer } from "../crypto/jwt-issuer.js";
import { noStore } from "./no-store.js";
import { timestampOf } from "./timestamp.js";

export interface ClientSessionsDeps {
  readonly core: SessionCore;
  readonly jwt: JwtIssuer;
  readonly jwtTtlSeconds: number;
  readonly templates: Readonly<Record<string, JwtTemplate>>;
}

/**
 * createClientSessionsService implements the Client sessions API. A session
 * holder reaches its own user's sessions; an API client its tenant's.
 */
export function createClientSessionsService(deps: ClientSessionsDeps): ServiceImpl<typeof ClientSessionsService> {
  const { core, jwt } = deps;

  const toClientSession = (s: Session) => ({
    id: s.id,
    userId: s.userId,
    status: visibleStatus(s, core.now()),
    lastActiveAt: timestampOf(s.lastAccessedAt),
    expireAt: timestampOf(s.expiresAt),
    createdAt: timestampOf(s.createdAt),
    updatedAt: timestampOf(s.updatedAt),
  });

  // The session and its user's client. After a touch the current session is
  // known (the touched one), so it is not read again.
  async function reply(session: Session, currentId?: string) {
    const [sessions, current] = await Promise.all([
      core.listUser(session.tenantId, session.userId),
      currentId === undefined ? core.current(session.tenantId, session.userId) : undefined,
    ]);
    return {
      response: toClientSession(session),
      client: { sessions: sessions.map(toClientSession), lastActiveSessionId: currentId ?? current?.id ?? "" },
    };
  }

  async function target(ctx: HandlerContext, sessionId: string) {
    const caller = await resolveCaller(ctx, core);
    return { caller, session: await sessionForCaller(caller, core, sessionId) };
  }

  // Tokens only for live sessions; claims never override aud, sub, sid, iss,
  // iat or exp (the issuer drops them). The JWT is a bearer credential, so
  // no cache keeps the reply.
  async function issue(ctx: HandlerContext, session: Session, lifetimeSeconds: number, extra: Record<string, unknown>) {
    if (session.status !== "active") {
      throw new ConnectError(`session "${session.id}" is ${session.status}; only active sessions get tokens`, Code.NotFound);
    }
    // A JWT never outlives the session it speaks for.
    const sessionLeft = Math.floor((session.expiresAt - core.now()) / 1000);
    const subject = { userId: session.userId, sessionId: session.id, audience: session.tenantId };
    const signed = await jwt.sign(subject, Math.max(1, Math.min(lifetimeSeconds, sessionLeft)), extra);
    noStore(ctx);
    return { jwt: signed };
  }

  return {
    async getClientSession(req, ctx) {
      const { session } = await target(ctx, req.sessionId);
      return reply(session);
    },

    async touchClientSession(req, ctx) {
      const { session } = await target(ctx, req.sessionId);
      return reply(await core.touch(session.tenantId, session.id), session.id);
    },

    async endClientSession(req, ctx) {
      const { session } = await target(ctx, req.sessionId);
      return reply(await core.setStatus(session.tenantId, session.id, "ended"));
    },

    async removeClientSession(req, ctx) {
      const { session } = await target(ctx, req.sessionId);
      return reply(await core.setStatus(session.tenantId, session.id, "removed"));
    },

    async createSessionToken(req, ctx) {
      const { session } = await target(ctx, req.sessionId);
      return issue(ctx, session, deps.jwtTtlSeconds, {});
    },

    async createSessionTokenFromTemplate(req, ctx) {
      // Credentials first: an unauthenticated caller learns nothing, not even
      // which template names exist. One session lookup, one slide.
      const { session } = await target(ctx, req.sessionId);
      const template = Object.hasOwn(deps.templates, req.templateName) ? deps.templates[req.templateName] : undefined;
      if (!template) throw new ConnectError(`no JWT template named "${req.templateName}"`, Code.NotFound);
      const claims: Record<string, unknown> = {};
      for (const [claim, field] of Object.entries(template.claims)) {
        const value = session.profile?.[field];
        if (value !== undefined) claims[claim] = value;
      }
      return issue(ctx, session, template.lifetimeSeconds, claims);
    },
  };
}
