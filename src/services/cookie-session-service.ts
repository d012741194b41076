import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { CookieSessionService } from "../../gen/sessionstorage/v1/cookie_session_service_pb.js";
import { authenticateToken, requireApiClient } from "../auth/caller.js";
import { credentialsKey } from "../auth/credentials.js";
import { limits } from "../core/limits.js";
import type { JsonObject } from "../core/session.js";
import type { SessionCore } from "../core/session-core.js";
import { noStore, noStoreHeaders } from "./no-store.js";
import { checkCookieOptions, expiredSessionCookie, isCookieValue, sessionCookie, type CookieOptions } from "./session-cookie.js";

// The document's messages, verbatim.
const messages = Object.freeze({
  userIdRequired: "Invalid request: user ID is required in the request body.",
  requestError: "There was an error with the request.",
  cookieRequired: "Invalid request: session cookie is required.",
  cookieExpired: "Invalid request: session cookie is expired. Please create a new session.",
  sessionIdRequired: "Invalid request: session ID is required.",
  notExpired: "Session is not expired",
  deleted: "Session deleted.",
});

const foreignOrigin = "Invalid request: this origin may not use the session cookie.";

export interface CookieSessionOptions extends CookieOptions {
  /**
   * Origins (CORS_ALLOWED_ORIGINS) whose pages may call the cookie-authenticated
   * methods, besides the service's own origin. "*" does not count: it allows
   * reading without credentials, not acting with the cookie.
   */
  readonly allowedOrigins?: readonly string[];
}

/**
 * createCookieSessionService implements the Cookie sessions API. The cookie
 * holds the opaque session token; over gRPC it travels as Cookie and
 * Set-Cookie metadata.
 */
export function createCookieSessionService(core: SessionCore, options: CookieSessionOptions): ServiceImpl<typeof CookieSessionService> {
  const cookies: CookieOptions = { secure: options.secure, domain: options.domain };
  checkCookieOptions(cookies);
  const allowedOrigins = new Set(options.allowedOrigins ?? []);

  const profileText = (profile: JsonObject | undefined, field: string) => {
    const value = profile?.[field];
    return typeof value === "string" ? value : "";
  };

  // The browser attaches the cookie to any request to us, and the REST face
  // takes any Content-Type, so a cross-site form could validate or delete
  // without a preflight. Browsers send Origin on such requests; refuse the
  // origins that are neither ours nor allowed.
  function refuseForeignOrigin(ctx: HandlerContext) {
    const origin = ctx.requestHeader.get("origin");
    if (origin === null || allowedOrigins.has(origin) || isOwnOrigin(origin, ctx)) return;
    throw new ConnectError(foreignOrigin, Code.PermissionDenied);
  }

  // The cookie's session, slid when asked. API client credentials sent with
  // the cookie scope it to their tenant. A value that could not have come
  // from our Set-Cookie (not cookie-octets) is no session cookie at all.
  const cookieSession = (ctx: HandlerContext, token: string, slide: boolean) =>
    isCookieValue(token) ? authenticateToken(ctx, core, token, slide) : Promise.resolve(undefined);

  // The expired-cookie answer also drops the cookie, so it is not cached either.
  const cookieExpired = () =>
    new ConnectError(messages.cookieExpired, Code.FailedPrecondition, { ...noStoreHeaders, "set-cookie": expiredSessionCookie(cookies) });

  return {
    async createCookieSession(req, ctx) {
      const tenantId = requireApiClient(ctx);
      if (req.userId === "") throw new ConnectError(messages.userIdRequired, Code.InvalidArgument);
      // The document's generic message, not the core's description of user ids.
      if (!limits.userIdPattern.test(req.userId)) throw new ConnectError(messages.requestError, Code.InvalidArgument);
      const profile: JsonObject = { ...(req.user ?? {}) };
      if (req.email !== "") profile.email = req.email;
      if (req.role !== "") profile.role = req.role;
      const { session, token } = await core.create({ tenantId, userId: req.userId, profile });
      noStore(ctx);
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
      refuseForeignOrigin(ctx);
      const { sessionCookie: token } = ctx.values.get(credentialsKey);
      if (token === undefined || token === "") throw new ConnectError(messages.cookieRequired, Code.InvalidArgument);
      const session = await cookieSession(ctx, token, true);
      if (!session) throw cookieExpired();
      // The expiry slid: send the cookie again so the browser keeps it as long.
      noStore(ctx);
      ctx.responseHeader.append("set-cookie", sessionCookie(token, session.expiresAt, cookies));
      return {
        message: messages.notExpired,
        data: { email: profileText(session.profile, "email"), userId: session.userId, role: profileText(session.profile, "role") },
      };
    },

    async deleteCookieSession(_req, ctx) {
      refuseForeignOrigin(ctx);
      const { sessionCookie: token } = ctx.values.get(credentialsKey);
      if (token === undefined) throw new ConnectError(messages.cookieRequired, Code.InvalidArgument);
      if (token === "") throw new ConnectError(messages.sessionIdRequired, Code.InvalidArgument);
      const session = await cookieSession(ctx, token, false);
      if (!session) throw cookieExpired();
      await core.delete(session.tenantId, session.id);
      noStore(ctx);
      ctx.responseHeader.append("set-cookie", expiredSessionCookie(cookies));
      return { message: messages.deleted };
    },
  };
}

/**
 * isOwnOrigin says whether `origin` is the service's own: http or https on
 * the host the request was sent to (a TLS proxy may stand in front). The
 * host is the Host header (the REST transcoder passes it on), or the URL's
 * authority for HTTP/2 calls, which carry :authority instead.
 */
function isOwnOrigin(origin: string, ctx: HandlerContext): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false; // "null" and other opaque origins
  }
  if ((url.protocol !== "http:" && url.protocol !== "https:") || origin !== url.origin) return false;
  const host = ctx.requestHeader.get("host") ?? new URL(ctx.url).host;
  try {
    // Through URL, so default ports compare equal: "example.com:443" is "example.com" on https.
    return new URL(`${url.protocol}//${host}`).host === url.host;
  } catch {
    return false;
  }
}
