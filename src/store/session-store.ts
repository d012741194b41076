import type { Session } from "../core/session.js";
import type { EventCause } from "./event-writes.js";

/**
 * TokenLookup is how a presented token is looked for: by its keyed hash,
 * and, for a token this service minted, at the session it names.
 */
export interface TokenLookup {
  readonly hash: string;
  /** Where a minted token points; absent for a caller's token. */
  readonly at?: { readonly tenantId: string; readonly sessionId: string };
  /**
   * Only a session of this tenant counts: another tenant's is not found and
   * not slid, as if the token were unknown.
   */
  readonly tenantId?: string;
}

/** LimitReachedError says a user already has the maximum number of live sessions. */
export class LimitReachedError extends Error {
  override name = "LimitReachedError";
  constructor(readonly liveSessions: number) {
    super(`user has ${liveSessions} live sessions`);
  }
}

/** TokenInUseError says another session already holds the token. */
export class TokenInUseError extends Error {
  override name = "TokenInUseError";
  constructor() {
    super("token is held by another session");
  }
}

/** MutationResult is the outcome of changing one session. */
export type MutationResult =
  | { readonly kind: "ok"; readonly session: Session }
  | { readonly kind: "not-found" }
  | { readonly kind: "inactive"; readonly session: Session };

/**
 * SessionChange is what a mutation may change; unset fields stay as they
 * are. Only active sessions change.
 */
export interface SessionChange {
  /** A new caller's token: its hash and its sealed form, which must go together. */
  readonly token?: { readonly hash: string; readonly sealed: string };
  /** Requested expiry; the store clamps it to the absolute lifetime. */
  readonly expiresAt?: number;
  readonly sliding?: boolean;
  readonly status?: Session["status"];
  /** Count the change as activity: last access becomes now and a sliding expiry slides. */
  readonly slide?: boolean;
  /** Make this session its user's current one (the most recently saved or touched). */
  readonly makeCurrent?: boolean;
  /** Why, for the change's events (default: "update"). */
  readonly why?: EventCause;
}

/** SessionPage is one page of a tenant-wide list. */
export interface SessionPage {
  readonly sessions: readonly Session[];
  /**
   * Live (active, unexpired) sessions in the whole list, exactly, when asked
   * for: counting walks the whole tenant index, so cursor pages skip it.
   */
  readonly total?: number;
}

/** TenantPageRequest says which page of a tenant-wide list to read. */
export interface TenantPageRequest {
  /** Start after this position (creation time, then id). */
  readonly after?: { readonly createdAt: number; readonly id: string };
  /** Skip this many live sessions first. */
  readonly offset?: number;
  readonly limit: number;
  /** Also count every live session of the tenant (a walk of the whole index). */
  readonly countTotal?: boolean;
}

/**
 * SessionStore keeps sessions. Every method answers in domain terms; how keys
 * are laid out in Redis is the implementation's business. Expired sessions are
 * never returned, whether or not Redis has reclaimed them yet.
 */
export interface SessionStore {
  /**
   * Stores a new session. The per-user limit holds atomically (LimitReachedError,
   * or the oldest sessions are evicted when asked); a token held by another
   * session is refused (TokenInUseError).
   */
  create(session: Session, options: { limit: number; evictOldest: boolean; now: number }): Promise<void>;
  /**
   * Finds the live session holding a token, sliding its expiry when asked:
   * one round trip (a caller's token on Cluster: two). The session comes
   * without its token (tokenHash and sealedToken ""): the caller holds it.
   */
  findByToken(token: TokenLookup, now: number, slide: boolean): Promise<Session | undefined>;
  /** Returns a session that has not expired (any status), or undefined. */
  get(tenantId: string, sessionId: string, now: number): Promise<Session | undefined>;
  /** Lists a user's active, unexpired sessions, oldest first. */
  listUser(tenantId: string, userId: string, now: number): Promise<readonly Session[]>;
  /** Lists a tenant's active sessions after a cursor (or from an offset), oldest first. */
  listTenant(tenantId: string, now: number, page: TenantPageRequest): Promise<SessionPage>;
  /** Returns the user's current session: the live one most recently saved or touched. */
  current(tenantId: string, userId: string, now: number): Promise<Session | undefined>;
  /** Applies a change to an unexpired, active session (TokenInUseError for a taken new token). */
  mutate(tenantId: string, sessionId: string, change: SessionChange, now: number): Promise<MutationResult>;
  /** Deletes a session (only an active one, if asked); false when there was none. */
  delete(tenantId: string, sessionId: string, now: number, activeOnly?: boolean, why?: EventCause): Promise<boolean>;
  /** Deletes all of a user's sessions; returns how many. */
  clearUser(tenantId: string, userId: string, why?: EventCause): Promise<number>;
  /**
   * Sets the status of all of a user's live sessions, except `keep`, in one
   * script (sign-out everywhere: "revoked"; ending a holder's other sessions:
   * "ended"); returns the ids of the sessions it changed.
   */
  setUserStatus(tenantId: string, userId: string, status: "revoked" | "ended", options: { keep?: string; why: EventCause }, now: number): Promise<string[]>;
  /** Deletes all of a tenant's sessions; returns how many. */
  clearTenant(tenantId: string): Promise<number>;
  close(): Promise<void>;
}
