import { redisCommandTimeoutMs } from "./redis-client.js";
import { StoreDeadlineError } from "./with-deadline.js";

/**
 * Every write of a store call (a create, token change or delete, with its
 * secondary index writes) carries one deadline on Redis's clock: the call's
 * start + the command timeout - this margin. A script that runs later
 * refuses (DEADLINE) and changes nothing, so a write queued behind a stall
 * cannot land after the service answered UNAVAILABLE. The margin is time
 * for the reply of a write that ran just in time to come back.
 *
 * Clocks: the service hosts and Redis must agree within `clockSkewMs`
 * (NTP). A Redis clock behind the service's lets a write run a little
 * later, which only widens the window repaired below; one ahead by more
 * than the timeout minus the margin makes every write refuse.
 */
export const deadlineMarginMs = 500;

/** How far the service's and Redis's clocks may disagree. */
export const clockSkewMs = 1_000;

/**
 * No write of a create can land later than this after the call began (its
 * deadline, plus clock skew): a tenant index entry without its session that
 * is older is dead, whatever the reason.
 */
export const inFlightAtMostMs = redisCommandTimeoutMs - deadlineMarginMs + clockSkewMs;

/**
 * A tenant index entry or token pointer whose session does not exist may
 * belong to a create still in flight for at most this long (its deadline
 * plus clock skew, with room to spare); older ones are dead.
 */
export const creationGraceMs = 10_000;

// A success that comes back this close to the call's bound may already
// have been answered as a failure (withDeadline): treated as one.
const answerMarginMs = 100;

/** WriteClock is the timing of one store call that writes. */
export interface WriteClock {
  /** Epoch ms on Redis's clock after which the call's scripts refuse. */
  readonly deadline: number;
  /** When a repair may run: no write of the call can land after it. */
  readonly settledAt: number;
  /** Whether the caller can still be told the call succeeded. */
  inTime(): boolean;
}

/** startWrite times a store call that writes, from now. */
export function startWrite(): WriteClock {
  const started = performance.now();
  const deadline = Date.now() + redisCommandTimeoutMs - deadlineMarginMs;
  return {
    deadline,
    settledAt: deadline + clockSkewMs,
    inTime: () => performance.now() - started < redisCommandTimeoutMs - answerMarginMs,
  };
}

/**
 * isDefiniteRefusal says Redis answered with an error: the write did not
 * happen (every script refuses before it writes). A timeout or a lost
 * connection leaves the outcome unknown: the write may have run, or may
 * still run until its deadline.
 */
export function isDefiniteRefusal(e: unknown): boolean {
  return e instanceof Error && e.name === "ReplyError";
}

/** asUnavailable turns a script's DEADLINE refusal into the store's "did not answer in time". */
export function asUnavailable(e: unknown): unknown {
  return e instanceof Error && e.name === "ReplyError" && e.message.startsWith("DEADLINE") ? new StoreDeadlineError(redisCommandTimeoutMs) : e;
}
