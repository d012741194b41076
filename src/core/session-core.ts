import { Code, ConnectError } from "@connectrpc/connect";
import type { Config } from "../config/config.js";
import type { KeyedHash } from "../crypto/keyed-hash.js";
import type { TokenCipher } from "../crypto/token-cipher.js";
import type { TokenLocator } from "../crypto/token-locator.js";
import { ignoreSessionChanges, type SessionObserver } from "./session-observer.js";
import { LimitReachedError, TokenInUseError, type SessionChange, type SessionPage, type SessionStore, type TenantPageRequest } from "../store/session-store.js";
import { limits } from "./limits.js";
import type { JsonObject, Session, SessionMetadata } from "./session.js";
import { newSessionId, userIdOfSessionId } from "./session-id.js";
import { sessionNotFound } from "./session-not-found.js";

/** NewSession is what a caller gives to create a session. */
export interface NewSession {
  readonly tenantId: string;
  readonly userId: string;
  /** The caller's own token (e.g. an identity provider's JWT); minted when absent. */
  readonly token?: string;
  /** A fixed expiry; when absent the idle timeout applies and slides. */
  readonly expiresAt?: number;
  readonly profile?: JsonObject;
  readonly metadata?: SessionMetadata;
}

/** SessionCore holds every session rule: expiry, sliding, status, limits, tenancy. */
export interface SessionCore {
  now(): number;
  create(input: NewSession): Promise<{ session: Session; token: string }>;
  /**
   * Resolves a session token; slides the expiry when asked; one round trip (a
   * caller's token on Cluster: two). With `tenantId`, a session of another
   * tenant is an unknown token, never slid.
   */
  authenticate(token: string, slide: boolean, tenantId?: string): Promise<Session | undefined>;
  /** A session of the tenant that has not expired (and is active, if asked); NOT_FOUND otherwise. */
  get(tenantId: string, sessionId: string, scope?: Scope): Promise<Session>;
  listUser(tenantId: string, userId: string): Promise<readonly Session[]>;
  listTenant(tenantId: string, page: TenantPageRequest): Promise<SessionPage>;
  current(tenantId: string, userId: string): Promise<Session | undefined>;
  update(tenantId: string, sessionId: string, change: { token?: string; expiresAt?: number }): Promise<Session>;
  extend(tenantId: string, sessionId: string, ttlSeconds: number, scope?: Scope): Promise<Session>;
  touch(tenantId: string, sessionId: string): Promise<Session>;
  setStatus(tenantId: string, sessionId: string, status: "ended" | "removed" | "revoked"): Promise<Session>;
  delete(tenantId: string, sessionId: string, scope?: Scope): Promise<void>;
  clear(tenantId: string, userId?: string): Promise<number>;
  /** Sign out everywhere: revokes all of a user's live sessions; returns their ids. */
  revokeUser(tenantId: string, userId: string, reason?: string): Promise<string[]>;
  /** Ends all of the session's user's other live sessions; returns their ids. */
  endOtherSessions(session: Session): Promise<string[]>;
  revealToken(session: Session): string;
  validateUserId(userId: string, field?: string): void;
}

/**
 * Scope says which sessions a face sees. With `activeOnly`, an ended or
 * removed session does not exist for the call (NOT_FOUND), as the sessions
 * management API has it; otherwise acting on one is FAILED_PRECONDITION.
 */
export interface Scope {
  readonly activeOnly?: boolean;
}

export interface SessionCoreDeps {
  readonly store: SessionStore;
  readonly cipher: TokenCipher;
  readonly tokenHash: KeyedHash;
  /** Mints tokens that carry their session's location, so finding one needs no lookup key. */
  readonly tokenLocator: TokenLocator;
  readonly config: Pick<Config, "idleTimeoutSeconds" | "maxLifetimeSeconds" | "maxSessionsPerUser" | "evictOldestAtLimit">;
  readonly clock?: () => number;
  /** Told of every confirmed change (metrics count them). */
  readonly observer?: SessionObserver;
}

