import { Redis } from "ioredis";
import { idleMs, lookupLua, tokenHmac, tokenKey } from "./bare-schema.js";

export interface BareSession {
  createdAt: number;
  lastAccessed: number;
  expiresAt: number;
  profile: Record<string, unknown>;
}

type Lookup = (pointer: string, now: number, idle: number) => Promise<[string, number, string] | null>;

/**
 * bareLookup connects as idiomatic ioredis code does (auto-pipelining, a
 * defineCommand script) and returns the lookup: HMAC the token, one EVALSHA,
 * decode. Plain idiomatic code, no tricks: the service's own Redis batching
 * (src/store/batch-writes.ts) is part of what is measured against it.
 */
export function bareLookup(redisUrl: string, hmacKey: Buffer) {
  // Named, so the bench's MONITOR census counts this server's commands only.
  const redis = new Redis(redisUrl, { enableAutoPipelining: true, maxRetriesPerRequest: 1, connectionName: bareConnectionName });
  redis.defineCommand("bareLookup", { numberOfKeys: 1, lua: lookupLua });
  const run = (redis as unknown as { bareLookup: Lookup }).bareLookup.bind(redis);
  return async (token: string): Promise<BareSession | undefined> => {
    const now = Date.now();
    const found = await run(tokenKey(tokenHmac(hmacKey, token)), now, idleMs);
    if (!found) return undefined;
    return { createdAt: Number(found[0]), lastAccessed: now, expiresAt: found[1], profile: JSON.parse(found[2]) as Record<string, unknown> };
  };
}

/** The client name of the bare servers' Redis connections (CLIENT LIST). */
export const bareConnectionName = "bench-bare";

/** The token of an `Authorization: Bearer <token>` value. */
export const bearer = (value: string | undefined) =>
  value?.startsWith("Bearer ") ? value.slice(7) : undefined;
