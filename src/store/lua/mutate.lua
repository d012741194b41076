-- Changes one unexpired, active session.
-- KEYS: session, user index, event stream
-- ARGV: now, requested expiry ms or '', make current (1/0), slide (1/0),
--       chunked fields being replaced (space-separated names, or ''),
--       deadline ms, session key prefix, id suffix, 4 event arguments
--       (prelude), field/value pairs...
-- Events: 'token_rotated' when the token changed, 'expiry_changed' for a
-- requested expiry, and the new status when it left 'active'; a touch or
-- slide is none.
-- Returns {'ok', previous token hash, '1' if that token had a pointer else
-- '', fields...}, {'inactive', fields...}, {'gone'} or the error
-- 'DEADLINE <ms>'. The previous token is read here, atomically with its
-- replacement, so concurrent token changes each free exactly the pointer
-- they replaced.
local refused = check_deadline(ARGV[6])
if refused then return refused end
local now = tonumber(ARGV[1])
local h = hash(redis.call('HGETALL', KEYS[1]))
if not unexpired(h, now) then return {'gone'} end
if h.st ~= 'active' then
  local out = flat(h)
  table.insert(out, 1, 'inactive')
  return out
end
local previous_th, previous_tp = h.th or '', h.tp or ''
-- A replaced chunked value may have had more chunks than the new one.
for name in string.gmatch(ARGV[5], '%S+') do
  local i = 1
  while h[name .. i] ~= nil do
    redis.call('HDEL', KEYS[1], name .. i)
    i = i + 1
  end
end
if #ARGV >= 13 then redis.call('HSET', KEYS[1], unpack(ARGV, 13)) end
h = hash(redis.call('HGETALL', KEYS[1]))
if ARGV[2] ~= '' then
  h.ea = fmt(math.min(tonumber(ARGV[2]), tonumber(h.ml)))
  redis.call('HSET', KEYS[1], 'ea', h.ea)
  redis.call('PEXPIREAT', KEYS[1], h.ea)
  -- A fixed expiry may be earlier than before: the index follows exactly.
  refresh_index_expiry(KEYS[2], ARGV[7], now)
end
if ARGV[4] == '1' then record_activity(KEYS[1], h, now) end
if ARGV[3] == '1' then
  h.cu = ARGV[1]
  redis.call('HSET', KEYS[1], 'cu', h.cu)
end
local ev = event_context(KEYS[3], ARGV, 9)
if h.th ~= previous_th then emit(ev, 'token_rotated', ARGV[8]) end
if ARGV[2] ~= '' then emit(ev, 'expiry_changed', ARGV[8]) end
if h.st ~= 'active' then emit(ev, h.st, ARGV[8]) end
local out = flat(h)
table.insert(out, 1, previous_tp)
table.insert(out, 1, previous_th)
table.insert(out, 1, 'ok')
return out
