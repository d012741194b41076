/** Something that answers a request: an HTTP response or a raw HTTP/2 stream. */
export interface Exchange {
  once(event: "close", listener: () => void): unknown;
}

/** InFlight holds the exchanges still open, so shutdown can wait for them. */
export interface InFlight<T extends Exchange> {
  track(exchange: T): void;
  /** The open exchanges, for telling HTTP/1.1 clients not to reuse their connection. */
  open(): Iterable<T>;
  /** Resolves once no exchange is open. */
  drained(): Promise<void>;
}

export function createInFlight<T extends Exchange>(): InFlight<T> {
  const open = new Set<T>();
  let waiters: (() => void)[] = [];
  return {
    track(exchange) {
      open.add(exchange);
      exchange.once("close", () => {
        open.delete(exchange);
        if (open.size === 0) {
          for (const resolve of waiters) resolve();
          waiters = [];
        }
      });
    },
    open: () => open,
    drained: () => (open.size === 0 ? Promise.resolve() : new Promise((resolve) => waiters.push(resolve))),
  };
}
