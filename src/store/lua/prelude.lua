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
