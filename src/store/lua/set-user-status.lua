-- Sets the status of all of a user's live sessions but one (sign out
-- everywhere: 'revoked' by an API client, 'ended' by a session holder for
-- its other sessions). A token of such a session stops authenticating at
-- once: every lookup checks the status.
-- KEYS: user index, event stream
-- ARGV: now, deadline ms, session key prefix, status, id suffix to keep or
--       '', 4 event arguments (prelude). Event: the status, per session.
-- Returns {suffix, expires ms, absolute end ms, ...} of the sessions
-- changed (for the tenant index), or the error 'DEADLINE <ms>'.
local refused = check_deadline(ARGV[2])
if refused then return refused end
local now = tonumber(ARGV[1])
local ev = event_context(KEYS[2], ARGV, 6)
local out = {}
for _, sid in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local key = ARGV[3] .. sid
  local r = redis.call('HMGET', key, 'st', 'ea', 'ml')
  if sid ~= ARGV[5] and r[1] == 'active' and r[2] and tonumber(r[2]) > now then
    redis.call('HSET', key, 'st', ARGV[4], 'ua', ARGV[1])
    emit(ev, ARGV[4], sid)
    out[#out + 1] = sid
    out[#out + 1] = r[2]
    out[#out + 1] = r[3] or r[2]
  end
end
return out
