-- Changes one unexpired, active session.
-- KEYS: session, user recency
-- ARGV: now, requested expiry ms or '', make current (1/0), session id,
--       slide (1/0), field/value pairs...
-- Returns {'ok', fields...}, {'inactive', fields...} or {'gone'}.
local now = tonumber(ARGV[1])
local h = hash(redis.call('HGETALL', KEYS[1]))
if not unexpired(h, now) then return {'gone'} end
if h.st ~= 'active' then
  local out = flat(h)
  table.insert(out, 1, 'inactive')
  return out
end
if #ARGV >= 6 then redis.call('HSET', KEYS[1], unpack(ARGV, 6)) end
h = hash(redis.call('HGETALL', KEYS[1]))
if ARGV[2] ~= '' then
  h.ea = fmt(math.min(tonumber(ARGV[2]), tonumber(h.ml)))
  redis.call('HSET', KEYS[1], 'ea', h.ea)
  redis.call('PEXPIREAT', KEYS[1], h.ea)
end
if ARGV[5] == '1' then record_activity(KEYS[1], h, now) end
if ARGV[3] == '1' then redis.call('ZADD', KEYS[2], ARGV[1], ARGV[4]) end
local out = flat(h)
table.insert(out, 1, 'ok')
return out
