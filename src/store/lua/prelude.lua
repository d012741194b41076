-- Shared helpers, prepended to every script. Times are epoch ms as strings;
-- '%.0f' writes them back without Lua's exponent notation.
local function fmt(n) return string.format('%.0f', n) end
local function hash(reply)
  local h = {}
  for i = 1, #reply, 2 do h[reply[i]] = reply[i + 1] end
  return h
end
-- A session is live when it is active and has not expired.
local function is_live(h, now)
  return h.st == 'active' and tonumber(h.ea) > now
end
local function unexpired(h, now)
  return h.ea ~= nil and tonumber(h.ea) > now
end
-- Returns the session at `key` as a flat field list when it holds token hash
-- `th` and is live; slides its expiry when asked. False otherwise.
local function slide_session(key, th, now, slide)
  local h = hash(redis.call('HGETALL', key))
  if h.th ~= th or not is_live(h, now) then return false end
  if slide then
    local ea = tonumber(h.ea)
    if h.sl == '1' then
      -- Sliding moves the expiry to now + idle timeout, never backwards and
      -- never past the absolute end of the session.
      ea = math.min(math.max(ea, now + tonumber(h.it)), tonumber(h.ml))
    end
    h.la = fmt(now)
    h.ea = fmt(ea)
    redis.call('HSET', key, 'la', h.la, 'ea', h.ea)
    redis.call('PEXPIREAT', key, h.ea)
  end
  local out = {}
  for k, v in pairs(h) do out[#out + 1] = k; out[#out + 1] = v end
  return out
end
