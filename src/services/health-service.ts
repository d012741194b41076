import { Code, ConnectError, type ConnectRouter, type HandlerContext } from "@connectrpc/connect";
import {
  Health,
  HealthCheckResponse_ServingStatus as ServingStatus,
  type HealthCheckRequest,
} from "../../gen/grpc/health/v1/health_pb.js";

export interface HealthService {
  register(router: ConnectRouter): void;
  setStatus(service: string, status: "SERVING" | "NOT_SERVING"): void;
  shutdown(): void;
}

interface Watcher {
  service: string;
  push(status: ServingStatus): void;
  end(): void;
}

export function createHealthService(): HealthService {
  // "" is the overall server status; it starts SERVING like grpc-go's health server.
  const statuses = new Map<string, ServingStatus>([["", ServingStatus.SERVING]]);
  const watchers = new Set<Watcher>();
  let shutDown = false;

  const current = (service: string) => statuses.get(service) ?? ServingStatus.SERVICE_UNKNOWN;

  function update(service: string, status: ServingStatus): void {
    if (statuses.get(service) === status) return; // Watch only reports changes.
    statuses.set(service, status);
    for (const w of watchers) if (w.service === service) w.push(status);
  }

  async function* watch(req: HealthCheckRequest, ctx: HandlerContext) {
    const queue: ServingStatus[] = [current(req.service)];
    let ended = shutDown;
    let wake: (() => void) | undefined;
    const watcher: Watcher = {
      service: req.service,
      push(status) {
        queue.push(status);
        wake?.();
      },
      end() {
        ended = true;
        wake?.();
      },
    };
    const onAbort = () => watcher.end();
    watchers.add(watcher);
    ctx.signal.addEventListener("abort", onAbort);
    try {
      for (;;) {
        // Drain before checking `ended` so shutdown's final NOT_SERVING is delivered.
        while (queue.length > 0 && !ctx.signal.aborted) yield { status: queue.shift()! };
        if (ended || ctx.signal.aborted) return;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      watchers.delete(watcher);
      ctx.signal.removeEventListener("abort", onAbort);
    }
  }

  return {
    register(router) {
      router.service(Health, {
        check(req) {
          const status = statuses.get(req.service);
          if (status === undefined) throw new ConnectError(`unknown service: ${req.service}`, Code.NotFound);
          return { status };
        },
        watch,
        list() {
          return { statuses: Object.fromEntries([...statuses].map(([name, status]) => [name, { status }])) };
        },
      });
    },
    setStatus(service, status) {
      if (shutDown) return; // Shutdown is final, so a draining server never flips back to SERVING.
      update(service, status === "SERVING" ? ServingStatus.SERVING : ServingStatus.NOT_SERVING);
    },
    shutdown() {
      if (shutDown) return;
      shutDown = true;
      for (const service of statuses.keys()) update(service, ServingStatus.NOT_SERVING);
      for (const w of watchers) {
        // Watchers of unknown services still learn that the server is going away.
        if (!statuses.has(w.service)) w.push(ServingStatus.NOT_SERVING);
        w.end();
      }
    },
  };
}
