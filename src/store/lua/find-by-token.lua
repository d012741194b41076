-- The hot path for a caller's token on a single Redis or Sentinel: resolve
-- the token hash to its session and slide the expiry, in one round trip.
-- The pointer names the session key, so the session key is not declared; on
-- Redis Cluster the two live in different slots and the store calls
-- slide-session.lua instead. (A minted token names its session itself and
-- always takes slide-session.lua.)
-- KEYS: token pointer
-- ARGV: now, token hash, slide (1/0), key prefix of the expected tenant or ''
-- Returns {session key, slide_reply's string} or false.
local value = redis.call('GET', KEYS[1])
if not value then return false end
local key = pointer_key(value)
-- Another tenant's session is an unknown token to this caller: checked
-- before the slide, so it is never touched.
if ARGV[4] ~= '' and string.sub(key, 1, #ARGV[4]) ~= ARGV[4] then return false end
local h = slide_session(key, ARGV[2], tonumber(ARGV[1]), ARGV[3] == '1')
if not h then return false end
if ARGV[3] == '1' then
  -- The pointer lives exactly as long as its session.
  redis.call('PEXPIREAT', KEYS[1], h.ea)
end
return {key, slide_reply(h)}
