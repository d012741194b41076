import type { Logger } from "pino";

/**
 * OutageLog tells operators about a store outage in a few lines instead of
 * one per failed call: one warning when Redis becomes unreachable, one when
 * it is back, and in between at most one summary of failed calls per period.
 */
export interface OutageLog {
  /** Redis became reachable (`ready`) or not (`reason` says why). */
  storeChanged(ready: boolean, reason: string): void;
  /** A call was answered UNAVAILABLE; `cause` is what the store threw. */
  callUnavailable(cause: unknown): void;
  /** Writes what is still counted and stops the timer. */
  stop(): void;
}

export interface OutageLogOptions {
  /** At most one summary of failed calls per this period. */
  readonly summaryEveryMs?: number;
}

export function createOutageLog(logger: Logger, options: OutageLogOptions = {}): OutageLog {
  const summaryEveryMs = options.summaryEveryMs ?? 10_000;
  let downSince: number | undefined;
  let failedDuringOutage = 0;
  let failed = 0;
  let lastCause: string | undefined;
  let timer: NodeJS.Timeout | undefined;

  const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;
  const calls = (n: number) => `${n} call${n === 1 ? "" : "s"}`;
  const summarize = () => {
    clearTimeout(timer);
    timer = undefined;
    if (failed === 0) return;
    logger.warn(
      { failedCalls: failed, periodMs: summaryEveryMs, lastCause },
      `${calls(failed)} failed with UNAVAILABLE in the last ${seconds(summaryEveryMs)}`,
    );
    failed = 0;
  };

  return {
    storeChanged(ready, reason) {
      if (!ready && downSince === undefined) {
        downSince = performance.now();
        // Calls fail before an outage is noticed (a hung Redis takes a command timeout): they count to it.
        failedDuringOutage = failed;
        logger.warn({ reason }, "redis unreachable: calls are answered UNAVAILABLE until it is back");
      } else if (ready && downSince !== undefined) {
        const downMs = Math.round(performance.now() - downSince);
        downSince = undefined;
        // The count so far goes into this line: no summary right after it.
        clearTimeout(timer);
        timer = undefined;
        failed = 0;
        logger.warn(
          { downMs, failedCalls: failedDuringOutage },
          `redis reachable again after ${seconds(downMs)}; ${calls(failedDuringOutage)} failed with UNAVAILABLE meanwhile`,
        );
      }
    },
    callUnavailable(cause) {
      failed++;
      if (downSince !== undefined) failedDuringOutage++;
      lastCause = cause instanceof Error ? cause.message : cause === undefined ? undefined : String(cause);
      timer ??= setTimeout(summarize, summaryEveryMs).unref();
    },
    stop: summarize,
  };
}
