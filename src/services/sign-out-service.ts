import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { SignOutService } from "../../gen/sessionstorage/v1/sign_out_service_pb.js";
import { requireApiClient, resolveCaller, sessionForCaller } from "../auth/caller.js";
import type { SessionCore } from "../core/session-core.js";

/** createSignOutService implements sign out everywhere (sign_out_service.proto). */
export function createSignOutService(core: SessionCore): ServiceImpl<typeof SignOutService> {
  return {
    async revokeUserSessions(req, ctx) {
      const tenantId = requireApiClient(ctx);
      const ids = await core.revokeUser(tenantId, req.userId, req.reason === "" ? undefined : req.reason);
      return { revokedCount: ids.length, sessionIds: ids };
    },

    async endOtherSessions(req, ctx) {
      const caller = await resolveCaller(ctx, core);
      // A holder keeps its own session; naming another would end its own.
      if (caller.kind === "session" && req.sessionId !== caller.session.id) {
        throw new ConnectError("session_id must be the session of the Bearer token: the one that stays signed in", Code.PermissionDenied);
      }
      const keep = await sessionForCaller(caller, core, req.sessionId);
      if (keep.status !== "active") throw new ConnectError(`session "${keep.id}" is ${keep.status}`, Code.FailedPrecondition);
      const ids = await core.endOtherSessions(keep);
      return { endedCount: ids.length, sessionIds: ids };
    },
  };
}
