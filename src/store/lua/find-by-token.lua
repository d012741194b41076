-- The hot path: resolve a token hash to its session and slide the expiry, in
-- one round trip. The pointer names the session key, so the session key is
-- not declared: on Redis Cluster the two live in different slots (see README).
-- KEYS: token pointer
-- ARGV: now, token hash, slide (1/0)
local key = redis.call('GET', KEYS[1])
if not key then return false end
local h = hash(redis.call('HGETALL', key))
local now = tonumber(ARGV[1])
if h.th ~= ARGV[2] or not is_live(h, now) then return false end
if ARGV[3] == '1' then
  local ea = tonumber(h.ea)
  if h.sl == '1' then
    -- Sliding moves the expiry to now + idle timeout, never backwards and
    -- never past the absolute end of the session.
    ea = math.min(math.max(ea, now + tonumber(h.it)), tonumber(h.ml))
  end
  redis.call('HSET', key, 'la', ARGV[1], 'ea', fmt(ea))
  redis.call('PEXPIREAT', key, fmt(ea))
  h.la = ARGV[1]
  h.ea = fmt(ea)
end
local out = {}
for k, v in pairs(h) do out[#out + 1] = k; out[#out + 1] = v end
return out
