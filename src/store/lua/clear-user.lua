-- Deletes all of a user's sessions.
-- KEYS: user index, user recency
-- ARGV: session key prefix
-- Returns {session id, token hash, ...} for the pointers and tenant index.
local out = {}
for _, sid in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local th = redis.call('HGET', ARGV[1] .. sid, 'th')
  if th then
    out[#out + 1] = sid
    out[#out + 1] = th
    redis.call('DEL', ARGV[1] .. sid)
  end
end
redis.call('DEL', KEYS[1], KEYS[2])
return out
