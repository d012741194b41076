/**
 * RepairQueue runs the repairs of writes whose outcome the store never
 * learned (a timeout, a lost connection): undoing a create that was
 * answered as failed, or freeing pointers and index entries a write left
 * behind. Each waits until no write of its call can land any more, then is
 * retried until Redis answers.
 */
export interface RepairQueue {
  /** Runs `repair` once `notBefore` (epoch ms) has passed, retrying on failure. */
  add(notBefore: number, repair: () => Promise<void>): void;
  /** Repairs not yet done. */
  pending(): number;
  /** Drops every repair not yet done (at shutdown). */
  stop(): void;
}

const firstRetryMs = 250;
const maxRetryMs = 5_000;
// A repair still failing after this is given up: index entries are swept,
// pointers expire with their session.
const giveUpAfterMs = 10 * 60_000;

export function createRepairQueue(): RepairQueue {
  const timers = new Set<NodeJS.Timeout>();
  let stopped = false;

  function schedule(delayMs: number, run: () => void) {
    const timer = setTimeout(() => {
      timers.delete(timer);
      run();
    }, Math.max(0, delayMs));
    // Repairs must not hold the process open.
    timer.unref();
    timers.add(timer);
  }

  return {
    add(notBefore, repair) {
      if (stopped) return;
      const giveUpAt = Date.now() + giveUpAfterMs;
      let retryMs = firstRetryMs;
      const attempt = () => {
        repair().catch(() => {
          if (stopped || Date.now() > giveUpAt) return;
          schedule(retryMs, attempt);
          retryMs = Math.min(retryMs * 2, maxRetryMs);
        });
      };
      schedule(notBefore - Date.now(), attempt);
    },
    pending: () => timers.size,
    stop() {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
}
