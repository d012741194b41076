-- Deletes all of a user's sessions.
-- KEYS: user index, event stream
-- ARGV: session key prefix, deadline ms, 4 event arguments (prelude)
-- Events: one 'cleared' per session deleted (not one bulk event: a consumer
-- following one session sees its end like any other).
-- Returns {suffix, token hash, '1' if the token has a pointer else '', ...}
-- for the pointers and the tenant index, or the error 'DEADLINE <ms>'.
local refused = check_deadline(ARGV[2])
if refused then return refused end
local out = {}
local ev = event_context(KEYS[2], ARGV, 3)
for _, sid in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local t = redis.call('HMGET', ARGV[1] .. sid, 'th', 'tp')
  if t[1] then
    out[#out + 1] = sid
    out[#out + 1] = t[1]
    out[#out + 1] = t[2] or ''
    redis.call('DEL', ARGV[1] .. sid)
    emit(ev, 'cleared', sid)
  end
end
redis.call('DEL', KEYS[1])
return out
