/**
 * ConditionWaiters are the pending "wait until" conditions of a recorder
 * (an event stream, a webhook receiver) whose state grows as things arrive.
 */
export interface ConditionWaiters {
  /** Checks every pending condition again: call it after the state changed. */
  notify(): void;
  /** Resolves once `holds()` is true; rejects after `timeoutMs` with "`what`: condition not met…, `state()`". */
  until(holds: () => boolean, timeoutMs: number, what: string, state: () => string): Promise<void>;
}

export function createConditionWaiters(): ConditionWaiters {
  const waiters = new Set<() => void>();
  return {
    notify() {
      for (const check of [...waiters]) check();
    },
    until(holds, timeoutMs, what, state) {
      if (holds()) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`${what}: condition not met in ${timeoutMs} ms; ${state()}`));
        }, timeoutMs);
        const check = () => {
          if (!holds()) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
      });
    },
  };
}
