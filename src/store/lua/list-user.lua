-- Lists a user's active, unexpired sessions, oldest first, as {suffix,
-- fields} pairs, dropping dead index entries.
-- KEYS: user index
-- ARGV: now, session key prefix
local now = tonumber(ARGV[1])
local out = {}
for _, sid in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local r = redis.call('HGETALL', ARGV[2] .. sid)
  local h = hash(r)
  if not unexpired(h, now) then
    redis.call('ZREM', KEYS[1], sid)
  elseif h.st == 'active' then
    out[#out + 1] = {sid, r}
  end
end
return out
