import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { SessionsService } from "../../gen/sessionstorage/v1/sessions_service_pb.js";
import { requireApiClient } from "../auth/caller.js";
import type { Session } from "../core/session.js";
import type { SessionCore } from "../core/session-core.js";
import type { PageCursor, PageTokenCodec } from "../crypto/page-token-codec.js";
import { parsePageSize } from "./page-size.js";

/** createSessionsService implements the Sessions management API. */
export function createSessionsService(core: SessionCore, pageTokens: PageTokenCodec): ServiceImpl<typeof SessionsService> {
  const toInfo = (s: Session) => ({
    id: s.id,
    createdAt: timestampFromMs(s.createdAt),
    updatedAt: timestampFromMs(s.updatedAt),
    expiresAt: timestampFromMs(s.expiresAt),
    userId: s.userId,
  });

  // This API shows active sessions only: an ended or removed one is gone here.
  const activeOnly = { activeOnly: true } as const;

  return {
    async listSessions(req, ctx) {
      const tenantId = requireApiClient(ctx);
      const pageSize = parsePageSize(req.pageSize, "page_size");
      if (req.userId !== "") core.validateUserId(req.userId);
      // The scope binds a token to its list: one user's, or the whole tenant's.
      const scope = `${tenantId}/${req.userId}`;
      let after: PageCursor | undefined;
      if (req.pageToken !== "") {
        after = pageTokens.decode(req.pageToken);
        if (!after || after.scope !== scope) {
          throw new ConnectError("page_token is not valid for this list; pass next_page_token from the previous page unchanged", Code.InvalidArgument);
        }
      }
      let page: readonly Session[];
      if (req.userId !== "") {
        const all = await core.listUser(tenantId, req.userId);
        page = all.filter((s) => !after || s.createdAt > after.createdAt || (s.createdAt === after.createdAt && s.id > after.id)).slice(0, pageSize + 1);
      } else {
        page = (await core.listTenant(tenantId, { after, limit: pageSize + 1 })).sessions;
      }
      const more = page.length > pageSize;
      const shown = page.slice(0, pageSize);
      const last = shown.at(-1);
      return {
        data: shown.map(toInfo),
        nextPageToken: more && last ? pageTokens.encode({ createdAt: last.createdAt, id: last.id, scope }) : undefined,
      };
    },

    async getSession(req, ctx) {
      const tenantId = requireApiClient(ctx);
      return { data: toInfo(await core.get(tenantId, req.sessionId, activeOnly)) };
    },

    async deleteSession(req, ctx) {
      const tenantId = requireApiClient(ctx);
      await core.delete(tenantId, req.sessionId, activeOnly);
      return {};
    },

    async updateSessionExpiration(req, ctx) {
      const tenantId = requireApiClient(ctx);
      await core.extend(tenantId, req.sessionId, req.ttlSeconds, activeOnly);
      return {};
    },
  };
}
