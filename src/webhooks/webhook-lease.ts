import { randomBytes } from "node:crypto";
import type { RedisClient } from "../store/redis-client.js";
import { redisKeys } from "../store/redis-keys.js";

/**
 * WebhookLease is one instance's claim on delivering a tenant's webhook,
 * and the delivery cursor it guards: with several replicas only the holder
 * delivers, and only the holder moves the cursor, so a replica that lost
 * the lease (paused, partitioned) cannot move it back.
 */
export interface WebhookLease {
  /** Takes the lease when free (or keeps it when already ours); true when held. */
  claim(): Promise<boolean>;
  /** Extends it; false when it is no longer ours. */
  renew(): Promise<boolean>;
  /** The stored cursor, or null before the first delivery. */
  readCursor(): Promise<string | null>;
  /** Stores the cursor and extends the lease, only while it is ours; false when it is not. */
  commit(cursor: string): Promise<boolean>;
  /** Gives it up at once (shutdown), so another replica need not wait for it to lapse. */
  release(): Promise<void>;
}

const claimScript = `
local owner = redis.call('GET', KEYS[1])
if owner == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if owner then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

const renewScript = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;

const commitScript = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[3])
return 1`;

const releaseScript = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** createWebhookLease: a lease of `leaseMs` on `tenantId`'s webhook, under a random owner id of this instance. */
export function createWebhookLease(redis: RedisClient, tenantId: string, leaseMs: number): WebhookLease {
  const owner = randomBytes(12).toString("hex");
  const lease = redisKeys.webhookLease(tenantId);
  const cursor = redisKeys.webhookCursor(tenantId);
  return {
    claim: async () => (await redis.eval(claimScript, 1, lease, owner, leaseMs)) === 1,
    renew: async () => (await redis.eval(renewScript, 1, lease, owner, leaseMs)) === 1,
    readCursor: () => redis.get(cursor),
    commit: async (position) => (await redis.eval(commitScript, 2, lease, cursor, owner, leaseMs, position)) === 1,
    release: async () => void (await redis.eval(releaseScript, 1, lease, owner)),
  };
}
