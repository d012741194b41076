-- Changes one unexpired session.
-- KEYS: session, current
-- ARGV: now, require active (1/0), requested expiry ms or '', make current (1/0),
--       session id, slide (1/0: activity, as a touch is), field/value pairs...
-- Returns {'ok'|'inactive', previous token hash, HGETALL...} or {'gone'}.
local now = tonumber(ARGV[1])
local h = hash(redis.call('HGETALL', KEYS[1]))
if not unexpired(h, now) then return {'gone'} end
local previous = h.th
if ARGV[2] == '1' and h.st ~= 'active' then
  local out = {'inactive', previous}
  for k, v in pairs(h) do out[#out + 1] = k; out[#out + 1] = v end
  return out
end
if #ARGV >= 7 then redis.call('HSET', KEYS[1], unpack(ARGV, 7)) end
if ARGV[6] == '1' then
  -- Activity: last access is now and a sliding expiry moves with it.
  local ea = tonumber(h.ea)
  if h.sl == '1' then ea = math.min(math.max(ea, now + tonumber(h.it)), tonumber(h.ml)) end
  redis.call('HSET', KEYS[1], 'la', ARGV[1], 'ea', fmt(ea))
  redis.call('PEXPIREAT', KEYS[1], fmt(ea))
end
if ARGV[3] ~= '' then
  local ea = math.min(tonumber(ARGV[3]), tonumber(h.ml))
  redis.call('HSET', KEYS[1], 'ea', fmt(ea))
  redis.call('PEXPIREAT', KEYS[1], fmt(ea))
end
if ARGV[4] == '1' then
  -- The pointer is useless once this session's life is over, so it ends with it.
  redis.call('SET', KEYS[2], ARGV[5], 'PXAT', h.ml)
end
local out = {'ok', previous}
for _, v in ipairs(redis.call('HGETALL', KEYS[1])) do out[#out + 1] = v end
return out
