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
-- Redis's own clock, in ms.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
-- A write carries the time by which it must run (the service's clock +
-- command timeout - margin): run later, after the service stopped waiting
-- for its reply, it would change what the caller was told failed. So it
-- refuses, changing nothing.
local function check_deadline(deadline)
  if deadline ~= nil and deadline ~= '' and now_ms() > tonumber(deadline) then
    return redis.error_reply('DEADLINE ' .. fmt(now_ms()))
  end
  return nil
end
-- An index lives as long as its longest-lived session: its expiry only
-- ever moves later, so sessions made under a longer lifetime setting keep
-- their entries.
local function expire_later(key, at)
  redis.call('PEXPIREAT', key, at, 'NX')
  redis.call('PEXPIREAT', key, at, 'GT')
end
-- A user index expires at the latest expiry of its sessions, rounded up to
-- this step: the hot path then moves it only when a slide crosses a step
-- (once per step per active session, not on every call).
local index_step = 10000
local function index_expiry(ea) return fmt(math.ceil(tonumber(ea) / index_step) * index_step) end
-- s2:{T:U}:s:<8hex>.<8hex> -> s2:{T:U}:i (the suffix is 20 characters).
local function index_key_of(session_key) return string.sub(session_key, 1, #session_key - 20) .. ':i' end
-- Sets a user index's expiry to its latest unexpired session's (any
-- status: all stay findable for clear-all), dropping dead entries; deletes
-- an index left with none.
local function refresh_index_expiry(index, prefix, now)
  local latest = nil
  for _, sid in ipairs(redis.call('ZRANGE', index, 0, -1)) do
    local ea = redis.call('HGET', prefix .. sid, 'ea')
    if ea == false or tonumber(ea) <= now then
      redis.call('ZREM', index, sid)
    elseif latest == nil or tonumber(ea) > latest then
      latest = tonumber(ea)
    end
  end
  if latest == nil then
    redis.call('DEL', index)
  else
    redis.call('PEXPIREAT', index, index_expiry(latest))
  end
end
-- A session is live when it is active and has not expired.
local function is_live(h, now)
  return h.st == 'active' and unexpired(h, now)
end
-- Activity: last access is now, and a sliding expiry moves to now + idle
-- timeout, never backwards and never past the session's absolute end. The
-- user index follows when the new expiry crosses an index step.
local function record_activity(key, h, now)
  local before = tonumber(h.ea)
  local ea = before
  if h.sl == '1' then ea = math.min(math.max(ea, now + tonumber(h.it)), tonumber(h.ml)) end
  h.la = fmt(now)
  h.ea = fmt(ea)
  redis.call('HSET', key, 'la', h.la, 'ea', h.ea)
  redis.call('PEXPIREAT', key, h.ea)
  if math.ceil(ea / index_step) > math.ceil(before / index_step) then
    redis.call('PEXPIREAT', index_key_of(key), index_expiry(ea), 'GT')
  end
end
-- A value stored in chunks (hash-value-chunks.ts) joined again; '' when absent.
local function joined(h, name)
  local v = h[name]
  if v == nil then return '' end
  local i = 1
  while h[name .. i] do v = v .. h[name .. i]; i = i + 1 end
  return v
end
-- The session at `key` (its field table) when it holds token hash `th` and
-- is live, slid when asked; false otherwise.
local function slide_session(key, th, now, slide)
  local h = hash(redis.call('HGETALL', key))
  if h.th ~= th or not is_live(h, now) then return false end
  if slide then record_activity(key, h, now) end
  return h
end
-- A session as the hot path decodes it (redis-session-codec.ts,
-- sessionFromSlideReply): st ca ua la ea it ml sl tp pf md, chunks joined,
-- '0' or '' for absent, in one string separated by NUL. The client builds one
-- string for a bulk reply where a list costs it a decode per element; no
-- value can hold a NUL (statuses, flags and times are ours; pf and md are
-- JSON, which never holds a raw control character). The token (hash th,
-- sealed tk chunks) and save mark (cu) stay here: whoever presented the
-- token needs neither.
local function slide_reply(h)
  -- Every entry has a value: a nil would fail the script.
  return table.concat({h.st, h.ca or '0', h.ua or '0', h.la or '0', h.ea, h.it or '0', h.ml or '0', h.sl or '', h.tp or '', joined(h, 'pf'), joined(h, 'md')}, '\0')
end
-- A token pointer's value: the session key, then a space and the deadline
-- of the write that claimed it (absent in pointers of older releases).
local function pointer_key(value)
  return string.match(value, '^%S+')
end