/** createSessionCore returns the domain core over a store. */
export function createSessionCore(deps: SessionCoreDeps): SessionCore {
  const { store, cipher, tokenHash, tokenLocator, config } = deps;
  const observer = deps.observer ?? ignoreSessionChanges;
  const now = deps.clock ?? Date.now;
  const idleMs = config.idleTimeoutSeconds * 1000;
  const maxLifetimeMs = config.maxLifetimeSeconds * 1000;

  function validateUserId(userId: string, field = "user_id") {
    if (userId === "") throw new ConnectError(`${field} is required`, Code.InvalidArgument);
    if (!limits.userIdPattern.test(userId)) {
      throw new ConnectError(
        `${field} must be 1-128 characters: letters, digits and _ @ : + = . - (not starting with a dot)`,
        Code.InvalidArgument,
      );
    }
  }

  function validateToken(token: string) {
    if (token.length < limits.tokenMinLength || token.length > limits.tokenMaxLength) {
      throw new ConnectError(`token must be ${limits.tokenMinLength}-${limits.tokenMaxLength} characters`, Code.InvalidArgument);
    }
    if (!limits.tokenPattern.test(token)) {
      throw new ConnectError(limits.tokenCharactersRule, Code.InvalidArgument);
    }
    // A token this service minted names its session by construction: it is
    // already some session's, and no other may hold it.
    if (tokenLocator.locate(token) !== undefined) throw storeFailure(new TokenInUseError());
  }

  function validateExpiry(expiresAt: number, at: number, deadline: number) {
    if (!Number.isFinite(expiresAt) || expiresAt <= at) {
      throw new ConnectError("expires_at must be in the future", Code.InvalidArgument);
    }
    if (expiresAt > deadline) {
      throw new ConnectError(
        `expires_at must be within the maximum session lifetime (${config.maxLifetimeSeconds} seconds from creation)`,
        Code.InvalidArgument,
      );
    }
  }

  async function get(tenantId: string, sessionId: string, scope: Scope = {}): Promise<Session> {
    const session = await store.get(tenantId, sessionId, now());
    if (!session || (scope.activeOnly && session.status !== "active")) throw sessionNotFound(sessionId);
    return session;
  }

  // The store's refusals in this API's words.
  function storeFailure(e: unknown, userId?: string): unknown {
    if (e instanceof TokenInUseError) {
      // A token identifies one session: a second session may not hold it.
      return new ConnectError("token is already in use by another session", Code.AlreadyExists, undefined, undefined, e);
    }
    if (e instanceof LimitReachedError) {
      return new ConnectError(
        `user "${userId}" already has ${e.liveSessions} active sessions, the most allowed; ` +
          "delete sessions you no longer use (DELETE /session-storage/sessions/{session_id}) and try again",
        Code.ResourceExhausted,
        undefined,
        undefined,
        e,
      );
    }
    return e;
  }

  async function mutate(tenantId: string, sessionId: string, change: SessionChange, scope: Scope = {}) {
    const result = await store.mutate(tenantId, sessionId, change, now()).catch((e: unknown) => {
      throw storeFailure(e);
    });
    if (result.kind === "not-found" || (result.kind === "inactive" && scope.activeOnly)) throw sessionNotFound(sessionId);
    if (result.kind === "inactive") {
      throw new ConnectError(`session "${sessionId}" is ${result.session.status}`, Code.FailedPrecondition);
    }
    return result.session;
  }

  return {
    now,
    validateUserId,

    async create(input) {
      validateUserId(input.userId);
      const at = now();
      const absoluteExpiresAt = at + maxLifetimeMs;
      if (input.expiresAt !== undefined) validateExpiry(input.expiresAt, at, absoluteExpiresAt);
      if (input.token !== undefined) validateToken(input.token);
      if (input.profile && Buffer.byteLength(JSON.stringify(input.profile)) > limits.profileMaxBytes) {
        throw new ConnectError(`user profile must be at most ${limits.profileMaxBytes} bytes of JSON`, Code.InvalidArgument);
      }
      if (input.metadata && Buffer.byteLength(JSON.stringify(input.metadata)) > limits.metadataMaxBytes) {
        throw new ConnectError(`metadata must be at most ${limits.metadataMaxBytes} bytes of JSON`, Code.InvalidArgument);
      }
      const id = newSessionId(input.userId);
      const minted = input.token === undefined ? tokenLocator.mint({ tenantId: input.tenantId, sessionId: id }) : undefined;
      const token = minted?.token ?? input.token!;
      const session: Session = {
        id,
        tenantId: input.tenantId,
        userId: input.userId,
        tokenHash: tokenHash.digest(token),
        // A minted token is kept as its sealed secret, which rebuilds it.
        sealedToken: minted?.sealed ?? cipher.encrypt(token, id),
        tokenKind: minted ? "minted" : "caller",
        status: "active",
        createdAt: at,
        updatedAt: at,
        lastAccessedAt: at,
        expiresAt: input.expiresAt ?? Math.min(at + idleMs, absoluteExpiresAt),
        idleTimeoutMs: idleMs,
        absoluteExpiresAt,
        sliding: input.expiresAt === undefined,
        profile: input.profile,
        metadata: input.metadata,
      };
      try {
        await store.create(session, { limit: config.maxSessionsPerUser, evictOldest: config.evictOldestAtLimit, now: at });
      } catch (e) {
        if (e instanceof LimitReachedError) observer.sessionsChanged("refused_at_limit");
        throw storeFailure(e, input.userId);
      }
      observer.sessionsChanged("created");
      return { session, token };
    },

    // Not async: on the hot path the store's promise is handed on as it is.
    authenticate(token, slide, tenantId) {
      if (token.length < limits.tokenMinLength || token.length > limits.tokenMaxLength) return noSession;
      const at = tokenLocator.locate(token);
      if (at) {
        // A minted token names its tenant: another tenant's needs no Redis call.
        if (tenantId === undefined ? !limits.tenantIdPattern.test(at.tenantId) : at.tenantId !== tenantId) return noSession;
        // Nor does a location no session can have (a forged one: the locator
        // does not authenticate it, the token hash in the store does).
        const userId = userIdOfSessionId(at.sessionId);
        if (userId === undefined || !limits.userIdPattern.test(userId)) return noSession;
      }
      return store.findByToken({ hash: tokenHash.digest(token), at, tenantId }, now(), slide);
    },

    get,

    listUser: (tenantId, userId) => store.listUser(tenantId, userId, now()),
    listTenant: (tenantId, page) => store.listTenant(tenantId, now(), page),
    current: (tenantId, userId) => store.current(tenantId, userId, now()),

    async update(tenantId, sessionId, change) {
      const at = now();
      const current = await get(tenantId, sessionId);
      if (change.expiresAt !== undefined) validateExpiry(change.expiresAt, at, current.absoluteExpiresAt);
      if (change.token !== undefined) validateToken(change.token);
      return mutate(tenantId, sessionId, {
        token: change.token === undefined
          ? undefined
          : { hash: tokenHash.digest(change.token), sealed: cipher.encrypt(change.token, sessionId) },
        ...(change.expiresAt !== undefined ? { expiresAt: change.expiresAt, sliding: false } : {}),
        // A save makes the session its user's current one.
        makeCurrent: true,
      });
    },

    async extend(tenantId, sessionId, ttlSeconds, scope) {
      if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0 || ttlSeconds > limits.maxTtlSeconds) {
        throw new ConnectError(`ttl_seconds must be a whole number from 1 to ${limits.maxTtlSeconds}`, Code.InvalidArgument);
      }
      // An explicit time to live fixes the expiry: activity must not undo it.
      return mutate(tenantId, sessionId, { expiresAt: now() + ttlSeconds * 1000, sliding: false, why: { cause: "extend" } }, scope);
    },

    touch: (tenantId, sessionId) =>
      mutate(tenantId, sessionId, { slide: true, makeCurrent: true }),

    async setStatus(tenantId, sessionId, status) {
      const session = await mutate(tenantId, sessionId, { status, why: { cause: statusCause[status] } });
      observer.sessionsChanged(status);
      return session;
    },

    async delete(tenantId, sessionId, scope = {}) {
      if (!(await store.delete(tenantId, sessionId, now(), scope.activeOnly === true))) throw sessionNotFound(sessionId);
      observer.sessionsChanged("deleted");
    },

    async clear(tenantId, userId) {
      let count: number;
      if (userId !== undefined && userId !== "") {
        validateUserId(userId);
        count = await store.clearUser(tenantId, userId);
      } else {
        count = await store.clearTenant(tenantId);
      }
      if (count > 0) observer.sessionsChanged("deleted", count);
      return count;
    },

    async revokeUser(tenantId, userId, reason) {
      validateUserId(userId);
      if (reason !== undefined && (reason.length > limits.reasonMaxLength || /[\u0000-\u001f\u007f]/.test(reason))) {
        throw new ConnectError(`reason must be at most ${limits.reasonMaxLength} characters, without control characters`, Code.InvalidArgument);
      }
      const why = { cause: "revoke_all", reason: reason || undefined };
      const ids = await store.setUserStatus(tenantId, userId, "revoked", { why }, now());
      if (ids.length > 0) observer.sessionsChanged("revoked", ids.length);
      return ids;
    },

    async endOtherSessions(session) {
      const ids = await store.setUserStatus(session.tenantId, session.userId, "ended", { keep: session.id, why: { cause: "sign_out_others" } }, now());
      if (ids.length > 0) observer.sessionsChanged("ended", ids.length);
      return ids;
    },

    revealToken(session) {
      // A session found by its token comes without it (the store's findByToken).
      if (session.sealedToken === "") throw new Error(`session ${session.id} was read without its token`);
      return session.tokenKind === "minted"
        ? tokenLocator.reveal(session.sealedToken, { tenantId: session.tenantId, sessionId: session.id })
        : cipher.decrypt(session.sealedToken, session.id);
    },
  };
}

const noSession: Promise<undefined> = Promise.resolve(undefined);

// The event cause of a single session's status change.
const statusCause = { ended: "end", removed: "remove", revoked: "revoke" } as const;
