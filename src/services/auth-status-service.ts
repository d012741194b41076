import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { AuthStatusService } from "../../gen/sessionstorage/v1/auth_status_service_pb.js";
import { authenticateToken } from "../auth/caller.js";
import { credentialsKey } from "../auth/credentials.js";
import { secondsRemaining } from "../core/session.js";
import type { SessionCore } from "../core/session-core.js";
import { requestIdKey } from "../observability/request-id.js";

/**
 * createAuthStatusService implements the Auth status API. The document's
 * messages carry the request id, so they are built here with it. API client
 * credentials sent with the Bearer token ask "a live session of my tenant?":
 * another tenant's session is then answered exactly as an unknown token.
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
        return { success: true, valid: false, message: `Session expired or invalid [request_id: ${requestId}]` };
      }
      return {
        success: true,
        valid: true,
        user: session.profile ?? {},
        session: {
          createdAt: timestampFromMs(session.createdAt),
          lastAccessed: timestampFromMs(session.lastAccessedAt),
          timeoutMinutes: Math.round(session.idleTimeoutMs / 60_000),
          remainingSeconds: secondsRemaining(session, core.now()),
          expiresAt: timestampFromMs(session.expiresAt),
        },
      };
    },
  };
}
