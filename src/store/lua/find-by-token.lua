-- The hot path on a single Redis or Sentinel: resolve a token hash to its
-- session and slide the expiry, in one round trip. The pointer names the
-- session key, so the session key is not declared; on Redis Cluster the two
-- live in different slots and the store calls slide-session.lua instead.
-- KEYS: token pointer
-- ARGV: now, token hash, slide (1/0)
local key = redis.call('GET', KEYS[1])
if not key then return false end
local out = slide_session(key, ARGV[2], tonumber(ARGV[1]), ARGV[3] == '1')
if out and ARGV[3] == '1' then
  -- The pointer lives exactly as long as its session.
  local h = hash(out)
  redis.call('PEXPIREAT', KEYS[1], h.ea)
end
return out
