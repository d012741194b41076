import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { CookieSessionService } from "../../gen/sessionstorage/v1/cookie_session_service_pb.js";
import { requireApiClient } from "../auth/caller.js";
import { credentialsKey } from "../auth/credentials.js";
import type { JsonObject } from "../core/session.js";
import type { SessionCore } from "../core/session-core.js";
import { expiredSessionCookie, sessionCookie, type CookieOptions } from "./session-cookie.js";

// The document's messages, verbatim.
const messages = Object.freeze({
  userIdRequired: "Invalid request: user ID is required in the request body.",
  cookieRequired: "Invalid request: session cookie is required.",
  cookieExpired: "Invalid request: session cookie is expired. Please create a new session.",
  sessionIdRequired: "Invalid request: session ID is required.",
  notExpired: "Session is not expired",
  deleted: "Session deleted.",
});

/**
 * createCookieSessionService implements the Cookie sessions API. The cookie
 * holds the opaque session token; over gRPC it travels as Cookie and
 * Set-Cookie metadata.
 */
export function createCookieSessionService(core: SessionCore, cookies: CookieOptions): ServiceImpl<typeof CookieSessionService> {
  const profileText = (profile: JsonObject | undefined, field: string) => {
    const value = profile?.[field];
    return typeof value === "string" ? value : "";
  };

  return {
    async createCookieSession(req, ctx) {
      const tenantId = requireApiClient(ctx);
      if (req.userId === "") throw new ConnectError(messages.userIdRequired, Code.InvalidArgument);
      const profile: JsonObject = { ...(req.user ?? {}) };
      if (req.email !== "") profile.email = req.email;
      if (req.role !== "") profile.role = req.role;
      const { session, token } = await core.create({ tenantId, userId: req.userId, profile });
      ctx.responseHeader.append("set-cookie", sessionCookie(token, session.expiresAt, cookies));
      return {
        text: {
          userId: session.userId,
          sessionId: session.id,
          sessionExpiry: new Date(session.expiresAt).toISOString(),
          recordId: session.id,
          recordVersion: 0,
        },
      };
    },

    async validateCookieSession(_req, ctx) {
      const { sessionCookie: token } = ctx.values.get(credentialsKey);
      if (token === undefined || token === "") throw new ConnectError(messages.cookieRequired, Code.InvalidArgument);
      const session = await core.authenticate(token, true);
      if (!session) {
        throw new ConnectError(messages.cookieExpired, Code.FailedPrecondition, { "set-cookie": expiredSessionCookie(cookies) });
      }
      // The expiry slid: send the cookie again so the browser keeps it as long.
      ctx.responseHeader.append("set-cookie", sessionCookie(token, session.expiresAt, cookies));
      return {
        message: messages.notExpired,
        data: { email: profileText(session.profile, "email"), userId: session.userId, role: profileText(session.profile, "role") },
      };
    },

    async deleteCookieSession(_req, ctx) {
      const { sessionCookie: token } = ctx.values.get(credentialsKey);
      if (token === undefined) throw new ConnectError(messages.cookieRequired, Code.InvalidArgument);
      if (token === "") throw new ConnectError(messages.sessionIdRequired, Code.InvalidArgument);
      const session = await core.authenticate(token, false);
      if (!session) {
        throw new ConnectError(messages.cookieExpired, Code.FailedPrecondition, { "set-cookie": expiredSessionCookie(cookies) });
      }
      await core.delete(session.tenantId, session.id);
      ctx.responseHeader.append("set-cookie", expiredSessionCookie(cookies));
      return { message: messages.deleted };
    },
  };
}
