-- Returns the user's current session: the live one most recently saved or
-- touched. Entries that can never be current again are dropped on the way.
-- KEYS: user recency
-- ARGV: now, session key prefix
local now = tonumber(ARGV[1])
for _, sid in ipairs(redis.call('ZREVRANGE', KEYS[1], 0, -1)) do
  local r = redis.call('HGETALL', ARGV[2] .. sid)
  if is_live(hash(r), now) then return r end
  redis.call('ZREM', KEYS[1], sid)
end
return false
