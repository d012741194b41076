-- Returns the user's current session: the live one most recently saved or
-- touched (highest cu; on a tie the newest), as {suffix, fields}. Entries
-- whose session expired or is gone are dropped on the way.
-- KEYS: user index
-- ARGV: now, session key prefix
local now = tonumber(ARGV[1])
local best, best_cu
-- Oldest first, so on equal cu a later (newer) session wins.
for _, sid in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local r = redis.call('HMGET', ARGV[2] .. sid, 'st', 'ea', 'cu')
  if r[2] == false or tonumber(r[2]) <= now then
    redis.call('ZREM', KEYS[1], sid)
  elseif r[1] == 'active' then
    local cu = tonumber(r[3]) or 0
    if best == nil or cu >= best_cu then best, best_cu = sid, cu end
  end
end
if best == nil then return false end
return {best, redis.call('HGETALL', ARGV[2] .. best)}
