-- Stores a new session, holding the per-user limit atomically.
-- KEYS: session, user index, user recency
-- ARGV: now, cutoff (created before it = past absolute lifetime), limit, evict (1/0),
--       session key prefix, session id, created ms, expires ms, index ttl ms, field/value pairs...
-- Returns the evicted sessions (flat field lists), or the error 'LIMIT <n>'.
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[2])
local live = {}
for _, sid in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  local r = redis.call('HMGET', ARGV[5] .. sid, 'st', 'ea')
  if r[2] == false or tonumber(r[2]) <= now then
    redis.call('ZREM', KEYS[2], sid)
    redis.call('ZREM', KEYS[3], sid)
  elseif r[1] == 'active' then
    live[#live + 1] = sid
  end
end
local limit = tonumber(ARGV[3])
local evicted = {}
if #live >= limit then
  if ARGV[4] ~= '1' then
    return redis.error_reply('LIMIT ' .. #live)
  end
  for i = 1, #live - limit + 1 do
    local key = ARGV[5] .. live[i]
    evicted[#evicted + 1] = redis.call('HGETALL', key)
    redis.call('DEL', key)
    redis.call('ZREM', KEYS[2], live[i])
    redis.call('ZREM', KEYS[3], live[i])
  end
end
redis.call('HSET', KEYS[1], unpack(ARGV, 10))
redis.call('PEXPIREAT', KEYS[1], ARGV[8])
-- No session outlives its creation by more than the absolute lifetime, and
-- this one is the newest, so both indexes can die one lifetime from now.
redis.call('ZADD', KEYS[2], ARGV[7], ARGV[6])
redis.call('PEXPIRE', KEYS[2], ARGV[9])
redis.call('ZADD', KEYS[3], ARGV[7], ARGV[6])
redis.call('PEXPIRE', KEYS[3], ARGV[9])
return evicted
