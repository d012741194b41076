import { Counter, Registry, collectDefaultMetrics } from "prom-client";
import type { SessionChangeKind, SessionObserver } from "../core/session-observer.js";
import { createLeanCounter, createLeanGauge, createLeanHistogram, type CounterChild, type GaugeChild, type HistogramChild } from "./lean-metrics.js";

/** The protocols a call can arrive by. */
export type Protocol = "rest" | "connect" | "grpc" | "grpc_web";

/** A webhook attempt's end: the event delivered, retried after a failure, or given up after the last attempt. */
export type WebhookOutcome = "delivered" | "retried" | "given_up";


/**
 * Metrics are the service's Prometheus series. Every label value comes from a
 * closed set (procedure names, protocols, codes, Redis command names), never
 * from a request: no user id, session id or path can grow the series.
 */
export interface Metrics extends SessionObserver {
  readonly registry: Registry;
  /** A call began: counted in flight until it ends. */
  callStarted(protocol: Protocol): void;
  /** A call ended with `code` ("ok" or a Connect code name) after `seconds`. */
  callEnded(procedure: string, protocol: Protocol, code: string, seconds: number): void;
  redisCommand(command: string, seconds: number, failed: boolean): void;
  /** A webhook attempt for `clientId` (a configured API client: a closed set) ended so. */
  webhookDelivery(clientId: string, outcome: WebhookOutcome): void;
}

// Unary calls here take 0.1-5 ms; the buckets reach past Redis's command timeout.
const callBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const redisBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 2.5];

/** createMetrics registers every series in a registry of its own, with Node's default process metrics. */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // Series touched on every call are lean (lean-metrics.ts): no label hashing per call.
  const calls = createLeanCounter({
    name: "sss_calls_total",
    help: "Calls answered, by service, method, protocol and code.",
    labelNames: ["service", "method", "protocol", "code"],
    registry,
  });
  const latency = createLeanHistogram({
    name: "sss_call_duration_seconds",
    help: "Time from a call's decoded request to its answer, by service and method.",
    labelNames: ["service", "method"],
    buckets: callBuckets,
    registry,
  });
  const inFlight = createLeanGauge({
    name: "sss_calls_in_flight",
    help: "Calls being answered now, by protocol.",
    labelNames: ["protocol"],
    registry,
  });
  const redisLatency = createLeanHistogram({
    name: "sss_redis_command_duration_seconds",
    help: "Redis command round trips (a script call is one command), by command.",
    labelNames: ["command"],
    buckets: redisBuckets,
    registry,
  });
  const redisErrors = createLeanCounter({
    name: "sss_redis_command_errors_total",
    help: "Redis commands that failed (error reply, timeout or connection loss), by command.",
    labelNames: ["command"],
    registry,
  });
  const sessions = new Counter({
    name: "sss_sessions_total",
    help: "Session changes: created, ended, removed, revoked, deleted, and creates refused at the per-user limit.",
    labelNames: ["change"] as const,
    registers: [registry],
  });

  const webhooks = new Counter({
    name: "sss_webhook_attempts_total",
    help: "Webhook POSTs, by API client and outcome: delivered, retried (failed, another attempt follows) or given_up (failed, the last attempt).",
    labelNames: ["client", "outcome"] as const,
    registers: [registry],
  });

  // Children are looked up once per label set: the hot path then only adds.
  const callChildren = new Map<string, { count: CounterChild; time: HistogramChild }>();
  const inFlightChildren = new Map<Protocol, GaugeChild>();
  const redisChildren = new Map<string, { time: HistogramChild; errors: CounterChild }>();
  const gaugeOf = (protocol: Protocol) => {
    let child = inFlightChildren.get(protocol);
    if (!child) inFlightChildren.set(protocol, (child = inFlight.child(protocol)));
    return child;
  };

  return {
    registry,
    callStarted: (protocol) => gaugeOf(protocol).inc(),
    callEnded(procedure, protocol, code, seconds) {
      gaugeOf(protocol).dec();
      const key = `${procedure} ${protocol} ${code}`;
      let child = callChildren.get(key);
      if (!child) {
        const slash = procedure.lastIndexOf("/");
        const service = procedure.slice(0, slash);
        const method = procedure.slice(slash + 1);
        child = { count: calls.child(service, method, protocol, code), time: latency.child(service, method) };
        callChildren.set(key, child);
      }
      child.count.inc();
      child.time.observe(seconds);
    },
    redisCommand(command, seconds, failed) {
      let child = redisChildren.get(command);
      if (!child) redisChildren.set(command, (child = { time: redisLatency.child(command), errors: redisErrors.child(command) }));
      child.time.observe(seconds);
      if (failed) child.errors.inc();
    },
    sessionsChanged: (kind: SessionChangeKind, count = 1) => sessions.labels(kind).inc(count),
    webhookDelivery: (clientId, outcome) => webhooks.labels(clientId, outcome).inc(),
  };
}
