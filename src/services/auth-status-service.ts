import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { AuthStatusService, type GetAuthStatusResponse } from "../../gen/sessionstorage/v1/auth_status_service_pb.js";
import { authenticateToken } from "../auth/caller.js";
import { credentialsKey } from "../auth/credentials.js";
import { secondsRemaining } from "../core/session.js";
import type { SessionCore } from "../core/session-core.js";
import { requestIdKey } from "../observability/request-id.js";
import { timestampOf } from "./timestamp.js";

const replyType = "sessionstorage.v1.GetAuthStatusResponse";

/**
 * createAuthStatusService implements the Auth status API. The document's
 * messages carry the request id, so they are built here with it. API client
 * credentials sent with the Bearer token ask "a live session of my tenant?":
 * another tenant's session is then answered exactly as an unknown token.
 * Its replies are made as messages (with their $typeName), not as inits the
 * dispatcher would copy into one with `create()`: it is on every validation.
 */
export function createAuthStatusService(core: SessionCore): ServiceImpl<typeof AuthStatusService> {
  return {
    async getAuthStatus(_req, ctx) {
      const { bearerToken } = ctx.values.get(credentialsKey);
      if (bearerToken === undefined) {
        throw new ConnectError("No authorization token provided", Code.Unauthenticated);
      }
      const session = await authenticateToken(ctx, core, bearerToken, true);
      if (!session) {
        const requestId = ctx.values.get(requestIdKey);
        return { $typeName: replyType, success: true, valid: false, message: `Session expired or invalid [request_id: ${requestId}]` } satisfies GetAuthStatusResponse;
      }
      return {
        $typeName: replyType,
        success: true,
        valid: true,
        user: session.profile ?? {},
        session: {
          $typeName: "sessionstorage.v1.AuthSession",
          createdAt: timestampOf(session.createdAt),
          lastAccessed: timestampOf(session.lastAccessedAt),
          timeoutMinutes: Math.round(session.idleTimeoutMs / 60_000),
          remainingSeconds: secondsRemaining(session, core.now()),
          expiresAt: timestampOf(session.expiresAt),
        },
      } satisfies GetAuthStatusResponse;
    },
  };
}
