/** StoreDeadlineError says the store did not answer a call in time; callers see UNAVAILABLE. */
export class StoreDeadlineError extends Error {
  override name = "StoreDeadlineError";
  constructor(readonly ms: number) {
    super(`session store did not answer within ${ms} ms`);
  }
}

type Async = (...args: never[]) => Promise<unknown>;

interface Pending {
  readonly startedAt: number;
  readonly reject: (e: Error) => void;
}

/**
 * withDeadline returns `store` with every method but `close` bounded: a call
 * not settled after `ms` rejects with StoreDeadlineError. ioredis's own
 * commandTimeout cannot give that bound: one store call may make several
 * round trips (a rollback after a failure, a Cluster redirection), each with
 * a timer of its own. What the store still does after the deadline goes on in
 * the background; its outcome is dropped.
 *
 * Every call has the same deadline, so pending calls expire in the order
 * they started: one timer, armed for the oldest, serves them all (cheaper on
 * the hot path than a timer per call).
 */
export function withDeadline<T extends object>(store: T, ms: number): T {
  const pending = new Set<Pending>();
  let timer: NodeJS.Timeout | undefined;

  const expire = () => {
    timer = undefined;
    const now = performance.now();
    for (const p of pending) {
      const due = p.startedAt + ms;
      if (due > now) {
        arm(due - now);
        return;
      }
      pending.delete(p);
      p.reject(new StoreDeadlineError(ms));
    }
  };
  const arm = (delay: number) => {
    timer = setTimeout(expire, Math.ceil(delay));
    // Only pending calls need it; they keep the process alive by themselves.
    timer.unref();
  };

  const bound = (method: Async) =>
    (...args: never[]) =>
      new Promise((resolve, reject) => {
        const entry: Pending = { startedAt: performance.now(), reject };
        pending.add(entry);
        if (timer === undefined) arm(ms);
        method(...args).then(
          (value) => {
            pending.delete(entry);
            resolve(value);
          },
          (e: unknown) => {
            pending.delete(entry);
            reject(e);
          },
        );
      });

  const wrapped: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(store)) {
    wrapped[name] = typeof value === "function" && name !== "close" ? bound((value as Async).bind(store)) : value;
  }
  return wrapped as T;
}
