import { createHmac } from "node:crypto";

// The bare baselines' own data, under `bare:`: a token pointer (string) naming
// a session hash, the least a token lookup with sliding expiry can store.

/** The service's defaults: SESSION_IDLE_TIMEOUT_SECONDS and SESSION_MAX_LIFETIME_SECONDS. */
export const idleMs = 7_200_000;
export const maxLifetimeMs = 2_592_000_000;

export const tokenKey = (hmac: string) => `bare:tok:${hmac}`;
export const sessionKey = (n: number) => `bare:s:${n}`;

/** The lookup key of a token: HMAC-SHA-256, base64url, as the service's keyed hash. */
export const tokenHmac = (key: Buffer, token: string) => createHmac("sha256", key).update(token).digest("base64url");

/**
 * One round trip: GET the pointer, HGETALL the session, check it, slide it
 * (HSET la/ea, PEXPIREAT session and pointer). Returns {created, expires,
 * profile JSON} or nil.
 */
export const lookupLua = `
local key = redis.call('GET', KEYS[1])
if not key then return false end
local h = redis.call('HGETALL', key)
if #h == 0 then return false end
local f = {}
for i = 1, #h, 2 do f[h[i]] = h[i + 1] end
local now = tonumber(ARGV[1])
if f.st ~= 'active' or tonumber(f.ea) <= now then return false end
local ea = math.min(now + tonumber(ARGV[2]), tonumber(f.xa))
redis.call('HSET', key, 'la', ARGV[1], 'ea', ea)
redis.call('PEXPIREAT', key, ea)
redis.call('PEXPIREAT', KEYS[1], ea)
return {f.ca, ea, f.p}
`;
