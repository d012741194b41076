import type { Session } from "../core/session.js";

/** LimitReached says a user already has the maximum number of live sessions. */
export class LimitReachedError extends Error {
  override name = "LimitReachedError";
  constructor(readonly liveSessions: number) {
    super(`user has ${liveSessions} live sessions`);
  }
}

/** MutationResult is the outcome of changing one session. */
export type MutationResult =
  | { readonly kind: "ok"; readonly session: Session; readonly previousTokenHash: string }
  | { readonly kind: "not-found" }
  | { readonly kind: "inactive"; readonly session: Session };

/** SessionChange is what a mutation may change; unset fields stay as they are. */
export interface SessionChange {
  readonly tokenHash?: string;
  readonly sealedToken?: string;
  /** Requested expiry; the store clamps it to the absolute lifetime. */
  readonly expiresAt?: number;
  readonly sliding?: boolean;
  readonly status?: Session["status"];
  /** Count the change as activity: last access becomes now and a sliding expiry slides. */
  readonly slide?: boolean;
  /** Make this session its user's current one. */
  readonly makeCurrent?: boolean;
  /** Refuse the change unless the session is active. */
  readonly requireActive: boolean;
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
  /** Stores a new session, atomically enforcing the per-user limit; returns evicted sessions. */
  create(session: Session, options: { limit: number; evictOldest: boolean; now: number }): Promise<readonly Session[]>;
  /** Finds a live session by its token hash, sliding its expiry when asked; one round trip. */
  findByToken(tokenHash: string, now: number, slide: boolean): Promise<Session | undefined>;
  /** Returns a session that has not expired (any status), or undefined. */
  get(tenantId: string, sessionId: string, now: number): Promise<Session | undefined>;
  /** Lists a user's unexpired sessions, oldest first; only active ones unless asked. */
  listUser(tenantId: string, userId: string, now: number, includeInactive?: boolean): Promise<readonly Session[]>;
  /** Lists a tenant's active sessions created after a cursor (or from an offset), oldest first. */
  listTenant(tenantId: string, now: number, page: TenantPageRequest): Promise<SessionPage>;
  /** Returns the user's current session: the one last saved or touched that is still live. */
  current(tenantId: string, userId: string, now: number): Promise<Session | undefined>;
  /** Applies a change to an unexpired session. */
  mutate(tenantId: string, sessionId: string, change: SessionChange, now: number): Promise<MutationResult>;
  /** Deletes a session; false when there was none. */
  delete(tenantId: string, sessionId: string, now: number): Promise<boolean>;
  /** Deletes all of a user's sessions; returns how many. */
  clearUser(tenantId: string, userId: string): Promise<number>;
  /** Deletes all of a tenant's sessions; returns how many. */
  clearTenant(tenantId: string): Promise<number>;
  /** Resolves when the store answers. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
