import type { Logger } from "pino";
import type { Webhook } from "../config/parse-webhooks.js";
import { cursorAtStart, decodeCursor, encodeCursor, type EventCursor } from "../events/event-cursor.js";
import { parseEventFilter } from "../events/event-filter.js";
import type { SessionEvent } from "../events/session-event.js";
import type { SessionEventLog } from "../events/session-event-log.js";
import type { WebhookOutcome } from "../observability/metrics.js";
import { postWebhook } from "./post-webhook.js";
import { retryDelayMs } from "./retry-delay.js";
import type { WebhookLease } from "./webhook-lease.js";
import { webhookMessage } from "./webhook-message.js";
import { signWebhook } from "./webhook-signature.js";

/** WebhookDeliverer sends one API client's session events to its webhook. */
export interface WebhookDeliverer {
  /**
   * Ends any wait or backoff now and an attempt under way within a second,
   * gives the lease up, and resolves once stopped.
   */
  stop(): Promise<void>;
}

export interface WebhookPolicy {
  readonly timeoutMs: number;
  readonly maxAttempts: number;
  readonly retryBaseMs: number;
  readonly retryMaxDelayMs: number;
  readonly leaseMs: number;
}

export interface WebhookDelivererDeps {
  readonly hook: Webhook;
  readonly log: SessionEventLog;
  readonly lease: WebhookLease;
  readonly policy: WebhookPolicy;
  readonly logger: Logger;
  readonly metrics?: { webhookDelivery(clientId: string, outcome: WebhookOutcome): void };
}

// Events read per round trip; each is still POSTed on its own, in order.
const pageSize = 100;
// A blocking read ends this often with nothing new (the lease is renewed on a timer meanwhile).
const readWaitMs = 5_000;
// At stop, an attempt already sent gets this long for its answer (so an
// event just delivered is not sent again after a restart); then it is abandoned.
const stopAttemptGraceMs = 1_000;
// After a Redis error (not connected yet at start, an outage), the next try.
const retryAfterErrorMs = 250;

type HoldEnd = "stopped" | "lost" | "closed";

/**
 * startWebhookDeliverer delivers the tenant's events one at a time, in
 * the log's order (so in order per session), each POSTed until a 2xx or
 * `maxAttempts`, with exponential backoff and jitter between attempts; an
 * event that never gets a 2xx is logged as given up and the next one goes.
 * Only the holder of the tenant's lease delivers; it stores its cursor after
 * each event, so whoever holds the lease next (this instance after a
 * restart, or another replica) goes on after the last event done: at least
 * once. With no stored cursor it starts at the oldest event kept. It runs on
 * its own, reading the log on connections of its own: the calls that write
 * events never wait for it.
 */
