import { randomBytes } from "node:crypto";
import type { RedisClient } from "./redis-client.js";
import { redisKeys, tenantBuckets } from "./redis-keys.js";
import { defineRedisScripts } from "./redis-scripts.js";
import { createTenantIndex } from "./tenant-index.js";

/** IndexSweeper removes tenant index entries whose session expired, without any request. */
export interface IndexSweeper {
  /** One pass over every tenant's buckets now; resolves with the entries checked or dropped. */
  sweepOnce(): Promise<number>;
  /** Stops the timer and waits for a pass under way to end. */
  stop(): Promise<void>;
}

export interface IndexSweeperOptions {
  readonly tenants: readonly string[];
  /** A pass starts this long after the previous one ended. */
  readonly intervalMs: number;
  /** Active entries checked per bucket per pass. */
  readonly batch: number;
  /** Retention of the 'expired' events the sweep writes; undefined: events off. */
  readonly eventsRetentionMs?: number;
}

/**
 * startIndexSweeper walks each tenant's index buckets every `intervalMs`,
 * `batch` active entries per bucket per pass from where the last pass
 * stopped: it removes those whose session is gone and moves inactive ones;
 * inactive entries past their (fixed) expiry are dropped by score. A pass
 * costs at most buckets × batch checks whatever the tenant's size, so a dead
 * entry is gone within ceil(entries per bucket / batch) passes. Sessions
 * themselves and user indexes expire by their own TTL. With several
 * instances, one sweeps a tenant per interval (a lock key per tenant).
 */
export function startIndexSweeper(redis: RedisClient, options: IndexSweeperOptions): IndexSweeper {
  // An entry found expired leaves the index with its 'expired' event, in one
  // script: with several instances each is written once.
  const index = createTenantIndex(redis, defineRedisScripts(redis), options.eventsRetentionMs);
  const me = randomBytes(8).toString("hex");
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let pass: Promise<unknown> | undefined;

  async function sweepTenant(tenantId: string): Promise<number> {
    const lock = await redis.set(redisKeys.sweepLock(tenantId), me, "PX", Math.max(1, options.intervalMs - 50), "NX");
    if (lock === null) return 0;
    let changed = 0;
    for (let b = 0; b < tenantBuckets && !stopped; b++) {
      const now = Date.now();
      changed += (await index.sweep(tenantId, b, now, options.batch)) + (await index.dropExpiredInactive(tenantId, b, now));
    }
    return changed;
  }

  async function sweepOnce(): Promise<number> {
    let changed = 0;
    for (const tenantId of options.tenants) {
      if (stopped) break;
      changed += await sweepTenant(tenantId);
    }
    return changed;
  }

  const schedule = () => {
    timer = setTimeout(() => {
      // A pass that fails (Redis away) is simply tried again next interval.
      pass = sweepOnce().catch(() => 0).finally(() => {
        pass = undefined;
        if (!stopped) schedule();
      });
    }, options.intervalMs);
    timer.unref();
  };
  schedule();

  return {
    sweepOnce,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await pass;
    },
  };
}
