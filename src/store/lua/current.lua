-- Returns the user's current session: the one last saved or touched, or when
-- that one is gone, the newest live one (which becomes current).
-- KEYS: current, user index
-- ARGV: now, session key prefix
local now = tonumber(ARGV[1])
local sid = redis.call('GET', KEYS[1])
if sid then
  local r = redis.call('HGETALL', ARGV[2] .. sid)
  if is_live(hash(r), now) then return r end
end
for _, candidate in ipairs(redis.call('ZREVRANGE', KEYS[2], 0, -1)) do
  local r = redis.call('HGETALL', ARGV[2] .. candidate)
  local h = hash(r)
  if is_live(h, now) then
    redis.call('SET', KEYS[1], candidate, 'PXAT', h.ml)
    return r
  end
end
return false