export function startWebhookDeliverer(deps: WebhookDelivererDeps): WebhookDeliverer {
  const { hook, log, lease, policy, logger, metrics } = deps;
  const filter = parseEventFilter("", hook.types);
  const stopping = new AbortController();
  const abandon = new AbortController();
  const claimEveryMs = Math.max(100, Math.floor(policy.leaseMs / 3));
  const context = { webhook: hook.clientId };

  async function run() {
    let failures = 0;
    let delivering = false;
    while (!stopping.signal.aborted) {
      let held: boolean | undefined;
      try {
        held = await lease.claim();
      } catch {
        // Redis not (yet) reachable: tried again soon.
      }
      if (!held) {
        await sleep(held === undefined ? retryAfterErrorMs : claimEveryMs, stopping.signal);
        continue;
      }
      if (!delivering) logger.info({ ...context, host: new URL(hook.url).host }, "webhook delivery lease taken: this instance delivers");
      delivering = true;
      const lost = new AbortController();
      const renewal = setInterval(() => {
        // An error counts as lost: better a pause than two deliverers.
        lease.renew().then((ok) => ok || lost.abort(), () => lost.abort());
      }, claimEveryMs);
      let end: HoldEnd | undefined;
      try {
        end = await deliverWhileHeld(AbortSignal.any([stopping.signal, lost.signal]), lost, AbortSignal.any([abandon.signal, lost.signal]));
        failures = 0;
      } catch (e) {
        // Redis errors (reads, cursor writes): the lease is kept if it can be, and delivery goes on from the stored cursor.
        if (!stopping.signal.aborted) {
          failures++;
          if (failures === 1 || failures % 30 === 0) logger.warn({ ...context, err: (e as Error).message, failures }, "webhook delivery paused by an error; retrying");
          await sleep(Math.max(retryAfterErrorMs, Math.min(claimEveryMs, 1_000)), stopping.signal);
        }
      } finally {
        clearInterval(renewal);
      }
      if (end === "lost") {
        delivering = false;
        logger.warn(context, "webhook delivery lease lost; another instance goes on");
      }
      if (end === "closed") break;
    }
    await lease.release().catch(() => undefined);
  }

  /** Delivers until `signal` (stop or lease lost); attempts under way end on `attemptSignal` only. */
  async function deliverWhileHeld(signal: AbortSignal, lost: AbortController, attemptSignal: AbortSignal): Promise<HoldEnd> {
    let cursor = await storedCursor();
    const ended = (): HoldEnd => (stopping.signal.aborted ? "stopped" : "lost");
    const commit = async (position: string) => {
      if (await lease.commit(position)) return true;
      lost.abort();
      return false;
    };
    while (!signal.aborted) {
      const page = await log.read(hook.clientId, cursor, pageSize, readWaitMs, signal);
      if (page.closed) return "closed";
      if (signal.aborted) return ended();
      let committed = encodeCursor(cursor);
      for (const event of page.events) {
        if (!filter(event)) continue;
        if (signal.aborted || !(await deliver(event, signal, attemptSignal))) return ended();
        if (!(await commit(event.cursor))) return "lost";
        committed = event.cursor;
      }
      // Events the filter skipped move the cursor too.
      const reached = encodeCursor(page.cursor);
      if (reached !== committed && !(await commit(reached))) return "lost";
      cursor = page.cursor;
    }
    return ended();
  }

  async function storedCursor(): Promise<EventCursor> {
    const text = await lease.readCursor();
    if (text === null) return cursorAtStart;
    try {
      return decodeCursor(text);
    } catch {
      logger.warn(context, "webhook cursor unreadable; delivering from the oldest event kept");
      return cursorAtStart;
    }
  }

  /** Sends one event until a 2xx or the last attempt; false when `signal` ended it first (not delivered). */
  async function deliver(event: SessionEvent, signal: AbortSignal, attemptSignal: AbortSignal): Promise<boolean> {
    const message = webhookMessage(event);
    for (let attempt = 1; ; attempt++) {
      const timestamp = Math.floor(Date.now() / 1000);
      const headers = {
        "content-type": "application/json",
        "user-agent": "secure-session-storage-webhooks",
        "webhook-id": message.id,
        "webhook-timestamp": String(timestamp),
        "webhook-signature": signWebhook(hook.secret, message.id, timestamp, message.body),
      };
      const outcome = await postWebhook(hook.url, headers, message.body, policy.timeoutMs, attemptSignal);
      const about = { ...context, webhookId: message.id, type: event.type, attempt };
      if (outcome.ok) {
        metrics?.webhookDelivery(hook.clientId, "delivered");
        if (attempt > 1) logger.info(about, "webhook event delivered after retries");
        return true;
      }
      if (signal.aborted) return false;
      if (attempt >= policy.maxAttempts) {
        metrics?.webhookDelivery(hook.clientId, "given_up");
        logger.error({ ...about, error: outcome.error }, "webhook event given up after the last attempt; going on with the next");
        return true;
      }
      metrics?.webhookDelivery(hook.clientId, "retried");
      const delay = retryDelayMs(attempt, policy.retryBaseMs, policy.retryMaxDelayMs);
      logger.warn({ ...about, error: outcome.error, retryInMs: delay }, "webhook attempt failed; retrying");
      await sleep(delay, signal);
      if (signal.aborted) return false;
    }
  }

  const done = run().catch((e: unknown) => logger.error({ ...context, err: (e as Error).message }, "webhook deliverer stopped by an error"));

  return {
    async stop() {
      stopping.abort();
      const timer = setTimeout(() => abandon.abort(), stopAttemptGraceMs);
      await done;
      clearTimeout(timer);
    },
  };
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
