-- Moves a session that is no longer active (ended, removed, revoked) from
-- its tenant's active bucket to the inactive one, scored by its expiry
-- (which no longer moves): lists and totals read only active entries,
-- clear-all reads both.
-- KEYS: active bucket, inactive bucket
-- ARGV: session id, expires ms, absolute end ms
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
expire_later(KEYS[2], ARGV[3])
return 1
