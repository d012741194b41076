-- Stores a new session, holding the per-user limit atomically.
-- KEYS: session, user index, user recency
-- ARGV: now, limit, evict (1/0), session key prefix, session id, created ms,
--       expires ms, absolute end ms, field/value pairs...
-- Returns the evicted sessions (flat field lists), or the error 'LIMIT <n>'.
local now = tonumber(ARGV[1])
local live = {}
for _, sid in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  local r = redis.call('HMGET', ARGV[4] .. sid, 'st', 'ea')
  if r[2] == false or tonumber(r[2]) <= now then
    redis.call('ZREM', KEYS[2], sid)
    redis.call('ZREM', KEYS[3], sid)
  elseif r[1] == 'active' then
    live[#live + 1] = sid
  end
end
local limit = tonumber(ARGV[2])
local evicted = {}
if #live >= limit then
  if ARGV[3] ~= '1' then
    return redis.error_reply('LIMIT ' .. #live)
  end
  for i = 1, #live - limit + 1 do
    local key = ARGV[4] .. live[i]
    evicted[#evicted + 1] = redis.call('HGETALL', key)
    redis.call('DEL', key)
    redis.call('ZREM', KEYS[2], live[i])
    redis.call('ZREM', KEYS[3], live[i])
  end
end
redis.call('HSET', KEYS[1], unpack(ARGV, 9))
redis.call('PEXPIREAT', KEYS[1], ARGV[7])
-- An index may die with the last of its sessions: its expiry only ever moves
-- later, so sessions made under a longer lifetime setting keep their entries.
redis.call('ZADD', KEYS[2], ARGV[6], ARGV[5])
redis.call('ZADD', KEYS[3], ARGV[6], ARGV[5])
for i = 2, 3 do
  redis.call('PEXPIREAT', KEYS[i], ARGV[8], 'NX')
  redis.call('PEXPIREAT', KEYS[i], ARGV[8], 'GT')
end
return evicted
