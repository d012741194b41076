/** SessionStatus is where a session is in its lifecycle. */
export type SessionStatus = "active" | "ended" | "removed" | "revoked" | "expired";

/** TokenKind says where a session's token came from. */
export type TokenKind = "minted" | "caller";

/** JsonObject is a free-form JSON object, such as a user profile. */
export type JsonObject = { [key: string]: JsonValue };
export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;

/** SessionMetadata says where a session comes from. */
export interface SessionMetadata {
  readonly userAgent?: string;
  readonly ipAddress?: string;
  readonly labels?: Readonly<Record<string, string>>;
}

/**
 * Session is the one session model behind all five APIs. Times are epoch
 * milliseconds. The token itself is never held here in clear: `sealedToken`
 * is the token encrypted (a minted token: its secret, key-wrapped) and
 * `tokenHash` the token's keyed hash.
 */
export interface Session {
  readonly id: string;
  readonly tenantId: string;
  readonly userId: string;
  readonly tokenHash: string;
  readonly sealedToken: string;
  /**
   * "minted" when this service minted the token: it carries the session's
   * location, so nothing maps it to the session. "caller" for a token the
   * caller brought, found through a lookup by its hash.
   */
  readonly tokenKind: TokenKind;
  readonly status: SessionStatus;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly lastAccessedAt: number;
  readonly expiresAt: number;
  /** Idle timeout; activity slides expiresAt to now + this when `sliding`. */
  readonly idleTimeoutMs: number;
  /** The absolute end of the session's life: expiresAt never passes it. */
  readonly absoluteExpiresAt: number;
  /** False when the caller fixed the expiry (an explicit expires_at). */
  readonly sliding: boolean;
  readonly profile: JsonObject | undefined;
  readonly metadata: SessionMetadata | undefined;
}

/** isLive says whether a session still authenticates: active and unexpired. */
export function isLive(session: Session, now: number): boolean {
  return session.status === "active" && session.expiresAt > now;
}

/** visibleStatus reports "expired" for an active session past its expiry. */
export function visibleStatus(session: Session, now: number): SessionStatus {
  return session.status === "active" && session.expiresAt <= now ? "expired" : session.status;
}

/** secondsRemaining is how many whole seconds the session has left, never negative. */
export function secondsRemaining(session: Session, now: number): number {
  return Math.max(0, Math.floor((session.expiresAt - now) / 1000));
}
