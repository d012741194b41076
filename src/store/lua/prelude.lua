-- Shared helpers, prepended to every script. Times are epoch ms as strings;
-- '%.0f' writes them back without Lua's exponent notation.
local function fmt(n) return string.format('%.0f', n) end
local function hash(reply)
  local h = {}
  for i = 1, #reply, 2 do h[reply[i]] = reply[i + 1] end
  return h
end
local function flat(h)
  local out = {}
  for k, v in pairs(h) do out[#out + 1] = k; out[#out + 1] = v end
  return out
end
local function unexpired(h, now)
  return h.ea ~= nil and tonumber(h.ea) > now
end
-- An index lives as long as its longest-lived session: its expiry only
-- ever moves later, so sessions made under a longer lifetime setting keep
-- their entries.
local function expire_later(key, at)
  redis.call('PEXPIREAT', key, at, 'NX')
  redis.call('PEXPIREAT', key, at, 'GT')
end
-- A session is live when it is active and has not expired.
local function is_live(h, now)
  return h.st == 'active' and unexpired(h, now)
end
-- Activity: last access is now, and a sliding expiry moves to now + idle
-- timeout, never backwards and never past the session's absolute end.
local function record_activity(key, h, now)
  local ea = tonumber(h.ea)
  if h.sl == '1' then ea = math.min(math.max(ea, now + tonumber(h.it)), tonumber(h.ml)) end
  h.la = fmt(now)
  h.ea = fmt(ea)
  redis.call('HSET', key, 'la', h.la, 'ea', h.ea)
  redis.call('PEXPIREAT', key, h.ea)
end
-- The session at `key` when it holds token hash `th` and is live (slid when
-- asked), as a flat field list; false otherwise.
local function slide_session(key, th, now, slide)
  local h = hash(redis.call('HGETALL', key))
  if h.th ~= th or not is_live(h, now) then return false end
  if slide then record_activity(key, h, now) end
  return flat(h)
end
