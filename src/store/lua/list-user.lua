-- Lists a user's active, unexpired sessions, oldest first, dropping dead index entries.
-- KEYS: user index
-- ARGV: now, cutoff, session key prefix
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[2])
local out = {}
for _, sid in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local r = redis.call('HGETALL', ARGV[3] .. sid)
  local h = hash(r)
  if not unexpired(h, now) then
    redis.call('ZREM', KEYS[1], sid)
  elseif h.st == 'active' then
    out[#out + 1] = r
  end
end
return out
