-- Stores a new session, holding the per-user limit atomically. A new
-- session is its user's current one (cu = now).
-- KEYS: session, user index, event stream
-- ARGV: now, limit, evict (1/0), session key prefix, id suffix, created ms,
--       expires ms, deadline ms, 4 event arguments (prelude), field/value pairs...
-- Events: 'created', and 'evicted' for each session the limit pushed out.
-- Returns the evicted sessions as {suffix, token hash, '1' if the token has
-- a pointer else '', ...}, or the error 'LIMIT <n>' or 'DEADLINE <ms>'.
local refused = check_deadline(ARGV[8])
if refused then return refused end
local now = tonumber(ARGV[1])
local ev = event_context(KEYS[3], ARGV, 9)
local live = {}
-- The index's new expiry: the latest of its sessions' (an evicted one's
-- included: later than needed is safe).
local latest = tonumber(ARGV[7])
for _, sid in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  local r = redis.call('HMGET', ARGV[4] .. sid, 'st', 'ea')
  if r[2] == false or tonumber(r[2]) <= now then
    redis.call('ZREM', KEYS[2], sid)
  else
    latest = math.max(latest, tonumber(r[2]))
    if r[1] == 'active' then live[#live + 1] = sid end
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
    local t = redis.call('HMGET', key, 'th', 'tp')
    evicted[#evicted + 1] = live[i]
    evicted[#evicted + 1] = t[1] or ''
    evicted[#evicted + 1] = t[2] or ''
    redis.call('DEL', key)
    redis.call('ZREM', KEYS[2], live[i])
    emit(ev, 'evicted', live[i])
  end
end
redis.call('HSET', KEYS[1], 'cu', ARGV[1], unpack(ARGV, 13))
redis.call('PEXPIREAT', KEYS[1], ARGV[7])
redis.call('ZADD', KEYS[2], ARGV[6], ARGV[5])
redis.call('PEXPIREAT', KEYS[2], index_expiry(latest))
emit(ev, 'created', ARGV[5])
return evicted
