import type { DescService } from "@bufbuild/protobuf";
import { redisCommandTimeoutMs, type RedisClient } from "../store/redis-client.js";
import type { HealthService } from "./health-service.js";

/** StoreHealth says whether the store can serve, as health reports it. */
export interface StoreHealth {
  isReady(): boolean;
  /** Probes Redis now (unless a probe is under way): a call just failed as if it were unreachable. */
  check(): void;
  /** Calls `listener` on every change, with why Redis is not ready when it is not. */
  onChange(listener: (ready: boolean, reason: string) => void): void;
  stop(): void;
}

export interface StoreHealthOptions {
  /** PING period while Redis answers: catches a connected Redis that hangs. */
  readonly pingEveryMs?: number;
  /** PING period while it does not: health turns SERVING within this of Redis answering again. */
  readonly retryEveryMs?: number;
  /** A PING unanswered this long says Redis is not answering (the connection sets no command timeout). */
  readonly pingTimeoutMs?: number;
}

/**
 * followStoreHealth keeps health in step with Redis: a session service
 * without its store cannot serve. The connection's state is followed as it
 * changes ('ready' is SERVING at once); a connected Redis can still hang, so
 * a periodic PING (which times out) catches that too. While Redis does not
 * answer, one PING is always outstanding, so a Redis that resumes (SIGCONT)
 * is seen as soon as it answers it, not at the next period.
 */
export function followStoreHealth(redis: RedisClient, health: HealthService, services: readonly DescService[], options: StoreHealthOptions = {}): StoreHealth {
  const pingEveryMs = options.pingEveryMs ?? 5_000;
  const retryEveryMs = options.retryEveryMs ?? 200;
  const pingTimeoutMs = options.pingTimeoutMs ?? redisCommandTimeoutMs;
  const listeners: ((ready: boolean, reason: string) => void)[] = [];
  let answering = true;
  let reason = "";
  let reported: boolean | undefined;
  let probing = false;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;

  const isReady = () => redis.status === "ready" && answering;
  const update = () => {
    // After stop() health is shutting down: quitting Redis then is no outage.
    if (stopped) return;
    const ready = isReady();
    if (!ready && retry === undefined) retry = setTimeout(retryProbe, retryEveryMs).unref();
    if (ready === reported) return;
    reported = ready;
    const status = ready ? "SERVING" : "NOT_SERVING";
    health.setStatus("", status);
    for (const s of services) health.setStatus(s.typeName, status);
    const why = ready ? "" : reason || `connection ${redis.status}`;
    for (const listener of listeners) listener(ready, why);
  };
  const probe = () => {
    // While disconnected, 'ready' says when Redis is back; a PING would only fail.
    if (probing || stopped || redis.status !== "ready") return;
    probing = true;
    // Unanswered in time, Redis is not answering; the PING stays outstanding,
    // and its answer says when Redis is back.
    const overdue = setTimeout(() => {
      answering = false;
      reason = `no answer to PING within ${pingTimeoutMs} ms`;
      update();
    }, pingTimeoutMs).unref();
    redis.ping().then(
      () => (answering = true),
      (e: unknown) => {
        answering = false;
        reason = `no answer to PING: ${e instanceof Error ? e.message : String(e)}`;
      },
    ).finally(() => {
      clearTimeout(overdue);
      probing = false;
      update();
    });
  };
  const retryProbe = () => {
    retry = undefined;
    probe();
    update();
  };

  redis.on("ready", () => {
    // The connection's handshake was just answered.
    answering = true;
    reason = "";
    update();
  });
  redis.on("error", (e: Error) => {
    reason = e.message;
    update();
  });
  for (const event of ["close", "end", "reconnecting"]) redis.on(event, update);
  update();
  const periodic = setInterval(probe, pingEveryMs).unref();

  return {
    isReady,
    check: probe,
    onChange: (listener) => void listeners.push(listener),
    stop() {
      stopped = true;
      clearInterval(periodic);
      clearTimeout(retry);
    },
  };
}
