import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { idleMs, maxLifetimeMs, sessionKey, tokenHmac, tokenKey } from "./bare-schema.js";
import { profile, sessionsPerUser } from "./seed-service.js";

/** seedBare writes sessions `from`..`to`-1 for the bare servers (same count and profile as the service's) and returns their tokens. */
export async function seedBare(redis: Redis, hmacKey: Buffer, from: number, to: number): Promise<string[]> {
  const tokens: string[] = [];
  const profileJson = JSON.stringify(profile);
  for (let start = from; start < to; start += 1000) {
    const now = Date.now();
    const batch = redis.pipeline();
    for (let n = start; n < Math.min(to, start + 1000); n++) {
      const token = randomBytes(32).toString("base64url");
      const key = sessionKey(n);
      const expires = now + idleMs;
      batch.hset(key, {
        uid: `user-${Math.floor(n / sessionsPerUser)}`, st: "active", ca: now, la: now,
        ea: expires, xa: now + maxLifetimeMs, p: profileJson,
      });
      batch.pexpireat(key, expires);
      batch.set(tokenKey(tokenHmac(hmacKey, token)), key, "PXAT", expires);
      tokens.push(token);
    }
    await batch.exec();
  }
  return tokens;
}
