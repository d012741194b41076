import { type MessageInitShape } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { SessionStorageService, StoredSessionSchema } from "../../gen/sessionstorage/v1/session_storage_service_pb.js";
import { authenticateToken, requireApiClient, resolveCaller } from "../auth/caller.js";
import { credentialsKey } from "../auth/credentials.js";
import { isLive, secondsRemaining, type Session, type SessionMetadata } from "../core/session.js";
import type { SessionCore } from "../core/session-core.js";
import { tokenPreview } from "../core/token-preview.js";
import { sessionNotFound } from "../core/session-not-found.js";
import { noStore } from "./no-store.js";
import { parsePageSize } from "./page-size.js";
import { timestampOf } from "./timestamp.js";

type StoredSessionInit = MessageInitShape<typeof StoredSessionSchema>;

// Per-field bounds inside the core's total metadata budget, so one field
// cannot take all of it and the error names the field.
const maxUserAgentLength = 512;
const maxIpAddressLength = 64;

/**
 * createSessionStorageService implements the Secure Session Storage API: a
 * thin mapping of the core's sessions to the document's shapes.
 */
export function createSessionStorageService(core: SessionCore): ServiceImpl<typeof SessionStorageService> {
  /**
   * The session's token in clear. A session found by the caller's Bearer
   * token comes without its stored token (the store leaves it in Redis): it
   * is the token the caller sent.
   */
  function tokenOf(session: Session, ctx: HandlerContext): string {
    const { bearerToken } = ctx.values.get(credentialsKey);
    return session.sealedToken === "" && bearerToken !== undefined ? bearerToken : core.revealToken(session);
  }

  function toStored(session: Session, token: string, showToken: boolean): StoredSessionInit {
    return {
      id: session.id,
      userId: session.userId,
      tokenPreview: tokenPreview(token),
      token: showToken ? token : undefined,
      expiresAt: timestampOf(session.expiresAt),
      isValid: isLive(session, core.now()),
      savedAt: timestampOf(session.updatedAt),
      createdAt: timestampOf(session.createdAt),
      status: session.status,
    };
  }

  // current/validity: a Bearer caller means its own session (slid by the
  // lookup; API client credentials sent with it scope it to their tenant); an
  // API client alone names the user. A dead, unknown or foreign Bearer token
  // is UNAUTHENTICATED for current (the credential is what is wrong) and "not
  // valid" for validity (answering that is validity's job).
  async function currentFor(ctx: HandlerContext, userId: string, deadTokenIsUnauthenticated: boolean): Promise<Session | undefined> {
    const { bearerToken } = ctx.values.get(credentialsKey);
    if (bearerToken !== undefined) {
      const session = await authenticateToken(ctx, core, bearerToken, true);
      if (!session && deadTokenIsUnauthenticated) throw new ConnectError("session token expired or invalid", Code.Unauthenticated);
      return session;
    }
    // Only an API client gets here: resolveCaller refuses a call without credentials.
    const { tenantId } = await resolveCaller(ctx, core);
    core.validateUserId(userId);
    return core.current(tenantId, userId);
  }

  return {
    async listStoredSessions(req, ctx) {
      const tenantId = requireApiClient(ctx);
      if (req.page < 0) throw new ConnectError("page must be 1 or more", Code.InvalidArgument);
      const page = req.page === 0 ? 1 : req.page;
      const limit = parsePageSize(req.limit, "limit");
      let sessions: readonly Session[];
      let total: number;
      if (req.userId !== "") {
        core.validateUserId(req.userId);
        const all = await core.listUser(tenantId, req.userId);
        total = all.length;
        sessions = all.slice((page - 1) * limit, page * limit);
      } else {
        const result = await core.listTenant(tenantId, { offset: (page - 1) * limit, limit, countTotal: true });
        sessions = result.sessions;
        total = result.total ?? 0;
      }
      return {
        data: sessions.map((s) => toStored(s, core.revealToken(s), false)),
        pagination: { page, limit, total },
      };
    },

    async getStoredSession(req, ctx) {
      const caller = await resolveCaller(ctx, core);
      if (caller.kind === "session" && caller.session.id !== req.id) {
        // A token shows only its own session in full.
        throw sessionNotFound(req.id);
      }
      const session = caller.kind === "session" ? caller.session : await core.get(caller.tenantId, req.id);
      noStore(ctx);
      return { session: toStored(session, tokenOf(session, ctx), true) };
    },

    async getCurrentSession(req, ctx) {
      const session = await currentFor(ctx, req.userId, true);
      if (!session) {
        throw new ConnectError(req.userId ? `user "${req.userId}" has no current session` : "no current session", Code.NotFound);
      }
      noStore(ctx);
      return {
        token: tokenOf(session, ctx),
        expiresAt: timestampOf(session.expiresAt),
        isValid: isLive(session, core.now()),
        id: session.id,
        userId: session.userId,
      };
    },

    async getSessionValidity(req, ctx) {
      const session = await currentFor(ctx, req.userId, false);
      // expires_at stays unset; REST renders it as null (always_present in the proto).
      if (!session) return { isValid: false, secondsRemaining: 0 };
      const now = core.now();
      return { isValid: isLive(session, now), expiresAt: timestampOf(session.expiresAt), secondsRemaining: secondsRemaining(session, now) };
    },

    async saveSession(req, ctx) {
      const tenantId = requireApiClient(ctx);
      const { session, token } = await core.create({
        tenantId,
        userId: req.userId,
        token: req.token,
        expiresAt: req.expiresAt ? timestampMs(req.expiresAt) : undefined,
        profile: req.user,
        metadata: toMetadata(req.metadata),
      });
      const stored = toStored(session, token, false);
      // A minted token is shown once, now; a caller's own token is not echoed.
      if (req.token === undefined) {
        stored.token = token;
        noStore(ctx);
      }
      return { session: stored };
    },

    async updateStoredSession(req, ctx) {
      const tenantId = requireApiClient(ctx);
      if (req.token === undefined && req.expiresAt === undefined) {
        throw new ConnectError("nothing to update: send token, expires_at or both", Code.InvalidArgument);
      }
      // A PUT saves the session, so the core also makes it the user's current one.
      const session = await core.update(tenantId, req.id, {
        token: req.token,
        expiresAt: req.expiresAt ? timestampMs(req.expiresAt) : undefined,
      });
      return { session: toStored(session, core.revealToken(session), false) };
    },

    async clearSessions(req, ctx) {
      const tenantId = requireApiClient(ctx);
      const count = await core.clear(tenantId, req.userId);
      // The document's message, whether one user's sessions or all were cleared.
      return { cleared: true, message: "All session tokens cleared from secure storage", deletedCount: count };
    },

    async deleteStoredSession(req, ctx) {
      const tenantId = requireApiClient(ctx);
      await core.delete(tenantId, req.id);
      return { deleted: true, id: req.id };
    },
  };
}

// The core bounds the metadata's total size.
function toMetadata(m: { userAgent: string; ipAddress: string; labels: Record<string, string> } | undefined): SessionMetadata | undefined {
  if (!m) return undefined;
  if (m.userAgent.length > maxUserAgentLength) {
    throw new ConnectError(`metadata.user_agent must be at most ${maxUserAgentLength} characters`, Code.InvalidArgument);
  }
  if (m.ipAddress.length > maxIpAddressLength) {
    throw new ConnectError(`metadata.ip_address must be at most ${maxIpAddressLength} characters`, Code.InvalidArgument);
  }
  return { userAgent: m.userAgent || undefined, ipAddress: m.ipAddress || undefined, labels: m.labels };
}

