/** A change of a session's life that someone outside the core may count or publish. */
export type SessionChangeKind = "created" | "ended" | "removed" | "revoked" | "deleted" | "refused_at_limit";

/**
 * SessionObserver hears of every change the core makes to sessions, after
 * the store has confirmed it. Observers must be cheap and never throw: they
 * run on the call's path.
 */
export interface SessionObserver {
  sessionsChanged(kind: SessionChangeKind, count?: number): void;
}

export const ignoreSessionChanges: SessionObserver = { sessionsChanged: () => undefined };
